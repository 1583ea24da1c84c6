/*
 * The answers API Gateway gives by itself (not the function's), one table
 * per kind of API: REST (../shared/specs/apigw-rest-auth-runtimes.md §1.5,
 * §3.1.6) and HTTP API (lambda-contract.md §3.4, §3.4-§3.5 of the REST
 * spec).  A front or an admission stage names the situation; the table
 * gives the status, the body byte for byte, x-amzn-ErrorType and the
 * content type: one place to change an answer (a stand-in for
 * GatewayResponses).  REST answers also carry x-amzn-RequestId,
 * x-amz-apigw-id and X-Amzn-Trace-Id, from the request's gw_ids.
 */
#ifndef NERD_ANSWER_H
#define NERD_ANSWER_H

#include "front.h"

typedef enum gw_answer {
    GW_ANS_NO_ROUTE,            /* REST 403 Missing Authentication Token; HTTP 404 */
    GW_ANS_UNKNOWN_STAGE,       /* REST 403 Forbidden */
    GW_ANS_INVALID_API_KEY,     /* missing, unknown or disabled key: 403 Forbidden */
    GW_ANS_THROTTLED,           /* usage plan, stage, method or route: 429 */
    GW_ANS_QUOTA_EXCEEDED,      /* usage plan quota: 429 Limit Exceeded */
    GW_ANS_UNAUTHORIZED,        /* identity missing, token refused: 401 */
    GW_ANS_ACCESS_DENIED,       /* authorizer: no Allow matches */
    GW_ANS_EXPLICIT_DENY,       /* authorizer: a Deny matches */
    GW_ANS_AUTHORIZER_FAILURE,  /* authorizer error, timeout, bad output: 500 */
    GW_ANS_EXPIRED_TOKEN,       /* Cognito: the token has expired: 401 */
    GW_ANS_IAM_UNSIGNED,        /* AWS_IAM method without a SigV4 signature */
    GW_ANS_ARN_TOO_LONG,        /* authorizer: method ARN over 1,600 bytes: 414 */
    GW_ANS_INTEGRATION_FAILURE, /* function error, malformed result: REST 502, HTTP 500 */
    GW_ANS_LAMBDA_REJECTED,     /* Lambda refused the invoke (throttle): REST 500, HTTP 429 */
    GW_ANS_INTEGRATION_TIMEOUT, /* REST 504 after 29 s, HTTP 503 after 30 s */
    GW_ANS_PAYLOAD_TOO_LARGE,   /* the event over Lambda's 6 MB: 413 */
    GW_ANS_BODY_TOO_LARGE,      /* the request body over 10 MB: 413 */
    GW_ANS_CONVERSION_FAILURE,  /* a base64 body that does not decode: 500 */
    GW_ANS_COUNT
} gw_answer;

typedef struct gw_answer_def {
    int status;
    const char *body;           /* byte for byte */
    const char *error_type;     /* x-amzn-ErrorType, NULL = none */
    const char *content_type;   /* NULL = application/json */
} gw_answer_def;

typedef struct gw_dialect {
    const char *name;           /* "REST", "HTTP" */
    gw_answer_def answers[GW_ANS_COUNT];
} gw_dialect;

extern const gw_dialect gw_rest_dialect, gw_http_dialect;

/* A REST request's identifiers: requestContext.requestId (a UUID, also
 * x-amzn-RequestId), extendedRequestId (also x-amz-apigw-id) and the
 * X-Amzn-Trace-Id it is given. */
typedef struct gw_ids {
    char request_id[37];
    char extended_id[24];
    char trace_id[48];          /* "Root=1-<8 hex epoch seconds>-<24 hex>" */
} gw_ids;

/* Fresh ids for r (its apigw id becomes the extended id). */
void gw_ids_new(gw_ids *ids, const gw_req *r);

/* Adds the REST headers of ids to out (copied); 0, or -1 out of memory. */
int gw_ids_headers(const gw_ids *ids, apigw_response *out);

/* Answers r with d's answer `which` and frees r.  ids: a REST request's
 * (its headers are added and apigw-requestid is left out), NULL for an
 * HTTP API.  On r's worker. */
void gw_answer_reply(gw_req *r, const gw_dialect *d, gw_answer which, const gw_ids *ids);

/* The same with one more header, name: value (both copied; name NULL:
 * none), such as a JWT authorizer's www-authenticate. */
void gw_answer_reply_h(gw_req *r, const gw_dialect *d, gw_answer which, const gw_ids *ids,
                       const char *name, const char *value);

#endif
