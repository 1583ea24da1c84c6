/*
 * `nerd eval`: accuracy of the engine on two kinds of files.
 *  - spaCy reference JSONL (one {"text","tokens","entities"} per line, code
 *    point offsets, written by real spaCy 2.2.4 + en_core_web_sm 2.2.5):
 *    agreement of our tokens and entities with spaCy's, per file and in
 *    total; --strict makes any disagreement an exit status of 1.
 *  - gold corpora in any format the training-data readers take (CoNLL/IOB,
 *    spaCy's JSON and tuples, annotation tools' JSON): strict entity-level
 *    P/R/F1 per label and micro-averaged (cli/eval_gold.c), on the
 *    corpus's own labels when the model has them all, else after mapping
 *    both sides to PER/ORG/LOC.
 * Malformed input is reported as FILE:LINE on stderr, the offending line,
 * sentence or record is skipped, and the exit status is 1.  Output is a
 * table, or one JSON object with --json.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "eval_gold.h"
#include "nerd/traindata.h"

#define MAX_ERRORS_SHOWN 10       /* error messages per file */
#define MAX_VERBOSE 10            /* differing texts shown per file */
#define MAX_DIFFS 8               /* differences listed per text */
#define F_REF (-2)                /* --format reference; else a td_format */

typedef struct opts {
    const char *model;
    int format, strict, verbose, json;
    long pipe_batch; /* reference files: nlp.pipe's batch_size, 0 = each text alone */
    evg_opts gold;
} opts;

/* Counters of one reference file (or the total). */
typedef struct ref_stats {
    const char *file;
    long texts, texts_tok_ok, tok_ref, tok_pred, tok_ok;
    long ent_ref, ent_pred, ent_ok, ent_extra, errors;
} ref_stats;

/* What one file run needs: model, context, options, error budget. */
typedef struct evalr {
    const opts *o;
    const ner_model *m;
    ner_ctx *c;
    const char *path;
    long errors, shown;
} evalr;

static void usage(FILE *f)
{
    fputs("usage: nerd eval [--model FILE] [--format F] [--labels auto|mapped|direct]\n"
          "                 [--label-map MAP] [--sents N] [--strict] [--verbose] [--json]\n"
          "                 FILE...\n"
          "\n"
          "Measures the engine on each FILE:\n"
          "  reference JSONL (lines {\"text\",\"tokens\":[[start,end],...],\"entities\"},\n"
          "    or --format reference): {\"text\":...,\"tokens\":[[start,end],...],\n"
          "    \"entities\":[[start,end,\"LABEL\"],...]} with code point offsets, as\n"
          "    written by spaCy.  Prints the share of reference tokens and entities\n"
          "    reproduced exactly, the share of texts with identical tokens, and the\n"
          "    extra entities predicted.\n"
          "  gold corpus (anything else): CoNLL/IOB columns (\"word TAG\", \"word ...\n"
          "    TAG\", \"id<TAB>word<TAB>TAG...\", \"word start end TAG\"; IOB1, IOB2,\n"
          "    BILOU/BIOES; -DOCSTART-, \"# text =\"), spaCy's JSON training format,\n"
          "    [\"text\", {\"entities\": [...]}] lines, or annotation tools' JSON\n"
          "    ({\"text\", \"spans\"|\"label\"|\"entities\"}, Label Studio tasks); see\n"
          "    docs/training.md.  Prints precision, recall and F1 per label and\n"
          "    micro-averaged, with tp/fp/fn, an entity being right when its offsets\n"
          "    and label equal a gold one's (conlleval).  Labels: the corpus's own\n"
          "    when the model has every one of them, else mapped on both sides:\n"
          "    PER/PERSON/person->PER, ORG/corporation/group->ORG,\n"
          "    LOC/GPE/FAC/location->LOC (other labels are not scored).\n"
          "\n"
          "  --model FILE     model file (default: $NERD_MODEL or the bundled model)\n"
          "  --format F       auto (default: by content), reference, conll, json,\n"
          "                   spacy, tuples or spans\n"
          "  --labels L       auto (default), mapped (PER/ORG/LOC) or direct (the\n"
          "                   corpus's labels; other predicted labels not scored)\n"
          "  --label-map MAP  rename gold labels first: FROM=TO,... (TO empty:\n"
          "                   drop the entity; TO \"-\": not scored either way)\n"
          "  --sents N        CoNLL: N sentences per document (default 1)\n"
          "  --pipe-batch N   reference files: run the texts as spaCy's\n"
          "                   nlp.pipe(texts, batch_size=N) did (default 1000,\n"
          "                   spaCy's; a word's NORM then depends on the texts\n"
          "                   before it in its minibatch); 0: each text alone,\n"
          "                   as nlp(text), what the API answers\n"
          "  --strict         exit 1 unless reference agreement is 100% (tokens,\n"
          "                   entities, no extra entity)\n"
          "  --verbose        show the first differing texts / sentences on stderr\n"
          "  --json           print the figures as one JSON object\n"
          "\n"
          "Exit status: 0 when every file was processed, 1 on malformed input or a\n"
          "failed --strict, 2 on a usage error.\n",
          f);
}

