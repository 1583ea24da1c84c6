/* The trainer's numerics against the numpy reference
 * (../shared/specs/ner-training-ref.py):
 * - tiny model (tests/data/trainer/tiny.json, from `ner-training-ref.py dump`,
 *   see make_vectors.sh): the loss, spaCy's sum of d^2, states, steps and
 *   actions, and every parameter's gradient, at dropout 0 and 0.25 (the
 *   reference's masks fed in draw order), each to 1e-4 relative in
 *   float32; then one Adam step (parameters and averages) on the drop-0
 *   gradients;
 * - the real weights (models/en_core_web_sm-2.2.5.nerd): the reference's
 *   fixed batch (`ner-training-ref.py model`, figures in ner-training.md
 *   section 6): loss, sum of d^2, states, steps, the 16 blocks' gradient
 *   norms, the upper layer after one Adam step; add_label's unseen classes
 *   (no gradient in the first batch, then only for the classes seen);
 * - the oracle's costs on hand-made states (tests/data/trainer/oracle.cases);
 * - the written model: an ordinary model file (loads, extracts), the base
 *   model's weights unchanged when written without an update, the same
 *   seed giving the same bytes and another seed other bytes, training
 *   from scratch learning a small batch;
 * - errors: bad tags, unknown labels, too many labels, bad arguments. */
#define _DEFAULT_SOURCE
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "check_model.h"
#include "model.h"
#include "nerd/train.h"
#include "train_int.h"

#define TOL 1e-4

/* ---- JSON helpers ---- */

static size_t flat_count(const json_t *j)
{
    if (json_is_number(j))
        return 1;
    size_t n = 0, i;
    json_t *v;
    json_array_foreach(j, i, v) n += flat_count(v);
    return n;
}

static size_t flatten(const json_t *j, double *out)
{
    if (json_is_number(j)) {
        *out = json_number_value(j);
        return 1;
    }
    size_t n = 0, i;
    json_t *v;
    json_array_foreach(j, i, v) n += flatten(v, out + n);
    return n;
}

/* ---- spaCy's parameter layouts -> the trainer's ---- */

enum { K_FLAT, K_MAXOUT_W, K_MAXOUT_B, K_LOW_W, K_LOW_B, K_LOW_PAD, K_UP_W };

typedef struct tview {
    float *p;
    size_t n;
    int kind, nI;
} tview;

static int tensor_of(tr_tensors *T, const tr_dims *d, const char *blk, const char *key,
                     tview *v)
{
    size_t W = (size_t)d->W, nH = (size_t)d->nH;
    static const char *const emb[4] = {"embed_norm", "embed_prefix", "embed_suffix",
                                       "embed_shape"};
    for (int f = 0; f < 4; f++)
        if (!strcmp(blk, emb[f])) {
            *v = (tview){T->emb[f], d->rows[f] * W, K_FLAT, 0};
            return 0;
        }
    int k = -1;
    float *mw = NULL, *mb = NULL, *g = NULL, *b = NULL;
    int nI = 0;
    if (!strncmp(blk, "mix_", 4)) {
        mw = T->mix_w, mb = T->mix_b, g = T->mix_g, b = T->mix_beta, nI = (int)(4 * W);
    } else if (sscanf(blk, "conv%d_", &k) == 1 && k >= 0 && k < d->depth) {
        mw = T->cnn_w[k], mb = T->cnn_b[k], g = T->cnn_g[k], b = T->cnn_beta[k];
        nI = (int)(3 * W);
    }
    if (mw && strstr(blk, "_maxout")) {
        if (!strcmp(key, "W"))
            *v = (tview){mw, (size_t)nI * 3 * W, K_MAXOUT_W, nI};
        else
            *v = (tview){mb, 3 * W, K_MAXOUT_B, 0};
        return 0;
    }
    if (mw && strstr(blk, "_ln")) {
        *v = (tview){!strcmp(key, "G") ? g : b, W, K_FLAT, 0};
        return 0;
    }
    if (!strcmp(blk, "lower")) {
        if (!strcmp(key, "W"))
            *v = (tview){T->low_w, W * TR_NF * 2 * nH, K_LOW_W, 0};
        else if (!strcmp(key, "b"))
            *v = (tview){T->low_b, 2 * nH, K_LOW_B, 0};
        else
            *v = (tview){T->low_pad, TR_NF * 2 * nH, K_LOW_PAD, 0};
        return 0;
    }
    if (!strcmp(blk, "upper")) {
        if (!strcmp(key, "W"))
            *v = (tview){T->up_w, nH * (size_t)d->C, K_UP_W, 0};
        else
            *v = (tview){T->up_b, (size_t)d->C, K_FLAT, 0};
        return 0;
    }
    return -1;
}

/* src (spaCy's layout) -> dst (the trainer's), v->n values */
static void map_in(const tview *v, const tr_dims *d, const double *src, double *dst)
{
    size_t W = (size_t)d->W, nH = (size_t)d->nH, C = (size_t)d->C, F = TR_NF * 2 * nH;
    switch (v->kind) {
    case K_MAXOUT_W:
        for (size_t o = 0; o < W; o++)
            for (size_t p = 0; p < 3; p++)
                for (size_t i = 0; i < (size_t)v->nI; i++)
                    dst[i * 3 * W + p * W + o] = src[(o * 3 + p) * v->nI + i];
        break;
    case K_MAXOUT_B:
        for (size_t o = 0; o < W; o++)
            for (size_t p = 0; p < 3; p++)
                dst[p * W + o] = src[o * 3 + p];
        break;
    case K_LOW_W:
        for (size_t f = 0; f < TR_NF; f++)
            for (size_t o = 0; o < nH; o++)
                for (size_t p = 0; p < 2; p++)
                    for (size_t i = 0; i < W; i++)
                        dst[i * F + f * 2 * nH + p * nH + o] = src[((f * nH + o) * 2 + p) * W + i];
        break;
    case K_LOW_B:
        for (size_t o = 0; o < nH; o++)
            for (size_t p = 0; p < 2; p++)
                dst[p * nH + o] = src[o * 2 + p];
        break;
    case K_LOW_PAD:
        for (size_t f = 0; f < TR_NF; f++)
            for (size_t o = 0; o < nH; o++)
                for (size_t p = 0; p < 2; p++)
                    dst[f * 2 * nH + p * nH + o] = src[(f * nH + o) * 2 + p];
        break;
    case K_UP_W:
        for (size_t c = 0; c < C; c++)
            for (size_t h = 0; h < nH; h++)
                dst[h * C + c] = src[c * nH + h];
        break;
    default:
        memcpy(dst, src, sizeof(double) * v->n);
    }
}

