/*
 * `nerd split`: a training file into train/dev/test files, deterministically.
 * The file's units (CoNLL sentences or documents, JSON records: td_units)
 * are assigned to parts by td_split_plan (a seeded shuffle); each part
 * keeps its units' bytes and file order, in the input's format.  The file
 * is checked with the training-data readers first (no model needed):
 * malformed input is refused with FILE:LINE and nothing is written.  Parts
 * are written to temporary files renamed into place at the end.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "nerd/traindata.h"

#define MAX_PATH 4096

static void usage(FILE *f)
{
    fputs("usage: nerd split [--seed N] [--ratio TRAIN:DEV:TEST] [--by sentence|doc]\n"
          "                  [--format F] [--out PREFIX] FILE\n"
          "\n"
          "Splits a training file (any format of nerd train and nerd eval) into\n"
          "PREFIX.train, PREFIX.dev and PREFIX.test (PREFIX.train and PREFIX.test\n"
          "for a ratio of two parts).  The units (CoNLL sentences, or documents\n"
          "with --by doc; JSON records) are shuffled by a fixed generator from the\n"
          "seed: the same file, seed and ratio always give the same parts.  Each\n"
          "part keeps its units' text and their order in the file.  Sentence units\n"
          "leave -DOCSTART- and \"# newdoc\" lines out.\n"
          "\n"
          "  --seed N        seed of the shuffle (default 1)\n"
          "  --ratio R       weights of the parts, 2 or 3 of them, separated by ':'\n"
          "                  or ',' (default 80:10:10)\n"
          "  --by U          sentence (default) or doc: the CoNLL unit\n"
          "  --format F      auto (default), conll, json, spacy, tuples, spans or text\n"
          "  --out PREFIX    where the parts go (default: FILE itself, FILE.train...)\n"
          "\n"
          "Exit status: 0 when written, 1 on malformed input or a part left empty,\n"
          "2 on a usage error.\n",
          f);
}

static void on_msg(void *ud, int level, const char *file, long line, const char *msg)
{
    long *errors = ud;
    if (level != TD_ERROR || ++*errors > 10)
        return;
    if (line)
        fprintf(stderr, "nerd split: %s:%ld: %s\n", file, line, msg);
    else
        fprintf(stderr, "nerd split: %s: %s\n", file, msg);
}

/* "80:10:10" or "0.8,0.2" into r[], returns the number of parts or -1. */
static int parse_ratio(const char *s, double *r)
{
    int n = 0;
    for (;;) {
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || !(v > 0) || n == 3)
            return -1;
        r[n++] = v;
        if (!*end)
            break;
        if (*end != ':' && *end != ',')
            return -1;
        s = end + 1;
    }
    return n >= 2 ? n : -1;
}

