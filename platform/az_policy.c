/*
 * What an authorizer function answers, and what follows from it (see
 * authorizer.h): the response parsed and checked (az_parse), the IAM
 * policy evaluated against a method ARN (az_decide), the gateway's
 * answers (az_answer_of, spec §3.1.6 and §3.4) and the integration's
 * requestContext.authorizer (az_write_authorizer).  JSON via jansson;
 * contexts are rendered to text once, when parsed, so a cached result is
 * only read afterwards.
 */
#define _GNU_SOURCE
#include "az_int.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AZ_MAX_STATEMENTS 1000
#define AZ_MAX_PATTERNS 1000     /* Actions or Resources in one statement */
#define AZ_PATTERN_MAX 4096      /* bytes of one Action or Resource */
#define AZ_CONTEXT_MAX (1u << 20)

/* ---- glob ---- */

int az__glob(const char *p, const char *s, int fold)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*p == '*') {
            star = p++;
            resume = s;
        } else if (*p && (*p == '?' || *p == *s ||
                          (fold && tolower((unsigned char)*p) == tolower((unsigned char)*s)))) {
            p++;
            s++;
        } else if (star) {
            p = star + 1;
            s = ++resume;
        } else {
            return 0;
        }
    }
    while (*p == '*')
        p++;
    return !*p;
}

/* ---- results ---- */

void az_result_free(az_result *r)
{
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    for (size_t i = 0; i < r->n_stmts; i++) {
        for (size_t k = 0; k < r->stmts[i].n_act; k++)
            free((char *)r->stmts[i].act[k]);
        for (size_t k = 0; k < r->stmts[i].n_res; k++)
            free((char *)r->stmts[i].res[k]);
        free(r->stmts[i].act);
        free(r->stmts[i].res);
    }
    free(r->stmts);
    free(r->principal);
    free(r->usage_key);
    free(r->ctx_raw);
    free(r->pairs_raw);
    free(r->pairs_str);
    free(r);
}

int az_result_cacheable(const az_result *r)
{
    return r->kind == AZ__POLICY || r->kind == AZ__SIMPLE;
}

const char *az_result_reason(const az_result *r) { return r->reason; }
const char *az_result_principal(const az_result *r) { return r->principal; }
const char *az_result_usage_key(const az_result *r) { return r->usage_key; }

/* ---- JSON values as text ---- */

/* A real as the shortest text that reads back the same. */
static void real_text(double d, char *b, size_t cap)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(b, cap, "%.*g", prec, d);
        if (strtod(b, NULL) == d)
            break;
    }
}

static void write_value(jw *w, json_t *v)
{
    char b[64];
    const char *k;
    json_t *x;
    size_t i, n = 0;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        jw_lit(w, "{");
        json_object_foreach(v, k, x) {
            if (n++)
                jw_lit(w, ",");
            jw_str(w, k, strlen(k));
            jw_lit(w, ":");
            write_value(w, x);
        }
        jw_lit(w, "}");
        break;
    case JSON_ARRAY:
        jw_lit(w, "[");
        json_array_foreach(v, i, x) {
            if (i)
                jw_lit(w, ",");
            write_value(w, x);
        }
        jw_lit(w, "]");
        break;
    case JSON_STRING: jw_str(w, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: jw_int(w, (long long)json_integer_value(v)); break;
    case JSON_REAL:
        real_text(json_real_value(v), b, sizeof b);
        jw_raw(w, b, strlen(b));
        break;
    case JSON_TRUE: jw_lit(w, "true"); break;
    case JSON_FALSE: jw_lit(w, "false"); break;
    case JSON_NULL: jw_lit(w, "null"); break;
    }
}

/* A scalar as API Gateway stringifies it for REST (null stays null). */
static void write_stringified(jw *w, json_t *v)
{
    char b[64];
    switch (json_typeof(v)) {
    case JSON_STRING: jw_str(w, json_string_value(v), json_string_length(v)); return;
    case JSON_INTEGER: snprintf(b, sizeof b, "%lld", (long long)json_integer_value(v)); break;
    case JSON_REAL: real_text(json_real_value(v), b, sizeof b); break;
    case JSON_TRUE: strcpy(b, "true"); break;
    case JSON_FALSE: strcpy(b, "false"); break;
    default: jw_lit(w, "null"); return;
    }
    jw_str(w, b, strlen(b));
}

