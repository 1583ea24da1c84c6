/*
 * CoNLL/IOB training files, and the word-sequence layout they share with
 * spaCy's JSON format (td__words_add).
 *
 * A row is "word ... TAG" (fields split by tabs when the line has one,
 * else by spaces; word first, tag last), or, in a file whose first row is
 * "1<TAB>word<TAB>TAG...", a CoNLL-U-like "id<TAB>word<TAB>TAG..." row
 * (UNER; "1-2" ranges and "1.1" empty nodes skipped).  Four fields
 * "word start end TAG" whose numbers are the word's code point offsets
 * (AnEM) give the text its spacing back.  A blank line ends a sentence;
 * -DOCSTART- and "# newdoc" end a document; "# text = ..." is the
 * sentence's raw text; other lines starting with '#' are comments unless
 * their last field is a tag (a row of "#", "#hashtag"...) outside the
 * CoNLL-U-like layout.  Tags: IOB1, IOB2, BILOU, BIOES, '-'.
 * A malformed row is reported with its line and its sentence left out.
 */
#include <stdlib.h>
#include <string.h>

#include "td_int.h"
#include "unicode.h"

#define MAX_FIELDS 32

enum { LAYOUT_UNKNOWN, LAYOUT_CONLLU, LAYOUT_PLAIN };

int td__tag(const char *s, size_t n, char *move, const char **lab, size_t *lab_n)
{
    *lab = NULL;
    *lab_n = 0;
    if (n == 1 && (s[0] == 'O' || s[0] == '-')) {
        *move = s[0];
        return 0;
    }
    if (n >= 3 && s[1] == '-' && s[0] && strchr("BILUES", s[0])) {
        *move = s[0] == 'E' ? 'L' : s[0] == 'S' ? 'U' : s[0];
        *lab = s + 2;
        *lab_n = n - 2;
        return 0;
    }
    return -1;
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

int td__runs(td__rd *r, const td__word *w, size_t n, td__run **out, size_t *nr)
{
    size_t cap = 0, k = 0, open = SIZE_MAX, last = 0, mopen = SIZE_MAX;
    td__run *rs = NULL;
    int rc = 0;
#define EMIT(a, b, l)                                                \
    do {                                                             \
        if (td__grow(&rs, &cap, k + 1, sizeof *rs)) {                \
            rc = TD_ENOMEM;                                          \
            goto out;                                                \
        }                                                            \
        rs[k].i0 = (a);                                              \
        rs[k].i1 = (b);                                              \
        rs[k++].label = (l);                                         \
    } while (0)
#define CLOSE()                                                      \
    do {                                                             \
        if (open != SIZE_MAX) {                                      \
            int l_ = td__label(r, w[open].lab, w[open].lab_n, w[open].line); \
            if (l_ == TD__NOMEM) {                                   \
                rc = TD_ENOMEM;                                      \
                goto out;                                            \
            }                                                        \
            if (l_ == -1) {                                          \
                rc = -1;                                             \
                goto out;                                            \
            }                                                        \
            EMIT(open, last, l_);                                    \
            open = SIZE_MAX;                                         \
        }                                                            \
    } while (0)
    for (size_t i = 0; i <= n; i++) {
        char m = i < n ? w[i].move : 'O';
        if (mopen != SIZE_MAX && (m != '-' || (i < n && w[i].sent_start))) {
            EMIT(mopen, i - 1, TD__MISS);
            mopen = SIZE_MAX;
        }
        if (i < n && w[i].sent_start)
            CLOSE();
        int same = i < n && open != SIZE_MAX && w[open].lab_n == w[i].lab_n &&
                   !memcmp(w[open].lab, w[i].lab, w[i].lab_n);
        switch (m) {
        case 'B':
            CLOSE();
            open = last = i;
            break;
        case 'I':
            if (same) {
                last = i;
            } else {
                CLOSE();
                open = last = i;
            }
            break;
        case 'L':
            if (!same) {
                CLOSE();
                open = i;
            }
            last = i;
            CLOSE();
            break;
        case 'U':
            CLOSE();
            open = last = i;
            CLOSE();
            break;
        case '-':
            CLOSE();
            if (mopen == SIZE_MAX)
                mopen = i;
            break;
        default:
            CLOSE();
        }
    }
#undef CLOSE
#undef EMIT
out:
    if (rc) {
        free(rs);
        rs = NULL;
        k = 0;
    }
    *out = rs;
    *nr = k;
    return rc;
}

/* Do all words carry offsets that fit them ("word start end TAG")? */
static int offsets_fit(const td__word *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (w[i].off0 < 0 || w[i].off1 < w[i].off0 ||
            (size_t)(w[i].off1 - w[i].off0) != uni_count(w[i].w, w[i].n) ||
            (i && w[i].off0 < w[i - 1].off1))
            return 0;
    }
    return n > 0;
}

