/*
 * nerd training data: readers that turn annotated corpora into documents
 * for the trainer and `nerd eval`, the checks a training run makes on them,
 * a strict entity-level scorer (conlleval's), and a deterministic
 * train/dev/test split.  docs/training.md describes the formats.
 *
 * Formats: CoNLL/IOB files (2 or more columns, word first and tag last,
 * CoNLL-U-like "id word tag ..." rows, "word start end tag" rows; IOB1,
 * IOB2, BILOU/BIOES tags; -DOCSTART-, "# newdoc", "# text =" lines; a
 * blank line between sentences), spaCy v2's JSON training format (a JSON
 * array or JSON lines of {"id","paragraphs":[...]}), spaCy's
 * ["text", {"entities": [[start, end, "LABEL"], ...]}] tuples, and the
 * JSON that annotation tools export: {"text", "spans"|"label"|"labels"|
 * "entities": [...]} (Prodigy, doccano, Label Studio's JSON-MIN) and Label
 * Studio tasks {"data":{"text"},"annotations":[{"result":[...]}]}.
 *
 * Every document becomes its text (UTF-8), the model's own tokenization of
 * it (ner_tokenize) and one BILUO tag per token.  Character offsets become
 * tags as spaCy's biluo_tags_from_offsets makes them: a span that starts
 * and ends on token boundaries tags its tokens U, or B I... L; a span that
 * does not (a misaligned span) leaves its tokens missing ('-') and is
 * counted; a token outside every span is O.  Token-level formats are laid
 * out as text first ("# text =" or spaCy's "raw" when present; the words'
 * own offsets in "word start end tag" rows; else the words joined by single
 * spaces, as spaCy builds a Doc from words), then treated the same way.
 *
 * Files are UTF-8 (a leading byte order mark is skipped), lines ending in
 * LF or CRLF.
 *
 * Thread safety: a corpus is built by one thread (the context passed to
 * the readers must not be used elsewhere meanwhile); once read it is not
 * changed and may be read from any number of threads.  No global state.
 */
#ifndef NERD_TRAINDATA_H
#define NERD_TRAINDATA_H

#include <stddef.h>
#include <stdint.h>

#include "nerd/ner.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Errors of the td_ functions; 0 is success. */
typedef enum td_err {
    TD_OK = 0,
    TD_ENOMEM,    /* out of memory */
    TD_EIO,       /* cannot open or read a file */
    TD_ETOOBIG,   /* a file over its cap (td_opts.max_file) */
    TD_ESYNTAX,   /* malformed input: reported through td_opts.on_msg */
    TD_EFORMAT,   /* not a training file of the format asked for */
    TD_EEMPTY,    /* no annotated document to train on */
    TD_ELABELS,   /* more labels than a model can hold */
    TD_EUNKNOWN,  /* a label the model does not have */
    TD_EINVAL,    /* invalid argument (a bad label map, ratio...) */
    TD_ERR_COUNT
} td_err;

/* A static message for an error code (never NULL). */
const char *td_strerror(int err);

/* Caps: every input is refused past these (with a message naming the
 * file and line). */
#define TD_MAX_FILE ((size_t)256 << 20) /* bytes of one file (default) */
#define TD_MAX_LINE ((size_t)1 << 20)   /* bytes of one CoNLL line */
#define TD_MAX_DOC ((size_t)4 << 20)    /* bytes of one document's text */
#define TD_MAX_WORDS 100000             /* gold words, or spans, of one document */
#define TD_MAX_LABEL 63                 /* bytes of one label name */
#define TD_MAX_LABELS 256               /* distinct labels of one corpus */
#define TD_MAX_DOCS 10000000            /* documents of one corpus */
#define TD_MAX_ERRORS 1000              /* malformed units reported per file */

/* Input formats.  TD_FMT_AUTO: CoNLL unless the file starts with a JSON
 * object or array (then as TD_FMT_JSON); TD_FMT_JSON: any of the JSON
 * shapes, recognised record by record. */
typedef enum td_format {
    TD_FMT_AUTO = 0,
    TD_FMT_CONLL,   /* CoNLL/IOB columns */
    TD_FMT_JSON,    /* any JSON shape below */
    TD_FMT_SPACY,   /* spaCy v2 JSON training format */
    TD_FMT_TUPLES,  /* ["text", {"entities": [...]}] */
    TD_FMT_SPANS,   /* annotation tools: {"text", "spans"|...}, Label Studio tasks */
    TD_FMT_TEXT,    /* raw text, no annotation: a document per line (a line
                     * opening a JSON object: its "text"); never auto */
    TD_FMT_COUNT
} td_format;

/* "auto", "conll", "json", "spacy", "tuples", "spans", "text" -> td_format,
 * or -1. */
int td_format_parse(const char *name);
/* The name of a td_format ("?" if out of range). */
const char *td_format_name(int fmt);

