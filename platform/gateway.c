/*
 * The local HTTP API gateway (see gateway.h), and on the same port the
 * Lambda API's Invoke, ListFunctions, GetFunction and
 * GetFunctionConfiguration, in the shapes the AWS CLI and SDKs parse
 * (botocore's lambda/2015-03-31 model).
 */
#define _GNU_SOURCE
#include "gateway.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apigw.h"
#include "clock.h"
#include "fsutil.h"
#include "metrics.h"
#include "nerd/http.h"
#include "runtime.h"

#define GW_MAX_HEAD 10240                 /* HTTP API: request line + headers */
#define GW_MAX_BODY (10u * 1024 * 1024)   /* HTTP API payload limit */
#define GW_MAX_CONNS 1024
#define GW_MAX_ASYNC 256 /* Event invocations running at once */
#define GW_ARN "arn:aws:lambda:us-east-1:123456789012:function:"
#define GW_LIST_MAX 50   /* ListFunctions: functions per page, as Lambda */
#define GW_CODE_WALK 100000 /* CodeSize: directory entries looked at, at most */

typedef struct pooled {
    lam_env *env;
    double idle_since;
    struct pooled *next;
} pooled;

typedef struct pool {
    pthread_mutex_t mu;
    const sam_function *f;
    pooled *idle;
    int total;     /* environments alive (busy + idle) */
    int limit;
    lam_env *prov[64]; /* the provisioned environments */
    int n_prov;
} pool;

typedef struct bucket {
    pthread_mutex_t mu;
    double tokens, last;
} bucket;

typedef struct gw {
    const sam_template *t;
    const gw_options *o;
    pool pools[SAM_MAX_FUNCTIONS];
    bucket buckets[SAM_MAX_ROUTES];
    met *met;
    int active_conns;
    pthread_mutex_t conn_mu;
    int async_running;       /* Event invocations in their own threads */
    double client_timeout;   /* idle keep-alive, and first byte to whole request */
    pthread_mutex_t dest_mu; /* destination files */
} gw;

typedef struct client {
    gw *g;
    int fd;
    char ip[64];
} client;

static double now_s(void) { return clk_mono_ms() / 1e3; }

/* Takes an idle environment or starts one; NULL when at the limit. */
static lam_env *acquire(gw *g, pool *p, int *cold)
{
    pthread_mutex_lock(&p->mu);
    while (p->idle) {
        pooled *x = p->idle;
        p->idle = x->next;
        lam_env *e = x->env;
        free(x);
        if (lam_env_alive(e)) {
            pthread_mutex_unlock(&p->mu);
            *cold = 0;
            return e;
        }
        p->total--;
        pthread_mutex_unlock(&p->mu);
        lam_env_free(e);
        pthread_mutex_lock(&p->mu);
    }
    if (p->total >= p->limit) {
        pthread_mutex_unlock(&p->mu);
        return NULL;
    }
    p->total++;
    pthread_mutex_unlock(&p->mu);
    lam_env *e;
    char err[256];
    if (lam_env_start(p->f, g->o->log, &e, err, sizeof err)) {
        pthread_mutex_lock(&p->mu);
        p->total--;
        pthread_mutex_unlock(&p->mu);
        return NULL;
    }
    *cold = 1;
    return e;
}

static int is_provisioned(pool *p, const lam_env *e)
{
    for (int i = 0; i < p->n_prov; i++)
        if (p->prov[i] == e)
            return 1;
    return 0;
}

/* Runs one invocation with metrics; returns lam_env_invoke's result. */
static int run_invoke(gw *g, int fi, lam_env *e, int cold, const char *ev, size_t elen,
                      lam_result *res)
{
    pool *p = &g->pools[fi];
    int prov = is_provisioned(p, e);
    met_begin(g->met, fi, prov);
    int irc = lam_env_invoke(e, ev, elen, res);
    met_end(g->met, fi, prov, res->duration_ms, irc || res->outcome != LAM_OK,
            cold && res->init_ms >= 0, res->init_ms);
    return irc;
}

static void release(pool *p, lam_env *e)
{
    if (!lam_env_alive(e)) {
        lam_env_free(e);
        pthread_mutex_lock(&p->mu);
        p->total--;
        pthread_mutex_unlock(&p->mu);
        return;
    }
    pooled *x = malloc(sizeof *x);
    if (!x) {
        lam_env_free(e);
        pthread_mutex_lock(&p->mu);
        p->total--;
        pthread_mutex_unlock(&p->mu);
        return;
    }
    x->env = e;
    x->idle_since = now_s();
    pthread_mutex_lock(&p->mu);
    x->next = p->idle;
    p->idle = x;
    pthread_mutex_unlock(&p->mu);
}

static int reply(int fd, int status, const char *rid, const apigw_response *r,
                 const char *body, size_t blen, int keep)
{
    char head[8192];
    size_t n = (size_t)snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\n", status, http_reason(status));
    int have_ct = 0;
    for (size_t i = 0; r && i < r->n_headers; i++) {
        const char *k = r->headers[i][0], *v = r->headers[i][1];
        size_t kl = strlen(k), vl = strlen(v);
        if (!strcasecmp(k, "content-length") || !strcasecmp(k, "connection") ||
            !strcasecmp(k, "transfer-encoding") || strpbrk(k, "\r\n") || strpbrk(v, "\r\n"))
            continue;
        if (n + kl + vl + 4 > sizeof head - 512) /* what does not fit is dropped; 512
                                                  * bytes stay for the lines below */
            continue;
        have_ct |= !strcasecmp(k, "content-type");
        n += (size_t)snprintf(head + n, sizeof head - n, "%s: %s\r\n", k, v);
    }
    if (!have_ct)
        n += (size_t)snprintf(head + n, sizeof head - n, "content-type: application/json\r\n");
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char date[64];
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    n += (size_t)snprintf(head + n, sizeof head - n,
                          "content-length: %zu\r\napigw-requestid: %s\r\ndate: %s\r\n%s\r\n",
                          blen, rid, date, keep ? "" : "connection: close\r\n");
    if (n >= sizeof head)
        return -1;
    return http_send2(fd, head, n, body, blen);
}

static int reply_msg(int fd, int status, const char *rid, const char *msg, int keep)
{
    char body[128];
    int n = snprintf(body, sizeof body, "{\"message\":\"%s\"}", msg);
    return reply(fd, status, rid, NULL, body, (size_t)n, keep);
}

