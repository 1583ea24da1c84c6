/*
 * The APIs of a SAM template (see template_int.h): AWS::Serverless::HttpApi
 * (CorsConfiguration, DefaultRouteSettings, RouteSettings, StageName, Auth)
 * and AWS::Serverless::Api (StageName, Cors in its string and map forms,
 * MethodSettings, Variables, BinaryMediaTypes, ApiKeySourceType,
 * OpenApiVersion, Auth), the functions' HttpApi and Api events, and once
 * everything is read each REST API's resource tree (a resource per path
 * part, as API Gateway builds it) and each route's throttling.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "template_int.h"

int sam_method_index(const char *m)
{
    static const char *const names[SAM_N_METHODS] = {"GET", "POST", "PUT", "PATCH", "DELETE",
                                                     "HEAD", "OPTIONS", "ANY"};
    for (int i = 0; i < SAM_N_METHODS; i++)
        if (!strcmp(m, names[i]))
            return i;
    return -1;
}

int sam_rest_root(const sam_template *t, int api)
{
    for (size_t i = 0; i < t->n_resources; i++)
        if (t->resources[i].api == api && t->resources[i].parent < 0)
            return (int)i;
    return -1;
}

int sam__list_of(ctx *c, yaml_node_t *n, const char *key, char (*out)[SAM_STR],
                 size_t cap_each, size_t max, size_t *count)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return sam__fail(c, n, key, "expected a list");
    *count = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        if (*count == max)
            return sam__fail(c, n, key, "more than %zu items", max);
        if (sam__scalar(c, sam__node(c, *it), key, out[*count], cap_each))
            return -1;
        (*count)++;
    }
    return 0;
}

/* ThrottlingBurstLimit / ThrottlingRateLimit of a settings mapping whose
 * other keys are `known`; *present gets 1 for a burst limit, 2 for a rate. */
static int throttle_settings(ctx *c, yaml_node_t *n, const char *where, const char *const *known,
                             double *rate, int *burst, int *present)
{
    yaml_node_t *v;
    if (sam__check_keys(c, n, where, known))
        return -1;
    if (present)
        *present = (sam__map_get(c, n, "ThrottlingBurstLimit") ? 1 : 0) |
                   (sam__map_get(c, n, "ThrottlingRateLimit") ? 2 : 0);
    if ((v = sam__map_get(c, n, "ThrottlingBurstLimit")) &&
        sam__integer(c, v, "ThrottlingBurstLimit", 0, 1000000, burst))
        return -1;
    if ((v = sam__map_get(c, n, "ThrottlingRateLimit")) && sam__rate(c, v, "ThrottlingRateLimit", rate))
        return -1;
    return 0;
}

static const char *const ROUTE_SETTING_KEYS[] = {"ThrottlingBurstLimit", "ThrottlingRateLimit",
    "DetailedMetricsEnabled", "DataTraceEnabled", "LoggingLevel", NULL};

int sam__api_index(ctx *c, const char *name, sam_api_type type, yaml_node_t *at)
{
    for (size_t i = 0; i < c->t->n_apis; i++)
        if (!strcmp(c->t->apis[i].name, name)) {
            if (c->t->apis[i].type != type)
                return sam__fail(c, at, name, "is not an %s", type == SAM_REST_API
                                 ? "AWS::Serverless::Api" : "AWS::Serverless::HttpApi");
            return (int)i;
        }
    if (c->t->n_apis == SAM_MAX_APIS)
        return sam__fail(c, at, name, "too many APIs (at most %d)", SAM_MAX_APIS);
    sam_api *a = &c->t->apis[c->t->n_apis];
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s", name);
    a->type = type;
    a->max_age = -1;
    a->line = at ? (int)at->start_mark.line + 1 : 0;
    a->auth.api_key_required = -1; /* unset until sam__finish_auth() */
    a->auth.default_auth_on_preflight = 1;
    a->auth.api_key_on_preflight = 1;
    a->auth.usage_plan_index = -1;
    if (type == SAM_REST_API) {
        a->extra_stage = 1;
        if (!strcmp(name, "ServerlessRestApi")) /* the implicit API's stage is always Prod */
            snprintf(a->stage, sizeof a->stage, "Prod");
    } else {
        snprintf(a->stage, sizeof a->stage, "$default");
    }
    return (int)c->t->n_apis++;
}

