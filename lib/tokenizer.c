/*
 * spaCy v2.2's tokenizer (Tokenizer.__call__, _split_affixes,
 * _attach_tokens) over PCRE2.  Text is split into runs of whitespace and
 * non-whitespace (Python's str.isspace); a single ' ' after a token is
 * absorbed, other whitespace runs become tokens.  Each span is a special
 * case, or loses prefixes and suffixes until none is left (or token_match
 * or a special case stops it), then is split at infixes.  Offsets are kept
 * in bytes and converted to code points once at the end.
 *
 * Python `re` semantics kept: search = leftmost match, first alternative
 * wins; match = anchored at the start; finditer = successive non-overlapping
 * matches.  Work is bounded for hostile input (see SUFFIX_WINDOW), and every
 * PCRE2 call has a match limit.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nerd/ner.h"
#include "unicode.h"

enum { RE_PREFIX, RE_SUFFIX, RE_INFIX, RE_MATCH, RE_N };

/* Bounds that keep hostile input (10 KB tokens, 1 MB of ")))") linear.
 * A suffix match must end at the span's end; the model's suffix
 * alternatives are either short (< SUFFIX_WINDOW bytes) or runs that also
 * match from any later start (\.\.+), so searching the last SUFFIX_WINDOW
 * bytes finds the leftmost match unless it starts at the window's edge, in
 * which case the whole span is searched.  token_match (URLs) is not tried
 * on spans longer than TOKEN_MATCH_MAX bytes. */
#define SUFFIX_WINDOW 256
#define TOKEN_MATCH_MAX 2048
#define MATCH_LIMIT 20000     /* PCRE2 backtracking limit per call */
#define DEPTH_LIMIT 10000

struct tok_rules {
    pcre2_code *re[RE_N];
    pcre2_match_context *mctx;
    tok_special_fn special;
    const void *ud;
};

typedef struct span {
    uint32_t a, b;
} span;

struct tok_state {
    const tok_rules *r;
    pcre2_match_data *md;
    pcre2_jit_stack *jit;
    pcre2_match_context *mctx;
    tok_token *out;
    size_t n, cap;
    span *pre, *suf;
    size_t npre, nsuf, affcap;
};

int tok_py2pcre(const char *py, size_t n, char **out)
{
    /* \uXXXX -> \x{XXXX}, \UXXXXXXXX -> \x{XXXXXXXX}; other escapes kept */
    char *o = malloc(2 * n + 1);
    size_t k = 0;
    if (!o)
        return NER_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (py[i] == '\\' && i + 1 < n) {
            char c = py[i + 1];
            size_t digits = c == 'u' ? 4 : c == 'U' ? 8 : 0;
            if (digits && i + 1 + digits < n + 0 && i + 2 + digits <= n) {
                int ok = 1;
                for (size_t d = 0; d < digits; d++) {
                    char h = py[i + 2 + d];
                    ok &= (h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
                          (h >= 'A' && h <= 'F');
                }
                if (ok) {
                    memcpy(o + k, "\\x{", 3);
                    k += 3;
                    memcpy(o + k, py + i + 2, digits);
                    k += digits;
                    o[k++] = '}';
                    i += 1 + digits;
                    continue;
                }
            }
            o[k++] = py[i];
            o[k++] = py[i + 1];
            i++;
            continue;
        }
        o[k++] = py[i];
    }
    o[k] = 0;
    *out = o;
    return NER_OK;
}

