/* libFuzzer target: ner_extract on arbitrary bytes (invalid UTF-8, NULs,
 * huge tokens...).  Must never crash, hang or leak; valid results must have
 * well-formed offsets.  Model: $NERD_MODEL or the bundled file. */
#include <stdlib.h>
#include <string.h>

#include "nerd/ner.h"

static ner_model *M;
static ner_ctx *C;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *p = getenv("NERD_MODEL");
    if (ner_model_load(p ? p : "models/en_core_web_sm-2.2.5.nerd", &M) ||
        ner_ctx_new(M, &C))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    ner_doc d;
    int rc = ner_extract(C, (const char *)data, size, &d);
    if (rc == NER_OK) {
        for (size_t i = 0; i < d.n_tokens; i++)
            if (d.tokens[i].byte_end > size || d.tokens[i].start >= d.tokens[i].end)
                abort();
        for (size_t i = 0; i < d.n_ents; i++)
            if (d.ents[i].byte_end > size || d.ents[i].label < 0 ||
                d.ents[i].label >= ner_model_nlabels(M))
                abort();
    } else if (rc != NER_EUTF8 && rc != NER_ETOOBIG) {
        abort();
    }
    return 0;
}
