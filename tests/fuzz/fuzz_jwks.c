/* libFuzzer target: JWKS documents (platform/jwt_keys.c) parsed into
 * libcrypto keys.  A set that parses has at most JWT_MAX_KEYS keys, kept
 * plus skipped; it is then used to verify two fixed tokens (RS256 under
 * kid "rsa1", ES256 under kid "ec1", signed by keys made for the seed
 * corpus and not kept), so that fuzzed keys reach the lookup and the
 * verification; a set that fails says why.  Reference counting is
 * exercised too. */
#include <stdlib.h>
#include <string.h>

#include "jwt.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const char RS_TOKEN[] =
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYTEifQ.eyJpc3MiOiJodHRwczovL2lzc3Vlci50ZXN"
    "0IiwiYXVkIjpbImFwcCIsIm90aGVyIl0sInN1YiI6InUxIiwic2NvcGUiOiJyZWFkIHdyaXRlIiwidG9rZW5fdXNlI"
    "joiYWNjZXNzIiwiZ3JvdXBzIjpbImEiLCJiIl0sIm8iOnsiayI6WzEsMi41LG51bGwsdHJ1ZV19LCJpYXQiOjE3MTg"
    "2MzY0MDQsIm5iZiI6MTcxODYzNjQwNCwiZXhwIjoxNzE4NzIyODA0fQ.kChq7jGbORyOyhXmdqkDvoUpf63vcmp2Uz"
    "elF6JYhLN_lxSY9dpnFK2LicTTxxDXVaZxCkr3W4uAKUF7PBvdLnsWr9dlHo5ZEn2yPQb51T4Lj54Zkcgt3xq1oCEc"
    "3LSmSznGr6HxqTylPQntlzRNUeUM03Ps3lGxPxozSwCaCcqqNIKexBBiUhslPdniTgrAKRVoXbZSoCL_38vIB9uWXZ"
    "De6_0pa4necG8G0mlXrpfu9rv1u_xrKD-vrfL_obEFw_shNfq4Qhu8-01QLpG_YG9wCdxn0PgU2et6ijr_f1uSh-Pa"
    "_QYrHA47FyygmZetJpk2O0g5aVgLEn79CLCKJQ";
static const char ES_TOKEN[] =
    "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJodHRwczovL2lzc3Vlci50ZXN0I"
    "iwiYXVkIjpbImFwcCIsIm90aGVyIl0sInN1YiI6InUxIiwic2NvcGUiOiJyZWFkIHdyaXRlIiwidG9rZW5fdXNlIjo"
    "iYWNjZXNzIiwiZ3JvdXBzIjpbImEiLCJiIl0sIm8iOnsiayI6WzEsMi41LG51bGwsdHJ1ZV19LCJpYXQiOjE3MTg2M"
    "zY0MDQsIm5iZiI6MTcxODYzNjQwNCwiZXhwIjoxNzE4NzIyODA0fQ.rpn6IVvEUm5HqvJdSOAmhycXMFa68aVMr5ri"
    "Vmffply8jMu39MlP7Ezry4FR865cttjDFcdi4JM9y_H-QSN5dw";

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char err[256];
    err[0] = 'x';
    jwt_jwks *ks = NULL;
    jwt_err rc = jwt_jwks_parse((const char *)data, size, &ks, err, sizeof err);
    if ((rc == JWT_OK) != (ks != NULL))
        abort();
    if (rc) {
        if (!err[0] || (rc != JWT_EJWKS && rc != JWT_EJWK && rc != JWT_ENOMEM))
            abort();
        return 0;
    }
    if (jwt_jwks_count(ks) + jwt_jwks_skipped(ks) > JWT_MAX_KEYS)
        abort();
    jwt_check c = {.algs = JWT_ALGS_ALL, .now = 1718636500};
    jwt_jwks *again = jwt_jwks_ref(ks);
    jwt_jwks_free(ks);
    const char *toks[] = {RS_TOKEN, ES_TOKEN};
    for (int i = 0; i < 2; i++) {
        jwt_err v = jwt_verify(toks[i], strlen(toks[i]), again, &c, NULL);
        if (v == JWT_OK && !jwt_jwks_has(again, i ? "ec1" : "rsa1"))
            abort();
    }
    jwt_jwks_free(again);
    return 0;
}
