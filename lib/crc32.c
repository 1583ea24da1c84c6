/*
 * CRC-32 (see crc32.h): slicing-by-8 over tables made once
 * (pthread_once), about 1 byte per cycle.
 */
#include "crc32.h"

#include <pthread.h>
#include <string.h>

static uint32_t T[8][256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void make_tables(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        T[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            T[t][i] = T[0][T[t - 1][i] & 0xFF] ^ (T[t - 1][i] >> 8);
}

uint32_t crc32_update(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *b = p;
    pthread_once(&once, make_tables);
    crc = ~crc;
    while (n && ((uintptr_t)b & 7)) {
        crc = T[0][(crc ^ *b++) & 0xFF] ^ (crc >> 8);
        n--;
    }
    while (n >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, b, 4);
        memcpy(&hi, b + 4, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        lo = __builtin_bswap32(lo);
        hi = __builtin_bswap32(hi);
#endif
        lo ^= crc;
        crc = T[7][lo & 0xFF] ^ T[6][(lo >> 8) & 0xFF] ^ T[5][(lo >> 16) & 0xFF] ^
              T[4][lo >> 24] ^ T[3][hi & 0xFF] ^ T[2][(hi >> 8) & 0xFF] ^
              T[1][(hi >> 16) & 0xFF] ^ T[0][hi >> 24];
        b += 8;
        n -= 8;
    }
    while (n--)
        crc = T[0][(crc ^ *b++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}
