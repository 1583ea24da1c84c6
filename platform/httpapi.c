/*
 * The HTTP API front (payload format 2.0): the template's routes (first
 * API with a matching route), CORS preflights answered by the gateway and
 * CORS headers set on answers, per-route token buckets (RouteSettings,
 * else DefaultRouteSettings: 429), the event built and the function
 * invoked through the pools (429 at the concurrency limit, 413 over 6 MB),
 * the integration timeout (TimeoutInMillis: 503 while the function runs
 * on), and the result mapped back (apigw.c).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "front.h"

/* Token bucket of a route (its RouteSettings, else its API's
 * DefaultRouteSettings): 1 = allowed. */
static int take_token(gw *g, int route)
{
    const sam_route *r = &g->t->routes[route];
    const sam_api *a = &g->t->apis[r->api];
    double rl = r->throttled ? r->rate_limit : a->rate_limit;
    int bl = r->throttled ? r->burst_limit : a->burst_limit;
    if (bl <= 0 && rl <= 0)
        return r->throttled ? 0 : 1; /* a route set to 0/0 is closed */
    double cap = bl > 0 ? bl : rl;
    double rate = rl > 0 ? rl : cap;
    gw_bucket *b = &g->buckets[route];
    pthread_mutex_lock(&b->mu);
    double t = clk_mono_ms() / 1e3;
    if (b->last == 0)
        b->tokens = cap;
    else
        b->tokens = b->tokens + rate * (t - b->last) > cap ? cap : b->tokens + rate * (t - b->last);
    b->last = t;
    int ok = b->tokens >= 1.0;
    if (ok)
        b->tokens -= 1.0;
    pthread_mutex_unlock(&b->mu);
    return ok;
}

/* The Access-Control-Allow-Origin value for origin under api's CORS
 * configuration, or NULL (SAM's model: "*" or an exact match). */
static const char *cors_origin(const sam_api *a, const char *origin)
{
    if (!a->cors || !origin)
        return NULL;
    for (size_t i = 0; i < a->n_origins; i++) {
        if (!strcmp(a->origins[i], "*"))
            return "*";
        if (!strcmp(a->origins[i], origin))
            return origin;
    }
    return NULL;
}

static void join_list(char *out, size_t cap, const char (*items)[SAM_STR], size_t n)
{
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < n && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? ", " : "", items[i]);
}

/* Adds the CORS headers of api (origin allowed) to r, dropping the
 * backend's own access-control-* headers. */
static void cors_apply(const sam_api *a, const char *allow, apigw_response *r)
{
    size_t k = 0;
    for (size_t i = 0; i < r->n_headers; i++) {
        if (!strncasecmp(r->headers[i][0], "access-control-", 15)) {
            free(r->headers[i][0]);
            free(r->headers[i][1]);
            continue;
        }
        r->headers[k][0] = r->headers[i][0];
        r->headers[k][1] = r->headers[i][1];
        k++;
    }
    r->n_headers = k;
    char v[2048];
    const char *add[3][2] = {{"access-control-allow-origin", allow}, {NULL, NULL}, {NULL, NULL}};
    if (a->allow_credentials)
        add[1][0] = "access-control-allow-credentials", add[1][1] = "true";
    if (a->n_expose) {
        join_list(v, sizeof v, a->expose, a->n_expose);
        add[2][0] = "access-control-expose-headers", add[2][1] = v;
    }
    for (int i = 0; i < 3; i++)
        if (add[i][0] && r->n_headers < APIGW_MAX_HEADERS) {
            r->headers[r->n_headers][0] = strdup(add[i][0]);
            r->headers[r->n_headers][1] = strdup(add[i][1]);
            r->n_headers++;
        }
}

/* Answers a CORS preflight for api. */
static void preflight(gw_req *q, const sam_api *a, const char *allow)
{
    apigw_response r;
    memset(&r, 0, sizeof r);
    char m[SAM_MAX_LIST][SAM_STR];
    const char *hv[5][2];
    int n = 0;
    hv[n][0] = "access-control-allow-origin", hv[n++][1] = allow;
    for (size_t i = 0; i < a->n_methods; i++)
        snprintf(m[i], sizeof m[i], "%s", a->methods[i]);
    char mv[1024], hh[2048], ma[32];
    join_list(mv, sizeof mv, (const char (*)[SAM_STR])m, a->n_methods);
    join_list(hh, sizeof hh, a->headers, a->n_headers);
    if (a->n_methods)
        hv[n][0] = "access-control-allow-methods", hv[n++][1] = mv;
    if (a->n_headers)
        hv[n][0] = "access-control-allow-headers", hv[n++][1] = hh;
    if (a->max_age >= 0) {
        snprintf(ma, sizeof ma, "%d", a->max_age);
        hv[n][0] = "access-control-max-age", hv[n++][1] = ma;
    }
    if (a->allow_credentials)
        hv[n][0] = "access-control-allow-credentials", hv[n++][1] = "true";
    for (int i = 0; i < n; i++) {
        r.headers[i][0] = (char *)hv[i][0];
        r.headers[i][1] = (char *)hv[i][1];
    }
    r.n_headers = (size_t)n;
    gw_reply(q, 204, &r, NULL, 0);
}


