/*
 * Internals of the products API shared by its files (products.c: routes
 * and DynamoDB calls; pjson.c: exact decimals, the product body, items and
 * paging tokens) and exposed to tests/function/test_products.c and
 * tests/fuzz/fuzz_products.c.  Everything here is pure (no I/O) and
 * reentrant.  Prefix prod__.
 */
#ifndef NERD_FUNCTION_PRODUCTS_INT_H
#define NERD_FUNCTION_PRODUCTS_INT_H

#include <jansson.h>
#include <stddef.h>

#include "fnhttp.h"

#define PROD__NUM_CAP 192    /* a canonical number: sign, "0.", 129 zeros, 38 digits, NUL */
#define PROD__ID_CAP 128     /* bytes of an id */
#define PROD__NAME_CAP 1024  /* bytes of a name */
#define PROD__TOKEN_CAP 2048 /* characters of a paging token */

/* prod__decimal's results */
enum {
    PROD__NUM_OK = 0,
    PROD__NUM_SYNTAX,    /* not a number in the grammar asked for */
    PROD__NUM_PRECISION, /* more than 38 significant digits */
    PROD__NUM_OVERFLOW,  /* magnitude of 1E126 or more */
    PROD__NUM_UNDERFLOW  /* non-zero magnitude under 1E-130 */
};

/* Normalises the decimal number s[0..n) exactly (no floating point) to
 * DynamoDB's canonical form: plain notation, no exponent, no leading or
 * trailing zeros, no "+", "-" only before a non-zero value ("12.50" →
 * "12.5", "1e2" → "100", "-0" → "0"), written to out (cap >=
 * PROD__NUM_CAP).  json_syntax 1: JSON's number grammar (a request's
 * price); 0: what DynamoDB accepts in an N string ("+3", ".5", "5.").
 * *negative (may be NULL) says whether the value is below zero.  Returns a
 * PROD__NUM_ code; out is "" unless PROD__NUM_OK. */
int prod__decimal(const char *s, size_t n, int json_syntax, char *out, size_t cap,
                  int *negative);

/* Whether s[0..n) is an id this API accepts (see products.h). */
int prod__valid_id(const char *s, size_t n);

/* A product read from a POST body.  name points into the jansson document
 * the parser returns (valid while it lives). */
typedef struct prod__product {
    char id[PROD__ID_CAP + 1]; /* "" when the body has none */
    const char *name;
    size_t name_len;
    char price[PROD__NUM_CAP]; /* canonical */
} prod__product;

/* Reads a POST body: a JSON object with exactly the members id (optional),
 * name and price, no key twice.  0 with the product and *doc (the parsed
 * document; the caller json_decref()s it), or 400 with an error code in
 * *err ("InvalidJSON", "InvalidRequest", "InvalidProduct", "InvalidId")
 * and a message in msg (*doc NULL). */
int prod__parse_body(const char *body, size_t len, json_t **doc, prod__product *p,
                     const char **err, char *msg, size_t cap);

/* The raw text of member key of the JSON object s[0..n) (top level only;
 * escaped keys compared decoded): 0 with *val, *vlen, or -1 when absent or
 * when s is not an object as far as the scan goes. */
int prod__raw_member(const char *s, size_t n, const char *key, const char **val, size_t *vlen);

/* Appends item (a DynamoDB item: attribute names to AttributeValues) as a
 * JSON object: id, name, price first, then the other attributes in key
 * order; S and B as strings, N as numbers (canonicalised; an N that is not
 * a number stays a string), BOOL, NULL, L, M, SS, BS, NS as JSON values.
 * 0, or -1 when item is not a well-formed item (nothing defined appended
 * then; the caller discards b's content). */
int prod__item_json(fh_buf *b, json_t *item);

/* Appends the paging token for a LastEvaluatedKey: URL-safe base64 (no
 * padding) of its compact JSON with sorted keys.  0, or -1 when key is not
 * an object. */
int prod__token_put(fh_buf *b, json_t *key);

/* The ExclusiveStartKey a token stands for (a new reference), or NULL
 * when s[0..n) is not a token prod__token_put could have written: at most
 * PROD__TOKEN_CAP characters of the URL-safe alphabet, decoding to an
 * object of one or two key attributes, each {"S"|"N"|"B": string}. */
json_t *prod__token_get(const char *s, size_t n);

#endif
