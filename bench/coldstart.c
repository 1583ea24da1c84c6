/*
 * The NER function's cold start for `make bench` (bench/coldstart.sh): a
 * stand-in Lambda Runtime API listener on loopback that starts `bootstrap`
 * N times (posix_spawn, as a platform would) and, for each start, times
 * exec → model loaded → the first byte of its first request (GET
 * /2018-06-01/runtime/invocation/next), reads the process's VmRSS from
 * /proc/PID/status while it waits in that /next (it is never answered),
 * then kills it.  The same again with a model path that does not exist
 * (the first request is then POST /init/error): what exec, dynamic linking
 * and the runtime's own start cost without the model.  One warm-up start
 * of each kind is not counted.
 *
 *   coldstart BOOTSTRAP MODEL [N]      (N starts of each kind, default 50)
 *
 * Prints "coldstart: ..." lines: median, p95, min and max in ms, and
 * median and max VmRSS in MB.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS 10000

extern char **environ;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* VmRSS of pid in kB, or -1. */
static long vmrss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

/* One start: spawns boot with model, waits for its first request (which
 * must begin with want); *ms: exec to the request's first byte, *rss_kb:
 * VmRSS then.  0, or -1 with a message on stderr. */
static int one(int lfd, const char *boot, const char *model, const char *want, double *ms,
               long *rss_kb)
{
    char env_model[4200];
    snprintf(env_model, sizeof env_model, "NERD_MODEL=%s", model);
    if (putenv(env_model)) /* environ is what posix_spawn passes */
        return -1;
    char *argv[] = {(char *)boot, NULL};
    posix_spawn_file_actions_t fa; /* its stderr (init failures) to /dev/null */
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    double t0 = now_ms();
    int e = posix_spawn(&pid, boot, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e) {
        fprintf(stderr, "coldstart: spawn %s: %s\n", boot, strerror(e));
        return -1;
    }
    int rc = -1, fd = -1;
    struct pollfd pf = {lfd, POLLIN, 0};
    if (poll(&pf, 1, 10000) != 1) {
        fprintf(stderr, "coldstart: %s did not connect within 10 s\n", boot);
        goto out;
    }
    fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        goto out;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    double t1 = now_ms();
    if (n <= 0) {
        fprintf(stderr, "coldstart: no request from %s\n", boot);
        goto out;
    }
    /* the rest of the request line, if it came in pieces */
    size_t got = (size_t)n;
    while (got < sizeof buf - 1 && !memchr(buf, '\n', got)) {
        n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    buf[got] = 0;
    if (strncmp(buf, want, strlen(want))) {
        fprintf(stderr, "coldstart: want \"%s\", got \"%.80s\"\n", want, buf);
        goto out;
    }
    *rss_kb = vmrss_kb(pid);
    *ms = t1 - t0;
    rc = 0;
out:
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (fd >= 0)
        close(fd);
    return rc;
}

static void report(const char *what, double *ms, long *kb, int n)
{
    qsort(ms, (size_t)n, sizeof *ms, cmp);
    printf("coldstart: %s (%d starts): median %.2f ms, p95 %.2f ms, min %.2f ms, max %.2f ms\n",
           what, n, ms[n / 2], ms[(int)(n * 0.95)], ms[0], ms[n - 1]);
    if (kb) {
        double mb[MAX_RUNS];
        for (int i = 0; i < n; i++)
            mb[i] = (double)kb[i] / 1024.0;
        qsort(mb, (size_t)n, sizeof *mb, cmp);
        printf("coldstart: resident memory (VmRSS) waiting in its first /next: median %.1f MB, "
               "max %.1f MB\n", mb[n / 2], mb[n - 1]);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fputs("usage: coldstart BOOTSTRAP MODEL [N]\n", stderr);
        return 2;
    }
    int n = argc > 3 ? atoi(argv[3]) : 50;
    if (n < 1 || n > MAX_RUNS) {
        fputs("coldstart: N from 1 to 10000\n", stderr);
        return 2;
    }
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 16) ||
        getsockname(lfd, (struct sockaddr *)&a, &al)) {
        perror("coldstart: listen");
        return 1;
    }
    char api[64];
    snprintf(api, sizeof api, "127.0.0.1:%d", ntohs(a.sin_port));
    setenv("AWS_LAMBDA_RUNTIME_API", api, 1);
    unsetenv("PORT"); /* the runtime mode, not the HTTP one */
    unsetenv("NERD_MAX_TEXT_BYTES");
    static double ms[MAX_RUNS];
    static long kb[MAX_RUNS];
    double w;
    long wk;
    const char *next = "GET /2018-06-01/runtime/invocation/next ";
    if (one(lfd, argv[1], argv[2], next, &w, &wk))
        return 1;
    for (int i = 0; i < n; i++)
        if (one(lfd, argv[1], argv[2], next, &ms[i], &kb[i]))
            return 1;
    report("exec -> model loaded -> first /next", ms, kb, n);
    /* without a model: the first request is the init error */
    const char *init = "POST /2018-06-01/runtime/init/error ";
    if (one(lfd, argv[1], "/nonexistent/model.nerd", init, &w, &wk))
        return 1;
    for (int i = 0; i < n; i++)
        if (one(lfd, argv[1], "/nonexistent/model.nerd", init, &ms[i], &kb[i]))
            return 1;
    report("of which exec, dynamic linking and the runtime's start (no model: exec -> "
           "first /init/error)", ms, NULL, n);
    close(lfd);
    return 0;
}
