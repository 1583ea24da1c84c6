/*
 * The matrix products of training (lib/train*.c), on nn_gemm's kernels
 * (AVX2+FMA or the portable one, as nn.c dispatches): any operand is packed
 * into nn_gemm's 24-column panels first (transposing it on the way when the
 * product needs it, N rounded up to a multiple of 24 with zero columns), so
 * the forward product X*W, the backward dY*W' and the weight gradient
 * X'*dY all run on the one micro-kernel.  Packing costs one pass over an
 * operand against a product's K passes.  nn.c itself is untouched: the
 * inference path compiles to the same code as before.
 */
#include <string.h>

#include "engine.h"

/* Rows per tile of nn_gemm_ex's accumulation and of nn_gemm_tn's K blocks
 * (a 256 x 24 panel, 24 KiB, stays in L1 while 4-row slices of A pass). */
#define GX_ROWS 64
#define TN_ROWS 256

static int round_n(int N) { return (N + NN_TILE - 1) / NN_TILE * NN_TILE; }

size_t nn_pack_floats(int K, int N)
{
    return (size_t)K * (size_t)round_n(N);
}

void nn_pack(const float *B, size_t ldb, int trans, int K, int N, float *out)
{
    int np = round_n(N) / NN_TILE;
    for (int jt = 0; jt < np; jt++) {
        float *P = out + (size_t)jt * K * NN_TILE;
        int n0 = jt * NN_TILE, w = N - n0 < NN_TILE ? N - n0 : NN_TILE;
        for (int k = 0; k < K; k++) {
            float *row = P + (size_t)k * NN_TILE;
            if (trans)
                for (int j = 0; j < w; j++)
                    row[j] = B[(size_t)(n0 + j) * ldb + k];
            else
                memcpy(row, B + (size_t)k * ldb + n0, sizeof(float) * (size_t)w);
            for (int j = w; j < NN_TILE; j++)
                row[j] = 0;
        }
    }
}

size_t nn_gemm_ex_floats(int N)
{
    return (size_t)GX_ROWS * (size_t)round_n(N);
}

void nn_gemm_ex(int use_avx2, const float *A, size_t lda, int M, const float *Bp,
                int K, int N, float *C, size_t ldc, int accumulate, float *tmp)
{
    if (!accumulate && N % NN_TILE == 0) {
        nn_gemm(use_avx2, A, lda, M, Bp, K, N, C, ldc);
        return;
    }
    int np = round_n(N);
    for (int i0 = 0; i0 < M; i0 += GX_ROWS) {
        int mr = M - i0 < GX_ROWS ? M - i0 : GX_ROWS;
        nn_gemm(use_avx2, A + (size_t)i0 * lda, lda, mr, Bp, K, np, tmp, (size_t)np);
        for (int i = 0; i < mr; i++) {
            float *restrict c = C + (size_t)(i0 + i) * ldc;
            const float *restrict t = tmp + (size_t)i * np;
            if (accumulate)
                for (int j = 0; j < N; j++)
                    c[j] += t[j];
            else
                memcpy(c, t, sizeof(float) * (size_t)N);
        }
    }
}

size_t nn_gemm_tn_floats(int K, int N)
{
    return (size_t)TN_ROWS * (size_t)K + nn_pack_floats(TN_ROWS, N) +
           (size_t)K * (size_t)round_n(N);
}

void nn_gemm_tn(int use_avx2, const float *A, size_t lda, int rows, int K,
                const float *B, size_t ldb, int N, float *C, size_t ldc, float *tmp)
{
    int np = round_n(N);
    float *At = tmp, *Bp = At + (size_t)TN_ROWS * K, *T = Bp + nn_pack_floats(TN_ROWS, N);
    for (int r0 = 0; r0 < rows; r0 += TN_ROWS) {
        int nr = rows - r0 < TN_ROWS ? rows - r0 : TN_ROWS;
        /* At (K x nr) = rows [r0, r0 + nr) of A, transposed, in 16 x 16
         * tiles (a strided store per element costs more than the product) */
        for (int rb = 0; rb < nr; rb += 16)
            for (int kb = 0; kb < K; kb += 16) {
                int re = rb + 16 < nr ? rb + 16 : nr, ke = kb + 16 < K ? kb + 16 : K;
                for (int k = kb; k < ke; k++) {
                    float *restrict at = At + (size_t)k * nr;
                    const float *restrict a = A + (size_t)r0 * lda + k;
                    for (int r = rb; r < re; r++)
                        at[r] = a[(size_t)r * lda];
                }
            }
        nn_pack(B + (size_t)r0 * ldb, ldb, 0, nr, N, Bp);
        nn_gemm(use_avx2, At, (size_t)nr, K, Bp, nr, np, T, (size_t)np);
        for (int k = 0; k < K; k++) {
            float *restrict c = C + (size_t)k * ldc;
            const float *restrict t = T + (size_t)k * np;
            for (int j = 0; j < N; j++)
                c[j] += t[j];
        }
    }
}
