/*
 * Internals shared by the authorizer's files (authorizer.c: configuration,
 * identity sources and the cache; az_event.c: events; az_policy.c:
 * responses, policies, answers).  Not for use outside them.
 */
#ifndef NERD_AZ_INT_H
#define NERD_AZ_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdatomic.h>

#include "authorizer.h"

typedef struct az__entry az__entry;

struct az_authorizer {
    az_config c;                 /* validation: NULL (compiled into re) */
    int ttl;                     /* in effect, seconds */
    pcre2_code *re;              /* ValidationExpression, NULL: none */
    pcre2_match_context *mctx;   /* match limits (shared, read only) */
    pthread_mutex_t mu;          /* the cache below */
    az__entry **buckets;
    size_t n_buckets;            /* a power of two */
    az__entry *head, *tail;      /* most recently used first */
    size_t n, max;
};

/* One policy statement; patterns point into the result's arena. */
typedef struct az__stmt {
    int deny, not_action, not_resource;
    size_t n_act, n_res;
    const char **act, **res;
} az__stmt;

enum { AZ__POLICY, AZ__SIMPLE, AZ__UNAUTHORIZED, AZ__FAILED };

struct az_result {
    atomic_int refs;
    int kind;                    /* AZ__* */
    int authorized;              /* AZ__SIMPLE */
    char *principal;             /* NULL: none */
    char *usage_key;             /* NULL: none */
    char *ctx_raw;               /* the context object as returned, NULL: none */
    char *pairs_raw;             /* its pairs without principalId and
                                  * integrationLatency ("" or "\"k\":v,...") */
    char *pairs_str;             /* the same, values stringified (REST) */
    az__stmt *stmts;
    size_t n_stmts;
    char reason[160];
};

/* '*' and '?' glob of pattern p over s; fold: ASCII case ignored. */
int az__glob(const char *p, const char *s, int fold);

/* The first value of header name (any case) in r: REST takes the last
 * value, HTTP APIs join repeats with ','.  Writes it to dst (when not
 * NULL) and returns its length, or -1 when absent. */
long az__header(const az_request *r, const char *name, int join, char *dst);

/* Writes the user agent (REST: last User-Agent value, HTTP: joined) as a
 * JSON string, or null when absent and nullable. */
void az__user_agent(jw *w, const az_request *r, int join, int nullable);

#endif
