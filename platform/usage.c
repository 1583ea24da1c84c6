/*
 * API keys and usage plans (see usage.h): the setup calls, the key index
 * (open addressing on a hash of the value, read only once started), the
 * check (token buckets and the quota count of one key-plan pair under its
 * own mutex) and the answers.  SQLite and the writer thread are in
 * usage_db.c.
 */
#define _GNU_SOURCE
#include "usage_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "hash.h"

const char *up_strerror(int err)
{
    switch (err) {
    case UP_OK: return "success";
    case UP_ENOMEM: return "out of memory";
    case UP_EDB: return "usage database error";
    case UP_EINVAL: return "invalid API key or usage plan setting";
    case UP_EEXIST: return "API key or usage plan given twice";
    case UP_ENOENT: return "no such API key or usage plan";
    case UP_ECONFLICT: return "an API key is in two usage plans of one stage";
    case UP_ESTATE: return "usage store called out of order";
    }
    return "unknown error";
}

/* ---- setup ---- */

int up_new(const char *db_path, up_store **out)
{
    *out = NULL;
    up_store *s = calloc(1, sizeof *s);
    if (!s)
        return UP_ENOMEM;
    pthread_mutex_init(&s->dbmu, NULL);
    pthread_mutex_init(&s->wmu, NULL);
    pthread_cond_init(&s->wcv, NULL);
    if (!db_path) {
        db_path = UP_DEFAULT_DB;
        if (mkdir(".nerd", 0755) && errno != EEXIST) {
            snprintf(s->dberr, sizeof s->dberr, "mkdir .nerd: %s", strerror(errno));
            up_free(s);
            return UP_EDB;
        }
    }
    int rc = up__db_open(s, db_path);
    if (rc) {
        up_free(s);
        return rc;
    }
    *out = s;
    return UP_OK;
}

void up_free(up_store *s)
{
    if (!s)
        return;
    up__writer_stop(s);
    if (s->db)
        sqlite3_close(s->db);
    for (size_t i = 0; i < s->n_keys; i++) {
        free(s->keys[i].name);
        free(s->keys[i].value);
    }
    for (size_t i = 0; i < s->n_plans; i++) {
        free(s->plans[i].name);
        free(s->plans[i].stages);
        free(s->plans[i].mt);
    }
    for (size_t i = 0; i < s->n_assocs; i++) {
        if (s->started)
            pthread_mutex_destroy(&s->assocs[i].mu);
        free(s->assocs[i].mbuckets);
    }
    free(s->keys);
    free(s->plans);
    free(s->assocs);
    free(s->index);
    pthread_mutex_destroy(&s->dbmu);
    pthread_mutex_destroy(&s->wmu);
    pthread_cond_destroy(&s->wcv);
    free(s);
}

const char *up_db_error(up_store *s) { return s->dberr; }

static int find_key(const up_store *s, const char *id)
{
    for (size_t i = 0; i < s->n_keys; i++)
        if (!strcmp(s->keys[i].id, id))
            return (int)i;
    return -1;
}

static int find_plan(const up_store *s, const char *id)
{
    for (size_t i = 0; i < s->n_plans; i++)
        if (!strcmp(s->plans[i].id, id))
            return (int)i;
    return -1;
}

