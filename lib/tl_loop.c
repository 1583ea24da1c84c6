/*
 * The training loop (include/nerd/trainloop.h): a run's set-up (checks,
 * labels, the trainer, every document's gold tags in the trainer's
 * numbers and checked against the oracle), then epochs as spaCy v2.2's
 * `spacy train` runs them: shuffle, minibatches by words on the
 * compounding schedule (each batch takes documents until its word count
 * exceeds the target, as minibatch_by_words does), one tr_update() per
 * batch, then the averaged weights exported, loaded as a model and scored
 * on the dev corpus; the best epoch's file is kept in memory.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "tl_int.h"

const char *tl_strerror(int err)
{
    static const char *const msgs[TL_ERR_COUNT] = {
        [TL_OK] = "success",
        [TL_ENOMEM] = "out of memory",
        [TL_EINVAL] = "invalid argument",
        [TL_EEMPTY] = "no annotated document to train on",
        [TL_ELABELS] = "more labels than a model holds",
        [TL_EUNKNOWN] = "a dev label the trained model does not have",
        [TL_EBIG] = "a document too long for one update",
        [TL_EDATA] = "the trainer refused a document",
        [TL_EMODEL] = "the base model cannot be trained",
        [TL_EIO] = "cannot write the model file",
    };
    return err >= 0 && err < TL_ERR_COUNT && msgs[err] ? msgs[err] : "unknown error";
}

void tl_opts_default(tl_opts *o)
{
    memset(o, 0, sizeof *o);
    o->epochs = 30;
    o->dropout = 0.2f;
    o->batch_start = 100;
    o->batch_stop = 1000;
    o->batch_compound = 1.001;
    o->learn_rate = 0.001f;
    o->threads = 1;
}

int tl__fail(int rc, char *msg, size_t msglen, const char *fmt, ...)
{
    if (msg && msglen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msglen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int check_opts(const tl_opts *o, char *msg, size_t msglen)
{
    if (o->epochs < 1 || o->epochs > 100000)
        return tl__fail(TL_EINVAL, msg, msglen, "epochs must be 1 to 100000");
    if (!(o->dropout >= 0 && o->dropout < 1))
        return tl__fail(TL_EINVAL, msg, msglen, "dropout must be in [0, 1)");
    if (!(o->batch_start >= 1 && o->batch_stop >= 1 && o->batch_stop <= 1e6 &&
          o->batch_start <= 1e6 && o->batch_compound >= 1 && o->batch_compound <= 2))
        return tl__fail(TL_EINVAL, msg, msglen,
                        "batch sizes must be 1 to 1000000 words, the compound factor 1 to 2");
    if (!(o->learn_rate > 0 && o->learn_rate < 10))
        return tl__fail(TL_EINVAL, msg, msglen, "the learn rate must be in (0, 10)");
    if (o->patience < 0)
        return tl__fail(TL_EINVAL, msg, msglen, "patience must be 0 or more");
    if (o->threads < 0 || o->threads > TR_MAX_THREADS)
        return tl__fail(TL_EINVAL, msg, msglen, "threads must be 1 to %d", TR_MAX_THREADS);
    if (o->rehearse && o->from_scratch)
        return tl__fail(TL_EINVAL, msg, msglen,
                        "rehearsal keeps a base model's behaviour: it needs a base to fine-tune");
    return TL_OK;
}

/* The labels of c that have spans, and their token counts. */
static int corpus_labels(const td_corpus *c, const char **names, uint64_t *freqs)
{
    int n = 0;
    for (int i = 0; i < td_nlabels(c); i++) {
        td_label_info li;
        td_label_stats(c, i, &li);
        if (!li.spans)
            continue;
        names[n] = td_label(c, i);
        freqs[n++] = li.tokens;
    }
    return n;
}

