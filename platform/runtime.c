/*
 * A Lambda execution environment (see runtime.h): the bootstrap process
 * in its own process group and cgroups, its output pipe logged line by
 * line, its exit seen through a pidfd, and the init and invocation state
 * machine that Lambda runs: a cold start's init (10 s), one retry of a
 * failed init in the invoke phase, the event delivered to a parked /next,
 * the function's deadline, START/END/REPORT and INIT_REPORT lines.
 * Everything is a watcher or a timer on the environment's loop; after
 * each event lam__advance() moves the state machine on.  The Runtime API
 * requests themselves are served by rtapi.c, the process is process.c's,
 * the log envlog.c's.
 */
#define _GNU_SOURCE
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "runtime_int.h"

#define INIT_LIMIT_MS 10000.0


void lam__set_result(lam_env *e, lam_outcome o, const char *payload, size_t len)
{
    lam_result *r = e->res;
    if (!r || e->state == LAM__ST_DONE)
        return;
    r->outcome = o;
    free(r->payload);
    r->payload = malloc(len + 1);
    if (r->payload) {
        memcpy(r->payload, payload, len);
        r->payload[len] = 0;
        r->payload_len = len;
    }
    e->state = LAM__ST_DONE;
}

/* Copies s[0..n) into out (cap bytes, NUL-terminated) as one log line:
 * control characters become spaces. */
