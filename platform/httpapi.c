/*
 * The HTTP API front: the template's HTTP API routes (first API with a
 * matching route), CORS preflights answered by the gateway and CORS
 * headers set on answers, admission (admission.h: the route's token
 * bucket from RouteSettings, else DefaultRouteSettings: 429), the event
 * (payload 2.0 from apigw.c, or 1.0 from apigw_v1.c for
 * PayloadFormatVersion 1.0) invoked through integration.c (429 at the
 * concurrency limit, 413 over 6 MB, 503 at TimeoutInMillis while the
 * function runs on), and the result mapped back.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apigw_v1.h"
#include "integration.h"

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


/* The front's state behind its gw_call. */
typedef struct http_call {
    char allow[512];    /* Access-Control-Allow-Origin to set, "" = none */
    char api_id[64];
    apigw_match m;
} http_call;

static void done(gw_call *k, gw_req *r, gw_outcome o)
{
    const http_call *h = k->front;
    const sam_route *rt = &r->g->t->routes[k->adm.route];
    const lam_result *res = &k->pc.res;
    apigw_response out;
    int rc;
    if (o != GW_RESULT || res->outcome != LAM_OK) {
        gw_answer_reply(r, &gw_http_dialect, o == GW_TIMED_OUT ? GW_ANS_INTEGRATION_TIMEOUT
                        : o == GW_REJECTED ? GW_ANS_LAMBDA_REJECTED : GW_ANS_INTEGRATION_FAILURE,
                        NULL);
        return;
    }
    if (rt->payload_version == 1) {
        apigw_v1_options opt = {1, NULL, NULL, 0, 0};
        rc = apigw_v1_map_result(res->payload, res->payload_len, &opt, &out);
    } else {
        rc = apigw_map_result(res->payload, res->payload_len, &out);
    }
    if (rc == 0) {
        if (h->allow[0])
            cors_apply(&r->g->t->apis[k->adm.api], h->allow, &out);
        gw_reply(r, out.status, &out, out.body, out.body_len);
    } else {
        gw_answer_reply(r, &gw_http_dialect, GW_ANS_INTEGRATION_FAILURE, NULL);
    }
    apigw_response_fini(&out);
}

/* Admitted: the event, then the function. */
static void proceed(gw_admission *a)
{
    gw_call *k = (gw_call *)a;
    http_call *h = k->front;
    gw_req *r = k->r;
    const sam_template *t = r->g->t;
    const sam_route *rt = &t->routes[a->route];
    apigw_kv hdrs[HTTP_MAX_HEADERS];
    apigw_request ar;
    char port[8];
    size_t elen = 0;
    char *ev;
    gw_request_view(r, hdrs, &ar, r->rid, h->api_id, a->time_ms);
    if (rt->payload_version == 1) {
        size_t pl = strlen(r->path);
        apigw_v1_request q = {&ar, &h->m, 1, "$default", r->path, pl, r->path, pl, r->rid, NULL,
                              gw_host_port(r, port), a->authorizer, NULL, NULL};
        ev = apigw_v1_event(t, &q, &elen);
    } else {
        ar.authorizer = a->authorizer; /* (1.0 takes it through q) */
        ev = apigw_event(t, &h->m, &ar, &elen);
    }
    gw_answer which = !ev ? GW_ANS_INTEGRATION_FAILURE : GW_ANS_PAYLOAD_TOO_LARGE;
    if (!ev || elen > LAM_MAX_PAYLOAD) {
        free(ev);
        gw_call_free(k);
        gw_answer_reply(r, &gw_http_dialect, which, NULL);
        return;
    }
    gw_call_invoke(k, rt->function, ev, elen, rt->timeout_ms);
}

static int serve(gw_req *r)
{
    gw *g = r->g;
    apigw_match m;
    char origin[512], acrm[64];
    const char *org = gw_header(r, "origin", origin, sizeof origin);
    /* CORS preflight: answered by the gateway for an API with CORS */
    if (!strcmp(r->method, "OPTIONS") && org &&
        gw_header(r, "access-control-request-method", acrm, sizeof acrm)) {
        for (size_t a = 0; a < g->t->n_apis; a++) {
            if (g->t->apis[a].type != SAM_HTTP_API)
                continue;
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
        if (g->t->apis[a].type == SAM_HTTP_API &&
            apigw_route(g->t, (int)a, r->method, r->path, &m) == 0)
            api = (int)a;
    if (api < 0)
        return 0;
    gw_call *k = gw_call_new(r, sizeof(http_call));
    if (!k) {
        gw_answer_reply(r, &gw_http_dialect, GW_ANS_INTEGRATION_FAILURE, NULL);
        return 1;
    }
    http_call *h = k->front;
    const char *allow = cors_origin(&g->t->apis[api], org);
    snprintf(h->allow, sizeof h->allow, "%s", allow ? allow : "");
    gw_api_id(&g->t->apis[api], h->api_id);
    apigw_match_copy(&h->m, &m);
    k->done = done;
    k->adm.dialect = &gw_http_dialect;
    k->adm.api = api;
    k->adm.route = m.route;
    k->adm.resource = -1;
    k->adm.stage = "$default";
    k->adm.path = r->path;
    k->adm.match = &h->m;
    k->adm.proceed = proceed;
    gw_admit(&k->adm);
    return 1;
}

const gw_front gw_front_httpapi = {"httpapi", serve};
