/*
 * Minimal test harness for nerd's C tests: CHECK records a pass or a
 * failure (with file:line and a message), check_done() prints the closing
 * "N passed, N failed" line and returns the exit status.
 */
#ifndef NERD_CHECK_H
#define NERD_CHECK_H

#include <stdio.h>

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

#endif
