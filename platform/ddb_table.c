/*
 * Table definitions: a CreateTable request read and checked as the
 * service checks it (spec §2.1: shapes, "N validation errors detected"
 * constraints, then the key schema, attribute definitions and indexes,
 * with the service's texts where dynalite recorded them), the definition
 * as the JSON the catalog stores (read back through the same path), and
 * the TableDescription a response carries.  Pure functions: thread safe.
 */
#include "ddb_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const ATTR_TYPES[] = {"B", "N", "S", NULL};
static const char *const KEY_TYPES[] = {"HASH", "RANGE", NULL};
static const char *const PROJ_TYPES[] = {"ALL", "INCLUDE", "KEYS_ONLY", NULL};
static const char *const BILLING[] = {"PROVISIONED", "PAY_PER_REQUEST", NULL};

/* A KeySchema list: shapes into names/types (at most 2 kept, count in *n). */
typedef struct kschema {
    size_t n;
    const char *name[2], *type[2];
    size_t nl[2];
    json_t *list;
} kschema;

static int read_schema(ddb_err *e, json_t *o, kschema *ks)
{
    size_t i;
    json_t *x;
    memset(ks, 0, sizeof *ks);
    if (ddb_rq_list(e, o, "KeySchema", &ks->list) < 0)
        return -1;
    json_array_foreach(ks->list, i, x) {
        const char *name = NULL, *type = NULL;
        size_t nl = 0;
        if (ddb_rq_elem(e, x, "KeySchemaElement") || ddb_rq_str(e, x, "AttributeName", &name,
                                                                 &nl) < 0 ||
            ddb_rq_str(e, x, "KeyType", &type, NULL) < 0)
            return -1;
        if (i < 2) {
            ks->name[i] = name;
            ks->nl[i] = nl;
            ks->type[i] = type;
        }
        ks->n++;
    }
    return 0;
}

static void check_schema(ddb_vlist *v, const kschema *ks, const char *where, int enum_check)
{
    char w[300], sz[32];
    if (!ks->list) {
        ddb_vl_add(v, NULL, where, "Member must not be null");
        return;
    }
    snprintf(sz, sizeof sz, "%zu", ks->n);
    if (ks->n < 1)
        ddb_vl_add(v, "[]", where, "Member must have length greater than or equal to 1");
    if (ks->n > 2)
        ddb_vl_add(v, sz, where, "Member must have length less than or equal to 2");
    for (size_t i = 0; i < ks->n && i < 2; i++) {
        snprintf(w, sizeof w, "%s.%zu.member.attributeName", where, i + 1);
        if (!ks->name[i])
            ddb_vl_add(v, NULL, w, "Member must not be null");
        snprintf(w, sizeof w, "%s.%zu.member.keyType", where, i + 1);
        if (!ks->type[i])
            ddb_vl_add(v, NULL, w, "Member must not be null");
        else if (enum_check)
            ddb_vl_enum(v, ks->type[i], w, KEY_TYPES);
    }
}

/* A ProvisionedThroughput structure. */
typedef struct thru {
    int present, has_r, has_w;
    long long r, w;
} thru;

static int read_thru(ddb_err *e, json_t *o, thru *t)
{
    json_t *pt;
    memset(t, 0, sizeof *t);
    int rc = ddb_rq_struct(e, o, "ProvisionedThroughput", "ProvisionedThroughput", &pt);
    if (rc <= 0)
        return rc;
    t->present = 1;
    if ((t->has_w = ddb_rq_int(e, pt, "WriteCapacityUnits", "Long", &t->w)) < 0 ||
        (t->has_r = ddb_rq_int(e, pt, "ReadCapacityUnits", "Long", &t->r)) < 0)
        return -1;
    return 0;
}

