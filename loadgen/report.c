/*
 * The run folder of the load lab (see loadgen.h): Locust 2.x CSV files
 * with Locust's exact columns, order and number formats (response times
 * rounded as Locust stores them, Python float repr), our per-second series
 * (per_second.csv: corrected and uncorrected percentiles), summary.json,
 * the provider's metrics fetched from the local platform's /__nerd/metrics/json
 * and a self-contained report.html with inline SVG charts.
 */
#define _GNU_SOURCE
#include "loadgen.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "lg_resp.h"
#include "nerd/http_get.h"

static const double PCTS[] = {0.50, 0.66, 0.75, 0.80, 0.90, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0};
#define NPCT (sizeof PCTS / sizeof *PCTS)

/* ---- Locust's numbers ------------------------------------------------------ */

/* Locust keeps response times rounded: < 100 ms to 1 ms, < 1 s to 10 ms,
 * < 10 s to 100 ms, else to 1 s (Python's round: half to even). */
static double locust_round(double ms, int *is_int)
{
    *is_int = ms < 100;
    if (ms < 100)
        return nearbyint(ms);
    if (ms < 1000)
        return nearbyint(ms / 10) * 10;
    if (ms < 10000)
        return nearbyint(ms / 100) * 100;
    return nearbyint(ms / 1000) * 1000;
}

/* Statistics since the last reset, as Locust's StatsEntry holds them. */
typedef struct lstat {
    uint64_t n, fails, content;
    double rt_sum, start, last; /* last: 0 when no request yet */
    lg_hist *h;
} lstat;

static char *fmt_u(uint64_t v, char *b)
{
    snprintf(b, 32, "%llu", (unsigned long long)v);
    return b;
}

static double hist_ms(const lg_hist *h, uint64_t rank)
{
    return (double)lg_hist_at_rank(h, rank) / 1000.0;
}

/* median_response_time: 0 without requests; the rounded middle value,
 * kept within the exact min and max. */
static char *fmt_median(const lstat *s, char *b)
{
    if (!s->n || !s->h->total) {
        strcpy(b, "0");
        return b;
    }
    int is_int;
    double med = locust_round(hist_ms(s->h, (s->h->total - 1) / 2), &is_int);
    double mn = (double)s->h->min_us / 1000.0, mx = (double)s->h->max_us / 1000.0;
    if (med > mx)
        return lg_pyfloat(mx, b);
    if (med < mn)
        return lg_pyfloat(mn, b);
    if (is_int)
        return fmt_u((uint64_t)med, b);
    return lg_pyfloat(med, b);
}

static void percentile_fields(FILE *f, const lstat *s)
{
    for (size_t i = 0; i < NPCT; i++) {
        if (!s->n || !s->h->total) {
            fputs(",N/A", f);
            continue;
        }
        uint64_t rank = (uint64_t)((double)s->h->total * PCTS[i]);
        int is_int;
        double v = locust_round(hist_ms(s->h, rank), &is_int);
        fprintf(f, ",%llu", (unsigned long long)v);
    }
}

static double total_rps(const lstat *s, uint64_t count)
{
    if (!s->last || !s->start || s->last == s->start)
        return 0.0;
    return (double)count / (s->last - s->start);
}

/* avg, min, max, average content size (Locust's representations). */
static void rt_fields(FILE *f, const lstat *s)
{
    char a[40], b[40], c[40], d[40];
    double avg = s->n ? s->rt_sum / (double)s->n : 0.0;
    if (s->n && s->h->total) {
        lg_pyfloat((double)s->h->min_us / 1000.0, b);
        lg_pyfloat((double)s->h->max_us / 1000.0, c);
    } else {
        strcpy(b, "0");
        strcpy(c, "0");
    }
    if (s->n)
        lg_pyfloat((double)s->content / (double)s->n, d);
    else
        strcpy(d, "0");
    fprintf(f, "%s,%s,%s,%s", lg_pyfloat(avg, a), b, c, d);
}

/* Python's csv module: quote a field holding a comma, quote or newline. */
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    putc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            putc('"', f);
        putc(*s, f);
    }
    putc('"', f);
}

static const char STATS_HEAD[] =
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%";
static const char HISTORY_HEAD[] =
    "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,"
    "99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,"
    "Total Average Response Time,Total Min Response Time,Total Max Response Time,"
    "Total Average Content Size";
static const char FAILURES_HEAD[] = "Method,Name,Error,Occurrences";
static const char EXCEPTIONS_HEAD[] = "Count,Message,Traceback,Nodes";

static void stats_row(FILE *f, const char *type, const char *name, const lstat *s)
{
    char a[40], b[40], m[40];
    csv_field(f, type);
    putc(',', f);
    csv_field(f, name);
    fprintf(f, ",%llu,%llu,%s,", (unsigned long long)s->n, (unsigned long long)s->fails,
            fmt_median(s, m));
    rt_fields(f, s);
    fprintf(f, ",%s,%s", lg_pyfloat(total_rps(s, s->n), a), lg_pyfloat(total_rps(s, s->fails), b));
    percentile_fields(f, s);
    fputs("\r\n", f);
}

/* ---- per-second series ----------------------------------------------------- */

typedef struct sec {
    int64_t t;
    int phase, after_reset;
    uint32_t users;
    uint64_t requests, failures;
    double p50, p95, p99, max, up50, up95, up99, umax; /* ms */
} sec;

static void add_slice_hist(const lg_result *r, const lg_slice *s, lg_hist *lat, lg_hist *unc)
{
    if (lat && s->n)
        lg_hist_add_sparse(lat, r->sp_idx + s->off, r->sp_cnt + s->off, s->n, s->min_us,
                           s->max_us);
    if (unc && s->un)
        lg_hist_add_sparse(unc, r->sp_idx + s->uoff, r->sp_cnt + s->uoff, s->un, s->umin_us,
                           s->umax_us);
}

