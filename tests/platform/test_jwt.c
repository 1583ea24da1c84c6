/* The JWT module (platform/jwt.h): tokens signed with keys generated here
 * through libcrypto (no private key is stored in the tree), verified
 * against the JWKS the module itself exports; every refusal a JWT
 * authorizer must make (alg none, HS256 keyed with the RSA public key's
 * PEM and DER bytes, expired, not yet valid, issued in the future, wrong
 * issuer or audience, missing scope, unknown kid, truncated, non-base64url,
 * padded, 1 MB, header or claims not JSON objects, another key's signature,
 * ECDSA signatures of the wrong length or in DER); claims rendered as HTTP
 * APIs and REST Cognito pass them (dates against a real capture); JWKS
 * parsing; the key cache over a file and over a loopback HTTP server run
 * by this test (refresh on an unknown kid, its rate limit, failures that
 * keep the old set, issuer discovery); and verification from several
 * threads sharing one set. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "jwt.h"

static EVP_PKEY *rsa, *rsa2, *ec256, *ec384;
static char *kid_rsa, *kid_ec, *kid_ec384;
static jwt_jwks *keys;
static const char *ISS = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc";
static const char *AUD[] = {"client-1", "client-2"};
static long long NOW;

/* ---- helpers -------------------------------------------------------------- */

static char *b64s(const char *s) { return jwt_b64url(s, strlen(s)); }

/* header.claims.sig from JSON texts and a raw signature. */
static char *raw_token(const char *hdr, const char *claims, const void *sig, size_t sl)
{
    char *h = b64s(hdr), *c = b64s(claims), *s = jwt_b64url(sig, sl), *t;
    if (asprintf(&t, "%s.%s.%s", h, c, s) < 0)
        t = NULL;
    free(h);
    free(c);
    free(s);
    return t;
}

/* A token for claims (JSON text) signed by key as alg, with kid. */
static char *sign(EVP_PKEY *key, unsigned alg, const char *kid, const char *claims)
{
    json_t *c = json_loads(claims, 0, NULL);
    char *t = NULL;
    jwt_err rc = c ? jwt_sign(key, alg, kid, c, &t) : JWT_ENOMEM;
    CHECK(rc == JWT_OK, "sign %s: %s", claims, jwt_strerror(rc));
    json_decref(c);
    return t;
}

/* Standard good claims with overrides appended (a JSON object's members). */
static char *claims_with(const char *extra)
{
    char *s;
    if (asprintf(&s, "{\"iss\":\"%s\",\"aud\":\"client-1\",\"iat\":%lld,\"exp\":%lld%s%s}", ISS,
                 NOW - 10, NOW + 600, *extra ? "," : "", extra) < 0)
        s = NULL;
    return s;
}

static jwt_check check_http(void)
{
    jwt_check c = {.issuer = ISS, .audiences = AUD, .n_audiences = 2, .client_id = 1, .now = NOW};
    return c;
}

static jwt_err verify_c(const char *tok, const jwt_check *c)
{
    return jwt_verify(tok, strlen(tok), keys, c, NULL);
}

static jwt_err verify(const char *tok)
{
    jwt_check c = check_http();
    return verify_c(tok, &c);
}

/* Verifies a token signed with rsa carrying claims_with(extra) under c. */
static jwt_err verify_claims(const char *extra, const jwt_check *c)
{
    char *cl = claims_with(extra), *t = sign(rsa, 0, kid_rsa, cl);
    jwt_err rc = t ? verify_c(t, c) : JWT_ENOMEM;
    free(cl);
    free(t);
    return rc;
}

/* A JWKS of keys ks with kids; no_rsa_alg: RSA keys without "alg" (any
 * RSA algorithm). */
static char *jwks_text(EVP_PKEY **ks, char **kids, size_t n, int no_rsa_alg)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *k = jwt_key_jwk(ks[i], kids[i], 0);
        if (no_rsa_alg && EVP_PKEY_is_a(ks[i], "RSA"))
            json_object_del(k, "alg");
        json_array_append_new(a, k);
    }
    json_t *doc = json_pack("{s:o}", "keys", a);
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return s;
}

/* tpl with each "$A" replaced by a and each "$B" by b (malloc'd). */
static char *subst(const char *tpl, const char *a, const char *b)
{
    size_t cap = strlen(tpl) + 2 * (strlen(a) + strlen(b)) + 1, o = 0;
    char *out = malloc(cap);
    for (const char *p = tpl; out && *p; p++) {
        const char *v = p[0] == '$' && (p[1] == 'A' || p[1] == 'B') ? (p[1] == 'A' ? a : b) : NULL;
        if (v) {
            memcpy(out + o, v, strlen(v));
            o += strlen(v);
            p++;
        } else {
            out[o++] = *p;
        }
    }
    if (out)
        out[o] = 0;
    return out;
}

static jwt_err parse_jwks(const char *s, char *err, size_t cap)
{
    jwt_jwks *ks = NULL;
    jwt_err rc = jwt_jwks_parse(s, strlen(s), &ks, err, cap);
    jwt_jwks_free(ks);
    return rc;
}

/* ---- tests ------------------------------------------------------------------ */

static void setup(void)
{
    NOW = (long long)time(NULL);
    CHECK(jwt_key_generate("rsa", 2048, &rsa) == JWT_OK, "rsa key");
    CHECK(jwt_key_generate("rsa", 2048, &rsa2) == JWT_OK, "second rsa key");
    CHECK(jwt_key_generate("p256", 0, &ec256) == JWT_OK, "p256 key");
    CHECK(jwt_key_generate("p384", 0, &ec384) == JWT_OK, "p384 key");
    CHECK(jwt_key_generate("rsa", 1024, &(EVP_PKEY *){NULL}) == JWT_EKEY, "1024-bit refused");
    CHECK(jwt_key_generate("dsa", 0, &(EVP_PKEY *){NULL}) == JWT_EKEY, "dsa refused");
    kid_rsa = jwt_key_thumbprint(rsa);
    kid_ec = jwt_key_thumbprint(ec256);
    kid_ec384 = strdup("ec384");
    EVP_PKEY *ks[] = {rsa, ec256, ec384};
    char *kids[] = {kid_rsa, kid_ec, kid_ec384};
    char *s = jwks_text(ks, kids, 3, 1), err[256];
    CHECK(s && jwt_jwks_parse(s, strlen(s), &keys, err, sizeof err) == JWT_OK, "jwks: %s", err);
    CHECK(keys && jwt_jwks_count(keys) == 3 && jwt_jwks_skipped(keys) == 0, "3 keys");
    CHECK(keys && jwt_jwks_has(keys, kid_ec) && !jwt_jwks_has(keys, "nope"), "has");
    free(s);
}

