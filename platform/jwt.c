/*
 * JWT tokens (see jwt.h): the compact form parsed strictly (size first,
 * then three base64url parts, header and claims as JSON objects without
 * duplicate keys), the signature verified with libcrypto (RSASSA-PKCS1-v1_5
 * and RSASSA-PSS with EVP_DigestVerify, ECDSA after turning JWS's raw r||s
 * into DER), and the claims checked as API Gateway checks them.  Algorithm
 * names, errors, the Bearer prefix and scope iteration live here too.
 */
#define _GNU_SOURCE
#include "jwt_int.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *jwt_strerror(jwt_err e)
{
    switch (e) {
    case JWT_OK: return "success";
    case JWT_ENOMEM: return "out of memory";
    case JWT_ETOOBIG: return "the token is too large";
    case JWT_EFORMAT: return "the token is not a valid JWT";
    case JWT_EBASE64: return "the token is not valid base64url";
    case JWT_EHEADER: return "the token has an invalid header";
    case JWT_ECLAIMS: return "the token has invalid claims";
    case JWT_EALG_NONE: return "the token is not signed";
    case JWT_EALG_HMAC: return "the token's signing algorithm is not supported";
    case JWT_EALG: return "the token's signing algorithm is not supported";
    case JWT_ENOKID: return "the token does not have a key id";
    case JWT_EKID: return "the token's key id does not match a key";
    case JWT_EKEYALG: return "the token's signing algorithm does not match its key";
    case JWT_ESIG: return "the token has an invalid signature";
    case JWT_EISS: return "the token does not have a valid issuer";
    case JWT_EAUD: return "the token does not have a valid audience";
    case JWT_ENOEXP: return "the token does not have an expiration time";
    case JWT_ETIME: return "the token has an invalid time claim";
    case JWT_EEXPIRED: return "the token has expired";
    case JWT_ENBF: return "the token is not valid yet";
    case JWT_EIAT: return "the token was issued in the future";
    case JWT_ETOKENUSE: return "the token has an invalid token_use";
    case JWT_ESCOPE: return "the token does not have the required scope";
    case JWT_EJWKS: return "the key set is not a valid JWKS";
    case JWT_EJWK: return "a key of the key set is invalid";
    case JWT_ESOURCE: return "the key source is not a file or a loopback http URL";
    case JWT_EFETCH: return "the key set could not be read";
    case JWT_EKEY: return "the signing key is not usable";
    }
    return "unknown error";
}

int jwt_http_status(jwt_err e)
{
    return e == JWT_OK ? 200 : e == JWT_ESCOPE ? 403 : e == JWT_ENOMEM ? 500 : 401;
}

static const struct {
    const char *name;
    unsigned bit;
} ALGS[] = {
    {"RS256", JWT_RS256}, {"RS384", JWT_RS384}, {"RS512", JWT_RS512}, {"PS256", JWT_PS256},
    {"PS384", JWT_PS384}, {"PS512", JWT_PS512}, {"ES256", JWT_ES256}, {"ES384", JWT_ES384},
};

const char *jwt_alg_name(unsigned alg)
{
    for (size_t i = 0; i < sizeof ALGS / sizeof *ALGS; i++)
        if (ALGS[i].bit == alg)
            return ALGS[i].name;
    return NULL;
}

unsigned jwt_alg_from_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof ALGS / sizeof *ALGS; i++)
        if (!strcmp(ALGS[i].name, name))
            return ALGS[i].bit;
    return 0;
}

unsigned jwt_algs_parse(const char *list)
{
    unsigned set = 0;
    char name[16];
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ",");
        if (!n || n >= sizeof name)
            return 0;
        memcpy(name, p, n);
        name[n] = 0;
        unsigned b = jwt_alg_from_name(name);
        if (!b)
            return 0;
        set |= b;
        p += n;
        if (*p == ',' && !*++p)
            return 0; /* a trailing comma */
    }
    return set;
}

/* ---- base64url ----------------------------------------------------------- */

static int b64url_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