/* Reports malformed input at path:line (the first few per file). */
static void bad_input(evalr *ev, long lineno, const char *msg, const char *arg)
{
    ev->errors++;
    if (ev->errors > MAX_ERRORS_SHOWN)
        return;
    if (arg)
        fprintf(stderr, "nerd eval: %s:%ld: %s%.80s\n", ev->path, lineno, msg, arg);
    else
        fprintf(stderr, "nerd eval: %s:%ld: %s\n", ev->path, lineno, msg);
}

static void errors_done(const evalr *ev)
{
    if (ev->errors > MAX_ERRORS_SHOWN)
        fprintf(stderr, "nerd eval: %s: %ld more errors not shown\n", ev->path,
                ev->errors - MAX_ERRORS_SHOWN);
}

/* Grows *p (elements of size sz) to hold at least n. */
static int grow(void *pp, size_t *cap, size_t n, size_t sz)
{
    if (n <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < n)
        nc *= 2;
    void *q = realloc(*(void **)pp, nc * sz);
    if (!q)
        return NER_ENOMEM;
    *(void **)pp = q;
    *cap = nc;
    return 0;
}

/* Byte offset of code point cp in s[0..n) (n if past the end). */
static size_t cp_byte(const char *s, size_t n, uint32_t cp)
{
    size_t i = 0;
    for (uint32_t k = 0; i < n && k < cp; k++)
        do
            i++;
        while (i < n && ((unsigned char)s[i] & 0xc0) == 0x80);
    return i;
}

/* ---------------------------------------------------------------------------
 * Reference JSONL
 */

typedef struct rspan {
    uint32_t start, end;
    const char *label; /* entities only */
} rspan;

typedef struct ref_buf {
    rspan *tok, *ent;
    size_t tok_cap, ent_cap;
} ref_buf;

static int rspan_cmp(const void *a, const void *b)
{
    const rspan *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return strcmp(x->label ? x->label : "", y->label ? y->label : "");
}

/* Reads [start,end] or [start,end,"LABEL"] (with_label) from j. */
static int ref_span(json_t *j, int with_label, rspan *out)
{
    json_t *a = json_array_get(j, 0), *b = json_array_get(j, 1);
    if (!json_is_array(j) || json_array_size(j) != (size_t)(with_label ? 3 : 2) ||
        !json_is_integer(a) || !json_is_integer(b))
        return -1;
    json_int_t s = json_integer_value(a), e = json_integer_value(b);
    if (s < 0 || e < s || e > (json_int_t)NER_MAX_TEXT)
        return -1;
    out->start = (uint32_t)s;
    out->end = (uint32_t)e;
    out->label = NULL;
    if (with_label) {
        out->label = json_string_value(json_array_get(j, 2));
        if (!out->label)
            return -1;
    }
    return 0;
}

/* Parses the spans of array j into *arr.  Returns the count, -1 if bad. */
static long ref_spans(json_t *j, int with_label, rspan **arr, size_t *cap)
{
    size_t n = json_array_size(j);
    if (grow(arr, cap, n ? n : 1, sizeof **arr))
        return -2;
    for (size_t i = 0; i < n; i++)
        if (ref_span(json_array_get(j, i), with_label, &(*arr)[i]))
            return -1;
    qsort(*arr, n, sizeof **arr, rspan_cmp);
    return (long)n;
}

