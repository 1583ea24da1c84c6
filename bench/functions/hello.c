/*
 * A trivial Lambda custom runtime in C, for measuring the local platform
 * itself (`make bench`): it speaks the Runtime API over one keep-alive
 * socket with plain send/recv, and answers every event with a fixed
 * payload 2.0 result, its next GET /next pipelined behind the /response
 * in the same write (HTTP/1.1 pipelining; the 202 is read first).  Time from spawn to its first /next is the
 * platform's cold-start floor.  Exits on any protocol error.  For the
 * platform's soak test an event containing "/crash" makes it exit (status
 * 3) and one containing "/error" makes it post /error.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>

#define BUF_CAP (7u << 20) /* Runtime API payloads are capped at 6 MB */

static char *buf;
static size_t have;

/* Reads one response; returns body length or -1; copies the request id. */
static long read_response(int fd, char *rid, size_t ridcap, size_t *body_off)
{
    for (;;) {
        char *end = have ? memmem(buf, have, "\r\n\r\n", 4) : NULL;
        if (end) {
            size_t hlen = (size_t)(end - buf) + 4;
            long clen = 0;
            for (char *l = strstr(buf, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
                char *h = l + 2;
                if (!strncasecmp(h, "Content-Length:", 15))
                    clen = strtol(h + 15, NULL, 10);
                else if (rid && !strncasecmp(h, "Lambda-Runtime-Aws-Request-Id:", 30)) {
                    const char *v = h + 30;
                    while (*v == ' ') v++;
                    size_t n = strcspn(v, "\r");
                    if (n >= ridcap) return -1;
                    memcpy(rid, v, n);
                    rid[n] = 0;
                }
            }
            if (clen < 0 || (size_t)clen > BUF_CAP - hlen) return -1;
            while (have < hlen + (size_t)clen) {
                ssize_t r = recv(fd, buf + have, BUF_CAP - have, 0);
                if (r <= 0) return -1;
                have += (size_t)r;
            }
            *body_off = hlen;
            return clen;
        }
        if (have >= BUF_CAP - 1) return -1;
        ssize_t r = recv(fd, buf + have, BUF_CAP - 1 - have, 0);
        if (r <= 0) return -1;
        have += (size_t)r;
        buf[have] = 0;
    }
}

static void consume(size_t n)
{
    memmove(buf, buf + n, have - n);
    have -= n;
    buf[have] = 0;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int main(void)
{
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api) { fputs("AWS_LAMBDA_RUNTIME_API not set\n", stderr); return 1; }
    const char *colon = strrchr(api, ':');
    if (!colon) return 1;
    char host[64];
    size_t hl = (size_t)(colon - api);
    if (hl >= sizeof host) return 1;
    memcpy(host, api, hl);
    host[hl] = 0;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) return 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa)) return 1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    buf = malloc(BUF_CAP);
    if (!buf) return 1;
    static const char body[] = "{\"statusCode\":200,\"headers\":{\"content-type\":\"text/plain\"},\"body\":\"hello\"}";
    char req[768], rid[128];
    static const char next[] = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: rapi\r\n\r\n";
    if (send_all(fd, next, sizeof next - 1)) return 1;
    for (;;) {
        size_t off;
        long n = read_response(fd, rid, sizeof rid, &off);
        if (n < 0) return 1;
        int crash = memmem(buf + off, (size_t)n, "/crash", 6) != NULL;
        int error = memmem(buf + off, (size_t)n, "/error", 6) != NULL;
        consume(off + (size_t)n);
        if (crash)
            return 3;
        static const char ebody[] = "{\"errorMessage\":\"asked to fail\",\"errorType\":\"Hello.Error\"}";
        int l = error ? snprintf(req, sizeof req,
                                 "POST /2018-06-01/runtime/invocation/%s/error HTTP/1.1\r\nHost: rapi\r\n"
                                 "Lambda-Runtime-Function-Error-Type: Hello.Error\r\n"
                                 "Content-Length: %zu\r\n\r\n%s%s", rid, sizeof ebody - 1, ebody, next)
                      : snprintf(req, sizeof req,
                                 "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: rapi\r\n"
                                 "Content-Length: %zu\r\n\r\n%s%s", rid, sizeof body - 1, body, next);
        if (l < 0 || (size_t)l >= sizeof req || send_all(fd, req, (size_t)l)) return 1;
        n = read_response(fd, NULL, 0, &off);
        if (n < 0) return 1;
        consume(off + (size_t)n);
    }
}
