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

#define MAX_TEMPLATE (1u << 20)

typedef struct ctx {
    yaml_document_t doc;
    const char *file;
    char *err;
    size_t errlen;
    sam_template *t;
    yaml_node_t *resources;
    size_t n_conds;             /* Conditions, evaluated once after Parameters */
    struct {
        const char *name;
        int value;
    } conds[SAM_MAX_PARAMS];
} ctx;

static int fail(ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->err && c->errlen)
        snprintf(c->err, c->errlen, "%s:%lu: %s: %s", c->file,
                 n ? (unsigned long)n->start_mark.line + 1 : 0UL, key, msg);
    return -1;
}

static yaml_node_t *node(ctx *c, int i) { return yaml_document_get_node(&c->doc, i); }

static const char *sval(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static const char *tag(const yaml_node_t *n)
{
    return n && n->tag ? (const char *)n->tag : "";
}

/* The intrinsic of n: its tag (!If) or the key of a one-key mapping
 * (Fn::If), and its argument node; NULL if n is not one. */
static const char *intrinsic(ctx *c, yaml_node_t *n, yaml_node_t **arg)
{
    if (!n)
        return NULL;
    if (n->tag && ((const char *)n->tag)[0] == '!') {
        *arg = n;
        return (const char *)n->tag + 1;
    }
    if (n->type == YAML_MAPPING_NODE && n->data.mapping.pairs.top - n->data.mapping.pairs.start == 1) {
        const char *k = sval(node(c, n->data.mapping.pairs.start[0].key));
        if (k && (!strncmp(k, "Fn::", 4) || !strcmp(k, "Ref") || !strcmp(k, "Condition"))) {
            *arg = node(c, n->data.mapping.pairs.start[0].value);
            return strncmp(k, "Fn::", 4) ? k : k + 4;
        }
    }
    return NULL;
}

static int cond_value(ctx *c, const char *name)
{
    for (size_t i = 0; i < c->n_conds; i++)
        if (!strcmp(c->conds[i].name, name))
            return c->conds[i].value;
    return -1;
}

/* Resolves !If (and Fn::If) by its condition; NULL when the chosen branch is
 * AWS::NoValue (the property is then absent).  An unknown condition leaves
 * the node as it is (scalar() reports it). */
static yaml_node_t *pick(ctx *c, yaml_node_t *n)
{
    for (int depth = 0; n && depth < 16; depth++) {
        yaml_node_t *a = NULL;
        const char *in = intrinsic(c, n, &a);
        if (in && !strcmp(in, "Ref") && sval(a) && !strcmp(sval(a), "AWS::NoValue"))
            return NULL;
        if (!in || strcmp(in, "If") || !a || a->type != YAML_SEQUENCE_NODE ||
            a->data.sequence.items.top - a->data.sequence.items.start != 3)
            return n;
        const char *cn = sval(node(c, a->data.sequence.items.start[0]));
        int v = cn ? cond_value(c, cn) : -1;
        if (v < 0)
            return n;
        n = node(c, a->data.sequence.items.start[v ? 1 : 2]);
    }
    return n;
}

static yaml_node_t *map_get(ctx *c, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; p++) {
        const char *k = sval(node(c, p->key));
        if (k && !strcmp(k, key))
            return pick(c, node(c, p->value));
    }
    return NULL;
}

static int copy(ctx *c, const yaml_node_t *n, const char *key, char *out, size_t cap,
                const char *s, size_t len)
{
    if (len >= cap)
        return fail(c, n, key, "value longer than %zu bytes", cap - 1);
    memcpy(out, s, len);
    out[len] = 0;
    return 0;
}

static int resolve_ref(ctx *c, const yaml_node_t *n, const char *key, const char *name,
                       char *out, size_t cap)
{
    static const struct { const char *name, *value; } pseudo[] = {
        {"AWS::Region", "us-east-1"}, {"AWS::AccountId", "123456789012"},
        {"AWS::StackName", "nerd-local"}, {"AWS::StackId", "nerd-local"},
        {"AWS::Partition", "aws"}, {"AWS::URLSuffix", "amazonaws.com"},
        {"AWS::NoValue", ""}};
    for (size_t i = 0; i < c->t->n_params; i++)
        if (!strcmp(c->t->params[i].key, name))
            return copy(c, n, key, out, cap, c->t->params[i].value,
                        strlen(c->t->params[i].value));
    for (size_t i = 0; i < sizeof pseudo / sizeof *pseudo; i++)
        if (!strcmp(pseudo[i].name, name))
            return copy(c, n, key, out, cap, pseudo[i].value, strlen(pseudo[i].value));
    /* a resource (or resource.Attr): its logical id stands for it locally */
    char base[SAM_STR];
    snprintf(base, sizeof base, "%s", name);
    char *dot = strchr(base, '.');
    if (dot)
        *dot = 0;
    if (map_get(c, c->resources, base) || !strcmp(base, "ServerlessHttpApi"))
        return copy(c, n, key, out, cap, name, strlen(name));
    return fail(c, n, key, "!Ref to unknown parameter or resource '%s'", name);
}

