/*
 * Shared by the fuzz targets that run the engine: the model ($NERD_MODEL,
 * else the bundled file) and one context, M and C, loaded once in
 * libFuzzer's initialiser (a failure aborts).  Include in one file only.
 */
#ifndef NERD_FUZZ_NER_H
#define NERD_FUZZ_NER_H

#include <stdlib.h>

#include "nerd/ner.h"

static ner_model *M;
static ner_ctx *C;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *p = getenv("NERD_MODEL");
    if (ner_model_load(p ? p : "models/en_core_web_sm-2.2.5.nerd", &M) || ner_ctx_new(M, &C))
        abort();
    return 0;
}

#endif
