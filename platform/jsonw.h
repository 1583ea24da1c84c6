/*
 * A small JSON text writer for the platform's hot paths (events built per
 * request): appends to a growing buffer, escapes strings as jansson's
 * compact dump does (\" \\ \b \f \n \r \t, other control characters as
 * \u00XX, everything else as is) and refuses text that is not UTF-8 (the
 * writer's error is then set and jw_finish() gives NULL), so its output
 * equals json_dumps(JSON_COMPACT | JSON_PRESERVE_ORDER) of the same value.
 * Not thread safe per writer; distinct writers are independent.
 */
#ifndef NERD_JSONW_H
#define NERD_JSONW_H

#include <stddef.h>

typedef struct jw {
    char *p;
    size_t len, cap;
    int err;        /* out of memory, over the cap, or text not UTF-8 */
    size_t max;     /* cap on the output, bytes */
} jw;

/* Starts an empty output of at most max bytes. */
void jw_init(jw *w, size_t max);

/* Appends s[0..n) as is (JSON punctuation, numbers, keys known safe). */
void jw_raw(jw *w, const char *s, size_t n);
#define jw_lit(w, s) jw_raw((w), (s), sizeof(s) - 1)

/* Appends s[0..n) as a JSON string (quotes included); sets the error when
 * it is not UTF-8. */
void jw_str(jw *w, const char *s, size_t n);

/* Appends a JSON string of s[0..n) followed by "," and t[0..m) (joined
 * header values) without copying them together. */
void jw_str_begin(jw *w);
void jw_str_part(jw *w, const char *s, size_t n);
void jw_str_end(jw *w);

void jw_int(jw *w, long long v);

/* 1 when s[0..n) is UTF-8 as jansson accepts it (no overlong forms, no
 * surrogates, nothing past U+10FFFF). */
int jw_utf8(const char *s, size_t n);

/* The NUL-terminated output (malloc'd, the caller frees it) and its
 * length, or NULL on error (the buffer is freed). */
char *jw_finish(jw *w, size_t *len);

#endif
