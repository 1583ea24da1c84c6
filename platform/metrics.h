/*
 * Per-function metrics of the local platform, as CloudWatch's AWS/Lambda
 * namespace defines them: Invocations, Errors, Throttles, Duration (avg,
 * p50, p95, p99, max from a log-scale histogram, 8 buckets per octave),
 * ConcurrentExecutions (max), cold starts and Init Duration,
 * ProvisionedConcurrencyInvocations and ProvisionedConcurrencyUtilization.
 * Totals since start, and per-second slots for the last MET_SECONDS
 * seconds, served as Prometheus text and as JSON time series (by second
 * or by minute) for a time window.  Thread safe (one mutex).
 */
#ifndef NERD_METRICS_H
#define NERD_METRICS_H

#include <stddef.h>

#include "template.h"

#define MET_SECONDS 900

typedef struct met met;

met *met_new(const sam_template *t);
void met_free(met *m);

/* An invocation of function fi starts / ends (on a provisioned
 * environment or not). */
void met_begin(met *m, int fi, int provisioned);
void met_end(met *m, int fi, int provisioned, double duration_ms, int error, int cold,
             double init_ms);
void met_throttle(met *m, int fi);

/* Prometheus text exposition of the totals (malloc'd). */
char *met_prometheus(met *m, size_t *len);

/* JSON for [from_s, to_s] (epoch seconds, inclusive, clipped to the last
 * MET_SECONDS seconds), period 1 or 60 seconds (malloc'd):
 *   {"period":P,"from":S,"to":S,"started":S,
 *    "functions":{NAME:[{"t":S,"Invocations":N,...}, ...]},
 *    "totals":{NAME:{"Invocations":N,...,"ConcurrentExecutions":NOW,...}}}
 * "functions" holds a series entry per period (Invocations, Errors,
 * Throttles, ColdStarts, InitDurationAvg, Duration Avg/P50/P95/P99/Max,
 * ConcurrentExecutions: the most running at once, long invocations counted
 * in every second they run, ProvisionedConcurrency*); "totals" the same
 * statistics since "started" (when the platform started), the concurrency
 * now and at most, ReservedConcurrentExecutions (null when not set) and
 * ProvisionedConcurrentExecutions. */
char *met_json(met *m, long long from_s, long long to_s, int period, size_t *len);

#endif