static void check_thru(ddb_vlist *v, const thru *t, const char *where)
{
    char w[300];
    if (!t->present)
        return;
    snprintf(w, sizeof w, "%s.writeCapacityUnits", where);
    if (!t->has_w)
        ddb_vl_add(v, NULL, w, "Member must not be null");
    ddb_vl_range(v, t->has_w, t->w, w, 1, 1LL << 62);
    snprintf(w, sizeof w, "%s.readCapacityUnits", where);
    if (!t->has_r)
        ddb_vl_add(v, NULL, w, "Member must not be null");
    ddb_vl_range(v, t->has_r, t->r, w, 1, 1LL << 62);
}

typedef struct rindex {
    const char *name;
    size_t nl;
    kschema ks;
    int has_proj;
    const char *ptype;
    json_t *nonkey;
    thru th;
} rindex;

static int read_indexes(ddb_err *e, json_t *o, const char *member, const char *cls,
                        rindex *out, size_t *n, json_t **list)
{
    size_t i;
    json_t *x, *proj;
    *n = 0;
    *list = NULL;
    if (ddb_rq_list(e, o, member, list) < 0)
        return -1;
    json_array_foreach(*list, i, x) {
        rindex r = {0};
        if (ddb_rq_elem(e, x, cls) || ddb_rq_str(e, x, "IndexName", &r.name, &r.nl) < 0 ||
            read_schema(e, x, &r.ks) || (r.has_proj = ddb_rq_struct(e, x, "Projection",
                                                                    "Projection", &proj)) < 0)
            return -1;
        if (r.has_proj && (ddb_rq_str(e, proj, "ProjectionType", &r.ptype, NULL) < 0 ||
                           ddb_rq_strings(e, proj, "NonKeyAttributes", &r.nonkey) < 0))
            return -1;
        if (read_thru(e, x, &r.th) < 0)
            return -1;
        if (*n < DDB_MAX_INDEXES + 1)
            out[(*n)++] = r;
    }
    return 0;
}

static void check_indexes(ddb_vlist *v, const rindex *ix, size_t n, const char *where)
{
    char w[300];
    for (size_t i = 0; i < n; i++) {
        snprintf(w, sizeof w, "%s.%zu.member.indexName", where, i + 1);
        ddb_vl_name(v, ix[i].name, ix[i].nl, w, 1);
        snprintf(w, sizeof w, "%s.%zu.member.keySchema", where, i + 1);
        check_schema(v, &ix[i].ks, w, 0);
        snprintf(w, sizeof w, "%s.%zu.member.projection", where, i + 1);
        if (!ix[i].has_proj)
            ddb_vl_add(v, NULL, w, "Member must not be null");
        snprintf(w, sizeof w, "%s.%zu.member.projection.projectionType", where, i + 1);
        ddb_vl_enum(v, ix[i].ptype, w, PROJ_TYPES);
        snprintf(w, sizeof w, "%s.%zu.member.projection.nonKeyAttributes", where, i + 1);
        if (ix[i].nonkey && !json_array_size(ix[i].nonkey))
            ddb_vl_add(v, "[]", w, "Member must have length greater than or equal to 1");
        snprintf(w, sizeof w, "%s.%zu.member.provisionedThroughput", where, i + 1);
        check_thru(v, &ix[i].th, w);
    }
}

static ddb_type type_of_def(const ddb_table *t, const char *name, size_t nl)
{
    for (size_t i = 0; i < t->n_defs; i++)
        if (strlen(t->defs[i].name) == nl && !memcmp(t->defs[i].name, name, nl))
            return t->defs[i].type;
    return DDB_NONE;
}

static void list_names(const kschema *ks, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < ks->n && i < 2 && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%.*s", i ? ", " : "", (int)ks->nl[i],
                              ks->name[i] ? ks->name[i] : "null");
}

