/*
 * A small HTTP/1.1 server for the load lab's tests (tests/loadgen/): one
 * epoll thread on 127.0.0.1, keep-alive, answers every request with
 * {"ok":true} after a fixed delay, and counts the POST requests it
 * received (GET /count answers the count; other GETs get 404).  Options make it
 * misbehave on purpose:
 *
 *   --port N          listen port (0: any; the port is printed as "listening on N")
 *   --delay-ms D      answer each request D ms after it arrived (others go on meanwhile)
 *   --stall-at N --stall-ms M   when request N arrives, freeze the whole server M ms
 *   --fail-every K    every K-th request gets 500 Internal Server Error
 *   --close-every K   every K-th answer carries Connection: close, then the server closes
 *   --chunked         answers in chunked transfer coding
 *   --hang-at N       request N is never answered
 *
 * Runs until SIGTERM/SIGINT, then prints "count N" on stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nerd/http.h"

#define MAXFD 65536
#define BUF 65536
#define QCAP (1u << 18)

typedef struct conn {
    uint32_t gen;
    size_t len;
    char *buf;
    http_parser *hp; /* the platform's request parser (lib/http.c) */
} conn;

typedef struct pending {
    int fd;
    uint32_t gen;
    uint64_t due;
    int status, close_after;
} pending;

static conn conns[MAXFD];
static pending q[QCAP];
static size_t qh, qt;
static volatile sig_atomic_t stop;
static unsigned long long count;
static long delay_ms, stall_at, stall_ms, fail_every, close_every, hang_at;
static int chunked;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_sig(int s)
{
    (void)s;
    stop = 1;
}

static void drop(int ep, int fd)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    conns[fd].gen++;
    conns[fd].len = 0;
}

static void answer(int ep, int fd, int status, int close_after, const char *body)
{
    char out[1024];
    size_t bl = strlen(body);
    int n;
    const char *reason = status == 200 ? "OK" : status == 500 ? "Internal Server Error" : "Not Found";
    if (chunked)
        n = snprintf(out, sizeof out,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n%s\r\n%zx\r\n%s\r\n0\r\n\r\n",
                     status, reason, close_after ? "Connection: close\r\n" : "", bl, body);
    else
        n = snprintf(out, sizeof out,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "%s\r\n%s", status, reason, bl, close_after ? "Connection: close\r\n" : "",
                     body);
    if (send(fd, out, (size_t)n, MSG_NOSIGNAL) != n || close_after)
        drop(ep, fd);
}

/* Parses complete requests at the front of c->buf. */
static void requests(int ep, int fd)
{
    conn *c = &conns[fd];
    for (;;) {
        size_t used;
        int rc = http_parse(c->hp, c->buf, c->len, &used);
        if (rc == HTTP_MORE)
            return;
        if (rc != HTTP_DONE) {
            drop(ep, fd);
            return;
        }
        const http_request *r = &c->hp->req;
        int is_post = r->method_len == 4 && !memcmp(c->buf + r->method, "POST", 4);
        int is_count = r->method_len == 3 && !memcmp(c->buf + r->method, "GET", 3) &&
                       r->target_len == 6 && !memcmp(c->buf + r->target, "/count", 6);
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
        http_parser_init(c->hp, BUF / 4, BUF / 2);
        if (is_count) {
            char b[64];
            snprintf(b, sizeof b, "%llu", count);
            uint32_t g = c->gen;
            answer(ep, fd, 200, 0, b);
            if (c->gen != g)
                return;
            continue;
        }
        if (!is_post) {
            uint32_t g = c->gen;
            answer(ep, fd, 404, 0, "{\"message\":\"Not Found\"}");
            if (c->gen != g)
                return;
            continue;
        }
        count++;
        if (stall_at && (long)count == stall_at)
            usleep((useconds_t)stall_ms * 1000);
        if (hang_at && (long)count == hang_at)
            continue;
        int status = fail_every && count % (unsigned long long)fail_every == 0 ? 500 : 200;
        int cl_after = close_every && count % (unsigned long long)close_every == 0;
        if (!delay_ms) {
            uint32_t g = c->gen;
            answer(ep, fd, status, cl_after, "{\"ok\":true}");
            if (c->gen != g)
                return;
        } else if ((qt + 1) % QCAP != qh) {
            q[qt] = (pending){fd, c->gen, now_ms() + (uint64_t)delay_ms, status, cl_after};
            qt = (qt + 1) % QCAP;
        }
    }
}

int main(int argc, char **argv)
{
    int port = 0;
    for (int i = 1; i < argc; i++) {
        long v = i + 1 < argc ? atol(argv[i + 1]) : 0;
        if (!strcmp(argv[i], "--chunked")) {
            chunked = 1;
            continue;
        }
        if (!strcmp(argv[i], "--port")) port = (int)v;
        else if (!strcmp(argv[i], "--delay-ms")) delay_ms = v;
        else if (!strcmp(argv[i], "--stall-at")) stall_at = v;
        else if (!strcmp(argv[i], "--stall-ms")) stall_ms = v;
        else if (!strcmp(argv[i], "--fail-every")) fail_every = v;
        else if (!strcmp(argv[i], "--close-every")) close_every = v;
        else if (!strcmp(argv[i], "--hang-at")) hang_at = v;
        else {
            fprintf(stderr, "lg_testserver: unknown option %s\n", argv[i]);
            return 2;
        }
        i++;
    }
    signal(SIGTERM, on_sig);
    signal(SIGINT, on_sig);
    signal(SIGPIPE, SIG_IGN);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 4096) ||
        getsockname(ls, (struct sockaddr *)&a, &al)) {
        perror("lg_testserver");
        return 1;
    }
    printf("listening on %d\n", ntohs(a.sin_port));
    fflush(stdout);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    struct epoll_event evs[256];
    while (!stop) {
        int timeout = 100;
        if (qh != qt) {
            uint64_t n = now_ms();
            timeout = q[qh].due > n ? (int)(q[qh].due - n) : 0;
        }
        int n = epoll_wait(ep, evs, 256, timeout);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                int cfd;
                while ((cfd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (cfd >= MAXFD) {
                        close(cfd);
                        continue;
                    }
                    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    if (!conns[cfd].buf)
                        conns[cfd].buf = malloc(BUF);
                    if (!conns[cfd].hp)
                        conns[cfd].hp = malloc(sizeof(http_parser));
                    if (!conns[cfd].buf || !conns[cfd].hp) {
                        close(cfd);
                        continue;
                    }
                    conns[cfd].len = 0;
                    http_parser_init(conns[cfd].hp, BUF / 4, BUF / 2);
                    struct epoll_event ce = {.events = EPOLLIN, .data.fd = cfd};
                    epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ce);
                }
                continue;
            }
            conn *c = &conns[fd];
            ssize_t r = recv(fd, c->buf + c->len, BUF - c->len, 0);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN)
                    continue;
                drop(ep, fd);
                continue;
            }
            c->len += (size_t)r;
            requests(ep, fd);
            if (c->len == BUF)
                drop(ep, fd);
        }
        uint64_t t = now_ms();
        while (qh != qt && q[qh].due <= t) {
            pending *p = &q[qh];
            qh = (qh + 1) % QCAP;
            if (conns[p->fd].gen == p->gen)
                answer(ep, p->fd, p->status, p->close_after, "{\"ok\":true}");
        }
    }
    fprintf(stderr, "count %llu\n", count);
    return 0;
}