int jwt__b64url_decode(const char *s, size_t n, unsigned char **out, size_t *olen)
{
    *out = NULL;
    *olen = 0;
    if (n % 4 == 1)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (b64url_val((unsigned char)s[i]) < 0)
            return -1;
    /* the last character's unused bits must be zero (one encoding per value) */
    if (n % 4 == 2 && (b64url_val((unsigned char)s[n - 1]) & 15))
        return -1;
    if (n % 4 == 3 && (b64url_val((unsigned char)s[n - 1]) & 3))
        return -1;
    size_t pad = (4 - n % 4) % 4, pn = n + pad;
    char *tmp = malloc(pn + 1);
    unsigned char *o = malloc(pn / 4 * 3 + 1);
    if (!tmp || !o) {
        free(tmp);
        free(o);
        return -2;
    }
    for (size_t i = 0; i < n; i++)
        tmp[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    memset(tmp + n, '=', pad);
    tmp[pn] = 0;
    int k = pn ? EVP_DecodeBlock(o, (const unsigned char *)tmp, (int)pn) : 0;
    free(tmp);
    if (k < 0 || (size_t)k < pad) {
        free(o);
        return -1;
    }
    *olen = (size_t)k - pad;
    o[*olen] = 0;
    *out = o;
    return 0;
}

char *jwt_b64url(const void *p, size_t n)
{
    char *o = malloc((n + 2) / 3 * 4 + 1);
    if (!o)
        return NULL;
    int k = EVP_EncodeBlock((unsigned char *)o, p, (int)n);
    while (k > 0 && o[k - 1] == '=')
        k--;
    o[k] = 0;
    for (int i = 0; i < k; i++)
        o[i] = o[i] == '+' ? '-' : o[i] == '/' ? '_' : o[i];
    return o;
}

/* ---- parsing ------------------------------------------------------------- */

/* Decodes one base64url part into a JSON object (*out); errors: bad_json
 * for JSON that is not an object. */
static jwt_err part_json(const char *s, size_t n, jwt_err bad_json, json_t **out)
{
    unsigned char *raw;
    size_t rl;
    int d = jwt__b64url_decode(s, n, &raw, &rl);
    if (d)
        return d == -2 ? JWT_ENOMEM : JWT_EBASE64;
    json_error_t je;
    *out = json_loadb((const char *)raw, rl, JSON_REJECT_DUPLICATES, &je);
    free(raw);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return bad_json;
    }
    return JWT_OK;
}

jwt_err jwt_parse(const char *token, size_t len, jwt **out)
{
    *out = NULL;
    if (len > JWT_MAX_TOKEN)
        return JWT_ETOOBIG;
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (!d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) || d1 == token || d2 == d1 + 1)
        return JWT_EFORMAT;
    size_t hl = (size_t)(d1 - token), cl = (size_t)(d2 - d1 - 1), sl = len - (size_t)(d2 + 1 - token);
    jwt *t = calloc(1, sizeof *t + (size_t)(d2 - token) + 1);
    if (!t)
        return JWT_ENOMEM;
    jwt_err rc = part_json(token, hl, JWT_EHEADER, &t->header);
    if (rc)
        goto out;
    /* the header first: an unsigned or HMAC token is named as such */
    const json_t *alg = json_object_get(t->header, "alg"), *kid = json_object_get(t->header, "kid");
    rc = JWT_EHEADER;
    if (!json_is_string(alg) || (kid && !json_is_string(kid)) || json_object_get(t->header, "crit"))
        goto out;
    const char *an = json_string_value(alg);
    rc = !strcasecmp(an, "none") ? JWT_EALG_NONE : !strncmp(an, "HS", 2) ? JWT_EALG_HMAC : JWT_OK;
    if (!rc && !(t->alg = jwt_alg_from_name(an)))
        rc = JWT_EALG;
    if (rc)
        goto out;
    t->kid = kid ? json_string_value(kid) : NULL;
    if ((rc = part_json(d1 + 1, cl, JWT_ECLAIMS, &t->claims)))
        goto out;
    rc = JWT_ESIG;
    if (!sl)
        goto out;
    int d = jwt__b64url_decode(d2 + 1, sl, &t->sig, &t->sig_len);
    rc = d == -2 ? JWT_ENOMEM : d ? JWT_EBASE64 : JWT_OK;
    if (rc)
        goto out;
    t->signed_len = (size_t)(d2 - token);
    memcpy(t->text, token, t->signed_len);
    *out = t;
    t = NULL;
out:
    jwt_free(t);
    return rc;
}

