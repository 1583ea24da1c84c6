/*
 * The products API's data (see products_int.h): exact decimal
 * normalisation, the POST body (its price read from the body's own text,
 * since jansson would turn it into a double), DynamoDB items written as
 * product JSON, and the paging token.
 */
#define _DEFAULT_SOURCE
#include "products_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32 /* DynamoDB's nesting limit */

/* ---- exact decimals ------------------------------------------------------------ */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

int prod__decimal(const char *s, size_t n, int json_syntax, char *out, size_t cap,
                  int *negative)
{
    size_t i = 0;
    int neg = 0;
    out[0] = 0;
    if (negative)
        *negative = 0;
    if (i < n && s[i] == '-')
        neg = 1, i++;
    else if (!json_syntax && i < n && s[i] == '+')
        i++;
    size_t int_start = i;
    while (i < n && is_digit(s[i]))
        i++;
    size_t int_len = i - int_start, frac_start = i, frac_len = 0;
    if (json_syntax && (int_len == 0 || (int_len > 1 && s[int_start] == '0')))
        return PROD__NUM_SYNTAX;
    if (i < n && s[i] == '.') {
        frac_start = ++i;
        while (i < n && is_digit(s[i]))
            i++;
        frac_len = i - frac_start;
        if (json_syntax && !frac_len)
            return PROD__NUM_SYNTAX;
    }
    if (!int_len && !frac_len)
        return PROD__NUM_SYNTAX;
    long long exp = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        if (i >= n || !is_digit(s[i]))
            return PROD__NUM_SYNTAX;
        while (i < n && is_digit(s[i])) {
            if (exp < 1000000000)
                exp = exp * 10 + (s[i] - '0');
            i++;
        }
        if (eneg)
            exp = -exp;
    }
    if (i != n)
        return PROD__NUM_SYNTAX;
    /* the significant digits: the integer and fraction digits without the
     * leading and trailing zeros; value = digits × 10^scale */
    char d[40];
    size_t k = 0, total = int_len + frac_len, lead = 0, trail = 0;
#define DIGIT(j) ((j) < int_len ? s[int_start + (j)] : s[frac_start + (j) - int_len])
    while (lead < total && DIGIT(lead) == '0')
        lead++;
    if (lead == total) { /* zero, whatever its sign and exponent */
        if (cap < 2)
            return PROD__NUM_SYNTAX;
        strcpy(out, "0");
        return PROD__NUM_OK;
    }
    while (DIGIT(total - 1 - trail) == '0')
        trail++;
    size_t sig = total - lead - trail;
    if (sig > 38)
        return PROD__NUM_PRECISION;
    for (size_t j = lead; j < total - trail; j++)
        d[k++] = DIGIT(j);
#undef DIGIT
    long long scale = exp - (long long)frac_len + (long long)trail;
    long long e10 = (long long)k + scale; /* value = 0.d1..dk × 10^e10 */
    if (e10 > 126)
        return PROD__NUM_OVERFLOW;
    if (e10 < -129)
        return PROD__NUM_UNDERFLOW;
    size_t need = (size_t)neg + k + 3 + (size_t)(e10 < 0 ? -e10 : e10);
    if (need >= cap)
        return PROD__NUM_SYNTAX;
    size_t o = 0;
    if (neg)
        out[o++] = '-';
    if (e10 <= 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (long long z = 0; z < -e10; z++)
            out[o++] = '0';
        memcpy(out + o, d, k);
        o += k;
    } else if ((size_t)e10 >= k) {
        memcpy(out + o, d, k);
        o += k;
        for (long long z = 0; z < e10 - (long long)k; z++)
            out[o++] = '0';
    } else {
        memcpy(out + o, d, (size_t)e10);
        o += (size_t)e10;
        out[o++] = '.';
        memcpy(out + o, d + e10, k - (size_t)e10);
        o += k - (size_t)e10;
    }
    out[o] = 0;
    if (negative)
        *negative = neg;
    return PROD__NUM_OK;
}

/* ---- the POST body ------------------------------------------------------------------ */

int prod__valid_id(const char *s, size_t n)
{
    if (!n || n > PROD__ID_CAP || (n == 1 && s[0] == '.') || (n == 2 && !memcmp(s, "..", 2)))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' ||
              c == '_' || c == '~' || c == '-'))
            return 0;
    }
    return 1;
}

static size_t skip_ws(const char *s, size_t i, size_t n)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* The index after the string starting at s[i] ('"'), or 0. */
static size_t skip_string(const char *s, size_t i, size_t n)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return 0;
}

