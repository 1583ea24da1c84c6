/*
 * Incremental HTTP/1.1 request parser (see include/nerd/http.h).
 * States: HEAD (waiting for the empty line), BODY (Content-Length), CHUNK
 * (size line), DATA (chunk data), DATA_END (CRLF after data), TRAILER, DONE.
 * Chunk data is moved down to the end of the decoded body as it arrives.
 */
#define _DEFAULT_SOURCE
#include "nerd/http.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>

enum { S_HEAD, S_BODY, S_CHUNK, S_DATA, S_DATA_END, S_TRAILER, S_DONE };

#define MAX_TARGET 16384
#define MAX_CHUNK_LINE 4096

void http_parser_init(http_parser *p, size_t max_head, size_t max_body)
{
    memset(p, 0, sizeof *p);
    p->max_head = max_head;
    p->max_body = max_body;
    p->state = S_HEAD;
}

static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Finds the end of the line starting at i (index of '\n'), within [i, end). */
static size_t find_lf(const char *buf, size_t i, size_t end)
{
    const char *q = memchr(buf + i, '\n', end - i);
    return q ? (size_t)(q - buf) : end;
}

/* Line [a, lf) without its trailing '\r'. */
static size_t line_end(const char *buf, size_t a, size_t lf)
{
    return (lf > a && buf[lf - 1] == '\r') ? lf - 1 : lf;
}

static int ieq(const char *buf, const http_field *f, const char *name)
{
    size_t n = strlen(name);
    return f->name_len == n && strncasecmp(buf + f->name, name, n) == 0;
}

static int parse_field(const char *buf, size_t a, size_t e, http_field *f)
{
    size_t c = a;
    while (c < e && is_tchar((unsigned char)buf[c]))
        c++;
    if (c == a || c >= e || buf[c] != ':')
        return HTTP_EBAD; /* empty name, bad name char, or obs-fold */
    f->name = (uint32_t)a;
    f->name_len = (uint32_t)(c - a);
    size_t v = c + 1, ve = e;
    while (v < ve && (buf[v] == ' ' || buf[v] == '\t'))
        v++;
    while (ve > v && (buf[ve - 1] == ' ' || buf[ve - 1] == '\t'))
        ve--;
    for (size_t k = v; k < ve; k++) {
        unsigned char ch = (unsigned char)buf[k];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return HTTP_EBAD;
    }
    f->value = (uint32_t)v;
    f->value_len = (uint32_t)(ve - v);
    return 0;
}

static int parse_head(http_parser *p, const char *buf, size_t head_end)
{
    http_request *r = &p->req;
    size_t lf = find_lf(buf, 0, head_end), e = line_end(buf, 0, lf);
    /* request line: METHOD SP target SP HTTP/1.x */
    size_t i = 0;
    while (i < e && is_tchar((unsigned char)buf[i]))
        i++;
    if (i == 0 || i > 32 || i >= e || buf[i] != ' ')
        return HTTP_EBAD;
    r->method = 0;
    r->method_len = (uint32_t)i;
    size_t t = ++i;
    while (i < e && buf[i] != ' ') {
        unsigned char ch = (unsigned char)buf[i];
        if (ch <= 0x20 || ch == 0x7f)
            return HTTP_EBAD;
        i++;
    }
    if (i == t || i >= e)
        return HTTP_EBAD;
    if (i - t > MAX_TARGET)
        return HTTP_EURI;
    r->target = (uint32_t)t;
    r->target_len = (uint32_t)(i - t);
    i++;
    if (e - i != 8 || memcmp(buf + i, "HTTP/", 5) != 0 || buf[i + 6] != '.' ||
        buf[i + 5] < '0' || buf[i + 5] > '9' || buf[i + 7] < '0' || buf[i + 7] > '9')
        return HTTP_EBAD;
    if (buf[i + 5] != '1')
        return HTTP_EVERSION;
    r->minor = buf[i + 7] - '0';
    if (r->minor > 1)
        return HTTP_EVERSION;
    /* header fields */
    size_t a = lf + 1;
    int have_cl = 0, have_te = 0, conn_close = 0, conn_keep = 0;
    while (a < head_end) {
        lf = find_lf(buf, a, head_end);
        e = line_end(buf, a, lf);
        if (e == a)
            break; /* the empty line */
        if (r->n_headers == HTTP_MAX_HEADERS)
            return HTTP_EHEAD;
        http_field *f = &r->headers[r->n_headers];
        int rc = parse_field(buf, a, e, f);
        if (rc)
            return rc;
        r->n_headers++;
        const char *v = buf + f->value;
        size_t vl = f->value_len;
        if (ieq(buf, f, "content-length")) {
            uint64_t n = 0;
            if (vl == 0 || vl > 19)
                return HTTP_EBAD;
            for (size_t k = 0; k < vl; k++) {
                if (v[k] < '0' || v[k] > '9')
                    return HTTP_EBAD;
                n = n * 10 + (uint64_t)(v[k] - '0');
            }
            if (have_cl && n != r->content_length)
                return HTTP_EBAD;
            have_cl = 1;
            r->content_length = n;
        } else if (ieq(buf, f, "transfer-encoding")) {
            if (vl != 7 || strncasecmp(v, "chunked", 7) != 0)
                return HTTP_ETE;
            if (have_te)
                return HTTP_EBAD;
            have_te = 1;
        } else if (ieq(buf, f, "connection")) {
            for (size_t k = 0; k + 5 <= vl; k++)
                if (!strncasecmp(v + k, "close", 5))
                    conn_close = 1;
            for (size_t k = 0; k + 10 <= vl; k++)
                if (!strncasecmp(v + k, "keep-alive", 10))
                    conn_keep = 1;
        } else if (ieq(buf, f, "expect")) {
            if (vl == 12 && !strncasecmp(v, "100-continue", 12))
                r->expect_continue = 1;
        }
        a = lf + 1;
    }
    if (have_cl && have_te)
        return HTTP_EBAD; /* request smuggling guard (RFC 9112 6.1) */
    r->chunked = (unsigned)have_te;
    r->keep_alive = (unsigned)(conn_close ? 0 : r->minor == 1 ? 1 : conn_keep);
    if (!have_te && r->content_length > p->max_body)
        return HTTP_EBODY;
    return 0;
}

