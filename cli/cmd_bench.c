/*
 * `nerd bench`: the engine's speed on this machine — model load time and
 * resident memory (in a fresh child process), per-call latency on the
 * study's sentence (p50/p90/p99), bulk tokens/s over the reference texts on
 * one core and on all cores, and the compute efficiency against the core's
 * peak.  Figures are medians of repeated runs; nothing here asserts a time.
 */
#define _DEFAULT_SOURCE
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define STUDY "Alan Turing was born on June 23, 1912, in London, England."
/* nominal model FLOPs per token: mix 2*384*288, CNN 4*2*288*288, parser
 * lower 2*96*768 and upper 2*64*74 */
#define FLOPS_PER_TOKEN (2.0 * 384 * 288 + 4 * 2.0 * 288 * 288 + 2.0 * 96 * 768 + 2.0 * 64 * 74)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, dcmp);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

static long rss_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t fl = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, fl))
            v = atol(line + fl + 1);
    if (f)
        fclose(f);
    return v;
}

typedef struct corpus {
    char **text;
    size_t *len;
    size_t n, cap;
} corpus;

static void corpus_add(corpus *c, const char *s)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 1024;
        c->text = realloc(c->text, c->cap * sizeof *c->text);
        c->len = realloc(c->len, c->cap * sizeof *c->len);
    }
    c->text[c->n] = strdup(s);
    c->len[c->n] = strlen(s);
    c->n++;
}

static void load_jsonl(corpus *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t r;
    while ((r = getline(&line, &cap, f)) > 0) {
        json_t *j = json_loadb(line, (size_t)r, 0, NULL);
        const char *t = json_string_value(json_object_get(j, "text"));
        if (t)
            corpus_add(c, t);
        json_decref(j);
    }
    free(line);
    fclose(f);
}

/* Load time and memory, measured in a child that has done nothing else. */
static void bench_load(const char *model)
{
    int fd[2];
    if (pipe(fd))
        return;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        double t[25];
        long rss0 = rss_kb("VmRSS:");
        ner_model *m = NULL;
        ner_ctx *c = NULL;
        for (int i = 0; i < 25; i++) {
            double a = now();
            if (ner_model_load(model, &m) || ner_ctx_new(m, &c))
                _exit(1);
            t[i] = now() - a;
            if (i < 24) {
                ner_ctx_free(c);
                ner_model_free(m);
            }
        }
        long rss1 = rss_kb("VmRSS:");
        ner_doc d;
        ner_extract(c, STUDY, strlen(STUDY), &d);
        long rss2 = rss_kb("VmRSS:");
        double first = t[0];
        double med = pct(t, 25, 0.5);
        char buf[256];
        int n = snprintf(buf, sizeof buf, "%.3f %.3f %ld %ld %ld", first * 1e3,
                         med * 1e3, rss0, rss1, rss2);
        if (write(fd[1], buf, (size_t)n) < 0)
            _exit(1);
        _exit(0);
    }
    close(fd[1]);
    char buf[256] = {0};
    ssize_t n = read(fd[0], buf, sizeof buf - 1);
    close(fd[0]);
    waitpid(pid, NULL, 0);
    double first, med;
    long r0, r1, r2;
    if (n > 0 && sscanf(buf, "%lf %lf %ld %ld %ld", &first, &med, &r0, &r1, &r2) == 5) {
        printf("load     model load + context: first %.2f ms, median %.2f ms (25 loads)\n",
               first, med);
        printf("memory   resident: %.1f MB before load, %.1f MB after load, "
               "%.1f MB after first call\n", r0 / 1024.0, r1 / 1024.0, r2 / 1024.0);
    } else {
        printf("load     failed\n");
    }
}

static void bench_latency(ner_ctx *c, int calls)
{
    ner_doc d;
    for (int i = 0; i < 500; i++)
        ner_extract(c, STUDY, strlen(STUDY), &d);
    double *t = malloc((size_t)calls * sizeof *t);
    for (int i = 0; i < calls; i++) {
        double a = now();
        ner_extract(c, STUDY, strlen(STUDY), &d);
        t[i] = now() - a;
    }
    double p50 = pct(t, (size_t)calls, 0.5), p90 = pct(t, (size_t)calls, 0.9),
           p99 = pct(t, (size_t)calls, 0.99);
    printf("latency  study sentence (%zu tokens), %d calls: p50 %.1f us, p90 %.1f us, "
           "p99 %.1f us (%.0f calls/s at p50)\n", d.n_tokens, calls, p50 * 1e6,
           p90 * 1e6, p99 * 1e6, 1.0 / p50);
    free(t);
}

