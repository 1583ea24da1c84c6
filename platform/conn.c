/*
 * Client connections of the platform's HTTP servers (see conn.h).
 * Edge-triggered: a connection is registered once (in, out, peer close)
 * and reads until EAGAIN whenever it is not busy; a busy connection leaves
 * what arrives in the kernel until its request is answered.
 */
#define _GNU_SOURCE
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define HC_BUF 4096          /* a connection's first read buffer */
#define HC_POOL 256          /* free first buffers kept per server */
#define HC_OUT_PAUSE 262144  /* answers waiting: stop serving pipelined requests */
#define HC_ACCEPT_BATCH 64

enum { C_IDLE, C_READ, C_BUSY, C_CLOSING };

struct hc_conn {
    ev_io io;
    ev_timer tm;
    hc_server *s;
    int fd, state, dispatching, answered, continued;
    int readable;   /* the socket may hold unread bytes */
    char *buf;
    size_t len, cap, used;
    http_parser p;
    double first_byte;
    char *out;
    size_t out_len, out_off;
    hc_conn *prev, *next;
    char peer[INET6_ADDRSTRLEN];
};

struct hc_server {
    ev_loop *L;
    int lfd, accepting, paused;
    ev_io lio;
    ev_timer resume;
    hc_limits lim;
    hc_handler h;
    hc_conn *conns;
    size_t n, busy;
    char *pool[HC_POOL];
    size_t n_pool;
};

static void on_io(ev_loop *L, ev_io *w, uint32_t revents);
static void on_accept(ev_loop *L, ev_io *w, uint32_t revents);
static void on_resume(ev_loop *L, ev_timer *t);
static void parse_loop(hc_conn *c);
static int conn_add(hc_server *s, int fd, const struct sockaddr_storage *sa);

static void buf_drop(hc_conn *c)
{
    hc_server *s = c->s;
    if (c->buf && c->cap == HC_BUF && s->n_pool < HC_POOL)
        s->pool[s->n_pool++] = c->buf;
    else
        free(c->buf);
    c->buf = NULL;
    c->cap = c->len = 0;
}

static void accept_on(hc_server *s)
{
    if (s->accepting && s->paused) {
        if (ev_io_start(s->L, &s->lio, s->lfd, EPOLLIN | EPOLLEXCLUSIVE, on_accept, s) == 0)
            s->paused = 0;
    }
}

static void conn_free(void *arg) { free(arg); }

static void conn_close(hc_conn *c)
{
    if (c->fd < 0)
        return;
    hc_server *s = c->s;
    ev_io_stop(s->L, &c->io);
    ev_timer_stop(s->L, &c->tm);
    close(c->fd);
    c->fd = -1;
    if (c->state == C_BUSY)
        s->busy--;
    c->state = C_CLOSING;
    buf_drop(c);
    free(c->out);
    c->out = NULL;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n--;
    accept_on(s); /* a descriptor is free again */
    if (ev_defer(s->L, conn_free, c) != 0)
        free(c); /* (the loop holds no event of it: its watcher is stopped) */
}

static void on_deadline(ev_loop *L, ev_timer *t)
{
    (void)L;
    hc_conn *c = t->data;
    if (c->state == C_IDLE) {
        conn_close(c); /* idle keep-alive */
    } else if (c->state == C_READ) {
        c->state = C_BUSY; /* a slow client: 408 and close */
        c->s->busy++;
        c->answered = 0;
        c->s->h.error(c, 408, c->s->h.arg);
        if (!c->answered)
            conn_close(c);
    }
}

/* Arms the deadline of the state c is in. */
static void arm(hc_conn *c)
{
    hc_server *s = c->s;
    double at;
    if (c->state == C_IDLE)
        at = ev_now(s->L) + s->lim.idle_s * 1000.0;
    else if (c->state == C_READ)
        at = c->first_byte + (http_head_complete(&c->p) ? s->lim.body_s : s->lim.head_s) * 1000.0;
    else {
        ev_timer_stop(s->L, &c->tm);
        return;
    }
    if (!ev_timer_armed(&c->tm) || c->tm.at != at)
        ev_timer_start(s->L, &c->tm, at, on_deadline, c);
}

/* Writes what waits; 0, or -1 when the connection was closed. */
static int flush_out(hc_conn *c)
{
    while (c->out && c->out_off < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            return 0;
        if (w <= 0) {
            conn_close(c);
            return -1;
        }
        c->out_off += (size_t)w;
    }
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
    if (c->state == C_CLOSING) {
        conn_close(c);
        return -1;
    }
    return 0;
}

