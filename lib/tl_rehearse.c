/*
 * Pseudo-rehearsal for fine-tuning (`nerd train --rehearse FILE`): the
 * frozen base model annotates raw texts, and those silver documents are
 * trained on with the user's, so the labels the user's data does not use
 * ("untouched": DATE, MONEY... when the data teaches PER/ORG/LOC/MISC) keep
 * the base model's behaviour.  spaCy's maintainers recommend this ("revision
 * data", ../shared/specs/ner-training.md §5) over spaCy's own rehearse()
 * distillation.  A silver document tags the base's entities of untouched
 * labels as they are, leaves its entities of the labels the data uses
 * missing ('-': the user's data decides those), and O elsewhere.  The
 * user's own documents say O where an untouched entity is because their
 * annotation scheme has no such label, which would teach forgetting it:
 * where a training document tags O every token of such an entity of the
 * base model, the tokens take the base's tags.
 */
#include <stdlib.h>
#include <string.h>

#include "tl_int.h"

/* Tags tokens [a, e] as one entity of label. */
static void tag_entity(tr_tag *g, size_t a, size_t e, int label)
{
    for (size_t k = a; k <= e; k++) {
        g[k].move = (uint8_t)(a == e ? TR_UNIT : k == a ? TR_BEGIN : k == e ? TR_LAST : TR_IN);
        g[k].label = (int16_t)label;
    }
}

/* The token range [*a, *e] of entity s among tokens tk[0..n), searching
 * from *a; 0 when it is not on token boundaries. */
static int ent_tokens(const ner_span *tk, size_t n, const ner_span *s, size_t *a, size_t *e)
{
    size_t k = *a;
    while (k < n && tk[k].byte_start < s->byte_start)
        k++;
    if (k == n || tk[k].byte_start != s->byte_start)
        return 0;
    *a = k;
    while (k < n && tk[k].byte_end < s->byte_end)
        k++;
    if (k == n || tk[k].byte_end != s->byte_end)
        return 0;
    *e = k;
    return 1;
}

/* Adds the base's untouched entities where x's gold says O throughout. */
static void complete(tl_run *r, tl_doc *x, const ner_doc *p, const int *untouched,
                     const int *tmap)
{
    size_t a = 0, e = 0;
    for (size_t i = 0; i < p->n_ents; i++) {
        const ner_span *s = &p->ents[i];
        if (!untouched[s->label] || !ent_tokens(p->tokens, p->n_tokens, s, &a, &e))
            continue;
        int all_o = 1;
        for (size_t k = a; k <= e && all_o; k++)
            all_o = x->gold[k].move == TR_OUT;
        if (!all_o)
            continue;
        tag_entity(x->gold, a, e, tmap[s->label]);
        r->info.completed_ents++;
    }
}

/* A rehearsal text as a silver document: the base's entities. */
static void silver(tl_run *r, tl_doc *x, const ner_doc *p, const int *untouched,
                   const int *tmap)
{
    for (size_t k = 0; k < p->n_tokens; k++)
        x->gold[k] = (tr_tag){TR_OUT, -1};
    size_t a = 0, e = 0;
    for (size_t i = 0; i < p->n_ents; i++) {
        const ner_span *s = &p->ents[i];
        if (!ent_tokens(p->tokens, p->n_tokens, s, &a, &e))
            continue;
        if (untouched[s->label]) {
            tag_entity(x->gold, a, e, tmap[s->label]);
            r->info.rehearse_ents++;
        } else {
            for (size_t k = a; k <= e; k++)
                x->gold[k] = (tr_tag){TR_MISSING, -1};
        }
    }
}

int tl__rehearse(tl_run *r, char *msg, size_t msglen)
{
    const ner_model *b = r->base;
    const td_corpus *raw = r->o.rehearse;
    int nb = ner_model_nlabels(b), untouched[NN_NLABEL_MAX], tmap[NN_NLABEL_MAX];
    for (int i = 0; i < nb && i < NN_NLABEL_MAX; i++) {
        td_label_info li = {0};
        int l = td_label_find(r->train, ner_model_label(b, i));
        if (l >= 0)
            td_label_stats(r->train, l, &li);
        untouched[i] = !li.spans;
        tmap[i] = tr_label_find(r->t, ner_model_label(b, i));
    }
    ner_ctx *c = NULL;
    if (ner_ctx_new(b, &c))
        return tl__fail(TL_ENOMEM, msg, msglen, "out of memory");
    int rc = TL_OK;
    ner_doc p;
    for (size_t i = 0; i < r->n_train; i++) {
        tl_doc *x = &r->docs[i];
        if (!ner_extract(c, x->d->text, x->d->len, &p) && p.n_tokens == x->d->n_tokens)
            complete(r, x, &p, untouched, tmap);
    }
    for (size_t i = 0; i < td_ndocs(raw) && !rc; i++) {
        const td_doc *d = td_doc_at(raw, i);
        tl_doc *x = &r->docs[r->n_docs];
        if (d->n_tokens > TR_MAX_TOKENS)
            rc = tl__fail(TL_EBIG, msg, msglen,
                          "%s:%ld: a text of %zu tokens: one update takes at most %d",
                          td_file(raw, d->file), d->line, d->n_tokens, TR_MAX_TOKENS);
        else if (!d->n_tokens || ner_extract(c, d->text, d->len, &p) ||
                 p.n_tokens != d->n_tokens)
            continue;
        else if (!(x->gold = malloc(d->n_tokens * sizeof *x->gold)))
            rc = tl__fail(TL_ENOMEM, msg, msglen, "out of memory");
        else {
            x->d = d;
            x->silver = 1;
            r->n_docs++;
            silver(r, x, &p, untouched, tmap);
            r->info.rehearse_docs++;
        }
    }
    ner_ctx_free(c);
    return rc;
}
