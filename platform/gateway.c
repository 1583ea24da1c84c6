/*
 * The gateway's server (see gateway.h): the listening socket, the worker
 * loops, a request's way to the front ends, the answers every front
 * writes (gw_reply), start-up (warnings, provisioned environments) and a
 * draining shutdown.
 */
#define _GNU_SOURCE
#include "gateway.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "admit_keys.h"
#include "authz.h"
#include "clock.h"
#include "front.h"
#include "langrt.h"

#define GW_MAX_HEAD 10240                 /* HTTP API: request line + headers */
#define GW_MAX_BODY (10u * 1024 * 1024)   /* HTTP API payload limit */
#define GW_BACKLOG 4096
#define GW_SPARE_REQS 256                 /* freed requests kept per worker */

/* The fronts, in the order a request is offered to them. */
static const gw_front *const fronts[] = {
    &gw_front_lambda,    /* /2015-03-31/functions/... (reserved, as on AWS) */
    &gw_front_platform,  /* /__nerd/... (reserved for the platform) */
    &gw_front_restapi,   /* the template's REST APIs: /{stage}/... */
    &gw_front_httpapi,   /* the template's HTTP API routes */
    &gw_front_fallback,  /* /metrics, /metrics/json where no route claims them */
    &gw_front_rest_unmatched, /* REST APIs in the template: their 403 */
};

void gw_reply(gw_req *r, int status, const apigw_response *resp, const char *body, size_t blen)
{
    char head[8192];
    size_t n = (size_t)snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\n", status,
                                http_reason(status));
    int have_ct = 0;
    for (size_t i = 0; resp && i < resp->n_headers; i++) {
        const char *k = resp->headers[i][0], *v = resp->headers[i][1];
        size_t kl = strlen(k), vl = strlen(v);
        if (!strcasecmp(k, "content-length") || !strcasecmp(k, "connection") ||
            !strcasecmp(k, "transfer-encoding") || strpbrk(k, "\r\n") || strpbrk(v, "\r\n"))
            continue;
        if (n + kl + vl + 4 > sizeof head - 512) /* what does not fit is dropped; 512
                                                  * bytes stay for the lines below */
            continue;
        have_ct |= !strcasecmp(k, "content-type");
        n += (size_t)snprintf(head + n, sizeof head - n, "%s: %s\r\n", k, v);
    }
    if (!have_ct)
        n += (size_t)snprintf(head + n, sizeof head - n, "content-type: application/json\r\n");
    n += (size_t)snprintf(head + n, sizeof head - n,
                          "content-length: %zu\r\n%s%s%sdate: %s\r\n%s\r\n", blen,
                          r->rid[0] ? "apigw-requestid: " : "", r->rid, r->rid[0] ? "\r\n" : "",
                          clk_http_date(), r->keep ? "" : "connection: close\r\n");
    if (n >= sizeof head) {
        n = (size_t)snprintf(head, sizeof head, "HTTP/1.1 500 Internal Server Error\r\n"
                             "content-length: 0\r\nconnection: close\r\n\r\n");
        blen = 0;
        r->keep = 0;
    }
    hc_send(r->c, head, n, body, blen, r->keep);
    gw_worker *w = r->w;
    if (w->n_spare < GW_SPARE_REQS) {
        r->next_spare = w->spare;
        w->spare = r;
        w->n_spare++;
    } else {
        free(r);
    }
}

void gw_reply_msg(gw_req *r, int status, const char *msg)
{
    char body[128];
    int n = snprintf(body, sizeof body, "{\"message\":\"%s\"}", msg);
    gw_reply(r, status, NULL, body, (size_t)n);
}

const char *gw_header(const gw_req *r, const char *name, char *out, size_t cap)
{
    size_t n;
    const char *v = http_header(r->hr, r->buf, name, &n, 0);
    if (!v)
        return NULL;
    snprintf(out, cap, "%.*s", (int)(n < cap - 1 ? n : cap - 1), v);
    return out;
}

static gw_req *req_new(gw_worker *w, hc_conn *c, int keep)
{
    gw_req *r = w->spare;
    if (r) {
        w->spare = r->next_spare;
        w->n_spare--;
    } else if (!(r = malloc(sizeof *r))) {
        return NULL;
    }
    r->g = w->g;
    r->w = w;
    r->c = c;
    r->buf = NULL;
    r->hr = NULL;
    r->keep = keep;
    r->query = NULL;
    r->query_len = 0;
    r->method[0] = r->path[0] = 0;
    clk_apigw_id(r->rid);
    return r;
}

