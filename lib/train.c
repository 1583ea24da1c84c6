/*
 * The trainer: its parameters (float32, one flat array, blocks as thinc's
 * layers), their initialisation from a base model or as spaCy v2.2 builds
 * a new model, the classes and labels (spaCy's add_label for new labels),
 * the RNG of dropout masks and chunk cuts, and thinc 7.4's Adam with
 * coupled L2, per-block gradient clipping and the weight averages.
 */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train_int.h"
#include "unicode.h"

const char *tr_strerror(int err)
{
    static const char *const msg[TR_ERR_COUNT] = {
        [TR_OK] = "success",
        [TR_ENOMEM] = "out of memory",
        [TR_EINVAL] = "invalid argument",
        [TR_ELABELS] = "too many labels for the model format (at most 64 labels, 258 classes)",
        [TR_ETAG] = "malformed BILUO tag",
        [TR_ELABEL] = "tag names a label the trainer does not have",
        [TR_EORACLE] = "the tags admit no zero-cost action sequence (e.g. an entity on a whitespace token)",
        [TR_EBIG] = "batch or token too large",
        [TR_EIO] = "cannot write the model file",
        [TR_EMODEL] = "the base model's network sizes are not the engine's",
    };
    if (err < 0 || err >= TR_ERR_COUNT)
        return "unknown error";
    return msg[err];
}

void tr_config_default(tr_config *c)
{
    if (!c)
        return;
    memset(c, 0, sizeof *c);
    c->learn_rate = 0.001f;
    c->beta1 = 0.9f;
    c->beta2 = 0.999f;
    c->eps = 1e-8f;
    c->l2 = 1e-6f;
    c->grad_clip = 1.0f;
}

/* ---- RNG: xoshiro256**, seeded by splitmix64 ---- */

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static void rng_seed(uint64_t s[4], uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        uint64_t z = (seed += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        s[i] = z ^ (z >> 31);
    }
}