static void valid_tokens(void)
{
    char *cl = claims_with("\"scope\":\"read write\"");
    jwt_check all = check_http();
    all.algs = JWT_ALGS_ALL;
    struct {
        EVP_PKEY *k;
        unsigned alg;
        const char *kid;
        jwt_err dflt; /* under JWT_ALGS_DEFAULT */
    } cases[] = {
        {rsa, JWT_RS256, kid_rsa, JWT_OK},     {rsa, JWT_RS384, kid_rsa, JWT_OK},
        {rsa, JWT_RS512, kid_rsa, JWT_OK},     {rsa, JWT_PS256, kid_rsa, JWT_EALG},
        {rsa, JWT_PS512, kid_rsa, JWT_EALG},   {ec256, JWT_ES256, kid_ec, JWT_EALG},
        {ec384, JWT_ES384, kid_ec384, JWT_EALG},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *t = sign(cases[i].k, cases[i].alg, cases[i].kid, cl);
        const char *an = jwt_alg_name(cases[i].alg);
        CHECK(verify(t) == cases[i].dflt, "%s default algs: %s", an, jwt_strerror(verify(t)));
        CHECK(verify_c(t, &all) == JWT_OK, "%s all algs: %s", an, jwt_strerror(verify_c(t, &all)));
        jwt *tok = NULL;
        CHECK(jwt_verify(t, strlen(t), keys, &all, &tok) == JWT_OK && tok && jwt_alg(tok) ==
              cases[i].alg && !strcmp(jwt_kid(tok), cases[i].kid), "%s token out", an);
        CHECK(tok && !strcmp(json_string_value(json_object_get(jwt_claims(tok), "iss")), ISS) &&
              !strcmp(json_string_value(json_object_get(jwt_header(tok), "typ")), "JWT"), "%s", an);
        jwt_free(tok);
        free(t);
    }
    /* the default algorithm follows the key */
    char *t = sign(ec256, 0, kid_ec, cl);
    CHECK(t && !strncmp(t, "eyJhbGciOiJFUzI1NiI", 19), "ES256 header");
    CHECK(verify_c(t, &all) == JWT_OK, "ES256 by default for P-256");
    free(t);
    /* alg/key mismatches */
    json_t *empty = json_object();
    CHECK(jwt_sign(ec256, JWT_RS256, "x", empty, &t) == JWT_EKEYALG, "RS256 with EC key");
    CHECK(jwt_sign(rsa, JWT_ES256, "x", empty, &t) == JWT_EKEYALG, "ES256 with RSA key");
    CHECK(jwt_sign(ec384, JWT_ES256, "x", empty, &t) == JWT_EKEYALG, "ES256 with P-384");
    CHECK(jwt_sign(rsa, 0x100, "x", empty, &t) == JWT_EALG, "unknown algorithm bit");
    json_decref(empty);
    t = sign(rsa, JWT_RS256, kid_ec, cl); /* RS256 naming the EC key */
    CHECK(verify_c(t, &all) == JWT_EKEYALG, "RS256 with an EC kid: %s", jwt_strerror(verify_c(t, &all)));
    free(t);
    t = sign(ec256, JWT_ES256, kid_rsa, cl); /* ES256 naming the RSA key */
    CHECK(verify_c(t, &all) == JWT_EKEYALG, "ES256 with an RSA kid");
    free(t);
    t = sign(ec384, JWT_ES384, kid_ec, cl); /* ES384 naming the P-256 key */
    CHECK(verify_c(t, &all) == JWT_EKEYALG, "ES384 with a P-256 kid");
    free(t);
    free(cl);
}

static void refused_algorithms(void)
{
    char *cl = claims_with(""), *t, hdr[512];
    jwt_check all = check_http();
    all.algs = JWT_ALGS_ALL;
    /* alg none: empty signature, a signature, other spellings */
    const char *nones[] = {"none", "None", "NONE"};
    for (int i = 0; i < 3; i++) {
        snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"kid\":\"%s\"}", nones[i], kid_rsa);
        char *h = b64s(hdr), *c = b64s(cl);
        if (asprintf(&t, "%s.%s.", h, c) > 0) {
            CHECK(verify_c(t, &all) == JWT_EALG_NONE, "alg %s, no signature: %s", nones[i],
                  jwt_strerror(verify_c(t, &all)));
            free(t);
        }
        t = raw_token(hdr, cl, "sig", 3);
        CHECK(verify_c(t, &all) == JWT_EALG_NONE, "alg %s, a signature", nones[i]);
        free(t);
        free(h);
        free(c);
    }
    /* HS256 keyed with the RSA public key's PEM and DER bytes (the classic
     * key-confusion attack), and HS384/HS512 */
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(b, rsa);
    char *pem;
    long pl = BIO_get_mem_data(b, &pem);
    unsigned char *der = NULL;
    int dl = i2d_PUBKEY(rsa, &der);
    struct {
        const void *key;
        size_t len;
        const char *what;
    } secrets[] = {{pem, (size_t)pl, "PEM"}, {der, (size_t)dl, "DER"}};
    const char *hs[] = {"HS256", "HS384", "HS512"}, *mds[] = {"SHA256", "SHA384", "SHA512"};
    for (int s = 0; s < 2; s++)
        for (int h = 0; h < 3; h++) {
            snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}", hs[h], kid_rsa);
            char *hb = b64s(hdr), *cb = b64s(cl), *in;
            unsigned char mac[64];
            size_t ml = 0;
            if (asprintf(&in, "%s.%s", hb, cb) < 0)
                continue;
            CHECK(EVP_Q_mac(NULL, "HMAC", NULL, mds[h], NULL, secrets[s].key, secrets[s].len,
                            (unsigned char *)in, strlen(in), mac, sizeof mac, &ml), "hmac");
            char *mb = jwt_b64url(mac, ml);
            if (asprintf(&t, "%s.%s", in, mb) > 0) {
                CHECK(verify_c(t, &all) == JWT_EALG_HMAC, "%s keyed with the %s public key: %s",
                      hs[h], secrets[s].what, jwt_strerror(verify_c(t, &all)));
                free(t);
            }
            free(mb);
            free(in);
            free(hb);
            free(cb);
        }
    BIO_free(b);
    OPENSSL_free(der);
    /* unknown algorithms */
    const char *others[] = {"RS1", "ES512", "EdDSA", "rs256", ""};
    for (int i = 0; i < 5; i++) {
        snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"kid\":\"%s\"}", others[i], kid_rsa);
        t = raw_token(hdr, cl, "sig", 3);
        CHECK(verify_c(t, &all) == JWT_EALG, "alg %s", others[i]);
        free(t);
    }
    free(cl);
}

static void kids(void)
{
    char *cl = claims_with(""), *t, hdr[256];
    t = sign(rsa, 0, "absent-kid", cl);
    CHECK(verify(t) == JWT_EKID, "kid absent from the JWKS");
    free(t);
    t = sign(rsa, 0, NULL, cl);
    CHECK(verify(t) == JWT_ENOKID, "no kid");
    free(t);
    snprintf(hdr, sizeof hdr, "{\"alg\":\"RS256\",\"kid\":7}");
    t = raw_token(hdr, cl, "sig", 3);
    CHECK(verify(t) == JWT_EHEADER, "kid not a string");
    free(t);
    /* a signature by another key under the right kid */
    t = sign(rsa2, 0, kid_rsa, cl);
    CHECK(verify(t) == JWT_ESIG, "another key's signature: %s", jwt_strerror(verify(t)));
    free(t);
    /* embedded keys are ignored, crit is refused */
    snprintf(hdr, sizeof hdr, "{\"alg\":\"RS256\",\"kid\":\"%s\",\"crit\":[\"exp\"],\"exp\":1}", kid_rsa);
    t = raw_token(hdr, cl, "sig", 3);
    CHECK(verify(t) == JWT_EHEADER, "crit");
    free(t);
    free(cl);
}

