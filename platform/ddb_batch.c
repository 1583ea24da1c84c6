/*
 * Batches and transactions (spec §2.4, §2.5): BatchGetItem (at most 100
 * keys, items up to 16 MB returned, the rest in UnprocessedKeys),
 * BatchWriteItem (at most 25 puts and deletes, written in one store
 * transaction, UnprocessedItems always empty locally) and
 * TransactWriteItems (at most 100 actions on distinct items: every
 * condition is evaluated first; if one fails nothing is written and
 * TransactionCanceledException lists a reason per action; a
 * ClientRequestToken makes a repeated request a no-op for 10 minutes).
 */
#include "ddb_int.h"

#include <stdlib.h>
#include <string.h>

#define MAX_BATCH_WRITE 25
#define MAX_BATCH_GET 100
#define MAX_TRANSACT 100
#define MAX_GET_BYTES (16u << 20)
#define MAX_TRANSACT_BYTES (4u << 20)

static int nomem(ddb_ctx *cx)
{
    return ddb_fail(&cx->err, DDB_EINTERNAL, "out of memory");
}

/* RequestItems: a map of table name to whatever; shape and constraints. */
static int request_items(ddb_ctx *cx, json_t *req, const char *value_type, json_t **out)
{
    ddb_err *e = &cx->err;
    json_t *v = json_object_get(req, "RequestItems");
    *out = NULL;
    if (v && !json_is_null(v) && !json_is_object(v))
        return json_is_array(v) ? ddb_fail(e, DDB_ESERIAL, "Unrecognized collection type "
                                           "java.util.Map<java.lang.String, %s>", value_type)
                                : ddb_fail(e, DDB_ESERIAL, "Unexpected field type");
    if (v && json_is_object(v))
        *out = v;
    return 0;
}

/* The length constraints of a list or map member (present: its size). */
static void vl_count(ddb_vlist *v, int present, size_t n, const char *where, const char *empty,
                     size_t max)
{
    char what[96];
    if (!present) {
        ddb_vl_add(v, NULL, where, "Member must not be null");
    } else if (!n) {
        ddb_vl_add(v, empty, where, "Member must have length greater than or equal to 1");
    } else if (max && n > max) {
        snprintf(what, sizeof what, "Member must have length less than or equal to %zu", max);
        ddb_vl_add(v, "...", where, what);
    }
}

static int same_key(const ddb_keyenc *a, const ddb_keyenc *b)
{
    return a->pkl == b->pkl && a->skl == b->skl && !memcmp(a->pk, b->pk, a->pkl) &&
           !memcmp(a->sk, b->sk, a->skl);
}

/* ---- BatchWriteItem ---- */

typedef struct bw_req {
    const ddb_table *t;
    int put;
    ddb_val item;           /* Item or Key */
    ddb_keyenc k;
} bw_req;

