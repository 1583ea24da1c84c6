/*
 * DynamoDB numbers (spec §3.2), exactly: a number is at most 38
 * significant digits with a magnitude between 1E-130 and
 * 9.99...E+125, held as sign, digits and exponent, never as a double.
 * Parsing accepts what the service accepts ("+3", "5.", ".5", "1e3"),
 * printing gives the canonical plain text the service returns ("12.5",
 * "100000", "0.01"), addition is exact, and ddb_dec_key() gives bytes whose
 * memcmp order is the numeric order (the store's sort keys, spec §10.2).
 * Pure functions: thread safe.
 */
#include "ddb_int.h"

#include <stdio.h>
#include <string.h>

#define EXP_MAX 126     /* 0.999..E126 = 9.99..E125 */
#define EXP_MIN (-129)  /* 0.1E-129 = 1E-130 */

/* The service's range and precision rules on an exponent and a digit
 * count (0 digits: zero, always fine). */
static int check(long ex, long nd, ddb_err *e)
{
    if (!nd)
        return 0;
    if (ex > EXP_MAX)
        return ddb_fail(e, DDB_EVALIDATION, "Number overflow. Attempting to store a number with "
                        "magnitude larger than supported range");
    if (ex < EXP_MIN)
        return ddb_fail(e, DDB_EVALIDATION, "Number underflow. Attempting to store a number with "
                        "magnitude smaller than supported range");
    if (nd > DDB_DIGITS)
        return ddb_fail(e, DDB_EVALIDATION,
                        "Attempting to store more than 38 significant digits in a Number");
    return 0;
}

int ddb_dec_parse(const char *s, size_t n, ddb_dec *d, ddb_err *e)
{
    size_t i = 0;
    memset(d, 0, sizeof *d);
    if (!n)
        return ddb_fail(e, DDB_EVALIDATION, "The parameter cannot be converted to a numeric value");
    int neg = 0;
    if (s[i] == '+' || s[i] == '-')
        neg = s[i++] == '-';
    long count = 0;         /* significant digits seen (from the first non-zero) */
    long last_nz = -1;      /* index among them of the last non-zero */
    long lead_frac = 0;     /* zeros between the point and the first significant digit */
    long int_sig = 0;       /* significant digits before the point */
    int point = 0, any = 0;
    for (; i < n; i++) {
        char c = s[i];
        if (c == '.' && !point) {
            point = 1;
            continue;
        }
        if (c < '0' || c > '9')
            break;
        any = 1;
        if (c == '0' && !count) {
            if (point)
                lead_frac++;
            continue;
        }
        if (count < DDB_DIGITS + 2)
            d->d[count] = (unsigned char)(c - '0');
        if (c != '0')
            last_nz = count;
        count++;
        if (!point)
            int_sig++;
    }
    long x = 0;
    if (any && i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int xneg = 0, xany = 0;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            xneg = s[i++] == '-';
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            xany = 1;
            if (x < 100000000)
                x = x * 10 + (s[i] - '0');
        }
        if (!xany)
            any = 0;
        if (xneg)
            x = -x;
    }
    if (!any || i != n) {
        int shown = n > 200 ? 200 : (int)n;
        return ddb_fail(e, DDB_EVALIDATION,
                        "The parameter cannot be converted to a numeric value: %.*s", shown, s);
    }
    if (last_nz < 0) {              /* zero, whatever its sign and exponent */
        memset(d, 0, sizeof *d);
        return 0;
    }
    long ex = (int_sig ? int_sig : -lead_frac) + x;
    if (check(ex, last_nz + 1, e))
        return e->code;
    d->neg = neg;
    d->exp = (int)ex;
    d->nd = (int)last_nz + 1;
    return 0;
}

size_t ddb_dec_format(const ddb_dec *d, char *out)
{
    size_t o = 0;
    if (!d->nd) {
        out[0] = '0';
        out[1] = 0;
        return 1;
    }
    if (d->neg)
        out[o++] = '-';
    if (d->exp <= 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (int k = 0; k < -d->exp; k++)
            out[o++] = '0';
        for (int k = 0; k < d->nd; k++)
            out[o++] = (char)('0' + d->d[k]);
    } else {
        for (int k = 0; k < d->nd || k < d->exp; k++) {
            if (k == d->exp)
                out[o++] = '.';
            out[o++] = (char)('0' + (k < d->nd ? d->d[k] : 0));
        }
    }
    out[o] = 0;
    return o;
}

/* Order of magnitudes |a| and |b|. */
static int cmp_mag(const ddb_dec *a, const ddb_dec *b)
{
    if (!a->nd || !b->nd)
        return (a->nd > 0) - (b->nd > 0);
    if (a->exp != b->exp)
        return a->exp < b->exp ? -1 : 1;
    for (int k = 0; k < a->nd && k < b->nd; k++)
        if (a->d[k] != b->d[k])
            return a->d[k] < b->d[k] ? -1 : 1;
    return (a->nd > b->nd) - (a->nd < b->nd);
}

