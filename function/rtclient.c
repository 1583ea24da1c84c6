/*
 * The Lambda Runtime API client (see rtclient.h): the address and its
 * resolution (inet_pton for numeric addresses, getaddrinfo for names, each
 * address tried in turn), the connection (non-blocking connect with a 1 s
 * timeout, then blocking I/O with TCP_NODELAY, MSG_NOSIGNAL and no read
 * timeout), one request written with a single sendmsg of head and body, and
 * its answer read into a 64 KB buffer and fed to http_resp, whose callbacks
 * pick up the invocation headers and copy the body into the event buffer
 * (sized from Content-Length when there is one) or into a short excerpt.
 * Bytes after an answer (nothing a Runtime API should send) close the
 * connection, so that no answer is ever taken for another's.
 */
#define _GNU_SOURCE
#include "rtclient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "nerd/http_resp.h"

#define RTC_IN_CAP 65536           /* read buffer */
#define RTC_CONNECT_MS 1000        /* connect timeout, as aws-lambda-cpp's */
#define RTC_API_CAP 256            /* bytes of AWS_LAMBDA_RUNTIME_API */
#define BASE "/2018-06-01/runtime"
#define RTC_PIPE_MAX 6291456u      /* results up to Lambda's 6 MB get /next pipelined */

struct rtc {
    char api[RTC_API_CAP];         /* as given: the Host header and messages */
    char host[RTC_API_CAP];        /* without brackets */
    char port[8];
    size_t max_event;
    int fd;                        /* -1: not connected */
    int reused;                    /* fd has carried an answered request */
    int next_sent;                 /* a GET /next went out behind the last POST */
    int pipeline;                  /* rtc_set_pipeline (default 1) */
    http_resp resp;
    /* where the answer goes */
    int want_event;                /* 1: the body is an event (GET /next) */
    char *ev;                      /* event buffer, NUL-terminated */
    size_t ev_len, ev_cap;
    int ev_over, ev_nomem;
    char msg[RTC_MSG_CAP];         /* "reason: body excerpt" of other answers */
    size_t msg_len;
    char id[RTC_ID_CAP], trace[RTC_TRACE_CAP];
    long long deadline;
    char detail[RTC_API_CAP + 256];
    size_t in_off, in_len;
    char in[RTC_IN_CAP];
};

const char *rtc_strerror(rtc_err e)
{
    switch (e) {
    case RTC_OK: return "success";
    case RTC_EADDR: return "bad Runtime API address";
    case RTC_ECONNECT: return "cannot connect to the Runtime API";
    case RTC_EIO: return "connection to the Runtime API failed";
    case RTC_EPROTO: return "malformed answer from the Runtime API";
    case RTC_ENOMEM: return "out of memory";
    }
    return "unknown error";
}

const char *rtc_answer(const rtc *c) { return c->msg; }
const char *rtc_detail(const rtc *c) { return c->detail; }