/* Compares a tensor with the reference's (spaCy layout); returns the
 * relative L2 error and checks every element within TOL of the block's
 * scale. */
static double compare(const char *what, const char *blk, const char *key, const float *mine,
                      const tview *v, const tr_dims *d, const json_t *ref)
{
    size_t n = flat_count(ref);
    CHECK(n == v->n, "%s %s.%s: %zu values, want %zu", what, blk, key, n, v->n);
    if (n != v->n)
        return 1;
    double *src = malloc(sizeof(double) * n), *dst = malloc(sizeof(double) * n);
    flatten(ref, src);
    map_in(v, d, src, dst);
    double e2 = 0, r2 = 0, worst = 0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(mine[i] - dst[i]);
        e2 += e * e;
        r2 += dst[i] * dst[i];
    }
    double scale = sqrt(r2 / (double)n) + 1e-12;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(mine[i] - dst[i]) / (fabs(dst[i]) + scale);
        if (e > worst)
            worst = e;
        if (e > TOL && bad++ < 3)
            fprintf(stderr, "  %s %s.%s[%zu]: %.9g, want %.9g\n", what, blk, key, i, mine[i],
                    dst[i]);
    }
    double rel = sqrt(e2) / (sqrt(r2) + 1e-30);
    CHECK(bad == 0 && rel <= TOL, "%s %s.%s: %zu elements off, relative L2 error %.2e", what,
          blk, key, bad, rel);
    free(src);
    free(dst);
    return worst;
}

/* ---- the tiny model ---- */

typedef struct masks {
    json_t *list;
    size_t next;
} masks;

static void mask_hook(void *ud, const char *name, float *out, size_t n)
{
    masks *m = ud;
    json_t *e = json_array_get(m->list, m->next++);
    const char *nm = json_string_value(json_array_get(e, 0));
    json_t *vals = json_array_get(e, 1);
    size_t have = vals ? flat_count(vals) : 0;
    CHECK(nm && !strcmp(nm, name) && have == n, "mask %zu: %s of %zu, reference has %s of %zu",
          m->next - 1, name, n, nm ? nm : "none", have);
    memset(out, 0, sizeof(float) * n);
    if (nm && have == n) {
        double *tmp = malloc(sizeof(double) * n);
        flatten(vals, tmp);
        for (size_t i = 0; i < n; i++)
            out[i] = (float)tmp[i];
        free(tmp);
    }
}

typedef struct batch {
    tr_doc docs[8];
    tr_token toks[8][64];
    const char *tags[8][64];
    size_t n;
} batch;

/* docs: [[word...]...], tags the same shape (strings kept in the JSON) */
static void batch_from_json(batch *b, const json_t *docs, const json_t *tags)
{
    size_t i, k;
    json_t *d, *w;
    b->n = 0;
    json_array_foreach(docs, i, d) {
        json_array_foreach(d, k, w) {
            b->toks[i][k] = (tr_token){json_string_value(w), json_string_length(w), NULL, 0};
            b->tags[i][k] = json_string_value(json_array_get(json_array_get(tags, i), k));
        }
        b->docs[i] = (tr_doc){b->toks[i], json_array_size(d), b->tags[i], NULL};
        b->n++;
    }
}

static const char *block_name(int b, int depth, char *buf, size_t n)
{
    static const char *const first[6] = {"embed_norm", "embed_prefix", "embed_suffix",
                                         "embed_shape", "mix_maxout", "mix_ln"};
    if (b < 6)
        return first[b];
    b -= 6;
    if (b < 2 * depth)
        snprintf(buf, n, "conv%d_%s", b / 2, b % 2 ? "ln" : "maxout");
    else
        snprintf(buf, n, "%s", b == 2 * depth ? "lower" : "upper");
    return buf;
}

/* Compares every tensor of the JSON object blocks {name: {key: array}}
 * with T's; returns the worst elementwise relative error. */
static double compare_all(const char *what, tr_trainer *t, float *base, const json_t *blocks)
{
    tr_tensors T;
    tr__views(t, base, &T);
    double worst = 0;
    const char *blk;
    json_t *keys;
    json_object_foreach((json_t *)blocks, blk, keys) {
        const char *key;
        json_t *arr;
        json_object_foreach(keys, key, arr) {
            tview v;
            CHECK(tensor_of(&T, &t->d, blk, key, &v) == 0, "no tensor %s.%s", blk, key);
            double e = compare(what, blk, key, v.p, &v, &t->d, arr);
            if (e > worst)
                worst = e;
        }
    }
    return worst;
}

