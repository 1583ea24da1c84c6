/*
 * Query and Scan (spec §2.3, §5): the key condition checked against the
 * table's or index's key schema and turned into a range of stored keys,
 * ExclusiveStartKey checked and resumed after (it need not exist), pages
 * that stop at Limit items or 1 MB of items read, before the filter and
 * the projection (the item that crosses 1 MB is in the page), a
 * LastEvaluatedKey whenever the page stopped early, Select COUNT, and
 * parallel scans (Segment / TotalSegments split the hash space).  Query
 * order: the sort key's bytes (S, B) or number (N), reversed by
 * ScanIndexForward false; Scan order: the partition key's hash, then key.
 */
#include "ddb_int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static const char *const SELECT[] = {"SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES",
                                     "ALL_PROJECTED_ATTRIBUTES", NULL};

/* What Query and Scan share. */
typedef struct page_req {
    const char *table, *index, *select;
    size_t tl, il;
    long long limit;
    int has_limit, consistent, forward;
    ddb_val esk;
    ddb_rcc rcc;
    ddb_exprs x;
    const ddb_table *t;
    const ddb_index *ix;
} page_req;

static int read_common(ddb_ctx *cx, json_t *req, page_req *q, ddb_vlist *v)
{
    ddb_err *e = &cx->err;
    memset(q, 0, sizeof *q);
    q->forward = 1;
    if (ddb_rq_str(e, req, "TableName", &q->table, &q->tl) < 0 ||
        ddb_rq_str(e, req, "IndexName", &q->index, &q->il) < 0 ||
        ddb_rq_str(e, req, "Select", &q->select, NULL) < 0 ||
        (q->has_limit = ddb_rq_int(e, req, "Limit", "Integer", &q->limit)) < 0 ||
        ddb_rq_bool(e, req, "ConsistentRead", &q->consistent) < 0 ||
        ddb_rq_map(e, req, "ExclusiveStartKey", &q->esk) < 0 || ddb_rq_rcc(e, req, &q->rcc, v) < 0)
        return e->code ? e->code : DDB_EINTERNAL;
    ddb_vl_name(v, q->table, q->tl, "tableName", 1);
    if (q->index)
        ddb_vl_name(v, q->index, q->il, "indexName", 0);
    ddb_vl_enum(v, q->select, "select", SELECT);
    ddb_vl_range(v, q->has_limit, q->limit, "limit", 1, 1LL << 31);
    return 0;
}

/* Select against the projection, then the table and the index. */
static int resolve(ddb_ctx *cx, page_req *q)
{
    ddb_err *e = &cx->err;
    int proj = q->x.have >> DDB_X_PROJECTION & 1;
    if (q->select && !strcmp(q->select, "COUNT") && proj)
        return ddb_fail(e, DDB_EVALIDATION, "Cannot specify the ProjectionExpression when choosing "
                        "to get only the Count");
    if (q->select && !strcmp(q->select, "ALL_ATTRIBUTES") && proj)
        return ddb_fail(e, DDB_EVALIDATION, "Cannot specify the ProjectionExpression when choosing "
                        "to get ALL_ATTRIBUTES");
    if (q->select && !strcmp(q->select, "SPECIFIC_ATTRIBUTES") && !proj)
        return ddb_fail(e, DDB_EVALIDATION, "Must specify the AttributesToGet or "
                        "ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES");
    if (q->select && !strcmp(q->select, "ALL_PROJECTED_ATTRIBUTES") && !q->index)
        return ddb_fail(e, DDB_EVALIDATION, "ALL_PROJECTED_ATTRIBUTES can be used only when "
                        "Querying using an IndexName");
    if (ddb_need_table(cx, q->table, q->tl, &q->t))
        return e->code;
    if (q->index) {
        if (!(q->ix = ddb_table_index(q->t, q->index, q->il)))
            return ddb_fail(e, DDB_EVALIDATION, "The table does not have the specified index: %.*s",
                            (int)q->il, q->index);
        if (!q->ix->local && q->consistent)
            return ddb_fail(e, DDB_EVALIDATION, "Consistent reads are not supported on global "
                            "secondary indexes");
        if (q->select && !strcmp(q->select, "ALL_ATTRIBUTES") && q->ix->proj != DDB_P_ALL &&
            !q->ix->local)
            return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: Select "
                            "type ALL_ATTRIBUTES is not supported for global secondary index %s "
                            "because its projection type is not ALL", q->ix->name);
    }
    return 0;
}

