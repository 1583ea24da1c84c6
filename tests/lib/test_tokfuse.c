/* tok_fuse(): the fused affix patterns on hand-made cases (what is fused,
 * what is left alone, class members that must not join their
 * neighbours), then the model's own prefix and suffix patterns against
 * their fused forms: the same match (or none) on every string of a
 * large random sample, searched from every start offset as the
 * tokenizer searches. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "check.h"
#include "check_model.h"
#include "model.h"
#include "tokenizer.h"

typedef struct fcase {
    int suffix;
    const char *in, *want; /* want NULL: nothing to fuse */
} fcase;

static const fcase cases[] = {
    {0, "^a|^b|^cd|^e|^f", "^[ab]|^cd|^[ef]"},
    {0, "^a|^bc|^d", NULL},                      /* no run of two */
    {1, "a$|\\.$|[x-z]$|bc$", "[a\\.x-z]$|bc$"},
    {1, "bc$|a$|\\x{2026}$|\\x41$", "bc$|[a\\x{2026}\\x41]$"},
    {1, "-$|\\^$|\\]$|ab$", "[\\-\\^\\]]$|ab$"},
    {1, "-$|]$|\\^$", NULL},                     /* a bare ']' is not read as an atom */
    {1, "[a-]$|[-b]$", "[a\\-\\-b]$"},           /* edge hyphens stay literal */
    {1, "[]a]$|c$", "[\\]ac]$"},                 /* a leading ']' stays literal */
    {1, "[\\\\-]$|x$", "[\\\\\\-x]$"},           /* escaped backslash, then a literal '-' */
    {1, "\\d$|a$", NULL},                         /* \d: not a character escape */
    {1, "[^a]$|b$", NULL},                        /* negated classes are not fused */
    {1, "a$|b$|(?i)c$", NULL},                    /* option settings: left alone */
    {1, "\\Qa$\\E|b$", NULL},
    {1, "(?<=[0-9])a$|b$|c$", "(?<=[0-9])a$|[bc]$"},
    {0, "^(a|b)|^c|^d", "^(a|b)|^[cd]"},
    {0, "^…|^……|^,|^:", "^…|^……|^[,:]"},
    {1, "a$|b", NULL},                            /* not anchored: not an affix */
};

/* Offsets of the first match of re in s[0..n) from `from`, or -1. */
static long first(pcre2_code *re, pcre2_match_data *md, const char *s, size_t n, size_t from,
                  long *end)
{
    int rc = pcre2_match(re, (PCRE2_SPTR)s, n, from, 0, md, NULL);
    if (rc < 0)
        return -1;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    *end = (long)ov[1];
    return (long)ov[0];
}

