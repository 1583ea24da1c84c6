/*
 * The DynamoDB client (see ddb_client.h): configuration from the
 * environment, one reused CURL handle signed with CURLOPT_AWS_SIGV4, the
 * answer's header lines and body captured under their caps, the CRC-32
 * check (zlib's crc32, the IEEE polynomial botocore checks with), the
 * SDKs' retry decision and a full-jitter backoff bounded by the deadline.
 */
#define _GNU_SOURCE
#include "ddb_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define URL_CAP 1024
#define REGION_CAP 64
#define KEY_CAP 256
#define TOKEN_CAP 8192
#define DEFAULT_MAX_RESPONSE ((size_t)32 << 20)

struct ddbc {
    CURL *curl;
    /* Content-Type and the session token (fixed).  No "Expect:" to turn
     * 100-continue off: libcurl 7.88 would sign that empty header, which it
     * then leaves out of the request (requests here stay under its 1 MB
     * threshold for Expect anyway). */
    struct curl_slist *hdrs;
    char endpoint[URL_CAP + 8], region[REGION_CAP + 1], sigv4[REGION_CAP + 32];
    char *access_key, *secret_key;
    ddbc_config cfg;         /* the numbers (strings are the fields above) */
    long long deadline_ms;
    uint64_t rng;            /* xorshift64 state for the jitter */
    ddbc__answer ans;        /* the current attempt's header lines */
    char *body;              /* the current attempt's body */
    size_t body_len, body_cap;
    int too_big;             /* the body outgrew cfg.max_response */
    char curl_err[CURL_ERROR_SIZE];
};

const char *ddbc_strerror(ddbc_err e)
{
    switch (e) {
    case DDBC_OK: return "success";
    case DDBC_ENOMEM: return "out of memory";
    case DDBC_ECONFIG: return "DynamoDB client configuration missing or invalid";
    case DDBC_ETRANSPORT: return "no answer from DynamoDB";
    case DDBC_ESERVICE: return "DynamoDB answered an error";
    case DDBC_EPROTO: return "DynamoDB's answer is unusable";
    case DDBC_EDEADLINE: return "the deadline passed before DynamoDB answered";
    default: return "unknown error";
    }
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the answer parser ------------------------------------------------------ */

void ddbc__header(ddbc__answer *a, const char *line, size_t len)
{
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len >= 5 && !memcmp(line, "HTTP/", 5)) {
        memset(a, 0, sizeof *a);
        return;
    }
    const char *colon = memchr(line, ':', len);
    if (!colon)
        return;
    size_t nl = (size_t)(colon - line), v = nl + 1;
    while (v < len && (line[v] == ' ' || line[v] == '\t'))
        v++;
    size_t e = len;
    while (e > v && (line[e - 1] == ' ' || line[e - 1] == '\t'))
        e--;
    if (nl == 11 && !strncasecmp(line, "x-amz-crc32", 11)) {
        uint64_t x = 0;
        int ok = e > v && e - v <= 10;
        for (size_t i = v; ok && i < e; i++) {
            if (line[i] < '0' || line[i] > '9')
                ok = 0;
            else
                x = x * 10 + (uint64_t)(line[i] - '0');
        }
        a->have_crc = 1;
        a->bad_crc = !ok || x > 0xffffffffu;
        a->crc = (uint32_t)x;
    } else if (nl == 16 && !strncasecmp(line, "x-amzn-requestid", 16)) {
        size_t n = e - v < sizeof a->request_id - 1 ? e - v : sizeof a->request_id - 1;
        memcpy(a->request_id, line + v, n);
        a->request_id[n] = 0;
    }
}

/* Codes the SDKs retry (botocore's DynamoDB policy and standard mode's
 * throttling and transient lists). */
static int retryable_code(const char *code)
{
    static const char *const codes[] = {
        "ProvisionedThroughputExceededException", "ThrottlingException", "Throttling",
        "RequestLimitExceeded", "TooManyRequestsException", "LimitExceededException",
        "TransactionInProgressException", "ThrottledException", "RequestThrottledException",
        "RequestThrottled", "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
        "BandwidthLimitExceeded", "RequestTimeout", "RequestTimeoutException", NULL};
    for (size_t i = 0; codes[i]; i++)
        if (!strcmp(code, codes[i]))
            return 1;
    return 0;
}

