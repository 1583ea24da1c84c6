/*
 * The products API (the AWS lab "How to Speed Up Your AWS Lambda
 * Functions", reconstructed in ../shared/specs/dynamodb-contract.md §8):
 * a Lambda handler behind API Gateway (REST API payload 1.0, or 2.0) over
 * one DynamoDB table keyed by id (S).
 *
 *   POST   /products       {"name": "...", "price": 12.5, "id"?: "..."}
 *                          → 201 the product; id generated (UUID v4) when
 *                          absent; never overwrites (PutItem with
 *                          attribute_not_exists): 409 when the id exists
 *   GET    /products       ?limit=1..100 (default 20) &next=TOKEN
 *                          → 200 {"products":[...]} plus "next" when Scan
 *                          stopped with a LastEvaluatedKey (a page is never
 *                          cut silently: pass next back for the rest)
 *   GET    /products/{id}  → 200 the product (strongly consistent) or 404
 *   DELETE /products/{id}  → 200 {"message":"Product deleted","id":...}
 *                          or 404 (DeleteItem ReturnValues ALL_OLD)
 *
 * A product is {"id","name","price"}: id 1–128 characters of
 * [A-Za-z0-9._~-] (not "." or ".."), name a non-empty string of at most
 * 1,024 bytes, price a JSON number >= 0 with at most 38 significant digits
 * within DynamoDB's range.  Prices never pass through a double: the
 * number's text is normalised exactly (12.50 → 12.5, 1e2 → 100, DynamoDB's
 * canonical form), stored as N and printed back from the N string.  Other
 * attributes an item may carry (written by other tools) are shown after
 * these three, in key order.
 *
 * Errors are the NER function's JSON {"error","message"}: 400 (InvalidJSON,
 * InvalidRequest, InvalidProduct, InvalidId, InvalidToken), 404 NotFound,
 * 405 MethodNotAllowed (with Allow), 409 Conflict, 413 PayloadTooLarge
 * (bodies over PROD_MAX_BODY), 415 UnsupportedMediaType; DynamoDB failing
 * gives 503 ServiceUnavailable (no answer, throttled past the retries) or
 * 500 InternalError, each logged on stderr as one "products: ..." line.
 *
 * One prod per thread (it owns its buffers; the DynamoDB client it is
 * given is not thread safe).  Prefix prod_.
 */
#ifndef NERD_FUNCTION_PRODUCTS_H
#define NERD_FUNCTION_PRODUCTS_H

#include <stddef.h>

#include "ddb_client.h"
#include "fnhttp.h"

#define PROD_MAX_BODY ((size_t)64 << 10) /* a POST body, bytes */
#define PROD_MAX_EVENT ((size_t)6291556)  /* Lambda's payload cap */
#define PROD_DEFAULT_LIMIT 20
#define PROD_MAX_LIMIT 100

typedef enum prod_err {
    PROD_OK = 0,
    PROD_ENOMEM,  /* out of memory, or a result over its cap */
    PROD_ECONFIG  /* a table name DynamoDB would refuse */
} prod_err;

/* A static English text for a prod_err (never NULL). */
const char *prod_strerror(int err);

typedef struct prod prod;

/* A handler for table (3–255 characters of [A-Za-z0-9_.-], copied) through
 * db (borrowed: it must outlive the handler).  PROD_ECONFIG with a message
 * in err, PROD_ENOMEM. */
int prod_new(const char *table, ddbc *db, prod **out, char *err, size_t errlen);

/* prod_free(NULL) is a no-op.  Does not free the DynamoDB client. */
void prod_free(prod *p);

/* Handles one HTTP request e (fh_event_parse's, or filled by hand: method,
 * path without the query, query or qparams, content type, body).  r's body
 * stays valid until the next call.  Never fails: DynamoDB's failures and
 * internal errors become 5xx answers. */
void prod_http(prod *p, const fh_event *e, fh_response *r);

/* Handles one Lambda event (API Gateway payload 1.0 or 2.0; anything else
 * is answered 400): *out[0..*out_len) is the proxy result, valid until the
 * next call.  PROD_OK, or PROD_ENOMEM when the result cannot be built. */
int prod_lambda(prod *p, const char *event, size_t len, const char **out, size_t *out_len);

#endif
