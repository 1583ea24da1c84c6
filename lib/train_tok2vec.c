/*
 * tok2vec in training, forward and backward, on the batch t->w laid out:
 * the four HashEmbed tables (one dropout mask per table per batch) summed
 * per distinct ORTH, the mix layer (maxout over 3 pieces, LayerNorm,
 * dropout per distinct ORTH), copied to the rows, then each residual CNN
 * layer (window of 3 rows, maxout, LayerNorm, dropout, added to its
 * input).  Backward runs the same in reverse, summing the rows' gradients
 * per distinct ORTH and scattering the embedding gradient into the rows
 * the keys hit (sparse).  The row loops are compiled twice, portable and
 * AVX2 (the maxout/LayerNorm rows with intrinsics, the rest vectorized by
 * the compiler: loops over n & ~7 first), chosen at run time as nn.c is.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "train_int.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TR_X86 1
#endif

#define AI static inline __attribute__((always_inline))

/* for (i < n) body, the first n & ~7 iterations in a loop of their own */
#define VLOOP(n, body)                                                    \
    do {                                                                  \
        size_t n8_ = (n) & ~(size_t)7, i;                                 \
        for (i = 0; i < n8_; i++) {                                       \
            body;                                                         \
        }                                                                 \
        for (; i < (n); i++) {                                            \
            body;                                                         \
        }                                                                 \
    } while (0)

/* ---- maxout (3 pieces) + LayerNorm, one row ---- */

/* Maxout over 3 pieces (piece p of unit o at p*W + o; the first maximum
 * wins) of t + b, then thinc 7's LayerNorm (population variance + 1e-8
 * under the root): y = xh*g + beta.  Keeps the winners, xh and 1/sigma. */
static void maxout_ln_ref(int W, const float *t, const float *b, const float *g,
                          const float *beta, unsigned char *wh, float *xh, float *rs, float *y)
{
    double s = 0, s2 = 0;
    for (int o = 0; o < W; o++) {
        float v = t[o] + b[o], v1 = t[W + o] + b[W + o], v2 = t[2 * W + o] + b[2 * W + o];
        unsigned char k = 0;
        if (v1 > v)
            v = v1, k = 1;
        if (v2 > v)
            v = v2, k = 2;
        xh[o] = v;
        wh[o] = k;
        s += v;
    }
    float mu = (float)(s / W);
    for (int o = 0; o < W; o++) {
        float c = xh[o] - mu;
        s2 += (double)c * c;
    }
    float r = (float)(1.0 / sqrt(s2 / W + 1e-8));
    *rs = r;
    for (int o = 0; o < W; o++) {
        xh[o] = (xh[o] - mu) * r;
        y[o] = xh[o] * g[o] + beta[o];
    }
}

/* Backward of maxout_ln for one row: dy in, dg and dbeta accumulated,
 * dP (3W, the pieces) written. */
static void maxout_ln_back_ref(int W, const float *dy, const float *g, const unsigned char *wh,
                               const float *xh, float rs, float *dg, float *dbeta, float *dP)
{
    double sq = 0, sqx = 0;
    for (int o = 0; o < W; o++) {
        float q = dy[o] * g[o];
        dg[o] += dy[o] * xh[o];
        dbeta[o] += dy[o];
        sq += q;
        sqx += (double)q * xh[o];
    }
    memset(dP, 0, sizeof(float) * 3 * (size_t)W);
    float a = (float)(sq / W), bx = (float)(sqx / W);
    for (int o = 0; o < W; o++)
        dP[wh[o] * W + o] = rs * (dy[o] * g[o] - a - xh[o] * bx);
}

#ifdef TR_X86
__attribute__((target("avx2,fma"))) static float hsum(__m256 v)
{
    float l[8];
    _mm256_storeu_ps(l, v);
    return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
}

