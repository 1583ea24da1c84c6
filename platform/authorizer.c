/*
 * Lambda authorizers (see authorizer.h): configuration checks, identity
 * source expressions and values, the method ARN, and the result cache (a
 * hash table with a most-recently-used list, under one mutex per
 * authorizer, entries expiring TTL seconds after they were stored).
 */
#define _GNU_SOURCE
#include "az_int.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hash.h"

const char *az_strerror(int err)
{
    switch (err) {
    case AZ_OK: return "success";
    case AZ_ENOMEM: return "out of memory";
    case AZ_ECONFIG: return "authorizer configuration refused";
    case AZ_ESOURCE: return "unknown identity source";
    case AZ_EREGEX: return "ValidationExpression does not compile";
    case AZ_ETOOBIG: return "authorizer event or method ARN too large";
    case AZ_EINPUT: return "request text is not UTF-8";
    }
    return "unknown error";
}

/* ---- identity source expressions ---- */

static const char *const CONTEXT_NAMES[] = {
    "accountId", "apiId",    "domainName", "domainPrefix", "httpMethod", "identity.sourceIp",
    "path",      "requestId", "resourceId", "resourcePath", "routeKey",  "stage"};

int az_source_parse(const char *expr, size_t len, az_source *out)
{
    static const struct {
        const char *prefix;
        az_src_type type;
    } forms[] = {
        {"method.request.header.", AZ_SRC_HEADER}, {"method.request.querystring.", AZ_SRC_QUERY},
        {"stageVariables.", AZ_SRC_STAGEVAR},      {"context.", AZ_SRC_CONTEXT},
        {"$request.header.", AZ_SRC_HEADER},       {"$request.querystring.", AZ_SRC_QUERY},
        {"$stageVariables.", AZ_SRC_STAGEVAR},     {"$context.", AZ_SRC_CONTEXT},
    };
    while (len && isspace((unsigned char)*expr))
        expr++, len--;
    while (len && isspace((unsigned char)expr[len - 1]))
        len--;
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        size_t pl = strlen(forms[i].prefix);
        if (len <= pl || memcmp(expr, forms[i].prefix, pl))
            continue;
        size_t nl = len - pl;
        if (nl >= AZ_NAME_MAX || memchr(expr + pl, 0, nl))
            return AZ_ESOURCE;
        out->type = forms[i].type;
        memcpy(out->name, expr + pl, nl);
        out->name[nl] = 0;
        if (out->type != AZ_SRC_CONTEXT)
            return AZ_OK;
        for (size_t k = 0; k < sizeof CONTEXT_NAMES / sizeof *CONTEXT_NAMES; k++)
            if (!strcmp(out->name, CONTEXT_NAMES[k]))
                return AZ_OK;
        return AZ_ESOURCE;
    }
    return AZ_ESOURCE;
}

int az_sources_parse(const char *list, az_config *c)
{
    const char *s = list;
    while (*s) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (c->n_sources == AZ_MAX_SOURCES)
            return AZ_ECONFIG;
        int rc = az_source_parse(s, n, &c->sources[c->n_sources]);
        if (rc)
            return rc;
        c->n_sources++;
        s += n + (e ? 1 : 0);
    }
    return AZ_OK;
}

/* ---- authorizer ---- */

struct az__entry {
    az__entry *hnext;            /* hash chain */
    az__entry *prev, *next;      /* most recently used list */
    uint64_t hash;
    double expires;
    az_result *r;
    size_t klen;
    char key[];
};

static int is_rest(az_type t) { return t == AZ_REST_TOKEN || t == AZ_REST_REQUEST; }