/* Copies s (printable ASCII kept, other bytes as '?') into out[cap]. */
static void copy_text(char *out, size_t cap, const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++)
        out[k++] = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f ? s[i] : '?';
    out[k] = 0;
}

int ddbc__classify(int status, const ddbc__answer *a, const char *body, size_t len,
                   ddbc_result *res)
{
    res->status = status;
    res->code[0] = res->message[0] = 0;
    snprintf(res->request_id, sizeof res->request_id, "%s", a->request_id);
    if (a->have_crc) {
        uint32_t got = (uint32_t)crc32(0L, Z_NULL, 0);
        /* zlib takes uInt lengths: a long body goes in pieces */
        for (size_t o = 0; o < len;) {
            size_t n = len - o > 1u << 30 ? 1u << 30 : len - o;
            got = (uint32_t)crc32(got, (const unsigned char *)body + o, (uInt)n);
            o += n;
        }
        if (a->bad_crc || got != a->crc) {
            snprintf(res->message, sizeof res->message,
                     "x-amz-crc32 %s does not match the body's CRC-32 %lu (HTTP %d, %zu bytes)",
                     a->bad_crc ? "(malformed)" : "header", (unsigned long)got, status, len);
            return DDBC__RETRY;
        }
    }
    if (status >= 200 && status < 300)
        return DDBC__DONE;
    json_error_t je;
    json_t *j = len ? json_loadb(body, len, 0, &je) : NULL;
    json_t *t = json_object_get(j, "__type");
    if (json_is_string(t)) {
        const char *s = json_string_value(t), *h = strrchr(s, '#');
        s = h ? h + 1 : s;
        const char *colon = strchr(s, ':');
        copy_text(res->code, sizeof res->code, s, colon ? (size_t)(colon - s) : strlen(s));
    }
    json_t *m = json_object_get(j, "message");
    if (!json_is_string(m))
        m = json_object_get(j, "Message");
    if (json_is_string(m))
        copy_text(res->message, sizeof res->message, json_string_value(m), json_string_length(m));
    else if (!res->code[0])
        copy_text(res->message, sizeof res->message, body, len < 200 ? len : 200);
    json_decref(j);
    if (!res->code[0])
        snprintf(res->code, sizeof res->code, "HTTP%d", status);
    if (status >= 500 || status == 429 || retryable_code(res->code))
        return DDBC__RETRY;
    return DDBC__FAIL;
}

/* ---- configuration ------------------------------------------------------------ */

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int valid_region(const char *r)
{
    size_t n = strlen(r);
    if (!n || n > REGION_CAP)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= '0' && r[i] <= '9') || r[i] == '-'))
            return 0;
    return 1;
}

