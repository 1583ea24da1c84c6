/*
 * The NER function's handler (function/handler.c), in process: every case
 * of tests/data/function/handler.cases through fn_http() or fn_lambda(),
 * then a text at and over the limit, a configured limit, and two contexts
 * used from two threads at once.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "handler.h"

static fn_app *app;

static void run_case(fn_ctx *c, const char *name, const char *kind, const char *body,
                     size_t blen, int status, const char *want, const char *has)
{
    int got_status = 0;
    const char *got = "";
    size_t got_len = 0;
    json_t *res = NULL;
    if (!strncmp(kind, "http:", 5)) {
        char method[16] = "", path[256] = "", ct[128] = "";
        sscanf(kind + 5, "%15s %255s %127[^\n]", method, path, ct);
        fn_response r;
        fn_http(c, method, strlen(method), path, strlen(path), strcmp(ct, "-") ? ct : NULL,
                strcmp(ct, "-") ? strlen(ct) : 0, blen ? body : NULL, blen, &r);
        got_status = r.status;
        got = r.body;
        got_len = r.body_len;
        CHECK(r.status != 405 || r.allow, "%s: 405 without Allow", name);
    } else {
        const char *out;
        size_t out_len;
        CHECK(fn_lambda(c, body, blen, &out, &out_len) == FN_OK, "%s: fn_lambda failed", name);
        json_error_t je;
        res = json_loadb(out, out_len, 0, &je);
        CHECK(res != NULL, "%s: result is not JSON: %.200s", name, out);
        got_status = (int)json_integer_value(json_object_get(res, "statusCode"));
        json_t *b = json_object_get(res, "body");
        got = json_string_value(b) ? json_string_value(b) : "";
        got_len = json_string_length(b);
        CHECK(json_is_string(json_object_get(json_object_get(res, "headers"), "content-type")),
              "%s: result without content-type", name);
    }
    CHECK(got_status == status, "%s: status %d, want %d (%.200s)", name, got_status, status, got);
    if (want[0])
        CHECK(got_len == strlen(want) && !memcmp(got, want, got_len), "%s:\n got  %.*s\n want %s",
              name, (int)(got_len < 2000 ? got_len : 2000), got, want);
    if (has[0])
        CHECK(memmem(got, got_len, has, strlen(has)) != NULL, "%s: '%s' not in %.*s", name, has,
              (int)(got_len < 2000 ? got_len : 2000), got);
    json_decref(res);
}

static void cases(fn_ctx *c, const char *path)
{
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "cannot open %s", path);
    if (!f)
        return;
    static char line[65536], name[256], kind[512], body[65536], want[8192], has[1024];
    size_t blen = 0;
    int status = 0, n = 0, open_ = 0;
    for (;;) {
        char *got = fgets(line, sizeof line, f);
        if (got)
            line[strcspn(line, "\n")] = 0;
        if (!got || !strncmp(line, "=== ", 4)) {
            if (open_) {
                run_case(c, name, kind, body, blen, status, want, has);
                n++;
            }
            if (!got)
                break;
            snprintf(name, sizeof name, "%.250s", line + 4);
            kind[0] = want[0] = has[0] = 0;
            blen = 0;
            status = 0;
            open_ = 1;
        } else if (!strncmp(line, "http:", 5) || !strncmp(line, "lambda:", 7)) {
            snprintf(kind, sizeof kind, "%.500s", line);
        } else if (!strncmp(line, "body:", 5)) {
            const char *b = line[5] == ' ' ? line + 6 : line + 5;
            blen = check_unescape(b, body);
            body[blen] = 0;
        } else if (!strncmp(line, "status:", 7)) {
            status = atoi(line + 7);
        } else if (!strncmp(line, "want: ", 6)) {
            snprintf(want, sizeof want, "%.8000s", line + 6);
        } else if (!strncmp(line, "has: ", 5)) {
            snprintf(has, sizeof has, "%.1000s", line + 5);
        }
    }
    fclose(f);
    CHECK(n >= 25, "only %d cases", n);
}

/* A text of exactly n bytes of "Paris " repeated, in a JSON body. */
static char *big_body(size_t n, size_t *len)
{
    char *b = malloc(n + 32);
    memcpy(b, "{\"text\":\"", 9);
    for (size_t i = 0; i < n; i++)
        b[9 + i] = "Paris "[i % 6];
    memcpy(b + 9 + n, "\"}", 3);
    *len = n + 11;
    return b;
}