static void test_tiny(const ner_model *m, const char *path)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    CHECK(j != NULL, "%s: %s", path, je.text);
    if (!j)
        return;
    json_t *cfg = json_object_get(j, "cfg"), *seeds = json_object_get(cfg, "seeds");
    json_t *params = json_object_get(j, "params");
    json_t *classes = json_object_get(j, "classes");
    tr_dims d = {.depth = (int)json_integer_value(json_object_get(cfg, "conv_depth")),
                 .C = (int)json_array_size(classes)};
    static const char *const emb[4] = {"embed_norm", "embed_prefix", "embed_suffix",
                                       "embed_shape"};
    static const char *const sn[4] = {"norm", "prefix", "suffix", "shape"};
    for (int f = 0; f < 4; f++) {
        json_t *vec = json_object_get(json_object_get(params, emb[f]), "vectors");
        d.rows[f] = (uint32_t)json_array_size(vec);
        d.W = (int)json_array_size(json_array_get(vec, 0));
        d.seeds[f] = (uint32_t)json_integer_value(json_object_get(seeds, sn[f]));
    }
    d.nH = (int)json_array_size(
        json_array_get(json_object_get(json_object_get(params, "upper"), "W"), 0));
    tr_trainer *t = NULL;
    int rc = tr__new_dims(&d, NULL, &t);
    CHECK(rc == 0, "tr__new_dims: %s", tr_strerror(rc));
    if (rc) {
        json_decref(j);
        return;
    }
    t->base = m;
    t->fixed_cut = 0;
    /* labels and classes */
    size_t i;
    json_t *c;
    json_array_foreach(classes, i, c) {
        const char *L = json_string_value(json_array_get(c, 1));
        int li = -1;
        for (int k = 0; L[0] && k < t->n_labels; k++)
            if (!strcmp(t->labels[k], L))
                li = k;
        if (L[0] && li < 0) {
            t->labels[t->n_labels] = strdup(L);
            li = t->n_labels++;
        }
        t->classes[i] = (model_class){(int16_t)json_integer_value(json_array_get(c, 0)),
                                      (int16_t)li};
    }
    /* parameters */
    const char *blk;
    json_t *keys;
    json_object_foreach(params, blk, keys) {
        const char *key;
        json_t *arr;
        json_object_foreach(keys, key, arr) {
            tview v;
            CHECK(tensor_of(&t->P, &d, blk, key, &v) == 0 && flat_count(arr) == v.n,
                  "params %s.%s", blk, key);
            double *src = malloc(sizeof(double) * v.n), *dst = malloc(sizeof(double) * v.n);
            flatten(arr, src);
            map_in(&v, &d, src, dst);
            for (size_t k = 0; k < v.n; k++)
                v.p[k] = (float)dst[k];
            free(src);
            free(dst);
        }
    }
    batch b;
    batch_from_json(&b, json_object_get(j, "docs"), json_object_get(j, "tags"));
    int trace[256];
    t->trace = trace;
    t->trace_cap = 256;
    /* dropout 0.25 first (its gradients are then cleared), then 0 */
    json_t *runs = json_object_get(j, "runs");
    for (int r = (int)json_array_size(runs) - 1; r >= 0; r--) {
        json_t *run = json_array_get(runs, (size_t)r);
        double drop = json_number_value(json_object_get(run, "drop"));
        masks mk = {json_object_get(run, "masks"), 0};
        t->mask_fn = mask_hook;
        t->mask_ud = &mk;
        t->trace_n = 0;
        memset(t->g, 0, sizeof(float) * t->np);
        tr_result res;
        rc = tr__grad(t, b.docs, b.n, (float)drop, &res);
        CHECK(rc == 0, "tr__grad drop %.2f: %s", drop, tr_strerror(rc));
        CHECK(mk.next == json_array_size(mk.list), "drop %.2f: %zu masks drawn, reference %zu",
              drop, mk.next, json_array_size(mk.list));
        double loss = json_number_value(json_object_get(run, "loss"));
        double d2 = json_number_value(json_object_get(run, "spacy_loss"));
        CHECK(fabs(res.loss - loss) <= TOL * loss, "drop %.2f: loss %.9g, want %.9g", drop,
              res.loss, loss);
        CHECK(fabs(res.d2 - d2) <= TOL * d2, "drop %.2f: sum d^2 %.9g, want %.9g", drop, res.d2,
              d2);
        CHECK((json_int_t)res.states == json_integer_value(json_object_get(run, "states")) &&
                  (json_int_t)res.steps == json_integer_value(json_object_get(run, "steps")),
              "drop %.2f: %zu states %zu steps", drop, res.states, res.steps);
        json_t *acts = json_object_get(run, "actions");
        int same = t->trace_n == json_array_size(acts);
        for (size_t k = 0; same && k < t->trace_n; k++)
            same = trace[k] == json_integer_value(json_array_get(acts, k));
        CHECK(same, "drop %.2f: the actions differ from the reference's", drop);
        char what[32];
        snprintf(what, sizeof what, "grad(drop %.2f)", drop);
        double worst = compare_all(what, t, t->g, json_object_get(run, "grads"));
        printf("tiny model, drop %.2f: loss %.9f (ref %.9f), sum d^2 %.9f, worst gradient "
               "element error %.2e\n", drop, res.loss, loss, res.d2, worst);
    }
    t->mask_fn = NULL;
    /* one Adam step on the drop-0 gradients */
    tr__step(t, 0.001f);
    json_t *after = json_object_get(j, "adam_step1"), *pw = json_object(),
           *pa = json_object();
    json_object_foreach(after, blk, keys) {
        json_object_set(pw, blk, json_object_get(keys, "params"));
        json_object_set(pa, blk, json_object_get(keys, "averages"));
    }
    double w1 = compare_all("adam params", t, t->p, pw);
    double w2 = compare_all("adam averages", t, t->avg, pa);
    printf("tiny model, one Adam step: worst element error params %.2e, averages %.2e\n", w1,
           w2);
    json_decref(pw);
    json_decref(pa);
    tr_free(t);
    json_decref(j);
}

