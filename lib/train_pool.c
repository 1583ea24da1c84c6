/*
 * The trainer's worker threads (tr_config.threads - 1 of them, made with
 * the trainer): the large matrix products are split by rows of their
 * result (nn_gemm_ex: rows of A, at multiples of its 64-row tiles;
 * nn_gemm_tn: rows of the weight gradient, at multiples of 4, the
 * kernel's row slice), the weight packing by matrix and the optimizer step
 * by parameter block.  Every part runs the same kernel in the same order
 * per element as one thread would, so the trained parameters are the same
 * bits whatever the thread count.  Products under TR_PAR_FLOPS stay on the
 * calling thread (a hand-off costs microseconds).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "train_int.h"

#define TR_PAR_FLOPS 2e6 /* multiply-adds below which a product is not split */
#define TR_SPIN 20000    /* polls before a thread sleeps (a woken thread tends to
                            land on the waker's core and run after it, not beside) */

typedef void tr_part_fn(void *arg, int part, int nparts);

struct tr_pool {
    int n; /* threads, the caller's included */
    int started;
    pthread_t th[TR_MAX_THREADS];
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    atomic_ulong gen;    /* jobs posted */
    atomic_int pending;  /* workers still on the current job */
    atomic_int quit;
    tr_part_fn *fn;
    void *arg;
    float *tmp[TR_MAX_THREADS]; /* workers' GEMM scratch (tmp[0] unused: the caller's is w->tmp) */
    size_t tmp_len;
};

typedef struct worker {
    tr_pool *p;
    int part;
} worker;

/* One poll's pause; every 64th gives the core away (the other thread may
 * be waiting for it on a busy machine). */
