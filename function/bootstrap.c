/*
 * `bootstrap`: the NER function's executable.  Two modes, one handler
 * (handler.h):
 *
 *  - Lambda custom runtime (default; AWS_LAMBDA_RUNTIME_API set): loads the
 *    model once (init), then loops over the Runtime API with libcurl —
 *    GET /next (no timeout), POST /response, POST /error with Lambda's
 *    error shape; POST /init/error and exit when the model cannot load or
 *    the configuration is invalid.  Each event's request id, deadline and
 *    trace id are read from /next's headers (the trace id goes to
 *    _X_AMZN_TRACE_ID; a response sent after the deadline is logged).
 *  - HTTP server (PORT set, or --http): POST /ner, GET /, GET /healthz on
 *    HOST:PORT (http_server.c); SIGTERM drains and exits 0.  Bad options
 *    or environment values: a message and exit status 2.
 *
 * The model is NERD_MODEL, else $LAMBDA_TASK_ROOT/en_core_web_sm-2.2.5.nerd,
 * else next to the executable, else models/ under the current directory.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include "handler.h"
#include "http_server.h"
#include "nerd/ner.h"

#define MODEL_FILE "en_core_web_sm-2.2.5.nerd"

static void usage(FILE *f)
{
    fputs("usage: bootstrap                       Lambda custom runtime (AWS_LAMBDA_RUNTIME_API)\n"
          "       bootstrap --http [--host ADDR] [--port N] [--threads N]\n"
          "                                       HTTP server (also when PORT is set)\n"
          "options: --model FILE (or NERD_MODEL), --max-text BYTES (or NERD_MAX_TEXT_BYTES,\n"
          "default 1048576).  HTTP mode: HOST (default 0.0.0.0), PORT (default 8080),\n"
          "threads default to the online CPUs.  Routes: POST /ner {\"text\": ...} or\n"
          "{\"texts\": [...]} (a batch of up to 256), ?scores=1 for entity scores;\n"
          "GET / (the page), GET /healthz.\n", f);
}

static int exists(const char *p) { return access(p, R_OK) == 0; }

/* Parses a decimal number in [lo, hi] that fills all of s; 0 or -1. */
static int parse_num(const char *s, long long lo, long long hi, long long *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    long long v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (hi - (*s - '0')) / 10)
            return -1;
        v = v * 10 + (*s - '0');
    }
    if (*s || v < lo)
        return -1;
    *out = v;
    return 0;
}

static long long epoch_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* The model's path: --model, else NERD_MODEL, else the first readable of
 * $LAMBDA_TASK_ROOT/MODEL_FILE, <the executable's directory>/MODEL_FILE and
 * models/MODEL_FILE.  NULL when none is, with the places tried in why. */