/* The key schema of the table or of an index, checked (custom rules). */
static int key_schema(ddb_err *e, const ddb_table *t, const kschema *ks, const char *defs,
                      ddb_key *hash, ddb_key *range)
{
    char keys[600];
    list_names(ks, keys, sizeof keys);
    for (size_t i = 0; i < ks->n; i++)
        if (!type_of_def(t, ks->name[i], ks->nl[i]))
            return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: Some "
                            "index key attributes are not defined in AttributeDefinitions. Keys: "
                            "[%s], AttributeDefinitions: [%s]", keys, defs);
    if (ks->n == 2 && ks->nl[0] == ks->nl[1] && !memcmp(ks->name[0], ks->name[1], ks->nl[0]))
        return ddb_fail(e, DDB_EVALIDATION, "Both the Hash Key and the Range Key element in the "
                        "KeySchema have the same name");
    if (strcmp(ks->type[0], "HASH"))
        return ddb_fail(e, DDB_EVALIDATION, "Invalid KeySchema: The first KeySchemaElement is not "
                        "a HASH key type");
    if (ks->n == 2 && strcmp(ks->type[1], "RANGE"))
        return ddb_fail(e, DDB_EVALIDATION, "Invalid KeySchema: The second KeySchemaElement is "
                        "not a RANGE key type");
    if (ks->nl[0] > DDB_MAX_NAME || (ks->n == 2 && ks->nl[1] > DDB_MAX_NAME))
        return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: Key "
                        "attribute names must be at most 255 bytes");
    memset(hash, 0, sizeof *hash);
    memset(range, 0, sizeof *range);
    memcpy(hash->name, ks->name[0], ks->nl[0]);
    hash->type = type_of_def(t, ks->name[0], ks->nl[0]);
    if (ks->n == 2) {
        memcpy(range->name, ks->name[1], ks->nl[1]);
        range->type = type_of_def(t, ks->name[1], ks->nl[1]);
    }
    return 0;
}

static int index_of(ddb_err *e, ddb_table *t, const rindex *r, int local, const char *defs,
                    int ppr)
{
    ddb_index *ix = &t->idx[t->n_indexes];
    memset(ix, 0, sizeof *ix);
    if (key_schema(e, t, &r->ks, defs, &ix->hash, &ix->range))
        return -1;
    memcpy(ix->name, r->name, r->nl);
    ix->local = local;
    if (local && !ix->range.name[0])
        return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: Index "
                        "KeySchema does not have a range key for index: %s", ix->name);
    if (local && strcmp(ix->hash.name, t->hash.name))
        return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: Index "
                        "KeySchema does not have the same leading hash key as table KeySchema for "
                        "index: %s. index hash key: %s, table hash key: %s", ix->name,
                        ix->hash.name, t->hash.name);
    if (!r->ptype)
        return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: Unknown "
                        "ProjectionType: null");
    ix->proj = !strcmp(r->ptype, "ALL") ? DDB_P_ALL : !strcmp(r->ptype, "KEYS_ONLY")
               ? DDB_P_KEYS_ONLY : DDB_P_INCLUDE;
    if (r->nonkey && ix->proj != DDB_P_INCLUDE)
        return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: "
                        "ProjectionType is %s, but NonKeyAttributes is specified", r->ptype);
    if (!local && ppr && r->th.present)
        return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: "
                        "ProvisionedThroughput should not be specified for index: %s when "
                        "BillingMode is PAY_PER_REQUEST", ix->name);
    if (!local && !ppr && !r->th.present)
        return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: "
                        "ProvisionedThroughput must be specified for index: %s", ix->name);
    ix->rcu = r->th.r;
    ix->wcu = r->th.w;
    for (size_t i = 0; i < t->n_indexes; i++)
        if (!strcmp(t->idx[i].name, ix->name))
            return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: "
                            "Duplicate index name: %s", ix->name);
    size_t nk = r->nonkey ? json_array_size(r->nonkey) : 0;
    if (nk) {
        if (!(ix->nonkey = calloc(nk, sizeof *ix->nonkey)))
            return ddb_fail(e, DDB_EINTERNAL, "out of memory");
        for (size_t i = 0; i < nk; i++) {
            json_t *s = json_array_get(r->nonkey, i);
            snprintf(ix->nonkey[i], sizeof ix->nonkey[i], "%s",
                     json_string_value(s) ? json_string_value(s) : "");
        }
        ix->n_nonkey = nk;
    }
    t->n_indexes++;
    return 0;
}

