/*
 * The REST API front (`Type: Api` events, AWS::Serverless::Api): requests
 * under a stage as API Gateway serves them (/Prod/products), or with
 * --no-stage at the bare paths `sam local start-api` uses; the route
 * resolved on the API's resource tree (apigw_v1.c) with its fallbacks;
 * admission (admission.h); the CORS preflight SAM adds to each path (a
 * MOCK answering 200 with the API's Cors headers); the payload 1.0 event
 * and its result (apigw_v1.c) through integration.c; and every answer API
 * Gateway gives by itself (answer.c's REST table: 403 Missing
 * Authentication Token, 403 Forbidden for an unknown stage, 502, 500, 504,
 * 413, 429), each with x-amzn-RequestId, x-amz-apigw-id, X-Amzn-Trace-Id
 * and x-amzn-ErrorType.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apigw_v1.h"
#include "integration.h"

/* The front's state behind its gw_call. */
typedef struct rest_call {
    gw_ids ids;
    char api_id[64];
    char stage[SAM_STAGE];
    size_t path_off;            /* the path without the stage: r->path + path_off */
    apigw_match m;
} rest_call;

static int has_rest(const sam_template *t)
{
    for (size_t i = 0; i < t->n_apis; i++)
        if (t->apis[i].type == SAM_REST_API)
            return 1;
    return 0;
}

/* 1 when REST API a is deployed to stage s. */
static int on_stage(const sam_api *a, const char *s)
{
    return a->type == SAM_REST_API && (!strcmp(a->stage, s) ||
                                       (a->extra_stage && !strcmp(s, "Stage")));
}

/* Adds the REST ids and answers r with out (freed). */
static void reply(gw_req *r, const gw_ids *ids, apigw_response *out)
{
    gw_ids_headers(ids, out); /* (a header memory ran out for is left out) */
    r->rid[0] = 0;            /* x-amz-apigw-id instead of apigw-requestid */
    gw_reply(r, out->status, out, out->body, out->body_len);
    apigw_response_fini(out);
}

/* The MOCK integration SAM puts on OPTIONS for Cors (swagger.py add_cors):
 * 200, {} and the API's Access-Control-* headers; Allow-Methods, unless
 * given, is the resource's methods and OPTIONS (all of them for ANY). */
static void cors_preflight(gw_req *r, const sam_api *a, const sam_resource *s, const gw_ids *ids)
{
    static const char *const names[SAM_N_METHODS] = {"GET", "POST", "PUT", "PATCH", "DELETE",
                                                     "HEAD", "OPTIONS", "ANY"};
    static const char *const sorted[] = {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST",
                                         "PUT"};
    char methods[128] = "", age[16];
    size_t o = 0;
    if (a->rest_methods[0]) {
        snprintf(methods, sizeof methods, "%s", a->rest_methods);
    } else {
        for (size_t i = 0; i < sizeof sorted / sizeof *sorted; i++) {
            int m = sam_method_index(sorted[i]);
            if (s->methods[SAM_ANY] >= 0 || s->methods[m] >= 0 || m == SAM_OPTIONS)
                o += (size_t)snprintf(methods + o, sizeof methods - o, "%s%s", o ? "," : "",
                                      names[m]);
        }
    }
    apigw_response out;
    memset(&out, 0, sizeof out);
    out.status = 200;
    apigw_response_add(&out, "Content-Type", "application/json");
    apigw_response_add(&out, "Access-Control-Allow-Origin", a->origins[0]);
    if (a->n_headers && a->headers[0][0])
        apigw_response_add(&out, "Access-Control-Allow-Headers", a->headers[0]);
    if (methods[0])
        apigw_response_add(&out, "Access-Control-Allow-Methods", methods);
    if (a->max_age >= 0) {
        snprintf(age, sizeof age, "%d", a->max_age);
        apigw_response_add(&out, "Access-Control-Max-Age", age);
    }
    if (a->allow_credentials)
        apigw_response_add(&out, "Access-Control-Allow-Credentials", "true");
    out.body = strdup("{}");
    out.body_len = out.body ? 2 : 0;
    reply(r, ids, &out);
}

static void done(gw_call *k, gw_req *r, gw_outcome o)
{
    const rest_call *h = k->front;
    const lam_result *res = &k->pc.res;
    if (o != GW_RESULT || res->outcome != LAM_OK) {
        gw_answer_reply(r, &gw_rest_dialect, o == GW_TIMED_OUT ? GW_ANS_INTEGRATION_TIMEOUT
                        : o == GW_REJECTED ? GW_ANS_LAMBDA_REJECTED : GW_ANS_INTEGRATION_FAILURE,
                        &h->ids);
        return;
    }
    char accept[1024];
    const char *acc = gw_header(r, "accept", accept, sizeof accept);
    apigw_v1_options opt = {0, &r->g->t->apis[k->adm.api], acc, acc ? strlen(acc) : 0, 200};
    apigw_response out;
    int rc = apigw_v1_map_result(res->payload, res->payload_len, &opt, &out);
    if (rc == APIGW_V1_OK)
        reply(r, &h->ids, &out);
    else
        gw_answer_reply(r, &gw_rest_dialect, rc == APIGW_V1_BAD_BASE64
                        ? GW_ANS_CONVERSION_FAILURE : GW_ANS_INTEGRATION_FAILURE, &h->ids);
}

