/* The SAM template reader: the study's stack (tests/data/templates/
 * study.yaml) with parameters, overrides, Globals, intrinsics, CORS and
 * throttling; REST APIs, authorizers, API keys and usage plans
 * (auth.yaml); the repository's template.yaml and lab/template.yaml;
 * runtimes and layers (layered.yaml); and broken templates (errors.cases),
 * each refused with a
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

static const sam_route *route_at(const sam_template *t, const char *method, const char *path)
{
    for (size_t i = 0; i < t->n_routes; i++)
        if (!strcmp(t->routes[i].method, method) && !strcmp(t->routes[i].path, path))
            return &t->routes[i];
    return NULL;
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
    /* the API-key mode: the same function (Globals) behind a REST API
     * whose /ner needs a key of SAM's PER_API plan */
    const char *key_mode[] = {"RequireApiKey=true", "MemorySize=1024"};
    t = NULL;
    CHECK(sam_load("template.yaml", key_mode, 2, &t, err, sizeof err) == 0, "API-key mode: %s", err);
    if (t) {
        const sam_function *f = &t->functions[0];
        CHECK(t->n_functions == 1 && !strcmp(f->name, "NerKeyFunction") && f->memory_mb == 1024 &&
              !strcmp(f->alias, "live") && !strcmp(f->handler, "bootstrap"), "key mode: function");
        CHECK(t->n_apis == 1 && t->apis[0].type == SAM_REST_API &&
              !strcmp(t->apis[0].name, "NerRestApi") && !strcmp(t->apis[0].stage, "Prod"),
              "key mode: the REST API");
        const sam_route *ner = route_at(t, "ANY", "/ner"), *health = route_at(t, "GET", "/healthz"),
                        *other = route_at(t, "ANY", "/{proxy+}");
        CHECK(t->n_routes == 3 && ner && ner->api_key_required && health &&
              !health->api_key_required && other && other->api_key_required, "key mode: routes");
        CHECK(t->n_keys == 1 && !strcmp(t->keys[0].name, "NerRestApiApiKey") &&
              !t->keys[0].value[0] && t->keys[0].enabled, "key mode: the key");
        const sam_usage_plan *u = &t->plans[0];
        CHECK(t->n_plans == 1 && !strcmp(u->name, "NerRestApiUsagePlan") && u->throttled &&
              u->rate_limit == 10 && u->burst_limit == 20 && u->quota_limit == 10000 &&
              u->quota_period == SAM_PERIOD_DAY && u->n_stages == 1 &&
              !strcmp(u->stages[0].stage, "Prod") && t->n_plan_keys == 1, "key mode: the plan");
        free(t);
    }
}


/* lab/template.yaml (docs/lab.md): the lab's tasks as parameter values, a
 * variable that !If leaves out with AWS::NoValue is absent, not empty, and
 * ProductsRuntime switching CodeUri, Handler and Runtime by !If. */
static void lab_template(void)
{
    char err[512] = "";
    sam_template *t = NULL;
    CHECK(sam_load("lab/template.yaml", NULL, 0, &t, err, sizeof err) == 0, "lab: %s", err);
    if (t) {
        const sam_function *f = &t->functions[0];
        CHECK(t->n_functions == 1 && !strcmp(f->name, "ProductApiFunction"), "function");
        CHECK(f->memory_mb == 128 && f->timeout_s == 10 && f->reserved == -1 &&
              f->provisioned == 0 && !strcmp(f->alias, "live"), "task 2: %d %d %d %d",
              f->memory_mb, f->timeout_s, f->reserved, f->provisioned);
        CHECK(env(f, "TABLE_NAME") && !strcmp(env(f, "TABLE_NAME"), "ProductsTable"), "TABLE_NAME");
        CHECK(!env(f, "AWS_ENDPOINT_URL_DYNAMODB") && f->n_env == 1,
              "no endpoint variable unless given: %zu variables", f->n_env);
        CHECK(t->n_routes == 2, "routes: %zu", t->n_routes);
        CHECK(!strcmp(f->runtime, "provided.al2023") && !strcmp(f->handler, "bootstrap") &&
              !strcmp(f->code_uri, "lab/.."), "C by default: %s %s %s", f->runtime, f->handler,
              f->code_uri);
        free(t);
    }
    const char *py[] = {"ProductsRuntime=python", "MemorySize=3008"};
    t = NULL;
    CHECK(sam_load("lab/template.yaml", py, 2, &t, err, sizeof err) == 0, "lab in Python: %s", err);
    if (t) {
        const sam_function *f = &t->functions[0];
        CHECK(!strcmp(f->runtime, "python3.11") && !strcmp(f->handler, "app.handler") &&
              !strcmp(f->code_uri, "lab/python") && f->memory_mb == 3008 &&
              env(f, "TABLE_NAME") && t->n_routes == 2, "Python: %s %s %s", f->runtime,
              f->handler, f->code_uri);
        free(t);
    }
    const char *go[] = {"ProductsRuntime=go"};
    t = NULL;
    CHECK(sam_load("lab/template.yaml", go, 1, &t, err, sizeof err) != 0 && !t &&
              strstr(err, "ProductsRuntime: 'go' is not one of AllowedValues"), "go: %s", err);
    const char *ov[] = {"MemorySize=3008", "ProvisionedConcurrency=40", "ReservedConcurrency=100",
                        "LocalDynamoDBEndpoint=http://127.0.0.1:8000"};
    t = NULL;
    CHECK(sam_load("lab/template.yaml", ov, 4, &t, err, sizeof err) == 0, "lab task 5: %s", err);
    if (t) {
        const sam_function *f = &t->functions[0];
        CHECK(f->memory_mb == 3008 && f->provisioned == 40 && f->reserved == 100, "task 5: %d %d %d",
              f->memory_mb, f->provisioned, f->reserved);
        CHECK(env(f, "AWS_ENDPOINT_URL_DYNAMODB") &&
              !strcmp(env(f, "AWS_ENDPOINT_URL_DYNAMODB"), "http://127.0.0.1:8000"), "endpoint");
        free(t);
    }
}