void jwt_free(jwt *t)
{
    if (!t)
        return;
    json_decref(t->header);
    json_decref(t->claims);
    free(t->sig);
    free(t);
}

const json_t *jwt_header(const jwt *t) { return t->header; }
const json_t *jwt_claims(const jwt *t) { return t->claims; }
const char *jwt_kid(const jwt *t) { return t->kid; }
unsigned jwt_alg(const jwt *t) { return t->alg; }

static int blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

const char *jwt_bearer(const char *v, size_t n, size_t *tlen)
{
    while (n && blank(*v))
        v++, n--;
    if (n >= 7 && !strncasecmp(v, "Bearer ", 7)) {
        v += 7, n -= 7;
        while (n && blank(*v))
            v++, n--;
    }
    while (n && blank(v[n - 1]))
        n--;
    *tlen = n;
    return v;
}

/* ---- signatures ---------------------------------------------------------- */

static const EVP_MD *alg_md(unsigned alg)
{
    if (alg & (JWT_RS256 | JWT_PS256 | JWT_ES256))
        return EVP_sha256();
    if (alg & (JWT_RS384 | JWT_PS384 | JWT_ES384))
        return EVP_sha384();
    return EVP_sha512();
}

/* JWS's ECDSA signature r||s (two big-endian numbers of the curve's size)
 * as the DER SEQUENCE libcrypto verifies; *der to OPENSSL_free. */
static int es_to_der(const unsigned char *raw, size_t n, unsigned char **der, size_t *dlen)
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, (int)(n / 2), NULL), *ss = BN_bin2bn(raw + n / 2, (int)(n / 2), NULL);
    int k = -1;
    if (s && r && ss && ECDSA_SIG_set0(s, r, ss)) {
        r = ss = NULL;
        *der = NULL;
        k = i2d_ECDSA_SIG(s, der);
    }
    BN_free(r);
    BN_free(ss);
    ECDSA_SIG_free(s);
    if (k <= 0)
        return -1;
    *dlen = (size_t)k;
    return 0;
}

/* 1 when sig verifies text with pk under alg, 0 when it does not, -1 on
 * out of memory or a libcrypto failure other than a bad signature. */
static int verify_with(EVP_PKEY *pk, unsigned alg, const char *text, size_t tl,
                       const unsigned char *sig, size_t sl)
{
    unsigned char *der = NULL;
    int ok = -1;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    if (alg & (JWT_ES256 | JWT_ES384)) {
        if (sl != (alg == JWT_ES256 ? 64u : 96u)) {
            ok = 0;
            goto out;
        }
        if (es_to_der(sig, sl, &der, &sl))
            goto out;
        sig = der;
    } else if ((int)sl != EVP_PKEY_get_size(pk)) {
        ok = 0;
        goto out;
    }
    if (!m || EVP_DigestVerifyInit(m, &pc, alg_md(alg), NULL, pk) != 1)
        goto out;
    if ((alg & (JWT_PS256 | JWT_PS384 | JWT_PS512)) &&
        (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) != 1 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md(pc, alg_md(alg)) != 1))
        goto out;
    ok = EVP_DigestVerify(m, sig, sl, (const unsigned char *)text, tl) == 1;
out:
    ERR_clear_error(); /* a bad signature leaves errors on this thread's queue */
    EVP_MD_CTX_free(m);
    OPENSSL_free(der);
    return ok;
}

jwt_err jwt_verify_signature(const jwt *t, const jwt_jwks *ks, unsigned algs)
{
    if (!(t->alg & (algs ? algs : JWT_ALGS_DEFAULT)))
        return JWT_EALG;
    if (!t->kid)
        return JWT_ENOKID;
    jwt_err rc = JWT_EKID;
    for (size_t i = 0; ks && i < ks->n; i++) {
        const jwt__key *k = &ks->keys[i];
        if (strcmp(k->kid, t->kid))
            continue;
        if (!(k->algs & t->alg)) {
            rc = JWT_EKEYALG; /* another key may share the kid */
            continue;
        }
        int v = verify_with(k->pk, t->alg, t->text, t->signed_len, t->sig, t->sig_len);
        return v > 0 ? JWT_OK : v == 0 ? JWT_ESIG : JWT_ENOMEM;
    }
    return rc;
}

/* ---- claims -------------------------------------------------------------- */

