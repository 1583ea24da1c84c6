/*
 * The load lab's event loop (see loadgen.h): one thread, one epoll set,
 * level-triggered, many keep-alive connections.
 *
 * Closed model: connection slot i is virtual user i (users [0, active)
 * run); a user sends, waits for the response, thinks for a uniform random
 * time from the stage's range and sends again (without think time: once
 * the current batch of events is handled, as wrk does); users are started
 * and stopped at the stage's spawn rate (a stopped user finishes its
 * request first, so every request sent is counted).  Open model: arrivals follow
 * the stage's rate (the k-th arrival of a stage is where the integral of
 * its linear rate reaches k - 1/2), each goes out on an idle connection
 * or a new one up to the cap, otherwise it waits; its latency runs from
 * its intended time.
 *
 * The hot path sends preformatted bytes with one send(), reads into one
 * shared buffer, feeds the streaming response parser and records into
 * the current second's histogram; nothing is allocated per request.  At
 * each wall-clock second the slice is closed: percentiles, a sparse copy
 * of its histograms, merged into the run's totals.
 */
#define _GNU_SOURCE
#include "loadgen.h"

#include <errno.h>
#include <math.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lg_flow.h"
#include "lg_resp.h"

#define RBUF (64 * 1024)
#define MAX_EVENTS 1024
#define SCAN_NS 100000000ull            /* timeout scan at least every 100 ms */
#define ERR_BACKOFF_NS 10000000ull      /* a user waits >= 10 ms after a connection error */
#define SPARSE_CAP (16u << 20)          /* sparse pool entries (~96 MB) */
#define NS 1000000000ull
#define CAPTURE_BYTES 8192              /* of an answer's body, for captures */
#define NO_SESS UINT32_MAX

enum { C_NONE, C_IDLE, C_CONNECTING, C_SENDING, C_READING };

typedef struct conn {
    int fd;
    int state;
    int active;          /* closed: a running user */
    int stopping;        /* closed: retire after the current request */
    int heap_pos;        /* closed: index in the wake heap, -1 if not there */
    int epout;           /* EPOLLOUT in the interest set */
    int retried;
    uint32_t req;        /* payload index */
    uint32_t sess;       /* the mix: its session (NO_SESS: none) */
    uint32_t entry;      /* its row in the statistics */
    char *obuf;          /* the mix: the rendered request (LG_REQ_BYTES) */
    size_t olen;
    char *cbuf;          /* the mix: the answer's first CAPTURE_BYTES (when it captures) */
    size_t clen;
    uint32_t uses;       /* responses completed on this connection */
    size_t sent;
    uint64_t wake;       /* closed: when the user sends next */
    uint64_t t_intended, t_sent, deadline;
    lg_resp resp;
} conn;

/* Open model: the arrivals of one stage not sent yet.  A stage that ends
 * while all connections are busy keeps its owed arrivals: they go out,
 * oldest first, before the next stage's, each with its own intended time. */
typedef struct owed {
    int phase;
    uint64_t start;      /* the stage's start (monotonic ns) */
    uint64_t k;          /* the next arrival's number (1-based) */
    uint64_t next_at;    /* its intended time; 0 when the stage has no more */
} owed;

typedef struct eng {
    const lg_config *cfg;
    const lg_scenario *scn;
    lg_result *res;
    int ep;
    conn *c;
    uint32_t ncap;       /* slots */
    uint32_t hiwater;    /* slots ever used */
    char *rbuf;
    char url[600];
    /* timeline */
    uint64_t mono0, wall0;
    int phase;           /* -1 warm-up, 0.. stages, n_stages: drain */
    uint64_t phase_start, phase_end;
    int ended;           /* schedule over: no new requests */
    uint64_t drain_deadline;
    int reset_done;
    /* closed */
    uint32_t active;     /* running users */
    uint32_t target;
    uint64_t next_spawn; /* 0: none pending */
    uint32_t *heap;
    uint32_t heap_n;
    uint32_t *ready;     /* users to send again after this batch of events */
    uint32_t ready_n;
    uint64_t rng;
    /* open */
    uint32_t *idle;      /* idle connection stack */
    uint32_t idle_n;
    uint32_t open_n;     /* connections open or connecting */
    uint32_t busy;       /* requests in flight */
    owed *owed;          /* arrivals owed, one entry per stage, oldest first;
                            the last is the current stage's */
    uint32_t owed_head, owed_n;
    /* a stateful mix (the scenario's requests) */
    int flow;
    lg_sess *sess;       /* closed: one per user; open: a pool up to the connections */
    uint32_t n_sess;
    uint32_t *sq;        /* open: ready sessions, a FIFO ring of ncap */
    uint32_t sq_head, sq_n;
    uint32_t entry_of[LG_MAX_REQUESTS];
    /* pacing */
    uint32_t payload_cursor;
    uint64_t next_tick, next_scan, scan_ns;
    /* current slice */
    lg_slice cur;
    lg_hist *h_lat, *h_unc;
    /* progress */
    int tty;
    uint64_t last_fail_total;
} eng;

static uint64_t wall_of(const eng *e, uint64_t mono)
{
    return e->wall0 + (mono - e->mono0);
}

static double wall_s(const eng *e, uint64_t mono)
{
    return (double)wall_of(e, mono) / 1e9;
}

static const lg_stage *stage_of(const eng *e, int phase)
{
    if (phase < 0)
        return &e->scn->warmup;
    if ((size_t)phase < e->scn->n_stages)
        return &e->scn->stages[phase];
    return NULL;
}

static uint64_t rnd(eng *e)
{
    return lg_rand(&e->rng);
}

/* ---- closed-model wake heap ------------------------------------------- */

static void heap_swap(eng *e, uint32_t a, uint32_t b)
{
    uint32_t x = e->heap[a];
    e->heap[a] = e->heap[b];
    e->heap[b] = x;
    e->c[e->heap[a]].heap_pos = (int)a;
    e->c[e->heap[b]].heap_pos = (int)b;
}