int az_new(const az_config *c, az_authorizer **out)
{
    *out = NULL;
    int ttl = c->ttl_s == AZ_TTL_DEFAULT ? (is_rest(c->type) ? 300 : 0) : c->ttl_s;
    if (ttl < 0 || ttl > AZ_TTL_MAX || c->n_sources > AZ_MAX_SOURCES ||
        (unsigned)c->type > AZ_HTTP_V2 || (c->simple_responses && c->type != AZ_HTTP_V2) ||
        (c->validation && c->type != AZ_REST_TOKEN))
        return AZ_ECONFIG;
    if (c->type == AZ_REST_TOKEN &&
        (c->n_sources > 1 || (c->n_sources == 1 && c->sources[0].type != AZ_SRC_HEADER)))
        return AZ_ECONFIG;
    if (ttl > 0 && c->n_sources == 0 && c->type != AZ_REST_TOKEN)
        return AZ_ECONFIG; /* a cache needs identity sources for its key */
    az_authorizer *a = calloc(1, sizeof *a);
    if (!a)
        return AZ_ENOMEM;
    a->c = *c;
    a->c.validation = NULL;
    a->ttl = ttl;
    if (c->type == AZ_REST_TOKEN && c->n_sources == 0) {
        a->c.sources[0].type = AZ_SRC_HEADER;
        strcpy(a->c.sources[0].name, "Authorization");
        a->c.n_sources = 1;
    }
    a->max = c->cache_max ? c->cache_max : AZ_CACHE_DEFAULT;
    a->n_buckets = 16;
    while (a->n_buckets < a->max && a->n_buckets < (1u << 20))
        a->n_buckets <<= 1;
    a->buckets = calloc(a->n_buckets, sizeof *a->buckets);
    pthread_mutex_init(&a->mu, NULL);
    int rc = a->buckets ? AZ_OK : AZ_ENOMEM;
    if (!rc && c->validation) {
        int ec;
        PCRE2_SIZE eo;
        a->re = pcre2_compile((PCRE2_SPTR)c->validation, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ec,
                              &eo, NULL);
        a->mctx = pcre2_match_context_create(NULL);
        if (!a->re)
            rc = AZ_EREGEX;
        else if (!a->mctx)
            rc = AZ_ENOMEM;
        else {
            /* the token is the client's: bound the backtracking */
            pcre2_set_match_limit(a->mctx, 100000);
            pcre2_set_depth_limit(a->mctx, 1000);
        }
    }
    if (rc) {
        az_free(a);
        return rc;
    }
    *out = a;
    return AZ_OK;
}

