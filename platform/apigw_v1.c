/*
 * API Gateway REST routing and payload format 1.0 (see apigw_v1.h): the
 * resource-tree walk with its fallbacks, the 1.0 event written with
 * jsonw.c (field by field as the captured events of the spec's §1.6), and
 * the 1.0 result read with Debian's jansson.
 */
#define _DEFAULT_SOURCE
#include "apigw_v1.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "apigw_int.h"
#include "jsonw.h"

/* ---- routing ---- */

#define ROUTE_CORS -2

/* The route resource s serves method mi with, ROUTE_CORS, or -1. */
static int accepts(const sam_api *a, const sam_resource *s, int mi)
{
    if (mi < 0)
        return -1;
    if (s->methods[mi] >= 0)
        return s->methods[mi];
    if (mi == SAM_OPTIONS && a->cors)
        for (int k = 0; k < SAM_N_METHODS; k++)
            if (s->methods[k] >= 0)
                return ROUTE_CORS;
    return s->methods[SAM_ANY];
}

static int push_param(apigw_match *m, const char *name, const char *v, size_t vl)
{
    size_t nl = strlen(name);
    if (m->n_params == APIGW_MAX_PARAMS || nl >= sizeof m->names[0] || vl >= sizeof m->values[0])
        return -1;
    memcpy(m->names[m->n_params], name, nl + 1);
    memcpy(m->values[m->n_params], v, vl);
    m->values[m->n_params][vl] = 0;
    m->n_params++;
    return 0;
}

/* Matches p (what is left of the path: "" or "/" at this resource, else
 * "/part/...") below resource `node`; 1 when found (m filled). */
static int walk(const sam_template *t, const sam_api *a, int node, const char *p, int mi,
                apigw_match *m)
{
    const sam_resource *s = &t->resources[node];
    if (!p[0] || (p[0] == '/' && !p[1])) {
        int r = accepts(a, s, mi);
        if (r == -1)
            return 0;
        m->route = r == ROUTE_CORS ? -1 : r;
        m->resource = node;
        return 1;
    }
    const char *seg = p + 1, *e = strchr(seg, '/');
    size_t sl = e ? (size_t)(e - seg) : strlen(seg);
    if (!sl)
        return 0;
    for (int k = s->first_child; k >= 0; k = t->resources[k].next_sibling) {
        const sam_resource *c = &t->resources[k];
        if (c->kind == SAM_PART_LITERAL && strlen(c->part) == sl && !memcmp(c->part, seg, sl) &&
            walk(t, a, k, seg + sl, mi, m))
            return 1;
    }
    for (int k = s->first_child; k >= 0; k = t->resources[k].next_sibling) {
        const sam_resource *c = &t->resources[k];
        size_t saved = m->n_params;
        if (c->kind == SAM_PART_PARAM && push_param(m, c->name, seg, sl) == 0) {
            if (walk(t, a, k, seg + sl, mi, m))
                return 1;
            m->n_params = saved;
        }
    }
    for (int k = s->first_child; k >= 0; k = t->resources[k].next_sibling) {
        const sam_resource *c = &t->resources[k];
        int r;
        if (c->kind == SAM_PART_GREEDY && (r = accepts(a, c, mi)) != -1 &&
            push_param(m, c->name, seg, strlen(seg)) == 0) {
            m->route = r == ROUTE_CORS ? -1 : r;
            m->resource = k;
            return 1;
        }
    }
    return 0;
}

int apigw_rest_route(const sam_template *t, int api, const char *method, const char *path,
                     apigw_match *m)
{
    int root = sam_rest_root(t, api);
    m->route = m->resource = -1;
    m->n_params = 0;
    if (root < 0 || path[0] != '/' || !walk(t, &t->apis[api], root, path,
                                            sam_method_index(method), m)) {
        m->route = m->resource = -1;
        m->n_params = 0;
        return -1;
    }
    return 0;
}

int apigw_media_match(const char *pattern, const char *type, size_t n)
{
    const char *semi = memchr(type, ';', n);
    if (semi)
        n = (size_t)(semi - type);
    while (n && (type[n - 1] == ' ' || type[n - 1] == '\t'))
        n--;
    while (n && (*type == ' ' || *type == '\t'))
        type++, n--;
    size_t pl = strlen(pattern);
    if (!strcmp(pattern, "*/*"))
        return 1;
    if (pl >= 2 && pattern[pl - 1] == '*' && pattern[pl - 2] == '/')
        return n >= pl - 1 && !strncasecmp(pattern, type, pl - 1);
    return n == pl && !strncasecmp(pattern, type, n);
}

