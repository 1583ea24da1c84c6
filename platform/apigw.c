/*
 * API Gateway HTTP API routing, 2.0 events and result mapping (see
 * apigw.h).  JSON via Debian's jansson.
 */
#define _DEFAULT_SOURCE
#include "apigw.h"
#include "apigw_int.h"
#include "jsonw.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- routing ---- */

/* Matches a route path template against path; returns a score (higher is
 * more specific) or -1.  Fills params. */
static long match_path(const char *tpl, const char *path, apigw_match *m)
{
    long literal = 0, params = 0, greedy = 0;
    const char *t = tpl, *p = path;
    m->n_params = 0;
    if (*t != '/' || *p != '/')
        return -1;
    while (*t == '/' && *p == '/') {
        t++;
        p++;
        const char *te = strchr(t, '/'), *pe = strchr(p, '/');
        size_t tl = te ? (size_t)(te - t) : strlen(t), pl = pe ? (size_t)(pe - p) : strlen(p);
        if (tl > 2 && t[0] == '{' && t[tl - 1] == '}') {
            int is_greedy = t[tl - 2] == '+';
            size_t nl = tl - 2 - (size_t)is_greedy;
            size_t vl = is_greedy ? strlen(p) : pl;
            if (vl == 0 || m->n_params == APIGW_MAX_PARAMS || nl >= sizeof m->names[0] ||
                vl >= sizeof m->values[0])
                return -1;
            memcpy(m->names[m->n_params], t + 1, nl);
            m->names[m->n_params][nl] = 0;
            memcpy(m->values[m->n_params], p, vl);
            m->values[m->n_params][vl] = 0;
            m->n_params++;
            if (is_greedy) {
                if (te) /* greedy only at the end */
                    return -1;
                greedy = 1;
                p += vl;
                t += tl;
                break;
            }
            params++;
        } else {
            if (tl != pl || memcmp(t, p, tl) != 0)
                return -1;
            literal++;
        }
        t += tl;
        p += pl;
    }
    if (*t || *p)
        return -1;
    /* non-greedy beats greedy; then literal segments; then fewer params */
    return (greedy ? 0 : 1000000) + literal * 1000 - params;
}

int apigw_route(const sam_template *t, int api, const char *method, const char *path,
                apigw_match *m)
{
    long best = -1;
    int best_route = -1, deflt = -1;
    apigw_match tmp;
    for (size_t i = 0; i < t->n_routes; i++) {
        const sam_route *r = &t->routes[i];
        if (r->api != api)
            continue;
        if (!strcmp(r->path, "$default")) {
            deflt = (int)i;
            continue;
        }
        int any = !strcmp(r->method, "ANY");
        if (!any && strcmp(r->method, method))
            continue;
        long s = match_path(r->path, path, &tmp);
        if (s < 0)
            continue;
        s = s * 2 + (any ? 0 : 1);
        if (s > best) {
            best = s;
            best_route = (int)i;
            *m = tmp;
        }
    }
    if (best_route < 0 && deflt >= 0) {
        best_route = deflt;
        m->n_params = 0;
    }
    m->route = best_route;
    m->resource = -1;
    return best_route >= 0 ? 0 : -1;
}

void apigw_match_copy(apigw_match *dst, const apigw_match *src)
{
    dst->route = src->route;
    dst->resource = src->resource;
    dst->n_params = src->n_params;
    for (size_t i = 0; i < src->n_params; i++) {
        memcpy(dst->names[i], src->names[i], strlen(src->names[i]) + 1);
        memcpy(dst->values[i], src->values[i], strlen(src->values[i]) + 1);
    }
}

/* ---- base64 ---- */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *apigw_b64_encode(const unsigned char *in, size_t n, size_t *out_len)
{
    size_t ol = (n + 2) / 3 * 4;
    char *o = malloc(ol + 1);
    if (!o)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        o[k++] = B64[v >> 18 & 63];
        o[k++] = B64[v >> 12 & 63];
        o[k++] = i + 1 < n ? B64[v >> 6 & 63] : '=';
        o[k++] = i + 2 < n ? B64[v & 63] : '=';
    }
    o[k] = 0;
    if (out_len)
        *out_len = k;
    return o;
}

