/*
 * The DynamoDB client (function/ddb_client.c) against a scripted loopback
 * HTTP server.  A test double on purpose: DynamoDB Local never throttles,
 * never answers 5xx on request, never sends a wrong x-amz-crc32 and does
 * not check signatures, so the retry rules, the CRC check and the SigV4
 * signature can only be seen against a server that does those things.
 * (The client against a real endpoint: tests/function/test_products.sh.)
 *
 * Checked: the endpoint, region and credentials taken from the
 * environment in the SDKs' order; the request (POST /, X-Amz-Target,
 * Content-Type, X-Amz-Security-Token, the body) and its SigV4 signature,
 * recomputed here with OpenSSL over the headers libcurl says it signed;
 * one kept-alive connection for many calls, and a new one after the
 * server closes; retries on 500/503/429, throttling codes and CRC
 * mismatches (absent CRC accepted), none on ValidationException or
 * ConditionalCheckFailedException; the attempt cap; connection refused;
 * the deadline; the answer cap; error bodies with message or Message and
 * with or without a namespace; the header and classification parser
 * directly.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "ddb_client.h"

/* ---- the scripted server -------------------------------------------------------- */

#define MAX_STEPS 32
#define REQ_CAP (512 * 1024)

typedef struct step {
    int status;
    const char *body;
    int crc;       /* 1: correct x-amz-crc32, 0: none, -1: wrong */
    int close;     /* Connection: close after this answer */
    int delay_ms;  /* before answering */
} step;

static struct {
    int lfd, port;
    step steps[MAX_STEPS];
    int n_steps, next;
    int accepts, requests;
    char last[REQ_CAP]; /* the last request, head and body */
    size_t last_len;
    pthread_mutex_t mu;
    int stop;
} S = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void script(const step *st, int n)
{
    pthread_mutex_lock(&S.mu);
    memcpy(S.steps, st, sizeof *st * (size_t)n);
    S.n_steps = n;
    S.next = 0;
    S.requests = 0;
    pthread_mutex_unlock(&S.mu);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Serves one connection: requests with Content-Length bodies, answers
 * from the script (the last step repeats). */
static void serve(int fd)
{
    static char buf[REQ_CAP]; /* (one connection at a time) */
    size_t have = 0;
    for (;;) {
        char *end;
        while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
            if (have == sizeof buf)
                return;
            ssize_t n = read(fd, buf + have, sizeof buf - have);
            if (n <= 0)
                return;
            have += (size_t)n;
        }
        size_t head = (size_t)(end - buf) + 4, cl = 0;
        const char *p = strcasestr(buf, "\r\ncontent-length:");
        if (p && p < end)
            cl = strtoul(p + 17, NULL, 10);
        if (head + cl > sizeof buf)
            return;
        while (have < head + cl) {
            ssize_t n = read(fd, buf + have, sizeof buf - have);
            if (n <= 0)
                return;
            have += (size_t)n;
        }
        pthread_mutex_lock(&S.mu);
        memcpy(S.last, buf, head + cl);
        S.last[head + cl] = 0;
        S.last_len = head + cl;
        S.requests++;
        step st = S.n_steps ? S.steps[S.next < S.n_steps ? S.next : S.n_steps - 1]
                            : (step){200, "{}", 1, 0, 0};
        S.next++;
        pthread_mutex_unlock(&S.mu);
        memmove(buf, buf + head + cl, have - head - cl);
        have -= head + cl;
        if (st.delay_ms)
            sleep_ms(st.delay_ms);
        char out[8192];
        size_t bl = strlen(st.body);
        unsigned long crc = crc32(0L, (const unsigned char *)st.body, (uInt)bl);
        char crch[64] = "";
        if (st.crc)
            snprintf(crch, sizeof crch, "x-amz-crc32: %lu\r\n", st.crc > 0 ? crc : crc ^ 1);
        int n = snprintf(out, sizeof out,
                         "HTTP/1.1 %d X\r\nx-amzn-RequestId: rid-%d\r\n"
                         "Content-Type: application/x-amz-json-1.0\r\n%sContent-Length: %zu\r\n%s\r\n%s",
                         st.status, S.requests, crch, bl,
                         st.close ? "Connection: close\r\n" : "", st.body);
        if (write(fd, out, (size_t)n) != n || st.close)
            return;
    }
}

