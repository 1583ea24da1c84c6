/*
 * Training data: the corpus (documents, labels, counts), the reader's
 * messages and label map, the document builder that turns gold spans into
 * BILUO tags over the model's tokens (spaCy's biluo_tags_from_offsets),
 * the entry points td_read_file/td_read_mem, and the checks a training run
 * makes (empty set, label cap, dev labels).  The formats themselves are
 * read in td_conll.c and td_json.c.
 */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "td_int.h"
#include "unicode.h"

#define MAX_MAP 256 /* FROM=TO pairs of a label map */

static const char *const ERRS[TD_ERR_COUNT] = {
    "success",
    "out of memory",
    "cannot open or read the file",
    "file too large",
    "malformed training data",
    "not a training file of this format",
    "no annotated document",
    "too many labels for a model",
    "label not in the model",
    "invalid argument",
};

const char *td_strerror(int err)
{
    return err >= 0 && err < TD_ERR_COUNT ? ERRS[err] : "unknown error";
}

static const char *const FMTS[TD_FMT_COUNT] = {"auto", "conll", "json", "spacy", "tuples",
                                               "spans", "text"};

int td_format_parse(const char *name)
{
    for (int i = 0; name && i < TD_FMT_COUNT; i++)
        if (!strcmp(name, FMTS[i]))
            return i;
    return -1;
}

const char *td_format_name(int fmt)
{
    return fmt >= 0 && fmt < TD_FMT_COUNT ? FMTS[fmt] : "?";
}