static void claims(void)
{
    jwt_check c = check_http();
    CHECK(verify_claims("", &c) == JWT_OK, "good claims");
    /* time */
    char x[256];
    snprintf(x, sizeof x, "\"exp\":%lld", NOW - 1);
    char *cl;
    if (asprintf(&cl, "{\"iss\":\"%s\",\"aud\":\"client-1\",\"exp\":%lld}", ISS, NOW - 1) > 0) {
        char *t = sign(rsa, 0, kid_rsa, cl);
        CHECK(verify(t) == JWT_EEXPIRED, "expired: %s", jwt_strerror(verify(t)));
        jwt_check l = c;
        l.leeway = 5;
        CHECK(verify_c(t, &l) == JWT_OK, "expired within the leeway");
        free(t);
        free(cl);
    }
    if (asprintf(&cl, "{\"iss\":\"%s\",\"aud\":\"client-1\",\"exp\":%lld}", ISS, NOW) > 0) {
        char *t = sign(rsa, 0, kid_rsa, cl);
        CHECK(verify(t) == JWT_EEXPIRED, "exp == now is expired");
        free(t);
        free(cl);
    }
    if (asprintf(&cl, "{\"iss\":\"%s\",\"aud\":\"client-1\"}", ISS) > 0) {
        char *t = sign(rsa, 0, kid_rsa, cl);
        CHECK(verify(t) == JWT_ENOEXP, "no exp");
        free(t);
        free(cl);
    }
    if (asprintf(&cl, "{\"iss\":\"%s\",\"aud\":\"client-1\",\"exp\":\"%lld\"}", ISS, NOW + 60) > 0) {
        char *t = sign(rsa, 0, kid_rsa, cl);
        CHECK(verify(t) == JWT_ETIME, "exp a string");
        free(t);
        free(cl);
    }
    snprintf(x, sizeof x, "\"nbf\":%lld", NOW + 60);
    CHECK(verify_claims(x, &c) == JWT_ENBF, "not yet valid");
    snprintf(x, sizeof x, "\"nbf\":%lld", NOW);
    CHECK(verify_claims(x, &c) == JWT_OK, "nbf == now");
    snprintf(x, sizeof x, "\"nbf\":\"%lld\"", NOW);
    CHECK(verify_claims(x, &c) == JWT_ETIME, "nbf a string");
    if (asprintf(&cl, "{\"iss\":\"%s\",\"aud\":\"client-1\",\"exp\":%lld,\"iat\":%lld}", ISS,
                 NOW + 600, NOW + 60) > 0) {
        char *t = sign(rsa, 0, kid_rsa, cl);
        CHECK(verify(t) == JWT_EIAT, "issued in the future");
        jwt_check l = c;
        l.leeway = 120;
        CHECK(verify_c(t, &l) == JWT_OK, "iat within the leeway");
        free(t);
        free(cl);
    }
    /* issuer */
    jwt_check w = c;
    w.issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other";
    CHECK(verify_claims("", &w) == JWT_EISS, "wrong issuer");
    w.issuer = NULL;
    CHECK(verify_claims("", &w) == JWT_OK, "issuer not checked");
    if (asprintf(&cl, "{\"aud\":\"client-1\",\"exp\":%lld}", NOW + 60) > 0) {
        char *t = sign(rsa, 0, kid_rsa, cl);
        CHECK(verify(t) == JWT_EISS, "no iss");
        free(t);
        free(cl);
    }
    /* audience: aud string or array, client_id only when aud is absent */
    w = c;
    w.n_audiences = 1;
    w.audiences = (const char *[]){"client-9"};
    CHECK(verify_claims("", &w) == JWT_EAUD, "wrong audience");
    const char *aud_cases[][2] = {
        {"\"aud\":[\"x\",\"client-2\"],", "ok"},
        {"\"aud\":[\"x\",\"y\"],", "aud"},
        {"\"aud\":[],", "aud"},
        {"\"aud\":7,", "aud"},
        {"\"client_id\":\"client-2\",", "ok"},
        {"\"aud\":\"x\",\"client_id\":\"client-2\",", "aud"},
        {"", "aud"},
    };
    for (size_t i = 0; i < sizeof aud_cases / sizeof *aud_cases; i++) {
        if (asprintf(&cl, "{\"iss\":\"%s\",%s\"exp\":%lld}", ISS, aud_cases[i][0], NOW + 60) < 0)
            continue;
        char *t = sign(rsa, 0, kid_rsa, cl);
        jwt_err want = strcmp(aud_cases[i][1], "ok") ? JWT_EAUD : JWT_OK;
        CHECK(verify(t) == want, "audience case %zu: %s", i, jwt_strerror(verify(t)));
        free(t);
        free(cl);
    }
    w = c;
    w.client_id = 0; /* Cognito-style: client_id does not stand for aud */
    CHECK(verify_claims("\"client_id\":\"client-2\"", &w) == JWT_OK, "aud present");
    if (asprintf(&cl, "{\"iss\":\"%s\",\"client_id\":\"client-2\",\"exp\":%lld}", ISS, NOW + 60) > 0) {
        char *t = sign(rsa, 0, kid_rsa, cl);
        CHECK(verify_c(t, &w) == JWT_EAUD, "client_id without the flag");
        free(t);
        free(cl);
    }
    /* scopes: at least one of the route's, from scope or scp */
    w = c;
    const char *want[] = {"admin", "orders/write"};
    w.scopes = want;
    w.n_scopes = 2;
    CHECK(verify_claims("", &w) == JWT_ESCOPE, "no scope claim");
    CHECK(jwt_http_status(JWT_ESCOPE) == 403 && jwt_http_status(JWT_EEXPIRED) == 401 &&
          jwt_http_status(JWT_OK) == 200, "statuses");
    CHECK(verify_claims("\"scope\":\"read orders/read\"", &w) == JWT_ESCOPE, "missing scope");
    CHECK(verify_claims("\"scope\":\"orders/writer admi\"", &w) == JWT_ESCOPE, "prefixes");
    CHECK(verify_claims("\"scope\":\"read  orders/write\"", &w) == JWT_OK, "scope");
    CHECK(verify_claims("\"scp\":[\"x\",\"admin\"]", &w) == JWT_OK, "scp array");
    CHECK(verify_claims("\"scp\":\"x admin\"", &w) == JWT_OK, "scp string");
    CHECK(verify_claims("\"scope\":[\"admin\"]", &w) == JWT_OK, "scope array");
    CHECK(verify_claims("\"scope\":7", &w) == JWT_ESCOPE, "scope a number");
    /* Cognito token_use */
    w = c;
    w.cognito = 1;
    CHECK(verify_claims("\"token_use\":\"id\"", &w) == JWT_OK, "token_use id");
    CHECK(verify_claims("\"token_use\":\"access\"", &w) == JWT_OK, "token_use access");
    CHECK(verify_claims("\"token_use\":\"refresh\"", &w) == JWT_ETOKENUSE, "token_use refresh");
    CHECK(verify_claims("", &w) == JWT_ETOKENUSE, "no token_use");
    /* the order: signature before claims, iss before exp */
    if (asprintf(&cl, "{\"iss\":\"x\",\"aud\":\"client-1\",\"exp\":%lld}", NOW - 100) > 0) {
        char *t = sign(rsa, 0, kid_rsa, cl);
        CHECK(verify(t) == JWT_EISS, "iss checked before exp");
        free(t);
        t = sign(rsa2, 0, kid_rsa, cl);
        CHECK(verify(t) == JWT_ESIG, "signature before claims");
        free(t);
        free(cl);
    }
}

