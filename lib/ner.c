/*
 * The NER pipeline: tokenizer -> per-word first layer (features, HashEmbed,
 * maxout, LayerNorm; cached per context) -> four residual CNN layers ->
 * parser precomputation -> greedy BILUO decoding.  Documents are processed
 * in blocks of BLOCK tokens with a four-token margin, so memory stays
 * bounded for any text length and results are identical to processing the
 * whole document at once (every row is computed from the same inputs in
 * the same order).
 *
 * Scores (NER_SCORES, opt-in): the probability of each action the decoder
 * takes is its softmax over the state's valid actions only, p = 1 /
 * sum_valid exp(s_k - s_best); an entity's score is the product of the
 * probabilities of the actions that built it (B, I..., L, or U), summed
 * as logs in double.  Without the flag nothing of this runs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "hash.h"
#include "unicode.h"

#define BLOCK 256                      /* tokens per block */
#define ROWS (BLOCK + 1 + 2 * NN_PAD)  /* X rows per block */
#define CACHE_BITS 12                  /* word cache: 4096 entries */
#define CACHE_KEY 40                   /* longest cached word, bytes */

enum { MV_BEGIN = 1, MV_IN = 2, MV_LAST = 3, MV_UNIT = 4, MV_OUT = 5 };

typedef struct wc_entry {
    uint64_t hash;
    uint32_t len;
    uint32_t used;
    char key[CACHE_KEY];
} wc_entry;

struct ner_ctx {
    const struct ner_model *m;
    tok_state *tok;
    int avx2;
    ner_span *toks, *ents;
    float *ent_scores;          /* with NER_SCORES: one per ents[], same cap */
    size_t toks_cap, ents_cap, n_ents;
    float *X, *T, *P, *E, *ET;
    float *prev_last, *ent_save, *pad_vec;
    wc_entry *wc;
    float *wcv;
    int *miss_row, *miss_slot;
    char *scratch;
    size_t scratch_cap;
    ner_stats st;
};

/* Zeroed scratch memory; large blocks come as fresh pages that are only
 * touched (made resident) when used. */
static void *xalloc(size_t n)
{
    return calloc(1, n);
}

static int scratch_reserve(ner_ctx *c, size_t n)
{
    if (n <= c->scratch_cap)
        return NER_OK;
    char *p = realloc(c->scratch, n);
    if (!p)
        return NER_ENOMEM;
    c->scratch = p;
    c->scratch_cap = n;
    return NER_OK;
}

/* First layer for a row of embeddings: out = LN(maxout(E * mix_w + b)). */
static void first_layer(ner_ctx *c, const float *E, int n, float *tmp)
{
    const model_tensors *t = &c->m->t;
    nn_gemm(c->avx2, E, NN_EMB_IN, n, t->mix_w, NN_EMB_IN, NN_P * NN_W, tmp,
            NN_P * NN_W);
}

int ner_ctx_new(const ner_model *m, ner_ctx **out)
{
    if (!m || !out)
        return NER_EINVAL;
    *out = NULL;
    ner_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return NER_ENOMEM;
    c->m = m;
    c->avx2 = nn_have_avx2();
    int rc = tok_state_new(m->tok, &c->tok);
    if (rc)
        goto fail;
    rc = NER_ENOMEM;
    c->X = xalloc(sizeof(float) * ROWS * NN_W);
    c->T = xalloc(sizeof(float) * ROWS * NN_P * NN_W);
    c->P = xalloc(sizeof(float) * (BLOCK + 1) * NN_LOWER);
    c->E = xalloc(sizeof(float) * ROWS * NN_EMB_IN);
    c->ET = xalloc(sizeof(float) * ROWS * NN_P * NN_W);
    c->prev_last = xalloc(sizeof(float) * NN_LOWER);
    c->ent_save = xalloc(sizeof(float) * 3 * NN_LOWER);
    c->pad_vec = xalloc(sizeof(float) * NN_W);
    c->wc = xalloc(sizeof(wc_entry) << CACHE_BITS);
    c->wcv = xalloc(sizeof(float) * NN_W << CACHE_BITS);
    c->miss_row = xalloc(sizeof(int) * ROWS);
    c->miss_slot = xalloc(sizeof(int) * ROWS);
    if (!c->X || !c->T || !c->P || !c->E || !c->ET || !c->prev_last ||
        !c->ent_save || !c->pad_vec || !c->wc || !c->wcv || !c->miss_row ||
        !c->miss_slot || scratch_reserve(c, 4096))
        goto fail;
    /* the padding rows: all four feature IDs are 0 */
    uint64_t ids[4] = {0, 0, 0, 0};
    feat_embed(m, ids, c->E);
    first_layer(c, c->E, 1, c->ET);
    nn_maxout_ln(c->avx2, c->ET, m->t.mix_b, m->t.mix_g, m->t.mix_beta, c->pad_vec, 0);
    *out = c;
    return NER_OK;
fail:
    ner_ctx_free(c);
    return rc;
}

