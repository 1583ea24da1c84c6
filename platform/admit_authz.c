/*
 * The admission's authorizer stage (admission.h): the route's authorizer,
 * as API Gateway runs it before the API key and the throttles
 * (../shared/specs/apigw-rest-auth-runtimes.md §3):
 *   - Lambda authorizers (REST TOKEN/REQUEST, HTTP API 1.0/2.0): identity
 *     sources and ValidationExpression (401 without invoking), the
 *     authorizer's result cache, else its function invoked through the
 *     pools like any invocation (it counts toward concurrency) under the
 *     authorizer's own timeout (REST 29 s, HTTP API 10 s; the function's
 *     Timeout kills it sooner), the answer parsed and its policy evaluated
 *     against this request's method ARN: 401, 403, 500 as §3.1.6 and §3.4
 *     give them, or requestContext.authorizer for the event and the
 *     usageIdentifierKey for the API key stage;
 *   - JWT (HTTP API) and Cognito (REST) authorizers: the token checked at
 *     once with the issuer's cached keys (jwt.h), claims passed on as AWS
 *     renders them; HTTP API refusals carry www-authenticate;
 *   - AWS_IAM: only whether the request is SigV4-signed at all (403).
 * A REST CORS preflight (route -1) has the API's default authorizer unless
 * AddDefaultAuthorizerToCorsPreflight is false; HTTP API preflights never
 * get here (the HTTP front answers them).  On the request's worker.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apigw_int.h"
#include "apigw_v1.h"
#include "authz.h"
#include "clock.h"
#include "hash.h"
#include "integration.h"

_Static_assert(GW_MAX_WORKERS <= AUTHZ_MAX_WORKERS, "a token cache per worker");

/* ---- which authorizer, which scopes ---- */

/* The authorizer of a's route: an index into t->authorizers, SAM_AUTH_NONE
 * or SAM_AUTH_IAM; sc[0..*n): the AuthorizationScopes that apply. */
static int authorizer_of(const sam_template *t, const gw_admission *a,
                         const char *sc[SAM_MAX_LIST], size_t *n)
{
    *n = 0;
    if (a->route >= 0) {
        const sam_route *rt = &t->routes[a->route];
        for (; *n < rt->n_scopes; (*n)++)
            sc[*n] = rt->scopes[*n];
        return rt->authorizer;
    }
    /* the MOCK OPTIONS of a REST API's Cors: SAM gives it the default
     * authorizer unless AddDefaultAuthorizerToCorsPreflight is false */
    const sam_api_auth *au = &t->apis[a->api].auth;
    if (!au->default_auth_on_preflight || !au->default_authorizer[0])
        return SAM_AUTH_NONE;
    if (!strcmp(au->default_authorizer, "AWS_IAM"))
        return SAM_AUTH_IAM;
    for (size_t i = 0; i < t->n_authorizers; i++)
        if (t->authorizers[i].api == a->api && !strcmp(t->authorizers[i].name,
                                                       au->default_authorizer)) {
            for (; *n < t->authorizers[i].n_scopes; (*n)++)
                sc[*n] = t->authorizers[i].scopes[*n];
            return (int)i;
        }
    return SAM_AUTH_NONE;
}

static int is_rest(const gw_admission *a) { return a->dialect == &gw_rest_dialect; }

/* Answers a with `which` (and one extra header when name is not NULL). */
static gw_verdict answer(gw_admission *a, gw_answer which, const char *name, const char *value)
{
    gw_answer_reply_h(a->r, a->dialect, which, a->ids, name, value);
    return GW_ANSWERED;
}

static gw_verdict answer_verdict(gw_admission *a, az_verdict v)
{
    static const gw_answer of[] = {
        [AZ_MISSING] = GW_ANS_UNAUTHORIZED,     [AZ_INVALID] = GW_ANS_UNAUTHORIZED,
        [AZ_UNAUTHORIZED] = GW_ANS_UNAUTHORIZED, [AZ_DENY] = GW_ANS_ACCESS_DENIED,
        [AZ_DENY_EXPLICIT] = GW_ANS_EXPLICIT_DENY, [AZ_FAILED] = GW_ANS_AUTHORIZER_FAILURE,
        [AZ_ARN_TOO_LONG] = GW_ANS_ARN_TOO_LONG,
    };
    return answer(a, v > AZ_ALLOW && v <= AZ_ARN_TOO_LONG ? of[v] : GW_ANS_AUTHORIZER_FAILURE,
                  NULL, NULL);
}

