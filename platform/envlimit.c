/*
 * MemorySize → memory limit and CPU share per execution environment
 * (see envlimit.h).  Each environment gets its own cgroup under
 * <this process's cgroup>/nerd-<pid>/env-<n> (or under the hierarchy's
 * root when this process's own cgroup directory is not visible).
 */
#define _GNU_SOURCE
#include "envlimit.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct lim_env {
    char mem_dir[PATH_MAX];
    char cpu_dir[PATH_MAX];
    int mem_procs, cpu_procs, peak_fd;
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int want = 1;
static lim_mode mem_mode, cpu_mode;
static char mem_base[PATH_MAX - 64], cpu_base[PATH_MAX - 64]; /* the nerd-<pid> dirs */
static char why[256];
static atomic_int seq;

static int write_file(const char *dir, const char *name, const char *val)
{
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, val, strlen(val));
    close(fd);
    return n == (ssize_t)strlen(val) ? 0 : -1;
}

static int exists(const char *dir, const char *name)
{
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

/* This process's cgroup path in the hierarchy whose controller list holds
 * ctl ("" for the v2 unified one), from /proc/self/cgroup. */
static int own_path(const char *ctl, char *out, size_t cap)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    char line[1024];
    int found = -1;
    while (f && found && fgets(line, sizeof line, f)) {
        char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
        if (!b)
            continue;
        *b = 0;
        char *path = b + 1;
        path[strcspn(path, "\n")] = 0;
        const char *list = a + 1;
        int match = 0;
        if (!*ctl)
            match = !*list && !strncmp(line, "0", 1);
        else
            for (const char *s = list; *s;) {
                size_t n = strcspn(s, ",");
                if (n == strlen(ctl) && !strncmp(s, ctl, n))
                    match = 1;
                s += n + (s[n] == ',');
            }
        if (match && strlen(path) < cap) {
            memcpy(out, path, strlen(path) + 1);
            found = 0;
        }
    }
    if (f)
        fclose(f);
    return found;
}

/* Removes nerd-<pid>/env-* cgroups left by platforms that were killed. */
static void sweep(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        int pid;
        char tail;
        if (sscanf(de->d_name, "nerd-%d%c", &pid, &tail) != 1 || pid == (int)getpid() ||
            kill(pid, 0) == 0 || errno != ESRCH)
            continue;
        char sub[PATH_MAX + 80];
        snprintf(sub, sizeof sub, "%.4000s/%.64s", dir, de->d_name);
        DIR *s = opendir(sub);
        struct dirent *se;
        while (s && (se = readdir(s)))
            if (!strncmp(se->d_name, "env-", 4) || !strcmp(se->d_name, "probe")) {
                char p[PATH_MAX + 160];
                snprintf(p, sizeof p, "%.4070s/%.64s", sub, se->d_name);
                rmdir(p); /* fails, harmlessly, while processes remain */
            }
        if (s)
            closedir(s);
        rmdir(sub);
    }
    if (d)
        closedir(d);
}

