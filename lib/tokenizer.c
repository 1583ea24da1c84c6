/*
 * spaCy v2.2's tokenizer (Tokenizer.__call__, _tokenize, _split_affixes,
 * _attach_tokens) over PCRE2.  Text is split into runs of whitespace and
 * non-whitespace (Python's str.isspace); a single ' ' after a token is
 * absorbed, other whitespace runs become tokens.  Each span is a special
 * case, or loses prefixes and suffixes until none is left (or token_match
 * or a special case stops it), then is split at infixes.  Offsets are kept
 * in bytes and converted to code points once at the end.  spaCy's cache of
 * earlier spans is not kept: it never changes the result (a cached span is
 * tokenized the same way, and cached pieces are the same lexemes; its
 * has_special guard keeps special cases out of it), so output does not
 * depend on call history.
 *
 * NORMs: a special case's rule gives each of its pieces a token NORM
 * (vocab.pyx make_fused_token sets NORM on the TokenC only, never on the
 * lexeme; token.pxd reads token.norm when it is set, else lex.norm), every
 * piece alike.  Then the model's uniqued(ORTH) embeds each distinct ORTH of
 * a batch from its first occurrence (uniq.h), so the NORMs are made
 * first-occurrence per ORTH: over the text alone, or over every text since
 * tok_pipe(s, 1) to reproduce one minibatch of spaCy's nlp.pipe.
 *
 * Python `re` semantics kept: search = leftmost match, first alternative
 * wins; match = anchored at the start; finditer = successive matches with
 * Python 3.7+ empty-match rules; affix lengths are counted in code points
 * as spaCy slices them.  Work is bounded for hostile input (suffix search
 * in a growing window, token_match tried at most twice per span, PCRE2
 * match limits), so 1 MB inputs and 10 KB tokens stay linear.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "sbuf.h"
#include "tokenizer.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nerd/ner.h"
#include "unicode.h"
#include "uniq.h"

enum { RE_PREFIX, RE_SUFFIX, RE_INFIX, RE_MATCH, RE_N };

/* A suffix match ends at the span's end.  The suffix search first looks
 * at the last SUFFIX_WINDOW bytes only (the search starts there; look-
 * behinds still see the whole span).  A match that starts inside the
 * window, after its first byte, is the leftmost one provided every suffix
 * alternative either matches at most SUFFIX_WINDOW - 1 bytes or, like
 * `\.\.+$`, also matches from any later start: true of spaCy's suffix
 * patterns (all alternatives but `\.\.+$` are at most 12 code points).  A
 * match at the window's first byte may extend further left, so the window
 * doubles until it does not (or covers the span); that costs O(length of
 * the match), which is then stripped.  No match in the window means none
 * in the span, by the same property. */
#define SUFFIX_WINDOW 64

/* PCRE2 work limits.  The prefix, suffix and infix patterns run in linear
 * time, so their limit is generous and hitting it is an error
 * (NER_EREGEX).  token_match (the URL pattern: \S+ with backtracking) can be
 * quadratic on hostile tokens; hitting its limit counts as "no match"
 * (and see TOKEN_MATCH_MAX). */
/* The URL pattern backtracks quadratically on some tokens (64 KB of "a:"
 * takes 14 s) and PCRE2's JIT does not stop it at the match limit, so
 * token_match is not tried on spans longer than this (2 KB of "a:": 13 ms).
 * spaCy would still match a longer URL: the one known difference. */
#define TOKEN_MATCH_MAX 2048
#define LIMIT_BASE 10000000u
#define LIMIT_PER_BYTE 256u
#define DEPTH_LIMIT 100000u
#define JIT_STACK_MAX (1024 * 1024)

struct tok_rules {
    pcre2_code *re[RE_N];
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
    span *pre, *suf; /* affixes of the current span, reused across calls */
    size_t npre, nsuf, precap, sufcap;
    uq_map uq;       /* ORTH -> first occurrence's NORM */
    int pipe;        /* uq spans calls (tok_pipe) */
};

