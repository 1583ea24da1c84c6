/*
 * Fusing the tokenizer's affix alternations before they are compiled.
 * spaCy writes its prefix and suffix patterns as one alternative per
 * affix (`^§|^%|^=|...`, `…$|,$|:$|...`), most of them one character.
 * Each run of consecutive one-character alternatives becomes one
 * character class (`^[§%=]`, `[,:;]$`): within such a run every
 * alternative that matches at a position matches one code point there
 * and nothing else, so which of them matches first changes nothing, and
 * the run keeps its place among the other alternatives, so their order
 * (which decides between affixes of different lengths) is kept.  The
 * matches are the same; PCRE2's JIT compiles the fused pattern in less
 * than half the time (the suffix pattern's 78 alternatives become 16) and
 * runs it faster.  Anything this reader does not fully understand is
 * left as it is.
 */
#include <stdlib.h>
#include <string.h>

#include "nerd/ner.h"
#include "sbuf.h"
#include "tokenizer.h"

#define FUSE_MAX_ALTS 4096

typedef struct alt {
    const char *p;   /* the alternative, without the '|' */
    size_t n;
    const char *atom; /* its single atom, or NULL */
    size_t atom_n;
} alt;

/* Length of the UTF-8 sequence starting with byte c (1 for invalid). */
static size_t u8len(unsigned char c)
{
    return c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Length of an escape at p[0] == '\\' that stands for one character and
 * means the same inside a class: \ + ASCII punctuation, \xHH, \x{HEX}.
 * 0 for any other escape (\d, \s, \p{..}, \Q, back references, ...). */
static size_t char_escape(const char *p, size_t n)
{
    if (n < 2)
        return 0;
    unsigned char c = (unsigned char)p[1];
    if (c < 0x80 && !is_alnum((char)c) && c > ' ')
        return 2;
    if (c != 'x')
        return 0;
    if (n >= 4 && is_hex(p[2]) && is_hex(p[3]))
        return 4;
    if (n >= 4 && p[2] == '{') {
        size_t k = 3;
        while (k < n && k < 12 && is_hex(p[k]))
            k++;
        return k > 3 && k < n && p[k] == '}' ? k + 1 : 0;
    }
    return 0;
}

/* Length of a bracket class at p[0] == '[' that this reader understands
 * (not negated; characters, the escapes of char_escape() and ranges), or
 * 0. */
static size_t class_len(const char *p, size_t n)
{
    size_t i = 1;
    if (i < n && p[i] == '^')
        return 0;
    if (i < n && p[i] == ']')
        i++; /* a literal ']' first */
    while (i < n && p[i] != ']') {
        if (p[i] == '\\') {
            size_t e = char_escape(p + i, n - i);
            if (!e)
                return 0;
            i += e;
        } else if (p[i] == '[') {
            return 0; /* POSIX classes and the like */
        } else {
            i += u8len((unsigned char)p[i]);
        }
    }
    return i < n && i > 1 ? i + 1 : 0;
}

/* Length of one atom matching exactly one character at p (a literal,
 * a character escape or a class), or 0. */
static size_t atom_len(const char *p, size_t n)
{
    if (!n)
        return 0;
    if (p[0] == '\\')
        return char_escape(p, n);
    if (p[0] == '[')
        return class_len(p, n);
    if (strchr("^$.|?*+(){}]", p[0]))
        return 0;
    size_t k = u8len((unsigned char)p[0]);
    return k <= n ? k : 0;
}

/* Splits pat at its top-level '|'.  Returns the count, or 0 when the
 * pattern has something this reader does not follow (unbalanced groups,
 * option settings, \Q..\E, comments, too many alternatives). */
static size_t split(const char *pat, size_t n, alt *a, size_t cap)
{
    size_t na = 0, start = 0, depth = 0;
    for (size_t i = 0; i < n;) {
        char c = pat[i];
        if (c == '\\') {
            if (i + 1 < n && (pat[i + 1] == 'Q' || pat[i + 1] == 'E'))
                return 0;
            i += i + 1 < n ? 1 + u8len((unsigned char)pat[i + 1]) : 1;
        } else if (c == '[') {
            size_t k = class_len(pat + i, n - i);
            if (!k) { /* a class we do not read: skip it the way PCRE2 does */
                k = 1;
                if (i + k < n && pat[i + k] == '^')
                    k++;
                if (i + k < n && pat[i + k] == ']')
                    k++;
                while (i + k < n && pat[i + k] != ']') {
                    if (pat[i + k] == '[')
                        return 0;
                    k += pat[i + k] == '\\' ? 2 : 1;
                }
                if (i + k >= n)
                    return 0;
                k++;
            }
            i += k;
        } else if (c == '(') {
            /* groups, look-arounds; option settings and comments change
             * how the rest reads */
            if (i + 1 < n && pat[i + 1] == '?' &&
                !(i + 2 < n && (pat[i + 2] == ':' || pat[i + 2] == '=' || pat[i + 2] == '!' ||
                                (pat[i + 2] == '<' && i + 3 < n &&
                                 (pat[i + 3] == '=' || pat[i + 3] == '!')))))
                return 0;
            depth++;
            i++;
        } else if (c == ')') {
            if (!depth)
                return 0;
            depth--;
            i++;
        } else if (c == '|' && !depth) {
            if (na == cap)
                return 0;
            a[na++] = (alt){pat + start, i - start, NULL, 0};
            start = ++i;
        } else {
            i++;
        }
    }
    if (depth || na == cap)
        return 0;
    a[na++] = (alt){pat + start, n - start, NULL, 0};
    return na;
}

/* Writes atom a as part of a class's contents, so that it means the same
 * whatever stands before and after it there. */
static void put_member(sbuf *o, const char *a, size_t n)
{
    if (a[0] != '[') { /* a character escape, or a literal character */
        if (n == 1 && strchr("]\\^-[", a[0]))
            sb_add(o, "\\", 1);
        sb_add(o, a, n);
        return;
    }
    const char *c = a + 1;
    size_t cn = n - 2;
    /* the first and last members must not join a neighbour: a leading ']'
     * or '-', or a trailing '-', is written escaped */
    if (cn && (c[0] == ']' || c[0] == '-')) {
        sb_add(o, "\\", 1);
        sb_add(o, c, 1);
        c++;
        cn--;
    }
    size_t last = 0; /* where the last member starts (class_len() read them all) */
    for (size_t i = 0, step; i < cn; i += step) {
        step = c[i] == '\\' ? char_escape(c + i, cn - i) : u8len((unsigned char)c[i]);
        if (!step) { /* cannot happen: class_len() read every member */
            o->oom = 1;
            return;
        }
        last = i;
    }
    int tail = cn && last == cn - 1 && c[last] == '-';
    sb_add(o, c, cn - (size_t)tail);
    if (tail)
        sb_add(o, "\\-", 2);
}

int tok_fuse(const char *pat, int suffix, char **fused)
{
    if (!pat || !fused)
        return NER_EINVAL;
    *fused = NULL;
    size_t n = strlen(pat);
    alt *a = malloc(FUSE_MAX_ALTS * sizeof *a);
    if (!a)
        return NER_ENOMEM;
    size_t na = split(pat, n, a, FUSE_MAX_ALTS), runs = 0;
    for (size_t i = 0; i < na; i++) {
        const char *p = a[i].p;
        size_t k = a[i].n;
        if (!suffix && k >= 2 && p[0] == '^' && atom_len(p + 1, k - 1) == k - 1) {
            a[i].atom = p + 1;
            a[i].atom_n = k - 1;
        } else if (suffix && k >= 2 && p[k - 1] == '$' && atom_len(p, k - 1) == k - 1) {
            a[i].atom = p;
            a[i].atom_n = k - 1;
        }
        runs += a[i].atom && i > 0 && a[i - 1].atom;
    }
    int rc = NER_OK;
    if (!runs) /* nothing to fuse: the caller compiles the pattern as it is */
        goto done;
    sbuf o = {0};
    for (size_t i = 0; i < na;) {
        size_t j = i;
        while (j < na && a[j].atom)
            j++;
        if (i > 0)
            sb_add(&o, "|", 1);
        if (j - i >= 2) { /* a run: one class */
            sb_add(&o, suffix ? "[" : "^[", suffix ? 1 : 2);
            for (size_t k = i; k < j; k++)
                put_member(&o, a[k].atom, a[k].atom_n);
            sb_add(&o, suffix ? "]$" : "]", suffix ? 2 : 1);
            i = j;
        } else {
            sb_add(&o, a[i].p, a[i].n);
            i++;
        }
    }
    if (o.oom || !o.p) {
        free(o.p);
        rc = NER_ENOMEM;
    } else {
        *fused = o.p;
    }
done:
    free(a);
    return rc;
}
