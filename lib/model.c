/*
 * Loading and validating nerd model files (see model.h for the format).
 * The file is mapped read-only and used in place; validation checks every
 * offset the engine will later follow, so a corrupt, truncated or foreign
 * file is refused with a clear error instead of crashing later.
 */
#define _DEFAULT_SOURCE
#include "model.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"


static size_t align16(size_t n) { return (n + 15) & ~(size_t)15; }

size_t model__tensor_layout(const uint32_t emb_rows[4], int up_cols, size_t offs[], int n)
{
    size_t sizes[MODEL_N_TENSORS];
    int k = 0;
    for (int i = 0; i < 4; i++)
        sizes[k++] = (size_t)emb_rows[i] * NN_W;
    sizes[k++] = (size_t)NN_EMB_IN * NN_P * NN_W;
    sizes[k++] = NN_P * NN_W;
    sizes[k++] = NN_W;
    sizes[k++] = NN_W;
    for (int d = 0; d < NN_DEPTH; d++) {
        sizes[k++] = (size_t)NN_WIN * NN_P * NN_W;
        sizes[k++] = NN_P * NN_W;
        sizes[k++] = NN_W;
        sizes[k++] = NN_W;
    }
    sizes[k++] = (size_t)NN_W * NN_LOWER;
    sizes[k++] = NN_HP * NN_H;
    sizes[k++] = NN_NF * NN_HP * NN_H;
    sizes[k++] = (size_t)NN_H * (size_t)up_cols;
    sizes[k++] = (size_t)up_cols;
    size_t off = 0;
    for (int i = 0; i < k; i++) {
        if (offs && i < n)
            offs[i] = off;
        off += align16(sizes[i]);
    }
    return off;
}

static int sec_find(const unsigned char *base, const model_header *h,
                    uint32_t id, const unsigned char **p, size_t *len)
{
    const model_section *s = (const model_section *)(base + sizeof *h);
    for (uint32_t i = 0; i < h->n_sections; i++) {
        if (s[i].id == id) {
            *p = base + s[i].offset;
            *len = (size_t)s[i].size;
            return NER_OK;
        }
    }
    return NER_ECORRUPT;
}

static int check_table(struct ner_model *m, const unsigned char *p,
                       size_t len, int which)
{
    if (len < sizeof(model_table_hdr))
        return NER_ECORRUPT;
    model_table_hdr h;
    memcpy(&h, p, sizeof h);
    if (h.n_buckets == 0 || (h.n_buckets & (h.n_buckets - 1)) ||
        h.n_entries >= h.n_buckets || h.n_buckets > (1u << 24))
        return NER_ECORRUPT;
    size_t need = sizeof h + (size_t)h.n_buckets * 4 +
                  (size_t)h.n_entries * sizeof(model_table_entry);
    if (need > len || ((sizeof h + (size_t)h.n_buckets * 4) & 7))
        return NER_ECORRUPT;
    const uint32_t *slots = (const uint32_t *)(p + sizeof h);
    const model_table_entry *e =
        (const model_table_entry *)(p + sizeof h + (size_t)h.n_buckets * 4);
    for (uint32_t i = 0; i < h.n_buckets; i++)
        if (slots[i] > h.n_entries)
            return NER_ECORRUPT;
    size_t pl = m->pool_len;
    for (uint32_t i = 0; i < h.n_entries; i++) {
        if ((size_t)e[i].key_off + e[i].key_len > pl)
            return NER_ECORRUPT;
        if (which == MODEL_TAB_NORMS) {
            uint64_t off = e[i].value >> 32, l = e[i].value & 0xffffffffu;
            if (off + l > pl)
                return NER_ECORRUPT;
        } else if (which == MODEL_TAB_SPECIALS) {
            uint64_t off = e[i].value;
            if (off % 4 || off + 4 > pl)
                return NER_ECORRUPT;
            uint32_t np;
            memcpy(&np, m->pool + off, 4);
            if (np == 0 || np > TOK_MAX_PIECES || off + 4 + 12ull * np > pl)
                return NER_ECORRUPT;
            uint64_t sum = 0;
            for (uint32_t k = 0; k < np; k++) {
                uint32_t v[3];
                memcpy(v, m->pool + off + 4 + 12 * k, 12);
                if (v[0] == 0)
                    return NER_ECORRUPT;
                sum += v[0];
                if (v[1] != UINT32_MAX && (uint64_t)v[1] + v[2] > pl)
                    return NER_ECORRUPT;
            }
            if (sum != e[i].key_len)
                return NER_ECORRUPT;
            if (e[i].key_len > m->special_max)
                m->special_max = e[i].key_len;
        }
    }
    return NER_OK;
}

