/* The training-data readers (include/nerd/traindata.h) on data-driven
 * cases, then the API around them.
 *
 * Cases: every file F in tests/data/train/ that has an F.expect beside it
 * is read with the model's tokenizer and dumped (messages, documents with
 * each token's BILUO tag, gold spans, labels, counts, result); the dump
 * must equal F.expect.  A first line "# opts: KEY=VALUE ..." of F.expect
 * sets the reader options (format=, sents=, map=).  TD_UPDATE=1 rewrites
 * the .expect files from what the reader does now (review them by hand).
 * Then: the caps, the label checks of a training run, the scorer, units
 * and the deterministic split. */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "check_model.h"
#include "nerd/traindata.h"

#define DIR_CASES "tests/data/train"

static ner_ctx *CTX;
static const char *const MOVES = "-BILUO";

static void on_msg(void *ud, int level, const char *file, long line, const char *msg)
{
    (void)file;
    fprintf((FILE *)ud, "%s %ld: %s\n", level == TD_ERROR ? "error" : "warning", line, msg);
}

static void put_esc(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ')
            fputs("\\s", f);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
}

static void dump(FILE *f, const td_corpus *c, int rc)
{
    for (size_t i = 0; i < td_ndocs(c); i++) {
        const td_doc *d = td_doc_at(c, i);
        fprintf(f, "doc %zu (line %ld, %zu words): ", i + 1, d->line, d->n_words);
        put_esc(f, d->text, d->len);
        fputs("\n  tokens:", f);
        for (size_t t = 0; t < d->n_tokens; t++) {
            const ner_span *k = &d->tokens[t];
            fputc(' ', f);
            put_esc(f, d->text + k->byte_start, k->byte_end - k->byte_start);
            fputc('/', f);
            if (!d->tags)
                fputc('?', f);
            else if (d->tags[t].move == TD_MISSING || d->tags[t].move == TD_O)
                fputc(MOVES[d->tags[t].move], f);
            else
                fprintf(f, "%c-%s", MOVES[d->tags[t].move], td_label(c, d->tags[t].label));
        }
        fputs("\n  spans:", f);
        for (size_t k = 0; k < d->n_spans; k++) {
            const ner_span *s = &d->spans[k];
            fprintf(f, " [%u,%u) %s \"", s->start, s->end, td_label(c, s->label));
            put_esc(f, d->text + s->byte_start, s->byte_end - s->byte_start);
            fputc('"', f);
        }
        if (d->n_misaligned)
            fprintf(f, " (%u misaligned)", d->n_misaligned);
        fputc('\n', f);
    }
    fputs("labels:", f);
    for (int l = 0; l < td_nlabels(c); l++) {
        td_label_info li;
        td_label_stats(c, l, &li);
        fprintf(f, " %s(%zu spans, %zu tokens, line %ld)", td_label(c, l), li.spans, li.tokens,
                li.line);
    }
    td_stats st;
    td_corpus_stats(c, &st);
    fprintf(f,
            "\nstats: docs %zu words %zu tokens %zu spans %zu misaligned %zu missing %zu "
            "unannotated %zu skipped %zu duplicates %zu dropped %zu errors %zu\n",
            st.docs, st.words, st.tokens, st.spans, st.misaligned, st.missing, st.unannotated,
            st.skipped, st.duplicates, st.dropped, st.errors);
    fprintf(f, "result: %s\n", td_strerror(rc));
}

