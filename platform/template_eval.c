/*
 * The values of a SAM template (see template_int.h): scalars with !Ref,
 * !Sub, !GetAtt, !Join and their long forms evaluated, numbers in range,
 * the keys a map may have, Parameters (with --parameter-overrides,
 * AllowedValues and Number checks) and Conditions.  Each error names the
 * file, the line and the key.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "template_int.h"

static int vfail(ctx *c, unsigned long line, const char *key, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static int vfail(ctx *c, unsigned long line, const char *key, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (c->err && c->errlen)
        snprintf(c->err, c->errlen, "%s:%lu: %s: %s", c->file, line, key, msg);
    return -1;
}

int sam__fail(ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(c, n ? (unsigned long)n->start_mark.line + 1 : 0UL, key, fmt, ap);
    va_end(ap);
    return -1;
}

int sam__fail_at(ctx *c, int line, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(c, line > 0 ? (unsigned long)line : 0UL, key, fmt, ap);
    va_end(ap);
    return -1;
}

yaml_node_t *sam__node(ctx *c, int i) { return yaml_document_get_node(&c->doc, i); }

const char *sam__sval(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

const char *sam__tag(const yaml_node_t *n)
{
    return n && n->tag ? (const char *)n->tag : "";
}

/* The intrinsic of n: its tag (!If) or the key of a one-key mapping
 * (Fn::If), and its argument node; NULL if n is not one. */
const char *sam__intrinsic(ctx *c, yaml_node_t *n, yaml_node_t **arg)
{
    if (!n)
        return NULL;
    if (n->tag && ((const char *)n->tag)[0] == '!') {
        *arg = n;
        return (const char *)n->tag + 1;
    }
    if (n->type == YAML_MAPPING_NODE && n->data.mapping.pairs.top - n->data.mapping.pairs.start == 1) {
        const char *k = sam__sval(sam__node(c, n->data.mapping.pairs.start[0].key));
        if (k && (!strncmp(k, "Fn::", 4) || !strcmp(k, "Ref") || !strcmp(k, "Condition"))) {
            *arg = sam__node(c, n->data.mapping.pairs.start[0].value);
            return strncmp(k, "Fn::", 4) ? k : k + 4;
        }
    }
    return NULL;
}

int sam__cond_value(ctx *c, const char *name)
{
    for (size_t i = 0; i < c->n_conds; i++)
        if (!strcmp(c->conds[i].name, name))
            return c->conds[i].value;
    return -1;
}

/* Resolves !If (and Fn::If) by its condition; NULL when the chosen branch is
 * AWS::NoValue (the property is then absent).  An unknown condition leaves
 * the node as it is (sam__scalar() reports it). */
yaml_node_t *sam__pick(ctx *c, yaml_node_t *n)
{
    for (int depth = 0; n && depth < 16; depth++) {
        yaml_node_t *a = NULL;
        const char *in = sam__intrinsic(c, n, &a);
        if (in && !strcmp(in, "Ref") && sam__sval(a) && !strcmp(sam__sval(a), "AWS::NoValue"))
            return NULL;
        if (!in || strcmp(in, "If") || !a || a->type != YAML_SEQUENCE_NODE ||
            a->data.sequence.items.top - a->data.sequence.items.start != 3)
            return n;
        const char *cn = sam__sval(sam__node(c, a->data.sequence.items.start[0]));
        int v = cn ? sam__cond_value(c, cn) : -1;
        if (v < 0)
            return n;
        n = sam__node(c, a->data.sequence.items.start[v ? 1 : 2]);
    }
    return n;
}

yaml_node_t *sam__map_get(ctx *c, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; p++) {
        const char *k = sam__sval(sam__node(c, p->key));
        if (k && !strcmp(k, key))
            return sam__pick(c, sam__node(c, p->value));
    }
    return NULL;
}

int sam__copy(ctx *c, const yaml_node_t *n, const char *key, char *out, size_t cap,
                const char *s, size_t len)
{
    if (len >= cap)
        return sam__fail(c, n, key, "value longer than %zu bytes", cap - 1);
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
            return sam__copy(c, n, key, out, cap, c->t->params[i].value,
                        strlen(c->t->params[i].value));
    for (size_t i = 0; i < sizeof pseudo / sizeof *pseudo; i++)
        if (!strcmp(pseudo[i].name, name))
            return sam__copy(c, n, key, out, cap, pseudo[i].value, strlen(pseudo[i].value));
    /* a resource (or resource.Attr): its logical id stands for it locally */
    char base[SAM_STR];
    snprintf(base, sizeof base, "%s", name);
    char *dot = strchr(base, '.');
    if (dot)
        *dot = 0;
    if (sam__map_get(c, c->resources, base) || sam__generated_name(c, base)) {
        int table = sam__table_ref(c, n, key, base, dot ? dot + 1 : NULL, out, cap);
        if (table)
            return table < 0 ? -1 : 0;
        return sam__copy(c, n, key, out, cap, name, strlen(name));
    }
    return sam__fail(c, n, key, "!Ref to unknown parameter or resource '%s'", name);
}