static int is_hex(char h)
{
    return (h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
           (h >= 'A' && h <= 'F');
}

/* Python's \s for str patterns is str.isspace(); PCRE2's UCP \s lacks
 * \x1c-\x1f and \x85.  This is the exact isspace() set (stable since
 * Unicode 6.3; tools/gen_unicode.py lists the same code points). */
#define PY_SPACE_SET "\\t-\\r\\x1c-\\x20\\x85\\xa0\\x{1680}\\x{2000}-\\x{200a}" \
                     "\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}"

int tok_py2pcre(const char *py, size_t n, char **out)
{
    /* Lexical translation, tracking whether we are inside [...]:
     *   \uXXXX, \UXXXXXXXX -> \x{...}     (PCRE2 has no \u)
     *   \Z -> \z                           (Python's \Z is the very end)
     *   \v -> \x0b                         (PCRE2's \v is a class)
     *   \s, \S -> Python's isspace() set   (\S inside a class is kept)
     *   {,n} -> {0,n}                      (PCRE2 10.42 reads {,n} literally)
     *   [ inside a class -> \[             (PCRE2 would see [: POSIX classes)
     * Everything else (\d, \w, look-arounds, $, ^) means the same in PCRE2
     * with PCRE2_UTF|PCRE2_UCP. */
    sbuf b = {0};
    int in_class = 0;
    if (!py || !out)
        return NER_EINVAL;
    *out = NULL;
    sb_add(&b, "", 0);
    for (size_t i = 0; i < n; i++) {
        char c = py[i];
        if (c == '\\' && i + 1 < n) {
            char e = py[i + 1];
            size_t digits = e == 'u' ? 4 : e == 'U' ? 8 : 0;
            if (digits && i + 2 + digits <= n) {
                int ok = 1;
                for (size_t d = 0; d < digits; d++)
                    ok &= is_hex(py[i + 2 + d]);
                if (ok) {
                    sb_add(&b, "\\x{", 3);
                    sb_add(&b, py + i + 2, digits);
                    sb_add(&b, "}", 1);
                    i += 1 + digits;
                    continue;
                }
            }
            if (e == 'Z' && !in_class)
                sb_add(&b, "\\z", 2);
            else if (e == 'v')
                sb_add(&b, "\\x0b", 4);
            else if (e == 's')
                sb_add(&b, in_class ? PY_SPACE_SET : "[" PY_SPACE_SET "]",
                       strlen(PY_SPACE_SET) + (in_class ? 0 : 2));
            else if (e == 'S' && !in_class)
                sb_add(&b, "[^" PY_SPACE_SET "]", strlen(PY_SPACE_SET) + 3);
            else
                sb_add(&b, py + i, 2);
            i++;
            continue;
        }
        if (in_class) {
            if (c == '[')
                sb_add(&b, "\\[", 2);
            else
                sb_add(&b, &c, 1);
            if (c == ']')
                in_class = 0;
            continue;
        }
        if (c == '[') {
            /* "[", optional "^", then a "]" that is a literal */
            sb_add(&b, "[", 1);
            in_class = 1;
            if (i + 1 < n && py[i + 1] == '^')
                sb_add(&b, py + ++i, 1);
            if (i + 1 < n && py[i + 1] == ']')
                sb_add(&b, py + ++i, 1);
            continue;
        }
        if (c == '{' && i + 1 < n && py[i + 1] == ',') {
            size_t j = i + 2;
            while (j < n && py[j] >= '0' && py[j] <= '9')
                j++;
            if (j > i + 2 && j < n && py[j] == '}') {
                sb_add(&b, "{0", 2);
                continue;
            }
        }
        sb_add(&b, &c, 1);
    }
    if (b.oom) {
        free(b.p);
        return NER_ENOMEM;
    }
    *out = b.p;
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
    if (err && errlen)
        err[0] = 0;
    tok_rules *r = calloc(1, sizeof *r);
    pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
    if (!r || !cc) {
        free(r);
        pcre2_compile_context_free(cc);
        return NER_ENOMEM;
    }
    /* Python: only "\n" is a newline for $ and . (not the build default) */
    pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
    pcre2_set_bsr(cc, PCRE2_BSR_UNICODE);
    r->special = special;
    r->ud = ud;
    for (int i = 0; i < RE_N; i++) {
        if (!pat[i] || !pat[i][0])
            continue;
        int ec;
        PCRE2_SIZE eo;
        char *fused = NULL;
        if ((i == RE_PREFIX || i == RE_SUFFIX) && tok_fuse(pat[i], i == RE_SUFFIX, &fused)) {
            pcre2_compile_context_free(cc);
            tok_rules_free(r);
            return NER_ENOMEM;
        }
        r->re[i] = pcre2_compile((PCRE2_SPTR)(fused ? fused : pat[i]), PCRE2_ZERO_TERMINATED,
                                 PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK,
                                 &ec, &eo, cc);
        free(fused);
        if (!r->re[i]) {
            if (err && errlen) {
                PCRE2_UCHAR msg[160];
                pcre2_get_error_message(ec, msg, sizeof msg);
                snprintf(err, errlen, "%s pattern, offset %zu: %s", names[i],
                         (size_t)eo, (const char *)msg);
            }
            pcre2_compile_context_free(cc);
            tok_rules_free(r);
            return NER_EREGEX;
        }
        /* JIT when available; pcre2_match() falls back to the interpreter */
        (void)pcre2_jit_compile(r->re[i], PCRE2_JIT_COMPLETE);
    }
    pcre2_compile_context_free(cc);
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
    *out = NULL;
    tok_state *s = calloc(1, sizeof *s);
    if (!s)
        return NER_ENOMEM;
    s->r = r;
    s->md = pcre2_match_data_create(2, NULL);
    s->mctx = pcre2_match_context_create(NULL);
    s->jit = pcre2_jit_stack_create(32 * 1024, JIT_STACK_MAX, NULL);
    if (!s->md || !s->mctx) {
        tok_state_free(s);
        return NER_ENOMEM;
    }
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
    uq_fini(&s->uq);
    free(s);
}

/* Runs regex i on the subject text[a..b) (what Python sees as `string`),
 * starting the search at byte `from`.  Returns 1 with the match in
 * [*ms, *me), 0 for no match, or -NER_EREGEX when a work limit was hit
 * (or another matching error occurred). */
static int re_run(tok_state *s, int i, const char *text, uint32_t a, uint32_t b,
                  uint32_t from, uint32_t opts, uint32_t *ms, uint32_t *me)
{
    const pcre2_code *re = s->r->re[i];
    if (!re)
        return 0;
    pcre2_set_match_limit(s->mctx, LIMIT_BASE + LIMIT_PER_BYTE * (b - a));
    int rc = pcre2_match(re, (PCRE2_SPTR)(text + a), b - a, from - a,
                         opts | PCRE2_NO_UTF_CHECK, s->md, s->mctx);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0)
        return -NER_EREGEX;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
    *ms = a + (uint32_t)ov[0];
    *me = a + (uint32_t)ov[1];
    return 1;
}