/* The filter may not name the keys of the table or index read. */
static int filter_keys(ddb_ctx *cx, const page_req *q, const ddb_node *f)
{
    if (!f)
        return 0;
    if (f->op == X_PATH) {
        const ddb_pel *top = &f->path.e[0];
        const ddb_key *ks[2] = {q->ix ? &q->ix->hash : &q->t->hash,
                                q->ix ? &q->ix->range : &q->t->range};
        for (int i = 0; i < 2; i++)
            if (ks[i]->name[0] && strlen(ks[i]->name) == top->nl &&
                !memcmp(ks[i]->name, top->name, top->nl))
                return ddb_fail(&cx->err, DDB_EVALIDATION, "Filter Expression can only contain "
                                "non-primary key attributes: Primary key attribute: %s",
                                ks[i]->name);
        return 0;
    }
    for (size_t i = 0; i < f->n; i++)
        if (filter_keys(cx, q, f->a[i]))
            return cx->err.code;
    return 0;
}

/* ---- the key condition ---- */

typedef struct kcond {
    const ddb_pel *attr;
    ddb_op op;              /* X_EQ .. X_GE, X_BETWEEN, X_BEGINS */
    const ddb_val *v[2];
} kcond;

static const char *op_word(const ddb_node *x)
{
    switch (x->op) {
    case X_OR: return "OR";
    case X_NOT: return "NOT";
    case X_IN: return "IN";
    case X_NE: return "<>";
    default: return x->fname ? x->fname : "";
    }
}

static int key_conds(ddb_ctx *cx, const ddb_node *x, kcond *out, size_t *n)
{
    ddb_err *e = &cx->err;
    if (x->op == X_AND)
        return key_conds(cx, x->a[0], out, n) || key_conds(cx, x->a[1], out, n) ? e->code : 0;
    if (x->op == X_OR || x->op == X_NOT || x->op == X_IN || x->op == X_NE || x->op == X_EXISTS ||
        x->op == X_NOT_EXISTS || x->op == X_ATTR_TYPE || x->op == X_CONTAINS)
        return ddb_fail(e, DDB_EVALIDATION, "Invalid operator used in KeyConditionExpression: %s",
                        op_word(x));
    if (x->op == X_SIZE)
        return ddb_fail(e, DDB_EVALIDATION, "KeyConditionExpressions cannot contain nested "
                        "operations");
    if ((x->op == X_BETWEEN || x->op == X_BEGINS) && x->a[0]->op != X_PATH)
        return ddb_fail(e, DDB_EVALIDATION, "Invalid condition in KeyConditionExpression: %s "
                        "operator must have the key attribute as its first operand",
                        x->op == X_BETWEEN ? "BETWEEN" : "begins_with");
    kcond k = {0};
    k.op = x->op;
    size_t path_at = 0;
    int paths = 0;
    for (size_t i = 0; i < x->n; i++) {
        if (x->a[i]->op == X_PATH) {
            if (paths++)
                return ddb_fail(e, DDB_EVALIDATION, "Invalid condition in KeyConditionExpression: "
                                "Multiple attribute names used in one condition");
            if (x->a[i]->path.n > 1)
                return ddb_fail(e, DDB_EVALIDATION, "KeyConditionExpressions cannot have "
                                "conditions on nested attributes");
            k.attr = &x->a[i]->path.e[0];
            path_at = i;
        } else if (x->a[i]->op != X_VALUE) {
            return ddb_fail(e, DDB_EVALIDATION, "KeyConditionExpressions cannot contain nested "
                            "operations");
        }
    }
    if (!paths)
        return ddb_fail(e, DDB_EVALIDATION, "Invalid condition in KeyConditionExpression: No key "
                        "attribute specified");
    for (size_t i = 0, j = 0; i < x->n && j < 2; i++)
        if (i != path_at)
            k.v[j++] = x->a[i]->val;
    if (path_at == 1) {     /* ":v < sk" is "sk > :v" */
        static const ddb_op FLIP[] = {[X_EQ] = X_EQ, [X_LT] = X_GT, [X_LE] = X_GE,
                                      [X_GT] = X_LT, [X_GE] = X_LE};
        k.op = FLIP[k.op];
    }
    for (size_t i = 0; i < *n; i++)
        if (out[i].attr->nl == k.attr->nl && !memcmp(out[i].attr->name, k.attr->name, k.attr->nl))
            return ddb_fail(e, DDB_EVALIDATION, "KeyConditionExpressions must only contain one "
                            "condition per key");
    if (*n == 2)
        return ddb_fail(e, DDB_EVALIDATION, "Conditions can be of length 1 or 2 only");
    out[(*n)++] = k;
    return 0;
}