/* !GetAtt R.Attr: a table's Arn and StreamArn, else the text "R.Attr". */
static int get_att(ctx *c, yaml_node_t *n, const char *key, const char *v, char *out, size_t cap)
{
    char base[SAM_STR];
    snprintf(base, sizeof base, "%s", v);
    char *dot = strchr(base, '.');
    if (dot) {
        *dot = 0;
        int table = sam__table_ref(c, n, key, base, dot + 1, out, cap);
        if (table)
            return table < 0 ? -1 : 0;
    }
    return sam__copy(c, n, key, out, cap, v, strlen(v));
}

static int do_sub(ctx *c, yaml_node_t *n, const char *key, const char *s, char *out,
                  size_t cap)
{
    size_t o = 0;
    while (*s) {
        if (s[0] == '$' && s[1] == '{') {
            const char *e = strchr(s + 2, '}');
            if (!e)
                return sam__fail(c, n, key, "unterminated ${ in !Sub");
            char name[SAM_STR], val[1024];
            size_t nl = (size_t)(e - s - 2);
            if (nl >= sizeof name)
                return sam__fail(c, n, key, "!Sub variable too long");
            memcpy(name, s + 2, nl);
            name[nl] = 0;
            if (name[0] == '!') { /* ${!Literal} */
                snprintf(val, sizeof val, "${%s}", name + 1);
            } else if (resolve_ref(c, n, key, name, val, sizeof val)) {
                return -1;
            }
            size_t vl = strlen(val);
            if (o + vl >= cap)
                return sam__fail(c, n, key, "value too long");
            memcpy(out + o, val, vl);
            o += vl;
            s = e + 1;
        } else {
            if (o + 1 >= cap)
                return sam__fail(c, n, key, "value too long");
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
        !(delim = sam__node(c, args->data.sequence.items.start[0])) || !sam__sval(delim) ||
        !(list = sam__node(c, args->data.sequence.items.start[1])) ||
        list->type != YAML_SEQUENCE_NODE)
        return sam__fail(c, args, key, "!Join wants [delimiter, [values...]]");
    size_t o = 0;
    out[0] = 0;
    for (yaml_node_item_t *it = list->data.sequence.items.start;
         it < list->data.sequence.items.top; it++) {
        char v[1024];
        if (sam__scalar(c, sam__node(c, *it), key, v, sizeof v))
            return -1;
        size_t need = strlen(v) + (it > list->data.sequence.items.start ? strlen(sam__sval(delim)) : 0);
        if (o + need >= cap)
            return sam__fail(c, args, key, "value too long");
        if (it > list->data.sequence.items.start)
            o += (size_t)sprintf(out + o, "%s", sam__sval(delim));
        o += (size_t)sprintf(out + o, "%s", v);
    }
    return 0;
}

/* Resolves a scalar-valued property (plain, or an intrinsic function). */
int sam__scalar(ctx *c, yaml_node_t *n, const char *key, char *out, size_t cap)
{
    if (!n)
        return sam__fail(c, n, key, "missing value");
    yaml_node_t *ifarg = NULL;
    const char *in = sam__intrinsic(c, n, &ifarg);
    if (in && !strcmp(in, "If")) {
        yaml_node_t *picked = sam__pick(c, n);
        if (picked == n)
            return sam__fail(c, n, key, "!If wants [condition, value, value] with a condition "
                        "defined under Conditions");
        if (!picked)
            return sam__copy(c, n, key, out, cap, "", 0);
        return sam__scalar(c, picked, key, out, cap);
    }
    const char *tg = sam__tag(n);
    if (n->type == YAML_SCALAR_NODE) {
        const char *v = sam__sval(n);
        if (!strcmp(tg, "!Ref"))
            return resolve_ref(c, n, key, v, out, cap);
        if (!strcmp(tg, "!Sub"))
            return do_sub(c, n, key, v, out, cap);
        if (!strcmp(tg, "!GetAtt"))
            return get_att(c, n, key, v, out, cap);
        if (tg[0] == '!')
            return sam__fail(c, n, key, "intrinsic %s is not supported locally", tg);
        return sam__copy(c, n, key, out, cap, v, n->data.scalar.length);
    }
    if (n->type == YAML_SEQUENCE_NODE && !strcmp(tg, "!Join"))
        return do_join(c, n, key, out, cap);
    if (n->type == YAML_SEQUENCE_NODE && !strcmp(tg, "!Sub")) {
        yaml_node_t *s = n->data.sequence.items.start < n->data.sequence.items.top
                             ? sam__node(c, n->data.sequence.items.start[0]) : NULL;
        if (!sam__sval(s))
            return sam__fail(c, n, key, "!Sub wants a string");
        return do_sub(c, n, key, sam__sval(s), out, cap);
    }
    if (tg[0] == '!')
        return sam__fail(c, n, key, "intrinsic %s is not supported locally", tg);
    if (n->type == YAML_MAPPING_NODE &&
        n->data.mapping.pairs.top - n->data.mapping.pairs.start == 1) {
        const char *k = sam__sval(sam__node(c, n->data.mapping.pairs.start[0].key));
        yaml_node_t *v = sam__node(c, n->data.mapping.pairs.start[0].value);
        if (k && !strcmp(k, "Ref") && sam__sval(v))
            return resolve_ref(c, n, key, sam__sval(v), out, cap);
        if (k && !strcmp(k, "Fn::Sub") && sam__sval(v))
            return do_sub(c, n, key, sam__sval(v), out, cap);
        if (k && !strcmp(k, "Fn::Join"))
            return do_join(c, v, key, out, cap);
        if (k && !strcmp(k, "Fn::GetAtt") && v && v->type == YAML_SEQUENCE_NODE) {
            char a[SAM_STR] = "", b[SAM_STR] = "";
            yaml_node_item_t *it = v->data.sequence.items.start;
            if (v->data.sequence.items.top - it == 2 && sam__sval(sam__node(c, it[0])) &&
                sam__sval(sam__node(c, it[1]))) {
                snprintf(a, sizeof a, "%s", sam__sval(sam__node(c, it[0])));
                snprintf(b, sizeof b, "%s", sam__sval(sam__node(c, it[1])));
                char s[2 * SAM_STR + 2];
                snprintf(s, sizeof s, "%s.%s", a, b);
                return get_att(c, n, key, s, out, cap);
            }
        }
        if (k && !strncmp(k, "Fn::", 4))
            return sam__fail(c, n, key, "intrinsic %s is not supported locally", k);
    }
    return sam__fail(c, n, key, "expected a string");
}

int sam__integer(ctx *c, yaml_node_t *n, const char *key, int lo, int hi, int *out)
{
    char s[64], *end;
    if (sam__scalar(c, n, key, s, sizeof s))
        return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno)
        return sam__fail(c, n, key, "'%s' is not an integer", s);
    if (v < lo || v > hi)
        return sam__fail(c, n, key, "%ld is out of range [%d, %d]", v, lo, hi);
    *out = (int)v;
    return 0;
}

