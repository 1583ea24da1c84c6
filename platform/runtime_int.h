/*
 * Internals shared by the execution environment (runtime.c: process,
 * init and invocation state machine, logs) and the server side of its
 * Runtime API (rtapi.c: connections, requests, answers).  Not a public
 * interface: nothing outside those two files includes it.
 */
#ifndef NERD_RUNTIME_INT_H
#define NERD_RUNTIME_INT_H

#include <sys/types.h>

#include "envlimit.h"
#include "loop.h"
#include "nerd/http.h"
#include "runtime.h"

#define LAM__MAX_CONNS 8               /* Runtime API connections per environment */
#define LAM__CONN_CAP (LAM_MAX_PAYLOAD + 65536)
#define LAM__LINE_MAX 8192
#define LAM__IERR_MSG_MAX 1024          /* an init error's message as logged */

enum { LAM__ST_IDLE, LAM__ST_PENDING, LAM__ST_RUNNING, LAM__ST_DONE };

/* What the environment is doing: nothing, a cold start's init (first
 * attempt, 10 s), Lambda's retry of it in the invoke phase, a provisioned
 * init, or an invocation. */
enum { LAM__P_IDLE, LAM__P_INIT, LAM__P_RETRY, LAM__P_PREWARM, LAM__P_INVOKE };

typedef struct lam__conn {
    ev_io io;
    lam_env *e;
    int fd;
    char *buf;
    size_t len, cap;
    http_parser p;
    int parked;     /* a GET /next waiting for an event */
    int continued;  /* 100 Continue sent */
    int closing;    /* close once out is written */
    int corked;     /* answers are queued, written when reading is done */
    char *out;      /* answer bytes not yet written */
    size_t out_len, out_off;
} lam__conn;

struct lam_env {
    sam_function f;
    FILE *log;
    ev_loop *L;
    int own_loop;
    int lfd, port;
    ev_io lio;
    pid_t pid;
    int cpu;               /* the runtime's CPU, -1: any */
    int pidfd;
    ev_io pio;
    int out_fd;
    ev_io oio;
    char line[LAM__LINE_MAX];
    size_t line_len;
    int alive, cold_reported;
    int inited;     /* 0 in init, 1 past it (first /next), -1 init failed,
                     * -2 no bootstrap */
    int phase;
    int in_advance;
    double spawn_t, init_ms, init_limit_ms, t_invoke;
    char ierr_type[128];
    char ierr_msg[LAM__IERR_MSG_MAX];
    char *ierr_body;       /* the body a runtime posted to /init/error */
    size_t ierr_body_len;
    int ierr_timeout;      /* no /next within the limit */
    double ierr_t;         /* when it failed (monotonic ms) */
    char tail[LAM_TAIL_MAX];
    size_t tail_len;
    lam__conn conns[LAM__MAX_CONNS];
    lim_env *lim;
    int start_pending;     /* START line not yet written */
    long hwm_mb;
    double hwm_t;
    /* the current invocation */
    int state, cold;
    char rid[40];
    const char *event;
    size_t event_len;
    double t_start, t_deliver, t_queued, deadline_mono;
    long long deadline_ms;
    lam_result *res;
    ev_timer tm;
    lam_done_fn done;
    void *done_arg;
    int prewarm_rc;
    int *sync_flag;        /* lam_env_invoke / lam_env_prewarm: set when done */
};

/* rtapi.c */
void lam__accept(ev_loop *L, ev_io *w, uint32_t revents);
/* Serves fd (non-blocking) as a Runtime API connection; NULL when all
 * LAM__MAX_CONNS are taken. */
lam__conn *lam__conn_open(lam_env *e, int fd);
void lam__conn_close(lam__conn *c);
void lam__deliver_parked(lam_env *e);

/* envlog.c */
void lam__log_write(lam_env *e, const char *p, size_t n);
void lam__logf(lam_env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lam__log_flush(void *unused);     /* this thread's gathered lines */
void lam__flush_output(lam_env *e, int all);
int lam__read_output(lam_env *e);      /* 1 when something was read */
void lam__drain_output(lam_env *e);
void lam__out_close(lam_env *e);

/* process.c */
void lam__log_init_start(lam_env *e); /* INIT_START, naming e's runtime */
int lam__spawn(lam_env *e, int log_start, char *err, size_t errlen);
void lam__no_bootstrap(lam_env *e);
int lam__respawn(lam_env *e);
void lam__kill(lam_env *e);
void lam__pid_close(lam_env *e);
long lam__max_memory_mb(pid_t pid);

/* runtime.c */
void lam__advance(lam_env *e);
void lam__set_result(lam_env *e, lam_outcome o, const char *payload, size_t len);
void lam__init_fail(lam_env *e, const char *type, const char *msg, size_t msg_len,
                    const char *body, size_t blen, int timeout);
void lam__one_line(char *out, size_t cap, const char *s, size_t n);

#endif
