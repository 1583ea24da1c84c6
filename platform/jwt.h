/*
 * JSON Web Tokens as API Gateway's JWT authorizers (HTTP APIs) and Cognito
 * user-pool authorizers (REST APIs) check them
 * (../shared/specs/apigw-rest-auth-runtimes.md §3.2, §3.5): a compact JWS
 * parsed strictly, its signature verified against a JSON Web Key Set with
 * OpenSSL's libcrypto, its claims validated (iss, aud/client_id, exp, nbf,
 * iat, scope/scp, Cognito's token_use), and the claims rendered as AWS
 * passes them to the integration.  Also what `nerd local jwt` needs to mint
 * test tokens: key generation, signing, the public JWKS of a key.
 *
 * Files: jwt.c (tokens: parsing, signatures, claim checks), jwt_keys.c
 * (JWKS parsing, signing, key files), jwt_claims.c (claims as AWS renders
 * them), jwt_cache.c (a JWKS read from a file or a loopback URL, cached).
 *
 * Choices (docs/auth.md): a token over JWT_MAX_TOKEN bytes is refused
 * before any decoding; base64url without padding only;
 * header and claims JSON objects without duplicate keys; "alg": "none" and
 * the HMAC algorithms are never accepted, whatever the caller allows; the
 * header must name a "kid" present in the JWKS, and the key must fit the
 * algorithm; embedded keys (jwk, jku, x5u, x5c) are ignored and "crit" is
 * refused.  Times: exp > now, nbf <= now, iat <= now, each with
 * jwt_check.leeway seconds of skew (default 0, as AWS documents none).
 *
 * Thread safety: a jwt_jwks is immutable once parsed and may be used by any
 * number of threads at once (reference counted); a jwt is owned by one
 * thread at a time; a jwt_keys cache is thread safe.
 */
#ifndef NERD_PLATFORM_JWT_H
#define NERD_PLATFORM_JWT_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>

#define JWT_MAX_TOKEN 10240   /* bytes: REST's cap on all header values (§1.4) */
#define JWT_MAX_JWKS 150000   /* bytes of a JWKS document (§3.5, limits.md) */
#define JWT_MAX_KEYS 100      /* keys in a JWKS */
#define JWT_MAX_KID 1024      /* bytes of a JWKS key's "kid" */
#define JWT_RSA_MIN_BITS 2048 /* RSA moduli accepted in a JWKS: 2048..8192 bits */
#define JWT_RSA_MAX_BITS 8192

/* Errors; 0 is success.  jwt_strerror() words each as the error_description
 * of API Gateway's www-authenticate header. */
typedef enum jwt_err {
    JWT_OK = 0,
    JWT_ENOMEM,     /* out of memory */
    JWT_ETOOBIG,    /* the token is over JWT_MAX_TOKEN bytes (not decoded) */
    JWT_EFORMAT,    /* not header.claims.signature, or an empty header or claims part */
    JWT_EBASE64,    /* a part is not strict base64url (other characters, '=', length, stray bits) */
    JWT_EHEADER,    /* the header is not a JSON object, lacks a string "alg", has "crit", a non-string "kid" */
    JWT_ECLAIMS,    /* the claims are not a JSON object */
    JWT_EALG_NONE,  /* "alg": "none": an unsigned token */
    JWT_EALG_HMAC,  /* HS256/HS384/HS512: shared-secret algorithms, never accepted */
    JWT_EALG,       /* an algorithm not supported here or not in the allowed set */
    JWT_ENOKID,     /* the header has no "kid" */
    JWT_EKID,       /* no key of the JWKS has that "kid" */
    JWT_EKEYALG,    /* the key with that "kid" does not fit the algorithm (kty, crv, its "alg") */
    JWT_ESIG,       /* the signature does not verify (wrong key, altered token, wrong length) */
    JWT_EISS,       /* "iss" missing or not the configured issuer */
    JWT_EAUD,       /* "aud" (or, where allowed and aud is absent, "client_id") not an audience */
    JWT_ENOEXP,     /* no "exp" claim */
    JWT_ETIME,      /* "exp", "nbf" or "iat" is not a number */
    JWT_EEXPIRED,   /* "exp" is not after now */
    JWT_ENBF,       /* "nbf" is after now: not valid yet */
    JWT_EIAT,       /* "iat" is after now: issued in the future */
    JWT_ETOKENUSE,  /* Cognito: "token_use" is not "id" or "access" */
    JWT_ESCOPE,     /* none of the required scopes is in "scope" or "scp" */
    JWT_EJWKS,      /* the JWKS is not {"keys": [...]}, is over JWT_MAX_JWKS bytes or JWT_MAX_KEYS keys */
    JWT_EJWK,       /* a key of the JWKS is malformed (n/e/x/y, RSA size, a point off its curve) */
    JWT_ESOURCE,    /* a key source is neither a file path nor a loopback http:// URL */
    JWT_EFETCH,     /* the JWKS could not be read or fetched (missing file, refused, not 200, timeout) */
    JWT_EKEY        /* a signing key is unusable (not RSA 2048+ or EC P-256/P-384; unreadable PEM) */
} jwt_err;

