/*
 * The template's authorizers on the request path (internal to platform/):
 * what gw_serve() builds for them at start-up (authz_setup.c) and what the
 * admission's authorizer stage (admit_authz.c, admission.h) reads per
 * request.  One entry per sam_authorizer, in the template's order:
 *   - Lambda authorizers (REST TOKEN/REQUEST, HTTP API 1.0/2.0): an
 *     az_authorizer (authorizer.h: identity sources, ValidationExpression,
 *     events, responses, the result cache); the function is invoked through
 *     the pools by the stage;
 *   - JWT (HTTP API) and Cognito user-pool (REST) authorizers: an
 *     az_authorizer used for the identity source and the
 *     ValidationExpression only, and one key set (jwt.h's jwt_keys) per
 *     issuer: JwtConfiguration.issuer, or each UserPoolArn's issuer.
 * Where a JWT or Cognito authorizer's keys come from is the user's choice
 * (`--jwks KEY=FILE|URL`, docs/auth.md "Keys of JWT and Cognito authorizers
 * locally"): KEY is the authorizer's name, its issuer or a user pool ARN;
 * a --jwks without KEY is for every such authorizer without its own;
 * else a loopback issuer's own discovery document.  Key sets are read at
 * start-up.  Everything is immutable once built but the caches inside
 * az_authorizer and jwt_keys, which are thread safe.
 */
#ifndef NERD_AUTHZ_H
#define NERD_AUTHZ_H

#include <stdio.h>

#include "admission.h"
#include "authorizer.h"
#include "jwt.h"
#include "template.h"

#define AUTHZ_MAX_ISSUERS SAM_MAX_LIST
#define AUTHZ_MAX_WORKERS 64    /* the gateway's GW_MAX_WORKERS */

/* One issuer an authorizer trusts. */
typedef struct authz_issuer {
    char issuer[1024];          /* what "iss" must be */
    jwt_keys *keys;             /* NULL: no key source (every token refused: 401) */
} authz_issuer;

typedef struct authz_one {
    const sam_authorizer *s;    /* the template's */
    az_authorizer *az;          /* see above; NULL: not usable (500) */
    size_t n_iss;               /* JWT: 1; Cognito: its user pools */
    authz_issuer iss[AUTHZ_MAX_ISSUERS];
    const char *aud[SAM_MAX_LIST]; /* JWT: JwtConfiguration.audience (into s) */
    size_t n_aud;
} authz_one;

/* A worker's recently verified tokens (admit_authz.c). */
typedef struct authz_tokens authz_tokens;

typedef struct gw_authz {
    authz_one one[SAM_MAX_AUTHORIZERS];   /* as t->authorizers */
    size_t n;
    jwt_keys *sets[SAM_MAX_AUTHORIZERS * AUTHZ_MAX_ISSUERS]; /* owned, each once */
    size_t n_sets;
    authz_tokens *tokens[AUTHZ_MAX_WORKERS]; /* each worker's own, made on first use */
    FILE *log;
} gw_authz;

/* The admission's authorizer stage (admit_authz.c), before the API key:
 * passes requests whose route has no authorizer; else answers 401, 403,
 * 414 or 500 as API Gateway does, or passes with a->authorizer (and a REST
 * authorizer's a->usage_key) filled; a Lambda authorizer that must be
 * invoked makes it GW_WAIT.  On the request's worker. */
extern const gw_stage gw_stage_authorizer;

/* Frees a worker's token cache (admit_authz.c); NULL is a no-op. */
void authz__tokens_free(authz_tokens *c);

/* Builds the authorizers of t.  jwks[0..n_jwks): the --jwks arguments
 * ("KEY=SOURCE" or "SOURCE").  Key sets are read now: a source given with
 * --jwks that cannot be read, a --jwks KEY that names no JWT or Cognito
 * authorizer, or an authorizer API Gateway would refuse is an error (-1,
 * message in err); an authorizer with no key source, or whose loopback
 * issuer does not answer yet, is a warning on log.  0 and *out (free with
 * gw_authz_free), or -1. */
int gw_authz_new(const sam_template *t, const char *const *jwks, size_t n_jwks, FILE *log,
                 gw_authz **out, char *err, size_t errlen);

/* Frees z; NULL is a no-op. */
void gw_authz_free(gw_authz *z);

#endif