static void malformed(void)
{
    char *cl = claims_with(""), *good = sign(rsa, 0, kid_rsa, cl), *t;
    size_t n = strlen(good);
    CHECK(verify(good) == JWT_OK, "the base token");
    /* truncated anywhere: never accepted */
    int ok_trunc = 1;
    for (size_t cut = 0; cut < n; cut += cut < 40 ? 1 : 7) {
        jwt_err rc = jwt_verify(good, cut, keys, &(jwt_check){.now = NOW}, NULL);
        if (rc == JWT_OK)
            ok_trunc = 0;
    }
    CHECK(ok_trunc, "a truncated token is never valid");
    char *d2 = strrchr(good, '.');
    CHECK(jwt_verify(good, (size_t)(d2 - good), keys, &(jwt_check){0}, NULL) == JWT_EFORMAT,
          "no signature part");
    CHECK(jwt_verify(good, (size_t)(d2 - good) + 1, keys, &(jwt_check){0}, NULL) == JWT_ESIG,
          "empty signature");
    jwt_err short4 = jwt_verify(good, n - 4, keys, &(jwt_check){0}, NULL);
    CHECK(short4 == JWT_EBASE64 || short4 == JWT_ESIG, "4 chars short: %s", jwt_strerror(short4));
    jwt_err short1 = jwt_verify(good, n - 1, keys, &(jwt_check){0}, NULL);
    CHECK(short1 == JWT_EBASE64 || short1 == JWT_ESIG, "1 char short: %s", jwt_strerror(short1));
    CHECK(verify("") == JWT_EFORMAT && verify("..") == JWT_EFORMAT && verify("a.b") == JWT_EFORMAT &&
          verify("a.b.c.d") == JWT_EFORMAT, "shapes");
    /* characters outside base64url, in each part */
    const char bad[] = "+/=*. \t%\x80";
    for (const char *b = bad; *b; b++) {
        size_t at[] = {5, (size_t)(strchr(good, '.') - good) + 5, n - 5};
        for (int p = 0; p < 3; p++) {
            t = strdup(good);
            t[at[p]] = *b;
            jwt_err rc = verify(t);
            CHECK(rc == JWT_EBASE64 || (*b == '.' && rc == JWT_EFORMAT),
                  "char 0x%02x in part %d: %s", (unsigned char)*b, p, jwt_strerror(rc));
            free(t);
        }
    }
    /* padding */
    if (asprintf(&t, "%s=", good) > 0) {
        CHECK(verify(t) == JWT_EBASE64, "padded signature");
        free(t);
    }
    {
        char *h = b64s("{\"alg\":\"RS256\",\"kid\":\"k\"}"), *p; /* 27 bytes: 36 chars */
        if (asprintf(&p, "%s=.%s", h, strchr(good, '.') + 1) > 0) {
            CHECK(verify(p) == JWT_EBASE64, "padded header");
            free(p);
        }
        free(h);
    }
    /* a base64url digit with stray low bits (a second encoding of the same bytes) */
    t = strdup(good);
    {
        char *last = t + n - 1;
        int v = *last >= 'A' && *last <= 'Z' ? *last - 'A' : *last >= 'a' && *last <= 'z' ?
                *last - 'a' + 26 : *last >= '0' && *last <= '9' ? *last - '0' + 52 : 62;
        /* a 256-byte signature is 342 chars: the last carries 4 unused bits */
        *last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[v | 1];
        CHECK(verify(t) == JWT_EBASE64, "stray bits in the last digit");
    }
    free(t);
    /* sizes */
    char *big = malloc(1u << 20);
    memset(big, 'A', 1u << 20);
    big[100] = big[200] = '.';
    CHECK(jwt_verify(big, 1u << 20, keys, &(jwt_check){0}, NULL) == JWT_ETOOBIG, "1 MB token");
    CHECK(jwt_verify(big, JWT_MAX_TOKEN + 1, keys, &(jwt_check){0}, NULL) == JWT_ETOOBIG, "cap + 1");
    CHECK(jwt_verify(big, JWT_MAX_TOKEN, keys, &(jwt_check){0}, NULL) != JWT_ETOOBIG, "at the cap");
    free(big);
    /* header and claims that are not JSON objects */
    struct {
        const char *h, *c;
        jwt_err want;
    } js[] = {
        {"not json", "{}", JWT_EHEADER},
        {"[\"RS256\"]", "{}", JWT_EHEADER},
        {"\"RS256\"", "{}", JWT_EHEADER},
        {"{\"typ\":\"JWT\"}", "{}", JWT_EHEADER},
        {"{\"alg\":256,\"kid\":\"k\"}", "{}", JWT_EHEADER},
        {"{\"alg\":\"RS256\",\"alg\":\"none\"}", "{}", JWT_EHEADER},
        {"{\"alg\":\"RS256\",\"kid\":\"k\"} trailing", "{}", JWT_EHEADER},
        {"{\"alg\":\"RS256\",\"kid\":\"k\"}", "not json", JWT_ECLAIMS},
        {"{\"alg\":\"RS256\",\"kid\":\"k\"}", "[1,2]", JWT_ECLAIMS},
        {"{\"alg\":\"RS256\",\"kid\":\"k\"}", "null", JWT_ECLAIMS},
        {"{\"alg\":\"RS256\",\"kid\":\"k\"}", "{\"exp\":1,\"exp\":2}", JWT_ECLAIMS},
        {"{\"alg\":\"RS256\",\"kid\":\"k\"}", "{\"a\":\"\\u0000\"}", JWT_ECLAIMS},
    };
    for (size_t i = 0; i < sizeof js / sizeof *js; i++) {
        t = raw_token(js[i].h, js[i].c, "signature", 9);
        jwt *tok = NULL;
        CHECK(jwt_parse(t, strlen(t), &tok) == js[i].want && !tok, "json case %zu: %s", i,
              jwt_strerror(jwt_parse(t, strlen(t), &tok)));
        free(t);
    }
    /* header bytes that are not UTF-8 */
    t = raw_token("{\"alg\":\"RS256\",\"kid\":\"\xff\"}", "{}", "s", 1);
    CHECK(verify(t) == JWT_EHEADER, "header not UTF-8");
    free(t);
    free(good);
    free(cl);
}

static void ecdsa_lengths(void)
{
    char *cl = claims_with(""), *good = sign(ec256, JWT_ES256, kid_ec, cl);
    jwt_check all = check_http();
    all.algs = JWT_ALGS_ALL;
    CHECK(verify_c(good, &all) == JWT_OK, "ES256 base");
    char *dot = strrchr(good, '.');
    unsigned char *sig = NULL;
    size_t sl = 0;
    /* the signature is 64 bytes = 86 base64url chars */
    CHECK(strlen(dot + 1) == 86, "raw r||s is 64 bytes");
    size_t hl = (size_t)(dot - good);
    sig = calloc(1, 128);
    /* re-sign the same input in DER with libcrypto directly */
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    sl = 128;
    CHECK(EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, ec256) == 1 &&
          EVP_DigestSign(m, sig, &sl, (unsigned char *)good, hl) == 1, "DER signature");
    EVP_MD_CTX_free(m);
    char *der = jwt_b64url(sig, sl), *t;
    if (asprintf(&t, "%.*s.%s", (int)hl, good, der) > 0) {
        CHECK(verify_c(t, &all) == JWT_ESIG, "ECDSA signature in DER (%zu bytes)", sl);
        free(t);
    }
    free(der);
    /* raw r||s of 63, 65 and 96 bytes, and all zeros */
    size_t lens[] = {63, 65, 96, 0, 32};
    for (int i = 0; i < 5; i++) {
        memset(sig, i == 3 ? 0 : 0x5a, 128);
        char *s = jwt_b64url(sig, lens[i] ? lens[i] : 64);
        if (asprintf(&t, "%.*s.%s", (int)hl, good, s) > 0) {
            CHECK(verify_c(t, &all) == JWT_ESIG, "ECDSA signature of %zu bytes", lens[i] ? lens[i] : 64);
            free(t);
        }
        free(s);
    }
    /* an RSA signature one byte short or long */
    char *r = sign(rsa, 0, kid_rsa, cl);
    dot = strrchr(r, '.');
    hl = (size_t)(dot - r);
    for (int d = -1; d <= 1; d += 2) {
        memset(sig, 1, 128);
        unsigned char big[258];
        memset(big, 1, sizeof big);
        char *s = jwt_b64url(big, (size_t)(256 + d));
        if (asprintf(&t, "%.*s.%s", (int)hl, r, s) > 0) {
            CHECK(verify(t) == JWT_ESIG, "RSA signature of %d bytes", 256 + d);
            free(t);
        }
        free(s);
    }
    free(r);
    free(sig);
    free(good);
    free(cl);
}