typedef struct worker {
    const ner_model *m;
    const corpus *c;
    size_t from, to;
    int passes;
    double secs;
    size_t tokens;
    ner_stats st;
} worker;

static void *run_worker(void *arg)
{
    worker *w = arg;
    ner_ctx *c;
    if (ner_ctx_new(w->m, &c))
        return NULL;
    ner_doc d;
    double a = now();
    w->tokens = 0;
    for (int p = 0; p < w->passes; p++)
        for (size_t i = w->from; i < w->to; i++) {
            if (ner_extract(c, w->c->text[i], w->c->len[i], &d) == 0)
                w->tokens += d.n_tokens;
        }
    w->secs = now() - a;
    ner_ctx_stats(c, &w->st);
    ner_ctx_free(c);
    return NULL;
}

static ner_stats last_stats;

static double bulk(const ner_model *m, const corpus *c, int threads, int passes,
                   size_t *tokens)
{
    worker w[16];
    pthread_t th[16];
    for (int i = 0; i < threads; i++) {
        w[i] = (worker){m, c, c->n * (size_t)i / (size_t)threads,
                        c->n * (size_t)(i + 1) / (size_t)threads, passes, 0, 0, {0}};
        pthread_create(&th[i], NULL, run_worker, &w[i]);
    }
    double secs = 0;
    *tokens = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        if (w[i].secs > secs)
            secs = w[i].secs;
        *tokens += w[i].tokens;
        if (i == 0)
            last_stats = w[i].st;
    }
    return (double)*tokens / secs;
}

#if defined(__x86_64__)
#include <immintrin.h>
/* Measured FMA peak of one core: 12 independent 8-wide FMA chains. */
__attribute__((target("avx2,fma"))) static double fma_peak(void)
{
    __m256 a0 = _mm256_set1_ps(1.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0,
           a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
    const __m256 m = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    long iters = 20000000;
    double t = now();
    for (long k = 0; k < iters; k++) {
        a0 = _mm256_fmadd_ps(a0, m, b);
        a1 = _mm256_fmadd_ps(a1, m, b);
        a2 = _mm256_fmadd_ps(a2, m, b);
        a3 = _mm256_fmadd_ps(a3, m, b);
        a4 = _mm256_fmadd_ps(a4, m, b);
        a5 = _mm256_fmadd_ps(a5, m, b);
        a6 = _mm256_fmadd_ps(a6, m, b);
        a7 = _mm256_fmadd_ps(a7, m, b);
        a8 = _mm256_fmadd_ps(a8, m, b);
        a9 = _mm256_fmadd_ps(a9, m, b);
        a10 = _mm256_fmadd_ps(a10, m, b);
        a11 = _mm256_fmadd_ps(a11, m, b);
        __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4),
                         "+x"(a5), "+x"(a6), "+x"(a7), "+x"(a8), "+x"(a9),
                         "+x"(a10), "+x"(a11));
    }
    t = now() - t;
    float sink[8];
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    _mm256_storeu_ps(sink, s);
    if (sink[0] == 12345.0f)
        printf(" ");
    return (double)iters * 12 * 8 * 2 / t / 1e9;
}
#endif

/* the load lab (cli/cmd_loadtest.c) */
int cmd_loadtest(int argc, char **argv);

static void usage(FILE *f)
{
    fputs("usage: nerd bench [--model FILE] [--shared DIR] [--texts FILE.jsonl]...\n"
          "                  [--calls N] [--passes N] [--peak GFLOPS]\n"
          "\n"
          "Measures model load time and memory, per-call latency on the study's\n"
          "sentence, bulk tokens/s on the reference texts (DIR/data/reference/*.jsonl\n"
          "or --texts) on one core and on all cores, and efficiency against PEAK\n"
          "(default 83 GFLOP/s: one AVX2+FMA core at 2.6 GHz).\n"
          "\n"
          "With --host URL --scenario NAME|FILE it runs the load lab instead\n"
          "(nerd bench --host URL --scenario NAME --help).\n", f);
}

