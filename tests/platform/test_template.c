/* The SAM template reader: the study's stack (tests/data/templates/
 * study.yaml) with parameters, overrides, Globals, intrinsics, CORS and
 * throttling; and broken templates (errors.cases), each refused with a
 * message naming file, line and key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "template.h"

static const char *env(const sam_function *f, const char *k)
{
    for (size_t i = 0; i < f->n_env; i++)
        if (!strcmp(f->env[i].key, k))
            return f->env[i].value;
    return NULL;
}

static void study(void)
{
    char err[512] = "";
    sam_template *t;
    const char *path = "tests/data/templates/study.yaml";
    int rc = sam_load(path, NULL, 0, &t, err, sizeof err);
    CHECK(rc == 0, "load study.yaml: %s", err);
    if (rc)
        return;
    CHECK(t->n_functions == 2 && t->n_apis == 2 && t->n_routes == 4,
          "counts %zu %zu %zu", t->n_functions, t->n_apis, t->n_routes);
    const sam_function *f = &t->functions[0];
    CHECK(!strcmp(f->name, "NerFunction"), "name %s", f->name);
    CHECK(!strcmp(f->runtime, "provided.al2023") && !strcmp(f->handler, "bootstrap"), "runtime");
    CHECK(!strcmp(f->code_uri, "tests/data/templates/build/function"), "code uri %s", f->code_uri);
    CHECK(f->memory_mb == 1024 && f->timeout_s == 29, "memory %d timeout %d", f->memory_mb,
          f->timeout_s);
    CHECK(f->reserved == 10 && f->provisioned == 2 && !strcmp(f->alias, "live"), "concurrency");
    CHECK(env(f, "LOG_LEVEL") && !strcmp(env(f, "LOG_LEVEL"), "debug"), "env override");
    CHECK(env(f, "STAGE") && !strcmp(env(f, "STAGE"), "dev"), "global env with !Ref");
    CHECK(env(f, "NERD_MODEL") && !strcmp(env(f, "NERD_MODEL"), "us-east-1/model-dev.nerd"),
          "!Sub: %s", env(f, "NERD_MODEL") ? env(f, "NERD_MODEL") : "");
    const sam_function *g = &t->functions[1];
    CHECK(!strcmp(g->code_uri, "/opt/items") && g->memory_mb == 128 && g->timeout_s == 29 &&
          g->reserved == -1 && g->provisioned == 0, "defaults and globals");
    const sam_api *a = &t->apis[0];
    CHECK(!strcmp(a->name, "NerApi") && a->cors && a->n_origins == 1 &&
          !strcmp(a->origins[0], "*") && a->n_methods == 2 && a->max_age == 600, "cors");
    CHECK(a->burst_limit == 200 && a->rate_limit > 100.4 && a->rate_limit < 100.6, "throttle");
    CHECK(!strcmp(t->apis[1].name, "ServerlessHttpApi") && !t->apis[1].cors, "implicit api");
    const sam_route *r = &t->routes[0];
    CHECK(!strcmp(r->method, "POST") && !strcmp(r->path, "/ner") && r->function == 0 &&
          r->api == 0, "route 0: %s %s", r->method, r->path);
    CHECK(!strcmp(t->routes[2].path, "/items/{id}") && t->routes[2].api == 1 &&
          t->routes[2].function == 1, "route with {param}");
    CHECK(!strcmp(t->routes[3].path, "/static/{proxy+}") &&
          !strcmp(t->routes[3].method, "ANY"), "greedy route");
    free(t);

    /* --parameter-overrides, both spellings */
    const char *ov[] = {"MemorySize=1769", "ParameterKey=Stage,ParameterValue=prod"};
    rc = sam_load(path, ov, 2, &t, err, sizeof err);
    CHECK(rc == 0, "overrides: %s", err);
    if (!rc) {
        CHECK(t->functions[0].memory_mb == 1769, "override MemorySize");
        CHECK(!strcmp(env(&t->functions[0], "STAGE"), "prod"), "override Stage");
        free(t);
    }
    const char *bad[] = {"MemorySize=100"};
    rc = sam_load(path, bad, 1, &t, err, sizeof err);
    CHECK(rc != 0 && strstr(err, "MemorySize: '100' is not one of AllowedValues"),
          "override outside AllowedValues: %s", err);
    rc = sam_load("/nonexistent/template.yaml", NULL, 0, &t, err, sizeof err);
    CHECK(rc != 0 && strstr(err, "/nonexistent/template.yaml: No such file"), "missing: %s", err);
}

