/*
 * JSON training files (jansson): a stream of records (JSON lines, or any
 * whitespace between values), or the elements of one top-level array.
 * Each record is recognised by its shape:
 *   {"paragraphs": [...]}            spaCy v2's JSON training format: one
 *                                    document per paragraph, its "raw" text
 *                                    or its tokens' "orth" joined by spaces,
 *                                    tags from each token's "ner" ('-' if none)
 *   ["text", {"entities": [...]}]    spaCy's tuples: [start, end, "LABEL"]
 *                                    spans, or one BILUO tag per model token;
 *                                    no "entities" key: no NER annotation
 *   {"text": ..., "spans"|"label"|"labels"|"entities": [...]}
 *                                    Prodigy, doccano, Label Studio JSON-MIN:
 *                                    [start, end, "LABEL"] or {"start"|
 *                                    "start_offset", "end"|"end_offset",
 *                                    "label" | "labels": ["LABEL"], "text"?};
 *                                    an "answer" other than "accept" skips it
 *   {"data": {"text"}, "annotations": [{"result": [{"value": {"start",
 *    "end", "labels", "text"?}}]}]}   Label Studio tasks (first annotation
 *                                    not cancelled; none: skipped)
 * Offsets count code points (Python's str); when a span carries its text
 * and that text is found at the offsets only when they count UTF-16 code
 * units (JavaScript's, as Label Studio's may), those are used.  A record
 * that breaks the JSON syntax is reported with its line; in a stream the
 * next line is read on, in an array the rest is lost.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "td_int.h"

#define JFLAGS (JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES)

static int ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Iterator over the records of a JSON file. */
typedef struct jit {
    const char *buf;
    size_t len, pos, count;
    long line;
    int array, done;
} jit;

static void skip_ws(jit *it)
{
    while (it->pos < it->len && ws(it->buf[it->pos]))
        it->line += it->buf[it->pos++] == '\n';
}

static void advance(jit *it, size_t to)
{
    for (; it->pos < to && it->pos < it->len; it->pos++)
        it->line += it->buf[it->pos] == '\n';
}

static void jit_init(jit *it, const char *buf, size_t len)
{
    memset(it, 0, sizeof *it);
    it->buf = buf;
    it->len = len;
    it->line = 1;
    skip_ws(it);
    if (it->pos < len && buf[it->pos] == '[') {
        size_t q = it->pos + 1;
        while (q < len && ws(buf[q]))
            q++;
        if (q >= len || buf[q] != '"') { /* not a ["text", {...}] line: an array of records */
            it->array = 1;
            it->pos++;
        }
    }
}

/* The next record: 1 (*v, *u set), 0 at the end, -1 on a syntax error
 * (err, *eline set; the iterator has moved past it or is done). */
static int jit_next(jit *it, json_t **v, td_unit *u, char *err, size_t errlen, long *eline)
{
    *v = NULL;
    if (it->done)
        return 0;
    skip_ws(it);
    if (it->array) {
        if (it->pos < it->len && it->buf[it->pos] == ']') {
            it->pos++;
            skip_ws(it);
            it->done = 1;
            if (it->pos < it->len) {
                snprintf(err, errlen, "data after the end of the JSON array");
                *eline = it->line;
                return -1;
            }
            return 0;
        }
        if (it->count) {
            if (it->pos >= it->len || it->buf[it->pos] != ',') {
                snprintf(err, errlen, it->pos >= it->len ? "unterminated JSON array"
                                                         : "expected ',' or ']' in the JSON array");
                *eline = it->line;
                it->done = 1;
                return -1;
            }
            it->pos++;
            skip_ws(it);
        }
    }
    if (it->pos >= it->len) {
        it->done = 1;
        if (!it->array)
            return 0;
        snprintf(err, errlen, "unterminated JSON array");
        *eline = it->line;
        return -1;
    }
    size_t start = it->pos;
    long line0 = it->line;
    json_error_t je;
    json_t *j = json_loadb(it->buf + start, it->len - start, JFLAGS, &je);
    if (!j) {
        snprintf(err, errlen, "invalid JSON: %s", je.text);
        *eline = line0 + (je.line > 0 ? je.line - 1 : 0);
        if (it->array) {
            it->done = 1;
        } else { /* go on at the next line */
            const char *nl = memchr(it->buf + start, '\n', it->len - start);
            advance(it, nl ? (size_t)(nl - it->buf) + 1 : it->len);
        }
        return -1;
    }
    size_t used = je.position > 0 ? (size_t)je.position : 1;
    advance(it, start + used);
    it->count++;
    u->off = start;
    u->len = used;
    u->line = line0;
    *v = j;
    return 1;
}

