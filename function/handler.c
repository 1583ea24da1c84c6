/*
 * The NER function's handler (see handler.h): routing, the JSON contract
 * (one text, or a batch of texts checked whole before any is run), the
 * scores option (query or body), errors, and the Lambda event and result
 * shapes.  Requests are parsed with jansson; responses are written by hand
 * into the context's buffer, which one request's answers (a batch's too)
 * reuse: no allocation per text or entity once it has grown.
 */
#define _DEFAULT_SOURCE
#include "handler.h"

#include <jansson.h>
#include <stdarg.h>
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

typedef struct buf {
    char *p;
    size_t len, cap;
    int oom;
} buf;

struct fn_ctx {
    const fn_app *app;
    ner_ctx *ner;
    buf out;    /* the HTTP body */
    buf res;    /* the Lambda result */
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
    *out = c;
    return FN_OK;
}

void fn_ctx_free(fn_ctx *c)
{
    if (!c)
        return;
    ner_ctx_free(c->ner);
    free(c->out.p);
    free(c->res.p);
    free(c->dec);
    free(c);
}

/* ---- output buffer -------------------------------------------------------- */

static void reserve(buf *b, size_t more)
{
    if (b->oom || b->len + more + 1 <= b->cap)
        return;
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < b->len + more + 1)
        nc *= 2;
    if (nc > OUT_CAP) {
        b->oom = 1;
        return;
    }
    char *p = realloc(b->p, nc);
    if (!p) {
        b->oom = 1;
        return;
    }
    b->p = p;
    b->cap = nc;
}

static void put(buf *b, const char *s, size_t n)
{
    reserve(b, n);
    if (b->oom)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }

static void putu(buf *b, unsigned long v)
{
    char t[24];
    int n = snprintf(t, sizeof t, "%lu", v);
    put(b, t, (size_t)n);
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t k = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (!k || s[0] > 0xf4 || k > n)
        return 0;
    for (size_t i = 1; i < k; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
        return 0; /* overlong, surrogate, or beyond U+10FFFF */
    return k;
}

/* Appends s[0..n) as the inside of a JSON string: valid UTF-8 passes
 * through, invalid bytes become U+FFFD, controls are escaped. */
static void put_escaped(buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    reserve(b, n + n / 8 + 16);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = u[i];
        if (ch >= 0x80) {
            size_t k = utf8_len(u + i, n - i);
            if (k) {
                i += k - 1;
                continue;
            }
            put(b, s + run, i - run);
            run = i + 1;
            put(b, "\\ufffd", 6);
            continue;
        }
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        put(b, s + run, i - run);
        run = i + 1;
        char e[6] = {'\\', 0, 0, 0, 0, 0};
        size_t k = 2;
        switch (ch) {
        case '"': e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        default:
            e[1] = 'u', e[2] = '0', e[3] = '0', e[4] = hex[ch >> 4], e[5] = hex[ch & 15];
            k = 6;
        }
        put(b, e, k);
    }
    put(b, s + run, n - run);
}

/* ---- responses -------------------------------------------------------------- */

static const char JSON_CT[] = "application/json";

