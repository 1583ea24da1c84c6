/*
 * A closed-loop load generator for DynamoDB endpoints (bench/dynamodb.sh):
 * CONNS keep-alive connections on one epoll loop, each sending its next
 * request as soon as the previous answer is in, for SECONDS.
 *
 *   ddbload URL put CONNS SECONDS      PutItem of new items (id k<conn>-<n>)
 *   ddbload URL get CONNS SECONDS N    GetItem of g0 .. g<N-1>, in turn
 *   ddbload URL fill CONNS 0 N         PutItem of g0 .. g<N-1> once each
 *
 * The table is "Bench" (hash key id, S).  Requests carry a SigV4-shaped
 * Authorization header (neither endpoint checks signatures).  Prints one
 * line: requests answered 200, others, req/s, p50 and p99 latency in
 * microseconds.  Loopback only.
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

#define MAX_CONNS 256
#define MAX_SAMPLES (8u << 20)
#define RBUF 65536

typedef struct conn {
    int fd, id;
    long n;
    double sent;
    char req[1024];
    size_t len, off;
    lg_resp resp;
} conn;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const char *op, *host;
static int port;
static long keys, next_fill;

/* The next request of c into c->req; 0 when there is none (fill done). */
static int make(conn *c)
{
    char body[256], target[64];
    int bl;
    if (!strcmp(op, "put")) {
        bl = snprintf(body, sizeof body, "{\"TableName\":\"Bench\",\"Item\":{\"id\":{\"S\":"
                      "\"k%d-%ld\"},\"v\":{\"N\":\"%ld\"},\"d\":{\"S\":\"a fifty byte text of "
                      "the benchmark's items..........\"}}}", c->id, c->n, c->n);
        snprintf(target, sizeof target, "PutItem");
    } else if (!strcmp(op, "fill")) {
        if (next_fill >= keys)
            return 0;
        bl = snprintf(body, sizeof body, "{\"TableName\":\"Bench\",\"Item\":{\"id\":{\"S\":"
                      "\"g%ld\"},\"v\":{\"N\":\"%ld\"},\"d\":{\"S\":\"a fifty byte text of "
                      "the benchmark's items..........\"}}}", next_fill, next_fill);
        next_fill++;
        snprintf(target, sizeof target, "PutItem");
    } else {
        bl = snprintf(body, sizeof body, "{\"TableName\":\"Bench\",\"Key\":{\"id\":{\"S\":"
                      "\"g%ld\"}}}", (c->n * MAX_CONNS + c->id) % keys);
        snprintf(target, sizeof target, "GetItem");
    }
    c->n++;
    c->len = (size_t)snprintf(c->req, sizeof c->req,
        "POST / HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/x-amz-json-1.0\r\n"
        "X-Amz-Target: DynamoDB_20120810.%s\r\nX-Amz-Date: 20260101T000000Z\r\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/"
        "aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=00\r\n"
        "Content-Length: %d\r\n\r\n%s", host, port, target, bl, body);
    c->off = 0;
    return 1;
}

static int send_req(conn *c)
{
    while (c->off < c->len) {
        ssize_t w = send(c->fd, c->req + c->off, c->len - c->off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c->off += (size_t)w;
    }
    c->sent = now_us();
    lg_resp_init(&c->resp);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: ddbload URL put|get|fill CONNS SECONDS [KEYS]\n");
        return 2;
    }
    static char hostbuf[64];
    if (sscanf(argv[1], "http://%63[^:]:%d", hostbuf, &port) != 2) {
        fprintf(stderr, "ddbload: URL must be http://HOST:PORT\n");
        return 2;
    }
    host = hostbuf;
    op = argv[2];
    int nconns = atoi(argv[3]);
    double seconds = atof(argv[4]);
    keys = argc > 5 ? atol(argv[5]) : 1000;
    if (nconns < 1 || nconns > MAX_CONNS || keys < 1) {
        fprintf(stderr, "ddbload: bad arguments\n");
        return 2;
    }
    int ep = epoll_create1(0);
    conn *cs = calloc((size_t)nconns, sizeof *cs);
    double *lat = malloc(MAX_SAMPLES * sizeof *lat);
    size_t nlat = 0;
    long ok = 0, other = 0;
    if (ep < 0 || !cs || !lat)
        return 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    int active = 0;
    for (int i = 0; i < nconns; i++) {
        conn *c = &cs[i];
        c->id = i;
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(c->fd, (struct sockaddr *)&a, sizeof a)) {
            perror("ddbload: connect");
            return 1;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        if (make(c) && !send_req(c))
            active++;
    }
    double start = now_us(), end = start + seconds * 1e6;
    static char buf[RBUF];
    while (active > 0) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, 1000);
        double t = now_us();
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            ssize_t r = recv(c->fd, buf, sizeof buf, 0);
            if (r <= 0) {
                fprintf(stderr, "ddbload: connection closed\n");
                return 1;
            }
            size_t off = 0;
            while (off < (size_t)r) {
                size_t used;
                if (lg_resp_feed(&c->resp, buf + off, (size_t)r - off, &used)) {
                    fprintf(stderr, "ddbload: bad response\n");
                    return 1;
                }
                off += used;
                if (!c->resp.done)
                    break;
                if (c->resp.status == 200)
                    ok++;
                else
                    other++;
                if (nlat < MAX_SAMPLES)
                    lat[nlat++] = t - c->sent;
                if ((strcmp(op, "fill") && t >= end) || !make(c) || send_req(c)) {
                    active--;
                    break;
                }
            }
        }
    }
    double el = (now_us() - start) / 1e6;
    qsort(lat, nlat, sizeof *lat, cmp_d);
    printf("ddbload: %s on %d connections: %ld ok, %ld other, %.0f req/s, p50 %.0f us, "
           "p99 %.0f us\n", op, nconns, ok, other, (ok + other) / el,
           nlat ? lat[nlat / 2] : 0.0, nlat ? lat[(size_t)(nlat * 0.99)] : 0.0);
    return other ? 1 : 0;
}
