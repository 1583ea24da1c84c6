/* The authorizers' start-up (platform/authz_setup.c, gw_authz_new): each
 * template authorizer becomes an az_authorizer with SAM's identity sources,
 * JWT and Cognito authorizers get the key sets --jwks names (by authorizer
 * name, issuer, user pool ARN or its issuer, or the default), read at once
 * and shared between authorizers with one source; the refusals
 * (unreadable JWKS, a --jwks naming no authorizer, two defaults, an
 * identity source API Gateway does not know, a user pool ARN that is not
 * one) name what is wrong, and warnings go to the log.  A key is made here
 * with libcrypto and its JWKS written to a temporary file. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authz.h"
#include "check.h"

static char dir[] = "/tmp/nerd-authz-XXXXXX";
static char jwks_path[256], bad_path[256];

#define TEMPLATE \
    "Resources:\n" \
    "  Fn:\n" \
    "    Type: AWS::Serverless::Function\n" \
    "    Properties:\n" \
    "      Runtime: provided.al2023\n" \
    "      CodeUri: /nonexistent\n" \
    "      Events:\n" \
    "        A: {Type: Api, Properties: {RestApiId: !Ref Rest, Path: /a, Method: get}}\n" \
    "        B: {Type: HttpApi, Properties: {ApiId: !Ref Http, Path: /b, Method: get}}\n" \
    "  Rest:\n" \
    "    Type: AWS::Serverless::Api\n" \
    "    Properties:\n" \
    "      StageName: prod\n" \
    "      Auth:\n" \
    "        DefaultAuthorizer: Tok\n" \
    "        Authorizers:\n" \
    "          Tok: {FunctionArn: !GetAtt Fn.Arn, Identity: {ValidationExpression: '^Bearer .+$'}}\n" \
    "          Req:\n" \
    "            FunctionArn: !GetAtt Fn.Arn\n" \
    "            FunctionPayloadType: REQUEST\n" \
    "            Identity: {Headers: [X-A], QueryStrings: [q], StageVariables: [v], Context: [%s]}\n" \
    "          Cog:\n" \
    "            UserPoolArn: [arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_one,\n" \
    "                          %s]\n" \
    "  Http:\n" \
    "    Type: AWS::Serverless::HttpApi\n" \
    "    Properties:\n" \
    "      Auth:\n" \
    "        DefaultAuthorizer: Jwt\n" \
    "        Authorizers:\n" \
    "          Jwt:\n" \
    "            IdentitySource: $request.header.Authorization\n" \
    "            JwtConfiguration: {issuer: https://issuer.example.com, audience: [app]}\n" \
    "          Jwt2:\n" \
    "            IdentitySource: $request.querystring.token\n" \
    "            JwtConfiguration: {issuer: https://issuer.example.com}\n" \
    "          Lam:\n" \
    "            FunctionArn: !GetAtt Fn.Arn\n" \
    "            AuthorizerPayloadFormatVersion: '2.0'\n" \
    "            Identity: {Headers: [Authorization], Context: [routeKey], ReauthorizeEvery: 60}\n"

#define POOL2 "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_two"

static sam_template *load(const char *context, const char *pool2)
{
    char *yaml, err[512];
    sam_template *t = NULL;
    if (asprintf(&yaml, TEMPLATE, context, pool2) < 0)
        return NULL;
    if (sam_load_mem("authz.yaml", yaml, strlen(yaml), NULL, 0, &t, err, sizeof err))
        fprintf(stderr, "template: %s\n", err);
    free(yaml);
    return t;
}

static int find(const sam_template *t, const char *name)
{
    for (size_t i = 0; i < t->n_authorizers; i++)
        if (!strcmp(t->authorizers[i].name, name))
            return (int)i;
    return -1;
}

/* gw_authz_new with args; the log's text into log (cap bytes). */
static int setup(const sam_template *t, const char *const *args, size_t n, gw_authz **z,
                 char *err, size_t errlen, char *log, size_t cap)
{
    FILE *f = tmpfile();
    int rc = gw_authz_new(t, args, n, f, z, err, errlen);
    rewind(f);
    size_t got = fread(log, 1, cap - 1, f);
    log[got] = 0;
    fclose(f);
    return rc;
}

static void write_jwks(void)
{
    EVP_PKEY *k = NULL;
    CHECK(jwt_key_generate("rsa", 0, &k) == JWT_OK, "a key");
    char *kid = jwt_key_thumbprint(k);
    json_t *jwk = jwt_key_jwk(k, kid, 0), *set = json_pack("{s:[o]}", "keys", jwk);
    CHECK(set && !json_dump_file(set, jwks_path, 0), "JWKS written");
    json_decref(set);
    free(kid);
    EVP_PKEY_free(k);
    FILE *f = fopen(bad_path, "w");
    fputs("{\"keys\": 5}", f);
    fclose(f);
}