static void heap_up(eng *e, uint32_t i)
{
    while (i) {
        uint32_t p = (i - 1) / 2;
        if (e->c[e->heap[p]].wake <= e->c[e->heap[i]].wake)
            break;
        heap_swap(e, i, p);
        i = p;
    }
}

static void heap_down(eng *e, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < e->heap_n && e->c[e->heap[l]].wake < e->c[e->heap[m]].wake)
            m = l;
        if (r < e->heap_n && e->c[e->heap[r]].wake < e->c[e->heap[m]].wake)
            m = r;
        if (m == i)
            return;
        heap_swap(e, i, m);
        i = m;
    }
}

static void heap_push(eng *e, uint32_t ci)
{
    e->heap[e->heap_n] = ci;
    e->c[ci].heap_pos = (int)e->heap_n;
    e->heap_n++;
    heap_up(e, e->heap_n - 1);
}

static void heap_remove(eng *e, uint32_t ci)
{
    int pos = e->c[ci].heap_pos;
    if (pos < 0)
        return;
    uint32_t p = (uint32_t)pos, last = e->heap_n - 1;
    if (p != last) {
        heap_swap(e, p, last);
        e->heap_n--;
        heap_down(e, p);
        heap_up(e, p);
    } else {
        e->heap_n--;
    }
    e->c[ci].heap_pos = -1;
}

/* ---- statistics --------------------------------------------------------- */

static void slice_start(eng *e, int64_t t)
{
    memset(&e->cur, 0, sizeof e->cur);
    e->cur.t = t;
    e->cur.after_reset = e->reset_done;
    e->cur.min_us = e->cur.umin_us = UINT64_MAX;
    lg_hist_reset(e->h_lat);
    lg_hist_reset(e->h_unc);
}

static int sparse_append(lg_result *r, const lg_hist *h, uint32_t *off, uint32_t *n)
{
    size_t k = lg_hist_sparse(h, NULL, NULL, 0);
    *off = (uint32_t)r->sp_n;
    *n = 0;
    if (!k || r->sp_n + k > SPARSE_CAP)
        return 0;
    if (r->sp_n + k > r->sp_cap) {
        size_t cap = r->sp_cap ? r->sp_cap : 65536;
        while (cap < r->sp_n + k)
            cap *= 2;
        uint16_t *i = realloc(r->sp_idx, cap * sizeof *i);
        if (!i)
            return -1;
        r->sp_idx = i;
        uint32_t *c = realloc(r->sp_cnt, cap * sizeof *c);
        if (!c)
            return -1;
        r->sp_cnt = c;
        r->sp_cap = cap;
    }
    lg_hist_sparse(h, r->sp_idx + r->sp_n, r->sp_cnt + r->sp_n, k);
    r->sp_n += k;
    *n = (uint32_t)k;
    return 0;
}

static uint32_t u32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* Closes the current slice (at a second boundary, or early at the reset). */
static int slice_close(eng *e, int partial)
{
    lg_result *r = e->res;
    lg_slice *s = &e->cur;
    s->partial = partial;
    s->phase = e->phase;
    s->users = e->scn->model == LG_CLOSED ? e->active : e->busy;
    s->min_us = e->h_lat->total ? e->h_lat->min_us : 0;
    s->max_us = e->h_lat->max_us;
    s->umin_us = e->h_unc->total ? e->h_unc->min_us : 0;
    s->umax_us = e->h_unc->max_us;
    s->p50 = u32(lg_hist_percentile(e->h_lat, 0.50));
    s->p95 = u32(lg_hist_percentile(e->h_lat, 0.95));
    s->p99 = u32(lg_hist_percentile(e->h_lat, 0.99));
    s->up50 = u32(lg_hist_percentile(e->h_unc, 0.50));
    s->up95 = u32(lg_hist_percentile(e->h_unc, 0.95));
    s->up99 = u32(lg_hist_percentile(e->h_unc, 0.99));
    if (sparse_append(r, e->h_lat, &s->off, &s->n) || sparse_append(r, e->h_unc, &s->uoff, &s->un))
        return -1;
    lg_hist_merge(&r->all.lat, e->h_lat);
    lg_hist_merge(&r->all.unc, e->h_unc);
    if (s->after_reset) {
        lg_hist_merge(&r->main.lat, e->h_lat);
        lg_hist_merge(&r->main.unc, e->h_unc);
    }
    if (r->n_slices % 256 == 0) {
        lg_slice *ns = realloc(r->slices, (r->n_slices + 256) * sizeof *ns);
        if (!ns)
            return -1;
        r->slices = ns;
    }
    r->slices[r->n_slices++] = *s;
    return 0;
}

static void py_repr(char *out, size_t cap, const char *s)
{
    /* Python's repr() of a str: single quotes unless it holds ' and no " */
    char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
    size_t o = 0;
    if (cap < 4)
        return;
    out[o++] = q;
    for (; *s && o + 3 < cap; s++) {
        if (*s == q || *s == '\\')
            out[o++] = '\\';
        out[o++] = *s;
    }
    out[o++] = q;
    out[o] = 0;
}

/* Counts one failure under its error text, as Locust's failures table
 * shows it (the repr of the exception it recorded). */
static void add_error_text(eng *e, uint32_t entry, const char *full)
{
    lg_result *r = e->res;
    for (size_t i = 0; i < r->n_errors; i++)
        if (r->errors[i].entry == entry && !strcmp(r->errors[i].msg, full)) {
            r->errors[i].count++;
            return;
        }
    if (r->n_errors < LG_MAX_ERROR_ROWS - 1) {
        snprintf(r->errors[r->n_errors].msg, sizeof r->errors[0].msg, "%s", full);
        r->errors[r->n_errors].entry = entry;
        r->errors[r->n_errors++].count = 1;
        return;
    }
    /* the last row collects the rest */
    lg_error_row *o = &r->errors[LG_MAX_ERROR_ROWS - 1];
    if (r->n_errors < LG_MAX_ERROR_ROWS) {
        snprintf(o->msg, sizeof o->msg, "OtherErrors('more than %d distinct errors')",
                 LG_MAX_ERROR_ROWS - 1);
        r->n_errors = LG_MAX_ERROR_ROWS;
    }
    o->count++;
}

