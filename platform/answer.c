/*
 * The gateway's own answers (see answer.h): the REST and HTTP API tables,
 * REST's request ids and headers.
 */
#define _DEFAULT_SOURCE
#include "answer.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"

#define ISE "InternalServerErrorException"

/* REST: the spec's §1.5 table.  Note the space after the colon in the
 * integration's answers, the capital M of the authorizer denials and the
 * null of an authorizer failure: each as AWS sends it. */
const gw_dialect gw_rest_dialect = {"REST", {
    [GW_ANS_NO_ROUTE] = {403, "{\"message\":\"Missing Authentication Token\"}",
                         "MissingAuthenticationTokenException", NULL},
    [GW_ANS_UNKNOWN_STAGE] = {403, "{\"message\":\"Forbidden\"}", "ForbiddenException", NULL},
    [GW_ANS_INVALID_API_KEY] = {403, "{\"message\":\"Forbidden\"}", "ForbiddenException", NULL},
    [GW_ANS_THROTTLED] = {429, "{\"message\":\"Too Many Requests\"}", "TooManyRequestsException",
                          NULL},
    [GW_ANS_QUOTA_EXCEEDED] = {429, "{\"message\":\"Limit Exceeded\"}", "LimitExceededException",
                               NULL},
    [GW_ANS_UNAUTHORIZED] = {401, "{\"message\":\"Unauthorized\"}", "UnauthorizedException", NULL},
    [GW_ANS_ACCESS_DENIED] = {403, "{\"Message\":\"User is not authorized to access this "
                              "resource\"}", "AccessDeniedException", NULL},
    [GW_ANS_EXPLICIT_DENY] = {403, "{\"Message\":\"User is not authorized to access this "
                              "resource with an explicit deny\"}", "AccessDeniedException", NULL},
    [GW_ANS_AUTHORIZER_FAILURE] = {500, "{\"message\": null}", "AuthorizerConfigurationException",
                                   NULL},
    [GW_ANS_EXPIRED_TOKEN] = {401, "{\"message\":\"The incoming token has expired\"}",
                              "UnauthorizedException", NULL},
    [GW_ANS_IAM_UNSIGNED] = {403, "{\"message\":\"Missing Authentication Token\"}",
                             "MissingAuthenticationTokenException", NULL},
    [GW_ANS_ARN_TOO_LONG] = {414, "{\"message\":\"Request URI too long\"}", NULL, NULL},
    [GW_ANS_INTEGRATION_FAILURE] = {502, "{\"message\": \"Internal server error\"}", ISE, NULL},
    [GW_ANS_LAMBDA_REJECTED] = {500, "{\"message\": \"Internal server error\"}", ISE, NULL},
    [GW_ANS_INTEGRATION_TIMEOUT] = {504, "{\"message\": \"Endpoint request timed out\"}", ISE,
                                    NULL},
    [GW_ANS_PAYLOAD_TOO_LARGE] = {413, "{\"message\": \"Request Too Long\"}", "BadRequestException",
                                  NULL},
    [GW_ANS_BODY_TOO_LARGE] = {413, "HTTP content length exceeded 10485760 bytes.", NULL,
                               "text; charset=utf-8"},
    [GW_ANS_CONVERSION_FAILURE] = {500, "{\"message\": \"Internal server error\"}", ISE, NULL},
}};

