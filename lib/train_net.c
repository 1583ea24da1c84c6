/*
 * One batch's gradients (what spaCy v2.2's Parser.update computes for the
 * NER): the batch is laid out (its buffers in one arena), flattened into
 * rows (depth padding rows before, between and after the documents, all
 * feature IDs 0) and the distinct ORTHs found (thinc's "uniqued": their
 * embedding rows hashed once); then tok2vec forward (train_tok2vec.c), the
 * parser's per-token precomputation, its transition steps
 * (train_parser.c), and backpropagation through every layer into t->g
 * (sums over the batch, as spaCy's).  The big products run on nn_gemm's
 * kernels with the weights packed once per batch.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "train_int.h"
#include "unicode.h"

void *tr__take(tr_carve *c, size_t n, size_t size)
{
    size_t o = (c->off + 63) & ~(size_t)63;
    c->off = o + n * size;
    return c->base ? c->base + o : NULL;
}

static size_t max_z(size_t a, size_t b) { return a > b ? a : b; }

/* Network buffers for N tokens in R rows (U <= R distinct ORTHs). */
static void carve_net(tr_work *w, const tr_dims *d, tr_carve *c, int drop)
{
    size_t W = (size_t)d->W, R = (size_t)w->R, U = R, N = (size_t)w->N,
           L = (size_t)d->depth, F = (size_t)TR_NF * TR_HP * d->nH;
    w->offs = tr__take(c, (size_t)w->nd + 1, sizeof(int));
    w->row_of = tr__take(c, N, sizeof(int));
    w->inv = tr__take(c, R, sizeof(int));
    w->orth = tr__take(c, R, sizeof(uint64_t));
    w->gold = tr__take(c, N, sizeof(tr_gold));
    w->space = tr__take(c, N, 1);
    w->keys = tr__take(c, U * 16, sizeof(uint32_t));
    w->chunks = tr__take(c, N + (size_t)w->nd + 1, sizeof(tr_state));
    w->X0 = tr__take(c, U * 4 * W, sizeof(float));
    w->T = tr__take(c, R * 3 * W, sizeof(float));
    w->mix_y = tr__take(c, U * W, sizeof(float));
    w->mix_wh = tr__take(c, U * W, 1);
    w->mix_xh = tr__take(c, U * W, sizeof(float));
    w->mix_rs = tr__take(c, U, sizeof(float));
    w->mk_emb = drop ? tr__take(c, 4 * W, sizeof(float)) : NULL;
    w->mk_mix = drop ? tr__take(c, U * W, sizeof(float)) : NULL;
    w->Xb = tr__take(c, (L + 1) * (R + 2) * W, sizeof(float));
    w->wh = tr__take(c, L * R * W, 1);
    w->xh = tr__take(c, L * R * W, sizeof(float));
    w->rs = tr__take(c, L * R, sizeof(float));
    w->mk = drop ? tr__take(c, L * R * W, sizeof(float)) : NULL;
    w->tok = tr__take(c, N * W, sizeof(float));
    w->Yf = tr__take(c, N * F, sizeof(float));
    w->dX = tr__take(c, (R + 2) * W, sizeof(float));
    w->dwin = tr__take(c, max_z(R * 3 * W, U * 4 * W), sizeof(float));
    w->dU = tr__take(c, U * W, sizeof(float));
    w->tmp = tr__take(c, w->tmp_len, sizeof(float));
}

int tr__arena_fit(void **arena, size_t *cap, size_t need)
{
    if (need <= *cap)
        return TR_OK;
    free(*arena);
    *cap = 0;
    *arena = aligned_alloc(64, (need + need / 4 + 63) & ~(size_t)63);
    if (!*arena)
        return TR_ENOMEM;
    *cap = need + need / 4;
    return TR_OK;
}

void tr__work_free(tr_work *w)
{
    if (!w)
        return;
    free(w->arena);
    free(w->parena);
    free(w->packs);
    free(w->fscratch);
    free(w);
}

/* The packed weights (forward and transposed) and the GEMM scratch size:
 * fixed for a trainer. */