/* Token bucket of a route (its RouteSettings, else its API's
 * DefaultRouteSettings): 1 = allowed. */
static int take_token(gw *g, int route)
{
    const sam_route *r = &g->t->routes[route];
    const sam_api *a = &g->t->apis[r->api];
    double rl = r->throttled ? r->rate_limit : a->rate_limit;
    int bl = r->throttled ? r->burst_limit : a->burst_limit;
    if (bl <= 0 && rl <= 0)
        return r->throttled ? 0 : 1; /* a route set to 0/0 is closed */
    double cap = bl > 0 ? bl : rl;
    double rate = rl > 0 ? rl : cap;
    bucket *b = &g->buckets[route];
    pthread_mutex_lock(&b->mu);
    double t = now_s();
    if (b->last == 0)
        b->tokens = cap;
    else
        b->tokens = b->tokens + rate * (t - b->last) > cap ? cap : b->tokens + rate * (t - b->last);
    b->last = t;
    int ok = b->tokens >= 1.0;
    if (ok)
        b->tokens -= 1.0;
    pthread_mutex_unlock(&b->mu);
    return ok;
}

static const char *req_header(const http_request *r, const char *buf, const char *name,
                              char *out, size_t cap)
{
    size_t n;
    const char *v = http_header(r, buf, name, &n, 0);
    if (!v)
        return NULL;
    snprintf(out, cap, "%.*s", (int)(n < cap - 1 ? n : cap - 1), v);
    return out;
}

/* The Access-Control-Allow-Origin value for origin under api's CORS
 * configuration, or NULL (SAM's model: "*" or an exact match). */
static const char *cors_origin(const sam_api *a, const char *origin)
{
    if (!a->cors || !origin)
        return NULL;
    for (size_t i = 0; i < a->n_origins; i++) {
        if (!strcmp(a->origins[i], "*"))
            return "*";
        if (!strcmp(a->origins[i], origin))
            return origin;
    }
    return NULL;
}

static void join_list(char *out, size_t cap, const char (*items)[SAM_STR], size_t n)
{
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < n && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? ", " : "", items[i]);
}

/* Adds the CORS headers of api (origin allowed) to r, dropping the
 * backend's own access-control-* headers. */
static void cors_apply(const sam_api *a, const char *allow, apigw_response *r)
{
    size_t k = 0;
    for (size_t i = 0; i < r->n_headers; i++) {
        if (!strncasecmp(r->headers[i][0], "access-control-", 15)) {
            free(r->headers[i][0]);
            free(r->headers[i][1]);
            continue;
        }
        r->headers[k][0] = r->headers[i][0];
        r->headers[k][1] = r->headers[i][1];
        k++;
    }
    r->n_headers = k;
    char v[2048];
    const char *add[3][2] = {{"access-control-allow-origin", allow}, {NULL, NULL}, {NULL, NULL}};
    if (a->allow_credentials)
        add[1][0] = "access-control-allow-credentials", add[1][1] = "true";
    if (a->n_expose) {
        join_list(v, sizeof v, a->expose, a->n_expose);
        add[2][0] = "access-control-expose-headers", add[2][1] = v;
    }
    for (int i = 0; i < 3; i++)
        if (add[i][0] && r->n_headers < APIGW_MAX_HEADERS) {
            r->headers[r->n_headers][0] = strdup(add[i][0]);
            r->headers[r->n_headers][1] = strdup(add[i][1]);
            r->n_headers++;
        }
}

/* Answers a CORS preflight for api; 0 to keep the connection. */
static int preflight(client *c, const sam_api *a, const char *allow, const char *rid, int keep)
{
    apigw_response r;
    memset(&r, 0, sizeof r);
    char v[2048], m[SAM_MAX_LIST][SAM_STR];
    const char *hv[5][2];
    int n = 0;
    hv[n][0] = "access-control-allow-origin", hv[n++][1] = allow;
    for (size_t i = 0; i < a->n_methods; i++)
        snprintf(m[i], sizeof m[i], "%s", a->methods[i]);
    char mv[1024], hh[2048], ma[32];
    join_list(mv, sizeof mv, (const char (*)[SAM_STR])m, a->n_methods);
    join_list(hh, sizeof hh, a->headers, a->n_headers);
    if (a->n_methods)
        hv[n][0] = "access-control-allow-methods", hv[n++][1] = mv;
    if (a->n_headers)
        hv[n][0] = "access-control-allow-headers", hv[n++][1] = hh;
    if (a->max_age >= 0) {
        snprintf(ma, sizeof ma, "%d", a->max_age);
        hv[n][0] = "access-control-max-age", hv[n++][1] = ma;
    }
    if (a->allow_credentials)
        hv[n][0] = "access-control-allow-credentials", hv[n++][1] = "true";
    (void)v;
    for (int i = 0; i < n; i++) {
        r.headers[i][0] = (char *)hv[i][0];
        r.headers[i][1] = (char *)hv[i][1];
    }
    r.n_headers = (size_t)n;
    int rc = reply(c->fd, 204, rid, &r, NULL, 0, keep);
    return rc || !keep;
}


/* ---- asynchronous (Event) invocations ---------------------------------- */

typedef struct async_job {
    gw *g;
    int fi;
    char *event;
    size_t len;
    double t0;        /* when it was queued (monotonic ms) */
    char id[40];      /* the invocation's request id (x-amzn-RequestId) */
} async_job;

/* Appends one invocation record (Lambda's destination format) as a JSON
 * line to DIR/FUNCTION-KIND.jsonl. */