/* Splits api into host and port: "host:port" or "[v6]:port". */
static int split_api(const char *api, char *host, size_t hostcap, char *port, size_t portcap)
{
    const char *colon, *h = api;
    size_t hl;
    if (api[0] == '[') {
        const char *close = strchr(api, ']');
        if (!close || close[1] != ':')
            return -1;
        h = api + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(api, ':');
        if (!colon || memchr(api, ':', (size_t)(colon - api)))
            return -1; /* none, or an IPv6 address without brackets */
        hl = (size_t)(colon - api);
    }
    const char *p = colon + 1;
    size_t pl = strlen(p);
    if (hl == 0 || hl >= hostcap || pl == 0 || pl >= portcap)
        return -1;
    long v = 0;
    for (size_t i = 0; i < pl; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    if (v < 1 || v > 65535)
        return -1;
    for (size_t i = 0; i < hl; i++)
        if ((unsigned char)h[i] <= ' ' || h[i] == '/' || h[i] == '@' || h[i] == 0x7f)
            return -1;
    memcpy(host, h, hl);
    host[hl] = 0;
    memcpy(port, p, pl + 1);
    return 0;
}

rtc_err rtc_new(const char *api, size_t max_event, rtc **out, char *err, size_t errcap)
{
    *out = NULL;
    char host[RTC_API_CAP], port[8];
    if (!api || strlen(api) >= RTC_API_CAP ||
        split_api(api, host, sizeof host, port, sizeof port)) {
        snprintf(err, errcap, "AWS_LAMBDA_RUNTIME_API=%.100s: want host:port (a port from 1 to "
                 "65535)", api ? api : "");
        return RTC_EADDR;
    }
    rtc *c = malloc(sizeof *c);
    if (!c) {
        snprintf(err, errcap, "out of memory");
        return RTC_ENOMEM;
    }
    memset(c, 0, offsetof(rtc, in));
    snprintf(c->api, sizeof c->api, "%s", api);
    memcpy(c->host, host, sizeof host);
    memcpy(c->port, port, sizeof port);
    c->max_event = max_event;
    c->pipeline = 1;
    c->fd = -1;
    *out = c;
    return RTC_OK;
}

static void conn_close(rtc *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->reused = 0;
    c->next_sent = 0;
    c->in_off = c->in_len = 0;
}

void rtc_free(rtc *c)
{
    if (!c)
        return;
    conn_close(c);
    free(c->ev);
    free(c);
}

/* Connects a new socket to sa with the connect timeout; the fd or -1 with
 * errno set. */
static int connect_to(const struct sockaddr *sa, socklen_t len)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, sa, len) < 0) {
        if (errno != EINPROGRESS)
            goto fail;
        struct pollfd pf = {fd, POLLOUT, 0};
        int n;
        while ((n = poll(&pf, 1, RTC_CONNECT_MS)) < 0 && errno == EINTR)
            ;
        if (n == 0)
            errno = ETIMEDOUT;
        if (n <= 0)
            goto fail;
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            goto fail;
        if (soerr) {
            errno = soerr;
            goto fail;
        }
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
        goto fail;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
fail:;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

/* Opens the connection: a numeric address directly, a name through
 * getaddrinfo (each of its addresses in turn). */
static rtc_err conn_open(rtc *c)
{
    struct sockaddr_in s4;
    struct sockaddr_in6 s6;
    unsigned port = (unsigned)atoi(c->port);
    memset(&s4, 0, sizeof s4);
    memset(&s6, 0, sizeof s6);
    if (inet_pton(AF_INET, c->host, &s4.sin_addr) == 1) {
        s4.sin_family = AF_INET;
        s4.sin_port = htons((uint16_t)port);
        c->fd = connect_to((struct sockaddr *)&s4, sizeof s4);
    } else if (inet_pton(AF_INET6, c->host, &s6.sin6_addr) == 1) {
        s6.sin6_family = AF_INET6;
        s6.sin6_port = htons((uint16_t)port);
        c->fd = connect_to((struct sockaddr *)&s6, sizeof s6);
    } else {
        struct addrinfo hints, *res = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICSERV;
        int g = getaddrinfo(c->host, c->port, &hints, &res);
        if (g) {
            snprintf(c->detail, sizeof c->detail, "cannot resolve %s: %s", c->host,
                     g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
            return RTC_EADDR;
        }
        errno = EADDRNOTAVAIL;
        for (struct addrinfo *a = res; a && c->fd < 0; a = a->ai_next)
            c->fd = connect_to(a->ai_addr, a->ai_addrlen);
        freeaddrinfo(res);
    }
    if (c->fd < 0) {
        snprintf(c->detail, sizeof c->detail, "cannot connect to %s: %s", c->api, strerror(errno));
        return RTC_ECONNECT;
    }
    c->reused = 0;
    c->in_off = c->in_len = 0;
    return RTC_OK;
}

/* Writes head[0..hl), body[0..bl) and tail[0..tl) whole; 0 or -1 with
 * errno set. */
static int send_all(int fd, const char *head, size_t hl, const char *body, size_t bl,
                    const char *tail, size_t tl)
{
    struct iovec iov[3];
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    size_t k0 = 0;
    iov[k0++] = (struct iovec){(void *)head, hl};
    if (bl)
        iov[k0++] = (struct iovec){(void *)body, bl};
    if (tl)
        iov[k0++] = (struct iovec){(void *)tail, tl};
    mh.msg_iov = iov;
    mh.msg_iovlen = k0;
    while (mh.msg_iovlen) {
        ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        size_t k = (size_t)n;
        while (mh.msg_iovlen && k >= mh.msg_iov[0].iov_len) {
            k -= mh.msg_iov[0].iov_len;
            mh.msg_iov++;
            mh.msg_iovlen--;
        }
        if (mh.msg_iovlen) {
            mh.msg_iov[0].iov_base = (char *)mh.msg_iov[0].iov_base + k;
            mh.msg_iov[0].iov_len -= k;
        }
    }
    return 0;
}

static int name_is(const char *n, size_t nl, const char *lit)
{
    return nl == strlen(lit) && !strncasecmp(n, lit, nl);
}

static void on_header(void *arg, const char *n, size_t nl, const char *v, size_t vl)
{
    rtc *c = arg;
    if (!c->want_event)
        return;
    if (name_is(n, nl, "lambda-runtime-aws-request-id")) {
        c->id[0] = 0;
        if (vl < sizeof c->id)
            memcpy(c->id, v, vl), c->id[vl] = 0;
    } else if (name_is(n, nl, "lambda-runtime-trace-id")) {
        c->trace[0] = 0;
        if (vl < sizeof c->trace)
            memcpy(c->trace, v, vl), c->trace[vl] = 0;
    } else if (name_is(n, nl, "lambda-runtime-deadline-ms")) {
        long long d = 0;
        size_t i = 0;
        for (; i < vl && i < 16 && v[i] >= '0' && v[i] <= '9'; i++)
            d = d * 10 + (v[i] - '0');
        c->deadline = i && i == vl ? d : 0;
    }
}

/* Appends printable text (other bytes as '?') to the answer excerpt. */
static void msg_put(rtc *c, const char *p, size_t n)
{
    for (size_t i = 0; i < n && c->msg_len + 1 < sizeof c->msg; i++) {
        unsigned char ch = (unsigned char)p[i];
        c->msg[c->msg_len++] = ch >= 0x20 && ch < 0x7f ? (char)ch : ch == '\n' ? ' ' : '?';
    }
    c->msg[c->msg_len] = 0;
}

static void on_body(void *arg, const char *p, size_t n)
{
    rtc *c = arg;
    if (!c->want_event) {
        msg_put(c, p, n);
        return;
    }
    if (c->ev_over || c->ev_nomem)
        return;
    if (n > c->max_event - c->ev_len) {
        c->ev_over = 1; /* drained; reported as too_big */
        return;
    }
    if (c->ev_len + n + 1 > c->ev_cap) {
        /* the declared length when there is one (within the cap), else doubling */
        size_t want = c->ev_len + n + 1, nc = c->ev_cap ? c->ev_cap * 2 : 65536;
        if (c->resp.has_cl && c->resp.content_length < c->max_event)
            nc = (size_t)c->resp.content_length + 1;
        if (nc < want)
            nc = want;
        if (nc > c->max_event + 1)
            nc = c->max_event + 1;
        char *q = realloc(c->ev, nc);
        if (!q) {
            c->ev_nomem = 1;
            return;
        }
        c->ev = q;
        c->ev_cap = nc;
    }
    memcpy(c->ev + c->ev_len, p, n);
    c->ev_len += n;
}

/* Reads one answer on c->fd into the parser.  *got: whether any byte of
 * it arrived (a reused connection that closes before one may be retried). */
static rtc_err read_answer(rtc *c, int *got)
{
    *got = 0;
    for (;;) {
        if (c->in_off == c->in_len) {
            ssize_t n = recv(c->fd, c->in, sizeof c->in, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                snprintf(c->detail, sizeof c->detail, "the connection to %s failed: %s", c->api,
                         strerror(errno));
                return RTC_EIO;
            }
            if (n == 0) {
                http_resp_err e = http_resp_eof(&c->resp);
                if (e == HTTP_RESP_OK)
                    return RTC_OK; /* a body that ran to the close */
                snprintf(c->detail, sizeof c->detail, "%s closed the connection %s", c->api,
                         e == HTTP_RESP_ECLOSED ? "before answering" : "in the middle of its answer");
                return RTC_EIO;
            }
            *got = 1;
            c->in_off = 0;
            c->in_len = (size_t)n;
        }
        size_t used = 0;
        http_resp_err e = http_resp_feed(&c->resp, c->in + c->in_off, c->in_len - c->in_off, &used);
        c->in_off += used;
        if (e) {
            snprintf(c->detail, sizeof c->detail, "malformed answer from %s: %s", c->api,
                     c->resp.error);
            return RTC_EPROTO;
        }
        if (c->resp.done)
            return RTC_OK;
    }
}

/* Readies the parser for the next answer. */
static void answer_init(rtc *c, int want_event)
{
    http_resp_init(&c->resp);
    c->resp.on_header = on_header;
    c->resp.on_body = on_body;
    c->resp.arg = c;
    c->want_event = want_event;
    c->ev_len = 0;
    c->ev_over = c->ev_nomem = 0;
    c->msg_len = 0;
    c->msg[0] = 0;
    if (want_event) { /* what an event was keeps until the next one */
        c->id[0] = c->trace[0] = 0;
        c->deadline = 0;
    }
}

/* After an answer was read: keeps or closes the connection (pipelined: a
 * request is still outstanding on it). */
static rtc_err answer_done(rtc *c, int *status, int pipelined)
{
    *status = c->resp.status;
    if (!c->resp.keep_alive || (!pipelined && c->in_off < c->in_len))
        conn_close(c); /* closed by the server, or bytes nobody asked for */
    else
        c->reused = 1;
    if (c->ev_nomem) {
        snprintf(c->detail, sizeof c->detail, "out of memory for a %llu-byte event",
                 (unsigned long long)c->resp.body_len);
        return RTC_ENOMEM;
    }
    return RTC_OK;
}

static const char next_head_fmt[] = "GET " BASE "/invocation/next HTTP/1.1\r\nHost: %s\r\n"
                                    "User-Agent: nerd-bootstrap\r\n\r\n";

/* Sends one request and reads its answer, on the kept-alive connection or
 * a new one; *status receives the answer's status.  pipe_next: a GET /next
 * follows in the same write, its answer left for rtc_next(). */
static rtc_err request(rtc *c, const char *method, const char *path, const char *type,
                       const char *body, size_t len, int want_event, int pipe_next, int *status)
{
    char tail[RTC_API_CAP + 128];
    int tl = pipe_next ? snprintf(tail, sizeof tail, next_head_fmt, c->api) : 0;
    if (tl < 0 || (size_t)tl >= sizeof tail)
        tl = 0, pipe_next = 0;
    if (c->next_sent) /* a /next is outstanding on it: not to be overtaken */
        conn_close(c);
    c->next_sent = 0;
    char head[2048];
    int hl;
    if (!strcmp(method, "GET"))
        hl = snprintf(head, sizeof head, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: nerd-bootstrap"
                      "\r\n\r\n", path, c->api);
    else
        hl = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: nerd-bootstrap"
                      "\r\nContent-Type: application/json\r\n%s%s%sContent-Length: %zu\r\n\r\n",
                      method, path, c->api, type ? "Lambda-Runtime-Function-Error-Type: " : "",
                      type ? type : "", type ? "\r\n" : "", len);
    if (hl < 0 || (size_t)hl >= sizeof head) {
        snprintf(c->detail, sizeof c->detail, "%s %.100s: request head too long", method, path);
        return RTC_EPROTO;
    }
    for (int attempt = 0;; attempt++) {
        int fresh = c->fd < 0, got = 0;
        if (fresh) {
            rtc_err e = conn_open(c);
            if (e)
                return e;
        }
        answer_init(c, want_event);
        rtc_err e = RTC_OK;
        if (send_all(c->fd, head, (size_t)hl, body, len, tail, (size_t)tl)) {
            snprintf(c->detail, sizeof c->detail, "the connection to %s failed: %s", c->api,
                     strerror(errno));
            e = RTC_EIO;
        } else {
            e = read_answer(c, &got);
        }
        if (e == RTC_OK) {
            e = answer_done(c, status, pipe_next);
            c->next_sent = pipe_next && c->fd >= 0;
            return e;
        }
        int retry = !fresh && c->reused && !got && attempt == 0 && e == RTC_EIO;
        conn_close(c);
        if (!retry)
            return e;
        /* the kept-alive connection was closed while idle: once more, on a new one */
    }
}

/* Percent-encodes what a path segment cannot hold as it is; -1 if it does
 * not fit out[0..cap). */
static int put_id(char *out, size_t cap, const char *id)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *s = (const unsigned char *)id; *s; s++) {
        int plain = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                    (*s >= '0' && *s <= '9') || strchr("-._~", *s);
        if (o + 4 > cap)
            return -1;
        if (plain) {
            out[o++] = (char)*s;
        } else {
            out[o++] = '%';
            out[o++] = hex[*s >> 4];
            out[o++] = hex[*s & 15];
        }
    }
    out[o] = 0;
    return 0;
}

