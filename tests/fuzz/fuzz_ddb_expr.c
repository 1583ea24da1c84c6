/* libFuzzer target: DynamoDB expressions.  The first byte picks the kind
 * (condition, key condition, filter, projection, update), the rest is the
 * expression; placeholders #n #a #b :v :n :l :ss :m :b are defined.  What
 * parses is then used: a condition is evaluated against an item (and an
 * absent one), a projection applied, an update applied to a copy of the
 * item and the result written out.  Checks: errors are ValidationException
 * texts with the kind's prefix; results are well-formed. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ddb_int.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static ddb_val names, values, item;

static void load(const char *json, ddb_val *out, int strings)
{
    json_error_t je;
    ddb_err e = {0};
    json_t *j = json_loads(json, 0, &je), *o = json_pack("{s:O}", "x", j);
    int rc = strings ? ddb_rq_names(&e, o, "x", out) != 1 : ddb_map_from_json(j, out, &e);
    json_decref(j);
    json_decref(o);
    if (rc)
        abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (!item.type) {
        load("{\"#n\":\"name\",\"#a\":\"a\",\"#b\":\"b.c\"}", &names, 1);
        load("{\":v\":{\"S\":\"x\"},\":n\":{\"N\":\"5\"},\":l\":{\"L\":[{\"N\":\"1\"}]},"
             "\":ss\":{\"SS\":[\"a\",\"b\"]},\":m\":{\"M\":{\"k\":{\"NULL\":true}}},"
             "\":b\":{\"B\":\"AAEC\"}}", &values, 0);
        load("{\"id\":{\"S\":\"i\"},\"a\":{\"N\":\"1\"},\"l\":{\"L\":[{\"N\":\"10\"},{\"M\":"
             "{\"k\":{\"S\":\"v\"}}}]},\"m\":{\"M\":{\"x\":{\"SS\":[\"a\"]},\"y\":{\"L\":[]}}},"
             "\"s\":{\"S\":\"hello\"},\"ns\":{\"NS\":[\"1\",\"2\"]},\"b\":{\"B\":\"AAEC\"}}", &item, 0);
    }
    if (!size)
        return 0;
    ddb_kind k = (ddb_kind)(data[0] % 5);
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    ddb_arena ar = {0};
    ddb_err e = {0};
    ddb_ph ph = {&names, &values, ddb_alloc(&ar, names.n + 1), ddb_alloc(&ar, values.n + 1)};
    if (!ph.names_used || !ph.values_used)
        abort();
    int rc;
    ddb_node *c = NULL;
    ddb_update u;
    ddb_proj p;
    if (k == DDB_X_UPDATE)
        rc = ddb_parse_update(&ar, &ph, text, n, &u, &e);
    else if (k == DDB_X_PROJECTION)
        rc = ddb_parse_projection(&ar, &ph, text, n, &p, &e);
    else
        rc = ddb_parse_condition(&ar, &ph, k, text, n, &c, &e);
    if (rc) {
        const char *kind = ddb_kind_name(k);
        if (rc != DDB_EVALIDATION || strncmp(e.msg, "Invalid ", 8) ||
            strncmp(e.msg + 8, kind, strlen(kind)))
            abort();
        ddb_arena_free(&ar);
        return 0;
    }
    ddb_ph_unused(&ph, &e);
    if (k == DDB_X_UPDATE) {
        ddb_val copy;
        const char **touched;
        size_t nt;
        if (ddb_val_copy(&item, &copy))
            abort();
        if (!ddb_apply_update(&u, &item, &copy, &ar, &touched, &nt, &e)) {
            char *json = ddb_map_json(&copy, NULL);
            ddb_val back;
            if (!json || ddb_map_parse(json, strlen(json), &back))
                abort();
            ddb_val_free(&back);
            free(json);
        } else if (e.code != DDB_EVALIDATION) {
            abort();
        }
        ddb_val_free(&copy);
    } else if (k == DDB_X_PROJECTION) {
        ddb_val out;
        if (ddb_project(&item, &p, &out))
            abort();
        ddb_val_free(&out);
    } else {
        ddb_eval(c, &item);
        ddb_eval(c, NULL);
    }
    ddb_arena_free(&ar);
    return 0;
}