static void destination_write(gw *g, const sam_function *f, const char *kind,
                              const char *condition, const async_job *j, int attempts,
                              const lam_result *res, int failed)
{
    const char *dir = g->o->destinations ? g->o->destinations : ".nerd/destinations";
    json_error_t je;
    json_t *req = json_loadb(j->event, j->len, JSON_DECODE_ANY, &je);
    json_t *resp = res && res->payload
                       ? json_loadb(res->payload, res->payload_len, JSON_DECODE_ANY, &je)
                       : NULL;
    if (!resp)
        resp = res && res->payload ? json_stringn(res->payload, res->payload_len) : json_null();
    char ts[40], arn[SAM_STR + 96];
    long long ms = clk_epoch_ms();
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t k = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + k, sizeof ts - k, ".%03lldZ", ms % 1000);
    snprintf(arn, sizeof arn, "arn:aws:lambda:us-east-1:123456789012:function:%s:$LATEST", f->name);
    json_t *ctx = json_pack("{s:s, s:s, s:s, s:i}", "requestId", j->id, "functionArn", arn,
                            "condition", condition, "approximateInvokeCount", attempts);
    json_t *rc = json_pack("{s:i, s:s}", "statusCode", 200, "executedVersion", "$LATEST");
    if (rc && failed)
        json_object_set_new(rc, "functionError", json_string("Unhandled"));
    json_t *rec = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "version", "1.0", "timestamp", ts,
                            "requestContext", ctx, "requestPayload", req ? req : json_null(),
                            "responseContext", rc, "responsePayload", resp);
    char *line = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
    json_decref(rec);
    char path[1400];
    snprintf(path, sizeof path, "%.1000s/%.256s-%s.jsonl", dir, f->name, kind);
    pthread_mutex_lock(&g->dest_mu);
    FILE *out = line && !fs_mkdirs(dir) ? fopen(path, "a") : NULL;
    if (out) {
        fprintf(out, "%s\n", line);
        fclose(out);
    }
    pthread_mutex_unlock(&g->dest_mu);
    fprintf(g->o->log, "nerd: async %s %s: %s after %d attempt%s%s%s\n", f->name, j->id,
            condition, attempts, attempts == 1 ? "" : "s", out ? " -> " : "",
            out ? path : " (no destination written)");
    fflush(g->o->log);
    free(line);
}

/* Runs an Event invocation as Lambda's async queue does: up to
 * 1 + MaximumRetryAttempts attempts (retried after 1 s, then 2 s, where
 * Lambda waits about 1 and 2 minutes), throttles retried every second until
 * MaximumEventAgeInSeconds; the outcome goes to OnSuccess / OnFailure. */
static void async_run(async_job *j)
{
    gw *g = j->g;
    const sam_function *f = &g->t->functions[j->fi];
    pool *p = &g->pools[j->fi];
    int attempts = 0, failed = 1;
    const char *condition = "RetriesExhausted";
    lam_result last;
    memset(&last, 0, sizeof last);
    while (attempts <= f->async_retries && !*g->o->stop) {
        if (clk_mono_ms() - j->t0 > f->max_event_age_s * 1000.0) {
            condition = "EventAgeExceeded";
            break;
        }
        int cold;
        lam_env *e = acquire(g, p, &cold);
        if (!e) {
            met_throttle(g->met, j->fi);
            struct timespec ts = {1, 0};
            nanosleep(&ts, NULL);
            continue;
        }
        lam_result_fini(&last);
        int irc = run_invoke(g, j->fi, e, cold, j->event, j->len, &last);
        release(p, e);
        attempts++;
        failed = irc || last.outcome != LAM_OK;
        if (!failed)
            break;
        if (attempts <= f->async_retries) {
            struct timespec ts = {attempts, 0};
            nanosleep(&ts, NULL);
        }
    }
    if (failed && f->on_failure[0])
        destination_write(g, f, "OnFailure", condition, j, attempts, &last, 1);
    else if (!failed && f->on_success[0])
        destination_write(g, f, "OnSuccess", "Success", j, attempts, &last, 0);
    else if (failed) {
        fprintf(g->o->log, "nerd: async %s %s: %s after %d attempts; discarded (no OnFailure "
                "destination)\n", f->name, j->id, condition, attempts);
        fflush(g->o->log);
    }
    lam_result_fini(&last);
    free(j->event);
    free(j);
}

static void *async_main(void *arg)
{
    async_job *j = arg;
    gw *g = j->g;
    async_run(j);
    pthread_mutex_lock(&g->conn_mu);
    g->async_running--;
    pthread_mutex_unlock(&g->conn_mu);
    return NULL;
}

/* ---- the Lambda API ------------------------------------------------------ */

/* Answers a Lambda API error: status, x-amzn-ErrorType: type and the body
 * botocore's error shape spells ({"Type":"User","message":...}, "Message"
 * for ResourceNotFoundException and ServiceException, "Type":"Service" for
 * 5xx).  Returns the connection's fate (nonzero: close). */
static int aws_error(client *c, int status, const char *type, const char *msg, const char *rid,
                     int keep)
{
    apigw_response r;
    memset(&r, 0, sizeof r);
    r.headers[0][0] = (char *)"x-amzn-errortype";
    r.headers[0][1] = (char *)type;
    r.n_headers = 1;
    int cap = !strcmp(type, "ResourceNotFoundException") || !strcmp(type, "ServiceException");
    char ascii[1024];
    json_t *probe = json_string(msg);
    if (!probe) { /* not UTF-8 (a name from the path): ASCII only */
        size_t k = 0;
        for (; msg[k] && k < sizeof ascii - 1; k++)
            ascii[k] = (unsigned char)msg[k] < 0x80 ? msg[k] : '?';
        ascii[k] = 0;
        msg = ascii;
    }
    json_decref(probe);
    json_t *j = json_pack("{s:s, s:s}", "Type", status >= 500 ? "Service" : "User",
                          cap ? "Message" : "message", msg);
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    int rc = body ? reply(c->fd, status, rid, &r, body, strlen(body), keep)
                  : reply_msg(c->fd, 500, rid, "Internal Server Error", keep);
    free(body);
    return rc || !keep;
}

/* The function a Lambda API path names (its logical id; "function", as
 * RIE's path has it, when the template has one), or -1. */
static int find_function(const gw *g, const char *name)
{
    for (size_t i = 0; i < g->t->n_functions; i++)
        if (!strcmp(g->t->functions[i].name, name) ||
            (!strcmp(name, "function") && g->t->n_functions == 1))
            return (int)i;
    return -1;
}

/* 404 ResourceNotFoundException for name, with Lambda's message. */
static int not_found(client *c, const char *name, const char *qualifier, const char *rid,
                     int keep)
{
    char msg[2 * SAM_STR + 128];
    snprintf(msg, sizeof msg, "Function not found: " GW_ARN "%s%s%s", name,
             qualifier ? ":" : "", qualifier ? qualifier : "");
    return aws_error(c, 404, "ResourceNotFoundException", msg, rid, keep);
}