/* 1 when name is id followed by the suffix of a resource SAM makes for a
 * REST API: ApiKey, UsagePlan, UsagePlanKey, Deployment, <Stage>Stage. */
static int api_generated(const char *name, const char *id)
{
    static const char *const suffixes[] = {"ApiKey", "UsagePlan", "UsagePlanKey", "Deployment",
                                           NULL};
    size_t l = strlen(id), nl = strlen(name);
    if (strncmp(name, id, l) || nl == l)
        return 0;
    return sam__in_list(name + l, suffixes) || (nl > l + 5 && !strcmp(name + nl - 5, "Stage"));
}

int sam__generated_name(ctx *c, const char *name)
{
    static const char *const fixed[] = {"ServerlessHttpApi", "ServerlessRestApi",
        "ServerlessUsagePlan", "ServerlessApiKey", "ServerlessUsagePlanKey", NULL};
    if (sam__in_list(name, fixed) || api_generated(name, "ServerlessRestApi"))
        return 1;
    for (yaml_node_pair_t *p = c->resources ? c->resources->data.mapping.pairs.start : NULL;
         p && p < c->resources->data.mapping.pairs.top; p++) {
        const char *id = sam__sval(sam__node(c, p->key));
        const char *type = sam__sval(sam__map_get(c, sam__node(c, p->value), "Type"));
        if (id && type && !strcmp(type, "AWS::Serverless::Api") && api_generated(name, id))
            return 1;
    }
    return 0;
}

