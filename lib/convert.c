/*
 * Converter from spaCy v2.2 model directories to nerd model files.
 * Uses Debian's msgpack-c for thinc's msgpack and jansson for JSON; the
 * Python regexes are translated to PCRE2 syntax once, here.
 */
#define _DEFAULT_SOURCE
#include "convert.h"

#include <errno.h>
#include <jansson.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "hash.h"
#include "model.h"
#include "tokenizer.h"

typedef struct buf {
    unsigned char *p;
    size_t n, cap;
    int oom;
} buf;

static void buf_reserve(buf *b, size_t extra)
{
    if (b->oom || b->n + extra <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + extra)
        cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return;
    }
    b->p = p;
    b->cap = cap;
}

static size_t buf_add(buf *b, const void *data, size_t len)
{
    buf_reserve(b, len);
    if (b->oom)
        return 0;
    size_t off = b->n;
    if (len)
        memcpy(b->p + b->n, data, len);
    b->n += len;
    return off;
}

static void buf_align(buf *b, size_t a)
{
    static const unsigned char z[64];
    while (b->n % a && !b->oom)
        buf_add(b, z, 1);
}

typedef struct conv {
    char *err;
    size_t errlen;
    buf pool;
} conv;

static int fail(conv *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(conv *c, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
    return rc;
}

static int read_file(conv *c, const char *path, unsigned char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(c, NER_ESOURCE, "%s: %s", path, strerror(errno));
    buf b = {0};
    unsigned char tmp[65536];
    size_t r;
    while ((r = fread(tmp, 1, sizeof tmp, f)) > 0)
        buf_add(&b, tmp, r);
    int bad = ferror(f) || b.oom;
    fclose(f);
    if (bad) {
        free(b.p);
        return fail(c, NER_ESOURCE, "%s: read error", path);
    }
    *out = b.p;
    *len = b.n;
    return NER_OK;
}

/* ---- msgpack helpers ---- */

static int mp_streq(const msgpack_object *o, const char *s)
{
    size_t n = strlen(s);
    if (o->type == MSGPACK_OBJECT_STR)
        return o->via.str.size == n && memcmp(o->via.str.ptr, s, n) == 0;
    if (o->type == MSGPACK_OBJECT_BIN)
        return o->via.bin.size == n && memcmp(o->via.bin.ptr, s, n) == 0;
    return 0;
}

static const msgpack_object *mp_get(const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < map->via.map.size; i++)
        if (mp_streq(&map->via.map.ptr[i].key, key))
            return &map->via.map.ptr[i].val;
    return NULL;
}

static const msgpack_object *mp_getint(const msgpack_object *map, uint64_t key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_POSITIVE_INTEGER && k->via.u64 == key)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

static int mp_bytes(const msgpack_object *o, const char **p, size_t *n)
{
    if (!o)
        return 0;
    if (o->type == MSGPACK_OBJECT_STR) {
        *p = o->via.str.ptr;
        *n = o->via.str.size;
        return 1;
    }
    if (o->type == MSGPACK_OBJECT_BIN) {
        *p = o->via.bin.ptr;
        *n = o->via.bin.size;
        return 1;
    }
    return 0;
}

/* Repacks row-major B (K x N) into N/24 panels of K x 24 (engine.h). */
static int pack_panels(float *w, size_t K, size_t N)
{
    float *t = malloc(K * N * sizeof *t);
    if (!t)
        return NER_ENOMEM;
    nn_pack(w, N, 0, (int)K, (int)N, t);
    memcpy(w, t, K * N * sizeof *t);
    free(t);
    return NER_OK;
}

