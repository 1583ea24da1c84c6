/*
 * The nerd model file (format versions 1 and 2) and the in-memory model.
 *
 * A model file is one little-endian blob: a 64-byte header, a section table,
 * then 64-byte aligned sections.  It is used in place (mmap, no parsing):
 * the loader only validates bounds and the checksum, then points into it.
 *
 *   header   magic "NERDMODL", version, section count, file size,
 *            checksum of every byte after the header
 *   section  {id, offset, size} x n
 *
 * Sections: META (NUL-terminated description), TENSORS (float32 weights,
 * laid out for the kernels; see model_tensors), CLASSES (the parser's
 * moves), LABELS (entity label names), PATTERNS (four NUL-terminated PCRE2
 * patterns: prefix, suffix, infix, token_match), and three hash tables over
 * a string pool: SPECIALS (tokenizer special cases), NORMS (NORM lookup
 * table), SYMBOLS (spaCy's fixed symbol IDs).
 */
#ifndef NERD_MODEL_H
#define NERD_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "nerd/ner.h"
#include "tokenizer.h"

#define MODEL_MAGIC "NERDMODL"
#define MODEL_VERSION 1u      /* output layer 80 wide (<= 80 classes) */
#define MODEL_VERSION_WIDE 2u /* output layer width in the TENSORS header */
#define MODEL_ALIGN 64u

/* Network sizes of en_core_web_sm 2.2.5's NER (checked at load). */
#define NN_W 96          /* token vector width */
#define NN_P 3           /* CNN maxout pieces */
#define NN_EMB_IN 384    /* 4 embeddings x 96 */
#define NN_WIN 288       /* conv window: 3 x 96 */
#define NN_DEPTH 4       /* conv layers */
#define NN_PAD 4         /* padding rows each side */
#define NN_NF 6          /* parser feature slots */
#define NN_H 64          /* parser hidden width */
#define NN_HP 2          /* parser maxout pieces */
#define NN_LOWER (NN_NF * NN_HP * NN_H) /* 768 */
#define NN_NLABEL_MAX 64  /* entity labels (the LABELS section) */
#define NN_NCLASS_MAX (4 * NN_NLABEL_MAX + 2) /* B I L U per label, U-, O: 258 */
#define NN_CLS_PAD 80    /* output layer width of format 1 (<= 80 classes) */
#define NN_CLS_ALIGN 8   /* format 2: the width is a multiple of this (AVX2 lanes) */
#define NN_CLS_MAXPAD ((NN_NCLASS_MAX + NN_CLS_ALIGN - 1) / NN_CLS_ALIGN * NN_CLS_ALIGN) /* 264 */

/* The output layer's width for n classes: NN_CLS_PAD up to 80 classes
 * (format 1, the files of en_core_web_sm and fine-tuned models within
 * its width), else n rounded up to NN_CLS_ALIGN (format 2). */
#define NN_CLS_WIDTH(n) \
    ((n) <= NN_CLS_PAD ? NN_CLS_PAD : ((n) + NN_CLS_ALIGN - 1) / NN_CLS_ALIGN * NN_CLS_ALIGN)

enum model_section_id {
    SEC_META = 1,
    SEC_TENSORS = 2,
    SEC_CLASSES = 3,
    SEC_LABELS = 4,
    SEC_PATTERNS = 5,
    SEC_SPECIALS = 6,
    SEC_NORMS = 7,
    SEC_SYMBOLS = 8,
    SEC_POOL = 9,
    SEC_COUNT_ = 10
};

typedef struct model_header {
    char magic[8];
    uint32_t version;
    uint32_t n_sections;
    uint64_t file_size;
    uint64_t checksum; /* hash_checksum() of bytes [64, file_size) */
    uint8_t reserved[32];
} model_header;

typedef struct model_section {
    uint32_t id;
    uint32_t reserved;
    uint64_t offset;
    uint64_t size;
} model_section;

/* Hash table over the string pool: open addressing, linear probing.
 * Section layout: model_table_hdr, then n_buckets uint32 slot indices
 * (0 = empty, else entry index + 1), then n_entries model_table_entry. */
typedef struct model_table_hdr {
    uint32_t n_buckets; /* power of two */
    uint32_t n_entries;
} model_table_hdr;

typedef struct model_table_entry {
    uint64_t hash;      /* hash_murmur64a(key, 1) */
    uint32_t key_off;   /* into the pool */
    uint32_t key_len;
    uint64_t value;     /* SYMBOLS: id; NORMS: off<<32|len; SPECIALS: off of
                           {u32 n; n x {u32 len, u32 norm_off, u32 norm_len}}
                           with norm_off == UINT32_MAX for "no NORM" */
} model_table_entry;

