/*
 * Event (asynchronous) invocations, as Lambda's async queue runs them: the
 * Invoke API answers 202 and queues the event; each job runs on the loop
 * of the worker that queued it, through the pools like any invocation:
 * up to 1 + MaximumRetryAttempts attempts (retried after 1 s, then 2 s,
 * where Lambda waits about 1 and 2 minutes), throttles retried every
 * second until MaximumEventAgeInSeconds; the outcome goes to the
 * OnSuccess / OnFailure destination (a JSON line per record, Lambda's
 * invocation record format).  At most GW_ASYNC_QUEUE jobs are queued or
 * running at once; beyond, the Invoke API answers 429.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "front.h"
#include "fsutil.h"

typedef struct async_job {
    gw *g;
    gw_worker *w;
    int fi;
    char *event;
    size_t len;
    double t0;        /* when it was queued (monotonic ms) */
    char id[40];      /* the invocation's request id (x-amzn-RequestId) */
    int attempts, failed, running;
    const char *condition;
    pool_call pc;
    lam_result last;
    ev_timer retry;
    struct async_job *prev, *next; /* the worker's waiting jobs */
} async_job;

struct gw_async {
    pthread_mutex_t dest_mu;  /* destination files */
    atomic_size_t pending;
    async_job *waiting[GW_MAX_WORKERS]; /* per worker, in a retry wait */
};

/* Appends one invocation record (Lambda's destination format) as a JSON
 * line to DIR/FUNCTION-KIND.jsonl. */
static void destination_write(gw *g, const sam_function *f, const char *kind,
                              const char *condition, const async_job *j,
                              const lam_result *res, int failed)
{
    const char *dir = g->o->destinations ? g->o->destinations : ".nerd/destinations";
    json_error_t je;
    json_t *req = json_loadb(j->event, j->len, JSON_DECODE_ANY, &je);
    json_t *resp = res && res->payload
                       ? json_loadb(res->payload, res->payload_len, JSON_DECODE_ANY, &je)
                       : NULL;
    if (!resp)
        resp = res && res->payload ? json_stringn(res->payload, res->payload_len) : json_null();
    char ts[40], arn[SAM_STR + 96];
    long long ms = clk_epoch_ms();
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t k = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + k, sizeof ts - k, ".%03lldZ", ms % 1000);
    snprintf(arn, sizeof arn, "arn:aws:lambda:us-east-1:123456789012:function:%s:$LATEST", f->name);
    json_t *ctx = json_pack("{s:s, s:s, s:s, s:i}", "requestId", j->id, "functionArn", arn,
                            "condition", condition, "approximateInvokeCount", j->attempts);
    json_t *rc = json_pack("{s:i, s:s}", "statusCode", 200, "executedVersion", "$LATEST");
    if (rc && failed)
        json_object_set_new(rc, "functionError", json_string("Unhandled"));
    json_t *rec = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "version", "1.0", "timestamp", ts,
                            "requestContext", ctx, "requestPayload", req ? req : json_null(),
                            "responseContext", rc, "responsePayload", resp);
    char *line = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
    json_decref(rec);
    char path[1400];
    snprintf(path, sizeof path, "%.1000s/%.256s-%s.jsonl", dir, f->name, kind);
    pthread_mutex_lock(&g->async->dest_mu);
    FILE *out = line && !fs_mkdirs(dir) ? fopen(path, "a") : NULL;
    if (out) {
        fprintf(out, "%s\n", line);
        fclose(out);
    }
    pthread_mutex_unlock(&g->async->dest_mu);
    fprintf(g->o->log, "nerd: async %s %s: %s after %d attempt%s%s%s\n", f->name, j->id,
            condition, j->attempts, j->attempts == 1 ? "" : "s", out ? " -> " : "",
            out ? path : " (no destination written)");
    fflush(g->o->log);
    free(line);
}

static void job_try(async_job *j);

static void waiting_add(async_job *j)
{
    gw_async *a = j->g->async;
    j->prev = NULL;
    j->next = a->waiting[j->w->id];
    if (j->next)
        j->next->prev = j;
    a->waiting[j->w->id] = j;
}

static void waiting_del(async_job *j)
{
    gw_async *a = j->g->async;
    if (j->prev)
        j->prev->next = j->next;
    else if (a->waiting[j->w->id] == j)
        a->waiting[j->w->id] = j->next;
    if (j->next)
        j->next->prev = j->prev;
    j->prev = j->next = NULL;
}