/* maxout_ln_ref for W % 8 == 0, sums in eight float lanes */
__attribute__((target("avx2,fma"))) static void
maxout_ln_avx2(int W, const float *t, const float *b, const float *g, const float *beta,
               unsigned char *wh, float *xh, float *rs, float *y)
{
    __m256 acc = _mm256_setzero_ps();
    for (int o = 0; o < W; o += 8) {
        __m256 v0 = _mm256_add_ps(_mm256_loadu_ps(t + o), _mm256_loadu_ps(b + o));
        __m256 v1 = _mm256_add_ps(_mm256_loadu_ps(t + W + o), _mm256_loadu_ps(b + W + o));
        __m256 v2 = _mm256_add_ps(_mm256_loadu_ps(t + 2 * W + o), _mm256_loadu_ps(b + 2 * W + o));
        __m256 c1 = _mm256_cmp_ps(v1, v0, _CMP_GT_OQ);
        __m256 m = _mm256_blendv_ps(v0, v1, c1);
        __m256 c2 = _mm256_cmp_ps(v2, m, _CMP_GT_OQ);
        m = _mm256_blendv_ps(m, v2, c2);
        unsigned b1 = (unsigned)_mm256_movemask_ps(c1), b2 = (unsigned)_mm256_movemask_ps(c2);
        for (int l = 0; l < 8; l++)
            wh[o + l] = (unsigned char)(b2 >> l & 1 ? 2 : b1 >> l & 1);
        _mm256_storeu_ps(xh + o, m);
        acc = _mm256_add_ps(acc, m);
    }
    __m256 mu = _mm256_set1_ps(hsum(acc) / (float)W), acc2 = _mm256_setzero_ps();
    for (int o = 0; o < W; o += 8) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(xh + o), mu);
        acc2 = _mm256_fmadd_ps(d, d, acc2);
    }
    float r = 1.0f / sqrtf(hsum(acc2) / (float)W + 1e-8f);
    __m256 vr = _mm256_set1_ps(r);
    *rs = r;
    for (int o = 0; o < W; o += 8) {
        __m256 x = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xh + o), mu), vr);
        _mm256_storeu_ps(xh + o, x);
        _mm256_storeu_ps(y + o, _mm256_fmadd_ps(x, _mm256_loadu_ps(g + o),
                                                _mm256_loadu_ps(beta + o)));
    }
}

/* maxout_ln_back_ref for W % 8 == 0 */
__attribute__((target("avx2,fma"))) static void
maxout_ln_back_avx2(int W, const float *dy, const float *g, const unsigned char *wh,
                    const float *xh, float rs, float *dg, float *dbeta, float *dP)
{
    __m256 sq = _mm256_setzero_ps(), sqx = sq;
    for (int o = 0; o < W; o += 8) {
        __m256 d = _mm256_loadu_ps(dy + o), x = _mm256_loadu_ps(xh + o);
        __m256 q = _mm256_mul_ps(d, _mm256_loadu_ps(g + o));
        _mm256_storeu_ps(dg + o, _mm256_fmadd_ps(d, x, _mm256_loadu_ps(dg + o)));
        _mm256_storeu_ps(dbeta + o, _mm256_add_ps(d, _mm256_loadu_ps(dbeta + o)));
        sq = _mm256_add_ps(sq, q);
        sqx = _mm256_fmadd_ps(q, x, sqx);
    }
    __m256 a = _mm256_set1_ps(hsum(sq) / (float)W), bx = _mm256_set1_ps(hsum(sqx) / (float)W),
           vr = _mm256_set1_ps(rs);
    for (int o = 0; o < W; o += 8) {
        __m256 q = _mm256_mul_ps(_mm256_loadu_ps(dy + o), _mm256_loadu_ps(g + o));
        __m256 dz = _mm256_mul_ps(
            vr, _mm256_sub_ps(_mm256_sub_ps(q, a), _mm256_mul_ps(_mm256_loadu_ps(xh + o), bx)));
        long long w8;
        memcpy(&w8, wh + o, 8);
        __m256i k = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(w8));
        for (int p = 0; p < 3; p++) {
            __m256 sel = _mm256_castsi256_ps(_mm256_cmpeq_epi32(k, _mm256_set1_epi32(p)));
            _mm256_storeu_ps(dP + p * W + o, _mm256_and_ps(sel, dz));
        }
    }
}
#endif

/* ---- the passes ---- */

AI void maxout_ln(int avx2, int W, const float *t, const float *b, const float *g,
                  const float *beta, unsigned char *wh, float *xh, float *rs, float *y)
{
#ifdef TR_X86
    if (avx2) {
        maxout_ln_avx2(W, t, b, g, beta, wh, xh, rs, y);
        return;
    }
#endif
    (void)avx2;
    maxout_ln_ref(W, t, b, g, beta, wh, xh, rs, y);
}

AI void maxout_ln_back(int avx2, int W, const float *dy, const float *g,
                       const unsigned char *wh, const float *xh, float rs, float *dg,
                       float *dbeta, float *dP)
{
#ifdef TR_X86
    if (avx2) {
        maxout_ln_back_avx2(W, dy, g, wh, xh, rs, dg, dbeta, dP);
        return;
    }
#endif
    (void)avx2;
    maxout_ln_back_ref(W, dy, g, wh, xh, rs, dg, dbeta, dP);
}

