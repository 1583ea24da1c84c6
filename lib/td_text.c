/*
 * Raw text without annotation (format "text"): one document per line, as
 * `nerd train --rehearse` reads it.  A line whose first non-blank byte is
 * "{" is a JSON object whose "text" string is the document (so the shared
 * reference files and `nerd extract`'s input lines serve as they are); any
 * other line is the text itself (a trailing CR removed); blank lines are
 * skipped.  Every document is read with no NER annotation (every tag
 * missing).  Never chosen by --format auto.
 */
#include <jansson.h>
#include <string.h>

#include "td_int.h"
#include "unicode.h"

static int is_blank(const char *s, size_t n, size_t *first)
{
    size_t b = 0;
    while (b < n && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r'))
        b++;
    *first = b;
    return b == n;
}

/* One line's document: 0, -1 after an error report, or TD_ENOMEM. */
static int text_line(td__rd *r, const char *line, size_t n, long lineno)
{
    size_t b;
    if (is_blank(line, n, &b))
        return 0;
    if (n > TD_MAX_DOC) {
        td__err(r, lineno, "line over %zu bytes", TD_MAX_DOC);
        return -1;
    }
    if (memchr(line, 0, n)) {
        td__err(r, lineno, "NUL byte in line");
        return -1;
    }
    if (!uni_valid(line, n)) {
        td__err(r, lineno, "invalid UTF-8");
        return -1;
    }
    json_t *v = NULL;
    const char *s = line;
    if (line[b] == '{') {
        json_error_t je;
        v = json_loadb(line, n, JSON_REJECT_DUPLICATES, &je);
        json_t *t = json_object_get(v, "text");
        if (!v) {
            td__err(r, lineno, "a line starting with '{' is not a JSON object: %s", je.text);
            return -1;
        }
        if (!json_is_string(t)) {
            td__err(r, lineno, "a JSON line without a \"text\" string");
            json_decref(v);
            return -1;
        }
        s = json_string_value(t);
        n = json_string_length(t);
        if (memchr(s, 0, n)) {
            td__err(r, lineno, "NUL character in \"text\"");
            json_decref(v);
            return -1;
        }
    } else if (line[n - 1] == '\r') {
        n--;
    }
    td__doc_reset(r);
    r->d.line = lineno;
    r->d.unannotated = 1;
    int rc = td__doc_text(r, s, n);
    if (!rc)
        rc = td__doc_finish(r);
    td__doc_reset(r);
    json_decref(v);
    return rc;
}

int td__read_text(td__rd *r, const char *buf, size_t len)
{
    size_t pos = 0;
    long lineno = 0;
    int rc = 0;
    while (pos < len && !r->abandoned && rc <= 0) {
        const char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + 1;
        rc = text_line(r, line, n, ++lineno);
    }
    return rc > 0 ? rc : 0;
}

int td__units_text(const char *buf, size_t len, td_unit **out, size_t *n)
{
    td_unit *u = NULL;
    size_t cap = 0, k = 0, pos = 0, b;
    long lineno = 0;
    *out = NULL;
    *n = 0;
    while (pos < len) {
        const char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
        size_t ln = nl ? (size_t)(nl - line) : len - pos;
        td_unit one = {pos, ln + (nl ? 1 : 0), ++lineno};
        pos += one.len;
        int rc = is_blank(line, ln, &b) ? 0 : td__unit_add(&u, &cap, &k, &one);
        if (rc)
            return rc;
    }
    *out = u;
    *n = k;
    return TD_OK;
}
