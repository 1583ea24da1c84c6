/*
 * The model the C tests run on ($MODEL, else the bundled file), and one
 * context on it, for tests that link libnerd.  Include after check.h.
 */
#ifndef NERD_CHECK_MODEL_H
#define NERD_CHECK_MODEL_H

#include <stdlib.h>

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

#endif
