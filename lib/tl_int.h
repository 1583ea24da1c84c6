/*
 * Internals of the training loop (lib/tl_loop.c: set-up, epochs, batches,
 * dev scoring, the kept model; lib/tl_rehearse.c: pseudo-rehearsal, the
 * base model's annotations).
 */
#ifndef NERD_TL_INT_H
#define NERD_TL_INT_H

#include "nerd/train.h"
#include "nerd/trainloop.h"
#include "train_int.h"

/* A training document: the corpus's, with its gold tags in the trainer's
 * numbers (tr_tag: move and trainer label index). */
typedef struct tl_doc {
    const td_doc *d;
    tr_tag *gold;     /* d->n_tokens tags */
    int silver;       /* a rehearsal text tagged by the base model */
} tl_doc;

struct tl_run {
    tl_opts o;
    const ner_model *base;
    const td_corpus *train, *dev;
    tr_trainer *t;
    tl_doc *docs;        /* the training documents, then the rehearsal ones */
    size_t n_docs, n_train;
    size_t *order;       /* n_docs, shuffled every epoch */
    tr_token *tok;       /* TR_MAX_TOKENS: one batch's tokens */
    tr_doc *batch;       /* one batch's documents */
    uint64_t rng;        /* the shuffles' splitmix64 state */
    double target;       /* the compounding batch target (words) */
    const char *labels[TR_MAX_LABELS]; /* the trained model's, the new ones last */
    int n_labels, n_new;
    /* dev scoring: the dev corpus's labels (with spans) sorted by name */
    const char **dev_labels;
    int n_dev_labels;
    int *gmap;           /* dev corpus label -> scored label */
    td_prf *per_label;
    /* the kept model */
    void *best;
    size_t best_len;
    int best_epoch;
    double best_f1;
    int epochs_done, stopped;
    double secs_all;     /* wall time of the epochs done */
    tl_info info;
};

/* Pseudo-rehearsal (tl_rehearse.c): completes the training documents'
 * O tokens with the base model's entities of the labels the training data
 * does not use, and appends r->o.rehearse's texts tagged by the base model
 * to r->docs (room for them made by the caller).  TL_OK or TL_ENOMEM /
 * TL_EINVAL with msg. */
int tl__rehearse(tl_run *r, char *msg, size_t msglen);

/* Writes msg (msglen bytes, may be 0) and returns rc. */
int tl__fail(int rc, char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