void lam__one_line(char *out, size_t cap, const char *s, size_t n)
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
void lam__init_fail(lam_env *e, const char *type, const char *msg, size_t msg_len,
                      const char *body, size_t blen, int timeout)
{
    if (e->ierr_type[0])
        return;
    lam__one_line(e->ierr_type, sizeof e->ierr_type, type, strlen(type));
    lam__one_line(e->ierr_msg, sizeof e->ierr_msg, msg, msg_len);
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

/* Logs the failed init attempt of phase ("init" or "invoke") as Lambda
 * does. */
static void init_report(lam_env *e, const char *phase)
{
    double d = e->ierr_t > e->spawn_t ? e->ierr_t - e->spawn_t : 0.0;
    if (e->ierr_timeout)
        lam__logf(e, "INIT_REPORT Init Duration: %.2f ms\tPhase: %s\tStatus: timeout\n", d, phase);
    else
        lam__logf(e, "INIT_REPORT Init Duration: %.2f ms\tPhase: %s\tStatus: error\tError Type: %s\n",
              d, phase, e->ierr_type);
}

/* The invocation whose init failed: Lambda's error JSON (or the body the
 * runtime posted to /init/error) and the lines Lambda logs: START, the
 * error ("RequestId: ID Error: MESSAGE" and the type; Lambda leaves a
 * posted error's message to the runtime's own output, nerd prints it
 * too), END, REPORT with "Status: error\tError Type: T" (timeout: "Status:
 * timeout" and the "Task timed out" line). */
static void init_failed(lam_env *e, lam_result *res, double t_invoke)
{
    char msg[LAM__IERR_MSG_MAX + 80];
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
    lam__logf(e, "START RequestId: %s Version: $LATEST\n%s%s%s%sEND RequestId: %s\n"
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
        lam__logf(e, "%s %s %s\n", ts, e->rid, e->ierr_msg);
    }
}

/* Hands the invocation's log tail to res; the next one starts afresh. */
static void tail_take(lam_env *e, lam_result *res)
{
    memcpy(res->log_tail, e->tail, e->tail_len);
    res->log_tail_len = e->tail_len;
    e->tail_len = 0;
}

static void fire_done(void *arg)
{
    lam_env *e = arg;
    if (e->sync_flag)
        *e->sync_flag = 1;
    lam_done_fn fn = e->done;
    e->done = NULL;
    if (fn)
        fn(e, e->done_arg);
}

/* The invocation or provisioned init is over: done runs after this loop
 * iteration, when nothing of it is on the stack any more. */
static void finish(lam_env *e)
{
    e->phase = LAM__P_IDLE;
    e->res = NULL;
    e->event = NULL;
    e->state = LAM__ST_IDLE;
    if (ev_defer(e->L, fire_done, e) != 0)
        fire_done(e);
}

/* Queues the event for the runtime (waiting in /next, or when it asks). */
static void begin_invoke(lam_env *e)
{
    e->phase = LAM__P_INVOKE;
    e->state = LAM__ST_PENDING;
    e->t_queued = clk_mono_ms();
    e->t_deliver = 0;
    e->deadline_ms = clk_epoch_ms() + (long long)e->f.timeout_s * 1000;
    e->deadline_mono = e->t_queued + e->f.timeout_s * 1000.0;
    e->cold = !e->cold_reported;
    e->start_pending = 1; /* written with the first output line, or with END */
}

/* The invocation's end: Duration, Max Memory Used, END and REPORT. */
static void end_invoke(lam_env *e)
{
    lam_result *res = e->res;
    double t_end = clk_mono_ms();
    /* what the runtime wrote before its response is in the pipe now: read it
     * all, so that its lines come before END whatever the loop did first */
    lam__drain_output(e);
    if (e->out_fd >= 0)
        lam__flush_output(e, 0);
    double dur = e->t_deliver > 0 ? t_end - e->t_deliver : t_end - e->t_queued;
    res->duration_ms = dur;
    /* the cgroup's peak misses shared file pages charged elsewhere; VmHWM
     * misses children: report the larger, reading /proc at most every 100 ms */
    long peak = lim_env_peak_mb(e->lim);
    if (e->pid > 0 && (t_end - e->hwm_t > 100.0 || e->hwm_mb == 0)) {
        e->hwm_mb = lam__max_memory_mb(e->pid);
        e->hwm_t = t_end;
    }
    res->max_memory_mb = peak > e->hwm_mb ? peak : e->hwm_mb;
    if (e->cold && e->inited > 0) {
        res->init_ms = e->init_ms;
        e->cold_reported = 1;
    }
    double billed = ceil(dur + (res->init_ms > 0 ? res->init_ms : 0));
    char init[64] = "";
    if (res->init_ms >= 0)
        snprintf(init, sizeof init, "Init Duration: %.2f ms\t", res->init_ms);
    /* START (unless output already forced it out), END and REPORT in one write */
    lam__logf(e, "%s%s%s%sEND RequestId: %s\nREPORT RequestId: %s\tDuration: %.2f ms\t"
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
        lam__logf(e, "%s %s Task timed out after %d.00 seconds\n", ts, e->rid, e->f.timeout_s);
    }
    tail_take(e, res);
}

/* Init succeeded (the runtime waits in its first /next). */
static void init_ok(lam_env *e)
{
    lam__drain_output(e); /* what init printed goes before START */
    if (e->phase == LAM__P_PREWARM) {
        lam__logf(e, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: success\n",
              e->init_ms);
        e->tail_len = 0; /* provisioned init is no invocation's log */
        e->cold_reported = 1; /* provisioned: no Init Duration on the first REPORT */
        e->prewarm_rc = 0;
        finish(e);
        return;
    }
    begin_invoke(e);
}

/* The init attempt failed: Lambda's retry, or the invocation's error. */
static void init_step_failed(lam_env *e)
{
    if (!e->ierr_type[0])
        lam__init_fail(e, "Runtime.Unknown", "Runtime failed to start", 23, NULL, 0, 0);
    lam__kill(e);
    lam__drain_output(e);
    if (e->phase == LAM__P_PREWARM) {
        init_report(e, "init");
        e->tail_len = 0;
        e->prewarm_rc = -1;
        finish(e);
        return;
    }
    if (e->phase == LAM__P_INIT) {
        init_report(e, "init");
        e->t_invoke = clk_mono_ms();
        if (lam__respawn(e) == 0) {
            e->phase = LAM__P_RETRY;
            e->init_limit_ms = e->f.timeout_s * 1000.0;
            return;
        }
    }
    init_report(e, "invoke");
    init_failed(e, e->res, e->t_invoke);
    tail_take(e, e->res);
    finish(e);
}

static void on_timer(ev_loop *L, ev_timer *t)
{
    (void)L;
    lam_env *e = t->data;
    double now = clk_mono_ms();
    int in_init = e->phase == LAM__P_INIT || e->phase == LAM__P_RETRY ||
                  e->phase == LAM__P_PREWARM;
    if (in_init && !e->inited && e->alive && now - e->spawn_t >= e->init_limit_ms) {
        lam__kill(e);
        char m[64];
        int k = snprintf(m, sizeof m, "Task timed out after %.2f seconds",
                         e->init_limit_ms / 1000.0);
        lam__init_fail(e, "Sandbox.Timedout", m, (size_t)k, NULL, 0, 1);
    } else if (e->phase == LAM__P_INVOKE && e->inited > 0 &&
               (e->state == LAM__ST_PENDING || e->state == LAM__ST_RUNNING) &&
               now >= e->deadline_mono) {
        lam__kill(e);
        char js[256];
        int k = snprintf(js, sizeof js, "{\"errorMessage\":\"RequestId: %s Error: Task timed "
                         "out after %d.00 seconds\",\"errorType\":\"Sandbox.Timedout\"}",
                         e->rid, e->f.timeout_s);
        lam__set_result(e, LAM_TIMEOUT, js, (size_t)k);
    }
    lam__advance(e);
}

/* Arms the one timer an environment needs: its init's limit or its
 * invocation's deadline. */
static void arm(lam_env *e)
{
    double at = 0;
    int in_init = e->phase == LAM__P_INIT || e->phase == LAM__P_RETRY ||
                  e->phase == LAM__P_PREWARM;
    if (in_init && !e->inited && e->alive)
        at = e->spawn_t + e->init_limit_ms;
    else if (e->phase == LAM__P_INVOKE && e->state != LAM__ST_DONE)
        at = e->deadline_mono;
    if (at > 0) {
        if (!ev_timer_armed(&e->tm) || e->tm.at != at)
            ev_timer_start(e->L, &e->tm, at, on_timer, e);
    } else {
        ev_timer_stop(e->L, &e->tm);
    }
}

void lam__advance(lam_env *e)
{
    if (e->in_advance)
        return;
    e->in_advance = 1;
    for (int guard = 0; guard < 8; guard++) {
        int ph = e->phase;
        if (ph == LAM__P_INIT || ph == LAM__P_RETRY || ph == LAM__P_PREWARM) {
            if (e->inited > 0 && e->alive && !e->ierr_type[0])
                init_ok(e);
            else if (e->ierr_type[0] || !e->alive || e->inited < 0)
                init_step_failed(e);
        } else if (ph == LAM__P_INVOKE) {
            lam__deliver_parked(e);
            if (e->state == LAM__ST_DONE && e->res) { /* (a fake has no res) */
                end_invoke(e);
                finish(e);
            }
        }
        if (e->phase == ph)
            break;
    }
    arm(e);
    e->in_advance = 0;
}

int lam_env_alive(const lam_env *e) { return e && e->alive && e->inited >= 0; }

ev_loop *lam_env_loop(const lam_env *e) { return e->L; }

int lam_env_invoke_async(lam_env *e, const char *event, size_t len, lam_result *res,
                         lam_done_fn done, void *arg)
{
    if (e->phase != LAM__P_IDLE || e->done)
        return -1;
    lam_result_init(res);
    clk_uuid4(e->rid);
    snprintf(res->request_id, sizeof res->request_id, "%s", e->rid);
    e->t_start = e->t_invoke = clk_mono_ms();
    e->res = res;
    e->event = event;
    e->event_len = len;
    e->done = done;
    e->done_arg = arg;
    if (e->inited > 0 && e->alive) {
        begin_invoke(e);
    } else {
        e->phase = LAM__P_INIT;
        e->init_limit_ms = INIT_LIMIT_MS;
    }
    lam__advance(e);
    return 0;
}

/* Runs e's loop until the flag is set. */
static void run_until(lam_env *e, int *flag)
{
    e->sync_flag = flag;
    while (!*flag)
        if (ev_run_once(e->L, 100) != 0)
            break;
    e->sync_flag = NULL;
}

int lam_env_invoke(lam_env *e, const char *event, size_t len, lam_result *res)
{
    int flag = 0;
    if (lam_env_invoke_async(e, event, len, res, NULL, NULL) != 0) {
        lam_result_init(res);
        res->outcome = LAM_INIT_ERROR;
        return -1;
    }
    run_until(e, &flag);
    return flag ? 0 : -1;
}

int lam_env_prewarm(lam_env *e)
{
    if (!e || e->phase != LAM__P_IDLE)
        return -1;
    int flag = 0;
    e->t_start = clk_mono_ms();
    e->phase = LAM__P_PREWARM;
    e->init_limit_ms = INIT_LIMIT_MS;
    e->prewarm_rc = -1;
    lam__advance(e);
    run_until(e, &flag);
    return flag ? e->prewarm_rc : -1;
}

void lam_result_init(lam_result *r)
{
    r->outcome = LAM_OK;
    r->request_id[0] = 0;
    r->payload = NULL;
    r->payload_len = 0;
    r->duration_ms = 0;
    r->init_ms = -1;
    r->max_memory_mb = 0;
    r->log_tail_len = 0;
}

void lam_result_fini(lam_result *r)
{
    if (!r)
        return;
    free(r->payload);
    r->payload = NULL;
}

static lam_env *env_new(ev_loop *L, const sam_function *f)
{
    lam_env *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->f = *f;
    e->L = L ? L : ev_new();
    e->own_loop = !L;
    if (!e->L) {
        free(e);
        return NULL;
    }
    e->log = stderr;
    e->lfd = e->out_fd = e->pidfd = -1;
    e->lio.fd = e->oio.fd = e->pio.fd = -1;
    e->pid = -1;
    e->cpu = -1;
    for (int i = 0; i < LAM__MAX_CONNS; i++) {
        e->conns[i].fd = e->conns[i].io.fd = -1;
        e->conns[i].e = e;
    }
    return e;
}

int lam_env_start(ev_loop *L, const sam_function *f, FILE *log, int cpu, lam_env **out,
                  char *err, size_t errlen)
{
    *out = NULL;
    lam_env *e = env_new(L, f);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
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
    e->cpu = cpu;
    e->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (e->lfd < 0 || bind(e->lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(e->lfd, 16) != 0 || getsockname(e->lfd, (struct sockaddr *)&a, &al) != 0 ||
        ev_io_start(e->L, &e->lio, e->lfd, EPOLLIN, lam__accept, e) != 0) {
        snprintf(err, errlen, "Runtime API socket: %s", strerror(errno));
        lam_env_free(e);
        return -1;
    }
    e->port = ntohs(a.sin_port);
    char why[1400];
    if (lam_check_bootstrap(&e->f, why, sizeof why) != 0) {
        /* as Lambda: the environment starts, its init fails */
        lam__log_init_start(e);
        lam__no_bootstrap(e);
        *out = e;
        return 0;
    }
    if (lam__spawn(e, 1, err, errlen)) {
        lam_env_free(e);
        return -1;
    }
    *out = e;
    return 0;
}

static void env_release(lam_env *e)
{
    lam__log_flush(NULL); /* (the loop may not run again) */
    ev_timer_stop(e->L, &e->tm);
    lam__pid_close(e);
    lam__out_close(e);
    for (int i = 0; i < LAM__MAX_CONNS; i++)
        if (e->conns[i].fd >= 0)
            lam__conn_close(&e->conns[i]);
    if (e->lfd >= 0) {
        ev_io_stop(e->L, &e->lio);
        close(e->lfd);
    }
    lim_env_free(e->lim);
    free(e->ierr_body);
    if (e->own_loop)
        ev_free(e->L);
    free(e);
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
        lam__kill(e);
    }
    env_release(e);
}

void lam_env_kill(lam_env *e)
{
    if (!e)
        return;
    lam__kill(e);
    env_release(e);
}

lam_env *lam__fake(const sam_function *f, int inited)
{
    lam_env *e = env_new(NULL, f);
    if (!e)
        return NULL;
    e->inited = inited;
    e->phase = LAM__P_INVOKE;
    e->state = LAM__ST_PENDING;
    snprintf(e->rid, sizeof e->rid, "fuzz-id");
    e->event = "{}";
    e->event_len = 2;
    e->deadline_ms = clk_epoch_ms() + 1000;
    e->deadline_mono = clk_mono_ms() + 1000;
    return e;
}

void lam__feed(lam_env *e, int fd)
{
    lam__conn *c = lam__conn_open(e, fd);
    if (!c) {
        close(fd);
        return;
    }
    double until = clk_mono_ms() + 2000;
    while (c->fd >= 0 && clk_mono_ms() < until)
        if (ev_run_once(e->L, 100) != 0)
            break;
    if (c->fd >= 0)
        lam__conn_close(c);
}
