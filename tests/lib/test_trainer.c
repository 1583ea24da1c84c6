/* The trainer beyond its numerics (test_train.c has those):
 * - the dynamic oracle's costs on hand-made states and static oracle
 *   sequences (tests/data/trainer/oracle.cases, checked against the
 *   reference's cost() too);
 * - the written model: an ordinary model file (loads, extracts, is
 *   tr_export's bytes), the base model's sections unchanged when written
 *   without an update, the same seed giving the same bytes and another
 *   seed other bytes;
 * - training from scratch: spaCy's class order, a small batch learnt, also
 *   with over 80 classes (a format 2 file);
 * - errors: bad tags, unknown labels, too many labels, bad arguments, a
 *   failed update changing nothing, a batch without gold being no update;
 *   tr_tokenize. */
#define _DEFAULT_SOURCE
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "check_model.h"
#include "check_train.h"
#include "model.h"
#include "nerd/train.h"
#include "train_int.h"

/* ---- the oracle's costs on hand-made states ---- */

static const char *const ORC_NAMES[10] = {"B-PER", "B-LOC", "I-PER", "I-LOC", "L-PER",
                                          "L-LOC", "U-PER", "U-LOC", "U-", "O"};

static int orc_class(const char *name)
{
    for (int k = 0; k < 10; k++)
        if (!strcmp(ORC_NAMES[k], name))
            return k;
    return -1;
}

static void test_oracle(const ner_model *m, const char *path)
{
    tr_dims d = {.W = 6, .nH = 4, .depth = 1, .C = 10, .rows = {1, 1, 1, 1}};
    tr_trainer *t;
    CHECK(tr__new_dims(&d, NULL, &t) == 0, "tr__new_dims");
    t->base = m;
    t->labels[0] = strdup("PER");
    t->labels[1] = strdup("LOC");
    t->n_labels = 2;
    for (int k = 0; k < 10; k++) {
        const char *n = ORC_NAMES[k];
        t->classes[k] = (model_class){
            (int16_t)(n[0] == 'B' ? TR_BEGIN : n[0] == 'I' ? TR_IN : n[0] == 'L' ? TR_LAST
                      : n[0] == 'U' ? TR_UNIT : TR_OUT),
            (int16_t)(!strcmp(n + 2 - (n[1] == 0), "PER") ? 0 : !strcmp(n + 2 - (n[1] == 0), "LOC") ? 1 : -1)};
    }
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "open %s", path);
    if (!f) {
        tr_free(t);
        return;
    }
    char line[1024], tags[1024] = "", moves[1024] = "";
    int lineno = 0, cases = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        char *sp = strchr(line, ' ');
        CHECK(sp != NULL, "%s:%d: no value", path, lineno);
        if (!sp)
            continue;
        *sp++ = 0;
        if (!strcmp(line, "tags")) {
            snprintf(tags, sizeof tags, "%s", sp);
            snprintf(moves, sizeof moves, "-");
            continue;
        }
        if (!strcmp(line, "moves")) {
            snprintf(moves, sizeof moves, "%s", sp);
            continue;
        }
        /* the document */
        tr_gold gold[32];
        unsigned char space[32] = {0};
        int n = 0;
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", tags);
        for (char *tok = strtok(buf, " "); tok && n < 32; tok = strtok(NULL, " "), n++) {
            space[n] = tok[0] == '~';
            CHECK(tr__parse_tag(t, tok + space[n], &gold[n]) == 0, "%s:%d: tag %s", path,
                  lineno, tok);
        }
        tr_state st = {.off = 0, .n = n, .e0 = -1, .e0_label = -1};
        snprintf(buf, sizeof buf, "%s", moves);
        for (char *mv = strtok(buf, " "); mv; mv = strtok(NULL, " "))
            if (strcmp(mv, "-")) {
                int k = orc_class(mv);
                CHECK(k >= 0, "%s:%d: class %s", path, lineno, mv);
                if (k >= 0)
                    tr__apply(&st, t->classes[k]);
            }
        char got[1024] = "";
        if (!strcmp(line, "costs")) {
            for (int k = 0; k < 10; k++) {
                char c[16];
                if (tr__valid(&st, t->classes[k], space))
                    snprintf(c, sizeof c, "%d", tr__cost(&st, t->classes[k], gold));
                else
                    snprintf(c, sizeof c, "x");
                snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", k ? " " : "", c);
            }
        } else {
            CHECK(!strcmp(line, "oracle"), "%s:%d: unknown line %s", path, lineno, line);
            for (tr_state r = {.off = 0, .n = n, .e0 = -1, .e0_label = -1}; r.i < n;) {
                int k = tr__oracle(t, &r, gold, space);
                if (k < 0)
                    break;
                snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", r.i ? " " : "",
                         ORC_NAMES[k]);
                tr__apply(&r, t->classes[k]);
            }
        }
        CHECK(!strcmp(got, sp), "%s:%d: tags %s, moves %s: %s %s, want %s", path, lineno, tags,
              moves, line, got, sp);
        cases++;
    }
    fclose(f);
    CHECK(cases >= 20, "%s: %d cases", path, cases);
    printf("oracle: %d hand-made cases\n", cases);
    tr_free(t);
}