static uint32_t cp_count(const char *text, uint32_t a, uint32_t b)
{
    uint32_t c = 0;
    for (; a < b; a++)
        c += ((unsigned char)text[a] & 0xC0) != 0x80;
    return c;
}

/* Byte offset k code points after (k > 0) text[a], capped at b. */
static uint32_t cp_forward(const char *text, uint32_t a, uint32_t b, uint32_t k)
{
    while (a < b && k > 0) {
        a++;
        while (a < b && ((unsigned char)text[a] & 0xC0) == 0x80)
            a++;
        k--;
    }
    return a;
}

/* Byte offset k code points before text[b], floored at a. */
static uint32_t cp_back(const char *text, uint32_t a, uint32_t b, uint32_t k)
{
    while (b > a && k > 0) {
        b--;
        while (b > a && ((unsigned char)text[b] & 0xC0) == 0x80)
            b--;
        k--;
    }
    return b;
}

/* token_match(string): Python's re.match.  Hitting the work limit (a
 * hostile, quadratic input) counts as no match. */
static int token_match(tok_state *s, const char *text, uint32_t a, uint32_t b)
{
    uint32_t ms, me;
    if (b - a > TOKEN_MATCH_MAX)
        return 0;
    return re_run(s, RE_MATCH, text, a, b, a, PCRE2_ANCHORED, &ms, &me) == 1;
}

/* find_prefix(string): length of prefix_search(string) (a search; spaCy
 * takes end - start and strips that many code points from the front).
 * Stores the byte offset after the prefix in *cut (a when none).  Returns
 * 0 or -NER_EREGEX. */
static int find_prefix(tok_state *s, const char *text, uint32_t a, uint32_t b,
                       uint32_t *cut)
{
    uint32_t ms, me;
    int rc = re_run(s, RE_PREFIX, text, a, b, a, 0, &ms, &me);
    *cut = a;
    if (rc <= 0)
        return rc;
    *cut = ms == a ? me : cp_forward(text, a, b, cp_count(text, ms, me));
    return 0;
}

