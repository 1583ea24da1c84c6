/* API keys and usage plans (platform/usage.h): keys given and generated
 * (40 alphanumeric characters, the same after a restart), the check of
 * §2.3 (missing or unknown key 403, right key 200, key of another stage
 * 403, plan throttle and per-method throttle 429 Too Many Requests, quota
 * 429 Limit Exceeded, with exact bodies and x-amzn-ErrorType), quota
 * periods (DAY, WEEK, MONTH roll-over with an injected clock, Offset),
 * counts kept across a close and reopen, across a kill -9 of a process
 * that never closed, and shared by two processes on one database, and
 * exact counting with several threads.  Databases live in a temporary
 * folder, removed at the end. */
#define _GNU_SOURCE
#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "usage.h"

static char dir[64], db[128];

/* 2024-06-17 (a Monday) 12:00:00 UTC */
#define T0 1718625600000LL
#define DAY 86400000LL
#define KEY "abcdefghij0123456789"

static up_store *open_store(void)
{
    up_store *s = NULL;
    int rc = up_new(db, &s);
    CHECK(rc == UP_OK && s, "up_new: %s", up_strerror(rc));
    return s;
}

/* One key (value KEY) in plan "p" on api "a" stage "prod". */
static up_store *simple(long long limit, up_period period, long long offset, double rate,
                        long burst, long long now)
{
    up_store *s = open_store();
    if (!s)
        return NULL;
    int rc = up_key_add(s, "k", "key", KEY, 1, NULL) || up_plan_add(s, "p", "plan") ||
             up_plan_stage(s, "p", "a", "prod") || up_plan_key(s, "p", "k") ||
             (limit >= 0 && up_plan_quota(s, "p", limit, period, offset)) ||
             (burst >= 0 && up_plan_throttle(s, "p", rate, burst)) || up_start(s, now);
    CHECK(rc == 0, "setup");
    return s;
}

static up_verdict check(up_store *s, const char *key, long long now)
{
    return up_check(s, key, key ? strlen(key) : 0, "a", "prod", "/items", "GET", now, NULL);
}

static void fresh_db(const char *name)
{
    snprintf(db, sizeof db, "%s/%s", dir, name);
}

/* ---- keys ---- */

static void keys(void)
{
    fresh_db("keys.db");
    up_store *s = open_store();
    const char *v1 = NULL, *v2 = NULL;
    CHECK(up_key_add(s, "Gen", NULL, NULL, 1, &v1) == UP_OK && v1 && strlen(v1) == 40,
          "generated key: 40 characters");
    int alnum = 1;
    for (const char *p = v1; p && *p; p++)
        alnum &= isalnum((unsigned char)*p) != 0;
    CHECK(alnum, "generated key alphanumeric: %s", v1);
    CHECK(up_key_add(s, "Gen2", NULL, NULL, 1, &v2) == UP_OK && strcmp(v1, v2),
          "two generated keys differ");
    char keep[64];
    snprintf(keep, sizeof keep, "%s", v1);
    CHECK(up_key_add(s, "Short", NULL, "tooshort", 1, NULL) == UP_EINVAL, "value under 20");
    CHECK(up_key_add(s, "Sp", NULL, "has a space 123456789", 1, NULL) == UP_EINVAL, "space");
    CHECK(up_key_add(s, "Gen", NULL, KEY, 1, NULL) == UP_EEXIST, "id twice");
    CHECK(up_key_add(s, "K1", NULL, KEY, 1, NULL) == UP_OK, "given value");
    CHECK(up_key_add(s, "K2", NULL, KEY, 1, NULL) == UP_EEXIST, "value twice");
    CHECK(up_plan_key(s, "nope", "K1") == UP_ENOENT, "unknown plan");
    up_free(s);
    /* the generated value is the same after a restart */
    s = open_store();
    CHECK(up_key_add(s, "Gen", NULL, NULL, 1, &v1) == UP_OK && !strcmp(v1, keep),
          "generated key kept across restarts");
    up_free(s);
    CHECK(!strcmp(up_strerror(UP_ECONFLICT), "an API key is in two usage plans of one stage"),
          "strerror");
    /* no path: .nerd/usage.sqlite3 under the current folder */
    char cwd[512];
    if (getcwd(cwd, sizeof cwd) && chdir(dir) == 0) {
        s = NULL;
        CHECK(up_new(NULL, &s) == UP_OK && access(".nerd/usage.sqlite3", F_OK) == 0,
              "default database .nerd/usage.sqlite3");
        up_free(s);
        CHECK(chdir(cwd) == 0, "back");
    }
    up_free(NULL);
    CHECK(up_key_value(UP_SOURCE_HEADER, "h", "a") && !strcmp(up_key_value(UP_SOURCE_HEADER, "h", "a"), "h") &&
              !strcmp(up_key_value(UP_SOURCE_AUTHORIZER, "h", "a"), "a") &&
              !up_key_value(UP_SOURCE_AUTHORIZER, "h", NULL),
          "key source: HEADER reads x-api-key, AUTHORIZER usageIdentifierKey only");
}