/* Is [s,e) a predicted span (label: entity label name, or NULL for tokens)? */
static int pred_has(const ner_model *m, const ner_span *p, size_t n, uint32_t s,
                    uint32_t e, const char *label)
{
    size_t lo = 0, hi = n; /* predicted spans are sorted and disjoint */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p[mid].start < s)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && p[lo].start == s && p[lo].end == e &&
           (!label || !strcmp(ner_model_label(m, p[lo].label), label));
}

static int ref_has(const rspan *r, size_t n, uint32_t s, uint32_t e, const char *label)
{
    rspan key = {s, e, label};
    return bsearch(&key, r, n, sizeof *r, rspan_cmp) != NULL;
}

/* Prints what differs between spaCy's reference and our doc. */
static void ref_show(const evalr *ev, long lineno, const char *text, size_t len,
                     const rspan *rt, size_t nt, const rspan *re, size_t ne,
                     const ner_doc *d)
{
    const ner_model *m = ev->m;
    int shown = 0;
    fprintf(stderr, "%s:%ld: differs: ", ev->path, lineno);
    cli_json_str(stderr, text, len > 300 ? cp_byte(text, len, 200) : len);
    fputc('\n', stderr);
    for (size_t i = 0; i < nt && shown < MAX_DIFFS; i++)
        if (!pred_has(m, d->tokens, d->n_tokens, rt[i].start, rt[i].end, NULL)) {
            size_t b0 = cp_byte(text, len, rt[i].start), b1 = cp_byte(text, len, rt[i].end);
            fprintf(stderr, "  spaCy token  [%u,%u) ", rt[i].start, rt[i].end);
            cli_json_str(stderr, text + b0, b1 - b0);
            fputs(" not reproduced\n", stderr);
            shown++;
        }
    for (size_t i = 0; i < d->n_tokens && shown < MAX_DIFFS; i++) {
        const ner_span *t = &d->tokens[i];
        if (!ref_has(rt, nt, t->start, t->end, NULL)) {
            fprintf(stderr, "  nerd token   [%u,%u) ", t->start, t->end);
            cli_json_str(stderr, text + t->byte_start, t->byte_end - t->byte_start);
            fputs(" not in spaCy's\n", stderr);
            shown++;
        }
    }
    for (size_t i = 0; i < ne && shown < MAX_DIFFS; i++)
        if (!pred_has(m, d->ents, d->n_ents, re[i].start, re[i].end, re[i].label)) {
            size_t b0 = cp_byte(text, len, re[i].start), b1 = cp_byte(text, len, re[i].end);
            fprintf(stderr, "  spaCy entity [%u,%u) %s ", re[i].start, re[i].end,
                    re[i].label);
            cli_json_str(stderr, text + b0, b1 - b0);
            fputs(" not reproduced\n", stderr);
            shown++;
        }
    for (size_t i = 0; i < d->n_ents && shown < MAX_DIFFS; i++) {
        const ner_span *t = &d->ents[i];
        const char *l = ner_model_label(m, t->label);
        if (!ref_has(re, ne, t->start, t->end, l)) {
            fprintf(stderr, "  nerd entity  [%u,%u) %s ", t->start, t->end, l);
            cli_json_str(stderr, text + t->byte_start, t->byte_end - t->byte_start);
            fputs(" not in spaCy's\n", stderr);
            shown++;
        }
    }
}

/* The batch_size of the nlp.pipe call that wrote the reference files. */
#ifndef EVAL_PIPE_BATCH
#define EVAL_PIPE_BATCH 1000
#endif

/* One parsed reference line waiting for its minibatch. */
typedef struct ref_item {
    json_t *j;
    long lineno;
    size_t ntok; /* spaCy's len(doc), which Parser.pipe sorts by */
} ref_item;

