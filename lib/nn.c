/*
 * Dense kernels of the NER network: a blocked GEMM over weights packed in
 * 24-column panels (AVX2+FMA, chosen at run time, with a portable fallback
 * that rounds the same way: sequential K order, fused multiply-add), and the
 * maxout + LayerNorm epilogue.
 */
#include <math.h>
#include <string.h>

#include "engine.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define NN_X86 1
#if defined(__GLIBC__) && defined(__has_include)
#if __has_include(<sys/platform/x86.h>)
#include <sys/platform/x86.h> /* glibc >= 2.33 */
#endif
#endif
#endif

int nn_have_avx2(void)
{
#if defined(NN_X86) && defined(CPU_FEATURE_ACTIVE)
    /* What glibc's loader found at start-up (CPUID and the OS's YMM state):
     * no CPUID of our own, which exits to the hypervisor in a VM (6 us each
     * here), and libgcc's start-up detection (a dozen of them) is not
     * linked in. */
    return CPU_FEATURE_ACTIVE(AVX2) && CPU_FEATURE_ACTIVE(FMA);
#elif defined(NN_X86)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

static void gemm_ref(const float *A, size_t lda, int M, const float *Bp, int K,
                     int N, float *C, size_t ldc)
{
    for (int jt = 0; jt < N / NN_TILE; jt++) {
        const float *P = Bp + (size_t)jt * K * NN_TILE;
        for (int i = 0; i < M; i++) {
            float acc[NN_TILE] = {0};
            const float *a = A + (size_t)i * lda;
            for (int k = 0; k < K; k++)
                for (int j = 0; j < NN_TILE; j++)
                    acc[j] = fmaf(a[k], P[(size_t)k * NN_TILE + j], acc[j]);
            memcpy(C + (size_t)i * ldc + jt * NN_TILE, acc, sizeof acc);
        }
    }
}

#ifdef NN_X86
__attribute__((target("avx2,fma"))) static void
gemm_avx2(const float *A, size_t lda, int M, const float *Bp, int K, int N,
          float *C, size_t ldc)
{
    for (int jt = 0; jt < N / NN_TILE; jt++) {
        const float *P = Bp + (size_t)jt * K * NN_TILE;
        float *Cj = C + jt * NN_TILE;
        int i = 0;
        for (; i + 4 <= M; i += 4) {
            const float *a0 = A + (size_t)i * lda, *a1 = a0 + lda,
                        *a2 = a1 + lda, *a3 = a2 + lda;
            __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00;
            __m256 c10 = c00, c11 = c00, c12 = c00;
            __m256 c20 = c00, c21 = c00, c22 = c00;
            __m256 c30 = c00, c31 = c00, c32 = c00;
            const float *p = P;
            for (int k = 0; k < K; k++, p += NN_TILE) {
                __m256 b0 = _mm256_load_ps(p), b1 = _mm256_load_ps(p + 8),
                       b2 = _mm256_load_ps(p + 16);
                __m256 x = _mm256_broadcast_ss(a0 + k);
                c00 = _mm256_fmadd_ps(x, b0, c00);
                c01 = _mm256_fmadd_ps(x, b1, c01);
                c02 = _mm256_fmadd_ps(x, b2, c02);
                x = _mm256_broadcast_ss(a1 + k);
                c10 = _mm256_fmadd_ps(x, b0, c10);
                c11 = _mm256_fmadd_ps(x, b1, c11);
                c12 = _mm256_fmadd_ps(x, b2, c12);
                x = _mm256_broadcast_ss(a2 + k);
                c20 = _mm256_fmadd_ps(x, b0, c20);
                c21 = _mm256_fmadd_ps(x, b1, c21);
                c22 = _mm256_fmadd_ps(x, b2, c22);
                x = _mm256_broadcast_ss(a3 + k);
                c30 = _mm256_fmadd_ps(x, b0, c30);
                c31 = _mm256_fmadd_ps(x, b1, c31);
                c32 = _mm256_fmadd_ps(x, b2, c32);
            }
            float *c = Cj + (size_t)i * ldc;
            _mm256_storeu_ps(c, c00);
            _mm256_storeu_ps(c + 8, c01);
            _mm256_storeu_ps(c + 16, c02);
            c += ldc;
            _mm256_storeu_ps(c, c10);
            _mm256_storeu_ps(c + 8, c11);
            _mm256_storeu_ps(c + 16, c12);
            c += ldc;
            _mm256_storeu_ps(c, c20);
            _mm256_storeu_ps(c + 8, c21);
            _mm256_storeu_ps(c + 16, c22);
            c += ldc;
            _mm256_storeu_ps(c, c30);
            _mm256_storeu_ps(c + 8, c31);
            _mm256_storeu_ps(c + 16, c32);
        }
        for (; i < M; i++) {
            const float *a0 = A + (size_t)i * lda;
            __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00;
            const float *p = P;
            for (int k = 0; k < K; k++, p += NN_TILE) {
                __m256 x = _mm256_broadcast_ss(a0 + k);
                c00 = _mm256_fmadd_ps(x, _mm256_load_ps(p), c00);
                c01 = _mm256_fmadd_ps(x, _mm256_load_ps(p + 8), c01);
                c02 = _mm256_fmadd_ps(x, _mm256_load_ps(p + 16), c02);
            }
            float *c = Cj + (size_t)i * ldc;
            _mm256_storeu_ps(c, c00);
            _mm256_storeu_ps(c + 8, c01);
            _mm256_storeu_ps(c + 16, c02);
        }
    }
}
#endif

void nn_gemm(int use_avx2, const float *A, size_t lda, int M, const float *Bp,
             int K, int N, float *C, size_t ldc)
{
    if (M <= 0)
        return;
#ifdef NN_X86
    if (use_avx2) {
        gemm_avx2(A, lda, M, Bp, K, N, C, ldc);
        return;
    }
#endif
    (void)use_avx2;
    gemm_ref(A, lda, M, Bp, K, N, C, ldc);
}

/* The epilogue's reductions use eight lanes (lane l sums elements
 * i == l mod 8 in order) combined as ((0+4)+(2+6))+((1+5)+(3+7)), so the
 * portable and AVX2 versions round identically. */
static float lanes_sum(const float l[8])
{
    return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
}

static void maxout_ln_ref(const float *t, const float *bias, const float *g,
                          const float *beta, float *x, int residual)
{
    float h[NN_W], acc[8] = {0}, acc2[8] = {0};
    for (int o = 0; o < NN_W; o++) {
        float v0 = t[o] + bias[o];
        float v1 = t[NN_W + o] + bias[NN_W + o];
        float v2 = t[2 * NN_W + o] + bias[2 * NN_W + o];
        float m = v0 > v1 ? v0 : v1;
        h[o] = m > v2 ? m : v2;
        acc[o & 7] += h[o];
    }
    float mu = lanes_sum(acc) * (1.0f / NN_W);
    for (int o = 0; o < NN_W; o++) {
        float d = h[o] - mu;
        acc2[o & 7] = fmaf(d, d, acc2[o & 7]);
    }
    float inv = 1.0f / sqrtf(lanes_sum(acc2) * (1.0f / NN_W) + 1e-8f);
    for (int o = 0; o < NN_W; o++) {
        float y = fmaf((h[o] - mu) * inv, g[o], beta[o]);
        x[o] = residual ? x[o] + y : y;
    }
}

#ifdef NN_X86
__attribute__((target("avx2,fma"))) static void
maxout_ln_avx2(const float *t, const float *bias, const float *g,
               const float *beta, float *x, int residual)
{
    __m256 h[NN_W / 8];
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < NN_W / 8; i++) {
        __m256 v0 = _mm256_add_ps(_mm256_loadu_ps(t + 8 * i), _mm256_loadu_ps(bias + 8 * i));
        __m256 v1 = _mm256_add_ps(_mm256_loadu_ps(t + NN_W + 8 * i),
                                  _mm256_loadu_ps(bias + NN_W + 8 * i));
        __m256 v2 = _mm256_add_ps(_mm256_loadu_ps(t + 2 * NN_W + 8 * i),
                                  _mm256_loadu_ps(bias + 2 * NN_W + 8 * i));
        h[i] = _mm256_max_ps(_mm256_max_ps(v0, v1), v2);
        acc = _mm256_add_ps(acc, h[i]);
    }
    float l[8];
    _mm256_storeu_ps(l, acc);
    float mu = lanes_sum(l) * (1.0f / NN_W);
    __m256 vmu = _mm256_set1_ps(mu), acc2 = _mm256_setzero_ps();
    for (int i = 0; i < NN_W / 8; i++) {
        __m256 d = _mm256_sub_ps(h[i], vmu);
        acc2 = _mm256_fmadd_ps(d, d, acc2);
    }
    _mm256_storeu_ps(l, acc2);
    __m256 inv = _mm256_set1_ps(1.0f / sqrtf(lanes_sum(l) * (1.0f / NN_W) + 1e-8f));
    for (int i = 0; i < NN_W / 8; i++) {
        __m256 y = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_sub_ps(h[i], vmu), inv),
                                   _mm256_loadu_ps(g + 8 * i),
                                   _mm256_loadu_ps(beta + 8 * i));
        if (residual)
            y = _mm256_add_ps(_mm256_loadu_ps(x + 8 * i), y);
        _mm256_storeu_ps(x + 8 * i, y);
    }
}
#endif

