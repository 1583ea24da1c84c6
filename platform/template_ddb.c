/*
 * DynamoDB tables of a SAM template (spec §7): AWS::Serverless::SimpleTable
 * (PrimaryKey, default id of type String; PAY_PER_REQUEST unless
 * ProvisionedThroughput is given; Globals.SimpleTable) and
 * AWS::DynamoDB::Table (KeySchema, AttributeDefinitions, BillingMode,
 * ProvisionedThroughput, GlobalSecondaryIndexes, LocalSecondaryIndexes,
 * StreamSpecification, DeletionProtectionEnabled; the properties the local
 * service does not emulate are accepted and ignored).  Each becomes the
 * CreateTable request (JSON) that the local DynamoDB service runs at
 * start-up, which checks it with the service's own rules.
 *
 * Names: `!Ref T` is the table's TableName, else its logical id (the local
 * platform's choice: stable across restarts, where CloudFormation would
 * generate STACK-T-RANDOM); `!GetAtt T.Arn` is
 * arn:aws:dynamodb:us-east-1:123456789012:table/NAME, T.StreamArn that ARN
 * with /stream/ and a fixed label.
 */
#include "template_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REF_DEPTH 8

static const char *const TABLE_KEYS[] = {
    "TableName", "AttributeDefinitions", "KeySchema", "BillingMode", "ProvisionedThroughput",
    "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification",
    "DeletionProtectionEnabled",
    /* accepted, not emulated */
    "SSESpecification", "Tags", "TimeToLiveSpecification", "PointInTimeRecoverySpecification",
    "ContributorInsightsSpecification", "KinesisStreamSpecification", "TableClass",
    "ImportSourceSpecification", "ResourcePolicy", "OnDemandThroughput", "WarmThroughput", NULL};
static const char *const SIMPLE_KEYS[] = {"PrimaryKey", "ProvisionedThroughput", "TableName",
                                          "Tags", "SSESpecification",
                                          "PointInTimeRecoverySpecification", NULL};
/* members dropped from the request (not emulated) */
static const char *const IGNORED[] = {"SSESpecification", "Tags", "TimeToLiveSpecification",
    "PointInTimeRecoverySpecification", "ContributorInsightsSpecification",
    "KinesisStreamSpecification", "TableClass", "ImportSourceSpecification", "ResourcePolicy",
    "OnDemandThroughput", "WarmThroughput", "TableName", NULL};
static const char *const NUMBERS[] = {"ReadCapacityUnits", "WriteCapacityUnits", NULL};
static const char *const BOOLEANS[] = {"DeletionProtectionEnabled", "StreamEnabled", NULL};

static int is_table_type(const char *type)
{
    return type && (!strcmp(type, "AWS::DynamoDB::Table") ||
                    !strcmp(type, "AWS::Serverless::SimpleTable"));
}

/* A YAML value (intrinsics resolved) as JSON: mappings, sequences, and
 * scalars as strings, numbers or booleans where the request has them. */
static json_t *to_json(ctx *c, yaml_node_t *n, const char *key, int depth)
{
    n = sam__pick(c, n);
    if (!n)
        return NULL;
    if (depth > 8) {
        sam__fail(c, n, key, "nested too deeply");
        return NULL;
    }
    const char *in;
    yaml_node_t *arg;
    in = sam__intrinsic(c, n, &arg);
    if (n->type == YAML_MAPPING_NODE && !in) {
        json_t *o = json_object();
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; o && p < n->data.mapping.pairs.top;
             p++) {
            const char *k = sam__sval(sam__node(c, p->key));
            if (!k) {
                sam__fail(c, n, key, "bad key");
                return json_decref(o), NULL;
            }
            if (sam__in_list(k, IGNORED) && depth == 0)
                continue;
            yaml_node_t *v = sam__pick(c, sam__node(c, p->value));
            if (!v)
                continue;
            json_t *j = to_json(c, v, k, depth + 1);
            if (!j || json_object_set_new(o, k, j))
                return json_decref(o), NULL;
        }
        return o;
    }
    if (n->type == YAML_SEQUENCE_NODE && (!in || !strcmp(in, "Join") || !strcmp(in, "Sub"))) {
        if (in)
            goto scalar;
        json_t *a = json_array();
        for (yaml_node_item_t *it = n->data.sequence.items.start; a && it < n->data.sequence.items.top;
             it++) {
            yaml_node_t *v = sam__pick(c, sam__node(c, *it));
            if (!v)
                continue;
            json_t *j = to_json(c, v, key, depth + 1);
            if (!j || json_array_append_new(a, j))
                return json_decref(a), NULL;
        }
        return a;
    }
