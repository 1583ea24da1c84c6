/*
 * `nerd bench --host URL --scenario NAME|FILE`: the load lab (loadgen/).
 * Runs a scenario against a loopback HTTP target from one event loop,
 * prints a progress line a second on stderr, fetches the provider's
 * metrics for the same window from the local platform and leaves a run
 * folder: Locust-compatible CSV files, per_second.csv, summary.json,
 * provider_metrics.json, the scenario as run and report.html.
 * cmd_bench() hands over to cmd_loadtest() when --host or --scenario is
 * given.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "fsutil.h"
#include "loadgen.h"

int cmd_loadtest(int argc, char **argv);

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void usage(FILE *f)
{
    fputs("usage: nerd bench --host URL --scenario NAME|FILE [--time-scale X] [--out DIR]\n"
          "                  [--path /ner] [--texts FILE] [--timeout SECONDS]\n"
          "                  [--no-provider] [--quiet] [--seed N]\n"
          "       nerd bench --list-scenarios\n"
          "\n"
          "The load lab: drives a loopback HTTP target (http://127.0.0.1:PORT, localhost or\n"
          "[::1]; nothing else) with a scenario — closed model (virtual users, think time,\n"
          "spawn rate, as Locust) or open model (arrival rate; latency also measured from\n"
          "each request's intended send time) — and writes a run folder (default\n"
          "runs/SCENARIO-YYYYMMDDTHHMMSSZ) with Locust-compatible SCENARIO_stats.csv,\n"
          "SCENARIO_stats_history.csv and SCENARIO_failures.csv, per_second.csv,\n"
          "summary.json, provider_metrics.json (the local platform's /__nerd/metrics/json for the\n"
          "window after the warm-up) and report.html.  A scenario with request lines\n"
          "sends those (a stateful mix: templates, captures; e.g. lab-products, the AWS\n"
          "lab's products API); otherwise requests are POST PATH (default /ner) with\n"
          "{\"text\": ...} bodies: a built-in mix of English sentences or one text per line\n"
          "of --texts.  --time-scale multiplies every duration (stages, warm-up, think\n"
          "times); 0.01 turns the study's minutes into seconds.  --timeout overrides the\n"
          "scenario's per-request timeout (default 30 s).  Scenario format and built-in\n"
          "scenarios: docs/loadlab.md.  Without --host/--scenario, nerd bench measures the\n"
          "engine (nerd bench --help).\n", f);
}

static int parse_double(const char *s, double *out)
{
    char *e;
    errno = 0;
    double v = strtod(s, &e);
    if (e == s || *e || errno || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int write_text(const char *dir, const char *name, const char *text, size_t n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t w = fwrite(text, 1, n, f);
    return fclose(f) || w != n ? -1 : 0;
}

int cmd_loadtest(int argc, char **argv)
{
    const char *host = NULL, *scen = NULL, *out = NULL, *path = NULL, *texts = NULL;
    double scale = 1.0, timeout = -1;
    int provider = 1, quiet = 0;
    unsigned long long seed = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--list-scenarios")) {
            for (size_t k = 0; k < lg_builtin_count(); k++) {
                lg_scenario s;
                char err[256];
                size_t len;
                const char *t = lg_builtin_text(k, &len);
                if (lg_scenario_parse(t, len, lg_builtin_name(k), &s, err, sizeof err) == 0)
                    printf("%-14s %6.0f s  %s\n", lg_builtin_name(k), lg_scenario_duration(&s),
                           s.description);
            }
            return 0;
        } else if (!strcmp(a, "--no-provider")) {
            provider = 0;
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (!v) {
            fprintf(stderr, "nerd bench: %s needs a value (or is unknown)\n", a);
            usage(stderr);
            return 2;
        } else if (!strcmp(a, "--host")) {
            host = v, i++;
        } else if (!strcmp(a, "--scenario")) {
            scen = v, i++;
        } else if (!strcmp(a, "--out")) {
            out = v, i++;
        } else if (!strcmp(a, "--path")) {
            path = v, i++;
        } else if (!strcmp(a, "--texts")) {
            texts = v, i++;
        } else if (!strcmp(a, "--time-scale")) {
            if (parse_double(v, &scale) || scale < 0.0001 || scale > 100) {
                fprintf(stderr, "nerd bench: --time-scale '%s': expected a number from "
                        "0.0001 to 100\n", v);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--timeout")) {
            if (parse_double(v, &timeout) || timeout < 0.001 || timeout > LG_MAX_TIMEOUT_S) {
                fprintf(stderr, "nerd bench: --timeout '%s': expected seconds from 0.001 to "
                        "%.0f\n", v, LG_MAX_TIMEOUT_S);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--seed")) {
            char *e;
            seed = strtoull(v, &e, 10);
            if (e == v || *e) {
                fprintf(stderr, "nerd bench: --seed '%s': expected an integer\n", v);
                return 2;
            }
            i++;
        } else {
            fprintf(stderr, "nerd bench: unknown argument %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!host || !scen) {
        fprintf(stderr, "nerd bench: the load lab needs both --host URL and --scenario "
                "NAME|FILE\n");
        usage(stderr);
        return 2;
    }
    char err[1024] = "";
    lg_target target;
    if (lg_target_parse(host, &target, err, sizeof err)) {
        fprintf(stderr, "nerd bench: %s\n", err);
        return 2;
    }
    lg_scenario *scn = calloc(1, sizeof *scn);
    lg_result *res = calloc(1, sizeof *res);
    lg_payloads pl = {0};
    char *prov = NULL, dir[4096];
    int status = 1;
    if (!scn || !res) {
        fprintf(stderr, "nerd bench: out of memory\n");
        goto out;
    }
    lg_err rc = lg_scenario_load(scen, scn, err, sizeof err);
    if (rc) {
        fprintf(stderr, "nerd bench: %s\n", err[0] ? err : lg_strerror(rc));
        status = 2;
        goto out;
    }
    if (timeout > 0)
        scn->timeout = timeout;
    lg_scenario_scale(scn, scale);
    double total = lg_scenario_duration(scn);
    if (total > LG_MAX_RUN_S) {
        fprintf(stderr, "nerd bench: scenario '%s' would run %.0f s; the cap is %.0f s (use "
                "--time-scale)\n", scn->name, total, LG_MAX_RUN_S);
        status = 2;
        goto out;
    }
    if (scn->n_requests && (path || texts)) {
        fprintf(stderr, "nerd bench: scenario '%s' sends its own requests (its request "
                "lines): --path and --texts are for scenarios without them\n", scn->name);
        status = 2;
        goto out;
    }
    if (!path)
        path = "/ner";
    if (!scn->n_requests && lg_payloads_build(&pl, &target, path, texts, err, sizeof err)) {
        fprintf(stderr, "nerd bench: %s\n", err);
        status = 2;
        goto out;
    }
    const char *name = scn->n_requests ? "" : path;
    if (out) {
        snprintf(dir, sizeof dir, "%s", out);
    } else {
        time_t now = time(NULL);
        struct tm tm;
        char ts[32];
        gmtime_r(&now, &tm);
        strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
        snprintf(dir, sizeof dir, "runs/%s-%s", scn->name, ts);
    }
    if (fs_mkdirs(dir)) {
        fprintf(stderr, "nerd bench: cannot create %s: %s\n", dir, strerror(errno));
        goto out;
    }
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    fprintf(stderr, "nerd bench: scenario %s (%s model, %zu stage%s%s), %.1f s%s, against "
            "%s%s%s, %zu %s, output in %s\n", scn->name,
            scn->model == LG_OPEN ? "open" : "closed", scn->n_stages,
            scn->n_stages == 1 ? "" : "s", scn->has_warmup ? " after a warm-up" : "", total,
            scale != 1 ? " (time-scaled)" : "", target.origin, target.base, name,
            scn->n_requests ? scn->n_requests : pl.n,
            scn->n_requests ? "requests in its mix" : "payloads", dir);
    lg_config cfg = {scn, &target, &pl, name, !quiet, &stop_flag, seed};
    rc = lg_run(&cfg, res, err, sizeof err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc) {
        fprintf(stderr, "nerd bench: %s\n", err[0] ? err : lg_strerror(rc));
        goto out;
    }
    char note[1200] = "";
    if (provider) {
        char perr[1024] = "";
        rc = lg_fetch_provider(&target, (int64_t)floor(res->t_reset), (int64_t)ceil(res->t_end),
                               &prov, perr, sizeof perr);
        if (rc) {
            snprintf(note, sizeof note, "provider metrics skipped: %s", perr);
            fprintf(stderr, "nerd bench: %s\n", note);
        } else if (write_text(dir, "provider_metrics.json", prov, strlen(prov))) {
            fprintf(stderr, "nerd bench: cannot write %s/provider_metrics.json\n", dir);
            goto out;
        }
    } else {
        snprintf(note, sizeof note, "provider metrics not fetched (--no-provider)");
    }
    {
        char sp[4200];
        snprintf(sp, sizeof sp, "%s/scenario.scn", dir);
        FILE *f = fopen(sp, "w");
        if (f) {
            fprintf(f, "# as run: --time-scale %g\n", scale);
            lg_scenario_write(scn, f);
            fclose(f);
        }
    }
    lg_report_in rin = {scn, &target, res, name, scn->name, scale, prov, note[0] ? note : NULL};
    rc = lg_report_write(&rin, dir, err, sizeof err);
    if (rc) {
        fprintf(stderr, "nerd bench: %s\n", err[0] ? err : lg_strerror(rc));
        goto out;
    }
    const lg_stats *m = &res->main;
    double win = m->requests && res->last_ts > res->t_reset ? res->last_ts - res->t_reset : 0;
    printf("%s: %llu requests, %llu failures, %.1f req/s; latency avg %.2f ms, p50 %.2f ms, "
           "p95 %.2f ms, p99 %.2f ms, max %.2f ms", scn->name, (unsigned long long)m->requests,
           (unsigned long long)m->failures, win > 0 ? (double)m->requests / win : 0.0,
           m->requests ? m->rt_sum_ms / (double)m->requests : 0.0,
           (double)lg_hist_percentile(&m->lat, 0.5) / 1000,
           (double)lg_hist_percentile(&m->lat, 0.95) / 1000,
           (double)lg_hist_percentile(&m->lat, 0.99) / 1000, (double)m->lat.max_us / 1000);
    if (scn->model == LG_OPEN)
        printf(" (uncorrected p50 %.2f ms, p99 %.2f ms)",
               (double)lg_hist_percentile(&m->unc, 0.5) / 1000,
               (double)lg_hist_percentile(&m->unc, 0.99) / 1000);
    printf("\nrun folder: %s\n", dir);
    status = res->interrupted ? 130 : 0;
out:
    free(prov);
    lg_payloads_fini(&pl);
    if (res)
        lg_result_fini(res);
    free(res);
    free(scn);
    return status;
}
