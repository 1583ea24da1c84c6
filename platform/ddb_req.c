/*
 * A DynamoDB request, decoded: the typed readers of its JSON members with
 * the service's SerializationException texts, the "N validation errors
 * detected" constraint messages, tables and keys checked against their
 * schema (the service's texts for missing, mistyped, empty and oversized
 * keys), the expressions of a request with their placeholder checks in
 * the service's order (spec §4.7), consumed capacity, and the dispatch of
 * one request to its operation (JSON, target, signature form, operation:
 * spec §1, §6.4).  Thread safe: everything is the request's.
 */
#include "ddb_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- typed members ---- */

int ddb_rq_str(ddb_err *e, json_t *o, const char *k, const char **s, size_t *n)
{
    json_t *v = json_object_get(o, k);
    *s = NULL;
    if (n)
        *n = 0;
    if (!v || json_is_null(v))
        return 0;
    if (ddb__shape_string(v, "String", e))
        return -1;
    *s = json_string_value(v);
    if (n)
        *n = json_string_length(v);
    return 1;
}

int ddb_rq_int(ddb_err *e, json_t *o, const char *k, const char *type, long long *out)
{
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v))
        return 0;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 1;
    }
    if (json_is_real(v)) {
        double d = floor(json_real_value(v));
        *out = d > 9e18 ? (long long)9e18 : d < -9e18 ? (long long)-9e18 : (long long)d;
        return 1;
    }
    if (json_is_boolean(v))
        ddb_fail(e, DDB_ESERIAL, "%s cannot be converted to %s",
                 json_is_true(v) ? "TRUE_VALUE" : "FALSE_VALUE", type);
    else if (json_is_string(v))
        ddb_fail(e, DDB_ESERIAL, "STRING_VALUE cannot be converted to %s", type);
    else if (json_is_array(v))
        ddb_fail(e, DDB_ESERIAL, "Unrecognized collection type class java.lang.%s", type);
    else
        ddb_fail(e, DDB_ESERIAL, "Start of structure or map found where not expected");
    return -1;
}

int ddb_rq_bool(ddb_err *e, json_t *o, const char *k, int *out)
{
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v))
        return 0;
    if (ddb__shape_bool(v, e))
        return -1;
    *out = ddb__bool_of(v);
    return 1;
}

int ddb_rq_struct(ddb_err *e, json_t *o, const char *k, const char *cls, json_t **out)
{
    json_t *v = json_object_get(o, k);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_object(v)) {
        *out = v;
        return 1;
    }
    if (json_is_array(v))
        ddb_fail(e, DDB_ESERIAL, "Unrecognized collection type class "
                 "com.amazonaws.dynamodb.v20120810.%s", cls);
    else
        ddb_fail(e, DDB_ESERIAL, "Unexpected field type");
    return -1;
}

int ddb_rq_list(ddb_err *e, json_t *o, const char *k, json_t **out)
{
    json_t *v = json_object_get(o, k);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_array(v)) {
        *out = v;
        return 1;
    }
    ddb_fail(e, DDB_ESERIAL, "%s", json_is_object(v) ? "Start of structure or map found where "
                                                      "not expected" : "Unexpected field type");
    return -1;
}

int ddb_rq_elem(ddb_err *e, json_t *x, const char *cls)
{
    if (json_is_object(x))
        return 0;
    if (json_is_array(x))
        ddb_fail(e, DDB_ESERIAL, "Unrecognized collection type class "
                 "com.amazonaws.dynamodb.v20120810.%s", cls);
    else
        ddb_fail(e, DDB_ESERIAL, "Unexpected value type in payload");
    return -1;
}

int ddb_rq_strings(ddb_err *e, json_t *o, const char *k, json_t **out)
{
    int rc = ddb_rq_list(e, o, k, out);
    size_t i;
    json_t *x;
    if (rc <= 0)
        return rc;
    json_array_foreach(*out, i, x) {
        if (!json_is_null(x) && ddb__shape_string(x, "String", e))
            return -1;
    }
    return 1;
}

