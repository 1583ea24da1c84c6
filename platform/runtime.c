/*
 * A Lambda execution environment: bootstrap process + Runtime API server
 * (see runtime.h).  Single-threaded: a poll() loop over the listening
 * socket, the runtime's connections (keep-alive, pipelining, chunked
 * bodies via nerd/http.h), and the pipe carrying the runtime's output.
 * Init runs in the same loop before the event is queued (init_phase), so
 * a cold start's failure is known, logged and retried before START.
 */
#define _GNU_SOURCE
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "envlimit.h"
#include "nerd/http.h"

#define MAX_CONNS 8
#define CONN_CAP (LAM_MAX_PAYLOAD + 65536)
#define INIT_LIMIT_MS 10000.0
#define LINE_MAX_LOG 8192
#define IERR_MSG_MAX 1024 /* an init error's message as logged */

enum { ST_IDLE, ST_PENDING, ST_RUNNING, ST_DONE };

typedef struct conn {
    int fd;
    char *buf;
    size_t len, cap;
    http_parser p;
    int parked;     /* a GET /next waiting for an event */
    int continued;  /* 100 Continue sent */
} conn;

struct lam_env {
    sam_function f;
    FILE *log;
    int lfd, port;
    pid_t pid;
    int out_fd;
    char line[LINE_MAX_LOG];
    size_t line_len;
    int alive, cold_reported, init_only; /* run(): stop once init is over */
    int inited;     /* 0 in init, 1 past it (first /next), -1 init failed,
                     * -2 no bootstrap */
    double spawn_t, init_ms, init_limit_ms;
    /* why the last init attempt failed (init_fail) */
    char ierr_type[128];
    char ierr_msg[IERR_MSG_MAX];
    char *ierr_body;       /* the body a runtime posted to /init/error */
    size_t ierr_body_len;
    int ierr_timeout;      /* no /next within the limit */
    double ierr_t;         /* when it failed (monotonic ms) */
    char tail[LAM_TAIL_MAX]; /* the last 4 KB logged since the last invocation */
    size_t tail_len;
    conn conns[MAX_CONNS];
    lim_env *lim;   /* memory and CPU limits, NULL when none */
    int start_pending; /* START line not yet written */
    double watch_ms;   /* lam_env_watch: 0 = none */
    void (*watch_fn)(void *);
    void *watch_arg;
    long hwm_mb;       /* last VmHWM read, and when (monotonic ms) */
    double hwm_t;
    /* the current invocation */
    int state;
    char rid[40];
    const char *event;
    size_t event_len;
    double t_start, t_deliver;
    long long deadline_ms;
    lam_result *res;
};

/* Writes p[0..n) to the log in one write(2) (no stdio lock: environments
 * on other threads log at the same time; each call's bytes stay together). */
static void log_write(lam_env *e, const char *p, size_t n)
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

static void logf_(lam_env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(lam_env *e, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof buf) {
        log_write(e, buf, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big)
        return;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    log_write(e, big, (size_t)n);
    free(big);
}

static void respond(conn *c, int status, const char *extra_headers, const char *body,
                    size_t blen, int keep)
{
    char head[2048];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s%s\r\n", status,
                     http_reason(status), blen, extra_headers ? extra_headers : "",
                     keep ? "" : "Connection: close\r\n");
    http_send2(c->fd, head, (size_t)n, body, blen);
}

static void respond_error(conn *c, int status, const char *type, const char *msg)
{
    char body[512];
    int n = snprintf(body, sizeof body, "{\"errorMessage\":\"%s\",\"errorType\":\"%s\"}", msg,
                     type);
    respond(c, status, "Content-Type: application/json\r\n", body, (size_t)n, 1);
}

static void conn_close(conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

static void flush_output(lam_env *e, int all)
{
    if (e->start_pending && e->line_len && e->inited > 0) { /* not init output */
        logf_(e, "START RequestId: %s Version: $LATEST\n", e->rid);
        e->start_pending = 0;
    }
    size_t k = e->line_len;
    while (k && e->line[k - 1] != '\n')
        k--;
    if (k) { /* every complete line in one write */
        log_write(e, e->line, k);
        memmove(e->line, e->line + k, e->line_len - k);
        e->line_len -= k;
    }
    if ((all || e->line_len == sizeof e->line) && e->line_len) {
        if (e->line_len < sizeof e->line) {
            e->line[e->line_len++] = '\n';
            log_write(e, e->line, e->line_len);
        } else {
            log_write(e, e->line, e->line_len);
            log_write(e, "\n", 1);
        }
        e->line_len = 0;
    }
}

static void read_output(lam_env *e)
{
    ssize_t r = read(e->out_fd, e->line + e->line_len, sizeof e->line - e->line_len);
    if (r > 0) {
        e->line_len += (size_t)r;
        flush_output(e, 0);
    } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        flush_output(e, 1);
        close(e->out_fd);
        e->out_fd = -1;
    }
}

static long max_memory_mb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6))
            kb = atol(line + 6);
    if (f)
        fclose(f);
    return (kb + 1023) / 1024;
}