static const kcond *cond_on(const kcond *c, size_t n, const ddb_key *k)
{
    for (size_t i = 0; k->name[0] && i < n; i++)
        if (strlen(k->name) == c[i].attr->nl && !memcmp(k->name, c[i].attr->name, c[i].attr->nl))
            return &c[i];
    return NULL;
}

/* ---- pages ---- */

typedef struct page {
    sqlite3_stmt *st;
    int count_only, index_proj;
    long long limit;
    double bytes_read;
} page;

/* The attributes index ix projects of item, into out. */
static int index_projection(const ddb_table *t, const ddb_index *ix, const ddb_val *item,
                            ddb_val *out)
{
    memset(out, 0, sizeof *out);
    out->type = DDB_M;
    for (size_t i = 0; i < item->n; i++) {
        const ddb_pair *p = &item->m[i];
        int keep = ddb_is_key(t, NULL, p->k, p->kl) || ddb_is_key(t, ix, p->k, p->kl);
        for (size_t j = 0; !keep && j < ix->n_nonkey; j++)
            keep = !strcmp(ix->nonkey[j], p->k);
        ddb_val c;
        if (keep && (ddb_val_copy(&p->v, &c) || ddb_map_put(out, p->k, p->kl, &c)))
            return -1;
    }
    return 0;
}

