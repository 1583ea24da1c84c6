/* Model format 2 (an output layer wider than 80 classes, lib/model.h):
 * the wide scoring path gives the 80-wide path's scores bit for bit (AVX2
 * and portable); the bundled model rewritten as format 2 (88 and 264
 * columns, the extra ones zero) loads and gives the very same entities and
 * scores as format 1 on every text of the shared reference files; bad
 * widths and unknown versions are refused. */
#define _DEFAULT_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "check_model.h"
#include "engine.h"
#include "model.h"
#include "nerd/ner.h"

/* The format 1 file good[0..n) rewritten with an output layer cols wide
 * (the extra columns zero), the TENSORS header's word 9 set to hdr_cols
 * and the header's version to version.  NULL if good is not format 1. */
static void *widen(const unsigned char *good, size_t n, int cols, uint32_t hdr_cols,
                   uint32_t version, size_t *out_len)
{
    model_header h;
    memcpy(&h, good, sizeof h);
    if (h.version != MODEL_VERSION || h.n_sections > 32)
        return NULL;
    model_blob sec[SEC_COUNT_];
    memset(sec, 0, sizeof sec);
    const unsigned char *tp = NULL;
    for (uint32_t i = 0; i < h.n_sections; i++) {
        model_section s;
        memcpy(&s, good + sizeof h + i * sizeof s, sizeof s);
        if (s.id >= SEC_COUNT_ || s.offset + s.size > n)
            return NULL;
        sec[s.id] = (model_blob){good + s.offset, (size_t)s.size};
        if (s.id == SEC_TENSORS)
            tp = good + s.offset;
    }
    if (!tp)
        return NULL;
    uint32_t th[MODEL_TENSOR_HDR / 4];
    memcpy(th, tp, sizeof th);
    size_t o1[MODEL_N_TENSORS], o2[MODEL_N_TENSORS];
    model__tensor_layout(th, NN_CLS_PAD, o1, MODEL_N_TENSORS);
    size_t nfl = model__tensor_layout(th, cols, o2, MODEL_N_TENSORS);
    size_t len = MODEL_TENSOR_HDR + nfl * sizeof(float);
    unsigned char *t = calloc(1, len);
    if (!t)
        return NULL;
    th[9] = hdr_cols;
    memcpy(t, th, sizeof th);
    const float *src = (const float *)(const void *)(tp + MODEL_TENSOR_HDR);
    float *dst = (float *)(void *)(t + MODEL_TENSOR_HDR);
    int uw = MODEL_N_TENSORS - 2, ub = MODEL_N_TENSORS - 1;
    memcpy(dst, src, o1[uw] * sizeof(float)); /* everything before the output layer */
    for (int j = 0; j < NN_H; j++)
        memcpy(dst + o2[uw] + (size_t)j * cols, src + o1[uw] + (size_t)j * NN_CLS_PAD,
               NN_CLS_PAD * sizeof(float));
    memcpy(dst + o2[ub], src + o1[ub], NN_CLS_PAD * sizeof(float));
    sec[SEC_TENSORS] = (model_blob){t, len};
    void *file = NULL;
    if (model__assemble(sec, version, &file, out_len))
        file = NULL;
    free(t);
    return file;
}

/* The wide path against the 80-wide one on the model's own weights and
 * pseudo-random slot vectors: the same bits. */
static void scores_paths(const ner_model *m)
{
    const model_tensors *t = &m->t;
    float *w88 = calloc((size_t)NN_H * 88, sizeof(float)), b88[88] = {0};
    float vec[NN_NF][NN_HP * NN_H];
    const float *v[NN_NF];
    uint32_t x = 12345;
    for (int j = 0; j < NN_H; j++)
        memcpy(w88 + j * 88, t->up_w + j * NN_CLS_PAD, NN_CLS_PAD * sizeof(float));
    memcpy(b88, t->up_b, NN_CLS_PAD * sizeof(float));
    int bad[2] = {0, 0};
    for (int round = 0; round < 200; round++) {
        for (int f = 0; f < NN_NF; f++) {
            for (int k = 0; k < NN_HP * NN_H; k++) {
                x = x * 1664525u + 1013904223u;
                vec[f][k] = (float)((int)(x >> 8) % 20001 - 10000) / 5000.0f;
            }
            v[f] = vec[f];
        }
        for (int avx = 0; avx <= nn_have_avx2(); avx++) {
            float a[NN_CLS_PAD], b[NN_CLS_MAXPAD], c[88];
            nn_parser_scores(avx, v, t->low_b, t->up_w, t->up_b, a);
            nn_parser_scores_wide(avx, v, t->low_b, t->up_w, t->up_b, NN_CLS_PAD, b);
            nn_parser_scores_wide(avx, v, t->low_b, w88, b88, 88, c);
            bad[avx] += memcmp(a, b, sizeof a) != 0 || memcmp(a, c, sizeof a) != 0;
            for (int k = NN_CLS_PAD; k < 88; k++)
                bad[avx] += c[k] != 0;
        }
    }
    CHECK(bad[0] == 0, "portable wide scores = 80-wide scores: %d of 200 differ", bad[0]);
    CHECK(bad[1] == 0, "AVX2 wide scores = 80-wide scores: %d of 200 differ", bad[1]);
    free(w88);
}