/* ---- HTTP APIs ---- */

int sam__http_api_props(ctx *c, yaml_node_t *props, sam_api *a, const char *where)
{
    static const char *const keys[] = {"CorsConfiguration", "DefaultRouteSettings",
        "StageName", "Auth", "AccessLogSettings", "Description", "DefinitionBody",
        "DefinitionUri", "Domain", "FailOnWarnings", "RouteSettings", "StageVariables",
        "Tags", "Name", "DisableExecuteApiEndpoint", "PropagateTags", NULL};
    static const char *const ck[] = {"AllowOrigins", "AllowMethods", "AllowHeaders",
        "ExposeHeaders", "MaxAge", "AllowCredentials", NULL};
    yaml_node_t *n, *v;
    if (!props)
        return 0;
    if (sam__check_keys(c, props, where, keys))
        return -1;
    if ((n = sam__map_get(c, props, "StageName")) &&
        sam__scalar(c, n, "StageName", a->stage, sizeof a->stage))
        return -1;
    if ((n = sam__map_get(c, props, "CorsConfiguration"))) {
        a->cors = 1;
        if (n->type == YAML_SCALAR_NODE) {
            if (strcmp(sam__sval(n), "true") && strcmp(sam__sval(n), "false"))
                return sam__fail(c, n, "CorsConfiguration", "expected true, false or a mapping");
            a->cors = !strcmp(sam__sval(n), "true");
            if (a->cors) { /* SAM: true means allow all origins */
                a->n_origins = 1;
                snprintf(a->origins[0], SAM_STR, "*");
            }
        } else {
            char tmp[SAM_MAX_LIST][SAM_STR];
            if (sam__check_keys(c, n, "CorsConfiguration", ck))
                return -1;
            if ((v = sam__map_get(c, n, "AllowOrigins")) &&
                sam__list_of(c, v, "AllowOrigins", a->origins, SAM_STR, SAM_MAX_LIST,
                             &a->n_origins))
                return -1;
            if ((v = sam__map_get(c, n, "AllowHeaders")) &&
                sam__list_of(c, v, "AllowHeaders", a->headers, SAM_STR, SAM_MAX_LIST,
                             &a->n_headers))
                return -1;
            if ((v = sam__map_get(c, n, "ExposeHeaders")) &&
                sam__list_of(c, v, "ExposeHeaders", a->expose, SAM_STR, SAM_MAX_LIST,
                             &a->n_expose))
                return -1;
            if ((v = sam__map_get(c, n, "AllowMethods"))) {
                if (sam__list_of(c, v, "AllowMethods", tmp, 16, SAM_MAX_LIST, &a->n_methods))
                    return -1;
                for (size_t i = 0; i < a->n_methods; i++)
                    snprintf(a->methods[i], sizeof a->methods[i], "%s", tmp[i]);
            }
            if ((v = sam__map_get(c, n, "MaxAge")) && sam__integer(c, v, "MaxAge", -1, 86400, &a->max_age))
                return -1;
            if ((v = sam__map_get(c, n, "AllowCredentials")) &&
                sam__boolean(c, v, "AllowCredentials", &a->allow_credentials))
                return -1;
        }
    }
    if ((n = sam__map_get(c, props, "DefaultRouteSettings")) &&
        throttle_settings(c, n, "DefaultRouteSettings", ROUTE_SETTING_KEYS, &a->rate_limit,
                          &a->burst_limit, NULL))
        return -1;
    if ((n = sam__map_get(c, props, "RouteSettings"))) {
        if (n->type != YAML_MAPPING_NODE)
            return sam__fail(c, n, "RouteSettings", "expected a mapping of route keys");
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
            yaml_node_t *kn = sam__node(c, p->key);
            const char *k = sam__sval(kn);
            if (!k || (!strchr(k, ' ') && strcmp(k, "$default")) || strlen(k) >= SAM_STR)
                return sam__fail(c, kn, "RouteSettings", "expected a route key such as \"POST /ner\"");
            size_t i;
            for (i = 0; i < a->n_route_settings && strcmp(a->route_settings[i].key, k); i++)
                ;
            if (i == SAM_MAX_ROUTES)
                return sam__fail(c, kn, "RouteSettings", "too many routes");
            snprintf(a->route_settings[i].key, SAM_STR, "%s", k);
            if (throttle_settings(c, sam__node(c, p->value), k, ROUTE_SETTING_KEYS,
                                  &a->route_settings[i].rate_limit,
                                  &a->route_settings[i].burst_limit, &a->route_settings[i].present))
                return -1;
            if (i == a->n_route_settings)
                a->n_route_settings++;
        }
    }
    if ((n = sam__map_get(c, props, "Auth")) && sam__api_auth(c, n, (int)(a - c->t->apis)))
        return -1;
    return 0;
}