int td__is_json(const char *buf, size_t len)
{
    size_t p = 0;
    while (p < len && ws(buf[p]))
        p++;
    if (p >= len || (buf[p] != '{' && buf[p] != '['))
        return 0;
    /* "[ O" or "{\tB-X": a CoNLL row whose word is a bracket */
    size_t q = p + 1;
    if (q < len && (buf[q] == ' ' || buf[q] == '\t')) {
        while (q < len && (buf[q] == ' ' || buf[q] == '\t'))
            q++;
        size_t e = q;
        while (e < len && !ws(buf[e]))
            e++;
        char m;
        const char *l;
        size_t ln;
        size_t after = e;
        while (after < len && (buf[after] == ' ' || buf[after] == '\t'))
            after++;
        if (e > q && !td__tag(buf + q, e - q, &m, &l, &ln) &&
            (after >= len || buf[after] == '\n' || buf[after] == '\r'))
            return 0;
    }
    return 1;
}

int td__units_json(const char *buf, size_t len, td_unit **out, size_t *n, int *array)
{
    jit it;
    td_unit *u = NULL, one;
    size_t cap = 0, k = 0;
    json_t *v;
    char err[200];
    long eline;
    int rc;
    jit_init(&it, buf, len);
    *array = it.array;
    while ((rc = jit_next(&it, &v, &one, err, sizeof err, &eline)) == 1) {
        json_decref(v);
        if ((rc = td__unit_add(&u, &cap, &k, &one)))
            return rc;
    }
    if (rc < 0) {
        free(u);
        return TD_ESYNTAX;
    }
    *out = u;
    *n = k;
    return 0;
}

/* ---------------------------------------------------------------------------
 * Offsets in characters -> bytes
 */

typedef struct offref {
    size_t v;
    size_t *at;
} offref;

static int offref_cmp(const void *a, const void *b)
{
    const offref *x = a, *y = b;
    return (x->v > y->v) - (x->v < y->v);
}

/* Converts offsets in code points (utf16: UTF-16 code units) of
 * text[0..len) to byte offsets: off[i] for i < n, in place.  Returns 0,
 * -1 if an offset is past the end or inside a character, TD_ENOMEM. */
static int units_to_bytes(const char *text, size_t len, size_t *off, size_t n, int utf16)
{
    offref *o = malloc((n ? n : 1) * sizeof *o);
    if (!o)
        return TD_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        o[i].v = off[i];
        o[i].at = &off[i];
    }
    if (n)
        qsort(o, n, sizeof *o, offref_cmp);
    size_t b = 0, u = 0;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        while (u < o[i].v && b < len) {
            unsigned char ch = (unsigned char)text[b];
            size_t l = ch < 0x80 ? 1 : ch < 0xe0 ? 2 : ch < 0xf0 ? 3 : 4;
            u += utf16 && l == 4 ? 2 : 1;
            b += l;
        }
        if (u != o[i].v)
            rc = -1; /* past the end, or inside a surrogate pair */
        *o[i].at = b > len ? len : b;
    }
    free(o);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Records
 */

/* A gold span as read: offsets in characters, label, optional text. */
typedef struct jspan {
    size_t s, e;
    const char *lab, *text;
    size_t lab_n, text_n;
} jspan;

static int get_off(json_t *o, const char *k1, const char *k2, size_t *out)
{
    json_t *v = json_object_get(o, k1);
    if (!v && k2)
        v = json_object_get(o, k2);
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > (json_int_t)TD_MAX_DOC)
        return -1;
    *out = (size_t)json_integer_value(v);
    return 0;
}

