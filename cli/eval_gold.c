/*
 * `nerd eval` on gold corpora (see eval_gold.h).  Files are read whole
 * into training-data corpora first, because the label mode depends on all
 * of them: with --labels auto the corpora's own labels are scored when the
 * model has every one of them (a model trained on them), else both sides
 * go through the PER/ORG/LOC mapping that gave the zero-shot figures of
 * en_core_web_sm (docs/training.md).  A gold entity is matched by its
 * code point offsets in the document's text and its scored label.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli.h"
#include "eval_gold.h"
#include "nerd/traindata.h"

#define MAX_ERRORS_SHOWN 10 /* error messages per file */
#define MAX_VERBOSE 10      /* documents shown per file with --verbose */

static const char *const MAPPED[3] = {"PER", "ORG", "LOC"};

typedef struct gfile {
    const char *path;
    td_corpus *c;
    long docs, tokens, errors, unscored, misaligned;
    double secs; /* in ner_extract */
    td_score sc;
} gfile;

struct evg {
    gfile *f;
    int n, mapped, n_labels;
    const char **labels; /* scored labels */
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Messages of the reader: errors (the first few per file) and, with
 * --verbose, the misaligned-span warnings. */
typedef struct msgctx {
    long errors;
    int verbose;
} msgctx;

static void on_msg(void *ud, int level, const char *file, long line, const char *msg)
{
    msgctx *m = ud;
    if (level == TD_WARNING) {
        if (m->verbose)
            fprintf(stderr, "nerd eval: %s:%ld: warning: %s\n", file, line, msg);
        return;
    }
    if (++m->errors > MAX_ERRORS_SHOWN)
        return;
    if (line)
        fprintf(stderr, "nerd eval: %s:%ld: %s\n", file, line, msg);
    else
        fprintf(stderr, "nerd eval: %s: %s\n", file, msg);
}

/* The PER/ORG/LOC mapping, the same on both sides: OntoNotes' names (the
 * base model's) and the corpora's (UNER, CoNLL, WNUT-17). */
static int map_label(const char *l)
{
    if (!strcasecmp(l, "PER") || !strcasecmp(l, "person"))
        return 0;
    if (!strcasecmp(l, "ORG") || !strcasecmp(l, "corporation") || !strcasecmp(l, "group"))
        return 1;
    if (!strcasecmp(l, "LOC") || !strcasecmp(l, "location") || !strcmp(l, "GPE") ||
        !strcmp(l, "FAC"))
        return 2;
    return -1;
}

static int find(const char *const *l, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(l[i], s))
            return i;
    return -1;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Decides the mode and the scored labels (sorted, for the direct mode). */
static int choose_labels(evg *e, const evg_opts *o, const ner_model *m)
{
    int cap = 0, n = 0, all_in_model = 1;
    for (int i = 0; i < e->n; i++)
        cap += td_nlabels(e->f[i].c);
    const char **l = malloc((size_t)(cap + 3) * sizeof *l);
    if (!l)
        return TD_ENOMEM;
    for (int i = 0; i < e->n; i++)
        for (int k = 0; k < td_nlabels(e->f[i].c); k++) {
            const char *s = td_label(e->f[i].c, k);
            td_label_info li;
            td_label_stats(e->f[i].c, k, &li);
            if (!li.spans || find(l, n, s) >= 0)
                continue;
            l[n++] = s;
            int in = 0;
            for (int j = 0; j < ner_model_nlabels(m) && !in; j++)
                in = !strcmp(ner_model_label(m, j), s);
            all_in_model &= in;
        }
    e->mapped = o->labels == EVG_MAPPED || (o->labels == EVG_AUTO && (!n || !all_in_model));
    if (e->mapped) {
        n = 3;
        memcpy(l, MAPPED, sizeof MAPPED);
    } else {
        qsort(l, (size_t)n, sizeof *l, str_cmp);
    }
    e->labels = l;
    e->n_labels = n;
    return 0;
}

/* Prints what the model missed and made up in one document. */
static void show_doc(const evg *e, const gfile *g, const td_doc *d, const int *gmap,
                     const ner_doc *p, const int *pmap)
{
    int head = 0;
    for (int pass = 0; pass < 2; pass++) {
        const ner_span *a = pass ? p->ents : d->spans, *b = pass ? d->spans : p->ents;
        size_t na = pass ? p->n_ents : d->n_spans, nb = pass ? d->n_spans : p->n_ents;
        const int *am = pass ? pmap : gmap, *bm = pass ? gmap : pmap;
        for (size_t i = 0; i < na; i++) {
            int l = a[i].label >= 0 ? am[a[i].label] : -1, hit = 0;
            if (l < 0)
                continue;
            for (size_t k = 0; k < nb && !hit; k++)
                hit = b[k].start == a[i].start && b[k].end == a[i].end && b[k].label >= 0 &&
                      bm[b[k].label] == l;
            if (hit)
                continue;
            if (!head++)
                fprintf(stderr, "%s:%ld: %.300s\n", g->path, d->line, d->text);
            fprintf(stderr, "  %s %s ", pass ? "spurious" : "missed  ", e->labels[l]);
            cli_json_str(stderr, d->text + a[i].byte_start, a[i].byte_end - a[i].byte_start);
            fputc('\n', stderr);
        }
    }
}

/* Scores one file's documents. */
static int score_file(const evg *e, const evg_opts *o, const ner_model *m, ner_ctx *c,
                      gfile *g)
{
    int nl = td_nlabels(g->c), nm = ner_model_nlabels(m), rc, shown = 0;
    int *gmap = malloc((size_t)(nl + 1) * sizeof *gmap), *pmap = malloc((size_t)(nm + 1) * sizeof *pmap);
    if (!gmap || !pmap) {
        rc = TD_ENOMEM;
        goto out;
    }
    for (int i = 0; i < nl; i++)
        gmap[i] = e->mapped ? map_label(td_label(g->c, i))
                            : find(e->labels, e->n_labels, td_label(g->c, i));
    for (int i = 0; i < nm; i++)
        pmap[i] = e->mapped ? map_label(ner_model_label(m, i))
                            : find(e->labels, e->n_labels, ner_model_label(m, i));
    if ((rc = td_score_init(&g->sc, e->n_labels)))
        goto out;
    for (size_t i = 0; i < td_ndocs(g->c); i++) {
        const td_doc *d = td_doc_at(g->c, i);
        ner_doc p;
        double t0 = now();
        int x = ner_extract(c, d->text, d->len, &p);
        g->secs += now() - t0;
        if (x) {
            fprintf(stderr, "nerd eval: %s:%ld: %s\n", g->path, d->line, ner_strerror(x));
            g->errors++;
            continue;
        }
        g->docs++;
        g->tokens += (long)(d->n_words ? d->n_words : d->n_tokens);
        g->misaligned += d->n_misaligned;
        for (size_t k = 0; k < p.n_ents; k++)
            g->unscored += pmap[p.ents[k].label] < 0;
        td_score_add(&g->sc, d->spans, d->n_spans, gmap, p.ents, p.n_ents, pmap);
        if (o->verbose && shown < MAX_VERBOSE) {
            td_score one;
            td_prf f;
            if ((rc = td_score_init(&one, e->n_labels)))
                goto out;
            td_score_add(&one, d->spans, d->n_spans, gmap, p.ents, p.n_ents, pmap);
            td_score_get(&one, -1, &f);
            td_score_fini(&one);
            if (f.fp || f.fn) {
                show_doc(e, g, d, gmap, &p, pmap);
                shown++;
            }
        }
    }
out:
    free(gmap);
    free(pmap);
    return rc;
}

int evg_run(const evg_opts *o, const ner_model *m, ner_ctx *c, char *const *files, int n,
            evg **out)
{
    evg *e = calloc(1, sizeof *e);
    int rc = 0;
    *out = e;
    if (!e || !(e->f = calloc((size_t)n + 1, sizeof *e->f)))
        return TD_ENOMEM;
    e->n = n;
    for (int i = 0; i < n; i++) {
        gfile *g = &e->f[i];
        msgctx mc = {0, o->verbose};
        td_opts to = {0};
        to.format = o->format;
        to.sents_per_doc = o->sents_per_doc;
        to.label_map = o->label_map;
        to.on_msg = on_msg;
        to.ud = &mc;
        g->path = files[i];
        if ((rc = td_corpus_new(&g->c)))
            return rc;
        rc = td_read_file(g->c, files[i], &to, c);
        if (mc.errors > MAX_ERRORS_SHOWN)
            fprintf(stderr, "nerd eval: %s: %ld more errors not shown\n", files[i],
                    mc.errors - MAX_ERRORS_SHOWN);
        g->errors = mc.errors;
        if (rc == TD_ENOMEM || rc == TD_EINVAL)
            return rc;
        rc = 0;
    }
    if ((rc = choose_labels(e, o, m)))
        return rc;
    for (int i = 0; i < n && !rc; i++) {
        gfile *g = &e->f[i];
        rc = score_file(e, o, m, c, g);
        if (g->misaligned)
            fprintf(stderr,
                    "nerd eval: %s: warning: %ld gold entities do not align with the model's "
                    "tokens (they count as missed)\n",
                    g->path, g->misaligned);
        if (!rc && !g->docs && !g->errors)
            fprintf(stderr, "nerd eval: %s: warning: no sentences\n", g->path);
    }
    return rc;
}

int evg_failed(const evg *e)
{
    for (int i = 0; e && i < e->n; i++)
        if (e->f[i].errors)
            return 1;
    return 0;
}

void evg_free(evg *e)
{
    if (!e)
        return;
    for (int i = 0; i < e->n && e->f; i++) {
        td_corpus_free(e->f[i].c);
        td_score_fini(&e->f[i].sc);
    }
    free(e->f);
    free(e->labels);
    free(e);
}

/* The total of all files, in t (its score initialised here). */
static int total(const evg *e, gfile *t)
{
    memset(t, 0, sizeof *t);
    t->path = "total";
    if (td_score_init(&t->sc, e->n_labels))
        return -1;
    for (int i = 0; i < e->n; i++) {
        const gfile *g = &e->f[i];
        t->docs += g->docs;
        t->tokens += g->tokens;
        t->errors += g->errors;
        t->unscored += g->unscored;
        t->secs += g->secs;
        if (g->sc.n_labels == e->n_labels)
            td_score_merge(&t->sc, &g->sc);
    }
    return 0;
}

static void file_json(const evg *e, const gfile *g, int named)
{
    td_prf f;
    if (named) {
        fputs("{\"file\":", stdout);
        cli_json_str(stdout, g->path, strlen(g->path));
        putchar(',');
    } else {
        putchar('{');
    }
    printf("\"sentences\":%ld,\"tokens\":%ld,\"seconds\":%.4f,\"tokens_per_s\":%.0f,"
           "\"errors\":%ld,\"unscored\":%ld,\"labels\":{",
           g->docs, g->tokens, g->secs, g->secs > 0 ? (double)g->tokens / g->secs : 0.0,
           g->errors, g->unscored);
    for (int l = 0; l < e->n_labels; l++) {
        td_score_get(&g->sc, l, &f);
        if (l)
            putchar(',');
        cli_json_str(stdout, e->labels[l], strlen(e->labels[l]));
        printf(":{\"p\":%.4f,\"r\":%.4f,\"f1\":%.4f,\"tp\":%ld,\"fp\":%ld,\"fn\":%ld}", f.p,
               f.r, f.f1, f.tp, f.fp, f.fn);
    }
    td_score_get(&g->sc, -1, &f);
    printf("},\"micro\":{\"p\":%.4f,\"r\":%.4f,\"f1\":%.4f,\"tp\":%ld,\"fp\":%ld,\"fn\":%ld}}",
           f.p, f.r, f.f1, f.tp, f.fp, f.fn);
}

void evg_print_json(const evg *e)
{
    gfile t;
    printf("\"gold\":{\"labels_mode\":\"%s\",\"files\":[", e->mapped ? "mapped" : "direct");
    for (int i = 0; i < e->n; i++) {
        if (i)
            putchar(',');
        file_json(e, &e->f[i], 1);
    }
    fputs("],\"total\":", stdout);
    if (!total(e, &t))
        file_json(e, &t, 0);
    else
        fputs("null", stdout);
    td_score_fini(&t.sc);
    putchar('}');
}

static void file_text(const evg *e, const gfile *g)
{
    td_prf f;
    int w = 5;
    for (int l = 0; l < e->n_labels; l++)
        if ((int)strlen(e->labels[l]) > w)
            w = (int)strlen(e->labels[l]);
    printf("%s: %ld sentences, %ld tokens, %.2f s, %.0f tokens/s%s", g->path, g->docs,
           g->tokens, g->secs, g->secs > 0 ? (double)g->tokens / g->secs : 0.0,
           g->errors ? "" : "\n");
    if (g->errors)
        printf(", errors: %ld (skipped)\n", g->errors);
    printf("  %-*s       P       R      F1      tp      fp      fn\n", w, "label");
    for (int l = 0; l <= e->n_labels; l++) {
        td_score_get(&g->sc, l < e->n_labels ? l : -1, &f);
        printf("  %-*s  %6.4f  %6.4f  %6.4f  %6ld  %6ld  %6ld\n", w,
               l < e->n_labels ? e->labels[l] : "micro", f.p, f.r, f.f1, f.tp, f.fp, f.fn);
    }
}

void evg_print_text(const evg *e, int first)
{
    for (int i = 0; i < e->n; i++) {
        if (i || !first)
            putchar('\n');
        file_text(e, &e->f[i]);
    }
    if (e->n > 1) {
        gfile t;
        putchar('\n');
        if (!total(e, &t))
            file_text(e, &t);
        td_score_fini(&t.sc);
    }
    if (e->n && !e->mapped)
        printf("(labels scored as they are: predictions of other labels are not counted)\n");
}
