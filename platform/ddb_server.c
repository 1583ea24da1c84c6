/*
 * The DynamoDB service's HTTP front (see ddb.h): a listening socket on
 * 127.0.0.1 shared by the service's threads, each an event loop
 * (platform/loop.c) serving its connections with platform/conn.c; a
 * request runs in the loop's thread as soon as it is read, holding the
 * store's lock while it runs (its SQLite work takes microseconds: the
 * threads share the JSON, the sockets and the waiting, one SQLite
 * connection).  Group commit: a round of the loop (every request that
 * arrived together) ends with one commit, and the round's answers that
 * may depend on it leave only after it (a write is never acknowledged
 * before it is in the WAL).  Answers carry x-amzn-RequestId (52 characters, as the
 * service's), x-amz-crc32 (CRC-32 of the body: SDKs check it) and the
 * protocol's content type; GET / answers the service's health line.
 */
#define _GNU_SOURCE
#include "ddb.h"

#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "clock.h"
#include "conn.h"
#include "ddb_int.h"
#include "loop.h"

#define MAX_THREADS 8
#define MAX_HEAD 16384
#define BACKLOG 1024

/* An answer waiting for the commit of the writes it may have seen. */
typedef struct held {
    struct held *next;
    hc_conn *c;
    unsigned long long gen;     /* the transaction it waits for */
    int keep;
    size_t hl, bl;
    char data[];                /* head, then body */
} held;

typedef struct ddb_thread {
    ddb_service *s;
    pthread_t th;
    int started;
    ev_loop *L;
    hc_server *srv;
    jw out;             /* reused between requests */
    held *first, **last;        /* this round's answers, in order */
    int flush_armed;
} ddb_thread;

struct ddb_service {
    ddb_options o;
    char dir[1024];
    FILE *log;
    ddb_store *store;
    ddb_conn *main;     /* the store's one connection */
    int lfd, port, n_threads;
    ddb_thread th[MAX_THREADS];
    atomic_int stop;
};

/* ---- one request ---- */

static void request_id(char out[53])
{
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char r[52];
    clk_random(r, sizeof r);
    for (int i = 0; i < 52; i++)
        out[i] = A[r[i] % 36];
    out[52] = 0;
}

#define HEAD_MAX 512

/* The answer's head into head[HEAD_MAX]; its length. */
static size_t head_of(char *head, int status, const char *ctype, const char *body, size_t bl,
                      int keep)
{
    char rid[53];
    request_id(rid);
    return (size_t)snprintf(head, HEAD_MAX, "HTTP/1.1 %d %s\r\nx-amzn-RequestId: %s\r\n"
                            "x-amz-crc32: %u\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                            "Date: %s\r\n%s\r\n", status, http_reason(status), rid,
                            (unsigned)crc32(0, (const Bytef *)body, (uInt)bl), ctype, bl, clk_http_date(),
                            keep ? "" : "Connection: close\r\n");
}

static void reply(hc_conn *c, int status, const char *ctype, const char *body, size_t bl,
                  int keep)
{
    char head[HEAD_MAX];
    size_t n = head_of(head, status, ctype, body, bl, keep);
    hc_send(c, head, n, body, bl, keep);
}

/* The end of a round of the loop: one commit for the round's writes, then
 * the answers held for it (the internal error instead when it failed). */
static void flush(void *arg)
{
    ddb_thread *t = arg;
    ddb_store *st = t->s->store;
    ddb_err e = {0};
    t->flush_armed = 0;
    ddb_store_lock(st);
    ddb_store_commit(st, &e);
    for (held *h = t->first; h; h = h->next)
        if (ddb_store_failed(st, h->gen))
            h->gen = ~0ULL;
    ddb_store_unlock(st);
    while (t->first) {
        held *h = t->first;
        t->first = h->next;
        if (h->gen == ~0ULL) {
            static const char FAIL[] = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
                                       "InternalServerError\",\"message\":\"the store could not "
                                       "commit the write\"}";
            reply(h->c, 500, "application/x-amz-json-1.0", FAIL, sizeof FAIL - 1, h->keep);
        } else {
            hc_send(h->c, h->data, h->hl, h->data + h->hl, h->bl, h->keep);
        }
        free(h);
    }
    t->last = &t->first;
}

