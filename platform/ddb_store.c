/*
 * The DynamoDB service's SQLite store (spec §10): DIR/dynamodb.db in WAL
 * mode, one catalog table (ddb_tables: name, id, created, the definition
 * as JSON) and per DynamoDB table one SQLite table "i<id>" (h, pk, sk,
 * size, item) keyed (h, pk, sk) WITHOUT ROWID, where h is an 8-byte hash
 * of the partition key (Scan order: stable, not key order) and pk / sk
 * are the key values as bytes whose memcmp order is DynamoDB's (S and B
 * raw, N order-preserving); each index is a table "x<id>_<k>" (gh, gpk,
 * gsk, h, pk, sk, size), written in the same transaction as the item.
 *
 * Concurrency: one connection, in locking_mode=EXCLUSIVE, used by every
 * thread one request at a time (ddb_store_lock): the service's threads
 * share its page cache, and no read or write takes a file lock (measured:
 * the per-thread connections this replaced spent more than half of a
 * request's CPU time in fcntl() and in re-reading pages another
 * connection's write had invalidated).  So requests never meet
 * SQLITE_BUSY; a second process on the same directory is refused at open
 * (after the busy handler has waited 5 s for it, counting the waits).
 * Group commit: a write is a SAVEPOINT inside the open transaction
 * (ddb_wbegin / ddb_wend: RELEASE, or ROLLBACK TO on failure), and the
 * transaction is committed by ddb_store_commit(): the HTTP front commits at
 * the end of each round of its event loop and only then answers the
 * round's requests, so one commit covers every write that arrived
 * together.  synchronous=NORMAL: a commit is written to the WAL before any
 * request it covers is answered, so an acknowledged write survives the
 * process being killed (FULL, on request, also survives the machine losing
 * power).
 */
#define _GNU_SOURCE
#include "ddb_int.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CACHE 48                /* prepared statements per connection */
/* page cache 8 MB; a checkpoint every 10,000 WAL pages (40 MB: the pages
 * written again meanwhile are copied once).  The WAL keeps its size after
 * a checkpoint (a limit above 10,000 frames of 4 KB + 24 bytes): the next
 * commits overwrite it in place (measured: truncating it to 4 MB and
 * growing it again, an ftruncate and a block allocation for every new
 * page, cost a PutItem about 5 of its 27 us of CPU); only a WAL grown
 * past the limit by a large transaction is truncated back. */
#define CACHE_KB 8192
#define CHECKPOINT_PAGES 10000
#define WAL_KEEP (48 << 20)
#define BUSY_WAIT_MS 5000

struct ddb_store {
    char path[PATH_MAX];
    int sync_full;
    ddb_conn *conn;             /* the connection */
    pthread_mutex_t rmu;        /* one request at a time on it */
    pthread_mutex_t wmu;        /* one write transaction at a time */
    pthread_rwlock_t cat;       /* the catalog list */
    ddb_table *tables;          /* newest first; dropped ones kept until close */
    long long next_id;
    atomic_ullong writes, busy;
    int txn_open;               /* a transaction is open, not yet committed */
    unsigned long long gen, failed_gen;     /* its number; the last that failed */
    pthread_mutex_t tmu;        /* client request tokens */
    struct token {
        char tok[40];
        uint64_t hash;
        double at;
    } *tokens;
    size_t n_tokens, cap_tokens;
};

#define TOKEN_TTL 600.0
#define MAX_TOKENS 100000