static int binary_type(const sam_api *a, const char *ct, size_t n)
{
    for (size_t i = 0; a && i < a->n_binary; i++)
        if (ct ? apigw_media_match(a->binary[i], ct, n) : !strcmp(a->binary[i], "*/*"))
            return 1;
    return 0;
}

/* ---- request -> event ---- */

#define V1_MAX_EVENT (16u * 1024 * 1024) /* 10 MB body, base64, and the rest */

static apigw__kv_join *find_ci(apigw__kv_join *set, int n, const char *name)
{
    size_t l = strlen(name);
    for (int i = 0; i < n; i++)
        if (set[i].name_len == l && !strncasecmp(set[i].name, name, l))
            return &set[i];
    return NULL;
}

/* "abc" or null. */
static void str_or_null(jw *w, const char *s, size_t n)
{
    if (s)
        jw_str(w, s, n);
    else
        jw_lit(w, "null");
}

/* member key (JSON punctuation and name) and s as a string, or null. */
static void member(jw *w, const char *key, const char *s)
{
    jw_raw(w, key, strlen(key));
    str_or_null(w, s, s ? strlen(s) : 0);
}

void apigw_v1_write_context(jw *w, const apigw_v1_context *c)
{
    char tbuf[64];
    apigw__clf_time(c->time_ms, tbuf);
    member(w, "{\"resourceId\":", c->resource_id);
    member(w, ",\"resourcePath\":", c->resource_path);
    member(w, ",\"httpMethod\":", c->method);
    if (c->extended_id)
        member(w, ",\"extendedRequestId\":", c->extended_id);
    member(w, ",\"requestTime\":", tbuf);
    jw_lit(w, ",\"path\":");
    jw_str_begin(w);
    if (c->stage_prefix) {
        jw_lit(w, "/");
        jw_str_part(w, c->stage_prefix, strlen(c->stage_prefix));
    }
    jw_str_part(w, c->path, c->path_len);
    jw_str_end(w);
    member(w, ",\"accountId\":", c->account_id);
    member(w, ",\"protocol\":\"HTTP/1.1\",\"stage\":", c->stage);
    jw_lit(w, ",\"domainPrefix\":");
    jw_str(w, c->domain_name, strcspn(c->domain_name, "."));
    jw_lit(w, ",\"requestTimeEpoch\":");
    jw_int(w, c->time_ms);
    member(w, ",\"requestId\":", c->request_id);
    jw_lit(w, ",\"identity\":{\"cognitoIdentityPoolId\":null,\"accountId\":null,"
              "\"cognitoIdentityId\":null,\"caller\":null,");
    if (c->api_key) {
        member(w, "\"apiKey\":", c->api_key);
        member(w, ",\"apiKeyId\":", c->api_key_id);
        jw_lit(w, ",");
    }
    member(w, "\"sourceIp\":", c->source_ip);
    jw_lit(w, ",\"principalOrgId\":null,\"accessKey\":null,\"cognitoAuthenticationType\":null,"
              "\"cognitoAuthenticationProvider\":null,\"userArn\":null,\"userAgent\":");
    str_or_null(w, c->user_agent, c->user_agent_len);
    jw_lit(w, ",\"user\":null}");
    if (c->authorizer) {
        jw_lit(w, ",\"authorizer\":");
        jw_raw(w, c->authorizer, strlen(c->authorizer));
    }
    member(w, ",\"domainName\":", c->domain_name);
    if (c->deployment_id)
        member(w, ",\"deploymentId\":", c->deployment_id);
    member(w, ",\"apiId\":", c->api_id);
    jw_lit(w, "}");
}