/* Makes <mount><own>/nerd-<pid> (or <mount>/nerd-<pid>); 0 on success. */
static int make_base(const char *mount, const char *ctl, char *out, size_t cap)
{
    char own[PATH_MAX / 2] = "";
    char dir[PATH_MAX];
    struct stat st;
    if (own_path(ctl, own, sizeof own) == 0) {
        snprintf(dir, sizeof dir, "%s%s", mount, strcmp(own, "/") ? own : "");
        if (stat(dir, &st) != 0)
            snprintf(dir, sizeof dir, "%s", mount);
    } else {
        snprintf(dir, sizeof dir, "%s", mount);
    }
    sweep(dir);
    int n = snprintf(out, cap, "%s/nerd-%d", dir, (int)getpid());
    if (n < 0 || (size_t)n >= cap)
        return -1;
    if (mkdir(out, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static void cleanup(void)
{
    if (mem_base[0])
        rmdir(mem_base);
    if (cpu_base[0] && strcmp(cpu_base, mem_base))
        rmdir(cpu_base);
}

static void probe_once(void)
{
    if (!want) {
        snprintf(why, sizeof why, "disabled (--no-limits)");
        return;
    }
    struct stat st;
    if (stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0) {
        /* cgroup v2: controllers must be enabled for our subtree */
        char own[PATH_MAX / 2] = "", dir[PATH_MAX];
        if (own_path("", own, sizeof own) == 0) {
            snprintf(dir, sizeof dir, "/sys/fs/cgroup%s", strcmp(own, "/") ? own : "");
            write_file(dir, "cgroup.subtree_control", "+memory");
            write_file(dir, "cgroup.subtree_control", "+cpu");
            if (make_base("/sys/fs/cgroup", "", mem_base, sizeof mem_base) == 0) {
                write_file(mem_base, "cgroup.subtree_control", "+memory");
                write_file(mem_base, "cgroup.subtree_control", "+cpu");
                char probe[PATH_MAX + 16];
                snprintf(probe, sizeof probe, "%s/probe", mem_base);
                if (mkdir(probe, 0755) == 0 || errno == EEXIST) {
                    if (exists(probe, "memory.max"))
                        mem_mode = LIM_CGROUP2;
                    if (exists(probe, "cpu.max"))
                        cpu_mode = LIM_CGROUP2;
                    rmdir(probe);
                }
                if (cpu_mode == LIM_CGROUP2)
                    snprintf(cpu_base, sizeof cpu_base, "%s", mem_base);
                if (mem_mode == LIM_OFF && cpu_mode == LIM_OFF) {
                    rmdir(mem_base);
                    mem_base[0] = 0;
                }
            }
        }
    }
    if (mem_mode == LIM_OFF && stat("/sys/fs/cgroup/memory/memory.limit_in_bytes", &st) == 0 &&
        make_base("/sys/fs/cgroup/memory", "memory", mem_base, sizeof mem_base) == 0) {
        write_file(mem_base, "memory.use_hierarchy", "1"); /* already 1 on new kernels */
        if (exists(mem_base, "memory.limit_in_bytes"))
            mem_mode = LIM_CGROUP1;
        else {
            rmdir(mem_base);
            mem_base[0] = 0;
        }
    }
    if (cpu_mode == LIM_OFF && stat("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", &st) == 0 &&
        make_base("/sys/fs/cgroup/cpu", "cpu", cpu_base, sizeof cpu_base) == 0) {
        if (exists(cpu_base, "cpu.cfs_quota_us"))
            cpu_mode = LIM_CGROUP1;
        else {
            rmdir(cpu_base);
            cpu_base[0] = 0;
        }
    }
    if (mem_mode == LIM_OFF)
        mem_mode = LIM_RLIMIT;
    atexit(cleanup);
}

void lim_probe(int enable)
{
    want = enable;
    pthread_once(&once, probe_once);
}

lim_mode lim_memory_mode(void) { return mem_mode; }
lim_mode lim_cpu_mode(void) { return cpu_mode; }

void lim_describe(char *out, size_t cap)
{
    static const char *mem[] = {"not enforced", "cgroup v2 memory.max", "cgroup v1 memory.limit_in_bytes",
                                ("RLIMIT_AS (no writable memory cgroup; virtual-memory-hungry "
                                 "runtimes may need --no-limits)")};
    static const char *cpu[] = {"not enforced (no writable cpu cgroup)", "cgroup v2 cpu.max",
                                "cgroup v1 cpu.cfs_quota_us", ""};
    if (why[0])
        snprintf(out, cap, "limits: %s", why);
    else
        snprintf(out, cap, "limits: memory = MemorySize via %s; cpu = MemorySize/%d MB vCPU via %s",
                 mem[mem_mode], LIM_MB_PER_VCPU, cpu[cpu_mode]);
}

#define LIM__STR2(x) #x
#define LIM__STR(x) LIM__STR2(x)

static long quota_us(int memory_mb)
{
    long q = (long)LIM_CPU_PERIOD_US * memory_mb / LIM_MB_PER_VCPU;
    return q < 1000 ? 1000 : q;
}

lim_env *lim_env_new(int memory_mb, char *err, size_t errlen)
{
    if (mem_mode == LIM_OFF && cpu_mode == LIM_OFF)
        return NULL;
    lim_env *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->mem_procs = l->cpu_procs = l->peak_fd = -1;
    int n = atomic_fetch_add(&seq, 1);
    char v[64];
    const char *fail = NULL;
    long long bytes = (long long)memory_mb << 20;
    if (mem_mode == LIM_CGROUP2 || mem_mode == LIM_CGROUP1) {
        snprintf(l->mem_dir, sizeof l->mem_dir, "%s/env-%d", mem_base, n);
        snprintf(v, sizeof v, "%lld", bytes);
        if (mkdir(l->mem_dir, 0755) != 0 && errno != EEXIST)
            fail = "mkdir";
        else if (mem_mode == LIM_CGROUP2) {
            if (write_file(l->mem_dir, "memory.max", v) ||
                (exists(l->mem_dir, "memory.swap.max") && write_file(l->mem_dir, "memory.swap.max", "0")))
                fail = "memory.max";
        } else {
            if (write_file(l->mem_dir, "memory.limit_in_bytes", v))
                fail = "memory.limit_in_bytes";
            else if (exists(l->mem_dir, "memory.memsw.limit_in_bytes"))
                write_file(l->mem_dir, "memory.memsw.limit_in_bytes", v);
        }
        char p[PATH_MAX + 64];
        snprintf(p, sizeof p, "%s/cgroup.procs", l->mem_dir);
        if (!fail && (l->mem_procs = open(p, O_WRONLY | O_CLOEXEC)) < 0)
            fail = "cgroup.procs";
        snprintf(p, sizeof p, "%s/%s", l->mem_dir,
                 mem_mode == LIM_CGROUP2 ? "memory.peak" : "memory.max_usage_in_bytes");
        l->peak_fd = open(p, O_RDONLY | O_CLOEXEC);
    }
    if (!fail && (cpu_mode == LIM_CGROUP2 || cpu_mode == LIM_CGROUP1)) {
        if (cpu_mode == LIM_CGROUP2 && mem_mode == LIM_CGROUP2) {
            snprintf(v, sizeof v, "%ld %d", quota_us(memory_mb), LIM_CPU_PERIOD_US);
            if (write_file(l->mem_dir, "cpu.max", v))
                fail = "cpu.max";
        } else {
            snprintf(l->cpu_dir, sizeof l->cpu_dir, "%s/env-%d", cpu_base, n);
            if (mkdir(l->cpu_dir, 0755) != 0 && errno != EEXIST)
                fail = "mkdir cpu";
            else if (cpu_mode == LIM_CGROUP2) {
                snprintf(v, sizeof v, "%ld %d", quota_us(memory_mb), LIM_CPU_PERIOD_US);
                if (write_file(l->cpu_dir, "cpu.max", v))
                    fail = "cpu.max";
            } else {
                snprintf(v, sizeof v, "%ld", quota_us(memory_mb));
                if (write_file(l->cpu_dir, "cpu.cfs_period_us", LIM__STR(LIM_CPU_PERIOD_US)) ||
                    write_file(l->cpu_dir, "cpu.cfs_quota_us", v))
                    fail = "cpu.cfs_quota_us";
            }
            char p[PATH_MAX + 64];
            snprintf(p, sizeof p, "%s/cgroup.procs", l->cpu_dir);
            if (!fail && (l->cpu_procs = open(p, O_WRONLY | O_CLOEXEC)) < 0)
                fail = "cgroup.procs (cpu)";
        }
    }
    if (fail) {
        if (err && errlen)
            snprintf(err, errlen, "cgroup %s: %s", fail, strerror(errno));
        lim_env_free(l);
        return NULL;
    }
    return l;
}

static int write_pid(int fd)
{
    char b[24];
    int i = (int)sizeof b;
    unsigned long p = (unsigned long)getpid();
    do {
        b[--i] = (char)('0' + p % 10);
        p /= 10;
    } while (p);
    return write(fd, b + i, sizeof b - (size_t)i) == (ssize_t)(sizeof b - (size_t)i) ? 0 : -1;
}

int lim_env_enter(const lim_env *l, int memory_mb)
{
    int rc = 0;
    if (mem_mode == LIM_RLIMIT && memory_mb > 0) {
        struct rlimit r = {(rlim_t)memory_mb << 20, (rlim_t)memory_mb << 20};
        rc |= setrlimit(RLIMIT_AS, &r);
    }
    if (!l)
        return rc;
    if (l->mem_procs >= 0)
        rc |= write_pid(l->mem_procs);
    if (l->cpu_procs >= 0)
        rc |= write_pid(l->cpu_procs);
    return rc;
}

long lim_env_peak_mb(const lim_env *l)
{
    if (!l || l->peak_fd < 0)
        return -1;
    char b[32];
    ssize_t n = pread(l->peak_fd, b, sizeof b - 1, 0);
    if (n <= 0)
        return -1;
    b[n] = 0;
    long long v = strtoll(b, NULL, 10);
    return (long)((v + (1 << 20) - 1) >> 20);
}

static void remove_dir(const char *d)
{
    if (!d[0])
        return;
    for (int i = 0; i < 100 && rmdir(d) != 0 && errno == EBUSY; i++) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL); /* killed tasks leave the cgroup asynchronously */
    }
}

void lim_env_free(lim_env *l)
{
    if (!l)
        return;
    if (l->mem_procs >= 0)
        close(l->mem_procs);
    if (l->cpu_procs >= 0)
        close(l->cpu_procs);
    if (l->peak_fd >= 0)
        close(l->peak_fd);
    remove_dir(l->mem_dir);
    remove_dir(l->cpu_dir);
    free(l);
}
