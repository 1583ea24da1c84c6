/*
 * API keys and usage plans of REST APIs (../shared/specs/
 * apigw-rest-auth-runtimes.md §2): keys (generated like AWS's 40-character
 * values where the template gives none, and kept stable across restarts),
 * plans with a throttle (a token bucket per key, optionally per API
 * stage method) and a quota (requests per key per DAY, WEEK or MONTH),
 * plan-key associations, and the check API Gateway makes for a method
 * that requires a key: 403 Forbidden, 429 Too Many Requests, 429 Limit
 * Exceeded, or pass.
 *
 * Usage is counted in memory on the hot path (a mutex per key-plan pair,
 * no I/O) and written to SQLite (WAL, synchronous=NORMAL) by a writer
 * thread of the store, woken by the first count after each write, its
 * rounds at least 10 ms apart: a count reaches the file within about
 * 10 ms, so counts survive a restart and a kill -9 of the platform (but
 * not a power loss, for synchronous=NORMAL).  Two processes may share the
 * database file: the writer adds deltas and reads back the total, so each
 * sees the other's usage one write later; SQLITE_BUSY is waited out (busy
 * timeout) by the writer, never seen by a request.
 *
 * Life cycle: up_new, then up_key_add / up_plan_* / up_plan_key (one
 * thread), then up_start; after it up_check may be called by any number of
 * threads at once; up_free last.
 */
#ifndef NERD_USAGE_H
#define NERD_USAGE_H

#include <stddef.h>

#define UP_DEFAULT_DB ".nerd/usage.sqlite3"
#define UP_KEY_GENERATED_LEN 40
#define UP_KEY_VALUE_MIN 20
#define UP_KEY_VALUE_MAX 128
#define UP_NAME_MAX 1024
#define UP_ID_MAX 256

typedef enum up_err {
    UP_OK = 0,
    UP_ENOMEM,       /* out of memory */
    UP_EDB,          /* SQLite failed (up_db_error says how) */
    UP_EINVAL,       /* a value API Gateway refuses (key value, limits, names) */
    UP_EEXIST,       /* a key or plan id, or a key value, given twice */
    UP_ENOENT,       /* a plan or key id not added */
    UP_ECONFLICT,    /* a key in two plans of one stage */
    UP_ESTATE        /* a setup call after up_start, or up_check before it */
} up_err;

/* A static description of err. */
const char *up_strerror(int err);

typedef enum up_period { UP_DAY, UP_WEEK, UP_MONTH } up_period;

typedef struct up_store up_store;

/* Opens (creating) the usage database at db_path (NULL: UP_DEFAULT_DB,
 * its folder made if missing) in WAL mode.  UP_OK and *out, or UP_EDB /
 * UP_ENOMEM (*out NULL).  Free with up_free. */
int up_new(const char *db_path, up_store **out);

/* Flushes the counts not yet written, stops the writer, closes the
 * database.  up_free(NULL) is a no-op. */
void up_free(up_store *s);

/* The last SQLite error message ("" when none); not synchronised with
 * the writer thread: for messages after a failed call. */
const char *up_db_error(up_store *s);

/* Adds key id (the template's logical id) named name (NULL: id) with
 * value (NULL: the value generated for id in an earlier run, else a new
 * random 40-character alphanumeric one, stored in the database).  Values
 * given must be 20-128 printable ASCII characters without spaces, and
 * unique.  *value_out (may be NULL): the key's value, valid for the
 * store's life, to print at start-up.  UP_OK, UP_EINVAL, UP_EEXIST,
 * UP_EDB, UP_ENOMEM, UP_ESTATE. */
int up_key_add(up_store *s, const char *id, const char *name, const char *value, int enabled,
               const char **value_out);

/* Adds plan id (name: NULL = id). */
int up_plan_add(up_store *s, const char *id, const char *name);

/* The plan's Throttle: a token bucket per key of burst tokens refilled at
 * rate per second (burst 0: rate; both 0: every request throttled). */
int up_plan_throttle(up_store *s, const char *plan, double rate, long burst);