/* One row per second (the two slices around the reset merged). */
static sec *seconds(const lg_result *r, size_t *n_out, lg_hist *a, lg_hist *b)
{
    sec *v = calloc(r->n_slices ? r->n_slices : 1, sizeof *v);
    size_t n = 0;
    if (!v)
        return NULL;
    for (size_t i = 0; i < r->n_slices;) {
        const lg_slice *s = &r->slices[i];
        size_t j = i + 1;
        while (j < r->n_slices && r->slices[j].t == s->t && r->slices[j - 1].partial)
            j++;
        lg_hist_reset(a);
        lg_hist_reset(b);
        sec *o = &v[n++];
        o->t = s->t;
        for (size_t k = i; k < j; k++) {
            const lg_slice *x = &r->slices[k];
            o->requests += x->requests;
            o->failures += x->failures;
            o->users = x->users;
            o->phase = x->phase;
            o->after_reset = x->after_reset;
            add_slice_hist(r, x, a, b);
        }
        if (j - i == 1 || !a->total) {
            o->p50 = s->p50 / 1000.0, o->p95 = s->p95 / 1000.0, o->p99 = s->p99 / 1000.0;
            o->max = s->max_us / 1000.0;
            o->up50 = s->up50 / 1000.0, o->up95 = s->up95 / 1000.0, o->up99 = s->up99 / 1000.0;
            o->umax = s->umax_us / 1000.0;
        }
        if (j - i > 1 && a->total) {
            o->p50 = (double)lg_hist_percentile(a, 0.50) / 1000.0;
            o->p95 = (double)lg_hist_percentile(a, 0.95) / 1000.0;
            o->p99 = (double)lg_hist_percentile(a, 0.99) / 1000.0;
            o->max = (double)a->max_us / 1000.0;
            o->up50 = (double)lg_hist_percentile(b, 0.50) / 1000.0;
            o->up95 = (double)lg_hist_percentile(b, 0.95) / 1000.0;
            o->up99 = (double)lg_hist_percentile(b, 0.99) / 1000.0;
            o->umax = (double)b->max_us / 1000.0;
        }
        i = j;
    }
    *n_out = n;
    return v;
}

/* ---- files ------------------------------------------------------------------ */

static FILE *open_out(const char *dir, const char *prefix, const char *name, char *err,
                      size_t errcap)
{
    char path[4096];
    int pl = snprintf(path, sizeof path, "%s/%s%s%s", dir, prefix ? prefix : "",
                      prefix ? "_" : "", name);
    if (pl < 0 || (size_t)pl >= sizeof path) {
        snprintf(err, errcap, "%.200s...: path too long", path);
        return NULL;
    }
    FILE *f = fopen(path, "w");
    if (!f)
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
    return f;
}

static lg_err close_out(FILE *f, const char *name, char *err, size_t errcap)
{
    int bad = ferror(f);
    if (fclose(f) || bad) {
        snprintf(err, errcap, "%s: write error", name);
        return LG_EIO;
    }
    return LG_OK;
}

/* Method and name of row i (a result without rows: POST in->name). */
static void entry_names(const lg_report_in *in, uint32_t i, const char **method,
                        const char **name)
{
    const lg_result *r = in->res;
    if (i < r->n_entries) {
        *method = r->entries[i].method;
        *name = r->entries[i].name;
    } else {
        *method = "POST";
        *name = in->name;
    }
}

/* The rows in Locust's order: sorted by (name, method). */
static size_t sorted_entries(const lg_result *r, size_t *idx)
{
    size_t n = r->n_entries;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0; j--) {
            const lg_entry *a = &r->entries[idx[j - 1]], *b = &r->entries[idx[j]];
            int c = strcmp(a->name, b->name);
            if (c < 0 || (!c && strcmp(a->method, b->method) <= 0))
                break;
            size_t t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    return n;
}

static lg_err write_stats_csv(const lg_report_in *in, const char *dir, char *err, size_t errcap)
{
    const lg_result *r = in->res;
    FILE *f = open_out(dir, in->prefix, "stats.csv", err, errcap);
    if (!f)
        return LG_EIO;
    double last = r->main.requests ? r->last_ts : 0;
    lstat s = {r->main.requests, r->main.failures, r->main.content, r->main.rt_sum_ms,
               r->t_reset, last, (lg_hist *)&r->main.lat};
    fprintf(f, "%s\r\n", STATS_HEAD);
    size_t idx[LG_MAX_REQUESTS];
    for (size_t k = 0, n = sorted_entries(r, idx); k < n; k++) {
        const lg_entry *en = &r->entries[idx[k]];
        lstat es = {en->requests, en->failures, en->content, en->rt_sum_ms, r->t_reset,
                    en->requests ? last : 0, en->lat};
        stats_row(f, en->method, en->name, &es);
    }
    if (!r->n_entries) /* a result without rows: the whole window as POST name */
        stats_row(f, "POST", in->name, &s);
    stats_row(f, "", "Aggregated", &s);
    return close_out(f, "stats.csv", err, errcap);
}

static lg_err write_failures_csv(const lg_report_in *in, const char *dir, char *err,
                                 size_t errcap)
{
    const lg_result *r = in->res;
    FILE *f = open_out(dir, in->prefix, "failures.csv", err, errcap);
    if (!f)
        return LG_EIO;
    fprintf(f, "%s\r\n", FAILURES_HEAD);
    for (size_t i = 0; i < r->n_errors; i++) {
        const char *m, *nm;
        entry_names(in, r->errors[i].entry, &m, &nm);
        csv_field(f, m);
        putc(',', f);
        csv_field(f, nm);
        putc(',', f);
        csv_field(f, r->errors[i].msg);
        fprintf(f, ",%llu\r\n", (unsigned long long)r->errors[i].count);
    }
    lg_err rc = close_out(f, "failures.csv", err, errcap);
    if (rc)
        return rc;
    f = open_out(dir, in->prefix, "exceptions.csv", err, errcap);
    if (!f)
        return LG_EIO;
    fprintf(f, "%s\r\n", EXCEPTIONS_HEAD);
    return close_out(f, "exceptions.csv", err, errcap);
}

/* One row a second, as Locust's --csv writer: statistics since the last
 * reset, percentiles cumulative, Requests/s and Failures/s its
 * current_rps (average of the seconds [last - 12, last - 2)). */