scalar:;
    char s[1024];
    if (sam__scalar(c, n, key, s, sizeof s))
        return NULL;
    if (sam__in_list(key, NUMBERS)) {
        int v;
        if (sam__integer(c, n, key, 0, 2000000000, &v))
            return NULL;
        return json_integer(v);
    }
    if (sam__in_list(key, BOOLEANS)) {
        int b;
        if (sam__boolean(c, n, key, &b))
            return NULL;
        return json_boolean(b);
    }
    return json_string(s);
}

/* The physical name: TableName, else the logical id. */
static int table_name(ctx *c, yaml_node_t *kn, yaml_node_t *res, char *out, size_t cap)
{
    static _Thread_local int depth;
    yaml_node_t *tn = sam__map_get(c, sam__map_get(c, res, "Properties"), "TableName");
    if (!tn)
        return sam__copy(c, kn, "TableName", out, cap, sam__sval(kn), strlen(sam__sval(kn)));
    if (depth >= MAX_REF_DEPTH)
        return sam__fail(c, tn, "TableName", "refers to itself");
    depth++;
    int rc = sam__scalar(c, tn, "TableName", out, cap);
    depth--;
    return rc;
}

int sam__table_ref(ctx *c, const yaml_node_t *at, const char *key, const char *name,
                   const char *attr, char *out, size_t cap)
{
    yaml_node_t *res = NULL, *kn = NULL;
    for (yaml_node_pair_t *p = c->resources ? c->resources->data.mapping.pairs.start : NULL;
         p && p < c->resources->data.mapping.pairs.top; p++) {
        const char *id = sam__sval(sam__node(c, p->key));
        if (id && !strcmp(id, name)) {
            kn = sam__node(c, p->key);
            res = sam__node(c, p->value);
        }
    }
    if (!res || !is_table_type(sam__sval(sam__map_get(c, res, "Type"))))
        return 0;
    char tn[SAM_STR], s[2 * SAM_STR];
    if (table_name(c, kn, res, tn, sizeof tn))
        return -1;
    if (!attr)
        return sam__copy(c, at, key, out, cap, tn, strlen(tn)) ? -1 : 1;
    if (!strcmp(attr, "Arn"))
        snprintf(s, sizeof s, "arn:aws:dynamodb:us-east-1:123456789012:table/%s", tn);
    else if (!strcmp(attr, "StreamArn"))
        snprintf(s, sizeof s, "arn:aws:dynamodb:us-east-1:123456789012:table/%s/stream/"
                 "1970-01-01T00:00:00.000", tn);
    else
        return sam__fail(c, at, key, "!GetAtt %s.%s: a table has Arn and StreamArn", name, attr);
    return sam__copy(c, at, key, out, cap, s, strlen(s)) ? -1 : 1;
}