static void write_def(jw *w, const ddb_table *t);

int ddb_table_from_json(json_t *req, ddb_table *t, ddb_err *e)
{
    json_t *defs = NULL, *lsi_list, *gsi_list, *stream = NULL, *x;
    const char *name = NULL, *billing = NULL, *view = NULL;
    size_t nl = 0, i;
    kschema ks;
    thru th;
    rindex lsi[DDB_MAX_INDEXES + 1], gsi[DDB_MAX_INDEXES + 1];
    size_t n_lsi, n_gsi;
    int stream_on = 0, has_stream_on = 0, protect = 0;
    struct { const char *name, *type; size_t nl; } dl[DDB_MAX_ATTRDEFS + 1];
    size_t n_dl = 0;
    memset(t, 0, sizeof *t);
    /* shapes (SerializationException) */
    if (ddb_rq_list(e, req, "AttributeDefinitions", &defs) < 0)
        return e->code;
    json_array_foreach(defs, i, x) {
        const char *an = NULL, *at = NULL;
        size_t al = 0;
        if (ddb_rq_elem(e, x, "AttributeDefinition") ||
            ddb_rq_str(e, x, "AttributeName", &an, &al) < 0 ||
            ddb_rq_str(e, x, "AttributeType", &at, NULL) < 0)
            return e->code;
        if (n_dl < DDB_MAX_ATTRDEFS + 1) {
            dl[n_dl].name = an;
            dl[n_dl].nl = al;
            dl[n_dl++].type = at;
        }
    }
    if (ddb_rq_str(e, req, "TableName", &name, &nl) < 0 ||
        ddb_rq_str(e, req, "BillingMode", &billing, NULL) < 0 || read_thru(e, req, &th) < 0 ||
        read_schema(e, req, &ks) ||
        read_indexes(e, req, "LocalSecondaryIndexes", "LocalSecondaryIndex", lsi, &n_lsi,
                     &lsi_list) ||
        read_indexes(e, req, "GlobalSecondaryIndexes", "GlobalSecondaryIndex", gsi, &n_gsi,
                     &gsi_list) ||
        ddb_rq_struct(e, req, "StreamSpecification", "StreamSpecification", &stream) < 0 ||
        (stream && ((has_stream_on = ddb_rq_bool(e, stream, "StreamEnabled", &stream_on)) < 0 ||
                    ddb_rq_str(e, stream, "StreamViewType", &view, NULL) < 0)) ||
        ddb_rq_bool(e, req, "DeletionProtectionEnabled", &protect) < 0)
        return e->code;
    /* constraints */
    ddb_vlist v = {0};
    char w[200];
    if (!defs)
        ddb_vl_add(&v, NULL, "attributeDefinitions", "Member must not be null");
    for (i = 0; i < n_dl; i++) {
        snprintf(w, sizeof w, "attributeDefinitions.%zu.member.attributeName", i + 1);
        if (!dl[i].name)
            ddb_vl_add(&v, NULL, w, "Member must not be null");
        snprintf(w, sizeof w, "attributeDefinitions.%zu.member.attributeType", i + 1);
        if (!dl[i].type)
            ddb_vl_add(&v, NULL, w, "Member must not be null");
        ddb_vl_enum(&v, dl[i].type, w, ATTR_TYPES);
    }
    ddb_vl_name(&v, name, nl, "tableName", 1);
    ddb_vl_enum(&v, billing, "billingMode", BILLING);
    check_thru(&v, &th, "provisionedThroughput");
    check_schema(&v, &ks, "keySchema", 1);
    check_indexes(&v, lsi, n_lsi, "localSecondaryIndexes");
    check_indexes(&v, gsi, n_gsi, "globalSecondaryIndexes");
    if (ddb_vl_done(e, &v))
        return e->code;
    /* the rules between members */
    int ppr = billing && !strcmp(billing, "PAY_PER_REQUEST");
    if (ppr && th.present)
        return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: Neither "
                        "ReadCapacityUnits nor WriteCapacityUnits can be specified when "
                        "BillingMode is PAY_PER_REQUEST");
    if (!ppr && (!th.present || !th.has_r || !th.has_w))
        return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: "
                        "ReadCapacityUnits and WriteCapacityUnits must both be specified when "
                        "BillingMode is PROVISIONED");
    if (n_dl > DDB_MAX_ATTRDEFS)
        return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: Too many "
                        "AttributeDefinitions");
    memcpy(t->name, name, nl);
    char dnames[1200] = "";
    for (i = 0; i < n_dl; i++) {
        if (dl[i].nl > DDB_MAX_NAME)
            return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: Key "
                            "attribute names must be at most 255 bytes");
        for (size_t j = 0; j < i; j++)
            if (dl[j].nl == dl[i].nl && !memcmp(dl[j].name, dl[i].name, dl[i].nl))
                return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: "
                                "Duplicate AttributeName in AttributeDefinitions: %s", dl[i].name);
        memcpy(t->defs[i].name, dl[i].name, dl[i].nl);
        t->defs[i].type = ddb_type_of(dl[i].type, strlen(dl[i].type));
        snprintf(dnames + strlen(dnames), sizeof dnames - strlen(dnames), "%s%s", i ? ", " : "",
                 t->defs[i].name);
    }
    t->n_defs = n_dl;
    char keys[600];
    list_names(&ks, keys, sizeof keys);
    if (ks.n > n_dl)
        return ddb_fail(e, DDB_EVALIDATION, "Invalid KeySchema: Some index key attribute have no "
                        "definition");
    if (key_schema(e, t, &ks, dnames, &t->hash, &t->range))
        return e->code;
    t->pay_per_request = ppr;
    t->rcu = th.r;
    t->wcu = th.w;
    if (lsi_list && !n_lsi)
        return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: List of "
                        "LocalSecondaryIndexes is empty");
    if (n_lsi && !t->range.name[0])
        return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: Table "
                        "KeySchema does not have a range key, which is required when specifying a "
                        "LocalSecondaryIndex");
    if (gsi_list && !n_gsi)
        return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: List of "
                        "GlobalSecondaryIndexes is empty");
    if (n_gsi > 20)
        return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: "
                        "GlobalSecondaryIndex count exceeds the per-table limit of 20");
    if (n_lsi > 5)
        return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: Number of "
                        "LocalSecondaryIndexes exceeds per-table limit of 5");
    for (i = 0; i < n_gsi; i++)
        if (index_of(e, t, &gsi[i], 0, dnames, ppr))
            return ddb_table_fini(t), e->code;
    for (i = 0; i < n_lsi; i++)
        if (index_of(e, t, &lsi[i], 1, dnames, ppr))
            return ddb_table_fini(t), e->code;
    /* every definition is some key */
    char used[1200] = "";
    size_t n_used = 0;
    for (i = 0; i < n_dl; i++) {
        int is = ddb_is_key(t, NULL, t->defs[i].name, strlen(t->defs[i].name));
        for (size_t k = 0; !is && k < t->n_indexes; k++)
            is = ddb_is_key(t, &t->idx[k], t->defs[i].name, strlen(t->defs[i].name));
        if (is)
            n_used++;
    }
    if (n_used != n_dl) {
        ddb_table_fini(t);
        if (!n_lsi && !n_gsi)
            return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: Number "
                            "of attributes in KeySchema does not exactly match number of attributes "
                            "defined in AttributeDefinitions");
        snprintf(used, sizeof used, "%s", keys);
        return ddb_fail(e, DDB_EVALIDATION, "One or more parameter values were invalid: Some "
                        "AttributeDefinitions are not used. AttributeDefinitions: [%s], keys used: "
                        "[%s]", dnames, used);
    }
    if (stream) {
        if (has_stream_on <= 0)
            return ddb_table_fini(t), ddb_fail(e, DDB_EVALIDATION, "1 validation error detected: "
                                               "Value null at 'streamSpecification.streamEnabled' "
                                               "failed to satisfy constraint: Member must not be "
                                               "null");
        t->stream = stream_on;
        if (view)
            snprintf(t->stream_view, sizeof t->stream_view, "%s", view);
    }
    t->deletion_protection = protect;
    jw dw;
    jw_init(&dw, 1u << 20);
    write_def(&dw, t);
    if (!(t->def = jw_finish(&dw, NULL))) {
        ddb_table_fini(t);
        return ddb_fail(e, DDB_EINTERNAL, "out of memory");
    }
    return 0;
}

