/*
 * `bootstrap`: the NER function's executable.  Two modes, one handler
 * (handler.h):
 *
 *  - Lambda custom runtime (default; AWS_LAMBDA_RUNTIME_API set): loads the
 *    model once (init), then loops over the Runtime API (rtloop.h, shared
 *    with the products function, on rtclient.h's one kept-alive
 *    connection) — GET /next (no timeout), POST /response, POST
 *    /error with Lambda's error shape; POST /init/error and exit when the
 *    model cannot load or the configuration is invalid.  Each event's
 *    request id, deadline and trace id are read from /next's headers (the
 *    trace id goes to _X_AMZN_TRACE_ID; a response sent after the deadline
 *    is logged).  The Runtime API's errors are answered as AWS's runtimes
 *    answer them: a 413 on /response (result over the payload limit) is
 *    posted as an invocation error instead, other 4xx on a POST are logged,
 *    and a refused /next (4xx), a 5xx or a lost connection end the process
 *    (status 1, one line on stderr) for Lambda to start a new one.
 *  - HTTP server (PORT set, or --http): POST /ner, GET /, GET /healthz on
 *    HOST:PORT (http_server.c); SIGTERM drains and exits 0.  Bad options
 *    or environment values: a message and exit status 2.
 *
 * The model is NERD_MODEL, else $LAMBDA_TASK_ROOT/en_core_web_sm-2.2.5.nerd,
 * else next to the executable, else models/ under the current directory.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handler.h"
#include "http_server.h"
#include "nerd/ner.h"
#include "rtclient.h"
#include "rtloop.h"

#define MODEL_FILE "en_core_web_sm-2.2.5.nerd"

static void usage(FILE *f)
{
    fputs("usage: bootstrap                       Lambda custom runtime (AWS_LAMBDA_RUNTIME_API)\n"
          "       bootstrap --http [--host ADDR] [--port N] [--threads N]\n"
          "                                       HTTP server (also when PORT is set)\n"
          "       bootstrap --check-model [--model FILE]\n"
          "                                       verify the model file's checksum, exit 0 if good\n"
          "options: --model FILE (or NERD_MODEL), --max-text BYTES (or NERD_MAX_TEXT_BYTES,\n"
          "default 1048576).  HTTP mode: HOST (default 0.0.0.0), PORT (default 8080),\n"
          "threads default to the online CPUs.  Routes: POST /ner {\"text\": ...} or\n"
          "{\"texts\": [...]} (a batch of up to 256), ?scores=1 for entity scores;\n"
          "GET / (the page), GET /healthz.  The runtime trusts its package's model (Lambda\n"
          "checks the package's SHA-256; build-NerFunction runs --check-model): its\n"
          "checksum is verified at init only with NERD_MODEL_VERIFY=1.\n", f);
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

/* ---- the Lambda runtime loop ------------------------------------------------ */

/* How the runtime opens its model: trusted (no checksum pass over the
 * file, pages mapped as they are used: 1 ms less of cold start here), as
 * the package it came in was checked when it was built (--check-model)
 * and by Lambda (CodeSha256); NERD_MODEL_VERIFY=1 verifies it anyway.  The
 * structure is validated either way. */
static unsigned model_flags(void)
{
    const char *v = getenv("NERD_MODEL_VERIFY");
    return v && *v && strcmp(v, "0") ? 0 : NER_MODEL_TRUSTED;
}

/* rtl_serve()'s handler: one event through the NER handler. */
static int invoke(void *arg, const rtc_event *ev, const char **out, size_t *out_len, char *msg,
                  size_t msgcap)
{
    int rc = fn_lambda(arg, ev->body, ev->body_len, out, out_len);
    if (rc)
        snprintf(msg, msgcap, "%s", fn_strerror(rc));
    return rc;
}

/* Runs the Lambda runtime loop; returns the exit status.  config_err: a
 * configuration error to report as the init error; model: NULL when none
 * was found, with the places tried in no_model.  The loop ends (status 1)
 * when the Runtime API cannot be reached, fails (5xx), refuses /next (4xx)
 * or answers it without a request id, each with a line on stderr. */
static int runtime_main(const char *model, const char *no_model, size_t max_text,
                        const char *config_err)
{
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api || !*api) {
        fputs("bootstrap: AWS_LAMBDA_RUNTIME_API is not set (use --http for the HTTP mode)\n",
              stderr);
        return 2;
    }
    rtc *c = rtl_open("bootstrap", FN_MAX_EVENT);
    if (!c)
        return 2;
    char err[1024];
    fn_app *app = NULL;
    fn_ctx *ctx = NULL;
    const char *etype = NULL;
    if (config_err) {
        etype = "Runtime.ConfigInvalid";
        snprintf(err, sizeof err, "%s", config_err);
    } else if (!model) {
        etype = "Runtime.ModelLoadError";
        snprintf(err, sizeof err, "%s", no_model);
    } else if (fn_app_new(model, max_text, model_flags(), &app, err, sizeof err)) {
        etype = "Runtime.ModelLoadError";
    } else if (fn_ctx_new(app, &ctx)) {
        etype = "Runtime.OutOfMemory";
        snprintf(err, sizeof err, "out of memory");
    }
    if (etype) {
        fn_app_free(app);
        return rtl_init_failed(c, "bootstrap", etype, err);
    }
    int rc = rtl_serve(c, "bootstrap", invoke, ctx);
    fn_ctx_free(ctx);
    fn_app_free(app);
    rtc_free(c);
    return rc;
}

int main(int argc, char **argv)
{
    const char *model_opt = NULL, *host = getenv("HOST"), *port_s = getenv("PORT");
    const char *threads_s = NULL, *max_s = getenv("NERD_MAX_TEXT_BYTES");
    int http = port_s && *port_s, check = 0;
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
        } else if (!strcmp(argv[i], "--check-model")) {
            check = 1;
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
    if (check) {
        ner_model *m = NULL;
        int rc = model ? ner_model_load(model, &m) : NER_EIO;
        if (rc)
            fprintf(stderr, "bootstrap: %s: %s\n", model ? model : why,
                    model ? ner_strerror(rc) : "no model");
        else
            printf("bootstrap: %s: checksum and structure good\n", model);
        ner_model_free(m);
        return rc ? 1 : 0;
    }
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
    if (fn_app_new(model, (size_t)max_text, 0, &app, err, sizeof err)) {
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
