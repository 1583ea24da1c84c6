/*
 * A function's layers laid out as Lambda lays them out: the contents of
 * each layer (AWS::Serverless::LayerVersion's ContentUri) merged under
 * /opt, a later layer's files over an earlier one's, so that python/,
 * nodejs/node_modules/, bin/ and lib/ are where the runtimes look.
 *
 * Without containers the host's /opt cannot simply be replaced, so there
 * are two modes: MOUNT gives each environment its own mount namespace in
 * which /opt is the layers (one layer bind-mounted, several merged by a
 * read-only overlayfs), as Lambda has it; PATHS, where mounting is not
 * allowed (not root, no namespaces), leaves /opt alone and hands the
 * runtime the layer directories themselves, later layers first, on
 * PATH, LD_LIBRARY_PATH, NODE_PATH and (through NERD_LAYER_DIRS, read by
 * the platform's Python client) sys.path.  NERD_LAYERS=mount|paths in the
 * platform's environment picks one; otherwise MOUNT when a probe finds
 * that this process may create a mount namespace and mount on /opt.
 */
#ifndef NERD_LAYERS_H
#define NERD_LAYERS_H

#include <stddef.h>

#include "template.h"

typedef enum lyr_mode {
    LYR_MOUNT = 0,      /* /opt of a per-environment mount namespace */
    LYR_PATHS = 1       /* the layer directories on the search paths */
} lyr_mode;

typedef enum lyr_err {
    LYR_OK = 0,
    LYR_EPATH,          /* a layer path unfit for an overlay option (',' ':' '\\') */
    LYR_ETOOLONG        /* the paths do not fit their buffers */
} lyr_err;

/* What the child mounts before exec (MOUNT mode, a function with layers). */
typedef struct lyr_mount {
    int kind;           /* 0: nothing, 1: bind src on /opt, 2: overlay opts on /opt */
    char src[1024];
    char opts[SAM_MAX_LAYERS * 1040 + 16];
} lyr_mount;

/* The mode this process uses (decided once, thread-safe). */
lyr_mode lyr_mode_get(void);

/* One line for the log: "layers: /opt in a mount namespace per environment"
 * or "layers: on the runtimes' search paths (why)". */
void lyr_describe(char *out, size_t cap);

/* The directories that stand for /opt for f, highest precedence first
 * (MOUNT: "/opt" when f has layers; PATHS: the layers' directories,
 * last layer first; none when f has no local layers), into dirs[*n], and
 * in MOUNT mode what to mount into *m (zeroed otherwise).  Returns LYR_OK
 * or an lyr_err (then the function runs in PATHS mode). */
lyr_err lyr_plan(const sam_function *f, lyr_mount *m, char (*dirs)[1024], size_t *n);

/* In the child between clone(CLONE_NEWNS) and exec: makes the mount
 * namespace private and mounts m on /opt.  Only system calls (no
 * allocation, no stdio).  0, or -1 with errno. */
int lyr_enter(const lyr_mount *m);

const char *lyr_strerror(lyr_err e);

#endif
