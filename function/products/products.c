/*
 * The products API's routes (see products.h): each request becomes one
 * DynamoDB call (two for a create whose retried PutItem met its own first
 * attempt) through the client of ddb_client.h, built by hand as JSON with
 * every value escaped; DynamoDB's answers are read with jansson and
 * written back as product JSON (pjson.c).
 */
#define _DEFAULT_SOURCE
#include "products.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "products_int.h"

#define OUT_CAP ((size_t)4 << 20)   /* an answer's body (a Scan page is at most 1 MB of items) */
#define REQ_CAP ((size_t)256 << 10) /* a DynamoDB request */

struct prod {
    ddbc *db;
    char table[256];
    fh_buf out; /* the HTTP body */
    fh_buf res; /* the Lambda result */
    fh_buf req; /* the DynamoDB request */
    char *dec;  /* a base64-decoded event body */
};

const char *prod_strerror(int err)
{
    switch (err) {
    case PROD_OK: return "success";
    case PROD_ENOMEM: return "out of memory";
    case PROD_ECONFIG: return "invalid table name";
    default: return "unknown error";
    }
}

int prod_new(const char *table, ddbc *db, prod **out, char *err, size_t errlen)
{
    size_t n = strlen(table);
    *out = NULL;
    int ok = n >= 3 && n <= 255;
    for (size_t i = 0; ok && i < n; i++)
        ok = (table[i] >= 'a' && table[i] <= 'z') || (table[i] >= 'A' && table[i] <= 'Z') ||
             (table[i] >= '0' && table[i] <= '9') || table[i] == '_' || table[i] == '-' ||
             table[i] == '.';
    if (!ok) {
        snprintf(err, errlen, "table name '%.64s' is not 3 to 255 characters of A-Z a-z 0-9 _ - .",
                 table);
        return PROD_ECONFIG;
    }
    prod *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return PROD_ENOMEM;
    }
    memcpy(p->table, table, n + 1);
    p->db = db;
    p->out.max = OUT_CAP;
    p->res.max = PROD_MAX_EVENT;
    p->req.max = REQ_CAP;
    *out = p;
    return PROD_OK;
}

void prod_free(prod *p)
{
    if (!p)
        return;
    fh_buf_free(&p->out);
    fh_buf_free(&p->res);
    fh_buf_free(&p->req);
    free(p->dec);
    free(p);
}

/* ---- answers ------------------------------------------------------------------- */

#define error(p, r, ...) fh_error(&(p)->out, r, __VA_ARGS__)

/* Sets r to status with p->out as its JSON body (a 500 if it overflowed). */
static void answer(prod *p, fh_response *r, int status)
{
    if (p->out.oom) {
        error(p, r, 500, "InternalError", "the answer is larger than %zu bytes", OUT_CAP);
        return;
    }
    r->status = status;
    r->content_type = "application/json";
    r->body = p->out.p;
    r->body_len = p->out.len;
}

/* ---- DynamoDB calls ------------------------------------------------------------- */

/* Starts a request on p->req: {"TableName":"<table>" (the caller goes on). */
static void req_start(prod *p)
{
    fh_buf_reset(&p->req);
    fh_puts(&p->req, "{\"TableName\":\"");
    fh_puts(&p->req, p->table);
    fh_put(&p->req, "\"", 1);
}

/* Appends ,"Key":{"id":{"S":"<id>"}}. */
static void req_key(prod *p, const char *id)
{
    fh_puts(&p->req, ",\"Key\":{\"id\":{\"S\":\"");
    fh_put_escaped(&p->req, id, strlen(id));
    fh_puts(&p->req, "\"}}");
}

/* Calls op with p->req (closed here with "}"): DDBC_OK with *ans, the
 * answer's JSON object (a new reference), else the error with res. */
static ddbc_err call(prod *p, const char *op, ddbc_result *res, json_t **ans)
{
    *ans = NULL;
    fh_put(&p->req, "}", 1);
    if (p->req.oom) {
        memset(res, 0, sizeof *res);
        snprintf(res->message, sizeof res->message, "the request is larger than %zu bytes", REQ_CAP);
        return DDBC_ENOMEM;
    }
    ddbc_err e = ddbc_call(p->db, op, p->req.p, p->req.len, res);
    if (e)
        return e;
    json_error_t je;
    *ans = json_loadb(res->body, res->body_len, 0, &je);
    if (!json_is_object(*ans)) {
        json_decref(*ans);
        *ans = NULL;
        snprintf(res->message, sizeof res->message, "the answer is not a JSON object: %s", je.text);
        return DDBC_EPROTO;
    }
    return DDBC_OK;
}