/* Reads one span: [s, e, "L"] or an object.  0, or -1 with what's wrong. */
static int read_span(json_t *j, jspan *sp, const char **why)
{
    memset(sp, 0, sizeof *sp);
    *why = "expected [start, end, \"LABEL\"] or {\"start\", \"end\", \"label\"}";
    json_t *lab;
    if (json_is_array(j)) {
        json_t *a = json_array_get(j, 0), *b = json_array_get(j, 1);
        lab = json_array_get(j, 2);
        if (json_array_size(j) != 3 || !json_is_integer(a) || !json_is_integer(b) ||
            json_integer_value(a) < 0 || json_integer_value(b) > (json_int_t)TD_MAX_DOC)
            return -1;
        sp->s = (size_t)json_integer_value(a);
        sp->e = (size_t)json_integer_value(b);
    } else if (json_is_object(j)) {
        json_t *val = json_object_get(j, "value"); /* a Label Studio result */
        if (json_is_object(val))
            j = val;
        if (get_off(j, "start", "start_offset", &sp->s) || get_off(j, "end", "end_offset", &sp->e))
            return -1;
        lab = json_object_get(j, "label");
        json_t *labs = json_object_get(j, "labels");
        if (!lab && json_is_array(labs)) {
            if (json_array_size(labs) != 1) {
                *why = "a span with other than one label in \"labels\"";
                return -1;
            }
            lab = json_array_get(labs, 0);
        }
        json_t *t = json_object_get(j, "text");
        if (json_is_string(t)) {
            sp->text = json_string_value(t);
            sp->text_n = json_string_length(t);
        }
    } else {
        return -1;
    }
    if (!json_is_string(lab)) {
        *why = "a span without a label string";
        return -1;
    }
    if (sp->e <= sp->s) {
        *why = "an empty span (end <= start)";
        return -1;
    }
    sp->lab = json_string_value(lab);
    sp->lab_n = json_string_length(lab);
    return 0;
}

/* Does every span that carries a text find it at its byte offsets? */
static size_t text_mismatch(const char *t, const jspan *sp, const size_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (sp[i].text && (b[2 * i + 1] - b[2 * i] != sp[i].text_n ||
                           memcmp(t + b[2 * i], sp[i].text, sp[i].text_n)))
            return i + 1;
    return 0;
}

/* One document: text and spans in characters. */
static int spans_doc(td__rd *r, const char *text, size_t tlen, const jspan *sp, size_t n,
                     long line)
{
    int rc = 0;
    size_t *b = malloc((2 * n + 1) * sizeof *b);
    if (!b)
        return TD_ENOMEM;
    td__doc_reset(r);
    r->d.line = line;
    int rc0 = 0;
    size_t bad0 = 0;
    for (int utf16 = 0; utf16 < 2; utf16++) {
        for (size_t i = 0; i < n; i++) {
            b[2 * i] = sp[i].s;
            b[2 * i + 1] = sp[i].e;
        }
        rc = units_to_bytes(text, tlen, b, 2 * n, utf16);
        if (rc > 0)
            goto out;
        size_t bad = rc ? 0 : text_mismatch(text, sp, b, n);
        if (!rc && !bad)
            break; /* code points, or else UTF-16 units, fit */
        if (!utf16) {
            rc0 = rc;
            bad0 = bad;
            continue;
        }
        if (rc0) {
            td__err(r, line, "an entity's offsets are past the end of the text (%zu bytes)", tlen);
        } else {
            const jspan *q = &sp[bad0 - 1];
            td__err(r, line, "entity %zu [%zu,%zu): its \"text\" \"%.*s\" is not at those offsets",
                    bad0, q->s, q->e, (int)(q->text_n > 60 ? 60 : q->text_n), q->text);
        }
        rc = 0;
        goto out;
    }
    if ((rc = td__doc_text(r, text, tlen)))
        goto out;
    for (size_t i = 0; i < n && !rc; i++) {
        int l = td__label(r, sp[i].lab, sp[i].lab_n, line);
        rc = l == TD__NOMEM ? TD_ENOMEM : l == -1 ? -1 : td__doc_span(r, b[2 * i], b[2 * i + 1], l);
    }
    if (!rc)
        rc = td__doc_finish(r);
out:
    free(b);
    if (rc < 0)
        rc = 0; /* reported */
    td__doc_reset(r);
    return rc;
}

