/*
 * DynamoDB operations on tables and single items (spec §2.1, §2.2):
 * CreateTable, DescribeTable, DeleteTable, ListTables, DescribeTimeToLive,
 * GetItem, PutItem, DeleteItem, UpdateItem.  Each reads and checks its
 * request in the service's order (shapes, constraints, expressions, then
 * the table and the key), and a write is one store transaction: read the
 * item, evaluate the condition, compute the new item, check its size and
 * index keys, write, commit (ConditionalCheckFailedException rolls back).
 * GetItem without a projection answers with the stored JSON as it is.
 */
#include "ddb_int.h"

#include <stdlib.h>
#include <string.h>

static int nomem(ddb_ctx *cx)
{
    return ddb_fail(&cx->err, DDB_EINTERNAL, "out of memory");
}

/* ---- tables ---- */

static void describe(ddb_ctx *cx, const ddb_table *t, const char *status)
{
    long long items = 0, bytes = 0, ii[DDB_MAX_INDEXES] = {0}, ib[DDB_MAX_INDEXES] = {0};
    ddb_table_counts(cx->conn, t, &items, &bytes, ii, ib);
    ddb_table_describe(&cx->out, t, status, items, bytes, ii, ib);
}

int ddb_op_create_table(ddb_ctx *cx, json_t *req)
{
    ddb_table t;
    const ddb_table *made;
    if (ddb_table_from_json(req, &t, &cx->err))
        return cx->err.code;
    if (ddb_table_create(cx->conn, &t, &made, &cx->err)) {
        ddb_table_fini(&t);
        return cx->err.code;
    }
    jw_lit(&cx->out, "{\"TableDescription\":");
    ddb_table_describe(&cx->out, made, "ACTIVE", 0, 0, NULL, NULL);
    jw_lit(&cx->out, "}");
    return 0;
}

/* TableName of a control-plane request, checked; the table, or NULL with
 * ResourceNotFoundException naming it. */
static const ddb_table *named_table(ddb_ctx *cx, json_t *req)
{
    const char *name = NULL;
    size_t n = 0;
    ddb_vlist v = {0};
    if (ddb_rq_str(&cx->err, req, "TableName", &name, &n) < 0)
        return NULL;
    ddb_vl_name(&v, name, n, "tableName", 1);
    if (ddb_vl_done(&cx->err, &v))
        return NULL;
    const ddb_table *t = ddb_table_get(cx->conn, name, n);
    if (!t)
        ddb_fail(&cx->err, DDB_ENOTFOUND, "Requested resource not found: Table: %.*s not found",
                 (int)n, name);
    return t;
}

int ddb_op_describe_table(ddb_ctx *cx, json_t *req)
{
    const ddb_table *t = named_table(cx, req);
    if (!t)
        return cx->err.code;
    jw_lit(&cx->out, "{\"Table\":");
    describe(cx, t, "ACTIVE");
    jw_lit(&cx->out, "}");
    return 0;
}

int ddb_op_describe_ttl(ddb_ctx *cx, json_t *req)
{
    const ddb_table *t = named_table(cx, req);
    if (!t)
        return cx->err.code;
    jw_lit(&cx->out, "{\"TimeToLiveDescription\":{\"TimeToLiveStatus\":\"DISABLED\"}}");
    return 0;
}

int ddb_op_delete_table(ddb_ctx *cx, json_t *req)
{
    const ddb_table *t = named_table(cx, req);
    if (!t)
        return cx->err.code;
    if (t->deletion_protection)
        return ddb_fail(&cx->err, DDB_EVALIDATION, "Resource cannot be deleted as it is currently "
                        "protected against deletion. Disable deletion protection first.");
    jw_lit(&cx->out, "{\"TableDescription\":");
    describe(cx, t, "DELETING");
    jw_lit(&cx->out, "}");
    if (ddb_table_drop(cx->conn, t, &cx->err)) {
        cx->out.len = 0;
        return cx->err.code;
    }
    return 0;
}

