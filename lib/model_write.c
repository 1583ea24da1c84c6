/*
 * Writing nerd model files (model.h's format), for `nerd convert` and the
 * trainer: the header, the section table, the sections 64-byte aligned,
 * the checksum; and the atomic write of a file (temp file and rename).
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"
#include "model.h"

static size_t align_up(size_t n) { return (n + MODEL_ALIGN - 1) / MODEL_ALIGN * MODEL_ALIGN; }

int model__assemble(const model_blob sec[SEC_COUNT_], uint32_t version, void **out,
                    size_t *len)
{
    *out = NULL;
    *len = 0;
    uint32_t nsec = SEC_COUNT_ - 1;
    size_t n = align_up(sizeof(model_header) + nsec * sizeof(model_section));
    for (uint32_t id = 1; id < SEC_COUNT_; id++)
        n = align_up(n + sec[id].n);
    unsigned char *f = aligned_alloc(MODEL_ALIGN, n);
    if (!f)
        return NER_ENOMEM;
    memset(f, 0, n);
    model_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MODEL_MAGIC, 8);
    h.version = version;
    h.n_sections = nsec;
    h.file_size = n;
    size_t off = align_up(sizeof h + nsec * sizeof(model_section));
    for (uint32_t id = 1; id < SEC_COUNT_; id++) {
        model_section s = {.id = id, .offset = off, .size = sec[id].n};
        memcpy(f + sizeof h + (id - 1) * sizeof s, &s, sizeof s);
        if (sec[id].n)
            memcpy(f + off, sec[id].p, sec[id].n);
        off = align_up(off + sec[id].n);
    }
    h.checksum = hash_checksum(f + sizeof h, n - sizeof h);
    memcpy(f, &h, sizeof h);
    *out = f;
    *len = n;
    return NER_OK;
}

int model__write_file(const char *path, const void *buf, size_t len)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return NER_EINVAL;
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return NER_EIO;
    int bad = fwrite(buf, 1, len, f) != len;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return NER_EIO;
    }
    return NER_OK;
}

int model__section(const ner_model *m, uint32_t id, const unsigned char **p, size_t *len)
{
    model_header h;
    memcpy(&h, m->base, sizeof h);
    const model_section *s = (const model_section *)(m->base + sizeof h);
    for (uint32_t i = 0; i < h.n_sections; i++)
        if (s[i].id == id) {
            *p = m->base + s[i].offset;
            *len = (size_t)s[i].size;
            return NER_OK;
        }
    return NER_ECORRUPT;
}
