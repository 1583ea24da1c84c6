/*
 * Shared helpers of the load lab (see lg_common.h): error strings, clocks,
 * Python-style float formatting for Locust-compatible CSV files, JSON and
 * HTML escaping.
 */
#define _POSIX_C_SOURCE 200809L
#include "lg_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *lg_strerror(lg_err e)
{
    switch (e) {
    case LG_OK: return "success";
    case LG_ENOMEM: return "out of memory";
    case LG_EINVAL: return "invalid argument";
    case LG_ESYNTAX: return "scenario syntax error";
    case LG_ENOENT: return "no such scenario or file";
    case LG_EIO: return "input/output error";
    case LG_ELIMIT: return "limit exceeded";
    case LG_EHOST: return "target must be a loopback http:// URL";
    case LG_ENET: return "network error";
    case LG_EPROTO: return "malformed HTTP response";
    case LG_ECLOSED: return "connection closed before the response";
    }
    return "unknown error";
}

uint64_t lg_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t lg_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

char *lg_pyfloat(double d, char *buf)
{
    if (isnan(d)) {
        strcpy(buf, "nan");
        return buf;
    }
    if (isinf(d)) {
        strcpy(buf, d < 0 ? "-inf" : "inf");
        return buf;
    }
    char *o = buf;
    if (signbit(d)) {
        *o++ = '-';
        d = -d;
    }
    if (d == 0) {
        strcpy(o, "0.0");
        return buf;
    }
    /* shortest %.Ne that reads back as d */
    char e[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec - 1, d);
        if (strtod(e, NULL) == d)
            break;
    }
    char digits[24];
    size_t nd = 0;
    const char *p = e;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && nd < sizeof digits - 1)
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = 0;
    int ex = *p == 'e' ? atoi(p + 1) : 0;
    if (ex >= -4 && ex < 16) {
        if (ex >= 0) {
            for (int i = 0; i <= ex; i++)
                *o++ = (size_t)i < nd ? digits[i] : '0';
            *o++ = '.';
            if ((size_t)ex + 1 < nd)
                for (size_t i = (size_t)ex + 1; i < nd; i++)
                    *o++ = digits[i];
            else
                *o++ = '0';
        } else {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -ex - 1; i++)
                *o++ = '0';
            for (size_t i = 0; i < nd; i++)
                *o++ = digits[i];
        }
        *o = 0;
    } else {
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            for (size_t i = 1; i < nd; i++)
                *o++ = digits[i];
        }
        sprintf(o, "e%c%02d", ex < 0 ? '-' : '+', ex < 0 ? -ex : ex);
    }
    return buf;
}

void lg_json_str(FILE *f, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    putc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                fputs("\\u00", f);
                putc(hex[c >> 4], f);
                putc(hex[c & 15], f);
            } else {
                putc(c, f);
            }
        }
    }
    putc('"', f);
}

void lg_html_str(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: putc(*s, f);
        }
    }
}
