/*
 * Time and identifiers shared by the platform's servers: monotonic and
 * wall-clock milliseconds, and fast random request ids (Lambda's UUIDv4
 * request ids, API Gateway's base64-like `apigw-requestid`).  Ids come from
 * a per-thread xoshiro256** generator seeded once from getrandom(): unique
 * and unpredictable enough for request ids, not for secrets.
 */
#ifndef NERD_CLOCK_H
#define NERD_CLOCK_H

#include <stddef.h>

/* Milliseconds on CLOCK_MONOTONIC (for durations). */
double clk_mono_ms(void);

/* Milliseconds since the Unix epoch (for deadlines and timestamps). */
long long clk_epoch_ms(void);

/* Fills buf[0..n) with pseudo-random bytes.  Thread-safe (per-thread state). */
void clk_random(void *buf, size_t n);

/* The current time as an HTTP Date header value ("Sun, 06 Nov 1994
 * 08:49:37 GMT"), formatted at most once a second per thread.  The string
 * is the calling thread's own and stays valid until its next call. */
const char *clk_http_date(void);

/* Writes a random RFC 4122 version-4 UUID and a NUL into out. */
void clk_uuid4(char out[37]);

/* Writes an API Gateway style request id (16 characters of [A-Za-z0-9-_]
 * and "=") and a NUL into out. */
void clk_apigw_id(char out[24]);

#endif