static uint64_t rng_next(uint64_t s[4])
{
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

float tr__uniform(tr_trainer *t)
{
    return (float)(rng_next(t->rng) >> 40) * (1.0f / 16777216.0f);
}

static double normal(tr_trainer *t)
{
    double u = ((double)(rng_next(t->rng) >> 11) + 1.0) / 9007199254740993.0;
    double v = (double)(rng_next(t->rng) >> 11) / 9007199254740992.0;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

void tr__mask(tr_trainer *t, const char *name, float drop, float *out, size_t n)
{
    if (t->mask_fn) {
        t->mask_fn(t->mask_ud, name, out, n);
        return;
    }
    float keep = 1.0f / (1.0f - drop);
    for (size_t i = 0; i < n; i++)
        out[i] = tr__uniform(t) >= drop ? keep : 0.0f;
}

/* ---- parameter layout ---- */

#define MAXT (8 + 4 * TR_MAXDEPTH + 5)

/* The tensors of T in layout order, their sizes, and whether each opens
 * a block. */
static int tensor_list(tr_tensors *T, const tr_dims *d, float **ptr[MAXT], size_t len[MAXT],
                       int opens[MAXT])
{
    size_t W = (size_t)d->W, nH = (size_t)d->nH, C = (size_t)d->C;
    int n = 0;
#define ADD(p, l, o) (ptr[n] = &(p), len[n] = (l), opens[n] = (o), n++)
    for (int f = 0; f < 4; f++)
        ADD(T->emb[f], d->rows[f] * W, 1);
    ADD(T->mix_w, 4 * W * 3 * W, 1);
    ADD(T->mix_b, 3 * W, 0);
    ADD(T->mix_g, W, 1);
    ADD(T->mix_beta, W, 0);
    for (int k = 0; k < d->depth; k++) {
        ADD(T->cnn_w[k], 9 * W * W, 1);
        ADD(T->cnn_b[k], 3 * W, 0);
        ADD(T->cnn_g[k], W, 1);
        ADD(T->cnn_beta[k], W, 0);
    }
    ADD(T->low_w, W * TR_NF * TR_HP * nH, 1);
    ADD(T->low_b, TR_HP * nH, 0);
    ADD(T->low_pad, TR_NF * TR_HP * nH, 0);
    ADD(T->up_w, nH * C, 1);
    ADD(T->up_b, C, 0);
#undef ADD
    return n;
}

/* Lays the tensors out (each 64-byte aligned) and the blocks; with base
 * set, points T's views into it. */
static size_t layout(tr_trainer *t, float *base, tr_tensors *T)
{
    float **ptr[MAXT];
    size_t len[MAXT], off = 0;
    int opens[MAXT], nb = 0;
    tr_tensors dummy;
    int n = tensor_list(T ? T : &dummy, &t->d, ptr, len, opens);
    for (int i = 0; i < n; i++) {
        off = (off + 15) & ~(size_t)15;
        if (opens[i])
            t->blk_off[nb++] = off;
        if (T)
            *ptr[i] = base + off;
        off += len[i];
        t->blk_len[nb - 1] = off - t->blk_off[nb - 1];
    }
    t->nblk = nb;
    return (off + 15) & ~(size_t)15;
}

void tr__views(const tr_trainer *t, float *base, tr_tensors *T)
{
    tr_trainer tmp = *t; /* layout() rewrites the block table: the same values */
    layout(&tmp, base, T);
}

int tr__new_dims(const tr_dims *d, const tr_config *cfg, tr_trainer **out)
{
    *out = NULL;
    if (d->W < 2 || d->W > 4096 || d->nH < 1 || d->nH > 256 || d->depth < 1 ||
        d->depth > TR_MAXDEPTH || d->C < 2 || d->C > TR_MAX_CLASSES)
        return TR_EINVAL;
    for (int f = 0; f < 4; f++)
        if (d->rows[f] < 1 || d->rows[f] > (1u << 20))
            return TR_EINVAL;
    tr_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return TR_ENOMEM;
    t->d = *d;
    if (cfg)
        t->cfg = *cfg;
    else
        tr_config_default(&t->cfg);
    t->avx2 = nn_have_avx2();
    t->fixed_cut = -1;
    rng_seed(t->rng, t->cfg.seed);
    t->np = layout(t, NULL, NULL);
    float **arr[5] = {&t->p, &t->g, &t->m, &t->v, &t->avg};
    for (int i = 0; i < 5; i++) {
        *arr[i] = aligned_alloc(64, t->np * sizeof(float));
        if (!*arr[i]) {
            tr_free(t);
            return TR_ENOMEM;
        }
        memset(*arr[i], 0, t->np * sizeof(float));
    }
    layout(t, t->p, &t->P);
    layout(t, t->g, &t->G);
    int rc = tr__pool_new(t->cfg.threads, &t->pool);
    if (rc) {
        tr_free(t);
        return rc;
    }
    /* the optimizer's blocks over the threads: largest first to the least
     * loaded (any split gives the same results) */
    int nt = tr__pool_threads(t->pool);
    size_t load[TR_MAX_THREADS] = {0};
    unsigned char done[TR_MAXBLK] = {0};
    for (int k = 0; k < t->nblk; k++) {
        int b = -1, q = 0;
        for (int i = 0; i < t->nblk; i++)
            if (!done[i] && (b < 0 || t->blk_len[i] > t->blk_len[b]))
                b = i;
        for (int i = 1; i < nt; i++)
            if (load[i] < load[q])
                q = i;
        done[b] = 1;
        t->blk_part[b] = (unsigned char)q;
        load[q] += t->blk_len[b];
    }
    *out = t;
    return TR_OK;
}

void tr_free(tr_trainer *t)
{
    if (!t)
        return;
    free(t->p);
    free(t->g);
    free(t->m);
    free(t->v);
    free(t->avg);
    for (int i = 0; i < t->n_labels; i++)
        free(t->labels[i]);
    free(t->about);
    tr__work_free(t->w);
    tr__pool_free(t->pool);
    tok_state_free(t->tok);
    free(t);
}

int tr_tokenize(tr_trainer *t, const char *text, size_t len, tr_token *out, size_t cap,
                size_t *n)
{
    if (n)
        *n = 0;
    if (!t || !t->base || (!text && len) || (!out && cap) || !n)
        return TR_EINVAL;
    if (len > NER_MAX_TEXT)
        return TR_EBIG;
    if (!uni_valid(text, len))
        return TR_EINVAL;
    if (!t->tok && tok_state_new(t->base->tok, &t->tok))
        return TR_ENOMEM;
    const tok_token *tt;
    size_t nt;
    int rc = tok_run(t->tok, text ? text : "", len, &tt, &nt);
    if (rc)
        return rc == NER_ENOMEM ? TR_ENOMEM : TR_EINVAL;
    for (size_t i = 0; i < nt && i < cap; i++)
        out[i] = (tr_token){text + tt[i].b0, tt[i].b1 - tt[i].b0, tt[i].norm, tt[i].norm_len};
    *n = nt;
    return TR_OK;
}

int tr_nlabels(const tr_trainer *t) { return t ? t->n_labels : 0; }

const char *tr_label(const tr_trainer *t, int i)
{
    return t && i >= 0 && i < t->n_labels ? t->labels[i] : "";
}

/* ---- initialisation ---- */

/* Inverse of nn_pack (no transpose): panels -> row-major K x N. */
static void unpack(const float *P, int K, int N, float *out)
{
    for (int k = 0; k < K; k++)
        for (int n = 0; n < N; n++)
            out[(size_t)k * N + n] = P[(size_t)(n / NN_TILE) * K * NN_TILE +
                                       (size_t)k * NN_TILE + n % NN_TILE];
}

static void from_base(tr_trainer *t, const ner_model *m)
{
    const model_tensors *s = &m->t;
    tr_tensors *P = &t->P;
    size_t W = NN_W;
    for (int f = 0; f < 4; f++)
        memcpy(P->emb[f], s->emb[f], sizeof(float) * s->emb_rows[f] * W);
    unpack(s->mix_w, NN_EMB_IN, NN_P * NN_W, P->mix_w);
    memcpy(P->mix_b, s->mix_b, sizeof(float) * 3 * W);
    memcpy(P->mix_g, s->mix_g, sizeof(float) * W);
    memcpy(P->mix_beta, s->mix_beta, sizeof(float) * W);
    for (int k = 0; k < NN_DEPTH; k++) {
        unpack(s->cnn_w[k], NN_WIN, NN_P * NN_W, P->cnn_w[k]);
        memcpy(P->cnn_b[k], s->cnn_b[k], sizeof(float) * 3 * W);
        memcpy(P->cnn_g[k], s->cnn_g[k], sizeof(float) * W);
        memcpy(P->cnn_beta[k], s->cnn_beta[k], sizeof(float) * W);
    }
    unpack(s->low_w, NN_W, NN_LOWER, P->low_w);
    memcpy(P->low_b, s->low_b, sizeof(float) * NN_HP * NN_H);
    memcpy(P->low_pad, s->low_pad, sizeof(float) * NN_LOWER);
    for (int h = 0; h < NN_H; h++)
        for (int c = 0; c < m->n_classes; c++)
            P->up_w[h * t->d.C + c] = s->up_w[h * s->up_cols + c];
    memcpy(P->up_b, s->up_b, sizeof(float) * (size_t)m->n_classes);
}

static void uniform_fill(tr_trainer *t, float *x, size_t n, double a)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((2.0 * tr__uniform(t) - 1.0) * a);
}

/* The lower layer's data-free "LSUV" (spaCy's PrecomputableAffine
 * init_weights): W ~ N(0, 1/sqrt(6 W)), pad ~ N(0, 1); on 5000 states of
 * random N(0, 1) token vectors in every slot, rescale W until the maxout
 * output's variance is within 0.01 of 1, then shift b until its mean is
 * within 0.01 of 0 (at most 10 rounds). */
static int init_lower(tr_trainer *t)
{
    enum { NS = 5000 };
    const tr_dims *d = &t->d;
    int W = d->W, nH = d->nH, F = TR_NF * TR_HP * nH, H2 = 2 * nH;
    size_t nW = (size_t)W * F;
    double sd = 1.0 / sqrt((double)TR_NF * W);
    for (size_t i = 0; i < nW; i++)
        t->P.low_w[i] = (float)(normal(t) * sd);
    for (int i = 0; i < F; i++)
        t->P.low_pad[i] = (float)normal(t);
    float *X = malloc(sizeof(float) * NS * W), *Y = calloc((size_t)NS * H2, sizeof(float)),
          *Bp = aligned_alloc(64, (sizeof(float) * nn_pack_floats(W, H2) + 63) & ~(size_t)63),
          *tmp = malloc(sizeof(float) * nn_gemm_ex_floats(H2));
    int rc = X && Y && Bp && tmp ? TR_OK : TR_ENOMEM;
    for (int f = 0; !rc && f < TR_NF; f++) {
        for (size_t i = 0; i < (size_t)NS * W; i++)
            X[i] = (float)normal(t);
        nn_pack(t->P.low_w + f * H2, (size_t)F, 0, W, H2, Bp);
        nn_gemm_ex(t->avx2, X, (size_t)W, NS, Bp, W, H2, Y, (size_t)H2, 1, tmp);
    }
    double scale = 1.0;
    for (int round = 0; !rc && round < 10; round++) {
        double s = 0, s2 = 0;
        for (int i = 0; i < NS; i++)
            for (int o = 0; o < nH; o++) {
                double a = Y[(size_t)i * H2 + o] * scale + t->P.low_b[o];
                double b = Y[(size_t)i * H2 + nH + o] * scale + t->P.low_b[nH + o];
                double h = b > a ? b : a;
                s += h;
                s2 += h * h;
            }
        double n = (double)NS * nH, mean = s / n, var = s2 / n - mean * mean;
        if (fabs(var - 1.0) >= 0.01)
            scale /= sqrt(var);
        else if (fabs(mean) >= 0.01)
            for (int j = 0; j < H2; j++)
                t->P.low_b[j] -= (float)mean;
        else
            break;
    }
    for (size_t i = 0; i < nW; i++)
        t->P.low_w[i] = (float)(t->P.low_w[i] * scale);
    free(X);
    free(Y);
    free(Bp);
    free(tmp);
    return rc;
}

/* spaCy v2.2's initialisation of a new NER model (ner-training.md 3.8). */
static int init_scratch(tr_trainer *t)
{
    const tr_dims *d = &t->d;
    size_t W = (size_t)d->W;
    for (int f = 0; f < 4; f++)
        uniform_fill(t, t->P.emb[f], d->rows[f] * W, 0.1);
    /* maxout: per piece U(+-sqrt(6 / (nO + nI))); LayerNorm g 1, b 0 */
    uniform_fill(t, t->P.mix_w, 4 * W * 3 * W, sqrt(6.0 / (double)(W + 4 * W)));
    for (size_t i = 0; i < W; i++)
        t->P.mix_g[i] = 1;
    for (int k = 0; k < d->depth; k++) {
        uniform_fill(t, t->P.cnn_w[k], 9 * W * W, sqrt(6.0 / (double)(W + 3 * W)));
        for (size_t i = 0; i < W; i++)
            t->P.cnn_g[k][i] = 1;
    }
    return init_lower(t); /* the output layer stays 0 */
}

/* ---- labels and classes ---- */

static int add_label_name(tr_trainer *t, const char *name)
{
    if (t->n_labels >= TR_MAX_LABELS)
        return TR_ELABELS;
    t->labels[t->n_labels] = strdup(name);
    if (!t->labels[t->n_labels])
        return TR_ENOMEM;
    t->n_labels++;
    return TR_OK;
}

static int check_labels(const char *const *labels, size_t n)
{
    if (n && !labels)
        return TR_EINVAL;
    for (size_t i = 0; i < n; i++) {
        size_t len = labels[i] ? strlen(labels[i]) : 0;
        if (!len || len > 255 || labels[i][0] == '!' || !uni_valid(labels[i], len))
            return TR_EINVAL;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(labels[i], labels[j]))
                return TR_EINVAL;
    }
    return TR_OK;
}

