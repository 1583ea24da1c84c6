/*
 * What the admission stage costs per request (docs/auth.md): up_check()
 * with a throttle and a quota on 1 and N threads (one key, the worst
 * case: every thread on the same key-plan mutex), against the design
 * not chosen (one SQLite upsert transaction per request, WAL,
 * synchronous=NORMAL, as a request would pay it inline); and the
 * authorizer's cache hit + policy decision.  Prints microseconds per
 * operation.  The database lives in a temporary folder, removed at the end.
 *
 *   admission THREADS
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authorizer.h"
#include "usage.h"

#define KEY "abcdefghij0123456789"
#define T0 1718625600000LL

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static up_store *S;
static int N = 200000;

static void *checks(void *arg)
{
    (void)arg;
    for (int i = 0; i < N; i++)
        if (up_check(S, KEY, sizeof KEY - 1, "a", "prod", "/items", "GET", T0, NULL) != UP_PASS)
            abort();
    return NULL;
}

static double inline_sqlite(const char *path, int n)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return -1;
    sqlite3_busy_timeout(db, 5000);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "CREATE TABLE IF NOT EXISTS u(k TEXT, p INTEGER, c INTEGER,"
                     " PRIMARY KEY(k, p)) WITHOUT ROWID;",
                 NULL, NULL, NULL);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db,
                       "INSERT INTO u VALUES('k', 1, 1) ON CONFLICT(k, p) DO UPDATE SET c = c + 1 "
                       "RETURNING c",
                       -1, &st, NULL);
    double t = now_us();
    for (int i = 0; i < n; i++) {
        sqlite3_reset(st);
        if (sqlite3_step(st) != SQLITE_ROW)
            return -1;
    }
    t = (now_us() - t) / n;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return t;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    if (threads < 1 || threads > 64)
        threads = 2;
    char dir[] = "/tmp/nerd-admission-XXXXXX", path[128];
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/usage.db", dir);
    if (up_new(path, &S) || up_key_add(S, "k", NULL, KEY, 1, NULL) || up_plan_add(S, "p", NULL) ||
        up_plan_stage(S, "p", "a", "prod") || up_plan_key(S, "p", "k") ||
        up_plan_throttle(S, "p", 1e9, 1000000000) ||
        up_plan_quota(S, "p", 1000000000, UP_DAY, 0) || up_start(S, T0)) {
        fprintf(stderr, "setup: %s\n", up_db_error(S));
        return 1;
    }
    double t = now_us();
    checks(NULL);
    printf("up_check, 1 thread: %.3f us\n", (now_us() - t) / N);
    pthread_t th[64];
    t = now_us();
    for (int i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, checks, NULL);
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    printf("up_check, %d threads on one key: %.3f us per check (wall / checks)\n", threads,
           (now_us() - t) / ((double)N * threads));
    up_free(S);
    snprintf(path, sizeof path, "%s/inline.db", dir);
    printf("inline SQLite upsert per request (WAL, synchronous=NORMAL): %.3f us\n",
           inline_sqlite(path, 20000));
    /* the authorizer: a cache hit and the policy decision */
    az_config c;
    memset(&c, 0, sizeof c);
    c.type = AZ_REST_TOKEN;
    c.ttl_s = 300;
    az_authorizer *a;
    az_new(&c, &a);
    apigw_kv h = {"Authorization", 13, "Bearer token-0123456789", 23};
    az_request r;
    memset(&r, 0, sizeof r);
    r.method = "GET";
    r.path = "/items/42";
    r.stage = "prod";
    r.api_id = "abcdef1234";
    r.headers = &h;
    r.n_headers = 1;
    static const char pol[] =
        "{\"principalId\":\"u\",\"policyDocument\":{\"Statement\":[{\"Action\":"
        "\"execute-api:Invoke\",\"Effect\":\"Allow\",\"Resource\":"
        "\"arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/*/items/*\"}]}}";
    az_result *res;
    az_identity id;
    az_verdict v;
    az_identify(a, &r, &id, &v);
    az_parse(a, AZ_INVOKE_OK, pol, sizeof pol - 1, &res);
    az_cache_put(a, &id, res, 0);
    az_result_free(res);
    az_identity_fini(&id);
    t = now_us();
    for (int i = 0; i < N; i++) {
        char arn[AZ_ARN_MAX + 1];
        az_method_arn(&r, arn, sizeof arn);
        az_identify(a, &r, &id, &v);
        az_result *hit = az_cache_get(a, &id, 1);
        if (!hit || az_decide(hit, arn) != AZ_ALLOW)
            abort();
        az_result_free(hit);
        az_identity_fini(&id);
    }
    printf("authorizer cache hit (ARN, identity, lookup, decision): %.3f us\n",
           (now_us() - t) / N);
    az_free(a);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