int ddb_rq_map(ddb_err *e, json_t *o, const char *k, ddb_val *out)
{
    json_t *v = json_object_get(o, k);
    memset(out, 0, sizeof *out);
    if (!v || json_is_null(v))
        return 0;
    return ddb_map_from_json(v, out, e) ? -1 : 1;
}

int ddb_rq_names(ddb_err *e, json_t *o, const char *k, ddb_val *out)
{
    json_t *v = json_object_get(o, k), *x;
    const char *key;
    memset(out, 0, sizeof *out);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v)) {
        ddb_fail(e, DDB_ESERIAL, "%s", json_is_array(v) ? "Unrecognized collection type "
                 "java.util.Map<java.lang.String, java.lang.String>" : "Unexpected field type");
        return -1;
    }
    out->type = DDB_M;
    json_object_foreach(v, key, x) {
        if (json_is_null(x))
            continue;
        ddb_val s;
        if (ddb__shape_string(x, "String", e))
            return ddb_val_free(out), -1;
        if (ddb_val_str(&s, DDB_S, json_string_value(x), json_string_length(x)) ||
            ddb_map_put(out, key, strlen(key), &s)) {
            ddb_val_free(&s);
            ddb_val_free(out);
            ddb_fail(e, DDB_EINTERNAL, "out of memory");
            return -1;
        }
    }
    return 1;
}

/* ---- constraint messages ---- */

void ddb_vl_add(ddb_vlist *v, const char *val, const char *where, const char *what)
{
    if (v->n >= 10)
        return;
    size_t o = strlen(v->text);
    if (o >= sizeof v->text - 1)
        return;
    if (val)
        snprintf(v->text + o, sizeof v->text - o, "%sValue '%.200s' at '%s' failed to satisfy "
                 "constraint: %s", v->n ? "; " : "", val, where, what);
    else
        snprintf(v->text + o, sizeof v->text - o, "%sValue null at '%s' failed to satisfy "
                 "constraint: %s", v->n ? "; " : "", where, what);
    v->n++;
}

int ddb_vl_done(ddb_err *e, const ddb_vlist *v)
{
    if (!v->n)
        return 0;
    return ddb_fail(e, DDB_EVALIDATION, "%d validation error%s detected: %s", v->n,
                    v->n > 1 ? "s" : "", v->text);
}