static const char *find_model(const char *opt, char *buf, size_t cap, char *why, size_t whycap)
{
    const char *env = getenv("NERD_MODEL"), *root = getenv("LAMBDA_TASK_ROOT");
    if (opt)
        return opt;
    if (env && *env)
        return env;
    size_t w = (size_t)snprintf(why, whycap, "no model: NERD_MODEL is not set and %s is not in",
                                MODEL_FILE);
    if (root && *root) {
        if (snprintf(buf, cap, "%s/%s", root, MODEL_FILE) < (int)cap && exists(buf))
            return buf;
        if (w < whycap)
            w += (size_t)snprintf(why + w, whycap - w, " %.200s (LAMBDA_TASK_ROOT),", root);
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = n > 0 ? (exe[n] = 0, strrchr(exe, '/')) : NULL;
    if (slash) {
        *slash = 0;
        if (snprintf(buf, cap, "%s/%s", exe, MODEL_FILE) < (int)cap && exists(buf))
            return buf;
        if (w < whycap)
            w += (size_t)snprintf(why + w, whycap - w, " %.200s (the executable's directory),",
                                  exe[0] ? exe : "/");
    }
    snprintf(buf, cap, "models/%s", MODEL_FILE);
    if (exists(buf))
        return buf;
    if (w < whycap)
        snprintf(why + w, whycap - w, " models/ (under the current directory)");
    return NULL;
}

/* ---- the Runtime API client ------------------------------------------------- */

typedef struct rbuf {
    char *p;
    size_t len, cap;
} rbuf;

typedef struct rt {
    CURL *h;
    char base[256];
    rbuf body;
    char rid[128];
    char trace[512];     /* Lambda-Runtime-Trace-Id, for _X_AMZN_TRACE_ID */
    long long deadline;  /* Lambda-Runtime-Deadline-Ms (epoch ms), 0 if absent */
    int too_big;
} rt;

static size_t on_body(char *d, size_t sz, size_t n, void *arg)
{
    rt *r = arg;
    size_t k = sz * n;
    if (r->body.len + k + 1 > FN_MAX_EVENT + 1) {
        r->too_big = 1;
        return k; /* drain it; reported below */
    }
    if (r->body.len + k + 1 > r->body.cap) {
        size_t nc = r->body.cap ? r->body.cap : 65536;
        while (nc < r->body.len + k + 1)
            nc *= 2;
        char *p = realloc(r->body.p, nc);
        if (!p)
            return 0;
        r->body.p = p;
        r->body.cap = nc;
    }
    memcpy(r->body.p + r->body.len, d, k);
    r->body.len += k;
    r->body.p[r->body.len] = 0;
    return k;
}

/* If the header line d[0..k) is `name: value`, copies the trimmed value into
 * out (NUL-terminated) and returns 1; a value that does not fit is left out. */
static int header_value(const char *d, size_t k, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    if (k <= nl || d[nl] != ':' || strncasecmp(d, name, nl))
        return 0;
    const char *v = d + nl + 1;
    size_t vl = k - nl - 1;
    while (vl && (*v == ' ' || *v == '\t'))
        v++, vl--;
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ' || v[vl - 1] == '\t'))
        vl--;
    if (vl >= cap)
        return 0;
    memcpy(out, v, vl);
    out[vl] = 0;
    return 1;
}

static size_t on_header(char *d, size_t sz, size_t n, void *arg)
{
    rt *r = arg;
    size_t k = sz * n;
    char num[32];
    long long v;
    if (header_value(d, k, "lambda-runtime-aws-request-id", r->rid, sizeof r->rid) ||
        header_value(d, k, "lambda-runtime-trace-id", r->trace, sizeof r->trace))
        return k;
    if (header_value(d, k, "lambda-runtime-deadline-ms", num, sizeof num) &&
        !parse_num(num, 0, (long long)1 << 50, &v))
        r->deadline = v;
    return k;
}

static size_t discard(char *d, size_t sz, size_t n, void *arg)
{
    (void)d;
    (void)arg;
    return sz * n;
}

/* POSTs body to base + path; returns the HTTP status or -1. */
static long post(rt *r, const char *path, const char *body, size_t len, const char *err_type)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", r->base, path);
    struct curl_slist *hs = curl_slist_append(NULL, "Content-Type: application/json");
    hs = curl_slist_append(hs, "Expect:");
    if (err_type) {
        char h[160];
        snprintf(h, sizeof h, "Lambda-Runtime-Function-Error-Type: %s", err_type);
        hs = curl_slist_append(hs, h);
    }
    curl_easy_setopt(r->h, CURLOPT_URL, url);
    curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(r->h, CURLOPT_POST, 1L);
    curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(r->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(r->h, CURLOPT_HEADERFUNCTION, discard);
    CURLcode cc = curl_easy_perform(r->h);
    long status = -1;
    if (cc == CURLE_OK)
        curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
    else
        fprintf(stderr, "bootstrap: POST %s: %s\n", path, curl_easy_strerror(cc));
    curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hs);
    return status;
}

/* Lambda's error shape, {"errorMessage","errorType"}: quotes and backslashes
 * escaped, control characters dropped, other non-ASCII bytes as '?' (the
 * message may quote configuration text that is not UTF-8). */