void nn_maxout_ln(int use_avx2, const float *t, const float *bias,
                  const float *g, const float *beta, float *x, int residual)
{
#ifdef NN_X86
    if (use_avx2) {
        maxout_ln_avx2(t, bias, g, beta, x, residual);
        return;
    }
#endif
    maxout_ln_ref(t, bias, g, beta, x, residual);
}

/* Parser hidden layer of one state: low_b + the six slot vectors, maxout
 * over the 2 pieces. */
static inline void hidden_ref(const float *const v[NN_NF], const float *low_b, float *hid)
{
    float h[NN_HP * NN_H];
    for (int j = 0; j < NN_HP * NN_H; j++) {
        float a = low_b[j];
        for (int f = 0; f < NN_NF; f++)
            a += v[f][j];
        h[j] = a;
    }
    for (int j = 0; j < NN_H; j++)
        hid[j] = h[j] > h[NN_H + j] ? h[j] : h[NN_H + j];
}

/* Parser hidden layer and scores for one state (see engine.h). */
static void parser_ref(const float *const v[NN_NF], const float *low_b,
                       const float *up_w, const float *up_b, float *scores)
{
    float hid[NN_H];
    hidden_ref(v, low_b, hid);
    float sc[NN_CLS_PAD] = {0};
    for (int j = 0; j < NN_H; j++)
        for (int k = 0; k < NN_CLS_PAD; k++)
            sc[k] = fmaf(hid[j], up_w[j * NN_CLS_PAD + k], sc[k]);
    for (int k = 0; k < NN_CLS_PAD; k++)
        scores[k] = sc[k] + up_b[k];
}