int sam__rate(ctx *c, yaml_node_t *n, const char *key, double *out)
{
    char s[64], *end;
    if (sam__scalar(c, n, key, s, sizeof s))
        return -1;
    *out = strtod(s, &end);
    if (!*s || *end || *out < 0)
        return sam__fail(c, n, key, "'%s' is not a rate", s);
    return 0;
}

int sam__boolean(ctx *c, yaml_node_t *n, const char *key, int *out)
{
    char b[16];
    if (sam__scalar(c, n, key, b, sizeof b))
        return -1;
    if (!strcasecmp(b, "true"))
        *out = 1;
    else if (!strcasecmp(b, "false"))
        *out = 0;
    else
        return sam__fail(c, n, key, "'%s' is not true or false", b);
    return 0;
}

int sam__in_list(const char *k, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(k, *list))
            return 1;
    return 0;
}

/* Every key of map must be in `known`. */
int sam__check_keys(ctx *c, yaml_node_t *map, const char *where, const char *const *known)
{
    if (!map)
        return 0;
    if (map->type != YAML_MAPPING_NODE)
        return sam__fail(c, map, where, "expected a mapping");
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = sam__node(c, p->key);
        const char *k = sam__sval(kn);
        if (!k)
            return sam__fail(c, kn, where, "keys must be strings");
        if (!sam__in_list(k, known))
            return sam__fail(c, kn, k, "unknown key in %s", where);
    }
    return 0;
}

/* ---- Parameters ---- */

int sam__load_params(ctx *c, yaml_node_t *params, const char *const *ov, size_t nov)
{
    static const char *const keys[] = {"Type", "Default", "Description", "AllowedValues",
        "MinValue", "MaxValue", "AllowedPattern", "ConstraintDescription", "MinLength",
        "MaxLength", "NoEcho", NULL};
    if (params && params->type != YAML_MAPPING_NODE)
        return sam__fail(c, params, "Parameters", "expected a mapping");
    for (size_t i = 0; i < nov; i++) {
        const char *o = ov[i];
        char name[SAM_STR], value[1024];
        const char *eq = strchr(o, '=');
        if (!strncmp(o, "ParameterKey=", 13)) {
            const char *comma = strstr(o, ",ParameterValue=");
            if (!comma)
                return sam__fail(c, NULL, o, "override wants ParameterKey=K,ParameterValue=V");
            snprintf(name, sizeof name, "%.*s", (int)(comma - o - 13), o + 13);
            snprintf(value, sizeof value, "%s", comma + 16);
        } else if (eq) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - o), o);
            snprintf(value, sizeof value, "%s", eq + 1);
        } else {
            return sam__fail(c, NULL, o, "override wants Name=Value");
        }
        if (!sam__map_get(c, params, name))
            return sam__fail(c, params, name, "--parameter-overrides names no parameter of the template");
    }
    if (!params)
        return 0;
    for (yaml_node_pair_t *p = params->data.mapping.pairs.start;
         p < params->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = sam__node(c, p->key), *def = sam__node(c, p->value);
        const char *name = sam__sval(kn);
        if (!name || sam__check_keys(c, def, name, keys))
            return name ? -1 : sam__fail(c, kn, "Parameters", "bad parameter name");
        if (c->t->n_params == SAM_MAX_PARAMS)
            return sam__fail(c, kn, name, "too many parameters");
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
        yaml_node_t *dn = sam__map_get(c, def, "Default");
        if (!have && dn) {
            if (!sam__sval(dn))
                return sam__fail(c, dn, name, "Default must be a scalar");
            snprintf(kv->value, sizeof kv->value, "%s", sam__sval(dn));
            have = 1;
        }
        if (!have)
            return sam__fail(c, kn, name, "parameter has no Default and no override");
        char type[64] = "String";
        yaml_node_t *tn = sam__map_get(c, def, "Type");
        if (tn && sam__sval(tn))
            snprintf(type, sizeof type, "%s", sam__sval(tn));
        if (!strcmp(type, "Number")) {
            char *end;
            strtod(kv->value, &end);
            if (!kv->value[0] || *end)
                return sam__fail(c, kn, name, "'%s' is not a Number", kv->value);
            yaml_node_t *mn = sam__map_get(c, def, "MinValue"), *mx = sam__map_get(c, def, "MaxValue");
            double v = atof(kv->value);
            if ((sam__sval(mn) && v < atof(sam__sval(mn))) || (sam__sval(mx) && v > atof(sam__sval(mx))))
                return sam__fail(c, kn, name, "%s is outside MinValue/MaxValue", kv->value);
        }
        yaml_node_t *av = sam__map_get(c, def, "AllowedValues");
        if (av && av->type == YAML_SEQUENCE_NODE) {
            int ok = 0;
            for (yaml_node_item_t *it = av->data.sequence.items.start;
                 it < av->data.sequence.items.top; it++)
                ok |= sam__sval(sam__node(c, *it)) && !strcmp(sam__sval(sam__node(c, *it)), kv->value);
            if (!ok)
                return sam__fail(c, kn, name, "'%s' is not one of AllowedValues", kv->value);
        }
        c->t->n_params++;
    }
    return 0;
}