static int is_throttle(const char *code)
{
    return !strcmp(code, "ProvisionedThroughputExceededException") ||
           !strcmp(code, "ThrottlingException") || !strcmp(code, "RequestLimitExceeded") ||
           !strcmp(code, "Throttling") || !strcmp(code, "TooManyRequestsException");
}

/* Answers a call that failed in a way the route does not handle itself,
 * with one line on stderr: 503 when DynamoDB did not answer in time or
 * throttled past the retries, else 500. */
static void failed(prod *p, fh_response *r, const char *op, ddbc_err e, const ddbc_result *res)
{
    fprintf(stderr, "products: %s on table %s failed: %s: %s%s%s (HTTP %d, %d attempt%s%s%s)\n",
            op, p->table, ddbc_strerror(e), res->code, res->code[0] ? ": " : "", res->message,
            res->status, res->attempts, res->attempts == 1 ? "" : "s",
            res->request_id[0] ? ", request id " : "", res->request_id);
    if (e == DDBC_ETRANSPORT || e == DDBC_EDEADLINE || (e == DDBC_ESERVICE && is_throttle(res->code)))
        error(p, r, 503, "ServiceUnavailable", "DynamoDB is unavailable (%s); try again",
              res->code[0] ? res->code : ddbc_strerror(e));
    else
        error(p, r, 500, "InternalError", "DynamoDB %s failed: %s%s%s", op,
              res->code[0] ? res->code : ddbc_strerror(e), res->code[0] ? ": " : "",
              res->code[0] ? res->message : "");
}

/* ---- routes ----------------------------------------------------------------------- */

/* A random UUID v4, lower-case (37 bytes with the NUL). */
static void uuid4(char out[37])
{
    unsigned char r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        for (size_t i = 0; i < sizeof r; i++) /* (never on Linux >= 3.17) */
            r[i] = (unsigned char)random();
    }
    r[6] = (r[6] & 0x0f) | 0x40;
    r[8] = (r[8] & 0x3f) | 0x80;
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
             r[13], r[14], r[15]);
}

/* Whether the stored item id is the product pr (a retried PutItem whose
 * first attempt had written it): 1 yes, 0 no or unknown. */
static int already_written(prod *p, const prod__product *pr)
{
    ddbc_result res;
    json_t *ans;
    req_start(p);
    req_key(p, pr->id);
    fh_puts(&p->req, ",\"ConsistentRead\":true");
    if (call(p, "GetItem", &res, &ans))
        return 0;
    json_t *item = json_object_get(ans, "Item");
    json_t *name = json_object_get(json_object_get(item, "name"), "S");
    json_t *price = json_object_get(json_object_get(item, "price"), "N");
    char num[PROD__NUM_CAP];
    int same = json_object_size(item) == 3 && json_is_string(name) && json_is_string(price) &&
               json_string_length(name) == pr->name_len &&
               !memcmp(json_string_value(name), pr->name, pr->name_len) &&
               !prod__decimal(json_string_value(price), json_string_length(price), 0, num,
                              sizeof num, NULL) &&
               !strcmp(num, pr->price);
    json_decref(ans);
    return same;
}

/* Writes the product pr as JSON into p->out. */
static void put_product(prod *p, const prod__product *pr)
{
    fh_buf_reset(&p->out);
    fh_puts(&p->out, "{\"id\":\"");
    fh_put_escaped(&p->out, pr->id, strlen(pr->id));
    fh_puts(&p->out, "\",\"name\":\"");
    fh_put_escaped(&p->out, pr->name, pr->name_len);
    fh_puts(&p->out, "\",\"price\":");
    fh_puts(&p->out, pr->price);
    fh_put(&p->out, "}", 1);
}