int ddb_op_list_tables(ddb_ctx *cx, json_t *req)
{
    const char *after = NULL;
    size_t al = 0;
    long long limit = 100;
    int has_limit;
    ddb_vlist v = {0};
    if (ddb_rq_str(&cx->err, req, "ExclusiveStartTableName", &after, &al) < 0 ||
        (has_limit = ddb_rq_int(&cx->err, req, "Limit", "Integer", &limit)) < 0)
        return cx->err.code;
    ddb_vl_name(&v, after, al, "exclusiveStartTableName", 0);
    ddb_vl_range(&v, has_limit, limit, "limit", 1, 100);
    if (ddb_vl_done(&cx->err, &v))
        return cx->err.code;
    char start[DDB_MAX_NAME + 1] = "";
    if (after)
        memcpy(start, after, al);
    const char **names;
    size_t n;
    int more;
    if (ddb_table_names(cx->conn, after ? start : NULL, (size_t)limit, &names, &n, &more))
        return nomem(cx);
    jw_lit(&cx->out, "{\"TableNames\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            jw_lit(&cx->out, ",");
        jw_str(&cx->out, names[i], strlen(names[i]));
    }
    jw_lit(&cx->out, "]");
    if (more && n) {
        jw_lit(&cx->out, ",\"LastEvaluatedTableName\":");
        jw_str(&cx->out, names[n - 1], strlen(names[n - 1]));
    }
    jw_lit(&cx->out, "}");
    free(names);
    return 0;
}

/* ---- single items ---- */

static const char *const RV_ALL[] = {"ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW",
                                     NULL};
static const char *const RV_FAIL[] = {"ALL_OLD", "NONE", NULL};
static const char *const RICM[] = {"SIZE", "NONE", NULL};

static ddb_rv rv_of(const char *s)
{
    if (!s)
        return DDB_RV_NONE;
    if (!strcmp(s, "ALL_OLD"))
        return DDB_RV_ALL_OLD;
    if (!strcmp(s, "ALL_NEW"))
        return DDB_RV_ALL_NEW;
    if (!strcmp(s, "UPDATED_OLD"))
        return DDB_RV_UPDATED_OLD;
    if (!strcmp(s, "UPDATED_NEW"))
        return DDB_RV_UPDATED_NEW;
    return DDB_RV_NONE;
}

/* Reads the request: members, constraints, expressions (kinds), then the
 * table and the key.  put: the map member is Item (else Key). */
int ddb__single_read(ddb_ctx *cx, json_t *req, ddb_single *s, int put, unsigned kinds,
                     const char *const *legacy, int ret_values)
{
    ddb_err *e = &cx->err;
    ddb_vlist v = {0};
    const char *ret = NULL, *retf = NULL, *ricm = NULL;
    memset(s, 0, sizeof *s);
    const char *member = put ? "Item" : "Key";
    if (ddb_rq_str(e, req, "TableName", &s->table, &s->tl) < 0 ||
        ddb_rq_map(e, req, member, &s->key) < 0 ||
        ddb_rq_str(e, req, "ReturnValues", &ret, NULL) < 0 ||
        ddb_rq_str(e, req, "ReturnValuesOnConditionCheckFailure", &retf, NULL) < 0 ||
        ddb_rq_str(e, req, "ReturnItemCollectionMetrics", &ricm, NULL) < 0 ||
        ddb_rq_bool(e, req, "ConsistentRead", &s->consistent) < 0 ||
        ddb_rq_rcc(e, req, &s->rcc, &v) < 0)
        return e->code;
    ddb_vl_name(&v, s->table, s->tl, "tableName", 1);
    if (s->key.type != DDB_M)
        ddb_vl_add(&v, NULL, put ? "item" : "key", "Member must not be null");
    if (ret_values) {
        ddb_vl_enum(&v, ret, "returnValues", RV_ALL);
        ddb_vl_enum(&v, ricm, "returnItemCollectionMetrics", RICM);
        ddb_vl_enum(&v, retf, "returnValuesOnConditionCheckFailure", RV_FAIL);
    }
    if (ddb_vl_done(e, &v))
        return e->code;
    s->ret = rv_of(ret);
    s->ret_on_fail = retf && !strcmp(retf, "ALL_OLD");
    if (ret_values == 1 && ret && s->ret != DDB_RV_NONE && s->ret != DDB_RV_ALL_OLD)
        return ddb_fail(e, DDB_EVALIDATION, "ReturnValues can only be ALL_OLD or NONE");
    if (put && ddb_item_size(&s->key) > DDB_MAX_ITEM)
        return ddb_fail(e, DDB_EVALIDATION, "Item size has exceeded the maximum allowed size");
    ddb_xspec spec = {kinds, legacy};
    if (ddb_exprs_read(e, &cx->ar, req, &spec, &s->x))
        return e->code;
    if (ddb_need_table(cx, s->table, s->tl, &s->t))
        return e->code;
    if (ddb_key_from(e, s->t, &s->key, put, &s->k))
        return e->code;
    return 0;
}