/* Steps the statement (columns: size, item) and writes the page. */
static int run_page(ddb_ctx *cx, const page_req *q, page *pg)
{
    jw *w = &cx->out;
    long long scanned = 0, count = 0;
    size_t bytes = 0;
    int stopped = 0, rc, first = 1;
    char *last = NULL;
    size_t last_len = 0;
    int need_parse = q->x.filter || (q->x.have >> DDB_X_PROJECTION & 1) || pg->index_proj;
    if (!pg->count_only)
        jw_lit(w, "{\"Items\":[");
    else
        jw_lit(w, "{");
    while ((rc = sqlite3_step(pg->st)) == SQLITE_ROW) {
        size_t size = (size_t)sqlite3_column_int64(pg->st, 0);
        const char *json = (const char *)sqlite3_column_text(pg->st, 1);
        size_t len = (size_t)sqlite3_column_bytes(pg->st, 1);
        scanned++;
        bytes += size;
        ddb_val it = {0}, shown = {0};
        int keep = 1;
        if (need_parse || !json) {
            if (!json || ddb_map_parse(json, len, &it)) {
                rc = SQLITE_CORRUPT;
                break;
            }
            keep = !q->x.filter || ddb_eval(q->x.filter, &it);
        }
        if (keep) {
            count++;
            if (!pg->count_only) {
                if (!first)
                    jw_lit(w, ",");
                first = 0;
                if (q->x.have >> DDB_X_PROJECTION & 1) {
                    if (ddb_project(&it, &q->x.proj, &shown))
                        w->err = 1;
                    ddb_map_write(w, &shown);
                } else if (pg->index_proj) {
                    if (index_projection(q->t, q->ix, &it, &shown))
                        w->err = 1;
                    ddb_map_write(w, &shown);
                } else {
                    jw_raw(w, json, len);
                }
            }
        }
        ddb_val_free(&it);
        ddb_val_free(&shown);
        if ((q->has_limit && scanned >= q->limit) || bytes >= DDB_PAGE) {
            free(last);
            last = malloc(len + 1);
            if (last) {
                memcpy(last, json, len);
                last[len] = 0;
                last_len = len;
            }
            stopped = 1;
            break;
        }
    }
    sqlite3_reset(pg->st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        free(last);
        return ddb_fail(&cx->err, DDB_EINTERNAL, "store: %s", sqlite3_errstr(rc));
    }
    if (!pg->count_only)
        jw_lit(w, "],");
    jw_lit(w, "\"Count\":");
    jw_int(w, count);
    jw_lit(w, ",\"ScannedCount\":");
    jw_int(w, scanned);
    if (stopped) {
        ddb_val it, key;
        if (!last || ddb_map_parse(last, last_len, &it)) {
            free(last);
            return ddb_fail(&cx->err, DDB_EINTERNAL, "out of memory");
        }
        if (ddb_key_of(q->t, q->ix, &it, &key)) {
            ddb_val_free(&it);
            free(last);
            return ddb_fail(&cx->err, DDB_EINTERNAL, "out of memory");
        }
        jw_lit(w, ",\"LastEvaluatedKey\":");
        ddb_map_write(w, &key);
        ddb_val_free(&key);
        ddb_val_free(&it);
    }
    free(last);
    if (q->rcc != DDB_RCC_NONE) {
        jw_lit(w, ",");
        ddb_write_capacity(w, q->t, q->rcc, ddb_units(bytes, 1, q->consistent));
    }
    jw_lit(w, "}");
    return 0;
}

/* Binds the table key tk's h, pk, sk at ?first.. */
static void bind_key3(sqlite3_stmt *st, int first, const ddb_keyenc *k)
{
    sqlite3_bind_blob(st, first, k->h, 8, SQLITE_STATIC);
    sqlite3_bind_blob(st, first + 1, k->pk, (int)k->pkl, SQLITE_STATIC);
    sqlite3_bind_blob(st, first + 2, k->skl ? (const void *)k->sk : "", (int)k->skl,
                      SQLITE_STATIC);
}

/* Select's effect on the page, then the page. */
static int finish_page(ddb_ctx *cx, const page_req *q, page *pg)
{
    pg->count_only = q->select && !strcmp(q->select, "COUNT");
    pg->index_proj = q->ix && q->ix->proj != DDB_P_ALL &&
                     !(q->select && !strcmp(q->select, "ALL_ATTRIBUTES"));
    return run_page(cx, q, pg);
}

/* ExclusiveStartKey: exactly the keys of the table and the index, each of
 * its type; encoded into tk (table key) and gk (index key). */
