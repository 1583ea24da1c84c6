/*
 * The events API Gateway sends to Lambda authorizer functions (see
 * authorizer.h, az_event), field for field and in the order of the
 * spec's captures (§3.1.2, §3.4): REST TOKEN, REST REQUEST (the 1.0
 * request shape without a body, empty maps as {}), HTTP API 1.0 (the
 * REST shape plus version, identitySource, authorizationToken; header
 * names lower-case) and HTTP API 2.0.
 */
#define _GNU_SOURCE
#include "az_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apigw_int.h"
#include "apigw_v1.h"
#include "runtime.h"

enum { LAST, MULTI, JOIN };

static int same_name(const apigw_kv *a, const apigw_kv *b, int fold)
{
    return a->name_len == b->name_len &&
           (fold ? !strncasecmp(a->name, b->name, a->name_len)
                 : !memcmp(a->name, b->name, a->name_len));
}

static int usable(const apigw_kv *k, const char *skip)
{
    if (skip && k->name_len == strlen(skip) && !strncasecmp(k->name, skip, k->name_len))
        return 0;
    /* (a NUL in a key: JSON allows it, jansson-based runtimes do not) */
    return k->name_len && !memchr(k->name, 0, k->name_len) && jw_utf8(k->name, k->name_len) &&
           jw_utf8(k->value, k->value_len);
}

static void write_name(jw *w, const char *s, size_t n, int fold)
{
    if (!fold) {
        jw_str(w, s, n);
        return;
    }
    char small[256], *low = n <= sizeof small ? small : malloc(n);
    if (!low) {
        w->err = 1;
        return;
    }
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)s[i]);
    jw_str(w, low, n);
    if (low != small)
        free(low);
}

/* Writes kv as a JSON object: one member per distinct name (first-seen
 * order; fold: names compared and written lower-case) whose value is the
 * last value (LAST), all values (MULTI) or them joined with ',' (JOIN).
 * Pairs named skip, not UTF-8, or with a NUL in the name are left out.  Returns the members
 * written. */
static size_t kv_object(jw *w, const apigw_kv *kv, size_t n, int fold, int mode,
                        const char *skip)
{
    size_t members = 0;
    jw_lit(w, "{");
    for (size_t i = 0; i < n; i++) {
        if (!usable(&kv[i], skip))
            continue;
        size_t j = 0;
        while (j < i && !(usable(&kv[j], skip) && same_name(&kv[j], &kv[i], fold)))
            j++;
        if (j < i)
            continue; /* written with its first occurrence */
        if (members++)
            jw_lit(w, ",");
        write_name(w, kv[i].name, kv[i].name_len, fold);
        jw_lit(w, ":");
        if (mode == MULTI)
            jw_lit(w, "[");
        else if (mode == JOIN)
            jw_str_begin(w);
        size_t last = i, k = 0;
        for (j = i; j < n; j++) {
            if (!usable(&kv[j], skip) || !same_name(&kv[j], &kv[i], fold))
                continue;
            if (mode == MULTI) {
                if (k)
                    jw_lit(w, ",");
                jw_str(w, kv[j].value, kv[j].value_len);
            } else if (mode == JOIN) {
                if (k)
                    jw_lit(w, ",");
                jw_str_part(w, kv[j].value, kv[j].value_len);
            }
            last = j;
            k++;
        }
        if (mode == MULTI)
            jw_lit(w, "]");
        else if (mode == JOIN)
            jw_str_end(w);
        else
            jw_str(w, kv[last].value, kv[last].value_len);
    }
    jw_lit(w, "}");
    return members;
}

static size_t count_usable(const apigw_kv *kv, size_t n, const char *skip)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += (size_t)usable(&kv[i], skip);
    return c;
}

/* Writes key (JSON punctuation and name, e.g. ",\"path\":") and v as a
 * string ("" for NULL), or null for NULL when nullable. */
static void member(jw *w, const char *key, const char *v, int nullable)
{
    jw_raw(w, key, strlen(key));
    if (v)
        jw_str(w, v, strlen(v));
    else if (nullable)
        jw_lit(w, "null");
    else
        jw_lit(w, "\"\"");
}

void az__user_agent(jw *w, const az_request *r, int join, int nullable)
{
    long n = az__header(r, "user-agent", join, NULL);
    if (n < 0) {
        if (nullable)
            jw_lit(w, "null");
        else
            jw_lit(w, "\"\"");
        return;
    }
    char *v = malloc((size_t)n + 1);
    if (!v) {
        w->err = 1;
        return;
    }
    az__header(r, "user-agent", join, v);
    jw_str(w, v, (size_t)n);
    free(v);
}

static const char *s0(const char *s) { return s ? s : ""; }