/* TYPE(repr(msg)) */
static void add_error(eng *e, uint32_t entry, const char *type, const char *msg)
{
    char rep[224], full[256];
    py_repr(rep, sizeof rep, msg);
    snprintf(full, sizeof full, "%.24s(%s)", type, rep);
    add_error_text(e, entry, full);
}

/* Python's OSError subclass for an errno, as raised by the socket calls
 * under requests (Locust records the innermost exception). */
static const char *py_oserror(int err)
{
    switch (err) {
    case ECONNREFUSED: return "ConnectionRefusedError";
    case ECONNRESET: return "ConnectionResetError";
    case ECONNABORTED: return "ConnectionAbortedError";
    case EPIPE: return "BrokenPipeError";
    case ETIMEDOUT: return "TimeoutError";
    default: return "OSError";
    }
}

/* F_CONN's detail: the error text already in Locust's form. */
enum { F_HTTP, F_CONN, F_TIMEOUT, F_PROTO };

/* The mix: the answer's first bytes, kept for its captures. */
static void on_body(void *arg, const char *p, size_t n)
{
    conn *c = arg;
    if (c->cbuf && c->clen < CAPTURE_BYTES) {
        size_t k = n < CAPTURE_BYTES - c->clen ? n : CAPTURE_BYTES - c->clen;
        memcpy(c->cbuf + c->clen, p, k);
        c->clen += k;
    }
}

static void resp_init(eng *e, conn *c)
{
    lg_resp_init(&c->resp);
    c->clen = 0;
    if (e->flow) {
        c->resp.on_body = on_body;
        c->resp.arg = c;
    }
}

/* The mix: the request's session is done with it; in the open model the
 * session waits for the next arrival. */
static void sess_release(eng *e, conn *c)
{
    if (c->sess == NO_SESS)
        return;
    if (e->scn->model == LG_OPEN)
        e->sq[(e->sq_head + e->sq_n++) % e->ncap] = c->sess;
    c->sess = NO_SESS;
}

/* One finished request: status (0 for none) or a failure kind. */
static void record(eng *e, conn *c, uint64_t now, int status, int fkind, const char *detail)
{
    lg_result *r = e->res;
    uint64_t lat = (now - c->t_intended) / 1000;
    int fail = status < 200 || status > 299;
    char why[160] = "";
    if (e->flow && c->sess != NO_SESS) {
        /* the mix's verdict: expected statuses and captures */
        fail = !lg_flow_done(e->scn, &e->sess[c->sess], status, c->cbuf, c->clen, why,
                             sizeof why);
        sess_release(e, c);
    }
    lg_hist_add(e->h_lat, lat);
    if (c->t_sent) /* 0: an owed arrival that was never sent */
        lg_hist_add(e->h_unc, (now - c->t_sent) / 1000);
    double ms = (double)(now - c->t_intended) / 1e6;
    uint64_t content = status ? c->resp.body_len : 0;
    e->cur.requests++;
    e->cur.failures += (uint64_t)fail;
    e->cur.content += content;
    e->cur.rt_sum_ms += ms;
    double ts = wall_s(e, now);
    e->cur.last_ts = ts;
    r->all.requests++;
    r->all.failures += (uint64_t)fail;
    r->all.content += content;
    r->all.rt_sum_ms += ms;
    if (!e->reset_done)
        return;
    if (!r->main.requests)
        r->first_ts = ts;
    r->last_ts = ts;
    r->main.requests++;
    r->main.failures += (uint64_t)fail;
    r->main.content += content;
    r->main.rt_sum_ms += ms;
    lg_entry *en = &r->entries[c->entry];
    en->requests++;
    en->failures += (uint64_t)fail;
    en->content += content;
    en->rt_sum_ms += ms;
    lg_hist_add(en->lat, lat);
    if (status >= 100 && status < 1000)
        r->status[status]++;
    if (!fail)
        return;
    char msg[200];
    if (status && why[0]) {
        /* as a locustfile's response.failure(why) records it */
        add_error(e, c->entry, "CatchResponseError", why);
        return;
    }
    switch (fkind) {
    case F_HTTP: {
        const char *kind = status >= 500 ? "Server Error" : status >= 400 ? "Client Error"
                         : "Unexpected Status";
        /* Locust puts the request's name in the URL's place (locustfile.py
         * posts with name="/ner") */
        snprintf(msg, sizeof msg, "%d %s: %.40s for url: %.100s", status, kind,
                 c->resp.reason, e->flow ? en->name : e->cfg->name ? e->cfg->name : e->url);
        add_error(e, c->entry, "HTTPError", msg);
        break;
    }
    case F_TIMEOUT: {
        /* requests' ReadTimeout wraps urllib3's ReadTimeoutError */
        r->timeouts++;
        char tb[32], inner[220];
        snprintf(msg, sizeof msg, "HTTPConnectionPool(host='%.64s', port=%d): Read timed out. "
                 "(read timeout=%s)", e->cfg->target->host, e->cfg->target->port,
                 lg_pyfloat(e->scn->timeout, tb));
        py_repr(inner, sizeof inner, msg);
        char full[256];
        snprintf(full, sizeof full, "ReadTimeout(ReadTimeoutError(%s))", inner);
        add_error_text(e, c->entry, full);
        break;
    }
    case F_PROTO:
        r->conn_errors++;
        add_error(e, c->entry, "ProtocolError", detail);
        break;
    default:
        r->conn_errors++;
        add_error_text(e, c->entry, detail);
    }
}

/* ---- connections ---------------------------------------------------------- */

static void conn_close(eng *e, conn *c)
{
    if (c->fd >= 0) {
        close(c->fd); /* also leaves the epoll set */
        c->fd = -1;
        if (e->scn->model == LG_OPEN && e->open_n)
            e->open_n--;
    }
    c->state = C_NONE;
    c->epout = 0;
    c->uses = 0;
}

