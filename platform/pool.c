/*
 * Environment pools (see pool.h).
 */
#define _GNU_SOURCE
#include "pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "envlimit.h"

#define POOL_MAX_LOOPS 64

typedef struct env_rec {
    lam_env *env;
    int home;             /* the worker whose loop it lives on */
    int prov;             /* a provisioned environment */
    int busy;
    double idle_since;    /* monotonic ms */
    struct env_rec *next; /* idle list */
    struct env_rec *all_next, *all_prev;
} env_rec;

typedef struct fpool {
    pthread_mutex_t mu;
    const sam_function *f;
    env_rec *idle[POOL_MAX_LOOPS];
    env_rec *all;
    int total, limit, busy, n_prov;
} fpool;

struct pool_set {
    const sam_template *t;
    met *met;
    FILE *log;
    ev_loop *loops[POOL_MAX_LOOPS];
    int cpus[POOL_MAX_LOOPS];
    int n_loops;
    fpool pools[SAM_MAX_FUNCTIONS];
};

pool_set *pool_new(const sam_template *t, met *m, FILE *log, ev_loop **loops, const int *cpus,
                   int n_loops)
{
    if (n_loops < 1 || n_loops > POOL_MAX_LOOPS)
        return NULL;
    pool_set *ps = calloc(1, sizeof *ps);
    if (!ps)
        return NULL;
    ps->t = t;
    ps->met = m;
    ps->log = log;
    ps->n_loops = n_loops;
    memcpy(ps->loops, loops, sizeof *loops * (size_t)n_loops);
    for (int i = 0; i < n_loops; i++)
        ps->cpus[i] = cpus ? cpus[i] : -1;
    pthread_mutexattr_t ma; /* adaptive: spin briefly before sleeping */
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
    for (size_t i = 0; i < t->n_functions; i++) {
        fpool *p = &ps->pools[i];
        pthread_mutex_init(&p->mu, &ma);
        p->f = &t->functions[i];
        p->limit = p->f->reserved >= 0 ? p->f->reserved : POOL_ACCOUNT_CONCURRENCY;
    }
    pthread_mutexattr_destroy(&ma);
    return ps;
}

/* Where a runtime of p homed on worker home runs (-1: any CPU). */
static int env_cpu(const pool_set *ps, const fpool *p, int home)
{
    return p->f->memory_mb <= LIM_MB_PER_VCPU ? ps->cpus[home] : -1;
}

/* Under p->mu. */
static void rec_link(fpool *p, env_rec *r)
{
    r->all_prev = NULL;
    r->all_next = p->all;
    if (p->all)
        p->all->all_prev = r;
    p->all = r;
}

static void rec_unlink(fpool *p, env_rec *r)
{
    if (r->all_prev)
        r->all_prev->all_next = r->all_next;
    else
        p->all = r->all_next;
    if (r->all_next)
        r->all_next->all_prev = r->all_prev;
}

/* A new environment on worker home's loop; NULL when it cannot start
 * (p->total already counts it; the caller gives it back). */
static env_rec *rec_start(pool_set *ps, fpool *p, int home)
{
    env_rec *r = calloc(1, sizeof *r);
    char err[256];
    if (!r || lam_env_start(ps->loops[home], p->f, ps->log, env_cpu(ps, p, home), &r->env,
                                err, sizeof err) != 0) {
        if (r)
            fprintf(ps->log, "nerd: %s: %s\n", p->f->name, err);
        free(r);
        return NULL;
    }
    r->home = home;
    pthread_mutex_lock(&p->mu);
    rec_link(p, r);
    pthread_mutex_unlock(&p->mu);
    return r;
}

static void rec_drop(fpool *p, env_rec *r, int graceful)
{
    pthread_mutex_lock(&p->mu);
    rec_unlink(p, r);
    p->total--;
    pthread_mutex_unlock(&p->mu);
    if (graceful)
        lam_env_free(r->env);
    else
        lam_env_kill(r->env);
    free(r);
}

void pool_prewarm(pool_set *ps)
{
    int next = 0;
    for (size_t i = 0; i < ps->t->n_functions; i++) {
        fpool *p = &ps->pools[i];
        for (int k = 0; k < p->f->provisioned; k++) {
            int home = next++ % ps->n_loops;
            p->total++;
            env_rec *r = rec_start(ps, p, home);
            if (!r) {
                p->total--;
                continue;
            }
            if (lam_env_prewarm(r->env) != 0) {
                rec_drop(p, r, 1);
                continue;
            }
            r->prov = 1;
            p->n_prov++;
            r->idle_since = clk_mono_ms();
            r->next = p->idle[home];
            p->idle[home] = r;
        }
    }
}

static void call_back(void *arg)
{
    pool_call *call = arg;
    call->done(call);
}

/* On the environment's loop: the invocation is over. */
static void env_done(lam_env *e, void *arg)
{
    pool_call *call = arg;
    pool_set *ps = call->ps;
    env_rec *r = call->rec;
    fpool *p = &ps->pools[call->fi];
    lam_result *res = &call->res;
    int home = r->home;
    met_end(ps->met, call->fi, r->prov, res->duration_ms, res->outcome != LAM_OK,
            call->cold && res->init_ms >= 0, res->init_ms);
    if (lam_env_alive(e)) {
        pthread_mutex_lock(&p->mu);
        r->busy = 0;
        p->busy--;
        r->idle_since = clk_mono_ms();
        r->next = p->idle[r->home];
        p->idle[r->home] = r;
        pthread_mutex_unlock(&p->mu);
    } else {
        pthread_mutex_lock(&p->mu);
        p->busy--;
        pthread_mutex_unlock(&p->mu);
        rec_drop(p, r, 0);
    }
    call->rec = NULL;
    if (call->origin == home || ev_post(ps->loops[call->origin], call_back, call) != 0)
        call->done(call);
}

