/*
 * nerd — the training loop of `nerd train`: epochs over a training corpus
 * (include/nerd/traindata.h) with the trainer's updates (nerd/train.h), as
 * spaCy v2.2's `spacy train` runs them: the documents shuffled every epoch,
 * minibatches by word count on the compounding(100, 1000, 1.001) schedule,
 * dropout 0.2, the averaged weights scored on a dev corpus after every
 * epoch and the best epoch kept; optional early stopping (patience) and
 * pseudo-rehearsal (raw texts annotated by the frozen base model, mixed
 * into the epochs).  The result is an ordinary model file.  What matches
 * spaCy and the choices: docs/training.md.
 *
 * Thread safety: a run is used by one thread; the base model and the
 * corpora must outlive it and are only read.  *stop may be set from a
 * signal handler.
 */
#ifndef NERD_TRAINLOOP_H
#define NERD_TRAINLOOP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "nerd/ner.h"
#include "nerd/traindata.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Errors of the tl_ functions; 0 is success.  Every failure of tl_new()
 * and tl_train() also leaves a one-line explanation in their msg. */
typedef enum tl_err {
    TL_OK = 0,
    TL_ENOMEM,   /* out of memory */
    TL_EINVAL,   /* invalid argument or option */
    TL_EEMPTY,   /* no annotated document to train on */
    TL_ELABELS,  /* more labels than a model file holds */
    TL_EUNKNOWN, /* a dev label the trained model will not have */
    TL_EBIG,     /* a document longer than one update takes */
    TL_EDATA,    /* the trainer refused a document (no zero-cost action
                    sequence: an entity on a whitespace token...) */
    TL_EMODEL,   /* the base model cannot be trained (other network sizes) */
    TL_EIO,      /* cannot write the model file */
    TL_ERR_COUNT
} tl_err;

/* A static message for an error code (never NULL). */
const char *tl_strerror(int err);

/* What one epoch did, given to tl_opts.on_epoch after it. */
typedef struct tl_epoch {
    int epoch, epochs;      /* 1-based; of the planned number */
    size_t batches, docs;   /* updates made, documents trained on */
    size_t tokens;          /* their tokens */
    double loss;            /* spaCy's reported loss: sum of squared score gradients */
    double nll;             /* sum of -log P(gold actions) */
    double train_secs;      /* wall time of the updates */
    double eval_secs;       /* wall time of the dev scoring (and export) */
    double words_per_s;     /* tokens / train_secs */
    double secs_left;       /* estimate for the remaining epochs (mean epoch time) */
    int has_dev;            /* the figures below are set */
    int n_labels;           /* the dev corpus's labels, sorted by name */
    const char *const *labels;
    const td_prf *per_label;
    td_prf micro;
    int best_epoch;         /* best dev micro F1 so far (this one if improved) */
    int improved;
} tl_epoch;

typedef void tl_epoch_fn(void *ud, const tl_epoch *e);

/* Options; tl_opts_default() gives spaCy v2.2's `spacy train` defaults. */
typedef struct tl_opts {
    uint64_t seed;          /* shuffles, dropout masks, chunk cuts, scratch init (0) */
    int epochs;             /* 30 */
    float dropout;          /* 0.2, in [0, 1) */
    double batch_start;     /* words of the first batch: 100 */
    double batch_stop;      /* the most words a batch aims at: 1000 */
    double batch_compound;  /* each batch aims at the previous target times this: 1.001 */
    float learn_rate;       /* 0.001 */
    int patience;           /* stop after this many epochs without a better dev F1 (0: never) */
    int from_scratch;       /* 1: a new model (the base lends its tokenizer and
                               lexical tables); 0: fine-tune the base */
    int threads;            /* threads of each update, 1 to 8 (1; 0 counts as 1): the
                               model is the same bits whatever the number */
    const td_corpus *rehearse; /* raw texts for pseudo-rehearsal (fine-tuning only), or NULL */
    tl_epoch_fn *on_epoch;  /* NULL: nothing reported */
    void *ud;
    volatile sig_atomic_t *stop; /* set non-zero: stop after the current batch */
} tl_opts;

/* Fills *o with the defaults above. */
void tl_opts_default(tl_opts *o);

/* What a run was set up with (tl_info()). */
typedef struct tl_info {
    int n_labels;            /* the trained model's labels */
    int n_new;               /* of which new to the base (fine-tuning) */
    const char *const *labels; /* n_labels names, the new ones last */
    size_t train_docs, train_tokens;
    size_t rehearse_docs;    /* raw texts annotated by the base model */
    size_t rehearse_ents;    /* the base's entities of untouched labels in them */
    size_t completed_ents;   /* the same added to the training documents */
} tl_info;

typedef struct tl_run tl_run;

/* Sets up a run on base (a loaded model; fine-tuned, or the source of the
 * tokenizer and lexical tables with o->from_scratch) with the corpora
 * train and dev (dev may be NULL), both read with a context of base.
 * Checks, each failure explained in msg (msglen bytes): TL_EEMPTY (no
 * annotated training document), TL_ELABELS (more labels than a model
 * holds, naming the new ones), TL_EUNKNOWN (a dev label the model will
 * not have, naming it and its file:line), TL_EBIG (a document over the
 * tokens one update takes, with its file:line), TL_EINVAL (bad options,
 * rehearsal when training from scratch), TL_EMODEL, TL_ENOMEM.  With
 * o->rehearse, each of its texts becomes a training document tagged by
 * the base model: its entities of the labels train does not use as they
 * are, those of the labels it uses missing ('-'), O elsewhere; and where a
 * training document tags O all the tokens of such an entity of the base
 * model, they take the base's tags.  *out: the run (tl_free()). */
int tl_new(const ner_model *base, const tl_opts *o, const td_corpus *train,
           const td_corpus *dev, tl_run **out, char *msg, size_t msglen);

/* The run's set-up figures (valid until tl_free()). */
void tl_info_get(const tl_run *r, tl_info *out);

/* Runs the epochs: stops after o->epochs, when the patience runs out, or
 * (*stop set) after the current batch.  The best model so far is kept: the
 * dev-best epoch's averaged weights, or without dev the last ones.
 * TL_OK (also when stopped: tl_stopped()), or TL_EDATA (msg names the
 * document's file:line and token), TL_ENOMEM; the best model so far stays
 * available either way. */
int tl_train(tl_run *r, char *msg, size_t msglen);

/* 1 when tl_train() stopped early through *stop. */
int tl_stopped(const tl_run *r);

/* The kept model's bytes (valid until tl_free()) and its epoch (0: none
 * completed); the current averaged weights when no epoch was kept yet.
 * TL_OK or TL_ENOMEM. */
int tl_best(tl_run *r, const void **buf, size_t *len, int *epoch);

/* tl_best()'s bytes written to path atomically (temporary file, rename).
 * TL_OK, TL_EIO, TL_ENOMEM. */
int tl_write(tl_run *r, const char *path);

/* Frees a run; tl_free(NULL) is a no-op. */
void tl_free(tl_run *r);

#ifdef __cplusplus
}
#endif
#endif