int td__words_add(td__rd *r, const td__word *w, size_t n, const char *raw, size_t raw_n,
                  const char *raw_what)
{
    td__doc *d = &r->d;
    td__run *rs = NULL;
    size_t nr = 0;
    int rc = 0;
    if (td__grow(&r->tmp, &r->tmp_cap, n + 1, sizeof *r->tmp))
        return TD_ENOMEM;
    ner_span *pos = r->tmp; /* byte_start/byte_end of each word, relative */
    if (raw) {
        size_t cur = 0;
        for (size_t i = 0; i < n; i++) {
            size_t b = 0;
            while (b < w[i].n && is_blank(w[i].w[b]))
                b++;
            if (b == w[i].n && (raw_n - cur < w[i].n || memcmp(raw + cur, w[i].w, w[i].n))) {
                pos[i].byte_start = pos[i].byte_end = (uint32_t)cur; /* a blank word */
                continue;
            }
            while (b < w[i].n && cur < raw_n && is_blank(raw[cur]))
                cur++;
            if (raw_n - cur < w[i].n || memcmp(raw + cur, w[i].w, w[i].n)) {
                td__err(r, w[i].line, "word not found in %s: %.*s", raw_what,
                        (int)(w[i].n > 80 ? 80 : w[i].n), w[i].w);
                return -1;
            }
            pos[i].byte_start = (uint32_t)cur;
            pos[i].byte_end = (uint32_t)(cur + w[i].n);
            cur += w[i].n;
        }
    }
    if ((rc = td__runs(r, w, n, &rs, &nr)))
        return rc;
    size_t start = d->len + (d->len ? 1 : 0);
    if (d->len && (rc = td__doc_text(r, " ", 1)))
        goto out;
    if (raw) {
        if ((rc = td__doc_text(r, raw, raw_n)))
            goto out;
    } else {
        int offs = offsets_fit(w, n);
        for (size_t i = 0; i < n; i++) {
            if (i && (!offs || w[i].off0 > w[i - 1].off1) && (rc = td__doc_text(r, " ", 1)))
                goto out;
            pos[i].byte_start = (uint32_t)(d->len - start);
            if ((rc = td__doc_text(r, w[i].w, w[i].n)))
                goto out;
            pos[i].byte_end = (uint32_t)(d->len - start);
        }
    }
    for (size_t k = 0; k < nr && !rc; k++)
        rc = td__doc_span(r, start + pos[rs[k].i0].byte_start, start + pos[rs[k].i1].byte_end,
                          rs[k].label);
out:
    free(rs);
    if (rc < 0)
        td__doc_reset(r); /* a document over its caps: left out */
    return rc;
}

/* ---------------------------------------------------------------------------
 * The CoNLL reader
 */

typedef struct field {
    const char *p;
    size_t n;
} field;

/* Splits line[0..n) by tabs (if it has one) or spaces; runs of separators
 * count as one.  Returns the number of fields, or -1 past MAX_FIELDS. */
static int split(const char *line, size_t n, field *f, int *tabs)
{
    char sep = memchr(line, '\t', n) ? '\t' : ' ';
    int nf = 0;
    *tabs = sep == '\t';
    for (size_t i = 0; i < n;) {
        while (i < n && line[i] == sep)
            i++;
        if (i >= n)
            break;
        size_t j = i;
        while (j < n && line[j] != sep)
            j++;
        if (nf == MAX_FIELDS)
            return -1;
        f[nf].p = line + i;
        f[nf++].n = j - i;
        i = j;
    }
    return nf;
}