static int b64v(int c)
{
    const char *p = c ? strchr(B64, c) : NULL;
    return p ? (int)(p - B64) : -1;
}

unsigned char *apigw_b64_decode(const char *in, size_t n, size_t *out_len)
{
    while (n && (in[n - 1] == '\n' || in[n - 1] == '\r'))
        n--;
    if (n % 4)
        return NULL;
    unsigned char *o = malloc(n / 4 * 3 + 1);
    if (!o)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i += 4) {
        int a = b64v(in[i]), b = b64v(in[i + 1]);
        int c = in[i + 2] == '=' && i + 4 == n ? -2 : b64v(in[i + 2]);
        int d = in[i + 3] == '=' && i + 4 == n ? -2 : b64v(in[i + 3]);
        if (a < 0 || b < 0 || c == -1 || d == -1 || (c == -2 && d != -2)) {
            free(o);
            return NULL;
        }
        o[k++] = (unsigned char)(a << 2 | b >> 4);
        if (c >= 0)
            o[k++] = (unsigned char)((b & 15) << 4 | c >> 2);
        if (d >= 0)
            o[k++] = (unsigned char)((c & 3) << 6 | d);
    }
    o[k] = 0;
    *out_len = k;
    return o;
}

/* ---- request -> event ---- */

int apigw__text_type(const char *ct, size_t n)
{
    static const char *const types[] = {"application/json", "application/xml",
                                        "application/javascript"};
    if (n >= 5 && !strncasecmp(ct, "text/", 5))
        return 1;
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        size_t tl = strlen(types[i]);
        if (n >= tl && !strncasecmp(ct, types[i], tl) && (n == tl || ct[tl] == ';' || ct[tl] == ' '))
            return 1;
    }
    return 0;
}