void ddb_vl_name(ddb_vlist *v, const char *name, size_t n, const char *where, int required)
{
    if (!name) {
        if (required)
            ddb_vl_add(v, NULL, where, "Member must not be null");
        return;
    }
    char shown[260];
    snprintf(shown, sizeof shown, "%.*s", (int)(n < 255 ? n : 255), name);
    int ok = n > 0;
    for (size_t i = 0; i < n && ok; i++) {
        char c = name[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '.' || c == '-';
    }
    if (!ok)
        ddb_vl_add(v, shown, where, "Member must satisfy regular expression pattern: "
                   "[a-zA-Z0-9_.-]+");
    if (n < 3)
        ddb_vl_add(v, shown, where, "Member must have length greater than or equal to 3");
    if (n > 255)
        ddb_vl_add(v, shown, where, "Member must have length less than or equal to 255");
}

void ddb_vl_enum(ddb_vlist *v, const char *val, const char *where, const char *const *vals)
{
    if (!val)
        return;
    char set[300];
    size_t o = 0;
    for (size_t i = 0; vals[i]; i++) {
        if (!strcmp(val, vals[i]))
            return;
        o += (size_t)snprintf(set + o, sizeof set - o, "%s%s", i ? ", " : "", vals[i]);
        if (o >= sizeof set)
            break;
    }
    char what[340];
    snprintf(what, sizeof what, "Member must satisfy enum value set: [%s]", set);
    ddb_vl_add(v, val, where, what);
}

void ddb_vl_range(ddb_vlist *v, int present, long long val, const char *where, long long lo,
                  long long hi)
{
    char shown[32], what[96];
    if (!present)
        return;
    snprintf(shown, sizeof shown, "%lld", val);
    if (val < lo) {
        snprintf(what, sizeof what, "Member must have value greater than or equal to %lld", lo);
        ddb_vl_add(v, shown, where, what);
    } else if (val > hi) {
        snprintf(what, sizeof what, "Member must have value less than or equal to %lld", hi);
        ddb_vl_add(v, shown, where, what);
    }
}

/* ---- tables and keys ---- */

int ddb_need_table(ddb_ctx *cx, const char *name, size_t n, const ddb_table **t)
{
    *t = ddb_table_get(cx->conn, name, n);
    if (!*t)
        return ddb_fail(&cx->err, DDB_ENOTFOUND, "Requested resource not found");
    return 0;
}

int ddb_rq_table(ddb_ctx *cx, json_t *o, const char *member, const ddb_table **t)
{
    const char *name = NULL;
    size_t n = 0;
    ddb_vlist v = {0};
    if (ddb_rq_str(&cx->err, o, member, &name, &n) < 0)
        return cx->err.code;
    ddb_vl_name(&v, name, n, "tableName", 1);
    if (ddb_vl_done(&cx->err, &v))
        return cx->err.code;
    return ddb_need_table(cx, name, n, t);
}

void ddb_key_hash(const unsigned char *pk, size_t n, unsigned char h[8])
{
    uint64_t x = 0xcbf29ce484222325ULL;    /* FNV-1a, then a 64-bit finaliser */
    for (size_t i = 0; i < n; i++) {
        x ^= pk[i];
        x *= 0x100000001b3ULL;
    }
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    for (int i = 7; i >= 0; i--, x >>= 8)
        h[i] = (unsigned char)x;
}

size_t ddb_key_bytes(const ddb_val *v, unsigned char *out, size_t cap)
{
    if (v->type == DDB_N) {
        ddb_dec d;
        ddb_val_dec(v, &d);
        return ddb_dec_key(&d, out);
    }
    size_t n = v->n < cap ? v->n : cap;
    memcpy(out, v->s, n);
    return n;
}

/* One key attribute of m against its schema element. */
static int key_attr(ddb_err *e, const ddb_key *k, const ddb_val *m, int item, int range,
                    unsigned char *out, size_t *len)
{
    const ddb_val *v = ddb_map_get(m, k->name, strlen(k->name));
    if (!v)
        return item ? ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: "
                               "Missing the key %s in the item", k->name)
                    : ddb_fail(e, DDB_EVALIDATION, "The provided key element does not match the "
                               "schema");
    if (v->type != k->type)
        return item ? ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: "
                               "Type mismatch for key %s expected: %s actual: %s", k->name,
                               ddb_type_name(k->type), ddb_type_name(v->type))
                    : ddb_fail(e, DDB_EVALIDATION, "The provided key element does not match the "
                               "schema");
    if (!v->n && v->type != DDB_N)
        return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values are not valid. The "
                        "AttributeValue for a key attribute cannot contain an empty %s value. "
                        "Key: %s", v->type == DDB_S ? "string" : "binary", k->name);
    if (!range && v->n > DDB_MAX_HASH_KEY)
        return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: Size of "
                        "hashkey has exceeded the maximum size limit of2048 bytes");
    if (range && v->n > DDB_MAX_RANGE_KEY)
        return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: Aggregated "
                        "size of all range keys has exceeded the size limit of 1024 bytes");
    *len = ddb_key_bytes(v, out, range ? DDB_MAX_RANGE_KEY + 8 : DDB_MAX_HASH_KEY + 8);
    return 0;
}

