/*
 * Platform metrics (see metrics.h).
 */
#define _GNU_SOURCE
#include "metrics.h"

#include <math.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NB 200            /* histogram buckets: 8 per octave from 0.01 ms */
#define H_MIN 0.01

typedef struct slot {
    long long sec;
    uint32_t inv, err, thr, cold, pc_inv;
    uint32_t conc_max, pc_max;
    double dur_sum, dur_max, init_sum;
    uint32_t hist[NB];
} slot;

typedef struct fn {
    char name[SAM_STR];
    int provisioned, reserved;
    int conc, pc_conc;
    long long last_sec; /* the newest second with a slot */
    uint64_t inv, err, thr, cold, pc_inv;
    uint32_t conc_max;
    double dur_sum, dur_max, init_sum;
    uint64_t hist[NB];
    slot *ring; /* MET_SECONDS */
} fn;

struct met {
    pthread_mutex_t mu;
    long long started;
    size_t n;
    fn *f;
};

static long long now_s(void) { return (long long)time(NULL); }

static int bucket(double ms)
{
    if (ms <= H_MIN)
        return 0;
    int b = (int)(log2(ms / H_MIN) * 8.0) + 1;
    return b >= NB ? NB - 1 : b;
}

static double bucket_value(int b) /* upper bound of bucket b, ms */
{
    return b == 0 ? H_MIN : H_MIN * pow(2.0, b / 8.0);
}

met *met_new(const sam_template *t)
{
    met *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    pthread_mutexattr_t ma; /* adaptive: spin briefly before sleeping */
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&m->mu, &ma);
    pthread_mutexattr_destroy(&ma);
    m->started = now_s();
    m->n = t->n_functions;
    m->f = calloc(m->n ? m->n : 1, sizeof *m->f);
    if (!m->f) {
        free(m);
        return NULL;
    }
    for (size_t i = 0; i < m->n; i++) {
        snprintf(m->f[i].name, sizeof m->f[i].name, "%s", t->functions[i].name);
        m->f[i].provisioned = t->functions[i].provisioned;
        m->f[i].reserved = t->functions[i].reserved;
        m->f[i].ring = calloc(MET_SECONDS, sizeof(slot));
        if (!m->f[i].ring) {
            met_free(m);
            return NULL;
        }
    }
    return m;
}