/* BILUO moves, numbered as the model's classes number them. */
enum td_move { TD_MISSING = 0, TD_B = 1, TD_I = 2, TD_L = 3, TD_U = 4, TD_O = 5 };

/* One token's gold tag: move and, for B I L U, the corpus label index
 * (td_label()); -1 for O and missing. */
typedef struct td_tag {
    uint8_t move;
    int16_t label;
} td_tag;

/* One document.  Owned by its corpus; valid until td_corpus_free(). */
typedef struct td_doc {
    const char *text;      /* UTF-8, NUL-terminated, no NUL inside */
    size_t len;            /* bytes */
    size_t n_tokens;       /* the model's tokens (0 when read without a context) */
    const ner_span *tokens;
    const td_tag *tags;    /* n_tokens tags (NULL when read without a context) */
    size_t n_spans;        /* gold entities, sorted, disjoint; label = corpus */
    const ner_span *spans; /*   label index; misaligned ones included */
    size_t n_words;        /* gold words of a token-level format, else 0 */
    uint32_t n_misaligned; /* spans whose tokens are missing ('-') */
    uint32_t file;         /* index for td_file() */
    long line;             /* the document's first line in its file */
} td_doc;

/* Message severities of td_msg_fn. */
enum { TD_ERROR = 0, TD_WARNING = 1 };

/* Receives each problem found: file (as given to the reader), line (1-based;
 * 0 for the file as a whole) and a one-line message without the file and
 * line.  Errors are malformed units (skipped); warnings are misaligned
 * spans (the first few per file: their total is in td_stats). */
typedef void td_msg_fn(void *ud, int level, const char *file, long line, const char *msg);

/* Reader options; all-zero is valid (auto format, one sentence per
 * document, no label map, default caps, messages dropped). */
typedef struct td_opts {
    int format;              /* td_format */
    unsigned sents_per_doc;  /* CoNLL: sentences per document (0: 1; spaCy's -n) */
    const char *label_map;   /* "FROM=TO,..." applied to every gold label: TO
                              * renames, an empty TO drops the entity (its
                              * tokens are O), "-" makes its tokens missing */
    size_t max_file;         /* bytes (0: TD_MAX_FILE) */
    unsigned max_warnings;   /* misaligned-span warnings per file (0: 5) */
    td_msg_fn *on_msg;       /* NULL: messages are dropped */
    void *ud;
} td_opts;

/* Counts over a corpus (td_corpus_stats). */
typedef struct td_stats {
    size_t docs;        /* documents kept */
    size_t words;       /* their gold words (token-level formats) */
    size_t tokens;      /* their model tokens */
    size_t spans;       /* gold entity spans kept */
    size_t misaligned;  /* spans that do not align with the model's tokens */
    size_t missing;     /* tokens tagged '-' */
    size_t unannotated; /* documents without NER annotation (every tag '-') */
    size_t skipped;     /* records left out: Prodigy answers other than
                         * "accept", Label Studio tasks without annotation */
    size_t duplicates;  /* spans given twice (same offsets and label), kept once */
    size_t dropped;     /* spans removed by the label map */
    size_t errors;      /* malformed units reported (and left out) */
} td_stats;

typedef struct td_corpus td_corpus;

/* A new, empty corpus in *out.  TD_OK or TD_ENOMEM. */
int td_corpus_new(td_corpus **out);

/* Frees a corpus and its documents; NULL is a no-op. */
void td_corpus_free(td_corpus *c);

/* Reads the training file at path and appends its documents to c.  ctx:
 * the model's context, used to tokenize (NULL: no tokens and no tags, as
 * for checking or splitting a file).  Every malformed unit (a CoNLL
 * sentence, a JSON record) is reported through o->on_msg with its line and
 * left out, the rest is kept, and the call returns TD_ESYNTAX (after
 * TD_MAX_ERRORS the file is abandoned); callers that must refuse bad data
 * (training) stop there.  Other results: TD_OK, TD_EIO, TD_ETOOBIG (file
 * over o->max_file), TD_EFORMAT (not of the format asked for), TD_EINVAL
 * (bad label map), TD_ENOMEM.  o may be NULL. */
int td_read_file(td_corpus *c, const char *path, const td_opts *o, ner_ctx *ctx);

/* td_read_file() on buf[0..len) (need not be NUL-terminated); name is the
 * file name used in messages (copied). */
int td_read_mem(td_corpus *c, const char *name, const char *buf, size_t len,
                const td_opts *o, ner_ctx *ctx);

/* The documents, in file order. */
size_t td_ndocs(const td_corpus *c);
const td_doc *td_doc_at(const td_corpus *c, size_t i);

/* The name of file index i of c ("?" if out of range). */
const char *td_file(const td_corpus *c, uint32_t i);

/* The corpus's labels, in order of first use (after the label map). */
int td_nlabels(const td_corpus *c);
const char *td_label(const td_corpus *c, int i);
/* Index of label name, or -1. */
int td_label_find(const td_corpus *c, const char *name);