/* The checks of the data against the model, then the trainer. */
static int make_trainer(tl_run *r, char *msg, size_t msglen)
{
    const ner_model *b = r->base;
    const char *base[TR_MAX_LABELS];
    int nb = r->o.from_scratch ? 0 : ner_model_nlabels(b), rc;
    for (int i = 0; i < nb; i++)
        base[i] = ner_model_label(b, i);
    const char *names[TD_MAX_LABELS];
    uint64_t freqs[TD_MAX_LABELS];
    int n = corpus_labels(r->train, names, freqs);
    rc = td_check_train(r->train, base, nb, msg, msglen);
    if (rc == TD_EEMPTY)
        return TL_EEMPTY;
    if (rc == TD_ELABELS && r->o.from_scratch) {
        int o = snprintf(msg, msglen, "%d labels in the training data (", n);
        for (int i = 0; i < n && o > 0 && (size_t)o < msglen; i++)
            o += snprintf(msg + o, msglen - (size_t)o, "%s%s", i ? ", " : "", names[i]);
        if (o > 0 && (size_t)o < msglen)
            snprintf(msg + o, msglen - (size_t)o, "); a model holds at most %d",
                     td_max_labels());
        return TL_ELABELS;
    }
    if (rc)
        return rc == TD_ELABELS ? TL_ELABELS : TL_ENOMEM;
    tr_config cfg;
    tr_config_default(&cfg);
    cfg.seed = r->o.seed;
    cfg.learn_rate = r->o.learn_rate;
    cfg.from_scratch = r->o.from_scratch;
    cfg.threads = r->o.threads;
    rc = tr_new(b, &cfg, names, freqs, (size_t)n, &r->t);
    if (rc)
        return tl__fail(rc == TR_ENOMEM ? TL_ENOMEM : rc == TR_EMODEL ? TL_EMODEL : TL_ELABELS,
                        msg, msglen, "the trainer: %s", tr_strerror(rc));
    r->n_labels = tr_nlabels(r->t);
    for (int i = 0; i < r->n_labels; i++)
        r->labels[i] = tr_label(r->t, i);
    r->n_new = r->n_labels - nb;
    return TL_OK;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The dev corpus against the model's labels, and its scored labels. */
static int dev_setup(tl_run *r, char *msg, size_t msglen)
{
    if (!r->dev)
        return TL_OK;
    if (td_check_dev(r->dev, r->labels, r->n_labels, msg, msglen))
        return TL_EUNKNOWN;
    int nl = td_nlabels(r->dev);
    r->dev_labels = calloc((size_t)nl + 1, sizeof *r->dev_labels);
    r->gmap = calloc((size_t)nl + 1, sizeof *r->gmap);
    r->per_label = calloc((size_t)nl + 1, sizeof *r->per_label);
    if (!r->dev_labels || !r->gmap || !r->per_label)
        return TL_ENOMEM;
    uint64_t freqs[TD_MAX_LABELS];
    r->n_dev_labels = corpus_labels(r->dev, r->dev_labels, freqs);
    qsort(r->dev_labels, (size_t)r->n_dev_labels, sizeof *r->dev_labels, str_cmp);
    for (int i = 0; i < nl; i++) {
        r->gmap[i] = -1;
        for (int k = 0; k < r->n_dev_labels; k++)
            if (!strcmp(td_label(r->dev, i), r->dev_labels[k]))
                r->gmap[i] = k;
    }
    return TL_OK;
}

/* The training documents' gold tags in the trainer's numbers. */
static int docs_setup(tl_run *r, char *msg, size_t msglen)
{
    size_t nt = td_ndocs(r->train), nr = r->o.rehearse ? td_ndocs(r->o.rehearse) : 0;
    int map[TD_MAX_LABELS];
    for (int i = 0; i < td_nlabels(r->train); i++)
        map[i] = tr_label_find(r->t, td_label(r->train, i));
    r->docs = calloc(nt + nr + 1, sizeof *r->docs);
    r->order = calloc(nt + nr + 1, sizeof *r->order);
    r->tok = calloc(TR_MAX_TOKENS, sizeof *r->tok);
    r->batch = calloc(TR_MAX_TOKENS, sizeof *r->batch);
    if (!r->docs || !r->order || !r->tok || !r->batch)
        return TL_ENOMEM;
    for (size_t i = 0; i < nt; i++) {
        const td_doc *d = td_doc_at(r->train, i);
        tl_doc *x = &r->docs[r->n_docs];
        if (d->n_tokens > TR_MAX_TOKENS)
            return tl__fail(TL_EBIG, msg, msglen,
                            "%s:%ld: a document of %zu tokens: one update takes at most %d "
                            "(split it into shorter documents)",
                            td_file(r->train, d->file), d->line, d->n_tokens, TR_MAX_TOKENS);
        if (d->n_tokens && !d->tags)
            return tl__fail(TL_EINVAL, msg, msglen, "the training data was read without tags");
        if (!d->n_tokens) /* an empty text teaches nothing */
            continue;
        x->d = d;
        x->gold = malloc((d->n_tokens + 1) * sizeof *x->gold);
        if (!x->gold)
            return TL_ENOMEM;
        r->n_docs++;
        for (size_t k = 0; k < d->n_tokens; k++) {
            int mv = d->tags[k].move, l = d->tags[k].label;
            x->gold[k].move = (uint8_t)mv;
            x->gold[k].label =
                (int16_t)(mv >= TD_B && mv <= TD_U && l >= 0 && l < td_nlabels(r->train) ? map[l]
                                                                                        : -1);
        }
        r->info.train_tokens += d->n_tokens;
    }
    r->n_train = r->n_docs;
    r->info.train_docs = r->n_train;
    return TL_OK;
}

/* Tokenizes document x into r->tok + off as the trainer sees it: *out. */
static int doc_tokens(tl_run *r, const tl_doc *x, size_t off, tr_doc *out)
{
    const td_doc *d = x->d;
    size_t n = 0;
    int rc = tr_tokenize(r->t, d->text, d->len, r->tok + off, TR_MAX_TOKENS - off, &n);
    if (rc || n != d->n_tokens)
        return rc == TR_ENOMEM ? TL_ENOMEM : TL_EDATA;
    *out = (tr_doc){r->tok + off, n, NULL, x->gold};
    return TL_OK;
}

static const char *doc_file(const tl_run *r, const tl_doc *x)
{
    return td_file(x->silver ? r->o.rehearse : r->train, x->d->file);
}

/* Every document through tr_check(): refused tags are found before the
 * first update. */
static int docs_check(tl_run *r, char *msg, size_t msglen)
{
    for (size_t i = 0; i < r->n_docs; i++) {
        const tl_doc *x = &r->docs[i];
        tr_doc doc;
        tr_result res;
        int rc = doc_tokens(r, x, 0, &doc);
        if (rc == TL_EDATA)
            return tl__fail(rc, msg, msglen, "%s:%ld: the trainer's tokens differ from the reader's",
                            doc_file(r, x), x->d->line);
        if (rc || (rc = tr_check(r->t, &doc, &res)) == TR_ENOMEM)
            return TL_ENOMEM;
        if (rc == TR_EORACLE)
            return tl__fail(TL_EDATA, msg, msglen,
                            "%s:%ld: the tags admit no zero-cost action sequence (an entity "
                            "starting on a whitespace token?); spaCy refuses it too (E024)",
                            doc_file(r, x), x->d->line);
        if (rc)
            return tl__fail(TL_EDATA, msg, msglen, "%s:%ld: token %zu: %s", doc_file(r, x),
                            x->d->line, res.bad_token + 1, tr_strerror(rc));
    }
    return TL_OK;
}

int tl_new(const ner_model *base, const tl_opts *o, const td_corpus *train,
           const td_corpus *dev, tl_run **out, char *msg, size_t msglen)
{
    if (msg && msglen)
        msg[0] = 0;
    if (out)
        *out = NULL;
    if (!base || !o || !train || !out)
        return tl__fail(TL_EINVAL, msg, msglen, "invalid argument");
    int rc = check_opts(o, msg, msglen);
    if (rc)
        return rc;
    tl_run *r = calloc(1, sizeof *r);
    if (!r)
        return tl__fail(TL_ENOMEM, msg, msglen, "out of memory");
    r->o = *o;
    r->base = base;
    r->train = train;
    r->dev = dev;
    r->rng = o->seed ^ 0x6e65726473687566ull; /* the shuffles' own stream */
    r->target = o->batch_start;
    r->best_f1 = -1;
    if ((rc = make_trainer(r, msg, msglen)) || (rc = dev_setup(r, msg, msglen)) ||
        (rc = docs_setup(r, msg, msglen)) ||
        (o->rehearse && (rc = tl__rehearse(r, msg, msglen))) ||
        (rc = docs_check(r, msg, msglen)))
        goto fail;
    for (size_t i = 0; i < r->n_docs; i++)
        r->order[i] = i;
    r->info.n_labels = r->n_labels;
    r->info.n_new = r->n_new;
    r->info.labels = r->labels;
    *out = r;
    return TL_OK;
fail:
    if (rc == TL_ENOMEM)
        tl__fail(rc, msg, msglen, "out of memory");
    tl_free(r);
    return rc;
}

void tl_info_get(const tl_run *r, tl_info *out)
{
    memset(out, 0, sizeof *out);
    if (r)
        *out = r->info;
}

void tl_free(tl_run *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_docs; i++)
        free(r->docs[i].gold);
    free(r->docs);
    free(r->order);
    free(r->tok);
    free(r->batch);
    free(r->dev_labels);
    free(r->gmap);
    free(r->per_label);
    free(r->best);
    tr_free(r->t);
    free(r);
}