typedef struct lab_freq {
    const char *name;
    uint64_t freq;
} lab_freq;

/* (freq, name) descending, as Python sorts spaCy's (freq, label) pairs */
static int lab_cmp(const void *a, const void *b)
{
    const lab_freq *x = a, *y = b;
    if (x->freq != y->freq)
        return x->freq < y->freq ? 1 : -1;
    return -strcmp(x->name, y->name);
}

static int scratch_classes(tr_trainer *t, const char *const *labels, const uint64_t *freqs,
                           size_t n, model_class *cls, int *nc)
{
    lab_freq *lf = malloc(sizeof *lf * (n + 1));
    if (!lf)
        return TR_ENOMEM;
    for (size_t i = 0; i < n; i++)
        lf[i] = (lab_freq){labels[i], freqs ? freqs[i] : 1};
    qsort(lf, n, sizeof *lf, lab_cmp);
    int rc = TR_OK;
    for (size_t i = 0; !rc && i < n; i++)
        rc = add_label_name(t, lf[i].name);
    int k = 0;
    for (int mv = TR_BEGIN; !rc && mv <= TR_UNIT; mv++) {
        int put_blank = mv != TR_UNIT;
        for (size_t i = 0; i < n; i++) {
            if (!put_blank && lf[i].freq < 1) { /* UNIT '' counts 1 */
                cls[k++] = (model_class){TR_UNIT, -1};
                put_blank = 1;
            }
            cls[k++] = (model_class){(int16_t)mv, (int16_t)i};
        }
        if (!put_blank)
            cls[k++] = (model_class){TR_UNIT, -1};
    }
    cls[k++] = (model_class){TR_OUT, -1};
    *nc = k;
    free(lf);
    return rc;
}