int tok_rules_new(const char *prefix, const char *suffix, const char *infix,
                  const char *token_match, tok_special_fn special,
                  const void *ud, tok_rules **out, char *err, size_t errlen)
{
    const char *pat[RE_N] = {prefix, suffix, infix, token_match};
    static const char *const names[RE_N] = {"prefix", "suffix", "infix", "token_match"};
    if (!out)
        return NER_EINVAL;
    *out = NULL;
    tok_rules *r = calloc(1, sizeof *r);
    if (!r)
        return NER_ENOMEM;
    r->special = special;
    r->ud = ud;
    for (int i = 0; i < RE_N; i++) {
        if (!pat[i])
            continue;
        int ec;
        PCRE2_SIZE eo;
        r->re[i] = pcre2_compile((PCRE2_SPTR)pat[i], PCRE2_ZERO_TERMINATED,
                                 PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK |
                                     (i == RE_MATCH ? PCRE2_ANCHORED : 0),
                                 &ec, &eo, NULL);
        if (!r->re[i]) {
            if (err && errlen) {
                PCRE2_UCHAR msg[160];
                pcre2_get_error_message(ec, msg, sizeof msg);
                snprintf(err, errlen, "%s pattern, offset %zu: %s", names[i],
                         (size_t)eo, (const char *)msg);
            }
            tok_rules_free(r);
            return NER_EREGEX;
        }
        pcre2_jit_compile(r->re[i], PCRE2_JIT_COMPLETE); /* optional */
    }
    *out = r;
    return NER_OK;
}

void tok_rules_free(tok_rules *r)
{
    if (!r)
        return;
    for (int i = 0; i < RE_N; i++)
        pcre2_code_free(r->re[i]);
    free(r);
}

int tok_state_new(const tok_rules *r, tok_state **out)
{
    if (!r || !out)
        return NER_EINVAL;
    tok_state *s = calloc(1, sizeof *s);
    if (!s)
        return NER_ENOMEM;
    s->r = r;
    s->md = pcre2_match_data_create(4, NULL);
    s->mctx = pcre2_match_context_create(NULL);
    s->jit = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
    if (!s->md || !s->mctx) {
        tok_state_free(s);
        return NER_ENOMEM;
    }
    pcre2_set_match_limit(s->mctx, MATCH_LIMIT);
    pcre2_set_depth_limit(s->mctx, DEPTH_LIMIT);
    if (s->jit)
        pcre2_jit_stack_assign(s->mctx, NULL, s->jit);
    *out = s;
    return NER_OK;
}

void tok_state_free(tok_state *s)
{
    if (!s)
        return;
    pcre2_match_data_free(s->md);
    pcre2_match_context_free(s->mctx);
    pcre2_jit_stack_free(s->jit);
    free(s->out);
    free(s->pre);
    free(s->suf);
    free(s);
}

/* Runs regex i on text[a..b) starting at byte `from` (lookbehind may see
 * text before `from` within [a..b)).  Returns 1 and the match on success. */
static int re_run(tok_state *s, int i, const char *text, uint32_t a, uint32_t b,
                  uint32_t from, uint32_t opts, uint32_t *ms, uint32_t *me)
{
    const pcre2_code *re = s->r->re[i];
    if (!re)
        return 0;
    int rc = pcre2_match(re, (PCRE2_SPTR)(text + a), b - a, from - a,
                         opts | PCRE2_NO_UTF_CHECK, s->md, s->mctx);
    if (rc < 0)
        return 0; /* no match, or a limit hit: treated as no match */
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
    *ms = a + (uint32_t)ov[0];
    *me = a + (uint32_t)ov[1];
    return 1;
}

static int token_match(tok_state *s, const char *text, uint32_t a, uint32_t b)
{
    uint32_t ms, me;
    if (b - a > TOKEN_MATCH_MAX)
        return 0;
    return re_run(s, RE_MATCH, text, a, b, a, PCRE2_ANCHORED, &ms, &me);
}

static uint32_t find_prefix(tok_state *s, const char *text, uint32_t a, uint32_t b)
{
    uint32_t ms, me;
    if (!re_run(s, RE_PREFIX, text, a, b, a, 0, &ms, &me))
        return 0;
    return me - ms;
}

static uint32_t find_suffix(tok_state *s, const char *text, uint32_t a, uint32_t b)
{
    uint32_t ms, me, from = a;
    if (b - a > SUFFIX_WINDOW) {
        from = b - SUFFIX_WINDOW;
        while (from > a && ((unsigned char)text[from] & 0xC0) == 0x80)
            from--;
    }
    if (from > a) {
        if (!re_run(s, RE_SUFFIX, text, a, b, from, 0, &ms, &me))
            return 0;
        if (ms > from)
            return me - ms;
        /* a match starting at the window's edge may extend further left
         * (e.g. a run of dots): search the whole span as Python does */
    }
    if (!re_run(s, RE_SUFFIX, text, a, b, a, 0, &ms, &me))
        return 0;
    return me - ms;
}