/* ---- the check ---- */

static void answers(void)
{
    fresh_db("check.db");
    up_store *s = open_store();
    int rc = up_key_add(s, "k", NULL, KEY, 1, NULL) ||
             up_key_add(s, "off", NULL, "disabledkey0123456789", 0, NULL) ||
             up_key_add(s, "lonely", NULL, "lonelykey01234567890", 1, NULL) ||
             up_plan_add(s, "p", NULL) || up_plan_stage(s, "p", "a", "prod") ||
             up_plan_key(s, "p", "k") || up_plan_key(s, "p", "off");
    CHECK(rc == 0, "setup");
    CHECK(check(s, KEY, T0) == UP_FORBIDDEN, "before up_start: refused");
    CHECK(up_start(s, T0) == UP_OK, "start");
    CHECK(up_plan_add(s, "late", NULL) == UP_ESTATE, "setup after start");
    const char *kid = "x";
    up_answer a;
    up_verdict v = up_check(s, NULL, 0, "a", "prod", "/items", "GET", T0, &kid);
    up_answer_of(v, &a);
    CHECK(v == UP_FORBIDDEN && !kid && a.status == 403 &&
              !strcmp(a.body, "{\"message\":\"Forbidden\"}") && a.body_len == 23 &&
              !strcmp(a.error_type, "ForbiddenException") &&
              !strcmp(a.content_type, "application/json"),
          "missing key → 403 Forbidden");
    CHECK(check(s, "wrongkey0123456789012", T0) == UP_FORBIDDEN, "unknown key → 403");
    CHECK(up_check(s, KEY, 19, "a", "prod", NULL, NULL, T0, NULL) == UP_FORBIDDEN,
          "a prefix of a key → 403");
    v = up_check(s, KEY, strlen(KEY), "a", "prod", "/items", "GET", T0, &kid);
    up_answer_of(v, &a);
    CHECK(v == UP_PASS && kid && !strcmp(kid, "k") && a.status == 0, "right key → pass, its id");
    CHECK(up_check(s, KEY, strlen(KEY), "a", "dev", NULL, NULL, T0, NULL) == UP_FORBIDDEN,
          "key of another stage → 403");
    CHECK(up_check(s, KEY, strlen(KEY), "b", "prod", NULL, NULL, T0, NULL) == UP_FORBIDDEN,
          "key of another API → 403");
    CHECK(check(s, "disabledkey0123456789", T0) == UP_FORBIDDEN, "disabled key → 403");
    CHECK(check(s, "lonelykey01234567890", T0) == UP_FORBIDDEN, "key in no plan → 403");
    up_free(s);
    /* a key in two plans of one stage */
    fresh_db("conflict.db");
    s = open_store();
    rc = up_key_add(s, "k", NULL, KEY, 1, NULL) || up_plan_add(s, "p", NULL) ||
         up_plan_add(s, "q", NULL) || up_plan_stage(s, "p", "a", "prod") ||
         up_plan_stage(s, "q", "a", "prod") || up_plan_key(s, "p", "k") || up_plan_key(s, "q", "k");
    CHECK(rc == 0 && up_start(s, T0) == UP_ECONFLICT, "key in two plans of a stage refused");
    up_free(s);
}

