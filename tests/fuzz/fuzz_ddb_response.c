/* libFuzzer target: the DynamoDB client's answer parser
 * (function/ddb_client.c: ddbc__header, ddbc__classify).  The input is an
 * answer as it comes over the wire: a status line, header lines, a blank
 * line and the body (without a blank line: all header lines, empty body).
 * Must never crash, hang or leak; the classification must be one of the
 * three; a 2xx with a CRC header is done only when the CRC is the body's;
 * code, message and request id stay NUL-terminated within their arrays
 * and printable. */
#define _DEFAULT_SOURCE
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ddb_client.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void printable(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == cap)
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
            abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    ddbc__answer a;
    memset(&a, 0, sizeof a);
    int status = 0;
    const char *body = end;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        if (n <= 2 && (p[0] == '\n' || (n == 2 && p[0] == '\r' && p[1] == '\n'))) {
            body = p + n;
            break;
        }
        if (n > 9 && !memcmp(p, "HTTP/1.1 ", 9))
            for (size_t i = 9, k = 0; i < n && k < 3 && p[i] >= '0' && p[i] <= '9'; i++, k++)
                status = (k ? status : 0) * 10 + (p[i] - '0');
        ddbc__header(&a, p, n);
        p += n;
    }
    size_t bl = (size_t)(end - body);
    ddbc_result r;
    memset(&r, 0, sizeof r);
    int k = ddbc__classify(status, &a, body, bl, &r);
    if (k != DDBC__DONE && k != DDBC__RETRY && k != DDBC__FAIL)
        abort();
    if (r.status != status)
        abort();
    if (k == DDBC__DONE) {
        if (status < 200 || status > 299)
            abort();
        if (a.have_crc && (a.bad_crc || a.crc != (uint32_t)crc32(0L, (const unsigned char *)body, (uInt)bl)))
            abort();
    }
    if (a.have_crc && !a.bad_crc && a.crc != (uint32_t)crc32(0L, (const unsigned char *)body, (uInt)bl) &&
        k != DDBC__RETRY)
        abort(); /* a CRC mismatch is always retried */
    if (k != DDBC__DONE && status >= 500 && k != DDBC__RETRY)
        abort();
    printable(r.code, sizeof r.code);
    printable(r.message, sizeof r.message);
    if (strnlen(r.request_id, sizeof r.request_id) == sizeof r.request_id)
        abort();
    return 0;
}