static int out_queue(hc_conn *c, const char *a, size_t al, const char *b, size_t bl)
{
    size_t pending = c->out ? c->out_len - c->out_off : 0;
    char *o = malloc(pending + al + bl + 1);
    if (!o)
        return -1;
    if (pending)
        memcpy(o, c->out + c->out_off, pending);
    memcpy(o + pending, a, al);
    if (bl)
        memcpy(o + pending + al, b, bl);
    free(c->out);
    c->out = o;
    c->out_len = pending + al + bl;
    c->out_off = 0;
    return 0;
}

/* Reads until EAGAIN (or the buffer's cap); 0, or -1 when closed. */
static int conn_read(hc_conn *c)
{
    hc_server *s = c->s;
    size_t max = s->lim.max_head + s->lim.max_body + 65536;
    for (;;) {
        if (c->len == c->cap) {
            if (c->cap >= max)
                return 0; /* the parser refuses what is too large */
            if (!c->buf && s->n_pool) {
                c->buf = s->pool[--s->n_pool];
                c->cap = HC_BUF;
            } else {
                size_t cap = c->cap ? c->cap * 2 : HC_BUF;
                if (cap > max)
                    cap = max;
                char *b = realloc(c->buf, cap);
                if (!b) {
                    conn_close(c);
                    return -1;
                }
                c->buf = b;
                c->cap = cap;
            }
        }
        ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN) {
            c->readable = 0;
            if (!c->len)
                buf_drop(c); /* idle: no buffer held */
            return 0;
        }
        if (r <= 0) {
            conn_close(c);
            return -1;
        }
        if (c->state == C_IDLE) {
            c->state = C_READ;
            c->first_byte = ev_now(s->L);
        }
        c->len += (size_t)r;
        if (c->len < c->cap) { /* a short read drained the socket: what comes
                                * later raises a new edge */
            c->readable = 0;
            return 0;
        }
    }
}

static void parse_loop(hc_conn *c)
{
    hc_server *s = c->s;
    while (c->fd >= 0 && c->state == C_READ && c->len &&
           (!c->out || c->out_len - c->out_off < HC_OUT_PAUSE)) {
        size_t used = 0;
        int rc = http_parse(&c->p, c->buf, c->len, &used);
        if (rc == HTTP_MORE) {
            if (http_wants_continue(&c->p) && !c->continued) {
                c->continued = 1;
                static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
                if (c->out ? out_queue(c, cont, sizeof cont - 1, NULL, 0)
                           : send(c->fd, cont, sizeof cont - 1, MSG_NOSIGNAL) < 0) {
                    conn_close(c);
                    return;
                }
            }
            break;
        }
        c->state = C_BUSY;
        s->busy++;
        c->used = used;
        c->answered = 0;
        c->dispatching = 1;
        ev_timer_stop(s->L, &c->tm);
        if (rc == HTTP_DONE)
            s->h.request(c, c->buf, &c->p.req, s->h.arg);
        else
            s->h.error(c, http_error_status(rc), s->h.arg);
        c->dispatching = 0;
        if (!c->answered)
            return; /* answered later, from the loop */
    }
    if (c->fd >= 0)
        arm(c);
}

void hc_send(hc_conn *c, const char *head, size_t hl, const char *body, size_t bl, int keep)
{
    if (c->state != C_BUSY || c->fd < 0)
        return;
    hc_server *s = c->s;
    s->busy--;
    c->answered = 1;
    if (c->out) {
        if (out_queue(c, head, hl, body, bl) != 0) {
            conn_close(c);
            return;
        }
    } else {
        size_t done;
        if (http_send2_some(c->fd, head, hl, body, bl, &done) != 0) {
            conn_close(c);
            return;
        }
        if (done < hl + bl &&
            out_queue(c, done < hl ? head + done : "", done < hl ? hl - done : 0,
                      done < hl ? body : body + (done - hl), done < hl ? bl : hl + bl - done)) {
            conn_close(c);
            return;
        }
    }
    /* the request is done: its bytes go, the next may follow */
    if (c->used)
        memmove(c->buf, c->buf + c->used, c->len - c->used);
    c->len -= c->used;
    c->used = 0;
    c->continued = 0;
    http_parser_init(&c->p, s->lim.max_head, s->lim.max_body);
    if (!keep) {
        c->state = C_CLOSING;
        c->len = 0;
        if (!c->out)
            conn_close(c);
        return;
    }
    c->state = c->len ? C_READ : C_IDLE;
    if (c->len)
        c->first_byte = ev_now(s->L);
    else if (!c->readable)
        buf_drop(c); /* idle: no buffer held (the pool keeps it warm) */
    if (c->dispatching)
        return; /* parse_loop goes on */
    if (!c->readable || conn_read(c) == 0)
        parse_loop(c);
}