void ner_ctx_free(ner_ctx *c)
{
    if (!c)
        return;
    tok_state_free(c->tok);
    free(c->toks);
    free(c->ents);
    free(c->ent_scores);
    free(c->X);
    free(c->T);
    free(c->P);
    free(c->E);
    free(c->ET);
    free(c->prev_last);
    free(c->ent_save);
    free(c->pad_vec);
    free(c->wc);
    free(c->wcv);
    free(c->miss_row);
    free(c->miss_slot);
    free(c->scratch);
    free(c);
}

void ner_ctx_stats(const ner_ctx *c, ner_stats *out)
{
    if (!out)
        return;
    if (!c) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = c->st;
}

static int tokenize(ner_ctx *c, const char *text, size_t len,
                    const tok_token **tt, size_t *nt)
{
    if (!c || (!text && len))
        return NER_EINVAL;
    if (len > NER_MAX_TEXT)
        return NER_ETOOBIG;
    if (!uni_valid(text, len))
        return NER_EUTF8;
    int rc = tok_run(c->tok, text ? text : "", len, tt, nt);
    if (rc)
        return rc;
    if (*nt > c->toks_cap) {
        size_t cap = *nt + *nt / 2 + 16;
        ner_span *p = realloc(c->toks, cap * sizeof *p);
        if (!p)
            return NER_ENOMEM;
        c->toks = p;
        c->toks_cap = cap;
    }
    for (size_t i = 0; i < *nt; i++) {
        c->toks[i].start = (*tt)[i].c0;
        c->toks[i].end = (*tt)[i].c1;
        c->toks[i].byte_start = (*tt)[i].b0;
        c->toks[i].byte_end = (*tt)[i].b1;
        c->toks[i].label = -1;
    }
    return NER_OK;
}

void ner_ctx_pipe(ner_ctx *c, int on)
{
    if (c)
        tok_pipe(c->tok, on);
}

int ner_tokenize(ner_ctx *c, const char *text, size_t len, ner_doc *out)
{
    const tok_token *tt;
    size_t nt = 0;
    if (!out)
        return NER_EINVAL;
    memset(out, 0, sizeof *out);
    int rc = tokenize(c, text, len, &tt, &nt);
    if (rc)
        return rc;
    out->n_tokens = nt;
    out->tokens = c->toks;
    out->ents = c->ents;
    return NER_OK;
}

/* Fills X rows for padded positions [p0, p0 + rows) of a document of n
 * tokens; word vectors come from the cache or are computed in one batch. */