static void rendering(void)
{
    /* the claims of the captured Cognito ID token (spec §3.2, R8) */
    const char *cl =
        "{\"origin_jti\":\"37cc02cf\",\"sub\":\"d2f50444\",\"aud\":\"3nkoep4151b7umeggnottc30u9\","
        "\"token_use\":\"id\",\"auth_time\":1718636404,\"iss\":\"https://cognito-idp.eu-west-1."
        "amazonaws.com/eu-west-1_y0bLG4i27\",\"cognito:username\":\"aamorosi\",\"exp\":1718722804,"
        "\"iat\":1718636404,\"jti\":\"13727aba\",\"cognito:groups\":[\"admins\",\"users\"],"
        "\"n\":1.5,\"ok\":true,\"nil\":null,\"o\":{\"b\":[1,\"x\"],\"a\":2}}";
    char *t = sign(rsa, 0, kid_rsa, cl);
    jwt *tok = NULL;
    CHECK(jwt_parse(t, strlen(t), &tok) == JWT_OK, "parse");
    if (!tok)
        return;
    json_t *h = jwt_claims_http(tok), *c = jwt_claims_cognito(tok), *s = jwt_scopes(tok);
    char *hs = json_dumps(h, JSON_COMPACT), *cs = json_dumps(c, JSON_COMPACT);
    const char *want_h =
        "{\"aud\":\"3nkoep4151b7umeggnottc30u9\",\"auth_time\":\"1718636404\",\"cognito:groups\":"
        "\"[admins users]\",\"cognito:username\":\"aamorosi\",\"exp\":\"1718722804\",\"iat\":"
        "\"1718636404\",\"iss\":\"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_y0bLG4i27\","
        "\"jti\":\"13727aba\",\"n\":\"1.5\",\"nil\":\"<nil>\",\"o\":\"map[a:2 b:[1 x]]\",\"ok\":"
        "\"true\",\"origin_jti\":\"37cc02cf\",\"sub\":\"d2f50444\",\"token_use\":\"id\"}";
    CHECK(hs && !strcmp(hs, want_h), "HTTP API claims:\n%s\n%s", hs, want_h);
    const char *want_c =
        "{\"origin_jti\":\"37cc02cf\",\"sub\":\"d2f50444\",\"aud\":\"3nkoep4151b7umeggnottc30u9\","
        "\"token_use\":\"id\",\"auth_time\":\"1718636404\",\"iss\":\"https://cognito-idp.eu-west-1."
        "amazonaws.com/eu-west-1_y0bLG4i27\",\"cognito:username\":\"aamorosi\",\"exp\":\"Tue Jun 18 "
        "15:00:04 UTC 2024\",\"iat\":\"Mon Jun 17 15:00:04 UTC 2024\",\"jti\":\"13727aba\","
        "\"cognito:groups\":\"admins,users\",\"n\":\"1.5\",\"ok\":\"true\",\"nil\":\"null\",\"o\":"
        "\"{\\\"b\\\":[1,\\\"x\\\"],\\\"a\\\":2}\"}";
    CHECK(cs && !strcmp(cs, want_c), "Cognito claims:\n%s\n%s", cs, want_c);
    CHECK(json_is_null(s), "no scopes in an ID token");
    free(hs);
    free(cs);
    json_decref(h);
    json_decref(c);
    json_decref(s);
    jwt_free(tok);
    free(t);
    t = sign(rsa, 0, kid_rsa, "{\"scope\":\"a  b\",\"scp\":[\"c\",5,\"d e\"],\"exp\":1}");
    if (jwt_parse(t, strlen(t), &tok) == JWT_OK) {
        s = jwt_scopes(tok);
        char *ss = json_dumps(s, JSON_COMPACT);
        CHECK(ss && !strcmp(ss, "[\"a\",\"b\",\"c\",\"d\",\"e\"]"), "scopes %s", ss);
        free(ss);
        json_decref(s);
        jwt_free(tok);
    }
    free(t);
    /* Cognito issuers, Bearer */
    char iss[256];
    CHECK(!jwt_cognito_issuer("arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_y0bLG4i27",
                              iss, sizeof iss) &&
          !strcmp(iss, "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_y0bLG4i27"), "%s", iss);
    CHECK(jwt_cognito_issuer("arn:aws:lambda:eu-west-1:1:function:f", iss, sizeof iss) == -1 &&
          jwt_cognito_issuer("arn:aws:cognito-idp:r:1:userpool/p/x", iss, sizeof iss) == -1 &&
          jwt_cognito_issuer("arn:aws:cognito-idp:r:1:userpool/p", iss, 10) == -1, "bad ARNs");
    size_t tl;
    const char *b = jwt_bearer("  Bearer  abc.def \r\n", 20, &tl);
    CHECK(tl == 7 && !strncmp(b, "abc.def", 7), "Bearer");
    b = jwt_bearer("bearer x", 8, &tl);
    CHECK(tl == 1 && *b == 'x', "bearer");
    b = jwt_bearer("abc", 3, &tl);
    CHECK(tl == 3 && *b == 'a', "no prefix");
    CHECK(jwt_algs_parse("RS256,ES256") == (JWT_RS256 | JWT_ES256) && !jwt_algs_parse("RS256,") &&
          !jwt_algs_parse("HS256") && !jwt_algs_parse(""), "algs lists");
}