int ddb_dec_cmp(const ddb_dec *a, const ddb_dec *b)
{
    int sa = !a->nd ? 0 : a->neg ? -1 : 1, sb = !b->nd ? 0 : b->neg ? -1 : 1;
    if (sa != sb)
        return sa < sb ? -1 : 1;
    if (!sa)
        return 0;
    int m = cmp_mag(a, b);
    return sa > 0 ? m : -m;
}

/* Digits by power of ten: w[p - lo] is the digit of 10^p. */
#define SPAN 340

static void spread(const ddb_dec *d, int lo, unsigned char *w)
{
    for (int k = 0; k < d->nd; k++)
        w[d->exp - 1 - k - lo] = d->d[k];
}

int ddb_dec_add(const ddb_dec *a, const ddb_dec *b, int sub, ddb_dec *out, ddb_err *e)
{
    ddb_dec bb = *b;
    if (sub && bb.nd)
        bb.neg = !bb.neg;
    if (!a->nd || !bb.nd) {
        *out = a->nd ? *a : bb;
        return 0;
    }
    int lo = a->exp - a->nd < bb.exp - bb.nd ? a->exp - a->nd : bb.exp - bb.nd;
    int hi = (a->exp > bb.exp ? a->exp : bb.exp);  /* highest power + 1, room for a carry */
    unsigned char x[SPAN] = {0}, y[SPAN] = {0}, r[SPAN] = {0};
    if (hi - lo + 1 > SPAN)
        return check(0, DDB_DIGITS + 1, e);
    int neg;
    const ddb_dec *big = a, *small = &bb;
    if (a->neg == bb.neg) {
        neg = a->neg;
    } else {
        if (cmp_mag(a, &bb) < 0) {
            big = &bb;
            small = a;
        }
        neg = big->neg;
    }
    spread(big, lo, x);
    spread(small, lo, y);
    int width = hi - lo + 1, carry = 0;
    for (int k = 0; k < width; k++) {
        int v = a->neg == bb.neg ? x[k] + y[k] + carry : x[k] - y[k] - carry;
        if (a->neg == bb.neg) {
            carry = v >= 10;
            r[k] = (unsigned char)(carry ? v - 10 : v);
        } else {
            carry = v < 0;
            r[k] = (unsigned char)(carry ? v + 10 : v);
        }
    }
    int top = width - 1, bot = 0;
    while (top >= 0 && !r[top])
        top--;
    memset(out, 0, sizeof *out);
    if (top < 0)
        return 0;
    while (!r[bot])
        bot++;
    int nd = top - bot + 1, ex = top + lo + 1;
    if (check(ex, nd, e))
        return e->code;
    out->neg = neg;
    out->exp = ex;
    out->nd = nd;
    for (int k = 0; k < nd; k++)
        out->d[k] = r[top - k];
    return 0;
}

/* floor(a / 2) for negative a too. */
static int half_floor(int a)
{
    return a >= 0 ? a / 2 : -((-a + 1) / 2);
}

/* The service stores base-100 digits aligned on the decimal point and an
 * exponent byte (and a terminator for negatives): measured against
 * DynamoDB Local 3.3.1 (12 → 2, 123 → 3, 1.5E10 → 3, 0.005 → 2, -1234 →
 * 4, 38 digits → 20, 0 → 1). */
size_t ddb_dec_size(const ddb_dec *d)
{
    if (!d->nd)
        return 1;
    /* digit k (0-based) is the digit of 10^(exp - 1 - k); pairs are the
     * powers {2j, 2j + 1} */
    int pairs = half_floor(d->exp - 1) - half_floor(d->exp - d->nd) + 1;
    return (size_t)(pairs + 1 + d->neg);
}

size_t ddb_dec_key(const ddb_dec *d, unsigned char *out)
{
    size_t o = 0;
    if (!d->nd) {
        out[0] = 0x01;
        return 1;
    }
    unsigned ex = (unsigned)(d->exp + 32768);
    if (!d->neg) {
        out[o++] = 0x02;
        out[o++] = (unsigned char)(ex >> 8);
        out[o++] = (unsigned char)ex;
        for (int k = 0; k < d->nd; k++)
            out[o++] = (unsigned char)('0' + d->d[k]);
    } else {
        ex = 65535u - ex;
        out[o++] = 0x00;
        out[o++] = (unsigned char)(ex >> 8);
        out[o++] = (unsigned char)ex;
        for (int k = 0; k < d->nd; k++)
            out[o++] = (unsigned char)('9' - d->d[k]);
        out[o++] = 0xFF;
    }
    return o;
}

void ddb_dec_from_int(long long v, ddb_dec *d)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%lld", v);
    ddb_err e = {0};
    ddb_dec_parse(buf, (size_t)n, d, &e);   /* 19 digits: always a number */
}
