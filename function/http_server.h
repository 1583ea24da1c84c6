/*
 * The NER function's HTTP mode: an HTTP/1.1 server for the handler
 * (handler.h), for container platforms that expect a server on $PORT.  One
 * epoll loop per worker thread, each with its own SO_REUSEPORT listener and
 * its own handler context; keep-alive and pipelining; caps on heads and
 * bodies; idle and slow clients closed (408 for a request not received
 * whole in 30 s).  SIGTERM or SIGINT: stop accepting, finish what is in
 * flight (at most 5 s), return.
 */
#ifndef NERD_FUNCTION_HTTP_SERVER_H
#define NERD_FUNCTION_HTTP_SERVER_H

#include <stddef.h>

#include "handler.h"

typedef struct hs_options {
    const char *host;   /* IPv4 address to bind */
    int port;           /* 0: ephemeral */
    int threads;        /* 0: online CPUs */
} hs_options;

/* Serves until SIGTERM/SIGINT.  Prints "listening on http://HOST:PORT" to
 * stderr once every worker accepts.  Returns 0, or -1 with a message in
 * err (bind failure and the like). */
int hs_run(const fn_app *app, const hs_options *o, char *err, size_t errlen);

#endif
