/*
 * Internals shared by the training-data readers (lib/traindata.c: corpus,
 * labels, the document builder and BILUO tags; lib/td_conll.c: CoNLL
 * files and the word-sequence layout; lib/td_json.c: the JSON shapes;
 * lib/td_text.c: raw text; lib/td_score.c: scorer, units and split).  One reader (td__rd) per
 * td_read_mem() call; it builds one document at a time (td__doc) and
 * stores it in the corpus when done.
 */
#ifndef NERD_TD_INT_H
#define NERD_TD_INT_H

#include <stddef.h>
#include <stdint.h>

#include "nerd/traindata.h"

#define TD__DROP (-2) /* label mapped to nothing: the entity's tokens are O */
#define TD__MISS (-3) /* label mapped to "-": the entity's tokens are missing */
#define TD__NOMEM (-4) /* out of memory (td__label) */

typedef struct td__label {
    char *name;
    size_t spans, tokens;
    uint32_t file;
    long line;
} td__lab;

struct td_corpus {
    td_doc **docs;
    size_t n_docs, cap_docs;
    td__lab labels[TD_MAX_LABELS];
    int n_labels;
    char **files;
    uint32_t n_files, cap_files;
    td_stats st;
};

/* One FROM=TO pair of td_opts.label_map. */
typedef struct td__map {
    char from[TD_MAX_LABEL + 1], to[TD_MAX_LABEL + 1];
} td__map;

/* The document being built: text, gold spans and missing ranges in bytes
 * of the text (label: corpus index). */
typedef struct td__doc {
    char *text;
    size_t len, cap;
    ner_span *spans;
    size_t n_spans, cap_spans;
    ner_span *miss;
    size_t n_miss, cap_miss;
    int unannotated;      /* no NER annotation: every tag missing */
    size_t n_words;
    unsigned n_sents;
    long line;
} td__doc;

/* A gold word of a token-level format.  w and lab point into the input
 * (valid during td__words_add); move is one of B I L U O '-' (E and S
 * already read as L and U). */
typedef struct td__word {
    const char *w, *lab;
    size_t n, lab_n;
    long line;
    long off0, off1; /* "word start end tag" offsets (code points), or -1 */
    char move;
    char sent_start; /* a sentence starts here: no entity runs across */
} td__word;

typedef struct td__rd {
    td_corpus *c;
    td_opts o;
    ner_ctx *ctx;
    const char *file;
    uint32_t file_idx;
    size_t errors, warnings;
    int abandoned;        /* TD_MAX_ERRORS reached */
    td__map *map;
    size_t n_map;
    td__doc d;
    ner_span *tmp;        /* scratch */
    size_t tmp_cap;
} td__rd;

/* Reports an error at line (the unit is then left out by the caller). */
void td__err(td__rd *r, long line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Reports a warning at line. */
void td__warn(td__rd *r, long line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Is s[0..n) a valid label name (1..TD_MAX_LABEL bytes, UTF-8, no ASCII
 * blank or control character)? */
int td__label_ok(const char *s, size_t n);

/* The corpus index of label s[0..n) after the label map (interned on
 * first use at line), TD__DROP or TD__MISS; -1 after reporting a bad name
 * or too many labels; TD__NOMEM. */
int td__label(td__rd *r, const char *s, size_t n, long line);

/* Builder of the current document (r->d).  The functions below return 0,
 * -1 after reporting an error (the caller leaves the document out:
 * td__doc_reset), or TD_ENOMEM. */
void td__doc_reset(td__rd *r);
int td__doc_text(td__rd *r, const char *s, size_t n);
/* A gold span [b0, b1) in bytes of the text so far, label a corpus index
 * or TD__DROP / TD__MISS (then it becomes O or a missing range). */
int td__doc_span(td__rd *r, size_t b0, size_t b1, int label);
int td__doc_miss(td__rd *r, size_t b0, size_t b1);
/* Validates, tokenizes, tags and stores the current document, then resets
 * the builder.  0 (stored, or left out after an error report), or a
 * td_err for a failure that ends the read (TD_ENOMEM). */
int td__doc_finish(td__rd *r);

/* Appends a word sequence to the current document: laid out in raw[0..
 * raw_n) when raw is not NULL (each word found in order, blanks skipped;
 * raw_what names it in the message when a word is not there), else from
 * the words' offsets when all have them, else joined by single spaces; a
 * space separates it from text already in the document.  Entity runs
 * follow the tags (IOB1, IOB2, BILOU).  Returns 0, -1 after reporting a
 * word not found (nothing appended), or TD_ENOMEM. */
int td__words_add(td__rd *r, const td__word *w, size_t n, const char *raw, size_t raw_n,
                  const char *raw_what);

/* An entity run over words [i0, i1], label a corpus index, TD__DROP or
 * TD__MISS (also a run of missing '-' words). */
typedef struct td__run {
    size_t i0, i1;
    int label;
} td__run;

/* The entity runs of w[0..n) by their tags (IOB1, IOB2, BILOU; a run never
 * crosses a sentence start), labels interned, and the runs of missing
 * words: *out (malloc'd) and *nr.  0, -1 after reporting a bad label, or
 * TD_ENOMEM. */
int td__runs(td__rd *r, const td__word *w, size_t n, td__run **out, size_t *nr);

/* Parses a tag: "O", "-", or P-LABEL with P in B I L U E S (E = L, S = U).
 * Sets *move and the label's bytes; returns 0, or -1 if not a tag. */
int td__tag(const char *s, size_t n, char *move, const char **lab, size_t *lab_n);

/* The readers: buf[0..len) of r->file. */
int td__read_conll(td__rd *r, const char *buf, size_t len);
int td__read_json(td__rd *r, const char *buf, size_t len, int format);

/* Raw text, one document per line (lib/td_text.c), and its units (the
 * non-blank lines). */
int td__read_text(td__rd *r, const char *buf, size_t len);
int td__units_text(const char *buf, size_t len, td_unit **out, size_t *n);

/* Does buf look like JSON (its first non-blank byte opens an object or
 * array that is not a CoNLL row such as "[ O")? */
int td__is_json(const char *buf, size_t len);

/* Appends *one to the units u[0..*k) (capacity *cap): 0, or TD_ETOOBIG
 * past TD_MAX_DOCS / TD_ENOMEM, after freeing *u. */
int td__unit_add(td_unit **u, size_t *cap, size_t *k, const td_unit *one);

/* Units of a CoNLL file and of a JSON file (see td_units). */
int td__units_conll(const char *buf, size_t len, int by_doc, td_unit **out, size_t *n);
int td__units_json(const char *buf, size_t len, td_unit **out, size_t *n, int *array);

/* Grows *p (elements of size sz, capacity *cap) to hold n; 0 or TD_ENOMEM. */
int td__grow(void *p, size_t *cap, size_t n, size_t sz);

#endif