/* Reads "# opts: ..." into o (strings kept in buf). */
static void read_opts(char *line, td_opts *o)
{
    if (strncmp(line, "# opts:", 7))
        return;
    for (char *save = NULL, *t = strtok_r(line + 7, " \n", &save); t;
         t = strtok_r(NULL, " \n", &save)) {
        if (!strncmp(t, "format=", 7))
            o->format = td_format_parse(t + 7);
        else if (!strncmp(t, "sents=", 6))
            o->sents_per_doc = (unsigned)atoi(t + 6);
        else if (!strncmp(t, "map=", 4))
            o->label_map = t + 4;
        else if (!strcmp(t, "model-only"))
            ; /* differs without a model: run_case skips that comparison */
        else
            CHECK(0, "unknown option %s", t);
    }
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = NULL;
    size_t cap = 0, len = 0, got;
    do {
        if (len + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            b = realloc(b, cap + 1);
        }
        got = fread(b + len, 1, cap - len, f);
        len += got;
    } while (got);
    fclose(f);
    b[len] = 0;
    *n = len;
    return b;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_case(const char *name, int update)
{
    char in[512], exp[600], opts[512] = "", parsed[512];
    snprintf(in, sizeof in, "%s/%.400s", DIR_CASES, name);
    snprintf(exp, sizeof exp, "%s.expect", in);
    size_t elen = 0;
    char *want = slurp(exp, &elen);
    td_opts o = {0};
    if (want && !strncmp(want, "# opts:", 7)) {
        size_t l = strcspn(want, "\n");
        snprintf(opts, sizeof opts, "%.*s\n", (int)l, want);
        snprintf(parsed, sizeof parsed, "%s", opts);
        read_opts(parsed, &o); /* o points into parsed */
    }
    char *out = NULL;
    size_t olen = 0;
    FILE *f = open_memstream(&out, &olen);
    fputs(opts, f);
    o.on_msg = on_msg;
    o.ud = f;
    td_corpus *c = NULL;
    CHECK(td_corpus_new(&c) == TD_OK, "corpus");
    int rc = td_read_file(c, in, &o, CTX);
    dump(f, c, rc);
    fclose(f);
    if (update) {
        FILE *w = fopen(exp, "wb");
        fwrite(out, 1, olen, w);
        fclose(w);
        printf("updated %s\n", exp);
    } else {
        CHECK(want && elen == olen && !memcmp(want, out, olen), "%s: dump differs from %s:\n%s",
              name, exp, out);
    }
    /* the same bytes through td_read_mem, without a model: same documents
     * (unless the case needs the model to find its errors: model-only) */
    size_t n;
    if (strstr(opts, "model-only")) {
        td_corpus_free(c);
        free(out);
        free(want);
        return;
    }
    char *buf = slurp(in, &n);
    td_corpus *c2 = NULL;
    td_corpus_new(&c2);
    o.on_msg = NULL;
    int rc2 = td_read_mem(c2, name, buf, n, &o, NULL);
    CHECK(rc2 == rc, "%s: without a model: %s, with: %s", name, td_strerror(rc2), td_strerror(rc));
    CHECK(td_ndocs(c2) == td_ndocs(c), "%s: %zu documents without a model, %zu with", name,
          td_ndocs(c2), td_ndocs(c));
    for (size_t i = 0; i < td_ndocs(c2) && i < td_ndocs(c); i++) {
        const td_doc *a = td_doc_at(c, i), *b = td_doc_at(c2, i);
        CHECK(a->len == b->len && !memcmp(a->text, b->text, a->len) && !b->tags &&
                  !b->n_tokens,
              "%s: doc %zu differs without a model", name, i + 1);
    }
    td_corpus_free(c2);
    td_corpus_free(c);
    free(buf);
    free(out);
    free(want);
}

static void cases(void)
{
    DIR *dir = opendir(DIR_CASES);
    CHECK(dir, "cannot open %s", DIR_CASES);
    if (!dir)
        return;
    char *names[512];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) && n < 512) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || (l > 7 && !strcmp(e->d_name + l - 7, ".expect")))
            continue;
        names[n++] = strdup(e->d_name);
    }
    closedir(dir);
    qsort(names, n, sizeof *names, name_cmp);
    int update = getenv("TD_UPDATE") != NULL;
    for (size_t i = 0; i < n; i++) {
        char exp[600];
        snprintf(exp, sizeof exp, "%s/%.400s.expect", DIR_CASES, names[i]);
        FILE *f = fopen(exp, "rb");
        CHECK(f || update, "%s has no .expect", names[i]);
        if (f)
            fclose(f);
        run_case(names[i], update);
        free(names[i]);
    }
    CHECK(n >= 20, "only %zu cases", n);
}

/* Reads s with options o into a fresh corpus. */
static td_corpus *read_str(const char *s, const td_opts *o, int *rc)
{
    td_corpus *c = NULL;
    td_corpus_new(&c);
    *rc = td_read_mem(c, "str", s, strlen(s), o, CTX);
    return c;
}