static void kill_env(lam_env *e)
{
    if (e->pid > 0 && e->alive) {
        kill(-e->pid, SIGKILL);
        kill(e->pid, SIGKILL);
        waitpid(e->pid, NULL, 0);
    }
    e->alive = 0;
}

static void set_result(lam_env *e, lam_outcome o, const char *payload, size_t len)
{
    lam_result *r = e->res;
    if (!r || e->state == ST_DONE)
        return;
    r->outcome = o;
    free(r->payload);
    r->payload = malloc(len + 1);
    if (r->payload) {
        memcpy(r->payload, payload, len);
        r->payload[len] = 0;
        r->payload_len = len;
    }
    e->state = ST_DONE;
}

/* Copies s[0..n) into out (cap bytes, NUL-terminated) as one log line:
 * control characters become spaces. */
static void one_line(char *out, size_t cap, const char *s, size_t n)
{
    size_t k = n < cap - 1 ? n : cap - 1;
    for (size_t i = 0; i < k; i++)
        out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
    out[k] = 0;
}

/* Records why the current init attempt failed; the first cause wins (a
 * runtime that posts /init/error and then exits failed with what it
 * posted).  body: what the invoker gets verbatim, or NULL for Lambda's
 * {"errorMessage":"RequestId: ID Error: MSG","errorType":TYPE}. */
static void init_fail(lam_env *e, const char *type, const char *msg, size_t msg_len,
                      const char *body, size_t blen, int timeout)
{
    if (e->ierr_type[0])
        return;
    one_line(e->ierr_type, sizeof e->ierr_type, type, strlen(type));
    one_line(e->ierr_msg, sizeof e->ierr_msg, msg, msg_len);
    free(e->ierr_body);
    e->ierr_body = body ? malloc(blen + 1) : NULL;
    e->ierr_body_len = 0;
    if (e->ierr_body) {
        memcpy(e->ierr_body, body, blen);
        e->ierr_body[blen] = 0;
        e->ierr_body_len = blen;
    }
    e->ierr_timeout = timeout;
    e->ierr_t = clk_mono_ms();
}

/* POST /runtime/init/error during init: the type is the
 * Lambda-Runtime-Function-Error-Type header (Runtime.Unknown without one),
 * the message the body's errorMessage (else the body itself); the body is
 * what the invoker gets. */
static void init_error_posted(lam_env *e, const http_request *r, const char *buf)
{
    const char *body = buf + r->body;
    size_t hl = 0, blen = r->body_len;
    const char *h = http_header(r, buf, "lambda-runtime-function-error-type", &hl, 1);
    char type[128] = "Runtime.Unknown";
    if (h && hl)
        one_line(type, sizeof type, h, hl);
    json_error_t je;
    json_t *j = blen ? json_loadb(body, blen, JSON_DECODE_ANY, &je) : NULL;
    json_t *m = json_is_object(j) ? json_object_get(j, "errorMessage") : NULL;
    if (json_is_string(m))
        init_fail(e, type, json_string_value(m), json_string_length(m), body, blen, 0);
    else
        init_fail(e, type, body, blen, blen ? body : NULL, blen, 0);
    json_decref(j);
    e->inited = -1;
}

static void deliver(lam_env *e, conn *c)
{
    char hdr[1024];
    char trace[128];
    unsigned char tb[12];
    for (int i = 0; i < 12; i++)
        tb[i] = (unsigned char)e->rid[(i * 3) % 36];
    snprintf(trace, sizeof trace, "Root=1-%08llx-%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x;"
             "Parent=%.16s;Sampled=0", (unsigned long long)(clk_epoch_ms() / 1000) & 0xffffffffULL,
             tb[0], tb[1], tb[2], tb[3], tb[4], tb[5], tb[6], tb[7], tb[8], tb[9], tb[10], tb[11],
             "0000000000000000");
    snprintf(hdr, sizeof hdr,
             "Content-Type: application/json\r\n"
             "Lambda-Runtime-Aws-Request-Id: %s\r\n"
             "Lambda-Runtime-Deadline-Ms: %lld\r\n"
             "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:%s\r\n"
             "Lambda-Runtime-Trace-Id: %s\r\n",
             e->rid, e->deadline_ms, e->f.name, trace);
    if (e->state == ST_PENDING) {
        e->state = ST_RUNNING;
        e->t_deliver = clk_mono_ms();
    }
    c->parked = 0;
    respond(c, 200, hdr, e->event, e->event_len, 1);
}

static int path_id(const char *t, size_t tl, const char *suffix, char *id, size_t cap)
{
    static const char pre[] = "/2018-06-01/runtime/invocation/";
    size_t pl = sizeof pre - 1, sl = strlen(suffix);
    if (tl <= pl + sl || memcmp(t, pre, pl) || memcmp(t + tl - sl, suffix, sl))
        return 0;
    size_t il = tl - pl - sl;
    if (il >= cap)
        il = cap - 1;
    memcpy(id, t + pl, il);
    id[il] = 0;
    return 1;
}

