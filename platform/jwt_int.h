/*
 * Internals shared by the JWT module's files (jwt.c, jwt_keys.c,
 * jwt_claims.c, jwt_cache.c): the layouts of a key set and a token, strict
 * base64url decoding, and the scopes of a token.  Not for other modules.
 */
#ifndef NERD_PLATFORM_JWT_INT_H
#define NERD_PLATFORM_JWT_INT_H

#include <stdatomic.h>

#include "jwt.h"

/* One public key of a set: the algorithms it may verify (its kty and
 * curve, narrowed by its "alg" when it names one). */
typedef struct jwt__key {
    char *kid;
    unsigned algs;
    EVP_PKEY *pk;
} jwt__key;

struct jwt_jwks {
    atomic_uint refs;
    size_t n, skipped;
    jwt__key keys[];
};

struct jwt {
    json_t *header, *claims;
    const char *kid;        /* the header's "kid" (owned by header), or NULL */
    unsigned alg;
    unsigned char *sig;     /* the decoded signature */
    size_t sig_len;
    size_t signed_len;      /* bytes of text[]: base64url(header) "." base64url(claims) */
    char text[];
};

/* Decodes strict base64url s[0..n) (alphabet A-Z a-z 0-9 - _, no '=', no
 * length of 4k+1, zero stray bits) into *out (malloc'd, NUL-terminated
 * for convenience; *olen bytes).  0, -1 when s is not strict base64url, -2
 * on out of memory. */
int jwt__b64url_decode(const char *s, size_t n, unsigned char **out, size_t *olen);

/* Calls fn(arg, scope, len) for each scope of claims: "scope" split on
 * spaces, then "scp" (a string split on spaces, or an array of strings);
 * stops when fn returns non-zero and returns that value (0 otherwise). */
int jwt__each_scope(const json_t *claims, int (*fn)(void *arg, const char *s, size_t n),
                    void *arg);

/* The end of a verification: when rc is JWT_OK, t's claims are checked
 * against c; then t goes to *out (out not NULL, all well) or is freed
 * (t may be NULL).  Returns the outcome. */
jwt_err jwt__conclude(jwt *t, jwt_err rc, const jwt_check *c, jwt **out);

#endif