/* Finds param `name` of weights[idx] and checks its shape; returns floats. */
static int get_param(conv *c, const msgpack_object *weights, uint32_t idx,
                     const char *name, const uint32_t *shape, int nd,
                     const float **out)
{
    if (idx >= weights->via.array.size)
        return fail(c, NER_ESOURCE, "ner/model: no layer %u", idx);
    const msgpack_object *params = mp_get(&weights->via.array.ptr[idx], "params");
    if (!params || params->type != MSGPACK_OBJECT_ARRAY)
        return fail(c, NER_ESOURCE, "ner/model: layer %u has no params", idx);
    for (uint32_t i = 0; i < params->via.array.size; i++) {
        const msgpack_object *p = &params->via.array.ptr[i];
        const msgpack_object *nm = mp_get(p, "name");
        if (!nm || !mp_streq(nm, name))
            continue;
        const msgpack_object *v = mp_get(p, "value");
        const msgpack_object *sh = mp_get(v, "shape");
        const msgpack_object *ty = mp_get(v, "type");
        const char *data;
        size_t dn;
        if (!sh || sh->type != MSGPACK_OBJECT_ARRAY || !ty ||
            !mp_streq(ty, "<f4") || !mp_bytes(mp_get(v, "data"), &data, &dn))
            return fail(c, NER_ESOURCE, "ner/model: layer %u %s: bad array",
                        idx, name);
        size_t count = 1;
        if ((int)sh->via.array.size != nd)
            return fail(c, NER_ESOURCE, "ner/model: layer %u %s: rank %u, want %d",
                        idx, name, sh->via.array.size, nd);
        for (int d = 0; d < nd; d++) {
            const msgpack_object *x = &sh->via.array.ptr[d];
            if (x->type != MSGPACK_OBJECT_POSITIVE_INTEGER || x->via.u64 != shape[d])
                return fail(c, NER_ESOURCE,
                            "ner/model: layer %u %s: dim %d is not %u", idx,
                            name, d, shape[d]);
            count *= shape[d];
        }
        if (dn != count * 4)
            return fail(c, NER_ESOURCE, "ner/model: layer %u %s: %zu bytes",
                        idx, name, dn);
        *out = (const float *)(const void *)data;
        return NER_OK;
    }
    return fail(c, NER_ESOURCE, "ner/model: layer %u has no param %s", idx, name);
}

static float rdf(const float *p, size_t i)
{
    float f;
    memcpy(&f, (const char *)p + 4 * i, 4); /* msgpack data is unaligned */
    return f;
}

/* ---- tensors ---- */