int ddb_op_batch_write(ddb_ctx *cx, json_t *req)
{
    ddb_err *e = &cx->err;
    json_t *items;
    ddb_rcc rcc;
    ddb_vlist v = {0};
    bw_req *rq = calloc(MAX_BATCH_WRITE, sizeof *rq);
    size_t n = 0, total = 0;
    int rc = 0;
    if (!rq)
        return nomem(cx);
    if (request_items(cx, req, "java.util.List<com.amazonaws.dynamodb.v20120810.WriteRequest>",
                      &items) || ddb_rq_rcc(e, req, &rcc, &v) < 0) {
        rc = e->code;
        goto out;
    }
    vl_count(&v, items != NULL, json_object_size(items), "requestItems", "{}", 0);
    const char *tn;
    json_t *list, *x;
    size_t i;
    json_object_foreach(items, tn, list) {
        if (!json_is_array(list)) {
            rc = ddb_fail(e, DDB_ESERIAL, "%s", json_is_object(list) ? "Start of structure or map "
                          "found where not expected" : "Unexpected field type");
            goto out;
        }
        ddb_vl_name(&v, tn, strlen(tn), "requestItems.key", 1);
        if (!json_array_size(list))
            ddb_vl_add(&v, tn, "requestItems", "Map value must satisfy constraint: [Member must "
                       "have length less than or equal to 25, Member must have length greater "
                       "than or equal to 1]");
        total += json_array_size(list);
    }
    if ((rc = ddb_vl_done(e, &v)))
        goto out;
    if (total > MAX_BATCH_WRITE) {
        rc = ddb_fail(e, DDB_EVALIDATION, "Too many items requested for the BatchWriteItem call");
        goto out;
    }
    /* the requests: shapes and values, then tables and keys */
    json_object_foreach(items, tn, list) {
        json_array_foreach(list, i, x) {
            json_t *pr = NULL, *dr = NULL;
            bw_req *r = &rq[n];
            if (ddb_rq_elem(e, x, "WriteRequest") ||
                ddb_rq_struct(e, x, "PutRequest", "PutRequest", &pr) < 0 ||
                ddb_rq_struct(e, x, "DeleteRequest", "DeleteRequest", &dr) < 0) {
                rc = e->code;
                goto out;
            }
            if (!pr == !dr) {
                rc = ddb_fail(e, DDB_EVALIDATION, "Supplied AttributeValue has more than one "
                              "datatypes set, must contain exactly one of the supported datatypes");
                goto out;
            }
            r->put = pr != NULL;
            int got = ddb_rq_map(e, pr ? pr : dr, pr ? "Item" : "Key", &r->item);
            n++;
            if (got < 0) {
                rc = e->code;
                goto out;
            }
            if (!got) {
                rc = ddb_fail(e, DDB_EVALIDATION, "1 validation error detected: Value null at "
                              "'requestItems.%s.member.%s' failed to satisfy constraint: Member "
                              "must not be null", tn, pr ? "putRequest.item" : "deleteRequest.key");
                goto out;
            }
            if (r->put && ddb_item_size(&r->item) > DDB_MAX_ITEM) {
                rc = ddb_fail(e, DDB_EVALIDATION, "Item size has exceeded the maximum allowed size");
                goto out;
            }
        }
    }
    size_t k = 0;
    json_object_foreach(items, tn, list) {
        const ddb_table *t;
        if ((rc = ddb_need_table(cx, tn, strlen(tn), &t)))
            goto out;
        for (i = 0; i < json_array_size(list); i++, k++) {
            bw_req *r = &rq[k];
            r->t = t;
            if (ddb_key_from(e, t, &r->item, r->put, &r->k)) {
                if (strstr(e->msg, "Missing the key") || strstr(e->msg, "Type mismatch for key"))
                    ddb_fail(e, DDB_EVALIDATION, "The provided key element does not match the "
                             "schema");
                rc = e->code;
                goto out;
            }
            if (r->put && (rc = ddb_check_index_keys(e, t, &r->item)))
                goto out;
            for (size_t j = 0; j < k; j++)
                if (rq[j].t == t && same_key(&rq[j].k, &r->k)) {
                    rc = ddb_fail(e, DDB_EVALIDATION, "Provided list of item keys contains "
                                  "duplicates");
                    goto out;
                }
        }
    }
    /* all of them in one transaction */
    if ((rc = ddb_wbegin(cx->conn, e)))
        goto out;
    double units[MAX_BATCH_WRITE] = {0};
    for (k = 0; k < n && !rc; k++) {
        bw_req *r = &rq[k];
        ddb_val old = {0};
        int have = 0;
        if (ddb_table_needs_old(r->t) || rcc != DDB_RCC_NONE) {
            ddb_single s = {.t = r->t, .k = r->k};
            if ((have = ddb__single_old(cx, &s, &old)) < 0) {
                rc = e->code;
                break;
            }
        }
        size_t size = r->put ? ddb_item_size(&r->item) : 0, os = have ? ddb_item_size(&old) : 0;
        units[k] = ddb_units(size > os ? size : os, 0, 1);
        if (r->put) {
            size_t len;
            char *json = ddb_map_json(&r->item, &len);
            rc = json ? ddb_item_write(cx->conn, r->t, &r->k, &r->item, json, len,
                                       have ? &old : NULL, e) : nomem(cx);
            free(json);
        } else if (have || !ddb_table_needs_old(r->t)) {
            rc = ddb_item_delete(cx->conn, r->t, &r->k, have ? &old : NULL, e);
        }
        ddb_val_free(&old);
    }
    if (ddb_wend(cx->conn, !rc, e) && !rc)
        rc = e->code;
    if (rc)
        goto out;
    jw_lit(&cx->out, "{\"UnprocessedItems\":{}");
    if (rcc != DDB_RCC_NONE) {
        jw_lit(&cx->out, ",\"ConsumedCapacity\":[");
        int first = 1;
        for (k = 0; k < n; k++) {
            size_t j;
            for (j = 0; j < k && rq[j].t != rq[k].t; j++)
                ;
            if (j < k)
                continue;
            double u = 0;
            for (j = k; j < n; j++)
                if (rq[j].t == rq[k].t)
                    u += units[j];
            if (!first)
                jw_lit(&cx->out, ",");
            first = 0;
            ddb_write_capacity_obj(&cx->out, rq[k].t, rcc, u);
        }
        jw_lit(&cx->out, "]");
    }
    jw_lit(&cx->out, "}");
out:
    for (size_t j = 0; j < MAX_BATCH_WRITE; j++)
        ddb_val_free(&rq[j].item);
    free(rq);
    return rc;
}