static void caps(void)
{
    int rc;
    td_opts o = {0};
    o.max_file = 10;
    td_corpus *c = read_str("Paris B-LOC\n", &o, &rc);
    CHECK(rc == TD_ETOOBIG && td_ndocs(c) == 0, "max_file: %s", td_strerror(rc));
    td_corpus_free(c);
    /* a label too long, too many labels */
    char big[200];
    snprintf(big, sizeof big, "x B-%064d\n", 0);
    c = read_str(big, NULL, &rc);
    CHECK(rc == TD_ESYNTAX && td_ndocs(c) == 0, "long label: %s", td_strerror(rc));
    td_corpus_free(c);
    size_t cap = 300 * 16 + 1;
    char *many = malloc(cap), *p = many;
    for (int i = 0; i < 300; i++)
        p += sprintf(p, "w B-L%d\n\n", i);
    c = read_str(many, NULL, &rc);
    CHECK(rc == TD_ESYNTAX && td_nlabels(c) == TD_MAX_LABELS &&
              td_ndocs(c) == TD_MAX_LABELS,
          "label cap: %s, %d labels", td_strerror(rc), td_nlabels(c));
    td_corpus_free(c);
    free(many);
    /* a line over TD_MAX_LINE */
    size_t n = TD_MAX_LINE + 10;
    char *line = malloc(n + 16);
    memset(line, 'a', n);
    strcpy(line + n, " O\n\nb O\n");
    c = read_str(line, NULL, &rc);
    CHECK(rc == TD_ESYNTAX && td_ndocs(c) == 1, "long line: %s, %zu docs", td_strerror(rc),
          td_ndocs(c));
    td_corpus_free(c);
    free(line);
    /* TD_MAX_ERRORS: the rest of the file is not read */
    n = (TD_MAX_ERRORS + 10) * 4;
    char *bad = malloc(n + 1);
    for (size_t i = 0; i < n; i += 4)
        memcpy(bad + i, "x\n\n\n", 4);
    bad[n] = 0;
    td_stats st;
    c = read_str(bad, NULL, &rc);
    td_corpus_stats(c, &st);
    CHECK(rc == TD_ESYNTAX && st.errors == TD_MAX_ERRORS, "error cap: %zu", st.errors);
    td_corpus_free(c);
    free(bad);
    /* bad arguments */
    c = read_str("", NULL, &rc);
    CHECK(rc == TD_OK && td_ndocs(c) == 0, "empty file: %s", td_strerror(rc));
    o.max_file = 0;
    o.format = 99;
    CHECK(td_read_mem(c, "x", "", 0, &o, CTX) == TD_EINVAL, "bad format");
    o.format = 0;
    o.label_map = "a=b,nonsense";
    CHECK(td_read_mem(c, "x", "", 0, &o, CTX) == TD_EINVAL, "bad map");
    td_corpus_free(c);
    CHECK(td_read_file(NULL, "x", NULL, NULL) == TD_EIO || 1, "no corpus");
    td_corpus_new(&c);
    CHECK(td_read_file(c, "tests/data/train/does-not-exist", NULL, NULL) == TD_EIO, "missing");
    td_corpus_free(c);
    td_corpus_free(NULL);
    CHECK(td_format_parse("spans") == TD_FMT_SPANS && td_format_parse("xml") == -1 &&
              !strcmp(td_format_name(TD_FMT_TUPLES), "tuples") &&
              !strcmp(td_format_name(42), "?"),
          "format names");
    CHECK(!strcmp(td_strerror(TD_ELABELS), "too many labels for a model") &&
              !strcmp(td_strerror(-1), "unknown error"),
          "td_strerror");
}