static void *server(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(S.lfd, NULL, NULL);
        if (fd < 0 || S.stop) {
            if (fd >= 0)
                close(fd);
            return NULL;
        }
        pthread_mutex_lock(&S.mu);
        S.accepts++;
        pthread_mutex_unlock(&S.mu);
        serve(fd);
        close(fd);
    }
}

static int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 16) ||
        getsockname(fd, (struct sockaddr *)&a, &al))
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

/* ---- SigV4, recomputed --------------------------------------------------------------- */

static void hex(const unsigned char *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static void hmac(const void *key, size_t kl, const char *msg, unsigned char out[32])
{
    unsigned int ol = 32;
    HMAC(EVP_sha256(), key, (int)kl, (const unsigned char *)msg, strlen(msg), out, &ol);
}

/* The value of header name (case-insensitive) in the request head req,
 * trimmed, into out; 0 when absent. */
static int header(const char *req, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *l = strstr(req, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n")) {
        const char *s = l + 2;
        if (!strncasecmp(s, name, nl) && s[nl] == ':') {
            s += nl + 1;
            while (*s == ' ')
                s++;
            const char *e = strstr(s, "\r\n");
            size_t n = (size_t)(e - s);
            while (n && s[n - 1] == ' ')
                n--;
            snprintf(out, cap, "%.*s", (int)n, s);
            return 1;
        }
    }
    return 0;
}

/* Whether the request's Authorization header is the SigV4 signature of
 * the request with secret, region and service dynamodb; *signed_list gets
 * the SignedHeaders list. */
static int sigv4_ok(const char *req, size_t req_len, const char *secret, const char *region,
                    char *signed_list, size_t cap)
{
    char auth[1024], date[32];
    if (!header(req, "authorization", auth, sizeof auth) || !header(req, "x-amz-date", date, sizeof date))
        return 0;
    const char *sh = strstr(auth, "SignedHeaders="), *sig = strstr(auth, "Signature=");
    if (!sh || !sig)
        return 0;
    sh += 14;
    snprintf(signed_list, cap, "%.*s", (int)(strchr(sh, ',') - sh), sh);
    const char *body = strstr(req, "\r\n\r\n") + 4;
    unsigned char d[32];
    char bh[65], canon[8192];
    SHA256((const unsigned char *)body, req_len - (size_t)(body - req), d);
    hex(d, 32, bh);
    size_t o = (size_t)snprintf(canon, sizeof canon, "POST\n/\n\n");
    char list[512], *save = NULL;
    snprintf(list, sizeof list, "%s", signed_list);
    for (char *h = strtok_r(list, ";", &save); h; h = strtok_r(NULL, ";", &save)) {
        char v[4096];
        if (!header(req, h, v, sizeof v))
            return 0;
        o += (size_t)snprintf(canon + o, sizeof canon - o, "%s:%s\n", h, v);
    }
    snprintf(canon + o, sizeof canon - o, "\n%s\n%s", signed_list, bh);
    SHA256((const unsigned char *)canon, strlen(canon), d);
    char ch[65], sts[1024], k0[300];
    hex(d, 32, ch);
    snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/dynamodb/aws4_request\n%s", date,
             date, region, ch);
    unsigned char k[32];
    char day[9];
    snprintf(day, sizeof day, "%.8s", date);
    snprintf(k0, sizeof k0, "AWS4%s", secret);
    hmac(k0, strlen(k0), day, k);
    hmac(k, 32, region, k);
    hmac(k, 32, "dynamodb", k);
    hmac(k, 32, "aws4_request", k);
    hmac(k, 32, sts, d);
    char want[65];
    hex(d, 32, want);
    return !strncmp(sig + 10, want, 64);
}

/* ---- tests ----------------------------------------------------------------------------- */