static int start_key(ddb_ctx *cx, const page_req *q, ddb_keyenc *tk, ddb_keyenc *gk)
{
    ddb_err *e = &cx->err;
    ddb_val key;
    size_t want = q->t->range.name[0] ? 2 : 1;
    if (q->ix) {
        /* the distinct names of the table's and the index's keys */
        const char *names[4] = {q->t->hash.name, q->t->range.name, q->ix->hash.name,
                                q->ix->range.name};
        want = 0;
        for (int i = 0; i < 4; i++) {
            int dup = !names[i][0];
            for (int j = 0; j < i && !dup; j++)
                dup = !strcmp(names[i], names[j]);
            want += !dup;
        }
        if (q->esk.n != want)
            return ddb_fail(e, DDB_EVALIDATION, "The provided starting key is invalid");
        const ddb_key *ks[2] = {&q->ix->hash, &q->ix->range};
        for (int i = 0; i < 2; i++) {
            if (!ks[i]->name[0])
                continue;
            const ddb_val *v = ddb_map_get(&q->esk, ks[i]->name, strlen(ks[i]->name));
            if (!v || v->type != ks[i]->type)
                return ddb_fail(e, DDB_EVALIDATION, "The provided starting key is invalid");
        }
        const ddb_val *hv = ddb_map_get(&q->esk, q->ix->hash.name, strlen(q->ix->hash.name));
        const ddb_val *rv = q->ix->range.name[0] ? ddb_map_get(&q->esk, q->ix->range.name,
                                                               strlen(q->ix->range.name)) : NULL;
        gk->pkl = ddb_key_bytes(hv, gk->pk, sizeof gk->pk);
        gk->skl = rv ? ddb_key_bytes(rv, gk->sk, sizeof gk->sk) : 0;
        ddb_key_hash(gk->pk, gk->pkl, gk->h);
    } else if (q->esk.n != want) {
        return ddb_fail(e, DDB_EVALIDATION, "The provided starting key is invalid: The provided key "
                        "element does not match the schema");
    }
    /* the table's key, checked as a Key is */
    if (ddb_key_of(q->t, NULL, &q->esk, &key))
        return ddb_fail(e, DDB_EINTERNAL, "out of memory");
    int rc = ddb_key_from(e, q->t, &key, 0, tk);
    ddb_val_free(&key);
    if (rc) {
        char msg[sizeof e->msg];
        snprintf(msg, sizeof msg, "%s", e->msg);
        return ddb_fail(e, DDB_EVALIDATION, "The provided starting key is invalid: %s", msg);
    }
    return 0;
}

/* The smallest byte string above every string starting with p (*n bytes,
 * changed in place); 0 when there is none (p is all 0xFF). */
static int prefix_end(unsigned char *p, size_t *n)
{
    while (*n && p[*n - 1] == 0xFF)
        (*n)--;
    if (!*n)
        return 0;
    p[*n - 1]++;
    return 1;
}

