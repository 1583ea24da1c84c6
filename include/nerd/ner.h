/*
 * nerd — named entity recognition in C: the public API of libnerd.
 *
 * A faithful port of spaCy v2.2's en_core_web_sm 2.2.5 NER pipeline
 * (tokenizer, lexical features, hash embeddings, CNN, greedy BILUO parser).
 * A model is a read-only blob, normally mmap'd from a file written by
 * `nerd convert`; one model may be shared by any number of threads.  All
 * per-call scratch memory lives in a context (ner_ctx), one per thread.
 *
 * Offsets: entity and token spans are reported both in Unicode code points
 * (as Python/spaCy count them) and in bytes of the UTF-8 input.
 */
#ifndef NERD_NER_H
#define NERD_NER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes of libnerd.  0 is success; every function returning int
 * returns one of these. */
typedef enum ner_err {
    NER_OK = 0,
    NER_ENOMEM,     /* out of memory */
    NER_EIO,        /* cannot open, read, write or map a file */
    NER_EMAGIC,     /* not a nerd model file */
    NER_EVERSION,   /* model file version not supported */
    NER_ECHECKSUM,  /* model file checksum mismatch (corrupt) */
    NER_ECORRUPT,   /* model file truncated or structurally invalid */
    NER_EINVAL,     /* invalid argument */
    NER_EUTF8,      /* input text is not valid UTF-8 */
    NER_ETOOBIG,    /* input exceeds NER_MAX_TEXT */
    NER_EREGEX,     /* a tokenizer pattern failed to compile or match */
    NER_ESOURCE,    /* `nerd convert`: the spaCy model directory is unusable */
    NER_ERR_COUNT
} ner_err;

/* Largest accepted input text, in bytes. */
#define NER_MAX_TEXT ((size_t)64 << 20)

/* Returns a static, human-readable message for an error code (never NULL). */
const char *ner_strerror(int err);

typedef struct ner_model ner_model;
typedef struct ner_ctx ner_ctx;

/* A span of text: a token or an entity.  start/end are Unicode code point
 * offsets (end exclusive); byte_start/byte_end the same span in bytes. */
typedef struct ner_span {
    uint32_t start, end;
    uint32_t byte_start, byte_end;
    int32_t label; /* entities: index for ner_model_label(); tokens: -1 */
} ner_span;

/* Result of one call.  The arrays are owned by the context and stay valid
 * until the next call on that context or ner_ctx_free().  scores: with
 * NER_SCORES (ner_extract_ex), n_ents confidences in (0, 1], scores[i] for
 * ents[i] (see NER_SCORES); otherwise NULL. */
typedef struct ner_doc {
    size_t n_tokens;
    const ner_span *tokens;
    size_t n_ents;
    const ner_span *ents;
    const float *scores;
} ner_doc;

/* Opens a model file and maps it read-only.  The file is validated (magic,
 * version, checksum, section bounds) before use.  On success *out owns the
 * mapping; free it with ner_model_free().  Thread safety: the returned model
 * is immutable and may be used from any number of threads at once. */
int ner_model_load(const char *path, ner_model **out);

/* Flags of ner_model_open(). */
#define NER_MODEL_TRUSTED 1u /* skip the checksum pass over the whole file: for
                              * a file whose integrity is already known (a
                              * deployment package Lambda checked by its
                              * SHA-256, a file verified when it was packaged).
                              * The structure is still validated, so a corrupt
                              * file cannot make the engine read out of bounds;
                              * its weights could be wrong.  Pages are then
                              * mapped as they are first used, not at load. */

/* ner_model_load() with flags (0 or NER_MODEL_TRUSTED). */
int ner_model_open(const char *path, unsigned flags, ner_model **out);

/* Checks a loaded model's checksum (what ner_model_load() does before it
 * returns): NER_OK or NER_ECHECKSUM.  Reads the whole file.  Thread safe. */
int ner_model_verify(const ner_model *m);

/* Like ner_model_load() on a caller-owned buffer, which must stay alive and
 * unchanged until ner_model_free().  The buffer must be 64-byte aligned for
 * the fastest kernels; any alignment is accepted (it is copied if needed). */
int ner_model_load_mem(const void *buf, size_t len, ner_model **out);

/* Frees a model.  All contexts made from it must be freed first.
 * ner_model_free(NULL) is a no-op. */