/* ---- REST APIs ---- */

/* An API Gateway mapping expression: a literal in single quotes ("'*'"),
 * whose text goes to out. */
static int quoted(ctx *c, yaml_node_t *n, const char *key, char *out, size_t cap)
{
    char s[SAM_STR + 2];
    if (sam__scalar(c, n, key, s, sizeof s))
        return -1;
    size_t l = strlen(s);
    if (l < 2 || s[0] != '\'' || s[l - 1] != '\'')
        return sam__fail(c, n, key, "'%s' is not a quoted string such as \"'*'\" (API "
                         "Gateway reads a mapping expression here and refuses it)", s);
    return sam__copy(c, n, key, out, cap, s + 1, l - 2);
}

static int rest_cors(ctx *c, yaml_node_t *n, sam_api *a)
{
    static const char *const ck[] = {"AllowMethods", "AllowHeaders", "AllowOrigin", "MaxAge",
                                     "AllowCredentials", NULL};
    yaml_node_t *v;
    a->cors = 1;
    a->n_origins = 1;
    a->n_headers = 0;
    a->max_age = -1;
    a->rest_methods[0] = 0;
    a->allow_credentials = 0;
    if (n->type == YAML_SCALAR_NODE || sam__intrinsic(c, n, &v))
        return quoted(c, n, "Cors", a->origins[0], SAM_STR);
    if (sam__check_keys(c, n, "Cors", ck))
        return -1;
    if (!(v = sam__map_get(c, n, "AllowOrigin")))
        return sam__fail(c, n, "Cors", "AllowOrigin is required");
    if (quoted(c, v, "AllowOrigin", a->origins[0], SAM_STR))
        return -1;
    if ((v = sam__map_get(c, n, "AllowMethods")) &&
        quoted(c, v, "AllowMethods", a->rest_methods, sizeof a->rest_methods))
        return -1;
    if ((v = sam__map_get(c, n, "AllowHeaders"))) {
        if (quoted(c, v, "AllowHeaders", a->headers[0], SAM_STR))
            return -1;
        a->n_headers = 1;
    }
    if ((v = sam__map_get(c, n, "MaxAge"))) {
        char s[32], *end;
        if (quoted(c, v, "MaxAge", s, sizeof s))
            return -1;
        long m = strtol(s, &end, 10);
        if (!*s || *end || m < 0 || m > 86400)
            return sam__fail(c, v, "MaxAge", "'%s' is not a number of seconds", s);
        a->max_age = (int)m;
    }
    if ((v = sam__map_get(c, n, "AllowCredentials")) &&
        sam__boolean(c, v, "AllowCredentials", &a->allow_credentials))
        return -1;
    return 0;
}

/* "/~1items~1{id}" -> "/items/{id}"; the root "/" and the wildcard stay. */
static int settings_path(ctx *c, yaml_node_t *n, const char *in, char *out, size_t cap)
{
    if (!strcmp(in, "/") || !strcmp(in, "/*"))
        return sam__copy(c, n, "ResourcePath", out, cap, in, strlen(in));
    if (strncmp(in, "/~1", 3))
        return sam__fail(c, n, "ResourcePath", "'%s' must write each / of the path as ~1, "
                         "after a leading / ('/~1items~1{id}' for /items/{id})", in);
    size_t o = 0;
    for (const char *s = in + 1; *s; s++) {
        if (o + 1 >= cap)
            return sam__fail(c, n, "ResourcePath", "too long");
        if (s[0] == '~' && s[1] == '1') {
            out[o++] = '/';
            s++;
        } else {
            out[o++] = *s;
        }
    }
    out[o] = 0;
    return 0;
}