static int build_tensors(conv *c, const msgpack_object *w, buf *out)
{
    static const uint32_t emb_idx[4] = {37, 38, 36, 29}; /* norm prefix suffix shape */
    uint32_t hdr[16] = {0};
    const float *emb[4];
    int rc;
    for (int i = 0; i < 4; i++) {
        const msgpack_object *layer = &w->via.array.ptr[emb_idx[i]];
        const msgpack_object *dims = mp_get(layer, "dims");
        const msgpack_object *nv = mp_get(dims, "nV");
        const msgpack_object *seed = mp_get(layer, "seed");
        if (!nv || nv->type != MSGPACK_OBJECT_POSITIVE_INTEGER || !seed ||
            seed->type != MSGPACK_OBJECT_POSITIVE_INTEGER || nv->via.u64 == 0 ||
            nv->via.u64 > (1u << 20))
            return fail(c, NER_ESOURCE, "ner/model: layer %u is not a HashEmbed",
                        emb_idx[i]);
        hdr[i] = (uint32_t)nv->via.u64;
        hdr[4 + i] = (uint32_t)seed->via.u64;
        uint32_t sh[2] = {hdr[i], NN_W};
        if ((rc = get_param(c, w, emb_idx[i], "vectors", sh, 2, &emb[i])))
            return rc;
    }
    size_t offs[MODEL_N_TENSORS];
    size_t nfl = model__tensor_layout(hdr, NN_CLS_PAD, offs, MODEL_N_TENSORS);
    float *f = calloc(nfl ? nfl : 1, sizeof *f);
    if (!f)
        return fail(c, NER_ENOMEM, "out of memory");
    int k = 0;
    for (int i = 0; i < 4; i++) {
        size_t n = (size_t)hdr[i] * NN_W;
        for (size_t j = 0; j < n; j++)
            f[offs[k] + j] = rdf(emb[i], j);
        k++;
    }
    /* maxout layers: W[o][p][i] -> out[i][p*96+o]; b[o][p] -> out[p*96+o] */
    const float *W, *B, *G, *Bt;
    struct { uint32_t wi, lni, nin; } mx[1 + NN_DEPTH] = {
        {30, 19, NN_EMB_IN}, {31, 21, NN_WIN}, {32, 23, NN_WIN},
        {33, 25, NN_WIN}, {34, 27, NN_WIN}};
    for (int l = 0; l < 1 + NN_DEPTH; l++) {
        uint32_t shw[3] = {NN_W, NN_P, mx[l].nin}, shb[2] = {NN_W, NN_P},
                 shg[1] = {NN_W};
        if ((rc = get_param(c, w, mx[l].wi, "W", shw, 3, &W)) ||
            (rc = get_param(c, w, mx[l].wi, "b", shb, 2, &B)) ||
            (rc = get_param(c, w, mx[l].lni, "G", shg, 1, &G)) ||
            (rc = get_param(c, w, mx[l].lni, "b", shg, 1, &Bt))) {
            free(f);
            return rc;
        }
        float *ow = f + offs[k++], *ob = f + offs[k++], *og = f + offs[k++],
              *obt = f + offs[k++];
        for (uint32_t o = 0; o < NN_W; o++)
            for (uint32_t p = 0; p < NN_P; p++) {
                for (uint32_t i = 0; i < mx[l].nin; i++)
                    ow[(size_t)i * NN_P * NN_W + p * NN_W + o] =
                        rdf(W, ((size_t)o * NN_P + p) * mx[l].nin + i);
                ob[p * NN_W + o] = rdf(B, o * NN_P + p);
            }
        for (uint32_t o = 0; o < NN_W; o++) {
            og[o] = rdf(G, o);
            obt[o] = rdf(Bt, o);
        }
        if (pack_panels(ow, mx[l].nin, NN_P * NN_W)) {
            free(f);
            return fail(c, NER_ENOMEM, "out of memory");
        }
    }
    /* parser lower: W[f][o][p][i] -> out[i][f*128 + p*64 + o] */
    uint32_t shl[4] = {NN_NF, NN_H, NN_HP, NN_W}, shlb[2] = {NN_H, NN_HP},
             shp[4] = {1, NN_NF, NN_H, NN_HP};
    const float *P;
    if ((rc = get_param(c, w, 2, "W", shl, 4, &W)) ||
        (rc = get_param(c, w, 2, "b", shlb, 2, &B)) ||
        (rc = get_param(c, w, 2, "pad", shp, 4, &P))) {
        free(f);
        return rc;
    }
    float *lw = f + offs[k++], *lb = f + offs[k++], *lp = f + offs[k++];
    for (uint32_t fi = 0; fi < NN_NF; fi++)
        for (uint32_t o = 0; o < NN_H; o++)
            for (uint32_t p = 0; p < NN_HP; p++) {
                for (uint32_t i = 0; i < NN_W; i++)
                    lw[(size_t)i * NN_LOWER + fi * NN_HP * NN_H + p * NN_H + o] =
                        rdf(W, (((size_t)fi * NN_H + o) * NN_HP + p) * NN_W + i);
                lp[fi * NN_HP * NN_H + p * NN_H + o] =
                    rdf(P, ((size_t)fi * NN_H + o) * NN_HP + p);
            }
    for (uint32_t o = 0; o < NN_H; o++)
        for (uint32_t p = 0; p < NN_HP; p++)
            lb[p * NN_H + o] = rdf(B, o * NN_HP + p);
    if (pack_panels(lw, NN_W, NN_LOWER)) {
        free(f);
        return fail(c, NER_ENOMEM, "out of memory");
    }
    /* parser upper: W[c][h] -> out[h][c] padded to 80 */
    const msgpack_object *updims = mp_get(&w->via.array.ptr[3], "dims");
    const msgpack_object *nO = mp_get(updims, "nO");
    if (!nO || nO->type != MSGPACK_OBJECT_POSITIVE_INTEGER || nO->via.u64 == 0 ||
        nO->via.u64 > NN_CLS_PAD) {
        free(f);
        return fail(c, NER_ESOURCE, "ner/model: bad output layer");
    }
    uint32_t ncls = (uint32_t)nO->via.u64;
    uint32_t shu[2] = {ncls, NN_H}, shub[1] = {ncls};
    if ((rc = get_param(c, w, 3, "W", shu, 2, &W)) ||
        (rc = get_param(c, w, 3, "b", shub, 1, &B))) {
        free(f);
        return rc;
    }
    float *uw = f + offs[k++], *ub = f + offs[k++];
    for (uint32_t cc = 0; cc < ncls; cc++) {
        for (uint32_t h = 0; h < NN_H; h++)
            uw[h * NN_CLS_PAD + cc] = rdf(W, (size_t)cc * NN_H + h);
        ub[cc] = rdf(B, cc);
    }
    hdr[8] = ncls;
    buf_add(out, hdr, sizeof hdr);
    buf_add(out, f, nfl * sizeof *f);
    free(f);
    return out->oom ? fail(c, NER_ENOMEM, "out of memory") : NER_OK;
}

