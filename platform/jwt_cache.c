/*
 * Where a JWT authorizer's keys come from (see jwt.h, jwt_keys_*): a JWKS
 * file, a loopback http:// URL read with lib/http_get.c, or a loopback
 * issuer's discovery document; and the cache in front of it.  The current
 * set is a reference-counted jwt_jwks swapped under a mutex, so readers
 * keep the set they took for as long as they need it.  Refresh rule: read
 * again when there is no set, when it is older than max_age_s (AWS caches
 * keys up to two hours), or when a token names a kid it lacks (a rotated
 * key), but at most once per min_refresh_s, and by one thread at a time (the
 * others go on with the set they have).  A failed read keeps the old set.
 * jwt_keys_verify also remembers the last 512 tokens whose signature
 * verified (a direct-mapped table keyed by the signature's last bytes,
 * compared whole), each with the generation of the set that verified it:
 * the same text under the same set verifies again without libcrypto, and
 * a new set forgets them all.  Claims are checked every time.
 */
#define _GNU_SOURCE
#include "jwt_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "nerd/http_get.h"

#define URL_CAP 1024
#define JWT_SEEN_SLOTS 512   /* verified signatures remembered: at most 512 x 10 KB */

enum { SRC_FILE, SRC_URL, SRC_ISSUER };

/* A parsed loopback URL. */
typedef struct lurl {
    struct sockaddr_storage sa;
    socklen_t salen;
    char host[96];       /* the Host header: "127.0.0.1:8080" */
    char path[URL_CAP];  /* from the first '/', query included */
} lurl;

struct jwt_keys {
    char *source;
    int kind;
    lurl url;                /* SRC_URL: the JWKS; SRC_ISSUER: the issuer */
    jwt_keys_opts o;
    pthread_mutex_t mu;      /* guards everything below */
    jwt_jwks *cur;
    double read_at;          /* when cur was read (monotonic seconds) */
    double tried_at;         /* when the last read began */
    int tried, reading;
    unsigned long reads;
    unsigned long gen;       /* bumped each time cur changes */
    char err[512];
    pthread_mutex_t smu;     /* guards seen[] */
    struct seen {            /* tokens whose signature verified under set gen */
        char *tok;
        size_t len;
        unsigned long gen;
    } seen[JWT_SEEN_SLOTS];
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Parses "http://HOST[:PORT][/PATH]" where HOST is 127.x.y.z, localhost or
 * [::1]; 0, or -1 with why in err. */
static int parse_url(const char *s, lurl *u, char *err, size_t errcap)
{
    memset(u, 0, sizeof *u);
    if (strncmp(s, "http://", 7)) {
        snprintf(err, errcap, "%.200s: only http:// URLs (to a loopback address) are read", s);
        return -1;
    }
    const char *h = s + 7, *he, *p;
    char host[64];
    if (*h == '[') {
        he = strchr(h, ']');
        if (!he || (size_t)(he - h - 1) >= sizeof host)
            goto bad;
        memcpy(host, h + 1, (size_t)(he - h - 1));
        host[he - h - 1] = 0;
        p = he + 1;
    } else {
        size_t n = strcspn(h, ":/?#");
        if (n >= sizeof host)
            goto bad;
        memcpy(host, h, n);
        host[n] = 0;
        p = h + n;
    }
    long port = 80;
    if (*p == ':') {
        char *e;
        errno = 0;
        port = strtol(p + 1, &e, 10);
        if (e == p + 1 || errno || port < 1 || port > 65535)
            goto bad;
        p = e;
    }
    if (*p && *p != '/')
        goto bad;
    const char *path = *p ? p : "/";
    if (strlen(path) >= sizeof u->path)
        goto bad;
    for (const char *c = path; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '#')
            goto bad;
    strcpy(u->path, path);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&u->sa;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&u->sa;
    if (!strcmp(host, "localhost"))
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        if ((ntohl(s4->sin_addr.s_addr) >> 24) != 127)
            goto remote;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        u->salen = sizeof *s4;
        snprintf(u->host, sizeof u->host, "%s:%ld", host, port);
    } else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        if (!IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
            goto remote;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        u->salen = sizeof *s6;
        snprintf(u->host, sizeof u->host, "[%s]:%ld", host, port);
    } else {
        goto remote;
    }
    return 0;
remote:
    snprintf(err, errcap, "%.200s: not a loopback address (127.0.0.1, localhost, [::1]): "
             "nothing else is contacted", s);
    return -1;
bad:
    snprintf(err, errcap, "%.200s: not a URL http://HOST[:PORT]/PATH", s);
    return -1;
}

