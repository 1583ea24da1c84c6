/*
 * Internals of the trainer (lib/train*.c), shared by its files and its
 * tests.  Sizes are run-time (tr_dims) so the tests can run the reference's
 * tiny model; the model file needs the engine's sizes (model.h).
 *
 * Parameter layouts (float32, row-major), the engine's column orders
 * before panel packing:
 *   emb[t]    rows[t] x W
 *   maxout    w: K x 3W, column p*W + o (K = 4W for mix, 3W for the CNN);
 *             b: 3W; LayerNorm g, beta: W
 *   low_w     W x 12nH, column f*2nH + p*nH + o; low_b 2nH; low_pad 6 x 2nH
 *   up_w      nH x C; up_b C
 * Blocks (the optimizer's unit, as thinc's layers): emb[0..3], mix maxout
 * (w, b), mix LayerNorm (g, beta), per CNN layer maxout and LayerNorm,
 * lower (w, b, pad), upper (w, b).
 */
#ifndef NERD_TRAIN_INT_H
#define NERD_TRAIN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "nerd/train.h"

#define TR_NF 6          /* parser feature slots */
#define TR_HP 2          /* parser maxout pieces */
#define TR_P 3           /* maxout pieces of the mix and CNN layers */
#define TR_MAXDEPTH 8
#define TR_MAXBLK (8 + 2 * TR_MAXDEPTH)
#define TR_MAX_THREADS 8
#define TR_MAX_LABELS NN_NLABEL_MAX
#define TR_MAX_CLASSES NN_NCLASS_MAX

/* Moves (as model_class.move), plus the extended-tag ISNT of gold. */
enum { TR_MISSING = 0, TR_BEGIN, TR_IN, TR_LAST, TR_UNIT, TR_OUT, TR_ISNT };

typedef struct tr_dims {
    int W, nH, depth, C;
    uint32_t rows[4], seeds[4];
} tr_dims;

/* Views of one copy of the parameters (or gradients, or averages). */
typedef struct tr_tensors {
    float *emb[4];
    float *mix_w, *mix_b, *mix_g, *mix_beta;
    float *cnn_w[TR_MAXDEPTH], *cnn_b[TR_MAXDEPTH], *cnn_g[TR_MAXDEPTH],
        *cnn_beta[TR_MAXDEPTH];
    float *low_w, *low_b, *low_pad;
    float *up_w, *up_b;
} tr_tensors;

/* Gold action of a token: move (TR_MISSING..TR_ISNT) and label (-1: ''). */
typedef struct tr_gold {
    int16_t move, label;
} tr_gold;

/* A parse state over one document of the batch. */
typedef struct tr_state {
    int off, n;          /* the document's first token (batch index), length */
    int i;               /* B0 */
    int n_ents;          /* entities begun */
    int e0, e0_label;    /* the last entity's first token and label */
    int open;            /* it has no end yet */
} tr_state;

/* Dropout masks come from the trainer's RNG, or from this hook (tests:
 * the reference's masks in its draw order).  name: "embed_norm",
 * "embed_prefix", "embed_suffix", "embed_shape", "mix_ln", "conv<k>_ln",
 * "hidden"; out gets n mask values (0 or 1/(1-drop)). */
typedef void (*tr_mask_fn)(void *ud, const char *name, float *out, size_t n);

/* One batch's buffers, carved from one arena per batch (train_net.c).
 * R rows = the documents' tokens with depth padding rows before, between
 * and after them; U = the distinct ORTHs of those rows; N = tokens. */