static int named(const sam_template *t, const char *kind, const char *name)
{
    size_t n = !strcmp(kind, "api") ? t->n_apis : !strcmp(kind, "authorizer") ? t->n_authorizers
             : !strcmp(kind, "key") ? t->n_keys : t->n_plans;
    for (size_t i = 0; i < n; i++) {
        const char *s = !strcmp(kind, "api") ? t->apis[i].name
                      : !strcmp(kind, "authorizer") ? t->authorizers[i].name
                      : !strcmp(kind, "key") ? t->keys[i].name : t->plans[i].name;
        if (!strcmp(s, name))
            return (int)i;
    }
    return -1;
}

/* REST and HTTP APIs with Auth, keys and plans (auth.yaml). */
static void auth(void)
{
    char err[512] = "";
    sam_template *t = NULL;
    CHECK(sam_load("tests/data/templates/auth.yaml", NULL, 0, &t, err, sizeof err) == 0,
          "auth.yaml: %s", err);
    if (!t)
        return;
    int shop = named(t, "api", "Shop"), http = named(t, "api", "Http"),
        imp = named(t, "api", "ServerlessRestApi"), fn = 0;
    CHECK(shop >= 0 && http >= 0 && imp >= 0, "apis %d %d %d", shop, http, imp);
    if (shop < 0 || http < 0 || imp < 0) {
        free(t);
        return;
    }
    const sam_api *a = &t->apis[shop], *h = &t->apis[http], *i = &t->apis[imp];
    CHECK(a->type == SAM_REST_API && !strcmp(a->stage, "live") && a->extra_stage, "Shop stage");
    CHECK(i->type == SAM_REST_API && !strcmp(i->stage, "Prod"), "implicit stage %s", i->stage);
    CHECK(h->type == SAM_HTTP_API && !strcmp(h->stage, "$default"), "HTTP API");
    CHECK(a->n_vars == 1 && !strcmp(a->vars[0].key, "table") && !strcmp(a->vars[0].value, "orders"),
          "stage variables");
    CHECK(a->n_binary == 2 && !strcmp(a->binary[0], "image/png") && !strcmp(a->binary[1], "*/*") &&
          i->n_binary == 2, "BinaryMediaTypes from Globals.Api, ~1 decoded");
    CHECK(a->cors && !strcmp(a->origins[0], "https://app.example.com") && !i->cors,
          "Cors string form through !Ref: %s", a->origins[0]);
    CHECK(a->burst_limit == 100 && a->rate_limit == 50 && a->key_source_authorizer,
          "stage throttle, key source");
    CHECK(!strcmp(a->auth.default_authorizer, "TokenAuth") && a->auth.api_key_required == 1 &&
          !a->auth.default_auth_on_preflight && a->auth.api_key_on_preflight &&
          a->auth.usage_plan == SAM_PLAN_PER_API, "Shop Auth");
    for (size_t k = 0; k < t->n_functions; k++)
        if (!strcmp(t->functions[k].name, "AuthFn"))
            fn = (int)k;
    const sam_authorizer *z;
    int ix = named(t, "authorizer", "TokenAuth");
    z = ix >= 0 ? &t->authorizers[ix] : NULL;
    CHECK(z && z->type == SAM_AUTHZ_TOKEN && z->api == shop && z->function == fn &&
          !strcmp(z->header, "X-Token") && !strcmp(z->validation, "^Bearer .+$") && z->ttl_s == 60,
          "TOKEN authorizer");
    ix = named(t, "authorizer", "ReqAuth");
    z = ix >= 0 ? &t->authorizers[ix] : NULL;
    CHECK(z && z->type == SAM_AUTHZ_REQUEST && z->function == fn && z->ttl_s == 0 &&
          z->n_id_headers == 1 && !strcmp(z->id_headers[0], "X-A") && z->n_id_query == 1 &&
          z->n_id_stage_vars == 1 && z->n_id_context == 1 && !strcmp(z->id_context[0], "sourceIp"),
          "REQUEST authorizer (FunctionArn as an ARN)");
    ix = named(t, "authorizer", "Cognito");
    z = ix >= 0 ? &t->authorizers[ix] : NULL;
    CHECK(z && z->type == SAM_AUTHZ_COGNITO && z->function == -1 && z->ttl_s == 300 &&
          z->n_user_pools == 1 && !strcmp(z->header, "Authorization") && z->n_scopes == 1,
          "Cognito authorizer");
    ix = named(t, "authorizer", "Jwt");
    z = ix >= 0 ? &t->authorizers[ix] : NULL;
    CHECK(z && z->type == SAM_AUTHZ_JWT && z->api == http && !strcmp(z->issuer, "http://127.0.0.1:9999") &&
          z->n_audience == 2 && !strcmp(z->audience[1], "client-b") &&
          !strcmp(z->identity_source, "$request.header.Authorization"), "JWT authorizer");
    ix = named(t, "authorizer", "LambdaAuth");
    z = ix >= 0 ? &t->authorizers[ix] : NULL;
    CHECK(z && z->type == SAM_AUTHZ_LAMBDA && z->payload_version == 2 && z->simple_responses &&
          z->ttl_s == 30 && z->n_id_headers == 1, "HTTP Lambda authorizer");
    const sam_route *r = route_at(t, "GET", "/orders");
    CHECK(r && r->authorizer == named(t, "authorizer", "TokenAuth") && r->api_key_required &&
          r->payload_version == 1 && r->timeout_ms == 29000 && !r->throttled, "GET /orders");
    r = route_at(t, "GET", "/orders/{id}");
    CHECK(r && r->authorizer == SAM_AUTH_NONE && !r->api_key_required && r->throttled &&
          r->burst_limit == 5 && r->rate_limit == 50, "GET /orders/{id}: NONE, no key, "
          "MethodSettings over the stage default");
    if (r && r->resource >= 0) {
        const sam_resource *s = &t->resources[r->resource];
        CHECK(s->kind == SAM_PART_PARAM && !strcmp(s->name, "id") && !strcmp(s->path, "/orders/{id}") &&
              s->methods[SAM_GET] == (int)(r - t->routes) && strlen(s->id) == 6 &&
              !strcmp(t->resources[s->parent].path, "/orders"), "resource /orders/{id}");
    }
    r = route_at(t, "POST", "/admin");
    CHECK(r && r->authorizer == named(t, "authorizer", "Cognito") && r->n_scopes == 1 &&
          !strcmp(r->scopes[0], "admin") && r->timeout_ms == 1000, "POST /admin");
    r = route_at(t, "ANY", "/req");
    CHECK(r && r->authorizer == named(t, "authorizer", "ReqAuth"), "ANY /req");
    r = route_at(t, "GET", "/hello");
    CHECK(r && r->api == imp && r->authorizer == SAM_AUTH_NONE && !r->api_key_required, "implicit");
    r = route_at(t, "GET", "/jwt");
    CHECK(r && r->authorizer == named(t, "authorizer", "Jwt") && r->payload_version == 1 &&
          r->n_scopes == 1 && !strcmp(r->scopes[0], "default") && r->resource == -1, "GET /jwt");
    r = route_at(t, "GET", "/scoped");
    CHECK(r && r->n_scopes == 1 && !strcmp(r->scopes[0], "read"), "GET /scoped: own scopes");
    r = route_at(t, "GET", "/free");
    CHECK(r && r->authorizer == SAM_AUTH_NONE, "GET /free");
    r = route_at(t, "GET", "/lambda");
    CHECK(r && r->authorizer == named(t, "authorizer", "LambdaAuth") && r->payload_version == 2,
          "GET /lambda");
    int key = named(t, "key", "Key"), dis = named(t, "key", "Disabled"),
        gen = named(t, "key", "ShopApiKey"), plan = named(t, "plan", "Plan"),
        sp = named(t, "plan", "ShopUsagePlan");
    CHECK(key >= 0 && t->keys[key].enabled && !strcmp(t->keys[key].value, "abcdefghij0123456789XYZ") &&
          t->keys[key].n_stage_keys == 1 && t->keys[key].stage_keys[0].api == shop &&
          !strcmp(t->keys[key].stage_keys[0].stage, "live"), "ApiKey");
    CHECK(dis >= 0 && !t->keys[dis].enabled && !t->keys[dis].generated, "Enabled defaults to false");
    CHECK(gen >= 0 && t->keys[gen].enabled && t->keys[gen].generated && !t->keys[gen].value[0] &&
          t->keys[gen].stage_keys[0].api == shop, "SAM's ShopApiKey");
    CHECK(plan >= 0 && t->plans[plan].n_stages == 1 && t->plans[plan].stages[0].api == shop &&
          !strcmp(t->plans[plan].stages[0].stage, "live") &&
          t->plans[plan].stages[0].n_throttle == 1 &&
          !strcmp(t->plans[plan].stages[0].throttle[0].path, "/orders") &&
          !strcmp(t->plans[plan].stages[0].throttle[0].method, "GET") &&
          t->plans[plan].stages[0].throttle[0].burst_limit == 3 &&
          t->plans[plan].quota_limit == 50 && t->plans[plan].quota_period == SAM_PERIOD_DAY &&
          t->plans[plan].throttled && t->plans[plan].burst_limit == 10 &&
          t->plans[plan].rate_limit == 5, "UsagePlan (Stage from !Ref ShopliveStage)");
    CHECK(sp >= 0 && t->plans[sp].generated && !strcmp(t->plans[sp].plan_name, "gold") &&
          t->plans[sp].quota_limit == 1000 && t->plans[sp].quota_period == SAM_PERIOD_MONTH &&
          t->plans[sp].quota_offset == 2 && t->plans[sp].n_stages == 1 &&
          t->plans[sp].stages[0].api == shop && a->auth.usage_plan_index == sp, "SAM's ShopUsagePlan");
    int pk = 0;
    for (size_t k = 0; k < t->n_plan_keys; k++)
        pk += (t->plan_keys[k].plan == plan && t->plan_keys[k].key == key) +
              (t->plan_keys[k].plan == sp && t->plan_keys[k].key == gen);
    CHECK(t->n_plan_keys == 2 && pk == 2, "plan keys %zu", t->n_plan_keys);
    free(t);
}

