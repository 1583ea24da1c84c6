/*
 * `nerd eval`: accuracy of the engine.
 *  - spaCy reference JSONL ({"text","tokens","entities"}): token and entity
 *    agreement with real spaCy output, per file and in total;
 *  - gold CoNLL/IOB corpora (wikigold "word TAG", WNUT "word<TAB>TAG",
 *    UNER CoNLL-U-like with "# text =" lines): precision, recall and F1 per
 *    label after mapping OntoNotes to PER/ORG/LOC (PERSON->PER, ORG->ORG,
 *    GPE/LOC/FAC->LOC) and the gold labels likewise (person->PER,
 *    corporation/group->ORG, location->LOC; MISC and others are dropped).
 * Spans match when their character offsets and mapped label are equal.
 */
#define _DEFAULT_SOURCE
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli.h"

#define MAX_TOKENS 20000   /* per gold sentence */
#define MAX_LINE (1u << 20)

enum { L_PER, L_ORG, L_LOC, L_N };
static const char *const LNAMES[L_N] = {"PER", "ORG", "LOC"};

typedef struct opts {
    const char *model;
    int format; /* 0 auto, 1 conll, 2 reference */
    int strict, verbose, json;
} opts;

typedef struct ref_stats {
    long texts, texts_tok_ok, tok_ref, tok_ok, ent_ref, ent_ok, ent_pred, errors;
} ref_stats;

typedef struct gold_stats {
    long sents, tokens, tp[L_N], fp[L_N], fn[L_N], errors;
    double secs;
} gold_stats;

static void usage(FILE *f)
{
    fputs("usage: nerd eval [--model FILE] [--format auto|conll|reference] [--strict]\n"
          "                 [--verbose] [--json] FILE...\n"
          "\n"
          "Reference JSONL (*.jsonl): agreement with spaCy's tokens and entities.\n"
          "  --strict exits 1 unless agreement is 100%.\n"
          "Gold CoNLL/IOB corpora (other files): P/R/F1 per label, OntoNotes labels\n"
          "mapped to PER/ORG/LOC (PERSON; ORG; GPE, LOC, FAC), gold labels likewise\n"
          "(PER/person; ORG/corporation/group; LOC/location; others dropped).\n"
          "  --json prints the figures as one JSON object.\n", f);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
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
    if (!strcasecmp(l, "PER") || !strcasecmp(l, "person") || !strcasecmp(l, "PERSON"))
        return L_PER;
    if (!strcasecmp(l, "ORG") || !strcasecmp(l, "corporation") || !strcasecmp(l, "group"))
        return L_ORG;
    if (!strcasecmp(l, "LOC") || !strcasecmp(l, "location"))
        return L_LOC;
    return -1;
}

/* ---- reference JSONL ---- */

static int eval_reference(const opts *o, const ner_model *m, ner_ctx *c,
                          const char *path, ref_stats *st)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "nerd eval: %s: cannot open\n", path);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    long n, lineno = 0;
    int rc = 0;
    while ((n = cli_read_line(f, &line, &cap, MAX_LINE)) != -1) {
        lineno++;
        if (n == 0)
            continue;
        json_error_t je;
        json_t *j = n > 0 ? json_loadb(line, (size_t)n, 0, &je) : NULL;
        const char *text = json_string_value(json_object_get(j, "text"));
        json_t *toks = json_object_get(j, "tokens"), *es = json_object_get(j, "entities");
        if (!text || !json_is_array(toks) || !json_is_array(es)) {
            fprintf(stderr, "nerd eval: %s:%ld: not a reference line "
                    "{\"text\",\"tokens\",\"entities\"}\n", path, lineno);
            json_decref(j);
            st->errors++;
            rc = 1;
            continue;
        }
        ner_doc d;
        int e = ner_extract(c, text, json_string_length(json_object_get(j, "text")), &d);
        if (e) {
            fprintf(stderr, "nerd eval: %s:%ld: %s\n", path, lineno, ner_strerror(e));
            json_decref(j);
            st->errors++;
            rc = 1;
            continue;
        }
        st->texts++;
        size_t nt = json_array_size(toks), k = 0, ok = 0;
        for (size_t i = 0; i < nt; i++) {
            json_t *t = json_array_get(toks, i);
            long s0 = (long)json_integer_value(json_array_get(t, 0));
            long s1 = (long)json_integer_value(json_array_get(t, 1));
            while (k < d.n_tokens && d.tokens[k].start < s0)
                k++;
            if (k < d.n_tokens && d.tokens[k].start == s0 && d.tokens[k].end == s1)
                ok++;
        }
        st->tok_ref += (long)nt;
        st->tok_ok += (long)ok;
        if (ok == nt && nt == d.n_tokens)
            st->texts_tok_ok++;
        size_t ne = json_array_size(es), eok = 0;
        for (size_t i = 0; i < ne; i++) {
            json_t *t = json_array_get(es, i);
            long s0 = (long)json_integer_value(json_array_get(t, 0));
            long s1 = (long)json_integer_value(json_array_get(t, 1));
            const char *lab = json_string_value(json_array_get(t, 2));
            for (size_t q = 0; q < d.n_ents; q++)
                if (d.ents[q].start == s0 && d.ents[q].end == s1 && lab &&
                    !strcmp(ner_model_label(m, d.ents[q].label), lab)) {
                    eok++;
                    break;
                }
        }
        st->ent_ref += (long)ne;
        st->ent_ok += (long)eok;
        st->ent_pred += (long)d.n_ents;
        if (o->verbose && (eok != ne || ne != d.n_ents || ok != nt || nt != d.n_tokens))
            fprintf(stderr, "%s:%ld: differs: %.160s\n", path, lineno, text);
        json_decref(j);
    }
    if (n == -2)
        rc = 1;
    free(line);
    fclose(f);
    return rc;
}

