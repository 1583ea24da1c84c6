/*
 * The Lambda runtime loop shared by the functions' bootstraps (see
 * rtloop.h): what to do with each of the Runtime API's answers, Lambda's
 * error JSON, the init error report.
 */
#define _GNU_SOURCE
#include "rtloop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static long long epoch_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

void rtl_error_json(char *out, size_t cap, const char *type, const char *msg)
{
    size_t o = (size_t)snprintf(out, cap, "{\"errorMessage\":\"");
    for (const char *s = msg; *s && o + 8 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            out[o++] = '\\', out[o++] = (char)ch;
        else if (ch >= 0x80)
            out[o++] = '?';
        else if (ch >= 0x20)
            out[o++] = (char)ch;
    }
    snprintf(out + o, cap - o, "\",\"errorType\":\"%s\"}", type);
}

rtc *rtl_open(const char *who, size_t max_event)
{
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api || !*api) {
        fprintf(stderr, "%s: AWS_LAMBDA_RUNTIME_API is not set\n", who);
        return NULL;
    }
    char err[1024];
    rtc *c = NULL;
    if (rtc_new(api, max_event, &c, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", who, err);
        return NULL;
    }
    const char *pl = getenv("NERD_RUNTIME_PIPELINE");
    rtc_set_pipeline(c, !(pl && !strcmp(pl, "0")));
    return c;
}

int rtl_init_failed(rtc *c, const char *who, const char *type, const char *msg)
{
    char js[1536];
    fprintf(stderr, "%s: init failed: %s\n", who, msg);
    if (!c)
        return 1;
    rtl_error_json(js, sizeof js, type, msg);
    int status = 0;
    rtc_err e = rtc_fail(c, NULL, type, js, strlen(js), &status);
    if (e)
        fprintf(stderr, "%s: POST /init/error: %s\n", who, rtc_detail(c));
    else if (status < 200 || status >= 300)
        fprintf(stderr, "%s: POST /init/error: the Runtime API answered %d %s\n", who, status,
                rtc_answer(c));
    rtc_free(c);
    return 1;
}

/* What the loop does after a POST: go on to /next, or exit. */
enum { NEXT, EXIT };

/* The outcome of POST what (for request id) as the AWS runtimes treat it:
 * no answer (the connection failed) or a 5xx (the Runtime API is in a
 * state it cannot recover from and wants the runtime gone) → EXIT, with a
 * line on stderr; a 4xx (a request id or state the Runtime API refuses: the
 * invocation is over as far as it is concerned) → a line on stderr, NEXT;
 * 2xx → NEXT. */
static int posted(rtc *c, const char *who, rtc_err e, int status, const char *what,
                  const char *id)
{
    if (e) {
        fprintf(stderr, "%s: POST %s for request %s: %s\n", who, what, id, rtc_detail(c));
        return EXIT;
    }
    if (status >= 200 && status < 300)
        return NEXT;
    fprintf(stderr, "%s: POST %s for request %s: the Runtime API answered %d %s%s\n", who, what,
            id, status, rtc_answer(c), status >= 500 ? "; exiting" : "");
    return status >= 500 ? EXIT : NEXT;
}

/* POSTs an invocation error of the given type; NEXT or EXIT (posted()). */
static int post_error(rtc *c, const char *who, const char *id, const char *type, const char *msg)
{
    char js[1536];
    int status = 0;
    rtl_error_json(js, sizeof js, type, msg);
    rtc_err e = rtc_fail(c, id, type, js, strlen(js), &status);
    return posted(c, who, e, status, "/error", id);
}

/* POSTs the result; a 413 (the result is over the Runtime API's payload
 * limit) becomes an invocation error, as Lambda itself reports it to the
 * invoker (Function.ResponseSizeTooLarge).  NEXT or EXIT. */
static int post_response(rtc *c, const char *who, const char *id, const char *out,
                         size_t out_len)
{
    int status = 0;
    rtc_err e = rtc_respond(c, id, out, out_len, &status);
    if (e || status != 413)
        return posted(c, who, e, status, "/response", id);
    fprintf(stderr, "%s: POST /response for request %s: the Runtime API answered 413 %s; "
            "posting the error instead\n", who, id, rtc_answer(c));
    char msg[160];
    snprintf(msg, sizeof msg, "Response payload size (%zu bytes) exceeded the maximum allowed "
             "payload size (the Runtime API answered 413)", out_len);
    return post_error(c, who, id, "Function.ResponseSizeTooLarge", msg);
}

int rtl_serve(rtc *c, const char *who, rtl_invoke_fn fn, void *arg)
{
    for (;;) {
        rtc_event ev;
        int status = 0;
        rtc_err e = rtc_next(c, &status, &ev);
        if (e) { /* the platform is gone: exit, as Lambda runtimes do */
            fprintf(stderr, "%s: GET /next: %s\n", who, rtc_detail(c));
            break;
        }
        if (status != 200) { /* 4xx: refused; 5xx: "Runtime should exit promptly" */
            fprintf(stderr, "%s: GET /next: the Runtime API answered %d %s; exiting\n", who,
                    status, rtc_answer(c));
            break;
        }
        if (!ev.id[0]) {
            fprintf(stderr, "%s: GET /next: no request id (status 200); exiting\n", who);
            break;
        }
        if (ev.trace[0]) /* as the AWS runtimes do, for X-Ray SDKs */
            setenv("_X_AMZN_TRACE_ID", ev.trace, 1);
        else
            unsetenv("_X_AMZN_TRACE_ID");
        int then;
        if (ev.too_big) {
            then = post_error(c, who, ev.id, "Runtime.EventTooLarge", "the event exceeds 6 MB");
        } else {
            const char *out;
            size_t out_len;
            char msg[512] = "";
            if (fn(arg, &ev, &out, &out_len, msg, sizeof msg))
                then = post_error(c, who, ev.id, "Runtime.HandlerError", msg);
            else
                then = post_response(c, who, ev.id, out, out_len);
        }
        long long late = ev.deadline_ms ? epoch_ms() - ev.deadline_ms : 0;
        if (late > 0) /* the platform has timed the invocation out by now */
            fprintf(stderr, "%s: request %s finished %lld ms after its deadline\n", who, ev.id,
                    late);
        if (then == EXIT)
            break;
    }
    return 1;
}