static double block_norm(const tr_trainer *t, const float *base, int b)
{
    double s = 0;
    for (size_t i = 0; i < t->blk_len[b]; i++) {
        double x = base[t->blk_off[b] + i];
        s += x * x;
    }
    return sqrt(s);
}

static void class_name(const tr_trainer *t, int k, char *buf, size_t n)
{
    static const char mv[] = "?BILUO";
    model_class c = t->classes[k];
    snprintf(buf, n, "%c-%s", mv[c.move], c.label >= 0 ? t->labels[c.label] : "");
    if (c.move == TR_OUT)
        snprintf(buf, n, "O");
}

/* The rows of the upper layer's classes [k0, k1): gradient L2 norm. */
static double rows_norm(const tr_trainer *t, int k0, int k1)
{
    double s = 0;
    for (int k = k0; k < k1; k++) {
        for (int h = 0; h < t->d.nH; h++)
            s += (double)t->G.up_w[h * t->d.C + k] * t->G.up_w[h * t->d.C + k];
        s += (double)t->G.up_b[k] * t->G.up_b[k];
    }
    return sqrt(s);
}

static void test_real(const ner_model *m, const char *path)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    CHECK(j != NULL, "%s: %s", path, je.text);
    if (!j)
        return;
    batch b;
    batch_from_json(&b, json_object_get(j, "docs"), json_object_get(j, "tags"));
    tr_trainer *t = NULL;
    int rc = tr_new(m, NULL, NULL, NULL, 0, &t);
    CHECK(rc == 0 && t && t->d.C == 74 && t->n_labels == 18, "tr_new: %s", tr_strerror(rc));
    if (rc) {
        json_decref(j);
        return;
    }
    t->fixed_cut = 0;
    tr_result res;
    rc = tr__grad(t, b.docs, b.n, 0, &res);
    CHECK(rc == 0, "tr__grad: %s", tr_strerror(rc));
    double loss = json_number_value(json_object_get(j, "loss"));
    double d2 = json_number_value(json_object_get(j, "d2"));
    CHECK(fabs(res.loss - loss) <= TOL * loss, "loss %.7f, want %.7f", res.loss, loss);
    CHECK(fabs(res.d2 - d2) <= TOL * d2, "sum d^2 %.7f, want %.7f", res.d2, d2);
    CHECK((json_int_t)res.states == json_integer_value(json_object_get(j, "states")) &&
              (json_int_t)res.steps == json_integer_value(json_object_get(j, "steps")),
          "%zu states, %zu steps", res.states, res.steps);
    printf("real weights: loss %.6f (ref %.6f), sum d^2 %.6f (ref %.6f), %zu states, %zu steps\n",
           res.loss, loss, res.d2, d2, res.states, res.steps);
    {
        /* the same batch with numeric tags: the same loss and gradient */
        tr_tag gold[8][64];
        batch bn = b;
        for (size_t i = 0; i < b.n; i++) {
            for (size_t k = 0; k < b.docs[i].n; k++) {
                tr_gold g;
                CHECK(tr__parse_tag(t, b.tags[i][k], &g) == 0, "tag");
                gold[i][k] = (tr_tag){(uint8_t)g.move, g.label};
            }
            bn.docs[i].tags = NULL;
            bn.docs[i].gold = gold[i];
        }
        float *g0 = malloc(sizeof(float) * t->np);
        memcpy(g0, t->g, sizeof(float) * t->np);
        memset(t->g, 0, sizeof(float) * t->np);
        tr_result rn;
        rc = tr__grad(t, bn.docs, bn.n, 0, &rn);
        CHECK(rc == 0 && rn.loss == res.loss && !memcmp(g0, t->g, sizeof(float) * t->np),
              "numeric tags: loss %.9g, want %.9g", rn.loss, res.loss);
        gold[0][0] = (tr_tag){6, 0};
        CHECK(tr__grad(t, bn.docs, bn.n, 0, &rn) == TR_ETAG, "numeric tag move 6");
        gold[0][0] = (tr_tag){TR_UNIT, 18};
        CHECK(tr__grad(t, bn.docs, bn.n, 0, &rn) == TR_ELABEL && rn.bad_doc == 0 &&
                  rn.bad_token == 0,
              "numeric tag label 18 of 18");
        CHECK(tr_label_find(t, "ORG") >= 0 && tr_label_find(t, "PER") == -1 &&
                  !strcmp(tr_label(t, tr_label_find(t, "GPE")), "GPE"),
              "tr_label_find");
        memcpy(t->g, g0, sizeof(float) * t->np);
        free(g0);
    }
    json_t *norms = json_object_get(j, "grad_norms");
    CHECK(t->nblk == 16 && json_object_size(norms) == 16, "%d blocks", t->nblk);
    double worst = 0;
    for (int k = 0; k < t->nblk; k++) {
        char buf[32];
        const char *name = block_name(k, t->d.depth, buf, sizeof buf);
        double want = json_number_value(json_object_get(norms, name));
        double got = block_norm(t, t->g, k), e = fabs(got - want) / want;
        CHECK(e <= TOL, "grad L2 of %s: %.6f, want %.6f", name, got, want);
        if (e > worst)
            worst = e;
    }
    printf("real weights: 16 block gradient norms, worst relative error %.2e\n", worst);
    tr__step(t, 0.001f);
    json_t *ua = json_object_get(j, "upper_adam");
    for (int h = 0; h < 4; h++) {
        double w = json_number_value(json_array_get(json_object_get(ua, "W"), (size_t)h));
        double a = json_number_value(json_array_get(json_object_get(ua, "avg"), (size_t)h));
        tr_tensors A;
        tr__views(t, t->avg, &A);
        float gw = t->P.up_w[h * t->d.C], ga = A.up_w[h * t->d.C];
        CHECK(fabs(gw - w) <= TOL * fabs(w) && fabs(ga - a) <= TOL * fabs(a),
              "upper W[0][%d] after one Adam step %.9g avg %.9g, want %.9g %.9g", h, gw, ga, w,
              a);
    }
    tr_free(t);

    /* add_label: ANIMAL's four classes start unseen */
    const char *animal = "ANIMAL";
    rc = tr_new(m, NULL, &animal, NULL, 1, &t);
    CHECK(rc == 0 && t && t->d.C == 78 && t->n_labels == 19, "tr_new +ANIMAL: %s",
          tr_strerror(rc));
    if (rc) {
        json_decref(j);
        return;
    }
    t->fixed_cut = 0;
    json_t *an = json_object_get(j, "animal");
    json_t *docs2 = json_deep_copy(json_object_get(j, "docs")),
           *tags2 = json_deep_copy(json_object_get(j, "tags"));
    json_array_append(docs2, json_object_get(an, "doc"));
    json_array_append(tags2, json_object_get(an, "tags"));
    batch_from_json(&b, docs2, tags2);
    rc = tr__grad(t, b.docs, b.n, 0, &res);
    CHECK(rc == 0 && rows_norm(t, 74, 78) == 0 && rows_norm(t, 0, 74) > 0,
          "batch 1: the new classes' gradient is %g", rows_norm(t, 74, 78));
    char unseen[128] = "";
    for (int k = 0; k < t->d.C; k++)
        if (t->unseen[k]) {
            char nm[40];
            class_name(t, k, nm, sizeof nm);
            snprintf(unseen + strlen(unseen), sizeof unseen - strlen(unseen), "%s%s",
                     unseen[0] ? " " : "", nm);
        }
    CHECK(!strcmp(unseen, "I-ANIMAL L-ANIMAL"), "still unseen after batch 1: %s", unseen);
    memset(t->g, 0, sizeof(float) * t->np);
    rc = tr__grad(t, b.docs, b.n, 0, &res);
    CHECK(rc == 0 && rows_norm(t, 74, 75) > 0 && rows_norm(t, 77, 78) > 0 &&
              rows_norm(t, 75, 77) == 0,
          "batch 2: B- and U-ANIMAL %g %g, I- and L-ANIMAL (unseen) %g", rows_norm(t, 74, 75),
          rows_norm(t, 77, 78), rows_norm(t, 75, 77));
    printf("add_label ANIMAL: 78 classes; batch 1 new rows' gradient 0; batch 2 %.3f\n",
           rows_norm(t, 74, 78));
    json_decref(docs2);
    json_decref(tags2);
    tr_free(t);
    json_decref(j);
}