/* On the environment's loop: runs the call there. */
static void start_home(void *arg)
{
    pool_call *call = arg;
    pool_set *ps = call->ps;
    env_rec *r = call->rec;
    fpool *p = &ps->pools[call->fi];
    if (!call->cold && !lam_env_alive(r->env)) {
        /* it died while idle: a new environment in its place */
        lam_env_kill(r->env);
        char err[256];
        r->env = NULL;
        if (lam_env_start(ps->loops[r->home], p->f, ps->log, env_cpu(ps, p, r->home),
                          &r->env, err, sizeof err) != 0) {
            pthread_mutex_lock(&p->mu);
            p->busy--;
            rec_unlink(p, r);
            p->total--;
            pthread_mutex_unlock(&p->mu);
            int home = r->home;
            free(r);
            call->rec = NULL;
            call->failed = 1;
            lam_result_init(&call->res);
            if (call->origin == home || ev_post(ps->loops[call->origin], call_back, call) != 0)
                call->done(call);
            return;
        }
        call->cold = 1;
    }
    met_begin(ps->met, call->fi, r->prov);
    if (lam_env_invoke_async(r->env, call->event, call->len, &call->res, env_done, call) != 0) {
        lam_result_init(&call->res);
        call->res.outcome = LAM_INIT_ERROR;
        env_done(r->env, call);
    }
}

static env_rec *pop_idle(fpool *p, int n_loops, int worker)
{
    for (int k = 0; k < n_loops; k++) {
        int w = (worker + k) % n_loops;
        env_rec *r = p->idle[w];
        if (r) {
            p->idle[w] = r->next;
            r->next = NULL;
            return r;
        }
    }
    return NULL;
}

int pool_invoke(pool_set *ps, int worker, pool_call *call)
{
    fpool *p = &ps->pools[call->fi];
    call->ps = ps;
    call->origin = worker;
    call->failed = 0;
    pthread_mutex_lock(&p->mu);
    env_rec *r = pop_idle(p, ps->n_loops, worker);
    int create = !r && p->total < p->limit;
    if (r || create)
        p->busy++;
    if (create)
        p->total++;
    pthread_mutex_unlock(&p->mu);
    if (!r && create) {
        r = rec_start(ps, p, worker);
        if (!r) {
            pthread_mutex_lock(&p->mu);
            p->total--;
            p->busy--;
            pthread_mutex_unlock(&p->mu);
        }
    }
    if (!r) {
        met_throttle(ps->met, call->fi);
        return -1;
    }
    r->busy = 1;
    call->rec = r;
    call->cold = create;
    if (r->home == worker || ev_post(ps->loops[r->home], start_home, call) != 0)
        start_home(call);
    return 0;
}

void pool_reap(pool_set *ps, int worker, double idle_s)
{
    double now = clk_mono_ms();
    for (size_t i = 0; i < ps->t->n_functions; i++) {
        fpool *p = &ps->pools[i];
        env_rec *drop = NULL;
        pthread_mutex_lock(&p->mu);
        int n_idle = p->total - p->busy;
        for (env_rec **pp = &p->idle[worker]; *pp;) {
            env_rec *r = *pp;
            int dead = !lam_env_alive(r->env);
            if (dead || (now - r->idle_since > idle_s * 1000.0 && n_idle > p->f->provisioned)) {
                *pp = r->next;
                r->next = drop;
                drop = r;
                n_idle--;
                continue;
            }
            pp = &r->next;
        }
        pthread_mutex_unlock(&p->mu);
        while (drop) {
            env_rec *r = drop;
            drop = r->next;
            rec_drop(p, r, 0);
        }
    }
}

int pool_busy(pool_set *ps)
{
    int n = 0;
    for (size_t i = 0; i < ps->t->n_functions; i++) {
        pthread_mutex_lock(&ps->pools[i].mu);
        n += ps->pools[i].busy;
        pthread_mutex_unlock(&ps->pools[i].mu);
    }
    return n;
}

void pool_stop_worker(pool_set *ps, int worker)
{
    for (size_t i = 0; i < ps->t->n_functions; i++) {
        fpool *p = &ps->pools[i];
        for (;;) {
            pthread_mutex_lock(&p->mu);
            env_rec *r = p->all;
            while (r && r->home != worker)
                r = r->all_next;
            if (r) { /* out of the idle list too, if it is there */
                for (env_rec **pp = &p->idle[worker]; *pp; pp = &(*pp)->next)
                    if (*pp == r) {
                        *pp = r->next;
                        break;
                    }
                if (r->busy)
                    p->busy--;
            }
            pthread_mutex_unlock(&p->mu);
            if (!r)
                break;
            rec_drop(p, r, 1);
        }
    }
}

void pool_free(pool_set *ps)
{
    if (!ps)
        return;
    for (size_t i = 0; i < ps->t->n_functions; i++) {
        fpool *p = &ps->pools[i];
        while (p->all)
            rec_drop(p, p->all, 1);
        pthread_mutex_destroy(&p->mu);
    }
    free(ps);
}