typedef struct tr_work {
    void *arena, *parena, *packs;
    size_t arena_cap, parena_cap;
    int R, U, N, nd;
    /* inputs */
    int *offs;               /* nd + 1 token offsets */
    int *row_of;             /* N: token -> row */
    int *inv;                /* R: row -> unique */
    uint64_t *orth;          /* R */
    tr_gold *gold;           /* N */
    unsigned char *space;    /* N */
    uint32_t *keys;          /* U x 4 tables x 4 */
    tr_state *chunks;        /* N + nd: the chunk states, before the parser arena */
    /* tok2vec */
    float *X0;               /* U x 4W (after the embedding masks) */
    float *T;                /* max(U, R) x 3W pre-activations, then dP */
    float *mix_y;            /* U x W */
    unsigned char *mix_wh;   /* U x W winning pieces */
    float *mix_xh, *mix_rs;  /* U x W normalised, U 1/sigma */
    float *mk_emb;           /* 4 x W, NULL without dropout */
    float *mk_mix;           /* U x W */
    float *Xb;               /* (depth + 1) x (R + 2) x W, a zero row at each end */
    unsigned char *wh;       /* depth x R x W */
    float *xh, *rs;          /* depth x R x W, depth x R */
    float *mk;               /* depth x R x W */
    float *tok;              /* N x W */
    float *Yf, *dYf;         /* N x 12nH; dYf takes Yf's place after the steps */
    float *dX;               /* (R + 2) x W */
    float *dwin;             /* max(R x 3W, U x 4W) */
    float *dU;               /* U x W */
    float *tmp;              /* GEMM scratch */
    size_t tmp_len;
    /* packed weights: forward, and transposed for backward */
    float *pk_mix, *pk_cnn[TR_MAXDEPTH], *pk_low, *pk_up;
    float *pt_mix, *pt_cnn[TR_MAXDEPTH], *pt_low, *pt_up;
    /* parser steps (parena): S state-steps at most, S_used recorded */
    int S, S_used;
    int drop_on;             /* the hidden masks hmk hold this batch's */
    float *dH;               /* S x nH */
    tr_state *st;            /* the chunk states (chunks), advanced step by step */
    int *act;                /* active states */
    int *ids;                /* S x 6 */
    float *H;                /* S x nH, after dropout */
    unsigned char *hwh;      /* S x nH */
    float *hmk;              /* S x nH */
    float *D;                /* S x C score gradients */
    float *sc;               /* states x C scores of a step */
    char *fscratch;          /* feature strings */
    size_t fscratch_cap;
} tr_work;

typedef struct tr_pool tr_pool;

struct tr_trainer {
    tr_dims d;
    tr_config cfg;
    const ner_model *base;
    int avx2;
    /* parameters, gradients, Adam moments, averages: one layout */
    size_t np;
    float *p, *g, *m, *v, *avg;
    tr_tensors P, G;
    int nblk;
    size_t blk_off[TR_MAXBLK], blk_len[TR_MAXBLK];
    uint32_t blk_t[TR_MAXBLK]; /* updates of the block so far */
    unsigned char blk_part[TR_MAXBLK]; /* the thread that steps the block */
    tr_pool *pool;       /* worker threads (NULL: one thread) */
    /* classes and labels */
    int n_labels;
    char *labels[TR_MAX_LABELS];
    model_class classes[TR_MAX_CLASSES];
    unsigned char unseen[TR_MAX_CLASSES];
    char *about;         /* META of the written file */
    uint64_t rng[4];
    tr_mask_fn mask_fn;
    void *mask_ud;
    int fixed_cut;       /* tests: chunk cut (0: none), instead of [20, 99] */
    int *trace;          /* tests: the classes taken, in step order */
    size_t trace_cap, trace_n;
    tr_work *w;
    tok_state *tok;      /* tr_tokenize's, made on first use */
};

/* train.c */
/* Points T's views into one copy of the parameters (p, g, m, v or avg). */
void tr__views(const tr_trainer *t, float *base, tr_tensors *T);
int tr__new_dims(const tr_dims *d, const tr_config *cfg, tr_trainer **out);
float tr__uniform(tr_trainer *t);
void tr__mask(tr_trainer *t, const char *name, float drop, float *out, size_t n);