#ifdef NN_X86
__attribute__((target("avx2,fma"))) static inline void
hidden_avx2(const float *const v[NN_NF], const float *low_b, float *hid)
{
    for (int i = 0; i < NN_H / 8; i++) {
        __m256 a = _mm256_loadu_ps(low_b + 8 * i);
        __m256 b = _mm256_loadu_ps(low_b + NN_H + 8 * i);
        for (int f = 0; f < NN_NF; f++) {
            a = _mm256_add_ps(a, _mm256_loadu_ps(v[f] + 8 * i));
            b = _mm256_add_ps(b, _mm256_loadu_ps(v[f] + NN_H + 8 * i));
        }
        _mm256_storeu_ps(hid + 8 * i, _mm256_max_ps(b, a));
    }
}

__attribute__((target("avx2,fma"))) static void
parser_avx2(const float *const v[NN_NF], const float *low_b, const float *up_w,
            const float *up_b, float *scores)
{
    float hid[NN_H];
    hidden_avx2(v, low_b, hid);
    __m256 sc[NN_CLS_PAD / 8];
    for (int k = 0; k < NN_CLS_PAD / 8; k++)
        sc[k] = _mm256_setzero_ps();
    for (int j = 0; j < NN_H; j++) {
        __m256 x = _mm256_set1_ps(hid[j]);
        const float *w = up_w + j * NN_CLS_PAD;
        for (int k = 0; k < NN_CLS_PAD / 8; k++)
            sc[k] = _mm256_fmadd_ps(x, _mm256_loadu_ps(w + 8 * k), sc[k]);
    }
    for (int k = 0; k < NN_CLS_PAD / 8; k++)
        _mm256_storeu_ps(scores + 8 * k,
                         _mm256_add_ps(sc[k], _mm256_loadu_ps(up_b + 8 * k)));
}
#endif