/* Every text of a reference file through both contexts: the same entities
 * and the same scores. */
typedef struct pair {
    ner_ctx *narrow, *wide;
    const char *path;
    size_t ents, bad;
} pair;

static void compare_text(void *ud, const char *s, size_t n)
{
    pair *p = ud;
    ner_doc a, b;
    int ok = ner_extract_ex(p->narrow, s, n, NER_SCORES, &a) == NER_OK &&
             ner_extract_ex(p->wide, s, n, NER_SCORES, &b) == NER_OK && a.n_ents == b.n_ents &&
             !memcmp(a.ents, b.ents, a.n_ents * sizeof *a.ents) &&
             !memcmp(a.scores, b.scores, a.n_ents * sizeof *a.scores);
    if (!ok && p->bad++ < 3)
        fprintf(stderr, "%s: differs: %.200s\n", p->path, s);
    p->ents += a.n_ents;
}

static void same_entities(ner_ctx *narrow, ner_ctx *wide, const char *path, int cols)
{
    pair p = {narrow, wide, path, 0, 0};
    long texts = check_each_text(path, compare_text, &p);
    printf("test_model_wide: %d columns, %s: %ld texts, %zu entities\n", cols, path, texts,
           p.ents);
    CHECK(texts > 0 && p.bad == 0, "%d columns, %s: %zu of %ld texts differ", cols, path,
          p.bad, texts);
}

int main(void)
{
    const char *path = check_model_path();
    const char *shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
    size_t n = 0;
    unsigned char *good = check_slurp(path, &n);
    CHECK(good != NULL, "read %s", path);
    ner_model *m = NULL;
    ner_ctx *c = NULL;
    if (good && ner_model_load_mem(good, n, &m) == NER_OK)
        ner_ctx_new(m, &c);
    CHECK(c != NULL, "load %s", path);
    if (!c)
        goto out;
    CHECK(m->t.up_cols == NN_CLS_PAD, "format 1: 80 columns");
    scores_paths(m);

    static const int widths[] = {88, NN_CLS_MAXPAD};
    for (size_t w = 0; w < sizeof widths / sizeof *widths; w++) {
        size_t len = 0;
        void *f = widen(good, n, widths[w], (uint32_t)widths[w], MODEL_VERSION_WIDE, &len);
        ner_model *m2 = NULL;
        ner_ctx *c2 = NULL;
        int rc = f ? ner_model_load_mem(f, len, &m2) : -1;
        CHECK(rc == NER_OK && m2->t.up_cols == widths[w] &&
                  ner_model_nlabels(m2) == ner_model_nlabels(m),
              "format 2, %d columns: %s", widths[w], rc < 0 ? "not built" : ner_strerror(rc));
        if (rc == NER_OK && ner_ctx_new(m2, &c2) == NER_OK) {
            char p[4096];
            static const char *const files[] = {"wnut17.dev.jsonl", "uner_ewt.dev.jsonl"};
            for (int i = 0; i < 2; i++) {
                snprintf(p, sizeof p, "%s/data/reference/%s", shared, files[i]);
                same_entities(c, c2, p, widths[w]);
            }
        }
        ner_ctx_free(c2);
        ner_model_free(m2);
        free(f);
    }

    /* refused: a width that is not a multiple of 8, under the class count,
     * over the most classes, missing; an unknown version */
    static const struct { int cols; uint32_t hdr, version; int rc; } bad[] = {
        {88, 84, MODEL_VERSION_WIDE, NER_ECORRUPT},
        {88, 72, MODEL_VERSION_WIDE, NER_ECORRUPT},
        {NN_CLS_MAXPAD + 8, NN_CLS_MAXPAD + 8, MODEL_VERSION_WIDE, NER_ECORRUPT},
        {88, 0, MODEL_VERSION_WIDE, NER_ECORRUPT},
        {88, 88, 3, NER_EVERSION},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t len = 0;
        void *f = widen(good, n, bad[i].cols, bad[i].hdr, bad[i].version, &len);
        ner_model *m2 = NULL;
        int rc = f ? ner_model_load_mem(f, len, &m2) : -1;
        CHECK(rc == bad[i].rc && !m2, "version %u, width %u: %s", bad[i].version, bad[i].hdr,
              rc < 0 ? "not built" : ner_strerror(rc));
        ner_model_free(m2);
        free(f);
    }
out:
    ner_ctx_free(c);
    ner_model_free(m);
    free(good);
    return check_done("test_model_wide");
}
