/*
 * An environment's process: bootstrap started in its own process group
 * and cgroups with Lambda's environment variables (spawned as posix_spawn
 * does, without copying the platform's memory; Init Duration counts from
 * the sandbox being ready), its exit seen through a pidfd and reported as
 * Lambda does, its memory high-water mark, and Lambda's retry of a failed
 * init.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "langrt.h"
#include "runtime_int.h"

long lam__max_memory_mb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6))
            kb = atol(line + 6);
    if (f)
        fclose(f);
    return (kb + 1023) / 1024;
}

void lam__pid_close(lam_env *e)
{
    if (e->pidfd >= 0) {
        ev_io_stop(e->L, &e->pio);
        close(e->pidfd);
        e->pidfd = -1;
    }
}

void lam__kill(lam_env *e)
{
    if (e->pid > 0 && e->alive) {
        kill(-e->pid, SIGKILL);
        kill(e->pid, SIGKILL);
        waitpid(e->pid, NULL, 0);
    }
    e->alive = 0;
    lam__pid_close(e);
}

/* The process exited: reports it as Lambda does (in init: the init's
 * failure; during an invocation: Runtime.ExitError). */
static void reap(lam_env *e)
{
    int st;
    if (!e->alive || waitpid(e->pid, &st, WNOHANG) != e->pid)
        return;
    e->alive = 0;
    lam__pid_close(e);
    kill(-e->pid, SIGKILL); /* as Lambda: the sandbox goes with its runtime */
    lam__drain_output(e);
    char msg[256], js[512];
    if (WIFSIGNALED(st))
        snprintf(msg, sizeof msg, "signal: %s", WTERMSIG(st) == SIGKILL ? "killed"
                                                                        : strsignal(WTERMSIG(st)));
    else
        snprintf(msg, sizeof msg, "exit status %d", WEXITSTATUS(st));
    if (e->inited <= 0 || e->phase == LAM__P_PREWARM || e->phase == LAM__P_INIT ||
        e->phase == LAM__P_RETRY) { /* in init: reported by init_report */
        char m[320];
        int n = snprintf(m, sizeof m, "Runtime exited with error: %s", msg);
        lam__init_fail(e, "Runtime.ExitError", m, (size_t)n, NULL, 0, 0);
        return;
    }
    if (e->phase != LAM__P_INVOKE)
        return;
    if (e->state == LAM__ST_PENDING || e->state == LAM__ST_RUNNING) /* as Lambda logs it */
        lam__logf(e, "RequestId: %s Error: Runtime exited with error: %s\nRuntime.ExitError\n",
              e->rid, msg);
    if (e->state == LAM__ST_PENDING || e->state == LAM__ST_RUNNING) {
        int n = snprintf(js, sizeof js, "{\"errorMessage\":\"RequestId: %s Error: Runtime exited "
                         "with error: %s\",\"errorType\":\"Runtime.ExitError\"}", e->rid, msg);
        lam__set_result(e, e->state == LAM__ST_PENDING ? LAM_INIT_ERROR : LAM_EXIT_ERROR, js,
                        (size_t)n);
    }
}

static void on_output(ev_loop *L, ev_io *w, uint32_t revents)
{
    (void)L;
    (void)revents;
    lam_env *e = w->data;
    lam__read_output(e);
    lam__advance(e);
}

static void on_exit_fd(ev_loop *L, ev_io *w, uint32_t revents)
{
    (void)L;
    (void)revents;
    lam_env *e = w->data;
    reap(e);
    if (e->alive) /* not ours to reap (waitpid failed): stop watching */
        lam__pid_close(e);
    lam__advance(e);
}

void lam__log_init_start(lam_env *e)
{
    /* Lambda names its runtime version (python:3.11.v29, nodejs:20.v22) */
    const lrt_runtime *r = lrt_find(e->f.runtime);
    char v[32] = "provided:al2023";
    if (r && r->lang == LRT_PYTHON)
        snprintf(v, sizeof v, "python:%d.%d", r->major, r->minor);
    else if (r && r->lang == LRT_NODE)
        snprintf(v, sizeof v, "nodejs:%d", r->major);
    lam__logf(e, "INIT_START Runtime Version: %s.v1\tRuntime Version ARN: "
              "arn:aws:lambda:us-east-1::runtime:nerd-local\n", v);
}

#define CHILD_STACK (64 * 1024)

/* What the child of lam__spawn() needs; t0 is written by it. */
typedef struct child_args {
    lam_env *e;
    const lrt_launch *l;   /* executable, argv, layers to mount */
    char **argv;
    char **envp;
    int out_fd;
    sigset_t mask; /* the platform thread's, restored for the runtime */
    volatile double t0;
} child_args;

/* The child between clone and exec: it runs on its own stack in the
 * platform's memory, so it only makes system calls (no allocation, no
 * stdio) and writes nothing but ca->t0. */
