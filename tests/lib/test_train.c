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
 *   numeric tags giving the same gradient as tag strings.
 * The rest (oracle cases, model files, scratch, errors) is test_trainer.c. */
#define _DEFAULT_SOURCE
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "check_model.h"
#include "model.h"
#include "nerd/train.h"
#include "check_train.h"
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

int main(void)
{
    ner_model *m = NULL;
    ner_ctx *c = NULL;
    check_model_ctx(&m, &c);
    if (!m)
        return check_done("test_train");
    test_tiny(m, "tests/data/trainer/tiny.json");
    test_real(m, "tests/data/trainer/sm225_batch.json");
    ner_ctx_free(c);
    ner_model_free(m);
    return check_done("test_train");
}
