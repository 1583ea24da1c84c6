/*
 * AttributeValues (spec §3): DynamoDB JSON to and from ddb_val trees, with
 * the service's checks and texts (SerializationException for JSON of the
 * wrong shape, ValidationException for empty or duplicated sets, bad
 * numbers, NULL false, nesting past 32 levels), item sizes as the service
 * counts them, equality and order.  Numbers are held as their canonical
 * text (ddb_num.c), binary values as raw bytes (base64 on the wire).
 * Pure functions on the caller's values: thread safe.
 */
#include "ddb_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apigw.h"

static const char *const TYPE_NAMES[] = {"", "S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS",
                                          "L", "M"};

const char *ddb_type_name(ddb_type t)
{
    return t <= DDB_M ? TYPE_NAMES[t] : "";
}

ddb_type ddb_type_of(const char *s, size_t n)
{
    for (int t = DDB_S; t <= DDB_M; t++)
        if (strlen(TYPE_NAMES[t]) == n && !memcmp(TYPE_NAMES[t], s, n))
            return (ddb_type)t;
    return DDB_NONE;
}

void ddb_val_free(ddb_val *v)
{
    if (!v)
        return;
    free(v->s);
    if (v->a)
        for (size_t i = 0; i < v->n; i++)
            ddb_val_free(&v->a[i]);
    free(v->a);
    if (v->m)
        for (size_t i = 0; i < v->n; i++) {
            free(v->m[i].k);
            ddb_val_free(&v->m[i].v);
        }
    free(v->m);
    memset(v, 0, sizeof *v);
}

int ddb_val_str(ddb_val *v, ddb_type t, const char *s, size_t n)
{
    memset(v, 0, sizeof *v);
    v->type = t;
    v->s = malloc(n + 1);
    if (!v->s)
        return -1;
    memcpy(v->s, s, n);
    v->s[n] = 0;
    v->n = n;
    return 0;
}

int ddb_val_num(ddb_val *v, const ddb_dec *d)
{
    char buf[DDB_NUM_TEXT];
    size_t n = ddb_dec_format(d, buf);
    return ddb_val_str(v, DDB_N, buf, n);
}

int ddb_val_copy(const ddb_val *src, ddb_val *dst)
{
    memset(dst, 0, sizeof *dst);
    dst->type = src->type;
    dst->b = src->b;
    if (src->s && ddb_val_str(dst, src->type, src->s, src->n))
        return -1;
    if (src->a) {
        if (!(dst->a = calloc(src->n ? src->n : 1, sizeof *dst->a)))
            return -1;
        dst->cap = src->n;
        for (size_t i = 0; i < src->n; i++, dst->n++)
            if (ddb_val_copy(&src->a[i], &dst->a[i]))
                return ddb_val_free(dst), -1;
    } else if (src->m) {
        if (!(dst->m = calloc(src->n ? src->n : 1, sizeof *dst->m)))
            return -1;
        dst->cap = src->n;
        for (size_t i = 0; i < src->n; i++, dst->n++) {
            ddb_pair *p = &dst->m[i];
            if (!(p->k = malloc(src->m[i].kl + 1)))
                return ddb_val_free(dst), -1;
            memcpy(p->k, src->m[i].k, src->m[i].kl + 1);
            p->kl = src->m[i].kl;
            if (ddb_val_copy(&src->m[i].v, &p->v)) {
                dst->n++;
                return ddb_val_free(dst), -1;
            }
        }
    } else if (src->type == DDB_M || src->type == DDB_L || src->type >= DDB_SS) {
        dst->n = 0;
    }
    return 0;
}

/* ---- maps and lists ---- */

int ddb_map_index(const ddb_val *m, const char *k, size_t kl)
{
    if (!m || m->type != DDB_M)
        return -1;
    for (size_t i = 0; i < m->n; i++)
        if (m->m[i].kl == kl && !memcmp(m->m[i].k, k, kl))
            return (int)i;
    return -1;
}

ddb_val *ddb_map_get(const ddb_val *m, const char *k, size_t kl)
{
    int i = ddb_map_index(m, k, kl);
    return i < 0 ? NULL : &m->m[i].v;
}

