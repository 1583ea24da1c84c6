/*
 * One Lambda execution environment on this machine: a `bootstrap` process
 * (CodeUri/bootstrap, Lambda's environment variables, its own process
 * group) and the Runtime API 2018-06-01 server it talks to on 127.0.0.1.
 * lam_env_invoke() delivers one event and runs the environment until the
 * runtime answers, fails, exits or passes its deadline, with Lambda's state
 * machine, status codes and error payloads; it prints START/END/REPORT and
 * the function's own output, line by line, to the log stream, and keeps
 * the last 4 KB of each invocation's log for the Invoke API's LogType Tail.
 * A cold start runs init as Lambda does: the init phase (10 s), and after a
 * failure one retry in the invoke phase, each failure logged as an
 * INIT_REPORT line with its error type.
 *
 * An environment lives on one event loop (platform/loop.h): its Runtime
 * API socket, the runtime's connections, its output pipe and its process
 * (a pidfd) are watchers there, its deadlines timers; an invocation is
 * started with lam_env_invoke_async() and ends in a callback.  All calls
 * for one environment come from its loop's thread.
 */
#ifndef NERD_RUNTIME_H
#define NERD_RUNTIME_H

#include <stddef.h>
#include <stdio.h>

#include "loop.h"
#include "template.h"

#define LAM_MAX_PAYLOAD 6291556u /* 6 MB + 100, as RIE enforces */
#define LAM_TAIL_MAX 4096u       /* X-Amz-Log-Result: the last 4 KB of log */

typedef struct lam_env lam_env;

typedef enum lam_outcome {
    LAM_OK = 0,          /* the runtime posted /response */
    LAM_FUNCTION_ERROR,  /* it posted /error: payload is its error JSON */
    LAM_INIT_ERROR,      /* /init/error, or the runtime failed to start */
    LAM_EXIT_ERROR,      /* the process exited during the invocation */
    LAM_TIMEOUT,         /* deadline passed (environment killed) */
    LAM_TOO_LARGE        /* response over LAM_MAX_PAYLOAD */
} lam_outcome;

typedef struct lam_result {
    lam_outcome outcome;
    char request_id[40];
    char *payload;           /* response body or error JSON (malloc'd) */
    size_t payload_len;
    double duration_ms;      /* /next delivery to response */
    double init_ms;          /* spawn to first /next; < 0 when warm */
    long max_memory_mb;
    char log_tail[LAM_TAIL_MAX]; /* the last 4 KB the invocation logged: a
                                  * cold start's INIT_START and init output,
                                  * START, the function's lines, END, REPORT */
    size_t log_tail_len;
} lam_result;

/* Checks that f's CodeUri holds an executable bootstrap: 0, or -1 with
 * what is wrong in msg ("CodeUri DIR does not exist", "DIR/bootstrap does
 * not exist", "DIR/bootstrap is not executable").  An environment without
 * one starts, and its invocations fail with Runtime.InvalidEntrypoint. */
int lam_check_bootstrap(const sam_function *f, char *msg, size_t cap);

/* Creates an environment for f on loop L (NULL: a loop of its own, for
 * the synchronous calls below): binds the Runtime API on 127.0.0.1 (an
 * ephemeral port), logs INIT_START and spawns bootstrap (when there is
 * one: see lam_check_bootstrap).  log: where platform lines and the
 * function's output go.  cpu >= 0: the runtime runs on that CPU only
 * (beside the loop's thread); -1: on any.  Returns 0 or -1 with a message
 * in err. */
int lam_env_start(ev_loop *L, const sam_function *f, FILE *log, int cpu, lam_env **out,
                  char *err, size_t errlen);

/* Called on the environment's loop when an invocation or a provisioned
 * init is over (after the loop iteration that ended it: e may be freed
 * here). */
typedef void (*lam_done_fn)(lam_env *e, void *arg);

/* Starts an invocation of event[0..len) (kept by the caller until done
 * runs) whose outcome fills *res (free with lam_result_fini), then calls
 * done(e, arg).  Returns 0, or -1 when e is busy (nothing started).  The
 * invocation's life is lam_env_invoke()'s, below. */
int lam_env_invoke_async(lam_env *e, const char *event, size_t len, lam_result *res,
                         lam_done_fn done, void *arg);

/* Invokes the function with event[0..len), running e's loop until the
 * invocation is over; fills *res (free with lam_result_fini).  On a cold start the runtime's init runs first; if it
 * fails (no bootstrap: Runtime.InvalidEntrypoint; exit: Runtime.ExitError;
 * /init/error: the type the runtime gave; no /next in time:
 * Sandbox.Timedout), once more as Lambda retries it, the outcome is
 * LAM_INIT_ERROR with Lambda's error JSON (or the body the runtime posted)
 * and the log has INIT_REPORT lines for both attempts, the error inside
 * START..END and REPORT with "Status: error\tError Type: T".  Returns 0
 * when a result was produced (whatever the outcome), -1 on an internal
 * error.  After LAM_TIMEOUT, LAM_EXIT_ERROR and LAM_INIT_ERROR the
 * environment is dead: free it and start another. */
int lam_env_invoke(lam_env *e, const char *event, size_t len, lam_result *res);

/* Runs the environment's init now (provisioned concurrency), running e's
 * loop until it is over: returns 0 once
 * the runtime waits in its first /next (INIT_REPORT ... Status: success),
 * -1 if it failed or exceeded 10 s (INIT_REPORT ... Status: error|timeout).
 * Later invocations report no Init Duration. */
int lam_env_prewarm(lam_env *e);

/* 1 while the environment can take another invocation. */
int lam_env_alive(const lam_env *e);

/* The loop e lives on. */
ev_loop *lam_env_loop(const lam_env *e);

/* Empties r for a new invocation (the 4 KB tail buffer is not cleared). */
void lam_result_init(lam_result *r);

void lam_result_fini(lam_result *r);

/* Shuts the environment down (SIGTERM, SIGKILL after 2 s) and frees it.
 * lam_env_free(NULL) is a no-op. */
void lam_env_free(lam_env *e);

/* Kills the environment at once (SIGKILL to its process group, as Lambda
 * reclaims an idle sandbox) and frees it.  lam_env_kill(NULL) is a no-op. */
void lam_env_kill(lam_env *e);

/* Internal, for tests and fuzzing: an environment on a loop of its own,
 * with no process and no listening socket, whose invocation (event "{}",
 * request id "fuzz-id") is already waiting, its runtime still in init
 * (inited 0: /init/error is recorded) or past it (1); lam__feed() serves
 * every request that arrives on fd (made non-blocking) until the peer
 * closes it or nothing arrives for a second. */
lam_env *lam__fake(const sam_function *f, int inited);
void lam__feed(lam_env *e, int fd);

#endif
