/*
 * Incremental HTTP/1.x response parser (see lg_resp.h).  States: STATUS
 * (status line), HEADER (header lines up to the empty line), BODY (a
 * Content-Length body), CHUNK (chunk-size line), DATA (chunk data), CRLF
 * (after chunk data), TRAILER (trailer lines), CLOSE (body runs to the
 * close), DONE.  Lines are scanned with memchr; only their first 256
 * bytes are kept, which is all any header of interest needs.
 */
#include "lg_resp.h"

#include <string.h>
#include <strings.h>

enum { S_STATUS, S_HEADER, S_BODY, S_CHUNK, S_DATA, S_CRLF, S_TRAILER, S_CLOSE, S_DONE };

void lg_resp_init(lg_resp *r)
{
    memset(r, 0, offsetof(lg_resp, line));
    r->state = S_STATUS;
}

static lg_err fail(lg_resp *r, const char *why)
{
    r->error = why;
    return LG_EPROTO;
}

static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* Does the comma-separated list v[0..n) contain token t (any case)?
 * last: only as its last element. */
static int has_token(const char *v, size_t n, const char *t, int last)
{
    size_t tl = strlen(t), i = 0;
    int found = 0;
    while (i < n) {
        while (i < n && (is_ws(v[i]) || v[i] == ','))
            i++;
        size_t a = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > a && is_ws(v[e - 1]))
            e--;
        if (e == a)
            continue;
        int m = e - a == tl && !strncasecmp(v + a, t, tl);
        if (last)
            found = m;
        else if (m)
            return 1;
    }
    return found;
}

