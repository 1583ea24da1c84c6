/* Exactness against real spaCy 2.2.4 + en_core_web_sm 2.2.5: every token
 * boundary and every entity of every file in $SHARED/data/reference must
 * be reproduced, each file run as nlp.pipe ran it (batch_size 1000).  Skipped (and said so) when ../shared is absent. */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nerd/ner.h"

/* One text's tokens and entities against the reference line j. */
static void check_text(const ner_model *m, ner_ctx *c, const char *path, long lineno,
                       json_t *j, long *tok_bad, long *ent_bad, long *ents)
{
    const char *text = json_string_value(json_object_get(j, "text"));
    json_t *toks = json_object_get(j, "tokens"), *es = json_object_get(j, "entities");
    ner_doc d;
    int rc = ner_extract(c, text, strlen(text), &d);
    int tok_ok = rc == 0 && d.n_tokens == json_array_size(toks);
    for (size_t i = 0; tok_ok && i < d.n_tokens; i++) {
        json_t *t = json_array_get(toks, i);
        tok_ok = d.tokens[i].start == json_integer_value(json_array_get(t, 0)) &&
                 d.tokens[i].end == json_integer_value(json_array_get(t, 1));
    }
    int ent_ok = rc == 0 && d.n_ents == json_array_size(es);
    for (size_t i = 0; ent_ok && i < d.n_ents; i++) {
        json_t *e = json_array_get(es, i);
        ent_ok = d.ents[i].start == json_integer_value(json_array_get(e, 0)) &&
                 d.ents[i].end == json_integer_value(json_array_get(e, 1)) &&
                 !strcmp(ner_model_label(m, d.ents[i].label),
                         json_string_value(json_array_get(e, 2)));
    }
    *ents += (long)json_array_size(es);
    if (!tok_ok && (*tok_bad)++ < 3)
        fprintf(stderr, "%s:%ld: tokens differ: %.200s\n", path, lineno, text);
    if (!ent_ok && (*ent_bad)++ < 3)
        fprintf(stderr, "%s:%ld: entities differ: %.200s\n", path, lineno, text);
}

/* The whole file as the reference was written: nlp.pipe with spaCy's
 * default batch_size of 1000 (ner_pipe_plan, ner_ctx_pipe). */
static void check_file(const ner_model *m, ner_ctx *c, const char *path)
{
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "open %s", path);
    if (!f)
        return;
    char *line = NULL;
    size_t cap = 0, n = 0, jcap = 0;
    ssize_t r;
    json_t **js = NULL;
    long texts = 0, tok_bad = 0, ent_bad = 0, ents = 0;
    while ((r = getline(&line, &cap, f)) > 0) {
        json_error_t je;
        json_t *j = json_loadb(line, (size_t)r, 0, &je);
        if (!json_is_string(json_object_get(j, "text")) ||
            !json_is_array(json_object_get(j, "tokens")) ||
            !json_is_array(json_object_get(j, "entities"))) {
            CHECK(0, "%s:%zu: malformed reference line", path, n + 1);
            json_decref(j);
            j = json_null();
        }
        if (n == jcap) {
            jcap = jcap ? 2 * jcap : 1024;
            js = realloc(js, jcap * sizeof *js);
            if (!js)
                abort();
        }
        js[n++] = j;
    }
    free(line);
    fclose(f);
    size_t *ntok = calloc(n + 1, sizeof *ntok), *order = calloc(n + 1, sizeof *order);
    unsigned char *starts = calloc(n + 1, 1);
    if (!ntok || !order || !starts)
        abort();
    for (size_t i = 0; i < n; i++) {
        const char *text = json_string_value(json_object_get(js[i], "text"));
        ner_doc d;
        if (text && ner_tokenize(c, text, strlen(text), &d) == 0)
            ntok[i] = d.n_tokens;
    }
    CHECK(ner_pipe_plan(ntok, n, 1000, order, starts) == 0, "%s: plan", path);
    for (size_t i = 0; i < n; i++) {
        if (starts[i])
            ner_ctx_pipe(c, 1);
        if (json_is_object(js[order[i]])) {
            texts++;
            check_text(m, c, path, (long)order[i] + 1, js[order[i]], &tok_bad, &ent_bad, &ents);
        }
    }
    ner_ctx_pipe(c, 0);
    for (size_t i = 0; i < n; i++)
        json_decref(js[i]);
    free(js);
    free(ntok);
    free(order);
    free(starts);
    printf("%s: %ld texts, %ld entities; texts with token differences %ld, "
           "with entity differences %ld\n", path, texts, ents, tok_bad, ent_bad);
    CHECK(texts > 0, "%s: no texts", path);
    CHECK(tok_bad == 0, "%s: %ld texts with token differences", path, tok_bad);
    CHECK(ent_bad == 0, "%s: %ld texts with entity differences", path, ent_bad);
}

int main(void)
{
    const char *shared = getenv("SHARED");
    const char *model = getenv("MODEL");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/data/reference", shared ? shared : "../shared");
    DIR *d = opendir(dir);
    if (!d) {
        printf("test_reference: %s not found: skipped\n", dir);
        printf("test_reference: 0 passed, 0 failed\n");
        return 0;
    }
    ner_model *m;
    int rc = ner_model_load(model ? model : "models/en_core_web_sm-2.2.5.nerd", &m);
    CHECK(rc == 0, "load model: %s", ner_strerror(rc));
    ner_ctx *c = NULL;
    if (!rc)
        CHECK(ner_ctx_new(m, &c) == 0, "ctx");
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        size_t l = strlen(e->d_name);
        if (l > 6 && !strcmp(e->d_name + l - 6, ".jsonl"))
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    CHECK(n >= 4, "reference files found: %d", n);
    for (int i = 0; i < n; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (c)
            check_file(m, c, path);
        free(names[i]);
    }
    ner_ctx_free(c);
    ner_model_free(m);
    return check_done("test_reference");
}
