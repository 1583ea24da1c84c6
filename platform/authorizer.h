/*
 * API Gateway Lambda authorizers (../shared/specs/apigw-rest-auth-runtimes.md
 * §3.1, §3.4): REST TOKEN and REQUEST authorizers and HTTP API authorizers
 * with payload format 1.0 and 2.0.  Pure functions over a request the
 * caller describes (az_request), plus one result cache per authorizer:
 *
 *   az_identify()   identity sources → 401 without invoking, or go on
 *   az_cache_get()  a cached response for these identity values
 *   az_event()      the event to invoke the authorizer function with
 *   az_parse()      the function's outcome → an az_result
 *   az_cache_put()  keep it for AuthorizerResultTtlInSeconds
 *   az_decide()     the result against this request's method ARN → verdict
 *   az_answer_of()  the verdict → status, exact body, x-amzn-ErrorType
 *   az_write_authorizer()  requestContext.authorizer for the integration
 *
 * Nothing here does I/O or blocks on anything but the cache's mutex: the
 * invocation itself is the caller's (through the platform's pools).
 * Thread safety: an az_authorizer may be used by any number of threads at
 * once (its cache has a mutex); an az_result is immutable and reference
 * counted (atomically).
 */
#ifndef NERD_AUTHORIZER_H
#define NERD_AUTHORIZER_H

#include <stddef.h>

#include "apigw.h"
#include "jsonw.h"

#define AZ_MAX_SOURCES 8
#define AZ_NAME_MAX 128          /* an identity source's name */
#define AZ_IDENTITY_MAX 16384    /* all identity values together, bytes */
#define AZ_ARN_MAX 1600          /* method ARN with authorization (§1.4): 414 beyond */
#define AZ_TTL_DEFAULT (-1)      /* REST: 300 s; HTTP API: 0 (§3.4 leaves it open) */
#define AZ_TTL_MAX 3600
#define AZ_CACHE_DEFAULT 10000   /* cached results per authorizer */
#define AZ_REST_TIMEOUT_MS 29000 /* REST: the integration timeout applies */
#define AZ_HTTP_TIMEOUT_MS 10000 /* HTTP API authorizer response timeout */

typedef enum az_err {
    AZ_OK = 0,
    AZ_ENOMEM,       /* out of memory */
    AZ_ECONFIG,      /* an authorizer configuration API Gateway refuses */
    AZ_ESOURCE,      /* an identity source expression not understood */
    AZ_EREGEX,       /* ValidationExpression does not compile */
    AZ_ETOOBIG,      /* an event over its size cap, or the ARN over AZ_ARN_MAX */
    AZ_EINPUT        /* request text (path, ids...) that is not UTF-8 */
} az_err;

/* A static description of err. */
const char *az_strerror(int err);

typedef enum az_type {
    AZ_REST_TOKEN,   /* REST, FunctionPayloadType TOKEN */
    AZ_REST_REQUEST, /* REST, FunctionPayloadType REQUEST */
    AZ_HTTP_V1,      /* HTTP API, AuthorizerPayloadFormatVersion "1.0" */
    AZ_HTTP_V2       /* HTTP API, "2.0" */
} az_type;

typedef enum az_src_type {
    AZ_SRC_HEADER,   /* method.request.header.N, $request.header.N */
    AZ_SRC_QUERY,    /* method.request.querystring.N, $request.querystring.N */
    AZ_SRC_STAGEVAR, /* stageVariables.N, $stageVariables.N */
    AZ_SRC_CONTEXT   /* context.N, $context.N (the names az_source_parse lists) */
} az_src_type;

typedef struct az_source {
    az_src_type type;
    char name[AZ_NAME_MAX];
} az_source;

typedef struct az_config {
    az_type type;
    az_source sources[AZ_MAX_SOURCES]; /* in order: the HTTP identitySource order */
    size_t n_sources;        /* TOKEN with none: the Authorization header */
    const char *validation;  /* TOKEN ValidationExpression (PCRE2, unanchored
                              * search), NULL: none; copied by az_new */
    int ttl_s;               /* ReauthorizeEvery; AZ_TTL_DEFAULT; 0 = no cache */
    int simple_responses;    /* HTTP_V2 EnableSimpleResponses */
    size_t cache_max;        /* 0: AZ_CACHE_DEFAULT */
    /* contested answers (spec §7), defaults as the spec recommends: */
    int deny_lowercase;      /* REST deny body {"message":…} instead of {"Message":…} */
    int http_deny_401;       /* HTTP deny 401 Unauthorized instead of 403 Forbidden */
} az_config;

/* Parses one identity source expression, REST ("method.request.header.Auth",
 * "method.request.querystring.q", "stageVariables.v", "context.requestId")
 * or HTTP API ("$request.header.Auth", "$request.querystring.q",
 * "$stageVariables.v", "$context.routeKey"), leading and trailing blanks
 * ignored.  Context names: accountId, apiId, domainName, domainPrefix,
 * httpMethod, identity.sourceIp, path, requestId, resourceId, resourcePath,
 * routeKey, stage.  Returns AZ_OK or AZ_ESOURCE. */