static void id6(const char *a, const char *b, char out[7])
{
    unsigned long long h = 1469598103934665603ULL;
    for (const char *q = a; *q; q++)
        h = (h ^ (unsigned char)*q) * 1099511628211ULL;
    for (const char *q = b; *q; q++)
        h = (h ^ (unsigned char)*q) * 1099511628211ULL;
    for (int i = 0; i < 6; i++, h /= 36)
        out[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[h % 36];
    out[6] = 0;
}

void apigw_v1_deployment_id(const sam_api *api, char out[7]) { id6(api->name, "deployment", out); }

char *apigw_v1_event(const sam_template *t, const apigw_v1_request *q, size_t *len)
{
    const apigw_request *r = q->r;
    const sam_route *rt = &t->routes[q->m->route];
    const sam_api *api = &t->apis[rt->api];
    const sam_resource *res = !q->http_api && q->m->resource >= 0 ? &t->resources[q->m->resource]
                                                                  : NULL;
    const char *resource = res ? res->path : rt->path;
    const char *qm = memchr(r->target, '?', r->target_len);
    size_t qlen = qm ? r->target_len - (size_t)(qm - r->target) - 1 : 0;
    apigw__kv_join *hs = malloc(sizeof *hs * 2 * APIGW__JOIN_MAX), *qs = hs + APIGW__JOIN_MAX;
    char *qdec = NULL, *out = NULL, *xff = NULL;
    int nh = 0, nq = 0;
    jw w;
    jw_init(&w, V1_MAX_EVENT);
    if (!hs)
        return NULL;
    const char *ct = NULL;
    size_t ctl = 0;
    for (size_t i = 0; i < r->n_headers; i++) {
        const apigw_kv *h = &r->headers[i];
        char lname[256];
        size_t nl = h->name_len < sizeof lname - 1 ? h->name_len : sizeof lname - 1;
        if (!jw_utf8(h->name, nl) || memchr(h->name, 0, nl)) /* (keys no JSON reader takes) */
            continue;
        for (size_t k = 0; k < nl; k++)
            lname[k] = (char)(q->http_api && h->name[k] >= 'A' && h->name[k] <= 'Z'
                              ? h->name[k] + 32 : h->name[k]);
        if (nl == 12 && !strncasecmp(lname, "content-type", 12) && !ct) {
            ct = h->value;
            ctl = h->value_len;
        }
        apigw__join_add(hs, &nh, APIGW__JOIN_MAX, lname, nl, 1, h->value, h->value_len);
    }
    /* what API Gateway adds: X-Forwarded-For (appended), -Port, -Proto, the trace id */
    apigw__kv_join *f = find_ci(hs, nh, "x-forwarded-for");
    size_t pl = strlen(r->source_ip);
    if (f) {
        size_t vl = f->vl[f->n - 1];
        if ((xff = malloc(vl + pl + 3)) == NULL)
            goto out;
        memcpy(xff, f->v[f->n - 1], vl);
        memcpy(xff + vl, ", ", 2);
        memcpy(xff + vl + 2, r->source_ip, pl + 1);
        f->v[f->n - 1] = xff;
        f->vl[f->n - 1] = vl + pl + 2;
    } else {
        apigw__join_add(hs, &nh, APIGW__JOIN_MAX, q->http_api ? "x-forwarded-for" : "X-Forwarded-For",
                        15, 0, r->source_ip, pl);
    }
    if (!find_ci(hs, nh, "x-forwarded-port") && q->port)
        apigw__join_add(hs, &nh, APIGW__JOIN_MAX, q->http_api ? "x-forwarded-port"
                        : "X-Forwarded-Port", 16, 0, q->port, strlen(q->port));
    if (!find_ci(hs, nh, "x-forwarded-proto"))
        apigw__join_add(hs, &nh, APIGW__JOIN_MAX, q->http_api ? "x-forwarded-proto"
                        : "X-Forwarded-Proto", 17, 0, "http", 4);
    if (!find_ci(hs, nh, "x-amzn-trace-id") && q->trace_id)
        apigw__join_add(hs, &nh, APIGW__JOIN_MAX, q->http_api ? "x-amzn-trace-id"
                        : "X-Amzn-Trace-Id", 15, 0, q->trace_id, strlen(q->trace_id));
    if (qlen && apigw__parse_query(qm + 1, qlen, qs, &nq, &qdec))
        goto out;
    jw_lit(&w, "{");
    if (q->http_api)
        jw_lit(&w, "\"version\":\"1.0\",");
    jw_lit(&w, "\"resource\":");
    jw_str(&w, resource, strlen(resource));
    jw_lit(&w, ",\"path\":");
    jw_str(&w, q->path, q->path_len);
    jw_lit(&w, ",\"httpMethod\":");
    jw_str(&w, r->method, strlen(r->method));
    jw_lit(&w, ",\"headers\":");
    apigw__join_write(&w, hs, nh, APIGW__LAST | APIGW__OR_NULL);
    jw_lit(&w, ",\"multiValueHeaders\":");
    apigw__join_write(&w, hs, nh, APIGW__ALL | APIGW__OR_NULL);
    jw_lit(&w, ",\"queryStringParameters\":");
    apigw__join_write(&w, qs, nq, APIGW__LAST | APIGW__OR_NULL);
    jw_lit(&w, ",\"multiValueQueryStringParameters\":");
    apigw__join_write(&w, qs, nq, APIGW__ALL | APIGW__OR_NULL);
    jw_lit(&w, ",\"pathParameters\":");
    apigw__write_params(&w, q->m);
    jw_lit(&w, ",\"stageVariables\":");
    for (size_t i = 0; !q->http_api && i < api->n_vars; i++) {
        jw_raw(&w, i ? "," : "{", 1);
        jw_str(&w, api->vars[i].key, strlen(api->vars[i].key));
        jw_lit(&w, ":");
        jw_str(&w, api->vars[i].value, strlen(api->vars[i].value));
    }
    if (!q->http_api && api->n_vars)
        jw_lit(&w, "}");
    else
        jw_lit(&w, "null");
    char dep[7], domain[128];
    const apigw__kv_join *ua = find_ci(hs, nh, "user-agent");
    snprintf(domain, sizeof domain, "%s.execute-api.us-east-1.amazonaws.com", r->api_id);
    if (!q->http_api)
        apigw_v1_deployment_id(api, dep);
    apigw_v1_context c = {
        .resource_id = res ? res->id : NULL, .resource_path = resource, .method = r->method,
        .extended_id = q->extended_id, .time_ms = r->time_ms, .path = q->context_path,
        .path_len = q->context_path_len, .account_id = "123456789012", .stage = q->stage,
        .domain_name = domain, .request_id = r->request_id, .source_ip = r->source_ip,
        .user_agent = ua ? ua->v[ua->n - 1] : NULL, .user_agent_len = ua ? ua->vl[ua->n - 1] : 0,
        .api_key = q->api_key, .api_key_id = q->api_key_id,
        .authorizer = q->authorizer ? q->authorizer
                    : q->http_api ? "{\"claims\":null,\"scopes\":null}" : NULL,
        .deployment_id = q->http_api ? NULL : dep, .api_id = r->api_id};
    jw_lit(&w, ",\"requestContext\":");
    apigw_v1_write_context(&w, &c);
    jw_lit(&w, ",\"body\":");
    int b64 = 0;
    if (r->body && r->body_len) {
        b64 = q->http_api ? !(ct && apigw__text_type(ct, ctl)) : binary_type(api, ct, ctl);
        if (!b64 && !jw_utf8(r->body, r->body_len)) /* not UTF-8 text: base64 too */
            b64 = 1;
        if (apigw__write_body(&w, r->body, r->body_len, b64))
            goto out;
    } else {
        jw_lit(&w, "null");
    }
    if (b64)
        jw_lit(&w, ",\"isBase64Encoded\":true}");
    else
        jw_lit(&w, ",\"isBase64Encoded\":false}");
    out = jw_finish(&w, len);
out:
    if (!out)
        free(w.p);
    free(hs);
    free(qdec);
    free(xff);
    return out;
}

/* ---- result -> response ---- */

/* A header value: a string, a number or a boolean (NULL for null: left
 * out); -1 for anything else. */
static int header_value(json_t *v, char *buf, size_t cap, const char **out)
{
    *out = NULL;
    if (json_is_string(v))
        *out = json_string_value(v);
    else if (json_is_integer(v))
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v)), *out = buf;
    else if (json_is_real(v))
        snprintf(buf, cap, "%.17g", json_real_value(v)), *out = buf;
    else if (json_is_boolean(v))
        *out = json_is_true(v) ? "true" : "false";
    else if (!json_is_null(v))
        return -1;
    return 0;
}