/* ---- parsing ---- */

__attribute__((format(printf, 2, 3))) static int failed(az_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    r->kind = AZ__FAILED;
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
    return 0;
}

/* Collects a string or an array of strings: 0, 1 when malformed, -1 when
 * out of memory. */
static int patterns(json_t *v, const char ***out, size_t *n)
{
    size_t cnt = json_is_string(v) ? 1 : json_is_array(v) ? json_array_size(v) : 0;
    if (!cnt || cnt > AZ_MAX_PATTERNS)
        return 1;
    *out = calloc(cnt, sizeof **out);
    if (!*out)
        return -1;
    for (size_t i = 0; i < cnt; i++) {
        json_t *s = json_is_string(v) ? v : json_array_get(v, i);
        if (!json_is_string(s) || json_string_length(s) > AZ_PATTERN_MAX ||
            strlen(json_string_value(s)) != json_string_length(s))
            return 1;
        char *c = strdup(json_string_value(s));
        if (!c)
            return -1;
        (*out)[(*n)++] = c;
    }
    return 0;
}

/* principalId, policyDocument, context checks (not contents), usage key */
static int parse_policy(az_result *r, json_t *j)
{
    json_t *pid = json_object_get(j, "principalId");
    json_t *doc = json_object_get(j, "policyDocument");
    json_t *uik = json_object_get(j, "usageIdentifierKey");
    if (!json_is_string(pid))
        return failed(r, "%s", "principalId is missing or not a string");
    if (!json_is_object(doc))
        return failed(r, "%s", "policyDocument is missing or not an object");
    if (uik && !json_is_null(uik) && !json_is_string(uik))
        return failed(r, "%s", "usageIdentifierKey is not a string");
    json_t *st = json_object_get(doc, "Statement");
    size_t ns = json_is_object(st) ? 1 : json_is_array(st) ? json_array_size(st) : 0;
    if (!st || (!json_is_object(st) && !json_is_array(st)))
        return failed(r, "%s", "policyDocument.Statement is missing or not an array");
    if (ns > AZ_MAX_STATEMENTS)
        return failed(r, "%s", "policyDocument.Statement has too many statements");
    r->principal = strdup(json_string_value(pid));
    r->usage_key = json_is_string(uik) ? strdup(json_string_value(uik)) : NULL;
    r->stmts = calloc(ns ? ns : 1, sizeof *r->stmts);
    if (!r->principal || !r->stmts || (json_is_string(uik) && !r->usage_key))
        return -1;
    for (size_t i = 0; i < ns; i++) {
        json_t *s = json_is_object(st) ? st : json_array_get(st, i);
        az__stmt *o = &r->stmts[r->n_stmts++];
        if (!json_is_object(s))
            return failed(r, "%s", "a policy statement is not an object");
        const char *eff = json_string_value(json_object_get(s, "Effect"));
        if (!eff || (strcasecmp(eff, "Allow") && strcasecmp(eff, "Deny")))
            return failed(r, "%s", "a policy statement's Effect is not Allow or Deny");
        o->deny = !strcasecmp(eff, "Deny");
        json_t *act = json_object_get(s, "Action"), *res = json_object_get(s, "Resource");
        if (!act && (act = json_object_get(s, "NotAction")))
            o->not_action = 1;
        if (!res && (res = json_object_get(s, "NotResource")))
            o->not_resource = 1;
        int pa = act ? patterns(act, &o->act, &o->n_act) : 1;
        if (pa)
            return pa < 0 ? -1 : failed(r, "%s", "a policy statement's Action is malformed");
        int pr = res ? patterns(res, &o->res, &o->n_res) : 1;
        if (pr)
            return pr < 0 ? -1 : failed(r, "%s", "a policy statement's Resource is malformed");
    }
    r->kind = AZ__POLICY;
    return 0;
}

