/*
 * The template's authorizers made ready for the request path (see
 * authz.h): each one's az_authorizer (identity sources in SAM's order:
 * headers, query strings, stage variables, context, as SAM writes
 * identitySource), and for JWT and Cognito authorizers the key set of each
 * issuer, from --jwks or a loopback issuer's discovery document, read
 * once now so that a bad file or URL is reported before the first
 * request.  Key sets with the same source are shared.
 */
#define _GNU_SOURCE
#include "authz.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_JWKS_ARGS 32

/* A --jwks argument: "KEY=SOURCE", or "SOURCE" for every authorizer. */
typedef struct jwks_arg {
    char key[1024];             /* "" = the default */
    const char *source;
    int used;                   /* some authorizer took it */
} jwks_arg;

typedef struct setup {
    const sam_template *t;
    gw_authz *z;
    jwks_arg args[MAX_JWKS_ARGS];
    size_t n_args;
    unsigned char discovered[SAM_MAX_AUTHORIZERS * AUTHZ_MAX_ISSUERS]; /* per z->sets */
    char *err;
    size_t errlen;
} setup;

__attribute__((format(printf, 3, 4))) static int fail(setup *s, const sam_authorizer *a,
                                                      const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (a)
        snprintf(s->err, s->errlen, "%s:%d: authorizer %s: %s", s->t->path, a->line, a->name, msg);
    else
        snprintf(s->err, s->errlen, "%s", msg);
    return -1;
}

static int parse_args(setup *s, const char *const *jwks, size_t n)
{
    int defaults = 0;
    if (n > MAX_JWKS_ARGS)
        return fail(s, NULL, "more than %d --jwks options", MAX_JWKS_ARGS);
    for (size_t i = 0; i < n; i++) {
        jwks_arg *g = &s->args[s->n_args++];
        const char *eq = strchr(jwks[i], '=');
        if (!eq) {
            g->source = jwks[i];
            defaults++;
        } else if (eq == jwks[i] || (size_t)(eq - jwks[i]) >= sizeof g->key || !eq[1]) {
            return fail(s, NULL, "--jwks %s: expected KEY=FILE|URL (KEY: an authorizer's name, "
                        "its issuer or a user pool ARN) or FILE|URL", jwks[i]);
        } else {
            memcpy(g->key, jwks[i], (size_t)(eq - jwks[i]));
            g->source = eq + 1;
        }
        if (!*g->source)
            return fail(s, NULL, "--jwks: an empty source");
    }
    if (defaults > 1)
        return fail(s, NULL, "--jwks: more than one source without KEY=");
    return 0;
}

/* The --jwks source for a key set known by any of names[0..n) (its own
 * first), else the default; NULL when none. */
static const char *source_for(setup *s, const char *const *names, size_t n)
{
    jwks_arg *def = NULL;
    for (size_t i = 0; i < s->n_args; i++) {
        if (!s->args[i].key[0]) {
            def = &s->args[i];
            continue;
        }
        for (size_t k = 0; k < n; k++)
            if (names[k] && !strcmp(s->args[i].key, names[k])) {
                s->args[i].used = 1;
                return s->args[i].source;
            }
    }
    if (def)
        def->used = 1;
    return def ? def->source : NULL;
}

/* The key set of source (shared when another issuer has it), read now. */
static int key_set(setup *s, const sam_authorizer *a, const char *source, int discovered,
                   jwt_keys **out)
{
    gw_authz *z = s->z;
    char why[512];
    for (size_t i = 0; i < z->n_sets; i++)
        if (s->discovered[i] == discovered && !strcmp(jwt_keys_source(z->sets[i]), source)) {
            *out = z->sets[i];
            return 0;
        }
    jwt_keys_opts o = {.issuer = discovered};
    jwt_keys *k;
    if (jwt_keys_new(source, &o, &k, why, sizeof why))
        return fail(s, a, "JWKS %s: %s", source, why);
    s->discovered[z->n_sets] = (unsigned char)discovered;
    z->sets[z->n_sets++] = k;
    *out = k;
    if (jwt_keys_load(k, why, sizeof why) == JWT_OK)
        return 0;
    if (!discovered)
        return fail(s, a, "JWKS %s: %s", source, why);
    fprintf(z->log, "nerd: warning: authorizer %s: the keys of issuer %s cannot be read yet "
            "(%s); they are read again on use\n", a->name, source, why);
    return 0;
}