static lg_err write_history_csv(const lg_report_in *in, const char *dir, char *err,
                                size_t errcap)
{
    const lg_result *r = in->res;
    FILE *f = open_out(dir, in->prefix, "stats_history.csv", err, errcap);
    if (!f)
        return LG_EIO;
    lg_hist *h = calloc(1, sizeof *h);
    size_t nsec = r->n_slices ? (size_t)(r->slices[r->n_slices - 1].t - r->slices[0].t) + 2 : 1;
    uint64_t *per_req = calloc(nsec, sizeof *per_req), *per_fail = calloc(nsec, sizeof *per_fail);
    if (!h || !per_req || !per_fail) {
        free(h);
        free(per_req);
        free(per_fail);
        fclose(f);
        return LG_ENOMEM;
    }
    lg_hist_reset(h);
    fprintf(f, "%s\r\n", HISTORY_HEAD);
    lstat s = {0, 0, 0, 0, r->t_start, 0, h};
    int64_t t0 = r->n_slices ? r->slices[0].t : 0;
    int reset = 0;
    int64_t last_row = 0;
    for (size_t i = 0; i < r->n_slices; i++) {
        const lg_slice *x = &r->slices[i];
        if (x->after_reset && !reset) {
            reset = 1;
            lg_hist_reset(h);
            s = (lstat){0, 0, 0, 0, r->t_reset, 0, h};
            memset(per_req, 0, nsec * sizeof *per_req);
            memset(per_fail, 0, nsec * sizeof *per_fail);
        }
        s.n += x->requests;
        s.fails += x->failures;
        s.content += x->content;
        s.rt_sum += x->rt_sum_ms;
        if (x->requests)
            s.last = x->last_ts;
        size_t k = (size_t)(x->t - t0);
        if (k < nsec) {
            per_req[k] += x->requests;
            per_fail[k] += x->failures;
        }
        add_slice_hist(r, x, h, NULL);
        if (x->partial)
            continue;
        double cur_rps = 0, cur_fps = 0;
        if (s.last) {
            int64_t lo = (int64_t)s.last - 12, st = (int64_t)s.start, hi = (int64_t)s.last - 2;
            if (lo < st)
                lo = st;
            double sum = 0, fsum = 0;
            int cnt = 0;
            for (int64_t t = lo; t < hi; t++, cnt++) {
                int64_t kk = t - t0;
                if (kk >= 0 && (size_t)kk < nsec) {
                    sum += (double)per_req[kk];
                    fsum += (double)per_fail[kk];
                }
            }
            cur_rps = sum / (cnt > 0 ? cnt : 1);
            cur_fps = fsum / (cnt > 0 ? cnt : 1);
        }
        int64_t ts = i + 1 == r->n_slices ? (int64_t)r->t_end : x->t + 1;
        if (ts <= last_row)
            ts = last_row + 1; /* the final row, just after the last tick */
        last_row = ts;
        char m[40];
        fprintf(f, "%lld,%u,,Aggregated,%.6f,%.6f", (long long)ts, x->users, cur_rps, cur_fps);
        percentile_fields(f, &s);
        fprintf(f, ",%llu,%llu,%s,", (unsigned long long)s.n, (unsigned long long)s.fails,
                fmt_median(&s, m));
        rt_fields(f, &s);
        fputs("\r\n", f);
    }
    free(h);
    free(per_req);
    free(per_fail);
    return close_out(f, "stats_history.csv", err, errcap);
}

static const char *phase_name(const lg_scenario *scn, int phase, char *b, size_t cap)
{
    if (phase < 0)
        snprintf(b, cap, "warmup");
    else if ((size_t)phase < scn->n_stages)
        snprintf(b, cap, "stage%d", phase + 1);
    else
        snprintf(b, cap, "drain");
    return b;
}

static lg_err write_per_second(const lg_report_in *in, const sec *v, size_t n, const char *dir,
                               char *err, size_t errcap)
{
    FILE *f = open_out(dir, NULL, "per_second.csv", err, errcap);
    if (!f)
        return LG_EIO;
    fputs("timestamp,phase,after_reset,users,requests,failures,p50_ms,p95_ms,p99_ms,max_ms,"
          "uncorrected_p50_ms,uncorrected_p95_ms,uncorrected_p99_ms,uncorrected_max_ms\n", f);
    for (size_t i = 0; i < n; i++) {
        char ph[32];
        fprintf(f, "%lld,%s,%d,%u,%llu,%llu,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f\n",
                (long long)v[i].t, phase_name(in->scn, v[i].phase, ph, sizeof ph),
                v[i].after_reset, v[i].users, (unsigned long long)v[i].requests,
                (unsigned long long)v[i].failures, v[i].p50, v[i].p95, v[i].p99, v[i].max,
                v[i].up50, v[i].up95, v[i].up99, v[i].umax);
    }
    return close_out(f, "per_second.csv", err, errcap);
}