/* Renders context (object or null/absent) into r; REST: scalars only. */
static int parse_context(az_result *r, json_t *ctx, int rest)
{
    if (!ctx || json_is_null(ctx))
        return 0;
    if (!json_is_object(ctx))
        return failed(r, "%s", "context is not an object");
    const char *k;
    json_t *v;
    jw raw, pr, ps;
    jw_init(&raw, AZ_CONTEXT_MAX);
    jw_init(&pr, AZ_CONTEXT_MAX);
    jw_init(&ps, AZ_CONTEXT_MAX);
    write_value(&raw, ctx);
    size_t n = 0;
    json_object_foreach(ctx, k, v) {
        if (rest && (json_is_object(v) || json_is_array(v))) {
            free(jw_finish(&raw, NULL));
            free(jw_finish(&pr, NULL));
            free(jw_finish(&ps, NULL));
            return failed(r, "context value of key \"%.100s\" is an object or array", k);
        }
        if (!strcmp(k, "principalId") || !strcmp(k, "integrationLatency"))
            continue; /* the gateway's own keys */
        if (n++) {
            jw_lit(&pr, ",");
            jw_lit(&ps, ",");
        }
        jw_str(&pr, k, strlen(k));
        jw_lit(&pr, ":");
        write_value(&pr, v);
        jw_str(&ps, k, strlen(k));
        jw_lit(&ps, ":");
        write_stringified(&ps, v);
    }
    r->ctx_raw = jw_finish(&raw, NULL);
    r->pairs_raw = jw_finish(&pr, NULL);
    r->pairs_str = jw_finish(&ps, NULL);
    if (!r->ctx_raw || !r->pairs_raw || !r->pairs_str)
        return failed(r, "%s", "context too large");
    return 0;
}

static int parse_response(const az_authorizer *a, az_result *r, const char *p, size_t len)
{
    json_error_t je;
    json_t *j = json_loadb(p, len, JSON_DECODE_ANY, &je);
    int rc = 0, rest = a->c.type == AZ_REST_TOKEN || a->c.type == AZ_REST_REQUEST;
    if (!json_is_object(j)) {
        rc = failed(r, "%s", j ? "response is not a JSON object" : "response is not JSON");
    } else if (a->c.simple_responses) {
        json_t *ok = json_object_get(j, "isAuthorized");
        if (!json_is_boolean(ok)) {
            rc = failed(r, "%s", "isAuthorized is missing or not a boolean");
        } else {
            r->kind = AZ__SIMPLE;
            r->authorized = json_is_true(ok);
            rc = parse_context(r, json_object_get(j, "context"), 0);
        }
    } else {
        rc = parse_policy(r, j);
        if (!rc && r->kind == AZ__POLICY)
            rc = parse_context(r, json_object_get(j, "context"), rest);
    }
    json_decref(j);
    return rc;
}

int az_parse(const az_authorizer *a, az_invoke how, const char *payload, size_t len,
             az_result **out)
{
    *out = NULL;
    az_result *r = calloc(1, sizeof *r);
    if (!r)
        return AZ_ENOMEM;
    atomic_init(&r->refs, 1);
    r->kind = AZ__FAILED;
    int rc = 0;
    if (how == AZ_INVOKE_FAILED) {
        failed(r, "%s", "the authorizer's invocation failed (timeout, throttle or no environment)");
    } else if (how == AZ_INVOKE_ERROR) {
        json_error_t je;
        json_t *j = json_loadb(payload, len, 0, &je);
        const char *msg = json_string_value(json_object_get(j, "errorMessage"));
        const char *type = json_string_value(json_object_get(j, "errorType"));
        if (msg && !strcmp(msg, "Unauthorized") &&
            (a->c.type == AZ_REST_TOKEN || a->c.type == AZ_REST_REQUEST))
            r->kind = AZ__UNAUTHORIZED;
        else
            failed(r, "the authorizer function failed (%.100s)", type ? type : "no errorType");
        json_decref(j);
    } else {
        rc = parse_response(a, r, payload, len);
    }
    if (rc) {
        atomic_store(&r->refs, 1);
        az_result_free(r);
        return AZ_ENOMEM;
    }
    *out = r;
    return AZ_OK;
}

/* ---- decisions ---- */

static int any_match(const char *const *pats, size_t n, const char *s, int fold)
{
    for (size_t i = 0; i < n; i++)
        if (az__glob(pats[i], s, fold))
            return 1;
    return 0;
}

