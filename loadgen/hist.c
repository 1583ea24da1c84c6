/*
 * Log-linear latency histogram (see lg_hist.h).  Index layout as in
 * HdrHistogram with a unit of 1 µs: bucket 0 holds 0..2047 one by one;
 * bucket b > 0 holds 1024 sub-buckets of width 2^b from 1024 * 2^(b+1).
 */
#include "lg_hist.h"

#include <string.h>

void lg_hist_reset(lg_hist *h)
{
    if (h->lo <= h->hi && h->hi < LG_HIST_LEN && h->total)
        memset(h->counts + h->lo, 0, (h->hi - h->lo + 1) * sizeof *h->counts);
    else
        memset(h->counts, 0, sizeof h->counts);
    h->total = 0;
    h->min_us = UINT64_MAX;
    h->max_us = 0;
    h->lo = LG_HIST_LEN;
    h->hi = 0;
}

uint64_t lg_hist_lowest(uint32_t i)
{
    int bucket = (int)(i >> (LG_HIST_SUB_BITS - 1)) - 1;
    uint64_t sub = (i & (LG_HIST_HALF - 1)) + LG_HIST_HALF;
    if (bucket < 0) {
        sub -= LG_HIST_HALF;
        bucket = 0;
    }
    return sub << bucket;
}

uint64_t lg_hist_width(uint32_t i)
{
    int bucket = (int)(i >> (LG_HIST_SUB_BITS - 1)) - 1;
    return bucket <= 0 ? 1 : 1ull << bucket;
}

void lg_hist_merge(lg_hist *dst, const lg_hist *src)
{
    if (!src->total)
        return;
    for (uint32_t i = src->lo; i <= src->hi; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    if (src->min_us < dst->min_us)
        dst->min_us = src->min_us;
    if (src->max_us > dst->max_us)
        dst->max_us = src->max_us;
    if (src->lo < dst->lo)
        dst->lo = src->lo;
    if (src->hi > dst->hi)
        dst->hi = src->hi;
}

uint64_t lg_hist_percentile(const lg_hist *h, double p)
{
    if (!h->total)
        return 0;
    if (!(p > 0))
        p = 0;
    return lg_hist_at_rank(h, (uint64_t)((double)h->total * p));
}

uint64_t lg_hist_at_rank(const lg_hist *h, uint64_t rank)
{
    if (!h->total)
        return 0;
    if (rank >= h->total - 1)
        return h->max_us; /* the extremes are known exactly */
    if (rank == 0)
        return h->min_us;
    uint64_t seen = 0;
    for (uint32_t i = h->lo; i <= h->hi; i++) {
        seen += h->counts[i];
        if (seen > rank) {
            uint64_t v = lg_hist_lowest(i) + (lg_hist_width(i) - 1) / 2;
            if (v < h->min_us)
                v = h->min_us;
            if (v > h->max_us)
                v = h->max_us;
            return v;
        }
    }
    return h->max_us;
}

size_t lg_hist_sparse(const lg_hist *h, uint16_t *idx, uint32_t *cnt, size_t cap)
{
    size_t n = 0;
    if (!h->total)
        return 0;
    for (uint32_t i = h->lo; i <= h->hi; i++) {
        if (!h->counts[i])
            continue;
        if (n < cap) {
            idx[n] = (uint16_t)i;
            cnt[n] = h->counts[i] > UINT32_MAX ? UINT32_MAX : (uint32_t)h->counts[i];
        }
        n++;
    }
    return n;
}

void lg_hist_add_sparse(lg_hist *h, const uint16_t *idx, const uint32_t *cnt, size_t n,
                        uint64_t min_us, uint64_t max_us)
{
    for (size_t k = 0; k < n; k++) {
        uint32_t i = idx[k];
        if (i >= LG_HIST_LEN || !cnt[k])
            continue;
        h->counts[i] += cnt[k];
        h->total += cnt[k];
        if (i < h->lo)
            h->lo = i;
        if (i > h->hi)
            h->hi = i;
    }
    if (n && min_us < h->min_us)
        h->min_us = min_us;
    if (n && max_us > h->max_us)
        h->max_us = max_us;
}