static lg_err status_line(lg_resp *r, const char *s, size_t n)
{
    if (n < 12 || memcmp(s, "HTTP/1.", 7) || (s[7] != '0' && s[7] != '1') || s[8] != ' ')
        return fail(r, "malformed status line");
    for (int k = 9; k < 12; k++)
        if (s[k] < '0' || s[k] > '9')
            return fail(r, "malformed status code");
    if (n > 12 && s[12] != ' ')
        return fail(r, "malformed status line");
    r->minor = s[7] - '0';
    r->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    if (r->status < 100)
        return fail(r, "malformed status code");
    r->keep_alive = r->minor >= 1;
    size_t rl = n > 13 ? n - 13 : 0;
    if (rl >= sizeof r->reason)
        rl = sizeof r->reason - 1;
    for (size_t k = 0; k < rl; k++) {
        unsigned char c = (unsigned char)s[13 + k];
        r->reason[k] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    r->reason[rl] = 0;
    r->state = S_HEADER;
    return LG_OK;
}

static lg_err end_of_head(lg_resp *r)
{
    if (r->status < 200) {
        if (r->status == 101)
            return fail(r, "protocol switch (101) not supported");
        /* interim response: the real one follows */
        r->state = S_STATUS;
        r->n_headers = 0;
        r->chunked = r->has_cl = 0;
        return LG_OK;
    }
    if (r->status == 204 || r->status == 304) {
        r->state = S_DONE;
    } else if (r->chunked) {
        r->state = S_CHUNK;
    } else if (r->has_cl) {
        r->remaining = r->content_length;
        r->state = r->remaining ? S_BODY : S_DONE;
    } else {
        r->keep_alive = 0;
        r->until_close = 1;
        r->state = S_CLOSE;
    }
    return LG_OK;
}

static lg_err header_line(lg_resp *r, const char *s, size_t n, int truncated)
{
    if (n == 0 && !truncated)
        return end_of_head(r);
    if (++r->n_headers > LG_RESP_MAX_HEADERS)
        return fail(r, "too many header lines");
    if (is_ws(s[0]))
        return fail(r, "obsolete header line folding");
    size_t c = 0;
    while (c < n && is_tchar((unsigned char)s[c]))
        c++;
    if (c == 0 || c >= n || s[c] != ':') {
        if (truncated && c == n)
            return LG_OK; /* a very long name: not one we need */
        return fail(r, "malformed header line");
    }
    const char *v = s + c + 1;
    size_t vl = n - c - 1;
    while (vl && is_ws(*v))
        v++, vl--;
    while (vl && is_ws(v[vl - 1]))
        vl--;
    if (c == 14 && !strncasecmp(s, "content-length", 14)) {
        if (truncated || !vl)
            return fail(r, "bad Content-Length");
        uint64_t x = 0;
        for (size_t k = 0; k < vl; k++) {
            if (v[k] < '0' || v[k] > '9')
                return fail(r, "bad Content-Length");
            x = x * 10 + (uint64_t)(v[k] - '0');
            if (x > LG_RESP_MAX_BODY)
                return fail(r, "body too large");
        }
        if (r->has_cl && x != r->content_length)
            return fail(r, "conflicting Content-Length headers");
        r->has_cl = 1;
        r->content_length = x;
    } else if (c == 17 && !strncasecmp(s, "transfer-encoding", 17)) {
        if (truncated)
            return fail(r, "Transfer-Encoding too long");
        r->chunked = has_token(v, vl, "chunked", 1);
        if (!r->chunked)
            r->has_cl = 0, r->until_close = 1; /* other codings: read to the close */
    } else if (c == 10 && !strncasecmp(s, "connection", 10)) {
        if (has_token(v, vl, "close", 0))
            r->keep_alive = 0;
        else if (has_token(v, vl, "keep-alive", 0))
            r->keep_alive = 1;
    }
    if (r->until_close && !r->chunked)
        r->has_cl = 0;
    return LG_OK;
}

static lg_err chunk_line(lg_resp *r, const char *s, size_t n, int truncated)
{
    uint64_t x = 0;
    size_t k = 0;
    for (; k < n; k++) {
        char ch = s[k];
        int d = ch >= '0' && ch <= '9' ? ch - '0'
              : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
              : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
        if (d < 0)
            break;
        x = x * 16 + (uint64_t)d;
        if (x > LG_RESP_MAX_BODY)
            return fail(r, "chunk too large");
    }
    if (k == 0)
        return fail(r, "malformed chunk size");
    while (k < n && is_ws(s[k]))
        k++;
    if (k < n && s[k] != ';')
        return fail(r, "malformed chunk size");
    (void)truncated; /* long chunk extensions are ignored */
    if (r->body_len + x > LG_RESP_MAX_BODY)
        return fail(r, "body too large");
    if (x == 0) {
        r->state = S_TRAILER;
    } else {
        r->remaining = x;
        r->state = S_DATA;
    }
    return LG_OK;
}

static lg_err line(lg_resp *r, int truncated)
{
    size_t n = r->line_len;
    if (!truncated) {
        n--; /* the '\n' */
        if (n && r->line[n - 1] == '\r')
            n--;
    }
    const char *s = r->line;
    switch (r->state) {
    case S_STATUS:
        return status_line(r, s, n);
    case S_HEADER:
        return header_line(r, s, n, truncated);
    case S_CHUNK:
        return chunk_line(r, s, n, truncated);
    case S_CRLF:
        if (n || truncated)
            return fail(r, "chunk data not followed by CRLF");
        r->state = S_CHUNK;
        return LG_OK;
    case S_TRAILER:
        if (n == 0 && !truncated)
            r->state = S_DONE;
        else if (++r->n_headers > LG_RESP_MAX_HEADERS)
            return fail(r, "too many trailer lines");
        return LG_OK;
    }
    return fail(r, "parser state");
}

lg_err lg_resp_feed(lg_resp *r, const char *p, size_t n, size_t *used)
{
    size_t i = 0;
    lg_err rc = LG_OK;
    while (i < n && r->state != S_DONE) {
        if (r->state == S_BODY || r->state == S_DATA) {
            size_t k = n - i;
            if (k > r->remaining)
                k = (size_t)r->remaining;
            i += k;
            r->remaining -= k;
            r->body_len += k;
            if (!r->remaining)
                r->state = r->state == S_BODY ? S_DONE : S_CRLF;
            continue;
        }
        if (r->state == S_CLOSE) {
            r->body_len += n - i;
            i = n;
            if (r->body_len > LG_RESP_MAX_BODY) {
                rc = fail(r, "body too large");
                break;
            }
            continue;
        }
        const char *lf = memchr(p + i, '\n', n - i);
        size_t take = lf ? (size_t)(lf - (p + i)) + 1 : n - i;
        size_t room = sizeof r->line - r->line_len;
        memcpy(r->line + r->line_len, p + i, take < room ? take : room);
        r->line_len += take < room ? take : room;
        r->line_total += take;
        i += take;
        if (r->state == S_STATUS || r->state == S_HEADER) {
            r->head_bytes += take;
            if (r->head_bytes > LG_RESP_MAX_HEAD) {
                rc = fail(r, "response head too large");
                break;
            }
        }
        if (r->line_total > LG_RESP_LINE_CAP) {
            rc = fail(r, "line too long");
            break;
        }
        if (!lf)
            continue;
        int truncated = r->line_total > r->line_len;
        rc = line(r, truncated);
        r->line_len = r->line_total = 0;
        if (rc)
            break;
    }
    r->bytes += i;
    if (r->state == S_DONE)
        r->done = 1;
    if (used)
        *used = i;
    return rc;
}

lg_err lg_resp_eof(lg_resp *r)
{
    if (r->state == S_DONE)
        return LG_OK;
    if (r->state == S_CLOSE) {
        r->state = S_DONE;
        r->done = 1;
        return LG_OK;
    }
    if (r->bytes == 0)
        return LG_ECLOSED;
    return fail(r, "connection closed before the full response");
}
