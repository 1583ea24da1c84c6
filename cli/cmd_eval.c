/*
 * `nerd eval`: accuracy of the engine on two kinds of files.
 *  - spaCy reference JSONL (one {"text","tokens","entities"} per line, code
 *    point offsets, written by real spaCy 2.2.4 + en_core_web_sm 2.2.5):
 *    agreement of our tokens and entities with spaCy's, per file and in
 *    total; --strict makes any disagreement an exit status of 1.
 *  - gold CoNLL/IOB corpora in three layouts: "word TAG" (wikigold, IOB1,
 *    -DOCSTART- lines), "word<TAB>TAG" (WNUT, BIO), and CoNLL-U-like rows
 *    "id<TAB>word<TAB>TAG..." with "# text = ..." lines (UNER).  The text
 *    is the "# text =" line (gold tokens aligned in it) or the words joined
 *    by single spaces.  Predictions are mapped from OntoNotes (PERSON->PER,
 *    ORG->ORG, GPE/LOC/FAC->LOC, others dropped), gold labels likewise
 *    (PER/person->PER, ORG/corporation/group->ORG, LOC/location->LOC, MISC
 *    and the rest dropped); a span is correct when its character offsets
 *    and mapped label are equal.  Prints P/R/F1 per label and micro-averaged.
 * Malformed input is reported as FILE:LINE on stderr, the offending line or
 * sentence is skipped, and the exit status is 1.  Output is a table, or one
 * JSON object with --json.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli.h"

#define MAX_TOKENS 20000          /* gold tokens per sentence */
#define MAX_CONLL_LINE (1u << 20) /* bytes per corpus line */
#define MAX_TAG 64                /* bytes of a gold entity type */
#define MAX_ERRORS_SHOWN 10       /* error messages per file */
#define MAX_VERBOSE 10            /* differing texts shown per file */
#define MAX_DIFFS 8               /* differences listed per text */

enum { L_PER, L_ORG, L_LOC, L_N };
static const char *const LNAMES[L_N] = {"PER", "ORG", "LOC"};

enum { F_AUTO, F_CONLL, F_REF };

typedef struct opts {
    const char *model;
    int format, strict, verbose, json;
    long pipe_batch; /* reference files: nlp.pipe's batch_size, 0 = each text alone */
} opts;

/* Counters of one reference file (or the total). */
typedef struct ref_stats {
    const char *file;
    long texts, texts_tok_ok, tok_ref, tok_pred, tok_ok;
    long ent_ref, ent_pred, ent_ok, ent_extra, errors;
} ref_stats;