void nn_parser_scores(int use_avx2, const float *const v[NN_NF],
                      const float *low_b, const float *up_w, const float *up_b,
                      float *scores)
{
#ifdef NN_X86
    if (use_avx2) {
        parser_avx2(v, low_b, up_w, up_b, scores);
        return;
    }
#endif
    parser_ref(v, low_b, up_w, up_b, scores);
}

/* The general path (format 2 models, over 80 classes): the same hidden
 * layer, then scores[cols] in blocks of up to 64 columns (cols a multiple
 * of NN_CLS_ALIGN). */
static void parser_wide_ref(const float *const v[NN_NF], const float *low_b,
                            const float *up_w, const float *up_b, int cols, float *scores)
{
    float hid[NN_H];
    hidden_ref(v, low_b, hid);
    for (int k = 0; k < cols; k++)
        scores[k] = 0;
    for (int j = 0; j < NN_H; j++)
        for (int k = 0; k < cols; k++)
            scores[k] = fmaf(hid[j], up_w[(size_t)j * cols + k], scores[k]);
    for (int k = 0; k < cols; k++)
        scores[k] += up_b[k];
}

#ifdef NN_X86
__attribute__((target("avx2,fma"))) static void
parser_wide_avx2(const float *const v[NN_NF], const float *low_b, const float *up_w,
                 const float *up_b, int cols, float *scores)
{
    float hid[NN_H];
    hidden_avx2(v, low_b, hid);
    for (int k0 = 0; k0 < cols; k0 += 64) {
        int nv = (cols - k0 < 64 ? cols - k0 : 64) / 8;
        __m256 sc[8];
        for (int k = 0; k < nv; k++)
            sc[k] = _mm256_setzero_ps();
        for (int j = 0; j < NN_H; j++) {
            __m256 x = _mm256_set1_ps(hid[j]);
            const float *w = up_w + (size_t)j * cols + k0;
            for (int k = 0; k < nv; k++)
                sc[k] = _mm256_fmadd_ps(x, _mm256_loadu_ps(w + 8 * k), sc[k]);
        }
        for (int k = 0; k < nv; k++)
            _mm256_storeu_ps(scores + k0 + 8 * k,
                             _mm256_add_ps(sc[k], _mm256_loadu_ps(up_b + k0 + 8 * k)));
    }
}
#endif

void nn_parser_scores_wide(int use_avx2, const float *const v[NN_NF], const float *low_b,
                           const float *up_w, const float *up_b, int cols, float *scores)
{
#ifdef NN_X86
    if (use_avx2) {
        parser_wide_avx2(v, low_b, up_w, up_b, cols, scores);
        return;
    }
#endif
    parser_wide_ref(v, low_b, up_w, up_b, cols, scores);
}