static void log_line(const gw_admission *a, const authz_one *z, const char *why)
{
    FILE *log = a->w->g->authz->log;
    fprintf(log, "nerd: authorizer %s: %s\n", z->s->name, why);
    fflush(log);
}

/* ---- the request as az_ sees it ---- */

typedef struct view {
    az_request ar;
    apigw_kv hdrs[HTTP_MAX_HEADERS];
    apigw_kv pp[APIGW_MAX_PARAMS];
    apigw_kv sv[SAM_MAX_STAGE_VARS];
    apigw_kv *query;            /* malloc'd, NULL: none */
    char *qbuf;                 /* the decoded query's text */
    char *raw_query;            /* the query string, NUL-terminated (malloc'd) */
    char api_id[64], dep[8];
    char route_key[SAM_STR + 32];
} view;

/* The query's decoded pairs in order (grouped by name, first seen first). */
static int query_pairs(view *v, const gw_req *r)
{
    apigw__kv_join *qs = malloc(sizeof *qs * APIGW__JOIN_MAX);
    int nq = 0, rc = -1;
    size_t n = 0;
    if (!qs || apigw__parse_query(r->query, r->query_len, qs, &nq, &v->qbuf))
        goto out;
    for (int i = 0; i < nq; i++)
        n += (size_t)qs[i].n;
    v->query = malloc((n ? n : 1) * sizeof *v->query);
    if (!v->query)
        goto out;
    n = 0;
    for (int i = 0; i < nq; i++)
        for (int k = 0; k < qs[i].n; k++)
            v->query[n++] = (apigw_kv){qs[i].name, qs[i].name_len, qs[i].v[k], qs[i].vl[k]};
    v->ar.query = v->query;
    v->ar.n_query = n;
    rc = 0;
out:
    free(qs);
    return rc;
}

/* Fills v for a; with_query: the decoded query too.  0, or -1 when memory
 * ran out (v_fini in both cases). */
static int view_of(view *v, const gw_admission *a, int with_query)
{
    const gw_req *r = a->r;
    const sam_template *t = r->g->t;
    const sam_api *api = &t->apis[a->api];
    const http_request *hr = r->hr;
    az_request *ar = &v->ar;
    memset(ar, 0, sizeof *ar);
    v->query = NULL;
    v->qbuf = NULL;
    v->raw_query = r->query ? strndup(r->query, r->query_len) : NULL;
    if (r->query && !v->raw_query)
        return -1;
    for (uint32_t i = 0; i < hr->n_headers; i++)
        v->hdrs[i] = (apigw_kv){r->buf + hr->headers[i].name, hr->headers[i].name_len,
                                r->buf + hr->headers[i].value, hr->headers[i].value_len};
    for (size_t i = 0; i < a->match->n_params; i++)
        v->pp[i] = (apigw_kv){a->match->names[i], strlen(a->match->names[i]),
                              a->match->values[i], strlen(a->match->values[i])};
    gw_api_id(api, v->api_id);
    ar->method = r->method;
    ar->path = a->path;
    ar->raw_query = v->raw_query;
    ar->headers = v->hdrs;
    ar->n_headers = hr->n_headers;
    ar->path_params = v->pp;
    ar->n_path_params = a->match->n_params;
    ar->stage = a->stage;
    ar->api_id = v->api_id;
    ar->source_ip = hc_peer(r->c);
    ar->time_ms = a->time_ms;
    if (is_rest(a)) {
        for (size_t i = 0; i < api->n_vars; i++)
            v->sv[i] = (apigw_kv){api->vars[i].key, strlen(api->vars[i].key), api->vars[i].value,
                                  strlen(api->vars[i].value)};
        ar->stage_vars = v->sv;
        ar->n_stage_vars = api->n_vars;
        ar->resource = t->resources[a->resource].path;
        ar->resource_id = t->resources[a->resource].id;
        apigw_v1_deployment_id(api, v->dep);
        ar->deployment_id = v->dep;
        ar->request_id = a->ids->request_id;
        ar->extended_request_id = a->ids->extended_id;
    } else {
        const sam_route *rt = &t->routes[a->route];
        ar->resource = rt->path;
        if (!strcmp(rt->path, "$default"))
            snprintf(v->route_key, sizeof v->route_key, "$default");
        else
            snprintf(v->route_key, sizeof v->route_key, "%s %s", rt->method, rt->path);
        ar->route_key = v->route_key;
        ar->request_id = r->rid;
    }
    return with_query && r->query_len ? query_pairs(v, r) : 0;
}

