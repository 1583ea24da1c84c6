/*
 * The API key stage of admission (see admit_keys.h).  At start-up the
 * template's API keys, usage plans and plan keys (AWS::ApiGateway::*, and
 * those SAM makes for Auth.UsagePlan: PER_API, SHARED) become a usage
 * store (usage.h) over an SQLite file; each key is printed, its value
 * generated once and kept in that file where the template gives none.  Per
 * request: the method's ApiKeyRequired, the key from its source, up_check
 * (no I/O), and the REST answers of answer.c.
 */
#define _GNU_SOURCE
#include "admit_keys.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "fsutil.h"
#include "usage.h"

/* ---- start-up ---- */

/* 1 when the CORS preflight SAM adds to API a's paths needs a key. */
static int preflight_needs_key(const sam_api *a)
{
    return a->type == SAM_REST_API && a->cors && a->auth.api_key_required &&
           a->auth.api_key_on_preflight;
}

/* 1 when some method of t requires an API key. */
static int keys_needed(const sam_template *t)
{
    for (size_t i = 0; i < t->n_routes; i++)
        if (t->routes[i].api_key_required)
            return 1;
    for (size_t i = 0; i < t->n_apis; i++)
        if (preflight_needs_key(&t->apis[i]))
            return 1;
    return 0;
}

static up_period period_of(sam_period p)
{
    return p == SAM_PERIOD_DAY ? UP_DAY : p == SAM_PERIOD_WEEK ? UP_WEEK : UP_MONTH;
}

/* Plan p of t into s: its throttle, quota, stages and per-method throttles. */
static int add_plan(up_store *s, const sam_template *t, const sam_usage_plan *p, FILE *lf)
{
    int rc = up_plan_add(s, p->name, p->plan_name[0] ? p->plan_name : NULL);
    if (!rc && p->throttled)
        rc = up_plan_throttle(s, p->name, p->rate_limit, p->burst_limit);
    if (!rc && p->quota_limit >= 0) {
        rc = up_plan_quota(s, p->name, p->quota_limit, period_of(p->quota_period),
                           p->quota_offset);
        if (!rc && p->quota_offset > 0)
            fprintf(lf, "nerd: note: usage plan %s: Quota.Offset %d is taken as requests "
                    "already spent in the plan's first period (the API reference's meaning; "
                    "docs/auth.md)\n", p->name, p->quota_offset);
    }
    for (size_t i = 0; i < p->n_stages && !rc; i++) {
        const sam_plan_stage *st = &p->stages[i];
        const char *api = t->apis[st->api].name;
        rc = up_plan_stage(s, p->name, api, st->stage);
        for (size_t m = 0; m < st->n_throttle && !rc; m++) {
            char mp[2 * SAM_STR + 2];
            snprintf(mp, sizeof mp, "%s/%s", st->throttle[m].path, st->throttle[m].method);
            rc = up_plan_method_throttle(s, p->name, api, st->stage, mp,
                                         st->throttle[m].rate_limit, st->throttle[m].burst_limit);
        }
    }
    return rc;
}

/* Appends to b[cap] at *o, clamped. */
static void add(char *b, size_t cap, size_t *o, const char *fmt, ...)
{
    if (*o >= cap - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b + *o, cap - *o, fmt, ap);
    va_end(ap);
    *o = n < 0 ? *o : *o + (size_t)n < cap ? *o + (size_t)n : cap - 1;
}

/* The start-up line of key ki: "API key NAME: VALUE (plans; origin)". */
static void print_key(FILE *lf, const sam_template *t, size_t ki, const char *value,
                      const char *db)
{
    const sam_api_key *k = &t->keys[ki];
    char notes[1024] = "";
    size_t o = 0, n = 0;
    if (!k->enabled)
        add(notes, sizeof notes, &o, "disabled: Enabled is not true; ");
    for (size_t i = 0; i < t->n_plan_keys; i++)
        if (t->plan_keys[i].key == (int)ki)
            add(notes, sizeof notes, &o, "%s%s", n++ ? ", " : "usage plan ",
                t->plans[t->plan_keys[i].plan].name);
    if (!n)
        add(notes, sizeof notes, &o, "in no usage plan: refused");
    if (k->value[0])
        add(notes, sizeof notes, &o, "; Value from the template");
    else
        add(notes, sizeof notes, &o, "; generated, kept in %s", db);
    fprintf(lf, "API key %s: %s (%s)\n", k->name, value, notes);
}