/* Counters of one gold corpus (or the total). */
typedef struct gold_stats {
    const char *file;
    long sents, tokens, tp[L_N], fp[L_N], fn[L_N], errors;
    double secs; /* time spent in ner_extract */
} gold_stats;

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
    fputs("usage: nerd eval [--model FILE] [--format auto|conll|reference] [--strict]\n"
          "                 [--verbose] [--json] FILE...\n"
          "\n"
          "Measures the engine on each FILE:\n"
          "  reference JSONL (*.jsonl, or --format reference): one line per text,\n"
          "    {\"text\":...,\"tokens\":[[start,end],...],\"entities\":[[start,end,\"LABEL\"],...]}\n"
          "    with code point offsets, as written by spaCy.  Prints the share of\n"
          "    reference tokens and entities reproduced exactly, the share of texts\n"
          "    with identical tokens, and the extra entities predicted.\n"
          "  gold CoNLL/IOB corpus (anything else): \"word TAG\", \"word<TAB>TAG\" or\n"
          "    CoNLL-U-like \"id<TAB>word<TAB>TAG...\" rows, a blank line between\n"
          "    sentences, IOB1 or BIO tags; the text is the \"# text = \" comment when\n"
          "    present, else the words joined by spaces.  Prints precision, recall\n"
          "    and F1 per label (PER, ORG, LOC) and micro-averaged, with tp/fp/fn,\n"
          "    after mapping predictions PERSON->PER, ORG->ORG, GPE/LOC/FAC->LOC and\n"
          "    gold labels PER/person->PER, ORG/corporation/group->ORG,\n"
          "    LOC/location->LOC (other labels are ignored on both sides).\n"
          "\n"
          "  --model FILE     model file (default: $NERD_MODEL or the bundled model)\n"
          "  --format F       auto (default: by file name), conll or reference\n"
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

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
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

static int map_pred(const char *l)
{
    if (!strcmp(l, "PERSON"))
        return L_PER;
    if (!strcmp(l, "ORG"))
        return L_ORG;
    if (!strcmp(l, "GPE") || !strcmp(l, "LOC") || !strcmp(l, "FAC"))
        return L_LOC;
    return -1;
}

static int map_gold(const char *l)
{
    if (!strcasecmp(l, "PER") || !strcasecmp(l, "person"))
        return L_PER;
    if (!strcasecmp(l, "ORG") || !strcasecmp(l, "corporation") || !strcasecmp(l, "group"))
        return L_ORG;
    if (!strcasecmp(l, "LOC") || !strcasecmp(l, "location"))
        return L_LOC;
    return -1;
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
 * Gold CoNLL/IOB corpora
 */

typedef struct gtok {
    size_t word, tag; /* offsets of NUL-terminated strings in the pool */
    size_t b0, b1;    /* byte span in the sentence text */
    long line;
} gtok;

typedef struct gspan {
    size_t b0, b1;
    int label;
} gspan;

/* One sentence being read, and scratch reused across sentences. */
typedef struct sent {
    char *text; /* "# text =" line, or NULL */
    long text_line, first_line;
    int bad;    /* a malformed row: skip the sentence */
    gtok *tok;
    size_t n, tok_cap;
    char *pool;
    size_t pool_len, pool_cap;
    char *joined;
    size_t joined_cap;
    gspan *gold;
    size_t gold_cap;
} sent;

static void sent_reset(sent *s)
{
    free(s->text);
    s->text = NULL;
    s->n = s->pool_len = 0;
    s->bad = 0;
    s->first_line = 0;
}

static void sent_free(sent *s)
{
    sent_reset(s);
    free(s->tok);
    free(s->pool);
    free(s->joined);
    free(s->gold);
}

static int pool_add(sent *s, const char *str, size_t *off)
{
    size_t l = strlen(str) + 1;
    if (s->pool_len + l > NER_MAX_TEXT)
        return NER_ETOOBIG;
    if (grow(&s->pool, &s->pool_cap, s->pool_len + l, 1))
        return NER_ENOMEM;
    memcpy(s->pool + s->pool_len, str, l);
    *off = s->pool_len;
    s->pool_len += l;
    return 0;
}

/* Is t an IOB tag: "O", or one of B I E S L U, '-', a type? */
static int is_tag(const char *t)
{
    if (!strcmp(t, "O"))
        return 1;
    return t[0] && strchr("BIESLU", t[0]) && t[1] == '-' && t[2];
}

/* Splits line in place into at most max fields (by tab when the line has
 * one, else by spaces; *tabs tells which).  Returns the number of fields. */
static int split(char *line, char **fields, int max, int *tabs)
{
    *tabs = strchr(line, '\t') != NULL;
    const char *sep = *tabs ? "\t" : " ";
    int nf = 0;
    char *save = NULL;
    for (char *t = strtok_r(line, sep, &save); t && nf < max; t = strtok_r(NULL, sep, &save))
        fields[nf++] = t;
    return nf;
}

/* CoNLL-U row id: "1" (a word), "1-2" or "1.1" (ranges, empty nodes). */
static int conllu_id(const char *s)
{
    size_t d = strspn(s, "0123456789");
    if (!d)
        return 0;
    if (!s[d])
        return 1;
    if ((s[d] == '-' || s[d] == '.') && s[d + 1] && !s[d + 1 + strspn(s + d + 1, "0123456789")])
        return 2;
    return 0;
}

/* Lays out the gold tokens in the sentence text.  Returns 0, or -1 after
 * reporting a token not found. */
static int sent_layout(evalr *ev, sent *s, const char **text, size_t *tlen)
{
    if (s->text) {
        const char *t = s->text;
        size_t n = strlen(t), cur = 0;
        for (size_t i = 0; i < s->n; i++) {
            const char *w = s->pool + s->tok[i].word;
            size_t wl = strlen(w);
            while (cur < n && (t[cur] == ' ' || t[cur] == '\t'))
                cur++;
            if (n - cur < wl || memcmp(t + cur, w, wl) != 0) {
                bad_input(ev, s->tok[i].line, "word not found in the \"# text =\" line: ", w);
                return -1;
            }
            s->tok[i].b0 = cur;
            s->tok[i].b1 = cur + wl;
            cur += wl;
        }
        *text = t;
        *tlen = n;
        return 0;
    }
    size_t need = 1;
    for (size_t i = 0; i < s->n; i++)
        need += strlen(s->pool + s->tok[i].word) + 1;
    if (grow(&s->joined, &s->joined_cap, need, 1))
        return NER_ENOMEM;
    size_t o = 0;
    for (size_t i = 0; i < s->n; i++) {
        const char *w = s->pool + s->tok[i].word;
        size_t wl = strlen(w);
        if (i)
            s->joined[o++] = ' ';
        s->tok[i].b0 = o;
        memcpy(s->joined + o, w, wl);
        o += wl;
        s->tok[i].b1 = o;
    }
    s->joined[o] = 0;
    *text = s->joined;
    *tlen = o;
    return 0;
}

/* Gold spans from IOB1/IOB2/BIOES tags.  Returns the count. */
static size_t sent_gold(sent *s)
{
    size_t ng = 0;
    const char *cur = NULL; /* type of the open span */
    for (size_t i = 0; i < s->n; i++) {
        const char *t = s->pool + s->tok[i].tag;
        if (t[0] == 'O') {
            cur = NULL;
            continue;
        }
        const char *type = t + 2;
        if (strchr("BSU", t[0]) || !cur || strcmp(cur, type)) {
            s->gold[ng].b0 = s->tok[i].b0;
            s->gold[ng].label = map_gold(type);
            ng++;
            cur = type;
        }
        s->gold[ng - 1].b1 = s->tok[i].b1;
        if (strchr("SUEL", t[0]))
            cur = NULL;
    }
    return ng;
}

static void show_span(const char *what, int l, const char *text, size_t b0, size_t b1)
{
    fprintf(stderr, "  %s %s ", what, LNAMES[l]);
    cli_json_str(stderr, text + b0, b1 - b0);
    fputc('\n', stderr);
}

/* Scores the sentence read so far. */
static int sent_score(evalr *ev, sent *s, gold_stats *st)
{
    if (!s->n || s->bad)
        return 0;
    const char *text;
    size_t tlen;
    int rc = sent_layout(ev, s, &text, &tlen);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (grow(&s->gold, &s->gold_cap, s->n, sizeof *s->gold))
        return NER_ENOMEM;
    size_t ng = sent_gold(s);
    ner_doc d;
    double t0 = now();
    int e = ner_extract(ev->c, text, tlen, &d);
    st->secs += now() - t0;
    if (e) {
        bad_input(ev, s->first_line, ner_strerror(e), NULL);
        return 0;
    }
    st->sents++;
    st->tokens += (long)s->n;
    int show = ev->o->verbose && ev->shown < MAX_VERBOSE, head = 0;
    for (size_t i = 0; i < ng; i++) {
        int l = s->gold[i].label, hit = 0;
        if (l < 0)
            continue;
        for (size_t q = 0; q < d.n_ents && !hit; q++)
            hit = d.ents[q].byte_start == s->gold[i].b0 &&
                  d.ents[q].byte_end == s->gold[i].b1 &&
                  map_pred(ner_model_label(ev->m, d.ents[q].label)) == l;
        if (hit) {
            st->tp[l]++;
            continue;
        }
        st->fn[l]++;
        if (show && !head++)
            fprintf(stderr, "%s:%ld: %.300s\n", ev->path, s->first_line, text);
        if (show)
            show_span("missed  ", l, text, s->gold[i].b0, s->gold[i].b1);
    }
    for (size_t q = 0; q < d.n_ents; q++) {
        int l = map_pred(ner_model_label(ev->m, d.ents[q].label)), hit = 0;
        if (l < 0)
            continue;
        for (size_t i = 0; i < ng && !hit; i++)
            hit = s->gold[i].label == l && s->gold[i].b0 == d.ents[q].byte_start &&
                  s->gold[i].b1 == d.ents[q].byte_end;
        if (hit)
            continue;
        st->fp[l]++;
        if (show && !head++)
            fprintf(stderr, "%s:%ld: %.300s\n", ev->path, s->first_line, text);
        if (show)
            show_span("spurious", l, text, d.ents[q].byte_start, d.ents[q].byte_end);
    }
    ev->shown += head > 0;
    return 0;
}

/* Reads one non-blank corpus line into the sentence. */
static int conll_line(evalr *ev, sent *s, char *line, size_t n, long lineno)
{
    if (memchr(line, 0, n)) {
        bad_input(ev, lineno, "NUL byte in line", NULL);
        s->bad = 1;
        return 0;
    }
    if (!strncmp(line, "# text = ", 9) || !strncmp(line, "# text=", 7)) {
        const char *t = line + (line[6] == '=' ? 7 : 9);
        free(s->text);
        s->text = strdup(t);
        s->text_line = lineno;
        return s->text ? 0 : NER_ENOMEM;
    }
    char *fields[16];
    int tabs, nf = split(line, fields, 16, &tabs);
    if (line[0] == '#' && !(nf == 2 && is_tag(fields[1])))
        return 0; /* a comment, not the token "#" */
    if (!s->first_line)
        s->first_line = lineno;
    const char *word, *tag;
    int id = tabs && nf >= 3 ? conllu_id(fields[0]) : 0;
    if (id == 2)
        return 0; /* CoNLL-U multiword range or empty node */
    if (id == 1) {
        word = fields[1];
        tag = fields[2];
    } else if (nf >= 2) {
        word = fields[0];
        tag = fields[nf - 1];
    } else {
        bad_input(ev, lineno, "expected \"word TAG\" or \"id<TAB>word<TAB>TAG\": ", line);
        s->bad = 1;
        return 0;
    }
    if (!is_tag(tag) || strlen(tag) >= MAX_TAG) {
        bad_input(ev, lineno, "not an IOB tag (O, B-X, I-X): ", tag);
        s->bad = 1;
        return 0;
    }
    if (s->n >= MAX_TOKENS) {
        if (!s->bad)
            bad_input(ev, lineno, "sentence too long (tokens)", NULL);
        s->bad = 1;
        return 0;
    }
    if (grow(&s->tok, &s->tok_cap, s->n + 1, sizeof *s->tok))
        return NER_ENOMEM;
    gtok *t = &s->tok[s->n];
    int rc = pool_add(s, word, &t->word);
    if (!rc)
        rc = pool_add(s, tag, &t->tag);
    if (rc == NER_ETOOBIG) {
        bad_input(ev, lineno, "sentence too long (bytes)", NULL);
        s->bad = 1;
        return 0;
    }
    if (rc)
        return rc;
    t->line = lineno;
    s->n++;
    return 0;
}

static int eval_conll(evalr *ev, gold_stats *st)
{
    FILE *f = fopen(ev->path, "rb");
    char *line = NULL;
    size_t cap = 0;
    long n, lineno = 0;
    sent s = {0};
    int rc = 0;
    if (!f) {
        fprintf(stderr, "nerd eval: %s: cannot open\n", ev->path);
        st->errors = ++ev->errors;
        return 0;
    }
    while ((n = cli_read_line(f, &line, &cap, MAX_CONLL_LINE)) != -1) {
        lineno++;
        if (n == -2) {
            bad_input(ev, lineno, "line too long", NULL);
            s.bad = 1;
            continue;
        }
        if (strspn(line, " \t") == (size_t)n || !strncmp(line, "-DOCSTART-", 10)) {
            rc = sent_score(ev, &s, st);
            if (rc)
                goto out;
            sent_reset(&s);
            continue;
        }
        rc = conll_line(ev, &s, line, (size_t)n, lineno);
        if (rc)
            goto out;
    }
    if (ferror(f))
        bad_input(ev, lineno, "read error", NULL);
    rc = sent_score(ev, &s, st);
    if (!rc && !st->sents && !ev->errors)
        fprintf(stderr, "nerd eval: %s: warning: no sentences\n", ev->path);
out:
    errors_done(ev);
    st->errors = ev->errors;
    sent_free(&s);
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

static void gold_add(gold_stats *t, const gold_stats *s)
{
    t->sents += s->sents;
    t->tokens += s->tokens;
    for (int l = 0; l < L_N; l++) {
        t->tp[l] += s->tp[l];
        t->fp[l] += s->fp[l];
        t->fn[l] += s->fn[l];
    }
    t->errors += s->errors;
    t->secs += s->secs;
}

static void prf(long tp, long fp, long fn, double *p, double *r, double *f1)
{
    *p = tp + fp ? (double)tp / (double)(tp + fp) : 0;
    *r = tp + fn ? (double)tp / (double)(tp + fn) : 0;
    *f1 = *p + *r > 0 ? 2 * *p * *r / (*p + *r) : 0;
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

static void gold_text(const gold_stats *s, const char *name)
{
    long tp = 0, fp = 0, fn = 0;
    double p, r, f1;
    printf("%s: %ld sentences, %ld tokens, %.2f s, %.0f tokens/s%s", name, s->sents,
           s->tokens, s->secs, s->secs > 0 ? (double)s->tokens / s->secs : 0.0,
           s->errors ? "" : "\n");
    if (s->errors)
        printf(", errors: %ld (skipped)\n", s->errors);
    printf("  label       P       R      F1      tp      fp      fn\n");
    for (int l = 0; l <= L_N; l++) {
        if (l < L_N) {
            tp += s->tp[l];
            fp += s->fp[l];
            fn += s->fn[l];
            prf(s->tp[l], s->fp[l], s->fn[l], &p, &r, &f1);
            printf("  %-5s  %6.4f  %6.4f  %6.4f  %6ld  %6ld  %6ld\n", LNAMES[l], p, r, f1,
                   s->tp[l], s->fp[l], s->fn[l]);
        } else {
            prf(tp, fp, fn, &p, &r, &f1);
            printf("  micro  %6.4f  %6.4f  %6.4f  %6ld  %6ld  %6ld\n", p, r, f1, tp, fp, fn);
        }
    }
}

static void gold_json(const gold_stats *s, const char *name)
{
    long tp = 0, fp = 0, fn = 0;
    double p, r, f1;
    if (name) {
        fputs("{\"file\":", stdout);
        cli_json_str(stdout, name, strlen(name));
        putchar(',');
    } else {
        putchar('{');
    }
    printf("\"sentences\":%ld,\"tokens\":%ld,\"seconds\":%.4f,\"tokens_per_s\":%.0f,"
           "\"errors\":%ld,\"labels\":{", s->sents, s->tokens, s->secs,
           s->secs > 0 ? (double)s->tokens / s->secs : 0.0, s->errors);
    for (int l = 0; l < L_N; l++) {
        prf(s->tp[l], s->fp[l], s->fn[l], &p, &r, &f1);
        tp += s->tp[l];
        fp += s->fp[l];
        fn += s->fn[l];
        printf("%s\"%s\":{\"p\":%.4f,\"r\":%.4f,\"f1\":%.4f,\"tp\":%ld,\"fp\":%ld,\"fn\":%ld}",
               l ? "," : "", LNAMES[l], p, r, f1, s->tp[l], s->fp[l], s->fn[l]);
    }
    prf(tp, fp, fn, &p, &r, &f1);
    printf("},\"micro\":{\"p\":%.4f,\"r\":%.4f,\"f1\":%.4f,\"tp\":%ld,\"fp\":%ld,\"fn\":%ld}}",
           p, r, f1, tp, fp, fn);
}

static void print_all(const opts *o, const ref_stats *rs, int nref, const gold_stats *gs,
                      int ngold, int status)
{
    ref_stats rt = {0};
    gold_stats gt = {0};
    for (int i = 0; i < nref; i++)
        ref_add(&rt, &rs[i]);
    for (int i = 0; i < ngold; i++)
        gold_add(&gt, &gs[i]);
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
        if (ngold) {
            fputs(",\"gold\":{\"files\":[", stdout);
            for (int i = 0; i < ngold; i++) {
                if (i)
                    putchar(',');
                gold_json(&gs[i], gs[i].file);
            }
            fputs("],\"total\":", stdout);
            gold_json(&gt, NULL);
            putchar('}');
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
    for (int i = 0; i < ngold; i++) {
        if (i || nref)
            putchar('\n');
        gold_text(&gs[i], gs[i].file);
    }
    if (ngold > 1) {
        putchar('\n');
        gold_text(&gt, "total");
    }
}

int cmd_eval(int argc, char **argv)
{
    opts o = {0};
    o.pipe_batch = EVAL_PIPE_BATCH;
    int i, nfiles = 0, nref = 0, ngold = 0, status = 0, rc = 0;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--model") && i + 1 < argc) {
            o.model = argv[++i];
        } else if (!strcmp(a, "--format") && i + 1 < argc) {
            const char *fm = argv[++i];
            if (!strcmp(fm, "auto"))
                o.format = F_AUTO;
            else if (!strcmp(fm, "conll"))
                o.format = F_CONLL;
            else if (!strcmp(fm, "reference"))
                o.format = F_REF;
            else {
                fprintf(stderr, "nerd eval: unknown format %s (auto, conll, reference)\n", fm);
                return 2;
            }
        } else if (!strcmp(a, "--strict")) {
            o.strict = 1;
        } else if (!strcmp(a, "--pipe-batch") && i + 1 < argc) {
            char *end;
            errno = 0;
            o.pipe_batch = strtol(argv[++i], &end, 10);
            if (errno || *end || end == argv[i] || o.pipe_batch < 0 || o.pipe_batch > 1000000) {
                fprintf(stderr, "nerd eval: --pipe-batch wants 0..1000000, not %s\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            o.verbose = 1;
        } else if (!strcmp(a, "--json")) {
            o.json = 1;
        } else if (!strcmp(a, "--")) {
            nfiles += argc - i - 1;
            break;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "nerd eval: unknown option or missing argument: %s\n", a);
            usage(stderr);
            return 2;
        } else {
            nfiles++;
        }
    }
    if (!nfiles) {
        fputs("nerd eval: no input file\n", stderr);
        usage(stderr);
        return 2;
    }
    ner_model *m = NULL;
    ner_ctx *c = NULL;
    ref_stats *rs = calloc((size_t)nfiles, sizeof *rs);
    gold_stats *gs = calloc((size_t)nfiles, sizeof *gs);
    if (!rs || !gs) {
        rc = NER_ENOMEM;
        goto fail;
    }
    if ((rc = cli_load_model(o.model, &m)))
        goto out; /* reported */
    if ((rc = ner_ctx_new(m, &c)))
        goto fail;
    int opts_done = 0;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!opts_done && !strcmp(a, "--")) {
            opts_done = 1;
            continue;
        }
        if (!opts_done && a[0] == '-' && a[1]) {
            if (!strcmp(a, "--model") || !strcmp(a, "--format") || !strcmp(a, "--pipe-batch"))
                i++;
            continue;
        }
        size_t l = strlen(a);
        int is_ref = o.format == F_REF ||
                     (o.format == F_AUTO && l >= 6 && !strcmp(a + l - 6, ".jsonl"));
        evalr ev = {&o, m, c, a, 0, 0};
        if (is_ref) {
            ref_stats *s = &rs[nref++];
            s->file = a;
            rc = eval_reference(&ev, s);
            if (o.strict && !ref_perfect(s) && !status)
                status = 1;
        } else {
            gold_stats *s = &gs[ngold++];
            s->file = a;
            rc = eval_conll(&ev, s);
        }
        if (rc)
            goto fail;
        if (ev.errors)
            status = 1;
    }
    print_all(&o, rs, nref, gs, ngold, status);
    goto out;
fail:
    fprintf(stderr, "nerd eval: %s\n", ner_strerror(rc));
out:
    fflush(stdout);
    free(rs);
    free(gs);
    ner_ctx_free(c);
    ner_model_free(m);
    return rc ? 1 : status;
}
