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

#include "langrt.h"
#include "template_int.h"

#define MAX_TEMPLATE (1u << 20)

/* ---- Functions ---- */

static const char *const FUNCTION_KEYS[] = {
    "CodeUri", "Handler", "Runtime", "MemorySize", "Timeout", "Environment",
    "Architectures", "ReservedConcurrentExecutions", "AutoPublishAlias",
    "ProvisionedConcurrencyConfig", "Events", "Layers",
    /* valid SAM properties the local platform accepts and does not emulate */
    "Description", "FunctionName", "Role", "Policies", "Tracing", "Tags",
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

/* Applies the properties in `props` (Globals.Function or the function's own)
 * to f. */
static int apply_function_props(ctx *c, yaml_node_t *props, sam_function *f, const char *where)
{
    yaml_node_t *n;
    if (!props)
        return 0;
    if (sam__check_keys(c, props, where, FUNCTION_KEYS))
        return -1;
    if ((n = sam__map_get(c, props, "CodeUri")) &&
        sam__path(c, n, "CodeUri", f->code_uri, sizeof f->code_uri))
        return -1;
    if ((n = sam__map_get(c, props, "Handler")) && sam__scalar(c, n, "Handler", f->handler, sizeof f->handler))
        return -1;
    if ((n = sam__map_get(c, props, "Runtime"))) {
        if (sam__scalar(c, n, "Runtime", f->runtime, sizeof f->runtime))
            return -1;
        if (!lrt_find(f->runtime))
            return sam__fail(c, n, "Runtime", "'%s' is not supported locally: use one of %s",
                             f->runtime, lrt_ids());
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
    if ((n = sam__map_get(c, props, "Layers")) && sam__function_layers(c, n, f))
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
            /* !If [cond, value, !Ref AWS::NoValue]: no such variable, as in
             * CloudFormation (not an empty one) */
            if (!sam__pick(c, sam__node(c, p->value)))
                continue;
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

/* Applies Globals.Api / Globals.HttpApi, then the resource's own
 * properties (NULL for an implicit API), to API ai. */
static int api_props(ctx *c, int ai, yaml_node_t *own, const char *name)
{
    sam_api *a = &c->t->apis[ai];
    if (a->type == SAM_REST_API)
        return sam__rest_api_props(c, c->globals_api, a, "Globals.Api") ||
               sam__rest_api_props(c, own, a, name);
    return sam__http_api_props(c, c->globals_http, a, "Globals.HttpApi") ||
           sam__http_api_props(c, own, a, name);
}

static int load_function(ctx *c, yaml_node_t *kn, yaml_node_t *res, yaml_node_t *gfun)
{
    const char *name = sam__sval(kn);
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
        return sam__fail(c, kn, name, "Runtime is required (one of %s)", lrt_ids());
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
    return sam__load_events(c, sam__map_get(c, props, "Events"), fi);
}

/* Each enabled resource of Resources, with its type, through fn. */
typedef int (*each_fn)(ctx *c, const char *type, yaml_node_t *kn, yaml_node_t *res, int pass);

static int each_resource(ctx *c, each_fn fn, int pass)
{
    for (yaml_node_pair_t *p = c->resources->data.mapping.pairs.start;
         p < c->resources->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = sam__node(c, p->key), *res = sam__node(c, p->value);
        char type[128];
        if (sam__scalar(c, sam__map_get(c, res, "Type"), "Type", type, sizeof type))
            return -1;
        int on = sam__resource_enabled(c, res, sam__sval(kn));
        if (on < 0 || (on && fn(c, type, kn, res, pass)))
            return -1;
    }
    return 0;
}

/* pass 0: explicit APIs (so events can name them); pass 1: functions and
 * their events. */
static int sam_resource_fn(ctx *c, const char *type, yaml_node_t *kn, yaml_node_t *res, int pass)
{
    const char *name = sam__sval(kn);
    int rest = !strcmp(type, "AWS::Serverless::Api");
    if (pass == 0 && (rest || !strcmp(type, "AWS::Serverless::HttpApi"))) {
        int ai = sam__api_index(c, name, rest ? SAM_REST_API : SAM_HTTP_API, kn);
        return ai < 0 || api_props(c, ai, sam__map_get(c, res, "Properties"), name) ? -1 : 0;
    }
    if (pass == 1 && !strcmp(type, "AWS::Serverless::Function"))
        return load_function(c, kn, res, c->globals_fn);
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
    for (yaml_node_pair_t *p = c->resources->data.mapping.pairs.start;
         p < c->resources->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = sam__node(c, p->key);
        const char *name = sam__sval(kn);
        if (!name || sam__check_keys(c, sam__node(c, p->value), name ? name : "Resources", rk))
            return name ? -1 : sam__fail(c, kn, "Resources", "bad resource name");
    }
    if (sam__load_params(c, sam__map_get(c, root, "Parameters"), ov, nov) ||
        sam__load_conditions(c, sam__map_get(c, root, "Conditions")))
        return -1;
    yaml_node_t *globals = sam__map_get(c, root, "Globals");
    if (sam__check_keys(c, globals, "Globals", gk))
        return -1;
    c->globals_fn = sam__map_get(c, globals, "Function");
    c->globals_http = sam__map_get(c, globals, "HttpApi");
    c->globals_api = sam__map_get(c, globals, "Api");
    size_t explicit_apis;
    if (each_resource(c, sam_resource_fn, 0))
        return -1;
    explicit_apis = c->t->n_apis;
    if (each_resource(c, sam_resource_fn, 1))
        return -1;
    /* the implicit APIs (made by events) take Globals too */
    for (size_t i = explicit_apis; i < c->t->n_apis; i++)
        if (api_props(c, (int)i, NULL, c->t->apis[i].name))
            return -1;
    if (!c->t->n_functions)
        return sam__fail(c, c->resources, "Resources", "no AWS::Serverless::Function to run");
    if (each_resource(c, sam__gateway_resource, 0) || each_resource(c, sam__gateway_resource, 1))
        return -1;
    return sam__finish_apis(c) || sam__finish_auth(c) ? -1 : 0;
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
