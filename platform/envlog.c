/*
 * An environment's log: what its runtime writes (read from the output
 * pipe, logged line by line: a line longer than the buffer is cut, the
 * last one ends with the process), the platform's own lines (START, END,
 * REPORT, INIT_REPORT), the last 4 KB kept for the Invoke API's LogType
 * Tail, and the write(2)s of one loop iteration gathered into one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime_int.h"

/* Writes p[0..n) with write(2) (no stdio lock: environments on other
 * threads log at the same time; each call's bytes stay together). */
static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* The log lines this thread's environments wrote during one loop
 * iteration, written together when it ends (one write(2) instead of one
 * per line; each line, and each environment's START..REPORT, stays whole
 * and in order). */
typedef struct logbuf {
    int fd, scheduled;
    size_t len;
    char buf[65536];
} logbuf;
static __thread logbuf tlog;

void lam__log_flush(void *arg)
{
    (void)arg;
    logbuf *b = &tlog;
    if (b->len)
        write_all(b->fd, b->buf, b->len);
    b->len = 0;
    b->scheduled = 0;
}

/* Logs p[0..n) (and keeps it in the invocation's 4 KB tail). */
void lam__log_write(lam_env *e, const char *p, size_t n)
{
    if (n >= sizeof e->tail) {
        memcpy(e->tail, p + n - sizeof e->tail, sizeof e->tail);
        e->tail_len = sizeof e->tail;
    } else {
        if (e->tail_len + n > sizeof e->tail) {
            size_t drop = e->tail_len + n - sizeof e->tail;
            memmove(e->tail, e->tail + drop, e->tail_len - drop);
            e->tail_len -= drop;
        }
        memcpy(e->tail + e->tail_len, p, n);
        e->tail_len += n;
    }
    int fd = fileno(e->log);
    if (fd < 0) {
        fwrite(p, 1, n, e->log);
        fflush(e->log);
        return;
    }
    logbuf *b = &tlog;
    if (b->len && (b->fd != fd || b->len + n > sizeof b->buf))
        lam__log_flush(NULL);
    if (n > sizeof b->buf / 2 || (!b->scheduled && ev_defer(e->L, lam__log_flush, NULL) != 0)) {
        write_all(fd, p, n);
        return;
    }
    b->scheduled = 1;
    b->fd = fd;
    memcpy(b->buf + b->len, p, n);
    b->len += n;
}

void lam__logf(lam_env *e, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof buf) {
        lam__log_write(e, buf, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big)
        return;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    lam__log_write(e, big, (size_t)n);
    free(big);
}

void lam__flush_output(lam_env *e, int all)
{
    if (e->start_pending && e->line_len && e->inited > 0) { /* not init output */
        lam__logf(e, "START RequestId: %s Version: $LATEST\n", e->rid);
        e->start_pending = 0;
    }
    size_t k = e->line_len;
    while (k && e->line[k - 1] != '\n')
        k--;
    if (k) { /* every complete line in one write */
        lam__log_write(e, e->line, k);
        memmove(e->line, e->line + k, e->line_len - k);
        e->line_len -= k;
    }
    if ((all || e->line_len == sizeof e->line) && e->line_len) {
        if (e->line_len < sizeof e->line) {
            e->line[e->line_len++] = '\n';
            lam__log_write(e, e->line, e->line_len);
        } else {
            lam__log_write(e, e->line, e->line_len);
            lam__log_write(e, "\n", 1);
        }
        e->line_len = 0;
    }
}

void lam__out_close(lam_env *e)
{
    if (e->out_fd < 0)
        return;
    lam__flush_output(e, 1);
    ev_io_stop(e->L, &e->oio);
    close(e->out_fd);
    e->out_fd = -1;
}

/* Reads what the runtime wrote; 1 when something was read. */
int lam__read_output(lam_env *e)
{
    ssize_t r = read(e->out_fd, e->line + e->line_len, sizeof e->line - e->line_len);
    if (r > 0) {
        e->line_len += (size_t)r;
        lam__flush_output(e, 0);
        return 1;
    } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        lam__out_close(e);
    }
    return 0;
}

/* Reads everything the pipe holds now (init output before START, the
 * last lines of a runtime that exited). */
void lam__drain_output(lam_env *e)
{
    for (int i = 0; i < 1024 && e->out_fd >= 0 && lam__read_output(e); i++)
        ;
}