/* A SimpleTable's request. */
static json_t *simple_table(ctx *c, yaml_node_t *kn, yaml_node_t *props, yaml_node_t *globals)
{
    const char *where = sam__sval(kn);
    char pk[SAM_STR] = "id", type[32] = "String";
    yaml_node_t *n, *tp = NULL;
    for (int g = 0; g < 2; g++) {
        yaml_node_t *src = g ? props : globals;
        if (!src)
            continue;
        if (sam__check_keys(c, src, g ? where : "Globals.SimpleTable", SIMPLE_KEYS))
            return NULL;
        if ((n = sam__map_get(c, src, "PrimaryKey"))) {
            static const char *const PK[] = {"Name", "Type", NULL};
            yaml_node_t *nm = sam__map_get(c, n, "Name"), *ty = sam__map_get(c, n, "Type");
            if (sam__check_keys(c, n, "PrimaryKey", PK))
                return NULL;
            if (!nm || !ty) {
                sam__fail(c, n, "PrimaryKey", "Name and Type are both required");
                return NULL;
            }
            if (sam__scalar(c, nm, "Name", pk, sizeof pk) ||
                sam__scalar(c, ty, "Type", type, sizeof type))
                return NULL;
            if (strcmp(type, "String") && strcmp(type, "Number") && strcmp(type, "Binary")) {
                sam__fail(c, ty, "Type", "'%s' is not String, Number or Binary", type);
                return NULL;
            }
        }
        if ((n = sam__map_get(c, src, "ProvisionedThroughput")))
            tp = n;
    }
    json_t *req = json_pack("{s:[{s:s,s:s}],s:[{s:s,s:s}]}", "AttributeDefinitions",
                            "AttributeName", pk, "AttributeType",
                            !strcmp(type, "String") ? "S" : !strcmp(type, "Number") ? "N" : "B",
                            "KeySchema", "AttributeName", pk, "KeyType", "HASH");
    if (!req)
        return NULL;
    if (tp) {
        json_t *j = to_json(c, tp, "ProvisionedThroughput", 1);
        if (!j || json_object_set_new(req, "ProvisionedThroughput", j))
            return json_decref(req), NULL;
    } else {
        json_object_set_new(req, "BillingMode", json_string("PAY_PER_REQUEST"));
    }
    return req;
}

int sam__table_resource(ctx *c, const char *type, yaml_node_t *kn, yaml_node_t *res, int pass)
{
    (void)pass;
    if (!is_table_type(type))
        return 0;
    const char *name = sam__sval(kn);
    if (c->t->n_tables == SAM_MAX_TABLES)
        return sam__fail(c, kn, name, "too many tables (at most %d)", SAM_MAX_TABLES);
    sam_table *t = &c->t->tables[c->t->n_tables];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->line = (int)kn->start_mark.line + 1;
    yaml_node_t *props = sam__map_get(c, res, "Properties");
    json_t *req;
    if (!strcmp(type, "AWS::Serverless::SimpleTable")) {
        yaml_node_t *globals = sam__map_get(c, yaml_document_get_root_node(&c->doc), "Globals");
        req = simple_table(c, kn, props, sam__map_get(c, globals, "SimpleTable"));
    } else {
        if (!props)
            return sam__fail(c, kn, name, "Properties are required (KeySchema, "
                             "AttributeDefinitions)");
        if (sam__check_keys(c, props, name, TABLE_KEYS))
            return -1;
        req = to_json(c, props, name, 0);
        json_t *ss = req ? json_object_get(req, "StreamSpecification") : NULL;
        if (ss && json_is_object(ss) && !json_object_get(ss, "StreamEnabled"))
            json_object_set_new(ss, "StreamEnabled", json_true());
    }
    if (!req)
        return -1;
    if (table_name(c, kn, res, t->table_name, sizeof t->table_name)) {
        json_decref(req);
        return -1;
    }
    json_object_set_new(req, "TableName", json_string(t->table_name));
    char *s = json_dumps(req, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(req);
    if (!s)
        return sam__fail(c, kn, name, "out of memory");
    size_t n = strlen(s);
    int rc = n < sizeof t->create ? 0 : sam__fail(c, kn, name, "table definition too large");
    if (!rc) {
        memcpy(t->create, s, n + 1);
        for (size_t i = 0; i < c->t->n_tables; i++)
            if (!strcmp(c->t->tables[i].table_name, t->table_name))
                rc = sam__fail(c, kn, name, "table name %s is used by %s too", t->table_name,
                               c->t->tables[i].name);
    }
    free(s);
    if (!rc)
        c->t->n_tables++;
    return rc;
}
