/*
 * A growable NUL-terminated string for lib/'s pattern rewriters
 * (tok_py2pcre, tok_fuse): appends never fail on their own; running out
 * of memory sets a sticky flag the caller checks once at the end.
 */
#ifndef NERD_SBUF_H
#define NERD_SBUF_H

#include <stdlib.h>
#include <string.h>

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static inline void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

#endif