/* isBase64Encoded (or SAM's base64Encoded): a boolean, or "true"/"false". */
static int flag(json_t *v, int strings, int *out)
{
    if (!v || json_is_null(v))
        return 0;
    if (json_is_boolean(v))
        *out = json_is_true(v);
    else if (strings && json_is_string(v) && !strcasecmp(json_string_value(v), "true"))
        *out = 1;
    else if (strings && json_is_string(v) && !strcasecmp(json_string_value(v), "false"))
        *out = 0;
    else
        return -1;
    return 0;
}

static int status_of(json_t *sc, const apigw_v1_options *o, int *status)
{
    json_int_t v;
    if (!sc || json_is_null(sc)) {
        if (o->http_api)
            return -1;
        *status = o->missing_status;
        return 0;
    }
    if (json_is_integer(sc)) {
        v = json_integer_value(sc);
    } else if (json_is_string(sc)) { /* "200": SAM CLI takes it */
        const char *s = json_string_value(sc);
        char *end;
        v = strtoll(s, &end, 10);
        if (!*s || *end)
            return -1;
    } else {
        return -1;
    }
    if (v < 100 || v > 599)
        return -1;
    *status = (int)v;
    return 0;
}

static int map(json_t *j, const apigw_v1_options *o, apigw_response *out)
{
    static const char *const keys[] = {"statusCode", "headers", "multiValueHeaders", "body",
                                       "isBase64Encoded", "base64Encoded", NULL};
    const char *k, *s;
    json_t *v, *hd, *mv, *body;
    char num[64];
    int b64 = 0, have_ct = 0;
    size_t i;
    if (!json_is_object(j))
        return APIGW_V1_MALFORMED;
    if (!o->http_api)
        json_object_foreach(j, k, v) {
            int known = 0;
            for (const char *const *p = keys; *p; p++)
                known |= !strcmp(k, *p);
            if (!known) /* a REST API refuses what it does not know ("cookies") */
                return APIGW_V1_MALFORMED;
        }
    hd = json_object_get(j, "headers");
    mv = json_object_get(j, "multiValueHeaders");
    body = json_object_get(j, "body");
    if (status_of(json_object_get(j, "statusCode"), o, &out->status) ||
        (hd && !json_is_object(hd) && !json_is_null(hd)) ||
        (mv && !json_is_object(mv) && !json_is_null(mv)) ||
        (body && !json_is_string(body) && !json_is_null(body)))
        return APIGW_V1_MALFORMED;
    if ((o->http_api ? 0 : flag(json_object_get(j, "base64Encoded"), 1, &b64)) ||
        flag(json_object_get(j, "isBase64Encoded"), !o->http_api, &b64))
        return APIGW_V1_MALFORMED;
    /* headers, less the pairs multiValueHeaders repeats; then multiValueHeaders */
    if (json_is_object(hd))
        json_object_foreach(hd, k, v) {
            if (header_value(v, num, sizeof num, &s))
                return APIGW_V1_MALFORMED;
            json_t *dup = NULL, *mk;
            const char *mname;
            if (json_is_object(mv))
                json_object_foreach(mv, mname, mk)
                    if (!strcasecmp(mname, k) && json_is_array(mk))
                        dup = mk;
            int repeated = 0;
            json_t *e;
            char num2[64];
            const char *s2;
            if (s && dup)
                json_array_foreach(dup, i, e)
                    repeated |= !header_value(e, num2, sizeof num2, &s2) && s2 && !strcmp(s2, s);
            if (!s || repeated)
                continue;
            have_ct |= !strcasecmp(k, "content-type");
            if (apigw_response_add(out, k, s))
                return -1;
        }
    if (json_is_object(mv))
        json_object_foreach(mv, k, v) {
            json_t *e;
            if (json_is_null(v))
                continue;
            if (!json_is_array(v))
                return APIGW_V1_MALFORMED;
            json_array_foreach(v, i, e) {
                if (header_value(e, num, sizeof num, &s))
                    return APIGW_V1_MALFORMED;
                if (!s)
                    continue;
                have_ct |= !strcasecmp(k, "content-type");
                if (apigw_response_add(out, k, s))
                    return -1;
            }
        }
    if (!have_ct && apigw_response_add(out, "Content-Type", "application/json"))
        return -1;
    if (!json_is_string(body))
        return APIGW_V1_OK;
    const char *bs = json_string_value(body);
    size_t bl = json_string_length(body);
    if (b64 && !o->http_api) { /* REST decodes only for a binary Accept */
        const char *acc = o->accept;
        size_t al = acc ? o->accept_len : 0;
        const char *comma = acc ? memchr(acc, ',', al) : NULL;
        b64 = acc && binary_type(o->api, acc, comma ? (size_t)(comma - acc) : al);
    }
    if (b64) {
        out->body = (char *)apigw_b64_decode(bs, bl, &out->body_len);
        return out->body ? APIGW_V1_OK : APIGW_V1_BAD_BASE64;
    }
    if (!(out->body = malloc(bl + 1)))
        return -1;
    memcpy(out->body, bs, bl + 1);
    out->body_len = bl;
    return APIGW_V1_OK;
}

int apigw_v1_map_result(const char *payload, size_t len, const apigw_v1_options *o,
                        apigw_response *out)
{
    json_error_t je;
    memset(out, 0, sizeof *out);
    json_t *j = json_loadb(payload, len, JSON_DECODE_ANY, &je);
    if (!j)
        return APIGW_V1_MALFORMED;
    int rc = map(j, o, out);
    json_decref(j);
    if (rc != APIGW_V1_OK)
        apigw_response_fini(out);
    return rc;
}
