/*
 * `nerd local jwt`: test tokens for JWT-protected templates without an
 * identity provider (platform/jwt.h does the work).  It makes a signing
 * key (--new-key), prints a key's public JWKS (--jwks) for the template's
 * authorizer to read, mints a signed token with given claims (--claims;
 * iat and exp filled in), and verifies a token as an authorizer would
 * (--verify), printing the claims the function would receive.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "jwt.h"

#define MAX_LIST 32
#define CLAIMS_CAP (64u * 1024)

static void usage(FILE *f)
{
    fputs("usage: nerd local jwt --new-key FILE [--type rsa|p256|p384] [--bits N]\n"
          "       nerd local jwt --key FILE --jwks [--kid ID]\n"
          "       nerd local jwt --key FILE --claims JSON|@FILE [--kid ID] [--ttl S] [--alg ALG]\n"
          "       nerd local jwt --verify TOKEN|- [--keys FILE|URL] [--issuer ISS]\n"
          "                      [--audience AUD ...] [--scope S ...] [--cognito] [--algs LIST]\n"
          "\n"
          "--new-key FILE: writes a new private key (PEM, mode 0600; never overwrites):\n"
          "  RSA 2048 bits by default (what API Gateway's JWT authorizers verify), or\n"
          "  EC P-256/P-384.  It can be combined with --jwks or --claims.  (openssl\n"
          "  genpkey -algorithm RSA -out key.pem makes a key as well.)\n"
          "--jwks: prints the key's public JWKS ({\"keys\":[...]}), for the authorizer's\n"
          "  key file or a loopback URL serving it; its \"alg\" is the key's default\n"
          "  algorithm, or --alg (a verifier accepts only that one with the key).\n"
          "--claims JSON: prints a token signed with the key: RS256 for RSA keys, ES256\n"
          "  or ES384 for EC keys (--alg: RS384, RS512, PS256..PS512).  \"iat\" is now\n"
          "  and \"exp\" is iat + --ttl (default 3600) unless the claims give them.\n"
          "--kid ID: the key id (default: the key's RFC 7638 thumbprint, so --jwks and\n"
          "  tokens agree without it).\n"
          "--verify TOKEN: checks a token (\"Bearer \" optional; - reads it from stdin)\n"
          "  as an HTTP API JWT authorizer does, or with --cognito as a REST Cognito\n"
          "  authorizer does, against the JWKS of --keys (a file or a loopback\n"
          "  http:// URL; without it, the discovery document of a loopback --issuer).\n"
          "  Prints {\"claims\":...,\"scopes\":...} as the function would receive them and\n"
          "  exits 0, or prints the status and reason and exits 1.  --algs RS256,ES256\n"
          "  widens the accepted algorithms (default RS256,RS384,RS512, as AWS).\n", f);
}

/* The text of arg, or of the file after '@', or of stdin for "-". */
static char *text_of(const char *arg)
{
    if (arg[0] == '@' || !strcmp(arg, "-"))
        return cli_read_file(arg[0] == '@' ? arg + 1 : arg, CLAIMS_CAP, NULL);
    return strdup(arg);
}

static int print_jwks(const EVP_PKEY *key, const char *kid, unsigned alg)
{
    json_t *jwk = jwt_key_jwk(key, kid, alg), *set = jwk ? json_pack("{s:[o]}", "keys", jwk) : NULL;
    char *s = set ? json_dumps(set, JSON_INDENT(2)) : NULL;
    json_decref(set);
    if (!s) {
        fprintf(stderr, "nerd local jwt: cannot export the key%s\n",
                alg ? " (does --alg fit it?)" : "");
        return 1;
    }
    puts(s);
    free(s);
    return 0;
}

static int mint(const EVP_PKEY *key, const char *kid, const char *claims_arg, long long ttl,
                unsigned alg)
{
    char *text = text_of(claims_arg);
    json_error_t je;
    json_t *c = text ? json_loads(text, JSON_REJECT_DUPLICATES, &je) : NULL;
    free(text);
    if (!json_is_object(c)) {
        fprintf(stderr, "nerd local jwt: --claims: %s\n",
                !text ? "cannot read it" : c ? "not a JSON object" : je.text);
        json_decref(c);
        return 2;
    }
    json_int_t now = (json_int_t)time(NULL);
    if (!json_object_get(c, "iat"))
        json_object_set_new(c, "iat", json_integer(now));
    if (!json_object_get(c, "exp")) {
        json_t *iat = json_object_get(c, "iat");
        double base = json_is_number(iat) ? json_number_value(iat) : (double)now;
        json_object_set_new(c, "exp", json_integer((json_int_t)base + ttl));
    }
    char *tok = NULL;
    jwt_err rc = jwt_sign(key, alg, kid, c, &tok);
    json_decref(c);
    if (rc) {
        fprintf(stderr, "nerd local jwt: cannot sign: %s\n",
                rc == JWT_EKEYALG ? "--alg does not fit the key" : jwt_strerror(rc));
        return 1;
    }
    unsigned a = alg ? alg : jwt_key_alg(key);
    if (!(a & JWT_ALGS_DEFAULT))
        fprintf(stderr, "nerd local jwt: note: API Gateway's HTTP API JWT and Cognito authorizers "
                "verify RS256/RS384/RS512 only; this %s token needs --algs on the verifier\n",
                jwt_alg_name(a));
    puts(tok);
    free(tok);
    return 0;
}

