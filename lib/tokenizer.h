/*
 * spaCy v2.2's rule-based tokenizer: whitespace split, special cases,
 * prefix/suffix stripping, token_match (URLs) and infixes, driven by the
 * model's regexes (PCRE2 syntax, translated from Python `re` by
 * tok_py2pcre()) and special-case table.  tok_rules is compiled once and is
 * read-only (shareable by threads); tok_state is per-thread scratch.
 */
#ifndef NERD_TOKENIZER_H
#define NERD_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

/* One piece of a special case: `len` bytes of the key, and the NORM
 * attribute the rule gives it (norm == NULL when the rule sets none). */
typedef struct tok_piece {
    uint32_t len;
    uint32_t norm_len;
    const char *norm;
} tok_piece;

/* Special-case lookup supplied by the caller: if s[0..n) is a special case,
 * write up to `max` pieces and return their count (> 0); else return 0. */
typedef int (*tok_special_fn)(const void *ud, const char *s, size_t n,
                              tok_piece *pieces, int max);

/* A token of the output.  b0/b1: byte offsets into the text; c0/c1: code
 * point offsets; norm: NORM set by a special case (NULL: none). */
typedef struct tok_token {
    uint32_t b0, b1;
    uint32_t c0, c1;
    const char *norm;
    uint32_t norm_len;
} tok_token;

typedef struct tok_rules tok_rules;
typedef struct tok_state tok_state;

/* Maximum pieces in one special case. */
#define TOK_MAX_PIECES 8

/* Compiles the four patterns (PCRE2 syntax, NUL-terminated; any may be NULL
 * for "none").  `special`/`ud` are kept and called during tokenization.
 * Returns 0 or a ner_err code (NER_EREGEX with a message in err). */
int tok_rules_new(const char *prefix, const char *suffix, const char *infix,
                  const char *token_match, tok_special_fn special,
                  const void *ud, tok_rules **out, char *err, size_t errlen);
void tok_rules_free(tok_rules *r);

int tok_state_new(const tok_rules *r, tok_state **out);
void tok_state_free(tok_state *s);

/* Tokenizes valid UTF-8 text[0..len) exactly as spaCy 2.2.4 does, with the
 * NORMs its NER model sees (first occurrence per ORTH; see tok_pipe).  On
 * success *toks and *n describe the tokens (owned by s, valid until the next
 * call).  Returns 0 or a ner_err code. */
int tok_run(tok_state *s, const char *text, size_t len,
            const tok_token **toks, size_t *n);

/* Pipe mode (on != 0): from now on, NORMs are first-occurrence per ORTH
 * across every text tok_run() sees, as in one minibatch of spaCy's
 * nlp.pipe, until tok_pipe(s, 0).  Each call starts a new batch. */
void tok_pipe(tok_state *s, int on);

/* Translates a Python `re` pattern into PCRE2 syntax (\uXXXX, \UXXXXXXXX
 * escapes, ...).  *out is malloc'd; returns 0 or a ner_err code. */
int tok_py2pcre(const char *py, size_t n, char **out);

/* The prefix (suffix = 0: `^a|^b|...`) or suffix (suffix = 1: `a$|b$|...`)
 * pattern pat (PCRE2 syntax) with each run of consecutive one-character
 * alternatives fused into one class (lib/tokfuse.c): the same matches,
 * faster to compile and to run.  *fused: a malloc'd pattern, or NULL when
 * there is nothing to fuse (use pat as it is).  Returns 0 or NER_ENOMEM. */
int tok_fuse(const char *pat, int suffix, char **fused);

#endif