static int set_out(eng *e, conn *c, int on)
{
    if (c->epout == on)
        return 0;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0u),
                             .data.u32 = (uint32_t)(c - e->c)};
    c->epout = on;
    return epoll_ctl(e->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void after_request(eng *e, conn *c, uint64_t now, int conn_error);
static void do_send(eng *e, conn *c, uint64_t now);
static owed *owed_front(eng *e);

static int conn_open(eng *e, conn *c)
{
    const lg_target *t = e->cfg->target;
    int fd = socket(t->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    e->res->connects++;
    int rc = connect(fd, (const struct sockaddr *)&t->addr, t->addr_len);
    int inprog = rc < 0 && errno == EINPROGRESS;
    if (rc < 0 && !inprog) {
        int er = errno;
        close(fd);
        return -er;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (inprog ? EPOLLOUT : 0u),
                             .data.u32 = (uint32_t)(c - e->c)};
    if (epoll_ctl(e->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int er = errno;
        close(fd);
        return -er;
    }
    c->fd = fd;
    c->epout = inprog;
    c->uses = 0;
    c->state = inprog ? C_CONNECTING : C_SENDING;
    if (e->scn->model == LG_OPEN)
        e->open_n++;
    return 0;
}

static void conn_failed(eng *e, conn *c, uint64_t now, int err)
{
    char rep[160], msg[200];
    py_repr(rep, sizeof rep, strerror(err));
    snprintf(msg, sizeof msg, "%s(%d, %s)", py_oserror(err), err, rep);
    record(e, c, now, 0, F_CONN, msg);
    conn_close(e, c);
    after_request(e, c, now, 1);
}

/* Starts a request on c (opening its connection if needed).  Its clock
 * starts here, connection set-up included; intended: the open model's
 * scheduled time, 0 in the closed model (where it is the start). */
static void start_request(eng *e, conn *c, uint64_t intended)
{
    uint64_t now = lg_mono_ns();
    c->t_sent = now;
    c->t_intended = intended ? intended : now;
    c->deadline = now + (uint64_t)(e->scn->timeout * 1e9);
    c->sent = 0;
    c->retried = 0;
    resp_init(e, c);
    e->busy++;
    if (e->busy > e->res->peak_conns)
        e->res->peak_conns = e->busy;
    e->res->sent++;
    if (e->flow) {
        /* the user's own session (closed), or the session that has waited
         * longest, else a new one (open: never more than the connections) */
        if (e->scn->model == LG_CLOSED) {
            c->sess = (uint32_t)(c - e->c);
        } else if (e->sq_n) {
            c->sess = e->sq[e->sq_head];
            e->sq_head = (e->sq_head + 1) % e->ncap;
            e->sq_n--;
        } else {
            c->sess = e->n_sess++;
            lg_sess_init(&e->sess[c->sess], c->sess + 1);
        }
        lg_sess *ss = &e->sess[c->sess];
        c->entry = e->entry_of[ss->step < e->scn->n_requests ? ss->step : 0];
        const lg_target *t = e->cfg->target;
        c->olen = lg_flow_render(e->scn, ss, t->host, t->port, t->base, &e->rng, c->obuf,
                                 e->scn->flow_bytes);
        if (!c->olen) { /* cannot happen for a parsed scenario: counted, not sent */
            record(e, c, now, 0, F_PROTO, "the request could not be rendered");
            after_request(e, c, now, 1);
            return;
        }
    } else {
        c->req = e->payload_cursor++;
        if (e->payload_cursor >= e->cfg->payloads->n)
            e->payload_cursor = 0;
    }
    if (c->fd < 0) {
        int rc = conn_open(e, c);
        if (rc < 0) {
            conn_failed(e, c, now, -rc);
            return;
        }
        if (c->state == C_CONNECTING)
            return;
    }
    c->state = C_SENDING;
    do_send(e, c, now);
}

/* The request on a reused connection found it closed before any byte of
 * the answer: send it again once on a fresh connection (as HTTP clients
 * do); the server never saw it, so counts still match. */
static int retry(eng *e, conn *c, uint64_t now)
{
    if (c->retried || !c->uses || c->resp.bytes)
        return 0;
    conn_close(e, c);
    c->retried = 1;
    e->res->retried++;
    c->sent = 0;
    resp_init(e, c);
    int rc = conn_open(e, c);
    if (rc < 0) {
        conn_failed(e, c, now, -rc);
        return 1;
    }
    c->retried = 1;
    if (c->state == C_SENDING)
        do_send(e, c, now);
    return 1;
}

static void do_send(eng *e, conn *c, uint64_t now)
{
    const lg_payloads *p = e->cfg->payloads;
    const char *b = e->flow ? c->obuf : p->buf + p->off[c->req];
    size_t len = e->flow ? c->olen : p->len[c->req];
    while (c->sent < len) {
        ssize_t n = send(c->fd, b + c->sent, len - c->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->sent += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_out(e, c, 1);
            return;
        }
        int er = n < 0 ? errno : EPIPE;
        if ((er == EPIPE || er == ECONNRESET) && retry(e, c, now))
            return;
        conn_failed(e, c, now, er);
        return;
    }
    if (c->epout)
        set_out(e, c, 0);
    c->state = C_READING;
}

/* After a request finished (response, failure or timeout). */
static void after_request(eng *e, conn *c, uint64_t now, int conn_error)
{
    e->busy--;
    uint32_t ci = (uint32_t)(c - e->c);
    if (e->scn->model == LG_OPEN) {
        if (c->fd >= 0 && (!e->ended || owed_front(e))) {
            c->state = C_IDLE;
            e->idle[e->idle_n++] = ci;
        } else {
            conn_close(e, c);
        }
        return;
    }
    if (c->stopping || e->ended) {
        c->stopping = 0;
        c->active = 0;
        conn_close(e, c);
        return;
    }
    if (c->fd >= 0)
        c->state = C_IDLE;
    const lg_stage *st = stage_of(e, e->phase);
    uint64_t think = 0;
    if (st && st->think_max > 0) {
        double u = (double)(rnd(e) >> 11) / 9007199254740992.0;
        think = (uint64_t)((st->think_min + (st->think_max - st->think_min) * u) * 1e9);
    }
    if (conn_error && think < ERR_BACKOFF_NS)
        think = ERR_BACKOFF_NS;
    if (!think) {
        /* sent once the current batch of events is handled, as wrk does:
         * responses already waiting are read first */
        e->ready[e->ready_n++] = ci;
        return;
    }
    c->wake = now + think;
    heap_push(e, ci);
}

static void complete(eng *e, conn *c, uint64_t now, size_t extra)
{
    c->uses++;
    record(e, c, now, c->resp.status, F_HTTP, NULL);
    if (!c->resp.keep_alive || extra || c->state == C_SENDING)
        conn_close(e, c);
    else
        c->state = C_IDLE;
    after_request(e, c, now, 0);
}

static void do_read(eng *e, conn *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, e->rbuf, RBUF, 0);
        uint64_t now = lg_mono_ns();
        if (n > 0) {
            size_t used;
            lg_err rc = lg_resp_feed(&c->resp, e->rbuf, (size_t)n, &used);
            if (rc) {
                record(e, c, now, 0, F_PROTO, c->resp.error ? c->resp.error : "bad response");
                conn_close(e, c);
                after_request(e, c, now, 1);
                return;
            }
            if (c->resp.done) {
                complete(e, c, now, (size_t)n - used);
                return;
            }
            if ((size_t)n < RBUF)
                return;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n == 0) {
            lg_err rc = lg_resp_eof(&c->resp);
            if (!rc) {
                c->resp.keep_alive = 0;
                complete(e, c, now, 0);
                return;
            }
            if (rc == LG_ECLOSED && retry(e, c, now))
                return;
            record(e, c, now, 0, rc == LG_ECLOSED ? F_CONN : F_PROTO,
                   rc == LG_ECLOSED ? "RemoteDisconnected('Remote end closed connection without response')"
                                    : c->resp.error);
            conn_close(e, c);
            after_request(e, c, now, 1);
            return;
        }
        int er = errno;
        if (er == ECONNRESET && !c->resp.bytes && retry(e, c, now))
            return;
        conn_failed(e, c, now, er);
        return;
    }
}

/* An idle keep-alive connection became readable: the server closed it
 * (or sent something unasked); either way it is not reused. */
static void idle_event(eng *e, conn *c)
{
    char b[256];
    ssize_t n = recv(c->fd, b, sizeof b, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    uint32_t ci = (uint32_t)(c - e->c);
    conn_close(e, c);
    if (e->scn->model == LG_OPEN)
        for (uint32_t i = 0; i < e->idle_n; i++)
            if (e->idle[i] == ci) {
                e->idle[i] = e->idle[--e->idle_n];
                break;
            }
}

static void on_event(eng *e, conn *c, uint32_t ev)
{
    uint64_t now;
    if (c->fd < 0)
        return;
    switch (c->state) {
    case C_IDLE:
        idle_event(e, c);
        return;
    case C_CONNECTING: {
        int err = 0;
        socklen_t l = sizeof err;
        now = lg_mono_ns();
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
            err = errno;
        if (!err && (ev & (EPOLLERR | EPOLLHUP)))
            err = ECONNREFUSED;
        if (err) {
            conn_failed(e, c, now, err);
            return;
        }
        if (!(ev & EPOLLOUT))
            return;
        c->state = C_SENDING;
        do_send(e, c, now);
        return;
    }
    case C_SENDING:
        if (ev & EPOLLOUT) {
            do_send(e, c, lg_mono_ns());
            if (c->fd < 0 || c->state != C_SENDING || !(ev & EPOLLIN))
                return;
        }
        if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))
            do_read(e, c);
        return;
    case C_READING:
        do_read(e, c);
        return;
    }
}