static int is_tag(const field *f)
{
    char m;
    const char *l;
    size_t ln;
    return !td__tag(f->p, f->n, &m, &l, &ln);
}

/* CoNLL-U row id: 1 for "7", 2 for "1-2" or "1.1", 0 otherwise. */
static int conllu_id(const field *f)
{
    size_t d = 0;
    while (d < f->n && f->p[d] >= '0' && f->p[d] <= '9')
        d++;
    if (!d)
        return 0;
    if (d == f->n)
        return 1;
    if ((f->p[d] != '-' && f->p[d] != '.') || d + 1 == f->n)
        return 0;
    for (size_t i = d + 1; i < f->n; i++)
        if (f->p[i] < '0' || f->p[i] > '9')
            return 0;
    return 2;
}

/* A non-negative integer of at most 10 digits, or -1. */
static long number(const field *f)
{
    if (!f->n || f->n > 10)
        return -1;
    long v = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (f->p[i] < '0' || f->p[i] > '9')
            return -1;
        v = v * 10 + (f->p[i] - '0');
    }
    return v;
}

typedef struct csent {
    td__word *w;
    size_t n, cap;
    const char *raw;
    size_t raw_n;
    int bad;
    long first_line;
} csent;

/* Ends the sentence being read; a document ends after it on doc_break or
 * when it has its sentences. */
static int sent_end(td__rd *r, csent *s, int doc_break)
{
    unsigned spd = r->o.sents_per_doc ? r->o.sents_per_doc : 1;
    int rc = 0;
    if (s->n && !s->bad) {
        if (!r->d.n_sents)
            r->d.line = s->first_line;
        rc = td__words_add(r, s->w, s->n, s->raw, s->raw_n, "the \"# text =\" line");
        if (!rc) {
            r->d.n_sents++;
            r->d.n_words += s->n;
        }
    }
    s->n = 0;
    s->raw = NULL;
    s->raw_n = 0;
    s->bad = 0;
    s->first_line = 0;
    if (rc > 0)
        return rc;
    if (r->d.n_sents && (doc_break || r->d.n_sents >= spd))
        return td__doc_finish(r);
    return 0;
}

/* Reads one row into the sentence. */
static int row(td__rd *r, csent *s, const char *line, size_t n, long lineno, int *layout)
{
    field f[MAX_FIELDS];
    int tabs, nf = split(line, n, f, &tabs);
    if (nf < 0) {
        td__err(r, lineno, "more than %d columns", MAX_FIELDS);
        s->bad = 1;
        return 0;
    }
    if (line[0] == '#' && (*layout == LAYOUT_CONLLU || nf < 2 || !is_tag(&f[nf - 1])))
        return 0; /* a comment, not a row of a word starting with '#' */
    if (*layout == LAYOUT_UNKNOWN)
        *layout = tabs && nf >= 3 && conllu_id(&f[0]) && (conllu_id(&f[0]) == 2 || is_tag(&f[2]))
                      ? LAYOUT_CONLLU
                      : LAYOUT_PLAIN;
    if (!s->first_line)
        s->first_line = lineno;
    const field *word, *tag;
    long off0 = -1, off1 = -1;
    if (*layout == LAYOUT_CONLLU) {
        int id = nf >= 3 ? conllu_id(&f[0]) : 0;
        if (id == 2)
            return 0; /* multiword range or empty node */
        if (!id) {
            td__err(r, lineno, "expected \"id<TAB>word<TAB>TAG\" as the file's first row: %.*s",
                    (int)(n > 80 ? 80 : n), line);
            s->bad = 1;
            return 0;
        }
        word = &f[1];
        tag = &f[2];
    } else {
        if (nf < 2) {
            td__err(r, lineno, "expected \"word TAG\" or \"id<TAB>word<TAB>TAG\": %.*s",
                    (int)(n > 80 ? 80 : n), line);
            s->bad = 1;
            return 0;
        }
        word = &f[0];
        tag = &f[nf - 1];
        if (nf == 4 && (off0 = number(&f[1])) >= 0 && (off1 = number(&f[2])) < 0)
            off0 = -1;
    }
    char move;
    const char *lab;
    size_t lab_n;
    if (td__tag(tag->p, tag->n, &move, &lab, &lab_n)) {
        td__err(r, lineno, "not an IOB tag (O, B-X, I-X, L-X, U-X, E-X, S-X, -): %.*s",
                (int)(tag->n > 80 ? 80 : tag->n), tag->p);
        s->bad = 1;
        return 0;
    }
    if (s->n >= TD_MAX_WORDS) {
        if (!s->bad)
            td__err(r, lineno, "sentence too long (over %d words)", TD_MAX_WORDS);
        s->bad = 1;
        return 0;
    }
    if (td__grow(&s->w, &s->cap, s->n + 1, sizeof *s->w))
        return TD_ENOMEM;
    td__word *w = &s->w[s->n++];
    w->w = word->p;
    w->n = word->n;
    w->lab = lab;
    w->lab_n = lab_n;
    w->line = lineno;
    w->off0 = off0;
    w->off1 = off1;
    w->move = move;
    w->sent_start = s->n == 1;
    return 0;
}