/* Admitted: the CORS MOCK, or the event and the function. */
static void proceed(gw_admission *a)
{
    gw_call *k = (gw_call *)a;
    rest_call *h = k->front;
    gw_req *r = k->r;
    const sam_template *t = r->g->t;
    if (a->route < 0) {
        cors_preflight(r, &t->apis[a->api], &t->resources[a->resource], &h->ids);
        gw_call_free(k);
        return;
    }
    const sam_route *rt = &t->routes[a->route];
    apigw_kv hdrs[HTTP_MAX_HEADERS];
    apigw_request ar;
    char port[8];
    size_t elen = 0;
    const char *path = r->path + h->path_off;
    size_t pl = strlen(path);
    if (!pl)
        path = "/", pl = 1;
    gw_request_view(r, hdrs, &ar, h->ids.request_id, h->api_id, a->time_ms);
    /* requestContext.path: with the stage, as on the execute-api domain;
     * --no-stage serves as a custom domain does, without it */
    apigw_v1_request q = {&ar, &h->m, 0, h->stage, path, pl, r->path, strlen(r->path),
                          h->ids.extended_id, h->ids.trace_id, gw_host_port(r, port),
                          a->authorizer, a->api_key[0] ? a->api_key : NULL,
                          a->api_key[0] ? a->api_key_id : NULL};
    if (r->g->o->no_stage)
        q.context_path = path, q.context_path_len = pl;
    char *ev = apigw_v1_event(t, &q, &elen);
    if (!ev || elen > LAM_MAX_PAYLOAD) {
        free(ev);
        gw_answer_reply(r, &gw_rest_dialect, ev ? GW_ANS_PAYLOAD_TOO_LARGE
                                                : GW_ANS_INTEGRATION_FAILURE, &h->ids);
        gw_call_free(k);
        return;
    }
    gw_call_invoke(k, rt->function, ev, elen, rt->timeout_ms);
}

static int serve(gw_req *r)
{
    gw *g = r->g;
    const sam_template *t = g->t;
    char stage[SAM_STAGE] = "";
    const char *path = r->path;
    if (!has_rest(t))
        return 0;
    if (!g->o->no_stage) { /* /{stage}/path */
        const char *seg = r->path + 1, *e = strchr(seg, '/');
        size_t sl = e ? (size_t)(e - seg) : strlen(seg);
        int known = 0;
        if (!sl || sl >= sizeof stage)
            return 0;
        memcpy(stage, seg, sl);
        stage[sl] = 0;
        for (size_t i = 0; i < t->n_apis && !known; i++)
            known = on_stage(&t->apis[i], stage);
        if (!known)
            return 0; /* the 403 Forbidden comes last (gw_front_rest_unmatched) */
        path = seg + sl;
    }
    /* the first API that serves it, one whose resource is not greedy first
     * (APIs share a stage name, or --no-stage puts them all at /) */
    apigw_match m, tmp;
    int api = -1, greedy = 1;
    for (size_t i = 0; i < t->n_apis && greedy; i++)
        if (t->apis[i].type == SAM_REST_API && (g->o->no_stage || on_stage(&t->apis[i], stage)) &&
            apigw_rest_route(t, (int)i, r->method, *path ? path : "/", &tmp) == 0 &&
            (api < 0 || t->resources[tmp.resource].kind != SAM_PART_GREEDY)) {
            api = (int)i;
            greedy = t->resources[tmp.resource].kind == SAM_PART_GREEDY;
            apigw_match_copy(&m, &tmp);
        }
    gw_call *k = api >= 0 ? gw_call_new(r, sizeof(rest_call)) : NULL;
    rest_call *h = k ? k->front : NULL;
    if (!h) {
        gw_ids ids;
        if (api < 0 && g->o->no_stage)
            return 0;
        gw_ids_new(&ids, r);
        gw_answer_reply(r, &gw_rest_dialect, api < 0 ? GW_ANS_NO_ROUTE
                                                     : GW_ANS_INTEGRATION_FAILURE, &ids);
        return 1;
    }
    gw_ids_new(&h->ids, r);
    gw_api_id(&t->apis[api], h->api_id);
    snprintf(h->stage, sizeof h->stage, "%s", g->o->no_stage ? t->apis[api].stage : stage);
    h->path_off = (size_t)(path - r->path);
    apigw_match_copy(&h->m, &m);
    k->done = done;
    k->adm.dialect = &gw_rest_dialect;
    k->adm.ids = &h->ids;
    k->adm.api = api;
    k->adm.route = m.route;
    k->adm.resource = m.resource;
    k->adm.stage = h->stage;
    k->adm.path = *path ? path : "/";
    k->adm.match = &h->m;
    k->adm.proceed = proceed;
    gw_admit(&k->adm);
    return 1;
}

/* Last: with REST APIs in the template, what no front claimed gets REST's
 * answer (unknown stage: 403 Forbidden; --no-stage: 403 Missing
 * Authentication Token). */
static int serve_unmatched(gw_req *r)
{
    gw_ids ids;
    if (!has_rest(r->g->t))
        return 0;
    gw_ids_new(&ids, r);
    gw_answer_reply(r, &gw_rest_dialect, r->g->o->no_stage ? GW_ANS_NO_ROUTE
                                                           : GW_ANS_UNKNOWN_STAGE, &ids);
    return 1;
}

int gw_rest_error(gw_req *r, int status)
{
    const sam_template *t = r->g->t;
    int http = 0;
    for (size_t i = 0; i < t->n_apis; i++)
        http |= t->apis[i].type == SAM_HTTP_API;
    if (status != 413 || http || !has_rest(t))
        return 0;
    gw_ids ids;
    gw_ids_new(&ids, r);
    gw_answer_reply(r, &gw_rest_dialect, GW_ANS_BODY_TOO_LARGE, &ids);
    return 1;
}

const gw_front gw_front_restapi = {"restapi", serve};
const gw_front gw_front_rest_unmatched = {"restapi-unmatched", serve_unmatched};