int ddb_map_put(ddb_val *m, const char *k, size_t kl, ddb_val *v)
{
    int i = ddb_map_index(m, k, kl);
    if (i >= 0) {
        ddb_val_free(&m->m[i].v);
        m->m[i].v = *v;
        memset(v, 0, sizeof *v);
        return 0;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        ddb_pair *p = realloc(m->m, cap * sizeof *p);
        if (!p)
            return -1;
        m->m = p;
        m->cap = cap;
    }
    ddb_pair *p = &m->m[m->n];
    if (!(p->k = malloc(kl + 1)))
        return -1;
    memcpy(p->k, k, kl);
    p->k[kl] = 0;
    p->kl = kl;
    p->v = *v;
    memset(v, 0, sizeof *v);
    m->n++;
    return 0;
}

void ddb_map_del(ddb_val *m, const char *k, size_t kl)
{
    int i = ddb_map_index(m, k, kl);
    if (i < 0)
        return;
    free(m->m[i].k);
    ddb_val_free(&m->m[i].v);
    memmove(&m->m[i], &m->m[i + 1], (m->n - (size_t)i - 1) * sizeof *m->m);
    m->n--;
}

int ddb_list_push(ddb_val *l, ddb_val *v)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        ddb_val *a = realloc(l->a, cap * sizeof *a);
        if (!a)
            return -1;
        l->a = a;
        l->cap = cap;
    }
    l->a[l->n++] = *v;
    memset(v, 0, sizeof *v);
    return 0;
}

/* ---- order and equality ---- */

void ddb_val_dec(const ddb_val *v, ddb_dec *d)
{
    ddb_err e;
    if (ddb_dec_parse(v->s, v->n, d, &e))
        memset(d, 0, sizeof *d);
}

int ddb_val_cmp(const ddb_val *a, const ddb_val *b)
{
    if (a->type == DDB_N) {
        ddb_dec x, y;
        ddb_val_dec(a, &x);
        ddb_val_dec(b, &y);
        return ddb_dec_cmp(&x, &y);
    }
    size_t n = a->n < b->n ? a->n : b->n;
    int c = n ? memcmp(a->s, b->s, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return (a->n > b->n) - (a->n < b->n);
}

static int cmp_ptr(const void *x, const void *y)
{
    return ddb_val_cmp(*(const ddb_val *const *)x, *(const ddb_val *const *)y);
}

/* Sorted pointers to a set's members (malloc'd), or NULL. */
static const ddb_val **sorted(const ddb_val *set)
{
    const ddb_val **p = malloc((set->n ? set->n : 1) * sizeof *p);
    if (!p)
        return NULL;
    for (size_t i = 0; i < set->n; i++)
        p[i] = &set->a[i];
    qsort(p, set->n, sizeof *p, cmp_ptr);
    return p;
}

int ddb_val_equal(const ddb_val *a, const ddb_val *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case DDB_S:
    case DDB_B:
    case DDB_N:     /* canonical text: equal numbers, equal text */
        return a->n == b->n && !memcmp(a->s, b->s, a->n);
    case DDB_BOOL:
        return a->b == b->b;
    case DDB_NULL:
        return 1;
    case DDB_L:
        if (a->n != b->n)
            return 0;
        for (size_t i = 0; i < a->n; i++)
            if (!ddb_val_equal(&a->a[i], &b->a[i]))
                return 0;
        return 1;
    case DDB_M:
        if (a->n != b->n)
            return 0;
        for (size_t i = 0; i < a->n; i++) {
            const ddb_val *o = ddb_map_get(b, a->m[i].k, a->m[i].kl);
            if (!o || !ddb_val_equal(&a->m[i].v, o))
                return 0;
        }
        return 1;
    case DDB_SS:
    case DDB_NS:
    case DDB_BS: {
        if (a->n != b->n)
            return 0;
        const ddb_val **x = sorted(a), **y = sorted(b);
        int eq = x && y;
        for (size_t i = 0; eq && i < a->n; i++)
            eq = ddb_val_cmp(x[i], y[i]) == 0;
        free(x);
        free(y);
        return eq;
    }
    default:
        return 0;
    }
}

/* ---- sizes ---- */

