/*
 * SAM template reader (see template.h).  libyaml loads the document; this
 * file walks it with the line of every node at hand, so each error names
 * the file, the line and the key.  Intrinsics supported: !Ref, !Sub,
 * !GetAtt, !Join and their long forms (Ref, Fn::Sub, Fn::GetAtt, Fn::Join).
 */
#define _DEFAULT_SOURCE
#include "template.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "template_int.h"

#define MAX_TEMPLATE (1u << 20)

/* ---- Functions ---- */

static const char *const FUNCTION_KEYS[] = {
    "CodeUri", "Handler", "Runtime", "MemorySize", "Timeout", "Environment",
    "Architectures", "ReservedConcurrentExecutions", "AutoPublishAlias",
    "ProvisionedConcurrencyConfig", "Events",
    /* valid SAM properties the local platform accepts and does not emulate */
    "Description", "FunctionName", "Role", "Policies", "Tracing", "Layers", "Tags",
    "VpcConfig", "DeadLetterQueue", "DeploymentPreference", "EventInvokeConfig",
    "KmsKeyArn", "PermissionsBoundary", "AutoPublishCodeSha256",
    "AutoPublishAliasAllProperties", "CodeSigningConfigArn", "EphemeralStorage",
    "FileSystemConfigs", "FunctionUrlConfig", "ImageConfig", "ImageUri", "InlineCode",
    "LoggingConfig", "PackageType", "RecursiveLoop", "RuntimeManagementConfig",
    "SnapStart", "VersionDescription", "AssumeRolePolicyDocument", "PropagateTags",
    "RolePath", "SourceKMSKeyArn", NULL};

/* DestinationConfig.OnSuccess / OnFailure: {Type, Destination} → "Type Destination". */
static int destination(ctx *c, yaml_node_t *n, const char *key, char *out, size_t cap)
{
    static const char *const dk[] = {"Type", "Destination", NULL};
    static const char *const types[] = {"SQS", "SNS", "Lambda", "EventBridge", "S3", NULL};
    char type[32] = "", dest[SAM_STR - 40] = "";
    yaml_node_t *v;
    if (sam__check_keys(c, n, key, dk))
        return -1;
    if (!(v = sam__map_get(c, n, "Type")))
        return sam__fail(c, n, key, "Type is required (SQS, SNS, Lambda, EventBridge or S3)");
    if (sam__scalar(c, v, "Type", type, sizeof type))
        return -1;
    if (!sam__in_list(type, types))
        return sam__fail(c, v, "Type", "'%s' is not SQS, SNS, Lambda, EventBridge or S3", type);
    if ((v = sam__map_get(c, n, "Destination")) && sam__scalar(c, v, "Destination", dest, sizeof dest))
        return -1;
    snprintf(out, cap, "%s %s", type, dest[0] ? dest : "(created by SAM)");
    return 0;
}

static int event_invoke_config(ctx *c, yaml_node_t *n, sam_function *f)
{
    static const char *const ek[] = {"DestinationConfig", "MaximumEventAgeInSeconds",
                                     "MaximumRetryAttempts", NULL};
    static const char *const dk[] = {"OnSuccess", "OnFailure", NULL};
    yaml_node_t *v, *d;
    if (sam__check_keys(c, n, "EventInvokeConfig", ek))
        return -1;
    if ((v = sam__map_get(c, n, "MaximumRetryAttempts")) &&
        sam__integer(c, v, "MaximumRetryAttempts", 0, 2, &f->async_retries))
        return -1;
    if ((v = sam__map_get(c, n, "MaximumEventAgeInSeconds")) &&
        sam__integer(c, v, "MaximumEventAgeInSeconds", 60, 21600, &f->max_event_age_s))
        return -1;
    if ((d = sam__map_get(c, n, "DestinationConfig"))) {
        if (sam__check_keys(c, d, "DestinationConfig", dk))
            return -1;
        if ((v = sam__map_get(c, d, "OnFailure")) &&
            destination(c, v, "OnFailure", f->on_failure, sizeof f->on_failure))
            return -1;
        if ((v = sam__map_get(c, d, "OnSuccess")) &&
            destination(c, v, "OnSuccess", f->on_success, sizeof f->on_success))
            return -1;
    }
    return 0;
}