int http_parse(http_parser *p, char *buf, size_t len, size_t *used)
{
    http_request *r = &p->req;
    int rc;
    for (;;) {
        switch (p->state) {
        case S_HEAD: {
            /* look for an empty line: "\n\r\n" or "\n\n" */
            size_t lim = len < p->max_head ? len : p->max_head;
            size_t i = p->scan;
            size_t end = 0;
            while (i < lim) {
                const char *q = memchr(buf + i, '\n', lim - i);
                if (!q) {
                    i = lim;
                    break;
                }
                size_t k = (size_t)(q - buf);
                if (k + 1 < len && buf[k + 1] == '\n') {
                    end = k + 2;
                    break;
                }
                if (k + 2 < len && buf[k + 1] == '\r' && buf[k + 2] == '\n') {
                    end = k + 3;
                    break;
                }
                if ((k + 1 >= len) || (buf[k + 1] == '\r' && k + 2 >= len)) {
                    i = k; /* need more to decide */
                    break;
                }
                i = k + 1;
            }
            if (!end) {
                p->scan = i;
                if (len >= p->max_head)
                    return HTTP_EHEAD;
                return HTTP_MORE;
            }
            if (end > p->max_head)
                return HTTP_EHEAD;
            if ((rc = parse_head(p, buf, end)))
                return rc;
            p->head_len = end;
            p->rd = p->wr = end;
            r->body = (uint32_t)end;
            p->state = r->chunked ? S_CHUNK : S_BODY;
            break;
        }
        case S_BODY:
            if (len - p->head_len < r->content_length)
                return HTTP_MORE;
            r->body_len = (uint32_t)r->content_length;
            *used = p->head_len + (size_t)r->content_length;
            p->state = S_DONE;
            return HTTP_DONE;
        case S_CHUNK: {
            size_t lim = len - p->rd < MAX_CHUNK_LINE ? len : p->rd + MAX_CHUNK_LINE;
            const char *q = memchr(buf + p->rd, '\n', lim - p->rd);
            if (!q)
                return len - p->rd >= MAX_CHUNK_LINE ? HTTP_EBAD : HTTP_MORE;
            size_t lf = (size_t)(q - buf), e = line_end(buf, p->rd, lf), k = p->rd;
            uint64_t n = 0;
            int digits = 0;
            for (; k < e; k++) {
                char c = buf[k];
                int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                if (v < 0)
                    break;
                if (++digits > 15)
                    return HTTP_EBODY;
                n = n * 16 + (uint64_t)v;
            }
            if (!digits || (k < e && buf[k] != ';' && buf[k] != ' ' && buf[k] != '\t'))
                return HTTP_EBAD;
            if (p->wr - p->head_len + n > p->max_body)
                return HTTP_EBODY;
            p->rd = lf + 1;
            p->chunk_left = n;
            p->state = n ? S_DATA : S_TRAILER;
            break;
        }
        case S_DATA: {
            size_t avail = len - p->rd;
            size_t take = avail < p->chunk_left ? avail : (size_t)p->chunk_left;
            if (take) {
                memmove(buf + p->wr, buf + p->rd, take);
                p->wr += take;
                p->rd += take;
                p->chunk_left -= take;
            }
            if (p->chunk_left)
                return HTTP_MORE;
            p->state = S_DATA_END;
            break;
        }
        case S_DATA_END:
            if (len - p->rd < 1 || (buf[p->rd] == '\r' && len - p->rd < 2))
                return HTTP_MORE;
            if (buf[p->rd] == '\n')
                p->rd += 1;
            else if (buf[p->rd] == '\r' && buf[p->rd + 1] == '\n')
                p->rd += 2;
            else
                return HTTP_EBAD;
            p->state = S_CHUNK;
            break;
        case S_TRAILER: {
            const char *q = memchr(buf + p->rd, '\n', len - p->rd);
            if (!q) {
                if (len - p->rd > p->max_head)
                    return HTTP_EHEAD;
                return HTTP_MORE;
            }
            size_t lf = (size_t)(q - buf), e = line_end(buf, p->rd, lf);
            if (e == p->rd) {
                r->body_len = (uint32_t)(p->wr - p->head_len);
                *used = lf + 1;
                p->state = S_DONE;
                return HTTP_DONE;
            }
            if (r->n_trailers == HTTP_MAX_TRAILERS)
                return HTTP_EHEAD;
            if ((rc = parse_field(buf, p->rd, e, &r->trailers[r->n_trailers])))
                return rc;
            r->n_trailers++;
            p->rd = lf + 1;
            break;
        }
        default:
            return HTTP_EBAD; /* called again after DONE without init */
        }
    }
}