/* ---- Conditions ---- */

/* Evaluates a condition expression: 1, 0, or -1 after sam__fail(). */
static int eval_cond(ctx *c, yaml_node_t *n, const char *name, int depth)
{
    yaml_node_t *a = NULL;
    const char *in = sam__intrinsic(c, n, &a);
    if (depth > 16)
        return sam__fail(c, n, name, "conditions nested too deeply");
    if (!in)
        return sam__fail(c, n, name, "expected !Equals, !Not, !And, !Or or !Condition");
    if (!strcmp(in, "Condition")) {
        int v = sam__sval(a) ? sam__cond_value(c, sam__sval(a)) : -1;
        return v >= 0 ? v : sam__fail(c, n, name, "unknown condition '%s' (define it earlier)",
                                 sam__sval(a) ? sam__sval(a) : "");
    }
    if (!a || a->type != YAML_SEQUENCE_NODE)
        return sam__fail(c, n, name, "!%s wants a list", in);
    yaml_node_item_t *it = a->data.sequence.items.start;
    long cnt = a->data.sequence.items.top - it;
    if (!strcmp(in, "Equals")) {
        char x[SAM_STR * 2], y[SAM_STR * 2];
        if (cnt != 2)
            return sam__fail(c, n, name, "!Equals wants two values");
        if (sam__scalar(c, sam__node(c, it[0]), name, x, sizeof x) ||
            sam__scalar(c, sam__node(c, it[1]), name, y, sizeof y))
            return -1;
        return !strcmp(x, y);
    }
    if (!strcmp(in, "Not")) {
        if (cnt != 1)
            return sam__fail(c, n, name, "!Not wants one condition");
        int v = eval_cond(c, sam__node(c, it[0]), name, depth + 1);
        return v < 0 ? -1 : !v;
    }
    if (!strcmp(in, "And") || !strcmp(in, "Or")) {
        int and = !strcmp(in, "And"), acc = and;
        if (cnt < 2 || cnt > 10)
            return sam__fail(c, n, name, "!%s wants 2 to 10 conditions", in);
        for (long i = 0; i < cnt; i++) {
            int v = eval_cond(c, sam__node(c, it[i]), name, depth + 1);
            if (v < 0)
                return -1;
            acc = and ? acc && v : acc || v;
        }
        return acc;
    }
    return sam__fail(c, n, name, "!%s is not a condition function", in);
}

int sam__load_conditions(ctx *c, yaml_node_t *conds)
{
    if (!conds)
        return 0;
    if (conds->type != YAML_MAPPING_NODE)
        return sam__fail(c, conds, "Conditions", "expected a mapping");
    for (yaml_node_pair_t *p = conds->data.mapping.pairs.start;
         p < conds->data.mapping.pairs.top; p++) {
        const char *name = sam__sval(sam__node(c, p->key));
        if (!name || c->n_conds == SAM_MAX_PARAMS)
            return sam__fail(c, sam__node(c, p->key), "Conditions", "bad or too many conditions");
        int v = eval_cond(c, sam__node(c, p->value), name, 0);
        if (v < 0)
            return -1;
        c->conds[c->n_conds].name = name;
        c->conds[c->n_conds++].value = v;
    }
    return 0;
}

/* A resource's Condition: 1 (none, or true), 0 (false), -1 after sam__fail(). */
int sam__resource_enabled(ctx *c, yaml_node_t *res, const char *name)
{
    yaml_node_t *cn = sam__map_get(c, res, "Condition");
    if (!cn)
        return 1;
    int v = sam__sval(cn) ? sam__cond_value(c, sam__sval(cn)) : -1;
    return v >= 0 ? v : sam__fail(c, cn, name, "Condition '%s' is not defined under Conditions",
                             sam__sval(cn) ? sam__sval(cn) : "");
}

