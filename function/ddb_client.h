/*
 * A DynamoDB client for C Lambda functions (the products API's): the JSON
 * protocol (POST / with X-Amz-Target: DynamoDB_20120810.<Op>,
 * application/x-amz-json-1.0) over libcurl, signed with SigV4 by libcurl
 * itself (CURLOPT_AWS_SIGV4 "aws:amz:<region>:dynamodb", the session token
 * sent as X-Amz-Security-Token and signed with the rest).  One CURL handle
 * per client, so one kept-alive connection (TLS session included) serves
 * every call of a warm environment.
 *
 * Where it calls: AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL, else
 * https://dynamodb.<region>.amazonaws.com (.amazonaws.com.cn for cn-*);
 * region AWS_REGION, else AWS_DEFAULT_REGION; credentials
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (what Lambda
 * sets; empty values count as unset).
 *
 * Retries, as the AWS SDKs retry DynamoDB calls: HTTP 5xx and 429,
 * connection failures and timeouts, the throttling codes
 * (ProvisionedThroughputExceededException, ThrottlingException, Throttling,
 * RequestLimitExceeded, TooManyRequestsException, LimitExceededException,
 * TransactionInProgressException) and an x-amz-crc32 header that does not
 * match the body; never a ValidationException, a
 * ConditionalCheckFailedException or any other client error.  Backoff with
 * full jitter: before attempt n+1, a uniform random delay in
 * [0, min(max_delay_ms, base_delay_ms * 2^(n-1))]; at most max_attempts
 * attempts, and none that would start after the deadline
 * (ddbc_set_deadline: the invocation's, minus a margin).
 *
 * Caps: answers of max_response bytes (larger: DDBC_EPROTO), endpoint URL
 * 1 KB, region 64 bytes, keys 256 bytes, session token 8 KB.
 *
 * One client per thread (it is not thread safe); the first ddbc_new() of a
 * process runs curl_global_init(), so make it before starting threads.
 * Prefix ddbc_.
 */
#ifndef NERD_FUNCTION_DDB_CLIENT_H
#define NERD_FUNCTION_DDB_CLIENT_H

#include <stddef.h>
#include <stdint.h>

typedef enum ddbc_err {
    DDBC_OK = 0,
    DDBC_ENOMEM,     /* out of memory */
    DDBC_ECONFIG,    /* no region or credentials, or a bad endpoint URL */
    DDBC_ETRANSPORT, /* no answer: the connection failed or timed out (retries spent) */
    DDBC_ESERVICE,   /* DynamoDB answered an error: ddbc_result's code and message */
    DDBC_EPROTO,     /* an answer DynamoDB would not give: wrong CRC (retries spent), too large */
    DDBC_EDEADLINE   /* the deadline came before an answer */
} ddbc_err;

/* A static English text for e (never NULL). */
const char *ddbc_strerror(ddbc_err e);

/* Settings; ddbc_new() fills what is NULL or 0 from the environment and
 * the defaults. */
typedef struct ddbc_config {
    const char *endpoint;      /* http:// or https:// URL */
    const char *region;
    const char *access_key, *secret_key, *session_token;
    int max_attempts;          /* default 10 (botocore's for DynamoDB) */
    int base_delay_ms;         /* default 50 */
    int max_delay_ms;          /* default 2000 */
    long connect_timeout_ms;   /* default 1000 */
    long attempt_timeout_ms;   /* one attempt, default 5000 */
    size_t max_response;       /* default 32 MB */
} ddbc_config;

typedef struct ddbc ddbc;

/* Makes a client from cfg (NULL: all from the environment).  The strings
 * are copied.  DDBC_ECONFIG with a message in err when the region,
 * endpoint or credentials are missing or malformed; DDBC_ENOMEM. */
ddbc_err ddbc_new(const ddbc_config *cfg, ddbc **out, char *err, size_t errlen);

/* Closes the connection and frees c; ddbc_free(NULL) is a no-op. */
void ddbc_free(ddbc *c);

/* No attempt starts, and none runs, past this moment (epoch milliseconds;
 * 0: no deadline, the default).  For a Lambda invocation: its deadline
 * minus the time needed to answer. */
void ddbc_set_deadline(ddbc *c, long long epoch_ms);

/* The endpoint and region the client uses (never NULL). */
const char *ddbc_endpoint(const ddbc *c);
const char *ddbc_region(const ddbc *c);

/* The outcome of one call. */
typedef struct ddbc_result {
    int status;            /* HTTP status of the last answer; 0 if none */
    int attempts;          /* attempts made (1 without retries) */
    const char *body;      /* the last answer's body, NUL-terminated; valid until the next call */
    size_t body_len;
    char code[64];         /* DDBC_ESERVICE: the error code (after '#' of __type) */
    char message[256];     /* DDBC_ESERVICE: message or Message; else what went wrong */
    char request_id[80];   /* x-amzn-RequestId of the last answer */
} ddbc_result;

/* Calls operation op (e.g. "PutItem") with the JSON request body[0..len).
 * DDBC_OK: a 2xx answer whose CRC (when sent) matched; its JSON is in
 * res->body.  DDBC_ESERVICE: DynamoDB's error in res->code and
 * res->message (after retries when retryable).  Other errors: res->message
 * says what happened. */
ddbc_err ddbc_call(ddbc *c, const char *op, const char *body, size_t len, ddbc_result *res);

/* ---- the answer parser (internal; exposed for the tests and fuzz_ddb_response) ---- */

/* What the header lines of one answer said. */
typedef struct ddbc__answer {
    int have_crc;          /* an x-amz-crc32 header was there */
    int bad_crc;           /* ... but not a decimal 32-bit number */
    uint32_t crc;
    char request_id[80];
} ddbc__answer;

/* Reads one header line line[0..len) (CRLF optional) into a; a status
 * line ("HTTP/...") starts a new answer (a 100 Continue's lines are
 * forgotten). */
void ddbc__header(ddbc__answer *a, const char *line, size_t len);

enum { DDBC__DONE = 0, DDBC__RETRY, DDBC__FAIL };

/* Classifies an answer (status, header lines in a, body[0..len)):
 * DDBC__DONE (2xx, CRC good or absent), DDBC__RETRY (retryable, as the
 * SDKs judge: 5xx, 429, throttling codes, CRC mismatch) or DDBC__FAIL;
 * fills res->status, code, message and request_id.  body need not be
 * NUL-terminated. */
int ddbc__classify(int status, const ddbc__answer *a, const char *body, size_t len,
                   ddbc_result *res);

#endif
