/* ner_extract on data-driven cases (tests/data/extract.cases) and on hostile
 * inputs: NUL bytes, CRLF, emoji, combining marks, 10 KB tokens, 1 MB of
 * text.  Every result is checked for well-formed, consistent offsets, for
 * repeatability (a context reused or fresh gives the same answer) and for
 * thread safety (two threads sharing one model). */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "check_model.h"
#include "nerd/ner.h"

static const ner_model *M;

/* Offsets well-formed: tokens ordered, within text, cp and byte offsets
 * agree; entities on token boundaries. */
static void check_doc(const char *what, const char *text, size_t len,
                      const ner_doc *d)
{
    size_t cp_of_byte = 0, b = 0;
    int ok = 1;
    uint32_t prev_end = 0;
    for (size_t i = 0; i < d->n_tokens && ok; i++) {
        const ner_span *t = &d->tokens[i];
        if (t->start >= t->end || t->start < prev_end || t->byte_end > len ||
            t->byte_start >= t->byte_end)
            ok = 0;
        /* count code points up to byte_start */
        while (b < t->byte_start) {
            if (((unsigned char)text[b] & 0xC0) != 0x80)
                cp_of_byte++;
            b++;
        }
        if (cp_of_byte != t->start)
            ok = 0;
        prev_end = t->end;
    }
    CHECK(ok, "%s: malformed tokens", what);
    ok = 1;
    for (size_t i = 0; i < d->n_ents; i++) {
        const ner_span *e = &d->ents[i];
        int sb = 0, eb = 0;
        for (size_t k = 0; k < d->n_tokens; k++) {
            sb |= d->tokens[k].start == e->start && d->tokens[k].byte_start == e->byte_start;
            eb |= d->tokens[k].end == e->end && d->tokens[k].byte_end == e->byte_end;
        }
        if (!sb || !eb || e->label < 0 || e->label >= ner_model_nlabels(M) ||
            (i && e->start < d->ents[i - 1].end))
            ok = 0;
    }
    CHECK(ok, "%s: malformed entities", what);
}

/* Runs text on a reused and a fresh context; returns a summary string of
 * entities (caller frees) or NULL on error (rc set). */
static char *run(ner_ctx *c, const char *what, const char *text, size_t len,
                 int *rc)
{
    ner_doc d;
    *rc = ner_extract(c, text, len, &d);
    if (*rc)
        return NULL;
    check_doc(what, text, len, &d);
    size_t cap = 64 + d.n_ents * 48;
    char *s = malloc(cap), *p = s;
    *p = 0;
    for (size_t i = 0; i < d.n_ents; i++)
        p += sprintf(p, "%s%u %u %s", i ? " ; " : "", d.ents[i].start,
                     d.ents[i].end, ner_model_label(M, d.ents[i].label));
    /* same answer from a fresh context */
    ner_ctx *f;
    if (ner_ctx_new(M, &f) == 0) {
        ner_doc d2;
        int rc2 = ner_extract(f, text, len, &d2);
        int same = rc2 == 0 && d2.n_ents == d.n_ents && d2.n_tokens == d.n_tokens;
        for (size_t i = 0; same && i < d.n_ents; i++)
            same = d2.ents[i].start == d.ents[i].start &&
                   d2.ents[i].end == d.ents[i].end &&
                   d2.ents[i].label == d.ents[i].label;
        CHECK(same, "%s: fresh context differs", what);
        ner_ctx_free(f);
    }
    return s;
}

static int err_code(const char *name)
{
    static const char *names[] = {"NER_OK", "NER_ENOMEM", "NER_EIO", "NER_EMAGIC",
        "NER_EVERSION", "NER_ECHECKSUM", "NER_ECORRUPT", "NER_EINVAL",
        "NER_EUTF8", "NER_ETOOBIG", "NER_EREGEX", "NER_ESOURCE"};
    for (int i = 0; i < (int)(sizeof names / sizeof *names); i++)
        if (!strcmp(names[i], name))
            return i;
    return -1;
}

static void run_cases(ner_ctx *c, const char *path)
{
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "open %s", path);
    if (!f)
        return;
    char line[8192], text[8192];
    size_t tlen = 0;
    int have = 0, lineno = 0, ncases = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\n")] = 0;
        if (!strncmp(line, "text:", 5)) {
            const char *t = line + 5;
            if (*t == ' ')
                t++;
            tlen = check_unescape(t, text);
            have = 1;
        } else if (have && (!strncmp(line, "ents:", 5) || !strncmp(line, "error:", 6))) {
            char what[64];
            snprintf(what, sizeof what, "%s:%d", path, lineno);
            int rc;
            char *got = run(c, what, text, tlen, &rc);
            if (line[0] == 'e' && line[1] == 'n') {
                const char *want = line + 5;
                while (*want == ' ')
                    want++;
                CHECK(got && !strcmp(got, want), "%s: got '%s' want '%s' (%s)",
                      what, got ? got : "", want, rc ? ner_strerror(rc) : "");
            } else {
                const char *want = line + 6;
                while (*want == ' ')
                    want++;
                CHECK(!got && rc == err_code(want), "%s: want %s, got %s", what,
                      want, got ? "success" : ner_strerror(rc));
            }
            free(got);
            have = 0;
            ncases++;
        }
    }
    fclose(f);
    CHECK(ncases >= 5, "cases read: %d", ncases);
}