void ddb_table_fini(ddb_table *t)
{
    for (size_t i = 0; i < t->n_indexes; i++) {
        free(t->idx[i].nonkey);
        t->idx[i].nonkey = NULL;
    }
    free(t->def);
    t->def = NULL;
}

const ddb_index *ddb_table_index(const ddb_table *t, const char *n, size_t nl)
{
    for (size_t i = 0; i < t->n_indexes; i++)
        if (strlen(t->idx[i].name) == nl && !memcmp(t->idx[i].name, n, nl))
            return &t->idx[i];
    return NULL;
}

static int key_is(const ddb_key *k, const char *name, size_t nl)
{
    return k->name[0] && strlen(k->name) == nl && !memcmp(k->name, name, nl);
}

int ddb_is_key(const ddb_table *t, const ddb_index *ix, const char *name, size_t nl)
{
    if (ix)
        return key_is(&ix->hash, name, nl) || key_is(&ix->range, name, nl);
    return key_is(&t->hash, name, nl) || key_is(&t->range, name, nl);
}

void ddb_table_arn(const ddb_table *t, char *out, size_t cap)
{
    snprintf(out, cap, "arn:aws:dynamodb:us-east-1:123456789012:table/%s", t->name);
}

/* ---- JSON out ---- */

static void write_key_schema(jw *w, const ddb_key *h, const ddb_key *r)
{
    jw_lit(w, "[{\"AttributeName\":");
    jw_str(w, h->name, strlen(h->name));
    jw_lit(w, ",\"KeyType\":\"HASH\"}");
    if (r->name[0]) {
        jw_lit(w, ",{\"AttributeName\":");
        jw_str(w, r->name, strlen(r->name));
        jw_lit(w, ",\"KeyType\":\"RANGE\"}");
    }
    jw_lit(w, "]");
}

