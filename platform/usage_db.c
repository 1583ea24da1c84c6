/*
 * The usage store's SQLite side (see usage.h): the schema, generated key
 * values, plans' first periods, stored counts, and the writer thread that
 * adds the counts made in memory to the database (one IMMEDIATE
 * transaction per round, an upsert per key-plan-period that returns the
 * total, which becomes the in-memory base: other processes' counts
 * included).  WAL with synchronous=NORMAL: a commit is a write to the WAL
 * without fsync (it survives the process, not the machine); checkpoints
 * run in this thread too.  SQLITE_BUSY is waited out (busy timeout 5 s)
 * and a failed round is retried, its counts kept in memory.
 */
#define _GNU_SOURCE
#include "usage_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "clock.h"

#define BUSY_TIMEOUT_MS 5000
#define RETRY_MS 200
/* Rounds are at least this far apart: under load one transaction carries
 * the counts of many requests (a round per request kept a third of a core
 * busy at 30,000 requests/s), and a count reaches the file within it. */
#define WRITE_INTERVAL_MS 10

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS api_keys(key_id TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS plans(plan_id TEXT PRIMARY KEY, created_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS usage(key_id TEXT NOT NULL, plan_id TEXT NOT NULL,"
    " period_start INTEGER NOT NULL, count INTEGER NOT NULL,"
    " PRIMARY KEY(key_id, plan_id, period_start)) WITHOUT ROWID;";

/* Records the database's error; returns UP_EDB.  Under dbmu. */
static int db_fail(up_store *s, const char *what)
{
    snprintf(s->dberr, sizeof s->dberr, "%s: %s", what, sqlite3_errmsg(s->db));
    return UP_EDB;
}

int up__db_open(up_store *s, const char *path)
{
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        return db_fail(s, path);
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    sqlite3_stmt *st = NULL;
    /* (the mode is the file's: a second process finds it set) */
    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW || !sqlite3_column_text(st, 0) ||
        strcmp((const char *)sqlite3_column_text(st, 0), "wal")) {
        int rc = db_fail(s, "journal_mode=WAL");
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    if (sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(s->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(s, "schema");
    return UP_OK;
}

/* Runs sql with text/integer arguments ("t" / "i" in types) and, when
 * out is not NULL, reads column 0 of the first row (text: malloc'd into
 * *(char **)out; integer: *(long long *)out).  1 when there was a row,
 * 0 when none, -1 on error.  Under dbmu. */
static int db_run(up_store *s, const char *sql, const char *types, const void *const *args,
                  char rtype, void *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, "prepare"), -1;
    for (int i = 0; types[i]; i++) {
        if (types[i] == 't')
            sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_STATIC);
        else
            sqlite3_bind_int64(st, i + 1, *(const long long *)args[i]);
    }
    int rc = sqlite3_step(st), row = rc == SQLITE_ROW;
    if (row && out && rtype == 't') {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        *(char **)out = t ? strdup(t) : NULL;
        if (!*(char **)out)
            rc = SQLITE_NOMEM;
    } else if (row && out) {
        *(long long *)out = sqlite3_column_int64(st, 0);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        db_fail(s, sql);
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return row;
}

/* A value as AWS generates them: 40 characters of [A-Za-z0-9]. */
static void generate(char out[UP_KEY_GENERATED_LEN + 1])
{
    static const char ALNUM[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t n = 0;
    while (n < UP_KEY_GENERATED_LEN) {
        unsigned char b[64];
        if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
            clk_random(b, sizeof b);
        for (size_t i = 0; i < sizeof b && n < UP_KEY_GENERATED_LEN; i++)
            if (b[i] < 248) /* 4 × 62: no bias */
                out[n++] = ALNUM[b[i] % 62];
    }
    out[n] = 0;
}

int up__db_key_value(up_store *s, const char *id, char **out)
{
    *out = NULL;
    char gen[UP_KEY_GENERATED_LEN + 1];
    generate(gen);
    const void *a[] = {id, gen};
    pthread_mutex_lock(&s->dbmu);
    /* a second process may store its own first: read back what won */
    int rc = db_run(s, "INSERT OR IGNORE INTO api_keys VALUES(?1, ?2)", "tt", a, 0, NULL);
    if (rc >= 0)
        rc = db_run(s, "SELECT value FROM api_keys WHERE key_id = ?1", "t", a, 't', out);
    pthread_mutex_unlock(&s->dbmu);
    if (rc < 0)
        return UP_EDB;
    return *out ? UP_OK : UP_ENOMEM;
}

int up__db_plan_first(up_store *s, const char *plan, long long now_ms, long long *first_ms)
{
    const void *a[] = {plan, &now_ms};
    pthread_mutex_lock(&s->dbmu);
    int rc = db_run(s, "INSERT OR IGNORE INTO plans VALUES(?1, ?2)", "ti", a, 0, NULL);
    if (rc >= 0)
        rc = db_run(s, "SELECT created_ms FROM plans WHERE plan_id = ?1", "t", a, 'i', first_ms);
    pthread_mutex_unlock(&s->dbmu);
    return rc < 0 ? UP_EDB : UP_OK;
}

int up__db_count(up_store *s, const char *key, const char *plan, long long period,
                 long long *count)
{
    *count = 0;
    const void *a[] = {key, plan, &period};
    pthread_mutex_lock(&s->dbmu);
    int rc = db_run(s,
                    "SELECT count FROM usage WHERE key_id = ?1 AND plan_id = ?2 AND "
                    "period_start = ?3",
                    "tti", a, 'i', count);
    pthread_mutex_unlock(&s->dbmu);
    return rc < 0 ? UP_EDB : UP_OK;
}

/* ---- writing counts ---- */

typedef struct delta {
    size_t assoc;
    long long period, n, total;
    int current;                 /* of the assoc's current period */
} delta;

/* Takes the counts to write from every pair into d[] (at most 2 each). */
static size_t collect(up_store *s, delta *d)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_assocs; i++) {
        up__assoc *a = &s->assocs[i];
        if (!s->plans[a->plan].has_quota)
            continue;
        pthread_mutex_lock(&a->mu);
        if (a->pending) {
            d[n++] = (delta){i, a->period, a->pending, 0, 1};
            a->inflight += a->pending;
            a->pending = 0;
        }
        if (a->old_pending) {
            d[n++] = (delta){i, a->old_period, a->old_pending, 0, 0};
            a->old_pending = 0;
        }
        pthread_mutex_unlock(&a->mu);
    }
    return n;
}

/* Settles d[] after the transaction: written (totals read back become the
 * base) or not (counts returned to the pairs, for the next round). */
static void settle(up_store *s, const delta *d, size_t n, int written)
{
    for (size_t i = 0; i < n; i++) {
        up__assoc *a = &s->assocs[d[i].assoc];
        pthread_mutex_lock(&a->mu);
        int same = d[i].current && a->period == d[i].period;
        if (same) {
            a->inflight -= d[i].n;
            if (written)
                a->base = d[i].total;
            else
                a->pending += d[i].n;
        } else if (!written && (!a->old_pending || a->old_period == d[i].period)) {
            a->old_period = d[i].period;
            a->old_pending += d[i].n;
        }
        pthread_mutex_unlock(&a->mu);
    }
}

int up_flush(up_store *s)
{
    if (!s->started)
        return UP_OK;
    pthread_mutex_lock(&s->dbmu);
    delta *d = malloc((2 * s->n_assocs + 1) * sizeof *d);
    if (!d) {
        pthread_mutex_unlock(&s->dbmu);
        atomic_store(&s->dirty, 1);
        return UP_ENOMEM;
    }
    size_t n = collect(s, d);
    int ok = 1;
    if (n && sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        db_fail(s, "BEGIN IMMEDIATE");
        ok = 0;
    }
    for (size_t i = 0; i < n && ok; i++) {
        const up__assoc *a = &s->assocs[d[i].assoc];
        const void *args[] = {s->keys[a->key].id, s->plans[a->plan].id, &d[i].period, &d[i].n};
        ok = db_run(s,
                    "INSERT INTO usage VALUES(?1, ?2, ?3, ?4) ON CONFLICT(key_id, plan_id, "
                    "period_start) DO UPDATE SET count = count + excluded.count RETURNING count",
                    "ttii", args, 'i', &d[i].total) == 1;
    }
    if (n && ok && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        ok = !db_fail(s, "COMMIT");
    if (n && !ok)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_unlock(&s->dbmu);
    settle(s, d, n, ok);
    free(d);
    if (!ok)
        atomic_store(&s->dirty, 1);
    return ok ? UP_OK : UP_EDB;
}

/* ---- the writer thread ---- */

void up__wake(up_store *s)
{
    /* the writer knows: a read first, so that requests do not write the
     * shared flag (its cache line) each time (the count's mutex orders
     * this read after the writer's reset) */
    if (atomic_load(&s->dirty) || atomic_exchange(&s->dirty, 1))
        return;
    pthread_mutex_lock(&s->wmu);
    pthread_cond_signal(&s->wcv);
    pthread_mutex_unlock(&s->wmu);
}

static void *writer_main(void *arg)
{
    up_store *s = arg;
    pthread_mutex_lock(&s->wmu);
    while (!s->stop) {
        if (!atomic_load(&s->dirty)) {
            pthread_cond_wait(&s->wcv, &s->wmu);
            continue;
        }
        pthread_mutex_unlock(&s->wmu);
        atomic_store(&s->dirty, 0);
        /* a failed round keeps its counts: the next one tries again */
        long ms = up_flush(s) == UP_OK ? WRITE_INTERVAL_MS : RETRY_MS;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += ms * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_mutex_lock(&s->wmu);
        /* the pause between rounds (wake-ups ignored; up_free cuts it short) */
        while (!s->stop && pthread_cond_timedwait(&s->wcv, &s->wmu, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&s->wmu);
    return NULL;
}

int up__writer_start(up_store *s)
{
    if (pthread_create(&s->writer, NULL, writer_main, s)) {
        snprintf(s->dberr, sizeof s->dberr, "cannot start the usage writer thread");
        return UP_ENOMEM;
    }
    s->writer_running = 1;
    return UP_OK;
}

void up__writer_stop(up_store *s)
{
    if (!s->writer_running)
        return;
    pthread_mutex_lock(&s->wmu);
    s->stop = 1;
    pthread_cond_signal(&s->wcv);
    pthread_mutex_unlock(&s->wmu);
    pthread_join(s->writer, NULL);
    s->writer_running = 0;
    up_flush(s); /* what was counted last */
}