static int push(tok_state *s, uint32_t a, uint32_t b, const char *norm,
                uint32_t norm_len)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 256;
        tok_token *p = realloc(s->out, cap * sizeof *p);
        if (!p)
            return NER_ENOMEM;
        s->out = p;
        s->cap = cap;
    }
    tok_token *t = &s->out[s->n++];
    t->b0 = a;
    t->b1 = b;
    t->norm = norm;
    t->norm_len = norm_len;
    return NER_OK;
}

/* Pushes the special case's pieces if text[a..b) is one; returns 1 if so,
 * 0 if not, negative ner_err on failure. */
static int special(tok_state *s, const char *text, uint32_t a, uint32_t b)
{
    tok_piece pc[TOK_MAX_PIECES];
    if (!s->r->special || a >= b)
        return 0;
    int np = s->r->special(s->r->ud, text + a, b - a, pc, TOK_MAX_PIECES);
    if (np <= 0)
        return 0;
    return 1;
}

/* Pushes the pieces of a special case.  The NORM a rule gives is used for
 * every piece except the first of a multi-piece rule, which keeps its
 * lexeme's NORM: that is what spaCy 2.2.4's output shows ("gonna" -> gon
 * with NORM "gon", na with NORM "to"; "Sept." -> NORM "September"). */
static int push_special(tok_state *s, const char *text, uint32_t a, uint32_t b)
{
    tok_piece pc[TOK_MAX_PIECES];
    int np = s->r->special(s->r->ud, text + a, b - a, pc, TOK_MAX_PIECES);
    for (int k = 0; k < np; k++) {
        int keep = k > 0 || np == 1;
        if (push(s, a, a + pc[k].len, keep ? pc[k].norm : NULL,
                 keep ? pc[k].norm_len : 0))
            return NER_ENOMEM;
        a += pc[k].len;
    }
    return NER_OK;
}

static int aff_push(tok_state *s, span **v, size_t *n, uint32_t a, uint32_t b)
{
    if (s->npre + s->nsuf + 1 > s->affcap || *n + 1 > s->affcap) {
        size_t cap = s->affcap ? 2 * s->affcap : 64;
        span *p = realloc(s->pre, cap * sizeof *p);
        if (!p)
            return NER_ENOMEM;
        s->pre = p;
        p = realloc(s->suf, cap * sizeof *p);
        if (!p)
            return NER_ENOMEM;
        s->suf = p;
        s->affcap = cap;
    }
    (*v)[(*n)++] = (span){a, b};
    return NER_OK;
}

static int split_infixes(tok_state *s, const char *text, uint32_t a, uint32_t b)
{
    uint32_t start = a, pos = a, ms, me;
    int any = 0;
    while (pos <= b && re_run(s, RE_INFIX, text, a, b, pos, 0, &ms, &me)) {
        any = 1;
        if (ms != a) { /* matches at the span's start are skipped */
            if (ms != start && push(s, start, ms, NULL, 0))
                return NER_ENOMEM;
            if (ms != me && push(s, ms, me, NULL, 0))
                return NER_ENOMEM;
            start = me;
        }
        if (me == ms) { /* empty match: step one code point */
            if (me >= b)
                break;
            pos = me + 1;
            while (pos < b && ((unsigned char)text[pos] & 0xC0) == 0x80)
                pos++;
        } else {
            pos = me;
        }
    }
    if (!any)
        return push(s, a, b, NULL, 0);
    if (start < b)
        return push(s, start, b, NULL, 0);
    return NER_OK;
}

