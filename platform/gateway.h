/*
 * The local API gateway (`nerd local start-api`): serves the HTTP APIs
 * and REST APIs of a SAM template on 127.0.0.1, the Lambda API on the same
 * port, and the platform's /__nerd endpoints.  One worker thread
 * per core, each an event loop (platform/loop.h) holding its share of the
 * client connections (platform/conn.h) and the execution environments it
 * started (platform/pool.h, platform/runtime.h); a request is offered to
 * the front ends (platform/front.h) in turn.  docs/platform.md follows
 * one request through the files.
 */
#ifndef NERD_GATEWAY_H
#define NERD_GATEWAY_H

#include <stdio.h>

#include "template.h"

typedef struct gw_options {
    int port;              /* 0: ephemeral (printed) */
    double idle_reap_s;    /* idle environments are shut down after this */
    FILE *log;             /* platform and function logs */
    volatile int *stop;    /* set to non-zero to stop serving */
    const char *destinations; /* directory for OnFailure/OnSuccess JSON lines */
    double client_timeout_s;  /* idle keep-alive, and first byte to whole
                               * request (else 408); 0 = 30 s */
    double head_timeout_s;    /* first byte to complete head (else 408);
                               * 0 = client_timeout_s */
    int workers;              /* event loops; 0 = one per online CPU */
    int no_stage;             /* REST APIs at /path instead of /{stage}/path, as
                               * `sam local start-api` serves them */
    const char *usage_db;     /* API keys' generated values and usage counts (SQLite);
                               * NULL = .nerd/usage.sqlite3 under the working
                               * directory; opened only when a method requires a key */
    const char *const *jwks;  /* --jwks KEY=FILE|URL: keys of JWT and Cognito
                               * authorizers (authz.h) */
    size_t n_jwks;
} gw_options;

/* Serves t until *o->stop becomes non-zero, then lets running requests
 * finish (each ends by its function's deadline) and stops every
 * environment.  Prints "listening on http://127.0.0.1:PORT" to o->log once
 * ready.  Returns 0 or -1 with a message in err. */
int gw_serve(const sam_template *t, const gw_options *o, char *err, size_t errlen);

#endif