/* Adds up the regular files under the directory open at dfd (CodeSize, for
 * want of a zip) and their newest mtime (LastModified); symbolic links to
 * directories are not followed, depth and entries are capped.  Closes dfd. */
static void code_walk(int dfd, int depth, long long *size, time_t *mtime, long *budget)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return;
    }
    struct dirent *de;
    while (*budget > 0 && (de = readdir(d)) != NULL) {
        (*budget)--;
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, 0) != 0)
            continue;
        if (S_ISREG(st.st_mode)) {
            *size += st.st_size;
            if (st.st_mtime > *mtime)
                *mtime = st.st_mtime;
        } else if (S_ISDIR(st.st_mode) && depth < 16) {
            int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd >= 0)
                code_walk(fd, depth + 1, size, mtime, budget);
        }
    }
    closedir(d);
}

/* f's FunctionConfiguration, as Lambda reports a deployed $LATEST: what
 * the template gives (name, runtime, handler, memory, timeout, variables,
 * architecture) and Lambda's fixed answers for the rest (State Active,
 * PackageType Zip, 512 MB /tmp, ...).  full: GetFunction's extra fields. */
static json_t *fn_config(const sam_function *f, int full)
{
    char arn[SAM_STR + 64], role[SAM_STR + 64], group[SAM_STR + 16], lm[40];
    long long size = 0;
    time_t mtime = 0;
    long budget = GW_CODE_WALK;
    int dfd = open(f->code_uri, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0)
        code_walk(dfd, 0, &size, &mtime, &budget);
    if (!mtime)
        mtime = time(NULL);
    struct tm tm;
    gmtime_r(&mtime, &tm);
    strftime(lm, sizeof lm, "%Y-%m-%dT%H:%M:%S.000+0000", &tm);
    snprintf(arn, sizeof arn, GW_ARN "%s", f->name);
    snprintf(role, sizeof role, "arn:aws:iam::123456789012:role/%sRole", f->name);
    snprintf(group, sizeof group, "/aws/lambda/%s", f->name);
    json_t *c = json_object(), *vars = json_object();
    if (!c || !vars) {
        json_decref(c);
        json_decref(vars);
        return NULL;
    }
    json_object_set_new(c, "FunctionName", json_string(f->name));
    json_object_set_new(c, "FunctionArn", json_string(arn));
    json_object_set_new(c, "Runtime", json_string(f->runtime));
    json_object_set_new(c, "Role", json_string(role));
    if (f->handler[0])
        json_object_set_new(c, "Handler", json_string(f->handler));
    json_object_set_new(c, "CodeSize", json_integer(size));
    json_object_set_new(c, "Description", json_string(""));
    json_object_set_new(c, "Timeout", json_integer(f->timeout_s));
    json_object_set_new(c, "MemorySize", json_integer(f->memory_mb));
    json_object_set_new(c, "LastModified", json_string(lm));
    json_object_set_new(c, "Version", json_string("$LATEST"));
    for (size_t i = 0; i < f->n_env; i++)
        json_object_set_new(vars, f->env[i].key, json_string(f->env[i].value));
    if (f->n_env)
        json_object_set_new(c, "Environment", json_pack("{s:O}", "Variables", vars));
    json_decref(vars);
    json_object_set_new(c, "TracingConfig", json_pack("{s:s}", "Mode", "PassThrough"));
    json_object_set_new(c, "State", json_string("Active"));
    json_object_set_new(c, "LastUpdateStatus", json_string("Successful"));
    json_object_set_new(c, "PackageType", json_string("Zip"));
    json_object_set_new(c, "Architectures", json_pack("[s]", f->arch));
    json_object_set_new(c, "EphemeralStorage", json_pack("{s:i}", "Size", 512));
    json_object_set_new(c, "SnapStart", json_pack("{s:s, s:s}", "ApplyOn", "None",
                                                  "OptimizationStatus", "Off"));
    if (full)
        json_object_set_new(c, "RuntimeVersionConfig",
                            json_pack("{s:s}", "RuntimeVersionArn",
                                      "arn:aws:lambda:us-east-1::runtime:nerd-local"));
    json_object_set_new(c, "LoggingConfig", json_pack("{s:s, s:s}", "LogFormat", "Text",
                                                      "LogGroup", group));
    return c;
}

/* Answers 200 with the JSON j (consumed); 500 ServiceException when it is
 * NULL or cannot be written. */
static int reply_json(client *c, json_t *j, const char *rid, int keep)
{
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!body)
        return aws_error(c, 500, "ServiceException", "out of memory", rid, keep);
    char id[40];
    clk_uuid4(id);
    apigw_response r;
    memset(&r, 0, sizeof r);
    r.headers[0][0] = (char *)"x-amzn-requestid";
    r.headers[0][1] = id;
    r.n_headers = 1;
    int rc = reply(c->fd, 200, rid, &r, body, strlen(body), keep);
    free(body);
    return rc || !keep;
}

/* GET /2015-03-31/functions/ (ListFunctions): the template's functions in
 * its order, MaxItems (1..10000) per page, at most 50, NextMarker while
 * more follow (the marker is the next function's index). */
static int list_functions(client *c, const char *q, size_t ql, const char *rid, int keep)
{
    gw *g = c->g;
    char v[32], *end;
    long max = GW_LIST_MAX, from = 0, k;
    if ((k = apigw_query_param(q, ql, "MaxItems", v, sizeof v)) != -1) {
        max = k > 0 ? strtol(v, &end, 10) : 0;
        if (k <= 0 || *end || max < 1 || max > 10000)
            return aws_error(c, 400, "InvalidParameterValueException",
                             "MaxItems must be between 1 and 10000", rid, keep);
        if (max > GW_LIST_MAX)
            max = GW_LIST_MAX;
    }
    if ((k = apigw_query_param(q, ql, "Marker", v, sizeof v)) != -1) {
        from = k > 0 ? strtol(v, &end, 10) : -1;
        if (k <= 0 || *end || from < 0 || from > (long)g->t->n_functions)
            return aws_error(c, 400, "InvalidParameterValueException", "Invalid Marker", rid,
                             keep);
    }
    json_t *list = json_array(), *out = json_object();
    long stop = from + max < (long)g->t->n_functions ? from + max : (long)g->t->n_functions;
    for (long i = from; list && i < stop; i++)
        if (json_array_append_new(list, fn_config(&g->t->functions[i], 0)) != 0) {
            json_decref(list);
            list = NULL;
        }
    if (!list || !out) {
        json_decref(list);
        json_decref(out);
        return reply_json(c, NULL, rid, keep);
    }
    json_object_set_new(out, "Functions", list);
    if (stop < (long)g->t->n_functions) {
        snprintf(v, sizeof v, "%ld", stop);
        json_object_set_new(out, "NextMarker", json_string(v));
    }
    return reply_json(c, out, rid, keep);
}