/* The spans of array a (what: its name in messages). */
static int spans_of(td__rd *r, json_t *a, const char *what, long line, const char *text,
                    size_t tlen)
{
    size_t n = json_array_size(a), i;
    if (n > TD_MAX_WORDS) {
        td__err(r, line, "more than %d entities", TD_MAX_WORDS);
        return 0;
    }
    jspan *sp = calloc(n + 1, sizeof *sp);
    if (!sp)
        return TD_ENOMEM;
    const char *why = NULL;
    for (i = 0; i < n; i++)
        if (read_span(json_array_get(a, i), &sp[i], &why))
            break;
    int rc = 0;
    if (i < n)
        td__err(r, line, "\"%s\" item %zu: %s", what, i + 1, why);
    else
        rc = spans_doc(r, text, tlen, sp, n, line);
    free(sp);
    return rc;
}

/* A tuple's entities given as one BILUO tag per model token. */
static int tags_doc(td__rd *r, const char *text, size_t tlen, json_t *tags, long line)
{
    size_t n = json_array_size(tags);
    td__word *w = calloc(n + 1, sizeof *w);
    td__run *rs = NULL;
    size_t nr = 0;
    int rc = 0;
    if (!w)
        return TD_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(tags, i);
        const char *s = json_string_value(t);
        if (!s || td__tag(s, json_string_length(t), &w[i].move, &w[i].lab, &w[i].lab_n)) {
            td__err(r, line, "\"entities\" item %zu: not a BILUO tag", i + 1);
            goto out;
        }
        w[i].line = line;
    }
    td__doc_reset(r);
    r->d.line = line;
    ner_doc nd = {0};
    if (r->ctx) {
        int e = ner_tokenize(r->ctx, text, tlen, &nd);
        if (e) {
            td__err(r, line, "the model's tokenizer refuses the text: %s", ner_strerror(e));
            goto out;
        }
        if (nd.n_tokens != n) {
            td__err(r, line, "%zu tags for the %zu tokens of the model's tokenizer", n,
                    nd.n_tokens);
            goto out;
        }
        if (td__grow(&r->tmp, &r->tmp_cap, n + 1, sizeof *r->tmp)) {
            rc = TD_ENOMEM;
            goto out;
        }
        if (n) /* the next call reuses nd */
            memcpy(r->tmp, nd.tokens, n * sizeof *r->tmp);
    }
    if ((rc = td__runs(r, w, n, &rs, &nr)))
        goto out;
    if ((rc = td__doc_text(r, text, tlen)))
        goto out;
    for (size_t k = 0; k < nr && r->ctx && !rc; k++)
        rc = td__doc_span(r, r->tmp[rs[k].i0].byte_start, r->tmp[rs[k].i1].byte_end,
                          rs[k].label);
    if (!rc)
        rc = td__doc_finish(r);
out:
    free(w);
    free(rs);
    td__doc_reset(r);
    return rc < 0 ? 0 : rc;
}

static int tuple_rec(td__rd *r, json_t *v, long line)
{
    json_t *t = json_array_get(v, 0), *ann = json_array_get(v, 1);
    if (json_array_size(v) != 2 || !json_is_string(t) || !json_is_object(ann)) {
        td__err(r, line, "expected [\"text\", {\"entities\": [...]}]");
        return 0;
    }
    const char *text = json_string_value(t);
    size_t tlen = json_string_length(t);
    json_t *ents = json_object_get(ann, "entities");
    if (!ents) { /* no NER annotation: every tag missing */
        td__doc_reset(r);
        r->d.line = line;
        r->d.unannotated = 1;
        int rc = td__doc_text(r, text, tlen);
        rc = rc ? rc : td__doc_finish(r);
        td__doc_reset(r);
        return rc < 0 ? 0 : rc;
    }
    if (!json_is_array(ents)) {
        td__err(r, line, "\"entities\" is not an array");
        return 0;
    }
    if (json_array_size(ents) && json_is_string(json_array_get(ents, 0)))
        return tags_doc(r, text, tlen, ents, line);
    return spans_of(r, ents, "entities", line, text, tlen);
}