const model_table_entry *model__lookup(const struct ner_model *m, int which,
                                       const char *key, size_t n,
                                       uint64_t hash)
{
    const unsigned char *p = m->tab[which];
    model_table_hdr h;
    memcpy(&h, p, sizeof h);
    const uint32_t *slots = (const uint32_t *)(p + sizeof h);
    const model_table_entry *e =
        (const model_table_entry *)(p + sizeof h + (size_t)h.n_buckets * 4);
    uint32_t mask = h.n_buckets - 1;
    for (uint32_t i = (uint32_t)hash & mask, probes = 0; probes < h.n_buckets;
         i = (i + 1) & mask, probes++) {
        uint32_t s = slots[i];
        if (!s)
            return NULL;
        const model_table_entry *x = &e[s - 1];
        if (x->hash == hash && x->key_len == n &&
            memcmp(m->pool + x->key_off, key, n) == 0)
            return x;
    }
    return NULL;
}

int model__special(const void *ud, const char *s, size_t n, tok_piece *pieces,
                   int max)
{
    const struct ner_model *m = ud;
    if (n > m->special_max)
        return 0;
    const model_table_entry *e = model__lookup(m, MODEL_TAB_SPECIALS, s, n,
                                               hash_murmur64a(s, n, 1));
    if (!e)
        return 0;
    uint32_t np;
    memcpy(&np, m->pool + e->value, 4);
    if ((int)np > max)
        return 0;
    for (uint32_t k = 0; k < np; k++) {
        uint32_t v[3];
        memcpy(v, m->pool + e->value + 4 + 12 * k, 12);
        pieces[k].len = v[0];
        pieces[k].norm = v[1] == UINT32_MAX ? NULL
                                            : (const char *)m->pool + v[1];
        pieces[k].norm_len = v[1] == UINT32_MAX ? 0 : v[2];
    }
    return (int)np;
}

static int cstr_in(const unsigned char *p, size_t len, size_t *used)
{
    const unsigned char *z = memchr(p, 0, len);
    if (!z)
        return NER_ECORRUPT;
    *used = (size_t)(z - p) + 1;
    return NER_OK;
}