char *apigw__url_decode(const char *s, size_t n)
{
    char *o = malloc(n + 1);
    size_t k = 0;
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
            isxdigit((unsigned char)s[i + 2])) {
            char h[3] = {s[i + 1], s[i + 2], 0};
            o[k++] = (char)strtol(h, NULL, 16);
            i += 2;
        } else {
            o[k++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    o[k] = 0;
    return o;
}

long apigw_query_param(const char *q, size_t n, const char *key, char *out, size_t cap)
{
    const char *s = q, *end = q ? q + n : NULL;
    while (s && s < end) {
        const char *amp = memchr(s, '&', (size_t)(end - s));
        if (!amp)
            amp = end;
        const char *eq = memchr(s, '=', (size_t)(amp - s));
        char *k = apigw__url_decode(s, (size_t)((eq ? eq : amp) - s));
        int hit = k && !strcmp(k, key);
        free(k);
        if (hit) {
            char *v = apigw__url_decode(eq ? eq + 1 : amp, eq ? (size_t)(amp - eq - 1) : 0);
            size_t vl = v ? strlen(v) : 0;
            long rc = v && vl < cap ? (long)vl : -2;
            if (rc >= 0)
                memcpy(out, v, vl + 1);
            free(v);
            return rc;
        }
        s = amp < end ? amp + 1 : NULL;
    }
    return -1;
}

#define APIGW_MAX_EVENT (16u * 1024 * 1024) /* 10 MB body, base64, and the rest */

apigw__kv_join *apigw__join_add(apigw__kv_join *set, int *n, int cap, const char *name,
                                size_t nl, int copy, const char *v, size_t vl)
{
    for (int i = 0; i < *n; i++)
        if (set[i].name_len == nl && !memcmp(set[i].name, name, nl)) {
            if (set[i].n < APIGW__JOIN_MAX) {
                set[i].v[set[i].n] = v;
                set[i].vl[set[i].n++] = vl;
            }
            return &set[i];
        }
    if (*n == cap)
        return NULL;
    apigw__kv_join *k = &set[(*n)++];
    if (copy) {
        nl = nl < sizeof k->own - 1 ? nl : sizeof k->own - 1;
        memcpy(k->own, name, nl);
        k->own[nl] = 0;
        name = k->own;
    }
    k->name = name;
    k->name_len = nl;
    k->v[0] = v;
    k->vl[0] = vl;
    k->n = 1;
    return k;
}

int apigw__parse_query(const char *q, size_t qlen, apigw__kv_join *qs, int *nq, char **buf)
{
    /* decoded keys and values, kept in one buffer: each at most as long
     * as its source, NUL-terminated (a %00 ends it) */
    char *dec = *buf = malloc(3 * qlen + 4);
    size_t used = 0;
    const char *s = q, *end = q + qlen;
    *nq = 0;
    if (!dec)
        return -1;
    while (s < end) {
        const char *amp = memchr(s, '&', (size_t)(end - s));
        if (!amp)
            amp = end;
        const char *eq = memchr(s, '=', (size_t)(amp - s));
        if (amp > s) {
            char *k = apigw__url_decode(s, (size_t)((eq ? eq : amp) - s));
            char *v = eq ? apigw__url_decode(eq + 1, (size_t)(amp - eq - 1)) : strdup("");
            if (!k || !v) {
                free(k);
                free(v);
                return -1;
            }
            size_t kl = strlen(k), vl = strlen(v);
            if (kl && jw_utf8(k, kl) && jw_utf8(v, vl)) {
                char *kc = dec + used, *vc = kc + kl + 1;
                memcpy(kc, k, kl + 1);
                memcpy(vc, v, vl + 1);
                used += kl + vl + 2;
                /* past APIGW_MAX_HEADERS distinct keys, further ones are dropped */
                apigw__join_add(qs, nq, APIGW__JOIN_MAX, kc, kl, 0, vc, vl);
            }
            free(k);
            free(v);
        }
        s = amp + 1;
    }
    return 0;
}

void apigw__join_write(jw *w, const apigw__kv_join *set, int n, int how)
{
    if (!n && (how & APIGW__OR_NULL)) {
        jw_lit(w, "null");
        return;
    }
    how &= ~APIGW__OR_NULL;
    jw_lit(w, "{");
    for (int i = 0; i < n; i++) {
        if (i)
            jw_lit(w, ",");
        jw_str(w, set[i].name, set[i].name_len);
        jw_lit(w, ":");
        if (how == APIGW__LAST) {
            jw_str(w, set[i].v[set[i].n - 1], set[i].vl[set[i].n - 1]);
            continue;
        }
        if (how == APIGW__JOINED)
            jw_str_begin(w);
        else
            jw_lit(w, "[");
        for (int k = 0; k < set[i].n; k++) {
            if (k)
                jw_lit(w, ",");
            if (how == APIGW__JOINED)
                jw_str_part(w, set[i].v[k], set[i].vl[k]);
            else
                jw_str(w, set[i].v[k], set[i].vl[k]);
        }
        if (how == APIGW__JOINED)
            jw_str_end(w);
        else
            jw_lit(w, "]");
    }
    jw_lit(w, "}");
}

char *apigw_event(const sam_template *t, const apigw_match *m, const apigw_request *r,
                  size_t *len)
{
    const sam_route *rt = &t->routes[m->route];
    char route_key[SAM_STR + 32];
    if (!strcmp(rt->path, "$default"))
        snprintf(route_key, sizeof route_key, "$default");
    else
        snprintf(route_key, sizeof route_key, "%s %s", rt->method, rt->path);
    const char *q = memchr(r->target, '?', r->target_len);
    size_t path_len = q ? (size_t)(q - r->target) : r->target_len;
    size_t qlen = q ? r->target_len - path_len - 1 : 0;
    apigw__kv_join *hs = malloc(sizeof *hs * (APIGW__JOIN_MAX));
    char *qdec = NULL, *out = NULL;
    apigw__kv_join *qs = NULL;
    jw w;
    jw_init(&w, APIGW_MAX_EVENT);
    if (!hs)
        return NULL;
    int nh = 0, nq = 0;
    const char *ct = NULL;
    size_t ctl = 0;
    const char *cookie[APIGW_MAX_HEADERS * 8];
    size_t cookie_len[APIGW_MAX_HEADERS * 8];
    size_t nc = 0;
    for (size_t i = 0; i < r->n_headers; i++) {
        const apigw_kv *h = &r->headers[i];
        char lname[256];
        size_t nl = h->name_len < sizeof lname - 1 ? h->name_len : sizeof lname - 1;
        for (size_t k = 0; k < nl; k++)
            lname[k] = (char)tolower((unsigned char)h->name[k]);
        lname[nl] = 0;
        if (!strcmp(lname, "cookie")) {
            const char *s = h->value, *end = h->value + h->value_len;
            while (s < end) {
                while (s < end && (*s == ' ' || *s == ';'))
                    s++;
                if (s >= end)
                    break;
                const char *e = memchr(s, ';', (size_t)(end - s));
                if (!e)
                    e = end;
                const char *te = e;
                while (te > s && te[-1] == ' ')
                    te--;
                if (te > s && nc < sizeof cookie / sizeof *cookie) {
                    cookie[nc] = s;
                    cookie_len[nc++] = (size_t)(te - s);
                }
                s = e;
            }
            continue;
        }
        if (!strcmp(lname, "content-type")) {
            ct = h->value;
            ctl = h->value_len;
        }
        if (jw_utf8(lname, nl)) /* (jansson drops a key that is not UTF-8) */
            apigw__join_add(hs, &nh, APIGW__JOIN_MAX, lname, nl, 1, h->value, h->value_len);
    }
    const apigw__kv_join *ua = NULL;
    int have_xff = 0, have_xfp = 0;
    for (int i = 0; i < nh; i++) {
        if (!strcmp(hs[i].name, "user-agent"))
            ua = &hs[i];
        have_xff |= !strcmp(hs[i].name, "x-forwarded-for");
        have_xfp |= !strcmp(hs[i].name, "x-forwarded-proto");
    }
    if (!have_xff)
        apigw__join_add(hs, &nh, APIGW__JOIN_MAX, "x-forwarded-for", 15, 0, r->source_ip,
                 strlen(r->source_ip));
    if (!have_xfp)
        apigw__join_add(hs, &nh, APIGW__JOIN_MAX, "x-forwarded-proto", 17, 0, "http", 4);
    jw_lit(&w, "{\"version\":\"2.0\",\"routeKey\":");
    jw_str(&w, route_key, strlen(route_key));
    jw_lit(&w, ",\"rawPath\":");
    jw_str(&w, r->target, path_len);
    jw_lit(&w, ",\"rawQueryString\":");
    jw_str(&w, q ? q + 1 : "", qlen);
    if (nc) {
        jw_lit(&w, ",\"cookies\":[");
        for (size_t i = 0; i < nc; i++) {
            if (i)
                jw_lit(&w, ",");
            jw_str(&w, cookie[i], cookie_len[i]);
        }
        jw_lit(&w, "]");
    }
    jw_lit(&w, ",\"headers\":");
    apigw__join_write(&w, hs, nh, APIGW__JOINED);
    if (qlen) {
        qs = malloc(sizeof *qs * (APIGW__JOIN_MAX));
        if (!qs || apigw__parse_query(q + 1, qlen, qs, &nq, &qdec))
            goto out;
        jw_lit(&w, ",\"queryStringParameters\":");
        apigw__join_write(&w, qs, nq, APIGW__JOINED);
    }
    if (m->n_params) {
        jw_lit(&w, ",\"pathParameters\":");
        apigw__write_params(&w, m);
    }
    char tbuf[64];
    apigw__clf_time(r->time_ms, tbuf);
    size_t al = strlen(r->api_id);
    jw_lit(&w, ",\"requestContext\":{\"accountId\":\"123456789012\",\"apiId\":");
    jw_str(&w, r->api_id, al);
    if (r->authorizer) {
        jw_lit(&w, ",\"authorizer\":");
        jw_raw(&w, r->authorizer, strlen(r->authorizer));
    }
    jw_lit(&w, ",\"domainName\":\"");
    jw_str_part(&w, r->api_id, al);
    jw_lit(&w, ".execute-api.us-east-1.amazonaws.com\",\"domainPrefix\":");
    jw_str(&w, r->api_id, al);
    jw_lit(&w, ",\"http\":{\"method\":");
    jw_str(&w, r->method, strlen(r->method));
    jw_lit(&w, ",\"path\":");
    jw_str(&w, r->target, path_len);
    jw_lit(&w, ",\"protocol\":\"HTTP/1.1\",\"sourceIp\":");
    jw_str(&w, r->source_ip, strlen(r->source_ip));
    jw_lit(&w, ",\"userAgent\":");
    jw_str_begin(&w);
    for (int k = 0; ua && k < ua->n; k++) {
        if (k)
            jw_lit(&w, ",");
        jw_str_part(&w, ua->v[k], ua->vl[k]);
    }
    jw_str_end(&w);
    jw_lit(&w, "},\"requestId\":");
    jw_str(&w, r->request_id, strlen(r->request_id));
    jw_lit(&w, ",\"routeKey\":");
    jw_str(&w, route_key, strlen(route_key));
    jw_lit(&w, ",\"stage\":\"$default\",\"time\":");
    jw_str(&w, tbuf, strlen(tbuf));
    jw_lit(&w, ",\"timeEpoch\":");
    jw_int(&w, r->time_ms);
    jw_lit(&w, "}");
    int b64 = r->body && !(ct && apigw__text_type(ct, ctl));
    if (r->body) {
        /* text bodies that are not valid UTF-8 go base64 as well */
        if (!b64 && !jw_utf8(r->body, r->body_len))
            b64 = 1;
        jw_lit(&w, ",\"body\":");
        if (apigw__write_body(&w, r->body, r->body_len, b64))
            goto out;
    }
    if (b64)
        jw_lit(&w, ",\"isBase64Encoded\":true}");
    else
        jw_lit(&w, ",\"isBase64Encoded\":false}");
    out = jw_finish(&w, len);
out:
    if (w.p)
        free(w.p);
    free(hs);
    free(qs);
    free(qdec);
    return out;
}

void apigw__write_params(jw *w, const apigw_match *m)
{
    int first = 1;
    for (size_t i = 0; i < m->n_params; i++) {
        size_t vl = strlen(m->values[i]);
        if (!jw_utf8(m->values[i], vl)) /* (jansson drops such a value) */
            continue;
        jw_raw(w, first ? "{" : ",", 1);
        first = 0;
        jw_str(w, m->names[i], strlen(m->names[i]));
        jw_lit(w, ":");
        jw_str(w, m->values[i], vl);
    }
    if (first)
        jw_lit(w, "null");
    else
        jw_lit(w, "}");
}

void apigw__clf_time(long long ms, char out[64])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(out, 64, "%d/%b/%Y:%H:%M:%S +0000", &tm);
}