/* ---- the oracle's costs on hand-made states ---- */

static const char *const ORC_NAMES[10] = {"B-PER", "B-LOC", "I-PER", "I-LOC", "L-PER",
                                          "L-LOC", "U-PER", "U-LOC", "U-", "O"};

static int orc_class(const char *name)
{
    for (int k = 0; k < 10; k++)
        if (!strcmp(ORC_NAMES[k], name))
            return k;
    return -1;
}

static void test_oracle(const ner_model *m, const char *path)
{
    tr_dims d = {.W = 6, .nH = 4, .depth = 1, .C = 10, .rows = {1, 1, 1, 1}};
    tr_trainer *t;
    CHECK(tr__new_dims(&d, NULL, &t) == 0, "tr__new_dims");
    t->base = m;
    t->labels[0] = strdup("PER");
    t->labels[1] = strdup("LOC");
    t->n_labels = 2;
    for (int k = 0; k < 10; k++) {
        const char *n = ORC_NAMES[k];
        t->classes[k] = (model_class){
            (int16_t)(n[0] == 'B' ? TR_BEGIN : n[0] == 'I' ? TR_IN : n[0] == 'L' ? TR_LAST
                      : n[0] == 'U' ? TR_UNIT : TR_OUT),
            (int16_t)(!strcmp(n + 2 - (n[1] == 0), "PER") ? 0 : !strcmp(n + 2 - (n[1] == 0), "LOC") ? 1 : -1)};
    }
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "open %s", path);
    if (!f) {
        tr_free(t);
        return;
    }
    char line[1024], tags[1024] = "", moves[1024] = "";
    int lineno = 0, cases = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        char *sp = strchr(line, ' ');
        CHECK(sp != NULL, "%s:%d: no value", path, lineno);
        if (!sp)
            continue;
        *sp++ = 0;
        if (!strcmp(line, "tags")) {
            snprintf(tags, sizeof tags, "%s", sp);
            snprintf(moves, sizeof moves, "-");
            continue;
        }
        if (!strcmp(line, "moves")) {
            snprintf(moves, sizeof moves, "%s", sp);
            continue;
        }
        /* the document */
        tr_gold gold[32];
        unsigned char space[32] = {0};
        int n = 0;
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", tags);
        for (char *tok = strtok(buf, " "); tok && n < 32; tok = strtok(NULL, " "), n++) {
            space[n] = tok[0] == '~';
            CHECK(tr__parse_tag(t, tok + space[n], &gold[n]) == 0, "%s:%d: tag %s", path,
                  lineno, tok);
        }
        tr_state st = {.off = 0, .n = n, .e0 = -1, .e0_label = -1};
        snprintf(buf, sizeof buf, "%s", moves);
        for (char *mv = strtok(buf, " "); mv; mv = strtok(NULL, " "))
            if (strcmp(mv, "-")) {
                int k = orc_class(mv);
                CHECK(k >= 0, "%s:%d: class %s", path, lineno, mv);
                if (k >= 0)
                    tr__apply(&st, t->classes[k]);
            }
        char got[1024] = "";
        if (!strcmp(line, "costs")) {
            for (int k = 0; k < 10; k++) {
                char c[16];
                if (tr__valid(&st, t->classes[k], space))
                    snprintf(c, sizeof c, "%d", tr__cost(&st, t->classes[k], gold));
                else
                    snprintf(c, sizeof c, "x");
                snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", k ? " " : "", c);
            }
        } else {
            CHECK(!strcmp(line, "oracle"), "%s:%d: unknown line %s", path, lineno, line);
            for (tr_state r = {.off = 0, .n = n, .e0 = -1, .e0_label = -1}; r.i < n;) {
                int k = tr__oracle(t, &r, gold, space);
                if (k < 0)
                    break;
                snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", r.i ? " " : "",
                         ORC_NAMES[k]);
                tr__apply(&r, t->classes[k]);
            }
        }
        CHECK(!strcmp(got, sp), "%s:%d: tags %s, moves %s: %s %s, want %s", path, lineno, tags,
              moves, line, got, sp);
        cases++;
    }
    fclose(f);
    CHECK(cases >= 20, "%s: %d cases", path, cases);
    printf("oracle: %d hand-made cases\n", cases);
    tr_free(t);
}

