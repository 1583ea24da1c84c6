/*
 * Managed runtimes (see langrt.h): the table of runtime ids, the choice
 * of interpreter and runtime client, the versions the interpreters report
 * (asked once, for the warnings), and the launch of an environment's
 * process: executable, argv and the variables AWS's managed runtimes
 * set, with the function's layers.
 */
#define _GNU_SOURCE
#include "langrt.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const lrt_runtime RUNTIMES[] = {
    {"provided.al2023", LRT_PROVIDED, 0, 0}, {"provided.al2", LRT_PROVIDED, 0, 0},
    {"provided", LRT_PROVIDED, 0, 0},
    {"python3.9", LRT_PYTHON, 3, 9}, {"python3.10", LRT_PYTHON, 3, 10},
    {"python3.11", LRT_PYTHON, 3, 11}, {"python3.12", LRT_PYTHON, 3, 12},
    {"python3.13", LRT_PYTHON, 3, 13}, {"python3.14", LRT_PYTHON, 3, 14},
    {"nodejs18.x", LRT_NODE, 18, 0}, {"nodejs20.x", LRT_NODE, 20, 0},
    {"nodejs22.x", LRT_NODE, 22, 0},
};
#define N_RUNTIMES (sizeof RUNTIMES / sizeof *RUNTIMES)

/* Lambda's PATH for managed runtimes, and its LD_LIBRARY_PATH head */
#define LAMBDA_PATH "/usr/local/bin:/usr/bin/:/bin"
#define LAMBDA_LD "/lib64:/usr/lib64"

const lrt_runtime *lrt_find(const char *id)
{
    for (size_t i = 0; id && i < N_RUNTIMES; i++)
        if (!strcmp(RUNTIMES[i].id, id))
            return &RUNTIMES[i];
    return NULL;
}

static pthread_once_t ids_once = PTHREAD_ONCE_INIT;
static char ids[512];

static void make_ids(void)
{
    size_t o = 0;
    for (size_t i = 0; i < N_RUNTIMES && o < sizeof ids; i++)
        o += (size_t)snprintf(ids + o, sizeof ids - o, "%s%s", i ? ", " : "", RUNTIMES[i].id);
}

const char *lrt_ids(void)
{
    pthread_once(&ids_once, make_ids);
    return ids;
}

const char *lrt_strerror(lrt_err e)
{
    switch (e) {
    case LRT_OK: return "success";
    case LRT_ENOINTERP: return "interpreter not found";
    case LRT_ENOCLIENT: return "runtime client not found";
    case LRT_ETOOLONG: return "path too long";
    }
    return "unknown error";
}

/* ---- where things are ---- */

static pthread_once_t dir_once = PTHREAD_ONCE_INIT;
static char client_dir[1024];

static int has_clients(const char *dir)
{
    char p[1300];
    snprintf(p, sizeof p, "%s/python/bootstrap.py", dir);
    return access(p, R_OK) == 0;
}

static void find_clients(void)
{
    const char *env = getenv("NERD_RUNTIMES");
    if (env && *env && strlen(env) < sizeof client_dir) {
        snprintf(client_dir, sizeof client_dir, "%s", env);
        return;
    }
    char exe[1024];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return;
    *slash = 0;
    static const char *const rel[] = {"/../share/nerd/runtimes", "/../runtimes"};
    for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
        char cand[1200], real[PATH_MAX];
        snprintf(cand, sizeof cand, "%s%s", exe, rel[i]);
        if (has_clients(cand) && realpath(cand, real) && strlen(real) < sizeof client_dir) {
            memcpy(client_dir, real, strlen(real) + 1);
            return;
        }
    }
}

int lrt_client_dir(char *out, size_t cap)
{
    pthread_once(&dir_once, find_clients);
    snprintf(out, cap, "%s", client_dir);
    return client_dir[0] ? 0 : -1;
}