int ddb_op_query(ddb_ctx *cx, json_t *req)
{
    static const char *const LEGACY[] = {"AttributesToGet", "KeyConditions", "QueryFilter",
                                         "ConditionalOperator", NULL};
    ddb_err *e = &cx->err;
    page_req q;
    ddb_vlist v = {0};
    int rc = read_common(cx, req, &q, &v);
    if (!rc && ddb_rq_bool(e, req, "ScanIndexForward", &q.forward) < 0)
        rc = e->code;
    if (rc || (rc = ddb_vl_done(e, &v)))
        goto out;
    ddb_xspec spec = {1u << DDB_X_PROJECTION | 1u << DDB_X_FILTER | 1u << DDB_X_KEYCOND, LEGACY};
    if ((rc = ddb_exprs_read(e, &cx->ar, req, &spec, &q.x)))
        goto out;
    if (!q.x.keycond) {
        rc = ddb_fail(e, DDB_EVALIDATION, "Either the KeyConditions or KeyConditionExpression "
                      "parameter must be specified in the request.");
        goto out;
    }
    kcond kc[2];
    size_t nk = 0;
    if ((rc = key_conds(cx, q.x.keycond, kc, &nk)) || (rc = resolve(cx, &q)))
        goto out;
    const ddb_key *hk = q.ix ? &q.ix->hash : &q.t->hash, *rk = q.ix ? &q.ix->range : &q.t->range;
    const kcond *hc = cond_on(kc, nk, hk), *rc2 = cond_on(kc, nk, rk);
    if (!rk->name[0] && nk > 1) {
        rc = ddb_fail(e, DDB_EVALIDATION, "Query key condition not supported");
        goto out;
    }
    if (!hc || (nk > 1 && !rc2)) {
        rc = ddb_fail(e, DDB_EVALIDATION, "Query condition missed key schema element: %s",
                      !hc ? hk->name : rk->name);
        goto out;
    }
    for (size_t i = 0; i < nk; i++) {
        const ddb_key *k = &kc[i] == hc ? hk : rk;
        for (int j = 0; j < 2; j++)
            if (kc[i].v[j] && kc[i].v[j]->type != k->type) {
                rc = ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: "
                              "Condition parameter type does not match schema type");
                goto out;
            }
    }
    if (hc->op != X_EQ) {
        rc = ddb_fail(e, DDB_EVALIDATION, "Query key condition not supported");
        goto out;
    }
    ddb_keyenc tk, gk;
    if (q.esk.type == DDB_M && (rc = start_key(cx, &q, &tk, &gk)))
        goto out;
    ddb_keyenc hkey;    /* the partition key's bytes, and the sort bounds */
    hkey.pkl = ddb_key_bytes(hc->v[0], hkey.pk, sizeof hkey.pk);
    ddb_key_hash(hkey.pk, hkey.pkl, hkey.h);
    if (q.esk.type == DDB_M) {
        const ddb_keyenc *ek = q.ix ? &gk : &tk;
        if (ek->pkl != hkey.pkl || memcmp(ek->pk, hkey.pk, hkey.pkl)) {
            rc = ddb_fail(e, DDB_EVALIDATION, rc2 ? "The query can return at most one row and "
                          "cannot be restarted" : "The provided starting key is outside query "
                          "boundaries based on provided conditions");
            goto out;
        }
        if (rc2) {
            const ddb_val *sv = ddb_map_get(&q.esk, rk->name, strlen(rk->name));
            int in = 1;
            if (rc2->op == X_BEGINS)
                in = sv->n >= rc2->v[0]->n && !memcmp(sv->s, rc2->v[0]->s, rc2->v[0]->n);
            else if (rc2->op == X_BETWEEN)
                in = ddb_val_cmp(rc2->v[0], sv) <= 0 && ddb_val_cmp(sv, rc2->v[1]) <= 0;
            else {
                int c = ddb_val_cmp(sv, rc2->v[0]);
                in = rc2->op == X_EQ ? !c : rc2->op == X_LT ? c < 0 : rc2->op == X_LE ? c <= 0
                     : rc2->op == X_GT ? c > 0 : c >= 0;
            }
            if (!in) {
                rc = ddb_fail(e, DDB_EVALIDATION, "The provided starting key does not match the "
                              "range key predicate");
                goto out;
            }
        }
    }
    if ((rc = filter_keys(cx, &q, q.x.filter)))
        goto out;
    /* the statement */
    char sql[1024];
    const char *k = q.ix ? "x.gsk" : "sk", *dir = q.forward ? "" : " DESC";
    size_t o;
    if (q.ix)
        o = (size_t)snprintf(sql, sizeof sql, "SELECT x.size, i.item FROM \"x%lld_%zu\" x JOIN "
                             "\"i%lld\" i ON i.h = x.h AND i.pk = x.pk AND i.sk = x.sk WHERE "
                             "x.gh = ?1 AND x.gpk = ?2", q.t->id, (size_t)(q.ix - q.t->idx),
                             q.t->id);
    else
        o = (size_t)snprintf(sql, sizeof sql, "SELECT size, item FROM \"i%lld\" WHERE h = ?1 AND "
                             "pk = ?2", q.t->id);
    unsigned char lo[DDB_MAX_RANGE_KEY + 8], hi[DDB_MAX_RANGE_KEY + 8];
    size_t lol = 0, hil = 0;
    int has_hi = 0;
    if (rc2) {
        lol = ddb_key_bytes(rc2->v[0], lo, sizeof lo);
        static const char *const CMP[] = {[X_EQ] = "=", [X_LT] = "<", [X_LE] = "<=",
                                          [X_GT] = ">", [X_GE] = ">="};
        if (rc2->op == X_BETWEEN) {
            hil = ddb_key_bytes(rc2->v[1], hi, sizeof hi);
            o += (size_t)snprintf(sql + o, sizeof sql - o, " AND %s >= ?3 AND %s <= ?4", k, k);
            has_hi = 1;
        } else if (rc2->op == X_BEGINS) {
            memcpy(hi, lo, lol);
            hil = lol;
            has_hi = prefix_end(hi, &hil);
            o += (size_t)snprintf(sql + o, sizeof sql - o, " AND %s >= ?3%s", k,
                                  has_hi ? (q.ix ? " AND x.gsk < ?4" : " AND sk < ?4") : "");
        } else {
            o += (size_t)snprintf(sql + o, sizeof sql - o, " AND %s %s ?3", k, CMP[rc2->op]);
        }
    }
    if (q.esk.type == DDB_M) {
        if (q.ix)
            o += (size_t)snprintf(sql + o, sizeof sql - o, " AND (x.gsk, x.h, x.pk, x.sk) %s "
                                  "(?5, ?6, ?7, ?8)", q.forward ? ">" : "<");
        else
            o += (size_t)snprintf(sql + o, sizeof sql - o, " AND sk %s ?5", q.forward ? ">" : "<");
    }
    if (q.ix)
        snprintf(sql + o, sizeof sql - o, " ORDER BY x.gsk%s, x.h%s, x.pk%s, x.sk%s", dir, dir,
                 dir, dir);
    else
        snprintf(sql + o, sizeof sql - o, " ORDER BY sk%s", dir);
    page pg = {0};
    if (!(pg.st = ddb_stmt(cx->conn, sql, e))) {
        rc = e->code;
        goto out;
    }
    sqlite3_bind_blob(pg.st, 1, hkey.h, 8, SQLITE_STATIC);
    sqlite3_bind_blob(pg.st, 2, hkey.pk, (int)hkey.pkl, SQLITE_STATIC);
    if (rc2)
        sqlite3_bind_blob(pg.st, 3, lol ? (const void *)lo : "", (int)lol, SQLITE_STATIC);
    if (has_hi)
        sqlite3_bind_blob(pg.st, 4, hil ? (const void *)hi : "", (int)hil, SQLITE_STATIC);
    if (q.esk.type == DDB_M) {
        if (q.ix) {
            sqlite3_bind_blob(pg.st, 5, gk.skl ? (const void *)gk.sk : "", (int)gk.skl,
                              SQLITE_STATIC);
            bind_key3(pg.st, 6, &tk);
        } else {
            sqlite3_bind_blob(pg.st, 5, tk.skl ? (const void *)tk.sk : "", (int)tk.skl,
                              SQLITE_STATIC);
        }
    }
    rc = finish_page(cx, &q, &pg);
