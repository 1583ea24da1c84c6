/*
 * Execution environment pools, one per function: warm environments are
 * reused (those of the calling worker first), new ones cold-start up to
 * the function's ReservedConcurrentExecutions (else the account's 1,000),
 * beyond which an invocation is throttled; provisioned environments are
 * started and initialised before serving and never reaped; idle ones are
 * shut down after the idle timeout.  An environment lives on the loop of
 * the worker that started it: an invocation from another worker is posted
 * there, and its end posted back.
 *
 * pool_invoke() and pool_reap() are called from worker threads (the pool's
 * lists are under a mutex); pool_prewarm() and pool_free() while no worker
 * runs.
 */
#ifndef NERD_POOL_H
#define NERD_POOL_H

#include <stdio.h>

#include "loop.h"
#include "metrics.h"
#include "runtime.h"
#include "template.h"

#define POOL_ACCOUNT_CONCURRENCY 1000

typedef struct pool_set pool_set;
typedef struct pool_call pool_call;

/* One invocation: the caller fills fi, event/len (kept until done), done
 * and arg; done(call) runs on the calling worker's loop with res filled
 * (the caller frees it with lam_result_fini). */
struct pool_call {
    int fi;
    const char *event;
    size_t len;
    void (*done)(pool_call *call);
    void *arg;
    int cold;            /* a new environment ran it */
    int failed;          /* no result: the environment could not start */
    /* internal */
    int origin;
    void *rec;
    pool_set *ps;
    lam_result res;      /* last: 4 KB that need no clearing */
};

/* Pools for t's functions; loops[i] is worker i's loop and cpus[i] the
 * CPU its thread is pinned to (cpus NULL: none are).  The runtimes of a
 * function of at most 1,769 MB (one vCPU on Lambda) run on their worker's
 * CPU: its wake-ups stay on one core; larger ones on any. */
pool_set *pool_new(const sam_template *t, met *m, FILE *log, ev_loop **loops, const int *cpus,
                   int n_loops);

/* Starts and initialises every function's provisioned environments
 * (spread over the loops), logging INIT_REPORT for each. */
void pool_prewarm(pool_set *ps);

/* Starts call on a warm environment, or a new one; 0, or -1 when the
 * function is at its concurrency limit (counted as a throttle). */
int pool_invoke(pool_set *ps, int worker, pool_call *call);

/* On worker's thread: shuts down its environments idle for more than
 * idle_s seconds (keeping the provisioned count) and those that died. */
void pool_reap(pool_set *ps, int worker, double idle_s);

/* On worker's thread, before it ends: shuts down the environments that
 * live on its loop (SIGTERM, then SIGKILL after 2 s). */
void pool_stop_worker(pool_set *ps, int worker);

/* Environments running an invocation now (all functions). */
int pool_busy(pool_set *ps);

/* Shuts every environment down (SIGTERM, then SIGKILL after 2 s) and
 * frees the pools.  pool_free(NULL) is a no-op. */
void pool_free(pool_set *ps);

#endif