/* ---- schedule ------------------------------------------------------------- */

static uint64_t dur_ns(double s)
{
    return (uint64_t)(s * 1e9 + 0.5);
}

/* Open model: intended time of the k-th arrival (k >= 1) of the current
 * stage — where the integral of its linear rate reaches k - 1/2 — or 0
 * when the stage has no more. */
static uint64_t arrival(const eng *e, int phase, uint64_t start, uint64_t k)
{
    const lg_stage *st = stage_of(e, phase);
    if (!st)
        return 0;
    double d = st->duration, b = st->rate_from, a = (st->rate_to - st->rate_from) / (2 * d);
    double x, kk = (double)k - 0.5; /* arrivals in the middle of their slots */
    if (fabs(a) < 1e-12) {
        if (b <= 0)
            return 0;
        x = kk / b;
    } else {
        double disc = b * b + 4 * a * kk;
        if (disc < 0)
            return 0;
        x = 2 * kk / (b + sqrt(disc)); /* the root without cancellation when a is small */
    }
    if (!(x >= 0) || x >= d)
        return 0;
    return start + dur_ns(x);
}

/* The oldest stage with arrivals still owed (exhausted older stages are
 * dropped), or NULL. */
static owed *owed_front(eng *e)
{
    while (e->owed_n) {
        owed *o = &e->owed[e->owed_head];
        if (o->next_at || e->owed_n == 1)
            return o->next_at ? o : NULL;
        e->owed_head++;
        e->owed_n--;
    }
    return NULL;
}

static void users_to(eng *e, uint32_t want);

