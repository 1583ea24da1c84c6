/*
 * The NER function's handler (see handler.h): routing, the JSON contract
 * (one text, or a batch of texts checked whole before any is run), the
 * scores option (query or body), errors, and the Lambda event and result
 * shapes (fnhttp.h, shared with the products function).  Requests are
 * parsed with jansson; responses are written by hand into the context's
 * buffer, which one request's answers (a batch's too)
 * reuse: no allocation per text or entity once it has grown.
 */
#define _DEFAULT_SOURCE
#include "handler.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nerd/ner.h"

#define OUT_CAP ((size_t)96 << 20) /* largest response built */

struct fn_app {
    ner_model *model;
    size_t max_text;
};

struct fn_ctx {
    const fn_app *app;
    ner_ctx *ner;
    fh_buf out; /* the HTTP body */
    fh_buf res; /* the Lambda result */
    char *dec;  /* a base64-decoded event body */
};

const char *fn_strerror(int err)
{
    switch (err) {
    case FN_OK: return "success";
    case FN_ENOMEM: return "out of memory";
    case FN_EMODEL: return "the model cannot be loaded";
    case FN_EINTERNAL: return "internal error in the engine";
    default: return "unknown error";
    }
}

int fn_app_new(const char *model_path, size_t max_text, unsigned model_flags, fn_app **out,
               char *err, size_t errlen)
{
    *out = NULL;
    fn_app *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return FN_ENOMEM;
    }
    int rc = ner_model_open(model_path, model_flags, &a->model);
    if (rc) {
        snprintf(err, errlen, "%s: %s", model_path, ner_strerror(rc));
        free(a);
        return FN_EMODEL;
    }
    a->max_text = max_text ? max_text : FN_DEFAULT_MAX_TEXT;
    if (a->max_text > NER_MAX_TEXT)
        a->max_text = NER_MAX_TEXT;
    *out = a;
    return FN_OK;
}

void fn_app_free(fn_app *a)
{
    if (!a)
        return;
    ner_model_free(a->model);
    free(a);
}

size_t fn_app_max_text(const fn_app *a) { return a->max_text; }

size_t fn_app_max_body(const fn_app *a) { return a->max_text * 6 + 1024 + 16 * FN_MAX_BATCH; }

int fn_ctx_new(const fn_app *a, fn_ctx **out)
{
    *out = NULL;
    fn_ctx *c = calloc(1, sizeof *c);
    if (!c || ner_ctx_new(a->model, &c->ner)) {
        free(c);
        return FN_ENOMEM;
    }
    c->app = a;
    c->out.max = OUT_CAP;
    c->res.max = OUT_CAP;
    *out = c;
    return FN_OK;
}

void fn_ctx_free(fn_ctx *c)
{
    if (!c)
        return;
    ner_ctx_free(c->ner);
    fh_buf_free(&c->out);
    fh_buf_free(&c->res);
    free(c->dec);
    free(c);
}

/* ---- responses -------------------------------------------------------------- */

static const char JSON_CT[] = "application/json";

/* An error answer {"error","message"} in c's output buffer (fh_error). */
#define error(c, r, ...) fh_error(&(c)->out, r, __VA_ARGS__)

/* Appends {"entities":[...]} for d (offsets into text); with scores, each
 * entity also has "score" (4 decimals). */
static void put_entities(fn_ctx *c, fh_buf *b, const char *text, const ner_doc *d)
{
    fh_puts(b, "{\"entities\":[");
    for (size_t i = 0; i < d->n_ents; i++) {
        const ner_span *s = &d->ents[i];
        fh_puts(b, i ? ",{\"text\":\"" : "{\"text\":\"");
        fh_put_escaped(b, text + s->byte_start, s->byte_end - s->byte_start);
        fh_puts(b, "\",\"label\":\"");
        fh_puts(b, ner_model_label(c->app->model, s->label));
        fh_puts(b, "\",\"start\":");
        fh_putu(b, s->start);
        fh_puts(b, ",\"end\":");
        fh_putu(b, s->end);
        if (d->scores) {
            char t[32];
            int n = snprintf(t, sizeof t, ",\"score\":%.4f", (double)d->scores[i]);
            fh_put(b, t, (size_t)n);
        }
        fh_put(b, "}", 1);
    }
    fh_puts(b, "]}");
}

/* Sets r to the 200 answer in c->out, or to a 500 if it outgrew its cap. */
static void answer(fn_ctx *c, fn_response *r)
{
    if (c->out.oom) {
        error(c, r, 500, "InternalError", "the response is too large");
        return;
    }
    r->status = 200;
    r->content_type = JSON_CT;
    r->body = c->out.p;
    r->body_len = c->out.len;
}