/* One parser class: move (1 BEGIN, 2 IN, 3 LAST, 4 UNIT, 5 OUT) and label
 * (index into LABELS, or -1 for the empty label). */
typedef struct model_class {
    int16_t move;
    int16_t label;
} model_class;

/* Float tensors in the TENSORS section, in this order, each 64-byte
 * aligned.  "K x N" is row-major with N contiguous; for maxout layers the
 * column n = piece * width + unit, so pieces are contiguous blocks. */
typedef struct model_tensors {
    const float *emb[4];     /* NORM 2000, PREFIX, SUFFIX, SHAPE 1000 rows x 96 */
    uint32_t emb_rows[4];
    uint32_t emb_seed[4];
    const float *mix_w;      /* 384 x 288, packed in 24-column panels */
    const float *mix_b;      /* 288 */
    const float *mix_g;      /* 96 LayerNorm gain */
    const float *mix_beta;   /* 96 */
    const float *cnn_w[NN_DEPTH];   /* 288 x 288, packed */
    const float *cnn_b[NN_DEPTH];   /* 288 */
    const float *cnn_g[NN_DEPTH];   /* 96 */
    const float *cnn_beta[NN_DEPTH];/* 96 */
    const float *low_w;      /* 96 x 768, packed; column = slot*128 + piece*64 + unit */
    const float *low_b;      /* 128: piece*64 + unit */
    const float *low_pad;    /* 6 x 128 */
    const float *up_w;       /* 64 x up_cols (classes padded with zeros) */
    const float *up_b;       /* up_cols */
    int up_cols;             /* output layer width: NN_CLS_PAD (format 1), or
                                NN_CLS_WIDTH(n_classes) (format 2) */
} model_tensors;

/* The TENSORS section: a header of MODEL_TENSOR_HDR bytes (uint32 words:
 * 0-3 the embedding tables' rows, 4-7 their seeds, 8 the class count,
 * 9 the output layer's width in format 2, else 0), then MODEL_N_TENSORS
 * float tensors in the order of model_tensors, each 16-float aligned. */
#define MODEL_TENSOR_HDR 64u
#define MODEL_N_TENSORS (8 + 4 * NN_DEPTH + 5)

/* Number of floats of the TENSORS section for the given embedding rows and
 * output layer width, and the fixed layout (offsets in floats) used by
 * writer and reader. */
size_t model__tensor_layout(const uint32_t emb_rows[4], int up_cols, size_t offs[], int n);

struct ner_model {
    const unsigned char *base;
    size_t size;
    void *mapping;       /* munmap on free, if mapped */
    size_t mapping_len;
    uint64_t checksum;   /* the header's, for ner_model_verify() */
    void *owned;         /* free on free, if copied */
    const char *about;
    model_tensors t;
    int n_classes;
    model_class classes[NN_NCLASS_MAX];
    int n_labels;
    const char *labels[NN_NLABEL_MAX];
    const char *patterns[4];
    const unsigned char *pool;
    size_t pool_len;
    const unsigned char *tab[3]; /* SPECIALS, NORMS, SYMBOLS sections */
    uint32_t special_max;        /* longest special-case key, bytes */
    size_t tab_len[3];
    tok_rules *tok;
};

enum { MODEL_TAB_SPECIALS = 0, MODEL_TAB_NORMS = 1, MODEL_TAB_SYMBOLS = 2 };

/* Writing model files (model_write.c).  A section's bytes; sec[id] for
 * id 1 .. SEC_COUNT_-1 (sec[0] unused). */
typedef struct model_blob {
    const void *p;
    size_t n;
} model_blob;

/* The whole file of these sections in *out (aligned_alloc'd, free()) and
 * *len: header (format version: MODEL_VERSION, or MODEL_VERSION_WIDE for an
 * output layer wider than NN_CLS_PAD), table, 64-byte aligned sections,
 * checksum.  Deterministic.  0 or NER_ENOMEM. */
int model__assemble(const model_blob sec[SEC_COUNT_], uint32_t version, void **out,
                    size_t *len);

/* Writes buf to path atomically (path.tmp.PID, then rename).  0, NER_EIO
 * or NER_EINVAL (path too long). */
int model__write_file(const char *path, const void *buf, size_t len);

/* A loaded model's section id (its bytes in the file): 0 or NER_ECORRUPT. */
int model__section(const struct ner_model *m, uint32_t id, const unsigned char **p,
                   size_t *len);

/* Looks key[0..n) up in table `which`; returns the entry or NULL. */
const model_table_entry *model__lookup(const struct ner_model *m, int which,
                                       const char *key, size_t n,
                                       uint64_t hash);

/* tok_special_fn over the SPECIALS table (ud is the model). */
int model__special(const void *ud, const char *s, size_t n, tok_piece *pieces,
                   int max);

#endif