void met_free(met *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        free(m->f[i].ring);
    free(m->f);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

/* A slot begun for second s holds the concurrency carried into it.  No
 * invocation began or ended in the seconds since f's newest slot, so the
 * concurrency then was what it is now: they get slots holding it, and an
 * invocation running for minutes is counted in every second it runs, as
 * CloudWatch's ConcurrentExecutions (max per period) counts it. */
static void begin_slot(fn *f, long long s)
{
    slot *x = &f->ring[s % MET_SECONDS];
    memset(x, 0, sizeof *x);
    x->sec = s;
    x->conc_max = (uint32_t)f->conc;
    x->pc_max = (uint32_t)f->pc_conc;
}

static slot *cur_slot(fn *f, long long s)
{
    slot *x = &f->ring[s % MET_SECONDS];
    if (x->sec != s) {
        if (f->conc > 0 && s > f->last_sec)
            for (long long g = f->last_sec + 1 > s - MET_SECONDS + 1 ? f->last_sec + 1
                                                                     : s - MET_SECONDS + 1;
                 g < s; g++)
                begin_slot(f, g);
        begin_slot(f, s);
        if (s > f->last_sec)
            f->last_sec = s;
    }
    return x;
}

void met_begin(met *m, int fi, int provisioned)
{
    if (!m || fi < 0 || (size_t)fi >= m->n)
        return;
    pthread_mutex_lock(&m->mu);
    fn *f = &m->f[fi];
    slot *x = cur_slot(f, now_s());
    f->conc++;
    if (provisioned)
        f->pc_conc++;
    if ((uint32_t)f->conc > f->conc_max)
        f->conc_max = (uint32_t)f->conc;
    if ((uint32_t)f->conc > x->conc_max)
        x->conc_max = (uint32_t)f->conc;
    if ((uint32_t)f->pc_conc > x->pc_max)
        x->pc_max = (uint32_t)f->pc_conc;
    pthread_mutex_unlock(&m->mu);
}

void met_end(met *m, int fi, int provisioned, double duration_ms, int error, int cold,
             double init_ms)
{
    if (!m || fi < 0 || (size_t)fi >= m->n)
        return;
    pthread_mutex_lock(&m->mu);
    fn *f = &m->f[fi];
    slot *x = cur_slot(f, now_s());
    int b = bucket(duration_ms);
    f->conc--;
    if (provisioned)
        f->pc_conc--;
    f->inv++;
    x->inv++;
    if (provisioned) {
        f->pc_inv++;
        x->pc_inv++;
    }
    if (error) {
        f->err++;
        x->err++;
    }
    if (cold) {
        f->cold++;
        x->cold++;
        f->init_sum += init_ms;
        x->init_sum += init_ms;
    }
    f->dur_sum += duration_ms;
    x->dur_sum += duration_ms;
    if (duration_ms > f->dur_max)
        f->dur_max = duration_ms;
    if (duration_ms > x->dur_max)
        x->dur_max = duration_ms;
    f->hist[b]++;
    x->hist[b]++;
    pthread_mutex_unlock(&m->mu);
}

void met_throttle(met *m, int fi)
{
    if (!m || fi < 0 || (size_t)fi >= m->n)
        return;
    pthread_mutex_lock(&m->mu);
    m->f[fi].thr++;
    cur_slot(&m->f[fi], now_s())->thr++;
    pthread_mutex_unlock(&m->mu);
}

/* The p quantile of the n durations counted in h: the upper bound of its
 * bucket, or max (the longest duration) where that is less. */
static double pct64(const uint64_t *h, uint64_t n, double p, double max)
{
    if (!n)
        return 0;
    uint64_t rank = (uint64_t)ceil(p * (double)n), acc = 0;
    if (rank < 1)
        rank = 1;
    for (int b = 0; b < NB; b++) {
        acc += h[b];
        if (acc >= rank)
            return fmin(bucket_value(b), max);
    }
    return fmin(bucket_value(NB - 1), max);
}

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static void add(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(buf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        if (!b->p || b->cap - b->n < 256) {
            size_t cap = b->cap ? b->cap * 2 : 8192;
            char *p = realloc(b->p, cap);
            if (!p)
                return;
            b->p = p;
            b->cap = cap;
        }
        va_start(ap, fmt);
        int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (k < 0)
            return;
        if ((size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)k;
        char *p = realloc(b->p, cap);
        if (!p)
            return;
        b->p = p;
        b->cap = cap;
    }
}

char *met_prometheus(met *m, size_t *len)
{
    buf b = {0};
    pthread_mutex_lock(&m->mu);
    static const char *const help[][2] = {
        {"invocations_total", "Invocations (function errors included, throttles not)"},
        {"errors_total", "Invocations that ended in a function error"},
        {"throttles_total", "Invocation requests throttled (no concurrency available)"},
        {"cold_starts_total", "Invocations that started a new execution environment"},
        {"provisioned_invocations_total", "Invocations served by provisioned environments"}};
    for (int k = 0; k < 5; k++) {
        add(&b, "# HELP nerd_lambda_%s %s\n# TYPE nerd_lambda_%s counter\n", help[k][0],
            help[k][1], help[k][0]);
        for (size_t i = 0; i < m->n; i++) {
            fn *f = &m->f[i];
            uint64_t v = k == 0 ? f->inv : k == 1 ? f->err : k == 2 ? f->thr : k == 3 ? f->cold
                                                                                   : f->pc_inv;
            add(&b, "nerd_lambda_%s{function=\"%s\"} %llu\n", help[k][0], f->name,
                (unsigned long long)v);
        }
    }
    add(&b, "# HELP nerd_lambda_duration_ms Duration of invocations\n"
            "# TYPE nerd_lambda_duration_ms summary\n");
    for (size_t i = 0; i < m->n; i++) {
        fn *f = &m->f[i];
        static const double q[] = {0.5, 0.95, 0.99};
        for (int k = 0; k < 3; k++)
            add(&b, "nerd_lambda_duration_ms{function=\"%s\",quantile=\"%g\"} %.3f\n", f->name,
                q[k], pct64(f->hist, f->inv, q[k], f->dur_max));
        add(&b, "nerd_lambda_duration_ms_sum{function=\"%s\"} %.3f\n", f->name, f->dur_sum);
        add(&b, "nerd_lambda_duration_ms_count{function=\"%s\"} %llu\n", f->name,
            (unsigned long long)f->inv);
    }
    add(&b, "# HELP nerd_lambda_duration_max_ms Longest invocation\n"
            "# TYPE nerd_lambda_duration_max_ms gauge\n");
    for (size_t i = 0; i < m->n; i++)
        add(&b, "nerd_lambda_duration_max_ms{function=\"%s\"} %.3f\n", m->f[i].name,
            m->f[i].dur_max);
    add(&b, "# HELP nerd_lambda_init_duration_ms_sum Init Duration of cold starts\n"
            "# TYPE nerd_lambda_init_duration_ms_sum counter\n");
    for (size_t i = 0; i < m->n; i++)
        add(&b, "nerd_lambda_init_duration_ms_sum{function=\"%s\"} %.3f\n", m->f[i].name,
            m->f[i].init_sum);
    add(&b, "# HELP nerd_lambda_concurrent_executions Invocations running now\n"
            "# TYPE nerd_lambda_concurrent_executions gauge\n");
    for (size_t i = 0; i < m->n; i++)
        add(&b, "nerd_lambda_concurrent_executions{function=\"%s\"} %d\n", m->f[i].name,
            m->f[i].conc);
    add(&b, "# HELP nerd_lambda_concurrent_executions_max Most invocations running at once\n"
            "# TYPE nerd_lambda_concurrent_executions_max gauge\n");
    for (size_t i = 0; i < m->n; i++)
        add(&b, "nerd_lambda_concurrent_executions_max{function=\"%s\"} %u\n", m->f[i].name,
            m->f[i].conc_max);
    add(&b, "# HELP nerd_lambda_provisioned_concurrency_utilization Busy provisioned "
            "environments / provisioned concurrency\n"
            "# TYPE nerd_lambda_provisioned_concurrency_utilization gauge\n");
    for (size_t i = 0; i < m->n; i++)
        if (m->f[i].provisioned > 0)
            add(&b, "nerd_lambda_provisioned_concurrency_utilization{function=\"%s\"} %.3f\n",
                m->f[i].name, (double)m->f[i].pc_conc / m->f[i].provisioned);
    pthread_mutex_unlock(&m->mu);
    if (len)
        *len = b.p ? b.n : 0;
    return b.p;
}

/* What a series entry and a function's totals have in common. */
static void add_stats(buf *b, uint64_t inv, uint64_t err, uint64_t thr, uint64_t cold,
                      double isum, double dsum, double dmax, const uint64_t *h)
{
    add(b, "\"Invocations\":%llu,\"Errors\":%llu,\"Throttles\":%llu,"
           "\"ColdStarts\":%llu,\"InitDurationAvg\":%.3f,\"DurationAvg\":%.3f,"
           "\"DurationP50\":%.3f,\"DurationP95\":%.3f,\"DurationP99\":%.3f,"
           "\"DurationMax\":%.3f,",
        (unsigned long long)inv, (unsigned long long)err, (unsigned long long)thr,
        (unsigned long long)cold, cold ? isum / (double)cold : 0, inv ? dsum / (double)inv : 0,
        pct64(h, inv, 0.5, dmax), pct64(h, inv, 0.95, dmax), pct64(h, inv, 0.99, dmax), dmax);
}

char *met_json(met *m, long long from_s, long long to_s, int period, size_t *len)
{
    buf b = {0};
    long long now = now_s();
    if (period != 60)
        period = 1;
    if (to_s > now)
        to_s = now;
    if (from_s < now - MET_SECONDS + 1)
        from_s = now - MET_SECONDS + 1;
    from_s -= from_s % period;
    pthread_mutex_lock(&m->mu);
    add(&b, "{\"period\":%d,\"from\":%lld,\"to\":%lld,\"started\":%lld,\"functions\":{", period,
        from_s, to_s, m->started);
    for (size_t i = 0; i < m->n; i++) {
        fn *f = &m->f[i];
        add(&b, "%s\"%s\":[", i ? "," : "", f->name);
        int first = 1;
        for (long long t = from_s; t <= to_s; t += period) {
            uint64_t inv = 0, err = 0, thr = 0, cold = 0, pc_inv = 0, h[NB] = {0};
            uint32_t cmax = 0, pmax = 0;
            double dsum = 0, dmax = 0, isum = 0;
            for (long long s = t; s < t + period && s <= to_s; s++) {
                const slot *x = &f->ring[s % MET_SECONDS];
                if (x->sec != s) {
                    if (s > f->last_sec) { /* nothing began or ended since */
                        if ((uint32_t)f->conc > cmax)
                            cmax = (uint32_t)f->conc;
                        if ((uint32_t)f->pc_conc > pmax)
                            pmax = (uint32_t)f->pc_conc;
                    }
                    continue;
                }
                inv += x->inv;
                err += x->err;
                thr += x->thr;
                cold += x->cold;
                pc_inv += x->pc_inv;
                dsum += x->dur_sum;
                isum += x->init_sum;
                if (x->dur_max > dmax)
                    dmax = x->dur_max;
                if (x->conc_max > cmax)
                    cmax = x->conc_max;
                if (x->pc_max > pmax)
                    pmax = x->pc_max;
                for (int k = 0; k < NB; k++)
                    h[k] += x->hist[k];
            }
            add(&b, "%s{\"t\":%lld,", first ? "" : ",", t);
            add_stats(&b, inv, err, thr, cold, isum, dsum, dmax, h);
            add(&b, "\"ConcurrentExecutions\":%u,\"ProvisionedConcurrencyInvocations\":%llu,"
                    "\"ProvisionedConcurrencyUtilization\":%.3f}",
                cmax, (unsigned long long)pc_inv,
                f->provisioned > 0 ? (double)pmax / f->provisioned : 0);
            first = 0;
        }
        add(&b, "]");
    }
    add(&b, "},\"totals\":{");
    for (size_t i = 0; i < m->n; i++) {
        fn *f = &m->f[i];
        add(&b, "%s\"%s\":{", i ? "," : "", f->name);
        add_stats(&b, f->inv, f->err, f->thr, f->cold, f->init_sum, f->dur_sum, f->dur_max,
                  f->hist);
        add(&b, "\"ConcurrentExecutions\":%d,\"ConcurrentExecutionsMax\":%u,"
                "\"ProvisionedConcurrencyInvocations\":%llu,",
            f->conc, f->conc_max, (unsigned long long)f->pc_inv);
        if (f->reserved >= 0)
            add(&b, "\"ReservedConcurrentExecutions\":%d,", f->reserved);
        else
            add(&b, "\"ReservedConcurrentExecutions\":null,");
        add(&b, "\"ProvisionedConcurrentExecutions\":%d}", f->provisioned);
    }
    add(&b, "}}");
    pthread_mutex_unlock(&m->mu);
    if (len)
        *len = b.p ? b.n : 0;
    return b.p;
}
