/* Unicode helpers against Python 3's str semantics (values checked with
 * CPython 3.11): isspace/isalpha/isupper/isdigit, lower() with special
 * casing and Final_Sigma, and strict UTF-8 validation. */
#include <string.h>

#include "check.h"
#include "unicode.h"

static int lower_is(const char *in, const char *want)
{
    char out[64];
    size_t n = uni_lower(in, strlen(in), out, sizeof out);
    return n == strlen(want) && memcmp(out, want, n) == 0;
}

int main(void)
{
    /* str.isspace(): includes NBSP, U+2028, \x1c-\x1f; not ZWSP */
    CHECK(uni_isspace(' ') && uni_isspace('\t') && uni_isspace(0xA0), "space");
    CHECK(uni_isspace(0x2028) && uni_isspace(0x1C) && uni_isspace(0x3000), "space 2");
    CHECK(!uni_isspace(0x200B) && !uni_isspace('x'), "not space");
    /* isalpha / isupper / isdigit */
    CHECK(uni_isalpha(0xE9) && uni_isalpha(0xDF) && uni_isalpha(0x4E2D), "alpha");
    CHECK(!uni_isalpha('1') && !uni_isalpha(0x301), "not alpha (digit, combining)");
    CHECK(uni_isupper(0xC9) && !uni_isupper(0xE9) && !uni_isupper(0x1C5), "upper");
    CHECK(uni_isdigit('7') && uni_isdigit(0xB2) && uni_isdigit(0x663), "digit");
    CHECK(!uni_isdigit(0xBD), "1/2 is numeric, not digit");
    /* lower(): full mapping and Final_Sigma */
    CHECK(lower_is("HELLO World", "hello world"), "ascii lower");
    CHECK(lower_is("\xc4\xb0", "i\xcc\x87"), "U+0130 -> i + combining dot");
    CHECK(lower_is("\xce\xa3\xce\x91\xce\xa3", "\xcf\x83\xce\xb1\xcf\x82"), "final sigma");
    CHECK(lower_is("\xce\xa3", "\xcf\x83"), "lone sigma");
    CHECK(lower_is("a\xce\xa3" "b", "a\xcf\x83" "b"), "medial sigma");
    CHECK(lower_is("\xc7\x85", "\xc7\x86"), "titlecase dz");
    CHECK(lower_is("\xe1\xba\x9e", "\xc3\x9f"), "capital sharp s");
    /* UTF-8 validation */
    CHECK(uni_valid("caf\xc3\xa9", 5), "valid");
    CHECK(!uni_valid("caf\xc3", 4), "truncated");
    CHECK(!uni_valid("\xc0\xaf", 2), "overlong");
    CHECK(!uni_valid("\xed\xa0\x80", 3), "surrogate");
    CHECK(!uni_valid("\xf4\x90\x80\x80", 4), "above U+10FFFF");
    CHECK(!uni_valid("\x80", 1) && !uni_valid("\xff", 1), "stray bytes");
    CHECK(uni_valid("a\0b", 3), "NUL is valid");
    uint32_t cp;
    CHECK(uni_decode("\xf0\x9f\x98\x83", 4, &cp) == 4 && cp == 0x1F603, "emoji decode");
    char buf[4];
    CHECK(uni_encode(0x1F603, buf) == 4 && memcmp(buf, "\xf0\x9f\x98\x83", 4) == 0, "encode");
    CHECK(uni_count("Zo\xc3\xab", 4) == 3, "count");
    return check_done("test_unicode");
}