/* Writes the units of part p to tmp.  0 or -1 (reported). */
static int write_part(const char *tmp, const char *buf, const td_unit *u, size_t n,
                      const unsigned char *part, int p, int fmt, int array)
{
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "nerd split: %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    size_t k = 0;
    if (array)
        fputs("[\n", f);
    for (size_t i = 0; i < n; i++) {
        if (part[i] != p)
            continue;
        if (k++)
            fputs(array ? ",\n" : fmt == TD_FMT_CONLL ? "\n" : "", f);
        fwrite(buf + u[i].off, 1, u[i].len, f);
        if (array || !u[i].len || buf[u[i].off + u[i].len - 1] != '\n')
            fputc('\n', f);
    }
    if (array)
        fputs("]\n", f);
    if (ferror(f) | fclose(f)) {
        fprintf(stderr, "nerd split: %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    return 0;
}

int cmd_split(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    uint64_t seed = 1;
    double ratio[3] = {80, 10, 10};
    int parts = 3, by_doc = 0, format = TD_FMT_AUTO;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--seed") && v) {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(v, &end, 10);
            if (errno || *end || end == v || *v == '-') {
                fprintf(stderr, "nerd split: --seed wants a number, not %s\n", v);
                return 2;
            }
            seed = (uint64_t)s;
            i++;
        } else if (!strcmp(a, "--ratio") && v) {
            if ((parts = parse_ratio(v, ratio)) < 0) {
                fprintf(stderr, "nerd split: --ratio wants 2 or 3 positive weights "
                                "(80:10:10), not %s\n", v);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--by") && v) {
            if (strcmp(v, "sentence") && strcmp(v, "doc")) {
                fprintf(stderr, "nerd split: --by wants sentence or doc, not %s\n", v);
                return 2;
            }
            by_doc = !strcmp(v, "doc");
            i++;
        } else if (!strcmp(a, "--format") && v) {
            if ((format = td_format_parse(v)) < 0) {
                fprintf(stderr, "nerd split: unknown format %s\n", v);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--out") && v) {
            out = v;
            i++;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "nerd split: unknown option or missing argument: %s\n", a);
            usage(stderr);
            return 2;
        } else if (in) {
            fprintf(stderr, "nerd split: one input file only\n");
            return 2;
        } else {
            in = a;
        }
    }
    if (!in) {
        fputs("nerd split: no input file\n", stderr);
        usage(stderr);
        return 2;
    }
    if (!out)
        out = in;
    if (strlen(out) > MAX_PATH - 16) {
        fputs("nerd split: --out too long\n", stderr);
        return 2;
    }
    static const char *const NAMES3[] = {"train", "dev", "test"}, *const NAMES2[] = {"train",
                                                                                     "test"};
    const char *const *names = parts == 3 ? NAMES3 : NAMES2;
    size_t len = 0, n = 0;
    td_unit *u = NULL;
    unsigned char *part = NULL;
    int status = 1, fmt, array;
    long errors = 0;
    char *buf = cli_read_file(in, TD_MAX_FILE, &len);
    td_corpus *c = NULL;
    if (!buf) {
        fprintf(stderr, "nerd split: %s: cannot read (or over %zu bytes)\n", in, TD_MAX_FILE);
        goto out;
    }
    td_opts o = {0};
    o.format = format;
    o.on_msg = on_msg;
    o.ud = &errors;
    int rc = td_corpus_new(&c);
    if (!rc)
        rc = td_read_mem(c, in, buf, len, &o, NULL);
    if (rc) {
        if (errors > 10)
            fprintf(stderr, "nerd split: %s: %ld more errors not shown\n", in, errors - 10);
        fprintf(stderr, "nerd split: %s: %s: nothing written\n", in, td_strerror(rc));
        goto out;
    }
    if ((rc = td_units(buf, len, format, by_doc, &u, &n, &fmt, &array))) {
        fprintf(stderr, "nerd split: %s: %s\n", in, td_strerror(rc));
        goto out;
    }
    if (!(part = malloc(n + 1)) || td_split_plan(n, seed, ratio, parts, part)) {
        fprintf(stderr, "nerd split: out of memory\n");
        goto out;
    }
    size_t count[3] = {0};
    for (size_t i = 0; i < n; i++)
        count[part[i]]++;
    for (int q = 0; q < parts; q++)
        if (!count[q]) {
            fprintf(stderr, "nerd split: %s: %zu %s: the %s part would be empty%s\n", in, n,
                    fmt == TD_FMT_CONLL ? (by_doc ? "documents" : "sentences") : "records",
                    names[q], by_doc ? " (try --by sentence)" : "");
            goto out;
        }
    char path[3][MAX_PATH], tmp[3][MAX_PATH];
    for (int q = 0; q < parts; q++) {
        snprintf(path[q], sizeof path[q], "%s.%s", out, names[q]);
        snprintf(tmp[q], sizeof tmp[q], "%s.%s.tmp", out, names[q]);
        if (!strcmp(path[q], in)) {
            fprintf(stderr, "nerd split: %s would overwrite the input\n", path[q]);
            goto out;
        }
    }
    int p, bad = 0;
    for (p = 0; p < parts && !bad; p++)
        bad = write_part(tmp[p], buf, u, n, part, p, fmt, array);
    for (int q = 0; q < parts && !bad; q++)
        if (rename(tmp[q], path[q])) {
            fprintf(stderr, "nerd split: %s: %s\n", path[q], strerror(errno));
            bad = 1;
        }
    if (bad) {
        for (int q = 0; q < p; q++)
            unlink(tmp[q]);
        goto out;
    }
    printf("%s: %zu %s, seed %" PRIu64 ":", in, n,
           fmt == TD_FMT_CONLL ? (by_doc ? "documents" : "sentences") : "records", seed);
    for (int q = 0; q < parts; q++)
        printf(" %s %zu", path[q], count[q]);
    putchar('\n');
    status = 0;
out:
    td_corpus_free(c);
    free(part);
    free(u);
    free(buf);
    return status;
}