jwt_err jwt_keys_new(const char *source, const jwt_keys_opts *opts, jwt_keys **out, char *err,
                     size_t errcap)
{
    *out = NULL;
    jwt_keys *k = calloc(1, sizeof *k);
    if (!k || !(k->source = strdup(source))) {
        free(k);
        snprintf(err, errcap, "out of memory");
        return JWT_ENOMEM;
    }
    if (opts)
        k->o = *opts;
    if (k->o.max_age_s <= 0)
        k->o.max_age_s = 7200;
    if (k->o.min_refresh_s == 0)
        k->o.min_refresh_s = 10;
    if (k->o.timeout_ms <= 0)
        k->o.timeout_ms = 1500;
    k->kind = k->o.issuer ? SRC_ISSUER :
              !strncmp(source, "http://", 7) || !strncmp(source, "https://", 8) ? SRC_URL : SRC_FILE;
    if (k->kind != SRC_FILE && (!*source || parse_url(source, &k->url, err, errcap))) {
        free(k->source);
        free(k);
        return JWT_ESOURCE;
    }
    pthread_mutex_init(&k->mu, NULL);
    pthread_mutex_init(&k->smu, NULL);
    *out = k;
    return JWT_OK;
}

void jwt_keys_free(jwt_keys *k)
{
    if (!k)
        return;
    jwt_jwks_free(k->cur);
    for (size_t i = 0; i < JWT_SEEN_SLOTS; i++)
        free(k->seen[i].tok);
    pthread_mutex_destroy(&k->mu);
    pthread_mutex_destroy(&k->smu);
    free(k->source);
    free(k);
}

const char *jwt_keys_source(const jwt_keys *k) { return k->source; }

unsigned long jwt_keys_reads(jwt_keys *k)
{
    pthread_mutex_lock(&k->mu);
    unsigned long n = k->reads;
    pthread_mutex_unlock(&k->mu);
    return n;
}

const char *jwt_keys_error(jwt_keys *k, char *buf, size_t cap)
{
    pthread_mutex_lock(&k->mu);
    snprintf(buf, cap, "%s", k->err);
    pthread_mutex_unlock(&k->mu);
    return buf;
}

/* GETs u into a.  JWT_EFETCH with why in err unless it answered 200. */
static jwt_err get(const jwt_keys *k, const lurl *u, http_get_answer *a, char *err, size_t errcap)
{
    char e[256];
    http_get_err g = http_get((const struct sockaddr *)&u->sa, u->salen, u->host, u->path,
                              "application/json", k->o.timeout_ms, JWT_MAX_JWKS, a, e, sizeof e);
    if (g) {
        snprintf(err, errcap, "GET http://%s%.200s: %.200s", u->host, u->path, e);
        return g == HTTP_GET_ENOMEM ? JWT_ENOMEM : JWT_EFETCH;
    }
    if (a->status != 200) {
        snprintf(err, errcap, "GET http://%s%.200s answered %d %s", u->host, u->path, a->status,
                 a->reason);
        free(a->body);
        a->body = NULL;
        return JWT_EFETCH;
    }
    return JWT_OK;
}

/* The issuer's JWKS URL: the discovery document's loopback jwks_uri, or
 * {issuer}/.well-known/jwks.json when there is no document. */
static jwt_err discover(const jwt_keys *k, lurl *jwks, char *err, size_t errcap)
{
    lurl d = k->url;
    size_t pl = strlen(d.path);
    while (pl && d.path[pl - 1] == '/')
        d.path[--pl] = 0;
    if (pl + 40 >= sizeof d.path) {
        snprintf(err, errcap, "issuer URL too long");
        return JWT_ESOURCE;
    }
    *jwks = d;
    strcpy(jwks->path + pl, "/.well-known/jwks.json");
    strcpy(d.path + pl, "/.well-known/openid-configuration");
    http_get_answer a;
    jwt_err rc = get(k, &d, &a, err, errcap);
    if (rc == JWT_ENOMEM)
        return rc;
    if (rc)
        return JWT_OK; /* no discovery document: Cognito's layout */
    json_t *doc = json_loadb(a.body, a.len, 0, NULL);
    const char *uri = json_string_value(json_object_get(doc, "jwks_uri"));
    rc = JWT_OK;
    if (uri && parse_url(uri, jwks, err, errcap))
        rc = JWT_EFETCH;
    json_decref(doc);
    free(a.body);
    return rc;
}

/* Reads and parses the source (no lock held). */
static jwt_err read_source(const jwt_keys *k, jwt_jwks **out, char *err, size_t errcap)
{
    char *buf = NULL;
    size_t len = 0;
    jwt_err rc = JWT_EFETCH;
    if (k->kind == SRC_FILE) {
        FILE *f = fopen(k->source, "rb");
        if (!f) {
            snprintf(err, errcap, "%s: %s", k->source, strerror(errno));
            return rc;
        }
        buf = malloc(JWT_MAX_JWKS + 1);
        len = buf ? fread(buf, 1, JWT_MAX_JWKS + 1, f) : 0;
        int bad = !buf || ferror(f);
        fclose(f);
        if (bad || len > JWT_MAX_JWKS) {
            snprintf(err, errcap, "%s: %s", k->source, !buf ? "out of memory" : bad ? "read error" :
                     "larger than 150000 bytes");
            free(buf);
            return buf ? (bad ? JWT_EFETCH : JWT_EJWKS) : JWT_ENOMEM;
        }
    } else {
        lurl ju;
        http_get_answer a;
        if (k->kind == SRC_ISSUER && (rc = discover(k, &ju, err, errcap)))
            return rc;
        if ((rc = get(k, k->kind == SRC_ISSUER ? &ju : &k->url, &a, err, errcap)))
            return rc;
        buf = a.body;
        len = a.len;
    }
    char e[400];
    rc = jwt_jwks_parse(buf, len, out, e, sizeof e);
    if (rc)
        snprintf(err, errcap, "%s: %s", k->source, e);
    free(buf);
    return rc;
}

