/*
 * HTTP mode of the NER function (see http_server.h).  Requests are handled
 * inline on the worker that read them: NER takes a fraction of a
 * millisecond, so a worker per core with no hand-offs is the fastest shape.
 */
#define _GNU_SOURCE
#include "http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nerd/http.h"

#define MAX_HEAD 16384
#define MAX_CONNS_PER_WORKER 4096
#define IDLE_S 60.0
#define REQUEST_S 30.0
#define DRAIN_S 5.0

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

typedef struct hconn {
    int fd;
    char *in;
    size_t in_len, in_cap;
    char *out;
    size_t out_len, out_off, out_cap;
    http_parser p;
    double last, first;  /* last activity; first byte of the current request */
    int close_after;     /* close once out is sent */
    int want_out;        /* registered for EPOLLOUT */
} hconn;

typedef struct worker {
    const fn_app *app;
    fn_ctx *ctx;
    int lfd, ep;
    size_t max_body;
    hconn *conns[MAX_CONNS_PER_WORKER];
    int n;
    pthread_t th;
} worker;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int out_reserve(hconn *c, size_t more)
{
    if (c->out_len + more <= c->out_cap)
        return 0;
    size_t nc = c->out_cap ? c->out_cap : 8192;
    while (nc < c->out_len + more)
        nc *= 2;
    char *p = realloc(c->out, nc);
    if (!p)
        return -1;
    c->out = p;
    c->out_cap = nc;
    return 0;
}

static void append(hconn *c, int status, const char *ct, const char *allow, const char *body,
                   size_t blen, int head_only, int keep)
{
    char h[512];
    int n;
    if (status == 204) /* CORS preflight */
        n = snprintf(h, sizeof h,
                     "HTTP/1.1 204 No Content\r\nAllow: %s\r\nAccess-Control-Allow-Origin: *\r\n"
                     "Access-Control-Allow-Methods: %s\r\nAccess-Control-Allow-Headers: content-type\r\n"
                     "Access-Control-Max-Age: 600\r\n%s\r\n", allow ? allow : "POST, OPTIONS",
                     allow ? allow : "POST, OPTIONS", keep ? "" : "Connection: close\r\n");
    else
        n = snprintf(h, sizeof h,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Access-Control-Allow-Origin: *\r\n%s%s%s%s\r\n",
                     status, http_reason(status), ct ? ct : "application/json", blen,
                     allow ? "Allow: " : "", allow ? allow : "", allow ? "\r\n" : "",
                     keep ? "" : "Connection: close\r\n");
    if (n < 0 || (size_t)n >= sizeof h)
        return;
    if (status == 204 || head_only)
        blen = 0;
    if (out_reserve(c, (size_t)n + blen)) {
        c->close_after = 1;
        return;
    }
    memcpy(c->out + c->out_len, h, (size_t)n);
    c->out_len += (size_t)n;
    if (blen)
        memcpy(c->out + c->out_len, body, blen);
    c->out_len += blen;
    if (!keep)
        c->close_after = 1;
}

static void append_error(hconn *c, int status, const char *err, const char *msg)
{
    char b[256];
    int n = snprintf(b, sizeof b, "{\"error\":\"%s\",\"message\":\"%s\"}", err, msg);
    append(c, status, "application/json", NULL, b, (size_t)n, 0, 0);
}

static void conn_free(worker *w, int i)
{
    hconn *c = w->conns[i];
    epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
    w->conns[i] = w->conns[--w->n];
}

/* Sends pending output; 0 = keep, -1 = close now. */
static int flush_out(worker *w, hconn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t k = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->want_out) {
                struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
                epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
                c->want_out = 1;
            }
            return 0;
        }
        if (k <= 0)
            return -1;
        c->out_off += (size_t)k;
    }
    c->out_off = c->out_len = 0;
    if (c->want_out) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->want_out = 0;
    }
    return c->close_after ? -1 : 0;
}