static void iso(double t, char *b, size_t cap)
{
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t n = strftime(b, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(b + n, cap - n, ".%03dZ", (int)((t - (double)s) * 1000));
}

static void json_pcts(FILE *f, const lg_hist *h)
{
    static const double p[] = {0.5, 0.9, 0.95, 0.99, 0.999};
    static const char *const nm[] = {"p50", "p90", "p95", "p99", "p99_9"};
    fputc('{', f);
    for (size_t i = 0; i < 5; i++)
        fprintf(f, "\"%s\":%.3f,", nm[i], (double)lg_hist_percentile(h, p[i]) / 1000.0);
    fprintf(f, "\"min\":%.3f,\"max\":%.3f}", h->total ? (double)h->min_us / 1000.0 : 0.0,
            (double)h->max_us / 1000.0);
}

static lg_err write_summary(const lg_report_in *in, const char *dir, char *err, size_t errcap)
{
    const lg_result *r = in->res;
    FILE *f = open_out(dir, NULL, "summary.json", err, errcap);
    if (!f)
        return LG_EIO;
    char a[64], b[64], c[64];
    iso(r->t_start, a, sizeof a);
    iso(r->t_reset, b, sizeof b);
    iso(r->t_end, c, sizeof c);
    fputs("{\"scenario\":", f);
    lg_json_str(f, in->scn->name, strlen(in->scn->name));
    fputs(",\"description\":", f);
    lg_json_str(f, in->scn->description, strlen(in->scn->description));
    fprintf(f, ",\"model\":\"%s\",\"time_scale\":%g,\"target\":",
            in->scn->model == LG_OPEN ? "open" : "closed", in->time_scale);
    lg_json_str(f, in->target->origin, strlen(in->target->origin));
    fputs(",\"name\":", f);
    lg_json_str(f, in->name, strlen(in->name));
    fprintf(f, ",\"start\":\"%s\",\"reset\":\"%s\",\"end\":\"%s\",\"start_epoch\":%.3f,"
               "\"reset_epoch\":%.3f,\"end_epoch\":%.3f,\"warmup\":%s,\"interrupted\":%s,",
            a, b, c, r->t_start, r->t_reset, r->t_end, in->scn->has_warmup ? "true" : "false",
            r->interrupted ? "true" : "false");
    double win = r->main.requests && r->last_ts > r->t_reset ? r->last_ts - r->t_reset : 0;
    fprintf(f, "\"requests\":%llu,\"failures\":%llu,\"rps\":%.3f,\"avg_ms\":%.3f,"
               "\"timeouts\":%llu,"
               "\"connection_errors\":%llu,\"avg_content_bytes\":%.2f,\"latency_ms\":",
            (unsigned long long)r->main.requests, (unsigned long long)r->main.failures,
            win > 0 ? (double)r->main.requests / win : 0.0,
            r->main.requests ? r->main.rt_sum_ms / (double)r->main.requests : 0.0,
            (unsigned long long)r->timeouts,
            (unsigned long long)r->conn_errors,
            r->main.requests ? (double)r->main.content / (double)r->main.requests : 0.0);
    json_pcts(f, &r->main.lat);
    fputs(",\"uncorrected_latency_ms\":", f);
    json_pcts(f, &r->main.unc);
    fputs(",\"status\":{", f);
    int first = 1;
    for (int i = 0; i < 1000; i++)
        if (r->status[i]) {
            fprintf(f, "%s\"%d\":%llu", first ? "" : ",", i, (unsigned long long)r->status[i]);
            first = 0;
        }
    fputs("},\"by_name\":[", f);
    size_t idx[LG_MAX_REQUESTS];
    for (size_t k = 0, n = sorted_entries(r, idx); k < n; k++) {
        const lg_entry *en = &r->entries[idx[k]];
        fprintf(f, "%s{\"method\":", k ? "," : "");
        lg_json_str(f, en->method, strlen(en->method));
        fputs(",\"name\":", f);
        lg_json_str(f, en->name, strlen(en->name));
        fprintf(f, ",\"requests\":%llu,\"failures\":%llu,\"avg_ms\":%.3f,\"latency_ms\":",
                (unsigned long long)en->requests, (unsigned long long)en->failures,
                en->requests ? en->rt_sum_ms / (double)en->requests : 0.0);
        json_pcts(f, en->lat);
        fputc('}', f);
    }
    fputs("],\"errors\":[", f);
    for (size_t i = 0; i < r->n_errors; i++) {
        const char *em, *enm;
        entry_names(in, r->errors[i].entry, &em, &enm);
        fprintf(f, "%s{\"count\":%llu,\"method\":", i ? "," : "",
                (unsigned long long)r->errors[i].count);
        lg_json_str(f, em, strlen(em));
        fputs(",\"name\":", f);
        lg_json_str(f, enm, strlen(enm));
        fputs(",\"error\":", f);
        lg_json_str(f, r->errors[i].msg, strlen(r->errors[i].msg));
        fputc('}', f);
    }
    fprintf(f, "],\"all\":{\"requests\":%llu,\"failures\":%llu,\"sent\":%llu,\"retried\":%llu,"
               "\"connects\":%llu,\"peak_users\":%u,\"peak_in_flight\":%u},\"provider\":",
            (unsigned long long)r->all.requests, (unsigned long long)r->all.failures,
            (unsigned long long)r->sent, (unsigned long long)r->retried,
            (unsigned long long)r->connects, r->peak_users, r->peak_conns);
    if (in->provider_json)
        fputs("\"provider_metrics.json\"", f);
    else
        fputs("null", f);
    fputs(",\"provider_note\":", f);
    const char *note = in->provider_note ? in->provider_note : "";
    lg_json_str(f, note, strlen(note));
    fputs("}\n", f);
    return close_out(f, "summary.json", err, errcap);
}

/* ---- provider metrics ------------------------------------------------------ */

lg_err lg_fetch_provider(const lg_target *t, int64_t from_s, int64_t to_s, char **body,
                         char *err, size_t errcap)
{
    *body = NULL;
    char path[160], host[96];
    snprintf(path, sizeof path, "/__nerd/metrics/json?from=%lld&to=%lld&period=1",
             (long long)from_s, (long long)to_s);
    snprintf(host, sizeof host, "%s:%d", t->host, t->port);
    http_get_answer a;
    http_get_err g = http_get((const struct sockaddr *)&t->addr, (socklen_t)t->addr_len, host, path,
                              "application/json", 10000, 32u << 20, &a, err, errcap);
    if (g)
        return g == HTTP_GET_ENOMEM ? LG_ENOMEM : g == HTTP_GET_ETOOBIG ? LG_ELIMIT :
               g == HTTP_GET_EPROTO ? LG_EPROTO : LG_ENET;
    lg_err rc = LG_ENOENT;
    if (a.status != 200) {
        snprintf(err, errcap, "the target has no /__nerd/metrics/json (GET answered %d %s)", a.status,
                 a.reason);
        goto out;
    }
    json_error_t je;
    json_t *j = json_loadb(a.body, a.len, 0, &je);
    int ok = json_is_object(j) && json_is_object(json_object_get(j, "functions"));
    json_decref(j);
    if (!ok) {
        snprintf(err, errcap, "the target's /__nerd/metrics/json is not the local platform's "
                 "{\"functions\": ...} JSON");
        goto out;
    }
    *body = a.body;
    a.body = NULL;
    rc = LG_OK;
out:
    free(a.body);
    return rc;
}

/* ---- report.html ----------------------------------------------------------- */

typedef struct series {
    const char *name, *color;
    const double *y;
    int dashed;
} series;

static double nice_step(double range, int ticks)
{
    double raw = range / ticks, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

static void fmt_num(double v, char *b, size_t cap)
{
    if (fabs(v) >= 1e6)
        snprintf(b, cap, "%.3gM", v / 1e6);
    else if (fabs(v) >= 1e4)
        snprintf(b, cap, "%.3gk", v / 1e3);
    else if (v == floor(v))
        snprintf(b, cap, "%.0f", v);
    else
        snprintf(b, cap, "%.3g", v);
}

#define CW 560
#define CH 230
#define ML 58
#define MR 14
#define MT 30
#define MB 40

/* A line chart: x in seconds since the run's start; shaded warm-up up to
 * x_reset; dotted stage boundaries. */
/* Chart frame shared by every chart of a report: the x range and marks. */
typedef struct frame {
    double xmax, x_reset;
    const double *bounds;
    size_t nb;
} frame;

static void chart(FILE *f, const char *title, const char *unit, const double *x, size_t n,
                  const series *s, size_t ns, const frame *fr)
{
    double xmax = fr->xmax > 0 ? fr->xmax : 1, ymax = 0, x_reset = fr->x_reset;
    const double *bounds = fr->bounds;
    size_t nb = fr->nb;
    for (size_t k = 0; k < ns; k++)
        for (size_t i = 0; i < n; i++)
            if (isfinite(s[k].y[i]) && s[k].y[i] > ymax)
                ymax = s[k].y[i];
    if (ymax <= 0)
        ymax = 1;
    double ystep = nice_step(ymax, 4);
    ymax = ceil(ymax / ystep) * ystep;
    double xstep = nice_step(xmax, 6);
    double pw = CW - ML - MR, ph = CH - MT - MB;
#define PX(v) (ML + (v) / xmax * pw)
#define PY(v) (MT + ph - (v) / ymax * ph)
    fprintf(f, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
               "xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">\n", CW, CH, CW, CH);
    fputs("<text x=\"8\" y=\"18\" class=\"t\">", f);
    lg_html_str(f, title);
    fputs("</text>\n", f);
    if (x_reset > 0)
        fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%.1f\" fill=\"#eee\"/>"
                   "<text x=\"%.1f\" y=\"%d\" class=\"s\">warm-up</text>\n",
                (double)ML, MT, PX(x_reset < xmax ? x_reset : xmax) - ML, ph, ML + 4.0, MT + 12);
    for (size_t i = 0; i < nb; i++)
        if (bounds[i] > 0 && bounds[i] < xmax)
            fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%.1f\" stroke=\"#bbb\" "
                       "stroke-dasharray=\"2,3\"/>\n", PX(bounds[i]), PX(bounds[i]), MT, MT + ph);
    for (double v = 0; v <= ymax + ystep / 2; v += ystep) {
        char b[32];
        fmt_num(v, b, sizeof b);
        fprintf(f, "<line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"%d\" y=\"%.1f\" class=\"a\" text-anchor=\"end\">%s</text>\n",
                ML, ML + pw, PY(v), PY(v), ML - 4, PY(v) + 4, b);
    }
    for (double v = 0; v <= xmax + 1e-9; v += xstep)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"a\" text-anchor=\"middle\">%g</text>\n",
                PX(v), MT + ph + 14, v);
    fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"a\" text-anchor=\"middle\">seconds since "
               "start</text>\n", ML + pw / 2, CH - 6);
    fprintf(f, "<text x=\"12\" y=\"%.1f\" class=\"a\" transform=\"rotate(-90 12 %.1f)\" "
               "text-anchor=\"middle\">", MT + ph / 2, MT + ph / 2);
    lg_html_str(f, unit);
    fputs("</text>\n", f);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
               "stroke=\"#999\"/>\n", ML, MT, pw, ph);
    for (size_t k = 0; k < ns; k++) {
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\"%s points=\"",
                s[k].color, s[k].dashed ? " stroke-dasharray=\"5,3\"" : "");
        for (size_t i = 0; i < n; i++)
            if (isfinite(s[k].y[i]))
                fprintf(f, "%.1f,%.1f ", PX(x[i]), PY(s[k].y[i]));
        fputs("\"/>\n", f);
        /* legend: one row right of the title */
        double lx = 24 + 7.6 * (double)strlen(title);
        if (lx < 190)
            lx = 190;
        lx += (double)k * 88;
        fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" "
                   "stroke-width=\"3\"%s/><text x=\"%.1f\" y=\"%d\" class=\"s\">", lx,
                lx + 16, 14, 14, s[k].color, s[k].dashed ? " stroke-dasharray=\"4,2\"" : "",
                lx + 20, 18);
        lg_html_str(f, s[k].name);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