/* POST /products */
static void create(prod *p, const fh_event *e, fh_response *r)
{
    if (e->content_type && !fh_media_is_json(e->content_type, e->ct_len)) {
        error(p, r, 415, "UnsupportedMediaType", "Content-Type must be application/json, not %.*s",
              (int)(e->ct_len < 100 ? e->ct_len : 100), e->content_type);
        return;
    }
    if (e->body_len > PROD_MAX_BODY) {
        error(p, r, 413, "PayloadTooLarge", "the body is %zu bytes; the limit is %zu bytes",
              e->body_len, PROD_MAX_BODY);
        return;
    }
    prod__product pr;
    json_t *doc;
    const char *code;
    char msg[512];
    if (prod__parse_body(e->body, e->body_len, &doc, &pr, &code, msg, sizeof msg)) {
        error(p, r, 400, code, "%s", msg);
        return;
    }
    int generated = !pr.id[0];
    for (int tries = 0;; tries++) {
        if (generated)
            uuid4(pr.id);
        req_start(p);
        fh_puts(&p->req, ",\"Item\":{\"id\":{\"S\":\"");
        fh_put_escaped(&p->req, pr.id, strlen(pr.id));
        fh_puts(&p->req, "\"},\"name\":{\"S\":\"");
        fh_put_escaped(&p->req, pr.name, pr.name_len);
        fh_puts(&p->req, "\"},\"price\":{\"N\":\"");
        fh_puts(&p->req, pr.price);
        fh_puts(&p->req, "\"}},\"ConditionExpression\":\"attribute_not_exists(#k)\","
                         "\"ExpressionAttributeNames\":{\"#k\":\"id\"}");
        ddbc_result res;
        json_t *ans;
        ddbc_err de = call(p, "PutItem", &res, &ans);
        json_decref(ans);
        int exists = de == DDBC_ESERVICE && !strcmp(res.code, "ConditionalCheckFailedException");
        if (exists && generated && tries < 2)
            continue; /* a UUID that is taken: another one */
        if (!de || (exists && res.attempts > 1 && already_written(p, &pr))) {
            put_product(p, &pr);
            answer(p, r, 201);
        } else if (exists) {
            error(p, r, 409, "Conflict", "a product with id %s exists", pr.id);
        } else {
            failed(p, r, "PutItem", de, &res);
        }
        break;
    }
    json_decref(doc);
}

/* Calls op on item id with the request members extra: the answer's
 * member which (a new reference), or NULL with r answered: 404 when the
 * answer has no such member, else the call's failure. */
static json_t *item_call(prod *p, const char *op, const char *id, const char *extra,
                         const char *which, fh_response *r)
{
    ddbc_result res;
    json_t *ans, *m;
    req_start(p);
    req_key(p, id);
    fh_puts(&p->req, extra);
    ddbc_err de = call(p, op, &res, &ans);
    if (de) {
        failed(p, r, op, de, &res);
        return NULL;
    }
    if (!(m = json_incref(json_object_get(ans, which))))
        error(p, r, 404, "NotFound", "no product with id %s", id);
    json_decref(ans);
    return m;
}

/* GET /products/{id} */
static void get(prod *p, const char *id, fh_response *r)
{
    json_t *item = item_call(p, "GetItem", id, ",\"ConsistentRead\":true", "Item", r);
    if (!item)
        return;
    fh_buf_reset(&p->out);
    if (prod__item_json(&p->out, item)) {
        fprintf(stderr, "products: GetItem on table %s: item %s is not a DynamoDB item\n",
                p->table, id);
        error(p, r, 500, "InternalError", "the stored item %s is malformed", id);
    } else {
        answer(p, r, 200);
    }
    json_decref(item);
}

/* DELETE /products/{id} */
static void remove_product(prod *p, const char *id, fh_response *r)
{
    json_t *old = item_call(p, "DeleteItem", id, ",\"ReturnValues\":\"ALL_OLD\"", "Attributes", r);
    if (!old)
        return;
    fh_buf_reset(&p->out);
    fh_puts(&p->out, "{\"message\":\"Product deleted\",\"id\":\"");
    fh_put_escaped(&p->out, id, strlen(id));
    fh_puts(&p->out, "\"}");
    answer(p, r, 200);
    json_decref(old);
}

/* GET /products: one Scan page of ?limit items, from ?next. */
static void list(prod *p, const fh_event *e, fh_response *r)
{
    char lim[8], tok[PROD__TOKEN_CAP];
    long ll = fh_event_query(e, "limit", lim, sizeof lim);
    long limit = PROD_DEFAULT_LIMIT;
    if (ll >= 0) {
        int ok = ll >= 1 && ll <= 3;
        limit = 0;
        for (long i = 0; ok && i < ll; i++) {
            ok = lim[i] >= '0' && lim[i] <= '9';
            limit = limit * 10 + (lim[i] - '0');
        }
        if (!ok || limit < 1 || limit > PROD_MAX_LIMIT) {
            error(p, r, 400, "InvalidRequest", "limit must be a whole number from 1 to %d",
                  PROD_MAX_LIMIT);
            return;
        }
    }
    json_t *start = NULL;
    long tl = fh_event_query(e, "next", tok, sizeof tok);
    if (tl >= 0 && !(start = prod__token_get(tok, (size_t)tl))) {
        error(p, r, 400, "InvalidToken", "next is not a token this API gave");
        return;
    }
    req_start(p);
    fh_puts(&p->req, ",\"Limit\":");
    fh_putu(&p->req, (unsigned long)limit);
    if (start) {
        char *js = json_dumps(start, JSON_COMPACT);
        fh_puts(&p->req, ",\"ExclusiveStartKey\":");
        fh_puts(&p->req, js ? js : "{}");
        free(js);
    }
    ddbc_result res;
    json_t *ans;
    ddbc_err de = call(p, "Scan", &res, &ans);
    if (de == DDBC_ESERVICE && start && !strcmp(res.code, "ValidationException")) {
        error(p, r, 400, "InvalidToken", "next does not fit this table's key: %s", res.message);
    } else if (de) {
        failed(p, r, "Scan", de, &res);
    } else {
        json_t *items = json_object_get(ans, "Items"), *it, *lek = json_object_get(ans, "LastEvaluatedKey");
        size_t i;
        int bad = !json_is_array(items);
        fh_buf_reset(&p->out);
        fh_puts(&p->out, "{\"products\":[");
        json_array_foreach(items, i, it) {
            if (i)
                fh_put(&p->out, ",", 1);
            if ((bad = prod__item_json(&p->out, it)))
                break;
        }
        fh_put(&p->out, "]", 1);
        if (!bad && lek) {
            fh_puts(&p->out, ",\"next\":\"");
            bad = prod__token_put(&p->out, lek);
            fh_put(&p->out, "\"", 1);
        }
        fh_put(&p->out, "}", 1);
        if (bad) {
            fprintf(stderr, "products: Scan on table %s: the answer holds a malformed item or key\n",
                    p->table);
            error(p, r, 500, "InternalError", "the table holds a malformed item");
        } else {
            answer(p, r, 200);
        }
    }
    json_decref(ans);
    json_decref(start);
}

