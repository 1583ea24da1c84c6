/*
 * Internals of the API Gateway semantics shared by apigw.c (HTTP API,
 * payload 2.0) and apigw_v1.c (REST, payload 1.0): header and query
 * parameter grouping, percent-decoding, the text-type heuristic.  Not a
 * public interface.
 */
#ifndef NERD_APIGW_INT_H
#define NERD_APIGW_INT_H

#include <stddef.h>

#include "apigw.h"
#include "jsonw.h"

#define APIGW__JOIN_MAX (APIGW_MAX_HEADERS + 2)

/* The values of one name, in order (pointers into the caller's text). */
typedef struct apigw__kv_join {
    const char *name;
    char own[256];      /* the name, when the caller's copy does not last */
    size_t name_len;
    const char *v[APIGW__JOIN_MAX];
    size_t vl[APIGW__JOIN_MAX];
    int n;
} apigw__kv_join;

/* Adds value v to name's entry in set[0..*n) (a new one when absent, cap
 * at most; copy: keep a copy of the name).  Names compare byte for byte.
 * The entry, or NULL when set is full. */
apigw__kv_join *apigw__join_add(apigw__kv_join *set, int *n, int cap, const char *name,
                                size_t nl, int copy, const char *v, size_t vl);

/* How apigw__join_write() writes each name's values. */
enum {
    APIGW__JOINED = 0,          /* "v1,v2" (payload 2.0) */
    APIGW__LAST = 1,            /* "v2" (1.0 headers, queryStringParameters) */
    APIGW__ALL = 2,             /* ["v1","v2"] (1.0 multiValue...) */
    APIGW__OR_NULL = 4          /* with one of the above: null when set is empty */
};

/* Writes {"name":VALUES,...} for set[0..n). */
void apigw__join_write(jw *w, const apigw__kv_join *set, int n, int how);

/* Parses a query string q[0..qlen) (after the '?'): percent-decoded keys
 * and values ('+' is a space) kept in *buf (malloc'd; the caller frees it,
 * also on error), grouped by key in first-seen order in qs[0..*nq)
 * (APIGW__JOIN_MAX entries); pairs with an empty key, or a key or value
 * that is not UTF-8, are dropped.  0, or -1 when memory ran out. */
int apigw__parse_query(const char *q, size_t qlen, apigw__kv_join *qs, int *nq, char **buf);

/* Writes m's path parameters as an object ({"id":"7"}; values that are
 * not UTF-8 left out), null when there are none. */
void apigw__write_params(jw *w, const apigw_match *m);

/* ms (epoch) as API Gateway's requestTime: "17/Jun/2024:14:48:13 +0000". */
void apigw__clf_time(long long ms, char out[64]);

/* Writes body[0..n) as a JSON string, base64-encoded when b64; 0, or -1
 * when memory ran out. */
int apigw__write_body(jw *w, const char *body, size_t n, int b64);

/* s[0..n) percent-decoded ('+' as a space), malloc'd, NUL-terminated. */
char *apigw__url_decode(const char *s, size_t n);

/* 1 when a Content-Type value names text (text/..., JSON, XML, JavaScript). */
int apigw__text_type(const char *ct, size_t n);

#endif
