/*
 * `nerd eval` on gold corpora (cli/eval_gold.c): every file is read by the
 * training-data readers (include/nerd/traindata.h, any of their formats),
 * each document is run through ner_extract, and the predicted entities
 * are scored against the gold ones as conlleval scores them: strict
 * entity-level precision, recall and F1 per label and micro-averaged.
 */
#ifndef NERD_EVAL_GOLD_H
#define NERD_EVAL_GOLD_H

#include "nerd/ner.h"

/* How gold and predicted labels meet. */
enum {
    EVG_AUTO,   /* direct when every gold label is a model label, else mapped */
    EVG_MAPPED, /* both sides: PER/PERSON/person->PER, ORG/corporation/
                 * group->ORG, LOC/GPE/FAC/location->LOC; others not scored */
    EVG_DIRECT  /* the corpus's own labels; predictions of other labels are
                 * not scored */
};

typedef struct evg_opts {
    int format;             /* td_format of every file */
    int labels;             /* EVG_AUTO, EVG_MAPPED, EVG_DIRECT */
    unsigned sents_per_doc; /* CoNLL sentences per document (0: 1) */
    const char *label_map;  /* td_opts.label_map */
    int verbose;            /* missed and spurious entities of the first
                             * documents on stderr */
} evg_opts;

typedef struct evg evg;

/* Reads files[0..n) (reporting malformed input as "nerd eval: FILE:LINE:
 * ..." on stderr), decides the label mode, and scores each file with
 * model m through context c.  *out: the figures (evg_free).  Returns 0, or
 * a td_err for a failure that stops the run (out of memory). */
int evg_run(const evg_opts *o, const ner_model *m, ner_ctx *c, char *const *files, int n,
            evg **out);

/* 1 if a file could not be read or had malformed input. */
int evg_failed(const evg *e);

/* Writes "\"gold\":{...}" (without braces around it) for --json. */
void evg_print_json(const evg *e);

/* Writes one table per file (and a total for several); first: 1 when
 * nothing was printed before it. */
void evg_print_text(const evg *e, int first);

void evg_free(evg *e);

#endif