/* GET /2015-03-31/functions/{name} (GetFunction: Configuration, Code,
 * Tags, Concurrency) and .../{name}/configuration
 * (GetFunctionConfiguration); Qualifier may only be $LATEST. */
static int get_function(client *c, const char *name, int config_only, const char *q, size_t ql,
                        const char *rid, int keep)
{
    gw *g = c->g;
    char qual[64];
    int fi = find_function(g, name);
    long k = apigw_query_param(q, ql, "Qualifier", qual, sizeof qual);
    if (k == -2)
        return aws_error(c, 400, "InvalidParameterValueException", "Invalid Qualifier", rid,
                         keep);
    if (fi < 0 || (k >= 0 && strcmp(qual, "$LATEST")))
        return not_found(c, name, k >= 0 ? qual : NULL, rid, keep);
    const sam_function *f = &g->t->functions[fi];
    json_t *cfg = fn_config(f, 1);
    if (config_only || !cfg)
        return reply_json(c, cfg, rid, keep);
    char loc[PATH_MAX + 8];
    char abs[PATH_MAX];
    snprintf(loc, sizeof loc, "file://%s", realpath(f->code_uri, abs) ? abs : f->code_uri);
    json_t *out = json_pack("{s:o, s:{s:s, s:s}, s:{s:s}}", "Configuration", cfg, "Code",
                            "RepositoryType", "S3", "Location", loc, "Tags",
                            "lambda:createdBy", "SAM");
    if (out && f->reserved >= 0)
        json_object_set_new(out, "Concurrency",
                            json_pack("{s:i}", "ReservedConcurrentExecutions", f->reserved));
    return reply_json(c, out, rid, keep);
}

/* GET under /2015-03-31/functions (rest: the path after it): "" or "/"
 * ListFunctions, "/NAME" GetFunction, "/NAME/configuration"
 * GetFunctionConfiguration.  Returns the connection's fate, or -2 when rest
 * is none of them. */
static int lambda_get(client *c, const char *rest, const char *q, size_t ql, const char *rid,
                      int keep)
{
    if (!rest[0] || !strcmp(rest, "/"))
        return list_functions(c, q, ql, rid, keep);
    const char *name = rest + 1, *slash = strchr(name, '/');
    size_t nl = slash ? (size_t)(slash - name) : strlen(name);
    if (rest[0] != '/' || !nl || nl >= SAM_STR || (slash && strcmp(slash, "/configuration")))
        return -2;
    char fn[SAM_STR];
    memcpy(fn, name, nl);
    fn[nl] = 0;
    return get_function(c, fn, slash != NULL, q, ql, rid, keep);
}

/* POST /2015-03-31/functions/{name}/invocations, as Lambda's Invoke API
 * answers it (RequestResponse, DryRun; Event is run after a 202); with
 * X-Amz-Log-Type: Tail a RequestResponse answer carries X-Amz-Log-Result,
 * the base64 of the invocation's last 4 KB of log. */
static int invoke_api(client *c, char *buf, const http_request *hr, const char *name,
                      const char *rid)
{
    gw *g = c->g;
    int keep = hr->keep_alive, fi = find_function(g, name);
    apigw_response r;
    memset(&r, 0, sizeof r);
    if (fi < 0)
        return not_found(c, name, NULL, rid, keep);
    if (hr->body_len > LAM_MAX_PAYLOAD)
        return aws_error(c, 413, "RequestTooLargeException", "Request must be smaller than "
                         "6291456 bytes for the InvokeFunction operation", rid, keep);
    if (hr->body_len) {
        json_error_t je;
        json_t *j = json_loadb(buf + hr->body, hr->body_len, JSON_DECODE_ANY, &je);
        if (!j)
            return aws_error(c, 400, "InvalidRequestContentException",
                             "Could not parse request body into json", rid, keep);
        json_decref(j);
    }
    char type[32] = "RequestResponse";
    req_header(hr, buf, "x-amz-invocation-type", type, sizeof type);
    if (!strcmp(type, "DryRun")) {
        r.headers[0][0] = (char *)"x-amz-executed-version";
        r.headers[0][1] = (char *)"$LATEST";
        r.n_headers = 1;
        return reply(c->fd, 204, rid, &r, NULL, 0, keep) || !keep;
    }
    int event = !strcmp(type, "Event");
    if (!event && strcmp(type, "RequestResponse"))
        return aws_error(c, 400, "InvalidParameterValueException",
                         "Unsupported invocation type", rid, keep);
    char log_type[16] = "None";
    req_header(hr, buf, "x-amz-log-type", log_type, sizeof log_type);
    const char *ev = hr->body_len ? buf + hr->body : "{}";
    size_t elen = hr->body_len ? hr->body_len : 2;
    if (event) {
        async_job *j = malloc(sizeof *j);
        char *copy = malloc(elen + 1);
        if (!j || !copy) {
            free(j);
            free(copy);
            return aws_error(c, 500, "ServiceException", "out of memory", rid, keep);
        }
        memcpy(copy, ev, elen);
        copy[elen] = 0;
        *j = (async_job){g, fi, copy, elen, clk_mono_ms(), ""};
        clk_uuid4(j->id);
        r.headers[0][0] = (char *)"x-amz-executed-version";
        r.headers[0][1] = (char *)"$LATEST";
        r.headers[1][0] = (char *)"x-amzn-requestid";
        r.headers[1][1] = j->id;
        r.n_headers = 2;
        int rc = reply(c->fd, 202, rid, &r, NULL, 0, keep);
        pthread_mutex_lock(&g->conn_mu);
        int spawn = g->async_running < GW_MAX_ASYNC;
        g->async_running += spawn;
        pthread_mutex_unlock(&g->conn_mu);
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (!spawn || pthread_create(&th, &at, async_main, j) != 0) {
            if (spawn) {
                pthread_mutex_lock(&g->conn_mu);
                g->async_running--;
                pthread_mutex_unlock(&g->conn_mu);
            }
            async_run(j); /* at the cap: this connection waits (back-pressure) */
        }
        pthread_attr_destroy(&at);
        return rc || !keep;
    }
    pool *p = &g->pools[fi];
    int cold;
    lam_env *e = acquire(g, p, &cold);
    if (!e) {
        met_throttle(g->met, fi);
        return aws_error(c, 429, "TooManyRequestsException", "Rate Exceeded.", rid, keep);
    }
    lam_result res;
    int irc = run_invoke(g, fi, e, cold, ev, elen, &res);
    release(p, e);
    int failed = irc || res.outcome != LAM_OK, hn = 0;
    r.headers[hn][0] = (char *)"x-amz-executed-version";
    r.headers[hn++][1] = (char *)"$LATEST";
    r.headers[hn][0] = (char *)"x-amzn-requestid";
    r.headers[hn++][1] = res.request_id;
    if (failed) {
        r.headers[hn][0] = (char *)"x-amz-function-error";
        r.headers[hn++][1] = (char *)"Unhandled";
    }
    char *tail = NULL;
    if (!strcmp(log_type, "Tail")) {
        size_t tl;
        tail = apigw_b64_encode((const unsigned char *)res.log_tail, res.log_tail_len, &tl);
        if (tail) {
            r.headers[hn][0] = (char *)"x-amz-log-result";
            r.headers[hn++][1] = tail;
        }
    }
    r.n_headers = (size_t)hn;
    int rc = reply(c->fd, 200, rid, &r, res.payload ? res.payload : "",
                   res.payload ? res.payload_len : 0, keep);
    free(tail);
    lam_result_fini(&res);
    return rc || !keep;
}

