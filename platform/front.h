/*
 * What the gateway's front ends share (internal to platform/): the
 * gateway's state, its workers, one request being served, and the
 * interface a front end implements.  A request arrives at gateway.c,
 * which offers it to each front in turn (the Lambda API, the platform's
 * /__nerd endpoints, the REST and HTTP APIs, ...); the first that takes
 * it answers it with gw_reply(), at once or later from its worker's loop.
 * A new front end is a new file with one gw_front and a line in
 * gateway.c's list; what the API fronts run between route and integration
 * (authorizers, API keys, throttles) is admission.h's.
 */
#ifndef NERD_FRONT_H
#define NERD_FRONT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "apigw.h"
#include "conn.h"
#include "gateway.h"
#include "loop.h"
#include "metrics.h"
#include "pool.h"

#define GW_MAX_WORKERS 64

typedef struct gw gw;
typedef struct gw_async gw_async;

typedef struct gw_worker {
    int id;
    gw *g;
    ev_loop *L;
    hc_server *srv;
    pthread_t th;
    ev_timer tick;       /* stop flag, idle reaping */
    double last_reap;
    size_t pending;      /* requests being answered from here (shutdown waits) */
    struct gw_req *spare;  /* freed requests, for reuse */
    size_t n_spare;
} gw_worker;

typedef struct gw_bucket {
    pthread_mutex_t mu;
    double tokens, last;
} gw_bucket;

struct gw {
    const sam_template *t;
    const gw_options *o;
    gw_worker workers[GW_MAX_WORKERS];
    int n_workers;
    pool_set *pools;
    met *met;
    gw_bucket buckets[SAM_MAX_ROUTES];
    struct up_store *usage;   /* API keys and usage plans (admit_keys.c), NULL = none */
    gw_async *async;
    struct gw_authz *authz;   /* the template's authorizers (authz.h) */
    double head_timeout, client_timeout;
    volatile int stopping;
    atomic_uint next_worker;  /* connections dealt in turn (gateway.c) */
};

/* One request offered to the fronts; freed by gw_reply(). */
typedef struct gw_req {
    struct gw_req *next_spare;
    gw *g;
    gw_worker *w;
    hc_conn *c;
    char *buf;                 /* the request's bytes (offsets in hr) */
    const http_request *hr;
    char rid[24];              /* apigw-requestid ("" = not sent: REST answers) */
    char method[16];
    char path[2048];           /* the target up to '?' */
    const char *query;         /* after '?', or NULL */
    size_t query_len;
    int keep;
} gw_req;

typedef struct gw_front {
    const char *name;
    /* 1 when r is this front's (it answers r, now or later), 0 when not. */
    int (*serve)(gw_req *r);
} gw_front;

extern const gw_front gw_front_lambda;     /* lambdaapi.c: Invoke, List/GetFunction */
extern const gw_front gw_front_platform;   /* endpoints.c: /__nerd/... */
extern const gw_front gw_front_httpapi;    /* httpapi.c: the template's HTTP APIs */
extern const gw_front gw_front_fallback;   /* endpoints.c: /metrics where no route is */
extern const gw_front gw_front_restapi;    /* restapi.c: the template's REST APIs */
extern const gw_front gw_front_rest_unmatched; /* restapi.c: REST's 403 for the rest */

/* restapi.c: answers a request the connection refused (status: 413 and
 * the like) as a REST API does, when the template's APIs are all REST:
 * 1, or 0 (the gateway answers). */
int gw_rest_error(gw_req *r, int status);

/* Answers r and frees it: status, headers of resp (may be NULL; its
 * content-length, connection and transfer-encoding are the gateway's),
 * body[0..blen); content-type application/json unless resp has one. */
void gw_reply(gw_req *r, int status, const apigw_response *resp, const char *body,
              size_t blen);

/* Answers r with {"message":"MSG"} and frees it. */
void gw_reply_msg(gw_req *r, int status, const char *msg);

/* A request header's value copied into out (cap bytes), or NULL. */
const char *gw_header(const gw_req *r, const char *name, char *out, size_t cap);

/* async.c: Event invocations.  Queues event[0..len) for function fi
 * (copied) with request id id; 0, or -1 when the queue is full. */
#define GW_ASYNC_QUEUE 10000
gw_async *gw_async_new(gw *g);
int gw_async_submit(gw *g, gw_worker *w, int fi, const char *event, size_t len,
                    const char *id);
/* Jobs not finished (shutdown waits for them); on stop, waiting retries
 * end at once. */
size_t gw_async_pending(gw_async *a);
void gw_async_stop(gw_async *a, gw_worker *w);
void gw_async_free(gw_async *a);

#endif
