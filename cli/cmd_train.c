/*
 * `nerd train`: fine-tunes a model (--base) or trains a new one on
 * annotated files, and writes an ordinary model file.  The files are read
 * by the training-data readers (include/nerd/traindata.h: any of their
 * formats; malformed input is refused with FILE:LINE and nothing is
 * written), the loop is lib/tl_loop.c (include/nerd/trainloop.h): spaCy
 * v2.2's `spacy train` defaults, progress per epoch on stderr, the best dev
 * epoch kept.  Ctrl-C (SIGINT) stops after the current batch and writes the
 * best model so far; a second Ctrl-C kills.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "nerd/trainloop.h"

#define MAX_FILES 64
#define MAX_SHOWN 10 /* error messages shown per file */

static volatile sig_atomic_t STOP;

static void on_sigint(int sig)
{
    (void)sig;
    STOP = 1;
}

static void usage(FILE *f)
{
    fputs("usage: nerd train [--base MODEL] --train FILE... [--dev FILE...] --out MODEL.nerd\n"
          "                  [--epochs N] [--seed N] [--dropout F] [--batch-start W]\n"
          "                  [--batch-stop W] [--batch-compound F] [--learn-rate F]\n"
          "                  [--patience N] [--rehearse FILE] [--threads N] [--format F]\n"
          "                  [--label-map MAP] [--sents N] [--vocab MODEL]\n"
          "\n"
          "Fine-tunes MODEL's entity recognizer on annotated files (--base), adding\n"
          "the labels it lacks, or trains a new one from scratch (no --base: the\n"
          "tokenizer and lexical tables of --vocab, default the bundled model), and\n"
          "writes an ordinary model file (nerd extract --model, NERD_MODEL).  The\n"
          "files may be CoNLL/IOB, spaCy JSON, spaCy tuples or annotation-tool JSON\n"
          "lines (docs/training.md).  Every epoch prints the loss, the dev figures\n"
          "per label, words/s and the time left on stderr; with --dev the best\n"
          "epoch (dev micro F1) is written, else the last.  Ctrl-C writes the best\n"
          "so far.  Defaults are spaCy v2.2's `spacy train`.\n"
          "\n"
          "  --train FILE...     training files (one or more)\n"
          "  --dev FILE...       dev files: scored after every epoch\n"
          "  --out FILE          the model file to write\n"
          "  --epochs N          epochs (default 30)\n"
          "  --seed N            seed of shuffles, dropout and initialisation (default 0);\n"
          "                      the same seed and data give the same file\n"
          "  --dropout F         dropout rate (default 0.2)\n"
          "  --batch-start W     words of the first batch (default 100)\n"
          "  --batch-stop W      the most words a batch aims at (default 1000)\n"
          "  --batch-compound F  growth of the batch target per batch (default 1.001)\n"
          "  --learn-rate F      Adam's learn rate (default 0.001)\n"
          "  --patience N        stop after N epochs without a better dev F1 (default 0:\n"
          "                      never)\n"
          "  --rehearse FILE     raw texts (one per line, or JSON lines with \"text\"):\n"
          "                      the base model's entities of the labels the data does\n"
          "                      not use are trained on with the data (pseudo-rehearsal)\n"
          "  --threads N         threads of each update, 1 to 8 (default 1); the model is\n"
          "                      the same whatever the number\n"
          "  --format F          auto (default), conll, json, spacy, tuples or spans\n"
          "  --label-map MAP     FROM=TO,... on every file's labels (TO empty: not an\n"
          "                      entity; TO '-': not annotated)\n"
          "  --sents N           CoNLL sentences per document (default 1)\n"
          "\n"
          "Exit status: 0 when written, 1 on bad data or a failed run (nothing\n"
          "written), 2 on a usage error, 130 when interrupted (the best so far written).\n",
          f);
}

typedef struct msgctx {
    long errors, warnings;
} msgctx;

static void on_msg(void *ud, int level, const char *file, long line, const char *msg)
{
    msgctx *m = ud;
    if (level == TD_WARNING) {
        m->warnings++;
        return;
    }
    if (++m->errors > MAX_SHOWN)
        return;
    if (line)
        fprintf(stderr, "nerd train: %s:%ld: %s\n", file, line, msg);
    else
        fprintf(stderr, "nerd train: %s: %s\n", file, msg);
}