static void on_io(ev_loop *L, ev_io *w, uint32_t revents)
{
    (void)L;
    hc_conn *c = w->data;
    if ((revents & EPOLLOUT) && c->out && flush_out(c) != 0)
        return;
    if (revents & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        c->readable = 1;
    if (c->state == C_BUSY || c->state == C_CLOSING)
        return; /* what arrives waits in the kernel until the answer */
    if (c->readable && conn_read(c) != 0)
        return;
    parse_loop(c);
}

static void on_accept(ev_loop *L, ev_io *w, uint32_t revents)
{
    (void)revents;
    hc_server *s = w->data;
    for (int i = 0; i < HC_ACCEPT_BATCH; i++) {
        struct sockaddr_storage sa;
        socklen_t sl = sizeof sa;
        int fd = accept4(s->lfd, (struct sockaddr *)&sa, &sl, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* out of descriptors: the rest wait in the backlog until a
                 * connection closes (or 100 ms pass) */
                ev_io_stop(L, &s->lio);
                s->paused = 1;
                ev_timer_start(L, &s->resume, ev_now(L) + 100, on_resume, s);
            }
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (s->h.accepted && s->h.accepted(fd, s->h.arg))
            continue;
        if (conn_add(s, fd, &sa) != 0)
            return;
    }
}

static int conn_add(hc_server *s, int fd, const struct sockaddr_storage *sa)
{
    ev_loop *L = s->L;
    {
        hc_conn *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            return -1;
        }
        c->s = s;
        c->fd = fd;
        c->io.fd = -1;
        c->state = C_IDLE;
        http_parser_init(&c->p, s->lim.max_head, s->lim.max_body);
        if (sa && sa->ss_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, c->peer,
                      sizeof c->peer);
        else if (sa && sa->ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, c->peer,
                      sizeof c->peer);
        if (ev_io_start(L, &c->io, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, on_io, c)) {
            close(fd);
            free(c);
            return -1;
        }
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        s->n++;
        arm(c);
    }
    return 0;
}

int hc_server_adopt(hc_server *s, int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        close(fd);
        return -1;
    }
    return conn_add(s, fd, NULL);
}

static void on_resume(ev_loop *L, ev_timer *t)
{
    (void)L;
    accept_on(t->data);
}

hc_server *hc_server_new(ev_loop *L, int lfd, const hc_limits *lim, const hc_handler *h)
{
    hc_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->L = L;
    s->lfd = lfd;
    s->lim = *lim;
    s->h = *h;
    s->lio.fd = -1;
    s->accepting = 1;
    s->paused = 1;
    if (lfd < 0) {
        s->accepting = 0;
        return s;
    }
    accept_on(s);
    if (s->paused) {
        free(s);
        return NULL;
    }
    return s;
}

void hc_server_stop_accepting(hc_server *s)
{
    s->accepting = 0;
    ev_io_stop(s->L, &s->lio);
    ev_timer_stop(s->L, &s->resume);
}

void hc_server_close_idle(hc_server *s)
{
    for (hc_conn *c = s->conns, *n; c; c = n) {
        n = c->next;
        if (c->state == C_IDLE && !c->out)
            conn_close(c);
    }
}

size_t hc_server_conns(const hc_server *s) { return s->n; }
size_t hc_server_busy(const hc_server *s) { return s->busy; }

void hc_server_free(hc_server *s)
{
    if (!s)
        return;
    hc_server_stop_accepting(s);
    while (s->conns)
        conn_close(s->conns);
    for (size_t i = 0; i < s->n_pool; i++)
        free(s->pool[i]);
    free(s);
}

ev_loop *hc_loop(const hc_conn *c) { return c->s->L; }
const char *hc_peer(const hc_conn *c) { return c->peer[0] ? c->peer : "127.0.0.1"; }
