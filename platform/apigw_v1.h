/*
 * API Gateway REST API semantics, and payload format 1.0 (REST, and HTTP
 * APIs with PayloadFormatVersion 1.0), as pure functions for the local
 * gateway: route resolution over a REST API's resource tree with its
 * fallbacks, the 1.0 event built from an HTTP request, and the mapping of
 * a Lambda result back to an HTTP response (../shared/specs/
 * apigw-rest-auth-runtimes.md §1.3, §1.6-§1.8).  No I/O, no global state:
 * thread safe.
 */
#ifndef NERD_APIGW_V1_H
#define NERD_APIGW_V1_H

#include <stddef.h>

#include "apigw.h"
#include "jsonw.h"
#include "template.h"

/* Resolves method and path (without the stage and the query) on REST API
 * `api`'s resource tree as API Gateway does: at each level the literal
 * part, then the {param} sibling, then the greedy {name+} one, backing out
 * of a branch whose resource lacks the method; a resource serves the
 * request when it has the method or ANY (OPTIONS: first the CORS preflight
 * SAM adds to each path with methods when the API has Cors).  {proxy+}
 * never matches "/"; a trailing slash is ignored.  Returns 0 and fills m
 * (route; route -1 for the CORS preflight; resource; path parameters
 * percent-encoded as received), or -1 when nothing serves it (403 Missing
 * Authentication Token). */
int apigw_rest_route(const sam_template *t, int api, const char *method, const char *path,
                     apigw_match *m);

/* 1 when media type `type` (parameters after ';' ignored, any case) is
 * matched by the binaryMediaTypes entry `pattern`: an exact type
 * ("image/png"), a type with any subtype ("image/" and a star), or any
 * type (star, slash, star). */
int apigw_media_match(const char *pattern, const char *type, size_t type_len);

/* What a 1.0 event needs beyond the request. */
typedef struct apigw_v1_request {
    const apigw_request *r;     /* the request: method, target, headers, body, ids, time */
    const apigw_match *m;       /* its route (m->route >= 0) */
    int http_api;               /* an HTTP API's 1.0 event (else REST) */
    const char *stage;          /* requestContext.stage */
    const char *path;           /* "path": the request path without the stage */
    size_t path_len;
    const char *context_path;   /* requestContext.path (REST: "/Prod/items/1") */
    size_t context_path_len;
    const char *extended_id;    /* requestContext.extendedRequestId */
    const char *trace_id;       /* X-Amzn-Trace-Id added to the headers (when the
                                 * request has none), NULL = none */
    const char *port;           /* X-Forwarded-Port */
    const char *authorizer;     /* requestContext.authorizer, a JSON object (an
                                 * authorizer's output); NULL = absent (REST), or
                                 * {"claims":null,"scopes":null} (HTTP) */
    const char *api_key;        /* identity.apiKey and apiKeyId, NULL = absent */
    const char *api_key_id;
} apigw_v1_request;

/* The requestContext of a payload 1.0 event, and of the REST REQUEST and
 * HTTP API 1.0 authorizer events (az_event.c), in the captured order. */
typedef struct apigw_v1_context {
    const char *resource_id;    /* NULL: null */
    const char *resource_path;
    const char *method;
    const char *extended_id;    /* extendedRequestId, NULL: left out */
    long long time_ms;          /* requestTime and requestTimeEpoch */
    const char *stage_prefix;   /* "path" is "/" stage_prefix path; NULL: path alone */
    const char *path;           /* (not NUL-terminated) */
    size_t path_len;
    const char *account_id;
    const char *stage;
    const char *domain_name;    /* domainPrefix is its first label */
    const char *request_id;
    const char *source_ip;
    const char *user_agent;     /* identity.userAgent (not NUL-terminated), NULL: null */
    size_t user_agent_len;
    const char *api_key;        /* identity.apiKey and apiKeyId (NULL: null), NULL: left out */
    const char *api_key_id;
    const char *authorizer;     /* a JSON object, NULL: left out */
    const char *deployment_id;  /* NULL: left out */
    const char *api_id;
} apigw_v1_context;

/* Appends c as a JSON object to w. */
void apigw_v1_write_context(jw *w, const apigw_v1_context *c);

/* REST API api's requestContext.deploymentId: 6 characters, stable. */
void apigw_v1_deployment_id(const sam_api *api, char out[7]);

/* Builds the payload format 1.0 event of q for template t: REST (header
 * names as received, stage variables, resource ids, binaryMediaTypes
 * deciding base64) or HTTP API 1.0 (version "1.0", lower-case header
 * names, resourceId null, the text-type heuristic).  Returns malloc'd JSON
 * (length in *len) or NULL when memory ran out. */
char *apigw_v1_event(const sam_template *t, const apigw_v1_request *q, size_t *len);

/* How a 1.0 result is mapped. */
typedef struct apigw_v1_options {
    int http_api;               /* HTTP API: unknown keys ignored, statusCode required,
                                 * isBase64Encoded bodies always decoded */
    const sam_api *api;         /* REST: binaryMediaTypes */
    const char *accept;         /* REST: the request's Accept header, NULL = none */
    size_t accept_len;
    int missing_status;         /* REST: the status when statusCode is absent (SAM CLI
                                 * answers 200; AWS unverified: docs/platform.md) */
} apigw_v1_options;

enum {
    APIGW_V1_OK = 0,
    APIGW_V1_MALFORMED = 1,     /* REST 502, HTTP 500 */
    APIGW_V1_BAD_BASE64 = 2     /* isBase64Encoded with a body that is not base64: 500 */
};

/* Maps a Lambda result of payload format 1.0: a JSON object with
 * statusCode, headers and multiValueHeaders (merged; a pair in both comes
 * out once), body (a string or null) and isBase64Encoded (REST also takes
 * SAM's base64Encoded and "true"/"false"); REST refuses unknown keys.  A
 * base64 body is decoded when the first type of the request's Accept
 * header matches the API's binaryMediaTypes (HTTP: always).  Without a
 * Content-Type header the response gets application/json.  Returns
 * APIGW_V1_OK with *out filled (free with apigw_response_fini), another
 * APIGW_V1_ value with *out empty, or -1 when memory ran out. */
int apigw_v1_map_result(const char *payload, size_t len, const apigw_v1_options *o,
                        apigw_response *out);

#endif