AI void forward_body(tr_trainer *t, float drop, int avx2)
{
    tr_work *w = t->w;
    const tr_dims *d = &t->d;
    const tr_tensors *P = &t->P;
    size_t W = (size_t)d->W, R = (size_t)w->R, U = (size_t)w->U;
    static const char *const names[4] = {"embed_norm", "embed_prefix", "embed_suffix",
                                         "embed_shape"};
    if (drop > 0)
        for (int f = 0; f < 4; f++)
            tr__mask(t, names[f], drop, w->mk_emb + f * W, W);
    for (size_t u = 0; u < U; u++)
        for (int f = 0; f < 4; f++) {
            const uint32_t *k4 = w->keys + u * 16 + f * 4;
            const float *restrict r0 = P->emb[f] + k4[0] * W, *restrict r1 = P->emb[f] + k4[1] * W,
                                  *restrict r2 = P->emb[f] + k4[2] * W,
                                  *restrict r3 = P->emb[f] + k4[3] * W;
            float *restrict x = w->X0 + u * 4 * W + f * W;
            const float *restrict mk = w->mk_emb + f * W;
            if (drop > 0)
                VLOOP(W, x[i] = (((r0[i] + r1[i]) + r2[i]) + r3[i]) * mk[i]);
            else
                VLOOP(W, x[i] = ((r0[i] + r1[i]) + r2[i]) + r3[i]);
        }
    tr__gemm_ex(t, w->X0, 4 * W, (int)U, w->pk_mix, (int)(4 * W), (int)(3 * W), w->T, 3 * W, 0);
    for (size_t u = 0; u < U; u++)
        maxout_ln(avx2, (int)W, w->T + u * 3 * W, P->mix_b, P->mix_g, P->mix_beta,
                  w->mix_wh + u * W, w->mix_xh + u * W, w->mix_rs + u, w->mix_y + u * W);
    if (drop > 0) {
        tr__mask(t, "mix_ln", drop, w->mk_mix, U * W);
        float *restrict y = w->mix_y;
        const float *restrict mk = w->mk_mix;
        VLOOP(U * W, y[i] *= mk[i]);
    }
    float *X = w->Xb;
    memset(X, 0, sizeof(float) * W);
    for (size_t r = 0; r < R; r++)
        memcpy(X + (r + 1) * W, w->mix_y + (size_t)w->inv[r] * W, sizeof(float) * W);
    memset(X + (R + 1) * W, 0, sizeof(float) * W);
    for (int k = 0; k < d->depth; k++) {
        float *Xn = X + (R + 2) * W, *mk = drop > 0 ? w->mk + k * R * W : NULL;
        tr__gemm_ex(t, X, W, (int)R, w->pk_cnn[k], (int)(3 * W), (int)(3 * W), w->T, 3 * W, 0);
        if (mk) {
            char name[32];
            snprintf(name, sizeof name, "conv%d_ln", k % 100);
            tr__mask(t, name, drop, mk, R * W);
        }
        memset(Xn, 0, sizeof(float) * W);
        memset(Xn + (R + 1) * W, 0, sizeof(float) * W);
        for (size_t r = 0; r < R; r++) {
            float *restrict y = Xn + (r + 1) * W;
            const float *restrict x = X + (r + 1) * W;
            maxout_ln(avx2, (int)W, w->T + r * 3 * W, P->cnn_b[k], P->cnn_g[k], P->cnn_beta[k],
                      w->wh + (k * R + r) * W, w->xh + (k * R + r) * W, w->rs + k * R + r, y);
            if (mk) {
                const float *restrict m = mk + r * W;
                VLOOP(W, y[i] = x[i] + y[i] * m[i]);
            } else {
                VLOOP(W, y[i] = x[i] + y[i]);
            }
        }
        X = Xn;
    }
    for (int i = 0; i < w->N; i++)
        memcpy(w->tok + (size_t)i * W, X + (size_t)(w->row_of[i] + 1) * W, sizeof(float) * W);
}