/* Reads files[0..n) into *out.  0, or 1 after reporting the problem. */
static int read_files(char *const *files, int n, const td_opts *base_opts, ner_ctx *ctx,
                      td_corpus **out)
{
    if (td_corpus_new(out)) {
        fputs("nerd train: out of memory\n", stderr);
        return 1;
    }
    int bad = 0;
    for (int i = 0; i < n; i++) {
        msgctx mc = {0, 0};
        td_opts o = *base_opts;
        o.on_msg = on_msg;
        o.ud = &mc;
        int rc = td_read_file(*out, files[i], &o, ctx);
        if (mc.errors > MAX_SHOWN)
            fprintf(stderr, "nerd train: %s: %ld more errors not shown\n", files[i],
                    mc.errors - MAX_SHOWN);
        if (rc) {
            fprintf(stderr, "nerd train: %s: %s: nothing written\n", files[i], td_strerror(rc));
            bad = 1;
        }
    }
    if (bad)
        return 1;
    td_stats st;
    td_corpus_stats(*out, &st);
    if (st.misaligned)
        fprintf(stderr,
                "nerd train: warning: %zu gold entities do not align with the model's tokens: "
                "their tokens are not annotated ('-')\n",
                st.misaligned);
    return 0;
}

static void fmt_secs(char *b, size_t n, double s)
{
    if (s < 90)
        snprintf(b, n, "%.0f s", s);
    else if (s < 90 * 60)
        snprintf(b, n, "%.0f min", s / 60);
    else
        snprintf(b, n, "%.0f h %.0f min", s / 3600, (s - 3600 * (int)(s / 3600)) / 60);
}

static void on_epoch(void *ud, const tl_epoch *e)
{
    (void)ud;
    char left[32], took[32];
    fmt_secs(left, sizeof left, e->secs_left);
    fmt_secs(took, sizeof took, e->train_secs + e->eval_secs);
    fprintf(stderr, "epoch %d/%d: loss %.3f", e->epoch, e->epochs, e->loss);
    if (e->has_dev)
        fprintf(stderr, ", dev P %.4f R %.4f F %.4f%s", e->micro.p, e->micro.r, e->micro.f1,
                e->improved ? " (best)" : "");
    fprintf(stderr, ", %.0f words/s, %s, %s left\n", e->words_per_s, took, left);
    int w = 5;
    for (int l = 0; l < e->n_labels; l++)
        if ((int)strlen(e->labels[l]) > w)
            w = (int)strlen(e->labels[l]);
    for (int l = 0; e->has_dev && l < e->n_labels; l++) {
        const td_prf *f = &e->per_label[l];
        fprintf(stderr, "  %-*s P %.4f R %.4f F %.4f (tp %ld, fp %ld, fn %ld)\n", w,
                e->labels[l], f->p, f->r, f->f1, f->tp, f->fp, f->fn);
    }
}

/* Parses an integer in [lo, hi]; -1 when it is not one. */
static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_num(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v != v)
        return -1;
    *out = v;
    return 0;
}

/* Can path be written (its directory exists and is writable, it is not a
 * directory)? */
static int writable(const char *path)
{
    struct stat st;
    if (!stat(path, &st) && S_ISDIR(st.st_mode))
        return 0;
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        return !access(".", W_OK);
    size_t n = (size_t)(slash - path);
    if (n >= sizeof dir)
        return 0;
    memcpy(dir, path, n);
    dir[n] = 0;
    return !access(n ? dir : "/", W_OK);
}

typedef struct args {
    const char *base, *vocab, *out, *rehearse, *label_map;
    char *train[MAX_FILES], *dev[MAX_FILES];
    int n_train, n_dev, format;
    long sents;
    tl_opts o;
} args;