/* The index after the value at s[i], or 0. */
static size_t skip_value(const char *s, size_t i, size_t n, int depth)
{
    if (i >= n || depth > 64)
        return 0;
    if (s[i] == '"')
        return skip_string(s, i, n);
    if (s[i] == '{' || s[i] == '[') {
        char close = s[i] == '{' ? '}' : ']';
        i = skip_ws(s, i + 1, n);
        if (i < n && s[i] == close)
            return i + 1;
        for (;;) {
            if (close == '}') {
                if (i >= n || s[i] != '"' || !(i = skip_string(s, i, n)))
                    return 0;
                i = skip_ws(s, i, n);
                if (i >= n || s[i] != ':')
                    return 0;
                i = skip_ws(s, i + 1, n);
            }
            if (!(i = skip_value(s, i, n, depth + 1)))
                return 0;
            i = skip_ws(s, i, n);
            if (i < n && s[i] == ',') {
                i = skip_ws(s, i + 1, n);
                continue;
            }
            return i < n && s[i] == close ? i + 1 : 0;
        }
    }
    size_t st = i;
    while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' &&
           s[i] != '\n' && s[i] != '\r')
        i++;
    return i > st ? i : 0;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Whether the string token s[i..e) ('"' ... '"') decodes to the ASCII key. */
static int key_eq(const char *s, size_t i, size_t e, const char *key)
{
    size_t k = 0;
    for (i++; i + 1 < e; i++, k++) {
        char c = s[i];
        if (c == '\\') {
            if (i + 1 >= e - 1)
                return 0;
            c = s[++i];
            if (c == 'u') {
                int v = 0;
                for (int j = 0; j < 4; j++) {
                    int h = i + 1 < e - 1 ? hexval(s[++i]) : -1;
                    if (h < 0)
                        return 0;
                    v = v * 16 + h;
                }
                if (v >= 0x80)
                    return 0;
                c = (char)v;
            } else if (c != '"' && c != '\\' && c != '/') {
                return 0; /* \b \f \n \r \t: never in our keys */
            }
        }
        if (!key[k] || key[k] != c)
            return 0;
    }
    return !key[k];
}

int prod__raw_member(const char *s, size_t n, const char *key, const char **val, size_t *vlen)
{
    size_t i = skip_ws(s, 0, n);
    int found = -1;
    if (i >= n || s[i] != '{')
        return -1;
    i = skip_ws(s, i + 1, n);
    if (i < n && s[i] == '}')
        return -1;
    for (;;) {
        size_t ks = i, ke;
        if (i >= n || s[i] != '"' || !(ke = skip_string(s, i, n)))
            return -1;
        i = skip_ws(s, ke, n);
        if (i >= n || s[i] != ':')
            return -1;
        size_t vs = skip_ws(s, i + 1, n), ve = skip_value(s, vs, n, 0);
        if (!ve)
            return -1;
        if (key_eq(s, ks, ke, key)) {
            *val = s + vs;
            *vlen = ve - vs;
            found = 0;
        }
        i = skip_ws(s, ve, n);
        if (i < n && s[i] == ',') {
            i = skip_ws(s, i + 1, n);
            continue;
        }
        return i < n && s[i] == '}' ? found : -1;
    }
}

static int bad(const char **err, const char *code, char *msg, size_t cap, const char *text)
{
    *err = code;
    snprintf(msg, cap, "%s", text);
    return 400;
}

