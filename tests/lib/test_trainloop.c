/* The training loop (include/nerd/trainloop.h) through its API:
 * - spaCy's defaults, and bad options refused with a message;
 * - minibatches by words as spaCy's minibatch_by_words makes them (a batch
 *   takes documents until its word count exceeds the target; the
 *   compounding target carries on across epochs);
 * - pseudo-rehearsal's tags: a raw text tagged by the base model (its
 *   entities of untouched labels as they are, of the data's labels
 *   missing, O elsewhere) and a training document's O tokens completed
 *   with the base's untouched entities;
 * - a stop requested before the first batch: no epoch, the model as it
 *   was (the base's weights) kept;
 * - the same seed, the same bytes. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "check_model.h"
#include "nerd/trainloop.h"
#include "tl_int.h"

static td_corpus *corpus(ner_ctx *c, const char *text, int format)
{
    td_corpus *k = NULL;
    td_opts o = {0};
    o.format = format;
    int rc = td_corpus_new(&k);
    if (!rc)
        rc = td_read_mem(k, "mem", text, strlen(text), &o, c);
    CHECK(rc == TD_OK, "corpus: %s", td_strerror(rc));
    return k;
}

static void test_opts(const ner_model *m, const td_corpus *train)
{
    tl_opts o;
    tl_opts_default(&o);
    CHECK(o.epochs == 30 && o.dropout == 0.2f && o.batch_start == 100 && o.batch_stop == 1000 &&
              o.batch_compound == 1.001 && o.learn_rate == 0.001f && o.patience == 0 &&
              o.seed == 0 && !o.from_scratch && !o.rehearse && o.threads == 1,
          "spaCy's defaults");
    static const struct { const char *what, *msg; } bad[] = {
        {"epochs", "epochs must be 1 to 100000"},
        {"dropout", "dropout must be in [0, 1)"},
        {"batch", "batch sizes must be 1 to 1000000 words, the compound factor 1 to 2"},
        {"lr", "the learn rate must be in (0, 10)"},
        {"patience", "patience must be 0 or more"},
        {"threads", "threads must be 1 to 8"},
        {"rehearse", "rehearsal keeps a base model's behaviour: it needs a base to fine-tune"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tl_opts_default(&o);
        switch (i) {
        case 0: o.epochs = 0; break;
        case 1: o.dropout = 1; break;
        case 2: o.batch_compound = 0.5; break;
        case 3: o.learn_rate = 0; break;
        case 4: o.patience = -1; break;
        case 5: o.threads = 9; break;
        default: o.rehearse = train; o.from_scratch = 1;
        }
        tl_run *r = (tl_run *)1;
        char msg[200] = "";
        CHECK(tl_new(m, &o, train, NULL, &r, msg, sizeof msg) == TL_EINVAL && !r &&
                  !strcmp(msg, bad[i].msg),
              "%s refused: %s", bad[i].what, msg);
    }
    tl_run *r = NULL;
    char msg[200];
    tl_opts_default(&o);
    CHECK(tl_new(NULL, &o, train, NULL, &r, msg, sizeof msg) == TL_EINVAL, "NULL base");
    CHECK(tl_new(m, &o, NULL, NULL, &r, msg, sizeof msg) == TL_EINVAL, "NULL train");
    tl_free(NULL);
    CHECK(tl_train(NULL, msg, sizeof msg) == TL_EINVAL, "tl_train(NULL)");
    for (int e = 0; e <= TL_ERR_COUNT; e++)
        CHECK(tl_strerror(e) && *tl_strerror(e), "tl_strerror %d", e);
}

typedef struct seen {
    size_t batches[4], docs[4], tokens[4];
    int n;
} seen;

static void count(void *ud, const tl_epoch *e)
{
    seen *s = ud;
    if (s->n < 4) {
        s->batches[s->n] = e->batches;
        s->docs[s->n] = e->docs;
        s->tokens[s->n] = e->tokens;
    }
    s->n++;
}

/* 12 documents of 10 tokens */
static void test_batches(const ner_model *m, ner_ctx *c)
{
    char text[4096] = "";
    for (int i = 0; i < 12; i++)
        strcat(text, "Rex\tU-ANIMAL\nb\tO\nc\tO\nd\tO\ne\tO\nf\tO\ng\tO\nh\tO\ni\tO\nj\tO\n\n");
    td_corpus *k = corpus(c, text, TD_FMT_CONLL);
    static const struct { double start, stop, compound; int epochs; size_t b[2]; } cases[] = {
        {25, 25, 1, 1, {4, 0}},    /* 10 + 10 + 10 > 25: 3 documents a batch */
        {30, 30, 1, 1, {3, 0}},    /* 30 is not over 30: a fourth one */
        {10, 1000, 2, 2, {4, 1}},  /* targets 10 20 40 80: 2 3 5 2; then 160: all 12 */
        {1000, 1000, 1, 1, {1, 0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tl_opts o;
        tl_opts_default(&o);
        o.batch_start = cases[i].start;
        o.batch_stop = cases[i].stop;
        o.batch_compound = cases[i].compound;
        o.epochs = cases[i].epochs;
        seen s = {0};
        o.on_epoch = count;
        o.ud = &s;
        tl_run *r = NULL;
        char msg[200];
        int rc = tl_new(m, &o, k, NULL, &r, msg, sizeof msg);
        CHECK(rc == TL_OK, "tl_new: %s", msg);
        if (rc)
            continue;
        rc = tl_train(r, msg, sizeof msg);
        CHECK(rc == TL_OK && s.n == cases[i].epochs && s.batches[0] == cases[i].b[0] &&
                  (cases[i].epochs < 2 || s.batches[1] == cases[i].b[1]) && s.docs[0] == 12 &&
                  s.tokens[0] == 120,
              "batches of %g..%g x%g: %zu then %zu (%zu documents, %zu tokens)",
              cases[i].start, cases[i].stop, cases[i].compound, s.batches[0], s.batches[1],
              s.docs[0], s.tokens[0]);
        tl_free(r);
    }
    td_corpus_free(k);
}

static void tags_of(const tl_run *r, const tl_doc *x, char *out, size_t n)
{
    static const char *const MV = "-BILUO";
    out[0] = 0;
    for (size_t k = 0; k < x->d->n_tokens; k++) {
        const ner_span *t = &x->d->tokens[k];
        int mv = x->gold[k].move;
        size_t o = strlen(out);
        if (mv >= TR_BEGIN && mv <= TR_UNIT)
            snprintf(out + o, n - o, "%s%.*s/%c-%s", k ? " " : "",
                     (int)(t->byte_end - t->byte_start), x->d->text + t->byte_start, MV[mv],
                     tr_label(r->t, x->gold[k].label));
        else
            snprintf(out + o, n - o, "%s%.*s/%c", k ? " " : "",
                     (int)(t->byte_end - t->byte_start), x->d->text + t->byte_start, MV[mv]);
    }
}

static void test_rehearse(const ner_model *m, ner_ctx *c)
{
    /* the data teaches PERSON and ANIMAL: every other base label is
     * untouched.  The base model finds Ann/ORG, Paris/GPE, Monday/DATE in
     * the first; Angela Merkel/PERSON, Apple/ORG, Berlin/GPE, Monday/DATE,
     * $1 billion/MONEY in the raw text. */
    td_corpus *train = corpus(c,
                              "Ann\tU-PERSON\nwent\tO\nto\tO\nParis\tO\non\tO\nMonday\tO\n.\tO\n\n"
                              "Rex\tU-ANIMAL\nbarks\tO\n\n",
                              TD_FMT_CONLL);
    td_corpus *raw = corpus(c, "Angela Merkel met Apple in Berlin on Monday for $1 billion.\n",
                            TD_FMT_TEXT);
    tl_opts o;
    tl_opts_default(&o);
    o.rehearse = raw;
    o.epochs = 1;
    tl_run *r = NULL;
    char msg[200], got[1024];
    int rc = tl_new(m, &o, train, NULL, &r, msg, sizeof msg);
    CHECK(rc == TL_OK, "tl_new with rehearsal: %s", msg);
    if (rc)
        goto out;
    tl_info in;
    tl_info_get(r, &in);
    CHECK(in.rehearse_docs == 1 && in.rehearse_ents == 4 && in.completed_ents == 2 &&
              in.train_docs == 2 && in.n_labels == 19 && in.n_new == 1 &&
              !strcmp(in.labels[18], "ANIMAL"),
          "rehearsal figures: %zu texts, %zu entities, %zu completed", in.rehearse_docs,
          in.rehearse_ents, in.completed_ents);
    CHECK(r->n_docs == 3 && r->docs[2].silver, "the silver document follows the training ones");
    tags_of(r, &r->docs[0], got, sizeof got);
    CHECK(!strcmp(got, "Ann/U-PERSON went/O to/O Paris/U-GPE on/O Monday/U-DATE ./O"),
          "a training document completed: %s", got);
    tags_of(r, &r->docs[1], got, sizeof got);
    CHECK(!strcmp(got, "Rex/U-ANIMAL barks/O"), "nothing to complete: %s", got);
    tags_of(r, &r->docs[2], got, sizeof got);
    CHECK(!strcmp(got, "Angela/- Merkel/- met/O Apple/U-ORG in/O Berlin/U-GPE on/O "
                       "Monday/U-DATE for/O $/B-MONEY 1/I-MONEY billion/L-MONEY ./O"),
          "a raw text tagged by the base: %s", got);
    CHECK(tl_train(r, msg, sizeof msg) == TL_OK, "trains with rehearsal: %s", msg);
out:
    tl_free(r);
    td_corpus_free(train);
    td_corpus_free(raw);
}

static void test_stop_and_seed(const ner_model *m, ner_ctx *c)
{
    td_corpus *train = corpus(c, "Rex\tU-ANIMAL\nbarks\tO\n\nAnn\tU-PERSON\nwaits\tO\n\n",
                              TD_FMT_CONLL);
    tl_opts o;
    tl_opts_default(&o);
    volatile sig_atomic_t stop = 1;
    o.stop = &stop;
    o.epochs = 2;
    tl_run *r = NULL;
    char msg[200];
    const void *buf = NULL;
    size_t len = 0;
    int ep = -1;
    CHECK(tl_new(m, &o, train, train, &r, msg, sizeof msg) == TL_OK, "tl_new: %s", msg);
    CHECK(r && tl_train(r, msg, sizeof msg) == TL_OK && tl_stopped(r), "stopped at once");
    CHECK(r && tl_best(r, &buf, &len, &ep) == TL_OK && ep == 0, "nothing trained: epoch %d", ep);
    ner_model *w = NULL;
    CHECK(buf && ner_model_load_mem(buf, len, &w) == NER_OK && ner_model_nlabels(w) == 19,
          "the untrained model loads, with ANIMAL added");
    ner_model_free(w);
    tl_free(r);
    /* the same seed, the same bytes */
    void *out[2] = {NULL, NULL};
    size_t olen[2] = {0, 0};
    o.stop = NULL;
    o.seed = 9;
    for (int i = 0; i < 2; i++) {
        r = NULL;
        if (tl_new(m, &o, train, train, &r, msg, sizeof msg) == TL_OK &&
            tl_train(r, msg, sizeof msg) == TL_OK && tl_best(r, &buf, &len, &ep) == TL_OK &&
            (out[i] = malloc(len))) {
            memcpy(out[i], buf, len);
            olen[i] = len;
        }
        tl_free(r);
    }
    CHECK(out[0] && out[1] && olen[0] == olen[1] && !memcmp(out[0], out[1], olen[0]),
          "the same seed, the same model bytes");
    free(out[0]);
    free(out[1]);
    td_corpus_free(train);
}

int main(void)
{
    ner_model *m = NULL;
    ner_ctx *c = NULL;
    check_model_ctx(&m, &c);
    if (!c)
        return check_done("test_trainloop");
    td_corpus *train = corpus(c, "Rex\tU-ANIMAL\nbarks\tO\n\n", TD_FMT_CONLL);
    test_opts(m, train);
    td_corpus_free(train);
    test_batches(m, c);
    test_rehearse(m, c);
    test_stop_and_seed(m, c);
    ner_ctx_free(c);
    ner_model_free(m);
    return check_done("test_trainloop");
}