static int model_init(struct ner_model *m, unsigned flags)
{
    const unsigned char *b = m->base;
    model_header h;
    const unsigned char *p;
    size_t len, used;
    int rc;

    if (m->size < sizeof h)
        return m->size >= 8 && memcmp(b, MODEL_MAGIC, 8) == 0 ? NER_ECORRUPT
                                                              : NER_EMAGIC;
    memcpy(&h, b, sizeof h);
    if (memcmp(h.magic, MODEL_MAGIC, 8) != 0)
        return NER_EMAGIC;
    if (h.version != MODEL_VERSION && h.version != MODEL_VERSION_WIDE)
        return NER_EVERSION;
    if (h.file_size != m->size || h.n_sections == 0 || h.n_sections > 32 ||
        sizeof h + (size_t)h.n_sections * sizeof(model_section) > m->size)
        return NER_ECORRUPT;
    m->checksum = h.checksum;
    if (!(flags & NER_MODEL_TRUSTED) && (rc = ner_model_verify(m)))
        return rc;
    const model_section *s = (const model_section *)(b + sizeof h);
    for (uint32_t i = 0; i < h.n_sections; i++)
        if (s[i].offset % MODEL_ALIGN || s[i].offset > m->size ||
            s[i].size > m->size - s[i].offset)
            return NER_ECORRUPT;

    /* META */
    if ((rc = sec_find(b, &h, SEC_META, &p, &len)) || (rc = cstr_in(p, len, &used)))
        return rc;
    m->about = (const char *)p;

    /* POOL (before the tables that point into it) */
    if ((rc = sec_find(b, &h, SEC_POOL, &m->pool, &m->pool_len)))
        return rc;

    /* LABELS: u32 n, then n NUL-terminated names */
    if ((rc = sec_find(b, &h, SEC_LABELS, &p, &len)) || len < 4)
        return NER_ECORRUPT;
    uint32_t nl;
    memcpy(&nl, p, 4);
    if (nl == 0 || nl > NN_NLABEL_MAX)
        return NER_ECORRUPT;
    size_t o = 4;
    for (uint32_t i = 0; i < nl; i++) {
        if ((rc = cstr_in(p + o, len - o, &used)))
            return rc;
        m->labels[i] = (const char *)p + o;
        o += used;
    }
    m->n_labels = (int)nl;

    /* CLASSES: u32 n, then n model_class */
    if ((rc = sec_find(b, &h, SEC_CLASSES, &p, &len)) || len < 4)
        return NER_ECORRUPT;
    uint32_t nc;
    memcpy(&nc, p, 4);
    if (nc == 0 || nc > (h.version == MODEL_VERSION ? NN_CLS_PAD : NN_NCLASS_MAX) ||
        4 + (size_t)nc * sizeof(model_class) > len)
        return NER_ECORRUPT;
    memcpy(m->classes, p + 4, nc * sizeof(model_class));
    for (uint32_t i = 0; i < nc; i++)
        if (m->classes[i].move < 1 || m->classes[i].move > 5 ||
            m->classes[i].label < -1 || m->classes[i].label >= (int)nl)
            return NER_ECORRUPT;
    m->n_classes = (int)nc;

    /* PATTERNS: four NUL-terminated strings */
    if ((rc = sec_find(b, &h, SEC_PATTERNS, &p, &len)))
        return rc;
    o = 0;
    for (int i = 0; i < 4; i++) {
        if ((rc = cstr_in(p + o, len - o, &used)))
            return rc;
        m->patterns[i] = (const char *)p + o;
        o += used;
    }

    /* Tables */
    static const uint32_t ids[3] = {SEC_SPECIALS, SEC_NORMS, SEC_SYMBOLS};
    for (int i = 0; i < 3; i++) {
        if ((rc = sec_find(b, &h, ids[i], &m->tab[i], &m->tab_len[i])) ||
            (rc = check_table(m, m->tab[i], m->tab_len[i], i)))
            return NER_ECORRUPT;
    }

    /* TENSORS */
    if ((rc = sec_find(b, &h, SEC_TENSORS, &p, &len)) || len < MODEL_TENSOR_HDR)
        return NER_ECORRUPT;
    uint32_t th[10];
    memcpy(th, p, sizeof th);
    /* the output layer's width: 80 (format 1), else header word 9, a
     * multiple of NN_CLS_ALIGN that holds the classes */
    m->t.up_cols = NN_CLS_PAD;
    if (h.version == MODEL_VERSION_WIDE) {
        if (th[9] < nc || th[9] > NN_CLS_MAXPAD || th[9] % NN_CLS_ALIGN)
            return NER_ECORRUPT;
        m->t.up_cols = (int)th[9];
    }
    for (int i = 0; i < 4; i++) {
        if (th[i] == 0 || th[i] > (1u << 20))
            return NER_ECORRUPT;
        m->t.emb_rows[i] = th[i];
        m->t.emb_seed[i] = th[4 + i];
    }
    size_t offs[MODEL_N_TENSORS];
    size_t nfl = model__tensor_layout(m->t.emb_rows, m->t.up_cols, offs, MODEL_N_TENSORS);
    if (MODEL_TENSOR_HDR + nfl * sizeof(float) > len)
        return NER_ECORRUPT;
    const float *f = (const float *)(p + MODEL_TENSOR_HDR);
    int k = 0;
    for (int i = 0; i < 4; i++)
        m->t.emb[i] = f + offs[k++];
    m->t.mix_w = f + offs[k++];
    m->t.mix_b = f + offs[k++];
    m->t.mix_g = f + offs[k++];
    m->t.mix_beta = f + offs[k++];
    for (int d = 0; d < NN_DEPTH; d++) {
        m->t.cnn_w[d] = f + offs[k++];
        m->t.cnn_b[d] = f + offs[k++];
        m->t.cnn_g[d] = f + offs[k++];
        m->t.cnn_beta[d] = f + offs[k++];
    }
    m->t.low_w = f + offs[k++];
    m->t.low_b = f + offs[k++];
    m->t.low_pad = f + offs[k++];
    m->t.up_w = f + offs[k++];
    m->t.up_b = f + offs[k++];

    char err[256];
    const char *pat[4];
    for (int i = 0; i < 4; i++)
        pat[i] = m->patterns[i][0] ? m->patterns[i] : NULL;
    rc = tok_rules_new(pat[0], pat[1], pat[2], pat[3], model__special, m,
                       &m->tok, err, sizeof err);
    return rc;
}