/* Handles one complete request on c. */
static void handle(lam_env *e, conn *c)
{
    const http_request *r = &c->p.req;
    const char *m = c->buf + r->method, *t = c->buf + r->target;
    size_t ml = r->method_len, tl = r->target_len;
    const char *body = c->buf + r->body;
    char id[128];
    int is_get = ml == 3 && !memcmp(m, "GET", 3), is_post = ml == 4 && !memcmp(m, "POST", 4);
    if (is_get && tl == 35 && !memcmp(t, "/2018-06-01/runtime/invocation/next", 35)) {
        if (!e->inited) {
            e->inited = 1;
            e->init_ms = clk_mono_ms() - e->spawn_t;
        }
        if (e->state == ST_PENDING || e->state == ST_RUNNING)
            deliver(e, c);
        else
            c->parked = 1;
        return;
    }
    if (is_post && tl == 30 && !memcmp(t, "/2018-06-01/runtime/init/error", 30)) {
        if (e->inited) { /* spec 1.5: RIE refuses InitError once init is over */
            respond_error(c, 403, "InvalidStateTransition",
                          "State transition from Running to InitError failed for runtime. "
                          "Error: init has finished");
            return;
        }
        respond(c, 202, "Content-Type: application/json\r\n", "{\"status\":\"OK\"}", 15, 1);
        init_error_posted(e, r, c->buf);
        return;
    }
    int is_resp = is_post && path_id(t, tl, "/response", id, sizeof id);
    int is_err = !is_resp && is_post && path_id(t, tl, "/error", id, sizeof id);
    if (is_resp || is_err) {
        if (strcmp(id, e->rid) != 0 || !e->rid[0]) {
            respond_error(c, 400, "InvalidRequestID", "Invalid request ID");
            return;
        }
        if (e->state != ST_RUNNING) {
            respond_error(c, 403, "InvalidStateTransition",
                          "State transition from ResponseSent to InvocationResponse failed "
                          "for runtime. Error: invalid state transition");
            return;
        }
        respond(c, 202, "Content-Type: application/json\r\n", "{\"status\":\"OK\"}", 15, 1);
        if (is_resp) {
            set_result(e, LAM_OK, body, r->body_len);
        } else {
            size_t hl;
            const char *type = http_header(r, c->buf, "lambda-runtime-function-error-type", &hl, 1);
            if (r->body_len) {
                set_result(e, LAM_FUNCTION_ERROR, body, r->body_len);
            } else {
                char js[512];
                int n = snprintf(js, sizeof js, "{\"errorMessage\":\"Unhandled\",\"errorType\":\"%.*s\"}",
                                 type ? (int)(hl < 200 ? hl : 200) : 9, type ? type : "Unhandled");
                set_result(e, LAM_FUNCTION_ERROR, js, (size_t)n);
            }
        }
        return;
    }
    respond_error(c, 404, "NotFound", "Not found");
}

static void on_readable(lam_env *e, conn *c)
{
    if (c->len == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 65536;
        if (cap > CONN_CAP)
            cap = CONN_CAP;
        if (cap == c->cap) {
            conn_close(c);
            return;
        }
        char *b = realloc(c->buf, cap);
        if (!b) {
            conn_close(c);
            return;
        }
        c->buf = b;
        c->cap = cap;
    }
    ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
    if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        conn_close(c);
        return;
    }
    c->len += (size_t)r;
    for (;;) {
        size_t used = 0;
        int rc = http_parse(&c->p, c->buf, c->len, &used);
        if (rc == HTTP_MORE) {
            if (http_wants_continue(&c->p) && !c->continued) {
                http_send_all(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
                c->continued = 1;
            }
            return;
        }
        if (rc < 0) {
            int st = http_error_status(rc);
            if (st == 413) {
                respond_error(c, 413, "RequestEntityTooLarge",
                              "Exceeded maximum allowed payload size (6291556 bytes).");
                static const char too_large[] =
                    "{\"errorMessage\":\"Response payload size exceeded maximum allowed "
                    "payload size (6291556 bytes).\",\"errorType\":"
                    "\"Function.ResponseSizeTooLarge\"}";
                if (e->state == ST_RUNNING)
                    set_result(e, LAM_TOO_LARGE, too_large, sizeof too_large - 1);
            } else {
                respond_error(c, st, "InvalidRequest", http_reason(st));
            }
            conn_close(c);
            return;
        }
        handle(e, c);
        if (c->fd < 0)
            return;
        int keep = c->p.req.keep_alive;
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
        http_parser_init(&c->p, 65536, LAM_MAX_PAYLOAD);
        c->continued = 0;
        if (!keep && !c->parked) {
            conn_close(c);
            return;
        }
        if (c->parked || c->len == 0)
            return;
    }
}

