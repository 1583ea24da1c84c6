/*
 * The Lambda runtime loop shared by the functions' bootstraps (the NER
 * function's function/bootstrap.c, the products API's
 * function/products/main.c): GET /next, the handler, POST /response or
 * /error, as AWS's runtimes do it, on the Runtime API client of
 * rtclient.h.  The Runtime API's answers are treated as AWS's runtimes
 * treat them: a 413 on /response (a result over the payload limit) is
 * posted as an invocation error instead (Function.ResponseSizeTooLarge),
 * other 4xx on a POST are logged, and a refused /next (4xx), a 5xx or a
 * lost connection end the loop (one line on stderr) for Lambda to start a
 * new process.  Each event's trace id goes to _X_AMZN_TRACE_ID; a result
 * sent after the deadline is logged.  One loop per process, not thread
 * safe.  Prefix rtl_.
 */
#ifndef NERD_FUNCTION_RTLOOP_H
#define NERD_FUNCTION_RTLOOP_H

#include <stddef.h>

#include "rtclient.h"

/* Handles one event.  Returns 0 with the result in *out[0..*out_len)
 * (valid until the next call), or nonzero with a message in msg (msgcap
 * bytes) to post as a Runtime.HandlerError. */
typedef int (*rtl_invoke_fn)(void *arg, const rtc_event *ev, const char **out, size_t *out_len,
                             char *msg, size_t msgcap);

/* A client for AWS_LAMBDA_RUNTIME_API (events up to max_event bytes;
 * NERD_RUNTIME_PIPELINE=0 turns pipelining off), or NULL with a line on
 * stderr (prefixed with who) when the variable is unset or invalid. */
rtc *rtl_open(const char *who, size_t max_event);

/* An init failure: a line on stderr, then POST /init/error with Lambda's
 * error JSON of type and msg.  Frees c (NULL allowed).  Returns 1, the
 * exit status. */
int rtl_init_failed(rtc *c, const char *who, const char *type, const char *msg);

/* Runs the loop until the Runtime API is gone, fails or refuses /next;
 * returns 1, the exit status.  c stays the caller's. */
int rtl_serve(rtc *c, const char *who, rtl_invoke_fn fn, void *arg);

/* Lambda's error JSON {"errorMessage","errorType"} into out (cap bytes):
 * quotes and backslashes escaped, control characters dropped, other
 * non-ASCII bytes as '?' (msg may quote configuration text). */
void rtl_error_json(char *out, size_t cap, const char *type, const char *msg);

#endif
