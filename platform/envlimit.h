/*
 * MemorySize enforcement for execution environments, as Lambda does it:
 * the memory limit is MemorySize MB and CPU is proportional to memory
 * (1,769 MB = one vCPU).  Uses what the machine allows, best first:
 * cgroup v2 (memory.max, cpu.max, memory.peak), cgroup v1
 * (memory.limit_in_bytes, cpu.cfs_quota_us, memory.max_usage_in_bytes),
 * else RLIMIT_AS for memory and nothing for CPU.  lim_probe() finds out
 * once per process; lim_describe() says what was found, for start-up logs.
 */
#ifndef NERD_ENVLIMIT_H
#define NERD_ENVLIMIT_H

#include <stddef.h>
#include <sys/types.h>

#define LIM_MB_PER_VCPU 1769
/* The CPU share's accounting period.  Lambda's, as observed, is 20 ms (a
 * function past its share of one 20 ms slice pauses to the slice's end:
 * pwrdrvr/lambda-dispatch#246), not the kernel's default 100 ms, whose
 * pauses at 128 MB last up to 93 ms. */
#define LIM_CPU_PERIOD_US 20000

typedef enum lim_mode {
    LIM_OFF = 0,   /* nothing enforced (disabled, or nothing available) */
    LIM_CGROUP2,
    LIM_CGROUP1,
    LIM_RLIMIT     /* memory only: RLIMIT_AS */
} lim_mode;

/* Per-environment limits: cgroups made for one process tree. */
typedef struct lim_env lim_env;

/* Chooses the mechanisms (once; later calls return the first answer).
 * enable = 0 turns enforcement off.  Thread-safe. */
void lim_probe(int enable);

/* The chosen mechanisms (after lim_probe). */
lim_mode lim_memory_mode(void);
lim_mode lim_cpu_mode(void);

/* One line describing what is enforced and how, e.g. for `start-api`. */
void lim_describe(char *out, size_t cap);

/* Makes the limits for one environment of memory_mb MB.  Returns NULL when
 * nothing is enforced or on error (the reason in err if err != NULL and
 * errlen > 0: then the environment runs unlimited).  Not thread-safe for
 * the same lim_env; distinct lim_envs are independent. */
lim_env *lim_env_new(int memory_mb, char *err, size_t errlen);

/* In a forked child before exec: moves the calling process into the
 * environment's cgroups or sets its rlimit.  Async-signal-safe.  Returns 0
 * or -1.  l may be NULL (no-op). */
int lim_env_enter(const lim_env *l, int memory_mb);

/* Peak memory of the environment in MB since it was made, or -1 when the
 * mechanism cannot tell (the caller falls back to the process's VmHWM). */
long lim_env_peak_mb(const lim_env *l);

/* Removes the cgroups (their processes must be gone) and frees l.
 * lim_env_free(NULL) is a no-op. */
void lim_env_free(lim_env *l);

#endif