static void write_projection(jw *w, const ddb_index *ix)
{
    static const char *const N[] = {"ALL", "KEYS_ONLY", "INCLUDE"};
    jw_lit(w, "{\"ProjectionType\":\"");
    jw_raw(w, N[ix->proj], strlen(N[ix->proj]));
    jw_lit(w, "\"");
    if (ix->n_nonkey) {
        jw_lit(w, ",\"NonKeyAttributes\":[");
        for (size_t i = 0; i < ix->n_nonkey; i++) {
            if (i)
                jw_lit(w, ",");
            jw_str(w, ix->nonkey[i], strlen(ix->nonkey[i]));
        }
        jw_lit(w, "]");
    }
    jw_lit(w, "}");
}

static void write_num(jw *w, long long v)
{
    jw_int(w, v);
}

static void write_attr_defs(jw *w, const ddb_table *t)
{
    jw_lit(w, "[");
    for (size_t i = 0; i < t->n_defs; i++) {
        if (i)
            jw_lit(w, ",");
        jw_lit(w, "{\"AttributeName\":");
        jw_str(w, t->defs[i].name, strlen(t->defs[i].name));
        jw_lit(w, ",\"AttributeType\":\"");
        jw_raw(w, ddb_type_name(t->defs[i].type), 1);
        jw_lit(w, "\"}");
    }
    jw_lit(w, "]");
}