/* A short English text for e, in the style of API Gateway's
 * error_description ("the token has expired"); never NULL. */
const char *jwt_strerror(jwt_err e);

/* The status API Gateway answers for a failed check: 403 for JWT_ESCOPE,
 * 500 for JWT_ENOMEM, else 401 (200 for JWT_OK). */
int jwt_http_status(jwt_err e);

/* Signature algorithms, as bits of a set. */
#define JWT_RS256 0x01u
#define JWT_RS384 0x02u
#define JWT_RS512 0x04u
#define JWT_PS256 0x08u
#define JWT_PS384 0x10u
#define JWT_PS512 0x20u
#define JWT_ES256 0x40u
#define JWT_ES384 0x80u
/* What HTTP API JWT and Cognito authorizers accept ("only RSA algorithms",
 * §3.5): the default when a set is 0. */
#define JWT_ALGS_DEFAULT (JWT_RS256 | JWT_RS384 | JWT_RS512)
#define JWT_ALGS_ALL 0xffu

/* The JWS name of one algorithm bit ("RS256"), or NULL. */
const char *jwt_alg_name(unsigned alg);
/* The bit of a JWS algorithm name, 0 if not one of the above. */
unsigned jwt_alg_from_name(const char *name);
/* Parses a comma-separated list of names ("RS256,ES256"); 0 if any is
 * unknown or the list is empty. */
unsigned jwt_algs_parse(const char *list);

/* ---- key sets --------------------------------------------------------- */

typedef struct jwt_jwks jwt_jwks;

/* Parses a JWKS document json[0..len) ({"keys": [JWK, ...]}) into public
 * keys: RSA (n, e; 2048..8192 bits) and EC P-256/P-384 (crv, x, y).  Keys
 * whose "use" is not "sig", whose "key_ops" lack "verify", whose "alg" is
 * not a JWS signature algorithm, that have no "kid", or of another kty or
 * curve, are skipped (jwt_jwks_skipped()); a key of a supported kind that
 * is malformed fails the whole set (JWT_EJWK) and err (errcap bytes) says
 * which key and why.  The set starts with one reference, the caller's. */
jwt_err jwt_jwks_parse(const char *json, size_t len, jwt_jwks **out, char *err, size_t errcap);

/* Keys kept, and keys skipped, by jwt_jwks_parse. */
size_t jwt_jwks_count(const jwt_jwks *ks);
size_t jwt_jwks_skipped(const jwt_jwks *ks);
/* Whether some key of ks has this kid. */
int jwt_jwks_has(const jwt_jwks *ks, const char *kid);

/* Takes one more reference to ks (thread safe); returns ks. */
jwt_jwks *jwt_jwks_ref(jwt_jwks *ks);
/* Drops one reference; the last one frees the set.  NULL is a no-op. */
void jwt_jwks_free(jwt_jwks *ks);

/* ---- tokens ----------------------------------------------------------- */

typedef struct jwt jwt;

/* What to check besides the signature; zeroed = only exp/nbf/iat now. */
typedef struct jwt_check {
    const char *issuer;            /* "iss" must equal it; NULL: not checked */
    const char *const *audiences;  /* "aud" (a string, or an array with one of them) */
    size_t n_audiences;            /* 0: the audience is not checked */
    int client_id;                 /* HTTP API (1): "client_id" is checked when "aud" is absent */
    const char *const *scopes;     /* the route's AuthorizationScopes: the token needs one */
    size_t n_scopes;               /* 0: no scope required */
    int cognito;                   /* REST Cognito (1): "token_use" must be "id" or "access" */
    unsigned algs;                 /* allowed algorithms; 0: JWT_ALGS_DEFAULT */
    long long now;                 /* epoch seconds; 0: the current time */
    long long leeway;              /* seconds of clock skew allowed on exp, nbf, iat */
} jwt_check;