static int verify(const char *tok_arg, const char *keys_src, const char *issuer,
                  const char **aud, size_t naud, const char **scopes, size_t nscopes,
                  int cognito, unsigned algs, long long leeway)
{
    char *text = text_of(tok_arg), err[512];
    if (!text) {
        fprintf(stderr, "nerd local jwt: --verify: cannot read the token\n");
        return 2;
    }
    jwt_keys_opts o = {0};
    if (!keys_src) {
        o.issuer = 1;
        keys_src = issuer;
    }
    jwt_keys *k = NULL;
    jwt *t = NULL;
    int status = 2;
    if (!keys_src) {
        fprintf(stderr, "nerd local jwt: --verify needs --keys (or a loopback --issuer)\n");
        goto out;
    }
    if (jwt_keys_new(keys_src, &o, &k, err, sizeof err) || jwt_keys_load(k, err, sizeof err)) {
        fprintf(stderr, "nerd local jwt: keys: %s\n", err);
        goto out;
    }
    jwt_check c = {.issuer = issuer, .audiences = aud, .n_audiences = naud,
                   .client_id = !cognito, .scopes = scopes, .n_scopes = nscopes,
                   .cognito = cognito, .algs = algs, .leeway = leeway};
    size_t tl;
    const char *tok = jwt_bearer(text, strlen(text), &tl);
    jwt_err rc = jwt_keys_verify(k, tok, tl, &c, &t);
    status = 1;
    if (rc) {
        printf("%d %s\n", jwt_http_status(rc), jwt_strerror(rc));
        goto out;
    }
    json_t *claims = cognito ? jwt_claims_cognito(t) : jwt_claims_http(t);
    json_t *res = claims ? json_pack("{s:o,s:o}", "claims", claims, "scopes", jwt_scopes(t)) : NULL;
    char *s = res ? json_dumps(res, JSON_INDENT(2)) : NULL;
    json_decref(res);
    if (s) {
        puts(s);
        status = 0;
    }
    free(s);
out:
    jwt_free(t);
    jwt_keys_free(k);
    free(text);
    return status;
}

int cmd_local_jwt(int argc, char **argv)
{
    const char *new_key = NULL, *key_path = NULL, *type = "rsa", *kid = NULL, *claims = NULL;
    const char *tok = NULL, *keys_src = NULL, *issuer = NULL, *aud[MAX_LIST], *scopes[MAX_LIST];
    size_t naud = 0, nscopes = 0;
    int bits = 0, jwks = 0, cognito = 0;
    long long ttl = 3600, leeway = 0;
    unsigned alg = 0, algs = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--jwks")) {
            jwks = 1, takes = 0;
        } else if (!strcmp(a, "--cognito")) {
            cognito = 1, takes = 0;
        } else if (!v) {
            fprintf(stderr, "nerd local jwt: %s needs a value\n", a);
            return 2;
        } else if (!strcmp(a, "--new-key")) {
            new_key = v;
        } else if (!strcmp(a, "--key")) {
            key_path = v;
        } else if (!strcmp(a, "--type")) {
            type = v;
        } else if (!strcmp(a, "--bits")) {
            bits = atoi(v);
        } else if (!strcmp(a, "--kid")) {
            kid = v;
        } else if (!strcmp(a, "--claims")) {
            claims = v;
        } else if (!strcmp(a, "--ttl")) {
            ttl = atoll(v);
        } else if (!strcmp(a, "--leeway")) {
            leeway = atoll(v);
        } else if (!strcmp(a, "--alg")) {
            if (!(alg = jwt_alg_from_name(v))) {
                fprintf(stderr, "nerd local jwt: --alg %s: not one of RS256..RS512, PS256..PS512, "
                        "ES256, ES384\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--algs")) {
            if (!(algs = jwt_algs_parse(v))) {
                fprintf(stderr, "nerd local jwt: --algs %s: a comma-separated list of RS256.., "
                        "PS256.., ES256, ES384\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--verify")) {
            tok = v;
        } else if (!strcmp(a, "--keys")) {
            keys_src = v;
        } else if (!strcmp(a, "--issuer")) {
            issuer = v;
        } else if (!strcmp(a, "--audience") && naud < MAX_LIST) {
            aud[naud++] = v;
        } else if (!strcmp(a, "--scope") && nscopes < MAX_LIST) {
            scopes[nscopes++] = v;
        } else {
            fprintf(stderr, "nerd local jwt: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        i += takes;
    }
    if (tok)
        return verify(tok, keys_src, issuer, aud, naud, scopes, nscopes, cognito, algs, leeway);
    if (!new_key && !key_path) {
        usage(stderr);
        return 2;
    }
    EVP_PKEY *key = NULL;
    char err[512], *thumb = NULL;
    int status = 1;
    jwt_err rc;
    if (new_key) {
        if ((rc = jwt_key_generate(type, bits, &key))) {
            fprintf(stderr, "nerd local jwt: --type %s --bits %d: %s\n", type, bits,
                    rc == JWT_EKEY ? "want rsa (2048..8192 bits), p256 or p384" : jwt_strerror(rc));
            return 2;
        }
        if (jwt_key_write(key, new_key, err, sizeof err)) {
            fprintf(stderr, "nerd local jwt: %s\n", err);
            goto out;
        }
        fprintf(stderr, "nerd local jwt: wrote a new %s key to %s\n", type, new_key);
    } else if (jwt_key_read(key_path, &key, err, sizeof err)) {
        fprintf(stderr, "nerd local jwt: %s\n", err);
        goto out;
    }
    if (!kid && !(kid = thumb = jwt_key_thumbprint(key))) {
        fprintf(stderr, "nerd local jwt: cannot compute the key id\n");
        goto out;
    }
    status = 0;
    if (jwks)
        status = print_jwks(key, kid, alg);
    if (!status && claims)
        status = mint(key, kid, claims, ttl, alg);
out:
    free(thumb);
    EVP_PKEY_free(key);
    return status;
}
