/*
 * nerd — training the NER: the numerical core of `nerd train`.
 *
 * A trainer holds a float32 copy of the model's parameters (from a base
 * model file, or initialised as spaCy v2 initialises a new model), thinc's
 * Adam state and the parameter averages.  tr_update() runs what spaCy
 * v2.2's nlp.update() runs for the NER on one minibatch: the network
 * forward with dropout, the greedy BILUO transition sequence with the
 * dynamic oracle, the loss on the zero-cost actions, backpropagation
 * through every layer, then one Adam step per parameter block and the
 * averages.  tr_write() writes the averaged parameters as an ordinary model
 * file.  Numerics, what matches spaCy and the choices: docs/training.md.
 *
 * Thread safety: a trainer is used by one thread at a time (with
 * tr_config.threads > 1 it runs worker threads of its own inside
 * tr_update); the base model must outlive it and is only read.
 */
#ifndef NERD_TRAIN_H
#define NERD_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "nerd/ner.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes of the trainer: 0 is success. */
typedef enum tr_err {
    TR_OK = 0,
    TR_ENOMEM,    /* out of memory */
    TR_EINVAL,    /* invalid argument */
    TR_ELABELS,   /* the label set does not fit the model format (64 labels,
                     258 classes: 4 per label + 2) */
    TR_ETAG,      /* a tag is not BILUO: B-X I-X L-X U-X O - (or !O, U-!X) */
    TR_ELABEL,    /* a tag names a label the trainer does not have */
    TR_EORACLE,   /* a document's tags admit no zero-cost action sequence
                     (spaCy's E024): e.g. an entity on a whitespace token */
    TR_EBIG,      /* batch over TR_MAX_TOKENS tokens, or a token over
                     TR_MAX_TOKEN_BYTES bytes */
    TR_EIO,       /* cannot write the model file */
    TR_EMODEL,    /* the base model has other network sizes than the
                     engine's */
    TR_ERR_COUNT
} tr_err;

/* Most tokens of one tr_update() batch (all documents together): bounds
 * the activations kept for backpropagation (about 15 KB per token:
 * 8192 tokens, 180 MB in all). */
#define TR_MAX_TOKENS 8192
/* Longest token, in bytes. */
#define TR_MAX_TOKEN_BYTES 4096

/* Static message for an error code (never NULL). */
const char *tr_strerror(int err);

/* Optimizer and initialisation settings; tr_config_default() gives
 * spaCy v2.2's (create_default_optimizer): learn rate 0.001, beta1 0.9,
 * beta2 0.999, eps 1e-8, L2 1e-6 (coupled, on every parameter), gradient
 * norm clip 1.0 per parameter block, averages on. */
typedef struct tr_config {
    uint64_t seed;       /* dropout masks, chunk cuts, scratch init */
    float learn_rate;
    float beta1, beta2, eps;
    float l2;            /* 0: none */
    float grad_clip;     /* 0: none */
    int from_scratch;    /* 1: spaCy's initialisation of a new model (the
                            base only lends tokenizer and lexical tables) */
    int threads;         /* threads of an update (0 or 1: the caller's only;
                            at most 8): the results are the same bits */
} tr_config;

/* Fills *c with the defaults above (seed 0, fine-tuning). */
void tr_config_default(tr_config *c);

typedef struct tr_trainer tr_trainer;

/* Makes a trainer for base (which must outlive it).  labels[0..n_labels):
 * the entity labels of the training data.  Fine-tuning: the base model's
 * parameters, classes and labels, plus, for each label the base lacks (in
 * the order given), classes B I L U appended with zero output rows, which
 * stay "unseen" (their scores min-filled, no gradient) until a batch has
 * them as a gold action, as spaCy's add_label does; freqs is ignored and
 * may be NULL.  From scratch: the labels' classes ordered as spaCy orders
 * them, by freqs[i] (tokens carrying the label in the data) descending,
 * then name; freqs NULL counts every label 1.  Errors: TR_EINVAL (NULL
 * base/out, empty or duplicate label names, n_labels 0 from scratch),
 * TR_ELABELS, TR_EMODEL, TR_ENOMEM.  cfg NULL: tr_config_default(). */
int tr_new(const ner_model *base, const tr_config *cfg, const char *const *labels,
           const uint64_t *freqs, size_t n_labels, tr_trainer **out);

/* Frees a trainer; tr_free(NULL) is a no-op. */
void tr_free(tr_trainer *t);

