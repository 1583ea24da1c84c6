/*
 * The server side of the Runtime API 2018-06-01 for one environment: the
 * runtime's connections (non-blocking on the environment's loop;
 * keep-alive, pipelining, chunked bodies via nerd/http.h), `/next` parked
 * until an event is queued (never timed out), `/response`, `/error`,
 * `/init/error`, and the answers RIE gives for anything else (400
 * InvalidRequestID, 403 InvalidStateTransition, 404, 413 over 6,291,556
 * bytes).  Answers are written without blocking: what the socket does not
 * take waits in the connection's buffer, so a runtime that stops reading
 * stalls nothing but itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "runtime_int.h"

static void on_conn(ev_loop *L, ev_io *w, uint32_t revents);

void lam__conn_close(lam__conn *c)
{
    if (c->fd >= 0) {
        ev_io_stop(c->e->L, &c->io);
        close(c->fd);
    }
    free(c->buf);
    free(c->out);
    lam_env *e = c->e;
    memset(c, 0, sizeof *c);
    c->e = e;
    c->fd = -1;
    c->io.fd = -1;
}

/* Queues a[0..al) + b[0..bl) after what is already waiting. */
static int out_append(lam__conn *c, const char *a, size_t al, const char *b, size_t bl)
{
    size_t pending = c->out_len - c->out_off;
    if (pending + al + bl > LAM__CONN_CAP + LAM_MAX_PAYLOAD)
        return -1;
    if (c->out_off) {
        memmove(c->out, c->out + c->out_off, pending);
        c->out_len = pending;
        c->out_off = 0;
    }
    char *o = realloc(c->out, pending + al + bl + 1);
    if (!o)
        return -1;
    memcpy(o + pending, a, al);
    if (bl)
        memcpy(o + pending + al, b, bl);
    c->out = o;
    c->out_len = pending + al + bl;
    return 0;
}

/* Writes as much of the queue as the socket takes; 0, or -1 when the
 * connection failed (closed). */
static int out_flush(lam__conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            break;
        if (w <= 0) {
            lam__conn_close(c);
            return -1;
        }
        c->out_off += (size_t)w;
    }
    if (c->out_off == c->out_len) {
        free(c->out);
        c->out = NULL;
        c->out_len = c->out_off = 0;
        if (c->closing) {
            lam__conn_close(c);
            return -1;
        }
    }
    ev_io_set(c->e->L, &c->io, c->out ? EPOLLIN | EPOLLOUT : EPOLLIN);
    return 0;
}

/* Sends a head and a body: at once when nothing waits before them, the
 * rest queued. */
static void send2(lam__conn *c, const char *a, size_t al, const char *b, size_t bl)
{
    if (c->fd < 0)
        return;
    if (c->out || c->corked) {
        if (out_append(c, a, al, b, bl))
            lam__conn_close(c);
        return;
    }
    size_t done;
    if (http_send2_some(c->fd, a, al, b, bl, &done) != 0) {
        lam__conn_close(c);
        return;
    }
    if (done == al + bl)
        return;
    if (out_append(c, done < al ? a + done : "", done < al ? al - done : 0,
                   done < al ? b : b + (done - al), done < al ? bl : al + bl - done)) {
        lam__conn_close(c);
        return;
    }
    ev_io_set(c->e->L, &c->io, EPOLLIN | EPOLLOUT);
}

static void respond(lam__conn *c, int status, const char *extra_headers, const char *body,
                    size_t blen, int keep)
{
    char head[2048];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s%s\r\n",
                     status, http_reason(status), blen, extra_headers ? extra_headers : "",
                     keep ? "" : "Connection: close\r\n");
    send2(c, head, (size_t)n, body, blen);
}

static void respond_error(lam__conn *c, int status, const char *type, const char *msg)
{
    char body[512];
    int n = snprintf(body, sizeof body, "{\"errorMessage\":\"%s\",\"errorType\":\"%s\"}", msg,
                     type);
    respond(c, status, "Content-Type: application/json\r\n", body, (size_t)n, 1);
}

static const char accepted[] = "{\"status\":\"OK\"}";

/* POST /runtime/init/error during init: the type is the
 * Lambda-Runtime-Function-Error-Type header (Runtime.Unknown without one),
 * the message the body's errorMessage (else the body itself); the body is
 * what the invoker gets. */
static void init_error_posted(lam_env *e, const http_request *r, const char *buf)
{
    const char *body = buf + r->body;
    size_t hl = 0, blen = r->body_len;
    const char *h = http_header(r, buf, "lambda-runtime-function-error-type", &hl, 1);
    char type[128] = "Runtime.Unknown";
    if (h && hl)
        lam__one_line(type, sizeof type, h, hl);
    json_error_t je;
    json_t *j = blen ? json_loadb(body, blen, JSON_DECODE_ANY, &je) : NULL;
    json_t *m = json_is_object(j) ? json_object_get(j, "errorMessage") : NULL;
    if (json_is_string(m))
        lam__init_fail(e, type, json_string_value(m), json_string_length(m), body, blen, 0);
    else
        lam__init_fail(e, type, body, blen, blen ? body : NULL, blen, 0);
    json_decref(j);
    e->inited = -1;
}