static const char *user_env(const sam_function *f, const char *key)
{
    for (size_t i = 0; i < f->n_env; i++)
        if (!strcmp(f->env[i].key, key))
            return f->env[i].value;
    return NULL;
}

void lrt_interpreter(const sam_function *f, char *out, size_t cap)
{
    const lrt_runtime *r = lrt_find(f->runtime);
    out[0] = 0;
    if (!r || r->lang == LRT_PROVIDED)
        return;
    const char *env = getenv(r->lang == LRT_PYTHON ? "NERD_PYTHON" : "NERD_NODE");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return;
    }
    if (r->lang == LRT_NODE) {
        snprintf(out, cap, "/usr/bin/node");
        return;
    }
    snprintf(out, cap, "/usr/bin/python%d.%d", r->major, r->minor);
    if (access(out, X_OK) != 0)
        snprintf(out, cap, "/usr/bin/python3");
}

/* 1 when AWS's aws-lambda-ric is installed beside the Node client (by
 * `make node-ric`: runtimes/node/node_modules, its native part built). */
static int aws_ric_installed(const char *nodedir)
{
    char p[1300];
    snprintf(p, sizeof p, "%s/node_modules/aws-lambda-ric/dist/rapid-client.node", nodedir);
    return access(p, R_OK) == 0;
}

/* The client script of r's language, into out, and its directory (the
 * runtime directory) into dir: Python's bootstrap.py; for Node, AWS's
 * aws-lambda-ric (through ric.mjs) where it is installed, else the
 * platform's index.mjs; NERD_NODE_CLIENT=nerd|aws chooses. */
static lrt_err client_path(const lrt_runtime *r, char *dir, size_t dcap, char *out, size_t cap)
{
    out[0] = 0;
    if (lrt_client_dir(dir, dcap) != 0)
        return LRT_ENOCLIENT;
    size_t dl = strlen(dir);
    int n = snprintf(dir + dl, dcap - dl, "%s", r->lang == LRT_PYTHON ? "/python" : "/node");
    if (n < 0 || (size_t)n >= dcap - dl)
        return LRT_ETOOLONG;
    const char *file = "bootstrap.py";
    if (r->lang == LRT_NODE) {
        const char *want = getenv("NERD_NODE_CLIENT");
        int aws = want && !strcmp(want, "aws") ? 1
                  : want && !strcmp(want, "nerd") ? 0 : aws_ric_installed(dir);
        file = aws ? "ric.mjs" : "index.mjs";
        if (aws && !aws_ric_installed(dir)) {
            snprintf(out, cap, "%s/node_modules/aws-lambda-ric", dir);
            return LRT_ENOCLIENT;
        }
    }
    n = snprintf(out, cap, "%s/%s", dir, file);
    if (n < 0 || (size_t)n >= cap)
        return LRT_ETOOLONG;
    return access(out, R_OK) == 0 ? LRT_OK : LRT_ENOCLIENT;
}

int lrt_check(const sam_function *f, char *msg, size_t cap)
{
    const lrt_runtime *r = lrt_find(f->runtime);
    if (!r || r->lang == LRT_PROVIDED)
        return 0;
    char interp[1024], dir[1100], script[1200];
    struct stat st;
    lrt_interpreter(f, interp, sizeof interp);
    if (stat(f->code_uri, &st) != 0 || !S_ISDIR(st.st_mode))
        snprintf(msg, cap, "CodeUri %s does not exist", f->code_uri);
    else if (access(interp, X_OK) != 0)
        snprintf(msg, cap, "fork/exec %s: no such file or directory (the %s interpreter; "
                 "%s chooses another)", interp, f->runtime,
                 r->lang == LRT_PYTHON ? "NERD_PYTHON" : "NERD_NODE");
    else if (client_path(r, dir, sizeof dir, script, sizeof script) != LRT_OK)
        snprintf(msg, cap, "the runtime client for %s was not found (looked for %s; "
                 "NERD_RUNTIMES names the directory holding python/ and node/)", f->runtime,
                 script[0] ? script : "runtimes/ beside nerd");
    else
        return 0;
    return -1;
}