static int method_settings(ctx *c, yaml_node_t *n, sam_api *a)
{
    static const char *const mk[] = {"ResourcePath", "HttpMethod", "ThrottlingBurstLimit",
        "ThrottlingRateLimit", "CachingEnabled", "CacheTtlInSeconds", "CacheDataEncrypted",
        "DataTraceEnabled", "LoggingLevel", "MetricsEnabled", NULL};
    if (n->type != YAML_SEQUENCE_NODE)
        return sam__fail(c, n, "MethodSettings", "expected a list");
    a->n_method_settings = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *e = sam__node(c, *it), *v;
        char rp[SAM_STR] = "/*", hm[16] = "*", path[SAM_STR];
        double rate = 0;
        int burst = 0, present = 0;
        if (throttle_settings(c, e, "MethodSettings", mk, &rate, &burst, &present))
            return -1;
        if ((v = sam__map_get(c, e, "ResourcePath")) && sam__scalar(c, v, "ResourcePath", rp, sizeof rp))
            return -1;
        if ((v = sam__map_get(c, e, "HttpMethod")) && sam__scalar(c, v, "HttpMethod", hm, sizeof hm))
            return -1;
        for (char *m = hm; *m; m++)
            if (*m >= 'a' && *m <= 'z')
                *m = (char)(*m - 32);
        if (strcmp(hm, "*") && sam_method_index(hm) < 0)
            return sam__fail(c, v ? v : e, "HttpMethod", "'%s' is not an HTTP method or *", hm);
        if (settings_path(c, v ? v : e, rp, path, sizeof path))
            return -1;
        if (!strcmp(path, "/*") && strcmp(hm, "*"))
            return sam__fail(c, e, "MethodSettings", "ResourcePath /* goes with HttpMethod *");
        if (!strcmp(path, "/*")) { /* the stage's default */
            if (present & 1)
                a->burst_limit = burst;
            if (present & 2)
                a->rate_limit = rate;
            continue;
        }
        if (a->n_method_settings == SAM_MAX_METHOD_SETTINGS)
            return sam__fail(c, e, "MethodSettings", "more than %d entries", SAM_MAX_METHOD_SETTINGS);
        sam_method_setting *ms = &a->method_settings[a->n_method_settings++];
        snprintf(ms->path, sizeof ms->path, "%s", path);
        snprintf(ms->method, sizeof ms->method, "%s", hm);
        ms->rate_limit = rate;
        ms->burst_limit = burst;
        ms->present = present;
        ms->line = (int)e->start_mark.line + 1;
    }
    return 0;
}

