/*
 * `nerd convert`: spaCy en_core_web_sm directory -> nerd model file.
 */
#include <string.h>

#include "../lib/convert.h"
#include "cli.h"

static void usage(FILE *f)
{
    fputs("usage: nerd convert [--specs DIR] SPACY_MODEL_DIR OUTPUT\n"
          "\n"
          "Converts spaCy v2.2's en_core_web_sm (ner/model, ner/moves, tokenizer,\n"
          "meta.json) into one versioned, checksummed nerd model file.\n"
          "DIR holds norm_exceptions.json and symbols.json\n"
          "(default: ../shared/specs/sm225).  The output is byte-for-byte\n"
          "reproducible.\n",
          f);
}

int cmd_convert(int argc, char **argv)
{
    const char *specs = "../shared/specs/sm225";
    const char *pos[2];
    int np = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--specs") && i + 1 < argc) {
            specs = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "nerd convert: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (np < 2) {
            pos[np++] = argv[i];
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (np != 2) {
        usage(stderr);
        return 2;
    }
    char err[1024];
    int rc = ner_convert(pos[0], specs, pos[1], err, sizeof err);
    if (rc) {
        fprintf(stderr, "nerd convert: %s: %s\n", ner_strerror(rc), err);
        return 1;
    }
    ner_model *m = NULL;
    if ((rc = ner_model_load(pos[1], &m))) {
        fprintf(stderr, "nerd convert: written file does not load: %s\n",
                ner_strerror(rc));
        return 1;
    }
    fprintf(stderr, "nerd convert: wrote %s (%s)\n", pos[1], ner_model_about(m));
    ner_model_free(m);
    return 0;
}