static void jwks_parsing(void)
{
    char err[256];
    const char *bad[] = {
        "", "[]", "{}", "{\"keys\":{}}", "{\"keys\":[]} x", "{\"keys\":[],\"keys\":[]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(parse_jwks(bad[i], err, sizeof err) == JWT_EJWKS && *err, "bad jwks %zu", i);
    CHECK(parse_jwks("{\"keys\":[]}", err, sizeof err) == JWT_OK, "empty set");
    /* skipped: encryption keys, symmetric keys, other curves, no kid, no verify op */
    json_t *rk = jwt_key_jwk(rsa, "r", 0);
    char *n = strdup(json_string_value(json_object_get(rk, "n")));
    char *e = strdup(json_string_value(json_object_get(rk, "e")));
    json_t *ek = jwt_key_jwk(ec256, "e", 0);
    char *x = strdup(json_string_value(json_object_get(ek, "x")));
    char *y = strdup(json_string_value(json_object_get(ek, "y")));
    char *doc;
    if (asprintf(&doc,
                 "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"enc\",\"use\":\"enc\",\"n\":\"%s\",\"e\":\"%s\"},"
                 "{\"kty\":\"oct\",\"kid\":\"hs\",\"k\":\"c2VjcmV0\"},"
                 "{\"kty\":\"EC\",\"kid\":\"p521\",\"crv\":\"P-521\",\"x\":\"AA\",\"y\":\"AA\"},"
                 "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"},"
                 "{\"kty\":\"RSA\",\"kid\":\"ops\",\"key_ops\":[\"encrypt\"],\"n\":\"%s\",\"e\":\"%s\"},"
                 "{\"kty\":\"RSA\",\"kid\":\"oaep\",\"alg\":\"RSA-OAEP\",\"n\":\"%s\",\"e\":\"%s\"},"
                 "\"not an object\","
                 "{\"kty\":\"RSA\",\"kid\":\"r\",\"alg\":\"RS384\",\"key_ops\":[\"verify\"],\"n\":\"%s\",\"e\":\"%s\"},"
                 "{\"kty\":\"EC\",\"kid\":\"e\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}]}",
                 n, e, n, e, n, e, n, e, n, e, x, y) > 0) {
        jwt_jwks *ks = NULL;
        CHECK(jwt_jwks_parse(doc, strlen(doc), &ks, err, sizeof err) == JWT_OK, "mixed: %s", err);
        CHECK(ks && jwt_jwks_count(ks) == 2 && jwt_jwks_skipped(ks) == 7, "2 kept, 7 skipped: %zu %zu",
              ks ? jwt_jwks_count(ks) : 0, ks ? jwt_jwks_skipped(ks) : 0);
        /* the key's "alg" narrows it: RS256 under kid r is refused, RS384 verifies */
        char *cl = claims_with(""), *t = sign(rsa, JWT_RS256, "r", cl);
        jwt_check c = check_http();
        CHECK(t && jwt_verify(t, strlen(t), ks, &c, NULL) == JWT_EKEYALG, "RS256 against an RS384 key");
        free(t);
        t = sign(rsa, JWT_RS384, "r", cl);
        CHECK(t && jwt_verify(t, strlen(t), ks, &c, NULL) == JWT_OK, "RS384 against an RS384 key");
        free(t);
        t = sign(rsa, JWT_RS256, "enc", cl);
        CHECK(t && jwt_verify(t, strlen(t), ks, &c, NULL) == JWT_EKID, "an encryption key is no key");
        free(t);
        free(cl);
        jwt_jwks_free(ks);
        free(doc);
    }
    /* malformed keys fail the set, naming the key */
    char *small_n = NULL;
    {
        EVP_PKEY *k1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
        BIGNUM *bn = NULL;
        EVP_PKEY_get_bn_param(k1024, OSSL_PKEY_PARAM_RSA_N, &bn);
        unsigned char buf[128];
        BN_bn2binpad(bn, buf, 128);
        small_n = jwt_b64url(buf, 128);
        BN_free(bn);
        EVP_PKEY_free(k1024);
    }
    char y_bad[64];
    snprintf(y_bad, sizeof y_bad, "%s", y);
    y_bad[10] = y_bad[10] == 'A' ? 'B' : 'A'; /* another y: off the curve */
    /* one key of a set, $A and $B standing for the values given */
    struct {
        const char *tpl, *a, *b;
    } mal[] = {
        {"\"kty\":\"RSA\",\"n\":\"$A\",\"e\":\"$B\"", small_n, e},
        {"\"kty\":\"RSA\",\"n\":\"$A+\",\"e\":\"$B\"", n, e},
        {"\"kty\":\"RSA\",\"n\":\"$A\",\"e\":\"$B\"", n, "AAE"},
        {"\"kty\":\"RSA\",\"n\":\"$A\",\"e\":\"$B\"", n, "AQA"},
        {"\"kty\":\"RSA\",\"n\":\"$A\"$B", n, ""},
        {"\"kty\":\"RSA\",\"alg\":\"ES256\",\"n\":\"$A\",\"e\":\"$B\"", n, e},
        {"\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"$A\",\"y\":\"$B\"", x, y_bad},
        {"\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"$A\",\"y\":\"$BAA\"", x, y},
        {"\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"$A\",\"y\":\"$B\"", x, y},
    };
    for (size_t i = 0; i < sizeof mal / sizeof *mal; i++) {
        char *key = subst(mal[i].tpl, mal[i].a, mal[i].b);
        if (!key || asprintf(&doc, "{\"keys\":[{\"kid\":\"k\",%s}]}", key) < 0) {
            free(key);
            continue;
        }
        free(key);
        err[0] = 0;
        CHECK(parse_jwks(doc, err, sizeof err) == JWT_EJWK && strstr(err, "key 0 (kid k)"),
              "malformed key %zu: %s", i, err);
        free(doc);
    }
    /* caps */
    char *huge = malloc(JWT_MAX_JWKS + 2);
    memset(huge, ' ', JWT_MAX_JWKS + 1);
    memcpy(huge, "{\"keys\":[]}", 11);
    huge[JWT_MAX_JWKS + 1] = 0;
    CHECK(parse_jwks(huge, err, sizeof err) == JWT_EJWKS, "over 150000 bytes");
    huge[JWT_MAX_JWKS] = 0;
    CHECK(parse_jwks(huge, err, sizeof err) == JWT_OK, "150000 bytes");
    free(huge);
    size_t cap = 64 + 40 * (JWT_MAX_KEYS + 1);
    char *many = malloc(cap);
    size_t o = (size_t)snprintf(many, cap, "{\"keys\":[");
    for (int i = 0; i <= JWT_MAX_KEYS; i++)
        o += (size_t)snprintf(many + o, cap - o, "%s{\"kty\":\"oct\",\"kid\":\"%d\"}", i ? "," : "", i);
    snprintf(many + o, cap - o, "]}");
    CHECK(parse_jwks(many, err, sizeof err) == JWT_EJWKS, "101 keys: %s", err);
    free(many);
    free(small_n);
    free(n);
    free(e);
    free(x);
    free(y);
    json_decref(rk);
    json_decref(ek);
}

/* ---- a loopback HTTP server for the key cache --------------------------- */

typedef struct server {
    int fd, port;
    atomic_int stop;
    pthread_t th;
    pthread_mutex_t mu;
    char *routes[4][2]; /* path, body (NULL body: 404) */
    int hits[4], other;
} server;

static void *serve(void *arg)
{
    server *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {s->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        char req[4096];
        size_t n = 0;
        ssize_t k;
        while (n < sizeof req - 1 && (k = recv(c, req + n, sizeof req - 1 - n, 0)) > 0) {
            n += (size_t)k;
            req[n] = 0;
            if (strstr(req, "\r\n\r\n"))
                break;
        }
        req[n] = 0;
        char path[512] = "";
        sscanf(req, "GET %511s", path);
        const char *body = NULL;
        pthread_mutex_lock(&s->mu);
        int found = 0;
        for (int i = 0; i < 4; i++)
            if (s->routes[i][0] && !strcmp(s->routes[i][0], path)) {
                s->hits[i]++;
                body = s->routes[i][1];
                found = 1;
            }
        if (!found)
            s->other++;
        char *resp;
        int rl = body ? asprintf(&resp, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 "Content-Length: %zu\r\n\r\n%s", strlen(body), body) :
                        asprintf(&resp, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found");
        pthread_mutex_unlock(&s->mu);
        if (rl > 0) {
            ssize_t w = send(c, resp, (size_t)rl, MSG_NOSIGNAL);
            (void)w;
            free(resp);
        }
        close(c);
    }
    return NULL;
}

static int server_start(server *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) || listen(s->fd, 16) ||
        getsockname(s->fd, (struct sockaddr *)&a, &al))
        return -1;
    s->port = ntohs(a.sin_port);
    return pthread_create(&s->th, NULL, serve, s);
}