struct ddb_conn {
    ddb_store *s;
    sqlite3 *db;
    struct {
        char *sql;
        sqlite3_stmt *st;
    } cache[CACHE];
    size_t n_cache, evict;
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS ddb_tables(name TEXT PRIMARY KEY, id INTEGER NOT NULL UNIQUE,"
    " created REAL NOT NULL, def TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS ddb_meta(k TEXT PRIMARY KEY, v INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO ddb_meta VALUES('next_id', 1);"
    "INSERT OR IGNORE INTO ddb_meta VALUES('version', 1);";

int ddb__db_fail(ddb_conn *c, ddb_err *e, const char *what)
{
    const char *m = sqlite3_errmsg(c->db);
    if (strstr(m, "no such table"))     /* dropped while the request ran */
        return ddb_fail(e, DDB_ENOTFOUND, "Requested resource not found");
    return ddb_fail(e, DDB_EINTERNAL, "store: %s: %s", what, m);
}

static int on_busy(void *arg, int n)
{
    ddb_store *s = arg;
    atomic_fetch_add(&s->busy, 1);
    if (n * 5 >= BUSY_WAIT_MS)
        return 0;
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
    return 1;
}

static sqlite3 *open_db(ddb_store *s, ddb_err *e)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        ddb_fail(e, DDB_EINTERNAL, "%s: %s", s->path, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_handler(db, on_busy, s);
    sqlite3_extended_result_codes(db, 1);
    char sql[256];
    /* before WAL is first used: then no shared memory, no shm locks */
    snprintf(sql, sizeof sql, "PRAGMA locking_mode=EXCLUSIVE; PRAGMA synchronous=%s; "
             "PRAGMA cache_size=-%d; PRAGMA wal_autocheckpoint=%d; "
             "PRAGMA journal_size_limit=%d", s->sync_full ? "FULL" : "NORMAL", CACHE_KB,
             CHECKPOINT_PAGES, WAL_KEEP);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        ddb_fail(e, DDB_EINTERNAL, "%s: %s", s->path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static ddb_conn *conn_new(ddb_store *s, ddb_err *e)
{
    ddb_conn *c = calloc(1, sizeof *c);
    if (!c) {
        ddb_fail(e, DDB_EINTERNAL, "out of memory");
        return NULL;
    }
    c->s = s;
    if (!(c->db = open_db(s, e))) {
        free(c);
        return NULL;
    }
    return c;
}

static void conn_free(ddb_conn *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_cache; i++) {
        sqlite3_finalize(c->cache[i].st);
        free(c->cache[i].sql);
    }
    sqlite3_close(c->db);
    free(c);
}

ddb_store *ddb_conn_store(ddb_conn *c)
{
    return c->s;
}

ddb_conn *ddb_store_conn(ddb_store *s)
{
    return s->conn;
}

void ddb_store_lock(ddb_store *s)
{
    pthread_mutex_lock(&s->rmu);
}

void ddb_store_unlock(ddb_store *s)
{
    pthread_mutex_unlock(&s->rmu);
}

void *ddb_stmt(ddb_conn *c, const char *sql, ddb_err *e)
{
    for (size_t i = 0; i < c->n_cache; i++)
        if (!strcmp(c->cache[i].sql, sql)) {
            sqlite3_reset(c->cache[i].st);
            sqlite3_clear_bindings(c->cache[i].st);
            return c->cache[i].st;
        }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        ddb__db_fail(c, e, "prepare");
        return NULL;
    }
    char *copy = strdup(sql);
    if (!copy) {
        sqlite3_finalize(st);
        ddb_fail(e, DDB_EINTERNAL, "out of memory");
        return NULL;
    }
    size_t k;
    if (c->n_cache < CACHE) {
        k = c->n_cache++;
    } else {    /* the oldest goes (a request holds a few statements at most at once) */
        k = c->evict++ % CACHE;
        sqlite3_finalize(c->cache[k].st);
        free(c->cache[k].sql);
    }
    c->cache[k].sql = copy;
    c->cache[k].st = st;
    return st;
}

/* Runs a statement without results. */
static int exec_sql(ddb_conn *c, const char *sql, ddb_err *e)
{
    if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return ddb__db_fail(c, e, sql);
    return 0;
}

/* ---- the catalog ---- */

static ddb_table *load_def(const char *def, long long id, double created)
{
    json_error_t je;
    ddb_err e = {0};
    json_t *j = json_loads(def, 0, &je);
    ddb_table *t = calloc(1, sizeof *t);
    if (!j || !t || ddb_table_from_json(j, t, &e)) {
        json_decref(j);
        free(t);
        return NULL;
    }
    json_decref(j);
    t->id = id;
    t->created = created;
    return t;
}

static int load_catalog(ddb_conn *c, ddb_err *e)
{
    sqlite3_stmt *st = ddb_stmt(c, "SELECT name, id, created, def FROM ddb_tables ORDER BY id", e);
    if (!st)
        return e->code;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        ddb_table *t = load_def((const char *)sqlite3_column_text(st, 3),
                                sqlite3_column_int64(st, 1), sqlite3_column_double(st, 2));
        if (!t) {
            sqlite3_reset(st);
            return ddb_fail(e, DDB_EINTERNAL, "store: table %s: its stored definition does not "
                            "read", name ? name : "?");
        }
        t->next = c->s->tables;
        c->s->tables = t;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return ddb__db_fail(c, e, "catalog");
    st = ddb_stmt(c, "SELECT v FROM ddb_meta WHERE k = 'next_id'", e);
    if (!st)
        return e->code;
    c->s->next_id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 1;
    sqlite3_reset(st);
    return 0;
}

int ddb_store_open(const char *dir, int sync_full, ddb_store **out, ddb_err *e)
{
    *out = NULL;
    ddb_store *s = calloc(1, sizeof *s);
    if (!s)
        return ddb_fail(e, DDB_EINTERNAL, "out of memory");
    s->sync_full = sync_full;
    pthread_mutex_init(&s->rmu, NULL);
    pthread_mutex_init(&s->wmu, NULL);
    pthread_mutex_init(&s->tmu, NULL);
    pthread_rwlock_init(&s->cat, NULL);
    /* the directory, and its parents (".nerd/dynamodb") */
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s", dir);
    for (char *p = d + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(d, 0755);
            *p = '/';
        }
    if (mkdir(d, 0755) && errno != EEXIST) {
        ddb_fail(e, DDB_EINTERNAL, "%s: %s", dir, strerror(errno));
        goto fail;
    }
    if (snprintf(s->path, sizeof s->path, "%s/dynamodb.db", dir) >= (int)sizeof s->path) {
        ddb_fail(e, DDB_EINTERNAL, "%s: path too long", dir);
        goto fail;
    }
    ddb_conn *c = s->conn = conn_new(s, e);
    if (!c)
        goto fail;
    sqlite3_stmt *st = NULL;
    /* (the journal mode is the file's: set once, kept) */
    if (sqlite3_prepare_v2(c->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW || !sqlite3_column_text(st, 0) ||
        strcmp((const char *)sqlite3_column_text(st, 0), "wal")) {
        ddb_fail(e, DDB_EINTERNAL, "%s: cannot use WAL: %s", s->path, sqlite3_errmsg(c->db));
        sqlite3_finalize(st);
        goto fail;
    }
    sqlite3_finalize(st);
    if (exec_sql(c, SCHEMA, e) || load_catalog(c, e)) {
        if (strstr(e->msg, "locked"))
            ddb_fail(e, DDB_EINTERNAL, "%s is in use by another process (a second nerd on the "
                     "same directory?)", s->path);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    ddb_store_close(s);
    return e->code;
}

void ddb_store_close(ddb_store *s)
{
    if (!s)
        return;
    conn_free(s->conn);
    while (s->tables) {
        ddb_table *t = s->tables;
        s->tables = t->next;
        ddb_table_fini(t);
        free(t);
    }
    pthread_mutex_destroy(&s->rmu);
    pthread_mutex_destroy(&s->wmu);
    pthread_mutex_destroy(&s->tmu);
    pthread_rwlock_destroy(&s->cat);
    free(s->tokens);
    free(s);
}

void ddb_store_stats(ddb_store *s, unsigned long long *writes, unsigned long long *busy)
{
    *writes = atomic_load(&s->writes);
    *busy = atomic_load(&s->busy);
}

const ddb_table *ddb_table_get(ddb_conn *c, const char *n, size_t nl)
{
    ddb_table *found = NULL;
    pthread_rwlock_rdlock(&c->s->cat);
    for (ddb_table *t = c->s->tables; t && !found; t = t->next)
        if (!t->dropped && strlen(t->name) == nl && !memcmp(t->name, n, nl))
            found = t;
    pthread_rwlock_unlock(&c->s->cat);
    return found;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int ddb_table_names(ddb_conn *c, const char *after, size_t max, const char ***out,
                    size_t *count, int *more)
{
    size_t n = 0, k = 0;
    *out = NULL;
    *count = 0;
    *more = 0;
    pthread_rwlock_rdlock(&c->s->cat);
    for (ddb_table *t = c->s->tables; t; t = t->next)
        n += !t->dropped;
    const char **all = malloc((n + 1) * sizeof *all);
    for (ddb_table *t = c->s->tables; all && t; t = t->next)
        if (!t->dropped)
            all[k++] = t->name;     /* catalog strings live until the store closes */
    pthread_rwlock_unlock(&c->s->cat);
    if (!all)
        return -1;
    qsort(all, k, sizeof *all, cmp_str);
    size_t from = 0;
    while (after && from < k && strcmp(all[from], after) <= 0)
        from++;
    size_t take = k - from < max ? k - from : max;
    memmove(all, all + from, take * sizeof *all);
    *more = from + take < k;
    *out = all;
    *count = take;
    return 0;
}

/* ---- write transactions ---- */

/* A step of a cached statement without results. */
static int step_sql(ddb_conn *c, const char *sql, ddb_err *e)
{
    sqlite3_stmt *st = ddb_stmt(c, sql, e);
    if (!st)
        return e->code;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : ddb__db_fail(c, e, sql);
}

int ddb_wbegin(ddb_conn *c, ddb_err *e)
{
    ddb_store *s = c->s;
    pthread_mutex_lock(&s->wmu);
    if (!s->txn_open) {
        if (step_sql(c, "BEGIN IMMEDIATE", e)) {
            pthread_mutex_unlock(&s->wmu);
            return e->code;
        }
        s->txn_open = 1;
        s->gen++;
    }
    if (step_sql(c, "SAVEPOINT w", e)) {
        pthread_mutex_unlock(&s->wmu);
        return e->code;
    }
    return 0;
}

int ddb_wend(ddb_conn *c, int ok, ddb_err *e)
{
    ddb_err tmp = {0};
    int rc = 0;
    if (ok) {
        rc = step_sql(c, "RELEASE w", e);
        if (!rc)
            atomic_fetch_add(&c->s->writes, 1);
    }
    if (!ok || rc)
        if (!step_sql(c, "ROLLBACK TO w", &tmp))
            step_sql(c, "RELEASE w", &tmp);
    pthread_mutex_unlock(&c->s->wmu);
    return rc;
}

unsigned long long ddb_store_pending(ddb_store *s)
{
    return s->txn_open ? s->gen : 0;
}

int ddb_store_commit(ddb_store *s, ddb_err *e)
{
    if (!s->txn_open)
        return 0;
    s->txn_open = 0;
    if (step_sql(s->conn, "COMMIT", e)) {
        sqlite3_exec(s->conn->db, "ROLLBACK", NULL, NULL, NULL);
        s->failed_gen = s->gen;
        return e->code;
    }
    return 0;
}

int ddb_store_failed(ddb_store *s, unsigned long long gen)
{
    return gen && gen == s->failed_gen;
}

/* ---- tables ---- */

static int create_sql_tables(ddb_conn *c, const ddb_table *t, int items, ddb_err *e)
{
    char sql[512];
    if (items) {
        snprintf(sql, sizeof sql, "CREATE TABLE \"i%lld\"(h BLOB NOT NULL, pk BLOB NOT NULL, "
                 "sk BLOB NOT NULL, size INTEGER NOT NULL, item TEXT NOT NULL, "
                 "PRIMARY KEY(h, pk, sk)) WITHOUT ROWID", t->id);
        if (exec_sql(c, sql, e))
            return e->code;
    }
    for (size_t k = 0; k < t->n_indexes; k++) {
        snprintf(sql, sizeof sql, "CREATE TABLE \"x%lld_%zu\"(gh BLOB NOT NULL, gpk BLOB NOT NULL, "
                 "gsk BLOB NOT NULL, h BLOB NOT NULL, pk BLOB NOT NULL, sk BLOB NOT NULL, "
                 "size INTEGER NOT NULL, PRIMARY KEY(gh, gpk, gsk, h, pk, sk)) WITHOUT ROWID",
                 t->id, k);
        if (exec_sql(c, sql, e))
            return e->code;
    }
    return 0;
}

static int drop_sql_tables(ddb_conn *c, const ddb_table *t, int items, ddb_err *e)
{
    char sql[128];
    for (size_t k = 0; k < t->n_indexes; k++) {
        snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS \"x%lld_%zu\"", t->id, k);
        if (exec_sql(c, sql, e))
            return e->code;
    }
    if (items) {
        snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS \"i%lld\"", t->id);
        if (exec_sql(c, sql, e))
            return e->code;
    }
    return 0;
}

static const ddb_table *catalog_swap(ddb_conn *c, const ddb_table *old, ddb_table *t,
                                     ddb_table *copy);

int ddb_table_create(ddb_conn *c, ddb_table *t, const ddb_table **created, ddb_err *e)
{
    ddb_table *copy = malloc(sizeof *copy);
    if (!copy)
        return ddb_fail(e, DDB_EINTERNAL, "out of memory");
    if (ddb_wbegin(c, e)) {
        free(copy);
        return e->code;
    }
    int rc = 0;
    if (ddb_table_get(c, t->name, strlen(t->name))) {
        rc = ddb_fail(e, DDB_EINUSE, "Table already exists: %s", t->name);
        goto out;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    t->created = (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000.0;
    t->id = c->s->next_id;
    sqlite3_stmt *st = ddb_stmt(c, "INSERT INTO ddb_tables VALUES(?1, ?2, ?3, ?4)", e);
    if (!st) {
        rc = e->code;
        goto out;
    }
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, t->id);
    sqlite3_bind_double(st, 3, t->created);
    sqlite3_bind_text(st, 4, t->def, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = ddb__db_fail(c, e, "catalog");
        goto out;
    }
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE ddb_meta SET v = %lld WHERE k = 'next_id'", t->id + 1);
    if ((rc = exec_sql(c, sql, e)) || (rc = create_sql_tables(c, t, 1, e)))
        goto out;
out:
    if (ddb_wend(c, !rc, e) && !rc)
        rc = e->code;
    if (!rc && ddb_store_commit(c->s, e))   /* the catalog changes once it is on disk */
        rc = e->code;
    if (rc) {
        free(copy);
        return rc;
    }
    *created = catalog_swap(c, NULL, t, copy);  /* the catalog owns what t held */
    return 0;
}

/* Adds t (moved into a catalog copy) and hides old; after a commit. */
static const ddb_table *catalog_swap(ddb_conn *c, const ddb_table *old, ddb_table *t,
                                     ddb_table *copy)
{
    c->s->next_id = t->id + 1;
    *copy = *t;
    memset(t, 0, sizeof *t);
    pthread_rwlock_wrlock(&c->s->cat);
    if (old)
        ((ddb_table *)old)->dropped = 1;
    copy->next = c->s->tables;
    c->s->tables = copy;
    pthread_rwlock_unlock(&c->s->cat);
    return copy;
}

int ddb_table_redefine(ddb_conn *c, const ddb_table *old, ddb_table *t, int keep_items,
                       const ddb_table **out, ddb_err *e)
{
    ddb_table *copy = malloc(sizeof *copy);
    if (!copy)
        return ddb_fail(e, DDB_EINTERNAL, "out of memory");
    if (ddb_wbegin(c, e)) {
        free(copy);
        return e->code;
    }
    char sql[256];
    int rc = 0;
    t->id = c->s->next_id;
    t->created = old->created;
    sqlite3_stmt *st = ddb_stmt(c, "UPDATE ddb_tables SET id = ?1, def = ?2 WHERE id = ?3", e);
    if (!st) {
        rc = e->code;
        goto out;
    }
    sqlite3_bind_int64(st, 1, t->id);
    sqlite3_bind_text(st, 2, t->def, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, old->id);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = ddb__db_fail(c, e, "catalog");
        goto out;
    }
    snprintf(sql, sizeof sql, "UPDATE ddb_meta SET v = %lld WHERE k = 'next_id'", t->id + 1);
    if ((rc = exec_sql(c, sql, e)) || (rc = create_sql_tables(c, t, 1, e)))
        goto out;
    if (keep_items) {
        snprintf(sql, sizeof sql, "INSERT INTO \"i%lld\" SELECT h, pk, sk, size, item FROM "
                 "\"i%lld\"", t->id, old->id);
        if ((rc = exec_sql(c, sql, e)))
            goto out;
        snprintf(sql, sizeof sql, "SELECT h, pk, sk, item FROM \"i%lld\"", t->id);
        if (!(st = ddb_stmt(c, sql, e))) {
            rc = e->code;
            goto out;
        }
        while (!rc && sqlite3_step(st) == SQLITE_ROW) {
            ddb_keyenc k;
            ddb_val item;
            memcpy(k.h, sqlite3_column_blob(st, 0), 8);
            k.pkl = (size_t)sqlite3_column_bytes(st, 1);
            k.skl = (size_t)sqlite3_column_bytes(st, 2);
            if (k.pkl > sizeof k.pk || k.skl > sizeof k.sk ||
                ddb_map_parse((const char *)sqlite3_column_text(st, 3),
                              (size_t)sqlite3_column_bytes(st, 3), &item)) {
                rc = ddb_fail(e, DDB_EINTERNAL, "store: an item does not read");
                break;
            }
            memcpy(k.pk, sqlite3_column_blob(st, 1), k.pkl);
            if (k.skl)
                memcpy(k.sk, sqlite3_column_blob(st, 2), k.skl);
            rc = ddb__index_rows(c, t, &k, &item, 1, e);
            ddb_val_free(&item);
        }
        sqlite3_reset(st);
    }
    if (!rc)
        rc = drop_sql_tables(c, old, 1, e);
out:
    if (ddb_wend(c, !rc, e) && !rc)
        rc = e->code;
    if (!rc && ddb_store_commit(c->s, e))
        rc = e->code;
    if (rc) {
        free(copy);
        return rc;
    }
    *out = catalog_swap(c, old, t, copy);
    return 0;
}

int ddb_table_drop(ddb_conn *c, const ddb_table *t, ddb_err *e)
{
    if (ddb_wbegin(c, e))
        return e->code;
    int rc = 0;
    sqlite3_stmt *st = ddb_stmt(c, "DELETE FROM ddb_tables WHERE id = ?1", e);
    if (!st)
        rc = e->code;
    else {
        sqlite3_bind_int64(st, 1, t->id);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = ddb__db_fail(c, e, "catalog");
    }
    if (!rc)
        rc = drop_sql_tables(c, t, 1, e);
    if (ddb_wend(c, !rc, e) && !rc)
        rc = e->code;
    if (!rc && ddb_store_commit(c->s, e))
        rc = e->code;
    if (!rc) {
        pthread_rwlock_wrlock(&c->s->cat);
        ((ddb_table *)t)->dropped = 1;
        pthread_rwlock_unlock(&c->s->cat);
    }
    return rc;
}

int ddb_table_counts(ddb_conn *c, const ddb_table *t, long long *items, long long *bytes,
                     long long *ix_items, long long *ix_bytes)
{
    ddb_err e = {0};
    char sql[128];
    for (size_t k = 0; k <= t->n_indexes; k++) {
        if (k == 0)
            snprintf(sql, sizeof sql, "SELECT COUNT(*), TOTAL(size) FROM \"i%lld\"", t->id);
        else
            snprintf(sql, sizeof sql, "SELECT COUNT(*), TOTAL(size) FROM \"x%lld_%zu\"", t->id,
                     k - 1);
        sqlite3_stmt *st = ddb_stmt(c, sql, &e);
        long long n = 0, b = 0;
        if (st && sqlite3_step(st) == SQLITE_ROW) {
            n = sqlite3_column_int64(st, 0);
            b = (long long)sqlite3_column_double(st, 1);
        }
        if (st)
            sqlite3_reset(st);
        if (k == 0) {
            *items = n;
            *bytes = b;
        } else {
            ix_items[k - 1] = n;
            ix_bytes[k - 1] = b;
        }
    }
    return 0;
}

int ddb_store_token(ddb_store *s, const char *tok, size_t n, uint64_t hash, double now,
                    int record)
{
    int seen = 0;
    if (n >= sizeof s->tokens[0].tok)
        return 0;
    pthread_mutex_lock(&s->tmu);
    size_t o = 0;
    for (size_t i = 0; i < s->n_tokens; i++) {     /* drop the expired ones */
        if (now - s->tokens[i].at > TOKEN_TTL)
            continue;
        s->tokens[o++] = s->tokens[i];
    }
    s->n_tokens = o;
    for (size_t i = 0; i < s->n_tokens && !seen; i++)
        if (strlen(s->tokens[i].tok) == n && !memcmp(s->tokens[i].tok, tok, n))
            seen = s->tokens[i].hash == hash ? 1 : 2;
    if (record && !seen && s->n_tokens < MAX_TOKENS) {
        if (s->n_tokens == s->cap_tokens) {
            size_t cap = s->cap_tokens ? 2 * s->cap_tokens : 256;
            struct token *t = realloc(s->tokens, cap * sizeof *t);
            if (t) {
                s->tokens = t;
                s->cap_tokens = cap;
            }
        }
        if (s->n_tokens < s->cap_tokens) {
            struct token *t = &s->tokens[s->n_tokens++];
            memcpy(t->tok, tok, n);
            t->tok[n] = 0;
            t->hash = hash;
            t->at = now;
        }
    }
    pthread_mutex_unlock(&s->tmu);
    return seen;
}