static int packs_init(tr_trainer *t, tr_work *w)
{
    const tr_dims *d = &t->d;
    int W = d->W, F = TR_NF * TR_HP * d->nH;
    struct { int K, N; } fw[2 + TR_MAXDEPTH + 2];
    int n = 0;
    fw[n].K = 4 * W, fw[n++].N = 3 * W;
    for (int k = 0; k < d->depth; k++)
        fw[n].K = 3 * W, fw[n++].N = 3 * W;
    fw[n].K = W, fw[n++].N = F;
    fw[n].K = d->nH, fw[n++].N = d->C;
    size_t total = 0, tmp = 0;
    for (int i = 0; i < n; i++) {
        total += nn_pack_floats(fw[i].K, fw[i].N) + nn_pack_floats(fw[i].N, fw[i].K) + 32;
        tmp = max_z(tmp, nn_gemm_tn_floats(fw[i].K, fw[i].N));
        tmp = max_z(tmp, nn_gemm_ex_floats(fw[i].N));
        tmp = max_z(tmp, nn_gemm_ex_floats(fw[i].K));
    }
    w->tmp_len = tmp;
    w->packs = aligned_alloc(64, total * sizeof(float));
    if (!w->packs)
        return TR_ENOMEM;
    tr_carve c = {w->packs, 0};
    float **pk[2 + TR_MAXDEPTH + 2], **pt[2 + TR_MAXDEPTH + 2];
    n = 0;
    pk[n] = &w->pk_mix, pt[n++] = &w->pt_mix;
    for (int k = 0; k < d->depth; k++)
        pk[n] = &w->pk_cnn[k], pt[n++] = &w->pt_cnn[k];
    pk[n] = &w->pk_low, pt[n++] = &w->pt_low;
    pk[n] = &w->pk_up, pt[n++] = &w->pt_up;
    for (int i = 0; i < n; i++) {
        *pk[i] = tr__take(&c, nn_pack_floats(fw[i].K, fw[i].N), sizeof(float));
        *pt[i] = tr__take(&c, nn_pack_floats(fw[i].N, fw[i].K), sizeof(float));
    }
    return TR_OK;
}

/* The weights packed for this batch's products (forward and transposed),
 * one matrix per job, spread over the threads. */
typedef struct pack_job {
    const float *B;
    size_t ldb;
    int trans, K, N;
    float *out;
} pack_job;

static void pack_part(void *arg, int part, int nparts)
{
    tr_trainer *t = arg;
    tr_work *w = t->w;
    const tr_dims *d = &t->d;
    int W = d->W, F = TR_NF * TR_HP * d->nH, n = 0;
    pack_job m[2 * TR_MAXDEPTH + 6];
    m[n++] = (pack_job){t->P.mix_w, (size_t)3 * W, 0, 4 * W, 3 * W, w->pk_mix};
    m[n++] = (pack_job){t->P.mix_w, (size_t)3 * W, 1, 3 * W, 4 * W, w->pt_mix};
    for (int k = 0; k < d->depth; k++) {
        m[n++] = (pack_job){t->P.cnn_w[k], (size_t)3 * W, 0, 3 * W, 3 * W, w->pk_cnn[k]};
        m[n++] = (pack_job){t->P.cnn_w[k], (size_t)3 * W, 1, 3 * W, 3 * W, w->pt_cnn[k]};
    }
    m[n++] = (pack_job){t->P.low_w, (size_t)F, 0, W, F, w->pk_low};
    m[n++] = (pack_job){t->P.low_w, (size_t)F, 1, F, W, w->pt_low};
    m[n++] = (pack_job){t->P.up_w, (size_t)d->C, 0, d->nH, d->C, w->pk_up};
    m[n++] = (pack_job){t->P.up_w, (size_t)d->C, 1, d->C, d->nH, w->pt_up};
    for (int i = part; i < n; i += nparts)
        nn_pack(m[i].B, m[i].ldb, m[i].trans, m[i].K, m[i].N, m[i].out);
}

static void pack_weights(tr_trainer *t) { tr__pool_run(t->pool, pack_part, t); }

/* ---- batch input ---- */

static int is_space(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        int l = uni_decode(s + i, n - i, &cp);
        if (l <= 0 || !uni_isspace(cp))
            return 0;
        i += (size_t)l;
    }
    return n > 0;
}

typedef struct orow {
    uint64_t orth;
    int row;
} orow;