/* Takes the values after argv[*i] up to the next option into list. */
static int take_files(int argc, char **argv, int *i, char **list, int *n)
{
    int k = *i + 1;
    for (; k < argc && !(argv[k][0] == '-' && argv[k][1] == '-'); k++) {
        if (*n == MAX_FILES) {
            fprintf(stderr, "nerd train: at most %d files per option\n", MAX_FILES);
            return -1;
        }
        list[(*n)++] = argv[k];
    }
    if (k == *i + 1) {
        fprintf(stderr, "nerd train: %s needs at least one file\n", argv[*i]);
        return -1;
    }
    *i = k - 1;
    return 0;
}

/* 0, 1 (--help), or 2 after a usage message. */
static int parse_args(int argc, char **argv, args *a)
{
    memset(a, 0, sizeof *a);
    tl_opts_default(&a->o);
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        double d;
        int bad = 0;
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(s, "--train")) {
            if (take_files(argc, argv, &i, a->train, &a->n_train))
                return 2;
            continue;
        } else if (!strcmp(s, "--dev")) {
            if (take_files(argc, argv, &i, a->dev, &a->n_dev))
                return 2;
            continue;
        } else if (!v) {
            bad = 1;
        } else if (!strcmp(s, "--base")) {
            a->base = v;
        } else if (!strcmp(s, "--vocab")) {
            a->vocab = v;
        } else if (!strcmp(s, "--out")) {
            a->out = v;
        } else if (!strcmp(s, "--rehearse")) {
            a->rehearse = v;
        } else if (!strcmp(s, "--label-map")) {
            a->label_map = v;
        } else if (!strcmp(s, "--format")) {
            a->format = td_format_parse(v);
            bad = a->format < 0 || a->format == TD_FMT_TEXT;
        } else if (!strcmp(s, "--sents")) {
            bad = parse_int(v, 1, 100000, &a->sents);
        } else if (!strcmp(s, "--epochs")) {
            bad = parse_int(v, 1, 100000, &n);
            a->o.epochs = (int)n;
        } else if (!strcmp(s, "--threads")) {
            bad = parse_int(v, 1, 8, &n);
            a->o.threads = (int)n;
        } else if (!strcmp(s, "--patience")) {
            bad = parse_int(v, 0, 100000, &n);
            a->o.patience = (int)n;
        } else if (!strcmp(s, "--seed")) {
            char *end;
            errno = 0;
            a->o.seed = strtoull(v, &end, 10);
            bad = errno || end == v || *end || v[0] == '-';
        } else if (!strcmp(s, "--dropout")) {
            bad = parse_num(v, &d) || !(d >= 0 && d < 1);
            a->o.dropout = (float)d;
        } else if (!strcmp(s, "--learn-rate")) {
            bad = parse_num(v, &d) || !(d > 0 && d < 10);
            a->o.learn_rate = (float)d;
        } else if (!strcmp(s, "--batch-start")) {
            bad = parse_num(v, &a->o.batch_start) || !(a->o.batch_start >= 1);
        } else if (!strcmp(s, "--batch-stop")) {
            bad = parse_num(v, &a->o.batch_stop) || !(a->o.batch_stop >= 1);
        } else if (!strcmp(s, "--batch-compound")) {
            bad = parse_num(v, &a->o.batch_compound) || !(a->o.batch_compound >= 1);
        } else {
            fprintf(stderr, "nerd train: unknown option: %s\n", s);
            usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "nerd train: %s: %s\n", s, v ? "bad value" : "missing value");
            return 2;
        }
        i++;
    }
    const char *need = !a->n_train ? "--train FILE..." : !a->out ? "--out FILE" : NULL;
    if (need) {
        fprintf(stderr, "nerd train: %s is required\n", need);
        usage(stderr);
        return 2;
    }
    if (a->base && a->vocab) {
        fputs("nerd train: --vocab is for a new model; --base brings its own\n", stderr);
        return 2;
    }
    if (a->rehearse && !a->base) {
        fputs("nerd train: --rehearse keeps a base model's behaviour: it needs --base\n", stderr);
        return 2;
    }
    a->o.from_scratch = !a->base;
    return 0;
}