static void throttle(void)
{
    fresh_db("throttle.db");
    up_store *s = simple(-1, UP_DAY, 0, 1.0, 2, T0);
    up_answer a;
    CHECK(check(s, KEY, T0) == UP_PASS && check(s, KEY, T0) == UP_PASS, "burst of 2");
    up_verdict v = check(s, KEY, T0);
    up_answer_of(v, &a);
    CHECK(v == UP_THROTTLED && a.status == 429 &&
              !strcmp(a.body, "{\"message\":\"Too Many Requests\"}") &&
              !strcmp(a.error_type, "TooManyRequestsException"),
          "third → 429 Too Many Requests");
    CHECK(check(s, KEY, T0 + 999) == UP_THROTTLED, "0.999 tokens refilled");
    CHECK(check(s, KEY, T0 + 1000) == UP_PASS, "one token a second");
    up_free(s);
    /* per-method throttle replaces the plan's for that method */
    fresh_db("mthrottle.db");
    s = open_store();
    int rc = up_key_add(s, "k", NULL, KEY, 1, NULL) || up_plan_add(s, "p", NULL) ||
             up_plan_stage(s, "p", "a", "prod") ||
             up_plan_method_throttle(s, "p", "a", "prod", "/items/{id}/GET", 1, 1) ||
             up_plan_method_throttle(s, "p", "a", "prod", "//*", 0, 0) ||
             up_plan_throttle(s, "p", 100, 100) || up_plan_key(s, "p", "k") || up_start(s, T0);
    CHECK(rc == 0, "method throttle setup");
    CHECK(up_plan_method_throttle(s, "p", "a", "prod", "/x/GET", 1, 1) == UP_ESTATE, "after start");
    up_verdict v1 = up_check(s, KEY, strlen(KEY), "a", "prod", "/items/{id}", "GET", T0, NULL);
    up_verdict v2 = up_check(s, KEY, strlen(KEY), "a", "prod", "/items/{id}", "GET", T0, NULL);
    up_verdict v3 = up_check(s, KEY, strlen(KEY), "a", "prod", "/items/{id}", "POST", T0, NULL);
    up_verdict v4 = up_check(s, KEY, strlen(KEY), "a", "prod", "/", "DELETE", T0, NULL);
    CHECK(v1 == UP_PASS && v2 == UP_THROTTLED && v3 == UP_PASS && v4 == UP_THROTTLED,
          "/items/{id}/GET burst 1; POST on the plan's bucket; //* closed (%d %d %d %d)", v1, v2,
          v3, v4);
    up_free(s);
    fresh_db("closed.db");
    s = simple(-1, UP_DAY, 0, 0, 0, T0);
    CHECK(check(s, KEY, T0) == UP_THROTTLED, "rate 0 burst 0: closed");
    up_free(s);
}

static void quota(void)
{
    fresh_db("quota.db");
    up_store *s = simple(3, UP_DAY, 0, 1, 1, T0);
    CHECK(check(s, KEY, T0) == UP_PASS, "1");
    CHECK(check(s, KEY, T0) == UP_THROTTLED, "throttled: not counted");
    CHECK(check(s, KEY, T0 + 1000) == UP_PASS && check(s, KEY, T0 + 2000) == UP_PASS, "2, 3");
    up_answer a;
    up_verdict v = check(s, KEY, T0 + 3000);
    up_answer_of(v, &a);
    CHECK(v == UP_QUOTA && a.status == 429 && !strcmp(a.body, "{\"message\":\"Limit Exceeded\"}") &&
              !strcmp(a.error_type, "LimitExceededException"),
          "4th → 429 Limit Exceeded");
    CHECK(up_usage(s, "k", "p", T0) == 3, "usage 3: %lld", up_usage(s, "k", "p", T0));
    up_free(s);
    /* kept across a restart */
    s = simple(3, UP_DAY, 0, 1, 1, T0 + 5000);
    CHECK(check(s, KEY, T0 + 5000) == UP_QUOTA, "quota still spent after a restart");
    /* the next day: a new period */
    long long midnight = up_period_start(UP_DAY, T0) + DAY;
    CHECK(check(s, KEY, midnight - 1) == UP_QUOTA, "23:59:59.999 still spent");
    CHECK(check(s, KEY, midnight) == UP_PASS, "00:00 UTC: a new day");
    CHECK(up_usage(s, "k", "p", midnight) == 1 && up_usage(s, "k", "p", T0) == 3,
          "usage per period");
    up_free(s);
    /* partly spent, then restarted: only the rest */
    fresh_db("quota2.db");
    s = simple(3, UP_DAY, 0, 100, 100, T0);
    check(s, KEY, T0);
    check(s, KEY, T0);
    up_free(s);
    s = simple(3, UP_DAY, 0, 100, 100, T0);
    CHECK(check(s, KEY, T0) == UP_PASS && check(s, KEY, T0) == UP_QUOTA, "2 + 1 of 3");
    up_free(s);
}

