/*
 * Unit tests of the load lab's pieces (loadgen/): the latency histogram
 * (index layout, 3-digit precision, Locust's rank rule, merge, sparse
 * copies), the streaming response parser (every split point, chunked,
 * interim responses, errors), scenario files (tests/data/loadgen/
 * scenarios: good files' values, bad files' exact messages with line
 * numbers; the built-in scenarios' study parameters, --time-scale),
 * Python float repr, loopback-only targets, payloads, the Locust CSV
 * headers of a report against those captured from Debian's locust, and
 * stateful mixes (request lines rendered, answers judged and captured,
 * the JSON member scanner, one statistics row per request name).
 * Run from the repository root.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "lg_flow.h"
#include "lg_resp.h"
#include "loadgen.h"

#define DATA "tests/data/loadgen"

static void test_hist(void)
{
    static lg_hist h, g;
    memset(&h, 0, sizeof h);
    memset(&g, 0, sizeof g);
    lg_hist_reset(&h);
    lg_hist_reset(&g);
    /* exact below 2048 µs; index and lowest value agree everywhere */
    for (uint64_t v = 0; v < 2048; v++)
        CHECK(lg_hist_lowest(lg_hist_index(v)) == v, "exact %llu", (unsigned long long)v);
    uint64_t worst_num = 0, worst_den = 1; /* widest bucket relative to its values */
    for (uint64_t v = 1; v <= LG_HIST_MAX_US; v = v * 1.0007 + 1) {
        uint32_t i = lg_hist_index(v);
        uint64_t lo = lg_hist_lowest(i), w = lg_hist_width(i);
        CHECK(i < LG_HIST_LEN && lo <= v && v < lo + w, "bucket of %llu: [%llu, +%llu)",
              (unsigned long long)v, (unsigned long long)lo, (unsigned long long)w);
        if (w > 1 && w * worst_den > worst_num * v)
            worst_num = w, worst_den = v;
    }
    /* a bucket is narrower than 1/1000 of its values: >= 3 significant digits */
    CHECK(worst_num * 1000 <= worst_den, "worst relative width %llu/%llu",
          (unsigned long long)worst_num, (unsigned long long)worst_den);
    CHECK(lg_hist_index(LG_HIST_MAX_US * 10) == lg_hist_index(LG_HIST_MAX_US), "clamped");
    /* Locust's rank rule: value at index min(floor(N p), N - 1) */
    for (uint64_t v = 1; v <= 100; v++)
        lg_hist_add(&h, v * 1000);
    CHECK(h.total == 100 && h.min_us == 1000 && h.max_us == 100000, "totals");
    CHECK(llabs((long long)lg_hist_percentile(&h, 0.5) - 51000) <= 16, "p50 %llu",
          (unsigned long long)lg_hist_percentile(&h, 0.5));
    uint64_t p99 = lg_hist_percentile(&h, 0.99);
    CHECK(p99 >= 99900 && p99 <= 100000, "p99 %llu", (unsigned long long)p99);
    CHECK(lg_hist_percentile(&h, 1.0) == 100000, "p100");
    CHECK(lg_hist_at_rank(&h, 0) == 1000, "rank 0");
    CHECK(lg_hist_percentile(&g, 0.5) == 0, "empty");
    /* merge and sparse copies give the same histogram */
    for (uint64_t v = 0; v < 5000; v++)
        lg_hist_add(&g, v * 977 % 3000000);
    static lg_hist m, s;
    memset(&m, 0, sizeof m);
    memset(&s, 0, sizeof s);
    lg_hist_reset(&m);
    lg_hist_reset(&s);
    lg_hist_merge(&m, &h);
    lg_hist_merge(&m, &g);
    CHECK(m.total == 5100 && m.min_us == 0 && m.max_us == g.max_us, "merge totals");
    size_t n = lg_hist_sparse(&m, NULL, NULL, 0);
    uint16_t *idx = malloc(n * sizeof *idx);
    uint32_t *cnt = malloc(n * sizeof *cnt);
    CHECK(lg_hist_sparse(&m, idx, cnt, n) == n, "sparse size");
    lg_hist_add_sparse(&s, idx, cnt, n, m.min_us, m.max_us);
    CHECK(s.total == m.total && !memcmp(s.counts, m.counts, sizeof s.counts), "sparse roundtrip");
    for (double p = 0; p <= 1.0; p += 0.05)
        CHECK(lg_hist_percentile(&s, p) == lg_hist_percentile(&m, p), "sparse p%g", p);
    free(idx);
    free(cnt);
    lg_hist_reset(&m);
    CHECK(m.total == 0 && m.max_us == 0 && lg_hist_sparse(&m, NULL, NULL, 0) == 0, "reset");
}

/* Feeds s in pieces of size step (0: all at once); returns the result. */
static lg_err feed(lg_resp *r, const char *s, size_t n, size_t step, size_t *consumed)
{
    lg_resp_init(r);
    size_t at = 0;
    while (at < n) {
        size_t k = step && n - at > step ? step : n - at, used;
        lg_err rc = lg_resp_feed(r, s + at, k, &used);
        at += used;
        if (rc)
            return rc;
        if (r->done)
            break;
        if (used != k)
            return LG_EINVAL;
    }
    *consumed = at;
    return LG_OK;
}

