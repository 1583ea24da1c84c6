/*
 * Keys of the JWT module (see jwt.h): a JWKS document parsed into libcrypto
 * public keys (RSA from n/e, EC P-256/P-384 from x/y, built with
 * EVP_PKEY_fromdata and checked with EVP_PKEY_public_check), and the other
 * direction for `nerd local jwt` and the tests: key generation, PEM files,
 * a key's public JWK and RFC 7638 thumbprint, and signing (EVP_DigestSign;
 * ECDSA's DER signature turned into JWS's raw r||s).
 */
#define _GNU_SOURCE
#include "jwt_int.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RSA_ALGS (JWT_RS256 | JWT_RS384 | JWT_RS512 | JWT_PS256 | JWT_PS384 | JWT_PS512)

/* ---- parsing a JWKS -------------------------------------------------------- */

/* A base64url member of a JWK, decoded: 0, -1 absent or malformed, -2 out
 * of memory. */
static int member_b64(const json_t *jwk, const char *name, unsigned char **out, size_t *len)
{
    const char *s = json_string_value(json_object_get(jwk, name));
    *out = NULL;
    if (!s)
        return -1;
    return jwt__b64url_decode(s, strlen(s), out, len);
}

/* Builds a public key of type name ("RSA", "EC") from params. */
static EVP_PKEY *from_params(const char *name, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY *pk = NULL;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pk = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    if (pk) { /* for EC: the point must be on the curve */
        EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
        if (!chk || EVP_PKEY_public_check(chk) != 1) {
            EVP_PKEY_free(pk);
            pk = NULL;
        }
        EVP_PKEY_CTX_free(chk);
    }
    return pk;
}

/* An RSA JWK's key, or NULL with why in err. */
static EVP_PKEY *rsa_key(const json_t *jwk, char *err, size_t errcap)
{
    unsigned char *n = NULL, *e = NULL;
    size_t nl, el;
    EVP_PKEY *pk = NULL;
    BIGNUM *bn = NULL, *be = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    if (member_b64(jwk, "n", &n, &nl) || member_b64(jwk, "e", &e, &el)) {
        snprintf(err, errcap, "\"n\" or \"e\" missing or not base64url");
        goto out;
    }
    bn = BN_bin2bn(n, (int)nl, NULL);
    be = BN_bin2bn(e, (int)el, NULL);
    if (!bn || !be)
        goto nomem;
    int bits = BN_num_bits(bn);
    if (bits < JWT_RSA_MIN_BITS || bits > JWT_RSA_MAX_BITS) {
        snprintf(err, errcap, "an RSA modulus of %d bits (accepted: %d to %d)", bits,
                 JWT_RSA_MIN_BITS, JWT_RSA_MAX_BITS);
        goto out;
    }
    if (BN_num_bits(be) < 2 || BN_num_bits(be) > 64 || !BN_is_odd(be)) {
        snprintf(err, errcap, "an RSA exponent that is not odd, or over 64 bits");
        goto out;
    }
    if (!(bld = OSSL_PARAM_BLD_new()) || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
        goto nomem;
    if (!(pk = from_params("RSA", bld)))
        snprintf(err, errcap, "libcrypto refused the RSA key");
    goto out;
nomem:
    snprintf(err, errcap, "out of memory");
out:
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    free(n);
    free(e);
    return pk;
}

/* An EC JWK's key on the curve of size bytes (32: P-256, 48: P-384), or
 * NULL with why in err. */
static EVP_PKEY *ec_key(const json_t *jwk, size_t size, char *err, size_t errcap)
{
    unsigned char *x = NULL, *y = NULL, pt[1 + 2 * 48];
    size_t xl, yl;
    EVP_PKEY *pk = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    if (member_b64(jwk, "x", &x, &xl) || member_b64(jwk, "y", &y, &yl) || xl != size || yl != size) {
        snprintf(err, errcap, "\"x\" or \"y\" missing, not base64url or not %zu bytes", size);
        goto out;
    }
    pt[0] = 4; /* an uncompressed point: 04 || x || y */
    memcpy(pt + 1, x, size);
    memcpy(pt + 1 + size, y, size);
    if (!(bld = OSSL_PARAM_BLD_new()) ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                         size == 32 ? "P-256" : "P-384", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * size)) {
        snprintf(err, errcap, "out of memory");
        goto out;
    }
    if (!(pk = from_params("EC", bld)))
        snprintf(err, errcap, "the point is not on the curve");
out:
    OSSL_PARAM_BLD_free(bld);
    free(x);
    free(y);
    return pk;
}

