/*
 * The NER function's HTTP mode: an HTTP/1.1 server for the handler
 * (handler.h), for container platforms that expect a server on $PORT.  One
 * epoll loop per worker thread, each with its own SO_REUSEPORT listener and
 * its own handler context; keep-alive and pipelining (answers in order; a
 * client that half-closes still gets every answer); caps on heads and
 * bodies; a client that does not read its answers is not read either once
 * 1 MB of them waits (memory per connection stays bounded) and is dropped
 * after 30 s without progress; idle clients closed after 60 s, 408 for a
 * request not received whole in 30 s.  SIGTERM or SIGINT: stop accepting,
 * finish what is in flight (at most 5 s), return.
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
 * stderr once every worker accepts.  app is borrowed (shared read-only by
 * the workers; each creates its own fn_ctx).  Installs handlers for
 * SIGTERM and SIGINT and ignores SIGPIPE, so call it once per process, from
 * one thread.  Returns 0, or -1 with a message in err (bind failure and the
 * like). */
int hs_run(const fn_app *app, const hs_options *o, char *err, size_t errlen);

#endif
