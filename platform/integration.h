/*
 * One Lambda proxy integration of an API front (REST: restapi.c, HTTP API:
 * httpapi.c): the request's admission (admission.h), its event handed to
 * the function's pool, the integration timeout as a timer on the client's
 * worker (at TimeoutInMillis the front answers, and the function runs on
 * to its own deadline: Lambda does not cancel it), and the outcome handed
 * back to the front, which maps it and answers.  A gw_call is allocated
 * with the front's own state behind it (`front`).  Everything runs on the
 * request's worker.
 */
#ifndef NERD_INTEGRATION_H
#define NERD_INTEGRATION_H

#include "admission.h"

typedef enum gw_outcome {
    GW_RESULT,                  /* the function ran: pc.res has its outcome */
    GW_REJECTED,                /* Lambda did not run it: throttled, or no environment */
    GW_TIMED_OUT                /* the integration timeout passed first */
} gw_outcome;

typedef struct gw_call gw_call;

struct gw_call {
    gw_admission adm;           /* first: a gw_admission * is its gw_call * */
    gw_req *r;                  /* NULL once answered */
    gw_worker *w;
    char *event;                /* owned */
    /* The front answers r (exactly once) for outcome o; k is freed after. */
    void (*done)(gw_call *k, gw_req *r, gw_outcome o);
    void *front;                /* the front's state (front_size bytes) */
    ev_timer timeout;
    pool_call pc;
};

/* A call for request r with front_size bytes of front state (not
 * cleared: the front sets it); NULL when memory ran out.  adm.r, adm.w,
 * adm.time_ms and adm.answered (the call is freed) are set. */
gw_call *gw_call_new(gw_req *r, size_t front_size);

/* Frees k (its event, result and admission outputs).  NULL: no-op. */
void gw_call_free(gw_call *k);

/* Invokes function fi with event[0..len) (taken over), answering through
 * k->done: GW_TIMED_OUT after timeout_ms, else GW_RESULT or GW_REJECTED;
 * k is freed once the invocation is over. */
void gw_call_invoke(gw_call *k, int fi, char *event, size_t len, int timeout_ms);

/* The request as the event builders see it: hdrs (HTTP_MAX_HEADERS
 * entries) and *ar point into r, which must outlive them.  request_id and
 * api_id are the caller's. */
void gw_request_view(const gw_req *r, apigw_kv *hdrs, apigw_request *ar, const char *request_id,
                     const char *api_id, long long time_ms);

/* The port of the request's Host header (X-Forwarded-Port), else "80". */
const char *gw_host_port(const gw_req *r, char out[8]);

/* API a's id in events: its logical id lower-cased ("serverlessrestapi"). */
void gw_api_id(const sam_api *a, char out[64]);

#endif