static int eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && !memcmp(s, lit, n);
}

/* 405 with Allow, or 204 for OPTIONS. */
static void not_allowed(prod *p, const fh_event *e, fh_response *r, const char *allow)
{
    if (eq(e->method, e->method_len, "OPTIONS")) {
        r->status = 204;
        r->allow = allow;
        r->body = "";
        return;
    }
    error(p, r, 405, "MethodNotAllowed", "%.*s is not allowed here; use %s",
          (int)(e->method_len < 16 ? e->method_len : 16), e->method, allow);
    r->allow = allow;
}

void prod_http(prod *p, const fh_event *e, fh_response *r)
{
    memset(r, 0, sizeof *r);
    const char *path = e->path;
    size_t pl = e->path_len;
    if (eq(path, pl, "/products") || eq(path, pl, "/products/")) {
        if (eq(e->method, e->method_len, "GET"))
            list(p, e, r);
        else if (eq(e->method, e->method_len, "POST"))
            create(p, e, r);
        else
            not_allowed(p, e, r, "GET, POST, OPTIONS");
        return;
    }
    if (pl > 10 && !memcmp(path, "/products/", 10) && !memchr(path + 10, '/', pl - 10)) {
        char id[PROD__ID_CAP + 1];
        size_t il = fh_pct_decode(path + 10, pl - 10, id, PROD__ID_CAP);
        int get_ = eq(e->method, e->method_len, "GET"), del = eq(e->method, e->method_len, "DELETE");
        if (!get_ && !del) {
            not_allowed(p, e, r, "GET, DELETE, OPTIONS");
            return;
        }
        if (il > PROD__ID_CAP || !prod__valid_id(id, il)) {
            error(p, r, 400, "InvalidId", "the id must be 1 to 128 characters of A-Z a-z 0-9 . _ ~ -"
                  " (not . or ..)");
            return;
        }
        id[il] = 0;
        if (get_)
            get(p, id, r);
        else
            remove_product(p, id, r);
        return;
    }
    error(p, r, 404, "NotFound", "no route for %.*s %.*s",
          (int)(e->method_len < 16 ? e->method_len : 16), e->method,
          (int)(pl < 200 ? pl : 200), path);
}

int prod_lambda(prod *p, const char *event, size_t len, const char **out, size_t *out_len)
{
    fh_response r;
    memset(&r, 0, sizeof r);
    json_error_t je;
    json_t *ev = json_loadb(event, len, JSON_ALLOW_NUL, &je);
    fh_event e;
    if (!ev)
        error(p, &r, 400, "InvalidJSON", "the event is not valid JSON: %s", je.text);
    else
        switch (fh_event_parse(ev, &e, &p->dec)) {
        case FH_EV_DIRECT:
            error(p, &r, 400, "InvalidRequest",
                  "not an API Gateway event: invoke this function through its REST API");
            break;
        case FH_EV_BADB64:
            error(p, &r, 400, "InvalidRequest", "the body is not valid base64");
            break;
        default:
            prod_http(p, &e, &r);
        }
    int rc = fh_result(&p->res, &r) ? PROD_ENOMEM : PROD_OK;
    if (!rc) {
        *out = p->res.p;
        *out_len = p->res.len;
    }
    json_decref(ev);
    return rc;
}