/* ---- moves ---- */

static const char *const MOVE_NAMES[6] = {"", "B", "I", "L", "U", "O"};

typedef struct lab { const char *name; long long freq; } lab;

static int lab_cmp_desc(const void *a, const void *b)
{
    const lab *x = a, *y = b;
    if (x->freq != y->freq)
        return x->freq < y->freq ? 1 : -1;
    return -strcmp(x->name, y->name);
}

static int build_moves(conv *c, const char *dir, uint32_t ncls_expected,
                       buf *classes, buf *labels)
{
    char path[4096];
    unsigned char *data = NULL;
    size_t len;
    int rc;
    snprintf(path, sizeof path, "%s/ner/moves", dir);
    if ((rc = read_file(c, path, &data, &len)))
        return rc;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    json_t *js = NULL;
    const char *s;
    size_t sn;
    if (msgpack_unpack_next(&up, (const char *)data, len, NULL) !=
            MSGPACK_UNPACK_SUCCESS ||
        !mp_bytes(mp_get(&up.data, "moves"), &s, &sn)) {
        rc = fail(c, NER_ESOURCE, "%s: not a msgpack map with 'moves'", path);
        goto out;
    }
    json_error_t je;
    js = json_loadb(s, sn, 0, &je);
    if (!json_is_object(js)) {
        rc = fail(c, NER_ESOURCE, "%s: moves: %s", path, je.text);
        goto out;
    }
    /* label names: in order of first appearance in action 1 (BEGIN) sorted
     * by frequency, which is the class order for BEGIN too */
    const char *names[64];
    int nnames = 0;
    uint32_t ncls = 0;
    model_class cls[NN_CLS_PAD];
    for (int a = 0; a <= 5; a++) {
        char key[16];
        snprintf(key, sizeof key, "%d", a);
        json_t *m = json_object_get(js, key);
        if (!json_is_object(m))
            continue;
        lab labs[64];
        int nl = 0;
        const char *k;
        json_t *v;
        json_object_foreach(m, k, v) {
            if (nl >= 64 || !json_is_integer(v)) {
                rc = fail(c, NER_ESOURCE, "%s: action %d: bad labels", path, a);
                goto out;
            }
            labs[nl].name = k;
            labs[nl++].freq = json_integer_value(v);
        }
        qsort(labs, (size_t)nl, sizeof *labs, lab_cmp_desc);
        for (int i = 0; i < nl; i++) {
            if (labs[i].freq < 0)
                continue;
            if (a == 0 || ncls >= NN_CLS_PAD) {
                rc = fail(c, NER_ESOURCE, "%s: unexpected move %d", path, a);
                goto out;
            }
            int li = -1;
            if (labs[i].name[0]) {
                for (int j = 0; j < nnames; j++)
                    if (!strcmp(names[j], labs[i].name))
                        li = j;
                if (li < 0) {
                    if (nnames >= 64) {
                        rc = fail(c, NER_ESOURCE, "%s: too many labels", path);
                        goto out;
                    }
                    names[nnames] = labs[i].name;
                    li = nnames++;
                }
            }
            cls[ncls].move = (int16_t)a;
            cls[ncls].label = (int16_t)li;
            ncls++;
        }
    }
    (void)MOVE_NAMES;
    if (ncls != ncls_expected) {
        rc = fail(c, NER_ESOURCE, "%s: %u classes but the model scores %u",
                  path, ncls, ncls_expected);
        goto out;
    }
    uint32_t n32 = ncls;
    buf_add(classes, &n32, 4);
    buf_add(classes, cls, ncls * sizeof *cls);
    n32 = (uint32_t)nnames;
    buf_add(labels, &n32, 4);
    for (int i = 0; i < nnames; i++)
        buf_add(labels, names[i], strlen(names[i]) + 1);
    rc = (classes->oom || labels->oom) ? fail(c, NER_ENOMEM, "out of memory") : 0;
out:
    json_decref(js);
    msgpack_unpacked_destroy(&up);
    free(data);
    return rc;
}

/* ---- hash tables ---- */

typedef struct kv {
    const char *key;
    uint32_t key_len;
    uint64_t value;
} kv;