/* Whether a JWK is one to skip: not for signatures, no kid, a kind of key
 * this module does not verify with.  Sets *algs for the others. */
static int skip_jwk(const json_t *jwk, unsigned *algs, size_t *ec_size)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *use = json_string_value(json_object_get(jwk, "use"));
    const json_t *ops = json_object_get(jwk, "key_ops"), *alg = json_object_get(jwk, "alg");
    const char *kid = json_string_value(json_object_get(jwk, "kid"));
    if (!kty || !kid || strlen(kid) > JWT_MAX_KID || (json_object_get(jwk, "use") && !use) ||
        (use && strcmp(use, "sig")))
        return 1;
    if (ops) {
        size_t i = 0;
        const char *op = NULL;
        while (i < json_array_size(ops) &&
               (!(op = json_string_value(json_array_get(ops, i))) || strcmp(op, "verify")))
            i++;
        if (i == json_array_size(ops))
            return 1;
    }
    *ec_size = 0;
    if (!strcmp(kty, "RSA")) {
        *algs = RSA_ALGS;
    } else if (!strcmp(kty, "EC")) {
        const char *crv = json_string_value(json_object_get(jwk, "crv"));
        if (crv && !strcmp(crv, "P-256"))
            *algs = JWT_ES256, *ec_size = 32;
        else if (crv && !strcmp(crv, "P-384"))
            *algs = JWT_ES384, *ec_size = 48;
        else
            return 1;
    } else {
        return 1;
    }
    if (alg) { /* narrowed to its "alg"; an encryption or unknown alg: skipped */
        unsigned a = jwt_alg_from_name(json_string_value(alg));
        if (!a)
            return 1;
        *algs &= a;
        if (!*algs)
            return -1; /* e.g. kty RSA with alg ES256: malformed */
    }
    return 0;
}

static void set_free(jwt_jwks *ks)
{
    for (size_t i = 0; i < ks->n; i++) {
        free(ks->keys[i].kid);
        EVP_PKEY_free(ks->keys[i].pk);
    }
    free(ks);
}

