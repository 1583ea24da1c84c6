/*
 * Tokenizer development harness: loads the spaCy model's `tokenizer` file
 * (msgpack) directly, translates its Python patterns with tok_py2pcre(),
 * builds a special-case table, and compares tok_run() token offsets with
 * the reference JSONL files written by spaCy 2.2.4.  Also runs a few
 * hand-made edge cases and a throughput measurement.
 *
 *   tok_dev MODEL_DIR/tokenizer [--bench] [--show TEXT] FILE.jsonl...
 *
 * Build (not part of the Makefile):
 *   gcc -std=c11 -Wall -Wextra -Werror -O2 -Iinclude -Ilib \
 *       tests/lib/tok_dev.c lib/tokenizer.c lib/unicode.c \
 *       -o /tmp/tok_dev -lpcre2-8 -lmsgpackc -ljansson
 */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nerd/ner.h"
#include "tokenizer.h"
#include "unicode.h"

/* ---- special-case table: open addressing on FNV-1a ---- */

typedef struct sp_entry {
    char *key;
    size_t key_len;
    int np;
    tok_piece pc[TOK_MAX_PIECES];
} sp_entry;

typedef struct sp_table {
    sp_entry *e;
    size_t cap; /* power of two */
    size_t max_key;
} sp_table;

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static sp_entry *sp_slot(const sp_table *t, const char *s, size_t n)
{
    for (size_t i = fnv(s, n) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        sp_entry *e = &t->e[i];
        if (!e->key || (e->key_len == n && memcmp(e->key, s, n) == 0))
            return e;
    }
}

static int sp_lookup(const void *ud, const char *s, size_t n, tok_piece *pc,
                     int max)
{
    const sp_table *t = ud;
    if (n > t->max_key)
        return 0;
    const sp_entry *e = sp_slot(t, s, n);
    if (!e->key || e->np > max)
        return 0;
    memcpy(pc, e->pc, (size_t)e->np * sizeof *pc);
    return e->np;
}

static const msgpack_object *mp_get(const msgpack_object *m, const char *k)
{
    if (m->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object *key = &m->via.map.ptr[i].key;
        if (key->type == MSGPACK_OBJECT_STR && key->via.str.size == strlen(k) &&
            memcmp(key->via.str.ptr, k, key->via.str.size) == 0)
            return &m->via.map.ptr[i].val;
    }
    return NULL;
}

static const msgpack_object *mp_geti(const msgpack_object *m, uint64_t k)
{
    if (m->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object *key = &m->via.map.ptr[i].key;
        if (key->type == MSGPACK_OBJECT_POSITIVE_INTEGER && key->via.u64 == k)
            return &m->via.map.ptr[i].val;
    }
    return NULL;
}

static char *dupn(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p) {
        perror("malloc");
        exit(2);
    }
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

typedef struct loaded {
    msgpack_unpacked up;
    char *data;
    sp_table sp;
    char *pat[4];
} loaded;