static int scalar(ctx *c, yaml_node_t *n, const char *key, char *out, size_t cap);

static int do_sub(ctx *c, yaml_node_t *n, const char *key, const char *s, char *out,
                  size_t cap)
{
    size_t o = 0;
    while (*s) {
        if (s[0] == '$' && s[1] == '{') {
            const char *e = strchr(s + 2, '}');
            if (!e)
                return fail(c, n, key, "unterminated ${ in !Sub");
            char name[SAM_STR], val[1024];
            size_t nl = (size_t)(e - s - 2);
            if (nl >= sizeof name)
                return fail(c, n, key, "!Sub variable too long");
            memcpy(name, s + 2, nl);
            name[nl] = 0;
            if (name[0] == '!') { /* ${!Literal} */
                snprintf(val, sizeof val, "${%s}", name + 1);
            } else if (resolve_ref(c, n, key, name, val, sizeof val)) {
                return -1;
            }
            size_t vl = strlen(val);
            if (o + vl >= cap)
                return fail(c, n, key, "value too long");
            memcpy(out + o, val, vl);
            o += vl;
            s = e + 1;
        } else {
            if (o + 1 >= cap)
                return fail(c, n, key, "value too long");
            out[o++] = *s++;
        }
    }
    out[o] = 0;
    return 0;
}

static int do_join(ctx *c, yaml_node_t *args, const char *key, char *out, size_t cap)
{
    yaml_node_t *delim, *list;
    if (!args || args->type != YAML_SEQUENCE_NODE ||
        args->data.sequence.items.top - args->data.sequence.items.start != 2 ||
        !(delim = node(c, args->data.sequence.items.start[0])) || !sval(delim) ||
        !(list = node(c, args->data.sequence.items.start[1])) ||
        list->type != YAML_SEQUENCE_NODE)
        return fail(c, args, key, "!Join wants [delimiter, [values...]]");
    size_t o = 0;
    out[0] = 0;
    for (yaml_node_item_t *it = list->data.sequence.items.start;
         it < list->data.sequence.items.top; it++) {
        char v[1024];
        if (scalar(c, node(c, *it), key, v, sizeof v))
            return -1;
        size_t need = strlen(v) + (it > list->data.sequence.items.start ? strlen(sval(delim)) : 0);
        if (o + need >= cap)
            return fail(c, args, key, "value too long");
        if (it > list->data.sequence.items.start)
            o += (size_t)sprintf(out + o, "%s", sval(delim));
        o += (size_t)sprintf(out + o, "%s", v);
    }
    return 0;
}

/* Resolves a scalar-valued property (plain, or an intrinsic function). */
static int scalar(ctx *c, yaml_node_t *n, const char *key, char *out, size_t cap)
{
    if (!n)
        return fail(c, n, key, "missing value");
    yaml_node_t *ifarg = NULL;
    const char *in = intrinsic(c, n, &ifarg);
    if (in && !strcmp(in, "If")) {
        yaml_node_t *picked = pick(c, n);
        if (picked == n)
            return fail(c, n, key, "!If wants [condition, value, value] with a condition "
                        "defined under Conditions");
        if (!picked)
            return copy(c, n, key, out, cap, "", 0);
        return scalar(c, picked, key, out, cap);
    }
    const char *tg = tag(n);
    if (n->type == YAML_SCALAR_NODE) {
        const char *v = sval(n);
        if (!strcmp(tg, "!Ref"))
            return resolve_ref(c, n, key, v, out, cap);
        if (!strcmp(tg, "!Sub"))
            return do_sub(c, n, key, v, out, cap);
        if (!strcmp(tg, "!GetAtt"))
            return copy(c, n, key, out, cap, v, strlen(v));
        if (tg[0] == '!')
            return fail(c, n, key, "intrinsic %s is not supported locally", tg);
        return copy(c, n, key, out, cap, v, n->data.scalar.length);
    }
    if (n->type == YAML_SEQUENCE_NODE && !strcmp(tg, "!Join"))
        return do_join(c, n, key, out, cap);
    if (n->type == YAML_SEQUENCE_NODE && !strcmp(tg, "!Sub")) {
        yaml_node_t *s = n->data.sequence.items.start < n->data.sequence.items.top
                             ? node(c, n->data.sequence.items.start[0]) : NULL;
        if (!sval(s))
            return fail(c, n, key, "!Sub wants a string");
        return do_sub(c, n, key, sval(s), out, cap);
    }
    if (tg[0] == '!')
        return fail(c, n, key, "intrinsic %s is not supported locally", tg);
    if (n->type == YAML_MAPPING_NODE &&
        n->data.mapping.pairs.top - n->data.mapping.pairs.start == 1) {
        const char *k = sval(node(c, n->data.mapping.pairs.start[0].key));
        yaml_node_t *v = node(c, n->data.mapping.pairs.start[0].value);
        if (k && !strcmp(k, "Ref") && sval(v))
            return resolve_ref(c, n, key, sval(v), out, cap);
        if (k && !strcmp(k, "Fn::Sub") && sval(v))
            return do_sub(c, n, key, sval(v), out, cap);
        if (k && !strcmp(k, "Fn::Join"))
            return do_join(c, v, key, out, cap);
        if (k && !strcmp(k, "Fn::GetAtt") && v && v->type == YAML_SEQUENCE_NODE) {
            char a[SAM_STR] = "", b[SAM_STR] = "";
            yaml_node_item_t *it = v->data.sequence.items.start;
            if (v->data.sequence.items.top - it == 2 && sval(node(c, it[0])) &&
                sval(node(c, it[1]))) {
                snprintf(a, sizeof a, "%s", sval(node(c, it[0])));
                snprintf(b, sizeof b, "%s", sval(node(c, it[1])));
                char s[2 * SAM_STR + 2];
                snprintf(s, sizeof s, "%s.%s", a, b);
                return copy(c, n, key, out, cap, s, strlen(s));
            }
        }
        if (k && !strncmp(k, "Fn::", 4))
            return fail(c, n, key, "intrinsic %s is not supported locally", k);
    }
    return fail(c, n, key, "expected a string");
}

