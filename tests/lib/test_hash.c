/* MurmurHash64A and MurmurHash3_x64_128 against values of the reference
 * implementation (../shared/specs/sm225/mmh.py), and the checksum. */
#include <string.h>

#include "check.h"
#include "hash.h"

int main(void)
{
    static const struct {
        const char *s;
        unsigned long long h64;
        unsigned h128[4]; /* of the 8-byte id 0x123456789abcdef*(i+1), seed 14 */
    } cases[] = {
        {"", 14313749767032693980ULL, {4071868024u, 851822635u, 2375186343u, 4000174934u}},
        {"a", 11901859001352538922ULL, {2188320714u, 1593229418u, 417150842u, 3996565239u}},
        {"hello world", 2758594965276909933ULL, {4067979611u, 2395717806u, 84046196u, 324272655u}},
        {"Turing", 4320229568459522053ULL, {424798603u, 4023846277u, 916127389u, 4119280432u}},
        {"abcdefghijklmnopqrstuvwxyz", 16547180945892771438ULL,
         {1148519502u, 1671496749u, 4273304303u, 2465500127u}},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof *cases; i++) {
        CHECK(hash_murmur64a(cases[i].s, strlen(cases[i].s), 1) == cases[i].h64,
              "murmur64a(%s)", cases[i].s);
        unsigned long long id = 0x123456789abcdefULL * (i + 1);
        unsigned char key[8];
        for (int b = 0; b < 8; b++)
            key[b] = (unsigned char)(id >> (8 * b));
        uint32_t out[4];
        hash_murmur3_128(key, 8, 14, out);
        CHECK(memcmp(out, cases[i].h128, sizeof out) == 0, "murmur3_128 #%u", i);
    }
    /* checksum: deterministic, sensitive to every byte and to length */
    unsigned char buf[1000];
    for (int i = 0; i < 1000; i++)
        buf[i] = (unsigned char)(i * 7);
    uint64_t c0 = hash_checksum(buf, sizeof buf);
    CHECK(c0 == hash_checksum(buf, sizeof buf), "checksum deterministic");
    int all_differ = 1;
    for (int i = 0; i < 1000; i += 37) {
        buf[i] ^= 1;
        if (hash_checksum(buf, sizeof buf) == c0)
            all_differ = 0;
        buf[i] ^= 1;
    }
    CHECK(all_differ, "checksum detects single-bit flips");
    CHECK(hash_checksum(buf, 999) != c0, "checksum depends on length");
    return check_done("test_hash");
}
