/* Model files: the committed model loads; corrupt, truncated, foreign and
 * wrong-version files are refused with the right error, never a crash; a
 * trusted open skips only the checksum. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "check_model.h"
#include "model.h"
#include "nerd/ner.h"

static int load_mem(const unsigned char *p, size_t n)
{
    ner_model *m = NULL;
    int rc = ner_model_load_mem(p, n, &m);
    CHECK((rc == 0) == (m != NULL), "out set iff success");
    ner_model_free(m);
    return rc;
}

int main(void)
{
    const char *path = getenv("MODEL");
    if (!path)
        path = "models/en_core_web_sm-2.2.5.nerd";
    size_t n;
    unsigned char *good = check_slurp(path, &n);
    CHECK(good != NULL, "read %s", path);
    if (!good)
        return check_done("test_model");

    ner_model *m = NULL;
    /* trusted: no checksum pass at load; ner_model_verify() does it */
    CHECK(ner_model_open(path, NER_MODEL_TRUSTED, &m) == NER_OK, "open trusted %s", path);
    CHECK(ner_model_verify(m) == NER_OK, "verify a good file");
    ner_model_free(m);
    CHECK(ner_model_open(path, 2, &m) == NER_EINVAL && !m, "unknown flag refused");
    CHECK(ner_model_verify(NULL) == NER_EINVAL, "verify NULL");
    CHECK(ner_model_load(path, &m) == NER_OK, "load %s", path);
    CHECK(ner_model_nlabels(m) == 18, "18 labels, got %d", ner_model_nlabels(m));
    int has_person = 0;
    for (int i = 0; i < ner_model_nlabels(m); i++)
        has_person |= strcmp(ner_model_label(m, i), "PERSON") == 0;
    CHECK(has_person, "PERSON label");
    CHECK(strstr(ner_model_about(m), "Explosion") != NULL, "attribution kept");
    CHECK(strcmp(ner_model_label(m, 99), "") == 0, "bad label index");
    ner_model_free(m);
    ner_model_free(NULL);

    CHECK(load_mem(good, n) == NER_OK, "load from memory");
    /* misaligned buffer is copied */
    unsigned char *mis = malloc(n + 1);
    memcpy(mis + 1, good, n);
    CHECK(load_mem(mis + 1, n) == NER_OK, "misaligned buffer");
    free(mis);

    unsigned char *bad = malloc(n);
    /* flipped byte in the weights -> checksum */
    memcpy(bad, good, n);
    bad[n / 2] ^= 0x40;
    CHECK(load_mem(bad, n) == NER_ECHECKSUM, "flipped byte");
    {   /* the same file opened trusted loads, and ner_model_verify() finds it */
        char tmp[] = "/tmp/test_model_XXXXXX";
        int fd = mkstemp(tmp);
        int wrote = fd >= 0 && write(fd, bad, n) == (ssize_t)n;
        if (fd >= 0)
            close(fd);
        CHECK(wrote, "write %s", tmp);
        CHECK(ner_model_load(tmp, &m) == NER_ECHECKSUM && !m, "flipped byte, from a file");
        CHECK(ner_model_open(tmp, NER_MODEL_TRUSTED, &m) == NER_OK, "flipped byte, trusted");
        CHECK(ner_model_verify(m) == NER_ECHECKSUM, "verify finds the flipped byte");
        ner_ctx *c = NULL;
        ner_doc d;
        CHECK(ner_ctx_new(m, &c) == NER_OK &&
              ner_extract(c, "Alan Turing was born in London.", 31, &d) == NER_OK,
              "a trusted corrupt weight still runs safely");
        ner_ctx_free(c);
        ner_model_free(m);
        unlink(tmp);
    }
    /* truncated at several points */
    size_t cuts[] = {0, 4, 8, 63, 64, 100, 4096, n / 2, n - 1};
    for (unsigned i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        int rc = load_mem(good, cuts[i]);
        CHECK(rc == NER_ECORRUPT || rc == NER_EMAGIC, "truncated at %zu: %s",
              cuts[i], ner_strerror(rc));
    }
    /* wrong magic / version */
    memcpy(bad, good, n);
    memcpy(bad, "GGUF\0\0\0\0", 8);
    CHECK(load_mem(bad, n) == NER_EMAGIC, "bad magic");
    memcpy(bad, good, n);
    bad[8] = 3;
    CHECK(load_mem(bad, n) == NER_EVERSION, "version 3");
    bad[8] = 2; /* format 2 without an output layer width (test_model_wide) */
    CHECK(load_mem(bad, n) == NER_ECORRUPT, "version 2 without a width");
    /* a section pointing outside the file */
    memcpy(bad, good, n);
    model_section s;
    memcpy(&s, bad + sizeof(model_header), sizeof s);
    s.size = (uint64_t)n * 4;
    memcpy(bad + sizeof(model_header), &s, sizeof s);
    CHECK(load_mem(bad, n) != NER_OK, "section out of bounds");
    free(bad);

    CHECK(ner_model_load("/nonexistent/model.nerd", &m) == NER_EIO, "missing file");
    CHECK(ner_model_load("/dev/null", &m) != NER_OK, "/dev/null");
    CHECK(ner_model_load(NULL, &m) == NER_EINVAL, "NULL path");
    for (int e = 0; e <= NER_ERR_COUNT; e++)
        CHECK(ner_strerror(e) && *ner_strerror(e), "strerror %d", e);
    free(good);
    return check_done("test_model");
}