rtc_err rtc_next(rtc *c, int *status, rtc_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->id = ev->trace = ev->body = "";
    rtc_err e = RTC_EIO;
    if (c->next_sent) { /* asked for already, behind the last /response */
        int got = 0;
        c->next_sent = 0;
        answer_init(c, 1);
        e = read_answer(c, &got);
        if (e == RTC_OK)
            e = answer_done(c, status, 0);
        else if (!got)
            conn_close(c); /* (a server that dropped it: asked again below) */
        else
            return e;
    }
    if (e)
        e = request(c, "GET", BASE "/invocation/next", NULL, NULL, 0, 1, 0, status);
    if (e)
        return e;
    if (*status != 200) {
        /* an error: its body is a message, not an event */
        c->msg_len = 0;
        msg_put(c, c->resp.reason, strlen(c->resp.reason));
        if (c->ev_len) {
            msg_put(c, ": ", 2);
            msg_put(c, c->ev, c->ev_len);
        }
        c->ev_len = 0;
        return RTC_OK;
    }
    ev->id = c->id;
    ev->trace = c->trace;
    ev->deadline_ms = c->deadline;
    ev->too_big = c->ev_over;
    if (!c->ev_over && c->ev) {
        c->ev[c->ev_len] = 0;
        ev->body = c->ev;
        ev->body_len = c->ev_len;
    }
    return RTC_OK;
}