/* No control characters or spaces (they would break a header). */
static int header_safe(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

static ddbc_err config_fail(ddbc *c, char *err, size_t errlen, const char *what, const char *arg)
{
    if (arg)
        snprintf(err, errlen, "%s '%.200s' %s", what, arg,
                 !strcmp(what, "region") ? "is not a region name"
                                         : "is not an http:// or https:// URL");
    else
        snprintf(err, errlen, "%s", what);
    ddbc_free(c);
    return DDBC_ECONFIG;
}

ddbc_err ddbc_new(const ddbc_config *cfg, ddbc **out, char *err, size_t errlen)
{
    static const ddbc_config none;
    if (!cfg)
        cfg = &none;
    *out = NULL;
    ddbc *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return DDBC_ENOMEM;
    }
    c->cfg = *cfg;
    c->cfg.endpoint = c->cfg.region = c->cfg.access_key = c->cfg.secret_key = NULL;
    c->cfg.session_token = NULL;
    if (c->cfg.max_attempts <= 0)
        c->cfg.max_attempts = 10;
    if (c->cfg.base_delay_ms <= 0)
        c->cfg.base_delay_ms = 50;
    if (c->cfg.max_delay_ms <= 0)
        c->cfg.max_delay_ms = 2000;
    if (c->cfg.connect_timeout_ms <= 0)
        c->cfg.connect_timeout_ms = 1000;
    if (c->cfg.attempt_timeout_ms <= 0)
        c->cfg.attempt_timeout_ms = 5000;
    if (!c->cfg.max_response)
        c->cfg.max_response = DEFAULT_MAX_RESPONSE;

    const char *region = cfg->region ? cfg->region : env("AWS_REGION");
    if (!region)
        region = env("AWS_DEFAULT_REGION");
    if (!region)
        return config_fail(c, err, errlen, "no region: AWS_REGION and AWS_DEFAULT_REGION are unset",
                           NULL);
    if (!valid_region(region))
        return config_fail(c, err, errlen, "region", region);
    snprintf(c->region, sizeof c->region, "%s", region);
    snprintf(c->sigv4, sizeof c->sigv4, "aws:amz:%s:dynamodb", region);

    const char *ep = cfg->endpoint ? cfg->endpoint : env("AWS_ENDPOINT_URL_DYNAMODB");
    if (!ep)
        ep = env("AWS_ENDPOINT_URL");
    if (ep) {
        if (strlen(ep) > URL_CAP || !header_safe(ep) ||
            (strncasecmp(ep, "http://", 7) && strncasecmp(ep, "https://", 8)))
            return config_fail(c, err, errlen, "endpoint", ep);
        snprintf(c->endpoint, sizeof c->endpoint, "%s", ep);
    } else {
        snprintf(c->endpoint, sizeof c->endpoint, "https://dynamodb.%s.amazonaws.com%s/", region,
                 strncmp(region, "cn-", 3) ? "" : ".cn");
    }

    const char *ak = cfg->access_key ? cfg->access_key : env("AWS_ACCESS_KEY_ID");
    const char *sk = cfg->secret_key ? cfg->secret_key : env("AWS_SECRET_ACCESS_KEY");
    const char *tok = cfg->session_token ? cfg->session_token : env("AWS_SESSION_TOKEN");
    if (!ak || !sk)
        return config_fail(c, err, errlen,
                           "no credentials: AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is unset", NULL);
    if (strlen(ak) > KEY_CAP || strlen(sk) > KEY_CAP || !header_safe(ak))
        return config_fail(c, err, errlen, "the access key or secret key is malformed", NULL);
    if (tok && (strlen(tok) > TOKEN_CAP || !header_safe(tok)))
        return config_fail(c, err, errlen, "the session token is malformed", NULL);

    char th[TOKEN_CAP + 32];
    if (curl_global_init(CURL_GLOBAL_DEFAULT) || !(c->curl = curl_easy_init()) ||
        !(c->access_key = strdup(ak)) || !(c->secret_key = strdup(sk)) ||
        !(c->hdrs = curl_slist_append(NULL, "Content-Type: application/x-amz-json-1.0")) ||
        (tok && (snprintf(th, sizeof th, "X-Amz-Security-Token: %s", tok),
                 !curl_slist_append(c->hdrs, th)))) {
        ddbc_free(c);
        snprintf(err, errlen, "out of memory");
        return DDBC_ENOMEM;
    }
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = (uint64_t)now_ms() ^ ((uint64_t)getpid() << 32);
    c->rng = seed | 1;
    *out = c;
    return DDBC_OK;
}

void ddbc_free(ddbc *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->hdrs);
    if (c->secret_key)
        explicit_bzero(c->secret_key, strlen(c->secret_key));
    free(c->access_key);
    free(c->secret_key);
    free(c->body);
    free(c);
}

void ddbc_set_deadline(ddbc *c, long long epoch_ms) { c->deadline_ms = epoch_ms; }

const char *ddbc_endpoint(const ddbc *c) { return c->endpoint; }

const char *ddbc_region(const ddbc *c) { return c->region; }

/* ---- calls -------------------------------------------------------------------- */

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    ddbc *c = arg;
    ddbc__header(&c->ans, p, size * n);
    return size * n;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    ddbc *c = arg;
    size_t len = size * n;
    if (c->body_len + len + 1 > c->cfg.max_response) {
        c->too_big = 1;
        return 0; /* libcurl stops: CURLE_WRITE_ERROR */
    }
    if (c->body_len + len + 1 > c->body_cap) {
        size_t nc = c->body_cap ? c->body_cap : 16384;
        while (nc < c->body_len + len + 1)
            nc *= 2;
        char *b = realloc(c->body, nc);
        if (!b)
            return 0;
        c->body = b;
        c->body_cap = nc;
    }
    memcpy(c->body + c->body_len, p, len);
    c->body_len += len;
    c->body[c->body_len] = 0;
    return len;
}

/* Transport failures the SDKs retry: no connection, a connection that
 * broke or went silent. */
