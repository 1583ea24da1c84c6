/*
 * Training speed against inference speed on the same words, one core:
 *   build/train_speed MODEL CONLL [EPOCHS] [BATCH_WORDS]
 * CONLL: "word<TAB>tag" lines (IOB2; blank line between sentences), e.g.
 * ../shared/data/corpora/wnut17.train.  Inference: ner_extract() on each
 * sentence (its words joined by single spaces).  Training: tr_update() at
 * dropout 0.2 on batches of sentences of about BATCH_WORDS words (default
 * 1000, the end of spaCy's compounding(100, 1000) schedule), fine-tuning
 * the model (WNUT-17's types mapped to the model's labels); the gradient pass (forward +
 * backward) and the optimizer step are timed apart.  Prints words/s of
 * each and the peak resident memory.  Times are the process's CPU time
 * (other work on the machine does not count; run it on one core).  A measuring tool, not a reader of
 * training data (the sentences' tags are converted IOB2 -> BILUO inline).
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "nerd/ner.h"
#include "nerd/train.h"
#include "train_int.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct sent {
    size_t n;
    tr_token *tok;
    char **tags;
    char *text;
    size_t text_len;
} sent;

/* WNUT-17's types as the model's labels (so no classes are added) */
static char *map_tag(const char *tag)
{
    static const char *const map[][2] = {
        {"person", "PERSON"}, {"location", "GPE"}, {"group", "ORG"}, {"corporation", "ORG"},
        {"product", "PRODUCT"}, {"creative-work", "WORK_OF_ART"}};
    char buf[128];
    for (size_t i = 0; tag[0] && tag[1] == '-' && i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(tag + 2, map[i][0])) {
            snprintf(buf, sizeof buf, "%c-%s", tag[0], map[i][1]);
            return strdup(buf);
        }
    return strdup(tag);
}

/* IOB2 -> BILUO for one sentence, in place (tags are malloc'd strings). */
static void to_biluo(char **tags, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *t = tags[i];
        if (t[0] != 'B' && t[0] != 'I')
            continue;
        int cont = i + 1 < n && tags[i + 1][0] == 'I' && !strcmp(tags[i + 1] + 1, t + 1);
        int starts = t[0] == 'B' || i == 0 || tags[i - 1][0] == 'O' ||
                     strcmp(tags[i - 1] + 1, t + 1) != 0;
        t[0] = starts ? (cont ? 'B' : 'U') : (cont ? 'I' : 'L');
    }
}

