/*
 * JSON text writer (see jsonw.h).
 */
#include "jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jw_init(jw *w, size_t max)
{
    w->p = NULL;
    w->len = w->cap = 0;
    w->err = 0;
    w->max = max;
}

static int reserve(jw *w, size_t n)
{
    if (w->err)
        return -1;
    if (w->len + n + 1 <= w->cap)
        return 0;
    if (w->len + n + 1 > w->max) {
        w->err = 1;
        return -1;
    }
    size_t cap = w->cap ? w->cap * 2 : 1024;
    while (cap < w->len + n + 1)
        cap *= 2;
    if (cap > w->max)
        cap = w->max;
    char *p = realloc(w->p, cap);
    if (!p) {
        w->err = 1;
        return -1;
    }
    w->p = p;
    w->cap = cap;
    return 0;
}

void jw_raw(jw *w, const char *s, size_t n)
{
    if (reserve(w, n))
        return;
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

int jw_utf8(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        unsigned v;
        if (c >= 0xc2 && c <= 0xdf)
            k = 2, v = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            k = 3, v = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            k = 4, v = c & 0x07;
        else
            return 0;
        if (i + k > n)
            return 0;
        for (size_t j = 1; j < k; j++) {
            if ((u[i + j] & 0xc0) != 0x80)
                return 0;
            v = v << 6 | (u[i + j] & 0x3f);
        }
        if ((k == 3 && v < 0x800) || (k == 4 && v < 0x10000) || v > 0x10ffff ||
            (v >= 0xd800 && v <= 0xdfff))
            return 0;
        i += k;
    }
    return 1;
}

void jw_str_part(jw *w, const char *s, size_t n)
{
    if (!jw_utf8(s, n)) {
        w->err = 1;
        return;
    }
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        jw_raw(w, s + run, i - run);
        run = i + 1;
        char esc[8];
        switch (c) {
        case '"': jw_lit(w, "\\\""); break;
        case '\\': jw_lit(w, "\\\\"); break;
        case '\b': jw_lit(w, "\\b"); break;
        case '\f': jw_lit(w, "\\f"); break;
        case '\n': jw_lit(w, "\\n"); break;
        case '\r': jw_lit(w, "\\r"); break;
        case '\t': jw_lit(w, "\\t"); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04X", c);
            jw_raw(w, esc, 6);
        }
    }
    jw_raw(w, s + run, n - run);
}

void jw_str_begin(jw *w) { jw_lit(w, "\""); }
void jw_str_end(jw *w) { jw_lit(w, "\""); }

void jw_str(jw *w, const char *s, size_t n)
{
    jw_str_begin(w);
    jw_str_part(w, s, n);
    jw_str_end(w);
}

void jw_int(jw *w, long long v)
{
    char b[32];
    int n = snprintf(b, sizeof b, "%lld", v);
    jw_raw(w, b, (size_t)n);
}

char *jw_finish(jw *w, size_t *len)
{
    if (w->err || reserve(w, 0)) {
        free(w->p);
        w->p = NULL;
        return NULL;
    }
    w->p[w->len] = 0;
    if (len)
        *len = w->len;
    char *p = w->p;
    w->p = NULL;
    return p;
}