static int integer(ctx *c, yaml_node_t *n, const char *key, int lo, int hi, int *out)
{
    char s[64], *end;
    if (scalar(c, n, key, s, sizeof s))
        return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno)
        return fail(c, n, key, "'%s' is not an integer", s);
    if (v < lo || v > hi)
        return fail(c, n, key, "%ld is out of range [%d, %d]", v, lo, hi);
    *out = (int)v;
    return 0;
}

static int in_list(const char *k, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(k, *list))
            return 1;
    return 0;
}

/* Every key of map must be in `known`. */
static int check_keys(ctx *c, yaml_node_t *map, const char *where, const char *const *known)
{
    if (!map)
        return 0;
    if (map->type != YAML_MAPPING_NODE)
        return fail(c, map, where, "expected a mapping");
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node(c, p->key);
        const char *k = sval(kn);
        if (!k)
            return fail(c, kn, where, "keys must be strings");
        if (!in_list(k, known))
            return fail(c, kn, k, "unknown key in %s", where);
    }
    return 0;
}

/* ---- Parameters ---- */

static int load_params(ctx *c, yaml_node_t *params, const char *const *ov, size_t nov)
{
    static const char *const keys[] = {"Type", "Default", "Description", "AllowedValues",
        "MinValue", "MaxValue", "AllowedPattern", "ConstraintDescription", "MinLength",
        "MaxLength", "NoEcho", NULL};
    if (params && params->type != YAML_MAPPING_NODE)
        return fail(c, params, "Parameters", "expected a mapping");
    for (size_t i = 0; i < nov; i++) {
        const char *o = ov[i];
        char name[SAM_STR], value[1024];
        const char *eq = strchr(o, '=');
        if (!strncmp(o, "ParameterKey=", 13)) {
            const char *comma = strstr(o, ",ParameterValue=");
            if (!comma)
                return fail(c, NULL, o, "override wants ParameterKey=K,ParameterValue=V");
            snprintf(name, sizeof name, "%.*s", (int)(comma - o - 13), o + 13);
            snprintf(value, sizeof value, "%s", comma + 16);
        } else if (eq) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - o), o);
            snprintf(value, sizeof value, "%s", eq + 1);
        } else {
            return fail(c, NULL, o, "override wants Name=Value");
        }
        if (!map_get(c, params, name))
            return fail(c, params, name, "--parameter-overrides names no parameter of the template");
    }
    if (!params)
        return 0;
    for (yaml_node_pair_t *p = params->data.mapping.pairs.start;
         p < params->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node(c, p->key), *def = node(c, p->value);
        const char *name = sval(kn);
        if (!name || check_keys(c, def, name, keys))
            return name ? -1 : fail(c, kn, "Parameters", "bad parameter name");
        if (c->t->n_params == SAM_MAX_PARAMS)
            return fail(c, kn, name, "too many parameters");
        sam_kv *kv = &c->t->params[c->t->n_params];
        snprintf(kv->key, sizeof kv->key, "%s", name);
        int have = 0;
        for (size_t i = 0; i < nov; i++) {
            const char *o = ov[i], *val = NULL;
            size_t nl = strlen(name);
            if (!strncmp(o, "ParameterKey=", 13) && !strncmp(o + 13, name, nl) &&
                !strncmp(o + 13 + nl, ",ParameterValue=", 16))
                val = o + 13 + nl + 16;
            else if (!strncmp(o, name, nl) && o[nl] == '=')
                val = o + nl + 1;
            if (val) {
                snprintf(kv->value, sizeof kv->value, "%s", val);
                have = 1;
            }
        }
        yaml_node_t *dn = map_get(c, def, "Default");
        if (!have && dn) {
            if (!sval(dn))
                return fail(c, dn, name, "Default must be a scalar");
            snprintf(kv->value, sizeof kv->value, "%s", sval(dn));
            have = 1;
        }
        if (!have)
            return fail(c, kn, name, "parameter has no Default and no override");
        char type[64] = "String";
        yaml_node_t *tn = map_get(c, def, "Type");
        if (tn && sval(tn))
            snprintf(type, sizeof type, "%s", sval(tn));
        if (!strcmp(type, "Number")) {
            char *end;
            strtod(kv->value, &end);
            if (!kv->value[0] || *end)
                return fail(c, kn, name, "'%s' is not a Number", kv->value);
            yaml_node_t *mn = map_get(c, def, "MinValue"), *mx = map_get(c, def, "MaxValue");
            double v = atof(kv->value);
            if ((sval(mn) && v < atof(sval(mn))) || (sval(mx) && v > atof(sval(mx))))
                return fail(c, kn, name, "%s is outside MinValue/MaxValue", kv->value);
        }
        yaml_node_t *av = map_get(c, def, "AllowedValues");
        if (av && av->type == YAML_SEQUENCE_NODE) {
            int ok = 0;
            for (yaml_node_item_t *it = av->data.sequence.items.start;
                 it < av->data.sequence.items.top; it++)
                ok |= sval(node(c, *it)) && !strcmp(sval(node(c, *it)), kv->value);
            if (!ok)
                return fail(c, kn, name, "'%s' is not one of AllowedValues", kv->value);
        }
        c->t->n_params++;
    }
    return 0;
}

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
    if (check_keys(c, n, key, dk))
        return -1;
    if (!(v = map_get(c, n, "Type")))
        return fail(c, n, key, "Type is required (SQS, SNS, Lambda, EventBridge or S3)");
    if (scalar(c, v, "Type", type, sizeof type))
        return -1;
    if (!in_list(type, types))
        return fail(c, v, "Type", "'%s' is not SQS, SNS, Lambda, EventBridge or S3", type);
    if ((v = map_get(c, n, "Destination")) && scalar(c, v, "Destination", dest, sizeof dest))
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
    if (check_keys(c, n, "EventInvokeConfig", ek))
        return -1;
    if ((v = map_get(c, n, "MaximumRetryAttempts")) &&
        integer(c, v, "MaximumRetryAttempts", 0, 2, &f->async_retries))
        return -1;
    if ((v = map_get(c, n, "MaximumEventAgeInSeconds")) &&
        integer(c, v, "MaximumEventAgeInSeconds", 60, 21600, &f->max_event_age_s))
        return -1;
    if ((d = map_get(c, n, "DestinationConfig"))) {
        if (check_keys(c, d, "DestinationConfig", dk))
            return -1;
        if ((v = map_get(c, d, "OnFailure")) &&
            destination(c, v, "OnFailure", f->on_failure, sizeof f->on_failure))
            return -1;
        if ((v = map_get(c, d, "OnSuccess")) &&
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
    if (check_keys(c, n, where, dk))
        return -1;
    if (present)
        *present = map_get(c, n, "ThrottlingBurstLimit") || map_get(c, n, "ThrottlingRateLimit");
    if ((v = map_get(c, n, "ThrottlingBurstLimit")) &&
        integer(c, v, "ThrottlingBurstLimit", 0, 1000000, burst))
        return -1;
    if ((v = map_get(c, n, "ThrottlingRateLimit"))) {
        char s[64], *end;
        if (scalar(c, v, "ThrottlingRateLimit", s, sizeof s))
            return -1;
        *rate = strtod(s, &end);
        if (!*s || *end || *rate < 0)
            return fail(c, v, "ThrottlingRateLimit", "'%s' is not a rate", s);
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
    if (check_keys(c, props, where, FUNCTION_KEYS))
        return -1;
    if ((n = map_get(c, props, "CodeUri"))) {
        if (scalar(c, n, "CodeUri", s, sizeof s))
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
                return fail(c, n, "CodeUri", "path too long");
        }
    }
    if ((n = map_get(c, props, "Handler")) && scalar(c, n, "Handler", f->handler, sizeof f->handler))
        return -1;
    if ((n = map_get(c, props, "Runtime"))) {
        if (scalar(c, n, "Runtime", f->runtime, sizeof f->runtime))
            return -1;
        if (strcmp(f->runtime, "provided.al2023") && strcmp(f->runtime, "provided.al2") &&
            strcmp(f->runtime, "provided"))
            return fail(c, n, "Runtime", "'%s' is not supported locally: use provided.al2023 "
                        "or provided.al2 (the platform runs CodeUri/bootstrap)", f->runtime);
    }
    if ((n = map_get(c, props, "MemorySize")) &&
        integer(c, n, "MemorySize", 128, 10240, &f->memory_mb))
        return -1;
    if ((n = map_get(c, props, "Timeout")) && integer(c, n, "Timeout", 1, 900, &f->timeout_s))
        return -1;
    if ((n = map_get(c, props, "Architectures"))) {
        yaml_node_t *a;
        if (n->type != YAML_SEQUENCE_NODE ||
            n->data.sequence.items.top - n->data.sequence.items.start != 1 ||
            !(a = node(c, n->data.sequence.items.start[0])) ||
            scalar(c, a, "Architectures", f->arch, sizeof f->arch))
            return fail(c, n, "Architectures", "expected a list of one architecture");
        if (strcmp(f->arch, "x86_64") && strcmp(f->arch, "arm64"))
            return fail(c, n, "Architectures", "'%s' is not x86_64 or arm64", f->arch);
    }
    if ((n = map_get(c, props, "ReservedConcurrentExecutions")) &&
        integer(c, n, "ReservedConcurrentExecutions", 0, 100000, &f->reserved))
        return -1;
    if ((n = map_get(c, props, "AutoPublishAlias")) &&
        scalar(c, n, "AutoPublishAlias", f->alias, sizeof f->alias))
        return -1;
    if ((n = map_get(c, props, "ProvisionedConcurrencyConfig"))) {
        static const char *const pk[] = {"ProvisionedConcurrentExecutions", NULL};
        yaml_node_t *v;
        if (check_keys(c, n, "ProvisionedConcurrencyConfig", pk))
            return -1;
        if (!(v = map_get(c, n, "ProvisionedConcurrentExecutions")))
            return fail(c, n, "ProvisionedConcurrencyConfig",
                        "ProvisionedConcurrentExecutions is required");
        if (integer(c, v, "ProvisionedConcurrentExecutions", 0, 100000, &f->provisioned))
            return -1;
    }
    if ((n = map_get(c, props, "EventInvokeConfig")) && event_invoke_config(c, n, f))
        return -1;
    if ((n = map_get(c, props, "Environment"))) {
        static const char *const ek[] = {"Variables", NULL};
        if (check_keys(c, n, "Environment", ek))
            return -1;
        yaml_node_t *vars = map_get(c, n, "Variables");
        if (vars && vars->type != YAML_MAPPING_NODE)
            return fail(c, vars, "Variables", "expected a mapping");
        for (yaml_node_pair_t *p = vars ? vars->data.mapping.pairs.start : NULL;
             vars && p < vars->data.mapping.pairs.top; p++) {
            const char *k = sval(node(c, p->key));
            if (!k || !*k)
                return fail(c, node(c, p->key), "Variables", "bad variable name");
            size_t i;
            for (i = 0; i < f->n_env && strcmp(f->env[i].key, k); i++)
                ;
            if (i == SAM_MAX_ENV)
                return fail(c, node(c, p->key), k, "too many environment variables");
            snprintf(f->env[i].key, sizeof f->env[i].key, "%s", k);
            if (scalar(c, node(c, p->value), k, f->env[i].value, sizeof f->env[i].value))
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
        return fail(c, at, name, "too many HTTP APIs");
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
        return fail(c, events, "Events", "expected a mapping");
    for (yaml_node_pair_t *p = events->data.mapping.pairs.start;
         p < events->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node(c, p->key), *ev = node(c, p->value);
        const char *name = sval(kn);
        char type[64];
        if (!name || check_keys(c, ev, name ? name : "Events", ek))
            return -1;
        if (scalar(c, map_get(c, ev, "Type"), "Type", type, sizeof type))
            return -1;
        if (strcmp(type, "HttpApi"))
            continue; /* other event sources are not emulated locally */
        yaml_node_t *props = map_get(c, ev, "Properties"), *n;
        if (check_keys(c, props, name, hk))
            return -1;
        if (c->t->n_routes == SAM_MAX_ROUTES)
            return fail(c, kn, name, "too many routes");
        sam_route *r = &c->t->routes[c->t->n_routes];
        memset(r, 0, sizeof *r);
        r->function = fi;
        r->line = (int)kn->start_mark.line + 1;
        snprintf(r->method, sizeof r->method, "ANY");
        snprintf(r->path, sizeof r->path, "$default");
        r->timeout_ms = 30000;
        if ((n = map_get(c, props, "TimeoutInMillis")) &&
            integer(c, n, "TimeoutInMillis", 50, 30000, &r->timeout_ms))
            return -1;
        if ((n = map_get(c, props, "RouteSettings"))) {
            if (throttle_settings(c, n, "RouteSettings", &r->rate_limit, &r->burst_limit,
                                  &r->throttled))
                return -1;
        }
        if ((n = map_get(c, props, "Path"))) {
            if (scalar(c, n, "Path", r->path, sizeof r->path))
                return -1;
            if (r->path[0] != '/')
                return fail(c, n, "Path", "'%s' must start with /", r->path);
        }
        if ((n = map_get(c, props, "Method"))) {
            if (scalar(c, n, "Method", r->method, sizeof r->method))
                return -1;
            for (char *m = r->method; *m; m++)
                if (*m >= 'a' && *m <= 'z')
                    *m = (char)(*m - 32);
            static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE",
                                                  "HEAD", "OPTIONS", "ANY", NULL};
            if (!in_list(r->method, methods))
                return fail(c, n, "Method", "'%s' is not an HTTP method", r->method);
        }
        if ((n = map_get(c, props, "PayloadFormatVersion"))) {
            char v[16];
            if (scalar(c, n, "PayloadFormatVersion", v, sizeof v))
                return -1;
            if (strcmp(v, "2.0"))
                return fail(c, n, "PayloadFormatVersion", "only 2.0 is supported locally");
        }
        char api[SAM_STR] = "ServerlessHttpApi";
        if ((n = map_get(c, props, "ApiId"))) {
            if (scalar(c, n, "ApiId", api, sizeof api))
                return -1;
            yaml_node_t *res = map_get(c, c->resources, api);
            char rt[128] = "";
            if (!res || scalar(c, map_get(c, res, "Type"), "Type", rt, sizeof rt) ||
                strcmp(rt, "AWS::Serverless::HttpApi"))
                return fail(c, n, "ApiId", "'%s' is not an AWS::Serverless::HttpApi of "
                            "this template", api);
        }
        int ai = api_index(c, api, kn);
        if (ai < 0)
            return -1;
        r->api = ai;
        for (size_t i = 0; i < c->t->n_routes; i++)
            if (c->t->routes[i].api == r->api && !strcmp(c->t->routes[i].path, r->path) &&
                !strcmp(c->t->routes[i].method, r->method))
                return fail(c, kn, name, "route %s %s is defined twice", r->method, r->path);
        c->t->n_routes++;
    }
    return 0;
}

static int list_of(ctx *c, yaml_node_t *n, const char *key, char (*out)[SAM_STR],
                   size_t cap_each, size_t max, size_t *count)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return fail(c, n, key, "expected a list");
    *count = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        if (*count == max)
            return fail(c, n, key, "more than %zu items", max);
        if (scalar(c, node(c, *it), key, out[*count], cap_each))
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
    if (check_keys(c, props, where, keys))
        return -1;
    if ((n = map_get(c, props, "CorsConfiguration"))) {
        a->cors = 1;
        if (n->type == YAML_SCALAR_NODE) {
            if (strcmp(sval(n), "true") && strcmp(sval(n), "false"))
                return fail(c, n, "CorsConfiguration", "expected true, false or a mapping");
            a->cors = !strcmp(sval(n), "true");
            if (a->cors) { /* SAM: true means allow all origins */
                a->n_origins = 1;
                snprintf(a->origins[0], SAM_STR, "*");
            }
        } else {
            char tmp[SAM_MAX_LIST][SAM_STR];
            if (check_keys(c, n, "CorsConfiguration", ck))
                return -1;
            if ((v = map_get(c, n, "AllowOrigins")) &&
                list_of(c, v, "AllowOrigins", a->origins, SAM_STR, SAM_MAX_LIST, &a->n_origins))
                return -1;
            if ((v = map_get(c, n, "AllowHeaders")) &&
                list_of(c, v, "AllowHeaders", a->headers, SAM_STR, SAM_MAX_LIST, &a->n_headers))
                return -1;
            if ((v = map_get(c, n, "ExposeHeaders")) &&
                list_of(c, v, "ExposeHeaders", a->expose, SAM_STR, SAM_MAX_LIST, &a->n_expose))
                return -1;
            if ((v = map_get(c, n, "AllowMethods"))) {
                if (list_of(c, v, "AllowMethods", tmp, 16, SAM_MAX_LIST, &a->n_methods))
                    return -1;
                for (size_t i = 0; i < a->n_methods; i++)
                    snprintf(a->methods[i], sizeof a->methods[i], "%s", tmp[i]);
            }
            if ((v = map_get(c, n, "MaxAge")) && integer(c, v, "MaxAge", -1, 86400, &a->max_age))
                return -1;
            if ((v = map_get(c, n, "AllowCredentials"))) {
                char b[8];
                if (scalar(c, v, "AllowCredentials", b, sizeof b))
                    return -1;
                a->allow_credentials = !strcmp(b, "true");
            }
        }
    }
    if ((n = map_get(c, props, "DefaultRouteSettings")) &&
        throttle_settings(c, n, "DefaultRouteSettings", &a->rate_limit, &a->burst_limit, NULL))
        return -1;
    if ((n = map_get(c, props, "RouteSettings"))) {
        if (n->type != YAML_MAPPING_NODE)
            return fail(c, n, "RouteSettings", "expected a mapping of route keys");
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
            yaml_node_t *kn = node(c, p->key);
            const char *k = sval(kn);
            if (!k || (!strchr(k, ' ') && strcmp(k, "$default")) || strlen(k) >= SAM_STR)
                return fail(c, kn, "RouteSettings", "expected a route key such as \"POST /ner\"");
            size_t i;
            for (i = 0; i < a->n_route_settings && strcmp(a->route_settings[i].key, k); i++)
                ;
            if (i == SAM_MAX_ROUTES)
                return fail(c, kn, "RouteSettings", "too many routes");
            snprintf(a->route_settings[i].key, SAM_STR, "%s", k);
            if (throttle_settings(c, node(c, p->value), k, &a->route_settings[i].rate_limit,
                                  &a->route_settings[i].burst_limit, &a->route_settings[i].present))
                return -1;
            if (i == a->n_route_settings)
                a->n_route_settings++;
        }
    }
    return 0;
}

