/*
 * The runtimes a function may name, and how an environment's process is
 * started for each: `provided*` runs CodeUri/bootstrap; `python3.N` and
 * `nodejsN.x` run this machine's interpreter on a runtime client that
 * speaks the Runtime API as AWS's does (runtimes/python/bootstrap.py,
 * runtimes/node/index.mjs: the platform's own, in the interpreters'
 * standard libraries), with the variables AWS's managed runtimes set
 * (AWS_EXECUTION_ENV, LAMBDA_RUNTIME_DIR, NODE_PATH ...), and the
 * function's layers (layers.h).  docs/runtimes.md tells the whole story.
 *
 * Interpreters are chosen, never taken from PATH (a pyenv shim or another
 * vendor's node may come first there): NERD_PYTHON, else
 * /usr/bin/python3.N when the template's version is installed, else
 * Debian's /usr/bin/python3; NERD_NODE, else /usr/bin/node.  A version
 * other than the template's is run anyway, with a warning.  The clients
 * are found under NERD_RUNTIMES, else PREFIX/share/nerd/runtimes beside
 * an installed nerd (PREFIX/bin/nerd), else runtimes/ of the source tree
 * the nerd binary was built in (build/nerd).
 *
 * Everything here is thread-safe; the interpreter versions are asked
 * once per interpreter and remembered.
 */
#ifndef NERD_LANGRT_H
#define NERD_LANGRT_H

#include <stddef.h>
#include <stdio.h>

#include "layers.h"
#include "template.h"

typedef enum lrt_lang { LRT_PROVIDED = 0, LRT_PYTHON, LRT_NODE } lrt_lang;

typedef enum lrt_err {
    LRT_OK = 0,
    LRT_ENOINTERP,      /* the interpreter is missing or not executable */
    LRT_ENOCLIENT,      /* the runtime client is not where nerd looks */
    LRT_ETOOLONG        /* a path or variable too long for its buffer */
} lrt_err;

typedef struct lrt_runtime {
    const char *id;     /* "python3.11" */
    lrt_lang lang;
    int major, minor;   /* 3, 11; nodejs20.x: 20, 0 */
} lrt_runtime;

/* The runtime with this id (a template's Runtime), or NULL. */
const lrt_runtime *lrt_find(const char *id);

/* Every id, for messages: "provided.al2023, provided.al2, provided,
 * python3.9, ..., nodejs24.x". */
const char *lrt_ids(void);

#define LRT_MAX_ARGS 4
#define LRT_MAX_ENV 10
#define LRT_ENV_CAP 8192

/* How an environment's process starts. */
typedef struct lrt_launch {
    char exe[1300];                     /* what execve runs */
    char args[LRT_MAX_ARGS][1300];      /* its argv */
    int n_args;
    char env[LRT_MAX_ENV][LRT_ENV_CAP]; /* NAME=VALUE: PATH, LD_LIBRARY_PATH,
                                         * LAMBDA_RUNTIME_DIR and the runtime's own */
    int n_env;
    char fail[1200];    /* not "": written to the log by the child, which then exits
                         * with fail_status instead of exec (AWS_LAMBDA_EXEC_WRAPPER
                         * missing: 127, not executable: 126, as AWS's bootstrap) */
    int fail_status;
    lyr_mount mnt;      /* layers to mount on /opt (in a new mount namespace) */
} lrt_launch;

/* Fills *out for an environment of f (CodeUri already absolute) whose
 * host PATH is path.  Returns LRT_OK, or an lrt_err with what is missing
 * in msg (the environment's init then fails with Runtime.InvalidEntrypoint
 * and that message). */
lrt_err lrt_prepare(const sam_function *f, const char *path, lrt_launch *out, char *msg,
                    size_t cap);

/* 0 when f's interpreter and runtime client are there (provided: 0
 * always; its bootstrap is checked by lam_check_bootstrap), else -1 with
 * the problem in msg. */
int lrt_check(const sam_function *f, char *msg, size_t cap);

/* Writes to log, for f, what a user should know before it runs: the
 * interpreter and client it gets ("nerd: function F: python3.12 on
 * /usr/bin/python3 (Python 3.11.2), the platform's client"), a warning
 * when the interpreter's version is not the template's, and one for
 * each layer given by ARN (not available locally: skipped).  Nothing for
 * a provided runtime without layers. */
void lrt_warn(const sam_function *f, FILE *log);

/* The interpreter f runs on, into out ("" for provided runtimes). */
void lrt_interpreter(const sam_function *f, char *out, size_t cap);

/* The directory holding the runtime clients (python/, node/), into out;
 * -1 when none was found. */
int lrt_client_dir(char *out, size_t cap);

const char *lrt_strerror(lrt_err e);

#endif