static void hostile(ner_ctx *c)
{
    int rc;
    char *s;
    /* NUL bytes are ordinary characters */
    static const char nul[] = "Paris\0London and Berlin \0 are cities in Europe.";
    s = run(c, "nul", nul, sizeof nul - 1, &rc);
    CHECK(s != NULL, "NUL bytes: %s", ner_strerror(rc));
    free(s);
    /* CRLF, emoji, combining marks, ZWJ sequences, RTL text */
    static const char *texts[] = {
        "Barack Obama visited Paris.\r\nAngela Merkel met him in Berlin.\r\n",
        "I love New York 😃😃 👍🏽 and 👨‍👩‍👧 in Tokyo!",
        "Zoë Saldaña visited São Paulo with Renée Zellweger.",
        "Cafe\xcc\x81 de Flore in Paris, Jose\xcc\x81 Mari\xcc\x81" "a Aznar.",
        "مرحبا بالعالم and שלום in Jerusalem on 3 May 2020",
        "ǅemal İstanbul ΣΟΦΟΣ ﬁnance Straße ß",
        "\t\t\n\n   \xc2\xa0\xe2\x80\x83 mixed   spaces \n",
    };
    for (unsigned i = 0; i < sizeof texts / sizeof *texts; i++) {
        char what[32];
        snprintf(what, sizeof what, "hostile #%u", i);
        s = run(c, what, texts[i], strlen(texts[i]), &rc);
        CHECK(s != NULL, "%s: %s", what, ner_strerror(rc));
        free(s);
    }
    /* a 10 KB token, alone and inside text */
    size_t n = 10 * 1024;
    char *big = malloc(n + 64);
    memset(big, 'a', n);
    s = run(c, "10KB token", big, n, &rc);
    CHECK(s != NULL && *s == 0, "10KB token: %s", s ? s : ner_strerror(rc));
    free(s);
    memcpy(big, "John went to ", 13);
    memset(big + n - 20, '.', 20);
    s = run(c, "10KB token in text", big, n, &rc);
    CHECK(s != NULL, "10KB token in text");
    free(s);
    free(big);
    /* 1 MB of text: repeated sentences -> entities all along */
    const char *sent = "Alan Turing was born on June 23, 1912, in London, England. ";
    size_t sl = strlen(sent), reps = (1u << 20) / sl;
    char *mb = malloc(reps * sl + 1);
    for (size_t i = 0; i < reps; i++)
        memcpy(mb + i * sl, sent, sl);
    ner_doc d;
    rc = ner_extract(c, mb, reps * sl, &d);
    CHECK(rc == 0, "1MB: %s", ner_strerror(rc));
    if (!rc) {
        check_doc("1MB", mb, reps * sl, &d);
        CHECK(d.n_ents >= 3 * reps, "1MB: %zu entities for %zu sentences",
              d.n_ents, reps);
        /* the last sentence's entities match the first's, shifted */
        const ner_span *e = &d.ents[d.n_ents - 1];
        CHECK(e->end == (reps - 1) * sl + 57, "1MB: last entity ends at %u", e->end);
    }
    free(mb);
    /* too big */
    rc = ner_extract(c, "x", NER_MAX_TEXT + 1, &d);
    CHECK(rc == NER_ETOOBIG, "over NER_MAX_TEXT: %s", ner_strerror(rc));
    CHECK(ner_extract(c, NULL, 5, &d) == NER_EINVAL, "NULL text");
    CHECK(ner_extract(c, NULL, 0, &d) == NER_OK && d.n_tokens == 0, "NULL empty");
}

typedef struct job {
    const char *text;
    char *result;
} job;

static void *worker(void *arg)
{
    job *j = arg;
    ner_ctx *c;
    if (ner_ctx_new(M, &c))
        return NULL;
    int rc;
    for (int i = 0; i < 50; i++) {
        free(j->result);
        j->result = run(c, "thread", j->text, strlen(j->text), &rc);
    }
    ner_ctx_free(c);
    return NULL;
}

int main(int argc, char **argv)
{
    ner_model *m;
    ner_ctx *c;
    check_model_ctx(&m, &c);
    if (!c)
        return check_done("test_extract");
    M = m;
    run_cases(c, argc > 1 ? argv[1] : "tests/data/extract.cases");
    hostile(c);
    /* the context still answers correctly after all of the above */
    run_cases(c, argc > 1 ? argv[1] : "tests/data/extract.cases");

    job jobs[2] = {{"Alan Turing was born on June 23, 1912, in London, England.", NULL},
                   {"Apple is looking at buying U.K. startup for $1 billion.", NULL}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, worker, &jobs[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    int rc0;
    char *want0 = run(c, "t0", jobs[0].text, strlen(jobs[0].text), &rc0);
    char *want1 = run(c, "t1", jobs[1].text, strlen(jobs[1].text), &rc0);
    CHECK(jobs[0].result && !strcmp(jobs[0].result, want0), "thread 0 result");
    CHECK(jobs[1].result && !strcmp(jobs[1].result, want1), "thread 1 result");
    free(want0);
    free(want1);
    free(jobs[0].result);
    free(jobs[1].result);
    ner_ctx_free(c);
    ner_ctx_free(NULL);
    ner_model_free(m);
    return check_done("test_extract");
}
