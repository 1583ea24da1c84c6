/*
 * The NER function's handler (function/handler.c), in process: every case
 * of tests/data/function/handler.cases through fn_http() or fn_lambda(),
 * then a text at and over the limit, a configured limit, a batch at and
 * over its count and byte limits, batches of a shared reference file
 * ($SHARED/data/reference/wnut17.dev.jsonl) byte-identical to the same
 * texts one by one (with and without scores, through fn_http, payload 2.0
 * events and direct invocations), and two contexts used from two threads
 * at once.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "handler.h"

static fn_app *app;

/* POST /ner with body[0..len), no query, no content type. */
static void post(fn_ctx *c, const char *body, size_t len, fn_response *r)
{
    fn_http(c, "POST", 4, "/ner", 4, NULL, 0, NULL, 0, body, len, r);
}

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
        char *q = strchr(path, '?');
        if (q)
            *q++ = 0;
        fn_response r;
        fn_http(c, method, strlen(method), path, strlen(path), q, q ? strlen(q) : 0,
                strcmp(ct, "-") ? ct : NULL, strcmp(ct, "-") ? strlen(ct) : 0, blen ? body : NULL,
                blen, &r);
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
    post(c, b, len, &r);
    CHECK(r.status == 200 && r.body_len > 100000, "1 MB text: %d", r.status);
    free(b);
    b = big_body(FN_DEFAULT_MAX_TEXT + 1, &len);
    post(c, b, len, &r);
    CHECK(r.status == 413 && strstr(r.body, "\"error\":\"PayloadTooLarge\""), "over 1 MB: %d %s",
          r.status, r.body);
    free(b);
    b = big_body(FN_DEFAULT_MAX_TEXT * 7, &len);
    post(c, b, len, &r);
    CHECK(r.status == 413, "7 MB body refused before parsing: %d", r.status);
    free(b);

    fn_app *small = NULL;
    fn_ctx *sc = NULL;
    char err[256] = "";
    const char *model = getenv("MODEL") ? getenv("MODEL") : "models/en_core_web_sm-2.2.5.nerd";
    int ok = fn_app_new(model, 10, 0, &small, err, sizeof err) == 0 && fn_ctx_new(small, &sc) == 0;
    CHECK(ok, "small app: %s", err);
    if (ok) {
        post(sc, "{\"text\":\"0123456789\"}", 21, &r);
        CHECK(r.status == 200, "10 bytes at a 10-byte limit: %d", r.status);
        post(sc, "{\"text\":\"0123456789a\"}", 22, &r);
        CHECK(r.status == 413 && !strcmp(r.body, "{\"error\":\"PayloadTooLarge\",\"message\":"
                                                 "\"text is 11 bytes; the limit is 10 bytes\"}"),
              "11 bytes over a 10-byte limit: %d %s", r.status, r.body);
        /* a batch's texts count together */
        static const char b10[] = "{\"texts\":[\"01234\",\"\",\"56789\"]}";
        post(sc, b10, sizeof b10 - 1, &r);
        CHECK(r.status == 200, "a batch of 10 bytes at a 10-byte limit: %d %s", r.status, r.body);
        static const char b11[] = "{\"texts\":[\"01234\",\"\",\"56789a\"]}";
        post(sc, b11, sizeof b11 - 1, &r);
        CHECK(r.status == 413 && !strcmp(r.body, "{\"error\":\"PayloadTooLarge\",\"message\":"
                                                 "\"texts are 11 bytes together; the limit is 10 "
                                                 "bytes\"}"),
              "a batch of 11 bytes over a 10-byte limit: %d %s", r.status, r.body);
        /* the raw body cap, limit * 6 + 1024 + 16 * FN_MAX_BATCH bytes (every
         * byte escaped, and a batch's layout), is checked before parsing */
        size_t cap = 10 * 6 + 1024 + 16 * FN_MAX_BATCH;
        CHECK(fn_app_max_body(small) == cap, "body cap %zu", fn_app_max_body(small));
        char *big = malloc(cap + 1);
        memset(big, ' ', cap + 1);
        memcpy(big, "{\"text\":\"a\"}", 12);
        post(sc, big, cap, &r);
        CHECK(r.status == 200, "body at the cap (trailing spaces): %d %s", r.status, r.body);
        post(sc, big, cap + 1, &r);
        char want[64];
        snprintf(want, sizeof want, "the body is %zu bytes", cap + 1);
        CHECK(r.status == 413 && strstr(r.body, want), "body one byte over the cap: %d %s",
              r.status, r.body);
        free(big);
    }
    fn_ctx_free(sc);
    fn_app_free(small);

    CHECK(fn_app_new("/nonexistent.nerd", 0, 0, &small, err, sizeof err) == FN_EMODEL &&
          strstr(err, "/nonexistent.nerd"), "missing model: %s", err);
}

