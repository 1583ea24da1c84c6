/*
 * The local HTTP API gateway (`nerd local start-api`): serves the routes of
 * a SAM template on 127.0.0.1, turns each request into a payload 2.0 event,
 * runs it in an execution environment of the routed function (warm ones are
 * reused; new ones cold-start up to the function's reserved concurrency,
 * else the account limit; beyond it the request is throttled with 429) and
 * maps the result back.  One thread per client connection; environments
 * are shared through a per-function pool; provisioned environments are
 * started and initialised before the gateway accepts requests.
 */
#ifndef NERD_GATEWAY_H
#define NERD_GATEWAY_H

#include <stdio.h>

#include "template.h"

#define GW_ACCOUNT_CONCURRENCY 1000

typedef struct gw_options {
    int port;              /* 0: ephemeral (printed) */
    double idle_reap_s;    /* idle environments are shut down after this */
    FILE *log;             /* platform and function logs */
    volatile int *stop;    /* set to non-zero to stop serving */
    const char *destinations; /* directory for OnFailure/OnSuccess JSON lines */
    double client_timeout_s;  /* idle keep-alive / slow request limit; 0 = 30 s */
} gw_options;

/* Serves t until *o->stop becomes non-zero.  Prints "listening on
 * http://127.0.0.1:PORT" to o->log once ready.  Returns 0 or -1 with a
 * message in err. */
int gw_serve(const sam_template *t, const gw_options *o, char *err, size_t errlen);

#endif