static int stage_name(ctx *c, yaml_node_t *n, char *out, size_t cap)
{
    if (sam__scalar(c, n, "StageName", out, cap))
        return -1;
    if (!*out || strspn(out, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") !=
                     strlen(out))
        return sam__fail(c, n, "StageName", "'%s' is not a stage name ([A-Za-z0-9_-], at most "
                         "128 characters)", out);
    return 0;
}

int sam__rest_api_props(ctx *c, yaml_node_t *props, sam_api *a, const char *where)
{
    static const char *const keys[] = {"StageName", "Variables", "MethodSettings",
        "BinaryMediaTypes", "Cors", "Auth", "ApiKeySourceType", "OpenApiVersion",
        "EndpointConfiguration",
        /* valid SAM properties the local platform accepts and does not emulate */
        "Name", "Tags", "DefinitionBody", "DefinitionUri", "MergeDefinitions",
        "CacheClusterEnabled", "CacheClusterSize", "MinimumCompressionSize",
        "GatewayResponses", "AccessLogSetting", "CanarySetting", "TracingEnabled", "Models",
        "Domain", "FailOnWarnings", "Description", "Mode", "DisableExecuteApiEndpoint",
        "AlwaysDeploy", "PropagateTags", "Policy", "SecurityPolicy", NULL};
    yaml_node_t *n;
    if (!props)
        return 0;
    if (sam__check_keys(c, props, where, keys))
        return -1;
    if ((n = sam__map_get(c, props, "StageName"))) {
        if (!strcmp(where, "Globals.Api"))
            return sam__fail(c, n, "StageName", "Globals.Api cannot set StageName (SAM refuses it)");
        if (stage_name(c, n, a->stage, sizeof a->stage))
            return -1;
    }
    if (sam__map_get(c, props, "OpenApiVersion"))
        a->extra_stage = 0; /* SAM then drops its extra "Stage" stage */
    if ((n = sam__map_get(c, props, "Variables"))) {
        if (n->type != YAML_MAPPING_NODE)
            return sam__fail(c, n, "Variables", "expected a mapping");
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
            yaml_node_t *kn = sam__node(c, p->key);
            const char *k = sam__sval(kn);
            if (!k || !*k || strlen(k) > 64 ||
                strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != strlen(k))
                return sam__fail(c, kn, "Variables", "'%s' is not a stage variable name "
                                 "([A-Za-z0-9_], at most 64 characters)", k ? k : "");
            size_t i;
            for (i = 0; i < a->n_vars && strcmp(a->vars[i].key, k); i++)
                ;
            if (i == SAM_MAX_STAGE_VARS)
                return sam__fail(c, kn, k, "more than %d stage variables", SAM_MAX_STAGE_VARS);
            snprintf(a->vars[i].key, sizeof a->vars[i].key, "%s", k);
            if (sam__scalar(c, sam__node(c, p->value), k, a->vars[i].value, sizeof a->vars[i].value))
                return -1;
            if (i == a->n_vars)
                a->n_vars++;
        }
    }
    if ((n = sam__map_get(c, props, "MethodSettings")) && method_settings(c, n, a))
        return -1;
    if ((n = sam__map_get(c, props, "BinaryMediaTypes"))) {
        if (sam__list_of(c, n, "BinaryMediaTypes", a->binary, SAM_STR, SAM_MAX_LIST, &a->n_binary))
            return -1;
        for (size_t i = 0; i < a->n_binary; i++) { /* "image~1png" -> "image/png" */
            char *s = a->binary[i], *o = s;
            for (; *s; s++)
                if (s[0] == '~' && s[1] == '1')
                    *o++ = '/', s++;
                else
                    *o++ = *s;
            *o = 0;
        }
    }
    if ((n = sam__map_get(c, props, "Cors")) && rest_cors(c, n, a))
        return -1;
    if ((n = sam__map_get(c, props, "ApiKeySourceType"))) {
        char s[32];
        if (sam__scalar(c, n, "ApiKeySourceType", s, sizeof s))
            return -1;
        if (strcmp(s, "HEADER") && strcmp(s, "AUTHORIZER"))
            return sam__fail(c, n, "ApiKeySourceType", "'%s' is not HEADER or AUTHORIZER", s);
        a->key_source_authorizer = !strcmp(s, "AUTHORIZER");
    }
    if ((n = sam__map_get(c, props, "Auth")) && sam__api_auth(c, n, (int)(a - c->t->apis)))
        return -1;
    return 0;
}

/* ---- events ---- */

static int event_method(ctx *c, yaml_node_t *n, sam_route *r)
{
    if (sam__scalar(c, n, "Method", r->method, sizeof r->method))
        return -1;
    for (char *m = r->method; *m; m++)
        if (*m >= 'a' && *m <= 'z')
            *m = (char)(*m - 32);
    if (sam_method_index(r->method) < 0)
        return sam__fail(c, n, "Method", "'%s' is not an HTTP method", r->method);
    return 0;
}

/* The API an event names (ApiId, RestApiId), which must be of `rt`. */
static int event_api(ctx *c, yaml_node_t *n, const char *key, const char *rt, char *api,
                     size_t cap)
{
    char type[128] = "";
    if (sam__scalar(c, n, key, api, cap))
        return -1;
    yaml_node_t *res = sam__map_get(c, c->resources, api);
    if (!res || sam__scalar(c, sam__map_get(c, res, "Type"), "Type", type, sizeof type) ||
        strcmp(type, rt))
        return sam__fail(c, n, key, "'%s' is not an %s of this template", api, rt);
    return 0;
}