/* find_suffix(string): length of suffix_search(string), the leftmost match
 * (see SUFFIX_WINDOW).  Stores the byte offset where the suffix starts in
 * *cut (b when none).  Returns 0 or -NER_EREGEX. */
static int find_suffix(tok_state *s, const char *text, uint32_t a, uint32_t b,
                       uint32_t *cut)
{
    uint32_t ms = 0, me = 0, w = SUFFIX_WINDOW;
    int rc;
    *cut = b;
    for (;;) {
        uint32_t from = a;
        if (b - a > w) {
            from = b - w;
            while (from > a && ((unsigned char)text[from] & 0xC0) == 0x80)
                from--;
        }
        rc = re_run(s, RE_SUFFIX, text, a, b, from, 0, &ms, &me);
        if (rc <= 0)
            return rc;
        if (ms > from || from == a)
            break;
        w = w > UINT32_MAX / 2 ? UINT32_MAX : 2 * w;
    }
    /* $ also matches before a final "\n": strip as many code points as
     * the match has, as spaCy does (string[:-suf_len]) */
    *cut = me == b ? ms : cp_back(text, a, b, cp_count(text, ms, me));
    return 0;
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
    t->c0 = t->c1 = 0;
    t->norm = norm;
    t->norm_len = norm_len;
    return NER_OK;
}

/* Is text[a..b) a special case?  (spaCy: self._specials.get(hash)) */
static int is_special(tok_state *s, const char *text, uint32_t a, uint32_t b)
{
    tok_piece pc[TOK_MAX_PIECES];
    if (!s->r->special || a >= b)
        return 0;
    return s->r->special(s->r->ud, text + a, b - a, pc, TOK_MAX_PIECES) > 0;
}

/* Pushes the pieces of the special case text[a..b), each with the NORM
 * its rule gives (or none).  Pieces that do not spell the key exactly are
 * ignored (NER_EINVAL). */
static int push_special(tok_state *s, const char *text, uint32_t a, uint32_t b)
{
    tok_piece pc[TOK_MAX_PIECES];
    int np = s->r->special(s->r->ud, text + a, b - a, pc, TOK_MAX_PIECES);
    uint64_t sum = 0;
    if (np <= 0 || np > TOK_MAX_PIECES)
        return NER_EINVAL;
    for (int k = 0; k < np; k++)
        sum += pc[k].len;
    if (sum != b - a)
        return NER_EINVAL;
    for (int k = 0; k < np; k++) {
        if (pc[k].len == 0)
            continue;
        if (push(s, a, a + pc[k].len, pc[k].norm, pc[k].norm ? pc[k].norm_len : 0))
            return NER_ENOMEM;
        a += pc[k].len;
    }
    return NER_OK;
}

static int aff_push(span **v, size_t *n, size_t *cap, uint32_t a, uint32_t b)
{
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 64;
        span *p = realloc(*v, nc * sizeof *p);
        if (!p)
            return NER_ENOMEM;
        *v = p;
        *cap = nc;
    }
    (*v)[(*n)++] = (span){a, b};
    return NER_OK;
}

/* The infix part of _attach_tokens(): list(infix_finditer(string)), a
 * match at the string's start is skipped, empty infixes produce no token.
 * finditer follows Python 3.7+: after an empty match the next match may
 * start at the same place only if it is not empty. */
static int split_infixes(tok_state *s, const char *text, uint32_t a, uint32_t b)
{
    uint32_t start = a, pos = a, ms, me, opts = 0;
    int rc;
    while (pos <= b) {
        rc = re_run(s, RE_INFIX, text, a, b, pos, opts, &ms, &me);
        if (rc < 0)
            return -rc;
        if (rc == 0)
            break;
        if (ms != a) {
            if (ms != start && (rc = push(s, start, ms, NULL, 0)))
                return rc;
            if (ms != me && (rc = push(s, ms, me, NULL, 0)))
                return rc;
            start = me;
        }
        pos = me;
        opts = ms == me ? PCRE2_NOTEMPTY_ATSTART : 0;
    }
    return start < b ? push(s, start, b, NULL, 0) : NER_OK;
}