/* Makes the folder of file path when missing (mkdir -p). */
static int make_parent(const char *path, char *err, size_t errlen)
{
    char dir[1024];
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    if ((size_t)(slash - path) >= sizeof dir) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = 0;
    if (fs_mkdirs(dir)) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

int gw_keys_open(gw *g, char *err, size_t errlen)
{
    const sam_template *t = g->t;
    FILE *lf = g->o->log;
    const char *db = g->o->usage_db ? g->o->usage_db : UP_DEFAULT_DB;
    const char *values[SAM_MAX_KEYS];
    const char *what = "";
    up_store *s = NULL;
    g->usage = NULL;
    if (!keys_needed(t)) {
        if (t->n_keys || t->n_plans)
            fprintf(lf, "nerd: note: no method requires an API key: the template's API keys "
                    "and usage plans are not checked\n");
        return 0;
    }
    if (make_parent(db, err, errlen))
        return -1;
    int rc = up_new(db, &s);
    if (rc) {
        snprintf(err, errlen, "%s: cannot open the usage database (%s)", db, up_strerror(rc));
        return -1;
    }
    for (size_t i = 0; i < t->n_keys && !rc; i++) {
        const sam_api_key *k = &t->keys[i];
        what = k->name;
        rc = up_key_add(s, k->name, NULL, k->value[0] ? k->value : NULL, k->enabled, &values[i]);
    }
    for (size_t i = 0; i < t->n_plans && !rc; i++) {
        what = t->plans[i].name;
        rc = add_plan(s, t, &t->plans[i], lf);
    }
    for (size_t i = 0; i < t->n_plan_keys && !rc; i++) {
        what = t->keys[t->plan_keys[i].key].name;
        rc = up_plan_key(s, t->plans[t->plan_keys[i].plan].name, what);
    }
    if (!rc) {
        what = "usage plans";
        rc = up_start(s, clk_epoch_ms());
    }
    if (rc) {
        snprintf(err, errlen, "%s: %s%s%s", what, up_strerror(rc), rc == UP_EDB ? ": " : "",
                 rc == UP_EDB ? up_db_error(s) : "");
        up_free(s);
        return -1;
    }
    for (size_t i = 0; i < t->n_keys; i++)
        print_key(lf, t, i, values[i], db);
    fflush(lf);
    g->usage = s;
    return 0;
}

void gw_keys_close(gw *g)
{
    up_free(g->usage);
    g->usage = NULL;
}

/* ---- the check ---- */

static gw_verdict check_key(gw_admission *a)
{
    const gw *g = a->w->g;
    const sam_template *t = g->t;
    const sam_api *api = &t->apis[a->api];
    if (a->route >= 0 ? !t->routes[a->route].api_key_required : !preflight_needs_key(api))
        return GW_PASS;
    size_t hl = 0;
    const char *h = http_header(a->r->hr, a->r->buf, "x-api-key", &hl, 0);
    const char *v = up_key_value(api->key_source_authorizer ? UP_SOURCE_AUTHORIZER
                                                            : UP_SOURCE_HEADER, h, a->usage_key);
    size_t n = !v ? 0 : v == h ? hl : strlen(v);
    const char *id = NULL;
    up_verdict uv = UP_FORBIDDEN;
    if (g->usage)
        uv = up_check(g->usage, v, n, api->name, a->stage,
                      a->resource >= 0 ? t->resources[a->resource].path : NULL,
                      a->route >= 0 ? t->routes[a->route].method : "OPTIONS", a->time_ms, &id);
    if (uv == UP_PASS) { /* (a key known to the store: at most 128 bytes) */
        memcpy(a->api_key, v, n);
        a->api_key[n] = 0;
        snprintf(a->api_key_id, sizeof a->api_key_id, "%s", id);
        return GW_PASS;
    }
    gw_answer_reply(a->r, a->dialect, uv == UP_THROTTLED ? GW_ANS_THROTTLED
                                      : uv == UP_QUOTA   ? GW_ANS_QUOTA_EXCEEDED
                                                         : GW_ANS_INVALID_API_KEY, a->ids);
    return GW_ANSWERED;
}

const gw_stage gw_stage_api_key = {"api-key", check_key};