static double pct(long a, long b) { return b ? 100.0 * (double)a / (double)b : 100.0; }

static void print_ref(const char *name, const ref_stats *s)
{
    printf("%-40s texts %6ld  tokens %6.2f%% (%ld/%ld, texts identical %.2f%%)  "
           "entities %6.2f%% (%ld/%ld, %ld extra predicted)\n", name, s->texts,
           pct(s->tok_ok, s->tok_ref), s->tok_ok, s->tok_ref,
           pct(s->texts_tok_ok, s->texts), pct(s->ent_ok, s->ent_ref), s->ent_ok,
           s->ent_ref, s->ent_pred - s->ent_ok);
}

/* ---- gold CoNLL/IOB ---- */

typedef struct gspan {
    size_t b0, b1;
    int label;
} gspan;

typedef struct sent {
    char *text;         /* "# text =" line, or NULL */
    char **words;
    char **tags;
    size_t n;
} sent;

static void sent_clear(sent *s)
{
    free(s->text);
    s->text = NULL;
    for (size_t i = 0; i < s->n; i++) {
        free(s->words[i]);
        free(s->tags[i]);
    }
    s->n = 0;
}

/* Scores one sentence. */
static int score_sent(const ner_model *m, ner_ctx *c, sent *s, gold_stats *st,
                      char **buf, size_t *bufcap)
{
    if (s->n == 0)
        return 0;
    size_t *b0 = malloc(s->n * sizeof *b0), *b1 = malloc(s->n * sizeof *b1);
    gspan *gold = malloc(s->n * sizeof *gold);
    int rc = 0;
    if (!b0 || !b1 || !gold) {
        rc = 1;
        goto out;
    }
    /* build the text and the byte span of every gold token */
    const char *text;
    size_t tlen;
    if (s->text) {
        text = s->text;
        tlen = strlen(text);
        size_t cur = 0;
        for (size_t i = 0; i < s->n; i++) {
            size_t wl = strlen(s->words[i]);
            while (cur < tlen && (text[cur] == ' ' || text[cur] == '\t'))
                cur++;
            if (strncmp(text + cur, s->words[i], wl) != 0) {
                const char *p = strstr(text + cur, s->words[i]);
                if (p)
                    cur = (size_t)(p - text);
            }
            b0[i] = cur;
            b1[i] = cur + wl <= tlen ? cur + wl : tlen;
            cur = b1[i];
        }
    } else {
        size_t need = 1;
        for (size_t i = 0; i < s->n; i++)
            need += strlen(s->words[i]) + 1;
        if (need > *bufcap) {
            char *p = realloc(*buf, need);
            if (!p) {
                rc = 1;
                goto out;
            }
            *buf = p;
            *bufcap = need;
        }
        size_t o = 0;
        for (size_t i = 0; i < s->n; i++) {
            size_t wl = strlen(s->words[i]);
            if (i)
                (*buf)[o++] = ' ';
            b0[i] = o;
            memcpy(*buf + o, s->words[i], wl);
            o += wl;
            b1[i] = o;
        }
        (*buf)[o] = 0;
        text = *buf;
        tlen = o;
    }
    /* gold spans (IOB1 and IOB2) */
    size_t ng = 0;
    char cur_type[64] = "";
    for (size_t i = 0; i < s->n; i++) {
        const char *t = s->tags[i];
        if (!strcmp(t, "O") || strlen(t) < 3 || t[1] != '-') {
            cur_type[0] = 0;
            continue;
        }
        int begin = t[0] == 'B' || (t[0] == 'I' && strcmp(cur_type, t + 2) != 0);
        if (begin) {
            snprintf(cur_type, sizeof cur_type, "%s", t + 2);
            gold[ng].b0 = b0[i];
            gold[ng].b1 = b1[i];
            gold[ng].label = map_gold(t + 2);
            ng++;
        } else if (ng) {
            gold[ng - 1].b1 = b1[i];
        }
    }
    ner_doc d;
    int e = ner_extract(c, text, tlen, &d);
    if (e) {
        st->errors++;
        goto out;
    }
    st->sents++;
    st->tokens += (long)s->n;
    for (size_t i = 0; i < ng; i++) {
        if (gold[i].label < 0)
            continue;
        int hit = 0;
        for (size_t q = 0; q < d.n_ents && !hit; q++)
            hit = d.ents[q].byte_start == gold[i].b0 && d.ents[q].byte_end == gold[i].b1 &&
                  map_pred(ner_model_label(m, d.ents[q].label)) == gold[i].label;
        if (hit)
            st->tp[gold[i].label]++;
        else
            st->fn[gold[i].label]++;
    }
    for (size_t q = 0; q < d.n_ents; q++) {
        int l = map_pred(ner_model_label(m, d.ents[q].label));
        if (l < 0)
            continue;
        int hit = 0;
        for (size_t i = 0; i < ng && !hit; i++)
            hit = gold[i].label == l && gold[i].b0 == d.ents[q].byte_start &&
                  gold[i].b1 == d.ents[q].byte_end;
        if (!hit)
            st->fp[l]++;
    }
out:
    free(b0);
    free(b1);
    free(gold);
    return rc;
}

