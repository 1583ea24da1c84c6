/*
 * `nerd extract`: named entities of a text argument, or of each line of
 * standard input, as one JSON object per line.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fputs("usage: nerd extract [--model FILE] [--tokens] [TEXT...]\n"
          "\n"
          "Prints {\"entities\":[{\"text\",\"label\",\"start\",\"end\"}]} for TEXT (the\n"
          "arguments joined by spaces), or for each line of standard input when\n"
          "no TEXT is given (a trailing \\r is removed).  Offsets are Unicode code\n"
          "points.  A line that cannot be processed (invalid UTF-8, too long)\n"
          "gives {\"error\",\"message\"} on its output line, a message on stderr,\n"
          "and exit status 1.\n"
          "\n"
          "  --model FILE  model file (default: $NERD_MODEL or the bundled model)\n"
          "  --tokens      also print token offsets as \"tokens\": [[start,end],...]\n",
          f);
}

static int run_one(ner_ctx *c, const ner_model *m, const char *text, size_t n,
                   int with_tokens, long lineno)
{
    ner_doc d;
    int rc = ner_extract(c, text, n, &d);
    if (rc) {
        printf("{\"error\":\"%s\",\"message\":\"%s\"}\n",
               rc == NER_EUTF8 ? "invalid_utf8" : rc == NER_ETOOBIG ? "too_large"
                                                                    : "failed",
               ner_strerror(rc));
        if (lineno > 0)
            fprintf(stderr, "nerd extract: line %ld: %s\n", lineno, ner_strerror(rc));
        else
            fprintf(stderr, "nerd extract: %s\n", ner_strerror(rc));
        return 1;
    }
    cli_json_doc(stdout, m, text, &d, with_tokens);
    return 0;
}

int cmd_extract(int argc, char **argv)
{
    const char *model = NULL;
    int with_tokens = 0, i;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--model") && i + 1 < argc) {
            model = argv[++i];
        } else if (!strcmp(argv[i], "--tokens")) {
            with_tokens = 1;
        } else if (!strcmp(argv[i], "--")) {
            i++;
            break;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "nerd extract: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        } else {
            break;
        }
    }
    ner_model *m = NULL;
    ner_ctx *c = NULL;
    int status = 0, rc;
    if ((rc = cli_load_model(model, &m)))
        return 1;
    if ((rc = ner_ctx_new(m, &c))) {
        fprintf(stderr, "nerd extract: %s\n", ner_strerror(rc));
        ner_model_free(m);
        return 1;
    }
    if (i < argc) {
        size_t len = 0;
        for (int k = i; k < argc; k++)
            len += strlen(argv[k]) + 1;
        char *text = malloc(len + 1);
        if (!text) {
            status = 1;
        } else {
            size_t o = 0;
            for (int k = i; k < argc; k++) {
                size_t l = strlen(argv[k]);
                if (k > i)
                    text[o++] = ' ';
                memcpy(text + o, argv[k], l);
                o += l;
            }
            text[o] = 0;
            status = run_one(c, m, text, o, with_tokens, 0);
            free(text);
        }
    } else {
        char *line = NULL;
        size_t cap = 0;
        long n, lineno = 0;
        while ((n = cli_read_line(stdin, &line, &cap, NER_MAX_TEXT)) != -1) {
            lineno++;
            if (n == -2) {
                printf("{\"error\":\"too_large\",\"message\":\"%s\"}\n",
                       ner_strerror(NER_ETOOBIG));
                fprintf(stderr, "nerd extract: line %ld: %s\n", lineno,
                        ner_strerror(NER_ETOOBIG));
                status = 1;
                continue;
            }
            status |= run_one(c, m, line, (size_t)n, with_tokens, lineno);
        }
        free(line);
    }
    fflush(stdout);
    ner_ctx_free(c);
    ner_model_free(m);
    return status;
}