/* A ProvisionedThroughput object; described: as DescribeTable has it. */
static void write_throughput(jw *w, long long r, long long wc, int described)
{
    if (described)
        jw_lit(w, "{\"NumberOfDecreasesToday\":0,\"ReadCapacityUnits\":");
    else
        jw_lit(w, "{\"ReadCapacityUnits\":");
    write_num(w, r);
    jw_lit(w, ",\"WriteCapacityUnits\":");
    write_num(w, wc);
    jw_lit(w, "}");
}

/* ",\"GlobalSecondaryIndexes\":[" or the local one, before the first index
 * of its kind, else ","; then the index's name, key schema and projection. */
static void write_index_head(jw *w, const ddb_index *ix, int first)
{
    if (first && ix->local)
        jw_lit(w, ",\"LocalSecondaryIndexes\":[");
    else if (first)
        jw_lit(w, ",\"GlobalSecondaryIndexes\":[");
    else
        jw_lit(w, ",");
    jw_lit(w, "{\"IndexName\":");
    jw_str(w, ix->name, strlen(ix->name));
    jw_lit(w, ",\"KeySchema\":");
    write_key_schema(w, &ix->hash, &ix->range);
    jw_lit(w, ",\"Projection\":");
    write_projection(w, ix);
}

/* The GlobalSecondaryIndexes then LocalSecondaryIndexes arrays (those that
 * are not empty): as stored when arn is NULL, else as DescribeTable has them,
 * with the counts (NULL: 0). */
static void write_indexes(jw *w, const ddb_table *t, const char *arn, const long long *ix_items,
                          const long long *ix_bytes)
{
    for (int local = 0; local < 2; local++) {
        int first = 1;
        for (size_t i = 0; i < t->n_indexes; i++) {
            const ddb_index *ix = &t->idx[i];
            if (ix->local != local)
                continue;
            write_index_head(w, ix, first);
            first = 0;
            if (arn && !local)
                jw_lit(w, ",\"IndexStatus\":\"ACTIVE\"");
            if (!local && !t->pay_per_request) {
                jw_lit(w, ",\"ProvisionedThroughput\":");
                write_throughput(w, ix->rcu, ix->wcu, arn != NULL);
            }
            if (arn) {
                jw_lit(w, ",\"IndexSizeBytes\":");
                write_num(w, ix_bytes ? ix_bytes[i] : 0);
                jw_lit(w, ",\"ItemCount\":");
                write_num(w, ix_items ? ix_items[i] : 0);
                char iarn[700];
                snprintf(iarn, sizeof iarn, "%s/index/%s", arn, ix->name);
                jw_lit(w, ",\"IndexArn\":");
                jw_str(w, iarn, strlen(iarn));
            }
            jw_lit(w, "}");
        }
        if (!first)
            jw_lit(w, "]");
    }
}