static void test_resp(void)
{
    static const struct {
        const char *in;
        int status, keep, done;
        uint64_t body;
        size_t rest; /* bytes left unconsumed after the response */
    } ok[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, 1, 1, 5, 0},
        {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1", 200, 1, 1, 5, 8},
        {"HTTP/1.1 404 Not Found\r\ncontent-length:0\r\n\r\n", 404, 1, 1, 0, 0},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n"
         "A\r\n0123456789\r\n0\r\nTrailer: 1\r\n\r\n", 200, 1, 1, 15, 0},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 99\r\n\r\n"
         "3\r\nabc\r\n0\r\n\r\n", 200, 1, 1, 3, 0},
        {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
         201, 1, 1, 2, 0},
        {"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", 204, 1, 1, 0, 0},
        {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", 200, 0, 1, 1, 0},
        {"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", 200, 0, 1, 1, 0},
        {"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx", 200, 1, 1, 1, 0},
        {"HTTP/1.1 503 Service Unavailable\nContent-Length: 2\n\nno", 503, 1, 1, 2, 0},
        {"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 200, 1, 1, 0, 0},
        {"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nto the close", 200, 0, 0, 12, 0},
    };
    lg_resp r;
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        size_t n = strlen(ok[i].in);
        for (size_t step = 0; step <= n; step++) {
            size_t used = 0;
            lg_err rc = feed(&r, ok[i].in, n, step, &used);
            int good = rc == LG_OK && r.status == ok[i].status && r.done == ok[i].done &&
                       r.body_len == ok[i].body && used == n - ok[i].rest;
            if (good && !ok[i].done)
                good = lg_resp_eof(&r) == LG_OK && r.done && !r.keep_alive;
            if (good)
                good = r.keep_alive == ok[i].keep;
            CHECK(good, "response %zu step %zu: rc %d status %d done %d body %llu used %zu "
                  "keep %d", i, step, rc, r.status, r.done, (unsigned long long)r.body_len,
                  used, r.keep_alive);
            if (!good)
                break;
        }
    }
    feed(&r, ok[2].in, strlen(ok[2].in), 0, &(size_t){0});
    CHECK(!strcmp(r.reason, "Not Found"), "reason '%s'", r.reason);
    static const char *const bad[] = {
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\n\r\n",
        "ICY 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        "HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
        "HTTP/1.1 101 Switching Protocols\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t used;
        lg_err rc = feed(&r, bad[i], strlen(bad[i]), 0, &used);
        CHECK(rc == LG_EPROTO && r.error, "bad response %zu accepted (rc %d)", i, rc);
    }
    /* caps: a 9 KB header line, 101 headers, closed early */
    char *big = malloc(20000);
    size_t o = (size_t)sprintf(big, "HTTP/1.1 200 OK\r\nX: ");
    memset(big + o, 'a', 9000);
    strcpy(big + o + 9000, "\r\n\r\n");
    size_t used;
    CHECK(feed(&r, big, strlen(big), 0, &used) == LG_EPROTO, "long line");
    o = (size_t)sprintf(big, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < 101; i++)
        o += (size_t)sprintf(big + o, "X-%d: y\r\n", i);
    strcpy(big + o, "\r\n");
    CHECK(feed(&r, big, strlen(big), 0, &used) == LG_EPROTO, "too many headers");
    free(big);
    lg_resp_init(&r);
    CHECK(lg_resp_eof(&r) == LG_ECLOSED, "closed before any byte");
    const char *part = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc";
    CHECK(feed(&r, part, strlen(part), 0, &used) == LG_OK && !r.done &&
          lg_resp_eof(&r) == LG_EPROTO, "closed mid-body");
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = malloc(1 << 20);
    size_t n = fread(b, 1, (1 << 20) - 1, f);
    fclose(f);
    b[n] = 0;
    *len = n;
    return b;
}