static void load(const char *path, loaded *L)
{
    static const char *const keys[4] = {"prefix_search", "suffix_search",
                                        "infix_finditer", "token_match"};
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    L->data = malloc((size_t)len);
    if (!L->data || fread(L->data, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "%s: read failed\n", path);
        exit(2);
    }
    fclose(f);
    msgpack_unpacked_init(&L->up);
    if (msgpack_unpack_next(&L->up, L->data, (size_t)len, NULL) !=
        MSGPACK_UNPACK_SUCCESS) {
        fprintf(stderr, "%s: bad msgpack\n", path);
        exit(2);
    }
    for (int i = 0; i < 4; i++) {
        const msgpack_object *o = mp_get(&L->up.data, keys[i]);
        L->pat[i] = NULL;
        if (!o || o->type != MSGPACK_OBJECT_STR)
            continue;
        if (tok_py2pcre(o->via.str.ptr, o->via.str.size, &L->pat[i])) {
            fprintf(stderr, "cannot translate %s\n", keys[i]);
            exit(2);
        }
    }
    const msgpack_object *ex = mp_get(&L->up.data, "exceptions");
    if (!ex || ex->type != MSGPACK_OBJECT_MAP) {
        fprintf(stderr, "no exceptions\n");
        exit(2);
    }
    size_t cap = 16;
    while (cap < 2 * (size_t)ex->via.map.size)
        cap *= 2;
    L->sp.cap = cap;
    L->sp.max_key = 0;
    L->sp.e = calloc(cap, sizeof *L->sp.e);
    for (uint32_t i = 0; i < ex->via.map.size; i++) {
        const msgpack_object *k = &ex->via.map.ptr[i].key;
        const msgpack_object *v = &ex->via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR || v->type != MSGPACK_OBJECT_ARRAY ||
            v->via.array.size == 0 || v->via.array.size > TOK_MAX_PIECES)
            continue;
        sp_entry *e = sp_slot(&L->sp, k->via.str.ptr, k->via.str.size);
        e->key = dupn(k->via.str.ptr, k->via.str.size);
        e->key_len = k->via.str.size;
        e->np = (int)v->via.array.size;
        if (e->key_len > L->sp.max_key)
            L->sp.max_key = e->key_len;
        for (int p = 0; p < e->np; p++) {
            const msgpack_object *o = mp_geti(&v->via.array.ptr[p], 65);
            const msgpack_object *nm = mp_geti(&v->via.array.ptr[p], 67);
            e->pc[p].len = o && o->type == MSGPACK_OBJECT_STR ? o->via.str.size : 0;
            e->pc[p].norm = NULL;
            e->pc[p].norm_len = 0;
            if (nm && nm->type == MSGPACK_OBJECT_STR) {
                e->pc[p].norm = nm->via.str.ptr;
                e->pc[p].norm_len = nm->via.str.size;
            }
        }
    }
}

/* ---- comparison ---- */

static void show(const char *text, size_t len, const tok_token *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        printf("  [%u,%u) '", t[i].c0, t[i].c1);
        for (uint32_t b = t[i].b0; b < t[i].b1 && b < len; b++) {
            unsigned char c = (unsigned char)text[b];
            if (c < 0x20)
                printf("\\x%02x", c);
            else
                putchar(c);
        }
        printf("'");
        if (t[i].norm)
            printf(" norm='%.*s'", (int)t[i].norm_len, t[i].norm);
        printf("\n");
    }
}

static int check_file(tok_state *st, const char *path, int verbose_max,
                      double *secs, size_t *ntok, size_t *nbytes)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    char *line = NULL;
    size_t lcap = 0;
    ssize_t ll;
    int texts = 0, bad = 0, shown = 0;
    while ((ll = getline(&line, &lcap, f)) > 0) {
        json_error_t je;
        json_t *j = json_loadb(line, (size_t)ll, 0, &je);
        if (!j)
            continue;
        json_t *jt = json_object_get(j, "text");
        json_t *jk = json_object_get(j, "tokens");
        const char *text = json_string_value(jt);
        size_t len = json_string_length(jt);
        const tok_token *t;
        size_t n;
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        int rc = tok_run(st, text, len, &t, &n);
        clock_gettime(CLOCK_MONOTONIC, &b);
        *secs += (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
        *ntok += n;
        *nbytes += len;
        texts++;
        int ok = rc == 0 && json_array_size(jk) == n;
        for (size_t i = 0; ok && i < n; i++) {
            json_t *p = json_array_get(jk, i);
            ok = (json_integer_value(json_array_get(p, 0)) == t[i].c0 &&
                  json_integer_value(json_array_get(p, 1)) == t[i].c1);
        }
        if (!ok) {
            bad++;
            if (shown++ < verbose_max) {
                printf("MISMATCH %s text %d (rc %d): %s\n", path, texts, rc, text);
                size_t i = 0;
                while (i < n && i < json_array_size(jk)) {
                    json_t *p = json_array_get(jk, i);
                    if (json_integer_value(json_array_get(p, 0)) != t[i].c0 ||
                        json_integer_value(json_array_get(p, 1)) != t[i].c1)
                        break;
                    i++;
                }
                printf(" first difference at token %zu\n", i);
                printf(" spaCy:");
                for (size_t k = i > 2 ? i - 2 : 0; k < json_array_size(jk) && k < i + 4; k++) {
                    json_t *p = json_array_get(jk, k);
                    printf(" [%lld,%lld)", json_integer_value(json_array_get(p, 0)),
                           json_integer_value(json_array_get(p, 1)));
                }
                printf("\n ours:\n");
                show(text, len, t + (i > 2 ? i - 2 : 0),
                     (n > i + 4 ? i + 4 : n) - (i > 2 ? i - 2 : 0));
            }
        }
        json_decref(j);
    }
    free(line);
    fclose(f);
    printf("tokens: %s: %d texts, %d mismatched texts\n", path, texts, bad);
    return bad;
}