int cmd_bench(int argc, char **argv)
{
    const char *model = NULL, *shared = "../shared";
    const char *texts[16];
    int ntexts = 0, calls = 20000, passes = 3;
    double peak = 83.0;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--host") || !strcmp(argv[i], "--scenario") ||
            !strcmp(argv[i], "--list-scenarios"))
            return cmd_loadtest(argc, argv);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--model") && i + 1 < argc) {
            model = argv[++i];
        } else if (!strcmp(argv[i], "--shared") && i + 1 < argc) {
            shared = argv[++i];
        } else if (!strcmp(argv[i], "--texts") && i + 1 < argc && ntexts < 16) {
            texts[ntexts++] = argv[++i];
        } else if (!strcmp(argv[i], "--calls") && i + 1 < argc) {
            calls = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--passes") && i + 1 < argc) {
            passes = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--peak") && i + 1 < argc) {
            peak = atof(argv[++i]);
        } else {
            fprintf(stderr, "nerd bench: unknown argument %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (calls < 100)
        calls = 100;
    if (passes < 1)
        passes = 1;
    if (!model)
        model = cli_default_model();
    ner_model *m;
    ner_ctx *c;
    if (cli_load_model(model, &m))
        return 1;
    if (ner_ctx_new(m, &c)) {
        ner_model_free(m);
        return 1;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("nerd bench: %s, %ld cores\n", ner_model_about(m), ncpu);
    bench_load(model);
    bench_latency(c, calls);

    corpus cp = {0};
    static const char *ref[] = {"wikigold.jsonl", "wnut17.dev.jsonl",
                                "uner_ewt.dev.jsonl", "uner_ewt.dev.paragraphs.jsonl"};
    if (ntexts)
        for (int i = 0; i < ntexts; i++)
            load_jsonl(&cp, texts[i]);
    else
        for (int i = 0; i < 4; i++) {
            char p[4096];
            snprintf(p, sizeof p, "%s/data/reference/%s", shared, ref[i]);
            load_jsonl(&cp, p);
        }
    if (cp.n) {
        size_t tokens;
        double r[5];
        bulk(m, &cp, 1, 1, &tokens); /* warm-up */
        for (int i = 0; i < 5; i++)
            r[i] = bulk(m, &cp, 1, passes, &tokens);
        double tps = pct(r, 5, 0.5);
        double gflops = tps * FLOPS_PER_TOKEN / 1e9;
        ner_stats st = last_stats;
        double exec_per_tok = st.tokens ? st.flops / (double)st.tokens : 0;
        printf("bulk     %zu texts, %zu tokens/pass, 1 core: %.0f tokens/s (median of 5), "
               "%.0f texts/s\n", cp.n, tokens / (size_t)passes, tps,
               tps * (double)cp.n / (double)(tokens / (size_t)passes));
        printf("compute  %.2f MFLOP/token nominal x %.0f tokens/s = %.1f GFLOP/s = "
               "%.0f%% of %.0f GFLOP/s nominal peak\n", FLOPS_PER_TOKEN / 1e6, tps,
               gflops, 100.0 * gflops / peak, peak);
        printf("compute  executed: %.2f MFLOP/token (padding rows and margins in, "
               "cached first layer out: word cache hit rate %.0f%%) = %.1f GFLOP/s\n",
               exec_per_tok / 1e6,
               100.0 * (double)st.word_hits / (double)(st.word_hits + st.word_misses + 1),
               exec_per_tok * tps / 1e9);
#if defined(__x86_64__)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
            double mp = fma_peak();
            printf("compute  measured AVX2 FMA peak of this core: %.1f GFLOP/s; nominal "
                   "work at %.0f%%, executed work at %.0f%% of it\n", mp,
                   100.0 * gflops / mp, 100.0 * exec_per_tok * tps / 1e9 / mp);
        }
#endif
        int nt = ncpu > 16 ? 16 : (int)ncpu;
        if (nt > 1) {
            for (int i = 0; i < 3; i++)
                r[i] = bulk(m, &cp, nt, passes, &tokens);
            printf("bulk     %d cores: %.0f tokens/s (median of 3)\n", nt, pct(r, 3, 0.5));
        }
        /* tokenizer alone */
        double a = now();
        size_t tt = 0;
        ner_doc d;
        for (size_t i = 0; i < cp.n; i++)
            if (ner_tokenize(c, cp.text[i], cp.len[i], &d) == 0)
                tt += d.n_tokens;
        printf("tokenize %.0f tokens/s (tokenizer alone, 1 core)\n", (double)tt / (now() - a));
        for (size_t i = 0; i < cp.n; i++)
            free(cp.text[i]);
        free(cp.text);
        free(cp.len);
    } else {
        printf("bulk     no reference texts found under %s (use --texts)\n", shared);
    }
    ner_ctx_free(c);
    ner_model_free(m);
    return 0;
}