static void error(fn_ctx *c, fn_response *r, int status, const char *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void error(fn_ctx *c, fn_response *r, int status, const char *err, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->out.len = 0;
    c->out.oom = 0;
    puts_(&c->out, "{\"error\":\"");
    puts_(&c->out, err);
    puts_(&c->out, "\",\"message\":\"");
    put_escaped(&c->out, msg, strlen(msg));
    puts_(&c->out, "\"}");
    r->status = status;
    r->content_type = JSON_CT;
    r->body = c->out.oom ? "{\"error\":\"InternalError\",\"message\":\"out of memory\"}" : c->out.p;
    r->body_len = c->out.oom ? strlen(r->body) : c->out.len;
}

static int media_is_json(const char *ct, size_t n)
{
    size_t e = 0;
    while (e < n && ct[e] != ';')
        e++;
    while (e > 0 && (ct[e - 1] == ' ' || ct[e - 1] == '\t'))
        e--;
    size_t s = 0;
    while (s < e && (ct[s] == ' ' || ct[s] == '\t'))
        s++;
    size_t l = e - s;
    if (l == 16 && !strncasecmp(ct + s, "application/json", 16))
        return 1;
    return l > 5 && !strncasecmp(ct + e - 5, "+json", 5) && memchr(ct + s, '/', l);
}

/* Appends {"entities":[...]} for d (offsets into text); with scores, each
 * entity also has "score" (4 decimals). */
static void put_entities(fn_ctx *c, buf *b, const char *text, const ner_doc *d)
{
    puts_(b, "{\"entities\":[");
    for (size_t i = 0; i < d->n_ents; i++) {
        const ner_span *s = &d->ents[i];
        puts_(b, i ? ",{\"text\":\"" : "{\"text\":\"");
        put_escaped(b, text + s->byte_start, s->byte_end - s->byte_start);
        puts_(b, "\",\"label\":\"");
        puts_(b, ner_model_label(c->app->model, s->label));
        puts_(b, "\",\"start\":");
        putu(b, s->start);
        puts_(b, ",\"end\":");
        putu(b, s->end);
        if (d->scores) {
            char t[32];
            int n = snprintf(t, sizeof t, ",\"score\":%.4f", (double)d->scores[i]);
            put(b, t, (size_t)n);
        }
        put(b, "}", 1);
    }
    puts_(b, "]}");
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
    buf *b = &c->out;
    b->len = 0;
    b->oom = 0;
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
    buf *b = &c->out;
    b->len = 0;
    b->oom = 0;
    puts_(b, "{\"results\":[");
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
            put(b, ",", 1);
        put_entities(c, b, text, &d);
        if (b->oom)
            break;
    }
    puts_(b, "]}");
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

static int hexval(int ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                                             : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* Percent-decodes s[0..n) ('+' is a space) into o (cap bytes); the decoded
 * length, or cap + 1 when it does not fit (no match for a short name). */
static size_t pct_decode(const char *s, size_t n, char *o, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++, k++) {
        if (k == cap)
            return cap + 1;
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)s[i + 2])) >= 0) {
            o[k] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            o[k] = s[i] == '+' ? ' ' : s[i];
        }
    }
    return k;
}

/* The scores parameter of a raw query string (the last one counts). */
static int query_scores(const char *q, size_t n)
{
    int st = QS_ABSENT;
    size_t i = 0;
    while (q && i < n) {
        size_t e = i;
        while (e < n && q[e] != '&')
            e++;
        size_t eqp = i;
        while (eqp < e && q[eqp] != '=')
            eqp++;
        char key[8], val[8];
        size_t kl = pct_decode(q + i, eqp - i, key, sizeof key);
        if (kl == 6 && !memcmp(key, "scores", 6)) {
            size_t vl = eqp < e ? pct_decode(q + eqp + 1, e - eqp - 1, val, sizeof val) : 0;
            st = vl > sizeof val ? QS_BAD : scores_value(val, vl);
        }
        i = e + 1;
    }
    return st;
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
        if (content_type && !media_is_json(content_type, ct_len)) {
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
    route(c, method, method_len, path, path_len, query_scores(query, query_len), content_type,
          ct_len, body, body_len, r);
}

/* ---- Lambda events ---------------------------------------------------------- */

static int b64val(int ch)
{
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+' || ch == '-') return 62;
    if (ch == '/' || ch == '_') return 63;
    return -1;
}

/* Decodes base64 (standard or URL alphabet, padding optional); -1 if bad. */
static long b64_decode(const char *s, size_t n, char *o)
{
    size_t k = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=')
            break;
        if (s[i] == '\n' || s[i] == '\r')
            continue;
        int v = b64val((unsigned char)s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[k++] = (char)((acc >> bits) & 0xff);
        }
    }
    return (long)k;
}