/* ---- writing, determinism, training from scratch, errors ---- */

static int same_section(const ner_model *a, const ner_model *b, uint32_t id)
{
    const unsigned char *pa, *pb;
    size_t la, lb;
    return !model__section(a, id, &pa, &la) && !model__section(b, id, &pb, &lb) && la == lb &&
           !memcmp(pa, pb, la);
}

/* The entities of text as "start-end:LABEL ..." */
static void ents_of(const ner_model *m, const char *text, char *out, size_t n)
{
    ner_ctx *c;
    ner_doc d;
    out[0] = 0;
    if (ner_ctx_new(m, &c))
        return;
    if (!ner_extract(c, text, strlen(text), &d))
        for (size_t i = 0; i < d.n_ents; i++)
            snprintf(out + strlen(out), n - strlen(out), "%s%u-%u:%s", i ? " " : "",
                     d.ents[i].start, d.ents[i].end, ner_model_label(m, d.ents[i].label));
    ner_ctx_free(c);
}

/* trains t on b for n updates with seed-driven dropout and cuts; returns the model bytes */
static void *train_bytes(tr_trainer *t, const batch *b, int n, float drop, float lr, size_t *len)
{
    for (int i = 0; i < n; i++) {
        tr_result r;
        int rc = tr_update(t, b->docs, b->n, drop, lr, &r);
        CHECK(rc == 0, "tr_update %d: %s", i, tr_strerror(rc));
    }
    void *buf = NULL;
    int rc = tr_export(t, &buf, len);
    CHECK(rc == 0, "tr_export: %s", tr_strerror(rc));
    return buf;
}

static void test_write(const ner_model *m, const char *batch_path)
{
    /* no update: the base's weights, classes and labels, byte for byte */
    tr_trainer *t;
    int rc = tr_new(m, NULL, NULL, NULL, 0, &t);
    CHECK(rc == 0, "tr_new: %s", tr_strerror(rc));
    void *buf;
    size_t len;
    rc = tr_export(t, &buf, &len);
    ner_model *w = NULL;
    CHECK(rc == 0 && ner_model_load_mem(buf, len, &w) == 0, "exported model loads");
    if (w) {
        CHECK(same_section(m, w, SEC_TENSORS) && same_section(m, w, SEC_CLASSES) &&
                  same_section(m, w, SEC_LABELS) && same_section(m, w, SEC_POOL) &&
                  !same_section(m, w, SEC_META),
              "written without an update: the base's sections");
        CHECK(strstr(ner_model_about(w), "fine-tuned by nerd from: en_core_web_sm") != NULL,
              "about: %s", ner_model_about(w));
    }
    ner_model_free(w);
    free(buf);
    tr_free(t);

    json_error_t je;
    json_t *j = json_load_file(batch_path, 0, &je);
    CHECK(j != NULL, "%s", batch_path);
    if (!j)
        return;
    batch b;
    batch_from_json(&b, json_object_get(j, "docs"), json_object_get(j, "tags"));
    /* the same seed, the same bytes; another seed, other bytes */
    tr_config cfg;
    tr_config_default(&cfg);
    cfg.seed = 7;
    void *out[3] = {NULL, NULL, NULL};
    size_t olen[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        cfg.seed = i < 2 ? 7 : 8;
        rc = tr_new(m, &cfg, NULL, NULL, 0, &t);
        CHECK(rc == 0, "tr_new seed %llu", (unsigned long long)cfg.seed);
        if (rc)
            continue;
        out[i] = train_bytes(t, &b, 3, 0.2f, 0, &olen[i]);
        if (i == 0) {
            char path[] = "/tmp/nerd_test_train_XXXXXX";
            int fd = mkstemp(path);
            CHECK(fd >= 0, "mkstemp");
            close(fd);
            CHECK(tr_write(t, path) == 0, "tr_write %s", path);
            ner_model *fm = NULL;
            rc = ner_model_load(path, &fm);
            CHECK(rc == 0, "the written file loads: %s", ner_strerror(rc));
            char ents[512];
            if (fm) {
                ents_of(fm, "Barack Obama visited Paris on Monday.", ents, sizeof ents);
                CHECK(ents[0] != 0, "the trained model extracts: '%s'", ents);
            }
            FILE *f = fopen(path, "rb");
            unsigned char *fb = malloc(olen[0] + 1);
            size_t got = f ? fread(fb, 1, olen[0] + 1, f) : 0;
            CHECK(got == olen[0] && out[0] && !memcmp(fb, out[0], got),
                  "the file is tr_export's bytes");
            if (f)
                fclose(f);
            free(fb);
            ner_model_free(fm);
            unlink(path);
            CHECK(tr_write(t, "/nonexistent-dir/x.nerd") == TR_EIO, "tr_write: no dir");
        }
        tr_free(t);
    }
    CHECK(olen[0] == olen[1] && out[0] && out[1] && !memcmp(out[0], out[1], olen[0]),
          "the same seed gives the same bytes");
    CHECK(olen[0] == olen[2] && out[2] && memcmp(out[0], out[2], olen[0]) != 0,
          "another seed gives other bytes");
    for (int i = 0; i < 3; i++)
        free(out[i]);
    json_decref(j);
}