void ner_model_free(ner_model *m);

/* Number of entity labels and their names ("PERSON", "GPE", ...). */
int ner_model_nlabels(const ner_model *m);
const char *ner_model_label(const ner_model *m, int label);

/* Short description of the model (name, version, attribution). Static. */
const char *ner_model_about(const ner_model *m);

/* Creates a per-thread context (scratch arenas, caches) for model m.
 * A context must not be used by two threads at once. */
int ner_ctx_new(const ner_model *m, ner_ctx **out);

/* Frees a context.  ner_ctx_free(NULL) is a no-op. */
void ner_ctx_free(ner_ctx *c);

/* Runs tokenizer and NER on text[0..len) (UTF-8, NUL bytes allowed).
 * Invalid UTF-8 gives NER_EUTF8; more than NER_MAX_TEXT bytes NER_ETOOBIG.
 * Empty or whitespace-only text gives no entities.  On success *out
 * describes tokens and entities, valid until the next call on c. */
int ner_extract(ner_ctx *c, const char *text, size_t len, ner_doc *out);

/* Flags of ner_extract_ex().
 * NER_SCORES: also give each entity a confidence (ner_doc.scores).  At each
 * token the greedy BILUO decoder takes the best-scoring action among the
 * valid ones; that action's probability is its softmax over the valid
 * actions only, p = exp(s_best) / sum_valid exp(s_k).  An entity's score is
 * the product of the probabilities of the actions that built it (B, I...,
 * L, or a single U): the model's probability of that span and label given
 * the decisions before it.  The entities themselves are the same with or
 * without the flag. */
#define NER_SCORES 1u

/* ner_extract() with flags (0 or NER_SCORES; other bits give NER_EINVAL).
 * Without NER_SCORES it is ner_extract() and costs nothing more. */
int ner_extract_ex(ner_ctx *c, const char *text, size_t len, unsigned flags, ner_doc *out);

/* Work counters of a context since ner_ctx_new() (for benchmarks). */
typedef struct ner_stats {
    uint64_t calls;        /* ner_extract() calls that succeeded */
    uint64_t tokens;       /* tokens run through the network */
    uint64_t cnn_rows;     /* CNN rows computed (padding and margins too) */
    uint64_t word_hits;    /* first-layer vectors found in the word cache */
    uint64_t word_misses;  /* first-layer vectors computed */
    double flops;          /* multiply-adds x 2 of the dense layers run */
} ner_stats;

/* Copies c's counters into *out. */
void ner_ctx_stats(const ner_ctx *c, ner_stats *out);

/* Tokenizes only (out->n_ents is 0).  Same contract as ner_extract(). */
int ner_tokenize(ner_ctx *c, const char *text, size_t len, ner_doc *out);

/* spaCy's nlp.pipe, reproduced.  spaCy's NER embeds each distinct word
 * (ORTH) of a minibatch once, from its first occurrence, so a tokenizer
 * special case's NORM ("gonna" -> "gon" with NORM "going") reaches every
 * token spelt the same in that minibatch, or gives way to an earlier plain
 * one.  ner_extract() reproduces nlp(text): the text is its own minibatch,
 * and results never depend on earlier calls.  After ner_ctx_pipe(c, 1),
 * every ner_extract() and ner_tokenize() on c counts as one more text of
 * a single minibatch, until ner_ctx_pipe(c, 0); feed the texts in the
 * order spaCy would (Parser.pipe: each batch of batch_size texts, stably
 * sorted by token count, in minibatches of max(batch_size / 4, 2):
 * ner_pipe_plan() gives that order).
 * NULL c is a no-op.  Not thread-safe on one c. */
void ner_ctx_pipe(ner_ctx *c, int on);

/* The order in which nlp.pipe(texts, batch_size=B) predicts n texts whose
 * token counts are ntok[] (ner_tokenize): order[i] is the index of the
 * i-th text to feed; starts[i] is 1 where a new minibatch begins (call
 * ner_ctx_pipe(c, 1) there).  spaCy's default B is 1000.  Returns 0,
 * NER_EINVAL (B == 0, NULL arrays) or NER_ENOMEM.  Thread-safe. */
int ner_pipe_plan(const size_t *ntok, size_t n, size_t batch_size, size_t *order,
                  unsigned char *starts);

#ifdef __cplusplus
}
#endif
#endif
