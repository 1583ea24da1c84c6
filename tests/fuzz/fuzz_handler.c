/* libFuzzer target: the NER function's handler on arbitrary Lambda events
 * (fn_lambda: payload 2.0/1.0 events, base64 bodies, direct invocations)
 * and arbitrary HTTP bodies (fn_http POST /ner).  Must never crash, hang or
 * leak; every answer must be a result with a status in 200..599 whose body
 * is valid JSON where it says so.  Model: $NERD_MODEL or the bundled file. */
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
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *p = getenv("NERD_MODEL");
    char err[256];
    if (fn_app_new(p ? p : "models/en_core_web_sm-2.2.5.nerd", 4096, &A, err, sizeof err) ||
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
    fn_response h;
    fn_http(C, "POST", 4, "/ner", 4, "application/json", 16, (const char *)data, size, &h);
    if (h.status < 200 || h.status > 599)
        abort();
    if (h.status != 204) {
        json_error_t je;
        json_t *b = json_loadb(h.body, h.body_len, 0, &je);
        if (!b)
            abort(); /* /ner always answers JSON */
        json_decref(b);
    }
    return 0;
}