/* ---- BatchGetItem ---- */

typedef struct bg_table {
    const char *name;
    json_t *spec;           /* the request's KeysAndAttributes */
    const ddb_table *t;
    ddb_exprs x;
    int consistent;
    size_t first, n;        /* its keys in the keys array */
} bg_table;

int ddb_op_batch_get(ddb_ctx *cx, json_t *req)
{
    ddb_err *e = &cx->err;
    json_t *items;
    ddb_rcc rcc;
    ddb_vlist v = {0};
    bg_table tabs[MAX_BATCH_GET];
    ddb_val *keys = calloc(MAX_BATCH_GET, sizeof *keys);
    ddb_keyenc *enc = calloc(MAX_BATCH_GET, sizeof *enc);
    size_t nt = 0, nk = 0;
    int rc = 0;
    memset(tabs, 0, sizeof tabs);
    if (!keys || !enc) {
        rc = nomem(cx);
        goto out;
    }
    if (request_items(cx, req, "com.amazonaws.dynamodb.v20120810.KeysAndAttributes",
                      &items) || ddb_rq_rcc(e, req, &rcc, &v) < 0) {
        rc = e->code;
        goto out;
    }
    vl_count(&v, items != NULL, json_object_size(items), "requestItems", "{}", MAX_BATCH_GET);
    const char *tn;
    json_t *spec, *kl = NULL, *x;
    size_t i;
    json_object_foreach(items, tn, spec) {
        if (ddb_rq_elem(e, spec, "KeysAndAttributes")) {
            rc = e->code;
            goto out;
        }
        ddb_vl_name(&v, tn, strlen(tn), "requestItems.key", 1);
    }
    if ((rc = ddb_vl_done(e, &v)))
        goto out;
    json_object_foreach(items, tn, spec) {
        bg_table *b = &tabs[nt++];
        b->name = tn;
        b->spec = spec;
        b->first = nk;
        static const char *const LEGACY[] = {"AttributesToGet", NULL};
        ddb_xspec xs = {1u << DDB_X_PROJECTION, LEGACY};
        if (ddb_rq_list(e, spec, "Keys", &kl) < 0 || ddb_rq_bool(e, spec, "ConsistentRead",
                                                                 &b->consistent) < 0) {
            rc = e->code;
            goto out;
        }
        if (!kl || !json_array_size(kl)) {
            rc = ddb_fail(e, DDB_EVALIDATION, "1 validation error detected: Value %s at "
                          "'requestItems.%s.member.keys' failed to satisfy constraint: Member "
                          "must %s", kl ? "'[]'" : "null", tn, !kl ? "not be null"
                          : "have length greater than or equal to 1");
            goto out;
        }
        if ((rc = ddb_exprs_read(e, &cx->ar, spec, &xs, &b->x)))
            goto out;
        json_array_foreach(kl, i, x) {
            if (nk == MAX_BATCH_GET) {
                rc = ddb_fail(e, DDB_EVALIDATION, "Too many items requested for the BatchGetItem "
                              "call");
                goto out;
            }
            if (!json_is_object(x)) {
                rc = ddb_fail(e, DDB_ESERIAL, "Unexpected value type in payload");
                goto out;
            }
            if (ddb_map_from_json(x, &keys[nk++], e)) {
                rc = e->code;
                goto out;
            }
        }
        b->n = nk - b->first;
    }
    for (size_t t = 0; t < nt; t++) {
        bg_table *b = &tabs[t];
        if ((rc = ddb_need_table(cx, b->name, strlen(b->name), &b->t)))
            goto out;
        for (size_t k = b->first; k < b->first + b->n; k++) {
            if ((rc = ddb_key_from(e, b->t, &keys[k], 0, &enc[k])))
                goto out;
            for (size_t j = b->first; j < k; j++)
                if (same_key(&enc[j], &enc[k])) {
                    rc = ddb_fail(e, DDB_EVALIDATION, "Provided list of item keys contains "
                                  "duplicates");
                    goto out;
                }
        }
    }
    /* the reads */
    jw *w = &cx->out;
    size_t bytes = 0, stop = nk;    /* keys from stop on are unprocessed */
    double units[MAX_BATCH_GET] = {0};
    jw_lit(w, "{\"Responses\":{");
    for (size_t t = 0; t < nt; t++) {
        bg_table *b = &tabs[t];
        if (t)
            jw_lit(w, ",");
        jw_str(w, b->name, strlen(b->name));
        jw_lit(w, ":[");
        int first = 1;
        for (size_t k = b->first; k < b->first + b->n && k < stop; k++) {
            char *json = NULL;
            size_t len = 0;
            int found = ddb_item_read(cx->conn, b->t, &enc[k], &json, &len, e);
            if (found < 0) {
                rc = e->code;
                goto out;
            }
            if (!found)
                continue;
            ddb_val it, proj;
            if (ddb_map_parse(json, len, &it)) {
                free(json);
                rc = nomem(cx);
                goto out;
            }
            units[t] += ddb_units(ddb_item_size(&it), 1, b->consistent);
            bytes += len;
            if (!first)
                jw_lit(w, ",");
            first = 0;
            if (b->x.have >> DDB_X_PROJECTION & 1) {
                if (ddb_project(&it, &b->x.proj, &proj))
                    w->err = 1;
                ddb_map_write(w, &proj);
                ddb_val_free(&proj);
            } else {
                jw_raw(w, json, len);
            }
            ddb_val_free(&it);
            free(json);
            if (bytes > MAX_GET_BYTES)
                stop = k + 1;
        }
        jw_lit(w, "]");
    }
    jw_lit(w, "},\"UnprocessedKeys\":{");
    int firsttab = 1;
    for (size_t t = 0; t < nt; t++) {
        bg_table *b = &tabs[t];
        if (b->first + b->n <= stop)
            continue;
        if (!firsttab)
            jw_lit(w, ",");
        firsttab = 0;
        jw_str(w, b->name, strlen(b->name));
        jw_lit(w, ":{\"Keys\":[");
        for (size_t k = b->first > stop ? b->first : stop; k < b->first + b->n; k++) {
            if (k > (b->first > stop ? b->first : stop))
                jw_lit(w, ",");
            ddb_map_write(w, &keys[k]);
        }
        jw_lit(w, "]}");
    }
    jw_lit(w, "}");
    if (rcc != DDB_RCC_NONE) {
        jw_lit(w, ",\"ConsumedCapacity\":[");
        for (size_t t = 0; t < nt; t++) {
            if (t)
                jw_lit(w, ",");
            ddb_write_capacity_obj(w, tabs[t].t, rcc, units[t]);
        }
        jw_lit(w, "]");
    }
    jw_lit(w, "}");
out:
    for (size_t t = 0; t < nt; t++)
        ddb_exprs_fini(&tabs[t].x);
    for (size_t k = 0; keys && k < MAX_BATCH_GET; k++)
        ddb_val_free(&keys[k]);
    free(keys);
    free(enc);
    return rc;
}

