/*
 * Minimal test harness for nerd's C tests: CHECK records a pass or a
 * failure (with file:line and a message), check_done() prints the closing
 * "N passed, N failed" line and returns the exit status.
 */
#ifndef NERD_CHECK_H
#define NERD_CHECK_H

#include <stdio.h>
#include <stddef.h>

static int check_pass_, check_fail_;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) {                                                        \
            check_pass_++;                                                 \
        } else {                                                           \
            check_fail_++;                                                 \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);           \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

static inline int check_done(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_pass_, check_fail_);
    return check_fail_ ? 1 : 0;
}

/* Decodes the C escapes \n \r \t \xHH and \<char> of the data-driven
 * test files into out (at most strlen(s) bytes); returns the length. */
static inline size_t check_unescape(const char *s, char *out)
{
    size_t o = 0;
    for (; *s; s++) {
        if (*s != '\\' || !s[1]) {
            out[o++] = *s;
            continue;
        }
        s++;
        switch (*s) {
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'x': {
            unsigned v = 0;
            if (sscanf(s + 1, "%2x", &v) == 1)
                s += 2;
            out[o++] = (char)v;
            break;
        }
        default: out[o++] = *s;
        }
    }
    return o;
}

#endif