static const char *header(const http_request *r, const char *buf, const char *name, size_t *len)
{
    return http_header(r, buf, name, len, 0);
}

/* Parses and answers every complete request in c->in. */
static void serve(worker *w, hconn *c)
{
    while (!c->close_after && c->in_len) {
        size_t used;
        int rc = http_parse(&c->p, c->in, c->in_len, &used);
        if (rc == HTTP_MORE) {
            if (http_wants_continue(&c->p) && out_reserve(c, 25) == 0) {
                memcpy(c->out + c->out_len, "HTTP/1.1 100 Continue\r\n\r\n", 25);
                c->out_len += 25;
                c->p.req.expect_continue = 0;
            }
            return;
        }
        if (rc < 0) {
            int st = http_error_status(rc);
            append_error(c, st, st == 413 ? "PayloadTooLarge" : st == 431 ? "HeaderTooLarge"
                                                                          : "BadRequest",
                         st == 413 ? "the request body is over the limit"
                                   : "the request is not valid HTTP/1.1");
            return;
        }
        const http_request *r = &c->p.req;
        const char *target = c->in + r->target;
        size_t tl = r->target_len;
        const char *q = memchr(target, '?', tl);
        size_t pl = q ? (size_t)(q - target) : tl;
        size_t ctl = 0;
        const char *ct = header(r, c->in, "content-type", &ctl);
        fn_response res;
        fn_http(w->ctx, c->in + r->method, r->method_len, target, pl, ct, ctl,
                r->body_len ? c->in + r->body : NULL, r->body_len, &res);
        int head = r->method_len == 4 && !memcmp(c->in + r->method, "HEAD", 4);
        append(c, res.status, res.content_type, res.allow, res.body, res.body_len, head,
               r->keep_alive && !g_stop);
        memmove(c->in, c->in + used, c->in_len - used);
        c->in_len -= used;
        http_parser_init(&c->p, MAX_HEAD, w->max_body);
        c->first = now_s();
    }
}

