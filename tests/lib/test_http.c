/* The HTTP/1.1 request parser on data-driven cases (tests/data/http/
 * requests.cases), each parsed at once and byte by byte, plus limits:
 * oversized heads and bodies, too many headers, 100-continue. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nerd/http.h"

#define MAX_BODY (6u * 1024 * 1024 + 100)

/* Parses in[0..n) in steps of `step` bytes; returns the result. */
static int parse_steps(const char *in, size_t n, size_t step, char *buf,
                       http_parser *p, size_t *used)
{
    http_parser_init(p, 8192, MAX_BODY);
    size_t have = 0;
    int rc = HTTP_MORE;
    while (rc == HTTP_MORE && have < n) {
        size_t k = n - have < step ? n - have : step;
        memcpy(buf + have, in + have, k);
        have += k;
        rc = http_parse(p, buf, have, used);
    }
    return rc;
}

static void run_case(const char *where, const char *in, size_t n, const char *want)
{
    char *buf = malloc(n + 1), *buf2 = malloc(n + 1);
    http_parser p, p2;
    size_t used = 0, used2 = 0;
    int rc = parse_steps(in, n, n ? n : 1, buf, &p, &used);
    int rc2 = parse_steps(in, n, 1, buf2, &p2, &used2);
    CHECK(rc == rc2 && used == used2, "%s: at once %d/%zu, byte by byte %d/%zu", where,
          rc, used, rc2, used2);
    if (!strncmp(want, "error ", 6)) {
        int st = atoi(want + 6);
        CHECK(rc < 0 && http_error_status(rc) == st, "%s: want %d, got rc %d (%d)",
              where, st, rc, rc < 0 ? http_error_status(rc) : 0);
    } else {
        char method[64] = "", target[256] = "", body[256] = "", hdr[256] = "";
        unsigned long u = 0;
        int keep = -1;
        const char *bp = strstr(want, "body=");
        const char *hp = strstr(want, " hdr=");
        sscanf(want, "done %63s %255s used=%lu keep=%d", method, target, &u, &keep);
        if (bp) {
            size_t bl = hp ? (size_t)(hp - bp - 5) : strlen(bp + 5);
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%.*s", (int)bl, bp + 5);
            check_unescape(tmp, body);
        }
        if (hp)
            snprintf(hdr, sizeof hdr, "%s", hp + 5);
        CHECK(rc == HTTP_DONE, "%s: not done (%d)", where, rc);
        if (rc == HTTP_DONE) {
            const http_request *r = &p.req;
            CHECK(r->method_len == strlen(method) &&
                  !memcmp(buf + r->method, method, r->method_len), "%s: method", where);
            CHECK(r->target_len == strlen(target) &&
                  !memcmp(buf + r->target, target, r->target_len), "%s: target", where);
            CHECK(used == u, "%s: used %zu want %lu", where, used, u);
            CHECK((int)r->keep_alive == keep, "%s: keep-alive", where);
            CHECK(r->body_len == strlen(body) && !memcmp(buf + r->body, body, r->body_len),
                  "%s: body '%.*s'", where, (int)r->body_len, buf + r->body);
            CHECK(p2.req.body_len == r->body_len &&
                  !memcmp(buf2 + p2.req.body, buf + r->body, r->body_len),
                  "%s: byte-by-byte body", where);
            if (*hdr) {
                char *colon = strchr(hdr, ':');
                *colon = 0;
                size_t vl;
                const char *v = http_header(r, buf, hdr, &vl, 1);
                CHECK(v && vl == strlen(colon + 1) && !memcmp(v, colon + 1, vl),
                      "%s: header %s", where, hdr);
            }
        }
    }
    free(buf);
    free(buf2);
}

static void run_file(const char *path)
{
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "open %s", path);
    if (!f)
        return;
    char line[4096], in[8192];
    size_t n = 0;
    int lineno = 0, cases = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\n")] = 0;
        if (!strncmp(line, "req: ", 5)) {
            n += check_unescape(line + 5, in + n);
        } else if (!strncmp(line, "want: ", 6)) {
            char where[64];
            snprintf(where, sizeof where, "%s:%d", path, lineno);
            run_case(where, in, n, line + 6);
            n = 0;
            cases++;
        }
    }
    fclose(f);
    CHECK(cases >= 20, "cases: %d", cases);
}

static void limits(void)
{
    http_parser p;
    size_t used;
    char *big = malloc(1 << 20);
    /* head larger than max_head: 431, even before the empty line arrives */
    int n = sprintf(big, "GET / HTTP/1.1\r\nX: ");
    memset(big + n, 'a', 9000);
    http_parser_init(&p, 8192, 1024);
    CHECK(http_parse(&p, big, (size_t)n + 9000, &used) == HTTP_EHEAD, "431 head");
    /* too many headers */
    n = sprintf(big, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < HTTP_MAX_HEADERS + 1; i++)
        n += sprintf(big + n, "H%d: v\r\n", i);
    n += sprintf(big + n, "\r\n");
    http_parser_init(&p, 65536, 1024);
    CHECK(http_parse(&p, big, (size_t)n, &used) == HTTP_EHEAD, "too many headers");
    /* body over the limit declared and chunked */
    n = sprintf(big, "POST / HTTP/1.1\r\nContent-Length: 1025\r\n\r\n");
    http_parser_init(&p, 8192, 1024);
    CHECK(http_parse(&p, big, (size_t)n, &used) == HTTP_EBODY, "413 declared");
    n = sprintf(big, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 3; i++) {
        n += sprintf(big + n, "200\r\n");
        memset(big + n, 'x', 512);
        n += 512;
        n += sprintf(big + n, "\r\n");
    }
    http_parser_init(&p, 8192, 1024);
    CHECK(http_parse(&p, big, (size_t)n, &used) == HTTP_EBODY, "413 chunked");
    /* 100-continue: asked once the head is in and no body yet */
    n = sprintf(big, "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    http_parser_init(&p, 8192, 1024);
    CHECK(http_parse(&p, big, (size_t)n, &used) == HTTP_MORE, "waiting for body");
    CHECK(http_wants_continue(&p), "wants 100-continue");
    memcpy(big + n, "abc", 3);
    CHECK(http_parse(&p, big, (size_t)n + 3, &used) == HTTP_DONE, "body after continue");
    CHECK(!http_wants_continue(&p), "no continue after done");
    /* incomplete stays incomplete, with no out-of-bounds reads */
    const char *partial[] = {"", "G", "GET / HTTP/1.1\r", "GET / HTTP/1.1\r\n\r",
                             "POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab",
                             "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab"};
    for (unsigned i = 0; i < sizeof partial / sizeof *partial; i++) {
        size_t l = strlen(partial[i]);
        memcpy(big, partial[i], l);
        http_parser_init(&p, 8192, 1024);
        CHECK(http_parse(&p, big, l, &used) == HTTP_MORE, "partial #%u", i);
    }
    CHECK(!strcmp(http_reason(429), "Too Many Requests"), "reason");
    free(big);
}

int main(int argc, char **argv)
{
    run_file(argc > 1 ? argv[1] : "tests/data/http/requests.cases");
    limits();
    return check_done("test_http");
}