static int child_main(void *arg)
{
    child_args *ca = arg;
    lam_env *e = ca->e;
    for (int s = 1; s < NSIG; s++) { /* the platform's handlers are not the runtime's */
        struct sigaction sa;
        if (sigaction(s, NULL, &sa) == 0 && sa.sa_handler != SIG_IGN &&
            sa.sa_handler != SIG_DFL) {
            sa.sa_handler = SIG_DFL;
            sa.sa_flags = 0;
            sigaction(s, &sa, NULL);
        }
    }
    setpgid(0, 0);
    /* the runtime goes when the thread that started it does (a platform
     * that crashed leaves no runtimes behind); the platform stops its
     * environments before its threads end */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* its CPU: the one its platform thread runs on, or any (not the
     * forking thread's own pin) */
    cpu_set_t cs;
    CPU_ZERO(&cs);
    if (e->cpu >= 0 && e->cpu < CPU_SETSIZE)
        CPU_SET(e->cpu, &cs);
    else
        for (int c = 0; c < CPU_SETSIZE; c++)
            CPU_SET(c, &cs);
    sched_setaffinity(0, sizeof cs, &cs);
    lim_env_enter(e->lim, e->f.memory_mb);
    dup2(ca->out_fd, 1);
    dup2(ca->out_fd, 2);
    int nul = open("/dev/null", O_RDONLY);
    if (nul >= 0)
        dup2(nul, 0);
    if (chdir(e->f.code_uri) != 0)
        _exit(126);
    if (ca->l->fail[0]) { /* as AWS's bootstrap: a wrapper that is not there */
        if (write(1, ca->l->fail, strlen(ca->l->fail)) < 0)
            _exit(ca->l->fail_status);
        _exit(ca->l->fail_status);
    }
    if (lyr_enter(&ca->l->mnt) != 0) {
        static const char m[] = "nerd: layers: mounting them on /opt failed "
                                "(NERD_LAYERS=paths puts them on the search paths)\n";
        if (write(1, m, sizeof m - 1) < 0)
            _exit(126);
        _exit(126);
    }
    sigprocmask(SIG_SETMASK, &ca->mask, NULL);
    ca->t0 = clk_mono_ms();
    execve(ca->l->exe, ca->argv, ca->envp);
    ca->t0 = 0;
    _exit(127);
}

/* Starts bootstrap (its own process group, limits, Lambda's variables);
 * log_start: write INIT_START first (a cold start, not Lambda's retry). */
int lam__spawn(lam_env *e, int log_start, char *err, size_t errlen)
{
    lrt_launch *l = malloc(sizeof *l);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (lrt_prepare(&e->f, getenv("PATH"), l, err, errlen) != LRT_OK) {
        free(l);
        return -1;
    }
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        free(l);
        return -1;
    }
    char (*envs)[2200] = malloc(sizeof(char[2200]) * (SAM_MAX_ENV + 32));
    char *envp[SAM_MAX_ENV + 33 + LRT_MAX_ENV];
    char *argv[LRT_MAX_ARGS + 1];
    if (!envs) {
        close(pfd[0]);
        close(pfd[1]);
        free(l);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int k = 0;
#define ENV(...) snprintf(envs[k], sizeof envs[k], __VA_ARGS__), envp[k] = envs[k], k++
    for (size_t i = 0; i < e->f.n_env; i++)
        ENV("%s=%s", e->f.env[i].key, e->f.env[i].value);
    ENV("AWS_LAMBDA_RUNTIME_API=127.0.0.1:%d", e->port);
    ENV("_HANDLER=%s", e->f.handler);
    ENV("LAMBDA_TASK_ROOT=%s", e->f.code_uri);
    ENV("AWS_LAMBDA_FUNCTION_NAME=%s", e->f.name);
    ENV("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%d", e->f.memory_mb);
    ENV("AWS_LAMBDA_FUNCTION_VERSION=$LATEST");
    ENV("AWS_LAMBDA_FUNCTION_TIMEOUT=%d", e->f.timeout_s);
    ENV("AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/%s", e->f.name);
    ENV("AWS_LAMBDA_LOG_STREAM_NAME=$LATEST");
    ENV("AWS_LAMBDA_INITIALIZATION_TYPE=on-demand");
    ENV("AWS_REGION=us-east-1");
    ENV("AWS_DEFAULT_REGION=us-east-1");
    ENV("AWS_ACCESS_KEY_ID=local");
    ENV("AWS_SECRET_ACCESS_KEY=local");
    ENV("AWS_SESSION_TOKEN=local");
    ENV("TZ=:UTC");
    ENV("LANG=en_US.UTF-8");
#undef ENV
    for (int i = 0; i < l->n_env; i++) /* PATH, LD_LIBRARY_PATH, LAMBDA_RUNTIME_DIR, the runtime's */
        envp[k++] = l->env[i];
    envp[k] = NULL;
    for (int i = 0; i < l->n_args; i++)
        argv[i] = l->args[i];
    argv[l->n_args] = NULL;
    char lerr[256] = "";
    e->lim = lim_env_new(e->f.memory_mb, lerr, sizeof lerr);
    if (!e->lim && lerr[0])
        lam__logf(e, "nerd: %s: limits not applied to this environment\n", lerr);
    /* The child shares the platform's memory until its exec (clone with
     * CLONE_VM | CLONE_VFORK, as posix_spawn does): nothing of the
     * platform's address space is copied, and this thread waits until the
     * runtime has exec'd.  Signals are blocked meanwhile, and the child
     * sets the platform's handlers back to the default before it unblocks
     * them for the runtime. */
    child_args ca = {.e = e, .l = l, .argv = argv, .envp = envp, .out_fd = pfd[1]};
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &ca.mask);
    void *stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    pid_t pid = stack == MAP_FAILED ? -1
                                    : clone(child_main, (char *)stack + CHILD_STACK,
                                            CLONE_VM | CLONE_VFORK | SIGCHLD |
                                                (l->mnt.kind ? CLONE_NEWNS : 0), &ca);
    int clone_errno = errno;
    pthread_sigmask(SIG_SETMASK, &ca.mask, NULL);
    if (stack != MAP_FAILED)
        munmap(stack, CHILD_STACK);
    free(envs);
    free(l);
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        snprintf(err, errlen, "clone: %s", strerror(stack == MAP_FAILED ? ENOMEM : clone_errno));
        return -1;
    }
    setpgid(pid, pid);
    /* the moment the sandbox was ready (taken by the child right before
     * its exec): Init Duration counts from there, as Lambda's init phase
     * does */
    e->spawn_t = ca.t0 > 0 ? ca.t0 : clk_mono_ms();
    close(pfd[1]);
    e->out_fd = pfd[0];
    fcntl(e->out_fd, F_SETFL, O_NONBLOCK);
    e->pid = pid;
    e->alive = 1;
    ev_io_start(e->L, &e->oio, e->out_fd, EPOLLIN, on_output, e);
    e->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (e->pidfd >= 0)
        ev_io_start(e->L, &e->pio, e->pidfd, EPOLLIN, on_exit_fd, e);
    if (log_start) {
        e->tail_len = 0; /* an environment's log starts here */
        lam__log_init_start(e);
    }
    return 0;
}