/* Scores the model file buf on the dev corpus into r->per_label, *micro. */
static int evaluate(tl_run *r, const void *buf, size_t len, td_prf *micro)
{
    ner_model *m = NULL;
    ner_ctx *c = NULL;
    td_score sc = {0};
    int nm = 0, *pmap = NULL, rc = TL_ENOMEM;
    if (ner_model_load_mem(buf, len, &m) || ner_ctx_new(m, &c)) {
        rc = TL_EMODEL;
        goto out;
    }
    nm = ner_model_nlabels(m);
    if (!(pmap = malloc(((size_t)nm + 1) * sizeof *pmap)) ||
        td_score_init(&sc, r->n_dev_labels))
        goto out;
    for (int i = 0; i < nm; i++) {
        pmap[i] = -1;
        for (int k = 0; k < r->n_dev_labels; k++)
            if (!strcmp(ner_model_label(m, i), r->dev_labels[k]))
                pmap[i] = k;
    }
    for (size_t i = 0; i < td_ndocs(r->dev); i++) {
        const td_doc *d = td_doc_at(r->dev, i);
        ner_doc p;
        if (ner_extract(c, d->text, d->len, &p) == NER_OK)
            td_score_add(&sc, d->spans, d->n_spans, r->gmap, p.ents, p.n_ents, pmap);
    }
    for (int l = 0; l < r->n_dev_labels; l++)
        td_score_get(&sc, l, &r->per_label[l]);
    td_score_get(&sc, -1, micro);
    rc = TL_OK;
out:
    td_score_fini(&sc);
    free(pmap);
    ner_ctx_free(c);
    ner_model_free(m);
    return rc;
}