void az_free(az_authorizer *a)
{
    if (!a)
        return;
    for (az__entry *e = a->head, *n; e; e = n) {
        n = e->next;
        az_result_free(e->r);
        free(e);
    }
    free(a->buckets);
    pcre2_code_free(a->re);
    pcre2_match_context_free(a->mctx);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

int az_ttl(const az_authorizer *a) { return a->ttl; }
az_type az_type_of(const az_authorizer *a) { return a->c.type; }

/* ---- identity values ---- */

static int is_http(const az_authorizer *a) { return !is_rest(a->c.type); }

/* The value of the pairs named name in kv (fold: the name in any case):
 * the last one, or all joined with ','.  Writes it to dst (when not NULL)
 * and returns its length, or -1 when there is none. */
static long kv_value(const apigw_kv *kv, size_t n, const char *name, int fold, int join,
                     char *dst)
{
    long len = -1;
    size_t nl = strlen(name);
    for (size_t i = 0; i < n; i++) {
        if (kv[i].name_len != nl ||
            (fold ? strncasecmp(kv[i].name, name, nl) : memcmp(kv[i].name, name, nl)))
            continue;
        if (!join || len < 0)
            len = 0;
        else if (dst)
            dst[len++] = ',';
        else
            len++;
        if (dst)
            memcpy(dst + len, kv[i].value, kv[i].value_len);
        len += (long)kv[i].value_len;
    }
    return len;
}

long az__header(const az_request *r, const char *name, int join, char *dst)
{
    return kv_value(r->headers, r->n_headers, name, 1, join, dst);
}

/* $context values; NULL when the request has none. */
static const char *context_value(const az_request *r, const char *name, char *tmp, size_t cap)
{
    if (!strcmp(name, "accountId"))
        return r->account_id ? r->account_id : "123456789012";
    if (!strcmp(name, "apiId"))
        return r->api_id;
    if (!strcmp(name, "httpMethod"))
        return r->method;
    if (!strcmp(name, "identity.sourceIp"))
        return r->source_ip;
    if (!strcmp(name, "requestId"))
        return r->request_id;
    if (!strcmp(name, "resourceId"))
        return r->resource_id;
    if (!strcmp(name, "resourcePath"))
        return r->resource ? r->resource : r->path;
    if (!strcmp(name, "routeKey"))
        return r->route_key;
    if (!strcmp(name, "stage"))
        return r->stage;
    if (!strcmp(name, "path")) { /* with the stage; HTTP APIs' $default has none */
        if (!r->path || !r->stage)
            return NULL;
        if (!strcmp(r->stage, "$default"))
            return r->path;
        snprintf(tmp, cap, "/%s%s", r->stage, r->path);
        return tmp;
    }
    if (!strcmp(name, "domainName") || !strcmp(name, "domainPrefix")) {
        if (r->domain_name)
            snprintf(tmp, cap, "%s", r->domain_name);
        else if (r->api_id)
            snprintf(tmp, cap, "%s.execute-api.%s.amazonaws.com", r->api_id,
                     r->region ? r->region : "us-east-1");
        else
            return NULL;
        if (name[6] == 'P')
            tmp[strcspn(tmp, ".")] = 0;
        return tmp;
    }
    return NULL;
}

static long source_value(const az_authorizer *a, const az_request *r, const az_source *s,
                         char *dst)
{
    int join = is_http(a);
    char tmp[512];
    const char *v;
    switch (s->type) {
    case AZ_SRC_HEADER: return az__header(r, s->name, join, dst);
    case AZ_SRC_QUERY: return kv_value(r->query, r->n_query, s->name, 0, join, dst);
    case AZ_SRC_STAGEVAR: return kv_value(r->stage_vars, r->n_stage_vars, s->name, 0, 0, dst);
    case AZ_SRC_CONTEXT:
        v = context_value(r, s->name, tmp, sizeof tmp);
        if (!v)
            return -1;
        if (dst)
            memcpy(dst, v, strlen(v));
        return (long)strlen(v);
    }
    return -1;
}

int az_identify(const az_authorizer *a, const az_request *r, az_identity *id, az_verdict *v)
{
    memset(id, 0, sizeof *id);
    *v = AZ_ALLOW;
    size_t n = a->c.n_sources, total = 0;
    long lens[AZ_MAX_SOURCES];
    int missing = 0;
    for (size_t i = 0; i < n; i++) {
        lens[i] = source_value(a, r, &a->c.sources[i], NULL);
        if (lens[i] <= 0)
            missing = 1;
        total += lens[i] > 0 ? (size_t)lens[i] : 0;
    }
    /* REST REQUEST without a cache: the sources are not required */
    if (missing && !(a->c.type == AZ_REST_REQUEST && a->ttl == 0)) {
        *v = AZ_MISSING;
        return AZ_OK;
    }
    if (total > AZ_IDENTITY_MAX) {
        *v = AZ_INVALID;
        return AZ_OK;
    }
    /* values (each NUL-terminated), then the key: "LEN:value" each */
    id->buf = malloc(2 * total + n * 24 + 1);
    if (!id->buf)
        return AZ_ENOMEM;
    char *p = id->buf;
    id->n = n;
    for (size_t i = 0; i < n; i++) {
        id->values[i] = p;
        id->lens[i] = lens[i] > 0 ? (size_t)lens[i] : 0;
        if (lens[i] > 0)
            source_value(a, r, &a->c.sources[i], p);
        p[id->lens[i]] = 0;
        p += id->lens[i] + 1;
    }
    id->key = p;
    for (size_t i = 0; i < n; i++) {
        p += sprintf(p, "%zu:", id->lens[i]);
        memcpy(p, id->values[i], id->lens[i]);
        p += id->lens[i];
    }
    id->key_len = (size_t)(p - id->key);
    for (size_t i = 0; i < n; i++)
        if (!jw_utf8(id->values[i], id->lens[i]))
            *v = AZ_INVALID;
    if (a->re && *v == AZ_ALLOW) {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(a->re, NULL);
        if (!md)
            return AZ_ENOMEM;
        int m = pcre2_match(a->re, (PCRE2_SPTR)id->values[0], id->lens[0], 0, 0, md, a->mctx);
        pcre2_match_data_free(md);
        if (m < 0) /* no match, or past the limits, or not UTF-8 */
            *v = AZ_INVALID;
    }
    return AZ_OK;
}

void az_identity_fini(az_identity *id)
{
    if (!id)
        return;
    free(id->buf);
    memset(id, 0, sizeof *id);
}

int az_method_arn(const az_request *r, char *out, size_t cap)
{
    const char *path = r->path && r->path[0] == '/' ? r->path + 1 : (r->path ? r->path : "");
    int n = snprintf(out, cap, "arn:aws:execute-api:%s:%s:%s/%s/%s/%s",
                     r->region ? r->region : "us-east-1",
                     r->account_id ? r->account_id : "123456789012", r->api_id ? r->api_id : "",
                     r->stage ? r->stage : "", r->method ? r->method : "", path);
    if (n < 0 || (size_t)n >= cap || n > AZ_ARN_MAX)
        return -1;
    return n;
}

/* ---- cache ---- */

static void unlink_entry(az_authorizer *a, az__entry *e)
{
    az__entry **pp = &a->buckets[e->hash & (a->n_buckets - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    if (e->prev)
        e->prev->next = e->next;
    else
        a->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        a->tail = e->prev;
    a->n--;
}

static void push_front(az_authorizer *a, az__entry *e)
{
    e->prev = NULL;
    e->next = a->head;
    if (a->head)
        a->head->prev = e;
    a->head = e;
    if (!a->tail)
        a->tail = e;
}

static az__entry *find(az_authorizer *a, const az_identity *id, uint64_t h)
{
    for (az__entry *e = a->buckets[h & (a->n_buckets - 1)]; e; e = e->hnext)
        if (e->hash == h && e->klen == id->key_len && !memcmp(e->key, id->key, id->key_len))
            return e;
    return NULL;
}

az_result *az_cache_get(az_authorizer *a, const az_identity *id, double now_ms)
{
    if (a->ttl <= 0 || !id->key)
        return NULL;
    uint64_t h = hash_murmur64a(id->key, id->key_len, 0x617a);
    az_result *r = NULL, *dead = NULL;
    pthread_mutex_lock(&a->mu);
    az__entry *e = find(a, id, h);
    if (e && e->expires <= now_ms) {
        unlink_entry(a, e);
        dead = e->r;
        free(e);
    } else if (e) {
        if (e != a->head) {
            if (e->prev)
                e->prev->next = e->next;
            if (e->next)
                e->next->prev = e->prev;
            else
                a->tail = e->prev;
            push_front(a, e);
        }
        r = e->r;
        atomic_fetch_add(&r->refs, 1);
    }
    pthread_mutex_unlock(&a->mu);
    az_result_free(dead);
    return r;
}

void az_cache_put(az_authorizer *a, const az_identity *id, az_result *r, double now_ms)
{
    if (a->ttl <= 0 || !id->key || !r || !az_result_cacheable(r))
        return;
    uint64_t h = hash_murmur64a(id->key, id->key_len, 0x617a);
    az__entry *ne = malloc(sizeof *ne + id->key_len);
    if (!ne)
        return; /* not cached: the next request invokes again */
    ne->hash = h;
    ne->expires = now_ms + a->ttl * 1000.0;
    ne->r = r;
    ne->klen = id->key_len;
    memcpy(ne->key, id->key, id->key_len);
    atomic_fetch_add(&r->refs, 1);
    az_result *drop[2] = {NULL, NULL};
    az__entry *old[2] = {NULL, NULL};
    pthread_mutex_lock(&a->mu);
    az__entry *e = find(a, id, h);
    if (e) { /* a concurrent miss stored it first: the newer wins */
        unlink_entry(a, e);
        old[0] = e;
    }
    if (a->n >= a->max && a->tail) {
        old[1] = a->tail;
        unlink_entry(a, a->tail);
    }
    az__entry **b = &a->buckets[h & (a->n_buckets - 1)];
    ne->hnext = *b;
    *b = ne;
    push_front(a, ne);
    a->n++;
    pthread_mutex_unlock(&a->mu);
    for (int i = 0; i < 2; i++)
        if (old[i]) {
            drop[i] = old[i]->r;
            free(old[i]);
            az_result_free(drop[i]);
        }
}

size_t az_cache_size(az_authorizer *a)
{
    pthread_mutex_lock(&a->mu);
    size_t n = a->n;
    pthread_mutex_unlock(&a->mu);
    return n;
}