static int kv_cmp(const void *a, const void *b)
{
    const kv *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int r = memcmp(x->key, y->key, n);
    if (r)
        return r;
    return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* Sorts items, drops later duplicates, writes the table (keys into pool). */
static int build_table(conv *c, kv *items, size_t n, buf *out)
{
    qsort(items, n, sizeof *items, kv_cmp);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || kv_cmp(&items[m - 1], &items[i]) != 0)
            items[m++] = items[i];
    uint32_t nb = 16;
    while (nb < 2 * m)
        nb *= 2;
    uint32_t *slots = calloc(nb, 4);
    model_table_entry *e = calloc(m ? m : 1, sizeof *e);
    if (!slots || !e) {
        free(slots);
        free(e);
        return fail(c, NER_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < m; i++) {
        e[i].hash = hash_murmur64a(items[i].key, items[i].key_len, 1);
        e[i].key_off = (uint32_t)buf_add(&c->pool, items[i].key, items[i].key_len);
        e[i].key_len = items[i].key_len;
        e[i].value = items[i].value;
        uint32_t s = (uint32_t)e[i].hash & (nb - 1);
        while (slots[s])
            s = (s + 1) & (nb - 1);
        slots[s] = (uint32_t)i + 1;
    }
    model_table_hdr h = {nb, (uint32_t)m};
    buf_add(out, &h, sizeof h);
    buf_add(out, slots, (size_t)nb * 4);
    buf_add(out, e, m * sizeof *e);
    free(slots);
    free(e);
    return out->oom || c->pool.oom ? fail(c, NER_ENOMEM, "out of memory") : 0;
}

static int build_json_tables(conv *c, const char *specs, buf *norms, buf *syms)
{
    char path[4096];
    json_error_t je;
    int rc = NER_OK;
    kv *items = NULL;
    snprintf(path, sizeof path, "%s/norm_exceptions.json", specs);
    json_t *nj = json_load_file(path, 0, &je);
    snprintf(path, sizeof path, "%s/symbols.json", specs);
    json_t *sj = json_load_file(path, 0, &je);
    if (!json_is_object(nj) || !json_is_object(sj)) {
        rc = fail(c, NER_ESOURCE, "%s/{norm_exceptions,symbols}.json: %s (line %d)",
                  specs, je.text, je.line);
        goto out;
    }
    json_t *order = json_object_get(nj, "lookup_order");
    size_t cap = 0;
    const char *k;
    json_t *v;
    size_t oi;
    json_t *tn;
    json_array_foreach(order, oi, tn) {
        json_t *t = json_object_get(nj, json_string_value(tn) ? json_string_value(tn) : "");
        if (json_is_object(t))
            cap += json_object_size(t);
    }
    items = calloc(cap + 1, sizeof *items);
    if (!items) {
        rc = fail(c, NER_ENOMEM, "out of memory");
        goto out;
    }
    /* earlier tables win: add in lookup order with a rank, stable-dedupe */
    size_t n = 0;
    json_array_foreach(order, oi, tn) {
        json_t *t = json_object_get(nj, json_string_value(tn) ? json_string_value(tn) : "");
        if (!json_is_object(t))
            continue; /* "lowercase" is the built-in fallback */
        json_object_foreach(t, k, v) {
            if (!json_is_string(v)) {
                rc = fail(c, NER_ESOURCE, "norm_exceptions.json: %s: not a string", k);
                goto out;
            }
            int dup = 0;
            for (size_t j = 0; j < n && !dup; j++)
                dup = strcmp(items[j].key, k) == 0;
            if (dup)
                continue;
            const char *val = json_string_value(v);
            size_t vl = json_string_length(v);
            uint64_t off = buf_add(&c->pool, val, vl);
            items[n].key = k;
            items[n].key_len = (uint32_t)strlen(k);
            items[n].value = off << 32 | (uint64_t)vl;
            n++;
        }
    }
    if ((rc = build_table(c, items, n, norms)))
        goto out;
    free(items);
    items = calloc(json_object_size(sj) + 1, sizeof *items);
    if (!items) {
        rc = fail(c, NER_ENOMEM, "out of memory");
        goto out;
    }
    n = 0;
    json_object_foreach(sj, k, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0) {
            rc = fail(c, NER_ESOURCE, "symbols.json: %s: not an id", k);
            goto out;
        }
        items[n].key = k;
        items[n].key_len = (uint32_t)strlen(k);
        items[n].value = (uint64_t)json_integer_value(v);
        n++;
    }
    rc = build_table(c, items, n, syms);
out:
    free(items);
    json_decref(nj);
    json_decref(sj);
    return rc;
}