#undef PX
#undef PY
}

static const char *const COLORS[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                     "#8c564b"};

static void td_num(FILE *f, double v, int dec)
{
    fprintf(f, "<td>%.*f</td>", dec, v);
}

static void html_tables(FILE *f, const lg_report_in *in)
{
    const lg_result *r = in->res;
    const lg_stats *m = &r->main;
    double win = m->requests && r->last_ts > r->t_reset ? r->last_ts - r->t_reset : 0;
    /* the rows (Locust's order), then Aggregated */
    size_t idx[LG_MAX_REQUESTS], nrow = sorted_entries(r, idx);
    lg_entry agg = {"", "Aggregated", m->requests, m->failures, m->content, m->rt_sum_ms,
                    (lg_hist *)&m->lat};
    lg_entry one = agg;
    snprintf(one.method, sizeof one.method, "POST");
    snprintf(one.name, sizeof one.name, "%s", in->name);
    const lg_entry *rows[LG_MAX_REQUESTS + 1];
    for (size_t k = 0; k < nrow; k++)
        rows[k] = &r->entries[idx[k]];
    if (!nrow)
        rows[nrow++] = &one;
    rows[nrow++] = &agg;
    fputs("<h2>Request statistics</h2><table><tr><th>Type</th><th>Name</th><th># Requests</th>"
          "<th># Fails</th><th>Average (ms)</th><th>Min (ms)</th><th>Max (ms)</th>"
          "<th>Average size (bytes)</th><th>RPS</th><th>Failures/s</th></tr>\n", f);
    for (size_t k = 0; k < nrow; k++) {
        const lg_entry *en = rows[k];
        fputs("<tr><td>", f);
        lg_html_str(f, en->method);
        fputs("</td><td>", f);
        lg_html_str(f, en->name);
        fprintf(f, "</td><td>%llu</td><td>%llu</td>", (unsigned long long)en->requests,
                (unsigned long long)en->failures);
        td_num(f, en->requests ? en->rt_sum_ms / (double)en->requests : 0, 2);
        td_num(f, en->lat->total ? (double)en->lat->min_us / 1000 : 0, 0);
        td_num(f, (double)en->lat->max_us / 1000, 0);
        td_num(f, en->requests ? (double)en->content / (double)en->requests : 0, 2);
        td_num(f, win > 0 ? (double)en->requests / win : 0, 2);
        td_num(f, win > 0 ? (double)en->failures / win : 0, 2);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n<h2>Response time statistics</h2><table><tr><th>Method</th><th>Name</th>",
          f);
    static const double rp[] = {0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0};
    static const char *const rn[] = {"50", "60", "70", "80", "90", "95", "99", "100"};
    for (size_t i = 0; i < 8; i++)
        fprintf(f, "<th>%s%%ile (ms)</th>", rn[i]);
    fputs("</tr>\n", f);
    for (size_t k = 0; k < nrow; k++) {
        const lg_entry *en = rows[k];
        fputs("<tr><td>", f);
        lg_html_str(f, en->method);
        fputs("</td><td>", f);
        lg_html_str(f, en->name);
        fputs("</td>", f);
        for (size_t i = 0; i < 8; i++) {
            int is_int;
            double v = en->lat->total
                ? locust_round((double)lg_hist_percentile(en->lat, rp[i]) / 1000, &is_int) : 0;
            td_num(f, v, 0);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
    /* exact percentiles, corrected and not */
    fputs("<h2>Latency percentiles (ms, unrounded)</h2><table><tr><th>measured from</th>"
          "<th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>p99.9</th><th>max</th></tr>\n", f);
    for (int row = 0; row < 2; row++) {
        const lg_hist *h = row ? &m->unc : &m->lat;
        fprintf(f, "<tr><td>%s</td>",
                row ? "actual send (uncorrected)"
                    : in->scn->model == LG_OPEN ? "intended send (corrected)"
                                                : "send (closed model: intended = actual)");
        static const double q[] = {0.5, 0.9, 0.95, 0.99, 0.999};
        for (size_t i = 0; i < 5; i++)
            td_num(f, (double)lg_hist_percentile(h, q[i]) / 1000, 3);
        td_num(f, (double)h->max_us / 1000, 3);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n<h2>Failures statistics</h2><table><tr><th># Failures</th><th>Method</th>"
          "<th>Name</th><th>Message</th></tr>\n", f);
    for (size_t i = 0; i < r->n_errors; i++) {
        const char *em, *enm;
        entry_names(in, r->errors[i].entry, &em, &enm);
        fprintf(f, "<tr><td>%llu</td><td>", (unsigned long long)r->errors[i].count);
        lg_html_str(f, em);
        fputs("</td><td>", f);
        lg_html_str(f, enm);
        fputs("</td><td>", f);
        lg_html_str(f, r->errors[i].msg);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n<h2>Status codes</h2><table><tr><th>status</th><th>count</th></tr>\n", f);
    for (int i = 0; i < 1000; i++)
        if (r->status[i])
            fprintf(f, "<tr><td>%d</td><td>%llu</td></tr>\n", i,
                    (unsigned long long)r->status[i]);
    if (r->conn_errors)
        fprintf(f, "<tr><td>connection errors</td><td>%llu</td></tr>\n",
                (unsigned long long)r->conn_errors);
    if (r->timeouts)
        fprintf(f, "<tr><td>timeouts</td><td>%llu</td></tr>\n", (unsigned long long)r->timeouts);
    fputs("</table>\n", f);
}

/* Per-phase table: requests, rate and percentiles of each stage. */
static void html_phases(FILE *f, const lg_report_in *in, lg_hist *h)
{
    const lg_result *r = in->res;
    const lg_scenario *scn = in->scn;
    fputs("<h2>Phases</h2><table><tr><th>phase</th><th>duration (s)</th><th>users / rate</th>"
          "<th>requests</th><th>failures</th><th>req/s</th><th>p50 (ms)</th><th>p95 (ms)</th>"
          "<th>p99 (ms)</th></tr>\n", f);
    for (int ph = scn->has_warmup ? -1 : 0; ph <= (int)scn->n_stages; ph++) {
        lg_hist_reset(h);
        uint64_t req = 0, fail = 0;
        for (size_t i = 0; i < r->n_slices; i++)
            if (r->slices[i].phase == ph) {
                req += r->slices[i].requests;
                fail += r->slices[i].failures;
                add_slice_hist(r, &r->slices[i], h, NULL);
            }
        if (ph == (int)scn->n_stages && !req)
            continue;
        const lg_stage *st = ph < 0 ? &scn->warmup : (size_t)ph < scn->n_stages
                                                         ? &scn->stages[ph] : NULL;
        char ph_s[32], what[96] = "";
        if (st && scn->model == LG_CLOSED)
            snprintf(what, sizeof what, "%d users, think %.3g-%.3g s", st->users, st->think_min,
                     st->think_max);
        else if (st && st->rate_to != st->rate_from)
            snprintf(what, sizeof what, "%.6g &rarr; %.6g /s", st->rate_from, st->rate_to);
        else if (st)
            snprintf(what, sizeof what, "%.6g /s", st->rate_from);
        fprintf(f, "<tr><td>%s</td><td>%.3g</td><td>%s</td><td>%llu</td><td>%llu</td>",
                phase_name(scn, ph, ph_s, sizeof ph_s), st ? st->duration : 0, what,
                (unsigned long long)req, (unsigned long long)fail);
        td_num(f, st && st->duration > 0 ? (double)req / st->duration : 0, 1);
        td_num(f, (double)lg_hist_percentile(h, 0.5) / 1000, 2);
        td_num(f, (double)lg_hist_percentile(h, 0.95) / 1000, 2);
        td_num(f, (double)lg_hist_percentile(h, 0.99) / 1000, 2);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* The provider's panels from /__nerd/metrics/json (period 1). */
static void html_provider(FILE *f, const lg_report_in *in, double t0, const frame *fr)
{
    fputs("<div class=\"col\"><h2>Provider (local platform, /__nerd/metrics/json)</h2>\n", f);
    json_t *j = in->provider_json ? json_loads(in->provider_json, 0, NULL) : NULL;
    json_t *fns = json_object_get(j, "functions");
    if (!json_is_object(fns)) {
        fputs("<p class=\"note\">No provider metrics: ", f);
        lg_html_str(f, in->provider_note ? in->provider_note : "not fetched");
        fputs("</p></div>\n", f);
        json_decref(j);
        return;
    }
    static const struct {
        const char *key, *title, *unit;
    } P[] = {{"Invocations", "Invocations per second", "invocations/s"},
             {"DurationP95", "Duration p95", "ms"},
             {"ConcurrentExecutions", "ConcurrentExecutions (max per second)", "executions"},
             {"Throttles", "Throttles per second", "throttles/s"},
             {"ColdStarts", "Cold starts per second", "cold starts/s"}};
    const char *fname;
    json_t *arr;
    size_t nf = 0, n = 0;
    const char *names[6];
    json_t *arrs[6];
    json_object_foreach(fns, fname, arr)
    {
        if (!json_is_array(arr) || nf == 6)
            continue;
        double inv = 0;
        size_t i;
        json_t *o;
        json_array_foreach(arr, i, o) inv += json_number_value(json_object_get(o, "Invocations"));
        if (inv <= 0)
            continue;
        names[nf] = fname;
        arrs[nf++] = arr;
        if (json_array_size(arr) > n)
            n = json_array_size(arr);
    }
    if (!nf || !n) {
        fputs("<p class=\"note\">The platform recorded no invocations in this window.</p>\n", f);
    } else {
        double *x = calloc(n, sizeof *x), *ys = calloc(n * nf, sizeof *ys);
        series s[6];
        if (x && ys) {
            for (size_t i = 0; i < n; i++) {
                json_t *o = json_array_get(arrs[0], i);
                /* a second's value is drawn at its end, as the client's */
                x[i] = json_number_value(json_object_get(o, "t")) + 1 - t0;
            }
            fputs("<table class=\"small\"><tr><th>function</th><th>Invocations</th>"
                  "<th>Errors</th><th>Throttles</th><th>cold starts</th><th>max p95 (ms)</th>"
                  "<th>max concurrent</th></tr>\n", f);
            for (size_t k = 0; k < nf; k++) {
                double inv = 0, er = 0, th = 0, cs = 0, p95 = 0, cc = 0;
                size_t i;
                json_t *o;
                json_array_foreach(arrs[k], i, o)
                {
                    inv += json_number_value(json_object_get(o, "Invocations"));
                    er += json_number_value(json_object_get(o, "Errors"));
                    th += json_number_value(json_object_get(o, "Throttles"));
                    cs += json_number_value(json_object_get(o, "ColdStarts"));
                    double v = json_number_value(json_object_get(o, "DurationP95"));
                    p95 = v > p95 ? v : p95;
                    v = json_number_value(json_object_get(o, "ConcurrentExecutions"));
                    cc = v > cc ? v : cc;
                }
                fputs("<tr><td>", f);
                lg_html_str(f, names[k]);
                fprintf(f, "</td><td>%.0f</td><td>%.0f</td><td>%.0f</td><td>%.0f</td>"
                           "<td>%.2f</td><td>%.0f</td></tr>\n", inv, er, th, cs, p95, cc);
            }
            fputs("</table>\n", f);
            for (size_t p = 0; p < sizeof P / sizeof *P; p++) {
                for (size_t k = 0; k < nf; k++) {
                    for (size_t i = 0; i < n; i++)
                        ys[k * n + i] = NAN;
                    size_t i;
                    json_t *o;
                    json_array_foreach(arrs[k], i, o) if (i < n) ys[k * n + i] =
                        json_number_value(json_object_get(o, P[p].key));
                    s[k] = (series){names[k], COLORS[k], ys + k * n, 0};
                }
                chart(f, P[p].title, P[p].unit, x, n, s, nf, fr);
            }
        }
        free(x);
        free(ys);
    }
    fputs("</div>\n", f);
    json_decref(j);
}

static lg_err write_html(const lg_report_in *in, const sec *v, size_t n, const char *dir,
                         char *err, size_t errcap)
{
    const lg_result *r = in->res;
    FILE *f = open_out(dir, NULL, "report.html", err, errcap);
    if (!f)
        return LG_EIO;
    lg_hist *h = calloc(1, sizeof *h);
    double *buf = calloc((n ? n : 1) * 9, sizeof *buf);
    if (!h || !buf) {
        free(h);
        free(buf);
        fclose(f);
        return LG_ENOMEM;
    }
    lg_hist_reset(h);
    double t0 = floor(r->t_start);
    double *x = buf, *rps = buf + n, *fps = buf + 2 * n, *users = buf + 3 * n,
           *p50 = buf + 4 * n, *p95 = buf + 5 * n, *p99 = buf + 6 * n, *up99 = buf + 7 * n;
    for (size_t i = 0; i < n; i++) {
        /* a second's values are drawn at its end */
        x[i] = (double)v[i].t + 1 - t0;
        rps[i] = (double)v[i].requests;
        fps[i] = (double)v[i].failures;
        users[i] = v[i].users;
        p50[i] = v[i].requests ? v[i].p50 : NAN;
        p95[i] = v[i].requests ? v[i].p95 : NAN;
        p99[i] = v[i].requests ? v[i].p99 : NAN;
        up99[i] = v[i].requests ? v[i].up99 : NAN;
    }
    double x_reset = in->scn->has_warmup ? r->t_reset - t0 : 0;
    double bounds[LG_MAX_STAGES + 1];
    size_t nb = 0;
    double at = r->t_start - t0 + (in->scn->has_warmup ? in->scn->warmup.duration : 0);
    for (size_t i = 0; i + 1 < in->scn->n_stages; i++) {
        at += in->scn->stages[i].duration;
        bounds[nb++] = at;
    }
    frame fr = {ceil(r->t_end - t0), x_reset, bounds, nb};
    char a[64], b[64], c[64];
    iso(r->t_start, a, sizeof a);
    iso(r->t_reset, b, sizeof b);
    iso(r->t_end, c, sizeof c);
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", f);
    lg_html_str(f, in->scn->name);
    fputs(" — nerd load lab</title>\n<style>\nbody{font:14px/1.4 system-ui,sans-serif;margin:"
          "20px;color:#222}h1{font-size:22px}h2{font-size:17px;margin:18px 0 6px}\n"
          "table{border-collapse:collapse;margin:4px 0 10px}td,th{border:1px solid #ccc;"
          "padding:3px 8px;text-align:right}th{background:#f4f4f4}td:nth-child(2),"
          "td:first-child{text-align:left}\n.cols{display:flex;flex-wrap:wrap;gap:24px}.col{"
          "flex:0 0 auto}.chart{display:block;margin:6px 0}.t{font-weight:600;font-size:13px}"
          ".a{font-size:10px;fill:#555}.s{font-size:11px}.note{color:#777}\n"
          "table.small{font-size:12px}.cols>.col{max-width:580px}\n"
          "dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{color:#666}"
          "dd{margin:0}\n</style></head><body>\n<h1>Load lab: ", f);
    lg_html_str(f, in->scn->name);
    fputs("</h1>\n<dl><dt>description</dt><dd>", f);
    lg_html_str(f, in->scn->description[0] ? in->scn->description : "-");
    fprintf(f, "</dd><dt>model</dt><dd>%s</dd><dt>target</dt><dd>",
            in->scn->model == LG_OPEN ? "open (arrival rate; latency from the intended send "
                                        "time, and uncorrected)"
                                      : "closed (virtual users with think time, as Locust)");
    lg_html_str(f, in->target->origin);
    lg_html_str(f, in->target->base);
    lg_html_str(f, in->name);
    fprintf(f, "</dd><dt>time scale</dt><dd>%g</dd><dt>start (UTC)</dt><dd>%s</dd>"
               "<dt>statistics from</dt><dd>%s%s</dd><dt>end</dt><dd>%s</dd>"
               "<dt>requests sent</dt><dd>%llu (%llu in the window; %llu retried on a closed "
               "keep-alive connection)</dd><dt>connections opened</dt><dd>%llu</dd>%s</dl>\n",
            in->time_scale, a, b, in->scn->has_warmup ? " (warm-up excluded)" : "", c,
            (unsigned long long)r->sent, (unsigned long long)r->main.requests,
            (unsigned long long)r->retried, (unsigned long long)r->connects,
            r->interrupted ? "<dt>note</dt><dd>interrupted</dd>" : "");
    fputs("<div class=\"cols\"><div class=\"col\"><h2>Client (this generator)</h2>\n", f);
    series s[4];
    s[0] = (series){"requests/s", COLORS[2], rps, 0};
    s[1] = (series){"failures/s", COLORS[1], fps, 0};
    chart(f, "Requests per second", "per second", x, n, s, 2, &fr);
    s[0] = (series){in->scn->model == LG_OPEN ? "in flight" : "users", COLORS[0], users, 0};
    chart(f, in->scn->model == LG_OPEN ? "Requests in flight" : "Users", "count", x, n, s, 1,
          &fr);
    s[0] = (series){"p50", COLORS[2], p50, 0};
    s[1] = (series){"p95", COLORS[3], p95, 0};
    s[2] = (series){"p99", COLORS[1], p99, 0};
    s[3] = (series){"p99 uncorr.", COLORS[4], up99, 1};
    chart(f, in->scn->model == LG_OPEN ? "Response time (from intended send)" : "Response time",
          "ms", x, n, s, in->scn->model == LG_OPEN ? 4 : 3, &fr);
    fputs("</div>\n", f);
    html_provider(f, in, t0, &fr);
    fputs("</div>\n", f);
    html_tables(f, in);
    html_phases(f, in, h);
    fputs("<p class=\"note\">Statistics tables cover the window after the warm-up (Locust's "
          "reset); charts show the whole run, the warm-up shaded. Percentile tables use "
          "Locust's rounding (2 significant digits above 100 ms); the unrounded ones come from "
          "a histogram with 3 significant digits.</p>\n</body></html>\n", f);
    free(h);
    free(buf);
    return close_out(f, "report.html", err, errcap);
}

lg_err lg_report_write(const lg_report_in *in, const char *dir, char *err, size_t errcap)
{
    if (err && errcap)
        err[0] = 0;
    if (!in || !in->res || !in->scn || !in->target || !in->name || !dir)
        return LG_EINVAL;
    lg_err rc = write_stats_csv(in, dir, err, errcap);
    if (!rc)
        rc = write_failures_csv(in, dir, err, errcap);
    if (!rc)
        rc = write_history_csv(in, dir, err, errcap);
    if (!rc)
        rc = write_summary(in, dir, err, errcap);
    if (rc)
        return rc;
    lg_hist *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    size_t n = 0;
    sec *v = a && b ? seconds(in->res, &n, a, b) : NULL;
    if (!v) {
        free(a);
        free(b);
        return LG_ENOMEM;
    }
    rc = write_per_second(in, v, n, dir, err, errcap);
    if (!rc)
        rc = write_html(in, v, n, dir, err, errcap);
    free(v);
    free(a);
    free(b);
    return rc;
}