static void accept_conn(lam_env *e)
{
    int fd = accept4(e->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    for (int i = 0; i < MAX_CONNS; i++)
        if (e->conns[i].fd < 0) {
            conn *c = &e->conns[i];
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            c->fd = fd;
            http_parser_init(&c->p, 65536, LAM_MAX_PAYLOAD);
            return;
        }
    close(fd); /* too many connections from one runtime */
}

/* Checks whether the process exited; reports it. */
static void reap(lam_env *e)
{
    int st;
    if (!e->alive || waitpid(e->pid, &st, WNOHANG) != e->pid)
        return;
    e->alive = 0;
    kill(-e->pid, SIGKILL); /* as Lambda: the sandbox goes with its runtime */
    for (int i = 0; i < 50 && e->out_fd >= 0; i++) { /* drain, at most ~100 ms */
        struct pollfd pf = {e->out_fd, POLLIN, 0};
        if (poll(&pf, 1, 2) > 0 || i == 49)
            read_output(e);
    }
    if (e->out_fd >= 0) {
        flush_output(e, 1);
        close(e->out_fd);
        e->out_fd = -1;
    }
    char msg[256], js[512];
    if (WIFSIGNALED(st))
        snprintf(msg, sizeof msg, "signal: %s", WTERMSIG(st) == SIGKILL ? "killed"
                                                                        : strsignal(WTERMSIG(st)));
    else
        snprintf(msg, sizeof msg, "exit status %d", WEXITSTATUS(st));
    if (e->inited <= 0 || e->init_only) { /* in init: reported by init_report */
        char m[320];
        int n = snprintf(m, sizeof m, "Runtime exited with error: %s", msg);
        init_fail(e, "Runtime.ExitError", m, (size_t)n, NULL, 0, 0);
        return;
    }
    if (e->state == ST_PENDING || e->state == ST_RUNNING) /* as Lambda logs it */
        logf_(e, "RequestId: %s Error: Runtime exited with error: %s\nRuntime.ExitError\n",
              e->rid, msg);
    if (e->state == ST_PENDING) {
        int n = snprintf(js, sizeof js, "{\"errorMessage\":\"RequestId: %s Error: Runtime exited "
                         "with error: %s\",\"errorType\":\"Runtime.ExitError\"}", e->rid, msg);
        set_result(e, LAM_INIT_ERROR, js, (size_t)n);
    } else if (e->state == ST_RUNNING) {
        int n = snprintf(js, sizeof js, "{\"errorMessage\":\"RequestId: %s Error: Runtime exited "
                         "with error: %s\",\"errorType\":\"Runtime.ExitError\"}", e->rid, msg);
        set_result(e, LAM_EXIT_ERROR, js, (size_t)n);
    }
}

/* Hands a queued event to a runtime already waiting in /next. */
static void deliver_parked(lam_env *e)
{
    if (e->state != ST_PENDING || e->inited <= 0)
        return;
    for (int i = 0; i < MAX_CONNS; i++)
        if (e->conns[i].fd >= 0 && e->conns[i].parked) {
            deliver(e, &e->conns[i]);
            return;
        }
}

/* Runs the loop until the current invocation is done (or forever-ish: the
 * caller's deadline applies). */
static int run(lam_env *e)
{
    while (e->state != ST_DONE) {
        if (e->init_only && (e->inited || !e->alive))
            break;
        deliver_parked(e); /* at once: a /next parked by init or prewarm */
        struct pollfd pf[2 + MAX_CONNS];
        int n = 0, map[2 + MAX_CONNS];
        pf[n] = (struct pollfd){e->lfd, POLLIN, 0};
        map[n++] = -1;
        if (e->out_fd >= 0) {
            pf[n] = (struct pollfd){e->out_fd, POLLIN, 0};
            map[n++] = -2;
        }
        for (int i = 0; i < MAX_CONNS; i++)
            if (e->conns[i].fd >= 0) {
                pf[n] = (struct pollfd){e->conns[i].fd, POLLIN, 0};
                map[n++] = i;
            }
        int pr = poll(pf, (nfds_t)n, 20);
        if (pr < 0 && errno != EINTR)
            return -1;
        int had_out = e->out_fd >= 0, had_conns = n - 1 - had_out;
        for (int k = 0; pr > 0 && k < n; k++) {
            if (!pf[k].revents)
                continue;
            if (map[k] == -1)
                accept_conn(e);
            else if (map[k] == -2)
                read_output(e);
            else
                on_readable(e, &e->conns[map[k]]);
        }
        deliver_parked(e); /* an event waiting for a parked /next */
        /* the process can only have exited if something closed or time passed */
        int conns = 0;
        for (int i = 0; i < MAX_CONNS; i++)
            conns += e->conns[i].fd >= 0;
        if (pr <= 0 || (had_out && e->out_fd < 0) || conns < had_conns)
            reap(e);
        double t = clk_mono_ms();
        if (e->watch_fn && e->state != ST_DONE && t - e->t_start >= e->watch_ms) {
            void (*fn)(void *) = e->watch_fn;
            e->watch_fn = NULL;
            fn(e->watch_arg);
        }
        if (!e->inited && t - e->spawn_t > e->init_limit_ms) {
            kill_env(e);
            char m[64];
            int k = snprintf(m, sizeof m, "Task timed out after %.2f seconds",
                             e->init_limit_ms / 1000.0);
            init_fail(e, "Sandbox.Timedout", m, (size_t)k, NULL, 0, 1);
        }
        if ((e->state == ST_PENDING || e->state == ST_RUNNING) && e->inited > 0 &&
            (long long)clk_epoch_ms() > e->deadline_ms) {
            kill_env(e);
            char js[256];
            int k = snprintf(js, sizeof js, "{\"errorMessage\":\"RequestId: %s Error: Task timed "
                             "out after %d.00 seconds\",\"errorType\":\"Sandbox.Timedout\"}",
                             e->rid, e->f.timeout_s);
            set_result(e, LAM_TIMEOUT, js, (size_t)k);
        }
    }
    return 0;
}

static const char init_start[] = "INIT_START Runtime Version: provided:al2023.v1\tRuntime "
                                 "Version ARN: arn:aws:lambda:us-east-1::runtime:nerd-local\n";

/* Starts bootstrap (its own process group, limits, Lambda's variables);
 * log_start: write INIT_START first (a cold start, not Lambda's retry). */
static int spawn(lam_env *e, int log_start, char *err, size_t errlen)
{
    char exe[1200];
    snprintf(exe, sizeof exe, "%s/bootstrap", e->f.code_uri);
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    char (*envs)[2200] = malloc(sizeof(char[2200]) * (SAM_MAX_ENV + 32));
    char *envp[SAM_MAX_ENV + 33];
    if (!envs) {
        close(pfd[0]);
        close(pfd[1]);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int k = 0;
    const char *path = getenv("PATH");
#define ENV(...) snprintf(envs[k], sizeof envs[k], __VA_ARGS__), envp[k] = envs[k], k++
    for (size_t i = 0; i < e->f.n_env; i++)
        ENV("%s=%s", e->f.env[i].key, e->f.env[i].value);
    ENV("AWS_LAMBDA_RUNTIME_API=127.0.0.1:%d", e->port);
    ENV("_HANDLER=%s", e->f.handler);
    ENV("LAMBDA_TASK_ROOT=%s", e->f.code_uri);
    ENV("LAMBDA_RUNTIME_DIR=%s", e->f.code_uri);
    ENV("AWS_LAMBDA_FUNCTION_NAME=%s", e->f.name);
    ENV("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%d", e->f.memory_mb);
    ENV("AWS_LAMBDA_FUNCTION_VERSION=$LATEST");
    ENV("AWS_LAMBDA_FUNCTION_TIMEOUT=%d", e->f.timeout_s);
    ENV("AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/%s", e->f.name);
    ENV("AWS_LAMBDA_LOG_STREAM_NAME=$LATEST");
    ENV("AWS_LAMBDA_INITIALIZATION_TYPE=on-demand");
    ENV("AWS_REGION=us-east-1");
    ENV("AWS_DEFAULT_REGION=us-east-1");
    ENV("AWS_ACCESS_KEY_ID=local");
    ENV("AWS_SECRET_ACCESS_KEY=local");
    ENV("AWS_SESSION_TOKEN=local");
    ENV("TZ=:UTC");
    ENV("LANG=en_US.UTF-8");
    ENV("PATH=%s", path && strlen(path) < 1000 ? path : "/usr/local/bin:/usr/bin:/bin");
    ENV("LD_LIBRARY_PATH=%s:%s/lib", e->f.code_uri, e->f.code_uri);
#undef ENV
    envp[k] = NULL;
    char lerr[256] = "";
    e->lim = lim_env_new(e->f.memory_mb, lerr, sizeof lerr);
    if (!e->lim && lerr[0])
        logf_(e, "nerd: %s: limits not applied to this environment\n", lerr);
    /* sync: closed by the child's exec, so the parent knows when the
     * sandbox (process group, cgroups) is ready and the runtime starts:
     * Init Duration counts from there, as Lambda's init phase does */
    int sync[2];
    if (pipe2(sync, O_CLOEXEC) != 0) {
        close(pfd[0]);
        close(pfd[1]);
        free(envs);
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid != 0)
        free(envs);
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        close(sync[0]);
        close(sync[1]);
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        close(sync[0]);
        setpgid(0, 0);
        lim_env_enter(e->lim, e->f.memory_mb);
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        if (chdir(e->f.code_uri) != 0)
            _exit(126);
        char *argv[] = {exe, NULL};
        execve(exe, argv, envp);
        _exit(127);
    }
    setpgid(pid, pid);
    close(sync[1]);
    char b;
    while (read(sync[0], &b, 1) < 0 && errno == EINTR)
        ;
    close(sync[0]);
    e->spawn_t = clk_mono_ms();
    close(pfd[1]);
    e->out_fd = pfd[0];
    fcntl(e->out_fd, F_SETFL, O_NONBLOCK);
    e->pid = pid;
    e->alive = 1;
    if (log_start) {
        e->tail_len = 0; /* an environment's log starts here */
        log_write(e, init_start, sizeof init_start - 1);
    }
    return 0;
}

int lam_check_bootstrap(const sam_function *f, char *msg, size_t cap)
{
    char exe[1200];
    struct stat st;
    snprintf(exe, sizeof exe, "%s/bootstrap", f->code_uri);
    if (stat(f->code_uri, &st) != 0 || !S_ISDIR(st.st_mode))
        snprintf(msg, cap, "CodeUri %s does not exist", f->code_uri);
    else if (stat(exe, &st) != 0)
        snprintf(msg, cap, "%s does not exist", exe);
    else if (!S_ISREG(st.st_mode) || access(exe, X_OK) != 0)
        snprintf(msg, cap, "%s is not executable", exe);
    else
        return 0;
    return -1;
}

/* No bootstrap to run: records Runtime.InvalidEntrypoint with Lambda's
 * messages ("Couldn't find valid bootstrap(s)", or the exec error of one
 * that is there but not executable). */
static void no_bootstrap(lam_env *e)
{
    char exe[1200], m[1400];
    struct stat st;
    snprintf(exe, sizeof exe, "%s/bootstrap", e->f.code_uri);
    int n = stat(exe, &st) == 0 ? snprintf(m, sizeof m, "fork/exec %s: permission denied", exe)
                                : snprintf(m, sizeof m, "Couldn't find valid bootstrap(s): [%s]",
                                           exe);
    e->inited = -2;
    e->alive = 0;
    e->spawn_t = clk_mono_ms();
    init_fail(e, "Runtime.InvalidEntrypoint", m, n > 0 ? (size_t)n : 0, NULL, 0, 0);
}

int lam_env_start(const sam_function *f, FILE *log, lam_env **out, char *err, size_t errlen)
{
    *out = NULL;
    lam_env *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    e->f = *f;
    char abs[PATH_MAX], cwd[PATH_MAX];
    if (realpath(f->code_uri, abs) && strlen(abs) < sizeof e->f.code_uri)
        memcpy(e->f.code_uri, abs, strlen(abs) + 1);
    else if (f->code_uri[0] != '/' && getcwd(cwd, sizeof cwd) && /* missing: named whole */
             strlen(cwd) + strlen(f->code_uri) + 2 <= sizeof e->f.code_uri) {
        size_t cl = strlen(cwd);
        memcpy(e->f.code_uri, cwd, cl);
        e->f.code_uri[cl] = '/';
        memcpy(e->f.code_uri + cl + 1, f->code_uri, strlen(f->code_uri) + 1);
    }
    e->log = log ? log : stderr;
    e->out_fd = -1;
    e->pid = -1;
    for (int i = 0; i < MAX_CONNS; i++)
        e->conns[i].fd = -1;
    e->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (e->lfd < 0 || bind(e->lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(e->lfd, 16) != 0 || getsockname(e->lfd, (struct sockaddr *)&a, &al) != 0) {
        snprintf(err, errlen, "Runtime API socket: %s", strerror(errno));
        lam_env_free(e);
        return -1;
    }
    e->port = ntohs(a.sin_port);
    char why[1400];
    if (lam_check_bootstrap(&e->f, why, sizeof why) != 0) {
        /* as Lambda: the environment starts, its init fails */
        log_write(e, init_start, sizeof init_start - 1);
        no_bootstrap(e);
        *out = e;
        return 0;
    }
    if (spawn(e, 1, err, errlen)) {
        lam_env_free(e);
        return -1;
    }
    *out = e;
    return 0;
}

int lam_env_alive(const lam_env *e) { return e && e->alive && e->inited >= 0; }

void lam_env_watch(lam_env *e, double ms, void (*fn)(void *), void *arg)
{
    e->watch_ms = ms;
    e->watch_fn = fn;
    e->watch_arg = arg;
}

/* Runs the runtime's init until its first GET /next: 0, or -1 when it
 * failed (/init/error, exit, no /next within limit_ms; e->ierr_* say how)
 * and the runtime has been stopped.  Output the runtime wrote before its
 * /next is logged before the invocation's START. */
static int init_phase(lam_env *e, double limit_ms)
{
    if (e->inited == 0 && e->alive) {
        e->init_limit_ms = limit_ms;
        e->state = ST_IDLE;
        e->init_only = 1;
        if (run(e) != 0)
            init_fail(e, "Runtime.Unknown", "poll failed", 11, NULL, 0, 0);
        e->init_only = 0;
        for (int i = 0; i < 64 && e->out_fd >= 0; i++) {
            struct pollfd pf = {e->out_fd, POLLIN, 0};
            if (poll(&pf, 1, 0) <= 0)
                break;
            read_output(e);
        }
    }
    if (e->inited > 0 && e->alive && !e->ierr_type[0])
        return 0;
    if (!e->ierr_type[0])
        init_fail(e, "Runtime.Unknown", "Runtime failed to start", 23, NULL, 0, 0);
    kill_env(e);
    return -1;
}

/* Logs the failed init attempt of phase ("init" or "invoke") as Lambda
 * does. */
static void init_report(lam_env *e, const char *phase)
{
    double d = e->ierr_t > e->spawn_t ? e->ierr_t - e->spawn_t : 0.0;
    if (e->ierr_timeout)
        logf_(e, "INIT_REPORT Init Duration: %.2f ms\tPhase: %s\tStatus: timeout\n", d, phase);
    else
        logf_(e, "INIT_REPORT Init Duration: %.2f ms\tPhase: %s\tStatus: error\tError Type: %s\n",
              d, phase, e->ierr_type);
}

/* Clears what the failed attempt left (process, connections, output,
 * limits, error) and starts bootstrap again, as Lambda's retry does (no
 * second INIT_START).  0, or -1 with e->ierr_* set. */
static int respawn(lam_env *e)
{
    kill_env(e);
    if (e->out_fd >= 0) {
        flush_output(e, 1);
        close(e->out_fd);
        e->out_fd = -1;
    }
    for (int i = 0; i < MAX_CONNS; i++)
        if (e->conns[i].fd >= 0)
            conn_close(&e->conns[i]);
    lim_env_free(e->lim);
    e->lim = NULL;
    free(e->ierr_body);
    e->ierr_body = NULL;
    e->ierr_body_len = 0;
    e->ierr_type[0] = e->ierr_msg[0] = 0;
    e->ierr_timeout = 0;
    e->inited = 0;
    e->pid = -1;
    char why[1400], err[256];
    if (lam_check_bootstrap(&e->f, why, sizeof why) != 0) {
        no_bootstrap(e);
        return -1;
    }
    if (spawn(e, 0, err, sizeof err) != 0) {
        e->spawn_t = clk_mono_ms();
        init_fail(e, "Runtime.Unknown", err, strlen(err), NULL, 0, 0);
        return -1;
    }
    return 0;
}

/* A cold start's init: the init phase (10 s) and, after a failure, one
 * retry in the invoke phase under the function's timeout, as Lambda
 * does; *t_invoke: when the invoke phase began.  0 once the runtime waits
 * in /next, -1 when both attempts failed. */
static int init_env(lam_env *e, double *t_invoke)
{
    *t_invoke = clk_mono_ms();
    if (init_phase(e, INIT_LIMIT_MS) == 0)
        return 0;
    init_report(e, "init");
    *t_invoke = clk_mono_ms();
    if (respawn(e) == 0 && init_phase(e, e->f.timeout_s * 1000.0) == 0)
        return 0;
    init_report(e, "invoke");
    return -1;
}

/* The invocation whose init failed: Lambda's error JSON (or the body the
 * runtime posted to /init/error) and the lines Lambda logs: START, the
 * error ("RequestId: ID Error: MESSAGE" and the type; Lambda leaves a
 * posted error's message to the runtime's own output, nerd prints it
 * too), END, REPORT with "Status: error\tError Type: T" (timeout: "Status:
 * timeout" and the "Task timed out" line). */
static void init_failed(lam_env *e, lam_result *res, double t_invoke)
{
    char msg[IERR_MSG_MAX + 80];
    snprintf(msg, sizeof msg, "RequestId: %s Error: %s", e->rid, e->ierr_msg);
    char *js = NULL;
    if (e->ierr_body) {
        js = e->ierr_body;
        res->payload_len = e->ierr_body_len;
        e->ierr_body = NULL;
    } else {
        json_t *j = json_pack("{s:s, s:s}", "errorMessage", msg, "errorType", e->ierr_type);
        if (!j) /* a message that is not UTF-8 (a path): the type alone */
            j = json_pack("{s:s}", "errorType", e->ierr_type);
        js = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        res->payload_len = js ? strlen(js) : 0;
    }
    res->outcome = LAM_INIT_ERROR;
    res->payload = js;
    double dur = clk_mono_ms() - t_invoke;
    res->duration_ms = dur;
    res->max_memory_mb = lim_env_peak_mb(e->lim);
    if (res->max_memory_mb < 0)
        res->max_memory_mb = 0;
    char status[200];
    if (e->ierr_timeout)
        snprintf(status, sizeof status, "Status: timeout");
    else
        snprintf(status, sizeof status, "Status: error\tError Type: %s", e->ierr_type);
    logf_(e, "START RequestId: %s Version: $LATEST\n%s%s%s%sEND RequestId: %s\n"
             "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %.0f ms\t"
             "Memory Size: %d MB\tMax Memory Used: %ld MB\t%s\n",
          e->rid, e->ierr_timeout ? "" : msg, e->ierr_timeout ? "" : "\n",
          e->ierr_timeout ? "" : e->ierr_type, e->ierr_timeout ? "" : "\n", e->rid, e->rid, dur,
          ceil(dur), e->f.memory_mb, res->max_memory_mb, status);
    if (e->ierr_timeout) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        char ts[32];
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
        logf_(e, "%s %s %s\n", ts, e->rid, e->ierr_msg);
    }
}

/* Hands the invocation's log tail to res; the next one starts afresh. */
static void tail_take(lam_env *e, lam_result *res)
{
    memcpy(res->log_tail, e->tail, e->tail_len);
    res->log_tail_len = e->tail_len;
    e->tail_len = 0;
}

int lam_env_prewarm(lam_env *e)
{
    if (!e)
        return -1;
    e->t_start = clk_mono_ms();
    int rc = init_phase(e, INIT_LIMIT_MS);
    if (rc)
        init_report(e, "init");
    else
        logf_(e, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: success\n",
              e->init_ms);
    e->tail_len = 0; /* provisioned init is no invocation's log */
    if (rc)
        return -1;
    e->cold_reported = 1; /* provisioned: no Init Duration on the first REPORT */
    return 0;
}

int lam_env_invoke(lam_env *e, const char *event, size_t len, lam_result *res)
{
    memset(res, 0, sizeof *res);
    res->init_ms = -1;
    clk_uuid4(e->rid);
    snprintf(res->request_id, sizeof res->request_id, "%s", e->rid);
    e->t_start = clk_mono_ms(); /* the watch counts init too */
    double t_invoke;
    if (e->inited <= 0 && init_env(e, &t_invoke) != 0) {
        init_failed(e, res, t_invoke);
        e->watch_fn = NULL;
        tail_take(e, res);
        return 0;
    }
    e->res = res;
    if (!e->alive) {
        e->res = NULL;
        e->watch_fn = NULL;
        res->outcome = LAM_INIT_ERROR;
        return -1;
    }
    e->event = event;
    e->event_len = len;
    e->state = ST_PENDING;
    double t_queued = clk_mono_ms();
    e->t_deliver = 0;
    e->deadline_ms = clk_epoch_ms() + (long long)e->f.timeout_s * 1000;
    int cold = !e->cold_reported;
    e->start_pending = 1; /* written with the first output line, or with END */
    int rc = run(e);
    double t_end = clk_mono_ms();
    if (e->out_fd >= 0)
        flush_output(e, 0);
    double dur = e->t_deliver > 0 ? t_end - e->t_deliver : t_end - t_queued;
    res->duration_ms = dur;
    /* the cgroup's peak misses shared file pages charged elsewhere; VmHWM
     * misses children: report the larger, reading /proc at most every 100 ms */
    long peak = lim_env_peak_mb(e->lim);
    if (e->pid > 0 && (t_end - e->hwm_t > 100.0 || e->hwm_mb == 0)) {
        e->hwm_mb = max_memory_mb(e->pid);
        e->hwm_t = t_end;
    }
    res->max_memory_mb = peak > e->hwm_mb ? peak : e->hwm_mb;
    if (cold && e->inited > 0) {
        res->init_ms = e->init_ms;
        e->cold_reported = 1;
    }
    double billed = ceil(dur + (res->init_ms > 0 ? res->init_ms : 0));
    char init[64] = "";
    if (res->init_ms >= 0)
        snprintf(init, sizeof init, "Init Duration: %.2f ms\t", res->init_ms);
    /* START (unless output already forced it out), END and REPORT in one write */
    logf_(e, "%s%s%s%sEND RequestId: %s\nREPORT RequestId: %s\tDuration: %.2f ms\t"
             "Billed Duration: %.0f ms\tMemory Size: %d MB\tMax Memory Used: %ld MB\t%s\n",
          e->start_pending ? "START RequestId: " : "", e->start_pending ? e->rid : "",
          e->start_pending ? " Version: $LATEST" : "", e->start_pending ? "\n" : "", e->rid,
          e->rid, dur, billed, e->f.memory_mb, res->max_memory_mb, init);
    e->start_pending = 0;
    if (res->outcome == LAM_TIMEOUT) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        char ts[32];
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
        logf_(e, "%s %s Task timed out after %d.00 seconds\n", ts, e->rid, e->f.timeout_s);
    }
    tail_take(e, res);
    e->res = NULL;
    e->state = ST_IDLE;
    e->event = NULL;
    e->watch_fn = NULL;
    return rc;
}