static int is_int(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

static int eval_conll(const ner_model *m, ner_ctx *c, const char *path, gold_stats *st)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "nerd eval: %s: cannot open\n", path);
        return 1;
    }
    sent s = {0};
    size_t cap_tok = 0;
    char *line = NULL, *buf = NULL;
    size_t cap = 0, bufcap = 0;
    long n, lineno = 0, bad = 0;
    int rc = 0;
    double t0 = now();
    while ((n = cli_read_line(f, &line, &cap, MAX_LINE)) != -1) {
        lineno++;
        if (n == -2) {
            fprintf(stderr, "nerd eval: %s:%ld: line too long\n", path, lineno);
            rc = 1;
            break;
        }
        if (n == 0 || strspn(line, " \t") == (size_t)n) {
            if (score_sent(m, c, &s, st, &buf, &bufcap)) {
                rc = 1;
                break;
            }
            sent_clear(&s);
            continue;
        }
        if (line[0] == '#') {
            const char *p = strstr(line, "# text = ");
            if (p == line) {
                free(s.text);
                s.text = strdup(line + 9);
            }
            continue;
        }
        if (!strncmp(line, "-DOCSTART-", 10))
            continue;
        /* fields: tab-separated, else space-separated */
        char *fields[16];
        int nf = 0;
        const char *sep = strchr(line, '\t') ? "\t" : " ";
        for (char *save = NULL, *tok = strtok_r(line, sep, &save); tok && nf < 16;
             tok = strtok_r(NULL, sep, &save))
            fields[nf++] = tok;
        const char *word, *tag;
        if (nf >= 3 && is_int(fields[0])) {
            word = fields[1];
            tag = fields[2];
        } else if (nf >= 2) {
            word = fields[0];
            tag = fields[nf - 1];
        } else {
            if (bad++ < 3)
                fprintf(stderr, "nerd eval: %s:%ld: expected 'word TAG'\n", path, lineno);
            st->errors++;
            rc = 1;
            continue;
        }
        if (s.n >= MAX_TOKENS) {
            fprintf(stderr, "nerd eval: %s:%ld: sentence longer than %d tokens\n",
                    path, lineno, MAX_TOKENS);
            rc = 1;
            break;
        }
        if (s.n == cap_tok) {
            size_t nc = cap_tok ? 2 * cap_tok : 64;
            char **w = realloc(s.words, nc * sizeof *w);
            if (w)
                s.words = w;
            char **t = realloc(s.tags, nc * sizeof *t);
            if (t)
                s.tags = t;
            if (!w || !t) {
                rc = 1;
                break;
            }
            cap_tok = nc;
        }
        s.words[s.n] = strdup(word);
        s.tags[s.n] = strdup(tag);
        s.n++;
    }
    if (!rc && score_sent(m, c, &s, st, &buf, &bufcap))
        rc = 1;
    st->secs += now() - t0;
    sent_clear(&s);
    free(s.words);
    free(s.tags);
    free(line);
    free(buf);
    fclose(f);
    return rc;
}

static void prf(long tp, long fp, long fn, double *p, double *r, double *f1)
{
    *p = tp + fp ? (double)tp / (double)(tp + fp) : 0;
    *r = tp + fn ? (double)tp / (double)(tp + fn) : 0;
    *f1 = *p + *r > 0 ? 2 * *p * *r / (*p + *r) : 0;
}