out:
    ddb_val_free(&q.esk);
    ddb_exprs_fini(&q.x);
    return rc;
}

int ddb_op_scan(ddb_ctx *cx, json_t *req)
{
    static const char *const LEGACY[] = {"AttributesToGet", "ScanFilter", "ConditionalOperator",
                                         NULL};
    ddb_err *e = &cx->err;
    page_req q;
    ddb_vlist v = {0};
    long long seg = 0, total = 0;
    int has_seg = 0, has_total = 0;
    int rc = read_common(cx, req, &q, &v);
    if (!rc && ((has_seg = ddb_rq_int(e, req, "Segment", "Integer", &seg)) < 0 ||
                (has_total = ddb_rq_int(e, req, "TotalSegments", "Integer", &total)) < 0))
        rc = e->code;
    if (rc)
        goto out;
    ddb_vl_range(&v, has_seg, seg, "segment", 0, 999999);
    ddb_vl_range(&v, has_total, total, "totalSegments", 1, 1000000);
    if ((rc = ddb_vl_done(e, &v)))
        goto out;
    if (has_seg && !has_total) {
        rc = ddb_fail(e, DDB_EVALIDATION, "The TotalSegments parameter is required but was not "
                      "present in the request when Segment parameter is present");
        goto out;
    }
    if (has_total && !has_seg) {
        rc = ddb_fail(e, DDB_EVALIDATION, "The Segment parameter is required but was not present "
                      "in the request when parameter TotalSegments is present");
        goto out;
    }
    if (has_total && seg >= total) {
        rc = ddb_fail(e, DDB_EVALIDATION, "The Segment parameter is zero-based and must be less "
                      "than parameter TotalSegments: Segment: %lld is not less than TotalSegments: "
                      "%lld", seg, total);
        goto out;
    }
    ddb_xspec spec = {1u << DDB_X_PROJECTION | 1u << DDB_X_FILTER, LEGACY};
    if ((rc = ddb_exprs_read(e, &cx->ar, req, &spec, &q.x)) || (rc = resolve(cx, &q)))
        goto out;
    ddb_keyenc tk, gk;
    if (q.esk.type == DDB_M && (rc = start_key(cx, &q, &tk, &gk)))
        goto out;
    /* the segment: [lo, hi) of the 64-bit hash space */
    unsigned char lo[8] = {0}, hi[8] = {0};
    int bounded = has_total && total > 1, has_hi = 0;
    if (bounded) {
        unsigned __int128 span = (unsigned __int128)1 << 64;
        unsigned __int128 a = span * (unsigned long long)seg / (unsigned long long)total;
        unsigned __int128 b = span * (unsigned long long)(seg + 1) / (unsigned long long)total;
        has_hi = b < span;
        for (int i = 7; i >= 0; i--, a >>= 8, b >>= 8) {
            lo[i] = (unsigned char)a;
            hi[i] = (unsigned char)b;
        }
        if (q.esk.type == DDB_M) {
            const unsigned char *eh = q.ix ? gk.h : tk.h;
            if (memcmp(eh, lo, 8) < 0 || (has_hi && memcmp(eh, hi, 8) >= 0)) {
                rc = ddb_fail(e, DDB_EVALIDATION, "The provided starting key is invalid: Invalid "
                              "ExclusiveStartKey. Please use ExclusiveStartKey with correct "
                              "Segment. TotalSegments: %lld Segment: %lld", total, seg);
                goto out;
            }
        }
    }
    char sql[1024];
    size_t o;
    if (q.ix)
        o = (size_t)snprintf(sql, sizeof sql, "SELECT x.size, i.item FROM \"x%lld_%zu\" x JOIN "
                             "\"i%lld\" i ON i.h = x.h AND i.pk = x.pk AND i.sk = x.sk WHERE 1",
                             q.t->id, (size_t)(q.ix - q.t->idx), q.t->id);
    else
        o = (size_t)snprintf(sql, sizeof sql, "SELECT size, item FROM \"i%lld\" WHERE 1", q.t->id);
    const char *hcol = q.ix ? "x.gh" : "h";
    if (bounded)
        o += (size_t)snprintf(sql + o, sizeof sql - o, " AND %s >= ?1%s%s%s", hcol,
                              has_hi ? " AND " : "", has_hi ? hcol : "", has_hi ? " < ?2" : "");
    if (q.esk.type == DDB_M)
        o += (size_t)snprintf(sql + o, sizeof sql - o, q.ix ? " AND (x.gh, x.gpk, x.gsk, x.h, x.pk, "
                              "x.sk) > (?3, ?4, ?5, ?6, ?7, ?8)" : " AND (h, pk, sk) > (?6, ?7, ?8)");
    snprintf(sql + o, sizeof sql - o, q.ix ? " ORDER BY x.gh, x.gpk, x.gsk, x.h, x.pk, x.sk"
                                           : " ORDER BY h, pk, sk");
    page pg = {0};
    if (!(pg.st = ddb_stmt(cx->conn, sql, e))) {
        rc = e->code;
        goto out;
    }
    if (bounded) {
        sqlite3_bind_blob(pg.st, 1, lo, 8, SQLITE_STATIC);
        if (has_hi)
            sqlite3_bind_blob(pg.st, 2, hi, 8, SQLITE_STATIC);
    }
    if (q.esk.type == DDB_M) {
        if (q.ix)
            bind_key3(pg.st, 3, &gk);
        bind_key3(pg.st, 6, &tk);
    }
    rc = finish_page(cx, &q, &pg);
out:
    ddb_val_free(&q.esk);
    ddb_exprs_fini(&q.x);
    return rc;
}