static int retryable_curl(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

static uint64_t next_rand(ddbc *c)
{
    uint64_t x = c->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return c->rng = x;
}

/* The full-jitter delay before attempt n + 1 (n >= 1), in ms. */
static long backoff_ms(ddbc *c, int n)
{
    long cap = c->cfg.base_delay_ms;
    for (int i = 1; i < n && cap < c->cfg.max_delay_ms; i++)
        cap *= 2;
    if (cap > c->cfg.max_delay_ms)
        cap = c->cfg.max_delay_ms;
    return (long)(next_rand(c) % (uint64_t)(cap + 1));
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* One attempt: DDBC__DONE, DDBC__RETRY or DDBC__FAIL with res filled; *e
 * the error to return should this be the last. */
static int attempt(ddbc *c, const char *target, const char *body, size_t len, long timeout_ms,
                   ddbc_result *res, ddbc_err *e)
{
    CURL *h = c->curl;
    struct curl_slist *t = curl_slist_append(NULL, target);
    if (!t) {
        *e = DDBC_ENOMEM;
        snprintf(res->message, sizeof res->message, "out of memory");
        return DDBC__FAIL;
    }
    t->next = c->hdrs; /* the fixed headers follow this call's target */
    memset(&c->ans, 0, sizeof c->ans);
    c->body_len = 0;
    c->too_big = 0;
    c->curl_err[0] = 0;
    curl_easy_setopt(h, CURLOPT_URL, c->endpoint);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, t);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, c->sigv4);
    curl_easy_setopt(h, CURLOPT_USERNAME, c->access_key);
    curl_easy_setopt(h, CURLOPT_PASSWORD, c->secret_key);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "nerd-ddbc/1.0");
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_err);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     c->cfg.connect_timeout_ms < timeout_ms ? c->cfg.connect_timeout_ms : timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode rc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    t->next = NULL;
    curl_slist_free_all(t);
    if (c->body)
        c->body[c->body_len] = 0;
    res->body = c->body ? c->body : "";
    res->body_len = c->body_len;
    if (rc != CURLE_OK) {
        long st = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
        res->status = (int)st;
        res->code[0] = 0;
        if (c->too_big) {
            snprintf(res->message, sizeof res->message, "the answer exceeds %zu bytes",
                     c->cfg.max_response);
            *e = DDBC_EPROTO;
            return DDBC__FAIL;
        }
        snprintf(res->message, sizeof res->message, "%.100s: %.150s", c->endpoint,
                 c->curl_err[0] ? c->curl_err : curl_easy_strerror(rc));
        *e = rc == CURLE_OUT_OF_MEMORY ? DDBC_ENOMEM : DDBC_ETRANSPORT;
        return retryable_curl(rc) ? DDBC__RETRY : DDBC__FAIL;
    }
    long st = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
    int k = ddbc__classify((int)st, &c->ans, res->body, res->body_len, res);
    *e = k == DDBC__DONE ? DDBC_OK : res->code[0] && (st < 200 || st >= 300) ? DDBC_ESERVICE
                                                                            : DDBC_EPROTO;
    return k;
}

ddbc_err ddbc_call(ddbc *c, const char *op, const char *body, size_t len, ddbc_result *res)
{
    char target[128];
    memset(res, 0, sizeof *res);
    res->body = "";
    if (strlen(op) > 64 || !header_safe(op)) {
        snprintf(res->message, sizeof res->message, "bad operation name");
        return DDBC_ECONFIG;
    }
    snprintf(target, sizeof target, "X-Amz-Target: DynamoDB_20120810.%s", op);
    ddbc_err e = DDBC_OK;
    for (int n = 1;; n++) {
        long timeout = c->cfg.attempt_timeout_ms;
        if (c->deadline_ms) {
            long long left = c->deadline_ms - now_ms();
            if (left <= 0) {
                if (n == 1 || e == DDBC_ETRANSPORT) {
                    e = DDBC_EDEADLINE;
                    snprintf(res->message, sizeof res->message,
                             "no time left before the deadline (%d attempts)", n - 1);
                }
                return e;
            }
            if (left < timeout)
                timeout = (long)left;
        }
        res->attempts = n;
        int k = attempt(c, target, body, len, timeout, res, &e);
        if (k != DDBC__RETRY || n >= c->cfg.max_attempts)
            return e;
        long d = backoff_ms(c, n);
        if (c->deadline_ms && now_ms() + d >= c->deadline_ms)
            return e;
        sleep_ms(d);
    }
}