/* Parses token[0..len) (no "Bearer " prefix; see jwt_bearer()) without
 * verifying anything but its form: size, three base64url parts, header and
 * claims JSON objects, "alg" (none and HS* are refused here), "kid".
 * *out (jwt_free) on JWT_OK, else NULL. */
jwt_err jwt_parse(const char *token, size_t len, jwt **out);

/* Verifies t's signature with the key of ks named by its "kid", if its
 * algorithm is in algs (0: JWT_ALGS_DEFAULT).  Thread safe for distinct t. */
jwt_err jwt_verify_signature(const jwt *t, const jwt_jwks *ks, unsigned algs);

/* Checks t's claims against c in API Gateway's order: iss, aud/client_id,
 * exp, nbf, iat, token_use, scopes.  Does not look at the signature. */
jwt_err jwt_check_claims(const jwt *t, const jwt_check *c);

/* jwt_parse + jwt_verify_signature(c->algs) + jwt_check_claims, stopping at
 * the first failure.  *out (may be NULL) receives the token on JWT_OK only. */
jwt_err jwt_verify(const char *token, size_t len, const jwt_jwks *ks, const jwt_check *c,
                   jwt **out);

/* The token's header and claims (borrowed: valid until jwt_free(t)), its
 * "kid" (NULL if none) and algorithm bit. */
const json_t *jwt_header(const jwt *t);
const json_t *jwt_claims(const jwt *t);
const char *jwt_kid(const jwt *t);
unsigned jwt_alg(const jwt *t);

/* Frees t; NULL is a no-op. */
void jwt_free(jwt *t);

/* The token in an identity source's value v[0..n): v without an optional
 * "Bearer " prefix (case-insensitive, as API Gateway strips it) and
 * surrounding blanks (space, tab, CR, LF); *tlen receives its length.
 * Never NULL. */
const char *jwt_bearer(const char *v, size_t n, size_t *tlen);

/* ---- claims as the integration receives them (jwt_claims.c) ---------- */

/* HTTP API (`requestContext.authorizer.jwt.claims`): every claim a string
 * (numbers in decimal, arrays "[a b c]", objects "map[k:v]", as AWS's Go
 * rendering gives them), keys sorted.  A new object, NULL on out of
 * memory. */
json_t *jwt_claims_http(const jwt *t);

/* REST Cognito (`requestContext.authorizer.claims`): every claim a string
 * in the token's order; "exp" and "iat" as dates ("Tue Jun 18 15:00:04 UTC
 * 2024"), other numbers in decimal, arrays joined with commas, objects as
 * JSON.  A new object, NULL on out of memory. */
json_t *jwt_claims_cognito(const jwt *t);

/* The token's scopes ("scope" split on spaces, then "scp", a string or an
 * array) as a new array, or a new JSON null when it has none (ID tokens):
 * `requestContext.authorizer.jwt.scopes`. */
json_t *jwt_scopes(const jwt *t);

/* The issuer of a Cognito user pool ARN
 * ("arn:aws:cognito-idp:REGION:ACCOUNT:userpool/POOL" ->
 * "https://cognito-idp.REGION.amazonaws.com/POOL") into out (cap bytes);
 * 0, or -1 when arn is not such an ARN or out is too small. */
int jwt_cognito_issuer(const char *arn, char *out, size_t cap);

/* ---- signing and key files (jwt_keys.c): `nerd local jwt`, tests ------ */

/* base64url of p[0..n) without padding; malloc'd, NUL-terminated; NULL on
 * out of memory. */
char *jwt_b64url(const void *p, size_t n);

/* A new private key: type "rsa" (bits: 2048..8192, 0 for 2048), "ec" or
 * "p256" (P-256), "p384" (P-384).  *out (EVP_PKEY_free) on JWT_OK;
 * JWT_EKEY for another type or size. */
jwt_err jwt_key_generate(const char *type, int bits, EVP_PKEY **out);

/* Reads a PEM private key file (PKCS#8 or traditional, unencrypted) that
 * is RSA (2048..8192 bits) or EC P-256/P-384: JWT_EKEY otherwise, with a
 * message in err. */