static void on_request(hc_conn *c, char *buf, const http_request *hr, void *arg)
{
    gw_worker *w = arg;
    gw_req *r = req_new(w, c, hr->keep_alive);
    if (!r) {
        static const char oom[] = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n"
                                  "connection: close\r\n\r\n";
        hc_send(c, oom, sizeof oom - 1, NULL, 0, 0);
        return;
    }
    r->buf = buf;
    r->hr = hr;
    snprintf(r->method, sizeof r->method, "%.*s",
             (int)(hr->method_len < 15 ? hr->method_len : 15), buf + hr->method);
    const char *target = buf + hr->target;
    size_t tl = hr->target_len;
    const char *q = memchr(target, '?', tl);
    size_t pl = q ? (size_t)(q - target) : tl;
    if (pl >= sizeof r->path || target[0] != '/') {
        gw_reply_msg(r, 404, "Not Found");
        return;
    }
    memcpy(r->path, target, pl);
    r->path[pl] = 0;
    if (q) {
        r->query = q + 1;
        r->query_len = tl - pl - 1;
    }
    for (size_t i = 0; i < sizeof fronts / sizeof fronts[0]; i++)
        if (fronts[i]->serve(r))
            return;
    gw_reply_msg(r, 404, "Not Found");
}

static void on_error(hc_conn *c, int status, void *arg)
{
    gw_req *r = req_new(arg, c, 0);
    if (!r) {
        hc_send(c, "", 0, NULL, 0, 0);
        return;
    }
    if (gw_rest_error(r, status))
        return;
    gw_reply_msg(r, status, status == 413   ? "Request Entity Too Large"
                            : status == 431 ? "Request Header Fields Too Large"
                            : status == 408 ? "Request Timeout"
                                            : "Bad Request");
}

/* Connections are dealt to the workers in turn, whichever accepted them:
 * each worker's runtimes run on its CPU, so the load must be spread. */
typedef struct handoff {
    gw_worker *w;
    int fd;
} handoff;

static void adopt(void *arg)
{
    handoff *h = arg;
    if (h->w->g->stopping || hc_server_adopt(h->w->srv, h->fd) != 0)
        close(h->fd);
    free(h);
}

static int on_accepted(int fd, void *arg)
{
    gw_worker *w = arg;
    gw *g = w->g;
    if (g->n_workers < 2)
        return 0;
    unsigned k = atomic_fetch_add(&g->next_worker, 1) % (unsigned)g->n_workers;
    if ((int)k == w->id)
        return 0;
    handoff *h = malloc(sizeof *h);
    if (!h)
        return 0;
    h->w = &g->workers[k];
    h->fd = fd;
    if (ev_post(h->w->L, adopt, h) != 0) {
        free(h);
        return 0;
    }
    return 1;
}

/* Every 200 ms: the stop flag, and once a second idle reaping. */
static void on_tick(ev_loop *L, ev_timer *t)
{
    gw_worker *w = t->data;
    gw *g = w->g;
    if (*g->o->stop && !g->stopping)
        g->stopping = 1;
    if (g->stopping) {
        hc_server_stop_accepting(w->srv);
        hc_server_close_idle(w->srv);
        gw_async_stop(g->async, w);
    }
    if (ev_now(L) - w->last_reap > 1000.0) {
        pool_reap(g->pools, w->id, g->o->idle_reap_s);
        w->last_reap = ev_now(L);
    }
    ev_timer_start(L, &w->tick, ev_now(L) + 200, on_tick, w);
}

/* Runs until stopping and nothing is left to answer: no busy connection,
 * no pending request, no Event job, no running invocation (bounded by the
 * longest function timeout + 3 s). */
static void *worker_main(void *arg)
{
    gw_worker *w = arg;
    gw *g = w->g;
    double deadline = 0;
    int max_timeout = 0;
    for (size_t i = 0; i < g->t->n_functions; i++)
        if (g->t->functions[i].timeout_s > max_timeout)
            max_timeout = g->t->functions[i].timeout_s;
    for (;;) {
        ev_run_once(w->L, 200);
        if (!g->stopping)
            continue;
        if (!deadline)
            deadline = clk_mono_ms() + (max_timeout + 3) * 1000.0;
        hc_server_close_idle(w->srv);
        if ((!hc_server_busy(w->srv) && !w->pending && !gw_async_pending(g->async) &&
             !pool_busy(g->pools)) || clk_mono_ms() > deadline)
            break;
    }
    /* this thread's runtimes die with it (PR_SET_PDEATHSIG): stopped now */
    pool_stop_worker(g->pools, w->id);
    return NULL;
}