/* One batch from r->order[*i...]: documents until the words exceed the
 * target (spaCy's minibatch_by_words), at most TR_MAX_TOKENS tokens. */
static int next_batch(tl_run *r, size_t *i, size_t *nd)
{
    double left = r->target < r->o.batch_stop ? r->target : r->o.batch_stop;
    r->target *= r->o.batch_compound;
    size_t ntok = 0;
    *nd = 0;
    while (*i < r->n_docs && left >= 0 && *nd < TR_MAX_TOKENS) {
        const tl_doc *x = &r->docs[r->order[*i]];
        if (*nd && ntok + x->d->n_tokens > TR_MAX_TOKENS)
            break;
        int rc = doc_tokens(r, x, ntok, &r->batch[*nd]);
        if (rc)
            return rc;
        ntok += x->d->n_tokens;
        left -= (double)x->d->n_tokens;
        (*nd)++;
        (*i)++;
    }
    return TL_OK;
}

/* The epoch's updates; sets e's counts. */
static int epoch_updates(tl_run *r, tl_epoch *e, char *msg, size_t msglen)
{
    for (size_t i = r->n_docs; i > 1; i--) { /* Fisher-Yates */
        size_t j = (size_t)(splitmix64(&r->rng) % i), t = r->order[i - 1];
        r->order[i - 1] = r->order[j];
        r->order[j] = t;
    }
    size_t i = 0, nd;
    while (i < r->n_docs) {
        if (r->o.stop && *r->o.stop) {
            r->stopped = 1;
            return TL_OK;
        }
        size_t first = i;
        int rc = next_batch(r, &i, &nd);
        if (rc == TL_EDATA)
            return tl__fail(rc, msg, msglen, "the trainer's tokens differ from the reader's");
        if (rc)
            return rc;
        tr_result res;
        rc = tr_update(r->t, r->batch, nd, r->o.dropout, r->o.learn_rate, &res);
        if (rc) {
            const tl_doc *x = &r->docs[r->order[first + (res.bad_doc < nd ? res.bad_doc : 0)]];
            return tl__fail(rc == TR_ENOMEM ? TL_ENOMEM : TL_EDATA, msg, msglen,
                            "%s:%ld: %s", doc_file(r, x), x->d->line, tr_strerror(rc));
        }
        e->batches++;
        e->docs += nd;
        e->tokens += res.tokens;
        e->loss += res.d2;
        e->nll += res.loss;
    }
    return TL_OK;
}