/* Answers now, or after this round's commit when gen (a transaction that
 * is open) may cover what the answer says. */
static void answer(ddb_thread *t, hc_conn *c, unsigned long long gen, int status,
                   const char *ctype, const char *body, size_t bl, int keep)
{
    held *h = gen ? malloc(sizeof *h + HEAD_MAX + bl) : NULL;
    if (!h) {
        if (gen) {  /* out of memory: commit first, then answer */
            flush(t);
        }
        reply(c, status, ctype, body, bl, keep);
        return;
    }
    h->next = NULL;
    h->c = c;
    h->gen = gen;
    h->keep = keep;
    h->hl = head_of(h->data, status, ctype, body, bl, keep);
    h->bl = bl;
    memcpy(h->data + h->hl, body, bl);
    *t->last = h;
    t->last = &h->next;
    if (!t->flush_armed && ev_defer(t->L, flush, t) == 0)
        t->flush_armed = 1;
    else if (!t->flush_armed)
        flush(t);
}

/* The content type without parameters, trimmed. */
static int ctype_is(const char *v, size_t n, const char *want)
{
    size_t e = 0;
    while (e < n && v[e] != ';')
        e++;
    while (e && (v[e - 1] == ' ' || v[e - 1] == '\t'))
        e--;
    while (n && e && (*v == ' ' || *v == '\t'))
        v++, e--;
    return e == strlen(want) && !strncasecmp(v, want, e);
}

/* Runs h on the store into out/err; the status.  *gen: the open
 * transaction the answer must wait for (0: none); gen NULL: commit now
 * (a failed commit becomes the answer). */
static int run(ddb_service *s, jw *out, const ddb_http *h, char **body, size_t *bl,
               unsigned long long *gen)
{
    ddb_ctx cx;
    memset(&cx, 0, sizeof cx);
    cx.conn = s->main;
    cx.out = *out;
    cx.out.len = 0;
    cx.out.err = 0;
    cx.now = (double)clk_epoch_ms() / 1000.0;
    ddb_store_lock(s->store);
    int status = ddb_dispatch(&cx, h);
    if (gen) {
        *gen = ddb_store_pending(s->store);
    } else if (ddb_store_commit(s->store, &cx.err)) {
        status = ddb_status(DDB_EINTERNAL);
        cx.err.code = DDB_EINTERNAL;
    }
    ddb_store_unlock(s->store);
    if (status == 200 && cx.out.err) {
        ddb_fail(&cx.err, DDB_EINTERNAL, "the response is too large");
        status = 500;
    }
    if (status != 200) {
        cx.out.len = 0;
        cx.out.err = 0;
        ddb_err_body(&cx.err, &cx.out);
    }
    jw_raw(&cx.out, "", 0);     /* room for the NUL */
    if (cx.out.p && !cx.out.err)
        cx.out.p[cx.out.len] = 0;
    *body = cx.out.p ? cx.out.p : (char *)"";
    *bl = cx.out.err ? 0 : cx.out.len;
    *out = cx.out;
    ddb_err_clear(&cx.err);
    ddb_arena_free(&cx.ar);
    return status;
}