int prod__parse_body(const char *body, size_t len, json_t **doc, prod__product *p,
                     const char **err, char *msg, size_t cap)
{
    memset(p, 0, sizeof *p);
    *doc = NULL;
    json_error_t je;
    /* integers as reals: jansson refuses integers beyond 64 bits, which a
     * price of up to 38 digits may be (its exact text is read from body) */
    json_t *j = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL,
                           &je);
    if (!j) {
        *err = "InvalidJSON";
        snprintf(msg, cap, "the body is not valid JSON: %s (at character %d)", je.text,
                 je.position);
        return 400;
    }
    int st = 400;
    const char *k;
    json_t *v;
    if (!json_is_object(j)) {
        bad(err, "InvalidRequest", msg, cap,
            "the body must be a JSON object: {\"name\": \"...\", \"price\": 12.5}");
        goto out;
    }
    json_object_foreach(j, k, v) {
        if (strcmp(k, "id") && strcmp(k, "name") && strcmp(k, "price")) {
            *err = "InvalidProduct";
            snprintf(msg, cap, "unknown field \"%.64s\": a product has id (optional), name and "
                     "price", k);
            goto out;
        }
    }
    json_t *id = json_object_get(j, "id"), *name = json_object_get(j, "name"),
           *price = json_object_get(j, "price");
    if (id) {
        if (!json_is_string(id) || !prod__valid_id(json_string_value(id), json_string_length(id))) {
            bad(err, "InvalidId", msg, cap, "id must be 1 to 128 characters of A-Z a-z 0-9 . _ ~ -"
                " (not . or ..)");
            goto out;
        }
        memcpy(p->id, json_string_value(id), json_string_length(id) + 1);
    }
    if (!name) {
        bad(err, "InvalidProduct", msg, cap, "the product has no \"name\"");
        goto out;
    }
    if (!json_is_string(name) || !json_string_length(name) ||
        json_string_length(name) > PROD__NAME_CAP) {
        bad(err, "InvalidProduct", msg, cap, "\"name\" must be a non-empty string of at most 1024 bytes");
        goto out;
    }
    if (!price) {
        bad(err, "InvalidProduct", msg, cap, "the product has no \"price\"");
        goto out;
    }
    const char *raw;
    size_t rl;
    if (!json_is_number(price) || prod__raw_member(body, len, "price", &raw, &rl)) {
        bad(err, "InvalidProduct", msg, cap, "\"price\" must be a number, e.g. 12.5");
        goto out;
    }
    int neg = 0;
    switch (prod__decimal(raw, rl, 1, p->price, sizeof p->price, &neg)) {
    case PROD__NUM_OK:
        if (!neg)
            break;
        bad(err, "InvalidProduct", msg, cap, "\"price\" must not be negative");
        goto out;
    case PROD__NUM_PRECISION:
        bad(err, "InvalidProduct", msg, cap, "\"price\" has more than 38 significant digits");
        goto out;
    case PROD__NUM_OVERFLOW:
    case PROD__NUM_UNDERFLOW:
        bad(err, "InvalidProduct", msg, cap, "\"price\" is out of DynamoDB's range (1E-130 to "
            "9.9999999999999999999999999999999999999E+125)");
        goto out;
    default:
        bad(err, "InvalidProduct", msg, cap, "\"price\" must be a number, e.g. 12.5");
        goto out;
    }
    p->name = json_string_value(name);
    p->name_len = json_string_length(name);
    *doc = j;
    return 0;
out:
    json_decref(j);
    return st;
}

/* ---- items ---------------------------------------------------------------------------- */

static int put_value(fh_buf *b, json_t *av, int depth);

static int put_number(fh_buf *b, json_t *v)
{
    char num[PROD__NUM_CAP];
    if (!json_is_string(v))
        return -1;
    if (prod__decimal(json_string_value(v), json_string_length(v), 0, num, sizeof num, NULL) ==
        PROD__NUM_OK) {
        fh_puts(b, num);
    } else { /* not a number DynamoDB would keep: shown as it is, a string */
        fh_put(b, "\"", 1);
        fh_put_escaped(b, json_string_value(v), json_string_length(v));
        fh_put(b, "\"", 1);
    }
    return 0;
}