int az_source_parse(const char *expr, size_t len, az_source *out);

/* Appends each source of a comma-separated list (as SAM writes
 * identitySource) to c->sources.  AZ_OK, AZ_ESOURCE, or AZ_ECONFIG when
 * more than AZ_MAX_SOURCES. */
int az_sources_parse(const char *list, az_config *c);

typedef struct az_authorizer az_authorizer;

/* Checks c as API Gateway would (TOKEN: one header source; a cache (TTL
 * > 0) needs a source; TTL ≤ 3600; simple responses only with HTTP_V2),
 * compiles its ValidationExpression and makes an empty cache.  AZ_OK and
 * *out, or AZ_ECONFIG / AZ_EREGEX / AZ_ENOMEM.  Free with az_free. */
int az_new(const az_config *c, az_authorizer **out);
void az_free(az_authorizer *a);

/* The TTL in effect (seconds; 0 = no cache) and the type. */
int az_ttl(const az_authorizer *a);
az_type az_type_of(const az_authorizer *a);

/* What the caller knows about one request.  Strings are NUL-terminated
 * and only read during the call; NULL where marked is allowed. */
typedef struct az_request {
    const char *method;          /* "GET" (the request's, never ANY) */
    const char *path;            /* without the stage and query, as received */
    const char *resource;        /* REST: resource template ("/items/{id}");
                                  * HTTP: route path; NULL: path */
    const char *route_key;       /* HTTP: "GET /items/{id}", "$default" */
    const char *raw_query;       /* after '?'; NULL: no query string */
    const apigw_kv *headers;     /* as received: any case, repeats */
    size_t n_headers;
    const apigw_kv *query;       /* decoded pairs in order, repeats */
    size_t n_query;
    const apigw_kv *path_params; /* from the matched route */
    size_t n_path_params;
    const apigw_kv *stage_vars;  /* the stage's Variables */
    size_t n_stage_vars;
    const char *stage;           /* "Prod"; HTTP: "$default" */
    const char *api_id;
    const char *account_id;      /* NULL: 123456789012 */
    const char *region;          /* NULL: us-east-1 */
    const char *request_id;      /* requestContext.requestId */
    const char *extended_request_id; /* REST; NULL: left out */
    const char *resource_id;     /* REST; NULL: null */
    const char *deployment_id;   /* REST; NULL: left out */
    const char *domain_name;     /* NULL: API.execute-api.REGION.amazonaws.com */
    const char *source_ip;
    long long time_ms;           /* epoch milliseconds */
} az_request;

/* The identity source values of one request (the cache key). */
typedef struct az_identity {
    size_t n;                          /* = the authorizer's sources */
    const char *values[AZ_MAX_SOURCES];/* into buf; "" where absent */
    size_t lens[AZ_MAX_SOURCES];
    char *buf;                         /* malloc'd: the values, then the key */
    const char *key;                   /* length-prefixed values, into buf */
    size_t key_len;
} az_identity;

/* How one request fares. */
typedef enum az_verdict {
    AZ_ALLOW = 0,      /* go on (identify: look up or invoke; decide: allowed) */
    AZ_MISSING,        /* an identity source missing or empty: 401, not invoked */
    AZ_INVALID,        /* ValidationExpression mismatch, or identity over
                        * AZ_IDENTITY_MAX: 401, not invoked */
    AZ_UNAUTHORIZED,   /* REST: the function failed with "Unauthorized": 401 */
    AZ_DENY,           /* no matching Allow, isAuthorized false: 403 */
    AZ_DENY_EXPLICIT,  /* a matching Deny: 403 */
    AZ_FAILED,         /* error, timeout, malformed response: 500 */
    AZ_ARN_TOO_LONG    /* method ARN over AZ_ARN_MAX: 414 */
} az_verdict;

/* Reads a's identity sources from r into id (free with az_identity_fini,
 * also after an error) and sets *v: AZ_ALLOW (look up the cache, else
 * invoke), AZ_MISSING or AZ_INVALID (answer at once; a value that is not
 * UTF-8 is invalid).  A REST REQUEST
 * authorizer without a cache does not require its sources (AWS's docs;
 * SAM CLI always does); TOKEN and HTTP API authorizers always do.
 * Returns AZ_OK or AZ_ENOMEM. */
int az_identify(const az_authorizer *a, const az_request *r, az_identity *id, az_verdict *v);
void az_identity_fini(az_identity *id);

/* Writes r's method ARN (REST methodArn, HTTP routeArn),
 * arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/PATH (the request's
 * path without its leading '/'), and a NUL into out[cap].  Returns its
 * length, or -1 when it is longer than AZ_ARN_MAX or cap - 1. */
int az_method_arn(const az_request *r, char *out, size_t cap);

