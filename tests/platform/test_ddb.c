/*
 * The DynamoDB service without HTTP: exact numbers (tests/data/ddb/
 * numbers.cases), AttributeValues and sizes (values.cases), expressions
 * parsed, evaluated, applied and projected (expressions.cases), stored key
 * order against numeric order and the scan hash (which is on disk, so it
 * must never change), and the operations through the service's request
 * path on a fresh store (ops.cases), the store reopened, and template
 * tables kept, redefined and rebuilt.  Runs from the repository root.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ddb.h"
#include "ddb_int.h"

#define MAX_LINE (1u << 16)

/* Splits line at tabs into f (at most max fields); their count. */
static int fields(char *line, char **f, int max)
{
    int n = 0;
    line[strcspn(line, "\n")] = 0;
    while (n < max) {
        f[n++] = line;
        char *t = strchr(line, '\t');
        if (!t)
            break;
        *t = 0;
        line = t + 1;
    }
    return n;
}

static FILE *cases(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "tests/data/ddb/%s", name);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "cannot open %s", path);
    return f;
}

/* ---- numbers ---- */

static void numbers(void)
{
    FILE *f = cases("numbers.cases");
    char *line = malloc(MAX_LINE), *fl[5];
    while (f && fgets(line, MAX_LINE, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        int n = fields(line, fl, 5);
        ddb_dec a, b, r;
        ddb_err e = {0};
        char out[DDB_NUM_TEXT];
        if (!strcmp(fl[0], "parse") && n == 3) {
            int rc = ddb_dec_parse(fl[1], strlen(fl[1]), &a, &e);
            if (fl[2][0] == '!')
                CHECK(rc == DDB_EVALIDATION && !strcmp(e.msg, fl[2] + 1), "parse %s: %d %s", fl[1],
                      rc, e.msg);
            else {
                ddb_dec_format(&a, out);
                CHECK(rc == 0 && !strcmp(out, fl[2]), "parse %s: %s (%s)", fl[1], out, e.msg);
            }
        } else if (!strcmp(fl[0], "size") && n == 3) {
            ddb_dec_parse(fl[1], strlen(fl[1]), &a, &e);
            CHECK(ddb_dec_size(&a) == (size_t)atoi(fl[2]), "size %s: %zu", fl[1], ddb_dec_size(&a));
        } else if (!strcmp(fl[0], "cmp") && n == 4) {
            ddb_dec_parse(fl[1], strlen(fl[1]), &a, &e);
            ddb_dec_parse(fl[2], strlen(fl[2]), &b, &e);
            CHECK(ddb_dec_cmp(&a, &b) == atoi(fl[3]), "cmp %s %s", fl[1], fl[2]);
        } else if ((!strcmp(fl[0], "add") || !strcmp(fl[0], "sub")) && n == 4) {
            ddb_dec_parse(fl[1], strlen(fl[1]), &a, &e);
            ddb_dec_parse(fl[2], strlen(fl[2]), &b, &e);
            int rc = ddb_dec_add(&a, &b, fl[0][0] == 's', &r, &e);
            if (fl[3][0] == '!')
                CHECK(rc && !strcmp(e.msg, fl[3] + 1), "%s %s %s: %s", fl[0], fl[1], fl[2], e.msg);
            else {
                ddb_dec_format(&r, out);
                CHECK(!rc && !strcmp(out, fl[3]), "%s %s %s: %s", fl[0], fl[1], fl[2], out);
            }
        } else {
            CHECK(0, "bad numbers line %s", fl[0]);
        }
    }
    free(line);
    if (f)
        fclose(f);
}

/* ---- values ---- */

static char *written(const ddb_val *v, int map)
{
    jw w;
    jw_init(&w, 1u << 24);
    if (map)
        ddb_map_write(&w, v);
    else
        ddb_val_write(&w, v);
    return jw_finish(&w, NULL);
}

static void values(void)
{
    FILE *f = cases("values.cases");
    char *line = malloc(MAX_LINE), *fl[4];
    while (f && fgets(line, MAX_LINE, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        fields(line, fl, 4);
        json_error_t je;
        json_t *j = json_loads(fl[1], JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        ddb_val v;
        ddb_err e = {0};
        CHECK(j != NULL, "bad JSON %s", fl[1]);
        int rc = j ? ddb_val_from_json(j, &v, &e) : -1;
        json_decref(j);
        if (!strcmp(fl[0], "vsize")) {
            CHECK(rc == 0 && ddb_val_size(&v) == (size_t)atoi(fl[2]), "size %s: %zu", fl[1],
                  rc ? 0 : ddb_val_size(&v));
        } else if (fl[2][0] == '!') {
            char want[2048];
            snprintf(want, sizeof want, "%s: %s", ddb_strerror((ddb_code)e.code), e.msg);
            CHECK(rc && !strcmp(want, fl[2] + 1), "value %s: %s", fl[1], want);
        } else {
            char *out = rc ? NULL : written(&v, 0);
            CHECK(out && !strcmp(out, fl[2]), "value %s: %s (%s)", fl[1], out ? out : "-", e.msg);
            free(out);
        }
        if (!rc)
            ddb_val_free(&v);
    }
    free(line);
    if (f)
        fclose(f);
}

/* ---- expressions ---- */

static const char NAMES[] = "{\"#n\":\"name\",\"#a\":\"a\",\"#dot\":\"x.y\",\"#1star\":\"one\"}";
static const char VALUES[] =
    "{\":v\":{\"S\":\"x\"},\":n\":{\"N\":\"5\"},\":m\":{\"N\":\"9\"},\":s\":{\"S\":\"he\"},"
    "\":l\":{\"L\":[{\"N\":\"10\"}]},\":ss\":{\"SS\":[\"red\",\"blue\"]},\":t\":{\"S\":\"N\"},"
    "\":b\":{\"B\":\"AAEC\"},\":bad\":{\"S\":\"XYZ\"},\":ns\":{\"NS\":[\"1\"]},\":z\":{\"N\":\"0\"},"
    "\":red\":{\"S\":\"red\"},\":one\":{\"N\":\"1\"},\":two\":{\"N\":\"2\"},\":three\":{\"N\":\"3\"},"
    "\":five\":{\"N\":\"5\"},\":ten\":{\"N\":\"10\"},\":half\":{\"N\":\"0.5\"},"
    "\":l2\":{\"L\":[{\"N\":\"10\"},{\"N\":\"20\"}]},\":m2\":{\"M\":{\"y\":{\"M\":{\"z\":{\"BOOL\":"
    "true}}}}},\":nul\":{\"NULL\":true},\":ffff\":{\"S\":\"\\uffff\"},\":bff\":{\"B\":\"/w==\"},"
    "\":n5\":{\"N\":\"5.0\"},\":emo\":{\"S\":\"\\ud83d\\ude00\"},\":ss2\":{\"SS\":[\"green\",\"red\"]},"
    "\":ss3\":{\"SS\":[\"blue\",\"green\",\"red\"]},"
    "\":big\":{\"N\":\"99999999999999999999999999999999999999\"}}";

static int map_of(const char *json, ddb_val *out)
{
    json_error_t je;
    ddb_err e = {0};
    json_t *j = json_loads(json, JSON_ALLOW_NUL, &je);
    int rc = j ? ddb_map_from_json(j, out, &e) : -1;
    json_decref(j);
    return rc;
}

static int names_of(const char *json, ddb_val *out)
{
    json_error_t je;
    ddb_err e = {0};
    json_t *j = json_loads(json, 0, &je), *o = json_pack("{s:O}", "N", j);
    int rc = ddb_rq_names(&e, o, "N", out) == 1 ? 0 : -1;
    json_decref(j);
    json_decref(o);
    return rc;
}

static void expressions(void)
{
    ddb_val names, vals;
    CHECK(names_of(NAMES, &names) == 0 && map_of(VALUES, &vals) == 0, "placeholders");
    FILE *f = cases("expressions.cases");
    char *line = malloc(MAX_LINE), *fl[5];
    static const struct { const char *name; ddb_kind k; } KINDS[] = {
        {"condition", DDB_X_CONDITION}, {"keycond", DDB_X_KEYCOND}, {"filter", DDB_X_FILTER},
        {"projection", DDB_X_PROJECTION}, {"update", DDB_X_UPDATE}};
    while (f && fgets(line, MAX_LINE, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        fields(line, fl, 5);
        ddb_arena ar = {0};
        ddb_err e = {0};
        ddb_ph ph = {&names, &vals, ddb_alloc(&ar, names.n + 1), ddb_alloc(&ar, vals.n + 1)};
        if (!strcmp(fl[0], "parse")) {
            ddb_kind k = DDB_X_CONDITION;
            for (size_t i = 0; i < sizeof KINDS / sizeof *KINDS; i++)
                if (!strcmp(KINDS[i].name, fl[1]))
                    k = KINDS[i].k;
            int rc;
            ddb_node *c;
            ddb_update u;
            ddb_proj p;
            if (k == DDB_X_UPDATE)
                rc = ddb_parse_update(&ar, &ph, fl[2], strlen(fl[2]), &u, &e);
            else if (k == DDB_X_PROJECTION)
                rc = ddb_parse_projection(&ar, &ph, fl[2], strlen(fl[2]), &p, &e);
            else
                rc = ddb_parse_condition(&ar, &ph, k, fl[2], strlen(fl[2]), &c, &e);
            if (!strcmp(fl[3], "ok"))
                CHECK(rc == 0, "parse %.80s: %s", fl[2], e.msg);
            else
                CHECK(rc == DDB_EVALIDATION && !strcmp(e.msg, fl[3] + 1), "parse %.80s: %s",
                      fl[2], e.msg);
        } else {
            ddb_val item, out = {0};
            CHECK(map_of(fl[1], &item) == 0, "item %s", fl[1]);
            if (!strcmp(fl[0], "eval")) {
                ddb_node *c;
                int rc = ddb_parse_condition(&ar, &ph, DDB_X_CONDITION, fl[2], strlen(fl[2]), &c,
                                             &e);
                CHECK(rc == 0 && ddb_eval(c, &item) == !strcmp(fl[3], "true"), "eval %s: %s",
                      fl[2], e.msg);
            } else if (!strcmp(fl[0], "update")) {
                ddb_update u;
                const char **touched;
                size_t nt;
                int rc = ddb_parse_update(&ar, &ph, fl[2], strlen(fl[2]), &u, &e);
                if (!rc)
                    rc = ddb_apply_update(&u, &item, &item, &ar, &touched, &nt, &e);
                char *got = rc ? NULL : written(&item, 1);
                if (fl[3][0] == '!')
                    CHECK(rc && !strcmp(e.msg, fl[3] + 1), "update %s: %s", fl[2],
                          rc ? e.msg : got);
                else
                    CHECK(got && !strcmp(got, fl[3]), "update %s: %s (%s)", fl[2],
                          got ? got : "-", e.msg);
                free(got);
            } else if (!strcmp(fl[0], "project")) {
                ddb_proj p;
                int rc = ddb_parse_projection(&ar, &ph, fl[2], strlen(fl[2]), &p, &e);
                char *got = NULL;
                if (!rc && !ddb_project(&item, &p, &out))
                    got = written(&out, 1);
                CHECK(got && !strcmp(got, fl[3]), "project %s: %s (%s)", fl[2], got ? got : "-",
                      e.msg);
                free(got);
            }
            ddb_val_free(&item);
            ddb_val_free(&out);
        }
        ddb_arena_free(&ar);
    }
    free(line);
    if (f)
        fclose(f);
    /* placeholders given and not used */
    ddb_arena ar = {0};
    ddb_err e = {0};
    ddb_ph ph = {&names, &vals, ddb_alloc(&ar, names.n + 1), ddb_alloc(&ar, vals.n + 1)};
    ddb_node *c;
    ddb_parse_condition(&ar, &ph, DDB_X_CONDITION, "#n = :v", 7, &c, &e);
    CHECK(ddb_ph_unused(&ph, &e) && !strcmp(e.msg, "Value provided in ExpressionAttributeNames "
          "unused in expressions: keys: {#a, #dot, #1star}"), "unused names: %s", e.msg);
    memset(ph.names_used, 1, names.n);
    CHECK(ddb_ph_unused(&ph, &e) && !strncmp(e.msg, "Value provided in ExpressionAttributeValues "
          "unused in expressions: keys: {:n, :m, ", 77), "unused values: %s", e.msg);
    ddb_arena_free(&ar);
    ddb_val_free(&names);
    ddb_val_free(&vals);
}

/* ---- stored order ---- */

static void order(void)
{
    /* memcmp order of the stored number keys is numeric order */
    srand(7);
    char a[64], b[64];
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        for (char *s = a; s == a || s == b; s = s == a ? b : NULL) {
            int digits = 1 + rand() % 38, point = rand() % (digits + 1);
            int k = 0;
            if (rand() % 2)
                s[k++] = '-';
            for (int d = 0; d < digits; d++) {
                if (d == point && d)
                    s[k++] = '.';
                s[k++] = (char)('0' + rand() % 10);
            }
            k += snprintf(s + k, 16, "E%d", rand() % 200 - 100);
            s[k] = 0;
        }
        ddb_dec x, y;
        ddb_err e = {0};
        if (ddb_dec_parse(a, strlen(a), &x, &e) || ddb_dec_parse(b, strlen(b), &y, &e))
            continue;
        unsigned char kx[DDB_NUM_KEY], ky[DDB_NUM_KEY];
        size_t lx = ddb_dec_key(&x, kx), ly = ddb_dec_key(&y, ky);
        int c = memcmp(kx, ky, lx < ly ? lx : ly);
        c = c ? (c < 0 ? -1 : 1) : (lx > ly) - (lx < ly);
        if (c != ddb_dec_cmp(&x, &y) && bad++ < 5)
            CHECK(0, "key order %s %s", a, b);
    }
    CHECK(!bad, "%d numbers out of order", bad);
    /* the scan hash is on disk: it must stay what it is */
    unsigned char h[8];
    ddb_key_hash((const unsigned char *)"p-001", 5, h);
    char hex[17];
    for (int i = 0; i < 8; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    CHECK(!strcmp(hex, "6ab3a4c2d8e7dee3"), "scan hash of p-001: %s", hex);
}

/* ---- operations ---- */

static void run_ops(ddb_service *s)
{
    FILE *f = cases("ops.cases");
    char *line = malloc(MAX_LINE), *fl[5];
    while (f && fgets(line, MAX_LINE, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (fields(line, fl, 5) != 4) {
            CHECK(0, "bad ops line %s", fl[0]);
            continue;
        }
        char target[128], *resp;
        size_t rl;
        snprintf(target, sizeof target, "DynamoDB_20120810.%s", fl[0]);
        int st = ddb_call(s, target, fl[1], strlen(fl[1]), &resp, &rl);
        int body_ok = fl[3][0] == '~' ? strstr(resp, fl[3] + 1) != NULL : !strcmp(resp, fl[3]);
        CHECK(st == atoi(fl[2]) && body_ok, "%s %.120s: %d %s", fl[0], fl[1], st, resp);
        free(resp);
    }
    free(line);
    if (f)
        fclose(f);
}

static int call_ok(ddb_service *s, const char *op, const char *body, const char *want)
{
    char target[128], *resp;
    size_t rl;
    snprintf(target, sizeof target, "DynamoDB_20120810.%s", op);
    int st = ddb_call(s, target, body, strlen(body), &resp, &rl);
    int ok = st == 200 && (!want || strstr(resp, want));
    if (!ok)
        fprintf(stderr, "  %s: %d %s\n", op, st, resp);
    free(resp);
    return ok;
}

static void ops(void)
{
    char dir[] = "/tmp/nerd-test-ddb-XXXXXX", err[1600];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    ddb_options o = {0, dir, 0, 0, stderr, 0};
    ddb_service *s;
    CHECK(ddb_open(&o, &s, err, sizeof err) == 0, "open: %s", err);
    run_ops(s);
    ddb_close(s);
    /* reopened: the catalog and the items are there */
    CHECK(ddb_open(&o, &s, err, sizeof err) == 0, "reopen: %s", err);
    CHECK(call_ok(s, "GetItem", "{\"TableName\":\"Products\",\"Key\":{\"id\":{\"S\":\"b1\"}}}",
                  "{\"Item\":{\"id\":{\"S\":\"b1\"}}}"), "item after reopening");
    CHECK(call_ok(s, "ListTables", "{}", "{\"TableNames\":[\"Orders\",\"Products\"]}"),
          "tables after reopening");
    /* a provisioned table with an index: its stored definition read back */
    CHECK(call_ok(s, "CreateTable", "{\"TableName\":\"Prov\",\"AttributeDefinitions\":["
                  "{\"AttributeName\":\"id\",\"AttributeType\":\"S\"},{\"AttributeName\":"
                  "\"g\",\"AttributeType\":\"N\"}],\"KeySchema\":[{\"AttributeName\":\"id\","
                  "\"KeyType\":\"HASH\"}],\"ProvisionedThroughput\":{\"ReadCapacityUnits\":7,"
                  "\"WriteCapacityUnits\":3},\"GlobalSecondaryIndexes\":[{\"IndexName\":\"byG\","
                  "\"KeySchema\":[{\"AttributeName\":\"g\",\"KeyType\":\"HASH\"}],\"Projection\":"
                  "{\"ProjectionType\":\"KEYS_ONLY\"},\"ProvisionedThroughput\":{"
                  "\"ReadCapacityUnits\":5,\"WriteCapacityUnits\":2}}]}", NULL), "create Prov");
    ddb_close(s);
    CHECK(ddb_open(&o, &s, err, sizeof err) == 0, "reopen: %s", err);
    CHECK(call_ok(s, "DescribeTable", "{\"TableName\":\"Prov\"}", "\"ProvisionedThroughput\":"
                  "{\"NumberOfDecreasesToday\":0,\"ReadCapacityUnits\":7,\"WriteCapacityUnits\":3}"),
          "provisioned table after reopening");
    CHECK(call_ok(s, "DescribeTable", "{\"TableName\":\"Prov\"}", "\"IndexStatus\":\"ACTIVE\","
                  "\"ProvisionedThroughput\":{\"NumberOfDecreasesToday\":0,\"ReadCapacityUnits\":5,"
                  "\"WriteCapacityUnits\":2}"), "provisioned index after reopening");
    CHECK(call_ok(s, "DeleteTable", "{\"TableName\":\"Prov\"}", NULL), "delete Prov");
    /* template tables: created, kept, redefined with the items and indexes */
    static const char T1[] = "{\"TableName\":\"Tpl\",\"BillingMode\":\"PAY_PER_REQUEST\","
        "\"AttributeDefinitions\":[{\"AttributeName\":\"id\",\"AttributeType\":\"S\"},"
        "{\"AttributeName\":\"g\",\"AttributeType\":\"S\"}],\"KeySchema\":[{\"AttributeName\":"
        "\"id\",\"KeyType\":\"HASH\"}],\"GlobalSecondaryIndexes\":[{\"IndexName\":\"byG\","
        "\"KeySchema\":[{\"AttributeName\":\"g\",\"KeyType\":\"HASH\"}],\"Projection\":"
        "{\"ProjectionType\":\"ALL\"}}]}";
    char t2[sizeof T1 + 8];
    snprintf(t2, sizeof t2, "%s", T1);
    memcpy(strstr(t2, "byG"), "by2", 3);
    CHECK(ddb_ensure_table(s, T1, err, sizeof err) == 0, "ensure: created (%s)", err);
    CHECK(ddb_ensure_table(s, T1, err, sizeof err) == 1, "ensure: kept (%s)", err);
    CHECK(call_ok(s, "PutItem", "{\"TableName\":\"Tpl\",\"Item\":{\"id\":{\"S\":\"a\"},\"g\":"
                  "{\"S\":\"x\"}}}", NULL), "tpl put");
    CHECK(ddb_ensure_table(s, t2, err, sizeof err) == 2, "ensure: redefined (%s)", err);
    CHECK(call_ok(s, "Query", "{\"TableName\":\"Tpl\",\"IndexName\":\"by2\",\"KeyConditionExpression\":"
                  "\"g = :g\",\"ExpressionAttributeValues\":{\":g\":{\"S\":\"x\"}}}", "\"Count\":1,"),
          "rebuilt index");
    CHECK(ddb_ensure_table(s, "{\"TableName\":\"Tpl\"}", err, sizeof err) == -1 &&
          strstr(err, "Value null at 'attributeDefinitions'"), "ensure: refused: %s", err);
    CHECK(ddb_check_table(T1, err, sizeof err) == 0, "check: %s", err);
    ddb_close(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "rm");
}

int main(void)
{
    numbers();
    values();
    expressions();
    order();
    ops();
    return check_done("test_ddb");
}