/* POST /ner {"text": ...} with the text already extracted. */
static void ner(fn_ctx *c, const char *text, size_t len, unsigned flags, fn_response *r)
{
    if (len > c->app->max_text) {
        error(c, r, 413, "PayloadTooLarge", "text is %zu bytes; the limit is %zu bytes", len,
              c->app->max_text);
        return;
    }
    ner_doc d;
    int rc = ner_extract_ex(c->ner, text, len, flags, &d);
    if (rc == NER_EUTF8) {
        error(c, r, 400, "InvalidText", "text is not valid UTF-8");
        return;
    }
    if (rc) {
        error(c, r, 500, "InternalError", "%s", ner_strerror(rc));
        return;
    }
    fh_buf *b = &c->out;
    fh_buf_reset(b);
    put_entities(c, b, text, &d);
    answer(c, r);
}

/* POST /ner {"texts": [...]}: every item checked first (a string; the
 * count and the bytes together within their limits), then each text run in
 * order into one {"results":[...]}. */
static void ner_batch(fn_ctx *c, json_t *texts, unsigned flags, fn_response *r)
{
    if (!json_is_array(texts)) {
        error(c, r, 400, "InvalidRequest", "\"texts\" must be an array of strings");
        return;
    }
    size_t n = json_array_size(texts), total = 0;
    if (n > FN_MAX_BATCH) {
        error(c, r, 413, "PayloadTooLarge", "texts has %zu items; the limit is %d texts", n,
              FN_MAX_BATCH);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(texts, i);
        if (!json_is_string(t)) {
            error(c, r, 400, "InvalidText", "texts[%zu]: must be a string", i);
            return;
        }
        total += json_string_length(t);
    }
    if (total > c->app->max_text) {
        error(c, r, 413, "PayloadTooLarge", "texts are %zu bytes together; the limit is %zu bytes",
              total, c->app->max_text);
        return;
    }
    fh_buf *b = &c->out;
    fh_buf_reset(b);
    fh_puts(b, "{\"results\":[");
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(texts, i);
        const char *text = json_string_value(t);
        ner_doc d;
        int rc = ner_extract_ex(c->ner, text, json_string_length(t), flags, &d);
        if (rc == NER_EUTF8) {
            error(c, r, 400, "InvalidText", "texts[%zu]: not valid UTF-8", i);
            return;
        }
        if (rc) {
            error(c, r, 500, "InternalError", "texts[%zu]: %s", i, ner_strerror(rc));
            return;
        }
        if (i)
            fh_put(b, ",", 1);
        put_entities(c, b, text, &d);
        if (b->oom)
            break;
    }
    fh_puts(b, "]}");
    answer(c, r);
}

/* The "scores" query parameter: QS_ABSENT, QS_OFF, QS_ON or QS_BAD. */
enum { QS_ABSENT = -1, QS_OFF = 0, QS_ON = 1, QS_BAD = 2 };

/* A scores value: "", "1" or "true" (any case) on; "0" or "false" off. */
static int scores_value(const char *v, size_t n)
{
    if (n == 0 || (n == 1 && v[0] == '1') || (n == 4 && !strncasecmp(v, "true", 4)))
        return QS_ON;
    if ((n == 1 && v[0] == '0') || (n == 5 && !strncasecmp(v, "false", 5)))
        return QS_OFF;
    return QS_BAD;
}

/* The scores parameter of a request (the last one counts). */
static int query_scores(const fh_event *e)
{
    char val[8];
    long vl = fh_event_query(e, "scores", val, sizeof val);
    return vl < 0 ? QS_ABSENT : vl > (long)sizeof val ? QS_BAD : scores_value(val, (size_t)vl);
}

/* POST /ner with a parsed JSON body; qs: the query's scores parameter. */
static void ner_json(fn_ctx *c, json_t *j, int qs, fn_response *r)
{
    if (!json_is_object(j)) {
        error(c, r, 400, "InvalidRequest",
              "the body must be a JSON object with a \"text\" string or a \"texts\" array");
        return;
    }
    if (qs == QS_BAD) {
        error(c, r, 400, "InvalidRequest",
              "the query parameter scores must be 1, true, 0 or false");
        return;
    }
    json_t *sc = json_object_get(j, "scores");
    if (sc && !json_is_boolean(sc)) {
        error(c, r, 400, "InvalidRequest", "\"scores\" must be true or false");
        return;
    }
    unsigned flags = qs == QS_ON || json_is_true(sc) ? NER_SCORES : 0;
    json_t *t = json_object_get(j, "text"), *ts = json_object_get(j, "texts");
    if (t && ts) {
        error(c, r, 400, "InvalidRequest",
              "the body has both \"text\" and \"texts\"; send one text or one batch");
        return;
    }
    if (ts) {
        ner_batch(c, ts, flags, r);
        return;
    }
    if (!t) {
        error(c, r, 400, "MissingText", "the body has no \"text\" field (or \"texts\" for a batch)");
        return;
    }
    if (!json_is_string(t)) {
        error(c, r, 400, "InvalidText", "\"text\" must be a string");
        return;
    }
    ner(c, json_string_value(t), json_string_length(t), flags, r);
}