static void on_readable(worker *w, int i)
{
    hconn *c = w->conns[i];
    for (;;) {
        if (c->in_len == c->in_cap) {
            size_t nc = c->in_cap * 2;
            if (nc > MAX_HEAD + w->max_body + 65536) {
                append_error(c, 413, "PayloadTooLarge", "the request is over the limit");
                break;
            }
            char *p = realloc(c->in, nc);
            if (!p) {
                conn_free(w, i);
                return;
            }
            c->in = p;
            c->in_cap = nc;
        }
        size_t space = c->in_cap - c->in_len;
        ssize_t k = recv(c->fd, c->in + c->in_len, space, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (k <= 0) {
            conn_free(w, i);
            return;
        }
        double t = now_s();
        if (!c->in_len)
            c->first = t;
        c->last = t;
        c->in_len += (size_t)k;
        if ((size_t)k < space)
            break; /* the socket is drained */
    }
    serve(w, c);
    if (flush_out(w, c))
        conn_free(w, i);
}

static void accept_all(worker *w)
{
    for (;;) {
        int fd = accept4(w->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (w->n == MAX_CONNS_PER_WORKER) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        hconn *c = calloc(1, sizeof *c);
        char *in = malloc(16384);
        if (!c || !in) {
            free(c);
            free(in);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->in = in;
        c->in_cap = 16384;
        c->last = c->first = now_s();
        http_parser_init(&c->p, MAX_HEAD, w->max_body);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev)) {
            free(c->in);
            free(c);
            close(fd);
            continue;
        }
        w->conns[w->n++] = c;
    }
}

static int index_of(worker *w, hconn *c)
{
    for (int i = 0; i < w->n; i++)
        if (w->conns[i] == c)
            return i;
    return -1;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    struct epoll_event evs[128];
    double drain_until = 0, last_sweep = now_s();
    for (;;) {
        if (g_stop && w->lfd >= 0) { /* stop accepting; finish what is in flight */
            epoll_ctl(w->ep, EPOLL_CTL_DEL, w->lfd, NULL);
            close(w->lfd);
            w->lfd = -1;
            drain_until = now_s() + DRAIN_S;
            for (int i = w->n - 1; i >= 0; i--) /* idle keep-alive connections go now */
                if (!w->conns[i]->in_len && w->conns[i]->out_off == w->conns[i]->out_len)
                    conn_free(w, i);
        }
        if (g_stop && (!w->n || now_s() > drain_until))
            break;
        int n = epoll_wait(w->ep, evs, 128, 200);
        for (int k = 0; k < n; k++) {
            if (evs[k].data.ptr == NULL) {
                accept_all(w);
                continue;
            }
            hconn *c = evs[k].data.ptr;
            int i = index_of(w, c);
            if (i < 0)
                continue;
            if (evs[k].events & (EPOLLERR | EPOLLHUP) && !(evs[k].events & EPOLLIN)) {
                conn_free(w, i);
                continue;
            }
            if (evs[k].events & EPOLLOUT && flush_out(w, c)) {
                conn_free(w, i);
                continue;
            }
            if (evs[k].events & EPOLLIN)
                on_readable(w, i);
        }
        double t = now_s();
        if (t - last_sweep > 1.0) { /* idle and slow clients */
            last_sweep = t;
            for (int i = w->n - 1; i >= 0; i--) {
                hconn *c = w->conns[i];
                if (c->in_len && t - c->first > REQUEST_S && !c->close_after) {
                    append_error(c, 408, "RequestTimeout", "the request was not received in time");
                    if (flush_out(w, c))
                        conn_free(w, i);
                } else if (!c->in_len && c->out_off == c->out_len && t - c->last > IDLE_S) {
                    conn_free(w, i);
                }
            }
        }
    }
    while (w->n)
        conn_free(w, w->n - 1);
    return NULL;
}

static int listen_on(const char *host, int port, char *err, size_t errlen)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        snprintf(err, errlen, "--host %s: not an IPv4 address", host);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 1024)) {
        snprintf(err, errlen, "%s:%d: %s", host, port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int hs_run(const fn_app *app, const hs_options *o, char *err, size_t errlen)
{
    int nt = o->threads > 0 ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (nt < 1)
        nt = 1;
    worker *ws = calloc((size_t)nt, sizeof *ws);
    if (!ws) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int port = o->port, rc = 0, started = 0;
    for (int i = 0; i < nt && !rc; i++) {
        worker *w = &ws[i];
        w->app = app;
        w->max_body = fn_app_max_text(app) * 6 + 1024;
        w->lfd = listen_on(o->host, port, err, errlen);
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        if (w->lfd < 0 || w->ep < 0 || fn_ctx_new(app, &w->ctx)) {
            if (w->lfd >= 0)
                close(w->lfd);
            if (w->ep >= 0)
                close(w->ep);
            if (!err[0])
                snprintf(err, errlen, "cannot start a worker");
            rc = -1;
            break;
        }
        if (!port) { /* ephemeral: the others join the same port */
            struct sockaddr_in a;
            socklen_t al = sizeof a;
            getsockname(w->lfd, (struct sockaddr *)&a, &al);
            port = ntohs(a.sin_port);
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
        epoll_ctl(w->ep, EPOLL_CTL_ADD, w->lfd, &ev);
        if (pthread_create(&w->th, NULL, worker_main, w)) {
            close(w->lfd);
            close(w->ep);
            fn_ctx_free(w->ctx);
            snprintf(err, errlen, "cannot start a thread");
            rc = -1;
            break;
        }
        started++;
    }
    if (!rc) {
        fprintf(stderr, "listening on http://%s:%d (%d threads)\n", o->host, port, nt);
        fflush(stderr);
    } else {
        g_stop = 1;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(ws[i].th, NULL);
        if (ws[i].lfd >= 0)
            close(ws[i].lfd);
        close(ws[i].ep);
        fn_ctx_free(ws[i].ctx);
    }
    free(ws);
    return rc;
}