jwt_err jwt_jwks_parse(const char *json, size_t len, jwt_jwks **out, char *err, size_t errcap)
{
    *out = NULL;
    snprintf(err, errcap, "%s", "");
    if (len > JWT_MAX_JWKS) {
        snprintf(err, errcap, "%zu bytes (at most %d)", len, JWT_MAX_JWKS);
        return JWT_EJWKS;
    }
    json_error_t je;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    const json_t *keys = json_object_get(doc, "keys");
    jwt_jwks *ks = NULL;
    jwt_err rc = JWT_EJWKS;
    if (!doc) {
        snprintf(err, errcap, "not JSON: %s (line %d)", je.text, je.line);
        goto out;
    }
    if (!json_is_array(keys)) {
        snprintf(err, errcap, "not an object with a \"keys\" array");
        goto out;
    }
    size_t nk = json_array_size(keys);
    if (nk > JWT_MAX_KEYS) {
        snprintf(err, errcap, "%zu keys (at most %d)", nk, JWT_MAX_KEYS);
        goto out;
    }
    rc = JWT_ENOMEM;
    if (!(ks = calloc(1, sizeof *ks + nk * sizeof ks->keys[0])))
        goto out;
    atomic_init(&ks->refs, 1);
    for (size_t i = 0; i < nk; i++) {
        const json_t *jwk = json_array_get(keys, i);
        const char *kid = json_string_value(json_object_get(jwk, "kid"));
        unsigned algs = 0;
        size_t ec = 0;
        char why[160];
        int s = json_is_object(jwk) ? skip_jwk(jwk, &algs, &ec) : 1;
        if (s > 0) {
            ks->skipped++;
            continue;
        }
        EVP_PKEY *pk = NULL;
        if (s < 0)
            snprintf(why, sizeof why, "its \"alg\" does not fit its \"kty\"");
        else
            pk = ec ? ec_key(jwk, ec, why, sizeof why) : rsa_key(jwk, why, sizeof why);
        if (!pk) {
            rc = JWT_EJWK;
            snprintf(err, errcap, "key %zu (kid %.100s): %s", i, kid, why);
            goto out;
        }
        jwt__key *k = &ks->keys[ks->n];
        k->pk = pk;
        k->algs = algs;
        ks->n++;
        if (!(k->kid = strdup(kid)))
            goto out;
    }
    *out = ks;
    ks = NULL;
    rc = JWT_OK;
out:
    if (rc == JWT_ENOMEM)
        snprintf(err, errcap, "out of memory");
    if (ks)
        set_free(ks);
    json_decref(doc);
    return rc;
}

size_t jwt_jwks_count(const jwt_jwks *ks) { return ks->n; }
size_t jwt_jwks_skipped(const jwt_jwks *ks) { return ks->skipped; }

int jwt_jwks_has(const jwt_jwks *ks, const char *kid)
{
    for (size_t i = 0; kid && i < ks->n; i++)
        if (!strcmp(ks->keys[i].kid, kid))
            return 1;
    return 0;
}

jwt_jwks *jwt_jwks_ref(jwt_jwks *ks)
{
    atomic_fetch_add(&ks->refs, 1);
    return ks;
}

void jwt_jwks_free(jwt_jwks *ks)
{
    if (ks && atomic_fetch_sub(&ks->refs, 1) == 1)
        set_free(ks);
}

/* ---- signing keys -------------------------------------------------------- */

/* 32 for P-256, 48 for P-384, 0 for another curve or kind of key. */
static size_t ec_size(const EVP_PKEY *key)
{
    char g[64];
    size_t gl = 0;
    if (!EVP_PKEY_is_a(key, "EC") ||
        !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, g, sizeof g, &gl))
        return 0;
    if (!strcmp(g, "prime256v1") || !strcmp(g, "P-256"))
        return 32;
    if (!strcmp(g, "secp384r1") || !strcmp(g, "P-384"))
        return 48;
    return 0;
}

unsigned jwt_key_alg(const EVP_PKEY *key)
{
    if (EVP_PKEY_is_a(key, "RSA")) {
        int bits = EVP_PKEY_get_bits(key);
        return bits >= JWT_RSA_MIN_BITS && bits <= JWT_RSA_MAX_BITS ? JWT_RS256 : 0;
    }
    size_t s = ec_size(key);
    return s == 32 ? JWT_ES256 : s == 48 ? JWT_ES384 : 0;
}

jwt_err jwt_key_generate(const char *type, int bits, EVP_PKEY **out)
{
    *out = NULL;
    if (!strcmp(type, "rsa")) {
        if (!bits)
            bits = 2048;
        if (bits < JWT_RSA_MIN_BITS || bits > JWT_RSA_MAX_BITS)
            return JWT_EKEY;
        *out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    } else if (!strcmp(type, "ec") || !strcmp(type, "p256") || !strcmp(type, "p384")) {
        *out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", strcmp(type, "p384") ? "P-256" : "P-384");
    } else {
        return JWT_EKEY;
    }
    ERR_clear_error();
    return *out ? JWT_OK : JWT_ENOMEM;
}