static int eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && !memcmp(s, lit, n);
}

/* fn_http() with the query's scores parameter already read (qs). */
static void route(fn_ctx *c, const char *method, size_t method_len, const char *path,
                  size_t path_len, int qs, const char *content_type, size_t ct_len,
                  const char *body, size_t body_len, fn_response *r)
{
    memset(r, 0, sizeof *r);
    int get = eq(method, method_len, "GET") || eq(method, method_len, "HEAD");
    if (eq(path, path_len, "/ner")) {
        if (eq(method, method_len, "OPTIONS")) {
            r->status = 204;
            r->allow = "POST, OPTIONS";
            r->body = "";
            return;
        }
        if (!eq(method, method_len, "POST")) {
            error(c, r, 405, "MethodNotAllowed", "%.*s is not allowed on /ner; use POST",
                  (int)(method_len < 16 ? method_len : 16), method);
            r->allow = "POST, OPTIONS";
            return;
        }
        if (content_type && !fh_media_is_json(content_type, ct_len)) {
            error(c, r, 415, "UnsupportedMediaType",
                  "Content-Type must be application/json, not %.*s",
                  (int)(ct_len < 100 ? ct_len : 100), content_type);
            return;
        }
        if (body_len > fn_app_max_body(c->app)) {
            error(c, r, 413, "PayloadTooLarge", "the body is %zu bytes; the text limit is %zu bytes",
                  body_len, c->app->max_text);
            return;
        }
        json_error_t je;
        json_t *j = json_loadb(body ? body : "", body_len, JSON_ALLOW_NUL, &je);
        if (!j) {
            error(c, r, 400, "InvalidJSON", "the body is not valid JSON: %s (at character %d)",
                  je.text, je.position);
            return;
        }
        ner_json(c, j, qs, r);
        json_decref(j);
        return;
    }
    if (eq(path, path_len, "/") || eq(path, path_len, "/index.html")) {
        if (!get) {
            error(c, r, 405, "MethodNotAllowed", "only GET is allowed on /");
            r->allow = "GET, HEAD";
            return;
        }
        r->status = 200;
        r->content_type = "text/html; charset=utf-8";
        r->body = (const char *)fn_page;
        r->body_len = fn_page_len;
        return;
    }
    if (eq(path, path_len, "/healthz")) {
        if (!get) {
            error(c, r, 405, "MethodNotAllowed", "only GET is allowed on /healthz");
            r->allow = "GET, HEAD";
            return;
        }
        r->status = 200;
        r->content_type = JSON_CT;
        r->body = "{\"status\":\"ok\"}";
        r->body_len = 15;
        return;
    }
    error(c, r, 404, "NotFound", "no route for %.*s %.*s", (int)(method_len < 16 ? method_len : 16),
          method, (int)(path_len < 200 ? path_len : 200), path);
}

void fn_http(fn_ctx *c, const char *method, size_t method_len, const char *path,
             size_t path_len, const char *query, size_t query_len, const char *content_type,
             size_t ct_len, const char *body, size_t body_len, fn_response *r)
{
    fh_event e = {.query = query, .query_len = query ? query_len : 0};
    route(c, method, method_len, path, path_len, query_scores(&e), content_type, ct_len, body,
          body_len, r);
}

/* ---- Lambda events ---------------------------------------------------------- */

int fn_lambda(fn_ctx *c, const char *event, size_t len, const char **out, size_t *out_len)
{
    fn_response r;
    memset(&r, 0, sizeof r);
    json_error_t je;
    json_t *ev = json_loadb(event, len, JSON_ALLOW_NUL, &je);
    fh_event e;
    if (!ev) {
        error(c, &r, 400, "InvalidJSON", "the event is not valid JSON: %s", je.text);
    } else {
        switch (fh_event_parse(ev, &e, &c->dec)) {
        case FH_EV_DIRECT: /* a direct invocation: the event is the body of POST /ner */
            ner_json(c, ev, QS_ABSENT, &r);
            break;
        case FH_EV_BADB64:
            error(c, &r, 400, "InvalidRequest", "the body is not valid base64");
            break;
        default:
            route(c, e.method, e.method_len, e.path, e.path_len, query_scores(&e), e.content_type,
                  e.ct_len, e.body, e.body_len, &r);
        }
    }
    int rc = fh_result(&c->res, &r) ? FN_ENOMEM : FN_OK;
    if (!rc) {
        *out = c->res.p;
        *out_len = c->res.len;
    }
    json_decref(ev);
    return rc;
}
