/*
 * `bootstrap`: the NER function's executable.  Two modes, one handler
 * (handler.h):
 *
 *  - Lambda custom runtime (default; AWS_LAMBDA_RUNTIME_API set): loads the
 *    model once (init), then loops over the Runtime API with libcurl —
 *    GET /next (no timeout), POST /response, POST /error with Lambda's
 *    error shape; POST /init/error and exit when the model cannot load.
 *  - HTTP server (PORT set, or --http): POST /ner, GET /, GET /healthz on
 *    HOST:PORT (http_server.c); SIGTERM drains and exits 0.
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
#include <unistd.h>

#include "handler.h"
#include "http_server.h"

#define MODEL_FILE "en_core_web_sm-2.2.5.nerd"

static void usage(FILE *f)
{
    fputs("usage: bootstrap                       Lambda custom runtime (AWS_LAMBDA_RUNTIME_API)\n"
          "       bootstrap --http [--host ADDR] [--port N] [--threads N]\n"
          "                                       HTTP server (also when PORT is set)\n"
          "options: --model FILE (or NERD_MODEL), --max-text BYTES (or NERD_MAX_TEXT_BYTES,\n"
          "default 1048576).  HTTP mode: HOST (default 0.0.0.0), PORT (default 8080),\n"
          "threads default to the online CPUs.  Routes: POST /ner {\"text\": ...},\n"
          "GET / (the page), GET /healthz.\n", f);
}

static int exists(const char *p) { return access(p, R_OK) == 0; }

static const char *find_model(const char *opt, char *buf, size_t cap)
{
    const char *env = getenv("NERD_MODEL"), *root = getenv("LAMBDA_TASK_ROOT");
    if (opt)
        return opt;
    if (env && *env)
        return env;
    if (root && snprintf(buf, cap, "%s/%s", root, MODEL_FILE) < (int)cap && exists(buf))
        return buf;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            if (snprintf(buf, cap, "%s/%s", exe, MODEL_FILE) < (int)cap && exists(buf))
                return buf;
        }
    }
    snprintf(buf, cap, "models/%s", MODEL_FILE);
    return buf;
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

static size_t on_header(char *d, size_t sz, size_t n, void *arg)
{
    rt *r = arg;
    size_t k = sz * n;
    static const char name[] = "lambda-runtime-aws-request-id:";
    if (k > sizeof name - 1 && !strncasecmp(d, name, sizeof name - 1)) {
        const char *v = d + sizeof name - 1;
        size_t vl = k - (sizeof name - 1);
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        if (vl < sizeof r->rid) {
            memcpy(r->rid, v, vl);
            r->rid[vl] = 0;
        }
    }
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

/* Lambda's error shape, {"errorMessage","errorType"}, escaped minimally. */
static void error_json(char *out, size_t cap, const char *type, const char *msg)
{
    size_t o = (size_t)snprintf(out, cap, "{\"errorMessage\":\"");
    for (const char *s = msg; *s && o + 8 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            out[o++] = '\\', out[o++] = (char)ch;
        else if (ch >= 0x20)
            out[o++] = (char)ch;
    }
    snprintf(out + o, cap - o, "\",\"errorType\":\"%s\"}", type);
}

static int runtime_main(const char *model, size_t max_text)
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
        return 1;
    }
    curl_easy_setopt(r.h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(r.h, CURLOPT_TIMEOUT, 0L);  /* /next waits as long as it takes */
    curl_easy_setopt(r.h, CURLOPT_NOSIGNAL, 1L);
    fn_app *app = NULL;
    fn_ctx *ctx = NULL;
    char err[512], js[1024];
    if (fn_app_new(model, max_text, &app, err, sizeof err) || fn_ctx_new(app, &ctx)) {
        fprintf(stderr, "bootstrap: init failed: %s\n", err);
        error_json(js, sizeof js, "Runtime.ModelLoadError", err);
        post(&r, "/init/error", js, strlen(js), "Runtime.ModelLoadError");
        curl_easy_cleanup(r.h);
        fn_app_free(app);
        return 1;
    }
    char next[300];
    snprintf(next, sizeof next, "%s/invocation/next", r.base);
    for (;;) {
        r.body.len = 0;
        r.rid[0] = 0;
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
    const char *model_opt = NULL, *host = getenv("HOST"), *port_env = getenv("PORT");
    int http = port_env && *port_env, port = port_env && *port_env ? atoi(port_env) : 8080;
    int threads = 0;
    const char *mt = getenv("NERD_MAX_TEXT_BYTES");
    size_t max_text = mt && *mt ? (size_t)strtoull(mt, NULL, 10) : 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--http")) {
            http = 1;
        } else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
            port = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--host") && i + 1 < argc) {
            host = argv[++i];
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            threads = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--model") && i + 1 < argc) {
            model_opt = argv[++i];
        } else if (!strcmp(argv[i], "--max-text") && i + 1 < argc) {
            max_text = (size_t)strtoull(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "bootstrap: unknown argument %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    char buf[PATH_MAX + 64];
    const char *model = find_model(model_opt, buf, sizeof buf);
    if (!http)
        return runtime_main(model, max_text);
    if (port < 0 || port > 65535 || threads < 0 || threads > 256) {
        fputs("bootstrap: bad --port or --threads\n", stderr);
        return 2;
    }
    fn_app *app = NULL;
    char err[512];
    if (fn_app_new(model, max_text, &app, err, sizeof err)) {
        fprintf(stderr, "bootstrap: %s\n", err);
        return 1;
    }
    hs_options o = {host && *host ? host : "0.0.0.0", port, threads};
    int rc = hs_run(app, &o, err, sizeof err);
    if (rc)
        fprintf(stderr, "bootstrap: %s\n", err);
    fn_app_free(app);
    return rc ? 1 : 0;
}