/* ---- TransactWriteItems ---- */

int ddb_op_transact_write(ddb_ctx *cx, json_t *req)
{
    static const char *const KINDS[] = {"Put", "Delete", "Update", "ConditionCheck"};
    static const char *const MEMBERS[] = {"put", "delete", "update", "conditionCheck"};
    ddb_err *e = &cx->err;
    json_t *list = NULL, *x;
    ddb_rcc rcc;
    ddb_vlist v = {0};
    const char *token = NULL;
    size_t tokl = 0, i, n = 0;
    ddb_single *s = calloc(MAX_TRANSACT, sizeof *s);
    ddb_wkind *kind = calloc(MAX_TRANSACT, sizeof *kind);
    ddb_val *old = calloc(MAX_TRANSACT, sizeof *old);
    int *have = calloc(MAX_TRANSACT, sizeof *have), rc = 0;
    if (!s || !kind || !old || !have) {
        rc = nomem(cx);
        goto out;
    }
    if (ddb_rq_list(e, req, "TransactItems", &list) < 0 ||
        ddb_rq_str(e, req, "ClientRequestToken", &token, &tokl) < 0 ||
        ddb_rq_rcc(e, req, &rcc, &v) < 0) {
        rc = e->code;
        goto out;
    }
    vl_count(&v, list != NULL, json_array_size(list), "transactItems", "[]", MAX_TRANSACT);
    if (token && (tokl < 1 || tokl > 36))
        ddb_vl_add(&v, token, "clientRequestToken", tokl ? "Member must have length less than or "
                   "equal to 36" : "Member must have length greater than or equal to 1");
    if ((rc = ddb_vl_done(e, &v)))
        goto out;
    size_t bytes = 0;
    json_array_foreach(list, i, x) {
        json_t *act[4] = {0}, *a = NULL;
        int count = 0, which = 0;
        if (ddb_rq_elem(e, x, "TransactWriteItem")) {
            rc = e->code;
            goto out;
        }
        for (int k = 0; k < 4; k++) {
            if (ddb_rq_struct(e, x, KINDS[k], KINDS[k], &act[k]) < 0) {
                rc = e->code;
                goto out;
            }
            if (act[k]) {
                count++;
                which = k;
                a = act[k];
            }
        }
        if (count != 1) {
            rc = ddb_fail(e, DDB_EVALIDATION, "TransactItems can only contain one of Check, Put, "
                          "Update or Delete");
            goto out;
        }
        kind[n] = (ddb_wkind)which;
        unsigned kinds = 1u << DDB_X_CONDITION | (which == DDB_W_UPDATE ? 1u << DDB_X_UPDATE : 0);
        const char *need = which == DDB_W_UPDATE ? "UpdateExpression" : which == DDB_W_CHECK
                           ? "ConditionExpression" : NULL;
        json_t *nv = need ? json_object_get(a, need) : NULL;
        if (need && (!nv || json_is_null(nv))) {
            rc = ddb_fail(e, DDB_EVALIDATION, "1 validation error detected: Value null at "
                          "'transactItems.%zu.member.%s.%s' failed to satisfy constraint: Member "
                          "must not be null", i + 1, MEMBERS[which],
                          which == DDB_W_UPDATE ? "updateExpression" : "conditionExpression");
            goto out;
        }
        rc = ddb__single_read(cx, a, &s[n], which == DDB_W_PUT, kinds, NULL, 0);
        n++;
        if (rc || (which == DDB_W_UPDATE && (rc = ddb__key_update_check(cx, &s[n - 1]))) ||
            (which == DDB_W_PUT && (rc = ddb_check_index_keys(e, s[n - 1].t, &s[n - 1].key))))
            goto out;
        bytes += ddb_item_size(&s[n - 1].key);
        for (size_t j = 0; j + 1 < n; j++)
            if (s[j].t == s[n - 1].t && same_key(&s[j].k, &s[n - 1].k)) {
                rc = ddb_fail(e, DDB_EVALIDATION, "Transaction request cannot include multiple "
                              "operations on one item");
                goto out;
            }
    }
    if (bytes > MAX_TRANSACT_BYTES) {
        rc = ddb_fail(e, DDB_EVALIDATION, "Transaction size has exceeded the maximum allowed size "
                      "of 4 MB");
        goto out;
    }
    /* the same token and request as before: done already */
    uint64_t sum = 0;
    if (token) {
        char *dump = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
        unsigned char h[8];
        if (!dump) {
            rc = nomem(cx);
            goto out;
        }
        ddb_key_hash((const unsigned char *)dump, strlen(dump), h);
        free(dump);
        for (int k = 0; k < 8; k++)
            sum = sum << 8 | h[k];
        int seen = ddb_store_token(ddb_conn_store(cx->conn), token, tokl, sum, cx->now, 0);
        if (seen == 1) {
            jw_lit(&cx->out, "{}");
            goto out;
        }
        if (seen == 2) {
            rc = ddb_fail(e, DDB_EIDEMPOTENT, "The request uses the same client token as a "
                          "previous, but non-identical request.");
            goto out;
        }
    }
    if ((rc = ddb_wbegin(cx->conn, e)))
        goto out;
    /* every condition first, on the items as they are */
    int failed = 0;
    for (i = 0; i < n && !rc; i++) {
        if ((have[i] = ddb__single_old(cx, &s[i], &old[i])) < 0)
            rc = e->code;
        else if (s[i].x.cond && !ddb_eval(s[i].x.cond, have[i] ? &old[i] : NULL))
            failed = 1, have[i] |= 2;   /* bit 1: this one failed */
    }
    for (i = 0; i < n && !rc && !failed; i++) {
        ddb_val item;
        const char **touched;
        size_t nt;
        rc = ddb__single_apply(cx, &s[i], kind[i], &old[i], have[i] & 1, &item, &touched, &nt);
        ddb_val_free(&item);
    }
    if (ddb_wend(cx->conn, !rc && !failed, e) && !rc)
        rc = e->code;
    if (rc)
        goto out;
    if (failed) {
        jw w;
        char codes[MAX_TRANSACT * 26] = "";
        jw_init(&w, DDB_MAX_OUT);
        jw_lit(&w, ",\"CancellationReasons\":[");
        for (i = 0; i < n; i++) {
            int bad = have[i] & 2;
            if (i)
                jw_lit(&w, ",");
            if (bad && s[i].ret_on_fail && (have[i] & 1)) {
                jw_lit(&w, "{\"Item\":");
                ddb_map_write(&w, &old[i]);
                jw_lit(&w, ",\"Code\":\"ConditionalCheckFailed\",\"Message\":\"The conditional "
                           "request failed\"}");
            } else if (bad) {
                jw_lit(&w, "{\"Code\":\"ConditionalCheckFailed\",\"Message\":\"The conditional "
                           "request failed\"}");
            } else {
                jw_lit(&w, "{\"Code\":\"None\"}");
            }
            snprintf(codes + strlen(codes), sizeof codes - strlen(codes), "%s%s", i ? ", " : "",
                     bad ? "ConditionalCheckFailed" : "None");
        }
        jw_lit(&w, "]");
        e->extra = jw_finish(&w, NULL);
        rc = ddb_fail(e, DDB_ECANCELED, "Transaction cancelled, please refer cancellation reasons "
                      "for specific reasons [%s]", codes);
        goto out;
    }
    if (token)
        ddb_store_token(ddb_conn_store(cx->conn), token, tokl, sum, cx->now, 1);
    jw_lit(&cx->out, "{}");
out:
    for (i = 0; s && i < MAX_TRANSACT; i++) {
        if (i < n)
            ddb__single_fini(&s[i]);
        if (old)
            ddb_val_free(&old[i]);
    }
    free(s);
    free(kind);
    free(old);
    free(have);
    return rc;
}