/* ---- hand-made cases ---- */

static int fails;

static void expect(tok_state *st, const char *name, const char *text, size_t len,
                   int want_n, const char *want)
{
    const tok_token *t;
    size_t n;
    int rc = tok_run(st, text, len, &t, &n);
    char got[4096];
    size_t g = 0;
    got[0] = 0;
    for (size_t i = 0; rc == 0 && i < n && g + 32 < sizeof got; i++)
        g += (size_t)snprintf(got + g, sizeof got - g, "%s%u-%u", i ? " " : "",
                              t[i].c0, t[i].c1);
    int ok = rc == 0 && (want_n < 0 || (size_t)want_n == n) &&
             (!want || strcmp(want, got) == 0);
    printf("%s %s: rc %d, %zu tokens%s%s\n", ok ? "ok  " : "FAIL", name, rc, n,
           want ? ": " : "", want ? got : "");
    if (!ok) {
        fails++;
        if (n < 40)
            show(text, len, t, n);
    }
}

static void hand_cases(tok_state *st)
{
    const char *s = "Alan Turing was born on June 23, 1912, in London, England.";
    expect(st, "turing", s, strlen(s), 15,
           "0-4 5-11 12-15 16-20 21-23 24-28 29-31 31-32 33-37 37-38 39-41 42-48 "
           "48-49 50-57 57-58");
    s = "don't";
    expect(st, "don't", s, strlen(s), 2, "0-2 2-5");
    {
        const tok_token *t;
        size_t n;
        tok_run(st, s, strlen(s), &t, &n);
        int ok = n == 2 && t[1].norm && t[1].norm_len == 3 &&
                 memcmp(t[1].norm, "not", 3) == 0;
        printf("%s n't norm\n", ok ? "ok  " : "FAIL");
        fails += !ok;
    }
    s = "Hello\r\nworld  x\n\n";
    expect(st, "crlf", s, strlen(s), -1, "0-5 5-7 7-12 13-14 14-15 15-17");
    s = "I \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd love it\xf0\x9f\x98\x82\xf0\x9f\x98\x82!";
    expect(st, "emoji", s, strlen(s), -1, NULL);
    s = "Cafe\xcc\x81 na\xcc\x88ive Zo\xc3\xab.";
    expect(st, "combining", s, strlen(s), -1, NULL);
    s = "http://example.com/a?b=c.";
    expect(st, "url", s, strlen(s), -1, NULL);
    s = "(U.S.)";
    expect(st, "(U.S.)", s, strlen(s), -1, NULL);
    s = "$1,000.50";
    expect(st, "money", s, strlen(s), -1, NULL);
    s = "a\0b c\0";
    expect(st, "nul", s, 6, -1, "0-3 4-6");
    s = "   leading and trailing  ";
    expect(st, "spaces", s, strlen(s), -1, NULL);
    expect(st, "empty", "", 0, 0, "");
    s = " ";
    expect(st, "one space", s, 1, 1, "0-1");

    /* large inputs: 10 KB tokens of several kinds, 1 MB texts */
    size_t big = 1 << 20;
    char *b = malloc(big + 1);
    const char *fill[] = {"a", ")", ".", "(a", "a.", "a-", "http://x.com/a",
                          "a:a@", "1+", "\xe2\x80\xa6", "'s", "a:"};
    for (size_t k = 0; k < sizeof fill / sizeof *fill; k++) {
        size_t fl = strlen(fill[k]);
        for (size_t sz = 10240; sz <= big; sz = sz == 10240 ? big : big + 1) {
            size_t m = 0;
            if (k == 6) {
                memcpy(b, fill[k], fl);
                m = fl;
                while (m < sz)
                    b[m++] = 'a';
            } else {
                while (m + fl <= sz) {
                    memcpy(b + m, fill[k], fl);
                    m += fl;
                }
            }
            char name[64];
            snprintf(name, sizeof name, "big '%s' x %zu", fill[k], m / fl);
            struct timespec ta, tb;
            clock_gettime(CLOCK_MONOTONIC, &ta);
            expect(st, name, b, m, -1, NULL);
            clock_gettime(CLOCK_MONOTONIC, &tb);
            printf("      %.3f s\n", (double)(tb.tv_sec - ta.tv_sec) +
                                         1e-9 * (double)(tb.tv_nsec - ta.tv_nsec));
        }
    }
    /* 1 MB of words */
    size_t m = 0;
    while (m + 16 < big) {
        memcpy(b + m, "Hello, world. ", 14);
        m += 14;
    }
    struct timespec ta, tb;
    clock_gettime(CLOCK_MONOTONIC, &ta);
    expect(st, "1 MB words", b, m, -1, NULL);
    clock_gettime(CLOCK_MONOTONIC, &tb);
    printf("      %.3f s\n", (double)(tb.tv_sec - ta.tv_sec) +
                                 1e-9 * (double)(tb.tv_nsec - ta.tv_nsec));
    free(b);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s TOKENIZER_MSGPACK [--hand] [--show TEXT] FILE.jsonl...\n",
                argv[0]);
        return 2;
    }
    loaded L;
    load(argv[1], &L);
    tok_rules *r;
    char err[256];
    int rc = tok_rules_new(L.pat[0], L.pat[1], L.pat[2], L.pat[3], sp_lookup,
                           &L.sp, &r, err, sizeof err);
    if (rc) {
        fprintf(stderr, "tok_rules_new: %d %s\n", rc, err);
        return 2;
    }
    tok_state *st;
    if (tok_state_new(r, &st)) {
        fprintf(stderr, "tok_state_new failed\n");
        return 2;
    }
    int bad = 0;
    double secs = 0;
    size_t ntok = 0, nbytes = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--hand")) {
            hand_cases(st);
        } else if (!strcmp(argv[i], "--show") && i + 1 < argc) {
            const tok_token *t;
            size_t n;
            i++;
            rc = tok_run(st, argv[i], strlen(argv[i]), &t, &n);
            printf("rc %d, %zu tokens\n", rc, n);
            show(argv[i], strlen(argv[i]), t, n);
        } else {
            int b = check_file(st, argv[i], 5, &secs, &ntok, &nbytes);
            bad += b < 0 ? 1 : b;
        }
    }
    if (ntok)
        printf("tok_run: %zu tokens, %zu bytes in %.3f s: %.0f tokens/s, %.1f MB/s\n",
               ntok, nbytes, secs, (double)ntok / secs, (double)nbytes / secs / 1e6);
    if (fails)
        printf("%d hand cases failed\n", fails);
    tok_state_free(st);
    tok_rules_free(r);
    for (size_t i = 0; i < L.sp.cap; i++)
        free(L.sp.e[i].key);
    free(L.sp.e);
    for (int i = 0; i < 4; i++)
        free(L.pat[i]);
    msgpack_unpacked_destroy(&L.up);
    free(L.data);
    return bad || fails ? 1 : 0;
}