jwt_err jwt_key_read(const char *path, EVP_PKEY **out, char *err, size_t errcap)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return JWT_EKEY;
    }
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, (void *)"");
    fclose(f);
    ERR_clear_error();
    if (!k) {
        snprintf(err, errcap, "%s: not an unencrypted PEM private key", path);
        return JWT_EKEY;
    }
    if (!jwt_key_alg(k)) {
        snprintf(err, errcap, "%s: not an RSA key of %d to %d bits nor an EC P-256/P-384 key",
                 path, JWT_RSA_MIN_BITS, JWT_RSA_MAX_BITS);
        EVP_PKEY_free(k);
        return JWT_EKEY;
    }
    *out = k;
    return JWT_OK;
}

jwt_err jwt_key_write(const EVP_PKEY *key, const char *path, char *err, size_t errcap)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return JWT_EKEY;
    }
    int ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
    ok = fclose(f) == 0 && ok;
    ERR_clear_error();
    if (!ok) {
        snprintf(err, errcap, "%s: cannot write the key", path);
        unlink(path);
        return JWT_EKEY;
    }
    return JWT_OK;
}

/* A BIGNUM parameter of key as base64url of its big-endian bytes, padded
 * to pad bytes (0: minimal); malloc'd or NULL. */
static char *bn_param(const EVP_PKEY *key, const char *name, size_t pad)
{
    BIGNUM *bn = NULL;
    char *s = NULL;
    if (!EVP_PKEY_get_bn_param(key, name, &bn))
        return NULL;
    size_t n = pad ? pad : (size_t)BN_num_bytes(bn);
    unsigned char *b = malloc(n ? n : 1);
    if (b && BN_bn2binpad(bn, b, (int)n) == (int)n)
        s = jwt_b64url(b, n);
    free(b);
    BN_free(bn);
    return s;
}

/* The members of key's public JWK that RFC 7638 hashes (crv, e, kty, n,
 * x, y), in that (lexicographic) order. */
static json_t *jwk_core(const EVP_PKEY *key)
{
    json_t *j = json_object();
    size_t ec = ec_size(key);
    char *a = NULL, *b = NULL;
    int ok = j != NULL;
    if (ok && EVP_PKEY_is_a(key, "RSA")) {
        a = bn_param(key, OSSL_PKEY_PARAM_RSA_E, 0);
        b = bn_param(key, OSSL_PKEY_PARAM_RSA_N, 0);
        ok = a && b && !json_object_set_new(j, "e", json_string(a)) &&
             !json_object_set_new(j, "kty", json_string("RSA")) &&
             !json_object_set_new(j, "n", json_string(b));
    } else if (ok && ec) {
        a = bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, ec);
        b = bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, ec);
        ok = a && b && !json_object_set_new(j, "crv", json_string(ec == 32 ? "P-256" : "P-384")) &&
             !json_object_set_new(j, "kty", json_string("EC")) &&
             !json_object_set_new(j, "x", json_string(a)) &&
             !json_object_set_new(j, "y", json_string(b));
    } else {
        ok = 0;
    }
    free(a);
    free(b);
    if (!ok) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

char *jwt_key_thumbprint(const EVP_PKEY *key)
{
    json_t *j = jwk_core(key);
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL, *out = NULL;
    unsigned char md[32];
    if (s && EVP_Digest(s, strlen(s), md, NULL, EVP_sha256(), NULL) == 1)
        out = jwt_b64url(md, sizeof md);
    free(s);
    json_decref(j);
    return out;
}

/* Whether alg (one bit) is one key signs with. */
static int fits(const EVP_PKEY *key, unsigned alg)
{
    size_t ec = ec_size(key);
    if (alg & RSA_ALGS)
        return EVP_PKEY_is_a(key, "RSA");
    return alg == JWT_ES256 ? ec == 32 : alg == JWT_ES384 ? ec == 48 : 0;
}