static int route_event(ctx *c, yaml_node_t *kn, const char *name, yaml_node_t *props, int fi,
                       sam_api_type type)
{
    static const char *const hk[] = {"Path", "Method", "ApiId", "PayloadFormatVersion",
        "TimeoutInMillis", "Auth", "RouteSettings", NULL};
    static const char *const rk[] = {"Path", "Method", "RestApiId", "Auth", "RequestModel",
        "RequestParameters", "TimeoutInMillis", "ResponseTransferMode", NULL};
    int rest = type == SAM_REST_API;
    yaml_node_t *n;
    if (sam__check_keys(c, props, name, rest ? rk : hk))
        return -1;
    if (c->t->n_routes == SAM_MAX_ROUTES)
        return sam__fail(c, kn, name, "too many routes");
    int ri = (int)c->t->n_routes;
    sam_route *r = &c->t->routes[ri];
    memset(r, 0, sizeof *r);
    r->function = fi;
    r->line = (int)kn->start_mark.line + 1;
    r->resource = -1;
    r->authorizer = SAM_AUTH_NONE;
    r->payload_version = rest ? 1 : 2;
    snprintf(r->method, sizeof r->method, "ANY");
    snprintf(r->path, sizeof r->path, "$default");
    r->timeout_ms = rest ? 29000 : 30000;
    c->ev_auth[ri].authorizer[0] = 0;
    c->ev_auth[ri].key_required = -1;
    c->ev_auth[ri].has_scopes = 0;
    c->ev_auth[ri].line = r->line;
    if ((n = sam__map_get(c, props, "TimeoutInMillis")) &&
        sam__integer(c, n, "TimeoutInMillis", 50, rest ? 29000 : 30000, &r->timeout_ms))
        return -1;
    if ((n = sam__map_get(c, props, "RouteSettings")) &&
        throttle_settings(c, n, "RouteSettings", ROUTE_SETTING_KEYS, &r->rate_limit,
                          &r->burst_limit, &r->throttled))
        return -1;
    r->throttled = r->throttled != 0;
    if ((n = sam__map_get(c, props, "Path"))) {
        if (sam__scalar(c, n, "Path", r->path, sizeof r->path))
            return -1;
        if (r->path[0] != '/')
            return sam__fail(c, n, "Path", "'%s' must start with /", r->path);
    } else if (rest) {
        return sam__fail(c, kn, name, "Path is required");
    }
    if ((n = sam__map_get(c, props, "Method"))) {
        if (event_method(c, n, r))
            return -1;
    } else if (rest) {
        return sam__fail(c, kn, name, "Method is required");
    }
    if ((n = sam__map_get(c, props, "PayloadFormatVersion"))) {
        char v[16];
        if (sam__scalar(c, n, "PayloadFormatVersion", v, sizeof v))
            return -1;
        if (strcmp(v, "2.0") && strcmp(v, "1.0"))
            return sam__fail(c, n, "PayloadFormatVersion", "'%s' is not 1.0 or 2.0", v);
        r->payload_version = v[0] - '0';
    }
    char api[SAM_STR];
    snprintf(api, sizeof api, rest ? "ServerlessRestApi" : "ServerlessHttpApi");
    if ((n = sam__map_get(c, props, rest ? "RestApiId" : "ApiId")) &&
        event_api(c, n, rest ? "RestApiId" : "ApiId",
                  rest ? "AWS::Serverless::Api" : "AWS::Serverless::HttpApi", api, sizeof api))
        return -1;
    int ai = sam__api_index(c, api, type, kn);
    if (ai < 0)
        return -1;
    r->api = ai;
    if (!rest)
        for (size_t i = 0; i < c->t->n_routes; i++)
            if (c->t->routes[i].api == r->api && !strcmp(c->t->routes[i].path, r->path) &&
                !strcmp(c->t->routes[i].method, r->method))
                return sam__fail(c, kn, name, "route %s %s is defined twice", r->method, r->path);
    if ((n = sam__map_get(c, props, "Auth")) && sam__event_auth(c, n, ri, type))
        return -1;
    c->t->n_routes++;
    return 0;
}

int sam__load_events(ctx *c, yaml_node_t *events, int fi)
{
    static const char *const ek[] = {"Type", "Properties", NULL};
    if (!events)
        return 0;
    if (events->type != YAML_MAPPING_NODE)
        return sam__fail(c, events, "Events", "expected a mapping");
    for (yaml_node_pair_t *p = events->data.mapping.pairs.start;
         p < events->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = sam__node(c, p->key), *ev = sam__node(c, p->value);
        const char *name = sam__sval(kn);
        char type[64];
        if (!name || sam__check_keys(c, ev, name ? name : "Events", ek))
            return -1;
        if (sam__scalar(c, sam__map_get(c, ev, "Type"), "Type", type, sizeof type))
            return -1;
        if (strcmp(type, "HttpApi") && strcmp(type, "Api"))
            continue; /* other event sources are not emulated locally */
        if (route_event(c, kn, name, sam__map_get(c, ev, "Properties"), fi,
                        strcmp(type, "Api") ? SAM_HTTP_API : SAM_REST_API))
            return -1;
    }
    return 0;
}

