/*
 * CRC-32 (IEEE 802.3, the polynomial zlib's crc32() uses, reflected,
 * initial and final XOR 0xFFFFFFFF): what DynamoDB's x-amz-crc32 header
 * carries as a decimal number.  Slicing-by-8 tables built once.  Thread
 * safe.
 */
#ifndef NERD_CRC32_H
#define NERD_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* The CRC-32 of p[0..n), continuing from crc (0 to start). */
uint32_t crc32_update(uint32_t crc, const void *p, size_t n);

#endif