/* train_oracle.c: tags, validity, costs, moves, chunks */
int tr__parse_tag(const tr_trainer *t, const char *tag, tr_gold *out);
int tr__gold_tag(const tr_trainer *t, tr_tag tag, tr_gold *out);
int tr__valid(const tr_state *s, model_class c, const unsigned char *space);
int tr__cost(const tr_state *s, model_class c, const tr_gold *gold);
void tr__apply(tr_state *s, model_class c);
void tr__context(const tr_state *s, int ids[TR_NF]);
/* The static oracle's move: the first class, in class order, valid and
 * free in s; -1 if none. */
int tr__oracle(const tr_trainer *t, const tr_state *s, const tr_gold *gold,
               const unsigned char *space);
/* The chunk states of a batch (spaCy's _init_gold_batch): docs given by
 * offs[0..nd] (token ranges), gold over the batch's tokens; cut 0: none.
 * Fills states (room for the batch's token count + nd) and *max_steps;
 * returns their number, or -1 - d when doc d has no zero-cost oracle. */
int tr__chunks(const tr_trainer *t, const int *offs, int nd, const tr_gold *gold,
               const unsigned char *space, int cut, tr_state *states, int *max_steps);

/* Hands out 64-byte aligned pieces of one block; with base NULL it only
 * counts, so a first pass sizes the block (train_net.c). */
typedef struct tr_carve {
    char *base;
    size_t off;
} tr_carve;
void *tr__take(tr_carve *c, size_t n, size_t size);
/* Grows *arena (64-byte aligned, contents dropped) to hold need bytes:
 * 0 or TR_ENOMEM (then *arena is NULL, *cap 0). */
int tr__arena_fit(void **arena, size_t *cap, size_t need);

/* train_net.c: one batch's gradients (added to t->g) */
int tr__grad(tr_trainer *t, const tr_doc *docs, size_t nd, float drop, tr_result *res);
void tr__work_free(tr_work *w);

/* train_tok2vec.c: embedding, mix and CNN forward on t->w's batch (the
 * activations kept), and backward from d_tok (N x W) into t->g. */
void tr__tok2vec_forward(tr_trainer *t, float drop);
void tr__tok2vec_backward(tr_trainer *t, const float *d_tok);

/* train_parser.c: the transition steps of a batch.  parse_alloc sizes the
 * parser arena for ns chunk states st (kept by the caller: they are
 * advanced in place) of max_steps steps;
 * parse runs them on t->w->Yf (fills the step records, the loss in res,
 * and drops from t->unseen the classes that were gold); parse_back
 * backpropagates the steps into the upper and lower blocks' gradients and
 * t->w->dYf (zeroed by the caller). */
int tr__parse_alloc(tr_trainer *t, tr_state *st, int ns, int max_steps);
void tr__parse(tr_trainer *t, int ns, int max_steps, float drop, tr_result *res);
void tr__parse_back(tr_trainer *t);

/* train.c: one Adam step of every block, averages, gradients zeroed */
void tr__step(tr_trainer *t, float learn_rate);

/* train_pool.c: n - 1 worker threads (n < 2: *out NULL, no threads);
 * their GEMM scratch grown to floats; fn(arg, part, nparts) run for every
 * part at once, part 0 on the caller (p NULL: fn(arg, 0, 1)); the
 * trainer's products split over the threads (t->pool NULL or a small
 * product: nn_gemm_ex / nn_gemm_tn with t->w->tmp), the same bits as one
 * thread's. */
int tr__pool_new(int n, tr_pool **out);
void tr__pool_free(tr_pool *p);
int tr__pool_threads(const tr_pool *p);
int tr__pool_tmp(tr_pool *p, size_t floats);
void tr__pool_run(tr_pool *p, void (*fn)(void *arg, int part, int nparts), void *arg);
void tr__gemm_ex(tr_trainer *t, const float *A, size_t lda, int M, const float *Bp, int K,
                 int N, float *C, size_t ldc, int accumulate);
void tr__gemm_tn(tr_trainer *t, const float *A, size_t lda, int rows, int K, const float *B,
                 size_t ldb, int N, float *C, size_t ldc);

#endif