static void header(const args *a, tl_run *r, const td_corpus *dev)
{
    tl_info in;
    tl_info_get(r, &in);
    fprintf(stderr, "nerd train: %s %s: %zu documents, %zu tokens, %d labels",
            a->base ? "fine-tuning" : "training from scratch with the tokenizer of",
            a->base ? a->base : a->vocab ? a->vocab : cli_default_model(), in.train_docs,
            in.train_tokens, in.n_labels);
    if (a->base && in.n_new) {
        fputs(" (new:", stderr);
        for (int i = in.n_labels - in.n_new; i < in.n_labels; i++)
            fprintf(stderr, " %s", in.labels[i]);
        fputc(')', stderr);
    }
    if (dev)
        fprintf(stderr, "; dev: %zu documents\n", td_ndocs(dev));
    else
        fputs("; no dev data: the last epoch is kept\n", stderr);
    if (a->rehearse)
        fprintf(stderr,
                "nerd train: rehearsal: %zu texts of %s with %zu entities of the base model; "
                "%zu more added to the training documents\n",
                in.rehearse_docs, a->rehearse, in.rehearse_ents, in.completed_ents);
    fprintf(stderr,
            "nerd train: %d epochs, seed %" PRIu64 ", dropout %g, batches of %g to %g words "
            "(x%g), learn rate %g, patience %d, %d thread%s\n",
            a->o.epochs, a->o.seed, (double)a->o.dropout, a->o.batch_start, a->o.batch_stop,
            a->o.batch_compound, (double)a->o.learn_rate, a->o.patience, a->o.threads,
            a->o.threads > 1 ? "s" : "");
}

int cmd_train(int argc, char **argv)
{
    args a;
    int rc = parse_args(argc, argv, &a), status = 1;
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!writable(a.out)) {
        fprintf(stderr, "nerd train: %s: cannot be written (no such directory, or not "
                        "writable)\n",
                a.out);
        return 1;
    }
    ner_model *m = NULL;
    ner_ctx *c = NULL;
    td_corpus *train = NULL, *dev = NULL, *raw = NULL;
    tl_run *r = NULL;
    char msg[1024];
    if (cli_load_model(a.base ? a.base : a.vocab, &m) || ner_ctx_new(m, &c))
        goto out;
    td_opts to = {0};
    to.format = a.format;
    to.sents_per_doc = (unsigned)a.sents;
    to.label_map = a.label_map;
    if (read_files(a.train, a.n_train, &to, c, &train) ||
        (a.n_dev && read_files(a.dev, a.n_dev, &to, c, &dev)))
        goto out;
    if (a.rehearse) {
        td_opts ro = {0};
        ro.format = TD_FMT_TEXT;
        if (read_files(&(char *){(char *)a.rehearse}, 1, &ro, c, &raw))
            goto out;
        a.o.rehearse = raw;
    }
    a.o.on_epoch = on_epoch;
    a.o.stop = &STOP;
    if ((rc = tl_new(m, &a.o, train, dev, &r, msg, sizeof msg))) {
        fprintf(stderr, "nerd train: %s: nothing written\n", msg);
        goto out;
    }
    header(&a, r, dev);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C kills */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = tl_train(r, msg, sizeof msg);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    signal(SIGINT, SIG_DFL);
    if (rc) {
        fprintf(stderr, "nerd train: %s: nothing written\n", msg);
        goto out;
    }
    const void *buf;
    size_t len;
    int best = 0;
    if ((rc = tl_best(r, &buf, &len, &best)) || (rc = tl_write(r, a.out))) {
        fprintf(stderr, "nerd train: %s: %s\n", a.out, tl_strerror(rc));
        goto out;
    }
    if (tl_stopped(r))
        fprintf(stderr, "nerd train: interrupted: wrote %s\n", a.out);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr, "nerd train: %.1f s of training, peak memory %.0f MB\n",
            (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec),
            (double)ru.ru_maxrss / 1024.0);
    printf("%s: %s epoch %d of %d\n", a.out, dev ? "the best dev" : "the last", best,
           a.o.epochs);
    status = tl_stopped(r) ? 130 : 0;
out:
    tl_free(r);
    td_corpus_free(train);
    td_corpus_free(dev);
    td_corpus_free(raw);
    ner_ctx_free(c);
    ner_model_free(m);
    return status;
}