static void enter_phase(eng *e, int phase, uint64_t at, uint64_t now)
{
    e->phase = phase;
    e->phase_start = at;
    const lg_stage *st = stage_of(e, phase);
    if (!st) {
        /* schedule over: drain what is in flight */
        e->ended = 1;
        e->phase_end = UINT64_MAX;
        e->drain_deadline = now + dur_ns(e->scn->timeout) + NS / 10;
        e->next_spawn = 0;
        /* owed open-model arrivals still go out during the drain; idle
         * connections stay for them */
        while (e->idle_n && !owed_front(e))
            conn_close(e, &e->c[e->idle[--e->idle_n]]);
        for (uint32_t i = 0; i < e->hiwater; i++) {
            conn *c = &e->c[i];
            if (e->scn->model == LG_CLOSED && c->heap_pos >= 0) {
                heap_remove(e, i);
                c->active = 0;
            }
            if (c->state == C_IDLE)
                conn_close(e, c);
        }
        e->active = 0;
        return;
    }
    e->phase_end = at + dur_ns(st->duration);
    if (e->scn->model == LG_OPEN) {
        owed_front(e); /* drops the exhausted stages before it */
        owed *o = &e->owed[e->owed_head + e->owed_n++];
        *o = (owed){phase, at, 1, arrival(e, phase, at, 1)};
    } else {
        e->target = (uint32_t)st->users;
        if (st->spawn_rate <= 0) {
            users_to(e, e->target);
            e->next_spawn = 0;
        } else {
            e->next_spawn = e->active != e->target ? now : 0;
        }
    }
}

static void stop_user(eng *e, uint32_t i)
{
    conn *c = &e->c[i];
    if (c->heap_pos >= 0) {
        heap_remove(e, i);
        c->active = 0;
        conn_close(e, c);
    } else if (c->active) {
        c->stopping = 1; /* finishes its request first */
    }
}

static void start_user(eng *e, uint32_t i)
{
    conn *c = &e->c[i];
    if (i + 1 > e->hiwater)
        e->hiwater = i + 1;
    if (c->active && c->stopping) {
        c->stopping = 0; /* still busy: it simply carries on */
        return;
    }
    c->active = 1;
    c->stopping = 0;
    start_request(e, c, 0);
}

static void users_to(eng *e, uint32_t want)
{
    while (e->active < want)
        start_user(e, e->active++);
    while (e->active > want)
        stop_user(e, --e->active);
    if (e->active > e->res->peak_users)
        e->res->peak_users = e->active;
}

static void spawn_step(eng *e, uint64_t now)
{
    const lg_stage *st = stage_of(e, e->phase);
    while (e->next_spawn && e->next_spawn <= now && st) {
        if (e->active < e->target)
            users_to(e, e->active + 1);
        else if (e->active > e->target)
            users_to(e, e->active - 1);
        if (e->active == e->target) {
            e->next_spawn = 0;
            break;
        }
        e->next_spawn += dur_ns(1.0 / st->spawn_rate);
    }
}

static void dispatch(eng *e, uint64_t now)
{
    owed *o;
    while ((o = owed_front(e)) && o->next_at <= now) {
        conn *c;
        if (e->idle_n) {
            c = &e->c[e->idle[--e->idle_n]];
        } else if (e->open_n < e->ncap) {
            /* a slot without a connection */
            c = NULL;
            for (uint32_t i = 0; i < e->ncap; i++) {
                uint32_t j = (e->hiwater + i) % e->ncap;
                if (e->c[j].state == C_NONE) {
                    c = &e->c[j];
                    if (j + 1 > e->hiwater)
                        e->hiwater = j + 1;
                    break;
                }
            }
            if (!c)
                return;
        } else {
            return; /* all connections busy: the arrival waits, its clock runs */
        }
        start_request(e, c, o->next_at);
        o->k++;
        o->next_at = arrival(e, o->phase, o->start, o->k);
    }
}

/* The drain is over with arrivals still owed (the connections stayed busy
 * past the timeout after the last stage): each is a timeout, its latency
 * from its intended time; it was never sent, so it has no uncorrected one. */
static void owed_expire(eng *e, uint64_t now)
{
    owed *o;
    conn c;
    memset(&c, 0, sizeof c);
    c.sess = NO_SESS; /* the arrival never had one: its row is the first request's */
    c.entry = e->entry_of[0];
    lg_resp_init(&c.resp);
    while ((o = owed_front(e))) {
        c.t_intended = o->next_at;
        c.t_sent = 0;
        record(e, &c, now, 0, F_TIMEOUT, NULL);
        o->k++;
        o->next_at = arrival(e, o->phase, o->start, o->k);
    }
}

/* Fails requests past their deadline (all of them when force). */
static void check_timeouts(eng *e, uint64_t now, int force)
{
    for (uint32_t i = 0; i < e->hiwater; i++) {
        conn *c = &e->c[i];
        if (c->fd >= 0 && c->state >= C_CONNECTING && (force || c->deadline <= now)) {
            record(e, c, now, 0, F_TIMEOUT, NULL);
            conn_close(e, c);
            after_request(e, c, now, 1);
        }
    }
}

/* ---- progress ----------------------------------------------------------- */

static void progress(eng *e, uint64_t now)
{
    const lg_slice *s = e->res->n_slices ? &e->res->slices[e->res->n_slices - 1] : NULL;
    char phase[48];
    if (e->phase < 0)
        snprintf(phase, sizeof phase, "warm-up");
    else if ((size_t)e->phase < e->scn->n_stages)
        snprintf(phase, sizeof phase, "stage %d/%zu", e->phase + 1, e->scn->n_stages);
    else
        snprintf(phase, sizeof phase, "drain");
    uint64_t fails = e->res->all.failures;
    fprintf(stderr, "%s[%7.1fs] %-11s users %5u  req/s %8llu  p95 %9.2f ms  errors %llu%s",
            e->tty ? "\r" : "", (double)(now - e->mono0) / 1e9, phase,
            e->scn->model == LG_CLOSED ? e->active : e->busy,
            s ? (unsigned long long)s->requests : 0ull, s ? s->p95 / 1000.0 : 0.0,
            (unsigned long long)fails, e->tty ? "   " : "\n");
    fflush(stderr);
}

/* ---- the loop ------------------------------------------------------------- */