static pcre2_code *compile(const char *pat)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
    pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &ec, &eo, cc);
    pcre2_compile_context_free(cc);
    if (re)
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static size_t put_utf8(char *o, uint32_t c)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | c >> 6);
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | c >> 12);
        o[1] = (char)(0x80 | (c >> 6 & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | c >> 18);
    o[1] = (char)(0x80 | (c >> 12 & 0x3F));
    o[2] = (char)(0x80 | (c >> 6 & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* The code points a pattern names (literal characters and \x{...}),
 * each also +-1, plus ASCII: the alphabet the random strings use. */
static size_t alphabet(const char *p, uint32_t *out, size_t cap)
{
    size_t n = 0;
    for (uint32_t c = 1; c < 128 && n < cap; c++)
        out[n++] = c;
    for (const unsigned char *s = (const unsigned char *)p; *s && n + 3 < cap;) {
        uint32_t c;
        if (s[0] == '\\' && s[1] == 'x' && s[2] == '{') {
            c = (uint32_t)strtoul((const char *)s + 3, NULL, 16);
            s += 3;
        } else if (*s >= 0xC0) {
            int k = *s < 0xE0 ? 2 : *s < 0xF0 ? 3 : 4;
            c = *s & (0xFF >> (k + 1));
            for (int i = 1; i < k; i++)
                c = c << 6 | (s[i] & 0x3F);
            s += k;
        } else {
            s++;
            continue;
        }
        if (c < 0xD800 || (c > 0xDFFF && c < 0x10FFFF)) {
            out[n++] = c;
            if (c + 1 < 0xD800 || c + 1 > 0xDFFF)
                out[n++] = c + 1;
            if (c - 1 > 0x7F && (c - 1 < 0xD800 || c - 1 > 0xDFFF))
                out[n++] = c - 1;
        }
    }
    return n;
}

static void equivalent(const char *name, const char *pat, int suffix)
{
    char *fused = NULL;
    CHECK(tok_fuse(pat, suffix, &fused) == NER_OK && fused, "%s: fused", name);
    if (!fused)
        return;
    CHECK(strlen(fused) < strlen(pat), "%s: shorter (%zu -> %zu bytes)", name, strlen(pat),
          strlen(fused));
    pcre2_code *a = compile(pat), *b = compile(fused);
    CHECK(a && b, "%s: both compile", name);
    static uint32_t al[20000];
    size_t na = alphabet(pat, al, sizeof al / sizeof *al);
    pcre2_match_data *md = pcre2_match_data_create(4, NULL);
    long diffs = 0, matches = 0, tried = 0;
    char s[64];
    for (int t = 0; a && b && t < 150000; t++) {
        size_t n = 0;
        int len = 1 + (int)(next() % 5);
        for (int k = 0; k < len; k++)
            n += put_utf8(s + n, next() % 8 == 0 ? (uint32_t)"\n .,'$"[next() % 6]
                                                 : al[next() % na]);
        for (size_t from = 0; from < n; from++) {
            if (((unsigned char)s[from] & 0xC0) == 0x80)
                continue;
            long e1 = -1, e2 = -1;
            long s1 = first(a, md, s, n, from, &e1), s2 = first(b, md, s, n, from, &e2);
            tried++;
            matches += s1 >= 0;
            if (s1 != s2 || (s1 >= 0 && e1 != e2)) {
                if (diffs++ < 5)
                    CHECK(0, "%s: differ on \"%.*s\" from %zu: %ld-%ld vs %ld-%ld", name, (int)n, s,
                          from, s1, e1, s2, e2);
            }
            if (!suffix)
                break; /* the prefix is searched from the start only */
        }
    }
    CHECK(diffs == 0, "%s: %ld of %ld searches differ", name, diffs, tried);
    CHECK(matches > tried / 20, "%s: the sample matches often (%ld of %ld)", name, matches, tried);
    printf("%s: %ld searches, %ld matches, identical\n", name, tried, matches);
    pcre2_match_data_free(md);
    pcre2_code_free(a);
    pcre2_code_free(b);
    free(fused);
}

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *out = NULL;
        int rc = tok_fuse(cases[i].in, cases[i].suffix, &out);
        CHECK(rc == NER_OK, "case %zu: rc %d", i, rc);
        if (cases[i].want)
            CHECK(out && !strcmp(out, cases[i].want), "case %zu: %s -> %s, want %s", i,
                  cases[i].in, out ? out : "(nothing)", cases[i].want);
        else
            CHECK(!out, "case %zu: %s -> %s, want nothing", i, cases[i].in, out);
        if (out) { /* what it writes compiles */
            pcre2_code *re = compile(out);
            CHECK(re != NULL, "case %zu: %s compiles", i, out);
            pcre2_code_free(re);
        }
        free(out);
    }
    char *out = (char *)1;
    CHECK(tok_fuse("", 1, &out) == NER_OK && !out, "empty pattern");
    CHECK(tok_fuse(NULL, 1, &out) == NER_EINVAL, "NULL pattern");

    ner_model *m = NULL;
    CHECK(ner_model_open(check_model_path(), NER_MODEL_TRUSTED, &m) == NER_OK, "model");
    if (m) {
        equivalent("prefix", m->patterns[0], 0);
        equivalent("suffix", m->patterns[1], 1);
    }
    ner_model_free(m);
    return check_done("test_tokfuse");
}
