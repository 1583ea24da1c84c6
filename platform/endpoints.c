/*
 * The platform's own endpoints on the gateway port: /__nerd/ (the monitor
 * page, web/monitor.html embedded at build time), /__nerd/metrics
 * (Prometheus text) and /__nerd/metrics/json (series for a window), served
 * before any route (the prefix is reserved), and the metrics without the
 * prefix where no route of the template claims the path.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "front.h"

/* web/monitor.html, made C by function/embed.sh (the Makefile's
 * $(BUILD)/gen/monitor_page.c). */
extern const unsigned char gw_monitor_page[];
extern const size_t gw_monitor_page_len;

/* The page is one file with its script and style inline; the policy lets
 * it fetch from its own origin only (and nothing else anywhere). */
#define MONITOR_CSP                                                                    \
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "      \
    "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "        \
    "frame-ancestors 'none'"

static void serve_page(gw_req *r)
{
    if (strcmp(r->method, "GET")) {
        gw_reply_msg(r, 405, "Method Not Allowed");
        return;
    }
    static char *const hdr[][2] = {{"content-type", "text/html; charset=utf-8"},
                                   {"cache-control", "no-cache"},
                                   {"x-content-type-options", "nosniff"},
                                   {"content-security-policy", MONITOR_CSP}};
    apigw_response h;
    memset(&h, 0, sizeof h);
    for (size_t i = 0; i < sizeof hdr / sizeof *hdr; i++) {
        h.headers[i][0] = hdr[i][0];
        h.headers[i][1] = hdr[i][1];
    }
    h.n_headers = sizeof hdr / sizeof *hdr;
    gw_reply(r, 200, &h, (const char *)gw_monitor_page, gw_monitor_page_len);
}

/* The platform's metrics: GET /__nerd/metrics (Prometheus text) and
 * GET /__nerd/metrics/json?from=&to=&period= (series for a window, epoch
 * seconds; last=N instead: the last N seconds up to now).  path is the
 * name after the prefix ("/metrics", "/metrics/json").  Answers r and
 * returns 1, or 0 when path is not one of them. */
static int platform_endpoint(gw_req *r, const char *path)
{
    gw *g = r->g;
    const char *q = r->query;
    size_t ql = r->query_len;
    int is_prom = !strcmp(path, "/metrics"), is_json = !strcmp(path, "/metrics/json");
    if (!is_prom && !is_json)
        return 0;
    if (strcmp(r->method, "GET")) {
        gw_reply_msg(r, 405, "Method Not Allowed");
        return 1;
    }
    size_t n;
    if (is_prom) {
        char *txt = met_prometheus(g->met, &n);
        apigw_response h;
        memset(&h, 0, sizeof h);
        h.headers[0][0] = (char *)"content-type";
        h.headers[0][1] = (char *)"text/plain; version=0.0.4";
        h.n_headers = 1;
        if (txt)
            gw_reply(r, 200, &h, txt, n);
        else
            gw_reply_msg(r, 500, "Internal Server Error");
        free(txt);
        return 1;
    }
    long long now = (long long)time(NULL), from = now - 300, to = now, last = 0;
    int period = 1;
    char qs[512] = "";
    if (q)
        snprintf(qs, sizeof qs, "&%.*s", (int)(ql < 500 ? ql : 500), q);
    for (const char *s = q ? qs : NULL; s && *s; s = strchr(s + 1, '&')) {
        const char *kv = s + 1;
        if (!strncmp(kv, "from=", 5))
            from = atoll(kv + 5);
        else if (!strncmp(kv, "to=", 3))
            to = atoll(kv + 3);
        else if (!strncmp(kv, "period=", 7))
            period = atoi(kv + 7);
        else if (!strncmp(kv, "last=", 5))
            last = atoll(kv + 5);
    }
    if (last > 0) {
        from = now - (last < MET_SECONDS ? last : MET_SECONDS) + 1;
        to = now;
    }
    char *js = met_json(g->met, from, to, period, &n);
    if (js)
        gw_reply(r, 200, NULL, js, n);
    else
        gw_reply_msg(r, 500, "Internal Server Error");
    free(js);
    return 1;
}

static int serve_prefixed(gw_req *r)
{
    static const char pre[] = "/__nerd";
    size_t pl = sizeof pre - 1;
    if (strncmp(r->path, pre, pl) || (r->path[pl] != '/' && r->path[pl]))
        return 0;
    if (!r->path[pl]) { /* /__nerd: the page is at /__nerd/ */
        apigw_response h;
        memset(&h, 0, sizeof h);
        h.headers[0][0] = (char *)"location";
        h.headers[0][1] = (char *)"/__nerd/";
        h.n_headers = 1;
        static const char msg[] = "{\"message\":\"Moved Permanently\"}";
        gw_reply(r, 301, &h, msg, sizeof msg - 1);
    } else if (!strcmp(r->path + pl, "/")) {
        serve_page(r);
    } else if (!platform_endpoint(r, r->path + pl)) {
        gw_reply_msg(r, 404, "Not Found");
    }
    return 1;
}

static int serve_fallback(gw_req *r) { return platform_endpoint(r, r->path); }

const gw_front gw_front_platform = {"platform", serve_prefixed};
const gw_front gw_front_fallback = {"platform-fallback", serve_fallback};
