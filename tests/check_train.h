/*
 * Shared by the trainer's C tests (test_train.c, test_trainer.c): a batch
 * of documents read from the reference's JSON (words and BILUO tags) and
 * the names of a trainer's classes.  Include after check.h.
 */
#ifndef NERD_CHECK_TRAIN_H
#define NERD_CHECK_TRAIN_H

#include <jansson.h>
#include <stdio.h>

#include "train_int.h"

typedef struct batch {
    tr_doc docs[8];
    tr_token toks[8][64];
    const char *tags[8][64];
    size_t n;
} batch;

/* docs: [[word...]...], tags the same shape (strings kept in the JSON) */
static inline void batch_from_json(batch *b, const json_t *docs, const json_t *tags)
{
    size_t i, k;
    json_t *d, *w;
    b->n = 0;
    json_array_foreach(docs, i, d) {
        json_array_foreach(d, k, w) {
            b->toks[i][k] = (tr_token){json_string_value(w), json_string_length(w), NULL, 0};
            b->tags[i][k] = json_string_value(json_array_get(json_array_get(tags, i), k));
        }
        b->docs[i] = (tr_doc){b->toks[i], json_array_size(d), b->tags[i], NULL};
        b->n++;
    }
}

static inline void class_name(const tr_trainer *t, int k, char *buf, size_t n)
{
    static const char mv[] = "?BILUO";
    model_class c = t->classes[k];
    snprintf(buf, n, "%c-%s", mv[c.move], c.label >= 0 ? t->labels[c.label] : "");
    if (c.move == TR_OUT)
        snprintf(buf, n, "O");
}

#endif