int tr_new(const ner_model *base, const tr_config *cfg, const char *const *labels,
           const uint64_t *freqs, size_t n_labels, tr_trainer **out)
{
    if (out)
        *out = NULL;
    if (!base || !out)
        return TR_EINVAL;
    tr_config dc;
    if (!cfg) {
        tr_config_default(&dc);
        cfg = &dc;
    }
    int rc = check_labels(labels, n_labels);
    if (rc || (cfg->from_scratch && !n_labels))
        return TR_EINVAL;
    if (n_labels > TR_MAX_LABELS)
        return TR_ELABELS;
    /* the new label set and its classes */
    const char *names[TR_MAX_LABELS];
    model_class cls[4 * TR_MAX_LABELS + 2];
    int nl = 0, nc = 0;
    size_t n_new = 0;
    if (!cfg->from_scratch) {
        nl = base->n_labels;
        nc = base->n_classes;
        for (int i = 0; i < nl; i++)
            names[i] = base->labels[i];
        memcpy(cls, base->classes, sizeof(model_class) * (size_t)nc);
        for (size_t i = 0; i < n_labels; i++) {
            int have = 0;
            for (int j = 0; j < base->n_labels && !have; j++)
                have = !strcmp(labels[i], base->labels[j]);
            if (have)
                continue;
            if (nl >= TR_MAX_LABELS || nc + 4 > TR_MAX_CLASSES)
                return TR_ELABELS;
            names[nl] = labels[i];
            for (int mv = TR_BEGIN; mv <= TR_UNIT; mv++)
                cls[nc++] = (model_class){(int16_t)mv, (int16_t)nl};
            nl++;
            n_new++;
        }
    } else if (4 * n_labels + 2 > TR_MAX_CLASSES) {
        return TR_ELABELS;
    } else {
        nc = 4 * (int)n_labels + 2;
    }
    tr_dims d = {.W = NN_W, .nH = NN_H, .depth = NN_DEPTH, .C = nc};
    for (int f = 0; f < 4; f++) {
        d.rows[f] = base->t.emb_rows[f];
        d.seeds[f] = base->t.emb_seed[f];
    }
    tr_trainer *t;
    if ((rc = tr__new_dims(&d, cfg, &t)))
        return rc;
    t->base = base;
    const char *about = ner_model_about(base);
    size_t al = strlen(about) + 96;
    t->about = malloc(al);
    if (!t->about) {
        rc = TR_ENOMEM;
        goto fail;
    }
    if (cfg->from_scratch) {
        snprintf(t->about, al, "trained from scratch by nerd; tokenizer and lexical tables: %s",
                 about);
        if ((rc = scratch_classes(t, labels, freqs, n_labels, t->classes, &nc)) ||
            (rc = init_scratch(t)))
            goto fail;
    } else {
        snprintf(t->about, al, "fine-tuned by nerd from: %s", about);
        for (int i = 0; i < nl && !rc; i++)
            rc = add_label_name(t, names[i]);
        if (rc)
            goto fail;
        memcpy(t->classes, cls, sizeof(model_class) * (size_t)nc);
        from_base(t, base);
        for (int k = base->n_classes; k < nc; k++)
            t->unseen[k] = 1; /* zero rows, min-filled until gold */
    }
    (void)n_new;
    *out = t;
    return TR_OK;
fail:
    tr_free(t);
    return rc;
}