/* The integration timeout (TimeoutInMillis, 30 s at most): HTTP APIs answer
 * 503 while the function goes on running. */
typedef struct late503 {
    int fd;
    const char *rid;
    int keep, sent;
} late503;

static void integration_timeout(void *arg)
{
    late503 *w = arg;
    reply_msg(w->fd, 503, w->rid, "Service Unavailable", w->keep);
    w->sent = 1;
}

/* The platform's own endpoints: GET /__nerd/metrics (Prometheus text) and
 * GET /__nerd/metrics/json?from=&to=&period= (series for a window, epoch
 * seconds).  path is the name after the prefix ("/metrics", "/metrics/json");
 * q the query string (after '?') or NULL.  Writes the answer and returns the
 * connection's fate (nonzero: close), or -2 when path is not one of them. */
static int platform_endpoint(client *c, const char *method, const char *path, const char *q,
                             size_t ql, const char *rid, int keep)
{
    gw *g = c->g;
    int is_prom = !strcmp(path, "/metrics"), is_json = !strcmp(path, "/metrics/json");
    if (!is_prom && !is_json)
        return -2;
    if (strcmp(method, "GET"))
        return reply_msg(c->fd, 405, rid, "Method Not Allowed", keep) || !keep;
    size_t n;
    int rc;
    if (is_prom) {
        char *txt = met_prometheus(g->met, &n);
        apigw_response r;
        memset(&r, 0, sizeof r);
        r.headers[0][0] = (char *)"content-type";
        r.headers[0][1] = (char *)"text/plain; version=0.0.4";
        r.n_headers = 1;
        rc = txt ? reply(c->fd, 200, rid, &r, txt, n, keep)
                 : reply_msg(c->fd, 500, rid, "Internal Server Error", keep);
        free(txt);
        return rc || !keep;
    }
    long long now = (long long)time(NULL), from = now - 300, to = now;
    int period = 1;
    char qs[512] = "";
    if (q)
        snprintf(qs, sizeof qs, "&%.*s", (int)(ql < 500 ? ql : 500), q);
    for (const char *s = q ? qs : NULL; s && *s; s = strchr(s + 1, '&')) {
        const char *kv = s + 1;
        if (!strncmp(kv, "from=", 5))
            from = atoll(kv + 5);
        else if (!strncmp(kv, "to=", 3))
            to = atoll(kv + 3);
        else if (!strncmp(kv, "period=", 7))
            period = atoi(kv + 7);
    }
    char *js = met_json(g->met, from, to, period, &n);
    rc = js ? reply(c->fd, 200, rid, NULL, js, n, keep)
            : reply_msg(c->fd, 500, rid, "Internal Server Error", keep);
    free(js);
    return rc || !keep;
}