static void test_scratch(const ner_model *m, const char *tiny_path)
{
    const char *labels[2] = {"LOC", "PER"};
    uint64_t freqs[2] = {3, 5};
    tr_config cfg;
    tr_config_default(&cfg);
    cfg.from_scratch = 1;
    cfg.seed = 3;
    tr_trainer *t;
    int rc = tr_new(m, &cfg, labels, freqs, 2, &t);
    CHECK(rc == 0, "tr_new scratch: %s", tr_strerror(rc));
    if (rc)
        return;
    /* spaCy's class order: by frequency (PER 5, LOC 3), U- after them */
    char order[256] = "";
    for (int k = 0; k < t->d.C; k++) {
        char nm[40];
        class_name(t, k, nm, sizeof nm);
        snprintf(order + strlen(order), sizeof order - strlen(order), "%s%s", k ? " " : "", nm);
    }
    CHECK(!strcmp(order, "B-PER B-LOC I-PER I-LOC L-PER L-LOC U-PER U-LOC U- O"),
          "scratch classes: %s", order);
    CHECK(t->n_labels == 2 && !strcmp(t->labels[0], "PER"), "scratch labels");
    /* learns a small batch */
    json_error_t je;
    json_t *j = json_load_file(tiny_path, 0, &je);
    batch b;
    batch_from_json(&b, json_object_get(j, "docs"), json_object_get(j, "tags"));
    size_t len;
    tr_result r0, r1;
    CHECK(tr_update(t, b.docs, b.n, 0, 0.01f, &r0) == 0, "first update");
    void *buf = train_bytes(t, &b, 40, 0, 0.01f, &len);
    CHECK(tr_update(t, b.docs, b.n, 0, 0.01f, &r1) == 0 && r1.loss < 0.1 * r0.loss,
          "the loss falls: %.3f -> %.3f", r0.loss, r1.loss);
    ner_model *w = NULL;
    CHECK(buf && ner_model_load_mem(buf, len, &w) == 0, "scratch model loads");
    if (w) {
        char ents[512];
        ents_of(w, "Ann Lee flew to New York City from Rome .", ents, sizeof ents);
        CHECK(!strcmp(ents, "0-7:PER 16-29:LOC 35-39:LOC"), "trained from scratch: '%s'", ents);
        CHECK(strstr(ner_model_about(w), "trained from scratch by nerd") != NULL, "about");
    }
    printf("from scratch: loss %.2f -> %.4f after 42 updates\n", r0.loss, r1.loss);
    ner_model_free(w);
    free(buf);
    tr_free(t);
    json_decref(j);
}