int main(void)
{
    char err[1024], log[4096];
    gw_authz *z = NULL;
    if (!mkdtemp(dir))
        return 1;
    snprintf(jwks_path, sizeof jwks_path, "%s/jwks.json", dir);
    snprintf(bad_path, sizeof bad_path, "%s/bad.json", dir);
    write_jwks();
    sam_template *t = load("identity.sourceIp", POOL2);
    CHECK(t != NULL, "template loads");
    if (!t)
        return check_done("test_authz_setup");

    /* one default source: every JWT and Cognito issuer shares one set */
    const char *def[] = {jwks_path};
    CHECK(setup(t, def, 1, &z, err, sizeof err, log, sizeof log) == 0, "default --jwks: %s", err);
    CHECK(z && z->n == t->n_authorizers, "every authorizer built");
    CHECK(z && z->n_sets == 1, "one key set shared: %zu", z ? z->n_sets : 0);
    int ji = find(t, "Jwt"), cog = find(t, "Cog"), req = find(t, "Req"), lam = find(t, "Lam");
    if (z) {
        CHECK(z->one[ji].n_iss == 1 && z->one[ji].iss[0].keys == z->sets[0] &&
              !strcmp(z->one[ji].iss[0].issuer, "https://issuer.example.com") &&
              z->one[ji].n_aud == 1 && !strcmp(z->one[ji].aud[0], "app"), "JWT authorizer");
        CHECK(z->one[cog].n_iss == 2 &&
              !strcmp(z->one[cog].iss[0].issuer,
                      "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_one") &&
              !strcmp(z->one[cog].iss[1].issuer,
                      "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_two") &&
              z->one[cog].iss[1].keys == z->sets[0] && z->one[cog].n_aud == 0, "Cognito pools");
        CHECK(az_type_of(z->one[req].az) == AZ_REST_REQUEST && az_ttl(z->one[req].az) == 300,
              "REQUEST authorizer, the default cache");
        CHECK(az_type_of(z->one[lam].az) == AZ_HTTP_V2 && az_ttl(z->one[lam].az) == 60,
              "HTTP API Lambda authorizer");
        CHECK(az_ttl(z->one[ji].az) == 0 && az_ttl(z->one[cog].az) == 0,
              "JWT and Cognito: no result cache");
        CHECK(log[0] == 0, "no warning: %s", log);
    }
    gw_authz_free(z);

    /* by name, issuer, pool ARN; an issuer without keys is a warning */
    char a1[600], a2[600], a3[600];
    snprintf(a1, sizeof a1, "Jwt=%s", jwks_path);
    snprintf(a2, sizeof a2, "%s=%s", POOL2, jwks_path);
    snprintf(a3, sizeof a3, "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_one=%s",
             jwks_path);
    const char *by[] = {a1, a2, a3};
    CHECK(setup(t, by, 3, &z, err, sizeof err, log, sizeof log) == 0, "keyed --jwks: %s", err);
    if (z) {
        CHECK(z->n_sets == 1 && z->one[ji].iss[0].keys && z->one[cog].iss[0].keys &&
              z->one[cog].iss[1].keys, "each found its keys");
        CHECK(!z->one[find(t, "Jwt2")].iss[0].keys, "Jwt2 has none");
        CHECK(strstr(log, "authorizer Jwt2: no keys for issuer https://issuer.example.com "
                          "(give them with --jwks Jwt2=FILE|URL"), "warning: %s", log);
    }
    gw_authz_free(z);
    z = NULL;

    /* refusals */
    struct {
        const char *arg, *want;
    } bad[] = {
        {"Jwt=/nonexistent/jwks.json", "authorizer Jwt: JWKS /nonexistent/jwks.json: "},
        {"nobody=x.json", "--jwks nobody=...: no JWT or Cognito authorizer"},
        {"=x.json", "expected KEY=FILE|URL"},
        {"Jwt=", "expected KEY=FILE|URL"},
        {"Jwt=ftp://127.0.0.1/jwks.json", "authorizer Jwt: JWKS ftp://"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *one[] = {bad[i].arg};
        err[0] = 0;
        CHECK(setup(t, one, 1, &z, err, sizeof err, log, sizeof log) == -1 && !z &&
              strstr(err, bad[i].want), "--jwks %s: '%s'", bad[i].arg, err);
    }
    char b1[600];
    snprintf(b1, sizeof b1, "Jwt=%s", bad_path);
    const char *badset[] = {b1};
    CHECK(setup(t, badset, 1, &z, err, sizeof err, log, sizeof log) == -1 &&
              strstr(err, "authorizer Jwt: JWKS ") && strstr(err, bad_path),
          "a JWKS that does not parse: %s", err);
    const char *two[] = {jwks_path, jwks_path};
    CHECK(setup(t, two, 2, &z, err, sizeof err, log, sizeof log) == -1 &&
              strstr(err, "more than one source without KEY="), "two defaults: %s", err);
    free(t);

    t = load("sourceIp", POOL2); /* $context.sourceIp is no context variable */
    CHECK(t && setup(t, NULL, 0, &z, err, sizeof err, log, sizeof log) == -1 &&
              strstr(err, "authorizer Req: identity source context.sourceIp"), "context: %s", err);
    free(t);
    t = load("identity.sourceIp", "arn:aws:iam::123456789012:role/x");
    CHECK(t && setup(t, NULL, 0, &z, err, sizeof err, log, sizeof log) == -1 &&
              strstr(err, "authorizer Cog: UserPoolArn arn:aws:iam"), "pool ARN: %s", err);
    free(t);

    unlink(jwks_path);
    unlink(bad_path);
    rmdir(dir);
    return check_done("test_authz_setup");
}