static void periods(void)
{
    /* 2024-06-17 12:00 UTC is a Monday; its week starts Sunday 2024-06-16 */
    CHECK(up_period_start(UP_DAY, T0) == 1718582400000LL, "day start");
    CHECK(up_period_start(UP_WEEK, T0) == 1718496000000LL, "week starts Sunday 00:00 UTC");
    CHECK(up_period_start(UP_MONTH, T0) == 1717200000000LL, "month starts on the 1st");
    CHECK(up_period_start(UP_WEEK, 1718496000000LL) == 1718496000000LL, "Sunday 00:00 itself");
    CHECK(up_period_start(UP_WEEK, 1718496000000LL - 1) == 1718496000000LL - 7 * DAY,
          "Saturday 23:59:59.999: the week before");
    CHECK(up_period_start(UP_MONTH, 1709251199999LL) == 1706745600000LL &&
              up_period_start(UP_MONTH, 1709251200000LL) == 1709251200000LL,
          "29 Feb 2024 23:59:59.999 → Feb; 1 Mar → Mar");
    CHECK(up_period_start(UP_DAY, -1) == -DAY, "before 1970");
    /* WEEK quota rolls over on Sunday */
    fresh_db("week.db");
    long long sat = 1718496000000LL - 1000;
    up_store *s = simple(1, UP_WEEK, 0, 100, 100, sat);
    CHECK(check(s, KEY, sat) == UP_PASS && check(s, KEY, sat) == UP_QUOTA, "week spent Saturday");
    CHECK(check(s, KEY, sat + 1000) == UP_PASS, "Sunday: a new week");
    up_free(s);
    /* MONTH */
    fresh_db("month.db");
    long long jan31 = 1706745600000LL - 1000; /* 2024-01-31 23:59:59 */
    s = simple(1, UP_MONTH, 0, 100, 100, jan31);
    CHECK(check(s, KEY, jan31) == UP_PASS && check(s, KEY, jan31 + 999) == UP_QUOTA,
          "January spent");
    CHECK(check(s, KEY, jan31 + 1000) == UP_PASS, "February");
    up_free(s);
    /* Offset: requests subtracted in the plan's first period only */
    fresh_db("offset.db");
    s = simple(5, UP_DAY, 2, 100, 100, T0);
    int n = 0;
    while (n < 10 && check(s, KEY, T0) == UP_PASS)
        n++;
    CHECK(n == 3, "first period: limit 5 - offset 2 = 3 (got %d)", n);
    n = 0;
    while (n < 10 && check(s, KEY, T0 + DAY) == UP_PASS)
        n++;
    CHECK(n == 5, "second period: 5 (got %d)", n);
    up_free(s);
    /* the first period is the plan's, kept in the database */
    s = simple(5, UP_DAY, 2, 100, 100, T0 + 2 * DAY);
    n = 0;
    while (n < 10 && check(s, KEY, T0 + 2 * DAY) == UP_PASS)
        n++;
    CHECK(n == 5, "restarted days later: no offset (got %d)", n);
    up_free(s);
}

/* ---- threads ---- */

typedef struct targ {
    up_store *s;
    int pass, quota;
} targ;

static void *hammer(void *p)
{
    targ *t = p;
    for (int i = 0; i < 1000; i++) {
        up_verdict v = check(t->s, KEY, T0);
        t->pass += v == UP_PASS;
        t->quota += v == UP_QUOTA;
    }
    return NULL;
}

