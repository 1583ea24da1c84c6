/* libFuzzer target: the products API's parsers (function/products/
 * pjson.c), each run on the input: the POST body (a product read exactly:
 * its price canonical, within DynamoDB's limits, name and id within
 * theirs), the raw-member scanner (a value inside the input), exact
 * decimals in both grammars (the result is canonical: parsing it again as
 * JSON gives it back, and it is valid JSON), a DynamoDB item written as
 * product JSON (valid JSON whenever it succeeds), and paging tokens (a
 * token that decodes gives back the same key when written again).  Must
 * never crash, hang or leak. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "products_int.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void check_number(const char *s, size_t n, int json_syntax)
{
    char out[PROD__NUM_CAP], again[PROD__NUM_CAP];
    int neg = 0;
    if (prod__decimal(s, n, json_syntax, out, sizeof out, &neg))
        return;
    size_t ol = strlen(out);
    if (!ol || ol >= sizeof out || prod__decimal(out, ol, 1, again, sizeof again, NULL) ||
        strcmp(out, again) || neg != (out[0] == '-'))
        abort();
    json_error_t je;
    json_t *j = json_loadb(out, ol, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &je);
    if (!json_is_number(j))
        abort();
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const char *s = (const char *)data;
    /* the POST body */
    json_t *doc = NULL;
    prod__product p;
    const char *err = NULL;
    char msg[512];
    int st = prod__parse_body(s, size, &doc, &p, &err, msg, sizeof msg);
    if (st == 0) {
        char again[PROD__NUM_CAP];
        if (!doc || p.name_len < 1 || p.name_len > PROD__NAME_CAP ||
            (p.id[0] && !prod__valid_id(p.id, strlen(p.id))) ||
            prod__decimal(p.price, strlen(p.price), 1, again, sizeof again, NULL) ||
            strcmp(again, p.price) || p.price[0] == '-')
            abort();
        json_decref(doc);
    } else if (st != 400 || doc || !err || !memchr(msg, 0, sizeof msg)) {
        abort();
    }
    /* the raw-member scanner */
    const char *v;
    size_t vl;
    if (!prod__raw_member(s, size, "price", &v, &vl) && (v < s || v + vl > s + size || !vl))
        abort();
    /* exact decimals */
    check_number(s, size < 400 ? size : 400, 1);
    check_number(s, size < 400 ? size : 400, 0);
    /* an item */
    json_error_t je;
    json_t *item = json_loadb(s, size, 0, &je);
    if (item) {
        fh_buf b = {.max = 1 << 20};
        if (!prod__item_json(&b, item) && !b.oom) {
            json_t *back = json_loadb(b.p, b.len, JSON_DECODE_INT_AS_REAL, &je);
            if (!json_is_object(back))
                abort();
            json_decref(back);
        }
        fh_buf_free(&b);
        json_decref(item);
    }
    /* a paging token */
    json_t *key = prod__token_get(s, size);
    if (key) {
        fh_buf b = {0};
        if (prod__token_put(&b, key) || b.oom)
            abort();
        json_t *again = prod__token_get(b.p, b.len);
        if (!again || !json_equal(again, key))
            abort();
        json_decref(again);
        fh_buf_free(&b);
        json_decref(key);
    }
    return 0;
}