/* Reads the source and installs the set; called by the one reader. */
static jwt_err refresh(jwt_keys *k, char *err, size_t errcap)
{
    jwt_jwks *ks = NULL;
    char e[512];
    jwt_err rc = read_source(k, &ks, e, sizeof e);
    pthread_mutex_lock(&k->mu);
    k->reads++;
    k->reading = 0;
    if (!rc) {
        jwt_jwks_free(k->cur);
        k->cur = ks;
        k->gen++;
        k->read_at = mono_s();
        k->err[0] = 0;
    } else {
        snprintf(k->err, sizeof k->err, "%s", e);
    }
    pthread_mutex_unlock(&k->mu);
    if (err)
        snprintf(err, errcap, "%s", rc ? e : "");
    return rc;
}

jwt_err jwt_keys_load(jwt_keys *k, char *err, size_t errcap)
{
    pthread_mutex_lock(&k->mu);
    k->tried = 1;
    k->tried_at = mono_s();
    k->reading = 1;
    pthread_mutex_unlock(&k->mu);
    return refresh(k, err, errcap);
}

/* jwt_keys_get, with the generation of the set handed out. */
static jwt_err get_set(jwt_keys *k, const char *kid, jwt_jwks **set, unsigned long *gen)
{
    *set = NULL;
    double now = mono_s();
    pthread_mutex_lock(&k->mu);
    int need = !k->cur || now - k->read_at > k->o.max_age_s || (kid && !jwt_jwks_has(k->cur, kid));
    int may = !k->reading && (!k->tried || k->o.min_refresh_s < 0 ||
                              now - k->tried_at >= k->o.min_refresh_s);
    if (need && may) {
        k->tried = 1;
        k->tried_at = now;
        k->reading = 1;
    }
    pthread_mutex_unlock(&k->mu);
    if (need && may)
        refresh(k, NULL, 0);
    pthread_mutex_lock(&k->mu);
    if (k->cur)
        *set = jwt_jwks_ref(k->cur);
    *gen = k->gen;
    pthread_mutex_unlock(&k->mu);
    return *set ? JWT_OK : JWT_EFETCH;
}

jwt_err jwt_keys_get(jwt_keys *k, const char *kid, jwt_jwks **set)
{
    unsigned long gen;
    return get_set(k, kid, set, &gen);
}

/* The slot of a token: a hash of its last 32 bytes (the signature's). */
static size_t seen_slot(const char *tok, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = len > 32 ? len - 32 : 0; i < len; i++)
        h = (h ^ (unsigned char)tok[i]) * 1099511628211ull;
    return (size_t)(h % JWT_SEEN_SLOTS);
}

/* Whether tok[0..len) verified under set gen before. */
static int seen_before(jwt_keys *k, const char *tok, size_t len, unsigned long gen)
{
    struct seen *e = &k->seen[seen_slot(tok, len)];
    pthread_mutex_lock(&k->smu);
    int hit = e->tok && e->gen == gen && e->len == len && !memcmp(e->tok, tok, len);
    pthread_mutex_unlock(&k->smu);
    return hit;
}

/* Remembers that tok[0..len) verified under set gen (evicting the slot's
 * token); nothing when memory is short. */
static void remember(jwt_keys *k, const char *tok, size_t len, unsigned long gen)
{
    char *copy = malloc(len);
    if (!copy)
        return;
    memcpy(copy, tok, len);
    struct seen *e = &k->seen[seen_slot(tok, len)];
    pthread_mutex_lock(&k->smu);
    char *old = e->tok;
    e->tok = copy;
    e->len = len;
    e->gen = gen;
    pthread_mutex_unlock(&k->smu);
    free(old);
}

jwt_err jwt_keys_verify(jwt_keys *k, const char *token, size_t len, const jwt_check *c,
                        jwt **out)
{
    jwt *t;
    jwt_jwks *ks = NULL;
    unsigned long gen = 0;
    if (out)
        *out = NULL;
    jwt_err rc = jwt_parse(token, len, &t);
    if (!rc && (rc = jwt_verify_signature(t, NULL, c->algs)) == JWT_EKID) {
        /* the algorithm is allowed and a kid named: now the keys.  The
         * same text verified under the same set verifies again (the
         * algorithm check above is the only one that depends on c) */
        rc = get_set(k, t->kid, &ks, &gen);
        if (!rc && !seen_before(k, token, len, gen) &&
            !(rc = jwt_verify_signature(t, ks, c->algs)))
            remember(k, token, len, gen);
        jwt_jwks_free(ks);
    }
    return jwt__conclude(t, rc, c, out);
}