void lam_result_fini(lam_result *r)
{
    if (!r)
        return;
    free(r->payload);
    r->payload = NULL;
}

void lam_env_free(lam_env *e)
{
    if (!e)
        return;
    if (e->pid > 0 && e->alive) {
        kill(-e->pid, SIGTERM);
        kill(e->pid, SIGTERM);
        for (int i = 0; i < 200; i++) { /* 2 s */
            if (waitpid(e->pid, NULL, WNOHANG) == e->pid) {
                e->alive = 0;
                break;
            }
            struct timespec ts = {0, 10000000};
            nanosleep(&ts, NULL);
        }
        kill_env(e);
    }
    if (e->out_fd >= 0) {
        flush_output(e, 1);
        close(e->out_fd);
    }
    for (int i = 0; i < MAX_CONNS; i++)
        if (e->conns[i].fd >= 0)
            conn_close(&e->conns[i]);
    if (e->lfd >= 0)
        close(e->lfd);
    lim_env_free(e->lim);
    free(e->ierr_body);
    free(e);
}

lam_env *lam__fake(const sam_function *f, int inited)
{
    lam_env *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->f = *f;
    e->log = stderr;
    e->lfd = e->out_fd = -1;
    e->pid = -1;
    for (int i = 0; i < MAX_CONNS; i++)
        e->conns[i].fd = -1;
    e->inited = inited;
    e->state = ST_PENDING;
    snprintf(e->rid, sizeof e->rid, "fuzz-id");
    e->event = "{}";
    e->event_len = 2;
    e->deadline_ms = clk_epoch_ms() + 1000;
    return e;
}

void lam__feed(lam_env *e, int fd)
{
    conn *c = &e->conns[0];
    if (c->fd >= 0)
        conn_close(c);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    c->fd = fd;
    http_parser_init(&c->p, 65536, LAM_MAX_PAYLOAD);
    while (c->fd >= 0) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 1000) <= 0)
            break;
        on_readable(e, c);
    }
    if (c->fd >= 0)
        conn_close(c);
}