/* Parses one reference line into *it (it->j NULL: malformed, reported). */
static void ref_parse(evalr *ev, const char *line, size_t n, long lineno, ref_item *it)
{
    json_error_t je;
    json_t *j = json_loadb(line, n, JSON_ALLOW_NUL, &je);
    it->j = NULL;
    it->lineno = lineno;
    it->ntok = 0;
    if (!j) {
        bad_input(ev, lineno, "invalid JSON: ", je.text);
        return;
    }
    json_t *jt = json_object_get(j, "text");
    if (!json_is_string(jt) || !json_is_array(json_object_get(j, "tokens")) ||
        !json_is_array(json_object_get(j, "entities"))) {
        bad_input(ev, lineno, "expected {\"text\":string,\"tokens\":[...],\"entities\":[...]}",
                  NULL);
        json_decref(j);
        return;
    }
    if (ev->o->pipe_batch) { /* the length Parser.pipe sorts by; alone, no order to find */
        ner_doc d;
        int e = ner_tokenize(ev->c, json_string_value(jt), json_string_length(jt), &d);
        if (e) {
            bad_input(ev, lineno, ner_strerror(e), NULL);
            json_decref(j);
            return;
        }
        it->ntok = d.n_tokens;
    }
    it->j = j;
}

/* Compares one parsed reference line; malformed spans are reported and
 * the line skipped. */
static int ref_line(evalr *ev, json_t *j, long lineno, ref_buf *rb, ref_stats *st)
{
    json_t *jt = json_object_get(j, "text");
    json_t *jtok = json_object_get(j, "tokens"), *jent = json_object_get(j, "entities");
    long nt = ref_spans(jtok, 0, &rb->tok, &rb->tok_cap);
    long ne = nt < 0 ? nt : ref_spans(jent, 1, &rb->ent, &rb->ent_cap);
    if (nt == -2 || ne == -2)
        return NER_ENOMEM;
    if (nt < 0 || ne < 0) {
        bad_input(ev, lineno, nt < 0 ? "a token is not [start,end]"
                                     : "an entity is not [start,end,\"LABEL\"]", NULL);
        return 0;
    }
    const char *text = json_string_value(jt);
    size_t len = json_string_length(jt);
    ner_doc d;
    int e = ner_extract(ev->c, text, len, &d);
    if (e) {
        bad_input(ev, lineno, ner_strerror(e), NULL);
        return 0;
    }
    long tok_ok = 0, ent_ok = 0, extra = 0;
    for (long i = 0; i < nt; i++)
        tok_ok += pred_has(ev->m, d.tokens, d.n_tokens, rb->tok[i].start,
                           rb->tok[i].end, NULL);
    for (long i = 0; i < ne; i++)
        ent_ok += pred_has(ev->m, d.ents, d.n_ents, rb->ent[i].start, rb->ent[i].end,
                           rb->ent[i].label);
    for (size_t i = 0; i < d.n_ents; i++)
        extra += !ref_has(rb->ent, (size_t)ne, d.ents[i].start, d.ents[i].end,
                          ner_model_label(ev->m, d.ents[i].label));
    int same_tok = tok_ok == nt && (size_t)nt == d.n_tokens;
    st->texts++;
    st->texts_tok_ok += same_tok;
    st->tok_ref += nt;
    st->tok_pred += (long)d.n_tokens;
    st->tok_ok += tok_ok;
    st->ent_ref += ne;
    st->ent_pred += (long)d.n_ents;
    st->ent_ok += ent_ok;
    st->ent_extra += extra;
    if (ev->o->verbose && (!same_tok || ent_ok != ne || extra) && ev->shown++ < MAX_VERBOSE)
        ref_show(ev, lineno, text, len, rb->tok, (size_t)nt, rb->ent, (size_t)ne, &d);
    return 0;
}

/* Runs the parsed items of one nlp.pipe batch (batch_size texts) in the
 * order and minibatches spaCy predicts them (ner_pipe_plan).  batch 0:
 * every text alone, in file order. */
