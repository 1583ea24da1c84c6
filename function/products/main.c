/*
 * `bootstrap` of the products API (lab/template.yaml's ProductApiFunction):
 * a Lambda custom runtime.  At init it reads TABLE_NAME (the table's name,
 * `!Ref` of the template's table) and makes the DynamoDB client from the
 * environment (ddb_client.h: endpoint, region, credentials); a missing or
 * bad value is an init error (Runtime.ConfigInvalid, posted to
 * /init/error).  Then the shared runtime loop (rtloop.h) hands each event
 * to the handler (products.h), with the client's deadline set to the
 * invocation's less DEADLINE_MARGIN_MS, the time to answer.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb_client.h"
#include "products.h"
#include "rtloop.h"

#define WHO "products"
#define DEADLINE_MARGIN_MS 250

typedef struct app {
    prod *p;
    ddbc *db;
} app;

static int invoke(void *arg, const rtc_event *ev, const char **out, size_t *out_len, char *msg,
                  size_t msgcap)
{
    app *a = arg;
    ddbc_set_deadline(a->db, ev->deadline_ms ? ev->deadline_ms - DEADLINE_MARGIN_MS : 0);
    int rc = prod_lambda(a->p, ev->body, ev->body_len, out, out_len);
    if (rc)
        snprintf(msg, msgcap, "%s", prod_strerror(rc));
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        FILE *f = strcmp(argv[1], "--help") && strcmp(argv[1], "-h") ? stderr : stdout;
        fputs("usage: bootstrap   (a Lambda custom runtime: AWS_LAMBDA_RUNTIME_API)\n"
              "The products API over the DynamoDB table TABLE_NAME: POST /products,\n"
              "GET /products[?limit=N&next=TOKEN], GET /products/{id}, DELETE /products/{id}.\n"
              "DynamoDB: AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL, else the region's\n"
              "endpoint (AWS_REGION or AWS_DEFAULT_REGION); credentials AWS_ACCESS_KEY_ID,\n"
              "AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.\n", f);
        return f == stdout ? 0 : 2;
    }
    rtc *c = rtl_open(WHO, PROD_MAX_EVENT);
    if (!c)
        return 2;
    char err[512];
    app a = {0};
    const char *table = getenv("TABLE_NAME");
    if (!table || !*table)
        return rtl_init_failed(c, WHO, "Runtime.ConfigInvalid",
                               "TABLE_NAME is not set: the function's environment must name its "
                               "DynamoDB table");
    if (ddbc_new(NULL, &a.db, err, sizeof err))
        return rtl_init_failed(c, WHO, "Runtime.ConfigInvalid", err);
    if (prod_new(table, a.db, &a.p, err, sizeof err)) {
        ddbc_free(a.db);
        return rtl_init_failed(c, WHO, "Runtime.ConfigInvalid", err);
    }
    int rc = rtl_serve(c, WHO, invoke, &a);
    prod_free(a.p);
    ddbc_free(a.db);
    rtc_free(c);
    return rc;
}