static const char *str_at(json_t *o, const char *k, size_t *len)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v))
        return NULL;
    if (len)
        *len = json_string_length(v);
    return json_string_value(v);
}

/* Builds {"statusCode":..,"headers":{..},"body":".."} from r. */
static int result(fn_ctx *c, const fn_response *r, const char **out, size_t *out_len)
{
    buf *b = &c->res;
    b->len = 0;
    b->oom = 0;
    puts_(b, "{\"statusCode\":");
    putu(b, (unsigned long)r->status);
    puts_(b, ",\"headers\":{\"content-type\":\"");
    puts_(b, r->content_type ? r->content_type : JSON_CT);
    put(b, "\"", 1);
    if (r->allow) {
        puts_(b, ",\"allow\":\"");
        puts_(b, r->allow);
        put(b, "\"", 1);
    }
    puts_(b, "},\"isBase64Encoded\":false,\"body\":\"");
    put_escaped(b, r->body ? r->body : "", r->body_len);
    puts_(b, "\"}");
    if (b->oom)
        return FN_ENOMEM;
    *out = b->p;
    *out_len = b->len;
    return FN_OK;
}

int fn_lambda(fn_ctx *c, const char *event, size_t len, const char **out, size_t *out_len)
{
    fn_response r;
    memset(&r, 0, sizeof r);
    json_error_t je;
    json_t *ev = json_loadb(event, len, JSON_ALLOW_NUL, &je);
    if (!ev) {
        error(c, &r, 400, "InvalidJSON", "the event is not valid JSON: %s", je.text);
        return result(c, &r, out, out_len);
    }
    json_t *rc = json_object_get(ev, "requestContext");
    const char *method = NULL, *path = NULL;
    size_t ml = 0, pl = 0;
    if (json_is_object(rc)) {
        json_t *http = json_object_get(rc, "http");
        method = str_at(http, "method", &ml); /* payload 2.0 */
        path = str_at(ev, "rawPath", &pl);
        if (!method) /* payload 1.0 (REST API, HTTP API 1.0) */
            method = str_at(ev, "httpMethod", &ml);
        if (!path)
            path = str_at(ev, "path", &pl);
    }
    if (!method || !path) {
        /* a direct invocation: the event is the body of POST /ner */
        ner_json(c, ev, QS_ABSENT, &r);
        json_decref(ev);
        return result(c, &r, out, out_len);
    }
    const char *ct = NULL;
    size_t ctl = 0;
    json_t *h = json_object_get(ev, "headers");
    const char *k;
    json_t *v;
    json_object_foreach(h, k, v) {
        if (!strcasecmp(k, "content-type") && json_is_string(v)) {
            ct = json_string_value(v);
            ctl = json_string_length(v);
        }
    }
    size_t bl = 0;
    const char *body = str_at(ev, "body", &bl);
    if (body && json_is_true(json_object_get(ev, "isBase64Encoded"))) {
        free(c->dec);
        c->dec = malloc(bl / 4 * 3 + 4);
        long n = c->dec ? b64_decode(body, bl, c->dec) : -1;
        if (n < 0) {
            error(c, &r, 400, "InvalidRequest", "the body is not valid base64");
            json_decref(ev);
            return result(c, &r, out, out_len);
        }
        body = c->dec;
        bl = (size_t)n;
    }
    /* the query: payload 2.0's rawQueryString, else 1.0's decoded
     * queryStringParameters */
    size_t ql = 0;
    const char *q = str_at(ev, "rawQueryString", &ql);
    int qs = QS_ABSENT;
    if (q) {
        qs = query_scores(q, ql);
    } else {
        const char *sv = str_at(json_object_get(ev, "queryStringParameters"), "scores", &ql);
        if (sv)
            qs = scores_value(sv, ql);
    }
    route(c, method, ml, path, pl, qs, ct, ctl, body, bl, &r);
    int rc2 = result(c, &r, out, out_len);
    json_decref(ev);
    return rc2;
}