static void print_gold(const char *name, const gold_stats *s, int json)
{
    long tp = 0, fp = 0, fn = 0;
    double p, r, f1;
    if (json) {
        printf("{\"file\":");
        cli_json_str(stdout, name, strlen(name));
        printf(",\"sentences\":%ld,\"tokens\":%ld,\"labels\":{", s->sents, s->tokens);
    } else {
        printf("%s: %ld sentences, %ld tokens, %.0f tokens/s\n", name, s->sents,
               s->tokens, s->secs > 0 ? (double)s->tokens / s->secs : 0);
        printf("  label      P       R       F1     tp    fp    fn\n");
    }
    for (int l = 0; l < L_N; l++) {
        prf(s->tp[l], s->fp[l], s->fn[l], &p, &r, &f1);
        tp += s->tp[l];
        fp += s->fp[l];
        fn += s->fn[l];
        if (json)
            printf("%s\"%s\":{\"p\":%.4f,\"r\":%.4f,\"f1\":%.4f,\"tp\":%ld,\"fp\":%ld,\"fn\":%ld}",
                   l ? "," : "", LNAMES[l], p, r, f1, s->tp[l], s->fp[l], s->fn[l]);
        else
            printf("  %-5s  %6.4f  %6.4f  %6.4f  %5ld %5ld %5ld\n", LNAMES[l], p, r, f1,
                   s->tp[l], s->fp[l], s->fn[l]);
    }
    prf(tp, fp, fn, &p, &r, &f1);
    if (json)
        printf("},\"micro\":{\"p\":%.4f,\"r\":%.4f,\"f1\":%.4f,\"tp\":%ld,\"fp\":%ld,\"fn\":%ld}}\n",
               p, r, f1, tp, fp, fn);
    else
        printf("  micro  %6.4f  %6.4f  %6.4f  %5ld %5ld %5ld\n", p, r, f1, tp, fp, fn);
}

int cmd_eval(int argc, char **argv)
{
    opts o = {0};
    int i, nfiles = 0;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--model") && i + 1 < argc) {
            o.model = argv[++i];
        } else if (!strcmp(argv[i], "--format") && i + 1 < argc) {
            const char *fm = argv[++i];
            o.format = !strcmp(fm, "conll") ? 1 : !strcmp(fm, "reference") ? 2
                       : !strcmp(fm, "auto") ? 0 : -1;
            if (o.format < 0) {
                fprintf(stderr, "nerd eval: unknown format %s\n", fm);
                return 2;
            }
        } else if (!strcmp(argv[i], "--strict")) {
            o.strict = 1;
        } else if (!strcmp(argv[i], "--verbose")) {
            o.verbose = 1;
        } else if (!strcmp(argv[i], "--json")) {
            o.json = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "nerd eval: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        } else {
            nfiles++;
        }
    }
    if (!nfiles) {
        usage(stderr);
        return 2;
    }
    ner_model *m = NULL;
    ner_ctx *c = NULL;
    if (cli_load_model(o.model, &m))
        return 1;
    if (ner_ctx_new(m, &c)) {
        ner_model_free(m);
        return 1;
    }
    int status = 0;
    ref_stats rt = {0};
    int nref = 0;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1]) {
            if (!strcmp(a, "--model") || !strcmp(a, "--format"))
                i++;
            continue;
        }
        size_t l = strlen(a);
        int is_ref = o.format == 2 || (o.format == 0 && l > 6 && !strcmp(a + l - 6, ".jsonl"));
        if (is_ref) {
            ref_stats s = {0};
            status |= eval_reference(&o, m, c, a, &s);
            if (o.json)
                printf("{\"file\":\"%s\",\"texts\":%ld,\"token_agreement\":%.4f,"
                       "\"entity_agreement\":%.4f,\"extra_entities\":%ld}\n", a, s.texts,
                       pct(s.tok_ok, s.tok_ref), pct(s.ent_ok, s.ent_ref),
                       s.ent_pred - s.ent_ok);
            else
                print_ref(a, &s);
            if (o.strict && (s.tok_ok != s.tok_ref || s.ent_ok != s.ent_ref ||
                             s.ent_pred != s.ent_ok || s.texts_tok_ok != s.texts))
                status = 1;
            rt.texts += s.texts;
            rt.texts_tok_ok += s.texts_tok_ok;
            rt.tok_ref += s.tok_ref;
            rt.tok_ok += s.tok_ok;
            rt.ent_ref += s.ent_ref;
            rt.ent_ok += s.ent_ok;
            rt.ent_pred += s.ent_pred;
            nref++;
        } else {
            gold_stats s = {0};
            status |= eval_conll(m, c, a, &s);
            print_gold(a, &s, o.json);
        }
    }
    if (nref > 1 && !o.json)
        print_ref("total", &rt);
    ner_ctx_free(c);
    ner_model_free(m);
    return status;
}