static int put_string(fh_buf *b, json_t *v)
{
    if (!json_is_string(v))
        return -1;
    fh_put(b, "\"", 1);
    fh_put_escaped(b, json_string_value(v), json_string_length(v));
    fh_put(b, "\"", 1);
    return 0;
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An M's members, or an item's: first, in that order, then the rest
 * sorted. */
static int put_map(fh_buf *b, json_t *m, const char *const *first, int depth)
{
    if (!json_is_object(m))
        return -1;
    size_t n = json_object_size(m), k = 0;
    const char **keys = malloc(sizeof *keys * (n ? n : 1));
    const char *key;
    json_t *v;
    if (!keys)
        return -1;
    json_object_foreach(m, key, v) {
        int lead = 0;
        for (size_t f = 0; first && first[f]; f++)
            lead |= !strcmp(key, first[f]);
        if (!lead)
            keys[k++] = key;
    }
    qsort(keys, k, sizeof *keys, cmp_keys);
    int rc = 0, any = 0;
    fh_put(b, "{", 1);
    for (size_t f = 0; first && first[f] && !rc; f++) {
        if (!(v = json_object_get(m, first[f])))
            continue;
        fh_puts(b, any++ ? ",\"" : "\"");
        fh_puts(b, first[f]);
        fh_puts(b, "\":");
        rc = put_value(b, v, depth + 1);
    }
    for (size_t i = 0; i < k && !rc; i++) {
        fh_puts(b, any++ ? ",\"" : "\"");
        fh_put_escaped(b, keys[i], strlen(keys[i]));
        fh_puts(b, "\":");
        rc = put_value(b, json_object_get(m, keys[i]), depth + 1);
    }
    fh_put(b, "}", 1);
    free(keys);
    return rc;
}

/* An L, SS, NS or BS: each element with put. */
static int put_list(fh_buf *b, json_t *a, int (*put)(fh_buf *, json_t *, int), int depth)
{
    size_t i;
    json_t *v;
    if (!json_is_array(a))
        return -1;
    fh_put(b, "[", 1);
    json_array_foreach(a, i, v) {
        if (i)
            fh_put(b, ",", 1);
        if (put(b, v, depth + 1))
            return -1;
    }
    fh_put(b, "]", 1);
    return 0;
}

static int put_string_d(fh_buf *b, json_t *v, int depth) { (void)depth; return put_string(b, v); }
static int put_number_d(fh_buf *b, json_t *v, int depth) { (void)depth; return put_number(b, v); }

/* One AttributeValue: an object with exactly one type member. */
static int put_value(fh_buf *b, json_t *av, int depth)
{
    if (depth > MAX_DEPTH || !json_is_object(av) || json_object_size(av) != 1)
        return -1;
    const char *t = json_object_iter_key(json_object_iter(av));
    json_t *v = json_object_iter_value(json_object_iter(av));
    if (!strcmp(t, "S") || !strcmp(t, "B"))
        return put_string(b, v);
    if (!strcmp(t, "N"))
        return put_number(b, v);
    if (!strcmp(t, "BOOL")) {
        if (!json_is_boolean(v))
            return -1;
        fh_puts(b, json_is_true(v) ? "true" : "false");
        return 0;
    }
    if (!strcmp(t, "NULL")) {
        fh_puts(b, "null");
        return 0;
    }
    if (!strcmp(t, "M"))
        return put_map(b, v, NULL, depth);
    if (!strcmp(t, "L"))
        return put_list(b, v, put_value, depth);
    if (!strcmp(t, "SS") || !strcmp(t, "BS"))
        return put_list(b, v, put_string_d, depth);
    if (!strcmp(t, "NS"))
        return put_list(b, v, put_number_d, depth);
    return -1;
}

int prod__item_json(fh_buf *b, json_t *item)
{
    static const char *const first[] = {"id", "name", "price", NULL};
    return put_map(b, item, first, 0);
}

/* ---- paging tokens ---------------------------------------------------------------------- */

int prod__token_put(fh_buf *b, json_t *key)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    if (!json_is_object(key))
        return -1;
    char *js = json_dumps(key, JSON_COMPACT | JSON_SORT_KEYS);
    if (!js)
        return -1;
    const unsigned char *s = (const unsigned char *)js;
    size_t n = strlen(js);
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) |
                     (i + 2 < n ? s[i + 2] : 0);
        char q[4] = {al[v >> 18], al[(v >> 12) & 63], al[(v >> 6) & 63], al[v & 63]};
        fh_put(b, q, i + 2 < n ? 4 : i + 1 < n ? 3 : 2);
    }
    free(js);
    return 0;
}

json_t *prod__token_get(const char *s, size_t n)
{
    char dec[PROD__TOKEN_CAP / 4 * 3 + 4];
    if (!n || n > PROD__TOKEN_CAP)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || is_digit(s[i]) ||
              s[i] == '-' || s[i] == '_'))
            return NULL;
    long dl = fh_b64_decode(s, n, dec);
    json_error_t je;
    json_t *k = dl > 0 ? json_loadb(dec, (size_t)dl, JSON_REJECT_DUPLICATES, &je) : NULL;
    size_t members = json_object_size(k);
    const char *name;
    json_t *av;
    if (!json_is_object(k) || members < 1 || members > 2)
        goto bad;
    json_object_foreach(k, name, av) {
        const char *t = json_object_iter_key(json_object_iter(av));
        json_t *v = json_object_iter_value(json_object_iter(av));
        if (!*name || !json_is_object(av) || json_object_size(av) != 1 || !json_is_string(v) ||
            (strcmp(t, "S") && strcmp(t, "N") && strcmp(t, "B")))
            goto bad;
    }
    return k;
bad:
    json_decref(k);
    return NULL;
}