/* ---- optimizer ---- */

/* One block's Adam update after L2 and clipping (scale), the averages,
 * and the gradient cleared.  The AVX2 version does the same per element
 * (fused multiply-adds round a little differently). */
typedef struct adam_k {
    float b1, b2, eps, lr, scale, keep, l2;
} adam_k;

static double l2_norm2_ref(const adam_k *k, const float *w, float *g, size_t n)
{
    double ss = 0;
    for (size_t i = 0; i < n; i++) {
        if (k->l2 != 0)
            g[i] += k->l2 * w[i];
        ss += (double)g[i] * g[i];
    }
    return ss;
}

static void adam_ref(const adam_k *k, float *w, float *g, float *m, float *v, float *a,
                     size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] * k->scale;
        m[i] = k->b1 * m[i] + (1 - k->b1) * gi;
        v[i] = k->b2 * v[i] + (1 - k->b2) * gi * gi;
        w[i] -= k->lr * (m[i] / (sqrtf(v[i]) + k->eps));
        g[i] = 0;
        a[i] -= k->keep * (a[i] - w[i]);
    }
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
__attribute__((target("avx2,fma"))) static double l2_norm2_avx2(const adam_k *k,
                                                                 const float *w, float *g,
                                                                 size_t n)
{
    __m256d s0 = _mm256_setzero_pd(), s1 = s0;
    __m256 l2 = _mm256_set1_ps(k->l2);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_fmadd_ps(l2, _mm256_loadu_ps(w + i), _mm256_loadu_ps(g + i));
        _mm256_storeu_ps(g + i, x);
        __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(x)),
                hi = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
        s0 = _mm256_fmadd_pd(lo, lo, s0);
        s1 = _mm256_fmadd_pd(hi, hi, s1);
    }
    double l[4], ss;
    _mm256_storeu_pd(l, _mm256_add_pd(s0, s1));
    ss = (l[0] + l[2]) + (l[1] + l[3]);
    return ss + l2_norm2_ref(k, w + i, g + i, n - i);
}

