/*
 * Unicode with Python 3 str semantics (see unicode.h): a strict UTF-8
 * decoder, per-code-point properties from a two-level table generated from
 * CPython's unicodedata, and str.lower() with full case mapping and the
 * Final_Sigma rule, exactly as CPython applies it.
 */
#include "unicode.h"

#include <string.h>

#include "unicode_tables.inc"

enum {
    U_SPACE = 1, U_ALPHA = 2, U_UPPER = 4, U_LOWER = 8, U_DIGIT = 16,
    U_CASED = 32, U_IGNORABLE = 64
};

static unsigned props(uint32_t cp)
{
    if (cp >= 0x110000)
        return 0;
    return uni_blocks[uni_index[cp / UNI_BLOCK]][cp % UNI_BLOCK];
}

int uni_decode(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    if (n == 0)
        return 0;
    unsigned c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xC2)
        return 0; /* continuation byte or overlong 2-byte lead */
    if (c < 0xE0) {
        if (n < 2 || (p[1] & 0xC0) != 0x80)
            return 0;
        *cp = ((c & 0x1Fu) << 6) | (p[1] & 0x3Fu);
        return 2;
    }
    if (c < 0xF0) {
        if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        uint32_t v = ((c & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
        if (v < 0x800 || (v >= 0xD800 && v < 0xE000))
            return 0;
        *cp = v;
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
            (p[3] & 0xC0) != 0x80)
            return 0;
        uint32_t v = ((c & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) |
                     ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
        if (v < 0x10000 || v > 0x10FFFF)
            return 0;
        *cp = v;
        return 4;
    }
    return 0;
}

int uni_encode(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

int uni_valid(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        /* ASCII fast path, 8 bytes at a time */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ULL)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        if (!((unsigned char)s[i] & 0x80)) {
            i++;
            continue;
        }
        uint32_t cp;
        int l = uni_decode(s + i, n - i, &cp);
        if (l == 0)
            return 0;
        i += (size_t)l;
    }
    return 1;
}

size_t uni_count(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

int uni_isspace(uint32_t cp) { return (props(cp) & U_SPACE) != 0; }
int uni_isalpha(uint32_t cp) { return (props(cp) & U_ALPHA) != 0; }
int uni_isupper(uint32_t cp) { return (props(cp) & U_UPPER) != 0; }
int uni_islower(uint32_t cp) { return (props(cp) & U_LOWER) != 0; }
int uni_isdigit(uint32_t cp) { return (props(cp) & U_DIGIT) != 0; }

/* Lowercase mapping of cp: writes up to 3 code points, returns count. */
static int lower_map(uint32_t cp, uint32_t out[3])
{
    if (cp < 0x80) {
        out[0] = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
        return 1;
    }
    size_t lo = 0, hi = sizeof uni_lower_map / sizeof *uni_lower_map;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (uni_lower_map[mid][0] < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < sizeof uni_lower_map / sizeof *uni_lower_map &&
        uni_lower_map[lo][0] == cp) {
        int n = 0;
        for (int k = 1; k <= 3 && uni_lower_map[lo][k]; k++)
            out[n++] = uni_lower_map[lo][k];
        return n;
    }
    out[0] = cp;
    return 1;
}

/* CPython's Final_Sigma test for the capital sigma at byte offset i. */
static int final_sigma(const char *s, size_t n, size_t i, size_t next)
{
    /* look back over case-ignorable code points for a cased one */
    size_t j = i;
    int cased_before = 0;
    while (j > 0) {
        size_t k = j - 1;
        while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--;
        uint32_t cp;
        if (uni_decode(s + k, n - k, &cp) <= 0)
            break;
        unsigned p = props(cp);
        if (!(p & U_IGNORABLE)) {
            cased_before = (p & U_CASED) != 0;
            break;
        }
        j = k;
    }
    if (!cased_before)
        return 0;
    for (size_t k = next; k < n;) {
        uint32_t cp;
        int l = uni_decode(s + k, n - k, &cp);
        if (l <= 0)
            break;
        unsigned p = props(cp);
        if (!(p & U_IGNORABLE))
            return !(p & U_CASED);
        k += (size_t)l;
    }
    return 1;
}

size_t uni_lower(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    char buf[16];
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (o < cap)
                out[o] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
            o++;
            i++;
            continue;
        }
        uint32_t cp, m[3];
        int l = uni_decode(s + i, n - i, &cp);
        if (l <= 0) { /* not valid UTF-8: copy the byte */
            if (o < cap)
                out[o] = (char)c;
            o++;
            i++;
            continue;
        }
        int k;
        if (cp == 0x3A3) {
            m[0] = final_sigma(s, n, i, i + (size_t)l) ? 0x3C2 : 0x3C3;
            k = 1;
        } else {
            k = lower_map(cp, m);
        }
        for (int q = 0; q < k; q++) {
            int bl = uni_encode(m[q], buf);
            for (int b = 0; b < bl; b++, o++)
                if (o < cap)
                    out[o] = buf[b];
        }
        i += (size_t)l;
    }
    return o;
}