int http_head_complete(const http_parser *p) { return p->state != S_HEAD; }

int http_wants_continue(const http_parser *p)
{
    return p->req.expect_continue && p->state != S_HEAD && p->state != S_DONE &&
           p->rd == p->head_len;
}

int http_error_status(int result)
{
    switch (result) {
    case HTTP_EHEAD: return 431;
    case HTTP_EBODY: return 413;
    case HTTP_EVERSION: return 505;
    case HTTP_ETE: return 501;
    case HTTP_EURI: return 414;
    default: return 400;
    }
}

const char *http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

const char *http_header(const http_request *r, const char *buf, const char *name,
                        size_t *len, int with_trailers)
{
    for (uint32_t i = 0; i < r->n_headers; i++)
        if (ieq(buf, &r->headers[i], name)) {
            *len = r->headers[i].value_len;
            return buf + r->headers[i].value;
        }
    for (uint32_t i = 0; with_trailers && i < r->n_trailers; i++)
        if (ieq(buf, &r->trailers[i], name)) {
            *len = r->trailers[i].value_len;
            return buf + r->trailers[i].value;
        }
    return NULL;
}

int http_send2_some(int fd, const char *a, size_t alen, const char *b, size_t blen,
                    size_t *sent)
{
    struct iovec iov[2] = {{(void *)a, alen}, {(void *)b, blen}};
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = blen ? 2 : 1};
    *sent = 0;
    while (iov[0].iov_len + iov[1].iov_len) {
        ssize_t w = sendmsg(fd, &m, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (w <= 0)
            return -1;
        size_t k = (size_t)w;
        *sent += k;
        for (int i = 0; i < 2; i++) {
            size_t t = k < iov[i].iov_len ? k : iov[i].iov_len;
            iov[i].iov_base = (char *)iov[i].iov_base + t;
            iov[i].iov_len -= t;
            k -= t;
        }
        if (!iov[0].iov_len) {
            m.msg_iov = &iov[1];
            m.msg_iovlen = 1;
        }
    }
    return 0;
}

int http_send2(int fd, const char *a, size_t alen, const char *b, size_t blen)
{
    size_t sent;
    return http_send2_some(fd, a, alen, b, blen, &sent) || sent < alen + blen ? -1 : 0;
}

int http_send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}