/* ---- the environment ---- */

/* Appends the strings (up to a NULL) to buf (cap bytes) at *o; -1 when
 * they do not fit. */
static int cat(char *buf, size_t cap, size_t *o, ...)
{
    va_list ap;
    va_start(ap, o);
    for (const char *p; (p = va_arg(ap, const char *));) {
        size_t n = strlen(p);
        if (n >= cap - *o) {
            va_end(ap);
            return -1;
        }
        memcpy(buf + *o, p, n + 1);
        *o += n;
    }
    va_end(ap);
    return 0;
}

static int env_set(lrt_launch *l, const char *name, const char *value)
{
    if (l->n_env == LRT_MAX_ENV)
        return -1;
    int n = snprintf(l->env[l->n_env], LRT_ENV_CAP, "%s=%s", name, value);
    if (n < 0 || n >= LRT_ENV_CAP)
        return -1;
    l->n_env++;
    return 0;
}

lrt_err lrt_prepare(const sam_function *f, const char *path, lrt_launch *out, char *msg,
                    size_t cap)
{
    const lrt_runtime *r = lrt_find(f->runtime);
    lrt_lang lang = r ? r->lang : LRT_PROVIDED;
    memset(out, 0, offsetof(lrt_launch, env));
    out->n_env = 0;
    out->fail[0] = 0;
    char opt[SAM_MAX_LAYERS][1024];
    size_t n_opt = 0;
    if (lyr_plan(f, &out->mnt, opt, &n_opt) != LYR_OK) /* (then on the search paths) */
        memset(&out->mnt, 0, sizeof out->mnt);
    char rtdir[1100] = "", script[1200] = "";
    char *buf = malloc(LRT_ENV_CAP);
    if (!buf) {
        snprintf(msg, cap, "out of memory");
        return LRT_ETOOLONG;
    }
    lrt_err rc = LRT_ETOOLONG;
    size_t o = 0;
    int bad = 0;
    if (lang == LRT_PROVIDED) {
        snprintf(rtdir, sizeof rtdir, "%s", f->code_uri);
        if (snprintf(out->exe, sizeof out->exe, "%s/bootstrap", f->code_uri) >=
            (int)sizeof out->exe)
            goto out;
        snprintf(out->args[0], sizeof out->args[0], "%s", out->exe);
        out->n_args = 1;
    } else {
        char interp[1024];
        lrt_interpreter(f, interp, sizeof interp);
        rc = client_path(r, rtdir, sizeof rtdir, script, sizeof script);
        if (rc != LRT_OK) {
            lrt_check(f, msg, cap);
            goto out;
        }
        rc = LRT_ETOOLONG;
        const char *wrapper = user_env(f, "AWS_LAMBDA_EXEC_WRAPPER");
        int k = 0;
        if (wrapper && *wrapper) { /* as AWS's /var/runtime/bootstrap */
            snprintf(out->args[k++], sizeof out->args[0], "%s", wrapper);
            struct stat st;
            if (stat(wrapper, &st) != 0 || !S_ISREG(st.st_mode)) {
                snprintf(out->fail, sizeof out->fail, "%s: does not exist\n", wrapper);
                out->fail_status = 127;
            } else if (access(wrapper, X_OK) != 0) {
                snprintf(out->fail, sizeof out->fail, "%s: is not an executable\n", wrapper);
                out->fail_status = 126;
            }
        }
        snprintf(out->args[k++], sizeof out->args[0], "%s", interp);
        snprintf(out->args[k++], sizeof out->args[0], "%s", script);
        out->n_args = k;
        snprintf(out->exe, sizeof out->exe, "%s", out->args[0]);
        char v[96];
        snprintf(v, sizeof v, "AWS_Lambda_%s", f->runtime);
        bad |= env_set(out, "AWS_EXECUTION_ENV", v);
    }
    bad |= env_set(out, "LAMBDA_RUNTIME_DIR", rtdir);
    /* PATH: Lambda's for managed runtimes, the platform's for provided
     * ones (as before layers); /opt/bin (or each layer's bin) last */
    o = 0;
    bad |= cat(buf, LRT_ENV_CAP, &o,
               lang == LRT_PROVIDED && path && strlen(path) < 1000 ? path : LAMBDA_PATH, NULL);
    for (size_t i = 0; i < n_opt; i++)
        bad |= cat(buf, LRT_ENV_CAP, &o, ":", opt[i], "/bin", NULL);
    if (!n_opt && lang != LRT_PROVIDED)
        bad |= cat(buf, LRT_ENV_CAP, &o, ":/opt/bin", NULL);
    bad |= env_set(out, "PATH", buf);
    /* LD_LIBRARY_PATH, as Lambda's: runtime dir, task root, then /opt/lib */
    o = 0;
    if (lang != LRT_PROVIDED)
        bad |= cat(buf, LRT_ENV_CAP, &o, LAMBDA_LD ":", rtdir, ":", rtdir, "/lib:", NULL);
    bad |= cat(buf, LRT_ENV_CAP, &o, f->code_uri, ":", f->code_uri, "/lib", NULL);
    for (size_t i = 0; i < n_opt; i++)
        bad |= cat(buf, LRT_ENV_CAP, &o, ":", opt[i], "/lib", NULL);
    if (!n_opt && lang != LRT_PROVIDED)
        bad |= cat(buf, LRT_ENV_CAP, &o, ":/opt/lib", NULL);
    bad |= env_set(out, "LD_LIBRARY_PATH", buf);
    if (lang == LRT_NODE) { /* NODE_PATH as Lambda's: layers, the runtime, the task */
        o = 0;
        char nn[16];
        snprintf(nn, sizeof nn, "node%d", r->major);
        if (!n_opt)
            bad |= cat(buf, LRT_ENV_CAP, &o, "/opt/nodejs/node_modules:/opt/nodejs/", nn,
                       "/node_modules:", NULL);
        for (size_t i = 0; i < n_opt; i++)
            bad |= cat(buf, LRT_ENV_CAP, &o, opt[i], "/nodejs/node_modules:", opt[i], "/nodejs/",
                       nn, "/node_modules:", NULL);
        bad |= cat(buf, LRT_ENV_CAP, &o, rtdir, "/node_modules:", rtdir, ":", f->code_uri, NULL);
        bad |= env_set(out, "NODE_PATH", buf);
    }
    if (lang == LRT_PYTHON && n_opt && strcmp(opt[0], "/opt")) {
        o = 0;
        for (size_t i = 0; i < n_opt; i++)
            bad |= cat(buf, LRT_ENV_CAP, &o, i ? ":" : "", opt[i], NULL);
        bad |= env_set(out, "NERD_LAYER_DIRS", buf);
    }
    if (bad) {
        snprintf(msg, cap, "the runtime's paths are too long");
        goto out;
    }
    rc = LRT_OK;
out:
    free(buf);
    return rc;
}