static void on_request(hc_conn *c, char *buf, const http_request *r, void *arg)
{
    ddb_thread *t = arg;
    const char *method = buf + r->method;
    int keep = r->keep_alive;
    static const char UNKNOWN[] = "<UnknownOperationException/>\n";
    if (r->method_len == 3 && !memcmp(method, "GET", 3)) {
        static const char OK[] = "healthy: dynamodb.us-east-1.amazonaws.com ";
        reply(c, 200, "text/plain", OK, sizeof OK - 1, keep);
        return;
    }
    size_t ctl = 0;
    const char *ct = http_header(r, buf, "content-type", &ctl, 0);
    int json = ct && ctype_is(ct, ctl, "application/json");
    if (r->method_len != 4 || memcmp(method, "POST", 4) ||
        (r->body_len && !json && !(ct && ctype_is(ct, ctl, "application/x-amz-json-1.0")))) {
        reply(c, 404, "application/x-amz-json-1.0", UNKNOWN, sizeof UNKNOWN - 1, keep);
        return;
    }
    ddb_http h = {0};
    h.target = http_header(r, buf, "x-amz-target", &h.tlen, 0);
    h.auth = http_header(r, buf, "authorization", &h.alen, 0);
    size_t dl;
    h.has_date = http_header(r, buf, "x-amz-date", &dl, 0) || http_header(r, buf, "date", &dl, 0);
    h.body = buf + r->body;
    h.blen = r->body_len;
    char *body;
    size_t bl;
    unsigned long long gen;
    int status = run(t->s, &t->out, &h, &body, &bl, &gen);
    answer(t, c, gen, status, json ? "application/json" : "application/x-amz-json-1.0", body, bl,
           keep);
    if (t->out.cap > (1u << 20)) {      /* a large answer: give its buffer back */
        free(t->out.p);
        jw_init(&t->out, DDB_MAX_OUT);
    }
}

static void on_error(hc_conn *c, int status, void *arg)
{
    (void)arg;
    reply(c, status, "application/x-amz-json-1.0", "", 0, 0);
}

static void *serve(void *arg)
{
    ddb_thread *t = arg;
    while (!atomic_load(&t->s->stop))
        ev_run_once(t->L, 200);
    flush(t);
    return NULL;
}

/* ---- the service ---- */

int ddb_open(const ddb_options *o, ddb_service **out, char *err, size_t errlen)
{
    ddb_err e = {0};
    *out = NULL;
    ddb_service *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->o = *o;
    s->lfd = -1;
    s->log = o->log ? o->log : stderr;
    snprintf(s->dir, sizeof s->dir, "%s", o->dir ? o->dir : ".nerd/dynamodb");
    if (ddb_store_open(s->dir, o->sync_full, &s->store, &e)) {
        snprintf(err, errlen, "dynamodb: %s", e.msg);
        ddb_close(s);
        return -1;
    }
    s->main = ddb_store_conn(s->store);
    *out = s;
    return 0;
}

int ddb_listen(ddb_service *s, char *err, size_t errlen)
{
    ddb_err e = {0};
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->o.port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s->lfd >= 0)
        setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int bound = s->lfd >= 0 && bind(s->lfd, (struct sockaddr *)&a, sizeof a) == 0;
    if (!bound && s->lfd >= 0 && errno == EADDRINUSE && s->o.any_if_taken && s->o.port) {
        fprintf(s->log, "dynamodb: 127.0.0.1:%d is in use: listening on "
                "another port\n", s->o.port);
        a.sin_port = 0;
        bound = bind(s->lfd, (struct sockaddr *)&a, sizeof a) == 0;
    }
    if (!bound || listen(s->lfd, BACKLOG) || getsockname(s->lfd, (struct sockaddr *)&a, &al)) {
        snprintf(err, errlen, "dynamodb: 127.0.0.1:%d: %s", s->o.port, strerror(errno));
        return -1;
    }
    s->port = ntohs(a.sin_port);
    cpu_set_t cpus;
    long ncpu = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus)
                                                              : sysconf(_SC_NPROCESSORS_ONLN);
    s->n_threads = s->o.threads > 0 ? s->o.threads : ncpu > 0 ? (int)ncpu : 1;
    if (s->n_threads > MAX_THREADS)
        s->n_threads = MAX_THREADS;
    hc_limits lim = {30, 60, 120, MAX_HEAD, DDB_MAX_BODY};
    for (int i = 0; i < s->n_threads; i++) {
        ddb_thread *t = &s->th[i];
        t->s = s;
        t->last = &t->first;
        jw_init(&t->out, DDB_MAX_OUT);
        hc_handler h = {on_request, on_error, NULL, t};
        if (!(t->L = ev_new()) || !(t->srv = hc_server_new(t->L, s->lfd, &lim, &h))) {
            snprintf(err, errlen, "dynamodb: %s", e.msg[0] ? e.msg : strerror(errno));
            return -1;
        }
    }
    for (int i = 0; i < s->n_threads; i++) {
        if (pthread_create(&s->th[i].th, NULL, serve, &s->th[i])) {
            snprintf(err, errlen, "dynamodb: pthread_create failed");
            return -1;
        }
        s->th[i].started = 1;
    }
    fprintf(s->log, "dynamodb listening on http://127.0.0.1:%d\n", s->port);
    fflush(s->log);
    return 0;
}