int apigw__write_body(jw *w, const char *body, size_t n, int b64)
{
    size_t bl;
    char *enc;
    if (!b64) {
        jw_str(w, body, n);
        return 0;
    }
    if (!(enc = apigw_b64_encode((const unsigned char *)body, n, &bl)))
        return -1;
    jw_str(w, enc, bl);
    free(enc);
    return 0;
}

/* ---- result -> response ---- */

int apigw_response_add(apigw_response *o, const char *n, const char *v)
{
    if (o->n_headers == APIGW_MAX_HEADERS)
        return 0;
    char *k = strdup(n), *x = strdup(v);
    if (!k || !x) {
        free(k);
        free(x);
        return -1;
    }
    o->headers[o->n_headers][0] = k;
    o->headers[o->n_headers][1] = x;
    o->n_headers++;
    return 0;
}

static int internal_error(apigw_response *o)
{
    apigw_response_fini(o);
    o->status = 500;
    static const char msg[] = "{\"message\":\"Internal Server Error\"}";
    o->body = strdup(msg);
    o->body_len = sizeof msg - 1;
    if (!o->body || apigw_response_add(o, "content-type", "application/json"))
        return -1;
    return 0;
}

int apigw_map_result(const char *payload, size_t len, apigw_response *o)
{
    memset(o, 0, sizeof *o);
    json_error_t je;
    json_t *j = json_loadb(payload, len, JSON_DECODE_ANY, &je);
    int rc = 0;
    if (!j)
        return internal_error(o);
    json_t *sc = json_is_object(j) ? json_object_get(j, "statusCode") : NULL;
    if (!sc) {
        /* inferred: 200, application/json, the JSON (a string: its value) */
        o->status = 200;
        if (json_is_string(j)) {
            o->body_len = json_string_length(j);
            o->body = malloc(o->body_len + 1);
            if (o->body) {
                memcpy(o->body, json_string_value(j), o->body_len);
                o->body[o->body_len] = 0;
            }
        } else {
            o->body = malloc(len + 1);
            if (o->body) {
                memcpy(o->body, payload, len);
                o->body[len] = 0;
                o->body_len = len;
            }
        }
        rc = !o->body || apigw_response_add(o, "content-type", "application/json") ? -1 : 0;
        json_decref(j);
        return rc;
    }
    json_t *hd = json_object_get(j, "headers"), *ck = json_object_get(j, "cookies");
    json_t *body = json_object_get(j, "body"), *b64 = json_object_get(j, "isBase64Encoded");
    if (!json_is_integer(sc) || json_integer_value(sc) < 100 || json_integer_value(sc) > 599 ||
        (hd && !json_is_object(hd) && !json_is_null(hd)) ||
        (ck && !json_is_array(ck) && !json_is_null(ck)) ||
        (body && !json_is_string(body) && !json_is_null(body)) ||
        (b64 && !json_is_boolean(b64))) {
        json_decref(j);
        return internal_error(o);
    }
    o->status = (int)json_integer_value(sc);
    const char *k;
    json_t *v;
    int have_ct = 0;
    if (json_is_object(hd))
        json_object_foreach(hd, k, v) {
            char num[64];
            const char *s = json_string_value(v);
            if (!s && json_is_number(v)) {
                snprintf(num, sizeof num, "%g", json_number_value(v));
                s = num;
            } else if (!s && json_is_boolean(v)) {
                s = json_is_true(v) ? "true" : "false";
            }
            if (!s)
                continue;
            have_ct |= !strcasecmp(k, "content-type");
            if (apigw_response_add(o, k, s))
                rc = -1;
        }
    size_t i;
    if (json_is_array(ck))
        json_array_foreach(ck, i, v)
            if (json_is_string(v) && apigw_response_add(o, "set-cookie", json_string_value(v)))
                rc = -1;
    if (!have_ct && apigw_response_add(o, "content-type", "application/json"))
        rc = -1;
    if (json_is_string(body)) {
        if (json_is_true(b64)) {
            o->body = (char *)apigw_b64_decode(json_string_value(body), json_string_length(body),
                                               &o->body_len);
            if (!o->body) {
                json_decref(j);
                return internal_error(o);
            }
        } else {
            o->body_len = json_string_length(body);
            o->body = malloc(o->body_len + 1);
            if (o->body) {
                memcpy(o->body, json_string_value(body), o->body_len);
                o->body[o->body_len] = 0;
            } else {
                rc = -1;
            }
        }
    }
    json_decref(j);
    return rc;
}

void apigw_response_fini(apigw_response *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i][0]);
        free(r->headers[i][1]);
    }
    r->n_headers = 0;
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}