static void domain(const az_request *r, char *name, size_t cap, char *prefix, size_t pcap)
{
    if (r->domain_name)
        snprintf(name, cap, "%s", r->domain_name);
    else
        snprintf(name, cap, "%s.execute-api.%s.amazonaws.com", r->api_id ? r->api_id : "",
                 r->region ? r->region : "us-east-1");
    snprintf(prefix, pcap, "%.*s", (int)strcspn(name, "."), name);
}

/* requestContext of the 1.0 shape (REST REQUEST, HTTP 1.0): the 1.0
 * event's (apigw_v1.c) without an authorizer; HTTP APIs' has no resourceId
 * or deploymentId, and its $default stage is not in the path. */
static void context_v1(jw *w, const az_request *r, int http)
{
    char dn[512], dp[256];
    domain(r, dn, sizeof dn, dp, sizeof dp);
    long ual = az__header(r, "user-agent", 0, NULL);
    char *ua = ual >= 0 ? malloc((size_t)ual + 1) : NULL;
    if (ual >= 0 && !ua) {
        w->err = 1;
        return;
    }
    if (ua)
        az__header(r, "user-agent", 0, ua);
    int bare = http && r->stage && !strcmp(r->stage, "$default");
    apigw_v1_context c = {
        .resource_id = http ? NULL : r->resource_id, .resource_path = s0(r->resource ? r->resource
                                                                                      : r->path),
        .method = s0(r->method), .extended_id = r->extended_request_id, .time_ms = r->time_ms,
        .stage_prefix = bare ? NULL : s0(r->stage), .path = s0(r->path),
        .path_len = strlen(s0(r->path)),
        .account_id = r->account_id ? r->account_id : "123456789012", .stage = s0(r->stage),
        .domain_name = dn, .request_id = s0(r->request_id), .source_ip = s0(r->source_ip),
        .user_agent = ua, .user_agent_len = ua ? (size_t)ual : 0,
        .deployment_id = http ? NULL : r->deployment_id, .api_id = s0(r->api_id)};
    apigw_v1_write_context(w, &c);
    free(ua);
}

/* The identity values joined with ',' (HTTP 1.0 identitySource). */
static void joined_identity(jw *w, const az_identity *id)
{
    jw_str_begin(w);
    for (size_t i = 0, k = 0; i < id->n; i++) {
        if (!id->lens[i])
            continue;
        if (k++)
            jw_lit(w, ",");
        jw_str_part(w, id->values[i], id->lens[i]);
    }
    jw_str_end(w);
}

static void event_v1(jw *w, const az_authorizer *a, const az_request *r, const az_identity *id,
                     const char *arn)
{
    int http = a->c.type == AZ_HTTP_V1;
    member(w,
           http ? "{\"version\":\"1.0\",\"type\":\"REQUEST\",\"methodArn\":"
                : "{\"type\":\"REQUEST\",\"methodArn\":",
           arn, 0);
    if (http) {
        jw_lit(w, ",\"identitySource\":");
        joined_identity(w, id);
        jw_lit(w, ",\"authorizationToken\":");
        joined_identity(w, id);
    }
    member(w, ",\"resource\":", r->resource ? r->resource : r->path, 0);
    member(w, ",\"path\":", r->path, 0);
    member(w, ",\"httpMethod\":", r->method, 0);
    jw_lit(w, ",\"headers\":");
    kv_object(w, r->headers, r->n_headers, http, LAST, NULL);
    jw_lit(w, ",\"multiValueHeaders\":");
    kv_object(w, r->headers, r->n_headers, http, MULTI, NULL);
    jw_lit(w, ",\"queryStringParameters\":");
    kv_object(w, r->query, r->n_query, 0, LAST, NULL);
    jw_lit(w, ",\"multiValueQueryStringParameters\":");
    kv_object(w, r->query, r->n_query, 0, MULTI, NULL);
    jw_lit(w, ",\"pathParameters\":");
    kv_object(w, r->path_params, r->n_path_params, 0, LAST, NULL);
    jw_lit(w, ",\"stageVariables\":");
    kv_object(w, r->stage_vars, r->n_stage_vars, 0, LAST, NULL);
    jw_lit(w, ",\"requestContext\":");
    context_v1(w, r, http);
    jw_lit(w, "}");
}

/* The cookies of the Cookie headers, one string each (2.0). */
static void cookies(jw *w, const az_request *r)
{
    size_t k = 0;
    for (size_t i = 0; i < r->n_headers; i++) {
        const apigw_kv *h = &r->headers[i];
        if (h->name_len != 6 || strncasecmp(h->name, "cookie", 6) ||
            !jw_utf8(h->value, h->value_len))
            continue;
        const char *s = h->value, *end = h->value + h->value_len;
        while (s < end) {
            while (s < end && (*s == ' ' || *s == ';'))
                s++;
            const char *e = s;
            while (e < end && *e != ';')
                e++;
            const char *te = e;
            while (te > s && te[-1] == ' ')
                te--;
            if (te > s) {
                if (k++)
                    jw_lit(w, ",");
                else
                    jw_lit(w, ",\"cookies\":[");
                jw_str(w, s, (size_t)(te - s));
            }
            s = e;
        }
    }
    if (k)
        jw_lit(w, "]");
}