/* Per-label figures: spans, tokens tagged B/I/L/U with it (spaCy's label
 * frequency for a new model's class order), and its first use. */
typedef struct td_label_info {
    size_t spans, tokens;
    const char *file;
    long line;
} td_label_info;
void td_label_stats(const td_corpus *c, int i, td_label_info *out);

void td_corpus_stats(const td_corpus *c, td_stats *out);

/* ---- checks a training run makes ---- */

/* The most labels a model file holds: its class table has room for 4 per
 * label (B I L U) plus the empty-label U and O. */
int td_max_labels(void);

/* Checks a training corpus against the base model's labels (base[0..n_base),
 * none for a new model): TD_EEMPTY when no document has a tag other than
 * missing, TD_ELABELS when the base labels and the corpus's new ones are
 * more than td_max_labels().  On failure msg (msglen bytes, may be 0)
 * explains, naming the labels. */
int td_check_train(const td_corpus *train, const char *const *base, int n_base, char *msg,
                   size_t msglen);

/* Checks a dev (or test) corpus against the labels the trained model will
 * have: TD_EUNKNOWN for a label not among labels[0..n), msg naming it and
 * the file and line of its first use. */
int td_check_dev(const td_corpus *dev, const char *const *labels, int n, char *msg,
                 size_t msglen);

/* The corpus's labels that are not among have[0..n_have), in order of
 * first use (what a fine-tuning run adds to the model): their corpus
 * indices in out[0..max).  Returns how many there are (may exceed max). */
int td_new_labels(const td_corpus *c, const char *const *have, int n_have, int *out, int max);

/* ---- scoring (conlleval's strict entity match) ---- */

/* Counts per scored label. */
typedef struct td_score {
    int n_labels;
    long *tp, *fp, *fn;
} td_score;

/* Precision, recall and F1 with their counts (0 where undefined). */
typedef struct td_prf {
    long tp, fp, fn;
    double p, r, f1;
} td_prf;

/* Zeroed counts for n_labels labels (0..4096).  TD_OK, TD_EINVAL, TD_ENOMEM. */
int td_score_init(td_score *s, int n_labels);
/* Frees the counts; a zeroed or finished score is a no-op. */
void td_score_fini(td_score *s);

/* Counts one document: gold[0..ng) and pred[0..np) are entity spans of
 * the same text; a span's scored label is map[span.label] (map NULL: the
 * label itself), and spans whose scored label is -1 or out of range are
 * not counted.  A predicted span is a true positive when a gold span has
 * the same start, end (code points) and scored label; other predicted
 * spans are false positives and unmatched gold spans false negatives.
 * gmap/pmap must have an entry for every label index the spans use. */
void td_score_add(td_score *s, const ner_span *gold, size_t ng, const int *gmap,
                  const ner_span *pred, size_t np, const int *pmap);

/* Adds b's counts to a's (same n_labels). */
void td_score_merge(td_score *a, const td_score *b);

/* Figures of one label, or micro-averaged over all with label -1. */
void td_score_get(const td_score *s, int label, td_prf *out);

/* ---- splitting ---- */

/* A unit of a training file: a CoNLL sentence or document, or a JSON record. */
typedef struct td_unit {
    size_t off, len; /* bytes of the file */
    long line;       /* its first line */
} td_unit;

/* The units of a file: *out (malloc'd; free it) and *n.  by_doc: CoNLL
 * documents (-DOCSTART- / "# newdoc" delimited) instead of sentences;
 * JSON records and the lines of raw text (TD_FMT_TEXT, non-blank lines)
 * are units either way.  *fmt: TD_FMT_CONLL, TD_FMT_TEXT, or the JSON
 * layout (TD_FMT_JSON); *array: 1 when the records are the elements of one
 * JSON array (to write them back as one).  Lines of -DOCSTART- are not
 * part of sentence units.  TD_OK, TD_ESYNTAX (broken JSON framing),
 * TD_ETOOBIG (more than TD_MAX_DOCS), TD_ENOMEM. */
int td_units(const char *buf, size_t len, int format, int by_doc, td_unit **out, size_t *n,
             int *fmt, int *array);

/* Assigns n units to parts (0 train, 1 dev, 2 test...): ratio[0..parts)
 * (positive weights, 2 or 3 of them) split a shuffle of 0..n-1 made by a
 * fixed PRNG from seed, so the same seed, n and ratio always give the same
 * assignment.  Part sizes: round(n * ratio / sum) for every part but the
 * first, which takes the rest.  part[0..n) receives the part of each unit.
 * TD_OK, TD_EINVAL, TD_ENOMEM. */
int td_split_plan(size_t n, uint64_t seed, const double *ratio, int parts,
                  unsigned char *part);

#ifdef __cplusplus
}
#endif
#endif