size_t ddb_val_size(const ddb_val *v)
{
    size_t s = 0;
    ddb_dec d;
    switch (v->type) {
    case DDB_S:
    case DDB_B:
        return v->n;
    case DDB_N:
        ddb_val_dec(v, &d);
        return ddb_dec_size(&d);
    case DDB_BOOL:
    case DDB_NULL:
        return 1;
    case DDB_SS:
    case DDB_BS:
    case DDB_NS:
        for (size_t i = 0; i < v->n; i++)
            s += ddb_val_size(&v->a[i]);
        return s;
    case DDB_L:
        for (size_t i = 0; i < v->n; i++)
            s += 1 + ddb_val_size(&v->a[i]);
        return 3 + s;
    case DDB_M:
        for (size_t i = 0; i < v->n; i++)
            s += 1 + v->m[i].kl + ddb_val_size(&v->m[i].v);
        return 3 + s;
    default:
        return 0;
    }
}

size_t ddb_item_size(const ddb_val *m)
{
    size_t s = 0;
    for (size_t i = 0; m && i < m->n; i++)
        s += m->m[i].kl + ddb_val_size(&m->m[i].v);
    return s;
}

/* ---- JSON in: the shape (SerializationException) ---- */

static int ser(ddb_err *e, const char *msg)
{
    return ddb_fail(e, DDB_ESERIAL, "%s", msg);
}

static int shape_value(json_t *j, ddb_err *e);
static int shape_members(json_t *j, ddb_err *e);

int ddb__shape_string(json_t *j, const char *type, ddb_err *e)
{
    if (json_is_string(j))
        return 0;
    if (json_is_boolean(j))
        return ddb_fail(e, DDB_ESERIAL, "%s cannot be converted to %s",
                        json_is_true(j) ? "TRUE_VALUE" : "FALSE_VALUE", type);
    if (json_is_integer(j))
        return ddb_fail(e, DDB_ESERIAL, "NUMBER_VALUE cannot be converted to %s", type);
    if (json_is_real(j))
        return ddb_fail(e, DDB_ESERIAL, "DECIMAL_VALUE cannot be converted to %s", type);
    if (json_is_array(j))
        return ddb_fail(e, DDB_ESERIAL, "Unrecognized collection type class java.lang.%s", type);
    return ser(e, "Start of structure or map found where not expected");
}

static int shape_blob(json_t *j, ddb_err *e)
{
    if (json_is_boolean(j) || json_is_number(j))
        return ser(e, "only base-64-encoded strings are convertible to bytes");
    if (json_is_array(j))
        return ser(e, "Unrecognized collection type class java.nio.ByteBuffer");
    if (!json_is_string(j))
        return ser(e, "Start of structure or map found where not expected");
    size_t n = json_string_length(j);
    if (n % 4)
        return ddb_fail(e, DDB_ESERIAL,
                        "Base64 encoded length is expected a multiple of 4 bytes but found: %zu", n);
    size_t bl;
    unsigned char *raw = apigw_b64_decode(json_string_value(j), n, &bl);
    char *back = raw ? apigw_b64_encode(raw, bl, NULL) : NULL;
    int ok = back && strlen(back) == n && !memcmp(back, json_string_value(j), n);
    free(raw);
    free(back);
    return ok ? 0 : ser(e, "Invalid last non-pad Base64 character dectected");
}

int ddb__shape_bool(json_t *j, ddb_err *e)
{
    if (json_is_boolean(j))
        return 0;
    if (json_is_integer(j))
        return ser(e, "NUMBER_VALUE cannot be converted to Boolean");
    if (json_is_real(j))
        return ser(e, "DECIMAL_VALUE cannot be converted to Boolean");
    if (json_is_array(j))
        return ser(e, "Unrecognized collection type class java.lang.Boolean");
    if (json_is_object(j))
        return ser(e, "Start of structure or map found where not expected");
    const char *s = json_string_value(j);
    static const char *const ok[] = {"TRUE", "1", "YES", "FALSE", "0", "NO"};
    for (size_t i = 0; i < 6; i++)
        if (!strcasecmp(s, ok[i]))
            return 0;
    return ser(e, "Unexpected token received from parser");
}

/* Value of a Boolean member (true/false or its accepted strings). */
int ddb__bool_of(json_t *j)
{
    if (json_is_boolean(j))
        return json_is_true(j);
    const char *s = json_string_value(j);
    return s && (!strcasecmp(s, "TRUE") || !strcmp(s, "1") || !strcasecmp(s, "YES"));
}

