/*
 * The load lab's shared definitions (`nerd bench --host`, loadgen/): the
 * error enum of the lg_ library, caps that bound every run, and small
 * helpers used by more than one file — monotonic and wall clocks, Python's
 * float repr (Locust's CSV numbers) and JSON string escaping.
 */
#ifndef NERD_LG_COMMON_H
#define NERD_LG_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Errors of the lg_ library; 0 is success. */
typedef enum lg_err {
    LG_OK = 0,
    LG_ENOMEM,   /* out of memory */
    LG_EINVAL,   /* bad argument or option */
    LG_ESYNTAX,  /* scenario file: syntax or range error (see the message) */
    LG_ENOENT,   /* no such scenario or file */
    LG_EIO,      /* read or write failed */
    LG_ELIMIT,   /* a cap was exceeded (size, duration, connections) */
    LG_EHOST,    /* target is not a loopback http:// URL */
    LG_ENET,     /* socket, connect or epoll failure */
    LG_EPROTO,   /* malformed HTTP response */
    LG_ECLOSED,  /* connection closed before any byte of the response */
} lg_err;

/* Static English text for an lg_err. */
const char *lg_strerror(lg_err e);

/* Caps: every run is bounded in time, connections and sizes. */
#define LG_MAX_USERS 10000          /* virtual users / connections */
#define LG_MAX_RATE 2000000.0       /* open model: arrivals per second */
#define LG_MAX_RUN_S (6 * 3600.0)   /* whole run after --time-scale */
#define LG_MAX_STAGE_S (24 * 3600.0) /* one stage, as written */
#define LG_MAX_STAGES 256
#define LG_MAX_TIMEOUT_S 300.0
#define LG_MAX_TEXTS 100000         /* payload texts */
#define LG_MAX_TEXT 65536           /* bytes of one text */
#define LG_MAX_PAYLOAD_BYTES (256u << 20) /* all preformatted requests together */

/* CLOCK_MONOTONIC and CLOCK_REALTIME in nanoseconds. */
uint64_t lg_mono_ns(void);
uint64_t lg_wall_ns(void);

/* Writes d as Python's repr(float) does (shortest round-trip digits,
 * "1.0" not "1", exponent form outside 1e-4 <= |d| < 1e16) into buf
 * (>= 32 bytes); returns buf. */
char *lg_pyfloat(double d, char *buf);

/* Writes s[0..n) to f as a JSON string with quotes (control characters
 * escaped, bytes >= 0x80 copied). */
void lg_json_str(FILE *f, const char *s, size_t n);

/* Writes s to f with &, <, >, " escaped for HTML. */
void lg_html_str(FILE *f, const char *s);

#endif
