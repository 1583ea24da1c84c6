/*
 * The first-occurrence NORM map (uniq.h): open addressing on the ORTH's
 * MurmurHash64A with linear probing, kept at most half full; ORTH bytes
 * are copied into one growing pool, so a map costs no allocation per
 * token once it has grown.  Entries belong to the generation that wrote
 * them, so emptying the map is a counter bump.
 */
#include "uniq.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "nerd/ner.h"

void uq_reset(uq_map *m)
{
    if (++m->gen == 0) { /* wrapped: clear the stale marks once */
        if (m->tab)
            memset(m->tab, 0, m->cap * sizeof *m->tab);
        m->gen = 1;
    }
    m->n = 0;
    m->pool_n = 0;
}

void uq_fini(uq_map *m)
{
    free(m->tab);
    free(m->pool);
    memset(m, 0, sizeof *m);
}

static int grow(uq_map *m)
{
    size_t cap = m->cap ? 2 * m->cap : 256;
    uq_entry *t = calloc(cap, sizeof *t);
    if (!t)
        return NER_ENOMEM;
    if (m->gen == 0)
        m->gen = 1; /* a zeroed map: 0 marks never-used entries */
    for (size_t i = 0; i < m->cap; i++) {
        if (m->tab[i].gen != m->gen)
            continue;
        size_t j = m->tab[i].hash & (cap - 1);
        while (t[j].gen == m->gen)
            j = (j + 1) & (cap - 1);
        t[j] = m->tab[i];
    }
    free(m->tab);
    m->tab = t;
    m->cap = cap;
    return NER_OK;
}

int uq_first(uq_map *m, const char *s, uint32_t n, const char **norm,
             uint32_t *norm_len)
{
    if (2 * (m->n + 1) > m->cap && grow(m))
        return NER_ENOMEM;
    uint64_t h = hash_murmur64a(s, n, 1);
    size_t j = h & (m->cap - 1);
    for (; m->tab[j].gen == m->gen; j = (j + 1) & (m->cap - 1)) {
        uq_entry *e = &m->tab[j];
        if (e->hash == h && e->len == n && memcmp(m->pool + e->off, s, n) == 0) {
            *norm = e->norm;
            *norm_len = e->norm_len;
            return NER_OK;
        }
    }
    if (m->pool_n + n > UQ_MAX_BYTES)
        return NER_ETOOBIG;
    if (m->pool_n + n > m->pool_cap) {
        size_t cap = m->pool_cap ? m->pool_cap : 4096;
        while (cap < m->pool_n + n)
            cap *= 2;
        char *p = realloc(m->pool, cap);
        if (!p)
            return NER_ENOMEM;
        m->pool = p;
        m->pool_cap = cap;
    }
    if (n)
        memcpy(m->pool + m->pool_n, s, n);
    m->tab[j] = (uq_entry){h, (uint32_t)m->pool_n, n, *norm, *norm ? *norm_len : 0, m->gen};
    m->pool_n += n;
    m->n++;
    return NER_OK;
}