static void threads(void)
{
    fresh_db("threads.db");
    up_store *s = simple(2500, UP_DAY, 0, 1e6, 1000000, T0);
    pthread_t th[4];
    targ t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = (targ){s, 0, 0};
        pthread_create(&th[i], NULL, hammer, &t[i]);
    }
    int pass = 0, q = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        pass += t[i].pass;
        q += t[i].quota;
    }
    CHECK(pass == 2500 && q == 1500, "4 threads: exactly 2500 passed (%d), 1500 over (%d)", pass, q);
    up_free(s);
    s = simple(2500, UP_DAY, 0, 1e6, 1000000, T0);
    CHECK(up_usage(s, "k", "p", T0) == 2500, "2500 written: %lld", up_usage(s, "k", "p", T0));
    up_free(s);
}

/* ---- other processes ---- */

static long long stored_count(void)
{
    sqlite3 *h;
    long long n = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(h, 2000);
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(h, "SELECT sum(count) FROM usage", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return n;
}

/* A process counts, never closes, and is killed with SIGKILL: what it
 * counted is in the database without a flush or a close. */
static void killed(void)
{
    fresh_db("killed.db");
    up_store *s = simple(3, UP_DAY, 0, 100, 100, T0);
    up_free(s); /* the schema and the plan's first period */
    pid_t pid = fork();
    if (pid == 0) {
        s = simple(3, UP_DAY, 0, 100, 100, T0);
        for (int i = 0; i < 3; i++)
            check(s, KEY, T0);
        for (;;)
            pause(); /* no up_free: killed */
    }
    /* wait (bounded) for the writer thread's commit, then kill -9 */
    long long n = 0;
    for (int i = 0; i < 500 && n != 3; i++) {
        usleep(10000);
        n = stored_count();
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    CHECK(n == 3, "the writer wrote 3 counts without a flush: %lld", n);
    s = simple(3, UP_DAY, 0, 100, 100, T0);
    CHECK(check(s, KEY, T0) == UP_QUOTA, "quota still spent after kill -9");
    up_free(s);
}

/* Two processes on one database, both writing hard: no error, no count
 * lost, and each sees the other's. */
static void two_processes(void)
{
    fresh_db("shared.db");
    up_store *s = simple(1000000, UP_DAY, 0, 1e6, 1000000, T0);
    up_free(s);
    pid_t pid = fork();
    if (pid == 0) {
        s = simple(1000000, UP_DAY, 0, 1e6, 1000000, T0);
        int bad = 0;
        for (int i = 0; i < 300; i++) {
            bad |= check(s, KEY, T0) != UP_PASS;
            bad |= up_flush(s) != UP_OK;
        }
        up_free(s);
        _exit(bad);
    }
    s = simple(1000000, UP_DAY, 0, 1e6, 1000000, T0);
    int bad = 0;
    for (int i = 0; i < 300; i++) {
        bad |= check(s, KEY, T0) != UP_PASS;
        bad |= up_flush(s) != UP_OK;
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(!bad && WIFEXITED(st) && WEXITSTATUS(st) == 0, "no SQLITE_BUSY surfaced (%s)",
          up_db_error(s));
    check(s, KEY, T0);
    up_flush(s);
    CHECK(up_usage(s, "k", "p", T0) == 601, "sees the other's counts: %lld",
          up_usage(s, "k", "p", T0));
    up_free(s);
    CHECK(stored_count() == 601, "601 stored: %lld", stored_count());
}

/* What a check costs (printed, not asserted). */
static void cost(void)
{
    fresh_db("cost.db");
    up_store *s = simple(100000000, UP_DAY, 0, 1e9, 1000000000, T0);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int n = 200000, pass = 0;
    for (int i = 0; i < n; i++)
        pass += check(s, KEY, T0) == UP_PASS;
    clock_gettime(CLOCK_MONOTONIC, &b);
    double us = ((double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3) / n;
    printf("up_check: %.3f us per check (%d checks with throttle and quota; not asserted)\n", us,
           n);
    CHECK(pass == n, "all passed");
    up_free(s);
    s = simple(100000000, UP_DAY, 0, 1e9, 1000000000, T0);
    CHECK(up_usage(s, "k", "p", T0) == n, "all %d written: %lld", n, up_usage(s, "k", "p", T0));
    up_free(s);
}

static void cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/nerd-usage-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    keys();
    answers();
    throttle();
    quota();
    periods();
    threads();
    killed();
    two_processes();
    cost();
    cleanup();
    return check_done("test_usage");
}