static void view_fini(view *v)
{
    free(v->query);
    free(v->qbuf);
    free(v->raw_query);
}

/* ---- Lambda authorizers ---- */

/* One invocation of an authorizer function, freed once it is over (a
 * timed-out one outlives its request). */
typedef struct authz_call {
    gw_admission *a;            /* NULL once the request was answered */
    authz_one *z;
    gw_worker *w;
    az_identity id;
    char arn[AZ_ARN_MAX + 1];
    char *event;
    double started;             /* monotonic ms */
    int in_run, ended;          /* pool_invoke may end the call before it returns */
    ev_timer timer;
    pool_call pc;               /* last: its result's 4 KB tail */
} authz_call;

static void call_free(authz_call *c)
{
    az_identity_fini(&c->id);
    lam_result_fini(&c->pc.res);
    free(c->event);
    free(c);
}

/* r decided for a's method ARN: an answer, or requestContext.authorizer
 * (and the usage key) and on to the next stage. */
static gw_verdict decided(gw_admission *a, const authz_one *z, const az_result *res,
                          const char *arn, long long latency_ms)
{
    az_verdict v = az_decide(res, arn);
    if (v != AZ_ALLOW) {
        if (v == AZ_FAILED)
            log_line(a, z, az_result_reason(res));
        return answer_verdict(a, v);
    }
    const sam_template *t = a->w->g->t;
    az_integration fmt = is_rest(a) ? AZ_INT_REST
                       : t->routes[a->route].payload_version == 1 ? AZ_INT_HTTP_V1
                                                                  : AZ_INT_HTTP_V2;
    jw w;
    jw_init(&w, LAM_MAX_PAYLOAD);
    az_write_authorizer(res, fmt, latency_ms, &w);
    free(a->authorizer);
    a->authorizer = jw_finish(&w, NULL);
    if (!a->authorizer)
        return answer(a, GW_ANS_AUTHORIZER_FAILURE, NULL, NULL);
    const char *uk = az_result_usage_key(res);
    if (is_rest(a) && uk) {
        free(a->usage_key);
        if (!(a->usage_key = strdup(uk)))
            return answer(a, GW_ANS_AUTHORIZER_FAILURE, NULL, NULL);
    }
    return GW_PASS;
}

/* The call's invocation is over (how): parse, cache, decide. */
static gw_verdict settle(authz_call *c, az_invoke how)
{
    const lam_result *lr = &c->pc.res;
    az_result *res;
    if (az_parse(c->z->az, how, lr->payload, lr->payload ? lr->payload_len : 0, &res))
        return answer(c->a, GW_ANS_AUTHORIZER_FAILURE, NULL, NULL);
    az_cache_put(c->z->az, &c->id, res, clk_mono_ms());
    double ms = clk_mono_ms() - c->started;
    gw_verdict v = decided(c->a, c->z, res, c->arn, (long long)(ms + 0.5));
    az_result_free(res);
    return v;
}

static az_invoke how_of(const pool_call *pc)
{
    if (pc->failed)
        return AZ_INVOKE_FAILED;
    return pc->res.outcome == LAM_OK ? AZ_INVOKE_OK
         : pc->res.outcome == LAM_FUNCTION_ERROR ? AZ_INVOKE_ERROR : AZ_INVOKE_FAILED;
}

static void on_invoked(pool_call *pc)
{
    authz_call *c = pc->arg;
    c->ended = 1;
    if (c->in_run)
        return; /* run() goes on with it */
    ev_timer_stop(c->w->L, &c->timer);
    if (c->a) {
        gw_admission *a = c->a;
        gw_admit_resume(a, settle(c, how_of(pc)));
    }
    call_free(c);
}

static void on_timeout(ev_loop *L, ev_timer *t)
{
    (void)L;
    authz_call *c = t->data;
    gw_admission *a = c->a;
    char why[96];
    c->a = NULL; /* the invocation runs on; its result is dropped */
    snprintf(why, sizeof why, "no answer within %d ms: 500",
             is_rest(a) ? AZ_REST_TIMEOUT_MS : AZ_HTTP_TIMEOUT_MS);
    log_line(a, c->z, why);
    gw_admit_resume(a, answer(a, GW_ANS_AUTHORIZER_FAILURE, NULL, NULL));
}