static int prefix(const char *s, size_t n, const char *p)
{
    size_t l = strlen(p);
    return n >= l && !memcmp(s, p, l);
}

int td__read_conll(td__rd *r, const char *buf, size_t len)
{
    csent s;
    memset(&s, 0, sizeof s);
    int layout = LAYOUT_UNKNOWN, rc = 0;
    long lineno = 0;
    size_t pos = 0;
    td__doc_reset(r);
    while (pos < len && !r->abandoned && !rc) {
        const char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + 1;
        lineno++;
        if (n && line[n - 1] == '\r')
            n--;
        if (n > TD_MAX_LINE) {
            td__err(r, lineno, "line too long (over %zu bytes)", TD_MAX_LINE);
            s.bad = 1;
            continue;
        }
        if (memchr(line, 0, n)) {
            td__err(r, lineno, "NUL byte in line");
            s.bad = 1;
            continue;
        }
        if (!uni_valid(line, n)) {
            td__err(r, lineno, "invalid UTF-8");
            s.bad = 1;
            continue;
        }
        size_t b = 0;
        while (b < n && (line[b] == ' ' || line[b] == '\t'))
            b++;
        if (b == n) {
            rc = sent_end(r, &s, 0);
        } else if (prefix(line, n, "-DOCSTART-") || prefix(line, n, "# newdoc")) {
            rc = sent_end(r, &s, 1);
        } else if (prefix(line, n, "# text = ") || prefix(line, n, "# text=")) {
            size_t k = line[6] == '=' ? 7 : 9;
            s.raw = line + k;
            s.raw_n = n - k;
        } else {
            rc = row(r, &s, line, n, lineno, &layout);
        }
    }
    if (!rc && !r->abandoned)
        rc = sent_end(r, &s, 1);
    free(s.w);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Units of a CoNLL file (td_units)
 */

int td__units_conll(const char *buf, size_t len, int by_doc, td_unit **out, size_t *n)
{
    td_unit *u = NULL;
    size_t cap = 0, k = 0, pos = 0;
    long lineno = 0;
    int open = 0; /* a unit is open */
    *out = NULL;
    *n = 0;
    while (pos < len) {
        const char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
        size_t ln = nl ? (size_t)(nl - line) : len - pos, start = pos;
        pos += ln + (nl ? 1 : 0);
        lineno++;
        size_t b = 0;
        while (b < ln && (line[b] == ' ' || line[b] == '\t' || line[b] == '\r'))
            b++;
        int blank = b == ln;
        int docstart = prefix(line, ln, "-DOCSTART-"), newdoc = prefix(line, ln, "# newdoc");
        if (by_doc ? docstart || newdoc : blank || docstart) {
            open = 0;
            if (!by_doc)
                continue;
        }
        if (blank)
            continue; /* inside a document unit: kept by the next line's extent */
        if (!by_doc && newdoc && !open)
            continue; /* the document mark of a sentence: dropped with the split */
        if (!open) {
            td_unit one = {start, 0, lineno};
            int rc = td__unit_add(&u, &cap, &k, &one);
            if (rc)
                return rc;
            open = 1;
        }
        u[k - 1].len = pos - u[k - 1].off;
    }
    *out = u;
    *n = k;
    return 0;
}