static void event_v2(jw *w, const az_request *r, const az_identity *id, const char *arn)
{
    const char *rk = r->route_key ? r->route_key : "$default";
    char t[64], dn[512], dp[256];
    apigw__clf_time(r->time_ms, t);
    domain(r, dn, sizeof dn, dp, sizeof dp);
    member(w, "{\"version\":\"2.0\",\"type\":\"REQUEST\",\"routeArn\":", arn, 0);
    jw_lit(w, ",\"identitySource\":[");
    for (size_t i = 0, k = 0; i < id->n; i++) {
        if (!id->lens[i])
            continue;
        if (k++)
            jw_lit(w, ",");
        jw_str(w, id->values[i], id->lens[i]);
    }
    member(w, "],\"routeKey\":", rk, 0);
    member(w, ",\"rawPath\":", r->path, 0);
    member(w, ",\"rawQueryString\":", r->raw_query, 0);
    cookies(w, r);
    jw_lit(w, ",\"headers\":");
    kv_object(w, r->headers, r->n_headers, 1, JOIN, "cookie");
    if (count_usable(r->query, r->n_query, NULL)) {
        jw_lit(w, ",\"queryStringParameters\":");
        kv_object(w, r->query, r->n_query, 0, JOIN, NULL);
    }
    member(w, ",\"requestContext\":{\"accountId\":",
           r->account_id ? r->account_id : "123456789012", 0);
    member(w, ",\"apiId\":", r->api_id, 0);
    member(w, ",\"domainName\":", dn, 0);
    member(w, ",\"domainPrefix\":", dp, 0);
    member(w, ",\"http\":{\"method\":", r->method, 0);
    member(w, ",\"path\":", r->path, 0);
    member(w, ",\"protocol\":\"HTTP/1.1\",\"sourceIp\":", r->source_ip, 0);
    jw_lit(w, ",\"userAgent\":");
    az__user_agent(w, r, 1, 0);
    member(w, "},\"requestId\":", r->request_id, 0);
    member(w, ",\"routeKey\":", rk, 0);
    member(w, ",\"stage\":", r->stage ? r->stage : "$default", 0);
    member(w, ",\"time\":", t, 0);
    jw_lit(w, ",\"timeEpoch\":");
    jw_int(w, r->time_ms);
    jw_lit(w, "}");
    if (count_usable(r->path_params, r->n_path_params, NULL)) {
        jw_lit(w, ",\"pathParameters\":");
        kv_object(w, r->path_params, r->n_path_params, 0, LAST, NULL);
    }
    if (count_usable(r->stage_vars, r->n_stage_vars, NULL)) {
        jw_lit(w, ",\"stageVariables\":");
        kv_object(w, r->stage_vars, r->n_stage_vars, 0, LAST, NULL);
    }
    jw_lit(w, "}");
}

int az_event(const az_authorizer *a, const az_request *r, const az_identity *id, char **out,
             size_t *len)
{
    *out = NULL;
    *len = 0;
    char arn[AZ_ARN_MAX + 1];
    if (az_method_arn(r, arn, sizeof arn) < 0)
        return AZ_ETOOBIG;
    const char *texts[] = {r->method,    r->path,       r->resource,  r->route_key,
                           r->raw_query, r->stage,      r->api_id,    r->account_id,
                           r->region,    r->request_id, r->extended_request_id,
                           r->resource_id, r->deployment_id, r->domain_name, r->source_ip};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        if (texts[i] && !jw_utf8(texts[i], strlen(texts[i])))
            return AZ_EINPUT;
    jw w;
    jw_init(&w, LAM_MAX_PAYLOAD);
    switch (a->c.type) {
    case AZ_REST_TOKEN:
        member(&w, "{\"type\":\"TOKEN\",\"methodArn\":", arn, 0);
        jw_lit(&w, ",\"authorizationToken\":");
        jw_str(&w, id->n ? id->values[0] : "", id->n ? id->lens[0] : 0);
        jw_lit(&w, "}");
        break;
    case AZ_REST_REQUEST:
    case AZ_HTTP_V1:
        event_v1(&w, a, r, id, arn);
        break;
    case AZ_HTTP_V2:
        event_v2(&w, r, id, arn);
        break;
    }
    /* the writer fails on size or memory (identity values are UTF-8) */
    int big = w.err && w.len + 64 >= w.max;
    *out = jw_finish(&w, len);
    if (*out)
        return AZ_OK;
    return big ? AZ_ETOOBIG : AZ_ENOMEM;
}