__attribute__((target("avx2,fma"))) static void adam_avx2(const adam_k *k, float *w, float *g,
                                                          float *m, float *v, float *a,
                                                          size_t n)
{
    __m256 b1 = _mm256_set1_ps(k->b1), b2 = _mm256_set1_ps(k->b2),
           c1 = _mm256_set1_ps(1 - k->b1), c2 = _mm256_set1_ps(1 - k->b2),
           sc = _mm256_set1_ps(k->scale), lr = _mm256_set1_ps(k->lr),
           eps = _mm256_set1_ps(k->eps), keep = _mm256_set1_ps(k->keep),
           zero = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 gi = _mm256_mul_ps(_mm256_loadu_ps(g + i), sc);
        __m256 mi = _mm256_fmadd_ps(b1, _mm256_loadu_ps(m + i), _mm256_mul_ps(c1, gi));
        __m256 vi = _mm256_fmadd_ps(b2, _mm256_loadu_ps(v + i),
                                    _mm256_mul_ps(c2, _mm256_mul_ps(gi, gi)));
        __m256 wi = _mm256_sub_ps(
            _mm256_loadu_ps(w + i),
            _mm256_mul_ps(lr, _mm256_div_ps(mi, _mm256_add_ps(_mm256_sqrt_ps(vi), eps))));
        __m256 ai = _mm256_loadu_ps(a + i);
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        _mm256_storeu_ps(w + i, wi);
        _mm256_storeu_ps(g + i, zero);
        _mm256_storeu_ps(a + i, _mm256_sub_ps(ai, _mm256_mul_ps(keep, _mm256_sub_ps(ai, wi))));
    }
    adam_ref(k, w + i, g + i, m + i, v + i, a + i, n - i);
}
#define HAVE_AVX2_ADAM 1
#endif