static int fill_first(ner_ctx *c, const char *text, const tok_token *tt,
                      size_t n, size_t p0, int rows)
{
    const struct ner_model *m = c->m;
    int nmiss = 0;
    for (int r = 0; r < rows; r++) {
        size_t p = p0 + (size_t)r;
        float *x = c->X + (size_t)r * NN_W;
        if (p < NN_PAD || p >= n + NN_PAD) {
            memcpy(x, c->pad_vec, sizeof(float) * NN_W);
            continue;
        }
        const tok_token *t = &tt[p - NN_PAD];
        const char *s = text + t->b0;
        size_t len = t->b1 - t->b0;
        int slot = -1;
        if (!t->norm && len <= CACHE_KEY) {
            uint64_t h = hash_murmur64a(s, len, 7);
            slot = (int)(h & ((1u << CACHE_BITS) - 1));
            wc_entry *e = &c->wc[slot];
            if (e->used && e->hash == h && e->len == len &&
                memcmp(e->key, s, len) == 0) {
                memcpy(x, c->wcv + (size_t)slot * NN_W, sizeof(float) * NN_W);
                c->st.word_hits++;
                continue;
            }
            e->used = 0;
            e->hash = h;
            e->len = (uint32_t)len;
            memcpy(e->key, s, len);
        }
        if (scratch_reserve(c, 3 * len + 512))
            return NER_ENOMEM;
        uint64_t ids[4];
        feat_ids(m, s, len, t->norm, t->norm_len, c->scratch, ids);
        feat_embed(m, ids, c->E + (size_t)nmiss * NN_EMB_IN);
        c->miss_row[nmiss] = r;
        c->miss_slot[nmiss] = slot;
        nmiss++;
    }
    if (!nmiss)
        return NER_OK;
    c->st.word_misses += (uint64_t)nmiss;
    c->st.flops += 2.0 * nmiss * NN_EMB_IN * NN_P * NN_W;
    first_layer(c, c->E, nmiss, c->ET);
    for (int i = 0; i < nmiss; i++) {
        float *x = c->X + (size_t)c->miss_row[i] * NN_W;
        nn_maxout_ln(c->avx2, c->ET + (size_t)i * NN_P * NN_W, m->t.mix_b, m->t.mix_g,
                     m->t.mix_beta, x, 0);
        int slot = c->miss_slot[i];
        if (slot >= 0) {
            memcpy(c->wcv + (size_t)slot * NN_W, x, sizeof(float) * NN_W);
            c->wc[slot].used = 1;
        }
    }
    return NER_OK;
}

static int is_space_token(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int l = uni_decode(s + i, n - i, &cp);
        if (l <= 0 || !uni_isspace(cp))
            return 0;
        i += (size_t)l;
    }
    return 1;
}

/* Makes room for one more entity (and its score, once scores were asked
 * for on this context: the score array then follows the span array). */
static int ents_reserve(ner_ctx *c, int scores)
{
    if (c->n_ents == c->ents_cap) {
        size_t cap = c->ents_cap ? 2 * c->ents_cap : 64;
        ner_span *p = realloc(c->ents, cap * sizeof *p);
        if (!p)
            return NER_ENOMEM;
        c->ents = p;
        c->ents_cap = cap;
        if (c->ent_scores) {
            float *f = realloc(c->ent_scores, cap * sizeof *f);
            if (!f) {
                free(c->ent_scores); /* rebuilt, at the new capacity, on the next ask */
                c->ent_scores = NULL;
                return NER_ENOMEM;
            }
            c->ent_scores = f;
        }
    }
    if (scores && !c->ent_scores) {
        c->ent_scores = malloc(c->ents_cap * sizeof *c->ent_scores);
        if (!c->ent_scores)
            return NER_ENOMEM;
    }
    return NER_OK;
}

static int push_ent(ner_ctx *c, uint32_t start, int label, int scores)
{
    int rc = ents_reserve(c, scores);
    if (rc)
        return rc;
    ner_span *e = &c->ents[c->n_ents++];
    e->start = start; /* token indices until the end of the document */
    e->end = UINT32_MAX;
    e->byte_start = e->byte_end = 0;
    e->label = label;
    return NER_OK;
}

int ner_extract(ner_ctx *c, const char *text, size_t len, ner_doc *out)
{
    return ner_extract_ex(c, text, len, 0, out);
}

int ner_extract_ex(ner_ctx *c, const char *text, size_t len, unsigned flags, ner_doc *out)
{
    const tok_token *tt;
    size_t n = 0;
    if (!out)
        return NER_EINVAL;
    memset(out, 0, sizeof *out);
    if (flags & ~(unsigned)NER_SCORES)
        return NER_EINVAL;
    int rc = tokenize(c, text, len, &tt, &n);
    if (rc)
        return rc;
    return ner__run(c, text, tt, n, flags, out);
}

