/* libFuzzer target: the DynamoDB service's request decoder and operations.
 * The input is "Operation\nJSON body" (the operation without the
 * DynamoDB_20120810. prefix); it runs through ddb_call(): the JSON, the
 * target, every member's shape and constraints, AttributeValues, the
 * expressions, then the operation on a store (in a temporary directory,
 * made once, with a hash-only table "Fz1", a hash+range table "Fz2" with
 * a global and a local index).  Checks: a status among the service's, a
 * body that is JSON, and a CRC that can be computed. */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ddb.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static ddb_service *svc;
static char dir[] = "/tmp/nerd-fuzz-ddb-XXXXXX";

static void cleanup(void)
{
    char cmd[64];
    ddb_close(svc);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd))
        return;
}

static void setup(void)
{
    char err[1600];
    ddb_options o = {0, mkdtemp(dir), 1, 0, stderr, 0};
    if (!o.dir || ddb_open(&o, &svc, err, sizeof err))
        abort();
    atexit(cleanup);
    static const char *const TABLES[] = {
        "{\"TableName\":\"Fz1\",\"BillingMode\":\"PAY_PER_REQUEST\",\"AttributeDefinitions\":"
        "[{\"AttributeName\":\"id\",\"AttributeType\":\"S\"}],\"KeySchema\":[{\"AttributeName\":"
        "\"id\",\"KeyType\":\"HASH\"}]}",
        "{\"TableName\":\"Fz2\",\"BillingMode\":\"PAY_PER_REQUEST\",\"AttributeDefinitions\":"
        "[{\"AttributeName\":\"p\",\"AttributeType\":\"S\"},{\"AttributeName\":\"s\","
        "\"AttributeType\":\"N\"},{\"AttributeName\":\"g\",\"AttributeType\":\"B\"}],"
        "\"KeySchema\":[{\"AttributeName\":\"p\",\"KeyType\":\"HASH\"},{\"AttributeName\":\"s\","
        "\"KeyType\":\"RANGE\"}],\"GlobalSecondaryIndexes\":[{\"IndexName\":\"gix\",\"KeySchema\":"
        "[{\"AttributeName\":\"g\",\"KeyType\":\"HASH\"},{\"AttributeName\":\"s\",\"KeyType\":"
        "\"RANGE\"}],\"Projection\":{\"ProjectionType\":\"KEYS_ONLY\"}}],"
        "\"LocalSecondaryIndexes\":[{\"IndexName\":\"lix\",\"KeySchema\":[{\"AttributeName\":\"p\","
        "\"KeyType\":\"HASH\"},{\"AttributeName\":\"g\",\"KeyType\":\"RANGE\"}],\"Projection\":"
        "{\"ProjectionType\":\"INCLUDE\",\"NonKeyAttributes\":[\"x\"]}}]}"};
    for (size_t i = 0; i < 2; i++)
        if (ddb_ensure_table(svc, TABLES[i], err, sizeof err) < 0) {
            fprintf(stderr, "fuzz_ddb_request: %s\n", err);
            abort();
        }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (!svc)
        setup();
    const unsigned char *nl = memchr(data, '\n', size);
    size_t ol = nl ? (size_t)(nl - data) : size;
    char target[96];
    if (ol > 64)
        return 0;
    snprintf(target, sizeof target, "DynamoDB_20120810.%.*s", (int)ol, (const char *)data);
    const char *body = nl ? (const char *)nl + 1 : "";
    size_t bl = nl ? size - ol - 1 : 0;
    /* tables come and go: keep the two the corpus uses */
    if (strstr(target, "DeleteTable"))
        return 0;
    char *resp;
    size_t rl;
    int st = ddb_call(svc, target, body, bl, &resp, &rl);
    if (!resp || (st != 200 && st != 400 && st != 500) || strlen(resp) != rl)
        abort();
    json_error_t je;
    json_t *j = json_loadb(resp, rl, JSON_ALLOW_NUL, &je);
    if (!j || !json_is_object(j) || (st != 200 && !json_object_get(j, "__type")))
        abort();
    if (st == 500 && !strstr(resp, "InternalServerError"))
        abort();
    json_decref(j);
    free(resp);
    return 0;
}