int ddb_key_from(ddb_err *e, const ddb_table *t, const ddb_val *m, int item, ddb_keyenc *k)
{
    size_t want = t->range.name[0] ? 2 : 1;
    if (!item && m->n != want)
        return ddb_fail(e, DDB_EVALIDATION, "The provided key element does not match the schema");
    if (key_attr(e, &t->hash, m, item, 0, k->pk, &k->pkl))
        return e->code;
    k->skl = 0;
    if (want == 2 && key_attr(e, &t->range, m, item, 1, k->sk, &k->skl))
        return e->code;
    ddb_key_hash(k->pk, k->pkl, k->h);
    return 0;
}

int ddb_check_index_keys(ddb_err *e, const ddb_table *t, const ddb_val *item)
{
    for (size_t i = 0; i < t->n_indexes; i++) {
        const ddb_index *ix = &t->idx[i];
        const ddb_key *ks[2] = {&ix->hash, &ix->range};
        for (int j = 0; j < 2; j++) {
            const ddb_key *k = ks[j];
            const ddb_val *v = k->name[0] ? ddb_map_get(item, k->name, strlen(k->name)) : NULL;
            if (!v)
                continue;
            if (v->type != k->type)
                return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: "
                                "Type mismatch for Index Key %s Expected: %s Actual: %s "
                                "IndexName: %s", k->name, ddb_type_name(k->type),
                                ddb_type_name(v->type), ix->name);
            if (!v->n && v->type != DDB_N)
                return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values are not valid. "
                                "A value specified for a secondary index key is not supported. The "
                                "AttributeValue for a key attribute cannot contain an empty %s "
                                "value. IndexName: %s, IndexKey: %s",
                                v->type == DDB_S ? "string" : "binary", ix->name, k->name);
        }
    }
    return 0;
}

int ddb_key_of(const ddb_table *t, const ddb_index *ix, const ddb_val *item, ddb_val *out)
{
    const ddb_key *ks[4] = {&t->hash, &t->range, ix ? &ix->hash : NULL, ix ? &ix->range : NULL};
    memset(out, 0, sizeof *out);
    out->type = DDB_M;
    for (int i = 0; i < 4; i++) {
        if (!ks[i] || !ks[i]->name[0] || ddb_map_get(out, ks[i]->name, strlen(ks[i]->name)))
            continue;
        const ddb_val *v = ddb_map_get(item, ks[i]->name, strlen(ks[i]->name));
        ddb_val c;
        if (v && (ddb_val_copy(v, &c) || ddb_map_put(out, ks[i]->name, strlen(ks[i]->name), &c)))
            return ddb_val_free(out), -1;
    }
    return 0;
}

/* ---- expressions of a request ---- */

static int wrap_value(ddb_err *e, const char *key)
{
    char msg[sizeof e->msg];
    snprintf(msg, sizeof msg, "%s", e->msg);
    return ddb_fail(e, DDB_EVALIDATION, "ExpressionAttributeValues contains invalid value: %s for "
                    "key %s", msg, key);
}

