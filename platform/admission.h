/*
 * Admission: what a request passes between its route and its integration,
 * in API Gateway's order (../shared/specs/apigw-rest-auth-runtimes.md
 * §2.3, §3.1.6): the authorizer, the API key, the usage plan's throttle
 * and quota, then the stage/method (REST) or route (HTTP API) throttle.
 * Both API fronts run it: restapi.c and httpapi.c fill a gw_admission once
 * the route is known and call gw_admit(); each stage of the list in
 * admission.c then
 *   - lets the request pass (GW_PASS), having filled what the event needs
 *     (requestContext.authorizer, identity.apiKey), or
 *   - answers it itself (GW_ANSWERED) with the front's dialect (answer.h):
 *     401, 403, 429, 500, or
 *   - waits (GW_WAIT) for something asynchronous, such as an authorizer's
 *     own Lambda invocation through the pools, and later calls
 *     gw_admit_resume() on the request's worker.
 * When every stage has passed, the front's proceed() builds the event and
 * invokes the function.  A new stage is a new file with one gw_stage and a
 * line in admission.c's list.  Everything runs on the request's worker.
 */
#ifndef NERD_ADMISSION_H
#define NERD_ADMISSION_H

#include "answer.h"

typedef enum gw_verdict {
    GW_PASS,                    /* go on */
    GW_ANSWERED,                /* the stage answered the request (it is freed) */
    GW_WAIT                     /* gw_admit_resume() comes later */
} gw_verdict;

typedef struct gw_admission gw_admission;

typedef struct gw_stage {
    const char *name;
    gw_verdict (*run)(gw_admission *a);
} gw_stage;

struct gw_admission {
    /* set by the front */
    gw_req *r;                  /* NULL once answered */
    gw_worker *w;
    const gw_dialect *dialect;  /* the API's answers */
    const gw_ids *ids;          /* REST: the request's ids (answers carry them), else NULL */
    int api;                    /* index into t->apis */
    int route;                  /* index into t->routes; -1: a REST CORS preflight (the MOCK
                                 * OPTIONS method SAM adds, which SAM also puts behind the
                                 * default authorizer and the API key) */
    int resource;               /* REST: the resource matched, else -1 */
    const char *stage;          /* the stage served: "Prod", "$default" */
    const char *path;           /* the request's path without the stage ("/items/7") */
    const apigw_match *match;   /* path parameters */
    long long time_ms;          /* when the request arrived (epoch ms) */
    void (*proceed)(gw_admission *a);   /* every stage passed: the front goes on */
    void (*answered)(gw_admission *a);  /* a stage answered: the front drops its state */
    /* filled by the stages, read by the event builders */
    char *authorizer;           /* requestContext.authorizer as a JSON object (malloc'd),
                                 * NULL = none */
    char *usage_key;            /* the authorizer's usageIdentifierKey (malloc'd, freed by
                                 * gw_admission_fini), NULL = none: the API key of an API
                                 * whose ApiKeySourceType is AUTHORIZER */
    char api_key[129];          /* identity.apiKey, "" = none */
    char api_key_id[SAM_STR];   /* identity.apiKeyId: the key's logical id */
    /* internal */
    size_t next;                /* the next stage to run */
};

/* Runs the stages from a->next on: calls a->proceed or a->answered, now or
 * (after a GW_WAIT) later. */
void gw_admit(gw_admission *a);

/* A waiting stage's outcome (GW_PASS or GW_ANSWERED), on a->w's loop. */
void gw_admit_resume(gw_admission *a, gw_verdict v);

/* Frees what the stages filled.  The admission itself is the front's. */
void gw_admission_fini(gw_admission *a);

#endif