int td__grow(void *pp, size_t *cap, size_t n, size_t sz)
{
    if (n <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 16;
    while (nc < n)
        nc *= 2;
    if (nc > SIZE_MAX / sz)
        return TD_ENOMEM;
    void *q = realloc(*(void **)pp, nc * sz);
    if (!q)
        return TD_ENOMEM;
    *(void **)pp = q;
    *cap = nc;
    return 0;
}

/* ---------------------------------------------------------------------------
 * Messages
 */

static void vmsg(td__rd *r, int level, long line, const char *fmt, va_list ap)
{
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    if (r->o.on_msg)
        r->o.on_msg(r->o.ud, level, r->file, line, buf);
}

void td__err(td__rd *r, long line, const char *fmt, ...)
{
    if (r->abandoned)
        return;
    va_list ap;
    va_start(ap, fmt);
    vmsg(r, TD_ERROR, line, fmt, ap);
    va_end(ap);
    if (++r->errors >= TD_MAX_ERRORS) {
        r->abandoned = 1;
        if (r->o.on_msg)
            r->o.on_msg(r->o.ud, TD_ERROR, r->file, 0,
                        "too many errors: the rest of the file is not read");
    }
}

void td__warn(td__rd *r, long line, const char *fmt, ...)
{
    unsigned max = r->o.max_warnings ? r->o.max_warnings : 5;
    if (r->warnings++ >= max)
        return;
    va_list ap;
    va_start(ap, fmt);
    vmsg(r, TD_WARNING, line, fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------------------------
 * Labels and the label map
 */

int td__label_ok(const char *s, size_t n)
{
    if (!n || n > TD_MAX_LABEL || !uni_valid(s, n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

int td__label(td__rd *r, const char *s, size_t n, long line)
{
    if (!td__label_ok(s, n)) {
        td__err(r, line, "bad label \"%.*s\" (1 to %d bytes, no blank or control character)",
                (int)(n > 80 ? 80 : n), s, TD_MAX_LABEL);
        return -1;
    }
    char name[TD_MAX_LABEL + 1];
    memcpy(name, s, n);
    name[n] = 0;
    for (size_t i = 0; i < r->n_map; i++)
        if (!strcmp(r->map[i].from, name)) {
            if (!r->map[i].to[0])
                return TD__DROP;
            if (!strcmp(r->map[i].to, "-"))
                return TD__MISS;
            strcpy(name, r->map[i].to);
            break;
        }
    td_corpus *c = r->c;
    for (int i = 0; i < c->n_labels; i++)
        if (!strcmp(c->labels[i].name, name))
            return i;
    if (c->n_labels >= TD_MAX_LABELS) {
        td__err(r, line, "more than %d labels (\"%s\")", TD_MAX_LABELS, name);
        return -1;
    }
    td__lab *l = &c->labels[c->n_labels];
    if (!(l->name = strdup(name)))
        return TD__NOMEM;
    l->spans = l->tokens = 0;
    l->file = r->file_idx;
    l->line = line;
    return c->n_labels++;
}

/* Parses "FROM=TO,..." into r->map.  0, -1 (reported) or TD_ENOMEM. */
static int parse_map(td__rd *r, const char *spec)
{
    while (spec && *spec) {
        const char *end = strchr(spec, ','), *eq;
        size_t n = end ? (size_t)(end - spec) : strlen(spec);
        eq = memchr(spec, '=', n);
        size_t fn = eq ? (size_t)(eq - spec) : 0, tn = eq ? n - fn - 1 : 0;
        const char *to = eq ? eq + 1 : NULL;
        int to_ok = eq && (tn == 0 || (tn == 1 && *to == '-') || td__label_ok(to, tn));
        if (!eq || !td__label_ok(spec, fn) || !to_ok) {
            if (r->o.on_msg) {
                char buf[200];
                snprintf(buf, sizeof buf,
                         "bad label map item \"%.*s\" (want FROM=TO, FROM= or FROM=-)",
                         (int)(n > 100 ? 100 : n), spec);
                r->o.on_msg(r->o.ud, TD_ERROR, r->file, 0, buf);
            }
            return -1;
        }
        if (r->n_map >= MAX_MAP) {
            if (r->o.on_msg)
                r->o.on_msg(r->o.ud, TD_ERROR, r->file, 0, "label map: too many items");
            return -1;
        }
        size_t cap = r->n_map;
        if (td__grow(&r->map, &cap, r->n_map + 1, sizeof *r->map))
            return TD_ENOMEM;
        td__map *m = &r->map[r->n_map++];
        memcpy(m->from, spec, fn);
        m->from[fn] = 0;
        memcpy(m->to, to, tn);
        m->to[tn] = 0;
        spec = end ? end + 1 : NULL;
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * The document builder
 */

void td__doc_reset(td__rd *r)
{
    td__doc *d = &r->d;
    d->len = d->n_spans = d->n_miss = d->n_words = 0;
    d->n_sents = 0;
    d->unannotated = 0;
    d->line = 0;
    if (d->text)
        d->text[0] = 0;
}

int td__doc_text(td__rd *r, const char *s, size_t n)
{
    td__doc *d = &r->d;
    if (n > TD_MAX_DOC - d->len) {
        td__err(r, d->line, "document text over %zu bytes", TD_MAX_DOC);
        return -1;
    }
    if (td__grow(&d->text, &d->cap, d->len + n + 1, 1))
        return TD_ENOMEM;
    memcpy(d->text + d->len, s, n);
    d->len += n;
    d->text[d->len] = 0;
    return 0;
}

static int add_range(td__rd *r, ner_span **arr, size_t *n, size_t *cap, size_t b0, size_t b1,
                     int label)
{
    if (*n >= TD_MAX_WORDS) {
        td__err(r, r->d.line, "more than %d entities in one document", TD_MAX_WORDS);
        return -1;
    }
    if (td__grow(arr, cap, *n + 1, sizeof **arr))
        return TD_ENOMEM;
    ner_span *s = &(*arr)[(*n)++];
    memset(s, 0, sizeof *s);
    s->byte_start = (uint32_t)b0;
    s->byte_end = (uint32_t)b1;
    s->label = label;
    return 0;
}

int td__doc_span(td__rd *r, size_t b0, size_t b1, int label)
{
    td__doc *d = &r->d;
    if (label == TD__DROP) {
        r->c->st.dropped++;
        return 0;
    }
    if (label == TD__MISS)
        return td__doc_miss(r, b0, b1);
    return add_range(r, &d->spans, &d->n_spans, &d->cap_spans, b0, b1, label);
}

int td__doc_miss(td__rd *r, size_t b0, size_t b1)
{
    td__doc *d = &r->d;
    return add_range(r, &d->miss, &d->n_miss, &d->cap_miss, b0, b1, -1);
}

static int span_cmp(const void *a, const void *b)
{
    const ner_span *x = a, *y = b;
    if (x->byte_start != y->byte_start)
        return x->byte_start < y->byte_start ? -1 : 1;
    if (x->byte_end != y->byte_end)
        return x->byte_end < y->byte_end ? -1 : 1;
    return (x->label > y->label) - (x->label < y->label);
}

/* Sets the code point offsets of sorted, disjoint byte spans. */
static void set_cps(const char *t, size_t len, ner_span *s, size_t n)
{
    size_t b = 0;
    uint32_t cp = 0;
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < 2; k++) {
            size_t to = k ? s[i].byte_end : s[i].byte_start;
            for (; b < to && b < len; b++)
                cp += ((unsigned char)t[b] & 0xc0) != 0x80;
            if (k)
                s[i].end = cp;
            else
                s[i].start = cp;
        }
    }
}

/* First index in tok[lo..nt) whose byte_start (end: byte_end) is >= v. */
static size_t tok_bound(const ner_span *tok, size_t lo, size_t nt, uint32_t v, int end)
{
    size_t hi = nt;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((end ? tok[mid].byte_end : tok[mid].byte_start) < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* spaCy's biluo_tags_from_offsets over the model's tokens: aligned spans
 * get U or B I... L, tokens outside every span and missing range O, the
 * rest missing.  Spans sorted and disjoint; missing ranges sorted.  Sets
 * al[k] to 1 for an aligned span, 0 for a misaligned one, and returns the
 * number of misaligned spans. */
static uint32_t biluo(const ner_span *tok, size_t nt, const ner_span *sp, size_t ns,
                      const ner_span *miss, size_t nm, td_tag *tags, unsigned char *al)
{
    uint32_t bad = 0;
    for (size_t t = 0; t < nt; t++) {
        tags[t].move = TD_MISSING;
        tags[t].label = -1;
    }
    for (size_t k = 0; k < ns; k++) {
        size_t i = tok_bound(tok, 0, nt, sp[k].byte_start, 0);
        size_t j = i < nt ? tok_bound(tok, i, nt, sp[k].byte_end, 1) : nt;
        al[k] = i < nt && j < nt && tok[i].byte_start == sp[k].byte_start &&
                tok[j].byte_end == sp[k].byte_end;
        if (!al[k]) {
            bad++;
            continue;
        }
        for (size_t t = i; t <= j; t++) {
            tags[t].move = i == j ? TD_U : t == i ? TD_B : t == j ? TD_L : TD_I;
            tags[t].label = (int16_t)sp[k].label;
        }
    }
    size_t p = 0, q = 0;
    for (size_t t = 0; t < nt; t++) {
        if (tags[t].move != TD_MISSING)
            continue;
        uint32_t a = tok[t].byte_start, b = tok[t].byte_end;
        while (p < ns && sp[p].byte_end <= a)
            p++;
        while (q < nm && miss[q].byte_end <= a)
            q++;
        if ((p < ns && sp[p].byte_start < b) || (q < nm && miss[q].byte_start < b))
            continue;
        tags[t].move = TD_O;
    }
    return bad;
}

/* Stores the finished document (with tokens and tags when tokenized). */
static int store(td__rd *r, int tokenized, const ner_span *tok, size_t nt, unsigned char *al)
{
    td__doc *d = &r->d;
    td_corpus *c = r->c;
    if (c->n_docs >= TD_MAX_DOCS) {
        td__err(r, d->line, "more than %d documents", TD_MAX_DOCS);
        return 0;
    }
    if (td__grow(&c->docs, &c->cap_docs, c->n_docs + 1, sizeof *c->docs))
        return TD_ENOMEM;
    size_t sz = sizeof(td_doc) + (nt + d->n_spans) * sizeof(ner_span) +
                nt * sizeof(td_tag) + d->len + 1;
    td_doc *doc = malloc(sz);
    if (!doc)
        return TD_ENOMEM;
    ner_span *tokens = (ner_span *)(doc + 1), *spans = tokens + nt;
    td_tag *tags = (td_tag *)(spans + d->n_spans);
    char *text = (char *)(tags + nt);
    memcpy(text, d->text ? d->text : "", d->len);
    text[d->len] = 0;
    if (nt)
        memcpy(tokens, tok, nt * sizeof *tokens);
    if (d->n_spans)
        memcpy(spans, d->spans, d->n_spans * sizeof *spans);
    doc->text = text;
    doc->len = d->len;
    doc->n_tokens = nt;
    doc->tokens = tokens;
    doc->tags = tokenized ? tags : NULL;
    doc->n_spans = d->n_spans;
    doc->spans = spans;
    doc->n_words = d->n_words;
    doc->n_misaligned = 0;
    doc->file = r->file_idx;
    doc->line = d->line;
    if (tokenized) {
        if (d->unannotated)
            for (size_t t = 0; t < nt; t++) {
                tags[t].move = TD_MISSING;
                tags[t].label = -1;
            }
        else
            doc->n_misaligned = biluo(tok, nt, spans, d->n_spans, d->miss, d->n_miss, tags, al);
        for (size_t t = 0; t < nt; t++) {
            if (tags[t].move == TD_MISSING)
                c->st.missing++;
            else if (tags[t].move != TD_O)
                c->labels[tags[t].label].tokens++;
        }
        for (size_t k = 0; k < d->n_spans && !d->unannotated; k++)
            if (!al[k]) {
                const ner_span *s = &spans[k];
                td__warn(r, d->line,
                         "entity [%u,%u) %s \"%.*s\" does not align with the model's tokens: "
                         "its tokens are missing ('-')",
                         s->start, s->end, c->labels[s->label].name,
                         (int)(s->byte_end - s->byte_start > 60 ? 60
                                                                : s->byte_end - s->byte_start),
                         text + s->byte_start);
            }
    }
    for (size_t k = 0; k < d->n_spans; k++)
        c->labels[spans[k].label].spans++;
    c->docs[c->n_docs++] = doc;
    c->st.docs++;
    c->st.words += d->n_words;
    c->st.tokens += nt;
    c->st.spans += d->n_spans;
    c->st.misaligned += doc->n_misaligned;
    c->st.unannotated += d->unannotated;
    return 0;
}

int td__doc_finish(td__rd *r)
{
    td__doc *d = &r->d;
    td_corpus *c = r->c;
    int rc = 0;
    if (r->abandoned)
        goto out;
    if (d->n_spans)
        qsort(d->spans, d->n_spans, sizeof *d->spans, span_cmp);
    if (d->n_miss)
        qsort(d->miss, d->n_miss, sizeof *d->miss, span_cmp);
    size_t k = 0;
    for (size_t i = 0; i < d->n_spans; i++) {
        ner_span *s = &d->spans[i];
        if (s->byte_end > d->len || s->byte_start >= s->byte_end) {
            td__err(r, d->line, "entity outside the text or empty");
            goto out;
        }
        if (k && s->byte_start == d->spans[k - 1].byte_start &&
            s->byte_end == d->spans[k - 1].byte_end && s->label == d->spans[k - 1].label) {
            c->st.duplicates++;
            continue;
        }
        if (k && s->byte_start < d->spans[k - 1].byte_end) {
            const ner_span *p = &d->spans[k - 1];
            td__err(r, d->line,
                    "overlapping entities [%zu,%zu) %s and [%zu,%zu) %s (spaCy refuses them "
                    "too, E103)",
                    uni_count(d->text, p->byte_start), uni_count(d->text, p->byte_end),
                    c->labels[p->label].name, uni_count(d->text, s->byte_start),
                    uni_count(d->text, s->byte_end), c->labels[s->label].name);
            goto out;
        }
        d->spans[k++] = *s;
    }
    d->n_spans = k;
    set_cps(d->text, d->len, d->spans, d->n_spans);
    if (!r->ctx) {
        rc = store(r, 0, NULL, 0, NULL);
        goto out;
    }
    ner_doc nd;
    int e = ner_tokenize(r->ctx, d->text ? d->text : "", d->len, &nd);
    if (e) {
        td__err(r, d->line, "the model's tokenizer refuses the text: %s", ner_strerror(e));
        goto out;
    }
    unsigned char *al = malloc(d->n_spans + 1);
    if (!al) {
        rc = TD_ENOMEM;
        goto out;
    }
    rc = store(r, 1, nd.tokens, nd.n_tokens, al);
    free(al);
out:
    td__doc_reset(r);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Corpus and entry points
 */

int td_corpus_new(td_corpus **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? TD_OK : TD_ENOMEM;
}

void td_corpus_free(td_corpus *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_docs; i++)
        free(c->docs[i]);
    free(c->docs);
    for (int i = 0; i < c->n_labels; i++)
        free(c->labels[i].name);
    for (uint32_t i = 0; i < c->n_files; i++)
        free(c->files[i]);
    free(c->files);
    free(c);
}

static int add_file(td_corpus *c, const char *name, uint32_t *idx)
{
    size_t cap = c->cap_files;
    if (c->n_files == UINT32_MAX)
        return TD_ETOOBIG;
    if (td__grow(&c->files, &cap, (size_t)c->n_files + 1, sizeof *c->files))
        return TD_ENOMEM;
    c->cap_files = (uint32_t)(cap > UINT32_MAX ? UINT32_MAX : cap);
    if (!(c->files[c->n_files] = strdup(name ? name : "-")))
        return TD_ENOMEM;
    *idx = c->n_files++;
    return 0;
}

int td_read_mem(td_corpus *c, const char *name, const char *buf, size_t len,
                const td_opts *o, ner_ctx *ctx)
{
    td__rd r;
    memset(&r, 0, sizeof r);
    r.c = c;
    if (o)
        r.o = *o;
    r.ctx = ctx;
    if (!c || (!buf && len) || r.o.format < 0 || r.o.format >= TD_FMT_COUNT)
        return TD_EINVAL;
    int rc = add_file(c, name, &r.file_idx);
    if (rc)
        return rc;
    r.file = c->files[r.file_idx];
    size_t max = r.o.max_file ? r.o.max_file : TD_MAX_FILE;
    if (len > max) {
        if (r.o.on_msg) {
            char m[96];
            snprintf(m, sizeof m, "file over %zu bytes", max);
            r.o.on_msg(r.o.ud, TD_ERROR, r.file, 0, m);
        }
        return TD_ETOOBIG;
    }
    rc = parse_map(&r, r.o.label_map);
    if (rc) {
        free(r.map);
        return rc < 0 ? TD_EINVAL : rc;
    }
    if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) { /* a UTF-8 byte order mark */
        buf += 3;
        len -= 3;
    }
    int fmt = r.o.format;
    if (fmt == TD_FMT_AUTO)
        fmt = td__is_json(buf, len) ? TD_FMT_JSON : TD_FMT_CONLL;
    rc = fmt == TD_FMT_CONLL  ? td__read_conll(&r, buf, len)
         : fmt == TD_FMT_TEXT ? td__read_text(&r, buf, len)
                              : td__read_json(&r, buf, len, fmt);
    free(r.d.text);
    free(r.d.spans);
    free(r.d.miss);
    free(r.tmp);
    free(r.map);
    c->st.errors += r.errors;
    if (!rc && r.errors)
        rc = TD_ESYNTAX;
    return rc;
}

int td_read_file(td_corpus *c, const char *path, const td_opts *o, ner_ctx *ctx)
{
    size_t max = o && o->max_file ? o->max_file : TD_MAX_FILE;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (o && o->on_msg)
            o->on_msg(o->ud, TD_ERROR, path, 0, "cannot open");
        return TD_EIO;
    }
    size_t cap = 0, n = 0;
    char *buf = NULL;
    int rc = 0;
    for (;;) {
        if (td__grow(&buf, &cap, n + 65536, 1)) {
            rc = TD_ENOMEM;
            break;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n > max) {
            if (o && o->on_msg) {
                char m[96];
                snprintf(m, sizeof m, "file over %zu bytes", max);
                o->on_msg(o->ud, TD_ERROR, path, 0, m);
            }
            rc = TD_ETOOBIG;
            break;
        }
        if (got == 0) {
            if (ferror(f)) {
                if (o && o->on_msg)
                    o->on_msg(o->ud, TD_ERROR, path, 0, "read error");
                rc = TD_EIO;
            }
            break;
        }
    }
    fclose(f);
    if (!rc)
        rc = td_read_mem(c, path, buf, n, o, ctx);
    free(buf);
    return rc;
}

size_t td_ndocs(const td_corpus *c) { return c ? c->n_docs : 0; }

const td_doc *td_doc_at(const td_corpus *c, size_t i)
{
    return c && i < c->n_docs ? c->docs[i] : NULL;
}

const char *td_file(const td_corpus *c, uint32_t i)
{
    return c && i < c->n_files ? c->files[i] : "?";
}

int td_nlabels(const td_corpus *c) { return c ? c->n_labels : 0; }

const char *td_label(const td_corpus *c, int i)
{
    return c && i >= 0 && i < c->n_labels ? c->labels[i].name : NULL;
}

int td_label_find(const td_corpus *c, const char *name)
{
    for (int i = 0; c && name && i < c->n_labels; i++)
        if (!strcmp(c->labels[i].name, name))
            return i;
    return -1;
}

void td_label_stats(const td_corpus *c, int i, td_label_info *out)
{
    memset(out, 0, sizeof *out);
    if (!c || i < 0 || i >= c->n_labels)
        return;
    out->spans = c->labels[i].spans;
    out->tokens = c->labels[i].tokens;
    out->file = td_file(c, c->labels[i].file);
    out->line = c->labels[i].line;
}

void td_corpus_stats(const td_corpus *c, td_stats *out)
{
    if (c)
        *out = c->st;
    else
        memset(out, 0, sizeof *out);
}

/* ---------------------------------------------------------------------------
 * Checks
 */

int td_max_labels(void) { return (NN_NCLASS_MAX - 2) / 4; }

static int in_list(const char *s, const char *const *l, int n)
{
    for (int i = 0; i < n; i++)
        if (l[i] && !strcmp(l[i], s))
            return 1;
    return 0;
}

int td_new_labels(const td_corpus *c, const char *const *have, int n_have, int *out, int max)
{
    int k = 0;
    for (int i = 0; c && i < c->n_labels; i++)
        if (c->labels[i].spans && !in_list(c->labels[i].name, have, n_have)) {
            if (k < max && out)
                out[k] = i;
            k++;
        }
    return k;
}

/* Appends "A, B, C" (the names of idx[0..n), or of l[0..n)) to msg. */
static void list_names(char *msg, size_t len, const td_corpus *c, const int *idx,
                       const char *const *l, int n)
{
    size_t o = strlen(msg);
    for (int i = 0; i < n && o + 1 < len; i++) {
        const char *s = idx ? c->labels[idx[i]].name : l[i];
        int w = snprintf(msg + o, len - o, "%s%s", i ? ", " : "", s ? s : "?");
        if (w < 0)
            break;
        o += (size_t)w;
    }
}

static void setmsg(char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void setmsg(char *msg, size_t len, const char *fmt, ...)
{
    if (!len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
}

int td_check_train(const td_corpus *train, const char *const *base, int n_base, char *msg,
                   size_t msglen)
{
    size_t annotated = 0;
    for (size_t i = 0; train && i < train->n_docs; i++) {
        const td_doc *d = train->docs[i];
        if (!d->tags) {
            annotated += d->n_spans || d->n_words; /* read without tokens */
            continue;
        }
        for (size_t t = 0; t < d->n_tokens; t++)
            if (d->tags[t].move != TD_MISSING) {
                annotated++;
                break;
            }
    }
    if (!annotated) {
        setmsg(msg, msglen,
               "no annotated document in the training data (%zu documents, none with a "
               "tag other than missing)",
               train ? train->n_docs : 0);
        return TD_EEMPTY;
    }
    int nnew = td_new_labels(train, base, n_base, NULL, 0), max = td_max_labels();
    if (n_base + nnew > max) {
        int idx[TD_MAX_LABELS];
        td_new_labels(train, base, n_base, idx, TD_MAX_LABELS);
        setmsg(msg, msglen, "%d labels: %d of the base model and %d new (", n_base + nnew,
               n_base, nnew);
        list_names(msg, msglen, train, idx, NULL, nnew);
        size_t o = strlen(msg);
        if (o + 1 < msglen)
            snprintf(msg + o, msglen - o, "); a model holds at most %d", max);
        return TD_ELABELS;
    }
    return TD_OK;
}

int td_check_dev(const td_corpus *dev, const char *const *labels, int n, char *msg,
                 size_t msglen)
{
    for (int i = 0; dev && i < dev->n_labels; i++) {
        const td__lab *l = &dev->labels[i];
        if (!l->spans || in_list(l->name, labels, n))
            continue;
        setmsg(msg, msglen, "label %s (%s:%ld) is not one the model has (", l->name,
               td_file(dev, l->file), l->line);
        list_names(msg, msglen, NULL, NULL, labels, n);
        size_t o = strlen(msg);
        if (o + 1 < msglen)
            snprintf(msg + o, msglen - o, ")");
        return TD_EUNKNOWN;
    }
    return TD_OK;
}