/* ThrottlingBurstLimit / ThrottlingRateLimit of a route settings mapping. */
static int throttle_settings(ctx *c, yaml_node_t *n, const char *where, double *rate, int *burst,
                             int *present)
{
    static const char *const dk[] = {"ThrottlingBurstLimit", "ThrottlingRateLimit",
        "DetailedMetricsEnabled", "DataTraceEnabled", "LoggingLevel", NULL};
    yaml_node_t *v;
    if (sam__check_keys(c, n, where, dk))
        return -1;
    if (present)
        *present = sam__map_get(c, n, "ThrottlingBurstLimit") || sam__map_get(c, n, "ThrottlingRateLimit");
    if ((v = sam__map_get(c, n, "ThrottlingBurstLimit")) &&
        sam__integer(c, v, "ThrottlingBurstLimit", 0, 1000000, burst))
        return -1;
    if ((v = sam__map_get(c, n, "ThrottlingRateLimit"))) {
        char s[64], *end;
        if (sam__scalar(c, v, "ThrottlingRateLimit", s, sizeof s))
            return -1;
        *rate = strtod(s, &end);
        if (!*s || *end || *rate < 0)
            return sam__fail(c, v, "ThrottlingRateLimit", "'%s' is not a rate", s);
    }
    return 0;
}

/* Applies the properties in `props` (Globals.Function or the function's own)
 * to f. */