/* ---- writing, determinism, training from scratch, errors ---- */

static int same_section(const ner_model *a, const ner_model *b, uint32_t id)
{
    const unsigned char *pa, *pb;
    size_t la, lb;
    return !model__section(a, id, &pa, &la) && !model__section(b, id, &pb, &lb) && la == lb &&
           !memcmp(pa, pb, la);
}

/* The entities of text as "start-end:LABEL ..." */
static void ents_of(const ner_model *m, const char *text, char *out, size_t n)
{
    ner_ctx *c;
    ner_doc d;
    out[0] = 0;
    if (ner_ctx_new(m, &c))
        return;
    if (!ner_extract(c, text, strlen(text), &d))
        for (size_t i = 0; i < d.n_ents; i++)
            snprintf(out + strlen(out), n - strlen(out), "%s%u-%u:%s", i ? " " : "",
                     d.ents[i].start, d.ents[i].end, ner_model_label(m, d.ents[i].label));
    ner_ctx_free(c);
}

/* trains t on b for n updates with seed-driven dropout and cuts; returns the model bytes */
static void *train_bytes(tr_trainer *t, const batch *b, int n, float drop, float lr, size_t *len)
{
    for (int i = 0; i < n; i++) {
        tr_result r;
        int rc = tr_update(t, b->docs, b->n, drop, lr, &r);
        CHECK(rc == 0, "tr_update %d: %s", i, tr_strerror(rc));
    }
    void *buf = NULL;
    int rc = tr_export(t, &buf, len);
    CHECK(rc == 0, "tr_export: %s", tr_strerror(rc));
    return buf;
}