/* Batches at and over FN_MAX_BATCH texts. */
static void batch_limits(fn_ctx *c)
{
    json_t *texts = json_array();
    for (int i = 0; i < FN_MAX_BATCH; i++)
        json_array_append_new(texts, json_string(i % 2 ? "Paris" : ""));
    json_t *body = json_pack("{sO}", "texts", texts);
    char *b = json_dumps(body, JSON_COMPACT);
    fn_response r;
    post(c, b, strlen(b), &r);
    json_error_t je;
    json_t *res = r.status == 200 ? json_loadb(r.body, r.body_len, 0, &je) : NULL;
    json_t *rs = json_object_get(res, "results");
    CHECK(json_array_size(rs) == FN_MAX_BATCH &&
              json_array_size(json_object_get(json_array_get(rs, 1), "entities")) == 1,
          "a batch of %d texts: %d %.200s", FN_MAX_BATCH, r.status, r.body);
    json_decref(res);
    free(b);
    json_array_append_new(texts, json_string("one more"));
    b = json_dumps(body, JSON_COMPACT);
    post(c, b, strlen(b), &r);
    char want[160];
    snprintf(want, sizeof want,
             "{\"error\":\"PayloadTooLarge\",\"message\":\"texts has %d items; the limit is %d "
             "texts\"}", FN_MAX_BATCH + 1, FN_MAX_BATCH);
    CHECK(r.status == 413 && !strcmp(r.body, want), "a batch of %d texts: %d %s",
          FN_MAX_BATCH + 1, r.status, r.body);
    free(b);
    json_decref(texts);
    json_decref(body);
}

/* The "body" of a Lambda result, or NULL (the caller frees *res). */
static const char *lambda_body(fn_ctx *c, const char *event, json_t **res)
{
    const char *out;
    size_t len;
    json_error_t je;
    *res = NULL;
    if (fn_lambda(c, event, strlen(event), &out, &len))
        return NULL;
    *res = json_loadb(out, len, 0, &je);
    if (json_integer_value(json_object_get(*res, "statusCode")) != 200)
        return NULL;
    return json_string_value(json_object_get(*res, "body"));
}

/* One batch of n texts against the same texts one at a time, without and
 * with scores: the batch's answer must be exactly {"results":[ANSWER,...]}
 * of the single answers, through fn_http, a payload 2.0 event (scores from
 * rawQueryString) and a direct invocation. */
