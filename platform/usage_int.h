/*
 * Internals shared by usage.c (keys, plans, the check) and usage_db.c
 * (SQLite and the writer thread).  Not for use outside them.
 */
#ifndef NERD_USAGE_INT_H
#define NERD_USAGE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "usage.h"

typedef struct up__bucket {
    double tokens;
    long long last;              /* ms of the last refill; 0: full, never used */
} up__bucket;

typedef struct up__mthrottle {
    size_t stage;                /* index into the plan's stages */
    char resource[UP_ID_MAX];
    char method[16];             /* or "*" */
    double rate;
    long burst;
} up__mthrottle;

typedef struct up__stage {
    char api[UP_ID_MAX];
    char stage[UP_ID_MAX];
} up__stage;

typedef struct up__plan {
    char id[UP_ID_MAX];
    char *name;
    int has_throttle, has_quota;
    double rate;
    long burst;
    long long limit, offset;
    up_period period;
    long long first_period;      /* start of the plan's first period */
    up__stage *stages;
    size_t n_stages;
    up__mthrottle *mt;
    size_t n_mt;
} up__plan;

/* A key in a plan: its buckets and its count for the current period. */
typedef struct up__assoc {
    size_t plan, key;
    pthread_mutex_t mu;
    up__bucket bucket;
    up__bucket *mbuckets;        /* one per plan's mt[] */
    long long period;            /* start of the period counted */
    long long base;              /* its count in the database, last read */
    long long inflight;          /* being written by the writer */
    long long pending;           /* counted here since */
    long long old_period, old_pending; /* the period before, not yet written */
} up__assoc;

typedef struct up__key {
    char id[UP_ID_MAX];
    char *name, *value;
    size_t value_len;
    int enabled;
} up__key;

struct up_store {
    sqlite3 *db;
    pthread_mutex_t dbmu;        /* db and dberr */
    char dberr[256];
    up__key *keys;
    size_t n_keys;
    up__plan *plans;
    size_t n_plans;
    up__assoc *assocs;
    size_t n_assocs;
    size_t *index;               /* by value hash: key index + 1, 0 empty */
    size_t n_index;              /* a power of two */
    int started;
    pthread_t writer;
    int writer_running;
    pthread_mutex_t wmu;         /* stop, with wcv */
    pthread_cond_t wcv;
    atomic_int dirty;            /* counts wait to be written */
    int stop;
};

/* Opens path (creating the schema) into s->db.  UP_OK or UP_EDB. */
int up__db_open(up_store *s, const char *path);

/* The value stored for generated key id, else a new one generated and
 * stored (*out: malloc'd).  UP_OK, UP_EDB, UP_ENOMEM. */
int up__db_key_value(up_store *s, const char *id, char **out);

/* The plan's first-seen time (recorded as now_ms if it has none). */
int up__db_plan_first(up_store *s, const char *plan, long long now_ms, long long *first_ms);

/* The stored count of key in plan for period (0 when none). */
int up__db_count(up_store *s, const char *key, const char *plan, long long period,
                 long long *count);

/* Starts / stops (after a last flush) the writer thread. */
int up__writer_start(up_store *s);
void up__writer_stop(up_store *s);

/* Tells the writer that counts wait (cheap when it already knows). */
void up__wake(up_store *s);

#endif