static void checks(void)
{
    int rc;
    char msg[400];
    td_corpus *c = read_str("Rex U-ANIMAL\nbarks O\n\nMia U-PER\n\n", NULL, &rc);
    const char *base[] = {"PER", "ORG", "LOC"};
    CHECK(td_check_train(c, base, 3, msg, sizeof msg) == TD_OK, "train ok: %s", msg);
    int idx[4];
    CHECK(td_new_labels(c, base, 3, idx, 4) == 1 && !strcmp(td_label(c, idx[0]), "ANIMAL"),
          "new labels");
    CHECK(td_max_labels() == 64, "label cap %d", td_max_labels());
    static char names[64][16];
    const char *full[64];
    for (int i = 0; i < 64; i++) {
        snprintf(names[i], sizeof names[i], "X%d", i);
        full[i] = names[i];
    }
    full[0] = "PER";
    CHECK(td_check_train(c, full, 64, msg, sizeof msg) == TD_ELABELS &&
              strstr(msg, "65 labels: 64 of the base model and 1 new (ANIMAL); a model holds "
                          "at most 64"),
          "label cap: %s", msg);
    CHECK(td_check_train(c, full, 63, msg, sizeof msg) == TD_OK, "64 labels: %s", msg);
    CHECK(td_check_dev(c, base, 3, msg, sizeof msg) == TD_EUNKNOWN &&
              !strcmp(msg, "label ANIMAL (str:1) is not one the model has (PER, ORG, LOC)"),
          "dev: %s", msg);
    const char *both[] = {"PER", "ANIMAL"};
    CHECK(td_check_dev(c, both, 2, msg, sizeof msg) == TD_OK, "dev ok");
    td_corpus_free(c);
    /* empty: no document, or none with a tag */
    c = read_str("\n\n", NULL, &rc);
    CHECK(td_check_train(c, NULL, 0, msg, sizeof msg) == TD_EEMPTY &&
              strstr(msg, "no annotated document"),
          "empty: %s", msg);
    td_corpus_free(c);
    c = read_str("[\"Some text\", {}]\n[\"More\", {\"cats\": {}}]\n", NULL, &rc);
    CHECK(rc == TD_OK && td_ndocs(c) == 2 &&
              td_check_train(c, NULL, 0, msg, sizeof msg) == TD_EEMPTY &&
              strstr(msg, "(2 documents"),
          "unannotated only: %s", msg);
    td_corpus_free(c);
    c = read_str("a O\n", NULL, &rc); /* annotated, no entity: trains "O" */
    CHECK(td_check_train(c, NULL, 0, msg, 0) == TD_OK, "all O is annotated");
    td_corpus_free(c);
}

static void scorer(void)
{
    td_score s;
    CHECK(td_score_init(&s, 2) == TD_OK, "init");
    ner_span g[] = {{0, 5, 0, 5, 0}, {6, 9, 6, 9, 1}, {10, 12, 10, 12, 0}, {20, 22, 20, 22, 5}};
    ner_span p[] = {{0, 5, 0, 5, 0}, {6, 9, 6, 9, 0}, {10, 11, 10, 11, 0}, {13, 14, 13, 14, 1},
                    {20, 22, 20, 22, 5}};
    int map[] = {0, 1, -1, -1, -1, -1}; /* label 5 not scored */
    td_score_add(&s, g, 4, map, p, 5, map);
    td_prf a, b, m;
    td_score_get(&s, 0, &a);
    td_score_get(&s, 1, &b);
    td_score_get(&s, -1, &m);
    /* label 0: tp [0,5); fp [6,9) and [10,11); fn [10,12).  label 1: fp
     * [13,14), fn [6,9) (same offsets, other label). */
    CHECK(a.tp == 1 && a.fp == 2 && a.fn == 1, "label 0: %ld %ld %ld", a.tp, a.fp, a.fn);
    CHECK(b.tp == 0 && b.fp == 1 && b.fn == 1 && b.f1 == 0, "label 1");
    CHECK(m.tp == 1 && m.fp == 3 && m.fn == 2 && m.p == 0.25 && m.r == 1.0 / 3,
          "micro %ld %ld %ld", m.tp, m.fp, m.fn);
    td_score t;
    td_score_init(&t, 2);
    td_score_merge(&t, &s);
    td_score_merge(&t, &s);
    td_score_get(&t, -1, &m);
    CHECK(m.tp == 2 && m.fp == 6 && m.fn == 4, "merge");
    td_score_add(&t, NULL, 0, NULL, NULL, 0, NULL);
    td_score_fini(&t);
    td_score_fini(&s);
    td_score_fini(&s);
    CHECK(td_score_init(&s, -1) == TD_EINVAL, "bad n_labels");
}

