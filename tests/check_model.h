/*
 * The model the C tests run on ($MODEL, else the bundled file), and one
 * context on it, for tests that link libnerd; a file read whole; the texts
 * of a JSON-lines reference file.  Include after check.h.
 */
#ifndef NERD_CHECK_MODEL_H
#define NERD_CHECK_MODEL_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nerd/ner.h"

static inline const char *check_model_path(void)
{
    const char *p = getenv("MODEL");
    return p ? p : "models/en_core_web_sm-2.2.5.nerd";
}

/* Loads the model into *m and a context on it into *c; a failure is a
 * failed check and leaves *c NULL (*m too if the model did not load). */
static inline void check_model_ctx(ner_model **m, ner_ctx **c)
{
    const char *p = check_model_path();
    *m = NULL;
    *c = NULL;
    int rc = ner_model_load(p, m);
    if (!rc)
        rc = ner_ctx_new(*m, c);
    CHECK(rc == NER_OK, "model %s: %s", p, ner_strerror(rc));
}

/* The file at path read whole (malloc'd; NULL if it cannot be read, or is
 * empty), its length in *len. */
static inline unsigned char *check_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    *len = 0;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = n > 0 ? malloc((size_t)n) : NULL;
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *len = p ? (size_t)n : 0;
    return p;
}

/* Calls fn(ud, text, len) with the "text" string of every JSON line of
 * path (lines without one are skipped); returns how many, or -1 (a failed
 * check) when path cannot be opened. */
static inline long check_each_text(const char *path,
                                   void (*fn)(void *ud, const char *text, size_t len), void *ud)
{
    size_t n = 0;
    unsigned char *buf = check_slurp(path, &n);
    CHECK(buf != NULL, "read %s", path);
    if (!buf)
        return -1;
    long texts = 0;
    for (size_t pos = 0; pos < n;) {
        const char *line = (const char *)buf + pos;
        const char *nl = memchr(line, '\n', n - pos);
        size_t len = nl ? (size_t)(nl - line) : n - pos;
        pos += len + 1;
        json_error_t je;
        json_t *j = json_loadb(line, len, 0, &je);
        json_t *t = json_object_get(j, "text");
        if (json_is_string(t)) {
            texts++;
            fn(ud, json_string_value(t), json_string_length(t));
        }
        json_decref(j);
    }
    free(buf);
    return texts;
}

#endif
