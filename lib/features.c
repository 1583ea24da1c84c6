/*
 * spaCy v2.2's lexical features for the NER model: NORM (special-case NORM,
 * else the NORM tables, else Python's str.lower()), PREFIX (first code
 * point), SUFFIX (last three code points), SHAPE (X/x/d classes, runs capped
 * at four, "LONG" from 100 code points), each mapped to a 64-bit string ID,
 * and thinc's HashEmbed lookup of those IDs.
 */
#include <string.h>

#include "engine.h"
#include "hash.h"
#include "unicode.h"

uint64_t feat_string_id(const struct ner_model *m, const char *s, size_t n)
{
    uint64_t h = hash_murmur64a(s, n, 1);
    const model_table_entry *e = model__lookup(m, MODEL_TAB_SYMBOLS, s, n, h);
    return e ? e->value : h;
}

/* Byte offset where the last k code points of s[0..n) begin. */
static size_t last_cps(const char *s, size_t n, int k)
{
    size_t i = n;
    while (i > 0 && k > 0) {
        i--;
        while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
            i--;
        k--;
    }
    return i;
}

static size_t word_shape(const char *s, size_t n, char *out)
{
    size_t ncp = 0, o = 0;
    for (size_t i = 0; i < n && ncp < 100;) {
        uint32_t cp;
        int l = uni_decode(s + i, n - i, &cp);
        if (l <= 0)
            l = 1;
        i += (size_t)l;
        ncp++;
    }
    if (ncp >= 100) {
        memcpy(out, "LONG", 4);
        return 4;
    }
    char last[4];
    int last_len = 0, seq = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int l = uni_decode(s + i, n - i, &cp);
        if (l <= 0) {
            l = 1;
            cp = (unsigned char)s[i];
        }
        char sc[4];
        int scl;
        if (uni_isalpha(cp)) {
            sc[0] = uni_isupper(cp) ? 'X' : 'x';
            scl = 1;
        } else if (uni_isdigit(cp)) {
            sc[0] = 'd';
            scl = 1;
        } else {
            memcpy(sc, s + i, (size_t)l);
            scl = l;
        }
        i += (size_t)l;
        if (scl == last_len && memcmp(sc, last, (size_t)scl) == 0) {
            seq++;
        } else {
            seq = 0;
            memcpy(last, sc, (size_t)scl);
            last_len = scl;
        }
        if (seq < 4) {
            memcpy(out + o, sc, (size_t)scl);
            o += (size_t)scl;
        }
    }
    return o;
}

void feat_ids(const struct ner_model *m, const char *s, size_t n,
              const char *norm, size_t norm_len, char *scratch,
              uint64_t ids[4])
{
    /* NORM */
    if (norm) {
        ids[0] = feat_string_id(m, norm, norm_len);
    } else {
        uint64_t h = hash_murmur64a(s, n, 1);
        const model_table_entry *e = model__lookup(m, MODEL_TAB_NORMS, s, n, h);
        if (e) {
            ids[0] = feat_string_id(m, (const char *)m->pool + (e->value >> 32),
                                    (size_t)(e->value & 0xffffffffu));
        } else {
            size_t ln = uni_lower(s, n, scratch, 3 * n + 512);
            ids[0] = feat_string_id(m, scratch, ln);
        }
    }
    /* PREFIX: first code point */
    uint32_t cp;
    int l = n ? uni_decode(s, n, &cp) : 0;
    if (l <= 0)
        l = n ? 1 : 0;
    ids[1] = feat_string_id(m, s, (size_t)l);
    /* SUFFIX: last three code points */
    size_t b = last_cps(s, n, 3);
    ids[2] = feat_string_id(m, s + b, n - b);
    /* SHAPE */
    size_t sl = word_shape(s, n, scratch);
    ids[3] = feat_string_id(m, scratch, sl);
}

void feat_embed(const struct ner_model *m, const uint64_t ids[4], float *out)
{
    for (int f = 0; f < 4; f++) {
        uint32_t k[4];
        unsigned char key[8];
        uint64_t id = ids[f];
        for (int i = 0; i < 8; i++)
            key[i] = (unsigned char)(id >> (8 * i));
        hash_murmur3_128(key, 8, m->t.emb_seed[f], k);
        const float *tab = m->t.emb[f];
        uint32_t rows = m->t.emb_rows[f];
        const float *r0 = tab + (size_t)(k[0] % rows) * NN_W;
        const float *r1 = tab + (size_t)(k[1] % rows) * NN_W;
        const float *r2 = tab + (size_t)(k[2] % rows) * NN_W;
        const float *r3 = tab + (size_t)(k[3] % rows) * NN_W;
        float *o = out + f * NN_W;
        for (int j = 0; j < NN_W; j++)
            o[j] = ((r0[j] + r1[j]) + r2[j]) + r3[j];
    }
}