static int ref_batch(evalr *ev, ref_item *it, size_t n, ref_buf *rb, ref_stats *st)
{
    long batch = ev->o->pipe_batch;
    size_t m = 0, *order = NULL, *ntok = NULL;
    unsigned char *starts = NULL;
    int rc = 0;
    for (size_t i = 0; i < n; i++) /* the well-formed ones, in file order */
        if (it[i].j)
            it[m++] = it[i];
    order = malloc((m + 1) * sizeof *order);
    ntok = malloc((m + 1) * sizeof *ntok);
    starts = malloc(m + 1);
    if (!order || !ntok || !starts) {
        rc = NER_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < m; i++) {
        ntok[i] = it[i].ntok;
        order[i] = i;
        starts[i] = 1;
    }
    if (batch && (rc = ner_pipe_plan(ntok, m, (size_t)batch, order, starts)))
        goto out;
    for (size_t i = 0; i < m && !rc; i++) {
        if (starts[i])
            ner_ctx_pipe(ev->c, batch != 0);
        rc = ref_line(ev, it[order[i]].j, it[order[i]].lineno, rb, st);
    }
    ner_ctx_pipe(ev->c, 0);
out:
    for (size_t i = 0; i < m; i++)
        json_decref(it[i].j);
    free(order);
    free(ntok);
    free(starts);
    return rc;
}