static void deliver(lam_env *e, lam__conn *c)
{
    char hdr[1024];
    char trace[128];
    unsigned char tb[12];
    for (int i = 0; i < 12; i++)
        tb[i] = (unsigned char)e->rid[(i * 3) % 36];
    snprintf(trace, sizeof trace, "Root=1-%08llx-%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x;"
             "Parent=%.16s;Sampled=0", (unsigned long long)(clk_epoch_ms() / 1000) & 0xffffffffULL,
             tb[0], tb[1], tb[2], tb[3], tb[4], tb[5], tb[6], tb[7], tb[8], tb[9], tb[10], tb[11],
             "0000000000000000");
    snprintf(hdr, sizeof hdr,
             "Content-Type: application/json\r\n"
             "Lambda-Runtime-Aws-Request-Id: %s\r\n"
             "Lambda-Runtime-Deadline-Ms: %lld\r\n"
             "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:%s\r\n"
             "Lambda-Runtime-Trace-Id: %s\r\n",
             e->rid, e->deadline_ms, e->f.name, trace);
    if (e->state == LAM__ST_PENDING) {
        e->state = LAM__ST_RUNNING;
        e->t_deliver = clk_mono_ms();
    }
    c->parked = 0;
    respond(c, 200, hdr, e->event, e->event_len, 1);
    if (c->fd >= 0 && c->out && !c->corked)
        out_flush(c); /* with an answer held for it (on_readable) */
}

void lam__deliver_parked(lam_env *e)
{
    if (e->state != LAM__ST_PENDING || e->inited <= 0 || e->phase != LAM__P_INVOKE)
        return;
    for (int i = 0; i < LAM__MAX_CONNS; i++)
        if (e->conns[i].fd >= 0 && e->conns[i].parked) {
            deliver(e, &e->conns[i]);
            return;
        }
}

static int path_id(const char *t, size_t tl, const char *suffix, char *id, size_t cap)
{
    static const char pre[] = "/2018-06-01/runtime/invocation/";
    size_t pl = sizeof pre - 1, sl = strlen(suffix);
    if (tl <= pl + sl || memcmp(t, pre, pl) || memcmp(t + tl - sl, suffix, sl))
        return 0;
    size_t il = tl - pl - sl;
    if (il >= cap)
        il = cap - 1;
    memcpy(id, t + pl, il);
    id[il] = 0;
    return 1;
}

/* Handles one complete request on c. */
static void handle(lam_env *e, lam__conn *c)
{
    const http_request *r = &c->p.req;
    const char *m = c->buf + r->method, *t = c->buf + r->target;
    size_t ml = r->method_len, tl = r->target_len;
    const char *body = c->buf + r->body;
    char id[128];
    int is_get = ml == 3 && !memcmp(m, "GET", 3), is_post = ml == 4 && !memcmp(m, "POST", 4);
    if (is_get && tl == 35 && !memcmp(t, "/2018-06-01/runtime/invocation/next", 35)) {
        if (!e->inited) {
            e->inited = 1;
            e->init_ms = clk_mono_ms() - e->spawn_t;
        }
        if ((e->state == LAM__ST_PENDING || e->state == LAM__ST_RUNNING) &&
            e->phase == LAM__P_INVOKE)
            deliver(e, c);
        else
            c->parked = 1;
        return;
    }
    if (is_post && tl == 30 && !memcmp(t, "/2018-06-01/runtime/init/error", 30)) {
        if (e->inited) { /* spec 1.5: RIE refuses InitError once init is over */
            respond_error(c, 403, "InvalidStateTransition",
                          "State transition from Running to InitError failed for runtime. "
                          "Error: init has finished");
            return;
        }
        respond(c, 202, "Content-Type: application/json\r\n", accepted, sizeof accepted - 1, 1);
        init_error_posted(e, r, c->buf);
        return;
    }
    int is_resp = is_post && path_id(t, tl, "/response", id, sizeof id);
    int is_err = !is_resp && is_post && path_id(t, tl, "/error", id, sizeof id);
    if (is_resp || is_err) {
        if (strcmp(id, e->rid) != 0 || !e->rid[0]) {
            respond_error(c, 400, "InvalidRequestID", "Invalid request ID");
            return;
        }
        if (e->state != LAM__ST_RUNNING) {
            respond_error(c, 403, "InvalidStateTransition",
                          "State transition from ResponseSent to InvocationResponse failed "
                          "for runtime. Error: invalid state transition");
            return;
        }
        respond(c, 202, "Content-Type: application/json\r\n", accepted, sizeof accepted - 1, 1);
        if (is_resp) {
            lam__set_result(e, LAM_OK, body, r->body_len);
        } else if (r->body_len) {
            lam__set_result(e, LAM_FUNCTION_ERROR, body, r->body_len);
        } else {
            size_t hl;
            const char *type = http_header(r, c->buf, "lambda-runtime-function-error-type", &hl, 1);
            char js[512];
            int n = snprintf(js, sizeof js, "{\"errorMessage\":\"Unhandled\",\"errorType\":\"%.*s\"}",
                             type ? (int)(hl < 200 ? hl : 200) : 9, type ? type : "Unhandled");
            lam__set_result(e, LAM_FUNCTION_ERROR, js, (size_t)n);
        }
        return;
    }
    respond_error(c, 404, "NotFound", "Not found");
}

