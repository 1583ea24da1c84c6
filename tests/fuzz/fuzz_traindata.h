/*
 * Shared body of the training-data reader fuzz targets (fuzz_td_*.c, one
 * per reader: each defines TD_FUZZ_FORMAT and includes this once).  The
 * input is read as a training file of that format with the model's
 * tokenizer ($NERD_MODEL, else the bundled model); it must never crash,
 * hang or leak, and what comes out must hold together: documents'
 * tokens in order inside the text, one BILUO tag per token forming
 * well-made entities (B I* L or U, one label), gold spans sorted,
 * disjoint and inside the text, labels in range.  Then the file's units
 * (td_units, for `nerd split`) must lie in order inside the input.
 */
#ifndef NERD_FUZZ_TRAINDATA_H
#define NERD_FUZZ_TRAINDATA_H

#include <stdlib.h>
#include <string.h>

#include "nerd/traindata.h"

#include "fuzz_ner.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void check_doc(const td_corpus *c, const td_doc *d)
{
    int nl = td_nlabels(c);
    if (d->text[d->len] || memchr(d->text, 0, d->len) || (d->n_tokens && !d->tags))
        abort();
    uint32_t prev = 0;
    int open = -1; /* label of the entity open at the previous token */
    for (size_t t = 0; t < d->n_tokens; t++) {
        const ner_span *k = &d->tokens[t];
        if (k->byte_start < prev || k->byte_end <= k->byte_start || k->byte_end > d->len)
            abort();
        prev = k->byte_end;
        int m = d->tags[t].move, l = d->tags[t].label;
        if (m > TD_O || ((m == TD_MISSING || m == TD_O) != (l == -1)) || l >= nl)
            abort();
        if ((m == TD_I || m == TD_L) != (open >= 0) || ((m == TD_I || m == TD_L) && l != open))
            abort();
        open = m == TD_B || m == TD_I ? l : -1;
    }
    if (open >= 0)
        abort();
    for (size_t i = 0; i < d->n_spans; i++) {
        const ner_span *s = &d->spans[i];
        if (s->byte_start >= s->byte_end || s->byte_end > d->len || s->start >= s->end ||
            s->label < 0 || s->label >= nl ||
            (i && (s->byte_start < d->spans[i - 1].byte_end || s->start < d->spans[i - 1].end)))
            abort();
    }
    if (d->n_misaligned > d->n_spans)
        abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const char *buf = (const char *)data;
    td_corpus *c = NULL;
    td_opts o = {0};
    o.format = TD_FUZZ_FORMAT;
    o.sents_per_doc = size ? 1u + data[size - 1] % 3u : 1u;
    o.label_map = "PER=PERSON,MISC=,X=-";
    if (td_corpus_new(&c))
        abort();
    int rc = td_read_mem(c, "fuzz", buf, size, &o, C);
    if (rc != TD_OK && rc != TD_ESYNTAX && rc != TD_EFORMAT)
        abort();
    for (size_t i = 0; i < td_ndocs(c); i++)
        check_doc(c, td_doc_at(c, i));
    for (int l = 0; l < td_nlabels(c); l++) {
        const char *s = td_label(c, l);
        if (!s || !*s || strlen(s) > TD_MAX_LABEL || !strcmp(s, "MISC") || !strcmp(s, "PER"))
            abort();
    }
    char msg[256];
    const char *base[] = {"PERSON", "ORG"};
    td_check_train(c, base, 2, msg, sizeof msg);
    td_check_dev(c, base, 2, msg, sizeof msg);
    td_corpus_free(c);

    td_unit *u;
    size_t n;
    int fmt, arr;
    for (int by_doc = 0; by_doc < 2; by_doc++) {
        rc = td_units(buf, size, TD_FUZZ_FORMAT, by_doc, &u, &n, &fmt, &arr);
        if (rc != TD_OK && rc != TD_ESYNTAX)
            abort();
        size_t end = 0;
        for (size_t i = 0; i < n; i++) {
            if (u[i].off < end || u[i].len == 0 || u[i].off + u[i].len > size)
                abort();
            end = u[i].off + u[i].len;
        }
        free(u);
    }
    return 0;
}

#endif