static void error_json(char *out, size_t cap, const char *type, const char *msg)
{
    size_t o = (size_t)snprintf(out, cap, "{\"errorMessage\":\"");
    for (const char *s = msg; *s && o + 8 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            out[o++] = '\\', out[o++] = (char)ch;
        else if (ch >= 0x80)
            out[o++] = '?';
        else if (ch >= 0x20)
            out[o++] = (char)ch;
    }
    snprintf(out + o, cap - o, "\",\"errorType\":\"%s\"}", type);
}

/* Runs the Lambda runtime loop; returns the exit status.  config_err: a
 * configuration error to report as the init error; model: NULL when none
 * was found, with the places tried in no_model. */
static int runtime_main(const char *model, const char *no_model, size_t max_text,
                        const char *config_err)
{
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api || !*api) {
        fputs("bootstrap: AWS_LAMBDA_RUNTIME_API is not set (use --http for the HTTP mode)\n",
              stderr);
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_NOTHING)) {
        fputs("bootstrap: curl_global_init failed\n", stderr);
        return 1;
    }
    rt r;
    memset(&r, 0, sizeof r);
    snprintf(r.base, sizeof r.base, "http://%s/2018-06-01/runtime", api);
    r.h = curl_easy_init();
    if (!r.h) {
        fputs("bootstrap: curl_easy_init failed\n", stderr);
        curl_global_cleanup();
        return 1;
    }
    curl_easy_setopt(r.h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(r.h, CURLOPT_CONNECTTIMEOUT_MS, 1000L); /* loopback: fail fast */
    curl_easy_setopt(r.h, CURLOPT_TIMEOUT, 0L);  /* /next waits as long as it takes */
    curl_easy_setopt(r.h, CURLOPT_NOSIGNAL, 1L);
    fn_app *app = NULL;
    fn_ctx *ctx = NULL;
    char err[1024], js[1536];
    const char *etype = NULL;
    if (config_err) {
        etype = "Runtime.ConfigInvalid";
        snprintf(err, sizeof err, "%s", config_err);
    } else if (!model) {
        etype = "Runtime.ModelLoadError";
        snprintf(err, sizeof err, "%s", no_model);
    } else if (fn_app_new(model, max_text, &app, err, sizeof err)) {
        etype = "Runtime.ModelLoadError";
    } else if (fn_ctx_new(app, &ctx)) {
        etype = "Runtime.OutOfMemory";
        snprintf(err, sizeof err, "out of memory");
    }
    if (etype) {
        fprintf(stderr, "bootstrap: init failed: %s\n", err);
        error_json(js, sizeof js, etype, err);
        post(&r, "/init/error", js, strlen(js), etype);
        curl_easy_cleanup(r.h);
        curl_global_cleanup();
        fn_app_free(app);
        return 1;
    }
    char next[300];
    snprintf(next, sizeof next, "%s/invocation/next", r.base);
    for (;;) {
        r.body.len = 0;
        r.rid[0] = r.trace[0] = 0;
        r.deadline = 0;
        r.too_big = 0;
        curl_easy_setopt(r.h, CURLOPT_URL, next);
        curl_easy_setopt(r.h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(r.h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(r.h, CURLOPT_WRITEDATA, &r);
        curl_easy_setopt(r.h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(r.h, CURLOPT_HEADERDATA, &r);
        CURLcode cc = curl_easy_perform(r.h);
        long status = 0;
        curl_easy_getinfo(r.h, CURLINFO_RESPONSE_CODE, &status);
        if (cc != CURLE_OK || status != 200 || !r.rid[0]) {
            fprintf(stderr, "bootstrap: GET /next: %s (status %ld)\n",
                    cc ? curl_easy_strerror(cc) : "no request id", status);
            break; /* the platform is gone: exit, as Lambda runtimes do */
        }
        if (r.trace[0]) /* as the AWS runtimes do, for X-Ray SDKs */
            setenv("_X_AMZN_TRACE_ID", r.trace, 1);
        else
            unsetenv("_X_AMZN_TRACE_ID");
        char path[300];
        if (r.too_big) {
            error_json(js, sizeof js, "Runtime.EventTooLarge", "the event exceeds 6 MB");
            snprintf(path, sizeof path, "/invocation/%s/error", r.rid);
            post(&r, path, js, strlen(js), "Runtime.EventTooLarge");
            continue;
        }
        const char *out;
        size_t out_len;
        int rc = fn_lambda(ctx, r.body.p ? r.body.p : "", r.body.len, &out, &out_len);
        if (rc) {
            error_json(js, sizeof js, "Runtime.HandlerError", fn_strerror(rc));
            snprintf(path, sizeof path, "/invocation/%s/error", r.rid);
            post(&r, path, js, strlen(js), "Runtime.HandlerError");
        } else {
            snprintf(path, sizeof path, "/invocation/%s/response", r.rid);
            post(&r, path, out, out_len, NULL);
        }
        long long late = r.deadline ? epoch_ms() - r.deadline : 0;
        if (late > 0) /* the platform has timed the invocation out by now */
            fprintf(stderr, "bootstrap: request %s finished %lld ms after its deadline\n", r.rid,
                    late);
    }
    fn_ctx_free(ctx);
    fn_app_free(app);
    free(r.body.p);
    curl_easy_cleanup(r.h);
    curl_global_cleanup();
    return 1;
}

int main(int argc, char **argv)
{
    const char *model_opt = NULL, *host = getenv("HOST"), *port_s = getenv("PORT");
    const char *threads_s = NULL, *max_s = getenv("NERD_MAX_TEXT_BYTES");
    int http = port_s && *port_s;
    if (!http)
        port_s = NULL;
    if (max_s && !*max_s)
        max_s = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--http")) {
            http = 1;
        } else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
            port_s = argv[++i];
        } else if (!strcmp(argv[i], "--host") && i + 1 < argc) {
            host = argv[++i];
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            threads_s = argv[++i];
        } else if (!strcmp(argv[i], "--model") && i + 1 < argc) {
            model_opt = argv[++i];
        } else if (!strcmp(argv[i], "--max-text") && i + 1 < argc) {
            max_s = argv[++i];
        } else {
            fprintf(stderr, "bootstrap: unknown argument %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    long long port = 8080, threads = 0, max_text = 0;
    char cfg[160] = "";
    if (max_s && parse_num(max_s, 1, (long long)NER_MAX_TEXT, &max_text))
        snprintf(cfg, sizeof cfg, "NERD_MAX_TEXT_BYTES / --max-text %.40s: want a number of bytes "
                 "from 1 to %zu", max_s, NER_MAX_TEXT);
    char buf[PATH_MAX + 64], why[800];
    const char *model = find_model(model_opt, buf, sizeof buf, why, sizeof why);
    if (!http) /* a configuration error is an init error, reported to Lambda */
        return runtime_main(model, why, (size_t)max_text, cfg[0] ? cfg : NULL);
    if (!cfg[0] && port_s && parse_num(port_s, 0, 65535, &port))
        snprintf(cfg, sizeof cfg, "PORT / --port %.40s: want a port number from 0 to 65535",
                 port_s);
    if (!cfg[0] && threads_s && parse_num(threads_s, 0, 256, &threads))
        snprintf(cfg, sizeof cfg, "--threads %.40s: want a number from 0 (the online CPUs) to 256",
                 threads_s);
    if (cfg[0]) {
        fprintf(stderr, "bootstrap: %s\n", cfg);
        return 2;
    }
    if (!model) {
        fprintf(stderr, "bootstrap: %s\n", why);
        return 1;
    }
    fn_app *app = NULL;
    char err[512];
    if (fn_app_new(model, (size_t)max_text, &app, err, sizeof err)) {
        fprintf(stderr, "bootstrap: %s\n", err);
        return 1;
    }
    hs_options o = {host && *host ? host : "0.0.0.0", (int)port, (int)threads};
    int rc = hs_run(app, &o, err, sizeof err);
    if (rc)
        fprintf(stderr, "bootstrap: %s\n", err);
    fn_app_free(app);
    return rc ? 1 : 0;
}