static uint64_t min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static int loop(eng *e, char *err, size_t errcap)
{
    struct epoll_event evs[MAX_EVENTS];
    uint64_t now = lg_mono_ns();
    e->mono0 = now;
    e->wall0 = lg_wall_ns();
    e->res->t_start = (double)e->wall0 / 1e9;
    e->next_tick = now + (NS - e->wall0 % NS);
    /* deadlines are checked every 1/20 of the timeout (at most 100 ms,
     * at least 50 µs), so a timeout fires at most 5% late */
    e->scan_ns = dur_ns(e->scn->timeout / 20);
    if (e->scan_ns > SCAN_NS)
        e->scan_ns = SCAN_NS;
    if (e->scan_ns < 50000)
        e->scan_ns = 50000;
    e->next_scan = now + e->scan_ns;
    e->reset_done = !e->scn->has_warmup;
    if (e->reset_done)
        e->res->t_reset = e->res->t_start;
    slice_start(e, (int64_t)(e->wall0 / NS));
    enter_phase(e, e->scn->has_warmup ? -1 : 0, now, now);
    for (;;) {
        now = lg_mono_ns();
        if (e->cfg->stop && *e->cfg->stop && !e->res->interrupted) {
            /* Ctrl-C: nothing more is sent (owed arrivals are dropped); what
             * is in flight gets 2 s, then is cut off without being counted,
             * as Locust does when stopped */
            e->res->interrupted = 1;
            e->owed_n = 0;
            if (!e->ended) {
                if (slice_close(e, 1))
                    goto nomem;
                slice_start(e, e->cur.t);
                enter_phase(e, (int)e->scn->n_stages, now, now);
            }
            if (e->drain_deadline > now + 2 * NS)
                e->drain_deadline = now + 2 * NS;
        }
        while (!e->ended && now >= e->phase_end) {
            int next = e->phase + 1;
            uint64_t at = e->phase_end;
            /* the slice so far belongs to the phase that ends (its second
             * goes on in a new slice: one history row, two phases) */
            if (slice_close(e, 1))
                goto nomem;
            if (e->phase == -1) {
                /* warm-up over: the statistics restart here */
                e->reset_done = 1;
                e->res->t_reset = wall_s(e, at);
            }
            slice_start(e, (int64_t)(wall_of(e, at) / NS));
            enter_phase(e, next, at, now);
        }
        if (now >= e->next_tick) {
            if (slice_close(e, 0))
                goto nomem;
            int64_t t = (int64_t)(wall_of(e, e->next_tick) / NS);
            e->next_tick += NS;
            if (e->next_tick <= now) /* the loop was held up: skip whole seconds */
                e->next_tick = now + (NS - wall_of(e, now) % NS);
            if (e->cfg->progress)
                progress(e, now);
            slice_start(e, t);
        }
        if (e->ended) {
            if (e->scn->model == LG_OPEN)
                dispatch(e, now); /* arrivals owed from the last stage */
            if (!e->busy && !owed_front(e))
                break;
            if (now >= e->drain_deadline) {
                if (e->res->interrupted) {
                    for (uint32_t i = 0; i < e->hiwater; i++)
                        if (e->c[i].fd >= 0)
                            conn_close(e, &e->c[i]);
                } else {
                    check_timeouts(e, now, 1);
                    owed_expire(e, now);
                }
                break;
            }
        } else if (e->scn->model == LG_CLOSED) {
            spawn_step(e, now);
            while (e->heap_n && e->c[e->heap[0]].wake <= now) {
                uint32_t ci = e->heap[0];
                heap_remove(e, ci);
                start_request(e, &e->c[ci], 0);
            }
        } else {
            dispatch(e, now);
        }
        if (now >= e->next_scan) {
            check_timeouts(e, now, 0);
            e->next_scan = now + e->scan_ns;
        }
        uint64_t until = e->ready_n ? 0 : min64(e->next_tick, e->next_scan);
        if (!e->ended) {
            until = min64(until, e->phase_end);
            if (e->next_spawn)
                until = min64(until, e->next_spawn);
            if (e->heap_n)
                until = min64(until, e->c[e->heap[0]].wake);
            owed *o = owed_front(e);
            if (o && (e->idle_n || e->open_n < e->ncap))
                until = min64(until, o->next_at);
        } else {
            until = min64(until, e->drain_deadline);
        }
        now = lg_mono_ns();
        int n;
        if (until <= now) {
            n = epoll_wait(e->ep, evs, MAX_EVENTS, 0);
        } else {
            uint64_t d = until - now;
            struct timespec ts = {(time_t)(d / NS), (long)(d % NS)};
            n = epoll_pwait2(e->ep, evs, MAX_EVENTS, &ts, NULL);
            if (n < 0 && errno == ENOSYS)
                n = epoll_wait(e->ep, evs, MAX_EVENTS, (int)((d + 999999) / 1000000));
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            snprintf(err, errcap, "epoll_wait: %s", strerror(errno));
            return LG_ENET;
        }
        for (int i = 0; i < n; i++)
            on_event(e, &e->c[evs[i].data.u32], evs[i].events);
        while (e->ready_n)
            start_request(e, &e->c[e->ready[--e->ready_n]], 0);
    }
    if (slice_close(e, 0))
        goto nomem;
    if (e->cfg->progress) {
        progress(e, lg_mono_ns());
        if (e->tty)
            fputc('\n', stderr);
    }
    e->res->t_end = wall_s(e, lg_mono_ns());
    if (!e->reset_done) /* stopped during the warm-up: an empty main window */
        e->res->t_reset = e->res->t_end;
    return 0;
nomem:
    snprintf(err, errcap, "out of memory for the per-second statistics");
    return LG_ENOMEM;
}

/* The statistics' rows (one per method and name) and, for a mix, the
 * sessions and each connection's request and capture buffers. */