/* The issuer's keys: from --jwks, else its own discovery document when it
 * is a loopback http:// URL, else none (a warning). */
static int issuer_keys(setup *s, const sam_authorizer *a, authz_issuer *is,
                       const char *const *names, size_t n)
{
    const char *src = source_for(s, names, n);
    if (src)
        return key_set(s, a, src, 0, &is->keys);
    if (!strncmp(is->issuer, "http://", 7)) {
        char why[512];
        jwt_keys *probe;
        if (jwt_keys_new(is->issuer, &(jwt_keys_opts){.issuer = 1}, &probe, why, sizeof why)
            == JWT_OK) {
            jwt_keys_free(probe);
            return key_set(s, a, is->issuer, 1, &is->keys);
        }
    }
    fprintf(s->z->log, "nerd: warning: authorizer %s: no keys for issuer %s (give them with "
            "--jwks %s=FILE|URL, or a loopback issuer); its requests are answered 401\n",
            a->name, is->issuer, a->type == SAM_AUTHZ_COGNITO ? names[1] : a->name);
    return 0;
}

/* Appends identity source PREFIX+name to c. */
static int add_source(setup *s, const sam_authorizer *a, az_config *c, const char *prefix,
                      const char *name)
{
    char expr[AZ_NAME_MAX + 64];
    if (c->n_sources == AZ_MAX_SOURCES)
        return fail(s, a, "more than %d identity sources", AZ_MAX_SOURCES);
    if ((size_t)snprintf(expr, sizeof expr, "%s%s", prefix, name) >= sizeof expr ||
        az_source_parse(expr, strlen(expr), &c->sources[c->n_sources]))
        return fail(s, a, "identity source %.200s: %s", expr, az_strerror(AZ_ESOURCE));
    c->n_sources++;
    return 0;
}

/* Identity.Headers, QueryStrings, StageVariables, Context, in that order. */
static int lambda_sources(setup *s, const sam_authorizer *a, az_config *c, int rest)
{
    static const char *const pre[2][4] = {
        {"$request.header.", "$request.querystring.", "$stageVariables.", "$context."},
        {"method.request.header.", "method.request.querystring.", "stageVariables.", "context."}};
    const size_t counts[4] = {a->n_id_headers, a->n_id_query, a->n_id_stage_vars, a->n_id_context};
    const char(*lists[4])[SAM_STR] = {a->id_headers, a->id_query, a->id_stage_vars, a->id_context};
    for (int k = 0; k < 4; k++)
        for (size_t i = 0; i < counts[k]; i++)
            if (add_source(s, a, c, pre[rest][k], lists[k][i]))
                return -1;
    return 0;
}

/* The az_config of a: Lambda authorizers as configured; JWT and Cognito
 * ones as a cache-less authorizer of their identity source alone. */
static int config_of(setup *s, const sam_authorizer *a, az_config *c)
{
    memset(c, 0, sizeof *c);
    c->ttl_s = a->ttl_s;
    switch (a->type) {
    case SAM_AUTHZ_TOKEN:
    case SAM_AUTHZ_COGNITO:
        c->type = AZ_REST_TOKEN;
        c->validation = a->validation[0] ? a->validation : NULL;
        if (a->type == SAM_AUTHZ_COGNITO)
            c->ttl_s = 0;
        return add_source(s, a, c, "method.request.header.", a->header);
    case SAM_AUTHZ_REQUEST:
        c->type = AZ_REST_REQUEST;
        return lambda_sources(s, a, c, 1);
    case SAM_AUTHZ_LAMBDA:
        c->type = a->payload_version == 1 ? AZ_HTTP_V1 : AZ_HTTP_V2;
        c->simple_responses = a->simple_responses;
        return lambda_sources(s, a, c, 0);
    case SAM_AUTHZ_JWT:
        c->type = AZ_HTTP_V2;
        c->ttl_s = 0;
        if (az_sources_parse(a->identity_source, c) || c->n_sources != 1)
            return fail(s, a, "IdentitySource %.200s: one $request.header, $request.querystring, "
                        "$context or $stageVariables source", a->identity_source);
        return 0;
    }
    return fail(s, a, "unknown authorizer type");
}