/* _tokenize(): one whitespace-delimited span text[a..b). */
static int tokenize_span(tok_state *s, const char *text, uint32_t a, uint32_t b)
{
    int rc;
    /* __call__ looks the whole span up in the cache, which holds the
     * special cases */
    if (is_special(s, text, a, b))
        return push_special(s, text, a, b);
    s->npre = s->nsuf = 0;
    int has_special = 0;
    uint32_t last = 0;
    /* _split_affixes().  The loop's first checks, token_match and the
     * special case at its top, are folded in: the special case of the
     * current string was checked before the loop and at the end of the
     * previous iteration; token_match only matters when there is neither
     * prefix nor suffix, so it is tried only then (at most once). */
    while (a < b && b - a != last) {
        uint32_t pcut, scut;
        if ((rc = find_prefix(s, text, a, b, &pcut)) ||
            (rc = find_suffix(s, text, a, b, &scut)))
            return -rc;
        if (pcut == a && scut == b && token_match(s, text, a, b))
            break;
        last = b - a;
        if (pcut != a && pcut < b && is_special(s, text, pcut, b)) {
            if ((rc = aff_push(&s->pre, &s->npre, &s->precap, a, pcut)))
                return rc;
            a = pcut;
            has_special = 1;
            break;
        }
        if (scut != b && scut > a && is_special(s, text, a, scut)) {
            if ((rc = aff_push(&s->suf, &s->nsuf, &s->sufcap, scut, b)))
                return rc;
            b = scut;
            has_special = 1;
            break;
        }
        /* (pre_len + suf_len) <= len(string): the affixes do not overlap */
        if (pcut != a && scut != b && pcut <= scut) {
            if ((rc = aff_push(&s->pre, &s->npre, &s->precap, a, pcut)) ||
                (rc = aff_push(&s->suf, &s->nsuf, &s->sufcap, scut, b)))
                return rc;
            a = pcut;
            b = scut;
        } else if (pcut != a) {
            if ((rc = aff_push(&s->pre, &s->npre, &s->precap, a, pcut)))
                return rc;
            a = pcut;
        } else if (scut != b) {
            if ((rc = aff_push(&s->suf, &s->nsuf, &s->sufcap, scut, b)))
                return rc;
            b = scut;
        }
        if (a < b && is_special(s, text, a, b)) {
            has_special = 1;
            break;
        }
    }
    /* _attach_tokens() */
    for (size_t i = 0; i < s->npre; i++)
        if ((rc = push(s, s->pre[i].a, s->pre[i].b, NULL, 0)))
            return rc;
    if (a < b) {
        if (has_special || is_special(s, text, a, b))
            rc = push_special(s, text, a, b);
        else if (token_match(s, text, a, b))
            rc = push(s, a, b, NULL, 0);
        else
            rc = split_infixes(s, text, a, b);
        if (rc)
            return rc;
    }
    for (size_t i = s->nsuf; i > 0; i--)
        if ((rc = push(s, s->suf[i - 1].a, s->suf[i - 1].b, NULL, 0)))
            return rc;
    return NER_OK;
}

/* Gives every token the NORM of the first token with the same ORTH, in
 * this text or, in pipe mode, in every text since tok_pipe(s, 1).  A text
 * with no special-case NORM changes nothing outside pipe mode. */
static int first_norms(tok_state *s, const char *text)
{
    size_t k = 0;
    if (!s->pipe) {
        while (k < s->n && !s->out[k].norm)
            k++;
        if (k == s->n)
            return NER_OK;
        uq_reset(&s->uq);
    }
    for (k = 0; k < s->n; k++) {
        tok_token *t = &s->out[k];
        int rc = uq_first(&s->uq, text + t->b0, t->b1 - t->b0, &t->norm, &t->norm_len);
        if (rc)
            return rc;
    }
    return NER_OK;
}

int tok_run(tok_state *s, const char *text, size_t len, const tok_token **toks,
            size_t *n)
{
    int rc = NER_OK;
    if (!s || !toks || !n || (!text && len))
        return NER_EINVAL;
    *toks = NULL;
    *n = 0;
    if (len > UINT32_MAX / 2)
        return NER_ETOOBIG;
    s->n = 0;
    if (len == 0)
        return NER_OK;
    /* __call__: spans of whitespace / non-whitespace; at each change, a
     * ' ' that starts a whitespace run is the previous token's trailing
     * space, not part of the run */
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
            in_ws = ws;
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
    if ((rc = first_norms(s, text)))
        return rc;
    *toks = s->out;
    *n = s->n;
    return NER_OK;
}

void tok_pipe(tok_state *s, int on)
{
    if (!s)
        return;
    s->pipe = on != 0;
    uq_reset(&s->uq);
}