/* ---- REST resource trees ---- */

static int new_resource(ctx *c, int api, int parent, sam_part kind, const char *part, size_t pl,
                        const sam_route *at)
{
    sam_template *t = c->t;
    if (t->n_resources == SAM_MAX_RESOURCES)
        return sam__fail_at(c, at->line, t->apis[api].name, "more than %d resources",
                            SAM_MAX_RESOURCES);
    int ix = (int)t->n_resources++;
    sam_resource *s = &t->resources[ix];
    memset(s, 0, sizeof *s);
    s->api = api;
    s->parent = parent;
    s->first_child = s->next_sibling = -1;
    s->kind = kind;
    for (int m = 0; m < SAM_N_METHODS; m++)
        s->methods[m] = -1;
    memcpy(s->part, part, pl);
    if (kind == SAM_PART_PARAM || kind == SAM_PART_GREEDY)
        memcpy(s->name, part + 1, pl - (kind == SAM_PART_GREEDY ? 3 : 2));
    char path[SAM_STR];
    if (parent < 0)
        snprintf(path, sizeof path, "/");
    else if (snprintf(path, sizeof path, "%s%s%s", t->resources[parent].path,
                      t->resources[parent].parent < 0 ? "" : "/", s->part) >= (int)sizeof path)
        return sam__fail_at(c, at->line, t->apis[api].name, "path too long");
    memcpy(s->path, path, sizeof path);
    /* resourceId: 6 characters of [0-9a-z] from a hash of API and path */
    unsigned long long h = 1469598103934665603ULL;
    for (const char *q = t->apis[api].name; *q; q++)
        h = (h ^ (unsigned char)*q) * 1099511628211ULL;
    for (const char *q = s->path; *q; q++)
        h = (h ^ (unsigned char)*q) * 1099511628211ULL;
    for (int i = 0; i < 6; i++, h /= 36)
        s->id[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[h % 36];
    if (parent >= 0) { /* appended: children keep the template's order */
        int *link = &t->resources[parent].first_child;
        while (*link >= 0)
            link = &t->resources[*link].next_sibling;
        *link = ix;
    }
    return ix;
}

/* Hangs route ri on its API's tree, making the resources of its path. */
static int place_route(ctx *c, int ri)
{
    sam_template *t = c->t;
    sam_route *r = &t->routes[ri];
    const char *where = t->apis[r->api].name;
    int node = sam_rest_root(t, r->api);
    if (node < 0 && (node = new_resource(c, r->api, -1, SAM_PART_ROOT, "", 0, r)) < 0)
        return -1;
    const char *p = r->path;
    while (*p == '/' && p[1]) {
        p++;
        const char *e = strchr(p, '/');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (!l) {
            if (!e) /* a trailing slash: the same resource, as API Gateway serves it */
                break;
            return sam__fail_at(c, r->line, where, "'%s' has an empty path part", r->path);
        }
        sam_part kind = SAM_PART_LITERAL;
        if (p[0] == '{' && l > 2 && p[l - 1] == '}')
            kind = p[l - 2] == '+' ? SAM_PART_GREEDY : SAM_PART_PARAM;
        for (size_t i = 1; i + 1 < l; i++)
            if (p[i] == '{' || p[i] == '}' || (p[i] == '+' && i + 2 < l && kind != SAM_PART_LITERAL))
                kind = (sam_part)-1;
        if ((int)kind < 0 || (kind == SAM_PART_LITERAL && memchr(p, '{', l)) ||
            (kind == SAM_PART_LITERAL && memchr(p, '}', l)) || (kind == SAM_PART_GREEDY && l < 4))
            return sam__fail_at(c, r->line, where, "'%.*s' in %s: a path parameter must be a whole "
                             "part ({name} or {name+})", (int)l, p, r->path);
        if (kind == SAM_PART_GREEDY && e && e[1])
            return sam__fail_at(c, r->line, where, "'%s': {%.*s} must be the last part of the path",
                             r->path, (int)(l - 2), p + 1);
        int child = -1;
        for (int k = t->resources[node].first_child; k >= 0; k = t->resources[k].next_sibling) {
            const sam_resource *s = &t->resources[k];
            if (strlen(s->part) == l && !memcmp(s->part, p, l)) {
                child = k;
                break;
            }
            if (kind != SAM_PART_LITERAL && s->kind != SAM_PART_LITERAL)
                return sam__fail_at(c, r->line, where, "'%s': a sibling (%s) of this resource already "
                                 "has a variable path part -- only one is allowed", r->path,
                                 s->part);
        }
        if (child < 0 && (child = new_resource(c, r->api, node, kind, p, l, r)) < 0)
            return -1;
        node = child;
        p += l;
    }
    sam_resource *s = &t->resources[node];
    int m = sam_method_index(r->method);
    if (s->methods[m] >= 0) {
        char lower[16];
        for (size_t i = 0; i < sizeof lower; i++)
            lower[i] = (char)(r->method[i] >= 'A' && r->method[i] <= 'Z' ? r->method[i] + 32
                                                                         : r->method[i]);
        return sam__fail_at(c, r->line, where, "API method \"%s\" defined multiple times for path "
                         "\"%s\".", !strcmp(lower, "any") ? "x-amazon-apigateway-any-method"
                                                          : lower, s->path);
    }
    s->methods[m] = ri;
    r->resource = node;
    return 0;
}

int sam__finish_apis(ctx *c)
{
    sam_template *t = c->t;
    for (size_t i = 0; i < t->n_apis; i++)
        if (t->apis[i].type == SAM_REST_API && !t->apis[i].stage[0])
            return sam__fail_at(c, t->apis[i].line, t->apis[i].name, "StageName is required");
    for (size_t i = 0; i < t->n_routes; i++) {
        sam_route *r = &t->routes[i];
        const sam_api *a = &t->apis[r->api];
        if (a->type == SAM_REST_API) {
            if (place_route(c, (int)i))
                return -1;
            continue;
        }
        /* HTTP: the API's RouteSettings apply to routes without their own */
        char key[SAM_STR + 32];
        if (!strcmp(r->path, "$default"))
            snprintf(key, sizeof key, "$default");
        else
            snprintf(key, sizeof key, "%s %s", r->method, r->path);
        for (size_t k = 0; k < a->n_route_settings && !r->throttled; k++)
            if (a->route_settings[k].present && !strcmp(a->route_settings[k].key, key)) {
                r->rate_limit = a->route_settings[k].rate_limit;
                r->burst_limit = a->route_settings[k].burst_limit;
                r->throttled = 1;
            }
    }
    /* REST MethodSettings: the method's entry (else its resource's "*"
     * entry) overrides the stage default, limit by limit */
    for (size_t ai = 0; ai < t->n_apis; ai++) {
        const sam_api *a = &t->apis[ai];
        for (size_t k = 0; k < a->n_method_settings; k++) {
            const sam_method_setting *ms = &a->method_settings[k];
            int used = 0;
            for (size_t i = 0; i < t->n_routes; i++) {
                sam_route *r = &t->routes[i];
                if (r->api != (int)ai || strcmp(t->resources[r->resource].path, ms->path) ||
                    (strcmp(ms->method, "*") && strcmp(ms->method, r->method)))
                    continue;
                used = 1;
                int exact = !strcmp(ms->method, r->method);
                if (r->throttled == 2 && !exact)
                    continue; /* its own method's entry wins */
                r->rate_limit = ms->present & 2 ? ms->rate_limit : a->rate_limit;
                r->burst_limit = ms->present & 1 ? ms->burst_limit : a->burst_limit;
                r->throttled = exact ? 2 : 1;
            }
            if (!used)
                return sam__fail_at(c, ms->line, "MethodSettings", "%s %s is no method of %s",
                                    ms->method, ms->path, a->name);
        }
    }
    for (size_t i = 0; i < t->n_routes; i++)
        t->routes[i].throttled = t->routes[i].throttled != 0;
    return 0;
}