static int jwt_issuers(setup *s, const sam_authorizer *a, authz_one *o)
{
    if (a->type == SAM_AUTHZ_JWT) {
        const char *names[] = {a->name, a->issuer};
        if (!a->issuer[0])
            return fail(s, a, "JwtConfiguration has no issuer");
        snprintf(o->iss[0].issuer, sizeof o->iss[0].issuer, "%s", a->issuer);
        o->n_iss = 1;
        for (size_t i = 0; i < a->n_audience; i++)
            o->aud[o->n_aud++] = a->audience[i];
        return issuer_keys(s, a, &o->iss[0], names, 2);
    }
    for (size_t i = 0; i < a->n_user_pools; i++) {
        authz_issuer *is = &o->iss[o->n_iss++];
        if (jwt_cognito_issuer(a->user_pools[i], is->issuer, sizeof is->issuer))
            return fail(s, a, "UserPoolArn %.200s is not arn:aws:cognito-idp:REGION:ACCOUNT:"
                        "userpool/POOL_ID", a->user_pools[i]);
        const char *names[] = {a->name, a->user_pools[i], is->issuer};
        if (issuer_keys(s, a, is, names, 3))
            return -1;
    }
    return 0;
}

static int one(setup *s, size_t i)
{
    const sam_authorizer *a = &s->t->authorizers[i];
    authz_one *o = &s->z->one[i];
    az_config c;
    o->s = a;
    if (config_of(s, a, &c))
        return -1;
    int rc = az_new(&c, &o->az);
    if (rc)
        return fail(s, a, "%s", az_strerror(rc));
    if (a->type == SAM_AUTHZ_JWT || a->type == SAM_AUTHZ_COGNITO)
        return jwt_issuers(s, a, o);
    return 0;
}

int gw_authz_new(const sam_template *t, const char *const *jwks, size_t n_jwks, FILE *log,
                 gw_authz **out, char *err, size_t errlen)
{
    *out = NULL;
    setup *s = calloc(1, sizeof *s);
    gw_authz *z = calloc(1, sizeof *z);
    int rc = -1;
    if (!s || !z) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    *s = (setup){.t = t, .z = z, .err = err, .errlen = errlen};
    z->log = log;
    if (parse_args(s, jwks, n_jwks))
        goto out;
    for (z->n = 0; z->n < t->n_authorizers; z->n++)
        if (one(s, z->n)) {
            z->n++;
            goto out;
        }
    for (size_t i = 0; i < s->n_args; i++)
        if (!s->args[i].used && s->args[i].key[0]) {
            fail(s, NULL, "--jwks %s=...: no JWT or Cognito authorizer has this name, issuer or "
                 "user pool ARN", s->args[i].key);
            goto out;
        }
    fflush(log);
    *out = z;
    z = NULL;
    rc = 0;
out:
    gw_authz_free(z);
    free(s);
    return rc;
}

void gw_authz_free(gw_authz *z)
{
    if (!z)
        return;
    for (size_t i = 0; i < z->n; i++)
        az_free(z->one[i].az);
    for (size_t i = 0; i < z->n_sets; i++)
        jwt_keys_free(z->sets[i]);
    for (size_t i = 0; i < AUTHZ_MAX_WORKERS; i++)
        authz__tokens_free(z->tokens[i]);
    free(z);
}
