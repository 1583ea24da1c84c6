/*
 * Incremental HTTP/1.x response parser (see include/nerd/http_resp.h).
 * States: STATUS (status line), HEADER (header lines up to the empty
 * line), BODY (a Content-Length body), CHUNK (chunk-size line), DATA (chunk
 * data), CRLF (after chunk data), TRAILER (trailer lines), CLOSE (body runs
 * to the close), DONE.  Lines are scanned with memchr; only their first
 * HTTP_RESP_KEPT bytes are kept, which is all any header of interest needs.
 * (It began as the load lab's parser, loadgen/resp.c.)
 */
#include "nerd/http_resp.h"

#include <string.h>
#include <strings.h>

enum { S_STATUS, S_HEADER, S_BODY, S_CHUNK, S_DATA, S_CRLF, S_TRAILER, S_CLOSE, S_DONE };

void http_resp_init(http_resp *r)
{
    memset(r, 0, offsetof(http_resp, line));
    r->state = S_STATUS;
}

static http_resp_err fail(http_resp *r, const char *why)
{
    r->error = why;
    return HTTP_RESP_EPROTO;
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

static http_resp_err status_line(http_resp *r, const char *s, size_t n)
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
    return HTTP_RESP_OK;
}

static http_resp_err end_of_head(http_resp *r)
{
    if (r->status < 200) {
        if (r->status == 101)
            return fail(r, "protocol switch (101) not supported");
        /* interim response: the real one follows */
        r->state = S_STATUS;
        r->n_headers = 0;
        r->chunked = r->has_cl = 0;
        return HTTP_RESP_OK;
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
    return HTTP_RESP_OK;
}

static http_resp_err header_line(http_resp *r, char *s, size_t n, int truncated)
{
    if (n == 0 && !truncated)
        return end_of_head(r);
    if (++r->n_headers > HTTP_RESP_MAX_HEADERS)
        return fail(r, "too many header lines");
    if (is_ws(s[0]))
        return fail(r, "obsolete header line folding");
    size_t c = 0;
    while (c < n && is_tchar((unsigned char)s[c]))
        c++;
    if (c == 0 || c >= n || s[c] != ':') {
        if (truncated && c == n)
            return HTTP_RESP_OK; /* a very long name: not one we need */
        return fail(r, "malformed header line");
    }
    char *v = s + c + 1;
    size_t vl = n - c - 1;
    for (size_t k = 0; k < vl; k++) /* RFC 9112 5.5: a bare CR or a NUL is read as SP */
        if (v[k] == '\r' || v[k] == 0)
            v[k] = ' ';
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
            if (x > HTTP_RESP_MAX_BODY)
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
    if (r->on_header && !truncated && r->status >= 200)
        r->on_header(r->arg, s, c, v, vl);
    return HTTP_RESP_OK;
}

static http_resp_err chunk_line(http_resp *r, const char *s, size_t n, int truncated)
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
        if (x > HTTP_RESP_MAX_BODY)
            return fail(r, "chunk too large");
    }
    if (k == 0)
        return fail(r, "malformed chunk size");
    while (k < n && is_ws(s[k]))
        k++;
    if (k < n && s[k] != ';')
        return fail(r, "malformed chunk size");
    (void)truncated; /* long chunk extensions are ignored */
    if (r->body_len + x > HTTP_RESP_MAX_BODY)
        return fail(r, "body too large");
    if (x == 0) {
        r->state = S_TRAILER;
    } else {
        r->remaining = x;
        r->state = S_DATA;
    }
    return HTTP_RESP_OK;
}

static http_resp_err line(http_resp *r, int truncated)
{
    size_t n = r->line_len;
    if (!truncated) {
        n--; /* the '\n' */
        if (n && r->line[n - 1] == '\r')
            n--;
    }
    char *s = r->line;
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
        return HTTP_RESP_OK;
    case S_TRAILER:
        if (n == 0 && !truncated)
            r->state = S_DONE;
        else if (++r->n_headers > HTTP_RESP_MAX_HEADERS)
            return fail(r, "too many trailer lines");
        return HTTP_RESP_OK;
    }
    return fail(r, "parser state");
}

http_resp_err http_resp_feed(http_resp *r, const char *p, size_t n, size_t *used)
{
    size_t i = 0;
    http_resp_err rc = HTTP_RESP_OK;
    while (i < n && r->state != S_DONE) {
        if (r->state == S_BODY || r->state == S_DATA) {
            size_t k = n - i;
            if (k > r->remaining)
                k = (size_t)r->remaining;
            if (r->on_body && k)
                r->on_body(r->arg, p + i, k);
            i += k;
            r->remaining -= k;
            r->body_len += k;
            if (!r->remaining)
                r->state = r->state == S_BODY ? S_DONE : S_CRLF;
            continue;
        }
        if (r->state == S_CLOSE) {
            size_t k = n - i;
            r->body_len += k;
            if (r->body_len > HTTP_RESP_MAX_BODY) {
                i = n;
                rc = fail(r, "body too large");
                break;
            }
            if (r->on_body)
                r->on_body(r->arg, p + i, k);
            i = n;
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
            if (r->head_bytes > HTTP_RESP_MAX_HEAD) {
                rc = fail(r, "response head too large");
                break;
            }
        }
        if (r->line_total > HTTP_RESP_LINE_CAP) {
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

http_resp_err http_resp_eof(http_resp *r)
{
    if (r->state == S_DONE)
        return HTTP_RESP_OK;
    if (r->state == S_CLOSE) {
        r->state = S_DONE;
        r->done = 1;
        return HTTP_RESP_OK;
    }
    if (r->bytes == 0)
        return HTTP_RESP_ECLOSED;
    return fail(r, "connection closed before the full response");
}