static void errors(const char *path)
{
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "open %s", path);
    if (!f)
        return;
    char line[1024], want[1024] = "", yaml[16384] = "";
    size_t n = 0;
    int cases = 0, have = 0;
    for (;;) {
        char *got = fgets(line, sizeof line, f);
        if (!got || !strncmp(line, "=== ", 4)) {
            if (have) {
                char err[512] = "";
                sam_template *t = NULL;
                const char *ov[] = {"Bogus=1"};
                int over = strstr(want, "--parameter-overrides") != NULL;
                int rc = sam_load_mem("t.yaml", yaml, n, over ? ov : NULL, over ? 1 : 0, &t,
                                      err, sizeof err);
                CHECK(rc != 0 && strstr(err, want), "want '%s', got '%s'", want,
                      rc ? err : "success");
                free(t);
                cases++;
            }
            if (!got)
                break;
            line[strcspn(line, "\n")] = 0;
            snprintf(want, sizeof want, "%s", line + 4);
            n = 0;
            have = 1;
        } else if (have && n + strlen(line) < sizeof yaml) {
            memcpy(yaml + n, line, strlen(line));
            n += strlen(line);
        }
    }
    fclose(f);
    CHECK(cases >= 15, "error cases: %d", cases);
}

/* EventInvokeConfig, TimeoutInMillis, RouteSettings (API map and event). */
static void edges(void)
{
    char err[512] = "";
    sam_template *t = NULL;
    CHECK(sam_load("tests/data/functions/edges.yaml", NULL, 0, &t, err, sizeof err) == 0,
          "edges.yaml: %s", err);
    if (!t)
        return;
    const sam_function *fail = NULL, *once = NULL, *succ = NULL;
    for (size_t i = 0; i < t->n_functions; i++) {
        if (!strcmp(t->functions[i].name, "Failing"))
            fail = &t->functions[i];
        if (!strcmp(t->functions[i].name, "FailingOnce"))
            once = &t->functions[i];
        if (!strcmp(t->functions[i].name, "Succeeding"))
            succ = &t->functions[i];
    }
    CHECK(fail && fail->async_retries == 2 && fail->max_event_age_s == 21600 &&
          !strcmp(fail->on_failure, "SQS arn:aws:sqs:us-east-1:123456789012:failed") &&
          !fail->on_success[0], "Failing: %s", fail ? fail->on_failure : "missing");
    CHECK(once && once->async_retries == 0 &&
          !strcmp(once->on_failure, "SNS arn:aws:sns:us-east-1:123456789012:failures"),
          "FailingOnce: %s", once ? once->on_failure : "missing");
    CHECK(succ && !succ->on_failure[0] && !strncmp(succ->on_success, "EventBridge arn:", 16),
          "Succeeding: %s", succ ? succ->on_success : "missing");
    int seen = 0;
    for (size_t i = 0; i < t->n_routes; i++) {
        const sam_route *r = &t->routes[i];
        if (!strcmp(r->path, "/slow"))
            { seen++; CHECK(r->timeout_ms == 500 && !r->throttled, "/slow: %d", r->timeout_ms); }
        if (!strcmp(r->path, "/routed"))
            { seen++; CHECK(r->throttled && r->burst_limit == 2 && r->rate_limit == 0.01 &&
                          r->timeout_ms == 30000, "/routed: %d %d", r->throttled, r->burst_limit); }
        if (!strcmp(r->path, "/own"))
            { seen++; CHECK(r->throttled && r->burst_limit == 1, "/own: %d", r->burst_limit); }
        if (!strcmp(r->path, "/free"))
            { seen++; CHECK(!r->throttled, "/free throttled"); }
    }
    CHECK(seen == 4, "routes seen: %d", seen);
    free(t);
}

/* The repository's own template.yaml: Conditions and !If choose the
 * optional settings; AWS::NoValue leaves a property out. */
static void repo_template(void)
{
    char err[512] = "";
    sam_template *t = NULL;
    CHECK(sam_load("template.yaml", NULL, 0, &t, err, sizeof err) == 0, "template.yaml: %s", err);
    if (t) {
        const sam_function *f = &t->functions[0];
        CHECK(t->n_functions == 1 && !strcmp(f->name, "NerFunction"), "function");
        CHECK(f->memory_mb == 512 && f->timeout_s == 10 && f->reserved == -1 &&
              f->provisioned == 0 && !strcmp(f->alias, "live"), "defaults: %d %d %d %d",
              f->memory_mb, f->timeout_s, f->reserved, f->provisioned);
        CHECK(t->n_routes == 4, "routes: %zu", t->n_routes);
        free(t);
    }
    const char *ov[] = {"ReservedConcurrency=4", "ProvisionedConcurrency=2", "MemorySize=1024",
                        "Architecture=arm64"};
    t = NULL;
    CHECK(sam_load("template.yaml", ov, 4, &t, err, sizeof err) == 0, "overrides: %s", err);
    if (t) {
        const sam_function *f = &t->functions[0];
        CHECK(f->memory_mb == 1024 && f->reserved == 4 && f->provisioned == 2 &&
              !strcmp(f->arch, "arm64"), "overrides: %d %d %d %s", f->memory_mb, f->reserved,
              f->provisioned, f->arch);
        free(t);
    }
}

int main(void)
{
    study();
    repo_template();
    edges();
    errors("tests/data/templates/errors.cases");
    return check_done("test_template");
}