/* HTTP APIs: no x-amzn-ErrorType, capitalised messages (LC §3.4). */
const gw_dialect gw_http_dialect = {"HTTP", {
    [GW_ANS_NO_ROUTE] = {404, "{\"message\":\"Not Found\"}", NULL, NULL},
    [GW_ANS_UNKNOWN_STAGE] = {404, "{\"message\":\"Not Found\"}", NULL, NULL},
    [GW_ANS_INVALID_API_KEY] = {403, "{\"message\":\"Forbidden\"}", NULL, NULL},
    [GW_ANS_THROTTLED] = {429, "{\"message\":\"Too Many Requests\"}", NULL, NULL},
    [GW_ANS_QUOTA_EXCEEDED] = {429, "{\"message\":\"Too Many Requests\"}", NULL, NULL},
    [GW_ANS_UNAUTHORIZED] = {401, "{\"message\":\"Unauthorized\"}", NULL, NULL},
    [GW_ANS_ACCESS_DENIED] = {403, "{\"message\":\"Forbidden\"}", NULL, NULL},
    [GW_ANS_EXPLICIT_DENY] = {403, "{\"message\":\"Forbidden\"}", NULL, NULL},
    [GW_ANS_AUTHORIZER_FAILURE] = {500, "{\"message\":\"Internal Server Error\"}", NULL, NULL},
    [GW_ANS_EXPIRED_TOKEN] = {401, "{\"message\":\"Unauthorized\"}", NULL, NULL},
    [GW_ANS_IAM_UNSIGNED] = {403, "{\"message\":\"Forbidden\"}", NULL, NULL},
    [GW_ANS_ARN_TOO_LONG] = {414, "{\"message\":\"Request URI too long\"}", NULL, NULL},
    [GW_ANS_INTEGRATION_FAILURE] = {500, "{\"message\":\"Internal Server Error\"}", NULL, NULL},
    [GW_ANS_LAMBDA_REJECTED] = {429, "{\"message\":\"Too Many Requests\"}", NULL, NULL},
    [GW_ANS_INTEGRATION_TIMEOUT] = {503, "{\"message\":\"Service Unavailable\"}", NULL, NULL},
    [GW_ANS_PAYLOAD_TOO_LARGE] = {413, "{\"message\":\"Request Entity Too Large\"}", NULL, NULL},
    [GW_ANS_BODY_TOO_LARGE] = {413, "{\"message\":\"Request Entity Too Large\"}", NULL, NULL},
    [GW_ANS_CONVERSION_FAILURE] = {500, "{\"message\":\"Internal Server Error\"}", NULL, NULL},
}};

void gw_ids_new(gw_ids *ids, const gw_req *r)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char rnd[12];
    unsigned long long secs = (unsigned long long)(clk_epoch_ms() / 1000);
    char *o = ids->trace_id;
    clk_uuid4(ids->request_id);
    memcpy(ids->extended_id, r->rid, sizeof ids->extended_id);
    clk_random(rnd, sizeof rnd);
    memcpy(o, "Root=1-", 7);
    o += 7;
    for (int i = 7; i >= 0; i--)
        *o++ = hex[(secs >> (4 * i)) & 15];
    *o++ = '-';
    for (size_t i = 0; i < sizeof rnd; i++) {
        *o++ = hex[rnd[i] >> 4];
        *o++ = hex[rnd[i] & 15];
    }
    *o = 0;
}

int gw_ids_headers(const gw_ids *ids, apigw_response *out)
{
    return apigw_response_add(out, "x-amzn-RequestId", ids->request_id) ||
           apigw_response_add(out, "x-amz-apigw-id", ids->extended_id) ||
           apigw_response_add(out, "X-Amzn-Trace-Id", ids->trace_id) ? -1 : 0;
}

void gw_answer_reply(gw_req *r, const gw_dialect *d, gw_answer which, const gw_ids *ids)
{
    gw_answer_reply_h(r, d, which, ids, NULL, NULL);
}

void gw_answer_reply_h(gw_req *r, const gw_dialect *d, gw_answer which, const gw_ids *ids,
                       const char *name, const char *value)
{
    const gw_answer_def *a = &d->answers[which];
    apigw_response h;
    memset(&h, 0, sizeof h);
    int rc = ids ? gw_ids_headers(ids, &h) : 0;
    if (!rc && name)
        rc = apigw_response_add(&h, name, value);
    if (!rc && a->error_type)
        rc = apigw_response_add(&h, "x-amzn-ErrorType", a->error_type);
    if (!rc)
        rc = apigw_response_add(&h, "Content-Type", a->content_type ? a->content_type
                                                                     : "application/json");
    if (ids)
        r->rid[0] = 0; /* REST: x-amz-apigw-id instead of apigw-requestid */
    gw_reply(r, a->status, &h, a->body, strlen(a->body)); /* (a header memory ran
                                                           * out for is left out) */
    apigw_response_fini(&h);
}
