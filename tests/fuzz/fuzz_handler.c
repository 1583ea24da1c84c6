/* libFuzzer target: the NER function's handler on arbitrary Lambda events
 * (fn_lambda: payload 2.0/1.0 events with their query strings, base64
 * bodies, direct invocations, {"texts": [...]} batches, "scores") and
 * arbitrary HTTP bodies (fn_http POST /ner), then the input's first line
 * as a query string (?scores=...) and the rest as the body.  Must never
 * crash, hang or leak; every answer must be a result with a status in
 * 200..599 whose body is valid JSON where it says so, a 200 from /ner has
 * "entities" or, for a batch, as many "results" as texts, each entity with a
 * "score" in [0, 1] exactly when scores were asked.  Model: $NERD_MODEL or
 * the bundled file. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "handler.h"

/* the page, which the real build embeds from web/index.html */
const unsigned char fn_page[] = "<!doctype html><title>fuzz</title>";
const size_t fn_page_len = sizeof fn_page - 1;

static fn_app *A;
static fn_ctx *C;

int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An entities array: objects of 4 fields, or of 5 with a score in [0, 1];
 * *scored: -1 until the first entity says which, then every one agrees. */
static void check_entities(json_t *es, int *scored)
{
    size_t i;
    json_t *e;
    if (!json_is_array(es))
        abort();
    json_array_foreach(es, i, e) {
        json_t *sc = json_object_get(e, "score");
        if (*scored < 0)
            *scored = sc != NULL;
        if (json_object_size(e) != (*scored ? 5u : 4u) ||
            (*scored && (!json_is_real(sc) || json_real_value(sc) < 0 || json_real_value(sc) > 1)))
            abort();
    }
}

/* POST /ner with body[0..size) and the query q[0..ql), checked. */
static void post(const unsigned char *body, size_t size, const char *q, size_t ql)
{
    fn_response h;
    fn_http(C, "POST", 4, "/ner", 4, q, ql, "application/json", 16, (const char *)body, size, &h);
    if (h.status < 200 || h.status > 599)
        abort();
    json_error_t je;
    json_t *b = json_loadb(h.body, h.body_len, JSON_ALLOW_NUL, &je); /* texts may hold NULs */
    if (!b)
        abort(); /* /ner always answers JSON */
    if (h.status == 200) {
        json_t *req = json_loadb((const char *)body, size, JSON_ALLOW_NUL, &je);
        json_t *texts = json_object_get(req, "texts"), *rs = json_object_get(b, "results");
        json_t *sc = json_object_get(req, "scores");
        /* the body's "scores": true asks; without a query, false or none does not */
        int scored = json_is_true(sc) ? 1 : ql == 0 ? 0 : -1;
        size_t i;
        json_t *r;
        if (texts) {
            if (!json_is_array(rs) || json_array_size(rs) != json_array_size(texts))
                abort();
            json_array_foreach(rs, i, r)
                check_entities(json_object_get(r, "entities"), &scored);
        } else {
            check_entities(json_object_get(b, "entities"), &scored);
        }
        json_decref(req);
    }
    json_decref(b);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *p = getenv("NERD_MODEL");
    char err[256];
    if (fn_app_new(p ? p : "models/en_core_web_sm-2.2.5.nerd", 4096, 0, &A, err, sizeof err) ||
        fn_ctx_new(A, &C))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const char *out;
    size_t len;
    if (fn_lambda(C, (const char *)data, size, &out, &len) == FN_OK) {
        json_error_t je;
        json_t *r = json_loadb(out, len, 0, &je);
        if (!r)
            abort(); /* the result must always be JSON */
        json_int_t st = json_integer_value(json_object_get(r, "statusCode"));
        if (st < 200 || st > 599 || !json_is_string(json_object_get(r, "body")))
            abort();
        json_decref(r);
    }
    post(data, size, NULL, 0);
    const unsigned char *nl = memchr(data, '\n', size < 256 ? size : 256);
    if (nl)
        post(nl + 1, size - (size_t)(nl + 1 - data), (const char *)data, (size_t)(nl - data));
    return 0;
}