/* Evaluates a condition expression: 1, 0, or -1 after fail(). */
static int eval_cond(ctx *c, yaml_node_t *n, const char *name, int depth)
{
    yaml_node_t *a = NULL;
    const char *in = intrinsic(c, n, &a);
    if (depth > 16)
        return fail(c, n, name, "conditions nested too deeply");
    if (!in)
        return fail(c, n, name, "expected !Equals, !Not, !And, !Or or !Condition");
    if (!strcmp(in, "Condition")) {
        int v = sval(a) ? cond_value(c, sval(a)) : -1;
        return v >= 0 ? v : fail(c, n, name, "unknown condition '%s' (define it earlier)",
                                 sval(a) ? sval(a) : "");
    }
    if (!a || a->type != YAML_SEQUENCE_NODE)
        return fail(c, n, name, "!%s wants a list", in);
    yaml_node_item_t *it = a->data.sequence.items.start;
    long cnt = a->data.sequence.items.top - it;
    if (!strcmp(in, "Equals")) {
        char x[SAM_STR * 2], y[SAM_STR * 2];
        if (cnt != 2)
            return fail(c, n, name, "!Equals wants two values");
        if (scalar(c, node(c, it[0]), name, x, sizeof x) ||
            scalar(c, node(c, it[1]), name, y, sizeof y))
            return -1;
        return !strcmp(x, y);
    }
    if (!strcmp(in, "Not")) {
        if (cnt != 1)
            return fail(c, n, name, "!Not wants one condition");
        int v = eval_cond(c, node(c, it[0]), name, depth + 1);
        return v < 0 ? -1 : !v;
    }
    if (!strcmp(in, "And") || !strcmp(in, "Or")) {
        int and = !strcmp(in, "And"), acc = and;
        if (cnt < 2 || cnt > 10)
            return fail(c, n, name, "!%s wants 2 to 10 conditions", in);
        for (long i = 0; i < cnt; i++) {
            int v = eval_cond(c, node(c, it[i]), name, depth + 1);
            if (v < 0)
                return -1;
            acc = and ? acc && v : acc || v;
        }
        return acc;
    }
    return fail(c, n, name, "!%s is not a condition function", in);
}