/* Managed runtimes and layers (tests/data/functions/layered.yaml): the
 * Globals' layers first, ContentUri resolved, an ARN kept without a
 * directory. */
static void layers(void)
{
    char err[512] = "";
    sam_template *t = NULL;
    CHECK(sam_load("tests/data/functions/layered.yaml", NULL, 0, &t, err, sizeof err) == 0,
          "layered.yaml: %s", err);
    if (!t)
        return;
    const sam_function *py = &t->functions[0], *node = &t->functions[2];
    CHECK(t->n_functions == 3 && !strcmp(py->runtime, "python3.11") &&
          !strcmp(py->handler, "app.handler"), "functions %zu", t->n_functions);
    CHECK(py->n_layers == 2 && !strcmp(py->layers[0].name, "LayerOne") &&
          !strcmp(py->layers[0].dir, "tests/data/functions/../layers/one") &&
          !strcmp(py->layers[1].name, "LayerTwo") &&
          !strcmp(py->layers[1].dir, "tests/data/functions/../layers/two"),
          "python layers %zu %s %s", py->n_layers, py->layers[0].dir, py->layers[1].dir);
    CHECK(!strcmp(node->runtime, "nodejs20.x") && node->n_layers == 3 &&
          !strcmp(node->layers[1].name, "NodeLayer") &&
          !strncmp(node->layers[2].name, "arn:aws:lambda:us-east-1:017000801446:layer:", 44) &&
          !node->layers[2].dir[0], "node layers %zu", node->n_layers);
    free(t);
}

int main(void)
{
    study();
    layers();
    repo_template();
    lab_template();
    edges();
    auth();
    errors("tests/data/templates/errors.cases");
    return check_done("test_template");
}
