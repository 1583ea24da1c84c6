/* libFuzzer target: one input line of `nerd extract` (cli_extract_line:
 * plain text, or a JSON line {"id": ANY, "text": ...} whose id is echoed
 * byte for byte), under the options of the input's first byte (--tokens,
 * --scores, --plain), the rest being the line.  Must never crash, hang or
 * leak; the output must be exactly one line of one JSON object, with
 * "entities" or "error", and the input's id (as jansson reads it) when the
 * line was a JSON object with one.  Then the line's bytes go through
 * ner_extract_ex with and without NER_SCORES: the same entities, scores in
 * (0, 1].  Model: $NERD_MODEL or the bundled file. */
#define _GNU_SOURCE
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#include "fuzz_ner.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const size_t JFLAGS = JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL;

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned opts = data[0] & (CLI_X_TOKENS | CLI_X_SCORES | CLI_X_PLAIN);
    const char *line = (const char *)data + 1;
    size_t n = size - 1;
    const char *nl = memchr(line, '\n', n); /* the CLI reads up to a newline */
    if (nl)
        n = (size_t)(nl - line);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f)
        abort();
    int rc = cli_extract_line(C, M, line, n, opts, f, -1);
    fclose(f);
    if (!len || out[len - 1] != '\n' || memchr(out, '\n', len - 1))
        abort(); /* exactly one line */
    json_error_t je;
    json_t *o = json_loadb(out, len, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &je);
    json_t *e = json_object_get(o, "entities"), *err = json_object_get(o, "error");
    if (!json_is_object(o) || (rc ? !json_is_string(err) : !json_is_array(e)))
        abort();
    json_t *in = (opts & CLI_X_PLAIN) || !n || line[0] != '{' ? NULL
                                                               : json_loadb(line, n, JFLAGS, &je);
    json_t *id = json_object_get(in, "id");
    if (json_is_object(in) && id && !json_equal(id, json_object_get(o, "id")))
        abort(); /* the id comes back (the same value) */
    if ((!json_is_object(in) || !id) && json_object_get(o, "id"))
        abort();
    json_decref(in);
    json_decref(o);
    free(out);

    /* scores change nothing but add a score in (0, 1] to each entity */
    ner_doc d;
    if (ner_extract(C, line, n, &d) == NER_OK) {
        size_t k = d.n_ents;
        ner_span *plain = malloc((k ? k : 1) * sizeof *plain);
        memcpy(plain, d.ents, k * sizeof *plain);
        if (ner_extract_ex(C, line, n, NER_SCORES, &d) != NER_OK || d.n_ents != k || !d.scores ||
            memcmp(plain, d.ents, k * sizeof *plain))
            abort();
        for (size_t i = 0; i < k; i++)
            if (!isfinite(d.scores[i]) || d.scores[i] <= 0 || d.scores[i] > 1)
                abort();
        free(plain);
    }
    return 0;
}