static int shape_list(json_t *j, ddb_err *e)
{
    if (json_is_array(j))
        return 0;
    if (json_is_object(j))
        return ser(e, "Start of structure or map found where not expected");
    return ser(e, "Unexpected field type");
}

static int shape_map(json_t *j, ddb_err *e)
{
    if (json_is_object(j))
        return 0;
    if (json_is_array(j))
        return ser(e, "Unrecognized collection type java.util.Map<java.lang.String, "
                      "com.amazonaws.dynamodb.v20120810.AttributeValue>");
    return ser(e, "Unexpected field type");
}

static int shape_value(json_t *j, ddb_err *e)
{
    if (json_is_array(j))
        return ser(e, "Unrecognized collection type class "
                      "com.amazonaws.dynamodb.v20120810.AttributeValue");
    if (!json_is_object(j))
        return ser(e, "Unexpected value type in payload");
    const char *k;
    json_t *v, *x;
    size_t i;
    json_object_foreach(j, k, v) {
        if (json_is_null(v))
            continue;
        ddb_type t = ddb_type_of(k, strlen(k));
        int rc = 0;
        switch (t) {
        case DDB_S:
        case DDB_N:
            rc = ddb__shape_string(v, "String", e);
            break;
        case DDB_B:
            rc = shape_blob(v, e);
            break;
        case DDB_BOOL:
        case DDB_NULL:
            rc = ddb__shape_bool(v, e);
            break;
        case DDB_SS:
        case DDB_NS:
        case DDB_BS:
        case DDB_L:
            if ((rc = shape_list(v, e)))
                break;
            json_array_foreach(v, i, x) {
                if (json_is_null(x))
                    continue;
                rc = t == DDB_BS ? shape_blob(x, e) : t == DDB_L ? shape_value(x, e)
                                                                 : ddb__shape_string(x, "String", e);
                if (rc)
                    break;
            }
            break;
        case DDB_M:
            rc = shape_members(v, e);
            break;
        default:
            break;  /* unknown members are ignored */
        }
        if (rc)
            return rc;
    }
    return 0;
}

static int shape_members(json_t *j, ddb_err *e)
{
    if (shape_map(j, e))
        return e->code;
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) {
        if (!json_is_null(v) && shape_value(v, e))
            return e->code;
    }
    return 0;
}

/* ---- JSON in: the values (ValidationException) ---- */

static int nomem(ddb_err *e)
{
    return ddb_fail(e, DDB_EINTERNAL, "out of memory");
}

static int val(json_t *j, ddb_val *out, int depth, ddb_err *e);
static int members(json_t *j, ddb_val *out, int depth, ddb_err *e);

/* "[a, b]": a set's members as the service prints them. */
static void list_text(json_t *arr, char *out, size_t cap)
{
    size_t o = 0, i;
    json_t *x;
    o += (size_t)snprintf(out, cap, "[");
    json_array_foreach(arr, i, x) {
        if (o >= cap)
            break;
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? ", " : "",
                              json_string_value(x) ? json_string_value(x) : "null");
    }
    if (o < cap)
        snprintf(out + o, cap - o, "]");
}

static int set_val(json_t *arr, ddb_type t, ddb_val *out, ddb_err *e)
{
    size_t n = json_array_size(arr), i;
    json_t *x;
    if (!n)
        return ddb_fail(e, DDB_EVALIDATION, "%s",
                        t == DDB_SS ? "One or more parameter values were invalid: An string set  "
                                      "may not be empty"
                        : t == DDB_NS ? "One or more parameter values were invalid: An number set  "
                                        "may not be empty"
                                      : "One or more parameter values were invalid: Binary sets "
                                        "should not be empty");
    memset(out, 0, sizeof *out);
    out->type = t;
    if (!(out->a = calloc(n, sizeof *out->a)))
        return nomem(e);
    out->cap = n;
    json_array_foreach(arr, i, x) {
        const char *s = json_string_value(x);
        size_t sl = s ? json_string_length(x) : 0;
        ddb_val *m = &out->a[out->n];
        if (t == DDB_NS) {
            ddb_dec d;
            if (ddb_dec_parse(s ? s : "", sl, &d, e))
                return e->code;
            if (ddb_val_num(m, &d))
                return nomem(e);
        } else if (t == DDB_BS) {
            size_t bl = 0;
            unsigned char *raw = s ? apigw_b64_decode(s, sl, &bl) : NULL;
            int rc = raw ? ddb_val_str(m, DDB_B, (const char *)raw, bl) : -1;
            free(raw);
            if (rc)
                return nomem(e);
        } else if (ddb_val_str(m, DDB_S, s ? s : "", sl)) {
            return nomem(e);
        }
        out->n++;
    }
    const ddb_val **p = sorted(out);
    if (!p)
        return nomem(e);
    int dup = 0;
    for (i = 1; i < n && !dup; i++)
        dup = ddb_val_cmp(p[i - 1], p[i]) == 0;
    free(p);
    if (dup) {
        char txt[600];
        list_text(arr, txt, sizeof txt);
        if (t == DDB_NS)
            return ddb_fail(e, DDB_EVALIDATION, "Input collection contains duplicates");
        return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: Input "
                        "collection %s%s contains duplicates.", txt, t == DDB_BS ? "of type BS" : "");
    }
    return 0;
}