/* ---- what the user is told ---- */

typedef struct seen_version {
    char interp[1024];
    char version[64];   /* "Python 3.11.2", "v20.20.2", "" when it did not answer */
} seen_version;

static pthread_mutex_t ver_mu = PTHREAD_MUTEX_INITIALIZER;
static seen_version seen[8];
static size_t n_seen;

/* Runs `interp --version` (5 s at most) and keeps its first line. */
static void ask_version(const char *interp, char *out, size_t cap)
{
    int pfd[2];
    out[0] = 0;
    if (pipe2(pfd, O_CLOEXEC) != 0)
        return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    char *argv[] = {(char *)interp, "--version", NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, interp, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (rc != 0) {
        close(pfd[0]);
        return;
    }
    size_t len = 0;
    struct pollfd p = {.fd = pfd[0], .events = POLLIN};
    while (len + 1 < cap && poll(&p, 1, 5000) > 0) {
        ssize_t k = read(pfd[0], out + len, cap - 1 - len);
        if (k <= 0)
            break;
        len += (size_t)k;
    }
    out[len] = 0;
    out[strcspn(out, "\r\n")] = 0;
    close(pfd[0]);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void version_of(const char *interp, char *out, size_t cap)
{
    pthread_mutex_lock(&ver_mu);
    for (size_t i = 0; i < n_seen; i++)
        if (!strcmp(seen[i].interp, interp)) {
            snprintf(out, cap, "%s", seen[i].version);
            pthread_mutex_unlock(&ver_mu);
            return;
        }
    pthread_mutex_unlock(&ver_mu);
    char v[64];
    ask_version(interp, v, sizeof v);
    pthread_mutex_lock(&ver_mu);
    if (n_seen < sizeof seen / sizeof *seen) {
        snprintf(seen[n_seen].interp, sizeof seen[n_seen].interp, "%s", interp);
        snprintf(seen[n_seen].version, sizeof seen[n_seen].version, "%s", v);
        n_seen++;
    }
    pthread_mutex_unlock(&ver_mu);
    snprintf(out, cap, "%s", v);
}

void lrt_warn(const sam_function *f, FILE *log)
{
    const lrt_runtime *r = lrt_find(f->runtime);
    for (size_t i = 0; i < f->n_layers; i++)
        if (!f->layers[i].dir[0])
            fprintf(log, "nerd: warning: function %s: layer %s is published on AWS, not "
                    "defined in the template: not available locally, skipped\n", f->name,
                    f->layers[i].name);
    size_t local = 0;
    for (size_t i = 0; i < f->n_layers; i++)
        local += f->layers[i].dir[0] != 0;
    if (local) {
        char line[300];
        lyr_mount m;
        char dirs[SAM_MAX_LAYERS][1024];
        size_t n;
        lyr_err le = lyr_plan(f, &m, dirs, &n);
        lyr_describe(line, sizeof line);
        fprintf(log, "nerd: function %s: %zu layer%s; %s\n", f->name, local, local > 1 ? "s" : "",
                line);
        if (le != LYR_OK)
            fprintf(log, "nerd: warning: function %s: %s: its layers go on the search paths\n",
                    f->name, lyr_strerror(le));
    }
    if (!r || r->lang == LRT_PROVIDED)
        return;
    char interp[1024], v[64], dir[1100], script[1200];
    lrt_interpreter(f, interp, sizeof interp);
    if (access(interp, X_OK) != 0) {
        fprintf(log, "nerd: warning: function %s: %s: interpreter %s not found; its invocations "
                "will fail with Runtime.InvalidEntrypoint\n", f->name, f->runtime, interp);
        return;
    }
    version_of(interp, v, sizeof v);
    int major = 0, minor = 0;
    const char *d = v;
    while (*d && (*d < '0' || *d > '9'))
        d++;
    if (sscanf(d, "%d.%d", &major, &minor) < 1)
        major = -1;
    int same = r->lang == LRT_PYTHON ? major == r->major && minor == r->minor
                                     : major == r->major;
    const char *who = "the platform's";
    if (client_path(r, dir, sizeof dir, script, sizeof script) != LRT_OK)
        who = "missing:";
    else if (strstr(script, "/ric.mjs"))
        who = "AWS's aws-lambda-ric through";
    fprintf(log, "nerd: function %s: %s on %s (%s), runtime client %s %s\n", f->name,
            f->runtime, interp, v[0] ? v : "version unknown", who, script);
    if (!same)
        fprintf(log, "nerd: warning: function %s: Runtime %s but %s is %s: run anyway (%s "
                "names another interpreter)\n", f->name, f->runtime, interp,
                v[0] ? v : "of an unknown version", r->lang == LRT_PYTHON ? "NERD_PYTHON"
                                                                        : "NERD_NODE");
}
