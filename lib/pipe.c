/*
 * spaCy's nlp.pipe order (ner_pipe_plan, include/nerd/ner.h): Parser.pipe
 * takes the texts in batches of batch_size, sorts each batch stably by
 * token count and predicts it in minibatches of max(batch_size / 4, 2).
 * The minibatch matters because the NER model embeds each word of a
 * minibatch from its first occurrence (lib/uniq.h).
 */
#include <stdlib.h>

#include "nerd/ner.h"

typedef struct key {
    size_t ntok, idx;
} key;

static int key_cmp(const void *a, const void *b)
{
    const key *x = a, *y = b;
    if (x->ntok != y->ntok)
        return x->ntok < y->ntok ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx); /* stable, as sorted() is */
}

int ner_pipe_plan(const size_t *ntok, size_t n, size_t batch_size, size_t *order,
                  unsigned char *starts)
{
    if ((n && (!ntok || !order || !starts)) || batch_size == 0)
        return NER_EINVAL;
    key *k = malloc((n < batch_size ? n : batch_size) * sizeof *k + 1);
    if (!k)
        return NER_ENOMEM;
    size_t mb = batch_size / 4 < 2 ? 2 : batch_size / 4;
    for (size_t b = 0; b < n; b += batch_size) {
        size_t m = n - b < batch_size ? n - b : batch_size;
        for (size_t i = 0; i < m; i++)
            k[i] = (key){ntok[b + i], b + i};
        qsort(k, m, sizeof *k, key_cmp);
        for (size_t i = 0; i < m; i++) {
            order[b + i] = k[i].idx;
            starts[b + i] = i % mb == 0;
        }
    }
    free(k);
    return NER_OK;
}