static int orow_cmp(const void *a, const void *b)
{
    const orow *x = a, *y = b;
    if (x->orth != y->orth)
        return x->orth < y->orth ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* Counts, checks and lays out the batch; fills offs, gold, space. */
static int batch_prepare(tr_trainer *t, const tr_doc *docs, size_t nd, int drop,
                         tr_result *res)
{
    tr_work *w = t->w;
    size_t N = 0;
    for (size_t i = 0; i < nd; i++) {
        if (docs[i].n && !docs[i].tokens)
            return TR_EINVAL;
        for (size_t k = 0; k < docs[i].n; k++) {
            const tr_token *tk = &docs[i].tokens[k];
            res->bad_doc = i;
            res->bad_token = k;
            if (tk->len > TR_MAX_TOKEN_BYTES || tk->norm_len > TR_MAX_TOKEN_BYTES)
                return TR_EBIG;
            if (!tk->text || !tk->len || !uni_valid(tk->text, tk->len) ||
                (tk->norm && !uni_valid(tk->norm, tk->norm_len)))
                return TR_EINVAL;
        }
        N += docs[i].n;
        if (N > TR_MAX_TOKENS)
            return TR_EBIG;
    }
    w->nd = (int)nd;
    w->N = (int)N;
    w->R = t->d.depth * ((int)nd + 1) + (int)N;
    tr_carve c = {NULL, 0};
    carve_net(w, &t->d, &c, drop);
    if (tr__arena_fit(&w->arena, &w->arena_cap, c.off))
        return TR_ENOMEM;
    c = (tr_carve){w->arena, 0};
    carve_net(w, &t->d, &c, drop);
    int n = 0;
    for (size_t i = 0; i < nd; i++) {
        w->offs[i] = n;
        for (size_t k = 0; k < docs[i].n; k++, n++) {
            const tr_token *tk = &docs[i].tokens[k];
            w->space[n] = (unsigned char)is_space(tk->text, tk->len);
            int rc = docs[i].gold ? tr__gold_tag(t, docs[i].gold[k], &w->gold[n])
                                  : tr__parse_tag(t, docs[i].tags ? docs[i].tags[k] : NULL,
                                                  &w->gold[n]);
            if (rc) {
                res->bad_doc = i;
                res->bad_token = k;
                return rc;
            }
        }
    }
    w->offs[nd] = n;
    return TR_OK;
}

/* Rows, distinct ORTHs (ascending) and their hashed embedding rows. */
static int batch_features(tr_trainer *t, const tr_doc *docs, size_t nd)
{
    tr_work *w = t->w;
    const ner_model *m = t->base;
    int pad = t->d.depth, r = 0, n = 0;
    const tr_token **tok_of_row = (const tr_token **)(void *)w->dwin; /* scratch */
    orow *o = (orow *)(void *)w->T;                                   /* scratch */
    for (size_t i = 0; i <= nd; i++) {
        for (int k = 0; k < pad; k++, r++)
            w->orth[r] = 0, tok_of_row[r] = NULL;
        if (i == nd)
            break;
        for (size_t k = 0; k < docs[i].n; k++, r++, n++) {
            const tr_token *tk = &docs[i].tokens[k];
            w->orth[r] = feat_string_id(m, tk->text, tk->len);
            tok_of_row[r] = tk;
            w->row_of[n] = r;
        }
    }
    for (r = 0; r < w->R; r++)
        o[r].orth = w->orth[r], o[r].row = r;
    qsort(o, (size_t)w->R, sizeof *o, orow_cmp);
    int U = 0;
    for (r = 0; r < w->R; r++) {
        if (r == 0 || o[r].orth != o[r - 1].orth) {
            /* the first occurrence gives the features (spaCy: np.unique) */
            const tr_token *tk = tok_of_row[o[r].row];
            uint64_t ids[4] = {0, 0, 0, 0};
            if (tk) {
                size_t need = 3 * tk->len + 512;
                if (need > w->fscratch_cap) {
                    char *p = realloc(w->fscratch, need);
                    if (!p)
                        return TR_ENOMEM;
                    w->fscratch = p;
                    w->fscratch_cap = need;
                }
                feat_ids(m, tk->text, tk->len, tk->norm, tk->norm_len, w->fscratch, ids);
            }
            for (int f = 0; f < 4; f++) {
                unsigned char key[8];
                for (int b = 0; b < 8; b++)
                    key[b] = (unsigned char)(ids[f] >> (8 * b));
                uint32_t *k4 = w->keys + (size_t)U * 16 + f * 4;
                hash_murmur3_128(key, 8, t->d.seeds[f], k4);
                for (int j = 0; j < 4; j++)
                    k4[j] %= t->d.rows[f];
            }
            U++;
        }
        w->inv[o[r].row] = U - 1;
    }
    w->U = U;
    return TR_OK;
}

/* The trainer's batch buffers, made on first use. */
static int work_get(tr_trainer *t)
{
    if (t->w)
        return TR_OK;
    t->w = calloc(1, sizeof *t->w);
    if (!t->w)
        return TR_ENOMEM;
    int rc = packs_init(t, t->w);
    if (!rc)
        rc = tr__pool_tmp(t->pool, t->w->tmp_len);
    if (rc) {
        tr__work_free(t->w);
        t->w = NULL;
    }
    return rc;
}

int tr_check(tr_trainer *t, const tr_doc *doc, tr_result *out)
{
    tr_result r;
    if (!out)
        out = &r;
    memset(out, 0, sizeof *out);
    if (!t || !doc)
        return TR_EINVAL;
    int rc = work_get(t);
    if (rc || (rc = batch_prepare(t, doc, 1, 0, out)))
        return rc;
    out->bad_doc = out->bad_token = 0;
    out->tokens = (size_t)t->w->N;
    int max_steps = 0;
    if (tr__chunks(t, t->w->offs, 1, t->w->gold, t->w->space, 0, t->w->chunks, &max_steps) < 0)
        return TR_EORACLE;
    return TR_OK;
}

int tr__grad(tr_trainer *t, const tr_doc *docs, size_t nd, float drop, tr_result *res)
{
    int rc;
    if (!t || (nd && !docs) || !(drop >= 0 && drop < 1))
        return TR_EINVAL;
    memset(res, 0, sizeof *res);
    if ((rc = work_get(t)))
        return rc;
    tr_work *w = t->w;
    if ((rc = batch_prepare(t, docs, nd, drop > 0, res)))
        return rc;
    res->bad_doc = res->bad_token = 0;
    res->tokens = (size_t)w->N;
    int any = 0;
    for (int i = 0; i < w->N && !any; i++)
        any = w->gold[i].move != TR_MISSING;
    if (!any) /* spaCy's Parser.update returns at once: nothing to learn */
        return TR_OK;
    int cut = t->fixed_cut >= 0 ? t->fixed_cut : 20 + (int)(tr__uniform(t) * 80);
    if (cut > 99)
        cut = 99;
    int max_steps = 0;
    tr_state *st = w->chunks; /* at most one per 5 tokens, plus one per document */
    int ns = tr__chunks(t, w->offs, w->nd, w->gold, w->space, cut, st, &max_steps);
    if (ns < 0) {
        res->bad_doc = (size_t)(-1 - ns);
        return TR_EORACLE;
    }
    if ((rc = tr__parse_alloc(t, st, ns, max_steps)))
        return rc;
    if ((rc = batch_features(t, docs, nd)))
        return rc;
    pack_weights(t);
    tr__tok2vec_forward(t, drop);
    int F = TR_NF * TR_HP * t->d.nH;
    tr__gemm_ex(t, w->tok, (size_t)t->d.W, w->N, w->pk_low, t->d.W, F, w->Yf, (size_t)F, 0);
    tr__parse(t, ns, max_steps, drop, res);
    /* the parser's gradient -> lower layer -> token vectors */
    w->dYf = w->Yf; /* the steps are done with Yf */
    memset(w->dYf, 0, sizeof(float) * (size_t)w->N * F);
    tr__parse_back(t);
    tr__gemm_tn(t, w->tok, (size_t)t->d.W, w->N, t->d.W, w->dYf, (size_t)F, F,
                t->G.low_w, (size_t)F);
    tr__gemm_ex(t, w->dYf, (size_t)F, w->N, w->pt_low, F, t->d.W, w->tok, (size_t)t->d.W, 0);
    tr__tok2vec_backward(t, w->tok);
    return TR_OK;
}