static int spans_rec(td__rd *r, json_t *v, long line)
{
    json_t *ans = json_object_get(v, "answer"), *t = json_object_get(v, "text");
    if (json_is_string(ans) && strcmp(json_string_value(ans), "accept")) {
        r->c->st.skipped++;
        return 0;
    }
    if (!json_is_string(t)) {
        td__err(r, line, "\"text\" is not a string");
        return 0;
    }
    static const char *const keys[] = {"spans", "label", "labels", "entities"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        json_t *a = json_object_get(v, keys[k]);
        if (!a)
            continue;
        if (!json_is_array(a)) {
            td__err(r, line, "\"%s\" is not an array", keys[k]);
            return 0;
        }
        return spans_of(r, a, keys[k], line, json_string_value(t), json_string_length(t));
    }
    td__err(r, line, "no \"spans\", \"label\" or \"entities\" array");
    return 0;
}

static int studio_rec(td__rd *r, json_t *v, long line)
{
    json_t *t = json_object_get(json_object_get(v, "data"), "text");
    json_t *anns = json_object_get(v, "annotations"), *res = NULL;
    if (!json_is_string(t)) {
        td__err(r, line, "a Label Studio task without a \"data\".\"text\" string");
        return 0;
    }
    for (size_t i = 0; i < json_array_size(anns) && !res; i++) {
        json_t *a = json_array_get(anns, i);
        if (!json_is_true(json_object_get(a, "was_cancelled")) &&
            json_is_array(json_object_get(a, "result")))
            res = json_object_get(a, "result");
    }
    if (!res) {
        r->c->st.skipped++;
        return 0;
    }
    json_t *labels = json_array();
    if (!labels)
        return TD_ENOMEM;
    for (size_t i = 0; i < json_array_size(res); i++) { /* spans only, not relations... */
        json_t *val = json_object_get(json_array_get(res, i), "value");
        if (json_object_get(val, "labels") && json_array_append(labels, json_array_get(res, i))) {
            json_decref(labels);
            return TD_ENOMEM;
        }
    }
    int rc = spans_of(r, labels, "result", line, json_string_value(t), json_string_length(t));
    json_decref(labels);
    return rc;
}

/* A "ner" value of spaCy's JSON format: a tag, or '-' when absent. */
static int spacy_tag(json_t *tok, td__word *w)
{
    json_t *ner = json_object_get(tok, "ner");
    if (!ner || json_is_null(ner)) {
        w->move = '-';
        return 0;
    }
    const char *s = json_string_value(ner);
    return s ? td__tag(s, json_string_length(ner), &w->move, &w->lab, &w->lab_n) : -1;
}