AI void backward_body(tr_trainer *t, const float *d_tok, int avx2)
{
    tr_work *w = t->w;
    const tr_dims *d = &t->d;
    const tr_tensors *P = &t->P, *G = &t->G;
    size_t W = (size_t)d->W, R = (size_t)w->R, U = (size_t)w->U;
    float *dX = w->dX, *dP = w->T;
    memset(dX, 0, sizeof(float) * (R + 2) * W);
    for (int i = 0; i < w->N; i++)
        memcpy(dX + (size_t)(w->row_of[i] + 1) * W, d_tok + (size_t)i * W, sizeof(float) * W);
    float *restrict g = w->dU; /* one row of scratch (dU is filled later) */
    for (int k = d->depth - 1; k >= 0; k--) {
        const float *X = w->Xb + (size_t)k * (R + 2) * W;
        const float *mk = w->mk ? w->mk + k * R * W : NULL;
        for (size_t r = 0; r < R; r++) {
            const float *restrict dy = dX + (r + 1) * W;
            if (mk) {
                const float *restrict m = mk + r * W;
                VLOOP(W, g[i] = dy[i] * m[i]);
                dy = g;
            }
            maxout_ln_back(avx2, (int)W, dy, P->cnn_g[k], w->wh + (k * R + r) * W,
                           w->xh + (k * R + r) * W, w->rs[k * R + r], G->cnn_g[k],
                           G->cnn_beta[k], dP + r * 3 * W);
        }
        for (size_t r = 0; r < R; r++) {
            float *restrict gb = G->cnn_b[k];
            const float *restrict p = dP + r * 3 * W;
            VLOOP(3 * W, gb[i] += p[i]);
        }
        tr__gemm_tn(t, X, W, (int)R, (int)(3 * W), dP, 3 * W, (int)(3 * W), G->cnn_w[k], 3 * W);
        tr__gemm_ex(t, dP, 3 * W, (int)R, w->pt_cnn[k], (int)(3 * W), (int)(3 * W),
                    w->dwin, 3 * W, 0);
        /* ExtractWindow backward: row i's window is rows i-1, i, i+1 */
        for (size_t r = 0; r < R; r++) {
            float *restrict dx = dX + (r + 1) * W;
            const float *restrict c = w->dwin + r * 3 * W + W;
            VLOOP(W, dx[i] += c[i]);
            if (r + 1 < R) {
                const float *restrict nx = w->dwin + (r + 1) * 3 * W;
                VLOOP(W, dx[i] += nx[i]);
            }
            if (r > 0) {
                const float *restrict pv = w->dwin + (r - 1) * 3 * W + 2 * W;
                VLOOP(W, dx[i] += pv[i]);
            }
        }
    }
    float *dU = w->dU;
    memset(dU, 0, sizeof(float) * U * W);
    for (size_t r = 0; r < R; r++) {
        float *restrict du = dU + (size_t)w->inv[r] * W;
        const float *restrict dx = dX + (r + 1) * W;
        VLOOP(W, du[i] += dx[i]);
    }
    for (size_t u = 0; u < U; u++) {
        float *restrict dy = dU + u * W;
        if (w->mk_mix) {
            const float *restrict m = w->mk_mix + u * W;
            VLOOP(W, dy[i] *= m[i]);
        }
        maxout_ln_back(avx2, (int)W, dy, P->mix_g, w->mix_wh + u * W, w->mix_xh + u * W,
                       w->mix_rs[u], G->mix_g, G->mix_beta, dP + u * 3 * W);
    }
    for (size_t u = 0; u < U; u++) {
        float *restrict gb = G->mix_b;
        const float *restrict p = dP + u * 3 * W;
        VLOOP(3 * W, gb[i] += p[i]);
    }
    tr__gemm_tn(t, w->X0, 4 * W, (int)U, (int)(4 * W), dP, 3 * W, (int)(3 * W), G->mix_w, 3 * W);
    float *dX0 = w->dwin;
    tr__gemm_ex(t, dP, 3 * W, (int)U, w->pt_mix, (int)(3 * W), (int)(4 * W), dX0, 4 * W, 0);
    for (size_t u = 0; u < U; u++)
        for (int f = 0; f < 4; f++) {
            float *restrict gx = dX0 + u * 4 * W + f * W;
            if (w->mk_emb) {
                const float *restrict m = w->mk_emb + f * W;
                VLOOP(W, gx[i] *= m[i]);
            }
            const uint32_t *k4 = w->keys + u * 16 + f * 4;
            for (int k = 0; k < 4; k++) {
                float *restrict row = G->emb[f] + (size_t)k4[k] * W;
                VLOOP(W, row[i] += gx[i]);
            }
        }
}

static void forward_ref(tr_trainer *t, float drop) { forward_body(t, drop, 0); }
static void backward_ref(tr_trainer *t, const float *d_tok) { backward_body(t, d_tok, 0); }

#ifdef TR_X86
__attribute__((target("avx2,fma"))) static void forward_avx2(tr_trainer *t, float drop)
{
    forward_body(t, drop, 1);
}

__attribute__((target("avx2,fma"))) static void backward_avx2(tr_trainer *t, const float *d_tok)
{
    backward_body(t, d_tok, 1);
}
#endif

void tr__tok2vec_forward(tr_trainer *t, float drop)
{
#ifdef TR_X86
    if (t->avx2 && t->d.W % 8 == 0) {
        forward_avx2(t, drop);
        return;
    }
#endif
    forward_ref(t, drop);
}

void tr__tok2vec_backward(tr_trainer *t, const float *d_tok)
{
#ifdef TR_X86
    if (t->avx2 && t->d.W % 8 == 0) {
        backward_avx2(t, d_tok);
        return;
    }
#endif
    backward_ref(t, d_tok);
}