static void test_errors(const ner_model *m)
{
    tr_trainer *t = NULL;
    const char *dup[2] = {"X", "X"}, *bang[1] = {"!X"}, *empty[1] = {""}, *two[2] = {"A", "B"};
    const char *many[20] = {"A", "B", "C", "D", "E", "F", "G", "H", "I", "J",
                            "K", "L", "M", "N", "O2", "P", "Q", "R", "S", "T"};
    tr_config sc;
    tr_config_default(&sc);
    sc.from_scratch = 1;
    CHECK(tr_new(NULL, NULL, NULL, NULL, 0, &t) == TR_EINVAL && !t, "NULL base");
    CHECK(tr_new(m, NULL, NULL, NULL, 0, NULL) == TR_EINVAL, "NULL out");
    CHECK(tr_new(m, NULL, dup, NULL, 2, &t) == TR_EINVAL, "duplicate labels");
    CHECK(tr_new(m, NULL, bang, NULL, 1, &t) == TR_EINVAL, "label !X");
    CHECK(tr_new(m, NULL, empty, NULL, 1, &t) == TR_EINVAL, "empty label");
    CHECK(tr_new(m, &sc, NULL, NULL, 0, &t) == TR_EINVAL, "scratch without labels");
    CHECK(tr_new(m, &sc, many, NULL, 20, &t) == TR_ELABELS, "scratch, 20 labels: 82 classes");
    CHECK(tr_new(m, &sc, many, NULL, 19, &t) == TR_OK && t && t->d.C == 78, "scratch, 19 labels");
    tr_free(t);
    CHECK(tr_new(m, NULL, two, NULL, 2, &t) == TR_ELABELS, "fine-tuning, 2 new labels: 82");
    CHECK(tr_new(m, NULL, two, NULL, 1, &t) == TR_OK && t, "fine-tuning, 1 new label");
    tr_free(NULL);
    if (!t)
        return;
    tr_token tk[3] = {{"Ann", 3, NULL, 0}, {" ", 1, NULL, 0}, {"Lee", 3, NULL, 0}};
    const char *tags[3] = {"U-PERSON", "O", "U-PERSON"};
    tr_doc doc = {tk, 3, tags, NULL};
    tr_result r;
    struct { const char *tag; int tok; int rc; } bad[] = {
        {"X-PERSON", 0, TR_ETAG}, {"B-", 2, TR_ETAG}, {"B-FOO", 2, TR_ELABEL},
        {"U-!", 0, TR_ETAG}, {"U-PERSON", 1, TR_EORACLE}};
    float *before = malloc(sizeof(float) * t->np);
    memcpy(before, t->p, sizeof(float) * t->np);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *tg[3] = {"U-PERSON", "O", "U-PERSON"};
        tg[bad[i].tok] = bad[i].tag;
        tr_doc dd = {tk, 3, tg, NULL};
        int rc = tr_update(t, &dd, 1, 0, 0, &r);
        CHECK(rc == bad[i].rc && r.bad_doc == 0 &&
                  (rc == TR_EORACLE || r.bad_token == (size_t)bad[i].tok),
              "tag %s on token %d: %s (token %zu)", bad[i].tag, bad[i].tok, tr_strerror(rc),
              r.bad_token);
    }
    CHECK(!memcmp(before, t->p, sizeof(float) * t->np), "a failed update changes nothing");
    free(before);
    CHECK(tr_update(t, NULL, 1, 0, 0, &r) == TR_EINVAL, "NULL docs");
    CHECK(tr_update(t, &doc, 0, 0, 0, &r) == TR_EINVAL, "no docs");
    CHECK(tr_update(t, &doc, 1, 1.0f, 0, &r) == TR_EINVAL, "drop 1");
    CHECK(tr_update(t, &doc, 1, -0.1f, 0, &r) == TR_EINVAL, "drop < 0");
    tr_token bad_utf8[1] = {{"\xff", 1, NULL, 0}}, empty_tok[1] = {{"", 0, NULL, 0}};
    tr_doc d1 = {bad_utf8, 1, NULL, NULL}, d2 = {empty_tok, 1, NULL, NULL};
    CHECK(tr_update(t, &d1, 1, 0, 0, &r) == TR_EINVAL, "invalid UTF-8 token");
    CHECK(tr_update(t, &d2, 1, 0, 0, &r) == TR_EINVAL, "empty token");
    tr_token *big = malloc(sizeof *big * (TR_MAX_TOKENS + 1));
    for (int i = 0; i <= TR_MAX_TOKENS; i++)
        big[i] = (tr_token){"a", 1, NULL, 0};
    tr_doc d3 = {big, TR_MAX_TOKENS + 1, NULL, NULL};
    CHECK(tr_update(t, &d3, 1, 0, 0, &r) == TR_EBIG, "a batch over TR_MAX_TOKENS");
    free(big);
    tr_doc d4 = {tk, 3, NULL, NULL};
    before = malloc(sizeof(float) * t->np);
    memcpy(before, t->p, sizeof(float) * t->np);
    CHECK(tr_update(t, &d4, 1, 0.5f, 0, &r) == TR_OK && r.states == 0 && r.tokens == 3 &&
              !memcmp(before, t->p, sizeof(float) * t->np),
          "no annotation: no states, no step");
    free(before);
    CHECK(tr_export(NULL, NULL, NULL) == TR_EINVAL && tr_write(t, NULL) == TR_EINVAL,
          "NULL export/write");
    CHECK(!strcmp(tr_strerror(TR_EORACLE), tr_strerror(TR_EORACLE)) &&
              strcmp(tr_strerror(-1), "unknown error") == 0 && tr_strerror(TR_EIO)[0],
          "tr_strerror");
    /* tr_tokenize: ner_tokenize's tokens, with special cases' NORMs */
    static const char text[] = "We're gonna visit New York, aren't we?";
    tr_token tt[32];
    size_t nt = 0;
    CHECK(tr_tokenize(t, text, strlen(text), tt, 32, &nt) == 0 && nt > 5, "tr_tokenize");
    ner_ctx *cx;
    ner_doc nd;
    if (!ner_ctx_new(m, &cx) && !ner_tokenize(cx, text, strlen(text), &nd)) {
        int same = nd.n_tokens == nt;
        for (size_t i = 0; same && i < nt; i++)
            same = tt[i].text == text + nd.tokens[i].byte_start &&
                   tt[i].len == nd.tokens[i].byte_end - nd.tokens[i].byte_start;
        CHECK(same, "tr_tokenize: ner_tokenize's %zu tokens (%zu)", nd.n_tokens, nt);
        ner_ctx_free(cx);
    }
    int gon = 0;
    for (size_t i = 0; i < nt; i++)
        if (tt[i].len == 3 && !memcmp(tt[i].text, "gon", 3))
            gon = tt[i].norm && tt[i].norm_len == 5 && !memcmp(tt[i].norm, "going", 5);
    CHECK(gon, "tr_tokenize: gon has NORM going");
    size_t n2 = 0;
    CHECK(tr_tokenize(t, text, strlen(text), tt, 2, &n2) == 0 && n2 == nt, "short room: the count");
    CHECK(tr_tokenize(t, "\xff", 1, tt, 32, &n2) == TR_EINVAL && n2 == 0, "tr_tokenize: bad UTF-8");
    tr_free(t);
    /* a trainer of other sizes cannot write the engine's format */
    tr_dims d = {.W = 6, .nH = 4, .depth = 1, .C = 10, .rows = {1, 1, 1, 1}};
    CHECK(tr__new_dims(&d, NULL, &t) == 0, "tiny");
    t->base = m;
    void *buf;
    size_t len;
    CHECK(tr_export(t, &buf, &len) == TR_EMODEL, "tiny sizes: TR_EMODEL");
    tr_free(t);
}

int main(void)
{
    ner_model *m = NULL;
    ner_ctx *c = NULL;
    check_model_ctx(&m, &c);
    if (!m)
        return check_done("test_train");
    test_tiny(m, "tests/data/trainer/tiny.json");
    test_real(m, "tests/data/trainer/sm225_batch.json");
    test_oracle(m, "tests/data/trainer/oracle.cases");
    test_write(m, "tests/data/trainer/sm225_batch.json");
    test_scratch(m, "tests/data/trainer/tiny.json");
    test_errors(m);
    ner_ctx_free(c);
    ner_model_free(m);
    return check_done("test_train");
}