static void test_scenario_files(void)
{
    DIR *d = opendir(DATA "/scenarios");
    CHECK(d != NULL, "no %s/scenarios", DATA);
    if (!d)
        return;
    struct dirent *de;
    int files = 0;
    static lg_scenario s;
    while ((de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        if (nl < 5 || strcmp(de->d_name + nl - 4, ".scn"))
            continue;
        char path[512], err[512];
        snprintf(path, sizeof path, DATA "/scenarios/%s", de->d_name);
        size_t len;
        char *text = slurp(path, &len);
        const char *want = text && !strncmp(text, "# expect: ", 10) ? text + 10 : NULL;
        CHECK(want != NULL, "%s: no '# expect:' line", path);
        if (!want) {
            free(text);
            continue;
        }
        char w[512];
        snprintf(w, sizeof w, "%.*s", (int)strcspn(want, "\n"), want);
        lg_err rc = lg_scenario_parse(text, len, de->d_name, &s, err, sizeof err);
        if (!strcmp(w, "ok"))
            CHECK(rc == LG_OK, "%s: %s", de->d_name, err);
        else
            CHECK(rc != LG_OK && strstr(err, w) == err, "%s: got '%s', want '%s...'",
                  de->d_name, err, w);
        files++;
        free(text);
    }
    closedir(d);
    CHECK(files >= 15, "only %d scenario test files", files);

    /* the good files' values, defaults filled in */
    char err[512];
    CHECK(lg_scenario_load(DATA "/scenarios/good-closed.scn", &s, err, sizeof err) == 0, "%s", err);
    CHECK(!strcmp(s.name, "good-closed") && s.model == LG_CLOSED && s.timeout == 10 &&
          s.n_stages == 2 && s.has_warmup, "good-closed header");
    CHECK(!strcmp(s.description, "A test scenario: warm-up, ramp, steady"), "description '%s'",
          s.description);
    CHECK(s.warmup.duration == 10 && s.warmup.users == 2 && s.warmup.spawn_rate == 2 &&
          s.warmup.think_min == 0.5 && s.warmup.think_max == 2, "warm-up");
    CHECK(s.stages[0].duration == 30 && s.stages[0].users == 3 && s.stages[0].spawn_rate == 1 &&
          s.stages[0].think_min == 0.5 && s.stages[0].think_max == 2, "stage 1 defaults");
    CHECK(s.stages[1].duration == 90 && s.stages[1].users == 10 && s.stages[1].spawn_rate == 5 &&
          fabs(s.stages[1].think_min - 0.2) < 1e-12 && s.stages[1].think_max == 1, "stage 2");
    CHECK(lg_scenario_duration(&s) == 130, "duration %g", lg_scenario_duration(&s));
    lg_scenario_scale(&s, 0.01);
    CHECK(fabs(lg_scenario_duration(&s) - 1.3) < 1e-9 && fabs(s.stages[1].spawn_rate - 500) < 1e-9 &&
          fabs(s.stages[1].think_max - 0.01) < 1e-12 && s.timeout == 10, "time scale");
    CHECK(lg_scenario_load(DATA "/scenarios/good-open.scn", &s, err, sizeof err) == 0, "%s", err);
    CHECK(s.model == LG_OPEN && s.connections == 8 && s.timeout == 0.5 && s.n_stages == 3 &&
          s.warmup.rate_from == 10 && s.stages[1].rate_from == 100 &&
          s.stages[1].rate_to == 1000 && s.stages[2].duration == 3600, "good-open values");
    /* write and read back */
    char *buf = NULL;
    size_t bl = 0;
    FILE *f = open_memstream(&buf, &bl);
    lg_scenario_write(&s, f);
    fclose(f);
    static lg_scenario s2;
    CHECK(lg_scenario_parse(buf, bl, "written", &s2, err, sizeof err) == 0 &&
          !memcmp(&s, &s2, sizeof s), "write/parse roundtrip: %s\n%s", err, buf);
    free(buf);
    /* durations are kept to the nanosecond, so a written one reads back
     * to the same double (the writer once rounded finer values away) */
    const char *fine = "stage 0.105555555555555555s users 4\nstage 0.0001055555555ms users 1\n";
    CHECK(lg_scenario_parse(fine, strlen(fine), "fine", &s, err, sizeof err) == 0, "%s", err);
    buf = NULL;
    f = open_memstream(&buf, &bl);
    lg_scenario_write(&s, f);
    fclose(f);
    CHECK(strstr(buf, "stage 0.105555556s ") && strstr(buf, "stage 0.000000106s ") &&
          lg_scenario_parse(buf, bl, "written", &s2, err, sizeof err) == 0 &&
          s2.stages[0].duration == s.stages[0].duration &&
          s2.stages[1].duration == s.stages[1].duration, "nanoseconds: %s\n%s", err, buf);
    free(buf);
    /* scaled far down, the scenario as run still reads back: no exponents,
     * spawn rates beyond any written by hand */
    CHECK(lg_scenario_load("heavy-b", &s, err, sizeof err) == 0, "heavy-b: %s", err);
    lg_scenario_scale(&s, 0.0001);
    buf = NULL;
    f = open_memstream(&buf, &bl);
    lg_scenario_write(&s, f);
    fclose(f);
    CHECK(lg_scenario_parse(buf, bl, "scaled", &s2, err, sizeof err) == 0 && s2.n_stages == s.n_stages &&
          fabs(s2.stages[0].think_max - s.stages[0].think_max) < 1e-9 &&
          fabs(s2.stages[0].spawn_rate - s.stages[0].spawn_rate) < 1e-3 &&
          fabs(s2.warmup.duration - s.warmup.duration) < 1e-9, "scaled roundtrip: %s\n%s", err, buf);
    free(buf);
    /* missing file, unknown name, caps */
    CHECK(lg_scenario_load(DATA "/scenarios/none.scn", &s, err, sizeof err) == LG_ENOENT,
          "missing file");
    CHECK(lg_scenario_load("no-such-scenario", &s, err, sizeof err) == LG_ENOENT &&
          strstr(err, "light-a") && strstr(err, "very-heavy-a"), "unknown name lists built-ins: %s",
          err);
    char nul[] = "stage 1s users 1\n\0\n";
    CHECK(lg_scenario_parse(nul, sizeof nul - 1, "nul", &s, err, sizeof err) == LG_ESYNTAX &&
          !strncmp(err, "nul:2: NUL", 10), "NUL byte: %s", err);
    char *lines = malloc(LG_SCN_MAX_LINE + 64);
    memset(lines, '#', LG_SCN_MAX_LINE + 10);
    CHECK(lg_scenario_parse(lines, LG_SCN_MAX_LINE + 10, "long", &s, err, sizeof err) == LG_ELIMIT,
          "long line");
    free(lines);
    size_t big = 300 * 24;
    char *many = malloc(big + 1);
    size_t o = 0;
    for (int i = 0; i < 300; i++)
        o += (size_t)sprintf(many + o, "stage 1s users 1\n");
    CHECK(lg_scenario_parse(many, o, "many", &s, err, sizeof err) == LG_ELIMIT &&
          strstr(err, "many:257: more than 256 stages"), "stage cap: %s", err);
    free(many);
}

static void test_builtins(void)
{
    static lg_scenario s;
    char err[512];
    CHECK(lg_builtin_count() == 9, "%zu built-in scenarios", lg_builtin_count());
    for (size_t i = 0; i < lg_builtin_count(); i++) {
        const char *name = lg_builtin_name(i);
        CHECK(lg_scenario_load(name, &s, err, sizeof err) == 0, "%s: %s", name, err);
        if (!strncmp(name, "lab-", 4)) /* the AWS lab's, not the study's: checked below */
            continue;
        CHECK(!strcmp(s.name, name) && s.model == LG_CLOSED && s.has_warmup && s.timeout == 30,
              "%s header", name);
        /* the study's warm-up: 2 users spawned at 2/s (60 s; 30 s for very heavy A) */
        CHECK(s.warmup.users == 2 && s.warmup.spawn_rate == 2 &&
              s.warmup.duration == (strcmp(name, "very-heavy-a") ? 60 : 30), "%s warm-up", name);
        /* the same text as the file in scenarios/ */
        char path[256];
        snprintf(path, sizeof path, "scenarios/%s.scn", name);
        size_t len, blen;
        char *text = slurp(path, &len);
        const char *b = lg_builtin_text(i, &blen);
        CHECK(text && len == blen && !memcmp(text, b, len), "%s differs from %s", name, path);
        free(text);
        int light = !strncmp(name, "light", 5);
        for (size_t k = 0; k < s.n_stages; k++)
            CHECK(light ? s.stages[k].think_min >= 0.2 : s.stages[k].think_max <= 0.1,
                  "%s stage %zu think %g-%g", name, k, s.stages[k].think_min, s.stages[k].think_max);
    }
    CHECK(lg_scenario_load("light-a", &s, err, sizeof err) == 0 && s.n_stages == 1 &&
          s.stages[0].users == 5 && s.stages[0].duration == 300 && s.stages[0].think_min == 5 &&
          s.stages[0].think_max == 10, "light-a");
    CHECK(lg_scenario_load("heavy-a", &s, err, sizeof err) == 0 && s.n_stages == 1 &&
          s.stages[0].users == 10 && s.stages[0].duration == 360, "heavy-a");
    static const int lb[] = {1, 3, 5, 6, 7, 8, 8, 4, 1};
    static const double lbd[] = {60, 60, 60, 60, 60, 60, 240, 60, 60};
    int ok = lg_scenario_load("light-b", &s, err, sizeof err) == 0 && s.n_stages == 9;
    for (size_t k = 0; ok && k < 9; k++)
        ok = s.stages[k].users == lb[k] && s.stages[k].duration == lbd[k];
    CHECK(ok, "light-b steps");
    CHECK(lg_scenario_load("heavy-b", &s, err, sizeof err) == 0 && s.stages[5].users == 10 &&
          s.stages[5].duration == 240, "heavy-b steady");
    CHECK(lg_scenario_load("light-c", &s, err, sizeof err) == 0 && s.n_stages == 3 &&
          s.stages[0].users == 1 && s.stages[0].duration == 30 && s.stages[1].users == 8 &&
          s.stages[1].duration == 240 && s.stages[1].spawn_rate == 0 && s.stages[2].users == 2 &&
          s.stages[2].duration == 60, "light-c");
    CHECK(lg_scenario_load("heavy-c", &s, err, sizeof err) == 0 && s.stages[0].users == 2 &&
          s.stages[1].users == 10 && s.stages[2].users == 2, "heavy-c");
    CHECK(lg_scenario_load("very-heavy-a", &s, err, sizeof err) == 0 && s.stages[0].users == 40 &&
          s.stages[0].duration == 180, "very-heavy-a");
    /* the AWS lab's stress test: from cold (no warm-up), 100 users at 3/s */
    CHECK(lg_scenario_load("lab-stress", &s, err, sizeof err) == 0 && !s.has_warmup &&
          s.n_stages == 2 && s.stages[0].users == 100 && s.stages[0].spawn_rate == 3 &&
          s.stages[0].think_max == 0 && s.stages[1].users == 100, "lab-stress");
    /* its products mix: the same load, create -> get -> list -> delete */
    CHECK(lg_scenario_load("lab-products", &s, err, sizeof err) == 0 && !s.has_warmup &&
          s.n_stages == 2 && s.stages[0].users == 100 && s.stages[0].spawn_rate == 3 &&
          s.stages[0].think_max == 0 && s.n_requests == 4 &&
          !strcmp(s.requests[0].method, "POST") && s.requests[0].expect[0] == 201 &&
          s.requests[0].n_captures == 1 && !strcmp(s.requests[1].name, "/products/[id]") &&
          !strcmp(s.requests[2].path, "/products?limit=20") &&
          !strcmp(s.requests[2].name, "/products") && !strcmp(s.requests[3].method, "DELETE"),
          "lab-products");
}

static void test_pyfloat(void)
{
    static const struct {
        double v;
        const char *s;
    } t[] = {{0.0, "0.0"}, {1.0, "1.0"}, {-2.5, "-2.5"}, {3.841790393793913, "3.841790393793913"},
             {0.1, "0.1"}, {120.0, "120.0"}, {1e16, "1e+16"}, {1.5e-05, "1.5e-05"},
             {0.0001, "0.0001"}, {123456789012345.6, "123456789012345.6"}, {2.157, "2.157"},
             {1e22, "1e+22"}, {11.0, "11.0"}, {245.84305351263316, "245.84305351263316"}};
    char b[40];
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        CHECK(!strcmp(lg_pyfloat(t[i].v, b), t[i].s), "pyfloat %.17g: %s, want %s", t[i].v, b,
              t[i].s);
}

static void test_target(void)
{
    static const char *const good[] = {"http://127.0.0.1:3000", "http://localhost:8080/",
                                       "http://127.1.2.3:1/prod", "http://[::1]:9000",
                                       "http://127.0.0.1"};
    static const char *const badu[] = {"https://127.0.0.1:3000", "http://10.0.0.1:80",
                                       "http://example.com", "http://127.0.0.1:0",
                                       "http://127.0.0.1:70000", "ftp://127.0.0.1",
                                       "http://user@127.0.0.1:80", "http://127.0.0.1:80?x=1",
                                       "http://[::2]:80", "127.0.0.1:3000", "http://",
                                       "http://0.0.0.0:80"};
    lg_target t;
    char err[512];
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        CHECK(lg_target_parse(good[i], &t, err, sizeof err) == 0, "%s: %s", good[i], err);
    for (size_t i = 0; i < sizeof badu / sizeof *badu; i++)
        CHECK(lg_target_parse(badu[i], &t, err, sizeof err) == LG_EHOST && err[0],
              "%s accepted", badu[i]);
    CHECK(lg_target_parse("http://example.com:80", &t, err, sizeof err) == LG_EHOST &&
          strstr(err, "not a loopback address"), "message: %s", err);
    CHECK(lg_target_parse("http://127.1.2.3:1/prod/", &t, err, sizeof err) == 0 &&
          !strcmp(t.base, "/prod") && t.port == 1 && !strcmp(t.origin, "http://127.1.2.3:1"),
          "base path");
}

static void test_payloads(void)
{
    lg_target t;
    lg_payloads p;
    char err[512];
    lg_target_parse("http://127.0.0.1:3000/api", &t, err, sizeof err);
    CHECK(lg_payloads_build(&p, &t, "/ner", NULL, err, sizeof err) == 0, "%s", err);
    CHECK(p.n == lg_builtin_text_count() && p.n >= 16, "%zu built-in payloads", p.n);
    int shorts = 0, longs = 0;
    for (size_t i = 0; i < p.n; i++) {
        const char *r = p.buf + p.off[i];
        size_t len = p.len[i];
        const char *body = memmem(r, len, "\r\n\r\n", 4);
        long cl = -1;
        const char *h = memmem(r, len, "Content-Length: ", 16);
        if (h)
            cl = atol(h + 16);
        CHECK(!strncmp(r, "POST /api/ner HTTP/1.1\r\nHost: 127.0.0.1:3000\r\n", 46) && body &&
              cl == (long)(len - (size_t)(body + 4 - r)) && !strncmp(body + 4, "{\"text\":\"", 9),
              "request %zu", i);
        size_t tl = strlen(lg_builtin_sentence(i));
        shorts += tl < 80;
        longs += tl > 150;
    }
    CHECK(shorts >= 8 && longs >= 5, "mix: %d short, %d long", shorts, longs);
    lg_payloads_fini(&p);
    char path[] = "/tmp/lg-texts-XXXXXX";
    int fd = mkstemp(path);
    const char *texts = "Zoë said \"hi\"\\ to Bob\r\n\n\tTabbed\n";
    CHECK(fd >= 0 && write(fd, texts, strlen(texts)) == (ssize_t)strlen(texts), "texts file");
    close(fd);
    CHECK(lg_payloads_build(&p, &t, "/ner", path, err, sizeof err) == 0 && p.n == 2, "%s", err);
    if (p.n == 2) {
        const char *b0 = (const char *)memmem(p.buf + p.off[0], p.len[0], "\r\n\r\n", 4) + 4;
        CHECK(!strncmp(b0, "{\"text\":\"Zoë said \\\"hi\\\"\\\\ to Bob\"}",
                       p.len[0] - (size_t)(b0 - (p.buf + p.off[0]))), "escaped body");
        const char *b1 = (const char *)memmem(p.buf + p.off[1], p.len[1], "\r\n\r\n", 4) + 4;
        CHECK(!strncmp(b1, "{\"text\":\"\\tTabbed\"}", 19), "tab escaped");
    }
    lg_payloads_fini(&p);
    unlink(path);
    CHECK(lg_payloads_build(&p, &t, "/ner", "/nonexistent/texts", err, sizeof err) == LG_ENOENT,
          "missing texts file");
    CHECK(lg_payloads_build(&p, &t, "ner", NULL, err, sizeof err) == LG_EINVAL, "relative path");
}

/* The CSV files of a (synthetic) run start with Locust's exact headers. */
static void test_csv_headers(void)
{
    static lg_result r;
    memset(&r, 0, sizeof r);
    lg_hist_reset(&r.main.lat);
    lg_hist_reset(&r.main.unc);
    lg_hist_reset(&r.all.lat);
    lg_hist_reset(&r.all.unc);
    r.t_start = r.t_reset = 1700000000.25;
    r.t_end = 1700000003.5;
    r.last_ts = 1700000003.25;
    r.main.requests = 3;
    r.main.failures = 1;
    r.main.content = 30;
    r.main.rt_sum_ms = 12.5 + 150.25 + 3000;
    lg_hist_add(&r.main.lat, 12500);
    lg_hist_add(&r.main.lat, 150250);
    lg_hist_add(&r.main.lat, 3000000);
    r.status[200] = 2;
    r.status[500] = 1;
    r.n_errors = 1;
    snprintf(r.errors[0].msg, sizeof r.errors[0].msg,
             "HTTPError('500 Server Error: Internal Server Error for url: x, y')");
    r.errors[0].count = 1;
    lg_scenario s;
    char err[512];
    lg_scenario_parse("stage 3s users 1\n", 17, "t", &s, err, sizeof err);
    lg_target t;
    lg_target_parse("http://127.0.0.1:3000", &t, err, sizeof err);
    char dir[] = "/tmp/lg-report-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    lg_report_in in = {&s, &t, &r, "/ner", "pre", 1.0, NULL, "none"};
    CHECK(lg_report_write(&in, dir, err, sizeof err) == 0, "report: %s", err);
    FILE *f = fopen(DATA "/locust-2.12.1-headers.tsv", "r");
    CHECK(f != NULL, "captured headers");
    char line[2048];
    int n = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        line[strcspn(line, "\n")] = 0;
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = 0;
        char path[512], got[2048] = "";
        snprintf(path, sizeof path, "%s/pre_%.64s", dir, line);
        FILE *g = fopen(path, "r");
        if (g && fgets(got, sizeof got, g)) {
            CHECK(strstr(got, "\r\n") && got[strlen(got) - 2] == '\r', "%s: CRLF line ends", line);
            got[strcspn(got, "\r\n")] = 0;
        }
        CHECK(!strcmp(got, tab + 1), "%s header:\n  got  %s\n  want %s", line, got, tab + 1);
        if (g)
            fclose(g);
        n++;
    }
    if (f)
        fclose(f);
    CHECK(n == 4, "%d captured headers", n);
    /* the rows: Locust's rounding and number formats */
    char path[512], l1[2048] = "", l2[2048] = "";
    snprintf(path, sizeof path, "%s/pre_stats.csv", dir);
    FILE *g = fopen(path, "r");
    if (g && fgets(l1, sizeof l1, g) && fgets(l1, sizeof l1, g))
        fgets(l2, sizeof l2, g);
    if (g)
        fclose(g);
    /* median: rank 1 of 3 = 150.25 ms -> 150.0; percentiles 150/150/3000... */
    CHECK(!strcmp(l1, "POST,/ner,3,1,150.0,1054.25,12.5,3000.0,10.0,1.0,0.3333333333333333,"
                      "150,150,3000,3000,3000,3000,3000,3000,3000,3000,3000\r\n"), "stats row: %s", l1);
    CHECK(!strncmp(l2, ",Aggregated,3,1,150.0,", 22), "aggregated row: %s", l2);
    snprintf(path, sizeof path, "%s/pre_failures.csv", dir);
    g = fopen(path, "r");
    if (g && fgets(l1, sizeof l1, g))
        fgets(l1, sizeof l1, g);
    if (g)
        fclose(g);
    CHECK(!strcmp(l1, "POST,/ner,\"HTTPError('500 Server Error: Internal Server Error for url: "
                      "x, y')\",1\r\n"), "failures row: %s", l1);
    static const char *const files[] = {"pre_stats.csv", "pre_stats_history.csv",
                                        "pre_failures.csv", "pre_exceptions.csv",
                                        "per_second.csv", "summary.json", "report.html"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        CHECK(access(path, R_OK) == 0, "%s written", files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* Stateful mixes: request lines, rendering, verdicts and captures. */
static void test_flow(void)
{
    static lg_scenario s, t;
    char err[512];
    CHECK(lg_scenario_load(DATA "/scenarios/good-requests.scn", &s, err, sizeof err) == 0, "%s", err);
    CHECK(s.n_requests == 3 && s.n_vars == 2 && !strcmp(s.vars[0], "id") &&
          !strcmp(s.vars[1], "v"), "%zu requests, %zu vars", s.n_requests, s.n_vars);
    const lg_request *r = &s.requests[0];
    CHECK(!strcmp(r->method, "POST") && !strcmp(r->path, "/items") && !strcmp(r->name, "/items") &&
          r->n_expect == 2 && r->expect[0] == 201 && r->expect[1] == 200 && r->n_captures == 2 &&
          r->cap_var[1] == 1 && !strcmp(r->cap_field[1], "version") && r->has_body &&
          !strncmp(r->body, "{\"name\":\"{{pick:a b|c\\\"d}}\"", 27), "first request: %s", r->body);
    CHECK(!strcmp(s.requests[1].name, "/items/[id]?v=[v]") && !s.requests[1].has_body &&
          !s.requests[1].n_expect, "default name '%s'", s.requests[1].name);
    /* written out, it reads back the same */
    char *buf = NULL;
    size_t bl = 0;
    FILE *f = open_memstream(&buf, &bl);
    lg_scenario_write(&s, f);
    fclose(f);
    CHECK(lg_scenario_parse(buf, bl, "written", &t, err, sizeof err) == 0 && t.n_requests == 3 &&
          !memcmp(t.requests, s.requests, sizeof s.requests), "written: %s\n%s", err, buf);
    free(buf);

    /* a connection's buffer: the largest request the file can render */
    CHECK(s.flow_bytes > 6144 && s.flow_bytes < 6144 + 8 * 6 * LG_VAR_MAX, "flow_bytes %zu",
          s.flow_bytes);
    /* rendering: generators in the body, JSON-escaped */
    lg_sess ss;
    lg_sess_init(&ss, 7);
    uint64_t rng = 42;
    char out[LG_REQ_BYTES];
    int seen_ab = 0, seen_cd = 0, ok_all = 1;
    for (int k = 0; k < 200; k++) {
        size_t n = lg_flow_render(&s, &ss, "127.0.0.1", 3000, "/Prod", &rng, out, s.flow_bytes);
        out[n] = 0;
        const char *b = strstr(out, "\r\n\r\n");
        char name[16] = "", u[40] = "";
        int iv = -1, who = -1, it = -1;
        double pv = -1;
        int m = b ? sscanf(b + 4, "{\"name\":\"%15[^\"]", name) : 0;
        seen_ab |= !strcmp(name, "a b");
        seen_cd |= b && !strncmp(b + 4, "{\"name\":\"c\\\\\\\"d\",", 16);
        const char *q = b ? strstr(b, "\"n\":") : NULL;
        if (q)
            m += sscanf(q, "\"n\":%d,\"p\":%lf,\"u\":\"%36[0-9a-f-]\",\"who\":%d,\"it\":%d}",
                        &iv, &pv, u, &who, &it);
        char cl[48];
        snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", b ? strlen(b + 4) : 0);
        ok_all &= n > 0 && !strncmp(out, "POST /Prod/items HTTP/1.1\r\nHost: 127.0.0.1:3000\r\n", 48) &&
                  strstr(out, "Content-Type: application/json\r\n") && strstr(out, cl) && m == 6 &&
                  iv >= 1 && iv <= 9 && pv >= 0.5 && pv <= 2.25 && strlen(u) == 36 &&
                  u[14] == '4' && strchr("89ab", u[19]) && who == 7 && it == 1;
        const char *pp = b ? strstr(b, "\"p\":") : NULL;
        ok_all &= pp && pp[5] == '.' && pp[8] == ','; /* two decimals: 0.50, 2.25 */
        if (!ok_all) {
            CHECK(0, "render %d: %s", k, out);
            break;
        }
    }
    CHECK(ok_all && seen_ab && seen_cd, "pick choices: %d %d", seen_ab, seen_cd);

    /* the answer: expected statuses, captures (percent-encoded in a path) */
    char why[160];
    const char *ans = "{\"id\":\"a b/\\u00e9\",\"version\":12.5,\"tags\":[\"}\",{\"x\":1}]}";
    CHECK(!lg_flow_done(&s, &ss, 500, ans, strlen(ans), why, sizeof why) &&
          !strcmp(why, "status 500, expected 201 or 200") && ss.step == 0 && ss.iter == 2,
          "500: '%s' step %u iter %llu", why, ss.step, (unsigned long long)ss.iter);
    const char *noid = "{\"version\":1}";
    CHECK(!lg_flow_done(&s, &ss, 201, noid, strlen(noid), why, sizeof why) &&
          !strcmp(why, "no \"id\" in the answer") && ss.step == 0 && ss.iter == 3 && !ss.set,
          "missing capture: '%s'", why);
    CHECK(lg_flow_done(&s, &ss, 201, ans, strlen(ans), why, sizeof why) && !why[0] && ss.step == 1 &&
          ss.set == 3 && !strcmp(ss.val[0], "a b/\xc3\xa9") && !strcmp(ss.val[1], "12.5"),
          "captured '%s' '%s'", ss.val[0], ss.val[1]);
    size_t n = lg_flow_render(&s, &ss, "localhost", 8080, "", &rng, out, sizeof out);
    out[n] = 0;
    CHECK(!strcmp(out, "GET /items/a%20b%2F%C3%A9?v=12.5 HTTP/1.1\r\nHost: localhost:8080\r\n"
                       "User-Agent: nerd-bench\r\nAccept: */*\r\n\r\n"), "GET: %s", out);
    /* a failure without captures moves on; the last wraps to a new iteration */
    CHECK(!lg_flow_done(&s, &ss, 0, "", 0, why, sizeof why) && !why[0] && ss.step == 2 &&
          ss.set == 3, "connection error: step %u", ss.step);
    CHECK(lg_flow_done(&s, &ss, 404, "", 0, why, sizeof why) && ss.step == 0 && ss.iter == 4 &&
          !ss.set, "404 expected: step %u", ss.step);
    ss.step = 1; /* a variable without a value: not renderable */
    CHECK(lg_flow_render(&s, &ss, "h", 1, "", &rng, out, sizeof out) == 0, "unset variable");
    ss.step = 0;
    CHECK(lg_flow_render(&s, &ss, "h", 1, "", &rng, out, 100) == 0, "too small a buffer");
    /* without expect, any 2xx */
    static lg_scenario g;
    const char *plain = "stage 1s users 1\nrequest GET /a\n";
    CHECK(lg_scenario_parse(plain, strlen(plain), "p", &g, err, sizeof err) == 0, "%s", err);
    lg_sess_init(&ss, 1);
    CHECK(lg_flow_done(&g, &ss, 204, "", 0, why, sizeof why) && ss.iter == 2, "204");
    CHECK(!lg_flow_done(&g, &ss, 404, "", 0, why, sizeof why) && !why[0], "404 without expect");

    /* the JSON member scanner */
    char v[16];
    static const struct {
        const char *json, *field, *want; /* want NULL: -1 */
    } jc[] = {
        {"{\"a\":1,\"id\":\"x\"}", "id", "x"},
        {" { \"id\" : -1.5e3 } ", "id", "-1.5e3"},
        {"{\"n\":{\"id\":\"inner\"},\"id\":\"outer\"}", "id", "outer"},
        {"{\"s\":\"{\\\"id\\\":1}\",\"id\":\"k\"}", "id", "k"},
        {"{\"id\":\"\\ud83d\\ude00\"}", "id", "\xf0\x9f\x98\x80"},
        {"{\"i\\u0064\":\"esc\"}", "id", "esc"},
        {"{\"id\":\"0123456789abcdef\"}", "id", NULL},   /* 16 bytes do not fit in 16 */
        {"{\"id\":true}", "id", NULL},
        {"{\"id\":null}", "id", NULL},
        {"{\"id\":{\"x\":1}}", "id", NULL},
        {"[\"id\",\"x\"]", "id", NULL},
        {"{\"a\":1}", "id", NULL},
        {"{}", "id", NULL},
        {"{\"a\":[1,2}", "id", NULL},
        {"{\"id\":\"\\ud800\"}", "id", NULL},
        {"{\"id\":\"x", "id", NULL},
        {"{\"a\" 1,\"id\":\"x\"}", "id", NULL},
        {"", "id", NULL},
    };
    for (size_t i = 0; i < sizeof jc / sizeof *jc; i++) {
        long l = lg_json_member(jc[i].json, strlen(jc[i].json), jc[i].field, v, sizeof v);
        if (jc[i].want)
            CHECK(l == (long)strlen(jc[i].want) && !strcmp(v, jc[i].want), "json %zu: %ld '%s'", i,
                  l, l >= 0 ? v : "");
        else
            CHECK(l == -1, "json %zu: %ld, want -1", i, l);
    }
}

/* A mix's statistics: one Locust row per method and name, in Locust's
 * order (name, then method), failures under their request. */
static void test_entry_rows(void)
{
    static lg_result r;
    static lg_hist h1, h2;
    memset(&r, 0, sizeof r);
    lg_hist_reset(&r.main.lat);
    lg_hist_reset(&r.main.unc);
    lg_hist_reset(&r.all.lat);
    lg_hist_reset(&r.all.unc);
    lg_hist_reset(&h1);
    lg_hist_reset(&h2);
    r.t_start = r.t_reset = 1700000000;
    r.t_end = r.last_ts = 1700000002;
    r.n_entries = 2;
    r.entries[0] = (lg_entry){"POST", "/products", 2, 0, 80, 4.0, &h1};
    r.entries[1] = (lg_entry){"GET", "/products", 1, 1, 10, 3.0, &h2};
    lg_hist_add(&h1, 1000);
    lg_hist_add(&h1, 3000);
    lg_hist_add(&h2, 3000);
    r.main = (lg_stats){3, 1, 90, 7.0, r.main.lat, r.main.unc};
    lg_hist_add(&r.main.lat, 1000);
    lg_hist_add(&r.main.lat, 3000);
    lg_hist_add(&r.main.lat, 3000);
    r.n_errors = 1;
    r.errors[0] = (lg_error_row){"CatchResponseError('status 500, expected 200')", 1, 1};
    lg_scenario s;
    char err[512];
    lg_scenario_parse("stage 3s users 1\n", 17, "t", &s, err, sizeof err);
    lg_target t;
    lg_target_parse("http://127.0.0.1:3000/Prod", &t, err, sizeof err);
    char dir[] = "/tmp/lg-rows-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    lg_report_in in = {&s, &t, &r, "", "mix", 1.0, NULL, "none"};
    CHECK(lg_report_write(&in, dir, err, sizeof err) == 0, "report: %s", err);
    char path[512], l[4][512] = {"", "", "", ""};
    snprintf(path, sizeof path, "%s/mix_stats.csv", dir);
    FILE *g = fopen(path, "r");
    for (int i = 0; g && i < 4; i++)
        if (!fgets(l[i], sizeof l[i], g))
            break;
    if (g)
        fclose(g);
    CHECK(!strncmp(l[1], "GET,/products,1,1,3,3.0,", 24), "row 1: %s", l[1]);
    CHECK(!strncmp(l[2], "POST,/products,2,0,1,2.0,", 25), "row 2: %s", l[2]);
    CHECK(!strncmp(l[3], ",Aggregated,3,1,3,", 18), "row 3: %s", l[3]);
    snprintf(path, sizeof path, "%s/mix_failures.csv", dir);
    g = fopen(path, "r");
    if (g && fgets(l[0], sizeof l[0], g))
        fgets(l[0], sizeof l[0], g);
    if (g)
        fclose(g);
    CHECK(!strcmp(l[0], "GET,/products,\"CatchResponseError('status 500, expected 200')\",1\r\n"),
          "failure row: %s", l[0]);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    size_t sl;
    char *sj = slurp(path, &sl);
    CHECK(sj && strstr(sj, "\"by_name\":[{\"method\":\"GET\",\"name\":\"/products\",\"requests\":1,"
                           "\"failures\":1,\"avg_ms\":3.000,"), "summary: %.300s", sj ? sj : "");
    CHECK(sj && strstr(sj, "{\"count\":1,\"method\":\"GET\",\"name\":\"/products\",\"error\":"),
          "summary errors");
    free(sj);
    static const char *const files[] = {"mix_stats.csv", "mix_stats_history.csv",
                                        "mix_failures.csv", "mix_exceptions.csv",
                                        "per_second.csv", "summary.json", "report.html"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

int main(void)
{
    test_hist();
    test_resp();
    test_scenario_files();
    test_builtins();
    test_pyfloat();
    test_target();
    test_payloads();
    test_csv_headers();
    test_flow();
    test_entry_rows();
    return check_done("test_loadgen");
}