static int val(json_t *j, ddb_val *out, int depth, ddb_err *e)
{
    static const ddb_type order[] = {DDB_S, DDB_B, DDB_N, DDB_BOOL, DDB_NULL, DDB_BS, DDB_NS,
                                     DDB_SS, DDB_L, DDB_M};
    memset(out, 0, sizeof *out);
    if (depth > DDB_MAX_DEPTH)
        return ddb_fail(e, DDB_EVALIDATION, "Nesting Levels have exceeded supported limits");
    int types = 0;
    for (size_t oi = 0; oi < sizeof order / sizeof *order; oi++) {
        ddb_type t = order[oi];
        json_t *v = json_object_get(j, ddb_type_name(t));
        if (!v || json_is_null(v))
            continue;
        ddb_val tmp = {0};
        int rc = 0;
        size_t i;
        json_t *x;
        switch (t) {
        case DDB_S:
            rc = ddb_val_str(&tmp, t, json_string_value(v), json_string_length(v)) ? nomem(e) : 0;
            break;
        case DDB_N: {
            ddb_dec d;
            rc = ddb_dec_parse(json_string_value(v), json_string_length(v), &d, e);
            if (!rc && ddb_val_num(&tmp, &d))
                rc = nomem(e);
            break;
        }
        case DDB_B: {
            size_t bl = 0;
            unsigned char *raw = apigw_b64_decode(json_string_value(v), json_string_length(v), &bl);
            rc = !raw || ddb_val_str(&tmp, t, (const char *)raw, bl) ? nomem(e) : 0;
            free(raw);
            break;
        }
        case DDB_BOOL:
            tmp.type = t;
            tmp.b = ddb__bool_of(v);
            break;
        case DDB_NULL:
            tmp.type = t;
            if (!ddb__bool_of(v))
                rc = ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: "
                              "Null attribute value types must have the value of true");
            break;
        case DDB_SS:
        case DDB_NS:
        case DDB_BS:
            rc = set_val(v, t, &tmp, e);
            break;
        case DDB_L:
            tmp.type = t;
            if (!(tmp.a = calloc(json_array_size(v) ? json_array_size(v) : 1, sizeof *tmp.a))) {
                rc = nomem(e);
                break;
            }
            tmp.cap = json_array_size(v);
            json_array_foreach(v, i, x) {
                if (json_is_null(x))
                    continue;
                if ((rc = val(x, &tmp.a[tmp.n], depth + 1, e)))
                    break;
                tmp.n++;
            }
            break;
        case DDB_M:
            rc = members(v, &tmp, depth + 1, e);
            break;
        default:
            break;
        }
        if (rc) {
            ddb_val_free(&tmp);
            ddb_val_free(out);
            return rc;
        }
        if (!types++)
            *out = tmp;
        else
            ddb_val_free(&tmp);
    }
    if (!types)
        return ddb_fail(e, DDB_EVALIDATION, "Supplied AttributeValue is empty, must contain exactly "
                        "one of the supported datatypes");
    if (types > 1) {
        ddb_val_free(out);
        return ddb_fail(e, DDB_EVALIDATION, "Supplied AttributeValue has more than one datatypes "
                        "set, must contain exactly one of the supported datatypes");
    }
    return 0;
}