jwt_err jwt_key_read(const char *path, EVP_PKEY **out, char *err, size_t errcap);

/* Writes key's private PEM (PKCS#8) to path, created with mode 0600 and
 * not overwriting an existing file.  JWT_EKEY with a message in err. */
jwt_err jwt_key_write(const EVP_PKEY *key, const char *path, char *err, size_t errcap);

/* The RFC 7638 thumbprint of key's public part (base64url of SHA-256),
 * the default "kid" of `nerd local jwt`; malloc'd, NULL on failure. */
char *jwt_key_thumbprint(const EVP_PKEY *key);

/* The public JWK of key as a new JSON object: kty, kid (when not NULL),
 * use "sig", alg (alg's name, 0: jwt_key_alg(key)), n/e or crv/x/y.  A
 * verifier then accepts only that algorithm with this key.  NULL on
 * failure or when alg does not fit the key. */
json_t *jwt_key_jwk(const EVP_PKEY *key, const char *kid, unsigned alg);

/* The algorithm a key signs with by default: RS256 for RSA, ES256 for
 * P-256, ES384 for P-384; 0 for other keys. */
unsigned jwt_key_alg(const EVP_PKEY *key);

/* Signs claims with key as alg (0: jwt_key_alg(key)) in a header
 * {"alg":…,"typ":"JWT","kid":kid} (kid NULL: none): *out is the compact
 * token (malloc'd).  JWT_EKEYALG when alg does not fit the key, JWT_EALG
 * for none, HS* or unknown bits. */
jwt_err jwt_sign(const EVP_PKEY *key, unsigned alg, const char *kid, const json_t *claims,
                 char **out);

/* ---- a JWKS from a file or a loopback URL, cached (jwt_cache.c) ------- */

typedef struct jwt_keys jwt_keys;

typedef struct jwt_keys_opts {
    int issuer;           /* 1: source is an issuer URL: discovery (below) */
    double max_age_s;     /* a set older than this is fetched again on use (0: 7200, AWS's 2 h) */
    double min_refresh_s; /* at most one fetch per this many seconds (0: 10; <0: no limit) */
    int timeout_ms;       /* per fetch (0: 1500, AWS's) */
} jwt_keys_opts;

/* A key source: a file path (read whole, at most JWT_MAX_JWKS bytes), or
 * "http://127.0.0.1[:PORT]/PATH" (also "localhost" and "[::1]"; nothing
 * but loopback is ever contacted).  With opts->issuer the source is an
 * issuer that is itself such a URL: its
 * {issuer}/.well-known/openid-configuration names a loopback "jwks_uri",
 * else {issuer}/.well-known/jwks.json (Cognito's layout) is used.
 * Nothing is read yet.  opts NULL: defaults.  JWT_ESOURCE with a message. */
jwt_err jwt_keys_new(const char *source, const jwt_keys_opts *opts, jwt_keys **out, char *err,
                     size_t errcap);

/* Reads the source now (start-up: reports a bad file or URL early).  On
 * failure a set read before is kept. */
jwt_err jwt_keys_load(jwt_keys *k, char *err, size_t errcap);

/* The current set for a token whose header names kid (may be NULL), as a
 * new reference (*set, to jwt_jwks_free).  The source is read again first
 * when there is no set yet, when the set is older than max_age_s, or when
 * kid is not in it; but never twice within min_refresh_s, and while one
 * thread reads, the others use the set they have.  A failed read keeps
 * the old set (JWT_OK with it); with no set at all it gives JWT_EFETCH. */
jwt_err jwt_keys_get(jwt_keys *k, const char *kid, jwt_jwks **set);

/* The last read's error ("" when it succeeded); the source as given;
 * how many reads were made. */
const char *jwt_keys_error(jwt_keys *k, char *buf, size_t cap);
const char *jwt_keys_source(const jwt_keys *k);
unsigned long jwt_keys_reads(jwt_keys *k);

/* jwt_parse + jwt_keys_get(kid) + jwt_verify_signature + jwt_check_claims.
 * A token whose signature verified under the current set before (the last
 * 512 kept) is not verified again; its claims are checked each time. */
jwt_err jwt_keys_verify(jwt_keys *k, const char *token, size_t len, const jwt_check *c,
                        jwt **out);

/* Frees k (sets still referenced elsewhere live on); NULL is a no-op. */
void jwt_keys_free(jwt_keys *k);

#endif