static void server_set(server *s, int i, const char *path, const char *body)
{
    pthread_mutex_lock(&s->mu);
    free(s->routes[i][0]);
    free(s->routes[i][1]);
    s->routes[i][0] = path ? strdup(path) : NULL;
    s->routes[i][1] = body ? strdup(body) : NULL;
    s->hits[i] = 0;
    pthread_mutex_unlock(&s->mu);
}

static int server_hits(server *s, int i)
{
    pthread_mutex_lock(&s->mu);
    int h = s->hits[i];
    pthread_mutex_unlock(&s->mu);
    return h;
}

static void server_stop(server *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->th, NULL);
    close(s->fd);
    for (int i = 0; i < 4; i++)
        server_set(s, i, NULL, NULL);
    pthread_mutex_destroy(&s->mu);
}

static void cache(void)
{
    char err[512], url[256], *cl = claims_with("");
    char *t_rsa = sign(rsa, 0, kid_rsa, cl), *t_new = sign(rsa2, 0, "rotated", cl);
    jwt_check c = check_http();
    jwt_keys *k = NULL;
    /* sources that are refused */
    const char *refused[] = {"http://10.0.0.1/jwks.json", "http://example.com/jwks",
                             "https://127.0.0.1/jwks", "http://127.0.0.1:0/x", "http://127.0.0.1:99999/",
                             "http://[::2]/x", "http://127.0.0.1:80x/", "http://127.0.0.1/a b"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        CHECK(jwt_keys_new(refused[i], NULL, &k, err, sizeof err) == JWT_ESOURCE && !k && *err,
              "source %s refused", refused[i]);
    }
    /* a file */
    char path[] = "/tmp/nerd-test-jwks-XXXXXX";
    int fd = mkstemp(path);
    EVP_PKEY *ks1[] = {rsa};
    char *kids1[] = {kid_rsa}, *doc1 = jwks_text(ks1, kids1, 1, 0);
    CHECK(fd >= 0 && write(fd, doc1, strlen(doc1)) == (ssize_t)strlen(doc1), "jwks file");
    close(fd);
    CHECK(jwt_keys_new(path, NULL, &k, err, sizeof err) == JWT_OK, "file source");
    CHECK(jwt_keys_load(k, err, sizeof err) == JWT_OK, "load file: %s", err);
    CHECK(jwt_keys_verify(k, t_rsa, strlen(t_rsa), &c, NULL) == JWT_OK, "verify from file");
    jwt_keys_free(k);
    CHECK(jwt_keys_new("/nonexistent/jwks.json", NULL, &k, err, sizeof err) == JWT_OK &&
          jwt_keys_load(k, err, sizeof err) == JWT_EFETCH && strstr(err, "No such file"),
          "missing file: %s", err);
    jwt_jwks *set = NULL;
    CHECK(jwt_keys_get(k, kid_rsa, &set) == JWT_EFETCH && !set, "no set");
    CHECK(jwt_keys_verify(k, t_rsa, strlen(t_rsa), &c, NULL) == JWT_EFETCH, "verify without keys");
    jwt_keys_free(k);
    /* remembered signatures: the same text again, another payload under the
     * same signature, claims checked each time, a new set forgets them */
    CHECK(jwt_keys_new(path, NULL, &k, err, sizeof err) == JWT_OK, "file source again");
    CHECK(jwt_keys_verify(k, t_rsa, strlen(t_rsa), &c, NULL) == JWT_OK &&
          jwt_keys_verify(k, t_rsa, strlen(t_rsa), &c, NULL) == JWT_OK, "verified twice");
    {
        char *forged, *cl2 = claims_with("\"admin\":true"), *b = b64s(cl2), *d1 = strchr(t_rsa, '.');
        char *d2 = strrchr(t_rsa, '.');
        if (asprintf(&forged, "%.*s.%s%s", (int)(d1 - t_rsa), t_rsa, b, d2) > 0) {
            CHECK(jwt_keys_verify(k, forged, strlen(forged), &c, NULL) == JWT_ESIG,
                  "the remembered signature on other claims: %s",
                  jwt_strerror(jwt_keys_verify(k, forged, strlen(forged), &c, NULL)));
            free(forged);
        }
        free(b);
        free(cl2);
    }
    jwt_check later = c;
    later.now = NOW + 100000;
    CHECK(jwt_keys_verify(k, t_rsa, strlen(t_rsa), &later, NULL) == JWT_EEXPIRED, "claims still checked");
    later = c;
    later.algs = JWT_ES256;
    CHECK(jwt_keys_verify(k, t_rsa, strlen(t_rsa), &later, NULL) == JWT_EALG, "algorithms still checked");
    {
        EVP_PKEY *ks3[] = {rsa2};
        char *kids3[] = {"rotated"}, *doc3 = jwks_text(ks3, kids3, 1, 0);
        FILE *f = fopen(path, "w");
        CHECK(f && fputs(doc3, f) >= 0 && fclose(f) == 0, "rewrite the file");
        free(doc3);
    }
    CHECK(jwt_keys_load(k, err, sizeof err) == JWT_OK, "reload: %s", err);
    CHECK(jwt_keys_verify(k, t_rsa, strlen(t_rsa), &c, NULL) == JWT_EKID,
          "a key gone from the new set: the remembered token is refused");
    CHECK(jwt_keys_verify(k, t_new, strlen(t_new), &c, NULL) == JWT_OK, "the new set's key");
    jwt_keys_free(k);
    unlink(path);
    /* a loopback URL */
    server s;
    CHECK(server_start(&s) == 0, "server");
    server_set(&s, 0, "/keys/jwks.json", doc1);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/keys/jwks.json", s.port);
    jwt_keys_opts never = {.min_refresh_s = 3600};
    CHECK(jwt_keys_new(url, &never, &k, err, sizeof err) == JWT_OK, "url source: %s", err);
    CHECK(jwt_keys_load(k, err, sizeof err) == JWT_OK && server_hits(&s, 0) == 1, "load url: %s", err);
    CHECK(jwt_keys_verify(k, t_rsa, strlen(t_rsa), &c, NULL) == JWT_OK && server_hits(&s, 0) == 1,
          "verify from the cache, no new read");
    /* a rotated key: the kid is unknown, but a read was made just now */
    EVP_PKEY *ks2[] = {rsa, rsa2};
    char *kids2[] = {kid_rsa, "rotated"}, *doc2 = jwks_text(ks2, kids2, 2, 0);
    server_set(&s, 0, "/keys/jwks.json", doc2);
    CHECK(jwt_keys_verify(k, t_new, strlen(t_new), &c, NULL) == JWT_EKID && server_hits(&s, 0) == 0 &&
          jwt_keys_reads(k) == 1, "rate limited: no read within min_refresh_s");
    jwt_keys_free(k);
    jwt_keys_opts always = {.min_refresh_s = -1};
    CHECK(jwt_keys_new(url, &always, &k, err, sizeof err) == JWT_OK, "url again");
    server_set(&s, 0, "/keys/jwks.json", doc1);
    CHECK(jwt_keys_verify(k, t_rsa, strlen(t_rsa), &c, NULL) == JWT_OK && jwt_keys_reads(k) == 1,
          "first use reads");
    server_set(&s, 0, "/keys/jwks.json", doc2);
    CHECK(jwt_keys_verify(k, t_rsa, strlen(t_rsa), &c, NULL) == JWT_OK && jwt_keys_reads(k) == 1,
          "known kid: no read");
    CHECK(jwt_keys_verify(k, t_new, strlen(t_new), &c, NULL) == JWT_OK && jwt_keys_reads(k) == 2,
          "unknown kid: read again, rotated key found");
    /* a failing source keeps the old set */
    server_set(&s, 0, "/keys/jwks.json", NULL);
    char *t_unknown = sign(rsa2, 0, "unknown", cl);
    CHECK(jwt_keys_verify(k, t_unknown, strlen(t_unknown), &c, NULL) == JWT_EKID &&
          jwt_keys_reads(k) == 3, "unknown kid, source answers 404");
    CHECK(strstr(jwt_keys_error(k, err, sizeof err), "answered 404"), "error kept: %s", err);
    CHECK(jwt_keys_verify(k, t_new, strlen(t_new), &c, NULL) == JWT_OK, "old set still used");
    server_set(&s, 0, "/keys/jwks.json", "{\"keys\": not json");
    CHECK(jwt_keys_load(k, err, sizeof err) == JWT_EJWKS && strstr(err, "not JSON"), "bad JSON: %s", err);
    CHECK(jwt_keys_verify(k, t_rsa, strlen(t_rsa), &c, NULL) == JWT_OK, "old set after bad JSON");
    jwt_keys_free(k);
    /* a refused connection */
    snprintf(url, sizeof url, "http://127.0.0.1:1/jwks.json");
    CHECK(jwt_keys_new(url, NULL, &k, err, sizeof err) == JWT_OK &&
          jwt_keys_load(k, err, sizeof err) == JWT_EFETCH && strstr(err, "connect"), "refused: %s", err);
    jwt_keys_free(k);
    /* an issuer: discovery names jwks_uri; without a document, Cognito's layout */
    char iss[256], conf[512];
    snprintf(iss, sizeof iss, "http://127.0.0.1:%d/pool", s.port);
    snprintf(conf, sizeof conf, "{\"issuer\":\"%s\",\"jwks_uri\":\"http://localhost:%d/certs\"}", iss,
             s.port);
    server_set(&s, 0, "/pool/.well-known/openid-configuration", conf);
    server_set(&s, 1, "/certs", doc1);
    server_set(&s, 2, "/pool/.well-known/jwks.json", doc2);
    jwt_keys_opts io = {.issuer = 1};
    CHECK(jwt_keys_new(iss, &io, &k, err, sizeof err) == JWT_OK &&
          jwt_keys_load(k, err, sizeof err) == JWT_OK, "discovery: %s", err);
    CHECK(server_hits(&s, 0) == 1 && server_hits(&s, 1) == 1 && server_hits(&s, 2) == 0, "jwks_uri");
    jwt_keys_free(k);
    snprintf(iss, sizeof iss, "http://127.0.0.1:%d/pool/", s.port);
    server_set(&s, 0, "/pool/.well-known/openid-configuration", NULL);
    CHECK(jwt_keys_new(iss, &io, &k, err, sizeof err) == JWT_OK &&
          jwt_keys_load(k, err, sizeof err) == JWT_OK, "fallback: %s", err);
    CHECK(server_hits(&s, 2) == 1, "{issuer}/.well-known/jwks.json");
    CHECK(jwt_keys_verify(k, t_new, strlen(t_new), &c, NULL) == JWT_OK, "rotated via fallback");
    jwt_keys_free(k);
    snprintf(conf, sizeof conf, "{\"jwks_uri\":\"https://example.com/certs\"}");
    server_set(&s, 0, "/pool/.well-known/openid-configuration", conf);
    CHECK(jwt_keys_new(iss, &io, &k, err, sizeof err) == JWT_OK &&
          jwt_keys_load(k, err, sizeof err) == JWT_EFETCH && strstr(err, "loopback"),
          "a remote jwks_uri is not followed: %s", err);
    jwt_keys_free(k);
    server_stop(&s);
    free(doc1);
    free(doc2);
    free(t_rsa);
    free(t_new);
    free(t_unknown);
    free(cl);
}