static ddbc *client(int attempts)
{
    char url[64], err[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", S.port);
    ddbc_config cfg = {.endpoint = url, .region = "eu-west-1", .access_key = "AKIDTEST",
                       .secret_key = "s3cr3t/key", .session_token = "TOKEN+abc/=",
                       .max_attempts = attempts, .base_delay_ms = 1, .max_delay_ms = 5};
    ddbc *c = NULL;
    CHECK(ddbc_new(&cfg, &c, err, sizeof err) == DDBC_OK, "ddbc_new: %s", err);
    return c;
}

static void test_env(void)
{
    static const char *const vars[] = {"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL", "AWS_REGION",
        "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", NULL};
    for (size_t i = 0; vars[i]; i++)
        unsetenv(vars[i]);
    char err[256] = "";
    ddbc *c = NULL;
    CHECK(ddbc_new(NULL, &c, err, sizeof err) == DDBC_ECONFIG && !c && strstr(err, "no region"),
          "no region: %s", err);
    setenv("AWS_DEFAULT_REGION", "us-west-2", 1);
    CHECK(ddbc_new(NULL, &c, err, sizeof err) == DDBC_ECONFIG && strstr(err, "no credentials"),
          "no credentials: %s", err);
    setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    setenv("AWS_SESSION_TOKEN", "", 1); /* empty: unset */
    CHECK(ddbc_new(NULL, &c, err, sizeof err) == DDBC_OK, "from env: %s", err);
    CHECK(c && !strcmp(ddbc_endpoint(c), "https://dynamodb.us-west-2.amazonaws.com/") &&
              !strcmp(ddbc_region(c), "us-west-2"), "region endpoint: %s", c ? ddbc_endpoint(c) : "");
    ddbc_free(c);
    setenv("AWS_REGION", "cn-north-1", 1);
    CHECK(ddbc_new(NULL, &c, err, sizeof err) == DDBC_OK &&
              !strcmp(ddbc_endpoint(c), "https://dynamodb.cn-north-1.amazonaws.com.cn/") &&
              !strcmp(ddbc_region(c), "cn-north-1"), "AWS_REGION first, China's suffix: %s",
          c ? ddbc_endpoint(c) : err);
    ddbc_free(c);
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1", 1);
    CHECK(ddbc_new(NULL, &c, err, sizeof err) == DDBC_OK &&
              !strcmp(ddbc_endpoint(c), "http://127.0.0.1:1"), "AWS_ENDPOINT_URL");
    ddbc_free(c);
    setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2", 1);
    CHECK(ddbc_new(NULL, &c, err, sizeof err) == DDBC_OK &&
              !strcmp(ddbc_endpoint(c), "http://127.0.0.1:2"), "AWS_ENDPOINT_URL_DYNAMODB first");
    ddbc_free(c);
    setenv("AWS_ENDPOINT_URL_DYNAMODB", "ftp://x", 1);
    CHECK(ddbc_new(NULL, &c, err, sizeof err) == DDBC_ECONFIG && strstr(err, "ftp://x"),
          "bad scheme: %s", err);
    setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://a b", 1);
    CHECK(ddbc_new(NULL, &c, err, sizeof err) == DDBC_ECONFIG, "space in the URL");
    unsetenv("AWS_ENDPOINT_URL_DYNAMODB");
    setenv("AWS_REGION", "eu-west-1\r\nX: y", 1);
    CHECK(ddbc_new(NULL, &c, err, sizeof err) == DDBC_ECONFIG && strstr(err, "not a region"),
          "bad region: %s", err);
    setenv("AWS_REGION", "eu-west-1", 1);
    setenv("AWS_SESSION_TOKEN", "a\nb", 1);
    CHECK(ddbc_new(NULL, &c, err, sizeof err) == DDBC_ECONFIG, "token with a newline");
    for (size_t i = 0; vars[i]; i++)
        unsetenv(vars[i]);
    ddbc_free(NULL);
}

static void test_request_and_signature(void)
{
    ddbc *c = client(3);
    step ok = {200, "{\"Item\":{\"id\":{\"S\":\"p1\"}}}", 1, 0, 0};
    script(&ok, 1);
    int accepts = S.accepts;
    const char *body = "{\"TableName\":\"Products\",\"Key\":{\"id\":{\"S\":\"p1\"}}}";
    ddbc_result r;
    ddbc_err e = ddbc_call(c, "GetItem", body, strlen(body), &r);
    CHECK(e == DDBC_OK && r.status == 200 && r.attempts == 1, "GetItem: %d %s", e, r.message);
    CHECK(!strcmp(r.body, ok.body) && r.body_len == strlen(ok.body), "body: %s", r.body);
    CHECK(!strcmp(r.request_id, "rid-1"), "request id: %s", r.request_id);
    pthread_mutex_lock(&S.mu);
    char v[2048];
    CHECK(!strncmp(S.last, "POST / HTTP/1.1\r\n", 17), "request line: %.40s", S.last);
    CHECK(header(S.last, "x-amz-target", v, sizeof v) && !strcmp(v, "DynamoDB_20120810.GetItem"),
          "X-Amz-Target: %s", v);
    CHECK(header(S.last, "content-type", v, sizeof v) && !strcmp(v, "application/x-amz-json-1.0"),
          "Content-Type: %s", v);
    CHECK(header(S.last, "x-amz-security-token", v, sizeof v) && !strcmp(v, "TOKEN+abc/="),
          "X-Amz-Security-Token: %s", v);
    CHECK(!header(S.last, "expect", v, sizeof v), "no Expect header");
    CHECK(!strcmp(strstr(S.last, "\r\n\r\n") + 4, body), "request body");
    CHECK(header(S.last, "authorization", v, sizeof v) &&
              !strncmp(v, "AWS4-HMAC-SHA256 Credential=AKIDTEST/", 37) &&
              strstr(v, "/eu-west-1/dynamodb/aws4_request"), "Authorization: %s", v);
    char list[512] = "";
    CHECK(sigv4_ok(S.last, S.last_len, "s3cr3t/key", "eu-west-1", list, sizeof list),
          "SigV4 signature does not verify: %s", S.last);
    CHECK(!strcmp(list, "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"),
          "signed headers: %s", list);
    pthread_mutex_unlock(&S.mu);
    /* a 300 KB item (most of DynamoDB's 400 KB): no Expect: 100-continue */
    size_t bl = 300 * 1024;
    char *big = malloc(bl + 1);
    memset(big, 'x', bl);
    big[bl] = 0;
    memcpy(big, "{\"a\":\"", 6);
    memcpy(big + bl - 2, "\"}", 2);
    CHECK(ddbc_call(c, "PutItem", big, bl, &r) == DDBC_OK, "300 KB: %s", r.message);
    pthread_mutex_lock(&S.mu);
    CHECK(!header(S.last, "expect", v, sizeof v) && S.last_len > bl, "300 KB: no Expect (%s)", v);
    pthread_mutex_unlock(&S.mu);
    free(big);
    /* more calls: the same connection */
    for (int i = 0; i < 5; i++)
        CHECK(ddbc_call(c, "PutItem", "{}", 2, &r) == DDBC_OK, "call %d: %s", i, r.message);
    CHECK(S.accepts == accepts + 1, "keep-alive: %d connections for 7 calls", S.accepts - accepts);
    /* the server closes: the next call reconnects */
    step closing[] = {{200, "{}", 1, 1, 0}, {200, "{}", 1, 0, 0}};
    script(closing, 2);
    CHECK(ddbc_call(c, "PutItem", "{}", 2, &r) == DDBC_OK, "before close");
    CHECK(ddbc_call(c, "PutItem", "{}", 2, &r) == DDBC_OK && r.attempts == 1, "after close: %s",
          r.message);
    CHECK(S.accepts == accepts + 2, "reconnected once: %d", S.accepts - accepts);
    ddbc_free(c);
}

/* Runs one call against the script st[0..n); returns its error. */
static ddbc_err run(ddbc *c, const step *st, int n, ddbc_result *r)
{
    script(st, n);
    return ddbc_call(c, "PutItem", "{}", 2, r);
}

static void test_retries(void)
{
    ddbc *c = client(4);
    ddbc_result r;
    static const char THROTTLE[] = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
                                   "ProvisionedThroughputExceededException\",\"message\":\"slow down\"}";
    static const char CCF[] = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
                              "ConditionalCheckFailedException\",\"Message\":\"The conditional request failed\"}";
    static const char VALID[] = "{\"__type\":\"com.amazon.coral.validate#ValidationException\","
                                "\"message\":\"One or more parameter values were invalid\"}";
    step s1[] = {{500, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#InternalServerError\","
                       "\"message\":\"oops\"}", 1, 0, 0}, {200, "{}", 1, 0, 0}};
    CHECK(run(c, s1, 2, &r) == DDBC_OK && r.attempts == 2 && S.requests == 2, "500 then 200: %d",
          r.attempts);
    step s2[] = {{400, THROTTLE, 1, 0, 0}, {400, THROTTLE, 1, 0, 0}, {200, "{}", 1, 0, 0}};
    CHECK(run(c, s2, 3, &r) == DDBC_OK && r.attempts == 3, "throttled twice: %d", r.attempts);
    step s3[] = {{400, CCF, 0, 0, 0}, {200, "{}", 1, 0, 0}};
    CHECK(run(c, s3, 2, &r) == DDBC_ESERVICE && r.attempts == 1 && S.requests == 1 &&
              r.status == 400 && !strcmp(r.code, "ConditionalCheckFailedException") &&
              !strcmp(r.message, "The conditional request failed"),
          "conditional check: not retried, Message read: %d %s %s", r.attempts, r.code, r.message);
    step s4[] = {{400, VALID, 1, 0, 0}, {200, "{}", 1, 0, 0}};
    CHECK(run(c, s4, 2, &r) == DDBC_ESERVICE && r.attempts == 1 &&
              !strcmp(r.code, "ValidationException") &&
              !strcmp(r.message, "One or more parameter values were invalid"),
          "validation: not retried: %s", r.code);
    step s5[] = {{503, "<html>Service Unavailable</html>", 0, 0, 0}};
    CHECK(run(c, s5, 1, &r) == DDBC_ESERVICE && r.attempts == 4 && S.requests == 4 &&
              r.status == 503 && !strcmp(r.code, "HTTP503") && strstr(r.message, "Unavailable"),
          "503 always: %d attempts (cap 4), %s %s", r.attempts, r.code, r.message);
    step s6[] = {{429, "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}", 1, 0, 0},
                 {200, "{}", 1, 0, 0}};
    CHECK(run(c, s6, 2, &r) == DDBC_OK && r.attempts == 2, "429 without a namespace: retried");
    step s7[] = {{200, "{\"Item\":{}}", -1, 0, 0}, {200, "{\"Item\":{}}", 1, 0, 0}};
    CHECK(run(c, s7, 2, &r) == DDBC_OK && r.attempts == 2 && !strcmp(r.body, "{\"Item\":{}}"),
          "wrong CRC then right: %d", r.attempts);
    step s8[] = {{200, "{}", -1, 0, 0}};
    CHECK(run(c, s8, 1, &r) == DDBC_EPROTO && r.attempts == 4 && strstr(r.message, "x-amz-crc32"),
          "wrong CRC always: %s", r.message);
    step s9[] = {{200, "{\"Count\":0}", 0, 0, 0}};
    CHECK(run(c, s9, 1, &r) == DDBC_OK && r.attempts == 1, "no CRC header: accepted");
    step s10[] = {{400, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException\","
                        "\"message\":\"Requested resource not found\"}", -1, 0, 0},
                  {400, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException\","
                        "\"message\":\"Requested resource not found\"}", 1, 0, 0}};
    CHECK(run(c, s10, 2, &r) == DDBC_ESERVICE && r.attempts == 2 &&
              !strcmp(r.code, "ResourceNotFoundException"), "an error with a wrong CRC is retried");
    ddbc_free(c);
}

static void test_transport(void)
{
    /* a port nobody listens on */
    int port = 0, fd = listen_any(&port);
    close(fd);
    char url[64], err[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    ddbc_config cfg = {.endpoint = url, .region = "us-east-1", .access_key = "a",
                       .secret_key = "b", .max_attempts = 3, .base_delay_ms = 1, .max_delay_ms = 2};
    ddbc *c = NULL;
    ddbc_result r;
    CHECK(ddbc_new(&cfg, &c, err, sizeof err) == DDBC_OK, "%s", err);
    CHECK(ddbc_call(c, "Scan", "{}", 2, &r) == DDBC_ETRANSPORT && r.attempts == 3 &&
              r.status == 0 && strstr(r.message, url), "refused: %d %s", r.attempts, r.message);
    ddbc_set_deadline(c, 1); /* long past */
    CHECK(ddbc_call(c, "Scan", "{}", 2, &r) == DDBC_EDEADLINE && r.attempts == 0,
          "past deadline: no attempt: %s", r.message);
    ddbc_free(c);

    /* an answer slower than the deadline */
    c = client(3);
    step slow = {200, "{}", 1, 0, 1500};
    script(&slow, 1);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ddbc_set_deadline(c, (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 200);
    ddbc_err e = ddbc_call(c, "Scan", "{}", 2, &r);
    CHECK((e == DDBC_ETRANSPORT || e == DDBC_EDEADLINE) && r.attempts >= 1,
          "deadline during an answer: %d %s", e, r.message);
    ddbc_set_deadline(c, 0);
    ddbc_free(c);
    sleep_ms(1500); /* let the server finish that answer */

    /* an answer over the cap */
    snprintf(url, sizeof url, "http://127.0.0.1:%d", S.port);
    ddbc_config small = {.endpoint = url, .region = "us-east-1", .access_key = "a",
                         .secret_key = "b", .max_response = 64};
    CHECK(ddbc_new(&small, &c, err, sizeof err) == DDBC_OK, "%s", err);
    step big = {200, "{\"Items\":[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]}", 1, 0, 0};
    script(&big, 1);
    CHECK(ddbc_call(c, "Scan", "{}", 2, &r) == DDBC_EPROTO && strstr(r.message, "64 bytes") &&
              r.attempts == 1, "too big: %s", r.message);
    CHECK(ddbc_call(c, "Bad\r\nOp", "{}", 2, &r) == DDBC_ECONFIG, "bad operation name");
    ddbc_free(c);
}

static void test_parser(void)
{
    ddbc__answer a;
    memset(&a, 0x55, sizeof a);
    ddbc__header(&a, "HTTP/1.1 200 OK\r\n", 17);
    CHECK(!a.have_crc && !a.request_id[0], "status line resets");
    ddbc__header(&a, "X-Amz-CRC32:  2745614147 \r\n", 27);
    CHECK(a.have_crc && !a.bad_crc && a.crc == 2745614147u, "crc header");
    ddbc__header(&a, "x-amzn-RequestId: cb6a0690\r\n", 28);
    CHECK(!strcmp(a.request_id, "cb6a0690"), "request id");
    ddbc_result r;
    CHECK(ddbc__classify(200, &a, "{}", 2, &r) == DDBC__DONE, "capture A.10: crc of {}");
    ddbc__header(&a, "x-amz-crc32: 4294967296", 23);
    CHECK(a.bad_crc && ddbc__classify(200, &a, "{}", 2, &r) == DDBC__RETRY, "crc over 32 bits");
    ddbc__header(&a, "x-amz-crc32: 12a", 16);
    CHECK(a.bad_crc, "crc not a number");
    ddbc__answer none = {0};
    CHECK(ddbc__classify(400, &none, "not json", 8, &r) == DDBC__FAIL && !strcmp(r.code, "HTTP400") &&
              !strcmp(r.message, "not json"), "400 not JSON: %s %s", r.code, r.message);
    CHECK(ddbc__classify(502, &none, "", 0, &r) == DDBC__RETRY, "502 empty");
    const char *t = "{\"__type\":\"com.amazon.coral.service#UnrecognizedClientException:http://x\","
                    "\"message\":\"The security token included in the request is invalid.\"}";
    CHECK(ddbc__classify(400, &none, t, strlen(t), &r) == DDBC__FAIL &&
              !strcmp(r.code, "UnrecognizedClientException"), "code before ':': %s", r.code);
    /* the real service's capture (spec, I2): a 112-byte error with its CRC */
    const char *rnf = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException\","
                      "\"message\":\"Requested resource not found\"}";
    ddbc__answer real = {0};
    ddbc__header(&real, "X-Amz-Crc32: 3737639027", 23);
    CHECK(strlen(rnf) == 112 && ddbc__classify(400, &real, rnf, 112, &r) == DDBC__FAIL &&
              !strcmp(r.code, "ResourceNotFoundException"), "real capture's CRC: %s", r.message);
    CHECK(!strcmp(ddbc_strerror(DDBC_ESERVICE), "DynamoDB answered an error") &&
              !strcmp(ddbc_strerror((ddbc_err)99), "unknown error"), "strerror");
}

int main(void)
{
    S.lfd = listen_any(&S.port);
    if (S.lfd < 0) {
        perror("listen");
        return 1;
    }
    pthread_t th;
    pthread_create(&th, NULL, server, NULL);
    test_env();
    test_parser();
    test_request_and_signature();
    test_retries();
    test_transport();
    S.stop = 1;
    shutdown(S.lfd, SHUT_RDWR);
    pthread_join(th, NULL);
    close(S.lfd);
    return check_done("test_ddb_client");
}