/* ---- tokenizer rules ---- */

static int build_tokenizer(conv *c, const char *dir, buf *patterns, buf *specials)
{
    static const char *const keys[4] = {"prefix_search", "suffix_search",
                                        "infix_finditer", "token_match"};
    char path[4096];
    unsigned char *data = NULL;
    size_t len;
    int rc;
    kv *items = NULL;
    snprintf(path, sizeof path, "%s/tokenizer", dir);
    if ((rc = read_file(c, path, &data, &len)))
        return rc;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    if (msgpack_unpack_next(&up, (const char *)data, len, NULL) !=
            MSGPACK_UNPACK_SUCCESS ||
        up.data.type != MSGPACK_OBJECT_MAP) {
        rc = fail(c, NER_ESOURCE, "%s: not a msgpack map", path);
        goto out;
    }
    for (int i = 0; i < 4; i++) {
        const char *s;
        size_t sn;
        const msgpack_object *o = mp_get(&up.data, keys[i]);
        if (!o || o->type == MSGPACK_OBJECT_NIL) {
            buf_add(patterns, "", 1);
            continue;
        }
        if (!mp_bytes(o, &s, &sn)) {
            rc = fail(c, NER_ESOURCE, "%s: %s is not a string", path, keys[i]);
            goto out;
        }
        char *pc = NULL;
        if ((rc = tok_py2pcre(s, sn, &pc))) {
            rc = fail(c, rc, "%s: %s: cannot translate pattern", path, keys[i]);
            goto out;
        }
        buf_add(patterns, pc, strlen(pc) + 1);
        free(pc);
    }
    const msgpack_object *ex = mp_get(&up.data, "exceptions");
    if (!ex || ex->type != MSGPACK_OBJECT_MAP) {
        rc = fail(c, NER_ESOURCE, "%s: no exceptions map", path);
        goto out;
    }
    items = calloc(ex->via.map.size + 1, sizeof *items);
    if (!items) {
        rc = fail(c, NER_ENOMEM, "out of memory");
        goto out;
    }
    size_t n = 0;
    for (uint32_t i = 0; i < ex->via.map.size; i++) {
        const char *key;
        size_t kn;
        const msgpack_object *pieces = &ex->via.map.ptr[i].val;
        if (!mp_bytes(&ex->via.map.ptr[i].key, &key, &kn) || kn == 0 ||
            pieces->type != MSGPACK_OBJECT_ARRAY || pieces->via.array.size == 0 ||
            pieces->via.array.size > TOK_MAX_PIECES) {
            rc = fail(c, NER_ESOURCE, "%s: exception %u is malformed", path, i);
            goto out;
        }
        /* piece list: u32 n, then {len, norm_off, norm_len} */
        buf_align(&c->pool, 4);
        uint32_t np = pieces->via.array.size;
        uint32_t rec[1 + 3 * TOK_MAX_PIECES];
        rec[0] = np;
        size_t sum = 0;
        for (uint32_t p = 0; p < np; p++) {
            const msgpack_object *attrs = &pieces->via.array.ptr[p];
            const char *orth, *norm;
            size_t on, nn;
            if (!mp_bytes(mp_getint(attrs, 65), &orth, &on) || on == 0 ||
                sum + on > kn || memcmp(key + sum, orth, on) != 0) {
                rc = fail(c, NER_ESOURCE, "%s: exception '%.*s': ORTH pieces do "
                          "not spell the key", path, (int)kn, key);
                goto out;
            }
            sum += on;
            rec[1 + 3 * p] = (uint32_t)on;
            if (mp_bytes(mp_getint(attrs, 67), &norm, &nn)) {
                rec[2 + 3 * p] = UINT32_MAX; /* patched below */
                rec[3 + 3 * p] = (uint32_t)nn;
            } else {
                rec[2 + 3 * p] = UINT32_MAX;
                rec[3 + 3 * p] = 0;
            }
        }
        if (sum != kn) {
            rc = fail(c, NER_ESOURCE, "%s: exception '%.*s': pieces too short",
                      path, (int)kn, key);
            goto out;
        }
        /* norms go to the pool first, then the record (aligned) */
        for (uint32_t p = 0; p < np; p++) {
            const char *norm;
            size_t nn;
            if (mp_bytes(mp_getint(&pieces->via.array.ptr[p], 67), &norm, &nn))
                rec[2 + 3 * p] = (uint32_t)buf_add(&c->pool, norm, nn);
        }
        buf_align(&c->pool, 4);
        items[n].key = key;
        items[n].key_len = (uint32_t)kn;
        items[n].value = buf_add(&c->pool, rec, 4 + 12 * (size_t)np);
        n++;
    }
    rc = build_table(c, items, n, specials);
out:
    free(items);
    msgpack_unpacked_destroy(&up);
    free(data);
    return rc;
}

