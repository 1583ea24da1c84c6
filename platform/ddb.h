/*
 * The local DynamoDB service (docs/dynamodb.md): the DynamoDB JSON
 * protocol (X-Amz-Target DynamoDB_20120810.*) on 127.0.0.1, its tables
 * and items in SQLite under a directory (.nerd/dynamodb by default), as
 * `nerd local start-api` runs it beside the gateway when the template has
 * tables, and `nerd local dynamodb` alone.  Errors, texts and limits are
 * the real service's (../shared/specs/dynamodb-contract.md).
 *
 * A service is opened (the store), then serves on its own threads (each
 * an event loop from platform/loop.h; they share one SQLite connection,
 * one request at a time);
 * ddb_call() runs one request in the calling thread, for start-up work,
 * tests and fuzzing.  ddb_call() and ddb_ensure_table() may be called from
 * any thread (one at a time each); the rest from the owner's.
 */
#ifndef NERD_DDB_H
#define NERD_DDB_H

#include <stddef.h>
#include <stdio.h>

typedef struct ddb_options {
    int port;               /* 0: any free port (printed) */
    const char *dir;        /* data directory; NULL = ".nerd/dynamodb" */
    int threads;            /* serving threads; 0 = one per CPU (at most 8) */
    int sync_full;          /* synchronous=FULL: writes survive a power cut too */
    FILE *log;              /* "dynamodb listening on ..." and errors; NULL = stderr */
    int any_if_taken;       /* port in use: listen on a free one instead (said in the log) */
} ddb_options;

typedef struct ddb_service ddb_service;

/* Opens the store of o->dir.  0, or -1 with a message in err. */
int ddb_open(const ddb_options *o, ddb_service **out, char *err, size_t errlen);

/* Listens on 127.0.0.1:o->port (o->any_if_taken: else, when that port is
 * in use, on a free one) and serves on the service's threads; prints
 * "dynamodb listening on http://127.0.0.1:PORT" to the log.  0, or -1
 * with a message in err. */
int ddb_listen(ddb_service *s, char *err, size_t errlen);

/* The port served (0 before ddb_listen). */
int ddb_port(const ddb_service *s);

/* Runs one request as the HTTP front would (target: "DynamoDB_20120810.
 * PutItem", body: its JSON), signed by a placeholder credential.  Returns
 * the HTTP status; *resp is the response body (malloc'd, NUL-terminated;
 * the caller frees it), *resp_len its length.  Thread safe. */
int ddb_call(ddb_service *s, const char *target, const char *body, size_t len, char **resp,
             size_t *resp_len);

/* Creates the table a CreateTable request describes (the template's
 * tables, at start-up), or keeps it when it exists with the same
 * definition; one whose definition changed is recreated (its items kept
 * when its key schema is the same; its indexes rebuilt).  0 created, 1
 * kept, 2 redefined, or -1 with the service's message in err. */
int ddb_ensure_table(ddb_service *s, const char *create_json, char *err, size_t errlen);

/* Checks a CreateTable request without a store: 0, or -1 with the
 * service's message in err.  Thread safe. */
int ddb_check_table(const char *create_json, char *err, size_t errlen);

/* Stops serving (open connections are closed), closes the store, frees
 * s; logs the write and SQLITE_BUSY counts.  ddb_close(NULL) is a no-op. */
void ddb_close(ddb_service *s);

#endif
