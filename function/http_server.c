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
#include <stdatomic.h>
#include <stdint.h>
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
#define OUT_HIGH ((size_t)1 << 20) /* pending output above which a client is not read */
#define IDLE_S 60.0
#define REQUEST_S 30.0
#define DRAIN_S 5.0

static atomic_int g_stop; /* lock-free, so safe to set from the signal handler */

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&g_stop, 1);
}

typedef struct hconn {
    int fd;
    int idx;             /* position in worker.conns */
    char *in;
    size_t in_len, in_cap;
    char *out;
    size_t out_len, out_off, out_cap;
    http_parser p;
    double last, first;  /* last activity; first byte of the current request */
    int close_after;     /* close once out is sent */
    int eof;             /* the client has shut down its side */
    uint32_t events;     /* registered epoll interest */
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
    if (c->out_off) { /* reclaim what is sent before growing */
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
        if (c->out_len + more <= c->out_cap)
            return 0;
    }
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
    if (n < 0 || (size_t)n >= sizeof h) {
        c->close_after = 1;
        return;
    }
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

static void conn_free(worker *w, hconn *c)
{
    int i = c->idx;
    epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
    if (i != --w->n) {
        w->conns[i] = w->conns[w->n];
        w->conns[i]->idx = i;
    }
}

/* Registers the epoll interest c needs now: output while some is pending;
 * input unless the client has closed, the connection is closing, or the
 * client is not reading its answers (pending output over OUT_HIGH). */
static void set_interest(worker *w, hconn *c)
{
    size_t pend = c->out_len - c->out_off;
    uint32_t ev = pend ? EPOLLOUT : 0;
    if (pend < OUT_HIGH && !c->eof && !c->close_after)
        ev |= EPOLLIN;
    if (ev != c->events) {
        struct epoll_event e = {.events = ev, .data.ptr = c};
        epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &e);
        c->events = ev;
    }
}

/* Sends pending output; 0 = keep, -1 = close now. */
static int flush_out(hconn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t k = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (k <= 0)
            return -1;
        c->out_off += (size_t)k;
        c->last = now_s();
    }
    c->out_off = c->out_len = 0;
    return c->close_after ? -1 : 0;
}

static const char *header(const http_request *r, const char *buf, const char *name, size_t *len)
{
    return http_header(r, buf, name, len, 0);
}

/* Parses and answers the complete requests in c->in, in order, while the
 * client keeps reading its answers.  Returns 1 when it stopped because the
 * pending output reached OUT_HIGH (more may be answerable once it is sent),
 * else 0. */
static int serve(worker *w, hconn *c)
{
    for (;;) {
        if (c->close_after || !c->in_len)
            return 0;
        if (c->out_len - c->out_off >= OUT_HIGH)
            return 1;
        size_t used;
        int rc = http_parse(&c->p, c->in, c->in_len, &used);
        if (rc == HTTP_MORE) {
            if (http_wants_continue(&c->p) && out_reserve(c, 25) == 0) {
                memcpy(c->out + c->out_len, "HTTP/1.1 100 Continue\r\n\r\n", 25);
                c->out_len += 25;
                c->p.req.expect_continue = 0;
            }
            return 0;
        }
        if (rc < 0) {
            int st = http_error_status(rc);
            append_error(c, st, st == 413 ? "PayloadTooLarge" : st == 431 ? "HeaderTooLarge"
                                                                          : "BadRequest",
                         st == 413 ? "the request body is over the limit"
                                   : "the request is not valid HTTP/1.1");
            return 0;
        }
        const http_request *r = &c->p.req;
        const char *target = c->in + r->target;
        size_t tl = r->target_len;
        const char *q = memchr(target, '?', tl);
        size_t pl = q ? (size_t)(q - target) : tl;
        size_t ctl = 0;
        const char *ct = header(r, c->in, "content-type", &ctl);
        fn_response res;
        fn_http(w->ctx, c->in + r->method, r->method_len, target, pl, q ? q + 1 : NULL,
                q ? tl - pl - 1 : 0, ct, ctl, r->body_len ? c->in + r->body : NULL, r->body_len,
                &res);
        int head = r->method_len == 4 && !memcmp(c->in + r->method, "HEAD", 4);
        append(c, res.status, res.content_type, res.allow, res.body, res.body_len, head,
               r->keep_alive && !atomic_load_explicit(&g_stop, memory_order_relaxed));
        if (used < c->in_len)
            memmove(c->in, c->in + used, c->in_len - used);
        c->in_len -= used;
        http_parser_init(&c->p, MAX_HEAD, w->max_body);
        c->first = now_s();
    }
}