static int spacy_rec(td__rd *r, json_t *v, long line)
{
    json_t *paras = json_object_get(v, "paragraphs");
    int rc = 0;
    if (!json_is_array(paras)) {
        td__err(r, line, "\"paragraphs\" is not an array");
        return 0;
    }
    td__word *w = NULL;
    size_t cap = 0;
    for (size_t p = 0; p < json_array_size(paras) && !rc && !r->abandoned; p++) {
        json_t *para = json_array_get(paras, p), *sents = json_object_get(para, "sentences");
        json_t *raw = json_object_get(para, "raw");
        size_t n = 0;
        if (!json_is_array(sents) || (raw && !json_is_null(raw) && !json_is_string(raw))) {
            td__err(r, line, "paragraph %zu: expected {\"raw\"?: string, \"sentences\": [...]}",
                    p + 1);
            continue;
        }
        const char *bad = NULL;
        size_t bs = 0, bt = 0, ns = json_array_size(sents);
        for (size_t s = 0; s < ns && !bad; s++) {
            json_t *toks = json_object_get(json_array_get(sents, s), "tokens");
            if (!json_is_array(toks)) {
                bad = "a sentence without a \"tokens\" array";
                bs = s;
                break;
            }
            for (size_t t = 0; t < json_array_size(toks) && !bad; t++) {
                json_t *tok = json_array_get(toks, t), *orth = json_object_get(tok, "orth");
                bs = s;
                bt = t;
                if (n >= TD_MAX_WORDS)
                    bad = "too many tokens in one paragraph";
                else if (td__grow(&w, &cap, n + 1, sizeof *w))
                    rc = TD_ENOMEM;
                else if (!json_is_string(orth) || !json_string_length(orth))
                    bad = "a token without a non-empty \"orth\" string";
                else if (memset(&w[n], 0, sizeof w[n]), spacy_tag(tok, &w[n]))
                    bad = "\"ner\" is not a BILUO tag (O, B-X, I-X, L-X, U-X, -)";
                else if (w[n].lab && w[n].lab[0] == '!')
                    bad = "partial-supervision tags (U-!X) are not supported";
                if (bad || rc)
                    break;
                w[n].w = json_string_value(orth);
                w[n].n = json_string_length(orth);
                w[n].line = line;
                w[n].off0 = w[n].off1 = -1;
                w[n].sent_start = t == 0;
                n++;
            }
        }
        if (rc)
            break;
        if (bad) {
            td__err(r, line, "paragraph %zu, sentence %zu, token %zu: %s", p + 1, bs + 1, bt + 1,
                    bad);
            continue;
        }
        td__doc_reset(r);
        r->d.line = line;
        rc = td__words_add(r, w, n, json_string_value(raw), json_string_length(raw), "\"raw\"");
        if (!rc) {
            r->d.n_words = n;
            r->d.n_sents = (unsigned)ns;
            rc = td__doc_finish(r);
        }
        td__doc_reset(r);
        if (rc < 0)
            rc = 0;
    }
    free(w);
    return rc;
}

int td__read_json(td__rd *r, const char *buf, size_t len, int format)
{
    if (!td__is_json(buf, len)) {
        td__err(r, 1, "not JSON (format %s)", td_format_name(format));
        return TD_EFORMAT;
    }
    static const char *const shape[TD_FMT_COUNT] = {
        [TD_FMT_SPACY] = "spaCy JSON ({\"paragraphs\": ...})",
        [TD_FMT_TUPLES] = "a [\"text\", {\"entities\": ...}] tuple",
        [TD_FMT_SPANS] = "an annotation record ({\"text\", \"spans\"...} or a Label Studio task)",
    };
    jit it;
    json_t *v;
    td_unit u;
    char err[200];
    long eline;
    int got, rc = 0;
    jit_init(&it, buf, len);
    while (!rc && !r->abandoned && (got = jit_next(&it, &v, &u, err, sizeof err, &eline))) {
        if (got < 0) {
            td__err(r, eline, "%s", err);
            continue;
        }
        int kind = json_is_array(v)                              ? TD_FMT_TUPLES
                   : json_object_get(v, "paragraphs")            ? TD_FMT_SPACY
                   : json_is_object(json_object_get(v, "data"))  ? TD_FMT_SPANS
                   : json_object_get(v, "text")                  ? TD_FMT_SPANS
                                                                 : -1;
        if (kind < 0)
            td__err(r, u.line, "unrecognised record: expected {\"text\": ...}, "
                               "{\"paragraphs\": ...}, {\"data\": ...} or [\"text\", {...}]");
        else if (format != TD_FMT_JSON && format != kind)
            td__err(r, u.line, "expected %s (format %s)", shape[format], td_format_name(format));
        else if (kind == TD_FMT_TUPLES)
            rc = tuple_rec(r, v, u.line);
        else if (kind == TD_FMT_SPACY)
            rc = spacy_rec(r, v, u.line);
        else if (json_object_get(v, "data"))
            rc = studio_rec(r, v, u.line);
        else
            rc = spans_rec(r, v, u.line);
        json_decref(v);
    }
    return rc;
}
