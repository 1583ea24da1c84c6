/* Tokenizer special cases that carry a NORM, as spaCy 2.2.4's NER sees
 * them: every piece gets its rule's NORM (vocab.pyx make_fused_token), and
 * the model's uniqued(ORTH) embeds each word of a minibatch from its first
 * occurrence, so what came earlier in the same nlp.pipe minibatch (or
 * earlier in the text) decides.  Alone, a text is its own minibatch and
 * the answer never depends on earlier calls.  Every expected answer is
 * real spaCy 2.2.4's, for nlp(text) or nlp.pipe([...]) as the case says
 * (docs/exactness.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "check_model.h"
#include "nerd/ner.h"

static const ner_model *M;

/* "START END LABEL ; ..." of the entities of text, via ner_extract on c. */
static void ents_str(ner_ctx *c, const char *text, char *out, size_t cap)
{
    ner_doc d;
    size_t n = 0;
    out[0] = 0;
    int rc = ner_extract(c, text, strlen(text), &d);
    if (rc) {
        snprintf(out, cap, "error %s", ner_strerror(rc));
        return;
    }
    for (size_t i = 0; i < d.n_ents && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%u %u %s", i ? " ; " : "",
                              d.ents[i].start, d.ents[i].end,
                              ner_model_label(M, d.ents[i].label));
}

typedef struct norm_case {
    const char *why;
    const char *before[3]; /* earlier texts of the same minibatch (pipe) */
    int pipe;
    const char *text;
    const char *want;
} norm_case;

static const norm_case CASES[] = {
    /* issue 10's three texts, alone: the rule's NORM on the first piece too */
    {"gonna: gon has NORM going", {0}, 0,
     "gonna be honest, paris in august was NOT it. too hot, too many ppl",
     "17 22 GPE ; 26 32 DATE"},
    {"y'all: y' has NORM you", {0}, 0,
     "y'all ever just stare at ur fridge hoping food will appear", "25 34 FAC"},
    {"3 am alone: a plain am", {0}, 0,
     "it is 3 am and i'm still debugging... why am i like this \xf0\x9f\xa4\xa3",
     "6 10 QUANTITY ; 57 58 PERSON"},
    /* ... and after texts that reach the same words first */
    {"3 am after 3am in the minibatch: am is embedded with NORM a.m.",
     {"up at 3am again", 0}, 1,
     "it is 3 am and i'm still debugging... why am i like this \xf0\x9f\xa4\xa3",
     "6 10 TIME ; 57 58 PERSON"},
    {"gonna after a plain gon in the minibatch: gon keeps NORM gon",
     {"you not gon add my name on that list lol", 0}, 1,
     "gonna be honest, paris in august was NOT it. too hot, too many ppl",
     "0 3 ORG ; 17 22 GPE ; 26 32 DATE"},
    {"outside pipe mode earlier calls change nothing",
     {"you not gon add my name on that list lol", "up at 3am again", 0}, 0,
     "gonna be honest, paris in august was NOT it. too hot, too many ppl",
     "17 22 GPE ; 26 32 DATE"},
    {"within one text the first occurrence decides too", {0}, 0,
     "gon . gonna be honest, paris in august was NOT it. too hot, too many ppl",
     "0 3 ORG ; 6 9 ORG ; 23 28 GPE ; 32 38 DATE" /* 6 9: as gonna after gon above */},
};

int main(void)
{
    ner_model *m;
    ner_ctx *c;
    check_model_ctx(&m, &c);
    if (!c)
        return check_done("test_norms");
    M = m;
    char got[1024];
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        const norm_case *k = &CASES[i];
        ner_ctx_pipe(c, k->pipe);
        for (int j = 0; j < 3 && k->before[j]; j++)
            ents_str(c, k->before[j], got, sizeof got);
        ents_str(c, k->text, got, sizeof got);
        ner_ctx_pipe(c, 0);
        CHECK(!strcmp(got, k->want), "%s: got \"%s\", want \"%s\"", k->why, got, k->want);
    }
    /* pipe mode spans texts until it is switched off, and each switch
     * starts a new minibatch */
    ner_ctx_pipe(c, 1);
    ents_str(c, "up at 3am again", got, sizeof got);
    ner_ctx_pipe(c, 1);
    ents_str(c, CASES[2].text, got, sizeof got);
    ner_ctx_pipe(c, 0);
    CHECK(!strcmp(got, CASES[2].want), "a new minibatch forgets: got \"%s\"", got);
    ner_ctx_pipe(NULL, 1); /* no-op */
    ner_ctx_free(c);
    ner_model_free(m);
    return check_done("test_norms");
}