static void serve_reads(lam_env *e, lam__conn *c);

/* Reads what arrived and serves every complete request in it, the answers
 * written together at the end.  When the runtime pipelined its next GET
 * /next behind a /response (or /error), the 202 waits and goes out with
 * the next event, in one write: the runtime is woken once per invocation,
 * and sees nothing earlier than Lambda would show a sandbox frozen in
 * /next. */
static void on_readable(lam_env *e, lam__conn *c)
{
    c->corked = 1;
    serve_reads(e, c);
    c->corked = 0;
    if (c->fd >= 0 && c->out && !c->parked)
        out_flush(c);
}

static void serve_reads(lam_env *e, lam__conn *c)
{
    if (c->len == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16384;
        if (cap > LAM__CONN_CAP)
            cap = LAM__CONN_CAP;
        if (cap == c->cap) {
            lam__conn_close(c);
            return;
        }
        char *b = realloc(c->buf, cap);
        if (!b) {
            lam__conn_close(c);
            return;
        }
        c->buf = b;
        c->cap = cap;
    }
    ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        lam__conn_close(c);
        return;
    }
    c->len += (size_t)r;
    while (c->fd >= 0 && c->len) {
        size_t used = 0;
        int rc = http_parse(&c->p, c->buf, c->len, &used);
        if (rc == HTTP_MORE) {
            if (http_wants_continue(&c->p) && !c->continued) {
                send2(c, "HTTP/1.1 100 Continue\r\n\r\n", 25, NULL, 0);
                c->continued = 1;
            }
            return;
        }
        if (rc < 0) {
            int st = http_error_status(rc);
            if (st == 413) {
                respond_error(c, 413, "RequestEntityTooLarge",
                              "Exceeded maximum allowed payload size (6291556 bytes).");
                static const char too_large[] =
                    "{\"errorMessage\":\"Response payload size exceeded maximum allowed "
                    "payload size (6291556 bytes).\",\"errorType\":"
                    "\"Function.ResponseSizeTooLarge\"}";
                if (e->state == LAM__ST_RUNNING)
                    lam__set_result(e, LAM_TOO_LARGE, too_large, sizeof too_large - 1);
            } else {
                respond_error(c, st, "InvalidRequest", http_reason(st));
            }
            c->closing = 1;
            c->len = 0;
            if (!c->out)
                lam__conn_close(c);
            return;
        }
        handle(e, c);
        if (c->fd < 0)
            return;
        int keep = c->p.req.keep_alive;
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
        http_parser_init(&c->p, 65536, LAM_MAX_PAYLOAD);
        c->continued = 0;
        if (!keep && !c->parked) {
            c->closing = 1;
            c->len = 0;
            if (!c->out)
                lam__conn_close(c);
            return;
        }
        if (c->parked)
            return;
    }
}

static void on_conn(ev_loop *L, ev_io *w, uint32_t revents)
{
    (void)L;
    lam__conn *c = w->data;
    lam_env *e = c->e;
    if ((revents & EPOLLOUT) && c->out && out_flush(c) != 0) {
        lam__advance(e);
        return;
    }
    if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->fd >= 0 && !c->closing)
        on_readable(e, c);
    else if ((revents & (EPOLLHUP | EPOLLERR)) && c->fd >= 0)
        lam__conn_close(c);
    lam__advance(e);
}

lam__conn *lam__conn_open(lam_env *e, int fd)
{
    for (int i = 0; i < LAM__MAX_CONNS; i++)
        if (e->conns[i].fd < 0) {
            lam__conn *c = &e->conns[i];
            c->fd = fd;
            c->e = e;
            http_parser_init(&c->p, 65536, LAM_MAX_PAYLOAD);
            if (ev_io_start(e->L, &c->io, fd, EPOLLIN, on_conn, c) != 0) {
                c->fd = -1;
                return NULL;
            }
            return c;
        }
    return NULL;
}

void lam__accept(ev_loop *L, ev_io *w, uint32_t revents)
{
    (void)L;
    (void)revents;
    lam_env *e = w->data;
    int fd = accept4(e->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!lam__conn_open(e, fd))
        close(fd); /* too many connections from one runtime */
}