static int load_conditions(ctx *c, yaml_node_t *conds)
{
    if (!conds)
        return 0;
    if (conds->type != YAML_MAPPING_NODE)
        return fail(c, conds, "Conditions", "expected a mapping");
    for (yaml_node_pair_t *p = conds->data.mapping.pairs.start;
         p < conds->data.mapping.pairs.top; p++) {
        const char *name = sval(node(c, p->key));
        if (!name || c->n_conds == SAM_MAX_PARAMS)
            return fail(c, node(c, p->key), "Conditions", "bad or too many conditions");
        int v = eval_cond(c, node(c, p->value), name, 0);
        if (v < 0)
            return -1;
        c->conds[c->n_conds].name = name;
        c->conds[c->n_conds++].value = v;
    }
    return 0;
}

/* A resource's Condition: 1 (none, or true), 0 (false), -1 after fail(). */
static int resource_enabled(ctx *c, yaml_node_t *res, const char *name)
{
    yaml_node_t *cn = map_get(c, res, "Condition");
    if (!cn)
        return 1;
    int v = sval(cn) ? cond_value(c, sval(cn)) : -1;
    return v >= 0 ? v : fail(c, cn, name, "Condition '%s' is not defined under Conditions",
                             sval(cn) ? sval(cn) : "");
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
        return fail(c, root, "template", "expected a mapping at the top");
    if (check_keys(c, root, "the template", top))
        return -1;
    c->resources = map_get(c, root, "Resources");
    if (!c->resources || c->resources->type != YAML_MAPPING_NODE)
        return fail(c, root, "Resources", "a template needs a Resources mapping");
    if (load_params(c, map_get(c, root, "Parameters"), ov, nov) ||
        load_conditions(c, map_get(c, root, "Conditions")))
        return -1;
    yaml_node_t *globals = map_get(c, root, "Globals");
    if (check_keys(c, globals, "Globals", gk))
        return -1;
    yaml_node_t *gfun = map_get(c, globals, "Function"), *gapi = map_get(c, globals, "HttpApi");
    /* explicit HTTP APIs first, so routes can name them */
    for (yaml_node_pair_t *p = c->resources->data.mapping.pairs.start;
         p < c->resources->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node(c, p->key), *res = node(c, p->value);
        const char *name = sval(kn);
        char type[128];
        if (!name || check_keys(c, res, name ? name : "Resources", rk))
            return name ? -1 : fail(c, kn, "Resources", "bad resource name");
        if (scalar(c, map_get(c, res, "Type"), "Type", type, sizeof type))
            return -1;
        int on = resource_enabled(c, res, name);
        if (on < 0)
            return -1;
        if (on && !strcmp(type, "AWS::Serverless::HttpApi")) {
            int ai = api_index(c, name, kn);
            if (ai < 0 || apply_api_props(c, gapi, &c->t->apis[ai], "Globals.HttpApi") ||
                apply_api_props(c, map_get(c, res, "Properties"), &c->t->apis[ai], name))
                return -1;
        }
    }
    for (yaml_node_pair_t *p = c->resources->data.mapping.pairs.start;
         p < c->resources->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node(c, p->key), *res = node(c, p->value);
        const char *name = sval(kn);
        char type[128];
        scalar(c, map_get(c, res, "Type"), "Type", type, sizeof type);
        if (strcmp(type, "AWS::Serverless::Function"))
            continue; /* other resources are not run locally */
        int on = resource_enabled(c, res, name);
        if (on < 0)
            return -1;
        if (!on)
            continue; /* its Condition is false */
        if (c->t->n_functions == SAM_MAX_FUNCTIONS)
            return fail(c, kn, name, "too many functions");
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
        yaml_node_t *props = map_get(c, res, "Properties");
        if (apply_function_props(c, gfun, f, "Globals.Function") ||
            apply_function_props(c, props, f, name))
            return -1;
        if (!f->runtime[0])
            return fail(c, kn, name, "Runtime is required (provided.al2023 or provided.al2)");
        if (!f->code_uri[0])
            return fail(c, kn, name, "CodeUri is required");
        if (f->provisioned && !f->alias[0])
            return fail(c, kn, "ProvisionedConcurrencyConfig",
                        "To set ProvisionedConcurrencyConfig AutoPublishAlias must be defined "
                        "on the function");
        if (f->reserved >= 0 && f->provisioned > f->reserved)
            return fail(c, kn, "ProvisionedConcurrencyConfig",
                        "provisioned concurrency (%d) exceeds ReservedConcurrentExecutions (%d)",
                        f->provisioned, f->reserved);
        c->t->n_functions++;
        if (load_events(c, map_get(c, props, "Events"), fi))
            return -1;
    }
    /* the implicit API takes Globals.HttpApi */
    for (size_t i = 0; i < c->t->n_apis; i++)
        if (!strcmp(c->t->apis[i].name, "ServerlessHttpApi") &&
            !map_get(c, c->resources, "ServerlessHttpApi") &&
            apply_api_props(c, gapi, &c->t->apis[i], "Globals.HttpApi"))
            return -1;
    if (!c->t->n_functions)
        return fail(c, c->resources, "Resources", "no AWS::Serverless::Function to run");
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
        return fail(&c, NULL, "template", "larger than %u bytes", MAX_TEMPLATE);
    c.t = calloc(1, sizeof *c.t);
    if (!c.t)
        return fail(&c, NULL, "template", "out of memory");
    snprintf(c.t->path, sizeof c.t->path, "%s", name);
    if (!yaml_parser_initialize(&parser)) {
        free(c.t);
        return fail(&c, NULL, "template", "out of memory");
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
