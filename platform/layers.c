/*
 * Layers under /opt (see layers.h): the mode, decided once by
 * NERD_LAYERS or a probe (a child that creates a mount namespace and
 * mounts a tmpfs on /opt in it), the plan for one function (what to
 * mount, or which directories stand for /opt), and the mount itself, made
 * by the environment's child before it execs its runtime.
 */
#define _GNU_SOURCE
#include "layers.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_once_t mode_once = PTHREAD_ONCE_INIT;
static lyr_mode mode = LYR_PATHS;
static char why[160] = "";

/* 1 when a child of this process can create a mount namespace and mount
 * on /opt there (nothing outside the child sees it). */
static int probe_mount(void)
{
    struct stat st;
    if (stat("/opt", &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(why, sizeof why, "/opt does not exist");
        return 0;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, sizeof why, "fork: %s", strerror(errno));
        return 0;
    }
    if (pid == 0) {
        if (unshare(CLONE_NEWNS) != 0)
            _exit(1);
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
            _exit(2);
        if (mount("nerd-probe", "/opt", "tmpfs", MS_RDONLY, "size=4k") != 0)
            _exit(3);
        _exit(0);
    }
    int st2 = 0;
    while (waitpid(pid, &st2, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(st2) && WEXITSTATUS(st2) == 0)
        return 1;
    static const char *const step[] = {"", "unshare(CLONE_NEWNS)", "making / private",
                                       "mounting on /opt"};
    int s = WIFEXITED(st2) ? WEXITSTATUS(st2) : 0;
    snprintf(why, sizeof why, "%s is not allowed here", s >= 1 && s <= 3 ? step[s] : "the probe");
    return 0;
}

static void decide(void)
{
    const char *v = getenv("NERD_LAYERS");
    if (v && !strcmp(v, "paths")) {
        mode = LYR_PATHS;
        snprintf(why, sizeof why, "NERD_LAYERS=paths");
    } else if (v && !strcmp(v, "mount")) {
        mode = LYR_MOUNT;
    } else {
        mode = probe_mount() ? LYR_MOUNT : LYR_PATHS;
    }
}

lyr_mode lyr_mode_get(void)
{
    pthread_once(&mode_once, decide);
    return mode;
}

void lyr_describe(char *out, size_t cap)
{
    if (lyr_mode_get() == LYR_MOUNT)
        snprintf(out, cap, "layers: merged under /opt in a mount namespace per environment");
    else
        snprintf(out, cap, "layers: /opt not replaceable (%s): layer directories go on PATH, "
                 "LD_LIBRARY_PATH, NODE_PATH and sys.path instead", why);
}

const char *lyr_strerror(lyr_err e)
{
    switch (e) {
    case LYR_OK: return "success";
    case LYR_EPATH: return "a layer path holds ',', ':' or '\\' (not mountable as an overlay)";
    case LYR_ETOOLONG: return "layer paths too long";
    }
    return "unknown error";
}

lyr_err lyr_plan(const sam_function *f, lyr_mount *m, char (*dirs)[1024], size_t *n)
{
    memset(m, 0, sizeof *m);
    *n = 0;
    /* absolute (the runtime starts in its CodeUri), local layers only */
    char abs[SAM_MAX_LAYERS][PATH_MAX];
    size_t local = 0;
    for (size_t i = 0; i < f->n_layers; i++) {
        abs[i][0] = 0;
        if (!f->layers[i].dir[0])
            continue;
        if (!realpath(f->layers[i].dir, abs[i]) || strlen(abs[i]) >= sizeof dirs[0])
            snprintf(abs[i], sizeof abs[i], "%s", f->layers[i].dir);
        local++;
    }
    if (!local)
        return LYR_OK;
    lyr_err rc = LYR_OK;
    if (lyr_mode_get() == LYR_MOUNT) {
        size_t o = 0;
        for (size_t i = f->n_layers; i-- > 0;) { /* overlay: the leftmost lower dir is on top */
            const char *d = abs[i];
            if (!d[0])
                continue;
            if (strpbrk(d, ",:\\")) {
                rc = LYR_EPATH;
                break;
            }
            int k = snprintf(m->opts + o, sizeof m->opts - o, "%s%s", o ? ":" : "lowerdir=", d);
            if (k < 0 || (size_t)k >= sizeof m->opts - o) {
                rc = LYR_ETOOLONG;
                break;
            }
            o += (size_t)k;
            snprintf(m->src, sizeof m->src, "%s", d);
        }
        if (rc == LYR_OK) {
            /* an overlay needs two lower directories: one layer is bind-mounted */
            m->kind = local == 1 ? 1 : 2;
            snprintf(dirs[0], sizeof dirs[0], "/opt");
            *n = 1;
            return LYR_OK;
        }
        memset(m, 0, sizeof *m);
    }
    for (size_t i = f->n_layers; i-- > 0;)
        if (abs[i][0])
            snprintf(dirs[(*n)++], sizeof dirs[0], "%s", abs[i]);
    return rc;
}

int lyr_enter(const lyr_mount *m)
{
    if (!m->kind)
        return 0;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return -1;
    if (m->kind == 1)
        return mount(m->src, "/opt", NULL, MS_BIND | MS_REC, NULL) != 0 ||
                       mount(NULL, "/opt", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) != 0
                   ? -1
                   : 0;
    return mount("overlay", "/opt", "overlay", MS_RDONLY, m->opts) != 0 ? -1 : 0;
}