static gw_verdict lambda(gw_admission *a, authz_one *z)
{
    gw *g = a->w->g;
    az_type ty = az_type_of(z->az);
    view v;
    az_identity id;
    az_verdict av;
    char arn[AZ_ARN_MAX + 1];
    authz_call *c = NULL;
    gw_verdict out;
    memset(&id, 0, sizeof id);
    if (view_of(&v, a, ty != AZ_REST_TOKEN) || az_identify(z->az, &v.ar, &id, &av)) {
        out = answer(a, GW_ANS_AUTHORIZER_FAILURE, NULL, NULL);
        goto done;
    }
    if (av != AZ_ALLOW || az_method_arn(&v.ar, arn, sizeof arn) < 0) {
        out = answer_verdict(a, av != AZ_ALLOW ? av : AZ_ARN_TOO_LONG);
        goto done;
    }
    if (z->s->function < 0) {
        log_line(a, z, "its FunctionArn is not a function of this template: 500");
        out = answer(a, GW_ANS_AUTHORIZER_FAILURE, NULL, NULL);
        goto done;
    }
    az_result *hit = az_cache_get(z->az, &id, clk_mono_ms());
    if (hit) {
        out = decided(a, z, hit, arn, 0);
        az_result_free(hit);
        goto done;
    }
    c = calloc(1, sizeof *c);
    size_t len;
    if (!c || az_event(z->az, &v.ar, &id, &c->event, &len)) {
        out = answer(a, GW_ANS_AUTHORIZER_FAILURE, NULL, NULL);
        goto done;
    }
    lam_result_init(&c->pc.res);
    c->a = a;
    c->z = z;
    c->w = a->w;
    c->id = id;
    memset(&id, 0, sizeof id); /* c has it now */
    memcpy(c->arn, arn, sizeof arn);
    c->started = clk_mono_ms();
    c->pc.fi = z->s->function;
    c->pc.event = c->event;
    c->pc.len = len;
    c->pc.done = on_invoked;
    c->pc.arg = c;
    c->in_run = 1;
    ev_timer_start(a->w->L, &c->timer, ev_now(a->w->L) + (is_rest(a) ? AZ_REST_TIMEOUT_MS
                                                                      : AZ_HTTP_TIMEOUT_MS),
                   on_timeout, c);
    int rc = pool_invoke(g->pools, a->w->id, &c->pc);
    c->in_run = 0;
    if (rc == 0 && !c->ended) {
        c = NULL;
        out = GW_WAIT;
        goto done;
    }
    ev_timer_stop(a->w->L, &c->timer);
    if (rc)
        log_line(a, z, "its function is at its concurrency limit (throttled): 500");
    out = settle(c, rc ? AZ_INVOKE_FAILED : how_of(&c->pc));
done:
    if (c)
        call_free(c);
    az_identity_fini(&id);
    view_fini(&v);
    return out;
}

/* ---- JWT and Cognito authorizers ---- */

/* requestContext.authorizer of a verified token: HTTP 2.0 {"jwt":{"claims",
 * "scopes"}}, HTTP 1.0 {"claims","scopes"}, REST Cognito {"claims"} (and
 * "scopes" for an access token).  malloc'd JSON, NULL out of memory. */
static char *jwt_authorizer(const gw_admission *a, const jwt *t)
{
    const sam_template *tp = a->w->g->t;
    json_t *claims = is_rest(a) ? jwt_claims_cognito(t) : jwt_claims_http(t);
    json_t *out = json_object(), *in = out;
    const char *use = json_string_value(json_object_get(jwt_claims(t), "token_use"));
    int access = is_rest(a) && use && !strcmp(use, "access");
    char *s = NULL;
    if (!claims || !out)
        goto out;
    if (!is_rest(a) && tp->routes[a->route].payload_version != 1) {
        in = json_object();
        if (!in || json_object_set_new(out, "jwt", in))
            goto out;
    }
    if (json_object_set(in, "claims", claims) ||
        ((!is_rest(a) || access) && json_object_set_new(in, "scopes", jwt_scopes(t))))
        goto out;
    s = json_dumps(out, JSON_COMPACT);
out:
    json_decref(claims);
    json_decref(out);
    return s;
}

/* The issuer of z for token[0..n): the only one, or the one its "iss"
 * names (Cognito with several user pools); NULL when none. */