/* Handles one parsed request; returns 0 to keep the connection. */
static int serve_request(client *c, char *buf, const http_request *hr)
{
    gw *g = c->g;
    char rid[24], method[16], path[2048];
    apigw_match m;
    clk_apigw_id(rid);
    int keep = hr->keep_alive;
    snprintf(method, sizeof method, "%.*s", (int)(hr->method_len < 15 ? hr->method_len : 15),
             buf + hr->method);
    const char *target = buf + hr->target;
    size_t tl = hr->target_len;
    const char *q = memchr(target, '?', tl);
    size_t pl = q ? (size_t)(q - target) : tl;
    if (pl >= sizeof path || target[0] != '/')
        return reply_msg(c->fd, 404, rid, "Not Found", keep) || !keep;
    memcpy(path, target, pl);
    path[pl] = 0;
    static const char inv_pre[] = "/2015-03-31/functions/", inv_suf[] = "/invocations";
    size_t ipl = sizeof inv_pre - 1, isl = sizeof inv_suf - 1;
    if (pl > ipl + isl && !memcmp(path, inv_pre, ipl) && !strcmp(path + pl - isl, inv_suf) &&
        !strcmp(method, "POST")) {
        char name[SAM_STR];
        snprintf(name, sizeof name, "%.*s", (int)(pl - ipl - isl), path + ipl);
        if (!strchr(name, '/'))
            return invoke_api(c, buf, hr, name, rid);
    }
    if (!strcmp(method, "GET") && pl >= ipl - 1 && !memcmp(path, inv_pre, ipl - 1)) {
        int lrc = lambda_get(c, path + ipl - 1, q ? q + 1 : NULL, q ? tl - pl - 1 : 0, rid, keep);
        if (lrc != -2)
            return lrc;
    }
    /* /__nerd/...: the platform's own endpoints, before any route (reserved,
     * as the Invoke API's path is) */
    static const char own_pre[] = "/__nerd";
    if (pl > sizeof own_pre - 1 && !memcmp(path, own_pre, sizeof own_pre - 1) &&
        path[sizeof own_pre - 1] == '/') {
        int prc = platform_endpoint(c, method, path + sizeof own_pre - 1, q ? q + 1 : NULL,
                                    q ? tl - pl - 1 : 0, rid, keep);
        return prc != -2 ? prc : reply_msg(c->fd, 404, rid, "Not Found", keep) || !keep;
    }
    char origin[512], acrm[64];
    const char *org = req_header(hr, buf, "origin", origin, sizeof origin);
    /* CORS preflight: answered by the gateway for an API with CORS */
    if (!strcmp(method, "OPTIONS") && org &&
        req_header(hr, buf, "access-control-request-method", acrm, sizeof acrm)) {
        for (size_t a = 0; a < g->t->n_apis; a++) {
            const char *allow = cors_origin(&g->t->apis[a], org);
            if (allow && apigw_route(g->t, (int)a, acrm, path, &m) == 0)
                return preflight(c, &g->t->apis[a], allow, rid, keep);
        }
    }
    /* the first API that has a matching route serves it */
    int api = -1;
    for (size_t a = 0; a < g->t->n_apis && api < 0; a++)
        if (apigw_route(g->t, (int)a, method, path, &m) == 0)
            api = (int)a;
    /* the platform's endpoints without the prefix, where no route claims them */
    if (api < 0) {
        int prc = platform_endpoint(c, method, path, q ? q + 1 : NULL, q ? tl - pl - 1 : 0, rid,
                                    keep);
        if (prc != -2)
            return prc;
    }
    if (api < 0)
        return reply_msg(c->fd, 404, rid, "Not Found", keep) || !keep;
    if (!take_token(g, m.route))
        return reply_msg(c->fd, 429, rid, "Too Many Requests", keep) || !keep;
    const char *allow = cors_origin(&g->t->apis[api], org);
    apigw_kv hdrs[HTTP_MAX_HEADERS];
    for (uint32_t i = 0; i < hr->n_headers; i++)
        hdrs[i] = (apigw_kv){buf + hr->headers[i].name, hr->headers[i].name_len,
                             buf + hr->headers[i].value, hr->headers[i].value_len};
    char api_id[64];
    snprintf(api_id, sizeof api_id, "%s", g->t->apis[api].name);
    for (char *p = api_id; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    int has_body = hr->body_len > 0 || hr->chunked;
    apigw_request ar = {method, target, tl, hdrs, hr->n_headers,
                        has_body ? buf + hr->body : NULL, hr->body_len, c->ip, rid, api_id,
                        clk_epoch_ms()};
    size_t elen;
    char *ev = apigw_event(g->t, &m, &ar, &elen);
    if (!ev)
        return reply_msg(c->fd, 500, rid, "Internal Server Error", keep) || !keep;
    int fi = g->t->routes[m.route].function;
    pool *p = &g->pools[fi];
    int cold;
    lam_env *e = acquire(g, p, &cold);
    int rc;
    if (!e) {
        met_throttle(g->met, fi);
        rc = reply_msg(c->fd, 429, rid, "Too Many Requests", keep);
    } else if (elen > LAM_MAX_PAYLOAD) {
        release(p, e);
        rc = reply_msg(c->fd, 413, rid, "Request Entity Too Large", keep);
    } else {
        lam_result res;
        late503 w = {c->fd, rid, keep, 0};
        lam_env_watch(e, g->t->routes[m.route].timeout_ms, integration_timeout, &w);
        int irc = run_invoke(g, fi, e, cold, ev, elen, &res);
        release(p, e);
        if (w.sent) {
            rc = 0; /* answered 503 already; the function's result is dropped */
        } else if (irc || res.outcome != LAM_OK) {
            rc = reply_msg(c->fd, 500, rid, "Internal Server Error", keep);
        } else {
            apigw_response out;
            if (apigw_map_result(res.payload, res.payload_len, &out) == 0) {
                if (allow)
                    cors_apply(&g->t->apis[api], allow, &out);
                rc = reply(c->fd, out.status, rid, &out, out.body, out.body_len, keep);
            }
            else
                rc = reply_msg(c->fd, 500, rid, "Internal Server Error", keep);
            apigw_response_fini(&out);
        }
        lam_result_fini(&res);
    }
    free(ev);
    return rc || !keep;
}

static void *client_main(void *arg)
{
    client *c = arg;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    http_parser p;
    http_parser_init(&p, GW_MAX_HEAD, GW_MAX_BODY);
    int stop = !buf;
    double idle_since = now_s(), first_byte = idle_since;
    while (!stop && !*c->g->o->stop) {
        size_t used;
        int rc = len ? http_parse(&p, buf, len, &used) : HTTP_MORE;
        if (rc == HTTP_DONE) {
            stop = serve_request(c, buf, &p.req);
            memmove(buf, buf + used, len - used);
            len -= used;
            idle_since = first_byte = now_s();
            http_parser_init(&p, GW_MAX_HEAD, GW_MAX_BODY);
            continue;
        }
        if (rc < 0) {
            char rid[24];
            clk_apigw_id(rid);
            int st = http_error_status(rc);
            reply_msg(c->fd, st, rid, st == 413 ? "Request Entity Too Large"
                                     : st == 431 ? "Request Header Fields Too Large"
                                                 : "Bad Request", 0);
            break;
        }
        if (http_wants_continue(&p))
            http_send_all(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
        if (len == cap) {
            size_t nc = cap * 2;
            if (nc > GW_MAX_BODY + GW_MAX_HEAD + 65536)
                break;
            char *nb = realloc(buf, nc);
            if (!nb)
                break;
            buf = nb;
            cap = nc;
        }
        /* idle client: closed after 30 s; a request must arrive whole within
         * 30 s of its first byte (slow clients get 408); stop is seen within
         * 250 ms */
        struct pollfd pf = {c->fd, POLLIN, 0};
        int pr = poll(&pf, 1, 250);
        double t = now_s();
        if (pr < 0 && errno != EINTR)
            break;
        if (pr <= 0) {
            if (len && t - first_byte > c->g->client_timeout) {
                char rid[24];
                clk_apigw_id(rid);
                reply_msg(c->fd, 408, rid, "Request Timeout", 0);
                break;
            }
            if (!len && t - idle_since > c->g->client_timeout)
                break;
            continue;
        }
        ssize_t r = recv(c->fd, buf + len, cap - len, 0);
        if (r <= 0)
            break;
        if (!len)
            first_byte = t;
        len += (size_t)r;
    }
    free(buf);
    close(c->fd);
    pthread_mutex_lock(&c->g->conn_mu);
    c->g->active_conns--;
    pthread_mutex_unlock(&c->g->conn_mu);
    free(c);
    return NULL;
}

static void reap_idle(gw *g)
{
    double t = now_s();
    for (size_t i = 0; i < g->t->n_functions; i++) {
        pool *p = &g->pools[i];
        pthread_mutex_lock(&p->mu);
        pooled **pp = &p->idle;
        int keep_min = g->t->functions[i].provisioned;
        int n_idle = 0;
        for (pooled *x = p->idle; x; x = x->next)
            n_idle++;
        while (*pp) {
            pooled *x = *pp;
            if (t - x->idle_since > g->o->idle_reap_s && n_idle > keep_min) {
                *pp = x->next;
                p->total--;
                n_idle--;
                pthread_mutex_unlock(&p->mu);
                lam_env_free(x->env);
                free(x);
                pthread_mutex_lock(&p->mu);
                pp = &p->idle;
                continue;
            }
            pp = &x->next;
        }
        pthread_mutex_unlock(&p->mu);
    }
}

int gw_serve(const sam_template *t, const gw_options *o, char *err, size_t errlen)
{
    gw *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    g->t = t;
    g->o = o;
    g->client_timeout = o->client_timeout_s > 0 ? o->client_timeout_s : 30.0;
    g->met = met_new(t);
    if (!g->met) {
        free(g);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pthread_mutexattr_t ma; /* adaptive: spin briefly before sleeping */
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&g->conn_mu, &ma);
    pthread_mutex_init(&g->dest_mu, NULL);
    for (size_t i = 0; i < t->n_functions; i++) {
        char why[1400];
        if (lam_check_bootstrap(&t->functions[i], why, sizeof why) != 0)
            fprintf(o->log, "nerd: warning: function %s: %s; its invocations will fail with "
                    "Runtime.InvalidEntrypoint\n", t->functions[i].name, why);
    }
    fflush(o->log);
    for (size_t i = 0; i < t->n_functions; i++) {
        pool *p = &g->pools[i];
        pthread_mutex_init(&p->mu, &ma);
        for (size_t r = 0; r < SAM_MAX_ROUTES; r++)
            pthread_mutex_init(&g->buckets[r].mu, &ma);
        p->f = &t->functions[i];
        p->limit = t->functions[i].reserved >= 0 ? t->functions[i].reserved
                                                 : GW_ACCOUNT_CONCURRENCY;
        /* provisioned environments: started now, kept warm */
        for (int k = 0; k < t->functions[i].provisioned; k++) {
            lam_env *e;
            if (lam_env_start(p->f, o->log, &e, err, errlen) == 0) {
                if (lam_env_prewarm(e) == 0) {
                    p->total++;
                    if (p->n_prov < 64)
                        p->prov[p->n_prov++] = e;
                    release(p, e);
                } else {
                    lam_env_free(e);
                }
            }
        }
    }
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 1024) ||
        getsockname(lfd, (struct sockaddr *)&a, &al)) {
        snprintf(err, errlen, "127.0.0.1:%d: %s", o->port, strerror(errno));
        if (lfd >= 0)
            close(lfd);
        met_free(g->met);
        free(g);
        return -1;
    }
    fprintf(o->log, "listening on http://127.0.0.1:%d\n", ntohs(a.sin_port));
    fflush(o->log);
    double last_reap = now_s();
    while (!*o->stop) {
        struct pollfd pf = {lfd, POLLIN, 0};
        if (poll(&pf, 1, 200) > 0) {
            struct sockaddr_in ca;
            socklen_t cl = sizeof ca;
            int fd = accept4(lfd, (struct sockaddr *)&ca, &cl, SOCK_CLOEXEC);
            if (fd >= 0) {
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                pthread_mutex_lock(&g->conn_mu);
                int over = g->active_conns >= GW_MAX_CONNS;
                if (!over)
                    g->active_conns++;
                pthread_mutex_unlock(&g->conn_mu);
                client *c = over ? NULL : calloc(1, sizeof *c);
                pthread_t th;
                pthread_attr_t at;
                pthread_attr_init(&at);
                pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
                pthread_attr_setstacksize(&at, 256 * 1024);
                if (c) {
                    c->g = g;
                    c->fd = fd;
                    snprintf(c->ip, sizeof c->ip, "127.0.0.1");
                }
                if (!c || pthread_create(&th, &at, client_main, c) != 0) {
                    reply_msg(fd, 503, "overloaded", "Service Unavailable", 0);
                    close(fd);
                    free(c);
                    if (!over) {
                        pthread_mutex_lock(&g->conn_mu);
                        g->active_conns--;
                        pthread_mutex_unlock(&g->conn_mu);
                    }
                }
                pthread_attr_destroy(&at);
            }
        }
        if (now_s() - last_reap > 1.0) {
            reap_idle(g);
            last_reap = now_s();
        }
    }
    close(lfd);
    /* wait for clients and Event invocations to finish (each ends by its
     * function's deadline), then shut every environment down */
    int max_timeout = 0;
    for (size_t i = 0; i < t->n_functions; i++)
        if (t->functions[i].timeout_s > max_timeout)
            max_timeout = t->functions[i].timeout_s;
    for (int i = 0; i < (max_timeout + 3) * 100; i++) {
        pthread_mutex_lock(&g->conn_mu);
        int n = g->active_conns + g->async_running;
        pthread_mutex_unlock(&g->conn_mu);
        if (!n)
            break;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    for (size_t i = 0; i < t->n_functions; i++) {
        pool *p = &g->pools[i];
        while (p->idle) {
            pooled *x = p->idle;
            p->idle = x->next;
            lam_env_free(x->env);
            free(x);
        }
    }
    met_free(g->met);
    free(g);
    return 0;
}