/* The definition as a CreateTable request (what the catalog stores). */
static void write_def(jw *w, const ddb_table *t)
{
    jw_lit(w, "{\"TableName\":");
    jw_str(w, t->name, strlen(t->name));
    jw_lit(w, ",\"AttributeDefinitions\":");
    write_attr_defs(w, t);
    jw_lit(w, ",\"KeySchema\":");
    write_key_schema(w, &t->hash, &t->range);
    if (t->pay_per_request) {
        jw_lit(w, ",\"BillingMode\":\"PAY_PER_REQUEST\"");
    } else {
        jw_lit(w, ",\"ProvisionedThroughput\":");
        write_throughput(w, t->rcu, t->wcu, 0);
    }
    write_indexes(w, t, NULL, NULL, NULL);
    if (t->stream || t->stream_view[0]) {
        jw_lit(w, ",\"StreamSpecification\":{\"StreamEnabled\":");
        if (t->stream)
            jw_lit(w, "true");
        else
            jw_lit(w, "false");
        if (t->stream_view[0]) {
            jw_lit(w, ",\"StreamViewType\":");
            jw_str(w, t->stream_view, strlen(t->stream_view));
        }
        jw_lit(w, "}");
    }
    if (t->deletion_protection)
        jw_lit(w, ",\"DeletionProtectionEnabled\":true");
    jw_lit(w, "}");
}

static void write_time(jw *w, double t)
{
    char b[48];
    int n = snprintf(b, sizeof b, "%.3f", t);
    jw_raw(w, b, (size_t)n);
}

void ddb_table_describe(jw *w, const ddb_table *t, const char *status, long long items,
                        long long bytes, const long long *ix_items, const long long *ix_bytes)
{
    char arn[400];
    ddb_table_arn(t, arn, sizeof arn);
    jw_lit(w, "{\"AttributeDefinitions\":");
    write_attr_defs(w, t);
    jw_lit(w, ",\"TableName\":");
    jw_str(w, t->name, strlen(t->name));
    jw_lit(w, ",\"KeySchema\":");
    write_key_schema(w, &t->hash, &t->range);
    jw_lit(w, ",\"TableStatus\":\"");
    jw_raw(w, status, strlen(status));
    jw_lit(w, "\",\"CreationDateTime\":");
    write_time(w, t->created);
    jw_lit(w, ",\"ProvisionedThroughput\":");
    write_throughput(w, t->rcu, t->wcu, 1);
    jw_lit(w, ",\"TableSizeBytes\":");
    write_num(w, bytes);
    jw_lit(w, ",\"ItemCount\":");
    write_num(w, items);
    jw_lit(w, ",\"TableArn\":");
    jw_str(w, arn, strlen(arn));
    /* a stable id from the name and creation time, in the UUID form */
    unsigned char h1[8], h2[8];
    char seed[300], id[40];
    int sl = snprintf(seed, sizeof seed, "%s/%.3f", t->name, t->created);
    ddb_key_hash((const unsigned char *)seed, (size_t)sl, h1);
    ddb_key_hash(h1, 8, h2);
    snprintf(id, sizeof id, "%02x%02x%02x%02x-%02x%02x-4%x%02x-a%x%02x-%02x%02x%02x%02x%02x%02x",
             h1[0], h1[1], h1[2], h1[3], h1[4], h1[5], h1[6] & 15, h1[7], h2[0] & 15, h2[1],
             h2[2], h2[3], h2[4], h2[5], h2[6], h2[7]);
    jw_lit(w, ",\"TableId\":\"");
    jw_raw(w, id, strlen(id));
    jw_lit(w, "\"");
    if (t->pay_per_request) {
        jw_lit(w, ",\"BillingModeSummary\":{\"BillingMode\":\"PAY_PER_REQUEST\","
                  "\"LastUpdateToPayPerRequestDateTime\":");
        write_time(w, t->created);
        jw_lit(w, "}");
    }
    write_indexes(w, t, arn, ix_items, ix_bytes);
    if (t->stream) {
        jw_lit(w, ",\"StreamSpecification\":{\"StreamEnabled\":true");
        if (t->stream_view[0]) {
            jw_lit(w, ",\"StreamViewType\":");
            jw_str(w, t->stream_view, strlen(t->stream_view));
        }
        jw_lit(w, "}");
    }
    jw_lit(w, ",\"DeletionProtectionEnabled\":");
    if (t->deletion_protection)
        jw_lit(w, "true}");
    else
        jw_lit(w, "false}");
}
