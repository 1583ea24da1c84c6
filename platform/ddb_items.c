/*
 * Items in the store (see ddb_store.c for the layout): reading, writing
 * and deleting one item by its stored key, and the rows of its table's
 * indexes kept in step in the same transaction (an item missing an index
 * key attribute is not in that index: sparse indexes).  Under the store's
 * lock, inside a write transaction for writes.
 */
#include "ddb_int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

int ddb_table_needs_old(const ddb_table *t)
{
    return t->n_indexes > 0;
}

static void bind_key(sqlite3_stmt *st, int first, const ddb_keyenc *k)
{
    sqlite3_bind_blob(st, first, k->h, 8, SQLITE_STATIC);
    sqlite3_bind_blob(st, first + 1, k->pk, (int)k->pkl, SQLITE_STATIC);
    sqlite3_bind_blob(st, first + 2, k->skl ? (const void *)k->sk : "", (int)k->skl,
                      SQLITE_STATIC);
}

int ddb_item_read(ddb_conn *c, const ddb_table *t, const ddb_keyenc *k, char **json,
                  size_t *len, ddb_err *e)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT item FROM \"i%lld\" WHERE h = ?1 AND pk = ?2 AND sk = ?3",
             t->id);
    sqlite3_stmt *st = ddb_stmt(c, sql, e);
    if (!st)
        return -1;
    bind_key(st, 1, k);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        *json = malloc(n + 1);
        if (!*json) {
            sqlite3_reset(st);
            ddb_fail(e, DDB_EINTERNAL, "out of memory");
            return -1;
        }
        memcpy(*json, s, n);
        (*json)[n] = 0;
        *len = n;
        sqlite3_reset(st);
        return 1;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        ddb__db_fail(c, e, "read");
        return -1;
    }
    return 0;
}

/* The index key of item for index k (0 when the item is not in it). */
static int index_key(const ddb_index *ix, const ddb_val *item, ddb_keyenc *g)
{
    const ddb_val *hv = ddb_map_get(item, ix->hash.name, strlen(ix->hash.name));
    const ddb_val *rv = ix->range.name[0] ? ddb_map_get(item, ix->range.name,
                                                        strlen(ix->range.name)) : NULL;
    if (!hv || hv->type != ix->hash.type || (ix->range.name[0] && (!rv ||
                                                                  rv->type != ix->range.type)))
        return 0;
    g->pkl = ddb_key_bytes(hv, g->pk, sizeof g->pk);
    g->skl = rv ? ddb_key_bytes(rv, g->sk, sizeof g->sk) : 0;
    ddb_key_hash(g->pk, g->pkl, g->h);
    return 1;
}

/* The size of item as index ix projects it. */
static size_t projected_size(const ddb_table *t, const ddb_index *ix, const ddb_val *item)
{
    if (ix->proj == DDB_P_ALL)
        return ddb_item_size(item);
    size_t s = 0;
    for (size_t i = 0; i < item->n; i++) {
        const ddb_pair *p = &item->m[i];
        int keep = ddb_is_key(t, NULL, p->k, p->kl) || ddb_is_key(t, ix, p->k, p->kl);
        for (size_t j = 0; !keep && j < ix->n_nonkey; j++)
            keep = !strcmp(ix->nonkey[j], p->k);
        if (keep)
            s += p->kl + ddb_val_size(&p->v);
    }
    return s;
}

int ddb__index_rows(ddb_conn *c, const ddb_table *t, const ddb_keyenc *k, const ddb_val *item,
                    int insert, ddb_err *e)
{
    char sql[200];
    for (size_t i = 0; i < t->n_indexes; i++) {
        ddb_keyenc g;
        if (!item || !index_key(&t->idx[i], item, &g))
            continue;
        if (insert)
            snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO \"x%lld_%zu\" VALUES(?1, ?2, ?3, ?4, "
                     "?5, ?6, ?7)", t->id, i);
        else
            snprintf(sql, sizeof sql, "DELETE FROM \"x%lld_%zu\" WHERE gh = ?1 AND gpk = ?2 AND "
                     "gsk = ?3 AND h = ?4 AND pk = ?5 AND sk = ?6", t->id, i);
        sqlite3_stmt *st = ddb_stmt(c, sql, e);
        if (!st)
            return e->code;
        bind_key(st, 1, &g);
        bind_key(st, 4, k);
        if (insert)
            sqlite3_bind_int64(st, 7, (sqlite3_int64)projected_size(t, &t->idx[i], item));
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return ddb__db_fail(c, e, "index");
    }
    return 0;
}

int ddb_item_write(ddb_conn *c, const ddb_table *t, const ddb_keyenc *k, const ddb_val *item,
                   const char *json, size_t len, const ddb_val *old, ddb_err *e)
{
    char sql[128];
    if (old && ddb__index_rows(c, t, k, old, 0, e))
        return e->code;
    snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO \"i%lld\" VALUES(?1, ?2, ?3, ?4, ?5)",
             t->id);
    sqlite3_stmt *st = ddb_stmt(c, sql, e);
    if (!st)
        return e->code;
    bind_key(st, 1, k);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)ddb_item_size(item));
    sqlite3_bind_text(st, 5, json, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return ddb__db_fail(c, e, "write");
    return ddb__index_rows(c, t, k, item, 1, e);
}

int ddb_item_delete(ddb_conn *c, const ddb_table *t, const ddb_keyenc *k, const ddb_val *old,
                    ddb_err *e)
{
    char sql[128];
    if (old && ddb__index_rows(c, t, k, old, 0, e))
        return e->code;
    snprintf(sql, sizeof sql, "DELETE FROM \"i%lld\" WHERE h = ?1 AND pk = ?2 AND sk = ?3", t->id);
    sqlite3_stmt *st = ddb_stmt(c, sql, e);
    if (!st)
        return e->code;
    bind_key(st, 1, k);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return ddb__db_fail(c, e, "delete");
    return 0;
}