static int entries_init(eng *e)
{
    lg_result *r = e->res;
    const lg_scenario *s = e->scn;
    e->flow = s->n_requests > 0;
    size_t n = e->flow ? s->n_requests : 1;
    for (size_t i = 0; i < n; i++) {
        const char *m = e->flow ? s->requests[i].method : "POST";
        const char *nm = e->flow ? s->requests[i].name : e->cfg->name ? e->cfg->name : "";
        size_t k = 0;
        while (k < r->n_entries && (strcmp(r->entries[k].method, m) || strcmp(r->entries[k].name, nm)))
            k++;
        if (k == r->n_entries) {
            lg_entry *en = &r->entries[r->n_entries++];
            snprintf(en->method, sizeof en->method, "%s", m);
            snprintf(en->name, sizeof en->name, "%s", nm);
            en->lat = malloc(sizeof *en->lat);
            if (!en->lat)
                return -1;
            lg_hist_reset(en->lat);
        }
        e->entry_of[i] = (uint32_t)k;
    }
    if (!e->flow)
        return 0;
    int captures = 0;
    for (size_t i = 0; i < s->n_requests; i++)
        captures |= s->requests[i].n_captures > 0;
    e->sess = calloc(e->ncap, sizeof *e->sess);
    e->sq = calloc(e->ncap, sizeof *e->sq);
    if (!e->sess || !e->sq)
        return -1;
    for (uint32_t i = 0; i < e->ncap; i++) {
        lg_sess_init(&e->sess[i], i + 1);
        e->c[i].sess = NO_SESS;
        e->c[i].obuf = malloc(s->flow_bytes);
        e->c[i].cbuf = captures ? malloc(CAPTURE_BYTES) : NULL;
        if (!e->c[i].obuf || (captures && !e->c[i].cbuf))
            return -1;
    }
    return 0;
}

static uint32_t max_users(const lg_scenario *s)
{
    uint32_t m = s->has_warmup ? (uint32_t)s->warmup.users : 0;
    for (size_t i = 0; i < s->n_stages; i++)
        if ((uint32_t)s->stages[i].users > m)
            m = (uint32_t)s->stages[i].users;
    return m;
}

lg_err lg_run(const lg_config *cfg, lg_result *res, char *err, size_t errcap)
{
    memset(res, 0, sizeof *res);
    lg_hist_reset(&res->main.lat);
    lg_hist_reset(&res->main.unc);
    lg_hist_reset(&res->all.lat);
    lg_hist_reset(&res->all.unc);
    if (err && errcap)
        err[0] = 0;
    if (!cfg || !cfg->scn || !cfg->target ||
        (!cfg->scn->n_requests && (!cfg->payloads || !cfg->payloads->n)))
        return LG_EINVAL;
    const lg_scenario *s = cfg->scn;
    double total = lg_scenario_duration(s);
    if (total > LG_MAX_RUN_S) {
        snprintf(err, errcap, "scenario '%s' runs %.0f s; the cap is %.0f s (use --time-scale)",
                 s->name, total, LG_MAX_RUN_S);
        return LG_ELIMIT;
    }
    uint32_t ncap = s->model == LG_CLOSED ? max_users(s) : (uint32_t)s->connections;
    if (ncap < 1)
        ncap = 1;
    if (ncap > LG_MAX_USERS) {
        snprintf(err, errcap, "%u connections exceed the cap of %d", ncap, LG_MAX_USERS);
        return LG_ELIMIT;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < ncap + 64) {
        rlim_t want = ncap + 64;
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
            snprintf(err, errcap, "%u connections need %llu open files; the hard limit is "
                     "%llu (ulimit -Hn)", ncap, (unsigned long long)want,
                     (unsigned long long)rl.rlim_max);
            return LG_ELIMIT;
        }
        rl.rlim_cur = want;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    eng e;
    memset(&e, 0, sizeof e);
    e.cfg = cfg;
    e.scn = s;
    e.res = res;
    e.ncap = ncap;
    e.rng = cfg->seed ? cfg->seed : 0x9e3779b97f4a7c15ull;
    e.tty = isatty(2);
    snprintf(e.url, sizeof e.url, "%s%s%s", cfg->target->origin, cfg->target->base,
             cfg->name ? cfg->name : "");
    lg_err rc = LG_ENOMEM;
    e.ep = epoll_create1(EPOLL_CLOEXEC);
    e.c = calloc(ncap, sizeof *e.c);
    for (uint32_t i = 0; e.c && i < ncap; i++) {
        e.c[i].fd = -1;
        e.c[i].heap_pos = -1;
    }
    e.heap = calloc(ncap, sizeof *e.heap);
    e.idle = calloc(ncap, sizeof *e.idle);
    e.ready = calloc(ncap, sizeof *e.ready);
    e.owed = calloc(s->n_stages + 2, sizeof *e.owed); /* one per phase at most */
    e.rbuf = malloc(RBUF);
    e.h_lat = calloc(1, sizeof *e.h_lat);
    e.h_unc = calloc(1, sizeof *e.h_unc);
    if (e.ep < 0) {
        snprintf(err, errcap, "epoll_create1: %s", strerror(errno));
        rc = LG_ENET;
        goto out;
    }
    if (!e.c || !e.heap || !e.idle || !e.ready || !e.owed || !e.rbuf || !e.h_lat || !e.h_unc)
        goto out;
    if (entries_init(&e))
        goto out;
    lg_hist_reset(e.h_lat);
    lg_hist_reset(e.h_unc);
    rc = (lg_err)loop(&e, err, errcap);
out:
    if (e.c)
        for (uint32_t i = 0; i < ncap; i++) {
            if (e.c[i].fd >= 0)
                close(e.c[i].fd);
            free(e.c[i].obuf);
            free(e.c[i].cbuf);
        }
    free(e.sess);
    free(e.sq);
    if (e.ep >= 0)
        close(e.ep);
    free(e.c);
    free(e.heap);
    free(e.idle);
    free(e.ready);
    free(e.owed);
    free(e.rbuf);
    free(e.h_lat);
    free(e.h_unc);
    if (rc == LG_ENOMEM && err && !err[0])
        snprintf(err, errcap, "out of memory");
    return rc;
}

void lg_result_fini(lg_result *res)
{
    if (!res)
        return;
    free(res->slices);
    free(res->sp_idx);
    free(res->sp_cnt);
    for (size_t i = 0; i < res->n_entries; i++) {
        free(res->entries[i].lat);
        res->entries[i].lat = NULL;
    }
    res->n_entries = 0;
    res->slices = NULL;
    res->sp_idx = NULL;
    res->sp_cnt = NULL;
    res->n_slices = res->sp_n = res->sp_cap = 0;
}