static void limits(fn_ctx *c)
{
    size_t len;
    fn_response r;
    char *b = big_body(FN_DEFAULT_MAX_TEXT, &len);
    fn_http(c, "POST", 4, "/ner", 4, NULL, 0, b, len, &r);
    CHECK(r.status == 200 && r.body_len > 100000, "1 MB text: %d", r.status);
    free(b);
    b = big_body(FN_DEFAULT_MAX_TEXT + 1, &len);
    fn_http(c, "POST", 4, "/ner", 4, NULL, 0, b, len, &r);
    CHECK(r.status == 413 && strstr(r.body, "\"error\":\"PayloadTooLarge\""), "over 1 MB: %d %s",
          r.status, r.body);
    free(b);
    b = big_body(FN_DEFAULT_MAX_TEXT * 7, &len);
    fn_http(c, "POST", 4, "/ner", 4, NULL, 0, b, len, &r);
    CHECK(r.status == 413, "7 MB body refused before parsing: %d", r.status);
    free(b);

    fn_app *small = NULL;
    fn_ctx *sc = NULL;
    char err[256] = "";
    const char *model = getenv("MODEL") ? getenv("MODEL") : "models/en_core_web_sm-2.2.5.nerd";
    int ok = fn_app_new(model, 10, &small, err, sizeof err) == 0 && fn_ctx_new(small, &sc) == 0;
    CHECK(ok, "small app: %s", err);
    if (ok) {
        fn_http(sc, "POST", 4, "/ner", 4, NULL, 0, "{\"text\":\"0123456789\"}", 21, &r);
        CHECK(r.status == 200, "10 bytes at a 10-byte limit: %d", r.status);
        fn_http(sc, "POST", 4, "/ner", 4, NULL, 0, "{\"text\":\"0123456789a\"}", 22, &r);
        CHECK(r.status == 413 && !strcmp(r.body, "{\"error\":\"PayloadTooLarge\",\"message\":"
                                                 "\"text is 11 bytes; the limit is 10 bytes\"}"),
              "11 bytes over a 10-byte limit: %d %s", r.status, r.body);
        /* the raw body cap, limit * 6 + 1024 bytes, is checked before parsing */
        char big[10 * 6 + 1024 + 1];
        memset(big, ' ', sizeof big);
        memcpy(big, "{\"text\":\"a\"}", 12);
        fn_http(sc, "POST", 4, "/ner", 4, NULL, 0, big, sizeof big - 1, &r);
        CHECK(r.status == 200, "body at the cap (trailing spaces): %d %s", r.status, r.body);
        fn_http(sc, "POST", 4, "/ner", 4, NULL, 0, big, sizeof big, &r);
        CHECK(r.status == 413 && strstr(r.body, "the body is 1085 bytes"),
              "body one byte over the cap: %d %s", r.status, r.body);
    }
    fn_ctx_free(sc);
    fn_app_free(small);

    CHECK(fn_app_new("/nonexistent.nerd", 0, &small, err, sizeof err) == FN_EMODEL &&
          strstr(err, "/nonexistent.nerd"), "missing model: %s", err);
}

static void *thread_main(void *arg)
{
    (void)arg;
    fn_ctx *c;
    int bad = fn_ctx_new(app, &c);
    static const char body[] = "{\"text\":\"Alan Turing was born in London.\"}";
    for (int i = 0; i < 200 && !bad; i++) {
        fn_response r;
        fn_http(c, "POST", 4, "/ner", 4, NULL, 0, body, sizeof body - 1, &r);
        bad = r.status != 200 || !strstr(r.body, "\"London\",\"label\":\"GPE\",\"start\":24");
    }
    fn_ctx_free(c);
    return bad ? (void *)1 : NULL;
}

int main(void)
{
    const char *model = getenv("MODEL") ? getenv("MODEL") : "models/en_core_web_sm-2.2.5.nerd";
    char err[256];
    fn_ctx *c = NULL;
    CHECK(fn_app_new(model, 0, &app, err, sizeof err) == 0, "model: %s", err);
    if (!app || fn_ctx_new(app, &c))
        return check_done("test_handler");
    cases(c, "tests/data/function/handler.cases");
    limits(c);
    pthread_t t[2];
    void *rv[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, thread_main, NULL);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], &rv[i]);
        CHECK(rv[i] == NULL, "thread %d got a wrong answer", i);
    }
    CHECK(strcmp(fn_strerror(FN_EMODEL), "unknown error") != 0, "fn_strerror");
    fn_ctx_free(c);
    fn_app_free(app);
    fn_app_free(NULL);
    fn_ctx_free(NULL);
    return check_done("test_handler");
}
