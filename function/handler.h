/*
 * The NER function's request handling, shared by its two front ends: the
 * Lambda custom runtime (events in, payload 2.0 results out) and the HTTP
 * mode (requests in, responses out).  Routes: POST /ner {"text": "..."} →
 * {"entities":[{"text","label","start","end"}]} with Unicode code point
 * offsets; POST /ner {"texts": [...]} (a batch of at most FN_MAX_BATCH
 * texts, the text limit in bytes together) → {"results":[{"entities":[...]},
 * ...]} in order; with ?scores=1 or "scores": true each entity also has a
 * "score" (NER_SCORES in nerd/ner.h); GET / → the web page; GET /healthz.
 * Errors are JSON {"error","message"} with their status: 400 invalid JSON,
 * request or text (a batch's bad item named by its index, "texts[3]: ..."),
 * 404, 405 (with Allow), 413, 415.
 *
 * One fn_app per process holds the model (loaded once, at init); each
 * thread has its own fn_ctx (NER scratch space and an output buffer).
 */
#ifndef NERD_FUNCTION_HANDLER_H
#define NERD_FUNCTION_HANDLER_H

#include <stddef.h>

#include "fnhttp.h"

#define FN_DEFAULT_MAX_TEXT ((size_t)1 << 20) /* bytes of text accepted */
#define FN_MAX_EVENT ((size_t)6291556)         /* Lambda's payload cap */
#define FN_MAX_BATCH 256                        /* texts in one {"texts": [...]} */

typedef enum fn_err {
    FN_OK = 0,
    FN_ENOMEM,   /* out of memory, or an output over its cap */
    FN_EMODEL,   /* the model cannot be loaded */
    FN_EINTERNAL /* the engine failed */
} fn_err;

/* Returns a static message for an fn_err (never NULL). */
const char *fn_strerror(int err);

typedef struct fn_app fn_app;
typedef struct fn_ctx fn_ctx;

/* Loads the model at model_path (mmap, read-only).  max_text: largest text
 * in bytes (0 = FN_DEFAULT_MAX_TEXT).  model_flags: ner_model_open()'s (0,
 * or NER_MODEL_TRUSTED for a package whose integrity is already checked).
 * On failure returns FN_EMODEL with a message in err.  The app is immutable
 * afterwards and may be shared by threads. */
int fn_app_new(const char *model_path, size_t max_text, unsigned model_flags, fn_app **out,
               char *err, size_t errlen);

/* fn_app_free(NULL) is a no-op.  Free every context first. */
void fn_app_free(fn_app *a);

/* The configured text limit (bytes of one text, or of a batch's texts
 * together). */
size_t fn_app_max_text(const fn_app *a);

/* The largest request body read (and parsed) for that limit: every text
 * byte escaped as \u00XX, plus room for a batch's quotes, commas and
 * layout.  Larger bodies get 413 before parsing. */
size_t fn_app_max_body(const fn_app *a);

/* A per-thread context.  Returns FN_OK or FN_ENOMEM. */
int fn_ctx_new(const fn_app *a, fn_ctx **out);
void fn_ctx_free(fn_ctx *c);

/* An HTTP answer (fnhttp.h).  body points into the context (or static
 * data) and stays valid until the next call on the context. */
typedef fh_response fn_response;

/* Handles one HTTP request.  method/path: as received (path without its
 * query string); query: the query string without its "?" (NULL or empty:
 * none; only "scores" is read, percent-decoded, other parameters are
 * ignored); content_type may be NULL (absent); body may be NULL.  Never
 * fails: internal errors become 500 responses. */
void fn_http(fn_ctx *c, const char *method, size_t method_len, const char *path,
             size_t path_len, const char *query, size_t query_len, const char *content_type,
             size_t ct_len, const char *body, size_t body_len, fn_response *out);

/* Handles one Lambda event: an API Gateway payload 2.0 (or 1.0) event (the
 * query from rawQueryString, or 1.0's queryStringParameters), or a direct
 * invocation such as {"text": "..."} or {"texts": [...], "scores": true}
 * (handled as POST /ner with the event as its body).  *out, *out_len: the payload 2.0 structured result
 * {"statusCode","headers","body"} (valid until the next call).  Returns
 * FN_OK, or FN_ENOMEM when the result cannot be built. */
int fn_lambda(fn_ctx *c, const char *event, size_t len, const char **out, size_t *out_len);

/* The embedded web page (web/index.html). */
extern const unsigned char fn_page[];
extern const size_t fn_page_len;

#endif