static int members(json_t *j, ddb_val *out, int depth, ddb_err *e)
{
    memset(out, 0, sizeof *out);
    out->type = DDB_M;
    size_t n = json_object_size(j);
    if (n && !(out->m = calloc(n, sizeof *out->m)))
        return nomem(e);
    out->cap = n;
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) {
        if (json_is_null(v))
            continue;
        ddb_pair *p = &out->m[out->n];
        size_t kl = strlen(k);
        if (!(p->k = malloc(kl + 1))) {
            ddb_val_free(out);
            return nomem(e);
        }
        memcpy(p->k, k, kl + 1);
        p->kl = kl;
        out->n++;
        if (val(v, &p->v, depth, e)) {
            ddb_val_free(out);
            return e->code;
        }
    }
    return 0;
}

int ddb_val_from_json(json_t *j, ddb_val *out, ddb_err *e)
{
    memset(out, 0, sizeof *out);
    if (shape_value(j, e))
        return e->code;
    return val(j, out, 1, e);
}

int ddb_map_from_json(json_t *j, ddb_val *out, ddb_err *e)
{
    memset(out, 0, sizeof *out);
    if (shape_members(j, e))
        return e->code;
    return members(j, out, 1, e);
}

int ddb_map_parse(const char *json, size_t len, ddb_val *out)
{
    json_error_t je;
    ddb_err e = {0};
    memset(out, 0, sizeof *out);
    json_t *j = json_loadb(json, len, JSON_ALLOW_NUL, &je);
    int rc = j && json_is_object(j) ? members(j, out, 1, &e) : -1;
    json_decref(j);
    return rc ? -1 : 0;
}

/* ---- JSON out ---- */

static void write_b64(jw *w, const char *s, size_t n)
{
    size_t bl;
    char *b = apigw_b64_encode((const unsigned char *)s, n, &bl);
    if (!b) {
        w->err = 1;
        return;
    }
    jw_lit(w, "\"");
    jw_raw(w, b, bl);
    jw_lit(w, "\"");
    free(b);
}

void ddb_val_write(jw *w, const ddb_val *v)
{
    jw_lit(w, "{\"");
    jw_raw(w, ddb_type_name(v->type), strlen(ddb_type_name(v->type)));
    jw_lit(w, "\":");
    switch (v->type) {
    case DDB_S:
        jw_str(w, v->s, v->n);
        break;
    case DDB_N:
        jw_lit(w, "\"");
        jw_raw(w, v->s, v->n);
        jw_lit(w, "\"");
        break;
    case DDB_B:
        write_b64(w, v->s, v->n);
        break;
    case DDB_BOOL:
        if (v->b)
            jw_lit(w, "true");
        else
            jw_lit(w, "false");
        break;
    case DDB_NULL:
        jw_lit(w, "true");
        break;
    case DDB_SS:
    case DDB_NS:
    case DDB_BS:
    case DDB_L:
        jw_lit(w, "[");
        for (size_t i = 0; i < v->n; i++) {
            if (i)
                jw_lit(w, ",");
            const ddb_val *x = &v->a[i];
            if (v->type == DDB_L)
                ddb_val_write(w, x);
            else if (v->type == DDB_BS)
                write_b64(w, x->s, x->n);
            else if (v->type == DDB_NS) {
                jw_lit(w, "\"");
                jw_raw(w, x->s, x->n);
                jw_lit(w, "\"");
            } else
                jw_str(w, x->s, x->n);
        }
        jw_lit(w, "]");
        break;
    case DDB_M:
        ddb_map_write(w, v);
        break;
    default:
        jw_lit(w, "null");
    }
    jw_lit(w, "}");
}

void ddb_map_write(jw *w, const ddb_val *m)
{
    jw_lit(w, "{");
    for (size_t i = 0; m && i < m->n; i++) {
        if (i)
            jw_lit(w, ",");
        jw_str(w, m->m[i].k, m->m[i].kl);
        jw_lit(w, ":");
        ddb_val_write(w, &m->m[i].v);
    }
    jw_lit(w, "}");
}

char *ddb_map_json(const ddb_val *m, size_t *len)
{
    jw w;
    jw_init(&w, DDB_MAX_OUT);
    ddb_map_write(&w, m);
    return jw_finish(&w, len);
}