static int eval_reference(evalr *ev, ref_stats *st)
{
    FILE *f = fopen(ev->path, "rb");
    char *line = NULL;
    size_t cap = 0, bsize = ev->o->pipe_batch ? (size_t)ev->o->pipe_batch : 1, nb = 0;
    long n, lineno = 0;
    ref_buf rb = {0};
    ref_item *items = NULL;
    int rc = 0;
    if (!f) {
        fprintf(stderr, "nerd eval: %s: cannot open\n", ev->path);
        st->errors = ++ev->errors;
        return 0;
    }
    if (!(items = calloc(bsize, sizeof *items))) {
        rc = NER_ENOMEM;
        goto out;
    }
    while ((n = cli_read_line(f, &line, &cap, NER_MAX_TEXT)) != -1) {
        lineno++;
        if (n == -2) {
            bad_input(ev, lineno, "line too long (or out of memory)", NULL);
            continue;
        }
        if (strspn(line, " \t") == (size_t)n)
            continue;
        ref_parse(ev, line, (size_t)n, lineno, &items[nb++]);
        if (nb == bsize) {
            rc = ref_batch(ev, items, nb, &rb, st);
            nb = 0;
            if (rc)
                goto out;
        }
    }
    if (nb && (rc = ref_batch(ev, items, nb, &rb, st)))
        goto out;
    if (ferror(f))
        bad_input(ev, lineno, "read error", NULL);
out:
    errors_done(ev);
    st->errors = ev->errors;
    free(items);
    free(rb.tok);
    free(rb.ent);
    free(line);
    fclose(f);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Output
 */

static double pct(long a, long b) { return b ? 100.0 * (double)a / (double)b : 100.0; }

static void ref_add(ref_stats *t, const ref_stats *s)
{
    t->texts += s->texts;
    t->texts_tok_ok += s->texts_tok_ok;
    t->tok_ref += s->tok_ref;
    t->tok_pred += s->tok_pred;
    t->tok_ok += s->tok_ok;
    t->ent_ref += s->ent_ref;
    t->ent_pred += s->ent_pred;
    t->ent_ok += s->ent_ok;
    t->ent_extra += s->ent_extra;
    t->errors += s->errors;
}

static int ref_perfect(const ref_stats *s)
{
    return !s->errors && s->tok_ok == s->tok_ref && s->texts_tok_ok == s->texts &&
           s->ent_ok == s->ent_ref && !s->ent_extra;
}

static void ref_text(const ref_stats *s, const char *name)
{
    char tok[48], ent[48];
    snprintf(tok, sizeof tok, "%.2f%% (%ld/%ld)", pct(s->tok_ok, s->tok_ref), s->tok_ok,
             s->tok_ref);
    snprintf(ent, sizeof ent, "%.2f%% (%ld/%ld)", pct(s->ent_ok, s->ent_ref), s->ent_ok,
             s->ent_ref);
    printf("%7ld %8.2f%%  %-26s %-24s %6ld %6ld  %s\n", s->texts,
           pct(s->texts_tok_ok, s->texts), tok, ent, s->ent_extra, s->errors, name);
}

static void ref_json(const ref_stats *s, const char *name)
{
    if (name) {
        fputs("{\"file\":", stdout);
        cli_json_str(stdout, name, strlen(name));
        putchar(',');
    } else {
        putchar('{');
    }
    printf("\"texts\":%ld,\"texts_tokens_identical\":%ld,\"tokens_reference\":%ld,"
           "\"tokens_predicted\":%ld,\"tokens_matched\":%ld,\"token_agreement\":%.4f,"
           "\"entities_reference\":%ld,\"entities_predicted\":%ld,"
           "\"entities_matched\":%ld,\"entity_agreement\":%.4f,\"extra_entities\":%ld,"
           "\"errors\":%ld,\"perfect\":%s}",
           s->texts, s->texts_tok_ok, s->tok_ref, s->tok_pred, s->tok_ok,
           pct(s->tok_ok, s->tok_ref), s->ent_ref, s->ent_pred, s->ent_ok,
           pct(s->ent_ok, s->ent_ref), s->ent_extra, s->errors,
           ref_perfect(s) ? "true" : "false");
}

static void print_all(const opts *o, const ref_stats *rs, int nref, const evg *gold,
                      int status)
{
    ref_stats rt = {0};
    for (int i = 0; i < nref; i++)
        ref_add(&rt, &rs[i]);
    if (o->json) {
        printf("{\"status\":%d", status);
        if (nref) {
            fputs(",\"reference\":{\"files\":[", stdout);
            for (int i = 0; i < nref; i++) {
                if (i)
                    putchar(',');
                ref_json(&rs[i], rs[i].file);
            }
            fputs("],\"total\":", stdout);
            ref_json(&rt, NULL);
            putchar('}');
        }
        if (gold) {
            putchar(',');
            evg_print_json(gold);
        }
        fputs("}\n", stdout);
        return;
    }
    if (nref) {
        printf("agreement with spaCy reference output\n"
               "  texts  tok-same  tokens                     entities                  "
               "extra errors  file\n");
        for (int i = 0; i < nref; i++)
            ref_text(&rs[i], rs[i].file);
        if (nref > 1)
            ref_text(&rt, "total");
    }
    if (gold)
        evg_print_text(gold, !nref);
}

/* Is path a spaCy reference file: its first line {"text", "tokens":
 * [[start,end],...], "entities"}?  A *.jsonl whose first line is no JSON
 * object (or over TD_MAX_LINE bytes) counts as one (the reference reader
 * reports it). */
static int is_reference(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *line = NULL;
    size_t cap = 0, l = strlen(path);
    long n;
    int ref = l >= 6 && !strcmp(path + l - 6, ".jsonl");
    if (!f)
        return ref;
    while ((n = cli_read_line(f, &line, &cap, TD_MAX_LINE)) >= 0 && strspn(line, " \t") == (size_t)n)
        ;
    fclose(f);
    json_error_t je;
    json_t *j = n >= 0 ? json_loadb(line, (size_t)n, 0, &je) : NULL;
    free(line);
    if (j) {
        json_t *t = json_object_get(j, "tokens");
        ref = json_is_array(t) && json_is_array(json_object_get(j, "entities")) &&
              json_is_string(json_object_get(j, "text")) &&
              (!json_array_size(t) || json_is_array(json_array_get(t, 0)));
        json_decref(j);
    }
    return ref;
}

/* Options taking an argument. */
static int has_arg(const char *a)
{
    static const char *const with[] = {"--model", "--format", "--pipe-batch", "--labels",
                                       "--label-map", "--sents"};
    for (size_t i = 0; i < sizeof with / sizeof *with; i++)
        if (!strcmp(a, with[i]))
            return 1;
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    opts o = {0};
    o.pipe_batch = EVAL_PIPE_BATCH;
    int i, nfiles = 0, nref = 0, ngold = 0, status = 0, rc = 0;
    char **files = calloc((size_t)argc + 1, sizeof *files);
    if (!files)
        return 1;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            free(files);
            return 0;
        } else if (has_arg(a) && i + 1 < argc) {
            const char *v = argv[++i];
            char *end;
            errno = 0;
            long x = strtol(v, &end, 10);
            int bad = errno || *end || end == v;
            if (!strcmp(a, "--model")) {
                o.model = v;
            } else if (!strcmp(a, "--format")) {
                o.format = !strcmp(v, "reference") ? F_REF : td_format_parse(v);
                if (o.format == -1) {
                    fprintf(stderr, "nerd eval: unknown format %s (auto, reference, conll, "
                                    "json, spacy, tuples, spans)\n", v);
                    goto usage_error;
                }
            } else if (!strcmp(a, "--labels")) {
                o.gold.labels = !strcmp(v, "auto")     ? EVG_AUTO
                                : !strcmp(v, "mapped") ? EVG_MAPPED
                                : !strcmp(v, "direct") ? EVG_DIRECT
                                                       : -1;
                if (o.gold.labels < 0) {
                    fprintf(stderr, "nerd eval: --labels wants auto, mapped or direct\n");
                    goto usage_error;
                }
            } else if (!strcmp(a, "--label-map")) {
                o.gold.label_map = v;
            } else if (!strcmp(a, "--sents")) {
                if (bad || x < 1 || x > 100000) {
                    fprintf(stderr, "nerd eval: --sents wants 1..100000, not %s\n", v);
                    goto usage_error;
                }
                o.gold.sents_per_doc = (unsigned)x;
            } else { /* --pipe-batch */
                if (bad || x < 0 || x > 1000000) {
                    fprintf(stderr, "nerd eval: --pipe-batch wants 0..1000000, not %s\n", v);
                    goto usage_error;
                }
                o.pipe_batch = x;
            }
        } else if (!strcmp(a, "--strict")) {
            o.strict = 1;
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            o.verbose = o.gold.verbose = 1;
        } else if (!strcmp(a, "--json")) {
            o.json = 1;
        } else if (!strcmp(a, "--")) {
            while (++i < argc)
                files[nfiles++] = argv[i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "nerd eval: unknown option or missing argument: %s\n", a);
            usage(stderr);
            free(files);
            return 2;
        } else {
            files[nfiles++] = argv[i];
        }
    }
    if (!nfiles) {
        fputs("nerd eval: no input file\n", stderr);
        usage(stderr);
        free(files);
        return 2;
    }
    o.gold.format = o.format == F_REF ? TD_FMT_AUTO : o.format;
    ner_model *m = NULL;
    ner_ctx *c = NULL;
    evg *gold = NULL;
    char **gfiles = calloc((size_t)nfiles + 1, sizeof *gfiles);
    ref_stats *rs = calloc((size_t)nfiles, sizeof *rs);
    if (!rs || !gfiles) {
        rc = NER_ENOMEM;
        goto fail;
    }
    if ((rc = cli_load_model(o.model, &m)))
        goto out; /* reported */
    if ((rc = ner_ctx_new(m, &c)))
        goto fail;
    for (i = 0; i < nfiles; i++) {
        const char *a = files[i];
        if (o.format == F_REF || (o.format == TD_FMT_AUTO && is_reference(a))) {
            evalr ev = {&o, m, c, a, 0, 0};
            ref_stats *s = &rs[nref++];
            s->file = a;
            if ((rc = eval_reference(&ev, s)))
                goto fail;
            if ((o.strict && !ref_perfect(s)) || ev.errors)
                status = 1;
        } else {
            gfiles[ngold++] = files[i];
        }
    }
    if (ngold) {
        if ((rc = evg_run(&o.gold, m, c, gfiles, ngold, &gold))) {
            fprintf(stderr, "nerd eval: %s\n", td_strerror(rc));
            goto out;
        }
        if (evg_failed(gold))
            status = 1;
    }
    print_all(&o, rs, nref, gold, status);
    goto out;
fail:
    fprintf(stderr, "nerd eval: %s\n", ner_strerror(rc));
out:
    fflush(stdout);
    evg_free(gold);
    free(gfiles);
    free(files);
    free(rs);
    ner_ctx_free(c);
    ner_model_free(m);
    return rc ? 1 : status;
usage_error:
    free(files);
    return 2;
}