static int apply_function_props(ctx *c, yaml_node_t *props, sam_function *f, const char *where)
{
    yaml_node_t *n;
    char s[1024];
    if (!props)
        return 0;
    if (sam__check_keys(c, props, where, FUNCTION_KEYS))
        return -1;
    if ((n = sam__map_get(c, props, "CodeUri"))) {
        if (sam__scalar(c, n, "CodeUri", s, sizeof s))
            return -1;
        if (s[0] == '/') {
            snprintf(f->code_uri, sizeof f->code_uri, "%s", s);
        } else {
            char dir[1024];
            snprintf(dir, sizeof dir, "%s", c->t->path);
            char *slash = strrchr(dir, '/');
            if (slash)
                *slash = 0;
            else
                snprintf(dir, sizeof dir, ".");
            if (snprintf(f->code_uri, sizeof f->code_uri, "%s/%s", dir, s) >=
                (int)sizeof f->code_uri)
                return sam__fail(c, n, "CodeUri", "path too long");
        }
    }
    if ((n = sam__map_get(c, props, "Handler")) && sam__scalar(c, n, "Handler", f->handler, sizeof f->handler))
        return -1;
    if ((n = sam__map_get(c, props, "Runtime"))) {
        if (sam__scalar(c, n, "Runtime", f->runtime, sizeof f->runtime))
            return -1;
        if (strcmp(f->runtime, "provided.al2023") && strcmp(f->runtime, "provided.al2") &&
            strcmp(f->runtime, "provided"))
            return sam__fail(c, n, "Runtime", "'%s' is not supported locally: use provided.al2023 "
                        "or provided.al2 (the platform runs CodeUri/bootstrap)", f->runtime);
    }
    if ((n = sam__map_get(c, props, "MemorySize")) &&
        sam__integer(c, n, "MemorySize", 128, 10240, &f->memory_mb))
        return -1;
    if ((n = sam__map_get(c, props, "Timeout")) && sam__integer(c, n, "Timeout", 1, 900, &f->timeout_s))
        return -1;
    if ((n = sam__map_get(c, props, "Architectures"))) {
        yaml_node_t *a;
        if (n->type != YAML_SEQUENCE_NODE ||
            n->data.sequence.items.top - n->data.sequence.items.start != 1 ||
            !(a = sam__node(c, n->data.sequence.items.start[0])) ||
            sam__scalar(c, a, "Architectures", f->arch, sizeof f->arch))
            return sam__fail(c, n, "Architectures", "expected a list of one architecture");
        if (strcmp(f->arch, "x86_64") && strcmp(f->arch, "arm64"))
            return sam__fail(c, n, "Architectures", "'%s' is not x86_64 or arm64", f->arch);
    }
    if ((n = sam__map_get(c, props, "ReservedConcurrentExecutions")) &&
        sam__integer(c, n, "ReservedConcurrentExecutions", 0, 100000, &f->reserved))
        return -1;
    if ((n = sam__map_get(c, props, "AutoPublishAlias")) &&
        sam__scalar(c, n, "AutoPublishAlias", f->alias, sizeof f->alias))
        return -1;
    if ((n = sam__map_get(c, props, "ProvisionedConcurrencyConfig"))) {
        static const char *const pk[] = {"ProvisionedConcurrentExecutions", NULL};
        yaml_node_t *v;
        if (sam__check_keys(c, n, "ProvisionedConcurrencyConfig", pk))
            return -1;
        if (!(v = sam__map_get(c, n, "ProvisionedConcurrentExecutions")))
            return sam__fail(c, n, "ProvisionedConcurrencyConfig",
                        "ProvisionedConcurrentExecutions is required");
        if (sam__integer(c, v, "ProvisionedConcurrentExecutions", 0, 100000, &f->provisioned))
            return -1;
    }
    if ((n = sam__map_get(c, props, "EventInvokeConfig")) && event_invoke_config(c, n, f))
        return -1;
    if ((n = sam__map_get(c, props, "Environment"))) {
        static const char *const ek[] = {"Variables", NULL};
        if (sam__check_keys(c, n, "Environment", ek))
            return -1;
        yaml_node_t *vars = sam__map_get(c, n, "Variables");
        if (vars && vars->type != YAML_MAPPING_NODE)
            return sam__fail(c, vars, "Variables", "expected a mapping");
        for (yaml_node_pair_t *p = vars ? vars->data.mapping.pairs.start : NULL;
             vars && p < vars->data.mapping.pairs.top; p++) {
            const char *k = sam__sval(sam__node(c, p->key));
            if (!k || !*k)
                return sam__fail(c, sam__node(c, p->key), "Variables", "bad variable name");
            size_t i;
            for (i = 0; i < f->n_env && strcmp(f->env[i].key, k); i++)
                ;
            if (i == SAM_MAX_ENV)
                return sam__fail(c, sam__node(c, p->key), k, "too many environment variables");
            snprintf(f->env[i].key, sizeof f->env[i].key, "%s", k);
            if (sam__scalar(c, sam__node(c, p->value), k, f->env[i].value, sizeof f->env[i].value))
                return -1;
            if (i == f->n_env)
                f->n_env++;
        }
    }
    return 0;
}

static int api_index(ctx *c, const char *name, yaml_node_t *at)
{
    for (size_t i = 0; i < c->t->n_apis; i++)
        if (!strcmp(c->t->apis[i].name, name))
            return (int)i;
    if (c->t->n_apis == SAM_MAX_APIS)
        return sam__fail(c, at, name, "too many HTTP APIs");
    sam_api *a = &c->t->apis[c->t->n_apis];
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s", name);
    a->max_age = -1;
    return (int)c->t->n_apis++;
}