/* Lets this process hold as many connections as it may. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int gw_serve(const sam_template *t, const gw_options *o, char *err, size_t errlen)
{
    int rc = -1, lfd = -1, started = 0;
    gw *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    raise_nofile();
    g->t = t;
    g->o = o;
    g->client_timeout = o->client_timeout_s > 0 ? o->client_timeout_s : 30.0;
    g->head_timeout = o->head_timeout_s > 0 ? o->head_timeout_s : g->client_timeout;
    cpu_set_t mine;
    long ncpu = sched_getaffinity(0, sizeof mine, &mine) == 0 ? CPU_COUNT(&mine)
                                                              : sysconf(_SC_NPROCESSORS_ONLN);
    g->n_workers = o->workers > 0 ? o->workers : ncpu > 0 ? (int)ncpu : 1;
    if (g->n_workers > GW_MAX_WORKERS)
        g->n_workers = GW_MAX_WORKERS;
    ev_loop *loops[GW_MAX_WORKERS];
    int cpus[GW_MAX_WORKERS];
    /* one worker per CPU this process may use: each pinned to its own */
    cpu_set_t allowed;
    int pin = !o->workers && sched_getaffinity(0, sizeof allowed, &allowed) == 0 &&
              CPU_COUNT(&allowed) == g->n_workers;
    for (int i = 0, k = 0; pin && i < g->n_workers; i++) {
        while (k < CPU_SETSIZE && !CPU_ISSET(k, &allowed))
            k++;
        cpus[i] = k++;
    }
    for (int i = 0; i < g->n_workers; i++) {
        gw_worker *w = &g->workers[i];
        w->id = i;
        w->g = g;
        w->L = loops[i] = ev_new();
        if (!w->L) {
            snprintf(err, errlen, "event loop: %s", strerror(errno));
            goto out;
        }
    }
    g->met = met_new(t);
    g->async = gw_async_new(g);
    g->pools = g->met ? pool_new(t, g->met, o->log, loops, pin ? cpus : NULL, g->n_workers)
                      : NULL;
    if (!g->met || !g->async || !g->pools) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t r = 0; r < SAM_MAX_ROUTES; r++)
        pthread_mutex_init(&g->buckets[r].mu, NULL);
    if (gw_authz_new(t, o->jwks, o->n_jwks, o->log, &g->authz, err, errlen))
        goto out;
    for (size_t i = 0; i < t->n_functions; i++) {
        char why[1400];
        if (lam_check_bootstrap(&t->functions[i], why, sizeof why) != 0)
            fprintf(o->log, "nerd: warning: function %s: %s; its invocations will fail with "
                    "Runtime.InvalidEntrypoint\n", t->functions[i].name, why);
        else
            lrt_warn(&t->functions[i], o->log); /* interpreter, version, layers */
    }
    if (gw_keys_open(g, err, errlen)) /* API keys: printed before serving */
        goto out;
    fflush(o->log);
    pool_prewarm(g->pools); /* provisioned environments, before serving */
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (lfd >= 0)
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, GW_BACKLOG) ||
        getsockname(lfd, (struct sockaddr *)&a, &al)) {
        snprintf(err, errlen, "127.0.0.1:%d: %s", o->port, strerror(errno));
        goto out;
    }
    hc_limits lim = {g->head_timeout, g->client_timeout, g->client_timeout, GW_MAX_HEAD,
                     GW_MAX_BODY};
    for (int i = 0; i < g->n_workers; i++) {
        gw_worker *w = &g->workers[i];
        hc_handler h = {on_request, on_error, on_accepted, w};
        w->srv = hc_server_new(w->L, lfd, &lim, &h);
        if (!w->srv) {
            snprintf(err, errlen, "accept: %s", strerror(errno));
            goto out;
        }
        w->last_reap = clk_mono_ms();
        ev_timer_start(w->L, &w->tick, clk_mono_ms() + 200, on_tick, w);
    }
    fprintf(o->log, "listening on http://127.0.0.1:%d\n", ntohs(a.sin_port));
    fflush(o->log);
    for (; started < g->n_workers; started++) {
        pthread_attr_t at;
        pthread_attr_init(&at);
        if (pin) {
            cpu_set_t one_cpu;
            CPU_ZERO(&one_cpu);
            CPU_SET(cpus[started], &one_cpu);
            pthread_attr_setaffinity_np(&at, sizeof one_cpu, &one_cpu);
        }
        int prc = pthread_create(&g->workers[started].th, &at, worker_main, &g->workers[started]);
        pthread_attr_destroy(&at);
        if (prc) {
            snprintf(err, errlen, "pthread_create failed");
            g->stopping = 1;
            break;
        }
    }
    for (int i = 0; i < started; i++)
        pthread_join(g->workers[i].th, NULL);
    rc = started == g->n_workers ? 0 : -1;
out:
    for (int i = 0; i < g->n_workers; i++) {
        hc_server_free(g->workers[i].srv);
        if (g->workers[i].L)
            ev_timer_stop(g->workers[i].L, &g->workers[i].tick);
    }
    if (lfd >= 0)
        close(lfd);
    pool_free(g->pools); /* every environment: SIGTERM, then SIGKILL */
    gw_keys_close(g);    /* the last usage counts written */
    gw_async_free(g->async);
    gw_authz_free(g->authz);
    met_free(g->met);
    for (int i = 0; i < g->n_workers; i++) {
        ev_free(g->workers[i].L);
        while (g->workers[i].spare) {
            gw_req *r = g->workers[i].spare;
            g->workers[i].spare = r->next_spare;
            free(r);
        }
    }
    free(g);
    return rc;
}