static int check_batch(fn_ctx *c, json_t *texts, const char *where)
{
    size_t n = json_array_size(texts);
    int ok = 1;
    for (int scored = 0; scored < 2; scored++) {
        size_t cap = 4096, len = 0;
        char *want = malloc(cap);
        len = (size_t)snprintf(want, cap, "{\"results\":[");
        for (size_t i = 0; i < n; i++) {
            json_t *one = json_pack("{sO}", "text", json_array_get(texts, i));
            if (scored)
                json_object_set_new(one, "scores", json_true());
            char *b = json_dumps(one, JSON_COMPACT);
            fn_response r;
            post(c, b, strlen(b), &r);
            ok &= r.status == 200;
            while (len + r.body_len + 4 > cap)
                want = realloc(want, cap *= 2);
            if (i)
                want[len++] = ',';
            memcpy(want + len, r.body, r.body_len);
            len += r.body_len;
            free(b);
            json_decref(one);
        }
        memcpy(want + len, "]}", 3);
        len += 2;
        json_t *batch = json_pack("{sO}", "texts", texts);
        char *b = json_dumps(batch, JSON_COMPACT);
        fn_response r;
        const char *q = scored ? "scores=1" : "";
        fn_http(c, "POST", 4, "/ner", 4, q, strlen(q), "application/json", 16, b, strlen(b), &r);
        int same = r.status == 200 && r.body_len == len && !memcmp(r.body, want, len);
        CHECK(same, "%s, %zu texts%s: the batch differs from its texts one by one (%d)", where, n,
              scored ? " with scores" : "", r.status);
        json_t *ev = json_pack("{ss ss ss s{s{ss}} ss}", "version", "2.0", "rawPath", "/ner",
                               "rawQueryString", q, "requestContext", "http", "method", "POST",
                               "body", b);
        char *evs = json_dumps(ev, JSON_COMPACT), *direct = NULL;
        json_t *res;
        const char *got = lambda_body(c, evs, &res);
        CHECK(got && strlen(got) == len && !memcmp(got, want, len),
              "%s%s: payload 2.0 batch differs", where, scored ? " with scores" : "");
        json_decref(res);
        if (scored) { /* a direct invocation says scores in the event */
            json_object_set_new(batch, "scores", json_true());
            direct = json_dumps(batch, JSON_COMPACT);
        }
        got = lambda_body(c, direct ? direct : b, &res);
        CHECK(got && strlen(got) == len && !memcmp(got, want, len),
              "%s%s: direct batch invocation differs", where, scored ? " with scores" : "");
        ok &= same;
        json_decref(res);
        free(direct);
        free(evs);
        json_decref(ev);
        free(b);
        json_decref(batch);
        free(want);
    }
    return ok;
}

/* Every text of a shared reference file, in batches of FN_MAX_BATCH. */
static void reference_batches(fn_ctx *c)
{
    const char *shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
    char path[4096];
    snprintf(path, sizeof path, "%s/data/reference/wnut17.dev.jsonl", shared);
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("test_handler: %s not found: reference batches skipped\n", path);
        return;
    }
    char *line = NULL;
    size_t lcap = 0, total = 0, batches = 0;
    ssize_t n;
    json_t *texts = json_array();
    for (;;) {
        n = getline(&line, &lcap, f);
        if (n > 0) {
            json_error_t je;
            json_t *j = json_loadb(line, (size_t)n, 0, &je);
            json_t *t = json_object_get(j, "text");
            CHECK(json_is_string(t), "%s: a line without text", path);
            if (json_is_string(t))
                json_array_append(texts, t);
            json_decref(j);
        }
        if (json_array_size(texts) == FN_MAX_BATCH || (n <= 0 && json_array_size(texts))) {
            total += json_array_size(texts);
            batches++;
            check_batch(c, texts, path);
            json_array_clear(texts);
        }
        if (n <= 0)
            break;
    }
    printf("test_handler: %s: %zu texts in %zu batches, each the same as its texts one by one\n",
           path, total, batches);
    CHECK(total > 1000 && batches == (total + FN_MAX_BATCH - 1) / FN_MAX_BATCH,
          "%zu reference texts in %zu batches", total, batches);
    json_decref(texts);
    free(line);
    fclose(f);
}

static void *thread_main(void *arg)
{
    (void)arg;
    fn_ctx *c;
    int bad = fn_ctx_new(app, &c);
    static const char body[] = "{\"text\":\"Alan Turing was born in London.\"}";
    for (int i = 0; i < 200 && !bad; i++) {
        fn_response r;
        post(c, body, sizeof body - 1, &r);
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
    CHECK(fn_app_new(model, 0, 0, &app, err, sizeof err) == 0, "model: %s", err);
    if (!app || fn_ctx_new(app, &c))
        return check_done("test_handler");
    cases(c, "tests/data/function/handler.cases");
    limits(c);
    batch_limits(c);
    reference_batches(c);
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
