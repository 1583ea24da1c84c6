/*
 * `nerd local dynamodb`: the local DynamoDB service alone (platform/ddb.h,
 * docs/dynamodb.md), and the start-up of the same service for `nerd
 * local start-api` / `invoke` when a template has tables: the tables
 * created (or kept) from the template, the functions given
 * AWS_ENDPOINT_URL_DYNAMODB.
 */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ddb.h"
#include "template.h"

static void usage(FILE *f)
{
    fputs("usage: nerd local dynamodb [--port N] [--dir DIR] [--threads N] [--sync full|normal]\n"
          "                           [--template FILE] [--parameter-overrides NAME=VALUE ...]\n"
          "\n"
          "Serves the DynamoDB JSON protocol on 127.0.0.1:PORT (default 8000, 0 = any\n"
          "free port) until SIGINT/SIGTERM, with the data in SQLite under DIR (default\n"
          ".nerd/dynamodb; WAL: an acknowledged write survives the process being killed;\n"
          "--sync full survives a power cut too).  --template creates the template's\n"
          "tables (AWS::DynamoDB::Table, AWS::Serverless::SimpleTable) first.  Any\n"
          "credentials are accepted; clients need an endpoint, e.g.\n"
          "  aws dynamodb list-tables --endpoint-url http://127.0.0.1:8000\n", f);
}

static int cli_ddb_tables(ddb_service *s, const sam_template *t, FILE *log)
{
    char err[1600];
    for (size_t i = 0; i < t->n_tables; i++) {
        const sam_table *tb = &t->tables[i];
        int rc = ddb_ensure_table(s, tb->create, err, sizeof err);
        if (rc < 0) {
            fprintf(stderr, "nerd local: %s:%d: %s: %s\n", t->path, tb->line, tb->name, err);
            return -1;
        }
        if (rc == 2)
            fprintf(log, "dynamodb: table %s: its definition changed in the template: %s\n",
                    tb->table_name, "recreated (items kept when its key schema is the same)");
    }
    return 0;
}

int cli_ddb_start(sam_template *t, int port, const char *dir, int force, ddb_service **out)
{
    char err[1600];
    *out = NULL;
    if (!t->n_tables && !force)
        return 0;
    /* start-api's default port taken (say by DynamoDB Local the functions
     * are pointed at): any other, the functions told which */
    ddb_options o = {port, dir, 0, 0, stderr, !force};
    ddb_service *s;
    if (ddb_open(&o, &s, err, sizeof err)) {
        fprintf(stderr, "nerd local: %s\n", err);
        return -1;
    }
    if (cli_ddb_tables(s, t, stderr) || ddb_listen(s, err, sizeof err)) {
        if (err[0])
            fprintf(stderr, "nerd local: %s\n", err);
        ddb_close(s);
        return -1;
    }
    /* the functions' endpoint, unless the template sets its own */
    for (size_t i = 0; i < t->n_functions; i++) {
        sam_function *f = &t->functions[i];
        size_t k;
        for (k = 0; k < f->n_env && strcmp(f->env[k].key, "AWS_ENDPOINT_URL_DYNAMODB"); k++)
            ;
        if (k < f->n_env || f->n_env == SAM_MAX_ENV)
            continue;
        snprintf(f->env[k].key, sizeof f->env[k].key, "AWS_ENDPOINT_URL_DYNAMODB");
        snprintf(f->env[k].value, sizeof f->env[k].value, "http://127.0.0.1:%d", ddb_port(s));
        f->n_env++;
    }
    *out = s;
    return 0;
}

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

int cmd_local_dynamodb(int argc, char **argv)
{
    ddb_options o = {8000, NULL, 0, 0, stderr, 0};
    const char *tpl = NULL, *ov[64];
    size_t nov = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
            o.port = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
            o.dir = argv[++i];
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            o.threads = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--sync") && i + 1 < argc) {
            const char *v = argv[++i];
            if (strcmp(v, "full") && strcmp(v, "normal")) {
                usage(stderr);
                return 2;
            }
            o.sync_full = !strcmp(v, "full");
        } else if (!strcmp(argv[i], "--template") && i + 1 < argc) {
            tpl = argv[++i];
        } else if (!strcmp(argv[i], "--parameter-overrides")) {
            while (i + 1 < argc && argv[i + 1][0] != '-' && nov < 64)
                ov[nov++] = argv[++i];
        } else {
            fprintf(stderr, "nerd local dynamodb: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (o.port < 0 || o.port > 65535) {
        fprintf(stderr, "nerd local dynamodb: bad port\n");
        return 2;
    }
    char err[1600];
    sam_template *t = NULL;
    if (tpl && sam_load(tpl, ov, nov, &t, err, sizeof err)) {
        fprintf(stderr, "nerd local: %s\n", err);
        return 2;
    }
    cli_on_stop(on_signal);
    ddb_service *s;
    int rc = 1;
    if (ddb_open(&o, &s, err, sizeof err)) {
        fprintf(stderr, "nerd local: %s\n", err);
        free(t);
        return 1;
    }
    err[0] = 0;
    if ((!t || !cli_ddb_tables(s, t, stderr)) && !ddb_listen(s, err, sizeof err)) {
        while (!g_stop) {   /* any thread may take the signal: poll the flag */
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        rc = 0;
    } else if (err[0]) {
        fprintf(stderr, "nerd local: %s\n", err);
    }
    ddb_close(s);
    free(t);
    return rc;
}