/* Answers what can be answered and sends it; -1 when c is to be closed. */
static int pump(worker *w, hconn *c)
{
    for (;;) {
        int more = serve(w, c);
        if (flush_out(c))
            return -1;
        if (c->out_off < c->out_len)
            break; /* the client is slow to read: wait for EPOLLOUT */
        if (!more) {
            if (c->eof)
                return -1; /* every complete request is answered; no more will come */
            break;
        }
    }
    set_interest(w, c);
    return 0;
}

static void on_readable(worker *w, hconn *c)
{
    if (c->in_len == c->in_cap) {
        size_t nc = c->in_cap * 2;
        if (nc > MAX_HEAD + w->max_body + 65536) { /* the parser refuses sooner; a backstop */
            append_error(c, 413, "PayloadTooLarge", "the request is over the limit");
            if (pump(w, c))
                conn_free(w, c);
            return;
        }
        char *p = realloc(c->in, nc);
        if (!p) {
            conn_free(w, c);
            return;
        }
        c->in = p;
        c->in_cap = nc;
    }
    ssize_t k;
    do
        k = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
    while (k < 0 && errno == EINTR);
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (k < 0) {
        conn_free(w, c);
        return;
    }
    double t = now_s();
    if (k == 0) {
        c->eof = 1;
    } else {
        if (!c->in_len)
            c->first = t;
        c->in_len += (size_t)k;
    }
    c->last = t;
    if (pump(w, c))
        conn_free(w, c);
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
        c->events = EPOLLIN;
        http_parser_init(&c->p, MAX_HEAD, w->max_body);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev)) {
            free(c->in);
            free(c);
            close(fd);
            continue;
        }
        c->idx = w->n;
        w->conns[w->n++] = c;
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    struct epoll_event evs[128];
    double drain_until = 0, last_sweep = now_s();
    for (;;) {
        int stop = atomic_load_explicit(&g_stop, memory_order_relaxed);
        if (stop && w->lfd >= 0) { /* stop accepting; finish what is in flight */
            epoll_ctl(w->ep, EPOLL_CTL_DEL, w->lfd, NULL);
            close(w->lfd);
            w->lfd = -1;
            drain_until = now_s() + DRAIN_S;
            for (int i = w->n - 1; i >= 0; i--) { /* idle keep-alive connections go now */
                hconn *c = w->conns[i];
                if (!c->in_len && c->out_off == c->out_len)
                    conn_free(w, c);
            }
        }
        if (stop && (!w->n || now_s() > drain_until))
            break;
        int n = epoll_wait(w->ep, evs, 128, 200);
        for (int k = 0; k < n; k++) {
            if (evs[k].data.ptr == NULL) {
                if (w->lfd >= 0)
                    accept_all(w);
                continue;
            }
            hconn *c = evs[k].data.ptr;
            uint32_t e = evs[k].events;
            if ((e & (EPOLLERR | EPOLLHUP)) && !(e & EPOLLIN)) {
                conn_free(w, c); /* only this event can free c: one event per fd */
                continue;
            }
            if (e & EPOLLOUT) {
                if (pump(w, c)) {
                    conn_free(w, c);
                    continue;
                }
            }
            if ((e & EPOLLIN) && (c->events & EPOLLIN))
                on_readable(w, c);
        }
        double t = now_s();
        if (t - last_sweep > 1.0) { /* idle and slow clients */
            last_sweep = t;
            for (int i = w->n - 1; i >= 0; i--) {
                hconn *c = w->conns[i];
                if (c->in_len && t - c->first > REQUEST_S && !c->close_after &&
                    c->out_off == c->out_len) {
                    append_error(c, 408, "RequestTimeout", "the request was not received in time");
                    if (pump(w, c))
                        conn_free(w, c);
                } else if (c->out_off < c->out_len ? t - c->last > REQUEST_S
                                                   : !c->in_len && t - c->last > IDLE_S) {
                    conn_free(w, c); /* idle, or not reading its answers */
                }
            }
        }
    }
    while (w->n)
        conn_free(w, w->conns[w->n - 1]);
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
        w->max_body = fn_app_max_body(app);
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
        atomic_store(&g_stop, 1);
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