/* POSTs to BASE + "/invocation/{id}/" + what, or BASE + "/init/error". */
static rtc_err post(rtc *c, const char *id, const char *what, const char *type, const char *body,
                    size_t len, int pipe_next, int *status)
{
    char path[3 * RTC_ID_CAP + 64], enc[3 * RTC_ID_CAP + 1];
    if (!id) {
        snprintf(path, sizeof path, BASE "/init/error");
    } else if (strlen(id) >= RTC_ID_CAP || put_id(enc, sizeof enc, id)) {
        snprintf(c->detail, sizeof c->detail, "request id too long");
        return RTC_EPROTO;
    } else {
        snprintf(path, sizeof path, BASE "/invocation/%s/%s", enc, what);
    }
    char t[128];
    if (type) { /* a header value: printable ASCII only */
        size_t k = 0;
        for (; type[k] && k + 1 < sizeof t; k++)
            t[k] = type[k] > ' ' && type[k] < 0x7f ? type[k] : '_';
        t[k] = 0;
        type = t;
    }
    rtc_err e = request(c, "POST", path, type, body, len, 0, pipe_next, status);
    if (!e && *status != 202) { /* "reason: body" */
        char b[RTC_MSG_CAP];
        memcpy(b, c->msg, c->msg_len + 1);
        size_t bl = c->msg_len;
        c->msg_len = 0;
        msg_put(c, c->resp.reason, strlen(c->resp.reason));
        if (bl) {
            msg_put(c, ": ", 2);
            msg_put(c, b, bl);
        }
    }
    return e;
}

void rtc_set_pipeline(rtc *c, int on) { c->pipeline = on != 0; }

rtc_err rtc_respond(rtc *c, const char *id, const char *body, size_t len, int *status)
{
    /* GET /next pipelined behind it (the answer is read by rtc_next): one
     * write, and one wake-up, per invocation; not for a result that the
     * Runtime API will refuse with 413, after which it closes */
    return post(c, id, "response", NULL, body, len, c->pipeline && len <= RTC_PIPE_MAX, status);
}

rtc_err rtc_fail(rtc *c, const char *id, const char *type, const char *json, size_t len,
                 int *status)
{
    return post(c, id, "error", type, json, len, c->pipeline && id && len <= RTC_PIPE_MAX,
                status);
}