/* The event for a's function: REST TOKEN {type, methodArn,
 * authorizationToken}; REST REQUEST (the 1.0 request without body, empty
 * maps as {}); HTTP 1.0 (the same plus version, identitySource,
 * authorizationToken: the values comma-joined; header names lower-case);
 * HTTP 2.0 (version, type, routeArn, identitySource [...], routeKey,
 * rawPath, rawQueryString, cookies, headers, queryStringParameters,
 * requestContext, pathParameters, stageVariables; absent ones left out).
 * id: from az_identify.  Header, query, path parameter and stage
 * variable pairs that are not UTF-8, or whose name holds a NUL, are left
 * out.  *out: malloc'd JSON (the caller frees it), *len its length.
 * Returns AZ_OK, AZ_ENOMEM, AZ_ETOOBIG (ARN over AZ_ARN_MAX, or the
 * event over LAM_MAX_PAYLOAD) or AZ_EINPUT (method, path, resource, route
 * key, query, stage or ids not UTF-8). */
int az_event(const az_authorizer *a, const az_request *r, const az_identity *id, char **out,
             size_t *len);

typedef struct az_result az_result;

/* How the authorizer's invocation ended. */
typedef enum az_invoke {
    AZ_INVOKE_OK,      /* the function returned payload */
    AZ_INVOKE_ERROR,   /* the function failed: payload is its error JSON */
    AZ_INVOKE_FAILED   /* no result: timeout, throttle, no environment */
} az_invoke;

/* Interprets the invocation's outcome for a: REST {principalId,
 * policyDocument {Statement: object or array of {Effect, Action|NotAction,
 * Resource|NotResource}, strings or arrays}, context (string, number,
 * boolean or null values), usageIdentifierKey}; HTTP simple responses
 * {isAuthorized, context (any JSON)}; HTTP IAM policies as REST (context
 * values any JSON).  Anything else, or a failure other than REST's exact
 * "Unauthorized" errorMessage, gives a result that decides AZ_FAILED.
 * payload need not be NUL-terminated.  Returns AZ_OK with *out (one
 * reference, release with az_result_free), or AZ_ENOMEM. */
int az_parse(const az_authorizer *a, az_invoke how, const char *payload, size_t len,
             az_result **out);

/* Releases one reference; az_result_free(NULL) is a no-op. */
void az_result_free(az_result *r);

/* 1 when r is a valid response (a policy or a simple answer): worth
 * caching; failures and "Unauthorized" are not cached. */
int az_result_cacheable(const az_result *r);

/* Why r decides AZ_FAILED ("" otherwise): a short line for the log. */
const char *az_result_reason(const az_result *r);

/* The principalId (REST and HTTP policies; NULL otherwise) and the
 * usageIdentifierKey (NULL: none) of r, valid while r is held. */
const char *az_result_principal(const az_result *r);
const char *az_result_usage_key(const az_result *r);

/* Decides r for the request whose method ARN is arn (az_method_arn):
 * IAM evaluation with '*' and '?' globs over the whole ARN (explicit Deny
 * wins, then a matching Allow, else deny), Action matched against
 * execute-api:Invoke ignoring case; a simple response by its boolean. */
az_verdict az_decide(const az_result *r, const char *arn);

/* A gateway answer: status, exact body, headers.  Strings are static. */
typedef struct az_answer {
    int status;              /* 0 for AZ_ALLOW */
    const char *body;
    size_t body_len;
    const char *content_type;
    const char *error_type;  /* x-amzn-ErrorType (REST); NULL: not sent */
} az_answer;

/* The answer for v under a (REST §3.1.6 / §1.5, HTTP §3.4). */
void az_answer_of(const az_authorizer *a, az_verdict v, az_answer *out);

/* The integration event's payload format. */
typedef enum az_integration {
    AZ_INT_REST,     /* {"principalId", "integrationLatency", context stringified} */
    AZ_INT_HTTP_V1,  /* the same, context values as returned (a choice: §3.4 ❓) */
    AZ_INT_HTTP_V2   /* {"lambda": context as returned, or null} */
} az_integration;

/* Appends requestContext.authorizer's value for an allowed r to w
 * (the caller writes the "authorizer": key).  latency_ms: the
 * authorizer's invocation time (0 for a cached result). */
void az_write_authorizer(const az_result *r, az_integration fmt, long long latency_ms, jw *w);

/* Cache (only when az_ttl(a) > 0).  now_ms: a monotonic clock
 * (clk_mono_ms), injected for tests.  get: a new reference (release with
 * az_result_free) or NULL when absent or expired.  put: keeps its own
 * reference of r for the TTL; the least recently used entry goes when the
 * cache is full.  Thread safe. */
az_result *az_cache_get(az_authorizer *a, const az_identity *id, double now_ms);
void az_cache_put(az_authorizer *a, const az_identity *id, az_result *r, double now_ms);

/* Entries held now (tests, metrics). */
size_t az_cache_size(az_authorizer *a);

#endif