/* ---- threads ---------------------------------------------------------------- */

typedef struct job {
    const char *good, *bad;
    jwt_keys *cache;
    int ok;
} job;

static void *worker(void *arg)
{
    job *j = arg;
    jwt_check c = check_http();
    c.algs = JWT_ALGS_ALL;
    for (int i = 0; i < 100; i++) {
        jwt_jwks *mine = jwt_jwks_ref(keys);
        jwt *t = NULL;
        if (jwt_verify(j->good, strlen(j->good), mine, &c, &t) != JWT_OK ||
            jwt_verify(j->bad, strlen(j->bad), mine, &c, NULL) != JWT_ESIG)
            j->ok = 0;
        json_t *h = t ? jwt_claims_http(t) : NULL;
        if (!h)
            j->ok = 0;
        json_decref(h);
        jwt_free(t);
        jwt_jwks_free(mine);
        if (jwt_keys_verify(j->cache, j->good, strlen(j->good), &c, NULL) != JWT_OK ||
            jwt_keys_verify(j->cache, j->bad, strlen(j->bad), &c, NULL) != JWT_ESIG)
            j->ok = 0;
    }
    return NULL;
}

static void threads(void)
{
    char *cl = claims_with("\"scope\":\"a\"");
    char *good[2] = {sign(rsa, 0, kid_rsa, cl), sign(ec256, 0, kid_ec, cl)};
    char *bad[2] = {sign(rsa2, 0, kid_rsa, cl), strdup(good[1])};
    bad[1][strlen(bad[1]) - 3] = bad[1][strlen(bad[1]) - 3] == 'A' ? 'B' : 'A';
    pthread_t th[4];
    job jobs[4];
    char path[] = "/tmp/nerd-test-jwks-XXXXXX", err[256];
    int fd = mkstemp(path);
    EVP_PKEY *ks[] = {rsa, ec256};
    char *kids[] = {kid_rsa, kid_ec}, *doc = jwks_text(ks, kids, 2, 0);
    CHECK(fd >= 0 && write(fd, doc, strlen(doc)) == (ssize_t)strlen(doc), "jwks file");
    close(fd);
    free(doc);
    jwt_keys *cache = NULL;
    CHECK(jwt_keys_new(path, NULL, &cache, err, sizeof err) == JWT_OK &&
          jwt_keys_load(cache, err, sizeof err) == JWT_OK, "shared cache: %s", err);
    unlink(path);
    for (int i = 0; i < 4; i++) {
        jobs[i] = (job){good[i & 1], bad[i & 1], cache, 1};
        pthread_create(&th[i], NULL, worker, &jobs[i]);
    }
    int ok = 1;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ok &= jobs[i].ok;
    }
    CHECK(ok, "4 threads verifying with one shared set and one shared cache");
    jwt_keys_free(cache);
    for (int i = 0; i < 2; i++) {
        free(good[i]);
        free(bad[i]);
    }
    free(cl);
}

int main(void)
{
    setup();
    if (!keys)
        return check_done("test_jwt");
    valid_tokens();
    refused_algorithms();
    kids();
    claims();
    malformed();
    ecdsa_lengths();
    rendering();
    jwks_parsing();
    cache();
    threads();
    CHECK(strlen(jwt_strerror(JWT_EKEY)) > 0 && !strcmp(jwt_strerror(JWT_EEXPIRED), "the token has expired") &&
          !strcmp(jwt_strerror(JWT_EAUD), "the token does not have a valid audience"), "strerror");
    jwt_jwks_free(keys);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa2);
    EVP_PKEY_free(ec256);
    EVP_PKEY_free(ec384);
    free(kid_rsa);
    free(kid_ec);
    free(kid_ec384);
    return check_done("test_jwt");
}