void ddb__single_fini(ddb_single *s)
{
    ddb_val_free(&s->key);
    ddb_exprs_fini(&s->x);
}

/* The item at s->k in the open transaction (or not), parsed into *old
 * (type M) when present: 1, 0 absent, -1 error. */
int ddb__single_old(ddb_ctx *cx, const ddb_single *s, ddb_val *old)
{
    char *json = NULL;
    size_t len = 0;
    memset(old, 0, sizeof *old);
    int rc = ddb_item_read(cx->conn, s->t, &s->k, &json, &len, &cx->err);
    if (rc == 1 && ddb_map_parse(json, len, old)) {
        ddb_fail(&cx->err, DDB_EINTERNAL, "store: an item does not read");
        rc = -1;
    }
    free(json);
    return rc;
}

/* ConditionalCheckFailedException, with the item when asked. */
static int condition_failed(ddb_ctx *cx, const ddb_single *s, const ddb_val *old, int have_old)
{
    ddb_fail(&cx->err, DDB_ECONDITION, "The conditional request failed");
    if (s->ret_on_fail && have_old) {
        jw w;
        jw_init(&w, DDB_MAX_OUT);
        jw_lit(&w, ",\"Item\":");
        ddb_map_write(&w, old);
        cx->err.extra = jw_finish(&w, NULL);
    }
    return cx->err.code;
}

/* Writes {"Attributes":...} (or {}) and the capacity. */
static void answer(ddb_ctx *cx, const ddb_single *s, const ddb_val *attrs, double units)
{
    jw_lit(&cx->out, "{");
    int first = 1;
    if (attrs && attrs->n) {
        jw_lit(&cx->out, "\"Attributes\":");
        ddb_map_write(&cx->out, attrs);
        first = 0;
    }
    if (s->rcc != DDB_RCC_NONE) {
        if (!first)
            jw_lit(&cx->out, ",");
        ddb_write_capacity(&cx->out, s->t, s->rcc, units);
    }
    jw_lit(&cx->out, "}");
}

int ddb_op_get_item(ddb_ctx *cx, json_t *req)
{
    static const char *const LEGACY[] = {"AttributesToGet", NULL};
    ddb_single s;
    char *json = NULL;
    size_t len = 0;
    int rc = ddb__single_read(cx, req, &s, 0, 1u << DDB_X_PROJECTION, LEGACY, 0);
    if (rc)
        goto out;
    int found = ddb_item_read(cx->conn, s.t, &s.k, &json, &len, &cx->err);
    if (found < 0) {
        rc = cx->err.code;
        goto out;
    }
    jw_lit(&cx->out, "{");
    size_t size = 0;
    if (found && !(s.x.have >> DDB_X_PROJECTION & 1)) {
        ddb_val it;
        if (s.rcc != DDB_RCC_NONE && !ddb_map_parse(json, len, &it)) {
            size = ddb_item_size(&it);
            ddb_val_free(&it);
        }
        jw_lit(&cx->out, "\"Item\":");
        jw_raw(&cx->out, json, len);
    } else if (found) {
        ddb_val it, proj;
        if (ddb_map_parse(json, len, &it) || ddb_project(&it, &s.x.proj, &proj)) {
            ddb_val_free(&it);
            rc = nomem(cx);
            goto out;
        }
        size = ddb_item_size(&it);
        jw_lit(&cx->out, "\"Item\":");
        ddb_map_write(&cx->out, &proj);
        ddb_val_free(&it);
        ddb_val_free(&proj);
    }
    if (s.rcc != DDB_RCC_NONE) {
        if (found)
            jw_lit(&cx->out, ",");
        ddb_write_capacity(&cx->out, s.t, s.rcc, ddb_units(size, 1, s.consistent));
    }
    jw_lit(&cx->out, "}");
out:
    free(json);
    ddb__single_fini(&s);
    return rc;
}

