/*
 * HTTP and JSON helpers shared by the functions' handlers (see fnhttp.h):
 * the output buffer, JSON escaping, error bodies, decoders, query strings,
 * and the API Gateway event and result shapes.
 */
#define _DEFAULT_SOURCE
#include "fnhttp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_MAX ((size_t)64 << 20)

/* ---- output buffer ------------------------------------------------------- */

void fh_buf_reset(fh_buf *b)
{
    b->len = 0;
    b->oom = 0;
    if (b->p)
        b->p[0] = 0;
}

void fh_buf_free(fh_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

static void reserve(fh_buf *b, size_t more)
{
    if (b->oom || b->len + more + 1 <= b->cap)
        return;
    size_t max = b->max ? b->max : DEFAULT_MAX;
    if (more > max || b->len + more + 1 > max) {
        b->oom = 1;
        return;
    }
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < b->len + more + 1)
        nc *= 2;
    if (nc > max)
        nc = max;
    char *p = realloc(b->p, nc);
    if (!p) {
        b->oom = 1;
        return;
    }
    b->p = p;
    b->cap = nc;
}

void fh_put(fh_buf *b, const char *s, size_t n)
{
    reserve(b, n);
    if (b->oom)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void fh_puts(fh_buf *b, const char *s) { fh_put(b, s, strlen(s)); }

void fh_putu(fh_buf *b, unsigned long v)
{
    char t[24];
    int n = snprintf(t, sizeof t, "%lu", v);
    fh_put(b, t, (size_t)n);
}

size_t fh_utf8_len(const unsigned char *s, size_t n)
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

void fh_put_escaped(fh_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    reserve(b, n + n / 8 + 16);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = u[i];
        if (ch >= 0x80) {
            size_t k = fh_utf8_len(u + i, n - i);
            if (k) {
                i += k - 1;
                continue;
            }
            fh_put(b, s + run, i - run);
            run = i + 1;
            fh_put(b, "\\ufffd", 6);
            continue;
        }
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        fh_put(b, s + run, i - run);
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
        fh_put(b, e, k);
    }
    fh_put(b, s + run, n - run);
}

/* ---- errors and media types ------------------------------------------------ */

void fh_error(fh_buf *out, fh_response *r, int status, const char *err, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fh_buf_reset(out);
    fh_puts(out, "{\"error\":\"");
    fh_puts(out, err);
    fh_puts(out, "\",\"message\":\"");
    fh_put_escaped(out, msg, strlen(msg));
    fh_puts(out, "\"}");
    r->status = status;
    r->content_type = "application/json";
    r->body = out->oom ? "{\"error\":\"InternalError\",\"message\":\"out of memory\"}" : out->p;
    r->body_len = strlen(r->body);
}

int fh_media_is_json(const char *ct, size_t n)
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

/* ---- decoders ---------------------------------------------------------------- */

static int hexval(int ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                                             : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

size_t fh_pct_decode(const char *s, size_t n, char *o, size_t cap)
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

static int b64val(int ch)
{
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+' || ch == '-') return 62;
    if (ch == '/' || ch == '_') return 63;
    return -1;
}

long fh_b64_decode(const char *s, size_t n, char *o)
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

long fh_query_get(const char *q, size_t n, const char *key, char *val, size_t cap)
{
    size_t kl = strlen(key);
    long found = -1;
    char name[64];
    size_t i = 0;
    if (kl > sizeof name)
        return -1;
    while (q && i < n) {
        size_t e = i;
        while (e < n && q[e] != '&')
            e++;
        size_t eqp = i;
        while (eqp < e && q[eqp] != '=')
            eqp++;
        size_t nl = fh_pct_decode(q + i, eqp - i, name, kl);
        if (nl == kl && !memcmp(name, key, kl))
            found = eqp < e ? (long)fh_pct_decode(q + eqp + 1, e - eqp - 1, val, cap) : 0;
        i = e + 1;
    }
    return found;
}

/* ---- API Gateway events and results ------------------------------------------- */

static const char *str_at(json_t *o, const char *k, size_t *len)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v))
        return NULL;
    *len = json_string_length(v);
    return json_string_value(v);
}

int fh_event_parse(json_t *ev, fh_event *e, char **dec)
{
    memset(e, 0, sizeof *e);
    json_t *rc = json_object_get(ev, "requestContext");
    if (!json_is_object(rc))
        return FH_EV_DIRECT;
    e->method = str_at(json_object_get(rc, "http"), "method", &e->method_len); /* 2.0 */
    e->path = str_at(ev, "rawPath", &e->path_len);
    if (e->method && e->path) {
        /* a named stage starts 2.0's rawPath: /{stage}/route */
        size_t sl = 0;
        const char *st = str_at(rc, "stage", &sl);
        if (st && sl && strcmp(st, "$default") && e->path_len > sl && e->path[0] == '/' &&
            !memcmp(e->path + 1, st, sl) && (e->path_len == sl + 1 || e->path[sl + 1] == '/')) {
            e->path += sl + 1;
            e->path_len -= sl + 1;
            if (!e->path_len)
                e->path = "/", e->path_len = 1;
        }
    }
    if (!e->method) /* payload 1.0 (REST API, HTTP API 1.0) */
        e->method = str_at(ev, "httpMethod", &e->method_len);
    if (!e->path)
        e->path = str_at(ev, "path", &e->path_len);
    if (!e->method || !e->path)
        return FH_EV_DIRECT;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(ev, "headers"), k, v) {
        if (!strcasecmp(k, "content-type") && json_is_string(v)) {
            e->content_type = json_string_value(v);
            e->ct_len = json_string_length(v);
        }
    }
    e->body = str_at(ev, "body", &e->body_len);
    if (e->body && json_is_true(json_object_get(ev, "isBase64Encoded"))) {
        free(*dec);
        *dec = malloc(e->body_len / 4 * 3 + 4);
        long n = *dec ? fh_b64_decode(e->body, e->body_len, *dec) : -1;
        if (n < 0)
            return FH_EV_BADB64;
        e->body = *dec;
        e->body_len = (size_t)n;
    }
    e->query = str_at(ev, "rawQueryString", &e->query_len);
    if (!e->query) {
        json_t *qp = json_object_get(ev, "queryStringParameters");
        e->qparams = json_is_object(qp) ? qp : NULL;
    }
    return FH_EV_HTTP;
}

long fh_event_query(const fh_event *e, const char *key, char *val, size_t cap)
{
    if (e->query)
        return fh_query_get(e->query, e->query_len, key, val, cap);
    json_t *v = json_object_get(e->qparams, key);
    if (!json_is_string(v))
        return -1;
    size_t n = json_string_length(v);
    if (n > cap)
        return (long)cap + 1;
    memcpy(val, json_string_value(v), n);
    return (long)n;
}

int fh_result(fh_buf *b, const fh_response *r)
{
    fh_buf_reset(b);
    fh_puts(b, "{\"statusCode\":");
    fh_putu(b, (unsigned long)r->status);
    fh_puts(b, ",\"headers\":{\"content-type\":\"");
    fh_puts(b, r->content_type ? r->content_type : "application/json");
    fh_put(b, "\"", 1);
    if (r->allow) {
        fh_puts(b, ",\"allow\":\"");
        fh_puts(b, r->allow);
        fh_put(b, "\"", 1);
    }
    fh_puts(b, "},\"isBase64Encoded\":false,\"body\":\"");
    fh_put_escaped(b, r->body ? r->body : "", r->body_len);
    fh_puts(b, "\"}");
    return b->oom ? -1 : 0;
}
