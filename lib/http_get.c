/*
 * One blocking HTTP/1.1 GET (see include/nerd/http_get.h): a non-blocking
 * socket polled against one monotonic deadline for connect, send and
 * receive; the answer is fed to http_resp as it arrives and its body
 * callback copies the (decoded) body into a buffer that grows up to the
 * cap.
 */
#define _GNU_SOURCE
#include "nerd/http_get.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GET_IN_CAP 16384

typedef struct body_buf {
    char *p;
    size_t len, cap, max;
    int over, nomem;
} body_buf;

const char *http_get_strerror(http_get_err e)
{
    switch (e) {
    case HTTP_GET_OK: return "success";
    case HTTP_GET_ECONNECT: return "cannot connect";
    case HTTP_GET_ETIMEOUT: return "timed out";
    case HTTP_GET_EIO: return "connection failed";
    case HTTP_GET_EPROTO: return "malformed HTTP answer";
    case HTTP_GET_ETOOBIG: return "answer too large";
    case HTTP_GET_ENOMEM: return "out of memory";
    }
    return "unknown error";
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for ev on fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int wait_until(int fd, short ev, long long deadline)
{
    for (;;) {
        long long left = deadline - mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {fd, ev, 0};
        int n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

static void on_body(void *arg, const char *p, size_t n)
{
    body_buf *b = arg;
    if (b->over || b->nomem)
        return;
    if (n > b->max - b->len) {
        b->over = 1;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 4096;
        while (nc < b->len + n + 1)
            nc *= 2;
        if (nc > b->max + 1)
            nc = b->max + 1;
        char *q = realloc(b->p, nc);
        if (!q) {
            b->nomem = 1;
            return;
        }
        b->p = q;
        b->cap = nc;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

http_get_err http_get(const struct sockaddr *sa, socklen_t salen, const char *host,
                      const char *path, const char *accept, int timeout_ms, size_t max_body,
                      http_get_answer *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    body_buf b = {.max = max_body};
    http_get_err rc = HTTP_GET_ECONNECT;
    long long deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 1);
    char req[2048], in[GET_IN_CAP];
    int rl = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: nerd\r\n%s%s%s"
                      "Connection: close\r\n\r\n", path, host, accept ? "Accept: " : "",
                      accept ? accept : "", accept ? "\r\n" : "");
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (rl < 0 || (size_t)rl >= sizeof req || fd < 0) {
        snprintf(err, errcap, fd < 0 ? "socket: %s" : "request head too long", strerror(errno));
        goto out;
    }
    if (connect(fd, sa, salen) < 0 && errno != EINPROGRESS) {
        snprintf(err, errcap, "connect: %s", strerror(errno));
        goto out;
    }
    int w = wait_until(fd, POLLOUT, deadline), soerr = 0;
    socklen_t sl = sizeof soerr;
    if (w <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
        rc = w == 0 ? HTTP_GET_ETIMEOUT : HTTP_GET_ECONNECT;
        snprintf(err, errcap, "connect: %s", w == 0 ? "timed out" : strerror(soerr ? soerr : errno));
        goto out;
    }
    rc = HTTP_GET_EIO;
    for (int sent = 0; sent < rl;) {
        ssize_t k = send(fd, req + sent, (size_t)(rl - sent), MSG_NOSIGNAL);
        if (k > 0) {
            sent += (int)k;
        } else if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
            if ((w = wait_until(fd, POLLOUT, deadline)) <= 0) {
                rc = w == 0 ? HTTP_GET_ETIMEOUT : HTTP_GET_EIO;
                snprintf(err, errcap, "send: %s", w == 0 ? "timed out" : strerror(errno));
                goto out;
            }
        } else {
            snprintf(err, errcap, "send: %s", strerror(errno));
            goto out;
        }
    }
    http_resp r;
    http_resp_init(&r);
    r.on_body = on_body;
    r.arg = &b;
    for (;;) {
        ssize_t k = recv(fd, in, sizeof in, 0);
        if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
            if ((w = wait_until(fd, POLLIN, deadline)) <= 0) {
                rc = w == 0 ? HTTP_GET_ETIMEOUT : HTTP_GET_EIO;
                snprintf(err, errcap, "%s", w == 0 ? "no whole answer in time" : strerror(errno));
                goto out;
            }
            continue;
        }
        if (k < 0) {
            snprintf(err, errcap, "recv: %s", strerror(errno));
            goto out;
        }
        http_resp_err e = k == 0 ? http_resp_eof(&r) : http_resp_feed(&r, in, (size_t)k, NULL);
        if (e == HTTP_RESP_EPROTO) {
            rc = HTTP_GET_EPROTO;
            snprintf(err, errcap, "malformed answer: %s", r.error);
            goto out;
        }
        if (e == HTTP_RESP_ECLOSED || (k == 0 && !r.done)) {
            snprintf(err, errcap, "the connection closed before the whole answer");
            goto out;
        }
        if (b.over) {
            rc = HTTP_GET_ETOOBIG;
            snprintf(err, errcap, "answer larger than %zu bytes", max_body);
            goto out;
        }
        if (b.nomem) {
            rc = HTTP_GET_ENOMEM;
            snprintf(err, errcap, "out of memory");
            goto out;
        }
        if (r.done)
            break;
    }
    if (!b.p && !(b.p = malloc(1))) {
        rc = HTTP_GET_ENOMEM;
        snprintf(err, errcap, "out of memory");
        goto out;
    }
    b.p[b.len] = 0;
    out->status = r.status;
    memcpy(out->reason, r.reason, sizeof out->reason);
    out->body = b.p;
    out->len = b.len;
    b.p = NULL;
    rc = HTTP_GET_OK;
out:
    free(b.p);
    if (fd >= 0)
        close(fd);
    return rc;
}