/* One invocation through the HTTP API. */
typedef struct api_call {
    gw_req *r;          /* NULL once answered (integration timeout) */
    gw_worker *w;
    int api;
    char allow[512];    /* Access-Control-Allow-Origin to set, "" = none */
    char *event;
    ev_timer timeout;
    pool_call pc;       /* last (its result's tail needs no clearing) */
} api_call;

static void call_free(api_call *k)
{
    lam_result_fini(&k->pc.res);
    free(k->event);
    free(k);
}

static void on_integration_timeout(ev_loop *L, ev_timer *t)
{
    (void)L;
    api_call *k = t->data;
    if (k->r) {
        gw_reply_msg(k->r, 503, "Service Unavailable");
        k->r = NULL;
        k->w->pending--;
    }
}

static void call_done(pool_call *pc)
{
    api_call *k = pc->arg;
    ev_timer_stop(k->w->L, &k->timeout);
    gw_req *r = k->r;
    if (!r) { /* answered 503 already; the function's result is dropped */
        call_free(k);
        return;
    }
    k->w->pending--;
    const lam_result *res = &pc->res;
    if (pc->failed) {
        gw_reply_msg(r, 429, "Too Many Requests");
    } else if (res->outcome != LAM_OK) {
        gw_reply_msg(r, 500, "Internal Server Error");
    } else {
        apigw_response out;
        if (apigw_map_result(res->payload, res->payload_len, &out) == 0) {
            if (k->allow[0])
                cors_apply(&r->g->t->apis[k->api], k->allow, &out);
            gw_reply(r, out.status, &out, out.body, out.body_len);
        } else {
            gw_reply_msg(r, 500, "Internal Server Error");
        }
        apigw_response_fini(&out);
    }
    call_free(k);
}

static int serve(gw_req *r)
{
    gw *g = r->g;
    const http_request *hr = r->hr;
    apigw_match m;
    char origin[512], acrm[64];
    const char *org = gw_header(r, "origin", origin, sizeof origin);
    /* CORS preflight: answered by the gateway for an API with CORS */
    if (!strcmp(r->method, "OPTIONS") && org &&
        gw_header(r, "access-control-request-method", acrm, sizeof acrm)) {
        for (size_t a = 0; a < g->t->n_apis; a++) {
            const char *allow = cors_origin(&g->t->apis[a], org);
            if (allow && apigw_route(g->t, (int)a, acrm, r->path, &m) == 0) {
                preflight(r, &g->t->apis[a], allow);
                return 1;
            }
        }
    }
    /* the first API that has a matching route serves it */
    int api = -1;
    for (size_t a = 0; a < g->t->n_apis && api < 0; a++)
        if (apigw_route(g->t, (int)a, r->method, r->path, &m) == 0)
            api = (int)a;
    if (api < 0)
        return 0;
    if (!take_token(g, m.route)) {
        gw_reply_msg(r, 429, "Too Many Requests");
        return 1;
    }
    const char *allow = cors_origin(&g->t->apis[api], org);
    apigw_kv hdrs[HTTP_MAX_HEADERS];
    for (uint32_t i = 0; i < hr->n_headers; i++)
        hdrs[i] = (apigw_kv){r->buf + hr->headers[i].name, hr->headers[i].name_len,
                             r->buf + hr->headers[i].value, hr->headers[i].value_len};
    char api_id[64];
    snprintf(api_id, sizeof api_id, "%s", g->t->apis[api].name);
    for (char *p = api_id; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    int has_body = hr->body_len > 0 || hr->chunked;
    apigw_request ar = {r->method, r->buf + hr->target, hr->target_len, hdrs, hr->n_headers,
                        has_body ? r->buf + hr->body : NULL, hr->body_len, hc_peer(r->c), r->rid,
                        api_id, clk_epoch_ms()};
    api_call *k = malloc(sizeof *k);
    if (k) {
        memset(k, 0, offsetof(api_call, pc) + offsetof(pool_call, res));
        lam_result_init(&k->pc.res);
    }
    size_t elen = 0;
    char *ev = k ? apigw_event(g->t, &m, &ar, &elen) : NULL;
    if (!ev) {
        free(k);
        gw_reply_msg(r, 500, "Internal Server Error");
        return 1;
    }
    k->event = ev;
    k->r = r;
    k->w = r->w;
    k->api = api;
    if (allow)
        snprintf(k->allow, sizeof k->allow, "%s", allow);
    k->pc.fi = g->t->routes[m.route].function;
    k->pc.event = ev;
    k->pc.len = elen;
    k->pc.done = call_done;
    k->pc.arg = k;
    if (elen > LAM_MAX_PAYLOAD) {
        call_free(k);
        gw_reply_msg(r, 413, "Request Entity Too Large");
        return 1;
    }
    r->w->pending++;
    ev_timer_start(r->w->L, &k->timeout, ev_now(r->w->L) + g->t->routes[m.route].timeout_ms,
                   on_integration_timeout, k);
    if (pool_invoke(g->pools, r->w->id, &k->pc) != 0) {
        ev_timer_stop(r->w->L, &k->timeout);
        r->w->pending--;
        call_free(k);
        gw_reply_msg(r, 429, "Too Many Requests");
    }
    return 1;
}

const gw_front gw_front_httpapi = {"httpapi", serve};