static int placeholder_key(const char *k, char lead)
{
    size_t n = strlen(k);
    if (n < 2 || k[0] != lead)
        return 0;
    for (size_t i = 1; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    return 1;
}

int ddb_exprs_read(ddb_err *e, ddb_arena *ar, json_t *o, const ddb_xspec *spec, ddb_exprs *x)
{
    static const ddb_kind READ_ORDER[] = {DDB_X_UPDATE, DDB_X_CONDITION, DDB_X_KEYCOND,
                                          DDB_X_FILTER, DDB_X_PROJECTION};
    static const ddb_kind VALUE_ORDER[] = {DDB_X_UPDATE, DDB_X_CONDITION, DDB_X_FILTER,
                                           DDB_X_KEYCOND};
    const char *text[DDB_X_UPDATE + 1] = {0};
    size_t len[DDB_X_UPDATE + 1] = {0};
    memset(x, 0, sizeof *x);
    for (int k = 0; k <= DDB_X_UPDATE; k++)
        if ((spec->kinds >> k & 1) && ddb_rq_str(e, o, ddb_kind_name((ddb_kind)k), &text[k],
                                                  &len[k]) > 0)
            x->have |= 1u << k;
    if (e->code)
        return e->code;
    json_t *eav = json_object_get(o, "ExpressionAttributeValues");
    if (eav && json_is_null(eav))
        eav = NULL;
    if (ddb_rq_names(e, o, "ExpressionAttributeNames", &x->names) < 0)
        return e->code;
    if (eav && !json_is_object(eav))
        return ddb_fail(e, DDB_ESERIAL, "%s", json_is_array(eav) ? "Unrecognized collection type "
                        "java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810."
                        "AttributeValue>" : "Unexpected field type");
    /* expressions with the legacy parameters, placeholders without expressions */
    char legacy[200] = "", exprs[200] = "";
    for (size_t i = 0; spec->legacy && spec->legacy[i]; i++) {
        json_t *l = json_object_get(o, spec->legacy[i]);
        if (l && !json_is_null(l))
            snprintf(legacy + strlen(legacy), sizeof legacy - strlen(legacy), "%s%s",
                     legacy[0] ? ", " : "", spec->legacy[i]);
    }
    for (size_t i = 0; i < sizeof READ_ORDER / sizeof *READ_ORDER; i++)
        if (x->have >> READ_ORDER[i] & 1)
            snprintf(exprs + strlen(exprs), sizeof exprs - strlen(exprs), "%s%s",
                     exprs[0] ? ", " : "", ddb_kind_name(READ_ORDER[i]));
    if (legacy[0] && exprs[0])
        return ddb_fail(e, DDB_EVALIDATION, "Can not use both expression and non-expression "
                        "parameters in the same request: Non-expression parameters: {%s} "
                        "Expression parameters: {%s}", legacy, exprs);
    if (legacy[0])
        return ddb_fail(e, DDB_EVALIDATION, "The legacy parameters {%s} are not supported by "
                        "this local endpoint; use expressions", legacy);
    if (x->names.type == DDB_M && !exprs[0])
        return ddb_fail(e, DDB_EVALIDATION, "ExpressionAttributeNames can only be specified when "
                        "using expressions");
    int takes_values = 0, has_values = 0;
    char nulls[200] = "";
    size_t nn = 0;
    for (size_t i = 0; i < sizeof VALUE_ORDER / sizeof *VALUE_ORDER; i++) {
        if (!(spec->kinds >> VALUE_ORDER[i] & 1))
            continue;
        takes_values = 1;
        has_values |= x->have >> VALUE_ORDER[i] & 1;
        snprintf(nulls + strlen(nulls), sizeof nulls - strlen(nulls), "%s%s", nn++ ? " and " : "",
                 ddb_kind_name(VALUE_ORDER[i]));
    }
    if (eav && takes_values && !has_values)
        return ddb_fail(e, DDB_EVALIDATION, "ExpressionAttributeValues can only be specified when "
                        "using expressions: %s %s null", nulls, nn > 1 ? "are" : "is");
    /* the placeholder maps */
    if (x->names.type == DDB_M) {
        if (!x->names.n)
            return ddb_fail(e, DDB_EVALIDATION, "ExpressionAttributeNames must not be empty");
        for (size_t i = 0; i < x->names.n; i++)
            if (!placeholder_key(x->names.m[i].k, '#') || x->names.m[i].kl > DDB_MAX_PLACEHOLDER)
                return ddb_fail(e, DDB_EVALIDATION, "ExpressionAttributeNames contains invalid "
                                "key: Syntax error; key: \"%.300s\"", x->names.m[i].k);
        x->ph.names = &x->names;
    }
    if (eav) {
        const char *k;
        json_t *v;
        if (!json_object_size(eav))
            return ddb_fail(e, DDB_EVALIDATION, "ExpressionAttributeValues must not be empty");
        json_object_foreach(eav, k, v) {
            if (!placeholder_key(k, ':') || strlen(k) > DDB_MAX_PLACEHOLDER)
                return ddb_fail(e, DDB_EVALIDATION, "ExpressionAttributeValues contains invalid "
                                "key: Syntax error; key: \"%.300s\"", k);
        }
        x->values.type = DDB_M;
        json_object_foreach(eav, k, v) {
            ddb_val val;
            if (json_is_null(v))
                continue;
            if (ddb_val_from_json(v, &val, e))
                return e->code == DDB_EVALIDATION ? wrap_value(e, k) : e->code;
            if (ddb_map_put(&x->values, k, strlen(k), &val)) {
                ddb_val_free(&val);
                return ddb_fail(e, DDB_EINTERNAL, "out of memory");
            }
        }
        x->ph.values = &x->values;
    }
    x->ph.names_used = ddb_alloc(ar, x->names.n + 1);
    x->ph.values_used = ddb_alloc(ar, x->values.n + 1);
    if (!x->ph.names_used || !x->ph.values_used)
        return ddb_fail(e, DDB_EINTERNAL, "out of memory");
    /* the expressions, in the service's order */
    for (size_t i = 0; i < sizeof READ_ORDER / sizeof *READ_ORDER; i++) {
        ddb_kind k = READ_ORDER[i];
        int rc = 0;
        if (!(x->have >> k & 1))
            continue;
        if (k == DDB_X_UPDATE)
            rc = ddb_parse_update(ar, &x->ph, text[k], len[k], &x->update, e);
        else if (k == DDB_X_PROJECTION)
            rc = ddb_parse_projection(ar, &x->ph, text[k], len[k], &x->proj, e);
        else
            rc = ddb_parse_condition(ar, &x->ph, k, text[k], len[k],
                                     k == DDB_X_CONDITION ? &x->cond : k == DDB_X_KEYCOND
                                     ? &x->keycond : &x->filter, e);
        if (rc)
            return rc;
    }
    return ddb_ph_unused(&x->ph, e);
}

void ddb_exprs_fini(ddb_exprs *x)
{
    ddb_val_free(&x->names);
    ddb_val_free(&x->values);
}

/* ---- consumed capacity ---- */

int ddb_rq_rcc(ddb_err *e, json_t *o, ddb_rcc *out, ddb_vlist *v)
{
    static const char *const VALS[] = {"INDEXES", "TOTAL", "NONE", NULL};
    const char *s = NULL;
    *out = DDB_RCC_NONE;
    if (ddb_rq_str(e, o, "ReturnConsumedCapacity", &s, NULL) < 0)
        return -1;
    ddb_vl_enum(v, s, "returnConsumedCapacity", VALS);
    if (s && !strcmp(s, "TOTAL"))
        *out = DDB_RCC_TOTAL;
    else if (s && !strcmp(s, "INDEXES"))
        *out = DDB_RCC_INDEXES;
    return 0;
}

double ddb_units(size_t size, int read, int consistent)
{
    double u = read ? ceil((double)(size ? size : 1) / 4096.0) : ceil((double)(size ? size : 1) /
                                                                       1024.0);
    return read && !consistent ? u / 2 : u;
}

static void write_units(jw *w, double u)
{
    char b[48];
    int n = u == floor(u) ? snprintf(b, sizeof b, "%.1f", u) : snprintf(b, sizeof b, "%g", u);
    jw_raw(w, b, (size_t)n);
}

void ddb_write_capacity(jw *w, const ddb_table *t, ddb_rcc rcc, double units)
{
    jw_lit(w, "\"ConsumedCapacity\":");
    ddb_write_capacity_obj(w, t, rcc, units);
}

void ddb_write_capacity_obj(jw *w, const ddb_table *t, ddb_rcc rcc, double units)
{
    jw_lit(w, "{\"TableName\":");
    jw_str(w, t->name, strlen(t->name));
    jw_lit(w, ",\"CapacityUnits\":");
    write_units(w, units);
    if (rcc == DDB_RCC_INDEXES) {
        jw_lit(w, ",\"Table\":{\"CapacityUnits\":");
        write_units(w, units);
        jw_lit(w, "}");
    }
    jw_lit(w, "}");
}

/* ---- dispatch ---- */

static const struct {
    const char *name;
    ddb_op_fn fn;
} OPS[] = {
    {"BatchGetItem", ddb_op_batch_get},
    {"BatchWriteItem", ddb_op_batch_write},
    {"CreateTable", ddb_op_create_table},
    {"DeleteItem", ddb_op_delete_item},
    {"DeleteTable", ddb_op_delete_table},
    {"DescribeTable", ddb_op_describe_table},
    {"DescribeTimeToLive", ddb_op_describe_ttl},
    {"GetItem", ddb_op_get_item},
    {"ListTables", ddb_op_list_tables},
    {"PutItem", ddb_op_put_item},
    {"Query", ddb_op_query},
    {"Scan", ddb_op_scan},
    {"TransactWriteItems", ddb_op_transact_write},
    {"UpdateItem", ddb_op_update_item},
};

/* A parameter of the Authorization header: "Credential=...". */
static int auth_param(const char *a, size_t n, const char *name)
{
    size_t l = strlen(name);
    for (size_t i = 0; i + l < n; i++)
        if ((i == 0 || a[i - 1] == ' ' || a[i - 1] == ',') && !memcmp(a + i, name, l) &&
            a[i + l] == '=' && i + l + 1 < n && a[i + l + 1] != ',' && a[i + l + 1] != ' ')
            return 1;
    return 0;
}

int ddb_dispatch(ddb_ctx *cx, const ddb_http *h)
{
    json_t *req = NULL;
    json_error_t je;
    ddb_op_fn fn = NULL;
    ddb_err *e = &cx->err;
    if (h->blen) {
        req = json_loadb(h->body, h->blen, JSON_ALLOW_NUL, &je);
        if (!req || !json_is_object(req)) {
            ddb_fail(e, DDB_ESERIAL, "%s", "");
            goto out;
        }
    }
    static const char PREFIX[] = "DynamoDB_20120810.";
    if (h->target && h->tlen > sizeof PREFIX - 1 && !memcmp(h->target, PREFIX, sizeof PREFIX - 1))
        for (size_t i = 0; i < sizeof OPS / sizeof *OPS; i++)
            if (strlen(OPS[i].name) == h->tlen - (sizeof PREFIX - 1) &&
                !memcmp(OPS[i].name, h->target + sizeof PREFIX - 1, h->tlen - (sizeof PREFIX - 1)))
                fn = OPS[i].fn;
    if (!fn) {
        ddb_fail(e, DDB_EUNKNOWNOP, "%s", "");
        goto out;
    }
    /* the signature's form (any credentials are accepted: spec §6.4) */
    if (!h->auth || h->alen < 5 || memcmp(h->auth, "AWS4-", 5)) {
        ddb_fail(e, DDB_EAUTH, "Request is missing Authentication Token");
        goto out;
    }
    char msg[600] = "";
    static const char *const PARAMS[] = {"Credential", "Signature", "SignedHeaders"};
    for (size_t i = 0; i < 3; i++)
        if (!auth_param(h->auth, h->alen, PARAMS[i]))
            snprintf(msg + strlen(msg), sizeof msg - strlen(msg), "Authorization header requires "
                     "'%s' parameter. ", PARAMS[i]);
    if (!h->has_date)
        snprintf(msg + strlen(msg), sizeof msg - strlen(msg), "Authorization header requires "
                 "existence of either a 'X-Amz-Date' or a 'Date' header. ");
    if (msg[0]) {
        ddb_fail(e, DDB_ESIGNATURE, "%sAuthorization=%.*s", msg,
                 (int)(h->alen < 400 ? h->alen : 400), h->auth);
        goto out;
    }
    if (!req) {
        ddb_fail(e, DDB_ESERIAL, "%s", "");
        goto out;
    }
    fn(cx, req);
out:
    json_decref(req);
    return e->code ? ddb_status(e->code) : 200;
}