/* log of the probability of action best under the softmax over the valid
 * actions (ok[k] != 0) of the scores sc: -log(sum_valid exp(sc[k] - sc[best])),
 * best counted once whatever ok says (so it is finite and <= 0). */
static double action_logp(const float *sc, const unsigned char *ok, int n, int best)
{
    double z = 1, top = sc[best];
    for (int k = 0; k < n; k++)
        if (ok[k] && k != best)
            z += exp((double)sc[k] - top);
    return -log(z);
}

int ner__run(ner_ctx *c, const char *text, const tok_token *tt, size_t n,
             unsigned flags, ner_doc *out)
{
    int rc;
    const struct ner_model *m = c->m;
    const model_tensors *t = &m->t;
    c->n_ents = 0;
    int is_open = 0, e0_label = -1;
    int scores = (flags & NER_SCORES) != 0;
    double ent_logp = 0; /* with scores: log-probability of the open entity */
    long E0 = -1;
    if (scores && (rc = ents_reserve(c, 1))) /* out->scores is never NULL when asked */
        return rc;

    for (size_t t0 = 0; t0 < n; t0 += BLOCK) {
        size_t t1 = t0 + BLOCK < n ? t0 + BLOCK : n;
        size_t t1e = t1 + 1 < n ? t1 + 1 : n;   /* one more token for B1 */
        int m0 = (int)(t1e - t0) + 2 * NN_PAD;  /* positions [t0, t1e+8) */
        if ((rc = fill_first(c, text, tt, n, t0, m0)))
            return rc;
        for (int l = 1; l <= NN_DEPTH; l++) {
            int M = m0 - 2 * l;
            c->st.cnn_rows += (uint64_t)M;
            c->st.flops += 2.0 * M * NN_WIN * NN_P * NN_W;
            nn_gemm(c->avx2, c->X + (size_t)(l - 1) * NN_W, NN_W, M,
                    t->cnn_w[l - 1], NN_WIN, NN_P * NN_W, c->T, NN_P * NN_W);
            for (int i = 0; i < M; i++)
                nn_maxout_ln(c->avx2, c->T + (size_t)i * NN_P * NN_W, t->cnn_b[l - 1],
                             t->cnn_g[l - 1], t->cnn_beta[l - 1],
                             c->X + (size_t)(l + i) * NN_W, 1);
        }
        int nb = (int)(t1e - t0);
        c->st.flops += 2.0 * nb * NN_W * NN_LOWER + 2.0 * (double)(t1 - t0) * NN_H * m->n_classes;
        nn_gemm(c->avx2, c->X + (size_t)NN_PAD * NN_W, NN_W, nb, t->low_w, NN_W,
                NN_LOWER, c->P, NN_LOWER);

        if (t0 == 0) /* slot E0+1 while E0 == -1 */
            memcpy(c->ent_save + 2 * NN_LOWER, c->P, sizeof(float) * NN_LOWER);
        for (size_t i = t0; i < t1; i++) {
            long B0 = (long)i, B1 = i + 1 < n ? (long)i + 1 : -1;
            long ids[NN_NF] = {B0, B0 - 1, B1, E0,
                               E0 >= 1 ? E0 - 1 : -1,
                               /* as spaCy: with no entity yet, E0+1 is token 0 */
                               E0 + 1 < (long)n ? E0 + 1 : -1};
            const float *v[NN_NF];
            for (int f = 0; f < NN_NF; f++) {
                long tk = ids[f];
                if (tk < 0)
                    v[f] = t->low_pad + f * NN_HP * NN_H;
                else if (f >= 3)
                    v[f] = c->ent_save + (size_t)(tk - (E0 - 1)) * NN_LOWER +
                           f * NN_HP * NN_H;
                else if ((size_t)tk >= t0)
                    v[f] = c->P + (size_t)(tk - (long)t0) * NN_LOWER + f * NN_HP * NN_H;
                else
                    v[f] = c->prev_last + f * NN_HP * NN_H;
            }
            float sc[NN_CLS_MAXPAD];
            unsigned char valid[NN_CLS_MAXPAD];
            if (t->up_cols == NN_CLS_PAD)
                nn_parser_scores(c->avx2, v, t->low_b, t->up_w, t->up_b, sc);
            else /* format 2: over 80 classes */
                nn_parser_scores_wide(c->avx2, v, t->low_b, t->up_w, t->up_b, t->up_cols, sc);
            int space = -1, best = -1;
            float bs = -1e30f;
            for (int k = 0; k < m->n_classes; k++) {
                int mv = m->classes[k].move, L = m->classes[k].label, ok;
                switch (mv) {
                case MV_BEGIN:
                    if (space < 0)
                        space = is_space_token(text + tt[i].b0, tt[i].b1 - tt[i].b0);
                    ok = B1 != -1 && !is_open && L >= 0 && !space;
                    break;
                case MV_IN:
                    ok = L >= 0 && e0_label == L && is_open && B1 != -1;
                    break;
                case MV_LAST:
                    ok = L >= 0 && is_open && e0_label == L;
                    break;
                case MV_UNIT:
                    if (space < 0)
                        space = is_space_token(text + tt[i].b0, tt[i].b1 - tt[i].b0);
                    ok = L >= 0 && !is_open && !space;
                    break;
                default:
                    ok = !is_open;
                }
                valid[k] = (unsigned char)ok;
                float s = sc[k];
                if (ok && s > bs) {
                    bs = s;
                    best = k;
                }
            }
            if (best < 0)
                best = m->n_classes - 1; /* unreachable: OUT or LAST is valid */
            int mv = m->classes[best].move, L = m->classes[best].label;
            if (scores && mv != MV_OUT) {
                double lp = action_logp(sc, valid, m->n_classes, best);
                ent_logp = mv == MV_BEGIN || mv == MV_UNIT ? lp : ent_logp + lp;
            }
            if (mv == MV_BEGIN || mv == MV_UNIT) {
                if ((rc = push_ent(c, (uint32_t)i, L, scores)))
                    return rc;
                E0 = (long)i;
                e0_label = L;
                /* save the precomputed rows of E0-1, E0, E0+1 */
                for (int d = -1; d <= 1; d++) {
                    long tk = E0 + d;
                    float *dst = c->ent_save + (size_t)(d + 1) * NN_LOWER;
                    if (tk < 0 || tk >= (long)n)
                        continue;
                    if ((size_t)tk >= t0)
                        memcpy(dst, c->P + (size_t)(tk - (long)t0) * NN_LOWER,
                               sizeof(float) * NN_LOWER);
                    else
                        memcpy(dst, c->prev_last, sizeof(float) * NN_LOWER);
                }
                if (mv == MV_UNIT) {
                    c->ents[c->n_ents - 1].end = (uint32_t)i + 1;
                    if (scores)
                        c->ent_scores[c->n_ents - 1] = (float)exp(ent_logp);
                    is_open = 0;
                } else {
                    is_open = 1;
                }
            } else if (mv == MV_LAST) {
                c->ents[c->n_ents - 1].end = (uint32_t)i + 1;
                if (scores)
                    c->ent_scores[c->n_ents - 1] = (float)exp(ent_logp);
                is_open = 0;
            }
        }
        memcpy(c->prev_last, c->P + (size_t)(t1 - 1 - t0) * NN_LOWER,
               sizeof(float) * NN_LOWER);
    }
    /* token indices -> offsets; drop unclosed entities */
    size_t k = 0;
    for (size_t i = 0; i < c->n_ents; i++) {
        ner_span e = c->ents[i];
        if (e.end == UINT32_MAX)
            continue;
        c->ents[k].start = tt[e.start].c0;
        c->ents[k].byte_start = tt[e.start].b0;
        c->ents[k].end = tt[e.end - 1].c1;
        c->ents[k].byte_end = tt[e.end - 1].b1;
        c->ents[k].label = e.label;
        if (scores)
            c->ent_scores[k] = c->ent_scores[i];
        k++;
    }
    c->n_ents = k;
    c->st.calls++;
    c->st.tokens += n;
    out->n_tokens = n;
    out->tokens = c->toks;
    out->n_ents = k;
    out->ents = c->ents;
    out->scores = scores ? c->ent_scores : NULL;
    return NER_OK;
}
