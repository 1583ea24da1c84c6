/* Entity scores (ner_extract_ex with NER_SCORES): the flag's contract
 * (other bits refused, scores NULL without it, never NULL with it), the
 * study sentence's exact scores, scores in (0, 1] and the very same
 * entities as ner_extract() on every text of the shared reference files,
 * and the score array following the entity array as it grows (documents
 * with hundreds of entities, scored before and after unscored calls on one
 * context; ASan checks the bounds). */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "check_model.h"
#include "nerd/ner.h"

static const char STUDY[] = "Alan Turing was born on June 23, 1912, in London, England.";

/* Runs text unscored then scored; 1 when the entities are the same and
 * every score is in (0, 1]. */
static int same_with_scores(ner_ctx *c, const char *text, size_t len, size_t *n_ents)
{
    ner_doc d;
    if (ner_extract(c, text, len, &d) || d.scores)
        return 0;
    size_t n = d.n_ents;
    ner_span *plain = malloc((n ? n : 1) * sizeof *plain);
    memcpy(plain, d.ents, n * sizeof *plain);
    int ok = ner_extract_ex(c, text, len, NER_SCORES, &d) == NER_OK && d.n_ents == n &&
             d.scores && !memcmp(plain, d.ents, n * sizeof *plain);
    for (size_t i = 0; ok && i < n; i++)
        ok = isfinite(d.scores[i]) && d.scores[i] > 0 && d.scores[i] <= 1;
    free(plain);
    *n_ents = n;
    return ok;
}

typedef struct scored {
    ner_ctx *c;
    const char *path;
    size_t ents, bad;
} scored;

static void score_text(void *ud, const char *text, size_t len)
{
    scored *s = ud;
    size_t n = 0;
    if (!same_with_scores(s->c, text, len, &n) && s->bad++ < 3)
        fprintf(stderr, "%s: scores wrong for %.200s\n", s->path, text);
    s->ents += n;
}

static void reference_file(ner_ctx *c, const char *path)
{
    scored s = {c, path, 0, 0};
    long texts = check_each_text(path, score_text, &s);
    printf("test_scores: %s: %ld texts, %zu entities scored\n", path, texts, s.ents);
    CHECK(texts > 0 && s.bad == 0, "%s: %zu of %ld texts with wrong scores", path, s.bad, texts);
}

int main(void)
{
    ner_model *m;
    ner_ctx *c;
    check_model_ctx(&m, &c);
    if (!c)
        return check_done("test_scores");
    ner_doc d;

    /* the flag's contract */
    CHECK(ner_extract_ex(c, "Paris", 5, 2, &d) == NER_EINVAL, "unknown flag bits refused");
    CHECK(ner_extract_ex(c, "Paris", 5, NER_SCORES | 4, &d) == NER_EINVAL, "unknown bits refused");
    CHECK(ner_extract_ex(c, "Paris", 5, 0, &d) == NER_OK && d.n_ents == 1 && !d.scores,
          "flags 0: no scores");
    CHECK(ner_extract_ex(c, "", 0, NER_SCORES, &d) == NER_OK && d.n_ents == 0 && d.scores,
          "no entities: scores still not NULL");
    CHECK(ner_extract_ex(c, "caf\xe9", 4, NER_SCORES, &d) == NER_EUTF8, "invalid UTF-8");
    CHECK(ner_extract_ex(c, "Paris", 5, NER_SCORES, NULL) == NER_EINVAL, "NULL out");

    /* the study sentence, to four decimals (as the function prints them) */
    CHECK(ner_extract_ex(c, STUDY, sizeof STUDY - 1, NER_SCORES, &d) == NER_OK && d.n_ents == 4,
          "study sentence");
    char got[128] = "";
    for (size_t i = 0; i < d.n_ents && i < 4; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), i ? " %.4f" : "%.4f",
                 (double)d.scores[i]);
    CHECK(!strcmp(got, "0.9997 0.8231 1.0000 1.0000"), "study sentence scores: %s", got);
    CHECK(ner_extract(c, STUDY, sizeof STUDY - 1, &d) == NER_OK && !d.scores,
          "ner_extract after a scored call: no scores");

    /* many entities: the score array grows with the entity array, whether
     * scores come first on a context or after unscored calls grew it */
    size_t len = 0, n = 0;
    char *big = malloc(40 * 1000 + 1);
    for (int i = 0; i < 1000; i++)
        len += (size_t)sprintf(big + len, "%s", i % 2 ? "Obama met Merkel. " : "Paris, London. ");
    ner_ctx *fresh = NULL;
    CHECK(ner_ctx_new(m, &fresh) == NER_OK, "second context");
    CHECK(ner_extract_ex(fresh, big, len, NER_SCORES, &d) == NER_OK && d.n_ents >= 1500 &&
              d.scores,
          "1000 sentences scored on a fresh context: %zu entities", d.n_ents);
    CHECK(same_with_scores(fresh, big, len, &n) && n >= 1500, "same entities, %zu", n);
    CHECK(same_with_scores(c, "Paris", 5, &n), "a short text after");
    CHECK(ner_extract(c, big, len, &d) == NER_OK && d.n_ents >= 1500, "unscored first");
    CHECK(same_with_scores(c, big, len, &n) && n >= 1500, "then scored: %zu", n);
    ner_ctx_free(fresh);
    free(big);

    /* every text of the shared reference files */
    const char *shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/data/reference", shared);
    DIR *dd = opendir(dir);
    if (!dd) {
        printf("test_scores: %s not found: reference files skipped\n", dir);
    } else {
        struct dirent *e;
        while ((e = readdir(dd))) {
            size_t l = strlen(e->d_name);
            if (l < 6 || strcmp(e->d_name + l - 6, ".jsonl"))
                continue;
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            reference_file(c, path);
        }
        closedir(dd);
    }
    ner_ctx_free(c);
    ner_model_free(m);
    return check_done("test_scores");
}