/* The plan's Quota: limit requests per key per period, UTC calendar
 * periods (DAY from 00:00, WEEK from Sunday 00:00, MONTH from the 1st);
 * offset: requests subtracted from the limit in the plan's first period
 * (the API reference's meaning, spec §2.3). */
int up_plan_quota(up_store *s, const char *plan, long long limit, up_period period,
                  long long offset);

/* Adds an API stage to the plan (ApiStages[]: api as the caller names its
 * APIs in up_check). */
int up_plan_stage(up_store *s, const char *plan, const char *api, const char *stage);

/* A per-method throttle of ApiStages[].Throttle: method_path as AWS writes
 * it, "/RESOURCE/METHOD" ("/items/{id}/GET", "//GET" for the root, method
 * "*" for all); it replaces the plan's throttle for that method (a bucket
 * per key).  The stage must have been added. */
int up_plan_method_throttle(up_store *s, const char *plan, const char *api, const char *stage,
                            const char *method_path, double rate, long burst);

/* Associates key with plan (UsagePlanKey). */
int up_plan_key(up_store *s, const char *plan, const char *key);

/* Ends the setup: checks that no key is in two plans of one stage
 * (UP_ECONFLICT), records each plan's first period, loads the counts of
 * the periods that contain now_ms (epoch milliseconds) and starts the
 * writer thread.  UP_OK, UP_ECONFLICT, UP_EDB, UP_ENOMEM, UP_ESTATE. */
int up_start(up_store *s, long long now_ms);

/* Where the key comes from (RestApi ApiKeySourceType). */
typedef enum up_key_source { UP_SOURCE_HEADER, UP_SOURCE_AUTHORIZER } up_key_source;

/* The key value to check: HEADER → the x-api-key header's value;
 * AUTHORIZER → the authorizer's usageIdentifierKey (the header ignored).
 * Either may be NULL (absent). */
const char *up_key_value(up_key_source src, const char *header, const char *authorizer_key);

typedef enum up_verdict {
    UP_PASS = 0,     /* go on */
    UP_FORBIDDEN,    /* key missing, unknown, disabled, or in no plan of this stage: 403 */
    UP_THROTTLED,    /* the plan's (or method's) bucket is empty: 429 */
    UP_QUOTA         /* the period's quota is spent: 429 Limit Exceeded */
} up_verdict;

/* The check of §2.3 steps 3-5 for key value[0..len) (NULL: absent) on
 * api's stage, method on resource (the resource template, "/items/{id}"),
 * at now_ms (epoch milliseconds; injected by tests).  A request that
 * passes counts toward the quota.  *key_id (may be NULL): the key's id
 * (for requestContext.identity.apiKeyId) when the key is known, else
 * NULL; valid for the store's life.  Thread safe; no I/O. */
up_verdict up_check(up_store *s, const char *value, size_t len, const char *api,
                    const char *stage, const char *resource, const char *method, long long now_ms,
                    const char **key_id);

/* A gateway answer; strings are static. */
typedef struct up_answer {
    int status;              /* 0 for UP_PASS */
    const char *body;
    size_t body_len;
    const char *content_type;
    const char *error_type;  /* x-amzn-ErrorType */
} up_answer;

/* The answer for v (§1.5, §2.3; no Retry-After). */
void up_answer_of(up_verdict v, up_answer *out);

/* Writes the counts not yet written now, in the calling thread (tests,
 * shutdown; it does I/O and may wait for the database).  Thread safe.
 * UP_OK or UP_EDB. */
int up_flush(up_store *s);

/* Requests counted for key in plan during the period that contains now_ms
 * (this process's counts and those last read back from the database), or
 * -1 when the pair is unknown or the plan has no quota.  Thread safe; a
 * period other than the current one is read from the database (I/O: not
 * for the request path). */
long long up_usage(up_store *s, const char *key, const char *plan, long long now_ms);

/* The start (epoch ms, UTC) of the period that contains t.  Pure. */
long long up_period_start(up_period p, long long t);

#endif
