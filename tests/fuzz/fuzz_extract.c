/* libFuzzer target: ner_extract on arbitrary bytes (invalid UTF-8, NULs,
 * huge tokens...).  Must never crash, hang or leak; valid results must have
 * well-formed offsets.  The input's lines are then run as one nlp.pipe
 * minibatch (ner_ctx_pipe), and the whole input again alone, which must
 * give the first answer (no state leaks out of pipe mode).  Model:
 * $NERD_MODEL or the bundled file. */
#include <stdlib.h>
#include <string.h>

#include "nerd/ner.h"

#include "fuzz_ner.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Runs text[0..size) and checks the result; returns ner_extract's code. */
static int run(const char *text, size_t size, ner_doc *d)
{
    int rc = ner_extract(C, text, size, d);
    if (rc == NER_OK) {
        for (size_t i = 0; i < d->n_tokens; i++)
            if (d->tokens[i].byte_end > size || d->tokens[i].start >= d->tokens[i].end)
                abort();
        for (size_t i = 0; i < d->n_ents; i++)
            if (d->ents[i].byte_end > size || d->ents[i].label < 0 ||
                d->ents[i].label >= ner_model_nlabels(M))
                abort();
    } else if (rc != NER_EUTF8 && rc != NER_ETOOBIG) {
        abort();
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const char *text = (const char *)data;
    ner_doc d;
    int rc = run(text, size, &d);
    size_t n_ents = d.n_ents, first = d.n_ents ? d.ents[0].byte_start : 0;
    ner_ctx_pipe(C, 1);
    for (size_t a = 0, b; a < size; a = b + 1) {
        const char *nl = memchr(text + a, '\n', size - a);
        b = nl ? (size_t)(nl - text) : size;
        run(text + a, b - a, &d);
    }
    ner_ctx_pipe(C, 0);
    if (run(text, size, &d) != rc ||
        (rc == NER_OK && (d.n_ents != n_ents || (n_ents && d.ents[0].byte_start != first))))
        abort();
    return 0;
}