static int build_meta(conv *c, const char *dir, buf *meta)
{
    char path[4096];
    json_error_t je;
    snprintf(path, sizeof path, "%s/meta.json", dir);
    json_t *j = json_load_file(path, 0, &je);
    if (!json_is_object(j))
        return fail(c, NER_ESOURCE, "%s: %s", path, je.text);
    const char *lang = json_string_value(json_object_get(j, "lang"));
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *ver = json_string_value(json_object_get(j, "version"));
    const char *lic = json_string_value(json_object_get(j, "license"));
    char s[512];
    int n = snprintf(s, sizeof s,
                     "%s_%s %s, (c) Explosion AI, %s License; converted by nerd "
                     "(model format %u)",
                     lang ? lang : "?", name ? name : "?", ver ? ver : "?",
                     lic ? lic : "?", MODEL_VERSION);
    json_decref(j);
    buf_add(meta, s, (size_t)n + 1);
    return meta->oom ? fail(c, NER_ENOMEM, "out of memory") : 0;
}

int ner_convert(const char *spacy_dir, const char *specs_dir,
                const char *out_path, char *err, size_t errlen)
{
    conv c = {.err = err, .errlen = errlen};
    buf sec[SEC_COUNT_];
    memset(sec, 0, sizeof sec);
    unsigned char *data = NULL;
    size_t len;
    int rc;
    char path[4096];
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    if (err && errlen)
        err[0] = 0;

    snprintf(path, sizeof path, "%s/ner/model", spacy_dir);
    if ((rc = read_file(&c, path, &data, &len)))
        goto out;
    if (msgpack_unpack_next(&up, (const char *)data, len, NULL) !=
        MSGPACK_UNPACK_SUCCESS) {
        rc = fail(&c, NER_ESOURCE, "%s: not msgpack", path);
        goto out;
    }
    const msgpack_object *w = mp_get(&up.data, "weights");
    if (!w || w->type != MSGPACK_OBJECT_ARRAY || w->via.array.size < 39) {
        rc = fail(&c, NER_ESOURCE, "%s: no 'weights' array of 39 layers", path);
        goto out;
    }
    if ((rc = build_tensors(&c, w, &sec[SEC_TENSORS])))
        goto out;
    uint32_t ncls;
    memcpy(&ncls, sec[SEC_TENSORS].p + 32, 4);
    if ((rc = build_moves(&c, spacy_dir, ncls, &sec[SEC_CLASSES], &sec[SEC_LABELS])) ||
        (rc = build_tokenizer(&c, spacy_dir, &sec[SEC_PATTERNS], &sec[SEC_SPECIALS])) ||
        (rc = build_json_tables(&c, specs_dir, &sec[SEC_NORMS], &sec[SEC_SYMBOLS])) ||
        (rc = build_meta(&c, spacy_dir, &sec[SEC_META])))
        goto out;
    sec[SEC_POOL] = c.pool;
    c.pool = (buf){0};

    /* assemble */
    model_blob blobs[SEC_COUNT_];
    for (int id = 0; id < SEC_COUNT_; id++)
        blobs[id] = (model_blob){sec[id].p, sec[id].n};
    void *file;
    size_t flen;
    if ((rc = model__assemble(blobs, MODEL_VERSION, &file, &flen))) {
        rc = fail(&c, rc, "out of memory");
        goto out;
    }
    rc = model__write_file(out_path, file, flen);
    free(file);
    if (rc)
        rc = fail(&c, rc, "%s: %s", out_path, strerror(errno));
out:
    for (int i = 0; i < SEC_COUNT_; i++)
        free(sec[i].p);
    free(c.pool.p);
    msgpack_unpacked_destroy(&up);
    free(data);
    return rc;
}