int jwt__each_scope(const json_t *claims, int (*fn)(void *arg, const char *s, size_t n),
                    void *arg)
{
    const json_t *lists[2] = {json_object_get(claims, "scope"), json_object_get(claims, "scp")};
    for (int l = 0; l < 2; l++) {
        const json_t *v = lists[l];
        size_t count = json_is_array(v) ? json_array_size(v) : 1;
        for (size_t i = 0; i < count; i++) {
            const json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
            if (!json_is_string(e))
                continue;
            const char *s = json_string_value(e);
            size_t n = json_string_length(e);
            for (size_t a = 0; a < n;) {
                size_t b = a;
                while (b < n && s[b] != ' ')
                    b++;
                int r = b > a ? fn(arg, s + a, b - a) : 0;
                if (r)
                    return r;
                a = b + 1;
            }
        }
    }
    return 0;
}

static int scope_wanted(void *arg, const char *s, size_t n)
{
    const jwt_check *c = arg;
    for (size_t i = 0; i < c->n_scopes; i++)
        if (strlen(c->scopes[i]) == n && !memcmp(c->scopes[i], s, n))
            return 1;
    return 0;
}

static int is_audience(const jwt_check *c, const json_t *v)
{
    for (size_t i = 0; json_is_string(v) && i < c->n_audiences; i++)
        if (!strcmp(c->audiences[i], json_string_value(v)))
            return 1;
    return 0;
}

/* A time claim: 1 present (its value in *v), 0 absent, -1 not a number. */
static int time_claim(const json_t *claims, const char *name, double *v)
{
    const json_t *j = json_object_get(claims, name);
    if (!j)
        return 0;
    if (!json_is_number(j))
        return -1;
    *v = json_number_value(j);
    return 1;
}

jwt_err jwt_check_claims(const jwt *t, const jwt_check *c)
{
    const json_t *cl = t->claims;
    double now = c->now ? (double)c->now : (double)time(NULL), lee = (double)c->leeway, v;
    if (c->issuer) {
        const json_t *iss = json_object_get(cl, "iss");
        if (!json_is_string(iss) || strcmp(json_string_value(iss), c->issuer))
            return JWT_EISS;
    }
    if (c->n_audiences) {
        const json_t *aud = json_object_get(cl, "aud");
        int ok = 0;
        if (json_is_array(aud)) {
            for (size_t i = 0; !ok && i < json_array_size(aud); i++)
                ok = is_audience(c, json_array_get(aud, i));
        } else if (aud) {
            ok = is_audience(c, aud);
        } else if (c->client_id) {
            ok = is_audience(c, json_object_get(cl, "client_id"));
        }
        if (!ok)
            return JWT_EAUD;
    }
    int k = time_claim(cl, "exp", &v);
    if (k <= 0)
        return k ? JWT_ETIME : JWT_ENOEXP;
    if (!(v + lee > now))
        return JWT_EEXPIRED;
    if ((k = time_claim(cl, "nbf", &v)) < 0)
        return JWT_ETIME;
    if (k && !(v - lee <= now))
        return JWT_ENBF;
    if ((k = time_claim(cl, "iat", &v)) < 0)
        return JWT_ETIME;
    if (k && !(v - lee <= now))
        return JWT_EIAT;
    if (c->cognito) {
        const char *use = json_string_value(json_object_get(cl, "token_use"));
        if (!use || (strcmp(use, "id") && strcmp(use, "access")))
            return JWT_ETOKENUSE;
    }
    if (c->n_scopes && !jwt__each_scope(cl, scope_wanted, (void *)c))
        return JWT_ESCOPE;
    return JWT_OK;
}

jwt_err jwt__conclude(jwt *t, jwt_err rc, const jwt_check *c, jwt **out)
{
    if (!rc)
        rc = jwt_check_claims(t, c);
    if (!rc && out)
        *out = t;
    else
        jwt_free(t);
    return rc;
}

jwt_err jwt_verify(const char *token, size_t len, const jwt_jwks *ks, const jwt_check *c,
                   jwt **out)
{
    jwt *t;
    if (out)
        *out = NULL;
    jwt_err rc = jwt_parse(token, len, &t);
    if (!rc)
        rc = jwt_verify_signature(t, ks, c->algs);
    return jwt__conclude(t, rc, c, out);
}
