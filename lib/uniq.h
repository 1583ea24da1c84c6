/*
 * First-occurrence NORMs: what thinc's `uniqued(embed, column=ORTH)` does
 * to spaCy 2.2's token features.  The NER model embeds each distinct ORTH
 * of a batch once, from the row of its first occurrence, so every token
 * with that ORTH gets the NORM of the first one: "gon" of "gonna" (NORM
 * "going") after a plain "gon" (NORM "gon") is embedded as "gon", and the
 * other way round.  A uq_map records, per ORTH, the NORM its first
 * occurrence had (NULL: the lexeme's own).  Not thread-safe; one per
 * tokenizer state.
 */
#ifndef NERD_UNIQ_H
#define NERD_UNIQ_H

#include <stddef.h>
#include <stdint.h>

/* Most bytes of ORTH text one map holds (a batch of the longest texts
 * NER_MAX_TEXT allows fits many times). */
#define UQ_MAX_BYTES (256u << 20)

typedef struct uq_entry {
    uint64_t hash;
    uint32_t off, len;     /* ORTH bytes in the pool */
    const char *norm;      /* NORM of the first occurrence, or NULL */
    uint32_t norm_len;
    uint32_t gen;          /* in use while equal to the map's gen */
} uq_entry;

typedef struct uq_map {
    uq_entry *tab;
    size_t cap, n;         /* cap: power of two, or 0 */
    uint32_t gen;          /* bumped by uq_reset, so a reset costs O(1) */
    char *pool;
    size_t pool_n, pool_cap;
} uq_map;

/* Empties m in O(1) (keeps its memory: a map grown by one long text does
 * not make later resets cost its size).  m must be zeroed or used before. */
void uq_reset(uq_map *m);

/* Frees m's memory; m is zeroed and may be used again. */
void uq_fini(uq_map *m);

/* Looks up ORTH s[0..n).  If it is new, records the NORM in norm and
 * norm_len (one that outlives m, e.g. in the model; NULL for none) as its
 * first occurrence's; then sets both to the recorded ones.  Returns 0, NER_ENOMEM, or
 * NER_ETOOBIG past UQ_MAX_BYTES (m unchanged on error). */
int uq_first(uq_map *m, const char *s, uint32_t n, const char **norm,
             uint32_t *norm_len);

#endif