/* One block's step (see tr__step). */
static void step_block(tr_trainer *t, int b, float learn_rate)
{
    const tr_config *c = &t->cfg;
    size_t off = t->blk_off[b], n = t->blk_len[b];
    float *w = t->p + off, *g = t->g + off, *m = t->m + off, *v = t->v + off, *a = t->avg + off;
    uint32_t step = ++t->blk_t[b];
    adam_k k = {.b1 = c->beta1, .b2 = c->beta2, .eps = c->eps, .l2 = c->l2, .scale = 1};
    double ss;
#ifdef HAVE_AVX2_ADAM
    if (t->avx2)
        ss = l2_norm2_avx2(&k, w, g, n);
    else
#endif
        ss = l2_norm2_ref(&k, w, g, n);
    double norm = sqrt(ss);
    if (c->grad_clip > 0 && norm >= c->grad_clip)
        k.scale = (float)(c->grad_clip / norm);
    k.lr = (float)(learn_rate * sqrt(1.0 - pow(c->beta2, step)) / (1.0 - pow(c->beta1, step)));
    double dec = (1.0 + step) / (10.0 + step);
    k.keep = (float)(1.0 - (dec < 0.9999 ? dec : 0.9999));
#ifdef HAVE_AVX2_ADAM
    if (t->avx2)
        adam_avx2(&k, w, g, m, v, a, n);
    else
#endif
        adam_ref(&k, w, g, m, v, a, n);
}

typedef struct step_job {
    tr_trainer *t;
    float lr;
} step_job;

static void step_part(void *arg, int part, int nparts)
{
    step_job *j = arg;
    for (int b = 0; b < j->t->nblk; b++)
        if (nparts == 1 || j->t->blk_part[b] == part)
            step_block(j->t, b, j->lr);
}

void tr__step(tr_trainer *t, float learn_rate)
{
    step_job j = {t, learn_rate};
    tr__pool_run(t->pool, step_part, &j);
}

int tr_update(tr_trainer *t, const tr_doc *docs, size_t n_docs, float drop, float learn_rate,
              tr_result *out)
{
    tr_result r;
    if (!out)
        out = &r;
    memset(out, 0, sizeof *out);
    if (!t || !docs || !n_docs)
        return TR_EINVAL;
    int rc = tr__grad(t, docs, n_docs, drop, out);
    if (rc)
        return rc;
    if (out->states) /* a batch without gold is no update (as in spaCy) */
        tr__step(t, learn_rate > 0 ? learn_rate : t->cfg.learn_rate);
    return TR_OK;
}
