/*
 * MurmurHash64A and MurmurHash3_x64_128 (public-domain algorithms by Austin
 * Appleby, written here from their description) and the model checksum.
 */
#include "hash.h"

#include <string.h>

static uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8); /* little-endian hosts only; checked in model.c */
    return v;
}

uint64_t hash_murmur64a(const void *key, size_t len, uint64_t seed)
{
    const uint64_t m = 0xc6a4a7935bd1e995ULL;
    const int r = 47;
    const unsigned char *p = key;
    uint64_t h = seed ^ (len * m);
    size_t n8 = len / 8;
    for (size_t i = 0; i < n8; i++) {
        uint64_t k = load64(p + 8 * i);
        k *= m;
        k ^= k >> r;
        k *= m;
        h ^= k;
        h *= m;
    }
    const unsigned char *t = p + 8 * n8;
    switch (len & 7) {
    case 7: h ^= (uint64_t)t[6] << 48; /* fall through */
    case 6: h ^= (uint64_t)t[5] << 40; /* fall through */
    case 5: h ^= (uint64_t)t[4] << 32; /* fall through */
    case 4: h ^= (uint64_t)t[3] << 24; /* fall through */
    case 3: h ^= (uint64_t)t[2] << 16; /* fall through */
    case 2: h ^= (uint64_t)t[1] << 8;  /* fall through */
    case 1: h ^= (uint64_t)t[0];
        h *= m;
    }
    h ^= h >> r;
    h *= m;
    h ^= h >> r;
    return h;
}

static inline uint64_t rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static inline uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

void hash_murmur3_128(const void *key, size_t len, uint32_t seed,
                      uint32_t out[4])
{
    const unsigned char *p = key;
    const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
    uint64_t h1 = seed, h2 = seed, k1, k2;
    size_t nblocks = len / 16;
    for (size_t i = 0; i < nblocks; i++) {
        k1 = load64(p + 16 * i);
        k2 = load64(p + 16 * i + 8);
        k1 *= c1; k1 = rotl64(k1, 31); k1 *= c2; h1 ^= k1;
        h1 = rotl64(h1, 27); h1 += h2; h1 = h1 * 5 + 0x52dce729;
        k2 *= c2; k2 = rotl64(k2, 33); k2 *= c1; h2 ^= k2;
        h2 = rotl64(h2, 31); h2 += h1; h2 = h2 * 5 + 0x38495ab5;
    }
    const unsigned char *t = p + 16 * nblocks;
    size_t rem = len & 15;
    k1 = k2 = 0;
    if (rem > 8) {
        for (size_t i = rem; i > 8; i--)
            k2 = (k2 << 8) | t[i - 1];
        k2 *= c2; k2 = rotl64(k2, 33); k2 *= c1; h2 ^= k2;
    }
    if (rem > 0) {
        size_t e = rem > 8 ? 8 : rem;
        for (size_t i = e; i > 0; i--)
            k1 = (k1 << 8) | t[i - 1];
        k1 *= c1; k1 = rotl64(k1, 31); k1 *= c2; h1 ^= k1;
    }
    h1 ^= len;
    h2 ^= len;
    h1 += h2;
    h2 += h1;
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 += h2;
    h2 += h1;
    out[0] = (uint32_t)h1;
    out[1] = (uint32_t)(h1 >> 32);
    out[2] = (uint32_t)h2;
    out[3] = (uint32_t)(h2 >> 32);
}

uint64_t hash_checksum(const void *buf, size_t len)
{
    /* Four independent multiply-xor lanes over 32-byte blocks, then a
     * MurmurHash64A-style finish: fast (several GB/s) and order-sensitive. */
    const unsigned char *p = buf;
    const uint64_t m = 0xc6a4a7935bd1e995ULL;
    uint64_t h[4] = {0x9e3779b97f4a7c15ULL, 0xbf58476d1ce4e5b9ULL,
                     0x94d049bb133111ebULL, 0x2545f4914f6cdd1dULL};
    size_t nb = len / 32;
    for (size_t i = 0; i < nb; i++) {
        for (int l = 0; l < 4; l++) {
            uint64_t k = load64(p + 32 * i + 8 * l) * m;
            k ^= k >> 47;
            h[l] = (h[l] ^ (k * m)) * m;
        }
    }
    uint64_t r = hash_murmur64a(p + 32 * nb, len - 32 * nb, len);
    for (int l = 0; l < 4; l++)
        r = (r ^ fmix64(h[l])) * m;
    return fmix64(r);
}
