/*
 * The engine's ceiling for the function benchmarks (bench/function.sh):
 * ner_extract() on one text in a loop, in process, on N threads (one
 * context each, one shared model), for S seconds.  Prints calls/s.
 *
 *   calls MODEL THREADS SECONDS TEXT
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nerd/ner.h"

static ner_model *M;
static const char *T;
static double secs;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *run(void *arg)
{
    long *calls = arg;
    ner_ctx *c;
    if (ner_ctx_new(M, &c))
        return NULL;
    double end = now() + secs;
    size_t len = strlen(T);
    while (now() < end) {
        ner_doc d;
        for (int i = 0; i < 16; i++)
            if (ner_extract(c, T, len, &d) == 0)
                (*calls)++;
    }
    ner_ctx_free(c);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fputs("usage: calls MODEL THREADS SECONDS TEXT\n", stderr);
        return 2;
    }
    int nt = atoi(argv[2]);
    secs = atof(argv[3]);
    T = argv[4];
    if (nt < 1 || nt > 64 || secs <= 0 || ner_model_load(argv[1], &M)) {
        fputs("calls: bad arguments or model\n", stderr);
        return 1;
    }
    pthread_t th[64];
    long calls[64] = {0};
    double t0 = now();
    for (int i = 0; i < nt; i++)
        pthread_create(&th[i], NULL, run, &calls[i]);
    long total = 0;
    for (int i = 0; i < nt; i++) {
        pthread_join(th[i], NULL);
        total += calls[i];
    }
    printf("calls: %d threads: %.0f calls/s\n", nt, (double)total / (now() - t0));
    ner_model_free(M);
    return 0;
}