static const authz_issuer *issuer_of(const authz_one *z, const char *token, size_t n)
{
    if (z->n_iss == 1)
        return &z->iss[0];
    jwt *t;
    const authz_issuer *is = NULL;
    if (jwt_parse(token, n, &t))
        return NULL;
    const char *iss = json_string_value(json_object_get(jwt_claims(t), "iss"));
    for (size_t i = 0; iss && i < z->n_iss && !is; i++)
        if (!strcmp(z->iss[i].issuer, iss))
            is = &z->iss[i];
    jwt_free(t);
    return is;
}

/* A refused token: REST 401 (an expired one: its own message), HTTP API
 * 401, or 403 for a missing scope, with www-authenticate (§3.5). */
static gw_verdict refuse(gw_admission *a, jwt_err e, const char *const *scopes, size_t ns)
{
    if (e == JWT_ENOMEM)
        return answer(a, GW_ANS_AUTHORIZER_FAILURE, NULL, NULL);
    if (is_rest(a))
        return answer(a, e == JWT_EEXPIRED ? GW_ANS_EXPIRED_TOKEN : GW_ANS_UNAUTHORIZED, NULL,
                      NULL);
    char h[SAM_MAX_LIST * SAM_STR + 256];
    size_t o = (size_t)snprintf(h, sizeof h, "Bearer");
    for (size_t i = 0; i < ns && o < sizeof h; i++)
        o += (size_t)snprintf(h + o, sizeof h - o, "%s%s", i ? " " : " scope=\"", scopes[i]);
    if (ns && o < sizeof h)
        o += (size_t)snprintf(h + o, sizeof h - o, "\"");
    if (o < sizeof h)
        snprintf(h + o, sizeof h - o, " error=\"%s\" error_description=\"%s\"",
                 e == JWT_ESCOPE ? "insufficient_scope" : "invalid_token", jwt_strerror(e));
    return answer(a, e == JWT_ESCOPE ? GW_ANS_ACCESS_DENIED : GW_ANS_UNAUTHORIZED,
                  "www-authenticate", h);
}

/* A worker's tokens verified lately, so that a client sending the same
 * token again costs a comparison and the claim checks (exp, nbf, iat, the
 * route's scopes: jwt_check_claims, every time) instead of decoding,
 * parsing and rendering it again.  Direct-mapped, per worker (a jwt is one
 * thread's), an entry used for at most TOKEN_TTL_MS and only while its key
 * set has not been read again; then the token goes through jwt_keys_verify
 * (which applies the key set's refresh rules) once more. */
#define TOKEN_SLOTS 64
#define TOKEN_TTL_MS 10000.0

typedef struct tok_entry {
    const authz_one *z;         /* the authorizer that verified it, NULL: empty */
    const authz_issuer *is;     /* its issuer */
    int fmt;                    /* 0 REST, 1 HTTP 1.0, 2 HTTP 2.0 integration */
    char *tok;
    size_t len;
    jwt *t;
    char *json;                 /* requestContext.authorizer */
    unsigned long reads;        /* jwt_keys_reads() when it was verified */
    double at;                  /* clk_mono_ms() then */
} tok_entry;

struct authz_tokens {
    tok_entry e[TOKEN_SLOTS];
};

static void entry_clear(tok_entry *e)
{
    free(e->tok);
    jwt_free(e->t);
    free(e->json);
    memset(e, 0, sizeof *e);
}

void authz__tokens_free(authz_tokens *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < TOKEN_SLOTS; i++)
        entry_clear(&c->e[i]);
    free(c);
}

static int fmt_of(const gw_admission *a)
{
    return is_rest(a) ? 0 : a->w->g->t->routes[a->route].payload_version == 1 ? 1 : 2;
}

/* tok's slot in this worker's cache (made on first use; NULL when memory
 * ran out). */
static tok_entry *slot_of(const gw_admission *a, const char *tok, size_t n)
{
    gw_authz *g = a->w->g->authz;
    authz_tokens **c = &g->tokens[a->w->id];
    if (!*c && !(*c = calloc(1, sizeof **c)))
        return NULL;
    return &(*c)->e[hash_murmur64a(tok, n, 0x6a77) & (TOKEN_SLOTS - 1)];
}

/* e holds tok verified by z for integration fmt, and is still good. */
static int usable(const tok_entry *e, const authz_one *z, int fmt, const char *tok, size_t n)
{
    return e && e->z == z && e->fmt == fmt &&
           e->len == n && !memcmp(e->tok, tok, n) && clk_mono_ms() - e->at < TOKEN_TTL_MS &&
           jwt_keys_reads(e->is->keys) == e->reads;
}