static int load_events(ctx *c, yaml_node_t *events, int fi)
{
    static const char *const ek[] = {"Type", "Properties", NULL};
    static const char *const hk[] = {"Path", "Method", "ApiId", "PayloadFormatVersion",
        "TimeoutInMillis", "Auth", "RouteSettings", NULL};
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
        if (strcmp(type, "HttpApi"))
            continue; /* other event sources are not emulated locally */
        yaml_node_t *props = sam__map_get(c, ev, "Properties"), *n;
        if (sam__check_keys(c, props, name, hk))
            return -1;
        if (c->t->n_routes == SAM_MAX_ROUTES)
            return sam__fail(c, kn, name, "too many routes");
        sam_route *r = &c->t->routes[c->t->n_routes];
        memset(r, 0, sizeof *r);
        r->function = fi;
        r->line = (int)kn->start_mark.line + 1;
        snprintf(r->method, sizeof r->method, "ANY");
        snprintf(r->path, sizeof r->path, "$default");
        r->timeout_ms = 30000;
        if ((n = sam__map_get(c, props, "TimeoutInMillis")) &&
            sam__integer(c, n, "TimeoutInMillis", 50, 30000, &r->timeout_ms))
            return -1;
        if ((n = sam__map_get(c, props, "RouteSettings"))) {
            if (throttle_settings(c, n, "RouteSettings", &r->rate_limit, &r->burst_limit,
                                  &r->throttled))
                return -1;
        }
        if ((n = sam__map_get(c, props, "Path"))) {
            if (sam__scalar(c, n, "Path", r->path, sizeof r->path))
                return -1;
            if (r->path[0] != '/')
                return sam__fail(c, n, "Path", "'%s' must start with /", r->path);
        }
        if ((n = sam__map_get(c, props, "Method"))) {
            if (sam__scalar(c, n, "Method", r->method, sizeof r->method))
                return -1;
            for (char *m = r->method; *m; m++)
                if (*m >= 'a' && *m <= 'z')
                    *m = (char)(*m - 32);
            static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE",
                                                  "HEAD", "OPTIONS", "ANY", NULL};
            if (!sam__in_list(r->method, methods))
                return sam__fail(c, n, "Method", "'%s' is not an HTTP method", r->method);
        }
        if ((n = sam__map_get(c, props, "PayloadFormatVersion"))) {
            char v[16];
            if (sam__scalar(c, n, "PayloadFormatVersion", v, sizeof v))
                return -1;
            if (strcmp(v, "2.0"))
                return sam__fail(c, n, "PayloadFormatVersion", "only 2.0 is supported locally");
        }
        char api[SAM_STR] = "ServerlessHttpApi";
        if ((n = sam__map_get(c, props, "ApiId"))) {
            if (sam__scalar(c, n, "ApiId", api, sizeof api))
                return -1;
            yaml_node_t *res = sam__map_get(c, c->resources, api);
            char rt[128] = "";
            if (!res || sam__scalar(c, sam__map_get(c, res, "Type"), "Type", rt, sizeof rt) ||
                strcmp(rt, "AWS::Serverless::HttpApi"))
                return sam__fail(c, n, "ApiId", "'%s' is not an AWS::Serverless::HttpApi of "
                            "this template", api);
        }
        int ai = api_index(c, api, kn);
        if (ai < 0)
            return -1;
        r->api = ai;
        for (size_t i = 0; i < c->t->n_routes; i++)
            if (c->t->routes[i].api == r->api && !strcmp(c->t->routes[i].path, r->path) &&
                !strcmp(c->t->routes[i].method, r->method))
                return sam__fail(c, kn, name, "route %s %s is defined twice", r->method, r->path);
        c->t->n_routes++;
    }
    return 0;
}

static int list_of(ctx *c, yaml_node_t *n, const char *key, char (*out)[SAM_STR],
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

static int apply_api_props(ctx *c, yaml_node_t *props, sam_api *a, const char *where)
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
                list_of(c, v, "AllowOrigins", a->origins, SAM_STR, SAM_MAX_LIST, &a->n_origins))
                return -1;
            if ((v = sam__map_get(c, n, "AllowHeaders")) &&
                list_of(c, v, "AllowHeaders", a->headers, SAM_STR, SAM_MAX_LIST, &a->n_headers))
                return -1;
            if ((v = sam__map_get(c, n, "ExposeHeaders")) &&
                list_of(c, v, "ExposeHeaders", a->expose, SAM_STR, SAM_MAX_LIST, &a->n_expose))
                return -1;
            if ((v = sam__map_get(c, n, "AllowMethods"))) {
                if (list_of(c, v, "AllowMethods", tmp, 16, SAM_MAX_LIST, &a->n_methods))
                    return -1;
                for (size_t i = 0; i < a->n_methods; i++)
                    snprintf(a->methods[i], sizeof a->methods[i], "%s", tmp[i]);
            }
            if ((v = sam__map_get(c, n, "MaxAge")) && sam__integer(c, v, "MaxAge", -1, 86400, &a->max_age))
                return -1;
            if ((v = sam__map_get(c, n, "AllowCredentials"))) {
                char b[8];
                if (sam__scalar(c, v, "AllowCredentials", b, sizeof b))
                    return -1;
                a->allow_credentials = !strcmp(b, "true");
            }
        }
    }
    if ((n = sam__map_get(c, props, "DefaultRouteSettings")) &&
        throttle_settings(c, n, "DefaultRouteSettings", &a->rate_limit, &a->burst_limit, NULL))
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
            if (throttle_settings(c, sam__node(c, p->value), k, &a->route_settings[i].rate_limit,
                                  &a->route_settings[i].burst_limit, &a->route_settings[i].present))
                return -1;
            if (i == a->n_route_settings)
                a->n_route_settings++;
        }
    }
    return 0;
}

