/* libFuzzer target: JWT tokens (platform/jwt.c, jwt_claims.c) parsed and
 * verified against a fixed JWKS (the public halves of an RSA and a P-256
 * key made for the seed corpus; the private halves were not kept), with
 * every algorithm allowed and a fixed "now" at which the seed tokens are
 * valid.  Invariants: nothing over JWT_MAX_TOKEN is decoded; a token that
 * parses renders its claims for HTTP APIs and REST Cognito, every value a
 * string; a verified token also passes jwt_check_claims on its own; strict
 * base64url decodes only what it would encode back byte for byte. */
#include <stdlib.h>
#include <string.h>

#include "jwt_int.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const char JWKS[] =
    "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"rsa1\",\"use\":\"sig\",\"e\":\"AQAB\",\"n\":\"yZcT_C"
    "OaiGM5xPE8Rs1l6WdHElb73JuUeOhut722u08mcM53FGJeVzA9WOkfQHDQwk7Xe-9PzXO3SKlepsZ9X23W_zL-KxWh"
    "fwYjqAI7thmZK824__XR49QWfaqOn5KNgBvoNNUGgNcO_83uGF3YiIAJmerk_4BSoby1l7LkFph_9AG6tOyUIq-XQZ"
    "DqIG9IVVN1Lmh2FHA5t-MvlmexvTaYlk_jjuej3sk4giHzItox9m5UqaRpkSx3VHXPDPs_wMd6gLXbzJfK7orQL3c2"
    "j8YA26uCz8b3O7WElC-OaZhfkouWmIjDJ-F1vSyg-IxRzOA7P1GGUb5Z4pRWblq69Q\"},{\"kty\":\"EC\",\"ki"
    "d\":\"ec1\",\"use\":\"sig\",\"alg\":\"ES256\",\"crv\":\"P-256\",\"x\":\"9o3EDaGngWH4hsFt1a"
    "lZDjKsQSVe-EeECoeamoofn84\",\"y\":\"ldZTiSX3jl5AIA_8JXv3Lcjd7I_PTzlrG1w-_xJV3UA\"}]}";

static jwt_jwks *keys;

static void all_strings(json_t *o)
{
    const char *k;
    json_t *v;
    if (!json_is_object(o))
        abort();
    json_object_foreach(o, k, v)
        if (!json_is_string(v))
            abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char err[256];
    if (!keys && jwt_jwks_parse(JWKS, strlen(JWKS), &keys, err, sizeof err))
        abort();
    const char *in = (const char *)data;
    const char *aud[] = {"app"}, *scopes[] = {"write", "admin"};
    jwt_check c = {.issuer = "https://issuer.test", .audiences = aud, .n_audiences = 1,
                   .client_id = 1, .scopes = scopes, .n_scopes = 2, .algs = JWT_ALGS_ALL,
                   .now = 1718636500};
    size_t tl;
    const char *tok = jwt_bearer(in, size, &tl);
    jwt *t = NULL;
    jwt_err rc = jwt_verify(tok, tl, keys, &c, &t);
    if (tl > JWT_MAX_TOKEN && rc != JWT_ETOOBIG)
        abort();
    if ((rc == JWT_OK) != (t != NULL))
        abort();
    if (t && jwt_check_claims(t, &c) != JWT_OK)
        abort();
    jwt_free(t);
    if (jwt_parse(tok, tl, &t) == JWT_OK) {
        json_t *h = jwt_claims_http(t), *g = jwt_claims_cognito(t), *s = jwt_scopes(t);
        all_strings(h);
        all_strings(g);
        if (json_object_size(h) != json_object_size(jwt_claims(t)) || !s)
            abort();
        c.cognito = 1;
        c.algs = 0;
        (void)jwt_verify_signature(t, keys, 0);
        (void)jwt_check_claims(t, &c);
        json_decref(h);
        json_decref(g);
        json_decref(s);
        jwt_free(t);
    }
    if (size <= 4096) {
        unsigned char *raw;
        size_t rl;
        if (jwt__b64url_decode(in, size, &raw, &rl) == 0) {
            char *back = jwt_b64url(raw, rl);
            if (!back || strlen(back) != size || memcmp(back, in, size))
                abort();
            free(back);
            free(raw);
        }
    }
    return 0;
}