/* Keeps t (taken over) and json (copied) in e; on failure e stays empty. */
static void remember(tok_entry *e, const authz_one *z, const authz_issuer *is, int fmt,
                     const char *tok, size_t n, jwt *t, const char *json)
{
    entry_clear(e);
    e->tok = malloc(n ? n : 1);
    e->json = strdup(json);
    if (!e->tok || !e->json) {
        free(e->tok);
        free(e->json);
        e->tok = e->json = NULL;
        jwt_free(t);
        return;
    }
    memcpy(e->tok, tok, n);
    *e = (tok_entry){z, is, fmt, e->tok, n, t, e->json, jwt_keys_reads(is->keys), clk_mono_ms()};
}

static gw_verdict jwt_stage(gw_admission *a, const authz_one *z, const char *const *scopes,
                            size_t ns)
{
    view v;
    az_identity id;
    az_verdict av;
    gw_verdict out;
    jwt *t = NULL;
    memset(&id, 0, sizeof id);
    if (view_of(&v, a, !strncmp(z->s->identity_source, "$request.querystring.", 21)) ||
        az_identify(z->az, &v.ar, &id, &av)) {
        out = answer(a, GW_ANS_AUTHORIZER_FAILURE, NULL, NULL);
        goto done;
    }
    if (av != AZ_ALLOW) { /* no token, or not the ValidationExpression's */
        out = answer_verdict(a, av);
        goto done;
    }
    size_t n;
    const char *tok = jwt_bearer(id.values[0], id.lens[0], &n);
    int fmt = fmt_of(a);
    tok_entry *te = slot_of(a, tok, n);
    int hit = usable(te, z, fmt, tok, n);
    const authz_issuer *is = hit ? te->is : issuer_of(z, tok, n);
    jwt_check ck = {.issuer = is ? is->issuer : NULL, .audiences = z->aud,
                    .n_audiences = z->n_aud, .client_id = !is_rest(a), .scopes = scopes,
                    .n_scopes = ns, .cognito = is_rest(a)};
    jwt_err e = hit ? jwt_check_claims(te->t, &ck) : !is ? JWT_EISS : !is->keys ? JWT_EFETCH
              : jwt_keys_verify(is->keys, tok, n, &ck, &t);
    if (e) {
        out = refuse(a, e, scopes, ns);
        goto done;
    }
    free(a->authorizer);
    a->authorizer = hit ? strdup(te->json) : jwt_authorizer(a, t);
    if (!hit && te && a->authorizer) {
        remember(te, z, is, fmt, tok, n, t, a->authorizer);
        t = NULL; /* the cache has it */
    }
    out = a->authorizer ? GW_PASS : answer(a, GW_ANS_AUTHORIZER_FAILURE, NULL, NULL);
done:
    jwt_free(t);
    az_identity_fini(&id);
    view_fini(&v);
    return out;
}

/* ---- AWS_IAM ---- */

/* Signed (an AWS4-HMAC-SHA256 Authorization header, or a presigned URL's
 * X-Amz-Signature): on; the signature itself cannot be checked here. */
static gw_verdict iam(gw_admission *a)
{
    char v[32], sig[8];
    const gw_req *r = a->r;
    if ((gw_header(r, "authorization", v, sizeof v) && !strncmp(v, "AWS4-HMAC-SHA256 ", 17)) ||
        apigw_query_param(r->query, r->query_len, "X-Amz-Signature", sig, sizeof sig) != -1)
        return GW_PASS;
    return answer(a, GW_ANS_IAM_UNSIGNED, NULL, NULL);
}

static gw_verdict run(gw_admission *a)
{
    gw_authz *g = a->w->g->authz;
    const char *scopes[SAM_MAX_LIST];
    size_t ns;
    int i = authorizer_of(a->w->g->t, a, scopes, &ns);
    if (i == SAM_AUTH_NONE)
        return GW_PASS;
    if (i == SAM_AUTH_IAM)
        return iam(a);
    authz_one *z = &g->one[i];
    if (z->s->type == SAM_AUTHZ_JWT || z->s->type == SAM_AUTHZ_COGNITO)
        return jwt_stage(a, z, scopes, ns);
    return lambda(a, z);
}

const gw_stage gw_stage_authorizer = {"authorizer", run};