static void test_write(const ner_model *m, const char *batch_path)
{
    /* no update: the base's weights, classes and labels, byte for byte */
    tr_trainer *t;
    int rc = tr_new(m, NULL, NULL, NULL, 0, &t);
    CHECK(rc == 0, "tr_new: %s", tr_strerror(rc));
    void *buf;
    size_t len;
    rc = tr_export(t, &buf, &len);
    ner_model *w = NULL;
    CHECK(rc == 0 && ner_model_load_mem(buf, len, &w) == 0, "exported model loads");
    if (w) {
        CHECK(same_section(m, w, SEC_TENSORS) && same_section(m, w, SEC_CLASSES) &&
                  same_section(m, w, SEC_LABELS) && same_section(m, w, SEC_POOL) &&
                  !same_section(m, w, SEC_META),
              "written without an update: the base's sections");
        CHECK(strstr(ner_model_about(w), "fine-tuned by nerd from: en_core_web_sm") != NULL,
              "about: %s", ner_model_about(w));
    }
    ner_model_free(w);
    free(buf);
    tr_free(t);

    json_error_t je;
    json_t *j = json_load_file(batch_path, 0, &je);
    CHECK(j != NULL, "%s", batch_path);
    if (!j)
        return;
    batch b;
    batch_from_json(&b, json_object_get(j, "docs"), json_object_get(j, "tags"));
    /* the same seed, the same bytes; another seed, other bytes */
    tr_config cfg;
    tr_config_default(&cfg);
    cfg.seed = 7;
    void *out[3] = {NULL, NULL, NULL};
    size_t olen[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        cfg.seed = i < 2 ? 7 : 8;
        rc = tr_new(m, &cfg, NULL, NULL, 0, &t);
        CHECK(rc == 0, "tr_new seed %llu", (unsigned long long)cfg.seed);
        if (rc)
            continue;
        out[i] = train_bytes(t, &b, 3, 0.2f, 0, &olen[i]);
        if (i == 0) {
            char path[] = "/tmp/nerd_test_train_XXXXXX";
            int fd = mkstemp(path);
            CHECK(fd >= 0, "mkstemp");
            close(fd);
            CHECK(tr_write(t, path) == 0, "tr_write %s", path);
            ner_model *fm = NULL;
            rc = ner_model_load(path, &fm);
            CHECK(rc == 0, "the written file loads: %s", ner_strerror(rc));
            char ents[512];
            if (fm) {
                ents_of(fm, "Barack Obama visited Paris on Monday.", ents, sizeof ents);
                CHECK(ents[0] != 0, "the trained model extracts: '%s'", ents);
            }
            FILE *f = fopen(path, "rb");
            unsigned char *fb = malloc(olen[0] + 1);
            size_t got = f ? fread(fb, 1, olen[0] + 1, f) : 0;
            CHECK(got == olen[0] && out[0] && !memcmp(fb, out[0], got),
                  "the file is tr_export's bytes");
            if (f)
                fclose(f);
            free(fb);
            ner_model_free(fm);
            unlink(path);
            CHECK(tr_write(t, "/nonexistent-dir/x.nerd") == TR_EIO, "tr_write: no dir");
        }
        tr_free(t);
    }
    CHECK(olen[0] == olen[1] && out[0] && out[1] && !memcmp(out[0], out[1], olen[0]),
          "the same seed gives the same bytes");
    /* threads: the same bits.  The batch six times over (over 128 rows),
     * so every product is split (by rows, and the weight gradients by
     * their rows), besides the packing and the optimizer's blocks. */
    batch big = b;
    for (size_t i = b.n; i < 8 && i < 6 * b.n; i++)
        big.docs[i] = b.docs[i % b.n];
    big.n = 6 * b.n < 8 ? 6 * b.n : 8;
    void *th[2] = {NULL, NULL};
    size_t thlen[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        cfg.seed = 7;
        cfg.threads = i ? 2 : 1;
        rc = tr_new(m, &cfg, NULL, NULL, 0, &t);
        CHECK(rc == 0, "tr_new threads %d", cfg.threads);
        if (!rc)
            th[i] = train_bytes(t, &big, 3, 0.2f, 0, &thlen[i]);
        tr_free(t);
    }
    CHECK(thlen[0] == thlen[1] && th[0] && th[1] && !memcmp(th[0], th[1], thlen[0]),
          "two threads give the same bytes as one");
    free(th[0]);
    free(th[1]);
    cfg.threads = 9;
    CHECK(tr_new(m, &cfg, NULL, NULL, 0, &t) == TR_EINVAL && !t, "9 threads refused");
    CHECK(olen[0] == olen[2] && out[2] && memcmp(out[0], out[2], olen[0]) != 0,
          "another seed gives other bytes");
    for (int i = 0; i < 3; i++)
        free(out[i]);
    json_decref(j);
}

/* A new model's trainer (seed 3) for labels[0..n) of frequencies freqs. */
static tr_trainer *scratch(const ner_model *m, const char *const *labels, const uint64_t *freqs,
                           size_t n)
{
    tr_config cfg;
    tr_config_default(&cfg);
    cfg.from_scratch = 1;
    cfg.seed = 3;
    tr_trainer *t = NULL;
    int rc = tr_new(m, &cfg, labels, freqs, n, &t);
    CHECK(rc == 0, "tr_new scratch, %zu labels: %s", n, tr_strerror(rc));
    return t;
}

