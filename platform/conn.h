/*
 * The client side of the platform's HTTP servers: accepted connections on
 * one event loop, each a small state machine (idle, reading a request,
 * busy while the request is served, writing, closing) over nerd/http.h's
 * parser.  Every deadline is a timer on the loop: a request head must be
 * complete within head_s of its first byte and the whole request within
 * body_s (else the error callback answers 408), an idle keep-alive
 * connection is closed after idle_s.  Answers are written without
 * blocking; pipelined requests are served in order, one at a time.  An
 * idle connection holds no read buffer.
 *
 * Everything here runs on the loop's thread; a request may be answered
 * later than its callback (from a post to that loop), exactly once.
 */
#ifndef NERD_CONN_H
#define NERD_CONN_H

#include <stddef.h>

#include "loop.h"
#include "nerd/http.h"

typedef struct hc_conn hc_conn;
typedef struct hc_server hc_server;

typedef struct hc_limits {
    double head_s, body_s, idle_s;   /* seconds */
    size_t max_head, max_body;       /* bytes (431 / 413 beyond) */
} hc_limits;

typedef struct hc_handler {
    /* A complete request: buf[...] holds it (offsets in r), valid until it
     * is answered with hc_send(). */
    void (*request)(hc_conn *c, char *buf, const http_request *r, void *arg);
    /* A request that cannot be served: status is 400, 408, 413, 414, 431,
     * 501 or 505; the callback answers it with keep = 0. */
    void (*error)(hc_conn *c, int status, void *arg);
    /* Optional: a connection just accepted; 1 when the callback took fd
     * (to serve it on another loop: hc_server_adopt there), 0 to serve it
     * here. */
    int (*accepted)(int fd, void *arg);
    void *arg;
} hc_handler;

/* Serves connections accepted from the listening socket lfd (shared by
 * several loops: each accepts with EPOLLEXCLUSIVE; -1: none) on L.  NULL
 * on error. */
hc_server *hc_server_new(ev_loop *L, int lfd, const hc_limits *lim, const hc_handler *h);

/* Serves fd, a connected socket, as if s had accepted it (tests and
 * fuzzing; s may then have been made with lfd -1, accepting nothing).
 * 0, or -1 (fd is closed). */
int hc_server_adopt(hc_server *s, int fd);

/* Stops accepting; connections already open are served on. */
void hc_server_stop_accepting(hc_server *s);

/* Closes the connections that wait for a request (shutdown). */
void hc_server_close_idle(hc_server *s);

/* Connections open, and those serving a request now. */
size_t hc_server_conns(const hc_server *s);
size_t hc_server_busy(const hc_server *s);

/* Closes every connection and frees s.  hc_server_free(NULL) is a no-op. */
void hc_server_free(hc_server *s);

/* Answers the request c is serving with head[0..hl) and body[0..bl)
 * (copied as needed); keep = 0 closes the connection once written.  After
 * it the request's buffer is gone. */
void hc_send(hc_conn *c, const char *head, size_t hl, const char *body, size_t bl, int keep);

/* The loop c is served on. */
ev_loop *hc_loop(const hc_conn *c);

/* The peer's address as text ("127.0.0.1"). */
const char *hc_peer(const hc_conn *c);

#endif
