/*
 * A small open-loop HTTP load generator for `make bench` (bench/platform.sh
 * and bench/function.sh): sends GET or POST requests at a fixed rate over
 * keep-alive connections from one epoll loop, and measures each latency
 * from the request's *intended* send time (so a stall delays every request
 * scheduled behind it, as wrk2 does) as well as from the actual send.
 *
 *   openloop URL RATE SECONDS [CONNS] [BODYFILE]
 *
 * Env OPENLOOP_WARMUP=S: the first S seconds are sent but not measured.
 * Prints one line: sent, ok (2xx), other, achieved rate, corrected and
 * uncorrected p50/p99/p99.9/max in microseconds.  Loopback only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lg_resp.h"

#define MAX_CONNS 1024
#define MAX_SAMPLES (20u << 20)
#define RBUF 65536

typedef struct conn {
    int fd, busy;
    double intended, sent;
    lg_resp resp; /* the load lab's response parser (lib/http_resp.c) */
} conn;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t i = (size_t)(p * (double)n);
    return v[i < n ? i : n - 1];
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fputs("usage: openloop URL RATE SECONDS [CONNS] [BODYFILE]\n", stderr);
        return 2;
    }
    char host[64] = "", path[1024] = "/";
    int port = 80;
    if (sscanf(argv[1], "http://%63[^:/]:%d%1023s", host, &port, path) < 2 ||
        strcmp(host, "127.0.0.1")) {
        fputs("openloop: URL must be http://127.0.0.1:PORT/...\n", stderr);
        return 2;
    }
    double rate = atof(argv[2]), secs = atof(argv[3]);
    int nconn = argc > 4 ? atoi(argv[4]) : 64;
    if (rate <= 0 || secs <= 0 || secs > 600 || nconn < 1 || nconn > MAX_CONNS) {
        fputs("openloop: bad rate, seconds (<= 600) or connections (1..1024)\n", stderr);
        return 2;
    }
    char *body = NULL;
    size_t blen = 0;
    if (argc > 5) {
        FILE *f = fopen(argv[5], "rb");
        body = malloc(1 << 20);
        blen = f && body ? fread(body, 1, 1 << 20, f) : 0;
        if (f)
            fclose(f);
    }
    char *req = malloc(2048 + blen);
    int rl = body ? sprintf(req, "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                            "Content-Length: %zu\r\n\r\n", path, host, port, blen)
                  : sprintf(req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", path, host, port);
    memcpy(req + rl, body ? body : "", blen);
    size_t reqlen = (size_t)rl + blen;
    size_t cap = (size_t)(rate * (secs + 60)) + 16;
    if (cap > MAX_SAMPLES)
        cap = MAX_SAMPLES;
    double *lc = malloc(cap * sizeof *lc), *lu = malloc(cap * sizeof *lu);
    conn *cs = calloc((size_t)nconn, sizeof *cs);
    int ep = epoll_create1(0);
    if (!lc || !lu || !cs || ep < 0)
        return 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    for (int i = 0; i < nconn; i++) {
        int one = 1;
        cs[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        if (cs[i].fd < 0 || connect(cs[i].fd, (struct sockaddr *)&sa, sizeof sa)) {
            perror("openloop: connect");
            return 1;
        }
        setsockopt(cs[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        lg_resp_init(&cs[i].resp);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
    }
    size_t sent = 0, done = 0, ok = 0, other = 0, errors = 0;
    const char *w = getenv("OPENLOOP_WARMUP");
    double warm = w ? atof(w) : 0;
    if (warm < 0 || warm > 60)
        warm = 0;
    double t0 = now_us(), interval = 1e6 / rate, end = t0 + (secs + warm) * 1e6;
    double tm = t0 + warm * 1e6; /* measured from here */
    size_t rec = 0;
    int *freeq = malloc(sizeof(int) * (size_t)nconn), nfree = nconn;
    for (int i = 0; i < nconn; i++)
        freeq[i] = i;
    static char buf[RBUF];
    for (;;) {
        double t = now_us();
        /* send every request whose time has come, on free connections */
        while (t < end && nfree > 0 && t0 + (double)sent * interval <= t && sent < cap) {
            conn *c = &cs[freeq[--nfree]];
            c->intended = t0 + (double)sent * interval;
            c->sent = t;
            c->busy = 1;
            if (send(c->fd, req, reqlen, MSG_NOSIGNAL) != (ssize_t)reqlen) {
                errors++;
                c->busy = 0;
                break;
            }
            sent++;
        }
        if (t >= end && done + errors >= sent)
            break;
        if (t > end + 30e6) /* bounded: give up on stragglers after 30 s */
            break;
        double next = t0 + (double)sent * interval;
        int wait = nfree && next > t && t < end ? (int)((next - t) / 1000) : (t < end ? 0 : 100);
        struct epoll_event evs[256];
        int n = epoll_wait(ep, evs, 256, wait > 0 ? wait : 0);
        for (int k = 0; k < n; k++) {
            conn *c = &cs[evs[k].data.u32];
            ssize_t r = recv(c->fd, buf, sizeof buf, 0);
            if (r <= 0) {
                fprintf(stderr, "openloop: connection closed\n");
                return 1;
            }
            for (size_t off = 0, used; off < (size_t)r; off += used) {
                if (!c->busy || lg_resp_feed(&c->resp, buf + off, (size_t)r - off, &used)) {
                    fprintf(stderr, "openloop: %s\n",
                            c->busy ? c->resp.error : "bytes nobody asked for");
                    return 1;
                }
                if (!c->resp.done)
                    break;
                double tt = now_us();
                if (c->intended >= tm && rec < cap) {
                    lc[rec] = tt - c->intended;
                    lu[rec++] = tt - c->sent;
                    if (c->resp.status >= 200 && c->resp.status < 300)
                        ok++;
                    else
                        other++;
                }
                done++;
                c->busy = 0;
                lg_resp_init(&c->resp);
                freeq[nfree++] = (int)evs[k].data.u32;
            }
        }
    }
    size_t m = rec;
    qsort(lc, m, sizeof *lc, cmp);
    qsort(lu, m, sizeof *lu, cmp);
    printf("openloop: measured %zu ok %zu other %zu errors %zu rate %.0f/s | corrected p50 %.0f p99 %.0f "
           "p99.9 %.0f max %.0f us | uncorrected p50 %.0f p99 %.0f max %.0f us\n",
           m, ok, other, errors, (double)m / secs, pct(lc, m, 0.5),
           pct(lc, m, 0.99), pct(lc, m, 0.999), m ? lc[m - 1] : 0, pct(lu, m, 0.5),
           pct(lu, m, 0.99), m ? lu[m - 1] : 0);
    return 0;
}
