/*
 * Latency histogram of the load lab: log-linear buckets as HdrHistogram
 * lays them out — 2048 sub-buckets per power of two, so every value from
 * 1 µs to 2.4 h is kept to better than 3 significant digits (values under
 * 2048 µs exactly).  The range covers the longest request timeout (300 s)
 * and an open-model latency corrected across a stall of hours.  Recording
 * is a shift and an add; histograms merge bucket by bucket, and a compact
 * sparse form (non-zero buckets only) keeps one histogram per second of a
 * run.  Not thread safe: one owner.
 */
#ifndef NERD_LG_HIST_H
#define NERD_LG_HIST_H

#include <stddef.h>
#include <stdint.h>

#define LG_HIST_MAX_US ((1ull << 33) - 1) /* 2.39 h; larger values are clamped */
#define LG_HIST_SUB_BITS 11        /* 2048 sub-buckets */
#define LG_HIST_HALF (1u << (LG_HIST_SUB_BITS - 1))
#define LG_HIST_BUCKETS 23         /* 2048 << 22 = 2^33 µs */
#define LG_HIST_LEN ((LG_HIST_BUCKETS + 1) * LG_HIST_HALF) /* 24576: fits the sparse uint16_t index */

typedef struct lg_hist {
    uint64_t total;            /* values recorded */
    uint64_t min_us, max_us;   /* exact extremes (min UINT64_MAX when empty) */
    uint32_t lo, hi;           /* touched index range [lo, hi] (lo > hi: none) */
    uint64_t counts[LG_HIST_LEN];
} lg_hist;

/* Empties h.  To initialise one, zero it (calloc, memset) and reset it. */
void lg_hist_reset(lg_hist *h);

/* Bucket index of a value in µs (clamped to LG_HIST_MAX_US). */
static inline uint32_t lg_hist_index(uint64_t us)
{
    if (us > LG_HIST_MAX_US)
        us = LG_HIST_MAX_US;
    unsigned pow2 = 64u - (unsigned)__builtin_clzll(us | ((1u << LG_HIST_SUB_BITS) - 1));
    unsigned bucket = pow2 - LG_HIST_SUB_BITS;
    uint32_t sub = (uint32_t)(us >> bucket);
    return ((bucket + 1) << (LG_HIST_SUB_BITS - 1)) + sub - LG_HIST_HALF;
}

/* Records one value (µs). */
static inline void lg_hist_add(lg_hist *h, uint64_t us)
{
    uint32_t i = lg_hist_index(us);
    h->counts[i]++;
    h->total++;
    if (us < h->min_us)
        h->min_us = us;
    if (us > h->max_us)
        h->max_us = us;
    if (i < h->lo)
        h->lo = i;
    if (i > h->hi)
        h->hi = i;
}

/* Lowest value of bucket i and the bucket's width (µs). */
uint64_t lg_hist_lowest(uint32_t i);
uint64_t lg_hist_width(uint32_t i);

/* dst += src. */
void lg_hist_merge(lg_hist *dst, const lg_hist *src);

/* The value at fraction p (0..1) with Locust's rank rule: the sorted
 * value at index min(floor(N * p), N - 1); a bucket stands for its middle,
 * clamped to the exact min and max.  0 when empty. */
uint64_t lg_hist_percentile(const lg_hist *h, double p);

/* The sorted value at 0-based rank (clamped to N - 1): the exact min and
 * max at the ends, else its bucket's middle clamped to them; 0 when empty. */
uint64_t lg_hist_at_rank(const lg_hist *h, uint64_t rank);

/* Non-zero buckets of h: writes up to cap (index, count) pairs and
 * returns how many there are (call with cap 0 to size the arrays). */
size_t lg_hist_sparse(const lg_hist *h, uint16_t *idx, uint32_t *cnt, size_t cap);

/* Adds n sparse pairs (from lg_hist_sparse) to h; min and max are set
 * from the given exact extremes. */
void lg_hist_add_sparse(lg_hist *h, const uint16_t *idx, const uint32_t *cnt, size_t n,
                        uint64_t min_us, uint64_t max_us);

#endif