static void job_finish(async_job *j)
{
    gw *g = j->g;
    const sam_function *f = &g->t->functions[j->fi];
    if (j->failed && f->on_failure[0])
        destination_write(g, f, "OnFailure", j->condition, j, &j->last, 1);
    else if (!j->failed && f->on_success[0])
        destination_write(g, f, "OnSuccess", "Success", j, &j->last, 0);
    else if (j->failed) {
        fprintf(g->o->log, "nerd: async %s %s: %s after %d attempts; discarded (no OnFailure "
                "destination)\n", f->name, j->id, j->condition, j->attempts);
        fflush(g->o->log);
    }
    lam_result_fini(&j->last);
    free(j->event);
    atomic_fetch_sub(&g->async->pending, 1);
    free(j);
}

static void on_retry(ev_loop *L, ev_timer *t)
{
    (void)L;
    async_job *j = t->data;
    waiting_del(j);
    job_try(j);
}

static void wait_then_try(async_job *j, double ms)
{
    waiting_add(j);
    ev_timer_start(j->w->L, &j->retry, ev_now(j->w->L) + ms, on_retry, j);
}

static void attempt_done(pool_call *pc)
{
    async_job *j = pc->arg;
    j->running = 0;
    if (pc->failed) { /* no environment could start: as a throttle */
        wait_then_try(j, 1000);
        return;
    }
    lam_result_fini(&j->last);
    j->last = pc->res;
    memset(&pc->res, 0, sizeof pc->res);
    j->attempts++;
    j->failed = j->last.outcome != LAM_OK;
    const sam_function *f = &j->g->t->functions[j->fi];
    if (!j->failed || j->attempts > f->async_retries || j->g->stopping) {
        job_finish(j);
        return;
    }
    wait_then_try(j, 1000.0 * j->attempts);
}

static void job_try(async_job *j)
{
    gw *g = j->g;
    const sam_function *f = &g->t->functions[j->fi];
    if (g->stopping || j->attempts > f->async_retries) {
        job_finish(j);
        return;
    }
    if (clk_mono_ms() - j->t0 > f->max_event_age_s * 1000.0) {
        j->condition = "EventAgeExceeded";
        job_finish(j);
        return;
    }
    memset(&j->pc, 0, sizeof j->pc);
    j->pc.fi = j->fi;
    j->pc.event = j->event;
    j->pc.len = j->len;
    j->pc.done = attempt_done;
    j->pc.arg = j;
    j->running = 1;
    if (pool_invoke(g->pools, j->w->id, &j->pc) != 0) {
        j->running = 0;
        wait_then_try(j, 1000); /* throttled: again in a second */
    }
}

gw_async *gw_async_new(gw *g)
{
    (void)g;
    gw_async *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    pthread_mutex_init(&a->dest_mu, NULL);
    atomic_init(&a->pending, 0);
    return a;
}

int gw_async_submit(gw *g, gw_worker *w, int fi, const char *event, size_t len, const char *id)
{
    gw_async *a = g->async;
    if (atomic_fetch_add(&a->pending, 1) >= GW_ASYNC_QUEUE) {
        atomic_fetch_sub(&a->pending, 1);
        return -1;
    }
    async_job *j = calloc(1, sizeof *j);
    char *copy = malloc(len + 1);
    if (!j || !copy) {
        free(j);
        free(copy);
        atomic_fetch_sub(&a->pending, 1);
        return -1;
    }
    memcpy(copy, event, len);
    copy[len] = 0;
    j->g = g;
    j->w = w;
    j->fi = fi;
    j->event = copy;
    j->len = len;
    j->t0 = clk_mono_ms();
    j->failed = 1;
    j->condition = "RetriesExhausted";
    snprintf(j->id, sizeof j->id, "%s", id);
    /* after this request's answer: the 202 goes out first */
    waiting_add(j);
    ev_timer_start(w->L, &j->retry, ev_now(w->L), on_retry, j);
    return 0;
}

size_t gw_async_pending(gw_async *a) { return atomic_load(&a->pending); }

void gw_async_stop(gw_async *a, gw_worker *w)
{
    while (a->waiting[w->id]) {
        async_job *j = a->waiting[w->id];
        waiting_del(j);
        ev_timer_stop(w->L, &j->retry);
        job_finish(j);
    }
}

void gw_async_free(gw_async *a)
{
    if (!a)
        return;
    pthread_mutex_destroy(&a->dest_mu);
    free(a);
}