/* Writes the new state of s's item inside the open transaction: put (the
 * request's item), delete, or update (applied to old, or to the key when
 * there was none; *item is the new item, touched the names the update
 * expression named). */
int ddb__single_apply(ddb_ctx *cx, ddb_single *s, ddb_wkind kind, const ddb_val *old, int have,
                      ddb_val *item, const char ***touched, size_t *n_touched)
{
    ddb_err *e = &cx->err;
    const ddb_val *o = have ? old : NULL;
    char *json = NULL;
    size_t len = 0;
    int rc = 0;
    memset(item, 0, sizeof *item);
    switch (kind) {
    case DDB_W_CHECK:
        return 0;
    case DDB_W_DELETE:
        return have ? ddb_item_delete(cx->conn, s->t, &s->k, old, e) : 0;
    case DDB_W_PUT:
        if (!(json = ddb_map_json(&s->key, &len)))
            return nomem(cx);
        rc = ddb_item_write(cx->conn, s->t, &s->k, &s->key, json, len, o, e);
        free(json);
        return rc;
    case DDB_W_UPDATE:
        if (have ? ddb_val_copy(old, item) : ddb_val_copy(&s->key, item))
            return nomem(cx);
        if ((rc = ddb_apply_update(&s->x.update, o, item, &cx->ar, touched, n_touched, e)))
            return rc;
        if (ddb_item_size(item) > DDB_MAX_ITEM)
            return ddb_fail(e, DDB_EVALIDATION, "Item size to update has exceeded the maximum "
                            "allowed size");
        if ((rc = ddb_check_index_keys(e, s->t, item)))
            return rc;
        if (!(json = ddb_map_json(item, &len)))
            return nomem(cx);
        rc = ddb_item_write(cx->conn, s->t, &s->k, item, json, len, o, e);
        free(json);
        return rc;
    }
    return 0;
}

int ddb__key_update_check(ddb_ctx *cx, const ddb_single *s)
{
    for (size_t i = 0; i < s->x.update.n; i++) {
        const ddb_pel *top = &s->x.update.a[i].path.e[0];
        if (ddb_is_key(s->t, NULL, top->name, top->nl))
            return ddb_fail(&cx->err, DDB_EVALIDATION, "One or more parameter values were "
                            "invalid: Cannot update attribute %s. This attribute is part of the key",
                            top->name);
    }
    return 0;
}

/* One conditional single-item write in its own savepoint: read the old item
 * (when need_old), check the condition, apply.  *have says whether there was
 * one.  0 or the error code. */
static int single_write(ddb_ctx *cx, ddb_single *s, ddb_wkind kind, int need_old, ddb_val *old,
                        int *have, ddb_val *item, const char ***touched, size_t *n_touched)
{
    int rc;
    *have = 0;
    if (ddb_wbegin(cx->conn, &cx->err))
        return cx->err.code;
    *have = need_old ? ddb__single_old(cx, s, old) : 0;
    if (*have < 0) {
        *have = 0;
        rc = cx->err.code;
    } else if (s->x.cond && !ddb_eval(s->x.cond, *have ? old : NULL)) {
        rc = condition_failed(cx, s, old, *have);
    } else {
        rc = ddb__single_apply(cx, s, kind, old, *have, item, touched, n_touched);
    }
    if (ddb_wend(cx->conn, !rc, &cx->err) && !rc)
        rc = cx->err.code;
    return rc;
}

