/*
 * Clocks, HTTP dates and request ids for the platform (see clock.h).
 */
#define _GNU_SOURCE
#include "clock.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

double clk_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

long long clk_epoch_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *clk_http_date(void)
{
    static _Thread_local time_t last;
    static _Thread_local char cached[64];
    time_t t = time(NULL);
    if (t != last) {
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(cached, sizeof cached, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        last = t;
    }
    return cached;
}

static _Thread_local uint64_t rng[4];
static _Thread_local int seeded;

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next64(void)
{
    if (!seeded) {
        if (getrandom(rng, sizeof rng, 0) != (ssize_t)sizeof rng) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            uint64_t s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
                         (uint64_t)getpid() ^ (uint64_t)(uintptr_t)&seeded;
            for (int i = 0; i < 4; i++) { /* splitmix64 */
                s += 0x9e3779b97f4a7c15ULL;
                uint64_t z = s;
                z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
                z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
                rng[i] = z ^ (z >> 31);
            }
        }
        if (!(rng[0] | rng[1] | rng[2] | rng[3]))
            rng[0] = 1;
        seeded = 1;
    }
    uint64_t r = rotl(rng[1] * 5, 7) * 9, t = rng[1] << 17;
    rng[2] ^= rng[0];
    rng[3] ^= rng[1];
    rng[1] ^= rng[2];
    rng[0] ^= rng[3];
    rng[2] ^= t;
    rng[3] = rotl(rng[3], 45);
    return r;
}

void clk_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n) {
        uint64_t r = next64();
        size_t k = n < 8 ? n : 8;
        memcpy(p, &r, k);
        p += k;
        n -= k;
    }
}

void clk_uuid4(char out[37])
{
    unsigned char b[16];
    clk_random(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    static const char hx[] = "0123456789abcdef";
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hx[b[i] >> 4];
        out[o++] = hx[b[i] & 15];
    }
    out[o] = 0;
}

void clk_apigw_id(char out[24])
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char b[15];
    clk_random(b, sizeof b);
    for (int i = 0; i < 15; i++)
        out[i] = al[b[i] & 63];
    out[15] = '=';
    out[16] = 0;
}