static int valid_value(const char *v)
{
    size_t n = strlen(v);
    if (n < UP_KEY_VALUE_MIN || n > UP_KEY_VALUE_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
            return 0;
    return 1;
}

static int valid_id(const char *id) { return id && *id && strlen(id) < UP_ID_MAX; }

int up_key_add(up_store *s, const char *id, const char *name, const char *value, int enabled,
               const char **value_out)
{
    if (s->started)
        return UP_ESTATE;
    if (!valid_id(id) || (name && strlen(name) > UP_NAME_MAX) || (value && !valid_value(value)))
        return UP_EINVAL;
    if (find_key(s, id) >= 0)
        return UP_EEXIST;
    char *v = NULL;
    int rc = value ? ((v = strdup(value)) ? UP_OK : UP_ENOMEM) : up__db_key_value(s, id, &v);
    if (rc)
        return rc;
    for (size_t i = 0; i < s->n_keys; i++)
        if (!strcmp(s->keys[i].value, v)) {
            free(v);
            return UP_EEXIST;
        }
    up__key *k = realloc(s->keys, (s->n_keys + 1) * sizeof *k);
    char *nm = strdup(name ? name : id);
    if (!k || !nm) {
        if (k)
            s->keys = k;
        free(v);
        free(nm);
        return UP_ENOMEM;
    }
    s->keys = k;
    k = &s->keys[s->n_keys++];
    memset(k, 0, sizeof *k);
    snprintf(k->id, sizeof k->id, "%s", id);
    k->name = nm;
    k->value = v;
    k->value_len = strlen(v);
    k->enabled = enabled;
    if (value_out)
        *value_out = v;
    return UP_OK;
}

int up_plan_add(up_store *s, const char *id, const char *name)
{
    if (s->started)
        return UP_ESTATE;
    if (!valid_id(id) || (name && strlen(name) > UP_NAME_MAX))
        return UP_EINVAL;
    if (find_plan(s, id) >= 0)
        return UP_EEXIST;
    up__plan *p = realloc(s->plans, (s->n_plans + 1) * sizeof *p);
    char *nm = strdup(name ? name : id);
    if (!p || !nm) {
        if (p)
            s->plans = p;
        free(nm);
        return UP_ENOMEM;
    }
    s->plans = p;
    p = &s->plans[s->n_plans++];
    memset(p, 0, sizeof *p);
    snprintf(p->id, sizeof p->id, "%s", id);
    p->name = nm;
    return UP_OK;
}

/* The plan named id, for a setup call: NULL and *rc set when not. */
static up__plan *setup_plan(up_store *s, const char *id, int *rc)
{
    int i = s->started ? -1 : find_plan(s, id);
    *rc = s->started ? UP_ESTATE : i < 0 ? UP_ENOENT : UP_OK;
    return i < 0 ? NULL : &s->plans[i];
}

int up_plan_throttle(up_store *s, const char *plan, double rate, long burst)
{
    int rc;
    up__plan *p = setup_plan(s, plan, &rc);
    if (!p)
        return rc;
    if (!(rate >= 0 && rate <= 1e9) || burst < 0)
        return UP_EINVAL;
    p->has_throttle = 1;
    p->rate = rate;
    p->burst = burst;
    return UP_OK;
}

int up_plan_quota(up_store *s, const char *plan, long long limit, up_period period,
                  long long offset)
{
    int rc;
    up__plan *p = setup_plan(s, plan, &rc);
    if (!p)
        return rc;
    if (limit < 0 || offset < 0 || (unsigned)period > UP_MONTH)
        return UP_EINVAL;
    p->has_quota = 1;
    p->limit = limit;
    p->period = period;
    p->offset = offset;
    return UP_OK;
}

static int find_stage(const up__plan *p, const char *api, const char *stage)
{
    for (size_t i = 0; i < p->n_stages; i++)
        if (!strcmp(p->stages[i].api, api) && !strcmp(p->stages[i].stage, stage))
            return (int)i;
    return -1;
}

int up_plan_stage(up_store *s, const char *plan, const char *api, const char *stage)
{
    int rc;
    up__plan *p = setup_plan(s, plan, &rc);
    if (!p)
        return rc;
    if (!valid_id(api) || !valid_id(stage))
        return UP_EINVAL;
    if (find_stage(p, api, stage) >= 0)
        return UP_EEXIST;
    up__stage *st = realloc(p->stages, (p->n_stages + 1) * sizeof *st);
    if (!st)
        return UP_ENOMEM;
    p->stages = st;
    snprintf(st[p->n_stages].api, UP_ID_MAX, "%s", api);
    snprintf(st[p->n_stages].stage, UP_ID_MAX, "%s", stage);
    p->n_stages++;
    return UP_OK;
}

int up_plan_method_throttle(up_store *s, const char *plan, const char *api, const char *stage,
                            const char *method_path, double rate, long burst)
{
    int rc;
    up__plan *p = setup_plan(s, plan, &rc);
    if (!p)
        return rc;
    int si = find_stage(p, api, stage);
    if (si < 0)
        return UP_ENOENT;
    const char *slash = method_path ? strrchr(method_path, '/') : NULL;
    size_t rl = slash ? (size_t)(slash - method_path) : 0;
    if (!slash || method_path[0] != '/' || !slash[1] || strlen(slash + 1) >= 16 ||
        rl >= UP_ID_MAX || !(rate >= 0 && rate <= 1e9) || burst < 0)
        return UP_EINVAL;
    up__mthrottle *mt = realloc(p->mt, (p->n_mt + 1) * sizeof *mt);
    if (!mt)
        return UP_ENOMEM;
    p->mt = mt;
    mt = &p->mt[p->n_mt++];
    mt->stage = (size_t)si;
    if (rl == 0) /* "//GET": the root resource */
        strcpy(mt->resource, "/");
    else
        snprintf(mt->resource, sizeof mt->resource, "%.*s", (int)rl, method_path);
    snprintf(mt->method, sizeof mt->method, "%s", slash + 1);
    mt->rate = rate;
    mt->burst = burst;
    return UP_OK;
}

int up_plan_key(up_store *s, const char *plan, const char *key)
{
    if (s->started)
        return UP_ESTATE;
    int pi = find_plan(s, plan), ki = find_key(s, key);
    if (pi < 0 || ki < 0)
        return UP_ENOENT;
    for (size_t i = 0; i < s->n_assocs; i++)
        if (s->assocs[i].plan == (size_t)pi && s->assocs[i].key == (size_t)ki)
            return UP_EEXIST;
    up__assoc *a = realloc(s->assocs, (s->n_assocs + 1) * sizeof *a);
    if (!a)
        return UP_ENOMEM;
    s->assocs = a;
    a = &s->assocs[s->n_assocs++];
    memset(a, 0, sizeof *a);
    a->plan = (size_t)pi;
    a->key = (size_t)ki;
    return UP_OK;
}

/* ---- periods ---- */

#define DAY_MS 86400000LL

static long long floor_div(long long a, long long b) { return a / b - (a % b < 0); }

long long up_period_start(up_period p, long long t)
{
    long long day = floor_div(t, DAY_MS);
    if (p == UP_DAY)
        return day * DAY_MS;
    if (p == UP_WEEK) /* 1970-01-01 was a Thursday: weekday 4, Sunday 0 */
        return (day - ((day + 4) % 7 + 7) % 7) * DAY_MS;
    time_t secs = (time_t)floor_div(t, 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    return (long long)timegm(&tm) * 1000;
}

/* ---- start ---- */

static uint64_t value_hash(const char *v, size_t n) { return hash_murmur64a(v, n, 0x7570); }

int up_start(up_store *s, long long now_ms)
{
    if (s->started)
        return UP_ESTATE;
    /* a key in at most one plan per stage */
    for (size_t i = 0; i < s->n_assocs; i++)
        for (size_t j = i + 1; j < s->n_assocs; j++) {
            if (s->assocs[i].key != s->assocs[j].key)
                continue;
            const up__plan *a = &s->plans[s->assocs[i].plan], *b = &s->plans[s->assocs[j].plan];
            for (size_t k = 0; k < a->n_stages; k++)
                if (find_stage(b, a->stages[k].api, a->stages[k].stage) >= 0)
                    return UP_ECONFLICT;
        }
    s->n_index = 16;
    while (s->n_index < 2 * s->n_keys)
        s->n_index <<= 1;
    free(s->index); /* (an earlier up_start that failed) */
    s->index = calloc(s->n_index, sizeof *s->index);
    if (!s->index)
        return UP_ENOMEM;
    for (size_t i = 0; i < s->n_keys; i++) {
        size_t h = (size_t)value_hash(s->keys[i].value, s->keys[i].value_len) & (s->n_index - 1);
        while (s->index[h])
            h = (h + 1) & (s->n_index - 1);
        s->index[h] = i + 1;
    }
    for (size_t i = 0; i < s->n_plans; i++) {
        up__plan *p = &s->plans[i];
        long long first = now_ms;
        if (p->has_quota && up__db_plan_first(s, p->id, now_ms, &first))
            return UP_EDB;
        p->first_period = up_period_start(p->period, first);
    }
    for (size_t i = 0; i < s->n_assocs; i++) {
        up__assoc *a = &s->assocs[i];
        const up__plan *p = &s->plans[a->plan];
        free(a->mbuckets);
        a->mbuckets = calloc(p->n_mt ? p->n_mt : 1, sizeof *a->mbuckets);
        if (!a->mbuckets)
            return UP_ENOMEM;
        if (p->has_quota) {
            a->period = up_period_start(p->period, now_ms);
            if (up__db_count(s, s->keys[a->key].id, p->id, a->period, &a->base))
                return UP_EDB;
        }
    }
    for (size_t i = 0; i < s->n_assocs; i++)
        pthread_mutex_init(&s->assocs[i].mu, NULL);
    s->started = 1;
    return up__writer_start(s);
}

/* ---- the check ---- */

const char *up_key_value(up_key_source src, const char *header, const char *authorizer_key)
{
    return src == UP_SOURCE_AUTHORIZER ? authorizer_key : header;
}

static int take(up__bucket *b, double rate, long burst, long long now)
{
    if (burst <= 0 && rate <= 0)
        return 0; /* closed */
    double cap = burst > 0 ? (double)burst : rate;
    if (rate <= 0)
        rate = cap;
    if (!b->last) {
        b->tokens = cap;
    } else if (now > b->last) {
        b->tokens += rate * (double)(now - b->last) / 1000.0;
        if (b->tokens > cap)
            b->tokens = cap;
    }
    if (now > b->last)
        b->last = now;
    if (b->tokens < 1.0)
        return 0;
    b->tokens -= 1.0;
    return 1;
}

static const up__key *lookup(const up_store *s, const char *v, size_t n)
{
    size_t h = (size_t)value_hash(v, n) & (s->n_index - 1);
    for (; s->index[h]; h = (h + 1) & (s->n_index - 1)) {
        const up__key *k = &s->keys[s->index[h] - 1];
        if (k->value_len == n && !memcmp(k->value, v, n))
            return k;
    }
    return NULL;
}

/* Moves a to period (the previous period's unwritten count kept aside). */
static void roll(up__assoc *a, long long period)
{
    if (a->pending) {
        if (a->old_pending && a->old_period != a->period)
            a->old_pending = 0; /* two periods unwritten: the older is history */
        a->old_period = a->period;
        a->old_pending += a->pending;
    }
    a->period = period;
    a->base = 0; /* corrected by the writer's read-back */
    a->pending = 0;
    a->inflight = 0; /* the writer's: of the period before */
}

up_verdict up_check(up_store *s, const char *value, size_t len, const char *api,
                    const char *stage, const char *resource, const char *method, long long now_ms,
                    const char **key_id)
{
    if (key_id)
        *key_id = NULL;
    if (!s->started || !value || !len)
        return UP_FORBIDDEN;
    const up__key *k = lookup(s, value, len);
    if (!k || !k->enabled)
        return UP_FORBIDDEN;
    if (key_id)
        *key_id = k->id;
    size_t ki = (size_t)(k - s->keys);
    up__assoc *a = NULL;
    int si = -1;
    for (size_t i = 0; i < s->n_assocs && !a; i++)
        if (s->assocs[i].key == ki &&
            (si = find_stage(&s->plans[s->assocs[i].plan], api, stage)) >= 0)
            a = &s->assocs[i];
    if (!a)
        return UP_FORBIDDEN;
    const up__plan *p = &s->plans[a->plan];
    const up__mthrottle *mt = NULL;
    size_t mi = 0;
    for (; mi < p->n_mt && resource && method; mi++)
        if (p->mt[mi].stage == (size_t)si && !strcmp(p->mt[mi].resource, resource) &&
            (!strcmp(p->mt[mi].method, method) || !strcmp(p->mt[mi].method, "*"))) {
            mt = &p->mt[mi];
            break;
        }
    up_verdict v = UP_PASS;
    int counted = 0;
    up__bucket *b = mt ? &a->mbuckets[mi] : p->has_throttle ? &a->bucket : NULL;
    pthread_mutex_lock(&a->mu);
    if (b && !take(b, mt ? mt->rate : p->rate, mt ? mt->burst : p->burst, now_ms)) {
        v = UP_THROTTLED;
    } else if (p->has_quota) {
        long long period = up_period_start(p->period, now_ms);
        if (period != a->period)
            roll(a, period);
        long long limit = p->limit - (period == p->first_period ? p->offset : 0);
        if (a->base + a->inflight + a->pending >= limit) {
            v = UP_QUOTA;
            if (b) /* a refused request spends no token */
                b->tokens += 1.0;
        } else {
            a->pending++;
            counted = 1;
        }
    }
    pthread_mutex_unlock(&a->mu);
    if (counted)
        up__wake(s);
    return v;
}

void up_answer_of(up_verdict v, up_answer *out)
{
#define ANSWER(st, b, et) {st, b, sizeof b - 1, "application/json", et}
    static const up_answer answers[] = {
        {0, "", 0, NULL, NULL},
        ANSWER(403, "{\"message\":\"Forbidden\"}", "ForbiddenException"),
        ANSWER(429, "{\"message\":\"Too Many Requests\"}", "TooManyRequestsException"),
        ANSWER(429, "{\"message\":\"Limit Exceeded\"}", "LimitExceededException"),
    };
#undef ANSWER
    *out = answers[(unsigned)v <= UP_QUOTA ? v : UP_FORBIDDEN];
}

long long up_usage(up_store *s, const char *key, const char *plan, long long now_ms)
{
    int ki = find_key(s, key), pi = find_plan(s, plan);
    if (ki < 0 || pi < 0 || !s->plans[pi].has_quota || !s->started)
        return -1;
    for (size_t i = 0; i < s->n_assocs; i++) {
        up__assoc *a = &s->assocs[i];
        if (a->key != (size_t)ki || a->plan != (size_t)pi)
            continue;
        long long period = up_period_start(s->plans[pi].period, now_ms), n = 0;
        pthread_mutex_lock(&a->mu);
        int current = period == a->period;
        if (current)
            n = a->base + a->inflight + a->pending;
        pthread_mutex_unlock(&a->mu);
        if (!current && up__db_count(s, key, plan, period, &n))
            return -1;
        return n;
    }
    return -1;
}