/* The trainer's labels (index order of its classes and model file);
 * tr_label_find: the index of name, or -1. */
int tr_nlabels(const tr_trainer *t);
const char *tr_label(const tr_trainer *t, int i);
int tr_label_find(const tr_trainer *t, const char *name);

/* One token of a training document: its text (ORTH, UTF-8) and, for a
 * tokenizer special case that sets one, its NORM (else NULL). */
typedef struct tr_token {
    const char *text;
    size_t len;
    const char *norm;
    size_t norm_len;
} tr_token;

/* Tokenizes text[0..len) (UTF-8) with the base model's tokenizer, as
 * ner_tokenize() does (the same tokens), into out[0..cap): each token's
 * bytes (pointing into text) and the NORM a tokenizer special case gives
 * it (pointing into the model), which the NORM feature uses in training as
 * in inference.  *n: the number of tokens, which may exceed cap (then
 * only cap are written: call again with room for *n).  Errors:
 * TR_EINVAL (NULL arguments, invalid UTF-8), TR_EBIG (over NER_MAX_TEXT),
 * TR_ENOMEM. */
int tr_tokenize(tr_trainer *t, const char *text, size_t len, tr_token *out, size_t cap,
                size_t *n);

/* A gold tag in numbers: move 0 missing, 1 B, 2 I, 3 L, 4 U, 5 O (as the
 * model's classes number them, and as td_tag of nerd/traindata.h does);
 * label, for B I L U: the trainer's label index (tr_label_find()). */
typedef struct tr_tag {
    uint8_t move;
    int16_t label;
} tr_tag;

/* A training document: n tokens and their gold tags, either as strings
 * in tags ("B-ORG", "I-ORG", "L-ORG", "U-ORG", "O", "-" missing; also
 * "!O", "U-!ORG": not outside, not ORG) or as numbers in gold (which wins
 * when both are set).  Both NULL: no NER annotation (all missing: the
 * document still goes through the network with the others of its batch,
 * with no gradient of its own). */
typedef struct tr_doc {
    const tr_token *tokens;
    size_t n;
    const char *const *tags;
    const tr_tag *gold;
} tr_doc;

/* What one update saw. */
typedef struct tr_result {
    double loss;       /* sum over states and steps of -log P(gold actions) */
    double d2;         /* sum of squared score gradients (spaCy's reported loss) */
    size_t states;     /* parse states (chunks) run */
    size_t steps;      /* transition steps of the longest */
    size_t actions;    /* transitions taken, all states */
    size_t tokens;     /* tokens in the batch */
    size_t bad_doc;    /* on TR_ETAG, TR_ELABEL, TR_EORACLE: the document */
    size_t bad_token;  /* ... and its token */
} tr_result;

/* One update on docs[0..n_docs) (one minibatch): forward with dropout
 * rate drop in [0, 1), chunks of the gold action sequence cut at a length
 * drawn in [20, 99] (min 5, at most the shortest document's length), the
 * greedy transitions and their loss, backward, then one Adam step of
 * every parameter block at learn_rate (<= 0: the config's) and the
 * averages.  A batch in which no token has a gold tag changes nothing
 * (spaCy's Parser.update returns at once).  out (may be NULL) receives
 * what it saw.  On error nothing changes.  Errors: TR_EINVAL, TR_ETAG, TR_ELABEL, TR_EORACLE, TR_EBIG,
 * TR_ENOMEM. */
int tr_update(tr_trainer *t, const tr_doc *docs, size_t n_docs, float drop,
              float learn_rate, tr_result *out);

/* Checks one document as tr_update() would read it, without an update
 * (no random draw, no parameter touched): its tokens, its tags against
 * the trainer's labels, and that the tags admit a zero-cost action
 * sequence.  out (may be NULL): tokens, and on a tag error the token.
 * TR_OK, TR_EINVAL, TR_ETAG, TR_ELABEL, TR_EORACLE, TR_EBIG, TR_ENOMEM. */
int tr_check(tr_trainer *t, const tr_doc *doc, tr_result *out);

/* The model file of the averaged parameters (the current ones before any
 * update), in memory: *out (malloc'd, 64-byte aligned; free() it) of *len
 * bytes, loadable by ner_model_load_mem() (to evaluate on a dev set).
 * The same trainer state gives the same bytes. */
int tr_export(const tr_trainer *t, void **out, size_t *len);

/* tr_export() written to path atomically (temp file and rename). */
int tr_write(const tr_trainer *t, const char *path);

#ifdef __cplusplus
}
#endif
#endif