/* _tokenize(): one whitespace-delimited span text[a..b). */
static int tokenize_span(tok_state *s, const char *text, uint32_t a, uint32_t b)
{
    int rc;
    if (special(s, text, a, b))
        return push_special(s, text, a, b);
    s->npre = s->nsuf = 0;
    uint32_t last = 0;
    while (a < b && b - a != last) {
        /* spaCy 2.2: a token_match stops the stripping only when there is
         * no prefix or suffix to strip (URLs keep trailing punctuation
         * apart) */
        if (token_match(s, text, a, b) && !find_prefix(s, text, a, b) &&
            !find_suffix(s, text, a, b))
            break;
        last = b - a;
        uint32_t pre = find_prefix(s, text, a, b);
        if (pre && a + pre < b && special(s, text, a + pre, b)) {
            if ((rc = aff_push(s, &s->pre, &s->npre, a, a + pre)))
                return rc;
            a += pre;
            break;
        }
        uint32_t suf = find_suffix(s, text, a, b);
        if (suf && a < b - suf && special(s, text, a, b - suf)) {
            if ((rc = aff_push(s, &s->suf, &s->nsuf, b - suf, b)))
                return rc;
            b -= suf;
            break;
        }
        if (pre && suf && pre + suf <= b - a) {
            if ((rc = aff_push(s, &s->pre, &s->npre, a, a + pre)) ||
                (rc = aff_push(s, &s->suf, &s->nsuf, b - suf, b)))
                return rc;
            a += pre;
            b -= suf;
        } else if (pre) {
            if ((rc = aff_push(s, &s->pre, &s->npre, a, a + pre)))
                return rc;
            a += pre;
        } else if (suf) {
            if ((rc = aff_push(s, &s->suf, &s->nsuf, b - suf, b)))
                return rc;
            b -= suf;
        }
        if (a < b && special(s, text, a, b))
            break;
    }
    /* _attach_tokens() */
    for (size_t i = 0; i < s->npre; i++)
        if (push(s, s->pre[i].a, s->pre[i].b, NULL, 0))
            return NER_ENOMEM;
    if (a < b) {
        if (special(s, text, a, b))
            rc = push_special(s, text, a, b);
        else if (token_match(s, text, a, b))
            rc = push(s, a, b, NULL, 0);
        else
            rc = split_infixes(s, text, a, b);
        if (rc)
            return rc;
    }
    for (size_t i = s->nsuf; i > 0; i--)
        if (push(s, s->suf[i - 1].a, s->suf[i - 1].b, NULL, 0))
            return NER_ENOMEM;
    return NER_OK;
}

int tok_run(tok_state *s, const char *text, size_t len, const tok_token **toks,
            size_t *n)
{
    int rc = NER_OK;
    if (!s || !toks || !n || (!text && len))
        return NER_EINVAL;
    if (len > UINT32_MAX / 2)
        return NER_ETOOBIG;
    s->n = 0;
    *toks = NULL;
    *n = 0;
    if (len == 0)
        return NER_OK;
    uint32_t cp;
    int l = uni_decode(text, len, &cp);
    if (l <= 0)
        return NER_EUTF8;
    int in_ws = uni_isspace(cp);
    uint32_t start = 0, i = 0;
    while (i < len) {
        l = uni_decode(text + i, len - i, &cp);
        if (l <= 0)
            return NER_EUTF8;
        int ws = uni_isspace(cp);
        if (ws != in_ws) {
            if (start < i && (rc = tokenize_span(s, text, start, i)))
                return rc;
            start = cp == ' ' ? i + 1 : i;
            in_ws = !in_ws;
        }
        i += (uint32_t)l;
    }
    if (start < len && (rc = tokenize_span(s, text, start, (uint32_t)len)))
        return rc;
    /* byte offsets -> code point offsets (tokens are in text order) */
    uint32_t b = 0, c = 0;
    for (size_t k = 0; k < s->n; k++) {
        tok_token *t = &s->out[k];
        for (; b < t->b0; b++)
            c += ((unsigned char)text[b] & 0xC0) != 0x80;
        t->c0 = c;
        for (; b < t->b1; b++)
            c += ((unsigned char)text[b] & 0xC0) != 0x80;
        t->c1 = c;
    }
    *toks = s->out;
    *n = s->n;
    return NER_OK;
}