static void split(void)
{
    const char *f = "-DOCSTART- -X- O O\n\na O\nb O\n\n\nc O\n\n-DOCSTART- -X- O O\n\n"
                    "# newdoc id = x\n# text = d\nd O\n\ne O\n";
    td_unit *u;
    size_t n;
    int fmt, arr;
    CHECK(td_units(f, strlen(f), TD_FMT_AUTO, 0, &u, &n, &fmt, &arr) == TD_OK && n == 4 &&
              fmt == TD_FMT_CONLL && !arr,
          "sentence units: %zu", n);
    if (n == 4) {
        CHECK(u[0].line == 3 && !strncmp(f + u[0].off, "a O\nb O\n", u[0].len) &&
                  u[0].len == 8,
              "unit 1");
        CHECK(u[2].line == 12 && u[2].len == 15 && !strncmp(f + u[2].off, "# text = d\nd O\n", 15),
              "unit 3 drops # newdoc: %.*s", (int)u[2].len, f + u[2].off);
    }
    free(u);
    CHECK(td_units(f, strlen(f), TD_FMT_CONLL, 1, &u, &n, &fmt, &arr) == TD_OK && n == 3,
          "doc units: %zu", n);
    if (n == 3)
        CHECK(u[0].off == 0 && u[1].line == 9 && u[2].line == 11 &&
                  f[u[0].off + u[0].len] == '\n',
              "doc units' extents");
    free(u);
    const char *j = "[\n {\"text\": \"a\", \"spans\": []},\n {\"text\": \"b\", \"spans\": []}\n]\n";
    CHECK(td_units(j, strlen(j), TD_FMT_AUTO, 0, &u, &n, &fmt, &arr) == TD_OK && n == 2 &&
              arr && fmt == TD_FMT_JSON && u[1].line == 3 && u[1].len == 26 &&
                  !strncmp(j + u[1].off, "{\"text\": \"b\"", 12),
          "JSON array units");
    free(u);
    const char *jl = "[\"a\", {}]\n\n[\"b\", {}]\n";
    CHECK(td_units(jl, strlen(jl), TD_FMT_AUTO, 0, &u, &n, &fmt, &arr) == TD_OK && n == 2 &&
              !arr && u[1].line == 3 && u[1].len == 9,
          "JSON lines units");
    free(u);
    CHECK(td_units("[{]", 3, TD_FMT_AUTO, 0, &u, &n, &fmt, &arr) == TD_ESYNTAX, "broken JSON");

    /* the plan: sizes, determinism, seeds differ */
    enum { N = 1000 };
    static unsigned char a[N], b[N];
    double r[] = {8, 1, 1};
    CHECK(td_split_plan(N, 7, r, 3, a) == TD_OK && td_split_plan(N, 7, r, 3, b) == TD_OK &&
              !memcmp(a, b, N),
          "same seed, same plan");
    size_t cnt[3] = {0};
    for (int i = 0; i < N; i++)
        cnt[a[i]]++;
    CHECK(cnt[0] == 800 && cnt[1] == 100 && cnt[2] == 100, "sizes %zu %zu %zu", cnt[0], cnt[1],
          cnt[2]);
    td_split_plan(N, 8, r, 3, b);
    CHECK(memcmp(a, b, N), "another seed, another plan");
    /* pinned: the plan of seed 1 must not change across versions */
    unsigned char small[10];
    double r2[] = {0.6, 0.4};
    td_split_plan(10, 1, r2, 2, small);
    char pin[11];
    for (int i = 0; i < 10; i++)
        pin[i] = (char)('0' + small[i]);
    pin[10] = 0;
    CHECK(!strcmp(pin, "1000011100"), "seed 1 plan %s", pin);
    double bad[] = {1, 0};
    CHECK(td_split_plan(10, 1, bad, 2, small) == TD_EINVAL, "zero ratio");
    CHECK(td_split_plan(10, 1, r, 4, small) == TD_EINVAL, "four parts");
    double tiny[] = {0.001, 1, 1};
    unsigned char one[1];
    CHECK(td_split_plan(1, 1, tiny, 3, one) == TD_OK && one[0] <= 2, "one unit");
}

int main(void)
{
    ner_model *m;
    check_model_ctx(&m, &CTX);
    if (CTX) {
        cases();
        caps();
        checks();
    }
    scorer();
    split();
    ner_ctx_free(CTX);
    ner_model_free(m);
    return check_done("test_traindata");
}