az_verdict az_decide(const az_result *r, const char *arn)
{
    switch (r->kind) {
    case AZ__UNAUTHORIZED: return AZ_UNAUTHORIZED;
    case AZ__FAILED: return AZ_FAILED;
    case AZ__SIMPLE: return r->authorized ? AZ_ALLOW : AZ_DENY;
    }
    int allow = 0;
    for (size_t i = 0; i < r->n_stmts; i++) {
        const az__stmt *s = &r->stmts[i];
        int act = any_match(s->act, s->n_act, "execute-api:Invoke", 1) != s->not_action;
        int res = any_match(s->res, s->n_res, arn, 0) != s->not_resource;
        if (!act || !res)
            continue;
        if (s->deny)
            return AZ_DENY_EXPLICIT;
        allow = 1;
    }
    return allow ? AZ_ALLOW : AZ_DENY;
}

#define ANSWER(st, b, et) {st, b, sizeof b - 1, "application/json", et}

void az_answer_of(const az_authorizer *a, az_verdict v, az_answer *out)
{
    static const az_answer rest[] = {
        {0, "", 0, NULL, NULL},
        ANSWER(401, "{\"message\":\"Unauthorized\"}", "UnauthorizedException"),
        ANSWER(401, "{\"message\":\"Unauthorized\"}", "UnauthorizedException"),
        ANSWER(401, "{\"message\":\"Unauthorized\"}", "UnauthorizedException"),
        ANSWER(403, "{\"Message\":\"User is not authorized to access this resource\"}",
               "AccessDeniedException"),
        ANSWER(403,
               "{\"Message\":\"User is not authorized to access this resource with an explicit "
               "deny\"}",
               "AccessDeniedException"),
        ANSWER(500, "{\"message\": null}", "AuthorizerConfigurationException"),
        ANSWER(414, "{\"message\":\"Request URI too long\"}", NULL),
    };
    static const az_answer rest_lower[] = {
        ANSWER(403, "{\"message\":\"User is not authorized to access this resource\"}",
               "AccessDeniedException"),
        ANSWER(403,
               "{\"message\":\"User is not authorized to access this resource with an explicit "
               "deny\"}",
               "AccessDeniedException"),
    };
    static const az_answer http[] = {
        {0, "", 0, NULL, NULL},
        ANSWER(401, "{\"message\":\"Unauthorized\"}", NULL),
        ANSWER(401, "{\"message\":\"Unauthorized\"}", NULL),
        ANSWER(401, "{\"message\":\"Unauthorized\"}", NULL),
        ANSWER(403, "{\"message\":\"Forbidden\"}", NULL),
        ANSWER(403, "{\"message\":\"Forbidden\"}", NULL),
        ANSWER(500, "{\"message\":\"Internal Server Error\"}", NULL),
        ANSWER(414, "{\"message\":\"Request URI too long\"}", NULL),
    };
    if ((unsigned)v > AZ_ARN_TOO_LONG)
        v = AZ_FAILED;
    int rest_api = a->c.type == AZ_REST_TOKEN || a->c.type == AZ_REST_REQUEST;
    if (!rest_api)
        *out = (a->c.http_deny_401 && (v == AZ_DENY || v == AZ_DENY_EXPLICIT)) ? http[AZ_MISSING]
                                                                              : http[v];
    else if (a->c.deny_lowercase && (v == AZ_DENY || v == AZ_DENY_EXPLICIT))
        *out = rest_lower[v - AZ_DENY];
    else
        *out = rest[v];
}

/* ---- the integration's requestContext.authorizer ---- */

void az_write_authorizer(const az_result *r, az_integration fmt, long long latency_ms, jw *w)
{
    if (fmt == AZ_INT_HTTP_V2) {
        jw_lit(w, "{\"lambda\":");
        if (r->ctx_raw)
            jw_raw(w, r->ctx_raw, strlen(r->ctx_raw));
        else
            jw_lit(w, "null");
        jw_lit(w, "}");
        return;
    }
    const char *pairs = fmt == AZ_INT_REST ? r->pairs_str : r->pairs_raw;
    jw_lit(w, "{");
    if (r->principal || fmt == AZ_INT_REST) {
        jw_lit(w, "\"principalId\":");
        jw_str(w, r->principal ? r->principal : "", r->principal ? strlen(r->principal) : 0);
        jw_lit(w, ",");
    }
    jw_lit(w, "\"integrationLatency\":");
    jw_int(w, latency_ms);
    if (pairs && *pairs) {
        jw_lit(w, ",");
        jw_raw(w, pairs, strlen(pairs));
    }
    jw_lit(w, "}");
}
