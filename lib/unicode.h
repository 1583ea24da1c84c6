/*
 * Unicode helpers with Python 3 str semantics (what spaCy v2.2 relies on):
 * UTF-8 decoding/validation, str.isspace/isalpha/isupper/isdigit on one
 * code point, and str.lower() on a whole string (full case mapping,
 * including Final_Sigma).  Tables are generated from Python's unicodedata by
 * tools/gen_unicode.py into lib/unicode_tables.inc.  Pure functions, no
 * state: thread safe.
 */
#ifndef NERD_UNICODE_H
#define NERD_UNICODE_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one UTF-8 sequence at s[0..n).  Returns its length (1..4) and
 * stores the code point in *cp, or returns 0 if the bytes are not valid
 * UTF-8 (overlong, surrogate, > U+10FFFF, truncated). */
int uni_decode(const char *s, size_t n, uint32_t *cp);

/* Encodes cp as UTF-8 into out (4 bytes room); returns the length. */
int uni_encode(uint32_t cp, char *out);

/* Returns 1 if s[0..n) is valid UTF-8, else 0. */
int uni_valid(const char *s, size_t n);

/* Number of code points in valid UTF-8 s[0..n). */
size_t uni_count(const char *s, size_t n);

/* Python's str.isspace(), .isalpha(), .isupper(), .isdigit() for one code
 * point (for isupper: the single-character string). */
int uni_isspace(uint32_t cp);
int uni_isalpha(uint32_t cp);
int uni_isupper(uint32_t cp);
int uni_islower(uint32_t cp);
int uni_isdigit(uint32_t cp);

/* Python's s.lower() of valid UTF-8 s[0..n), written to out (capacity cap
 * bytes).  Returns the output length in bytes; if it exceeds cap, nothing
 * past cap is written and the caller should retry with a larger buffer
 * (3*n bytes always suffice). */
size_t uni_lower(const char *s, size_t n, char *out, size_t cap);

#endif