json_t *jwt_key_jwk(const EVP_PKEY *key, const char *kid, unsigned alg)
{
    if (!alg)
        alg = jwt_key_alg(key);
    if (!jwt_alg_name(alg) || !fits(key, alg))
        return NULL;
    json_t *core = jwk_core(key), *j = json_object();
    const char *an = jwt_alg_name(alg);
    int ok = core && j && !json_object_set_new(j, "kty", json_incref(json_object_get(core, "kty")));
    ok = ok && (!kid || !json_object_set_new(j, "kid", json_string(kid))) &&
         !json_object_set_new(j, "use", json_string("sig")) &&
         !json_object_set_new(j, "alg", json_string(an));
    ok = ok && !json_object_update_missing(j, core);
    json_decref(core);
    if (!ok) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* DER ECDSA signature der[0..dl) as r||s of size bytes each into raw. */
static int der_to_raw(const unsigned char *der, size_t dl, size_t size, unsigned char *raw)
{
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &der, (long)dl);
    const BIGNUM *r, *ss;
    int ok = 0;
    if (s) {
        ECDSA_SIG_get0(s, &r, &ss);
        ok = BN_bn2binpad(r, raw, (int)size) == (int)size &&
             BN_bn2binpad(ss, raw + size, (int)size) == (int)size;
        ECDSA_SIG_free(s);
    }
    return ok ? 0 : -1;
}

jwt_err jwt_sign(const EVP_PKEY *key, unsigned alg, const char *kid, const json_t *claims,
                 char **out)
{
    *out = NULL;
    if (!alg)
        alg = jwt_key_alg(key);
    const char *an = jwt_alg_name(alg);
    if (!an)
        return JWT_EALG;
    size_t ec = ec_size(key);
    if (!fits(key, alg))
        return JWT_EKEYALG;
    json_t *h = json_pack("{s:s,s:s}", "alg", an, "typ", "JWT");
    if (h && kid)
        json_object_set_new(h, "kid", json_string(kid));
    char *hs = h ? json_dumps(h, JSON_COMPACT) : NULL, *cs = json_dumps(claims, JSON_COMPACT);
    char *hb = hs ? jwt_b64url(hs, strlen(hs)) : NULL, *cb = cs ? jwt_b64url(cs, strlen(cs)) : NULL;
    char *text = NULL, *sb = NULL;
    unsigned char *sig = NULL, raw[96];
    size_t sl = 0;
    jwt_err rc = JWT_ENOMEM;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    if (!hb || !cb || !m || asprintf(&text, "%s.%s", hb, cb) < 0) {
        text = NULL;
        goto out;
    }
    if (EVP_DigestSignInit(m, &pc, alg & (JWT_RS256 | JWT_PS256 | JWT_ES256) ? EVP_sha256() :
                           alg & (JWT_RS384 | JWT_PS384 | JWT_ES384) ? EVP_sha384() : EVP_sha512(),
                           NULL, (EVP_PKEY *)key) != 1)
        goto out;
    if ((alg & (JWT_PS256 | JWT_PS384 | JWT_PS512)) &&
        (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) != 1))
        goto out;
    if (EVP_DigestSign(m, NULL, &sl, (unsigned char *)text, strlen(text)) != 1 ||
        !(sig = malloc(sl)) || EVP_DigestSign(m, sig, &sl, (unsigned char *)text, strlen(text)) != 1)
        goto out;
    if (ec) {
        if (der_to_raw(sig, sl, ec, raw))
            goto out;
        sb = jwt_b64url(raw, 2 * ec);
    } else {
        sb = jwt_b64url(sig, sl);
    }
    if (!sb || asprintf(out, "%s.%s", text, sb) < 0) {
        *out = NULL;
        goto out;
    }
    rc = JWT_OK;
out:
    ERR_clear_error();
    EVP_MD_CTX_free(m);
    json_decref(h);
    free(hs);
    free(cs);
    free(hb);
    free(cb);
    free(text);
    free(sig);
    free(sb);
    return rc;
}
