/*
 * API Gateway HTTP API semantics, as pure functions for the local gateway:
 * route selection (literal, {param}, {proxy+}, ANY, $default), the payload
 * format 2.0 event built from an HTTP request, the mapping of a Lambda
 * result back to an HTTP response (structured or inferred), and query
 * string look-ups for the gateway's own endpoints.  No I/O, no
 * global state: thread safe.
 */
#ifndef NERD_APIGW_H
#define NERD_APIGW_H

#include <stddef.h>

#include "template.h"

#define APIGW_MAX_PARAMS 16
#define APIGW_MAX_HEADERS 64

typedef struct apigw_kv {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} apigw_kv;

typedef struct apigw_match {
    int route;                   /* index into t->routes, -1 = none */
    int resource;                /* REST: the resource matched, else -1 (REST route -1
                                  * with a resource: the CORS preflight SAM adds) */
    size_t n_params;
    char names[APIGW_MAX_PARAMS][64];
    char values[APIGW_MAX_PARAMS][512];
} apigw_match;

/* Picks the route of API `api` for method and path (no query string):
 * most literal segments first, then {param}, then greedy {proxy+}; an exact
 * method before ANY; $default last.  Returns 0 and fills m, or -1 when no
 * route matches (answer 404 {"message":"Not Found"}). */
int apigw_route(const sam_template *t, int api, const char *method, const char *path,
                apigw_match *m);

/* Copies src's route, resource and parameters into dst (only the
 * parameters in use). */
void apigw_match_copy(apigw_match *dst, const apigw_match *src);

/* What the gateway knows about one request. */
typedef struct apigw_request {
    const char *method;
    const char *target;          /* path?query as received */
    size_t target_len;
    const apigw_kv *headers;     /* as received (any case, duplicates) */
    size_t n_headers;
    const char *body;            /* NULL: no body */
    size_t body_len;
    const char *source_ip;
    const char *request_id;      /* also sent back as apigw-requestid */
    const char *api_id;          /* e.g. the API's logical id, lower-cased */
    long long time_ms;           /* epoch milliseconds */
    const char *authorizer;      /* requestContext.authorizer, a JSON object (from the
                                  * admission's authorizer stage), NULL = none */
} apigw_request;

/* Builds the payload format 2.0 event.  Returns malloc'd JSON (length in
 * *len) or NULL on out of memory. */
char *apigw_event(const sam_template *t, const apigw_match *m, const apigw_request *r,
                  size_t *len);

typedef struct apigw_response {
    int status;
    size_t n_headers;
    char *headers[APIGW_MAX_HEADERS][2];  /* name, value (malloc'd) */
    char *body;                           /* malloc'd, decoded */
    size_t body_len;
} apigw_response;

/* Maps a Lambda result (payload format 2.0).  Structured results (an
 * object with statusCode) give their status, headers, cookies (one
 * set-cookie each) and body (base64-decoded when isBase64Encoded); any
 * other valid JSON gives 200 application/json with the JSON as body (a
 * JSON string: its value).  Invalid results give 500 {"message":"Internal
 * Server Error"}.  Returns 0, or -1 on out of memory. */
int apigw_map_result(const char *payload, size_t len, apigw_response *out);
void apigw_response_fini(apigw_response *r);

/* Appends header name: value (both copied) to r; 0, or -1 when memory ran
 * out (a header past APIGW_MAX_HEADERS is dropped). */
int apigw_response_add(apigw_response *r, const char *name, const char *value);

/* Base64 (RFC 4648) encode/decode; results malloc'd, NUL-terminated.
 * Decoding returns NULL on invalid input. */
char *apigw_b64_encode(const unsigned char *in, size_t n, size_t *out_len);
unsigned char *apigw_b64_decode(const char *in, size_t n, size_t *out_len);

/* Finds key in the query string q[0..n) ("a=1&b=2", after the '?'; q may
 * be NULL): copies its first value, percent-decoded, into out (cap bytes,
 * NUL-terminated) and returns its length; -1 when key is absent, -2 when
 * the value does not fit (or memory ran out). */
long apigw_query_param(const char *q, size_t n, const char *key, char *out, size_t cap);

#endif