int ddb_op_put_item(ddb_ctx *cx, json_t *req)
{
    static const char *const LEGACY[] = {"Expected", "ConditionalOperator", NULL};
    ddb_single s;
    ddb_val old = {0}, item = {0};
    int rc = ddb__single_read(cx, req, &s, 1, 1u << DDB_X_CONDITION, LEGACY, 1);
    if (rc || (rc = ddb_check_index_keys(&cx->err, s.t, &s.key)))
        goto out;
    int need_old = s.x.cond || s.ret == DDB_RV_ALL_OLD || ddb_table_needs_old(s.t) ||
                   s.rcc != DDB_RCC_NONE;
    int have;
    rc = single_write(cx, &s, DDB_W_PUT, need_old, &old, &have, &item, NULL, NULL);
    if (!rc) {
        size_t size = ddb_item_size(&s.key), os = have ? ddb_item_size(&old) : 0;
        answer(cx, &s, s.ret == DDB_RV_ALL_OLD && have ? &old : NULL,
               ddb_units(size > os ? size : os, 0, 1));
    }
out:
    ddb_val_free(&old);
    ddb__single_fini(&s);
    return rc;
}

int ddb_op_delete_item(ddb_ctx *cx, json_t *req)
{
    static const char *const LEGACY[] = {"Expected", "ConditionalOperator", NULL};
    ddb_single s;
    ddb_val old = {0}, item = {0};
    int rc = ddb__single_read(cx, req, &s, 0, 1u << DDB_X_CONDITION, LEGACY, 1);
    if (rc)
        goto out;
    int have;
    rc = single_write(cx, &s, DDB_W_DELETE, 1, &old, &have, &item, NULL, NULL);
    if (!rc)
        answer(cx, &s, s.ret == DDB_RV_ALL_OLD && have ? &old : NULL,
               ddb_units(have ? ddb_item_size(&old) : 0, 0, 1));
out:
    ddb_val_free(&old);
    ddb__single_fini(&s);
    return rc;
}

/* The attributes of item named in touched (UPDATED_OLD / UPDATED_NEW). */
static int touched_of(const ddb_val *item, const char **touched, size_t n, ddb_val *out)
{
    memset(out, 0, sizeof *out);
    out->type = DDB_M;
    for (size_t i = 0; item && i < n; i++) {
        const ddb_val *v = ddb_map_get(item, touched[i], strlen(touched[i]));
        ddb_val c;
        if (v && (ddb_val_copy(v, &c) || ddb_map_put(out, touched[i], strlen(touched[i]), &c)))
            return -1;
    }
    return 0;
}

int ddb_op_update_item(ddb_ctx *cx, json_t *req)
{
    static const char *const LEGACY[] = {"Expected", "ConditionalOperator", "AttributeUpdates",
                                         NULL};
    ddb_single s;
    ddb_val old = {0}, item = {0}, ret = {0};
    const char **touched = NULL;
    size_t n_touched = 0;
    int rc = ddb__single_read(cx, req, &s, 0, 1u << DDB_X_CONDITION | 1u << DDB_X_UPDATE, LEGACY,
                              2);
    if (rc || (rc = ddb__key_update_check(cx, &s)))
        goto out;
    int have;
    rc = single_write(cx, &s, DDB_W_UPDATE, 1, &old, &have, &item, &touched, &n_touched);
    if (rc)
        goto out;
    const ddb_val *attrs = NULL;
    switch (s.ret) {
    case DDB_RV_ALL_OLD: attrs = have ? &old : NULL; break;
    case DDB_RV_ALL_NEW: attrs = &item; break;
    case DDB_RV_UPDATED_OLD:
    case DDB_RV_UPDATED_NEW:
        if (touched_of(s.ret == DDB_RV_UPDATED_OLD ? (have ? &old : NULL) : &item, touched,
                       n_touched, &ret)) {
            rc = nomem(cx);
            goto out;
        }
        attrs = &ret;
        break;
    default: break;
    }
    size_t a = ddb_item_size(&item), b = have ? ddb_item_size(&old) : 0;
    answer(cx, &s, attrs, ddb_units(a > b ? a : b, 0, 1));
out:
    ddb_val_free(&old);
    ddb_val_free(&item);
    ddb_val_free(&ret);
    ddb__single_fini(&s);
    return rc;
}