static int load(ctx *c, const char *const *ov, size_t nov)
{
    static const char *const top[] = {"AWSTemplateFormatVersion", "Transform", "Description",
        "Parameters", "Globals", "Resources", "Outputs", "Conditions", "Mappings", "Metadata",
        "Rules", NULL};
    static const char *const gk[] = {"Function", "HttpApi", "Api", "SimpleTable",
                                     "LayerVersion", NULL};
    static const char *const rk[] = {"Type", "Properties", "Metadata", "DependsOn",
        "Condition", "DeletionPolicy", "UpdateReplacePolicy", NULL};
    yaml_node_t *root = yaml_document_get_root_node(&c->doc);
    if (!root || root->type != YAML_MAPPING_NODE)
        return sam__fail(c, root, "template", "expected a mapping at the top");
    if (sam__check_keys(c, root, "the template", top))
        return -1;
    c->resources = sam__map_get(c, root, "Resources");
    if (!c->resources || c->resources->type != YAML_MAPPING_NODE)
        return sam__fail(c, root, "Resources", "a template needs a Resources mapping");
    if (sam__load_params(c, sam__map_get(c, root, "Parameters"), ov, nov) ||
        sam__load_conditions(c, sam__map_get(c, root, "Conditions")))
        return -1;
    yaml_node_t *globals = sam__map_get(c, root, "Globals");
    if (sam__check_keys(c, globals, "Globals", gk))
        return -1;
    yaml_node_t *gfun = sam__map_get(c, globals, "Function"), *gapi = sam__map_get(c, globals, "HttpApi");
    /* explicit HTTP APIs first, so routes can name them */
    for (yaml_node_pair_t *p = c->resources->data.mapping.pairs.start;
         p < c->resources->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = sam__node(c, p->key), *res = sam__node(c, p->value);
        const char *name = sam__sval(kn);
        char type[128];
        if (!name || sam__check_keys(c, res, name ? name : "Resources", rk))
            return name ? -1 : sam__fail(c, kn, "Resources", "bad resource name");
        if (sam__scalar(c, sam__map_get(c, res, "Type"), "Type", type, sizeof type))
            return -1;
        int on = sam__resource_enabled(c, res, name);
        if (on < 0)
            return -1;
        if (on && !strcmp(type, "AWS::Serverless::HttpApi")) {
            int ai = api_index(c, name, kn);
            if (ai < 0 || apply_api_props(c, gapi, &c->t->apis[ai], "Globals.HttpApi") ||
                apply_api_props(c, sam__map_get(c, res, "Properties"), &c->t->apis[ai], name))
                return -1;
        }
    }
    for (yaml_node_pair_t *p = c->resources->data.mapping.pairs.start;
         p < c->resources->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = sam__node(c, p->key), *res = sam__node(c, p->value);
        const char *name = sam__sval(kn);
        char type[128];
        sam__scalar(c, sam__map_get(c, res, "Type"), "Type", type, sizeof type);
        if (strcmp(type, "AWS::Serverless::Function"))
            continue; /* other resources are not run locally */
        int on = sam__resource_enabled(c, res, name);
        if (on < 0)
            return -1;
        if (!on)
            continue; /* its Condition is false */
        if (c->t->n_functions == SAM_MAX_FUNCTIONS)
            return sam__fail(c, kn, name, "too many functions");
        int fi = (int)c->t->n_functions;
        sam_function *f = &c->t->functions[fi];
        memset(f, 0, sizeof *f);
        snprintf(f->name, sizeof f->name, "%s", name);
        snprintf(f->handler, sizeof f->handler, "bootstrap");
        snprintf(f->arch, sizeof f->arch, "x86_64");
        f->memory_mb = 128;
        f->timeout_s = 3;
        f->reserved = -1;
        f->async_retries = 2;
        f->max_event_age_s = 21600;
        f->line = (int)kn->start_mark.line + 1;
        yaml_node_t *props = sam__map_get(c, res, "Properties");
        if (apply_function_props(c, gfun, f, "Globals.Function") ||
            apply_function_props(c, props, f, name))
            return -1;
        if (!f->runtime[0])
            return sam__fail(c, kn, name, "Runtime is required (provided.al2023 or provided.al2)");
        if (!f->code_uri[0])
            return sam__fail(c, kn, name, "CodeUri is required");
        if (f->provisioned && !f->alias[0])
            return sam__fail(c, kn, "ProvisionedConcurrencyConfig",
                        "To set ProvisionedConcurrencyConfig AutoPublishAlias must be defined "
                        "on the function");
        if (f->reserved >= 0 && f->provisioned > f->reserved)
            return sam__fail(c, kn, "ProvisionedConcurrencyConfig",
                        "provisioned concurrency (%d) exceeds ReservedConcurrentExecutions (%d)",
                        f->provisioned, f->reserved);
        c->t->n_functions++;
        if (load_events(c, sam__map_get(c, props, "Events"), fi))
            return -1;
    }
    /* the implicit API takes Globals.HttpApi */
    for (size_t i = 0; i < c->t->n_apis; i++)
        if (!strcmp(c->t->apis[i].name, "ServerlessHttpApi") &&
            !sam__map_get(c, c->resources, "ServerlessHttpApi") &&
            apply_api_props(c, gapi, &c->t->apis[i], "Globals.HttpApi"))
            return -1;
    if (!c->t->n_functions)
        return sam__fail(c, c->resources, "Resources", "no AWS::Serverless::Function to run");
    /* the API's RouteSettings apply to routes without their own */
    for (size_t i = 0; i < c->t->n_routes; i++) {
        sam_route *r = &c->t->routes[i];
        const sam_api *a = &c->t->apis[r->api];
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
    return 0;
}

int sam_load_mem(const char *name, const char *yaml, size_t len,
                 const char *const *overrides, size_t n_overrides, sam_template **out,
                 char *err, size_t errlen)
{
    ctx c = {.file = name, .err = err, .errlen = errlen};
    yaml_parser_t parser;
    int rc = -1, have_doc = 0;
    *out = NULL;
    if (len > MAX_TEMPLATE)
        return sam__fail(&c, NULL, "template", "larger than %u bytes", MAX_TEMPLATE);
    c.t = calloc(1, sizeof *c.t);
    if (!c.t)
        return sam__fail(&c, NULL, "template", "out of memory");
    snprintf(c.t->path, sizeof c.t->path, "%s", name);
    if (!yaml_parser_initialize(&parser)) {
        free(c.t);
        return sam__fail(&c, NULL, "template", "out of memory");
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(&parser, &c.doc)) {
        snprintf(err, errlen, "%s:%lu: YAML: %s", name,
                 (unsigned long)parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "syntax error");
        goto out;
    }
    have_doc = 1;
    rc = load(&c, overrides, n_overrides);
out:
    if (have_doc)
        yaml_document_delete(&c.doc);
    yaml_parser_delete(&parser);
    if (rc)
        free(c.t);
    else
        *out = c.t;
    return rc;
}

int sam_load(const char *path, const char *const *overrides, size_t n_overrides,
             sam_template **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    *out = NULL;
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(MAX_TEMPLATE + 1);
    size_t n = buf ? fread(buf, 1, MAX_TEMPLATE + 1, f) : 0;
    fclose(f);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    int rc = sam_load_mem(path, buf, n, overrides, n_overrides, out, err, errlen);
    free(buf);
    return rc;
}