int tl_train(tl_run *r, char *msg, size_t msglen)
{
    if (msg && msglen)
        msg[0] = 0;
    if (!r)
        return TL_EINVAL;
    int rc = TL_OK;
    while (r->epochs_done < r->o.epochs && !r->stopped) {
        tl_epoch e;
        memset(&e, 0, sizeof e);
        e.epoch = r->epochs_done + 1;
        e.epochs = r->o.epochs;
        double t0 = now();
        if ((rc = epoch_updates(r, &e, msg, msglen)) || r->stopped)
            break;
        double t1 = now();
        r->epochs_done = e.epoch;
        e.train_secs = t1 - t0;
        e.words_per_s = e.train_secs > 0 ? (double)e.tokens / e.train_secs : 0;
        if (r->dev) {
            void *buf = NULL;
            size_t len = 0;
            if (tr_export(r->t, &buf, &len)) {
                rc = tl__fail(TL_ENOMEM, msg, msglen, "out of memory");
                break;
            }
            rc = evaluate(r, buf, len, &e.micro);
            if (rc) {
                free(buf);
                tl__fail(rc, msg, msglen, "the trained model does not load: %s",
                         tl_strerror(rc));
                break;
            }
            e.has_dev = 1;
            e.n_labels = r->n_dev_labels;
            e.labels = r->dev_labels;
            e.per_label = r->per_label;
            e.improved = e.micro.f1 > r->best_f1;
            if (e.improved) {
                free(r->best);
                r->best = buf;
                r->best_len = len;
                r->best_epoch = e.epoch;
                r->best_f1 = e.micro.f1;
            } else {
                free(buf);
            }
        } else { /* the last epoch is kept, exported when asked for */
            free(r->best);
            r->best = NULL;
            r->best_epoch = e.epoch;
        }
        e.eval_secs = now() - t1;
        e.best_epoch = r->best_epoch;
        r->secs_all += now() - t0;
        e.secs_left = r->secs_all / r->epochs_done * (r->o.epochs - r->epochs_done);
        if (r->o.on_epoch)
            r->o.on_epoch(r->o.ud, &e);
        if (r->dev && r->o.patience && e.epoch - r->best_epoch >= r->o.patience)
            break;
    }
    return rc;
}

int tl_stopped(const tl_run *r) { return r ? r->stopped : 0; }

int tl_best(tl_run *r, const void **buf, size_t *len, int *epoch)
{
    if (!r || !buf || !len)
        return TL_EINVAL;
    if (!r->best) {
        if (tr_export(r->t, &r->best, &r->best_len))
            return TL_ENOMEM;
        if (!r->dev)
            r->best_epoch = r->epochs_done;
    }
    *buf = r->best;
    *len = r->best_len;
    if (epoch)
        *epoch = r->best_epoch;
    return TL_OK;
}

int tl_write(tl_run *r, const char *path)
{
    const void *buf;
    size_t len;
    if (!path)
        return TL_EINVAL;
    int rc = tl_best(r, &buf, &len, NULL);
    if (rc)
        return rc;
    return model__write_file(path, buf, len) ? TL_EIO : TL_OK;
}