int ddb_port(const ddb_service *s)
{
    return s->port;
}

int ddb_call(ddb_service *s, const char *target, const char *body, size_t len, char **resp,
             size_t *resp_len)
{
    static const char AUTH[] = "AWS4-HMAC-SHA256 Credential=local/20240101/us-east-1/dynamodb/"
                               "aws4_request, SignedHeaders=host;x-amz-date, Signature=0";
    ddb_http h = {target, strlen(target), AUTH, sizeof AUTH - 1, 1, body, len};
    jw out;
    char *b;
    size_t bl;
    jw_init(&out, DDB_MAX_OUT);
    int status = run(s, &out, &h, &b, &bl, NULL);
    *resp = malloc(bl + 1);
    if (*resp) {
        memcpy(*resp, b, bl);
        (*resp)[bl] = 0;
    }
    *resp_len = *resp ? bl : 0;
    free(out.p);
    return status;
}

int ddb_check_table(const char *create_json, char *err, size_t errlen)
{
    json_error_t je;
    ddb_err e = {0};
    ddb_table t;
    json_t *j = json_loads(create_json, 0, &je);
    if (!j) {
        snprintf(err, errlen, "not JSON: %s", je.text);
        return -1;
    }
    int rc = ddb_table_from_json(j, &t, &e);
    json_decref(j);
    if (rc) {
        snprintf(err, errlen, "%s", e.msg);
        return -1;
    }
    ddb_table_fini(&t);
    return 0;
}

int ddb_ensure_table(ddb_service *s, const char *create_json, char *err, size_t errlen)
{
    json_error_t je;
    ddb_err e = {0};
    ddb_table t;
    json_t *j = json_loads(create_json, 0, &je);
    int rc = -1;
    if (!j) {
        snprintf(err, errlen, "not JSON: %s", je.text);
        return -1;
    }
    ddb_store_lock(s->store);
    if (ddb_table_from_json(j, &t, &e)) {
        snprintf(err, errlen, "%s", e.msg);
        goto out;
    }
    const ddb_table *old = ddb_table_get(s->main, t.name, strlen(t.name)), *made;
    if (old && !strcmp(old->def, t.def)) {
        ddb_table_fini(&t);
        rc = 1;
    } else if (old) {
        int same_keys = !strcmp(old->hash.name, t.hash.name) && old->hash.type == t.hash.type &&
                        !strcmp(old->range.name, t.range.name) && old->range.type == t.range.type;
        if (ddb_table_redefine(s->main, old, &t, same_keys, &made, &e)) {
            ddb_table_fini(&t);
            snprintf(err, errlen, "%s", e.msg);
        } else {
            rc = 2;
        }
    } else if (ddb_table_create(s->main, &t, &made, &e)) {
        ddb_table_fini(&t);
        snprintf(err, errlen, "%s", e.msg);
    } else {
        rc = 0;
    }
out:
    ddb_store_unlock(s->store);
    json_decref(j);
    return rc;
}

void ddb_close(ddb_service *s)
{
    if (!s)
        return;
    atomic_store(&s->stop, 1);
    for (int i = 0; i < s->n_threads; i++)
        if (s->th[i].started)
            pthread_join(s->th[i].th, NULL);
    for (int i = 0; i < s->n_threads; i++) {
        hc_server_free(s->th[i].srv);
        ev_free(s->th[i].L);
        free(s->th[i].out.p);
    }
    if (s->lfd >= 0)
        close(s->lfd);
    if (s->store) {
        unsigned long long writes, busy;
        ddb_store_stats(s->store, &writes, &busy);
        if (s->port)
            fprintf(s->log, "dynamodb: stopped (%llu write transactions, %llu SQLITE_BUSY waits)\n",
                    writes, busy);
    }
    ddb_store_close(s->store);
    free(s);
}