static void test_scratch(const ner_model *m, const char *tiny_path)
{
    const char *labels[2] = {"LOC", "PER"};
    uint64_t freqs[2] = {3, 5};
    tr_trainer *t = scratch(m, labels, freqs, 2);
    if (!t)
        return;
    /* spaCy's class order: by frequency (PER 5, LOC 3), U- after them */
    char order[256] = "";
    for (int k = 0; k < t->d.C; k++) {
        char nm[40];
        class_name(t, k, nm, sizeof nm);
        snprintf(order + strlen(order), sizeof order - strlen(order), "%s%s", k ? " " : "", nm);
    }
    CHECK(!strcmp(order, "B-PER B-LOC I-PER I-LOC L-PER L-LOC U-PER U-LOC U- O"),
          "scratch classes: %s", order);
    CHECK(t->n_labels == 2 && !strcmp(t->labels[0], "PER"), "scratch labels");
    /* learns a small batch */
    json_error_t je;
    json_t *j = json_load_file(tiny_path, 0, &je);
    batch b;
    batch_from_json(&b, json_object_get(j, "docs"), json_object_get(j, "tags"));
    size_t len;
    tr_result r0, r1;
    CHECK(tr_update(t, b.docs, b.n, 0, 0.01f, &r0) == 0, "first update");
    void *buf = train_bytes(t, &b, 40, 0, 0.01f, &len);
    CHECK(tr_update(t, b.docs, b.n, 0, 0.01f, &r1) == 0 && r1.loss < 0.1 * r0.loss,
          "the loss falls: %.3f -> %.3f", r0.loss, r1.loss);
    ner_model *w = NULL;
    CHECK(buf && ner_model_load_mem(buf, len, &w) == 0, "scratch model loads");
    if (w) {
        char ents[512];
        ents_of(w, "Ann Lee flew to New York City from Rome .", ents, sizeof ents);
        CHECK(!strcmp(ents, "0-7:PER 16-29:LOC 35-39:LOC"), "trained from scratch: '%s'", ents);
        CHECK(strstr(ner_model_about(w), "trained from scratch by nerd") != NULL, "about");
    }
    printf("from scratch: loss %.2f -> %.4f after 42 updates\n", r0.loss, r1.loss);
    ner_model_free(w);
    free(buf);
    tr_free(t);
    json_decref(j);
}

/* Over 80 classes (21 labels: 86): the model file is format 2, its output
 * layer 88 wide, and it loads and extracts as the 80-wide one does. */
static void test_scratch_wide(const ner_model *m, const char *tiny_path)
{
    static char names[19][16];
    const char *labels[21] = {"LOC", "PER"};
    uint64_t freqs[21] = {3, 5};
    for (int i = 0; i < 19; i++) {
        snprintf(names[i], sizeof names[i], "X%d", i);
        labels[2 + i] = names[i];
        freqs[2 + i] = 1;
    }
    tr_trainer *t = scratch(m, labels, freqs, 21);
    CHECK(t && t->d.C == 86, "21 labels: 86 classes");
    if (!t)
        return;
    json_error_t je;
    json_t *j = json_load_file(tiny_path, 0, &je);
    batch b;
    batch_from_json(&b, json_object_get(j, "docs"), json_object_get(j, "tags"));
    size_t len = 0;
    unsigned char *buf = train_bytes(t, &b, 42, 0, 0.01f, &len);
    uint32_t version = 0;
    if (buf)
        memcpy(&version, buf + 8, 4);
    CHECK(version == MODEL_VERSION_WIDE, "86 classes: format %u", version);
    ner_model *w = NULL;
    CHECK(buf && ner_model_load_mem(buf, len, &w) == 0, "the wide model loads");
    if (w) {
        char ents[512];
        CHECK(w->t.up_cols == 88 && w->n_classes == 86 && ner_model_nlabels(w) == 21,
              "88 columns, 86 classes, 21 labels");
        ents_of(w, "Ann Lee flew to New York City from Rome .", ents, sizeof ents);
        CHECK(!strcmp(ents, "0-7:PER 16-29:LOC 35-39:LOC"), "trained, 21 labels: '%s'", ents);
    }
    ner_model_free(w);
    free(buf);
    tr_free(t);
    json_decref(j);
    /* up to 80 classes the file stays format 1 (what every nerd reads) */
    t = scratch(m, labels, freqs, 19);
    buf = NULL;
    version = 0;
    CHECK(t && t->d.C == 78 && tr_export(t, (void **)&buf, &len) == 0, "19 labels");
    if (buf)
        memcpy(&version, buf + 8, 4);
    CHECK(version == MODEL_VERSION, "78 classes: format %u", version);
    free(buf);
    tr_free(t);
}