int lam_check_bootstrap(const sam_function *f, char *msg, size_t cap)
{
    char exe[1200];
    struct stat st;
    const lrt_runtime *r = lrt_find(f->runtime);
    if (r && r->lang != LRT_PROVIDED) /* an interpreter and the platform's client */
        return lrt_check(f, msg, cap);
    snprintf(exe, sizeof exe, "%s/bootstrap", f->code_uri);
    if (stat(f->code_uri, &st) != 0 || !S_ISDIR(st.st_mode))
        snprintf(msg, cap, "CodeUri %s does not exist", f->code_uri);
    else if (stat(exe, &st) != 0)
        snprintf(msg, cap, "%s does not exist", exe);
    else if (!S_ISREG(st.st_mode) || access(exe, X_OK) != 0)
        snprintf(msg, cap, "%s is not executable", exe);
    else
        return 0;
    return -1;
}

/* No bootstrap to run: records Runtime.InvalidEntrypoint with Lambda's
 * messages ("Couldn't find valid bootstrap(s)", or the exec error of one
 * that is there but not executable). */
void lam__no_bootstrap(lam_env *e)
{
    char exe[1200], m[1400];
    struct stat st;
    snprintf(exe, sizeof exe, "%s/bootstrap", e->f.code_uri);
    const lrt_runtime *r = lrt_find(e->f.runtime);
    int n = r && r->lang != LRT_PROVIDED && lrt_check(&e->f, m, sizeof m) != 0
                ? (int)strlen(m)
            : stat(exe, &st) == 0 ? snprintf(m, sizeof m, "fork/exec %s: permission denied", exe)
                                  : snprintf(m, sizeof m, "Couldn't find valid bootstrap(s): [%s]",
                                             exe);
    e->inited = -2;
    e->alive = 0;
    e->spawn_t = clk_mono_ms();
    lam__init_fail(e, "Runtime.InvalidEntrypoint", m, n > 0 ? (size_t)n : 0, NULL, 0, 0);
}

/* Clears what the failed attempt left (process, connections, output,
 * limits, error) and starts bootstrap again, as Lambda's retry does (no
 * second INIT_START).  0, or -1 with e->ierr_* set. */
int lam__respawn(lam_env *e)
{
    lam__kill(e);
    lam__out_close(e);
    for (int i = 0; i < LAM__MAX_CONNS; i++)
        if (e->conns[i].fd >= 0)
            lam__conn_close(&e->conns[i]);
    lim_env_free(e->lim);
    e->lim = NULL;
    free(e->ierr_body);
    e->ierr_body = NULL;
    e->ierr_body_len = 0;
    e->ierr_type[0] = e->ierr_msg[0] = 0;
    e->ierr_timeout = 0;
    e->inited = 0;
    e->pid = -1;
    char why[1400], err[256];
    if (lam_check_bootstrap(&e->f, why, sizeof why) != 0) {
        lam__no_bootstrap(e);
        return -1;
    }
    if (lam__spawn(e, 0, err, sizeof err) != 0) {
        e->spawn_t = clk_mono_ms();
        lam__init_fail(e, "Runtime.Unknown", err, strlen(err), NULL, 0, 0);
        return -1;
    }
    return 0;
}

