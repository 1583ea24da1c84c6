/*
 * The hash functions spaCy v2.2 and thinc use, bit for bit:
 * MurmurHash64A (string IDs, seed 1) and MurmurHash3_x64_128 (HashEmbed
 * keys), both Austin Appleby's public-domain algorithms, plus the fast
 * checksum that guards model files.  Pure functions: thread safe.
 */
#ifndef NERD_HASH_H
#define NERD_HASH_H

#include <stddef.h>
#include <stdint.h>

/* MurmurHash64A of key[0..len) with the given seed. */
uint64_t hash_murmur64a(const void *key, size_t len, uint64_t seed);

/* MurmurHash3_x64_128 of key[0..len); writes the 128-bit result as four
 * little-endian 32-bit words, as thinc reads them. */
void hash_murmur3_128(const void *key, size_t len, uint32_t seed,
                      uint32_t out[4]);

/* 64-bit checksum of buf[0..len) used by the model file format. */
uint64_t hash_checksum(const void *buf, size_t len);

#endif
