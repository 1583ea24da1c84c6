/*
 * The load lab's generator and reports (`nerd bench --host URL --scenario
 * NAME|FILE`): a single-threaded epoll event loop that drives a loopback
 * HTTP target with many keep-alive connections in the closed model
 * (virtual users, think time, spawn rate — Locust's semantics) or the
 * open model (arrival rate; latency measured from each request's intended
 * send time, as wrk2 does, and also from the actual send), and the run
 * folder it leaves: Locust-compatible CSV files, per-second series, the
 * provider's metrics for the same window and a self-contained report.html.
 *
 * Ownership: lg_run fills an lg_result the caller releases with
 * lg_result_fini.  Thread safety: none needed — one run per thread, no
 * globals written.
 */
#ifndef NERD_LG_LOADGEN_H
#define NERD_LG_LOADGEN_H

#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "lg_common.h"
#include "lg_hist.h"
#include "lg_scenario.h"

/* ---- target --------------------------------------------------------- */

typedef struct lg_target {
    char host[64];             /* as written: 127.0.0.1, localhost, [::1] */
    int port;
    int family;                /* AF_INET or AF_INET6 */
    struct sockaddr_in6 addr;  /* big enough for both */
    unsigned addr_len;
    char base[256];            /* path prefix from the URL, no trailing '/' */
    char origin[128];          /* "http://host:port" */
} lg_target;

/* Parses "http://127.0.0.1:PORT[/base]" (also localhost, any 127.x.y.z
 * and [::1]).  LG_EHOST with a message for anything else (https, other
 * hosts, user info, bad port). */
lg_err lg_target_parse(const char *url, lg_target *t, char *err, size_t errcap);

/* ---- payloads ------------------------------------------------------- */

/* Preformatted requests: POST PATH with {"text": ...} bodies, one per
 * text, laid out back to back in one buffer. */
typedef struct lg_payloads {
    size_t n;
    char *buf;                 /* owned */
    size_t *off, *len;         /* owned: request i is buf[off[i] .. off[i]+len[i]) */
    size_t body_bytes;         /* sum of body sizes (for the report) */
} lg_payloads;

/* Builds the requests for host:port and path (base + path) from the
 * texts file (one text per line, empty lines skipped; at most
 * LG_MAX_TEXTS lines of LG_MAX_TEXT bytes) or, when texts is NULL, the
 * built-in mix of short and long English sentences. */
lg_err lg_payloads_build(lg_payloads *p, const lg_target *t, const char *path,
                         const char *texts, char *err, size_t errcap);
void lg_payloads_fini(lg_payloads *p);

/* The built-in sentences (for tests and docs). */
size_t lg_builtin_text_count(void);
const char *lg_builtin_sentence(size_t i);

/* ---- run ------------------------------------------------------------ */

typedef struct lg_config {
    const lg_scenario *scn;    /* already scaled; borrowed.  With `request`
                                  lines it sends those (payloads and name unused) */
    const lg_target *target;   /* borrowed */
    const lg_payloads *payloads; /* borrowed; the classic mix */
    const char *name;          /* request name in the stats, e.g. "/ner" */
    int progress;              /* 1: a progress line on stderr every second */
    const volatile sig_atomic_t *stop; /* set by a signal handler: end early */
    uint64_t seed;             /* think-time random numbers (0: fixed default) */
} lg_config;

/* One slice of the timeline: a wall-clock second, or the part of one on
 * either side of the statistics reset. */
typedef struct lg_slice {
    int64_t t;                 /* epoch second */
    int phase;                 /* -1 warm-up, 0.. stage index, n_stages: drain */
    int after_reset;           /* counted in the main window */
    int partial;               /* closed early by a phase change (no history row of its
                                  own: the second's next slice carries it) */
    uint32_t users;            /* users (open: busy connections) at its end */
    uint64_t requests, failures, content;
    double rt_sum_ms, last_ts; /* latency sum; wall time of its last response */
    uint64_t min_us, max_us, umin_us, umax_us;
    uint32_t p50, p95, p99;    /* µs, from the intended send time */
    uint32_t up50, up95, up99; /* µs, from the actual send */
    uint32_t off, n, uoff, un; /* sparse histograms in the pools (n = 0 once
                                  the pools reach their cap) */
} lg_slice;

typedef struct lg_error_row {
    char msg[256];
    uint64_t count;
    uint32_t entry;            /* the request it failed on (lg_result.entries) */
} lg_error_row;

/* One row of the statistics: a request of the mix by method and name
 * (requests with the same method and name share one, as in Locust). */
typedef struct lg_entry {
    char method[8];
    char name[LG_REQ_NAME];
    uint64_t requests, failures, content; /* main window */
    double rt_sum_ms;
    lg_hist *lat;              /* owned: main window, from the intended send time */
} lg_entry;

#define LG_MAX_ERROR_ROWS 64

typedef struct lg_stats {
    uint64_t requests, failures, content;
    double rt_sum_ms;
    lg_hist lat;               /* from the intended send time */
    lg_hist unc;               /* from the actual send */
} lg_stats;

typedef struct lg_result {
    double t_start, t_reset, t_end; /* wall clock, epoch seconds */
    double first_ts, last_ts;  /* main window: first/last response */
    lg_stats main;             /* after the reset (warm-up excluded) */
    lg_stats all;              /* whole run */
    uint64_t status[1000];     /* main window, by status code */
    uint64_t conn_errors, timeouts; /* main window */
    uint64_t sent, retried;    /* whole run: requests written; retries on stale connections */
    uint64_t connects;         /* connections opened */
    uint32_t peak_users, peak_conns;
    lg_error_row errors[LG_MAX_ERROR_ROWS]; /* main window failures */
    size_t n_errors;
    lg_entry entries[LG_MAX_REQUESTS]; /* the classic mix: one, POST name */
    size_t n_entries;
    lg_slice *slices;          /* owned */
    size_t n_slices;
    uint16_t *sp_idx;          /* owned sparse pool */
    uint32_t *sp_cnt;
    size_t sp_n, sp_cap;
    int interrupted;           /* SIGINT/SIGTERM ended it early */
} lg_result;

/* Runs the scenario to its end (bounded by the scenario's duration, the
 * LG_MAX_RUN_S cap and, while draining, the request timeout).  *res is
 * initialised here.  On failure err says why. */
lg_err lg_run(const lg_config *cfg, lg_result *res, char *err, size_t errcap);
void lg_result_fini(lg_result *res);

/* ---- outputs -------------------------------------------------------- */

typedef struct lg_report_in {
    const lg_scenario *scn;    /* as run (scaled) */
    const lg_target *target;
    const lg_result *res;
    const char *name;          /* request name, e.g. "/ner" */
    const char *prefix;        /* CSV prefix, e.g. "light-a" */
    double time_scale;
    const char *provider_json; /* /__nerd/metrics/json body or NULL */
    const char *provider_note; /* why there is none */
} lg_report_in;

/* Writes PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv,
 * PREFIX_exceptions.csv (Locust 2.x columns), per_second.csv, summary.json
 * and report.html into dir (which must exist). */
lg_err lg_report_write(const lg_report_in *in, const char *dir, char *err, size_t errcap);

/* GET /__nerd/metrics/json?from=S&to=S&period=1 from the target (epoch seconds,
 * as the local platform's gateway takes them): *body (malloc'd, NUL
 * terminated) on a 200 with a JSON object; LG_ENOENT when the target has
 * no such endpoint (the message says what came back). */
lg_err lg_fetch_provider(const lg_target *t, int64_t from_s, int64_t to_s, char **body,
                         char *err, size_t errcap);

#endif