static int is_little_endian(void)
{
    const uint16_t x = 1;
    return *(const unsigned char *)&x == 1;
}

int ner_model_load_mem(const void *buf, size_t len, ner_model **out)
{
    if (!buf || !out)
        return NER_EINVAL;
    *out = NULL;
    if (!is_little_endian())
        return NER_EVERSION;
    struct ner_model *m = calloc(1, sizeof *m);
    if (!m)
        return NER_ENOMEM;
    if ((uintptr_t)buf % MODEL_ALIGN) {
        size_t cap = (len + MODEL_ALIGN - 1) / MODEL_ALIGN * MODEL_ALIGN;
        m->owned = aligned_alloc(MODEL_ALIGN, cap ? cap : MODEL_ALIGN);
        if (!m->owned) {
            free(m);
            return NER_ENOMEM;
        }
        memcpy(m->owned, buf, len);
        buf = m->owned;
    }
    m->base = buf;
    m->size = len;
    int rc = model_init(m, 0);
    if (rc) {
        ner_model_free(m);
        return rc;
    }
    *out = m;
    return NER_OK;
}

int ner_model_verify(const ner_model *m)
{
    if (!m)
        return NER_EINVAL;
    if (hash_checksum(m->base + sizeof(model_header), m->size - sizeof(model_header)) !=
        m->checksum)
        return NER_ECHECKSUM;
    return NER_OK;
}

int ner_model_load(const char *path, ner_model **out)
{
    return ner_model_open(path, 0, out);
}

int ner_model_open(const char *path, unsigned flags, ner_model **out)
{
    if (out)
        *out = NULL;
    if (!path || !out || (flags & ~(unsigned)NER_MODEL_TRUSTED))
        return NER_EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NER_EIO;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
        close(fd);
        return st.st_size == 0 ? NER_EMAGIC : NER_EIO;
    }
    size_t len = (size_t)st.st_size;
    /* Verified: every page is read at once, so map them all in one call.
     * Trusted: pages are mapped as the engine first touches them, and a
     * short text touches few rows of the embedding tables. */
    void *map = mmap(NULL, len, PROT_READ,
                     MAP_PRIVATE | (flags & NER_MODEL_TRUSTED ? 0 : MAP_POPULATE), fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return NER_EIO;
    struct ner_model *m = calloc(1, sizeof *m);
    if (!m) {
        munmap(map, len);
        return NER_ENOMEM;
    }
    m->mapping = map;
    m->mapping_len = len;
    m->base = map;
    m->size = len;
    int rc = is_little_endian() ? model_init(m, flags) : NER_EVERSION;
    if (rc) {
        ner_model_free(m);
        return rc;
    }
    *out = m;
    return NER_OK;
}

void ner_model_free(ner_model *m)
{
    if (!m)
        return;
    tok_rules_free(m->tok);
    if (m->mapping)
        munmap(m->mapping, m->mapping_len);
    free(m->owned);
    free(m);
}

int ner_model_nlabels(const ner_model *m) { return m ? m->n_labels : 0; }

const char *ner_model_label(const ner_model *m, int label)
{
    if (!m || label < 0 || label >= m->n_labels)
        return "";
    return m->labels[label];
}

const char *ner_model_about(const ner_model *m) { return m ? m->about : ""; }

const char *ner_strerror(int err)
{
    static const char *const msg[NER_ERR_COUNT] = {
        [NER_OK] = "success",
        [NER_ENOMEM] = "out of memory",
        [NER_EIO] = "cannot open, read or map the file",
        [NER_EMAGIC] = "not a nerd model file (bad magic)",
        [NER_EVERSION] = "unsupported model file version",
        [NER_ECHECKSUM] = "model file checksum mismatch (corrupt file)",
        [NER_ECORRUPT] = "model file is truncated or corrupt",
        [NER_EINVAL] = "invalid argument",
        [NER_EUTF8] = "text is not valid UTF-8",
        [NER_ETOOBIG] = "text is too long",
        [NER_EREGEX] = "tokenizer pattern error",
        [NER_ESOURCE] = "cannot read the spaCy model directory",
    };
    if (err < 0 || err >= NER_ERR_COUNT)
        return "unknown error";
    return msg[err];
}
