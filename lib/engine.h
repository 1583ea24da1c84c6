/*
 * Internals shared by the engine's files: lexical features (feat_), dense
 * kernels (nn_).  Not part of the public API.
 */
#ifndef NERD_ENGINE_H
#define NERD_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* Column tile of the packed weight layout: B (K x N, N % 24 == 0) is stored
 * as N/24 panels of K x 24 floats. */
#define NN_TILE 24

/* Computes spaCy's four feature IDs (NORM, PREFIX, SUFFIX, SHAPE) of the
 * token s[0..n) (valid UTF-8).  norm/norm_len: a NORM given by a tokenizer
 * special case, or NULL.  scratch must hold 3*n + 512 bytes. */
void feat_ids(const struct ner_model *m, const char *s, size_t n,
              const char *norm, size_t norm_len, char *scratch,
              uint64_t ids[4]);

/* ID of a string as spaCy's StringStore gives it: the fixed symbol ID if
 * it is a symbol, else MurmurHash64A(s, 1). */
uint64_t feat_string_id(const struct ner_model *m, const char *s, size_t n);

/* Sums the four hashed embedding rows of each feature into out[384]. */
void feat_embed(const struct ner_model *m, const uint64_t ids[4], float *out);

/* Returns 1 when the CPU supports the AVX2+FMA kernels. */
int nn_have_avx2(void);

/* C[M x N] = A[M x K] * B, B packed (see NN_TILE); A rows lda floats apart,
 * C rows ldc apart.  use_avx2 selects the kernel. */
void nn_gemm(int use_avx2, const float *A, size_t lda, int M, const float *Bp,
             int K, int N, float *C, size_t ldc);

/* Training's products (nn_grad.c), on nn_gemm's kernels.  nn_pack packs
 * op(B) (K x N; op(B) = B, or B' when trans: B is then N x K, rows ldb
 * apart) into NN_TILE panels, N rounded up to a multiple of NN_TILE with
 * zero columns; out holds nn_pack_floats(K, N) floats and is 32-byte
 * aligned (nn_gemm loads panels aligned). */
size_t nn_pack_floats(int K, int N);
void nn_pack(const float *B, size_t ldb, int trans, int K, int N, float *out);

/* C[M x N] = A * Bp (accumulate 0) or C += A * Bp (1), Bp from nn_pack
 * (K x N), any N; tmp holds nn_gemm_ex_floats(N) floats. */
size_t nn_gemm_ex_floats(int N);
void nn_gemm_ex(int use_avx2, const float *A, size_t lda, int M, const float *Bp,
                int K, int N, float *C, size_t ldc, int accumulate, float *tmp);

/* C[K x N] += A' * B: A is rows x K (rows lda apart; rows may overlap, as
 * the CNN's windows do), B rows x N (ldb); tmp holds nn_gemm_tn_floats(K,
 * N) floats. */
size_t nn_gemm_tn_floats(int K, int N);
void nn_gemm_tn(int use_avx2, const float *A, size_t lda, int rows, int K,
                const float *B, size_t ldb, int N, float *C, size_t ldc, float *tmp);

/* y = LayerNorm(maxout(t + bias)) (pieces of 96 at t, t+96, t+192); with
 * residual != 0, x += y instead of x = y.  Both kernels round the same. */
void nn_maxout_ln(int use_avx2, const float *t, const float *bias,
                  const float *g, const float *beta, float *x, int residual);

/* Parser state scores: h = low_b + sum of the six slot vectors v[f] (128
 * floats: piece 0 then piece 1), maxout, then scores[80] = h * up_w + up_b.
 * max(piece1, piece0) order and sums as in the portable version. */
void nn_parser_scores(int use_avx2, const float *const v[NN_NF],
                      const float *low_b, const float *up_w, const float *up_b,
                      float *scores);

/* nn_parser_scores for an output layer cols wide (a multiple of
 * NN_CLS_ALIGN, at most NN_CLS_MAXPAD): format 2 models, over 80 classes.
 * The 80-wide path above is kept as it is for the others. */
void nn_parser_scores_wide(int use_avx2, const float *const v[NN_NF], const float *low_b,
                           const float *up_w, const float *up_b, int cols, float *scores);

/* Runs the network and decoder over already-tokenized text (tt[0..n),
 * offsets into text); fills out as ner_extract_ex() does with flags
 * (NER_SCORES or 0).  The token spans in out are c's (filled by the caller
 * for ner_extract). */
int ner__run(struct ner_ctx *c, const char *text, const tok_token *tt,
             size_t n, unsigned flags, struct ner_doc *out);

#endif
