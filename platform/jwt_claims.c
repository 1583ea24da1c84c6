/*
 * A verified token's claims as the integration receives them (see jwt.h;
 * spec §3.2, §3.5, §7 item 6): every value a string.  HTTP APIs render a
 * value as Go's fmt does with the JSON decoded into interface values
 * (numbers as their text, arrays "[a b]", objects "map[k:v]" with sorted
 * keys, null "<nil>") and list the claims in key order, as the captured
 * events show; REST's Cognito authorizer keeps the token's order, writes
 * exp and iat as Java dates and joins arrays with commas.  Also the
 * token's scopes and the issuer of a Cognito user pool ARN.
 */
#define _GNU_SOURCE
#include "jwt_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonw.h"

#define CLAIM_MAX (1u << 20) /* a rendered claim: a token is at most 10 KB anyway */

/* A JSON number as text: integers in decimal, reals in the fewest digits
 * that read back the same. */
static void put_double(jw *w, double d)
{
    char b[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(b, sizeof b, "%.*g", p, d);
        if (strtod(b, NULL) == d)
            break;
    }
    jw_raw(w, b, strlen(b));
}

static void put_number(jw *w, const json_t *v)
{
    char b[40];
    if (!json_is_integer(v)) {
        put_double(w, json_real_value(v));
        return;
    }
    snprintf(b, sizeof b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    jw_raw(w, b, strlen(b));
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of object o, sorted (malloc'd array of borrowed names; *n). */
static const char **sorted_keys(const json_t *o, size_t *n)
{
    *n = json_object_size(o);
    const char **k = malloc((*n ? *n : 1) * sizeof *k);
    const char *key;
    const json_t *v;
    size_t i = 0;
    if (!k)
        return NULL;
    json_object_foreach((json_t *)o, key, v)
        k[i++] = key;
    qsort(k, *n, sizeof *k, key_cmp);
    return k;
}

/* v as Go's fmt.Sprint renders the decoded value. */
static void put_go(jw *w, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING: jw_raw(w, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER:
    case JSON_REAL: put_number(w, v); break;
    case JSON_TRUE: jw_lit(w, "true"); break;
    case JSON_FALSE: jw_lit(w, "false"); break;
    case JSON_NULL: jw_lit(w, "<nil>"); break;
    case JSON_ARRAY:
        jw_lit(w, "[");
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                jw_lit(w, " ");
            put_go(w, json_array_get(v, i));
        }
        jw_lit(w, "]");
        break;
    case JSON_OBJECT: {
        size_t n;
        const char **k = sorted_keys(v, &n);
        if (!k) {
            w->err = 1;
            break;
        }
        jw_lit(w, "map[");
        for (size_t i = 0; i < n; i++) {
            if (i)
                jw_lit(w, " ");
            jw_raw(w, k[i], strlen(k[i]));
            jw_lit(w, ":");
            put_go(w, json_object_get(v, k[i]));
        }
        jw_lit(w, "]");
        free(k);
        break;
    }
    }
}

/* A Java Date's toString() in UTC: "Tue Jun 18 15:00:04 UTC 2024". */
static void put_date(jw *w, double secs)
{
    static const char days[] = "SunMonTueWedThuFriSat", months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    struct tm tm;
    char b[64];
    time_t t = isfinite(secs) && fabs(secs) <= 1e15 ? (time_t)floor(secs) : 0;
    if (!isfinite(secs) || fabs(secs) > 1e15 || !gmtime_r(&t, &tm)) {
        put_double(w, secs);
        return;
    }
    snprintf(b, sizeof b, "%.3s %.3s %02d %02d:%02d:%02d UTC %d", days + 3 * tm.tm_wday,
             months + 3 * tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             tm.tm_year + 1900);
    jw_raw(w, b, strlen(b));
}

/* v as REST's Cognito authorizer passes it (name: the claim's). */
static void put_cognito(jw *w, const char *name, const json_t *v)
{
    if (json_is_number(v) && (!strcmp(name, "exp") || !strcmp(name, "iat"))) {
        put_date(w, json_number_value(v));
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                jw_lit(w, ",");
            put_cognito(w, "", json_array_get(v, i));
        }
    } else if (json_is_string(v)) {
        jw_raw(w, json_string_value(v), json_string_length(v));
    } else if (json_is_number(v)) {
        put_number(w, v);
    } else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!s)
            w->err = 1;
        else
            jw_raw(w, s, strlen(s));
        free(s);
    }
}

/* Adds name: the rendering of v (by style) to out; -1 on failure. */
static int add_rendered(json_t *out, const char *name, const json_t *v, int cognito)
{
    jw w;
    jw_init(&w, CLAIM_MAX);
    if (cognito)
        put_cognito(&w, name, v);
    else
        put_go(&w, v);
    size_t n;
    char *s = jw_finish(&w, &n);
    json_t *js = s ? json_stringn_nocheck(s, n) : NULL;
    free(s);
    return js ? json_object_set_new(out, name, js) : -1;
}

json_t *jwt_claims_http(const jwt *t)
{
    size_t n;
    const char **k = sorted_keys(t->claims, &n);
    json_t *out = k ? json_object() : NULL;
    for (size_t i = 0; out && i < n; i++)
        if (add_rendered(out, k[i], json_object_get(t->claims, k[i]), 0)) {
            json_decref(out);
            out = NULL;
        }
    free(k);
    return out;
}

json_t *jwt_claims_cognito(const jwt *t)
{
    json_t *out = json_object();
    const char *key;
    const json_t *v;
    json_object_foreach(t->claims, key, v) {
        if (out && add_rendered(out, key, v, 1)) {
            json_decref(out);
            out = NULL;
        }
    }
    return out;
}

static int add_scope(void *arg, const char *s, size_t n)
{
    return json_array_append_new(arg, json_stringn(s, n));
}

json_t *jwt_scopes(const jwt *t)
{
    json_t *a = json_array();
    if (a && jwt__each_scope(t->claims, add_scope, a)) {
        json_decref(a);
        return NULL;
    }
    if (a && !json_array_size(a)) {
        json_decref(a);
        return json_null();
    }
    return a;
}

int jwt_cognito_issuer(const char *arn, char *out, size_t cap)
{
    /* arn:PARTITION:cognito-idp:REGION:ACCOUNT:userpool/POOL */
    char part[32], region[64], account[32], pool[128];
    int end = 0;
    if (!arn || sscanf(arn, "arn:%31[^:]:cognito-idp:%63[^:]:%31[^:]:userpool/%127[^/:]%n", part,
                       region, account, pool, &end) != 4 || arn[end])
        return -1;
    const char *dom = !strcmp(part, "aws-cn") ? "amazonaws.com.cn" : "amazonaws.com";
    int k = snprintf(out, cap, "https://cognito-idp.%s.%s/%s", region, dom, pool);
    return k < 0 || (size_t)k >= cap ? -1 : 0;
}