static inline void relax(int i)
{
    if (i % 64 == 63) {
        sched_yield();
        return;
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *work_loop(void *arg)
{
    tr_pool *p = ((worker *)arg)->p;
    int part = ((worker *)arg)->part;
    free(arg);
    unsigned long seen = 0;
    for (;;) {
        for (int i = 0; i < TR_SPIN && atomic_load(&p->gen) == seen && !atomic_load(&p->quit);
             i++)
            relax(i);
        if (atomic_load(&p->gen) == seen && !atomic_load(&p->quit)) {
            pthread_mutex_lock(&p->mu);
            while (atomic_load(&p->gen) == seen && !atomic_load(&p->quit))
                pthread_cond_wait(&p->go, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->quit))
            break;
        seen = atomic_load(&p->gen);
        p->fn(p->arg, part, p->n);
        if (atomic_fetch_sub(&p->pending, 1) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

int tr__pool_new(int n, tr_pool **out)
{
    *out = NULL;
    if (n < 2)
        return TR_OK;
    if (n > TR_MAX_THREADS)
        return TR_EINVAL;
    tr_pool *p = calloc(1, sizeof *p);
    if (!p)
        return TR_ENOMEM;
    p->n = n;
    atomic_init(&p->gen, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->quit, 0);
    if (pthread_mutex_init(&p->mu, NULL)) {
        free(p);
        return TR_ENOMEM;
    }
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    for (int i = 1; i < n; i++) {
        worker *w = malloc(sizeof *w);
        if (!w || (w->p = p, w->part = i, pthread_create(&p->th[i], NULL, work_loop, w))) {
            free(w);
            tr__pool_free(p); /* stops the threads made so far */
            return TR_ENOMEM;
        }
        p->started = i;
    }
    *out = p;
    return TR_OK;
}

void tr__pool_free(tr_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->quit, 1);
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i <= p->started; i++)
        pthread_join(p->th[i], NULL);
    for (int i = 0; i < TR_MAX_THREADS; i++)
        free(p->tmp[i]);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

int tr__pool_threads(const tr_pool *p) { return p ? p->n : 1; }

int tr__pool_tmp(tr_pool *p, size_t floats)
{
    if (!p || floats <= p->tmp_len)
        return TR_OK;
    for (int i = 1; i < p->n; i++) {
        free(p->tmp[i]);
        p->tmp[i] = aligned_alloc(64, ((floats * sizeof(float)) + 63) & ~(size_t)63);
        if (!p->tmp[i]) {
            p->tmp_len = 0;
            return TR_ENOMEM;
        }
    }
    p->tmp_len = floats;
    return TR_OK;
}

/* Runs fn(arg, part, n) for every part, part 0 on the caller. */
static void run(tr_pool *p, tr_part_fn *fn, void *arg)
{
    p->fn = fn;
    p->arg = arg;
    atomic_store(&p->pending, p->n - 1);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->gen, 1); /* after fn, arg and pending (sequentially consistent) */
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    fn(arg, 0, p->n);
    for (int i = 0; i < TR_SPIN && atomic_load(&p->pending); i++)
        relax(i);
    if (atomic_load(&p->pending)) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->pending))
            pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}

void tr__pool_run(tr_pool *p, void (*fn)(void *arg, int part, int nparts), void *arg)
{
    if (!p)
        fn(arg, 0, 1);
    else
        run(p, fn, arg);
}

/* [*a, *b): part of n, cut at multiples of step. */
static void cut(int n, int step, int part, int nparts, int *a, int *b)
{
    int units = (n + step - 1) / step;
    *a = (int)((long)units * part / nparts) * step;
    *b = (int)((long)units * (part + 1) / nparts) * step;
    if (*a > n)
        *a = n;
    if (*b > n)
        *b = n;
}

typedef struct gemm_job {
    tr_trainer *t;
    const float *A, *B;
    size_t lda, ldb, ldc;
    int M, K, N, acc;
    float *C;
} gemm_job;

static float *tmp_of(const tr_trainer *t, int part)
{
    return part ? t->pool->tmp[part] : t->w->tmp;
}

static void ex_part(void *arg, int part, int nparts)
{
    gemm_job *j = arg;
    int a, b;
    cut(j->M, 64, part, nparts, &a, &b);
    if (b > a)
        nn_gemm_ex(j->t->avx2, j->A + (size_t)a * j->lda, j->lda, b - a, j->B, j->K, j->N,
                   j->C + (size_t)a * j->ldc, j->ldc, j->acc, tmp_of(j->t, part));
}

void tr__gemm_ex(tr_trainer *t, const float *A, size_t lda, int M, const float *Bp, int K,
                 int N, float *C, size_t ldc, int accumulate)
{
    if (!t->pool || M < 128 || (double)M * K * N < TR_PAR_FLOPS) {
        nn_gemm_ex(t->avx2, A, lda, M, Bp, K, N, C, ldc, accumulate, t->w->tmp);
        return;
    }
    gemm_job j = {t, A, Bp, lda, 0, ldc, M, K, N, accumulate, C};
    run(t->pool, ex_part, &j);
}

static void tn_part(void *arg, int part, int nparts)
{
    gemm_job *j = arg;
    int a, b;
    cut(j->K, 4, part, nparts, &a, &b);
    if (b > a)
        nn_gemm_tn(j->t->avx2, j->A + a, j->lda, j->M, b - a, j->B, j->ldb, j->N,
                   j->C + (size_t)a * j->ldc, j->ldc, tmp_of(j->t, part));
}

void tr__gemm_tn(tr_trainer *t, const float *A, size_t lda, int rows, int K, const float *B,
                 size_t ldb, int N, float *C, size_t ldc)
{
    if (!t->pool || K < 8 * t->pool->n || (double)rows * K * N < TR_PAR_FLOPS) {
        nn_gemm_tn(t->avx2, A, lda, rows, K, B, ldb, N, C, ldc, t->w->tmp);
        return;
    }
    gemm_job j = {t, A, B, lda, ldb, ldc, rows, K, N, 0, C};
    run(t->pool, tn_part, &j);
}