static void test_errors(const ner_model *m)
{
    tr_trainer *t = NULL;
    const char *dup[2] = {"X", "X"}, *bang[1] = {"!X"}, *empty[1] = {""}, *two[2] = {"A", "B"};
    static char names[70][16];
    const char *many[70];
    for (int i = 0; i < 70; i++) {
        snprintf(names[i], sizeof names[i], "X%d", i);
        many[i] = names[i];
    }
    tr_config sc;
    tr_config_default(&sc);
    sc.from_scratch = 1;
    CHECK(tr_new(NULL, NULL, NULL, NULL, 0, &t) == TR_EINVAL && !t, "NULL base");
    CHECK(tr_new(m, NULL, NULL, NULL, 0, NULL) == TR_EINVAL, "NULL out");
    CHECK(tr_new(m, NULL, dup, NULL, 2, &t) == TR_EINVAL, "duplicate labels");
    CHECK(tr_new(m, NULL, bang, NULL, 1, &t) == TR_EINVAL, "label !X");
    CHECK(tr_new(m, NULL, empty, NULL, 1, &t) == TR_EINVAL, "empty label");
    CHECK(tr_new(m, &sc, NULL, NULL, 0, &t) == TR_EINVAL, "scratch without labels");
    CHECK(tr_new(m, &sc, many, NULL, 65, &t) == TR_ELABELS, "scratch, 65 labels: 262 classes");
    CHECK(tr_new(m, &sc, many, NULL, 64, &t) == TR_OK && t && t->d.C == 258, "scratch, 64 labels");
    tr_free(t);
    /* the base has 18 labels: 46 new make 64 */
    CHECK(tr_new(m, NULL, many, NULL, 47, &t) == TR_ELABELS, "fine-tuning, 47 new labels: 65");
    CHECK(tr_new(m, NULL, many, NULL, 46, &t) == TR_OK && t && t->d.C == 258,
          "fine-tuning, 46 new labels");
    tr_free(t);
    CHECK(tr_new(m, NULL, two, NULL, 2, &t) == TR_OK && t && t->d.C == 82,
          "fine-tuning, 2 new labels");
    tr_free(NULL);
    if (!t)
        return;
    tr_token tk[3] = {{"Ann", 3, NULL, 0}, {" ", 1, NULL, 0}, {"Lee", 3, NULL, 0}};
    const char *tags[3] = {"U-PERSON", "O", "U-PERSON"};
    tr_doc doc = {tk, 3, tags, NULL};
    tr_result r;
    struct { const char *tag; int tok; int rc; } bad[] = {
        {"X-PERSON", 0, TR_ETAG}, {"B-", 2, TR_ETAG}, {"B-FOO", 2, TR_ELABEL},
        {"U-!", 0, TR_ETAG}, {"U-PERSON", 1, TR_EORACLE}};
    float *before = malloc(sizeof(float) * t->np);
    memcpy(before, t->p, sizeof(float) * t->np);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *tg[3] = {"U-PERSON", "O", "U-PERSON"};
        tg[bad[i].tok] = bad[i].tag;
        tr_doc dd = {tk, 3, tg, NULL};
        int rc = tr_update(t, &dd, 1, 0, 0, &r);
        CHECK(rc == bad[i].rc && r.bad_doc == 0 &&
                  (rc == TR_EORACLE || r.bad_token == (size_t)bad[i].tok),
              "tag %s on token %d: %s (token %zu)", bad[i].tag, bad[i].tok, tr_strerror(rc),
              r.bad_token);
    }
    CHECK(!memcmp(before, t->p, sizeof(float) * t->np), "a failed update changes nothing");
    free(before);
    CHECK(tr_update(t, NULL, 1, 0, 0, &r) == TR_EINVAL, "NULL docs");
    CHECK(tr_update(t, &doc, 0, 0, 0, &r) == TR_EINVAL, "no docs");
    CHECK(tr_update(t, &doc, 1, 1.0f, 0, &r) == TR_EINVAL, "drop 1");
    CHECK(tr_update(t, &doc, 1, -0.1f, 0, &r) == TR_EINVAL, "drop < 0");
    tr_token bad_utf8[1] = {{"\xff", 1, NULL, 0}}, empty_tok[1] = {{"", 0, NULL, 0}};
    tr_doc d1 = {bad_utf8, 1, NULL, NULL}, d2 = {empty_tok, 1, NULL, NULL};
    CHECK(tr_update(t, &d1, 1, 0, 0, &r) == TR_EINVAL, "invalid UTF-8 token");
    CHECK(tr_update(t, &d2, 1, 0, 0, &r) == TR_EINVAL, "empty token");
    tr_token *big = malloc(sizeof *big * (TR_MAX_TOKENS + 1));
    for (int i = 0; i <= TR_MAX_TOKENS; i++)
        big[i] = (tr_token){"a", 1, NULL, 0};
    tr_doc d3 = {big, TR_MAX_TOKENS + 1, NULL, NULL};
    CHECK(tr_update(t, &d3, 1, 0, 0, &r) == TR_EBIG, "a batch over TR_MAX_TOKENS");
    free(big);
    tr_doc d4 = {tk, 3, NULL, NULL};
    before = malloc(sizeof(float) * t->np);
    memcpy(before, t->p, sizeof(float) * t->np);
    CHECK(tr_update(t, &d4, 1, 0.5f, 0, &r) == TR_OK && r.states == 0 && r.tokens == 3 &&
              !memcmp(before, t->p, sizeof(float) * t->np),
          "no annotation: no states, no step");
    free(before);
    CHECK(tr_export(NULL, NULL, NULL) == TR_EINVAL && tr_write(t, NULL) == TR_EINVAL,
          "NULL export/write");
    CHECK(!strcmp(tr_strerror(TR_EORACLE), tr_strerror(TR_EORACLE)) &&
              strcmp(tr_strerror(-1), "unknown error") == 0 && tr_strerror(TR_EIO)[0],
          "tr_strerror");
    /* tr_tokenize: ner_tokenize's tokens, with special cases' NORMs */
    static const char text[] = "We're gonna visit New York, aren't we?";
    tr_token tt[32];
    size_t nt = 0;
    CHECK(tr_tokenize(t, text, strlen(text), tt, 32, &nt) == 0 && nt > 5, "tr_tokenize");
    ner_ctx *cx;
    ner_doc nd;
    if (!ner_ctx_new(m, &cx) && !ner_tokenize(cx, text, strlen(text), &nd)) {
        int same = nd.n_tokens == nt;
        for (size_t i = 0; same && i < nt; i++)
            same = tt[i].text == text + nd.tokens[i].byte_start &&
                   tt[i].len == nd.tokens[i].byte_end - nd.tokens[i].byte_start;
        CHECK(same, "tr_tokenize: ner_tokenize's %zu tokens (%zu)", nd.n_tokens, nt);
        ner_ctx_free(cx);
    }
    int gon = 0;
    for (size_t i = 0; i < nt; i++)
        if (tt[i].len == 3 && !memcmp(tt[i].text, "gon", 3))
            gon = tt[i].norm && tt[i].norm_len == 5 && !memcmp(tt[i].norm, "going", 5);
    CHECK(gon, "tr_tokenize: gon has NORM going");
    size_t n2 = 0;
    CHECK(tr_tokenize(t, text, strlen(text), tt, 2, &n2) == 0 && n2 == nt, "short room: the count");
    CHECK(tr_tokenize(t, "\xff", 1, tt, 32, &n2) == TR_EINVAL && n2 == 0, "tr_tokenize: bad UTF-8");
    tr_free(t);
    /* a trainer of other sizes cannot write the engine's format */
    tr_dims d = {.W = 6, .nH = 4, .depth = 1, .C = 10, .rows = {1, 1, 1, 1}};
    CHECK(tr__new_dims(&d, NULL, &t) == 0, "tiny");
    t->base = m;
    void *buf;
    size_t len;
    CHECK(tr_export(t, &buf, &len) == TR_EMODEL, "tiny sizes: TR_EMODEL");
    tr_free(t);
}

int main(void)
{
    ner_model *m = NULL;
    ner_ctx *c = NULL;
    check_model_ctx(&m, &c);
    if (!m)
        return check_done("test_trainer");
    test_oracle(m, "tests/data/trainer/oracle.cases");
    test_write(m, "tests/data/trainer/sm225_batch.json");
    test_scratch(m, "tests/data/trainer/tiny.json");
    test_scratch_wide(m, "tests/data/trainer/tiny.json");
    test_errors(m);
    ner_ctx_free(c);
    ner_model_free(m);
    return check_done("test_trainer");
}