static sent *read_conll(const char *path, size_t *ns)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    sent *s = NULL;
    size_t n = 0, cap = 0;
    char line[8192];
    tr_token tok[512];
    char *tags[512];
    size_t k = 0;
    for (int eof = 0; !eof;) {
        eof = !fgets(line, sizeof line, f);
        char *tab = eof ? NULL : strchr(line, '\t');
        if (tab && tab > line && k < 512) { /* "\t" alone: a sentence break */
            *tab = 0;
            char *tag = tab + 1;
            tag[strcspn(tag, "\r\n")] = 0;
            tok[k] = (tr_token){strdup(line), strlen(line), NULL, 0};
            tags[k++] = map_tag(tag);
            continue;
        }
        if (!k)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            s = realloc(s, cap * sizeof *s);
        }
        sent *x = &s[n++];
        x->n = k;
        x->tok = malloc(k * sizeof *x->tok);
        x->tags = malloc(k * sizeof *x->tags);
        memcpy(x->tok, tok, k * sizeof *tok);
        memcpy(x->tags, tags, k * sizeof *tags);
        to_biluo(x->tags, k);
        size_t len = 0;
        for (size_t i = 0; i < k; i++)
            len += tok[i].len + 1;
        x->text = malloc(len);
        x->text_len = 0;
        for (size_t i = 0; i < k; i++) {
            memcpy(x->text + x->text_len, tok[i].text, tok[i].len);
            x->text_len += tok[i].len;
            if (i + 1 < k)
                x->text[x->text_len++] = ' ';
        }
        k = 0;
    }
    fclose(f);
    *ns = n;
    return s;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL CONLL [EPOCHS] [BATCH_WORDS]\n", argv[0]);
        return 2;
    }
    int epochs = argc > 3 ? atoi(argv[3]) : 1;
    size_t batch_words = argc > 4 ? (size_t)atol(argv[4]) : 1000;
    ner_model *m;
    ner_ctx *c;
    int rc = ner_model_load(argv[1], &m);
    if (rc || (rc = ner_ctx_new(m, &c))) {
        fprintf(stderr, "%s: %s\n", argv[1], ner_strerror(rc));
        return 1;
    }
    size_t ns, words = 0;
    sent *s = read_conll(argv[2], &ns);
    if (!s) {
        perror(argv[2]);
        return 1;
    }
    /* the labels of the data */
    const char *labels[64];
    size_t nl = 0;
    for (size_t i = 0; i < ns; i++) {
        words += s[i].n;
        for (size_t k = 0; k < s[i].n; k++) {
            const char *t = s[i].tags[k];
            if (t[0] == 'O' || t[0] == '-')
                continue;
            size_t j = 0;
            while (j < nl && strcmp(labels[j], t + 2))
                j++;
            if (j == nl && nl < 64)
                labels[nl++] = t + 2;
        }
    }
    /* inference: one call per sentence, the same words */
    double best_inf = 1e30;
    size_t ntok = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now();
        ntok = 0;
        for (size_t i = 0; i < ns; i++) {
            ner_doc d;
            if (ner_extract(c, s[i].text, s[i].text_len, &d) == 0)
                ntok += d.n_tokens;
        }
        double dt = now() - t0;
        if (dt < best_inf)
            best_inf = dt;
    }
    printf("corpus: %zu sentences, %zu words (%zu tokens by the tokenizer), %zu labels\n", ns,
           words, ntok, nl);
    printf("inference (ner_extract per sentence, best of 3): %.3f s, %.0f words/s\n", best_inf,
           (double)words / best_inf);
    tr_config cfg;
    tr_config_default(&cfg);
    cfg.seed = 1;
    tr_trainer *t;
    rc = tr_new(m, &cfg, labels, NULL, nl, &t);
    if (rc) {
        fprintf(stderr, "tr_new: %s (labels of the data: %zu; the model has %d)\n",
                tr_strerror(rc), nl, ner_model_nlabels(m));
        return 1;
    }
    tr_doc *docs = malloc(ns * sizeof *docs);
    for (int ep = 0; ep < epochs; ep++) {
        double tg = 0, tstep = 0, loss = 0;
        size_t i = 0, nb = 0;
        while (i < ns) {
            size_t nd = 0, w = 0;
            while (i < ns && w <= batch_words) {
                docs[nd++] = (tr_doc){s[i].tok, s[i].n, (const char *const *)s[i].tags, NULL};
                w += s[i].n;
                i++;
            }
            tr_result res;
            double t0 = now();
            rc = tr__grad(t, docs, nd, 0.2f, &res);
            double t1 = now();
            if (rc) {
                fprintf(stderr, "batch %zu: %s (doc %zu token %zu)\n", nb, tr_strerror(rc),
                        res.bad_doc, res.bad_token);
                return 1;
            }
            tr__step(t, cfg.learn_rate);
            double t2 = now();
            tg += t1 - t0;
            tstep += t2 - t1;
            loss += res.loss;
            nb++;
        }
        printf("epoch %d: %zu batches, loss %.1f; forward+backward %.3f s (%.0f words/s), "
               "optimizer %.3f s, update total %.0f words/s = %.2fx the inference time\n",
               ep + 1, nb, loss, tg, (double)words / tg, tstep, (double)words / (tg + tstep),
               (tg + tstep) / best_inf);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak resident memory: %.1f MB\n", (double)ru.ru_maxrss / 1024.0);
    tr_free(t);
    ner_ctx_free(c);
    ner_model_free(m);
    return 0;
}
