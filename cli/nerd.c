/*
 * nerd: the command-line front of the project.  Dispatches subcommands.
 */
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    cli_cmd fn;
    const char *help;
} CMDS[] = {
    {"extract", cmd_extract, "named entities of text (argument or stdin lines) as JSON"},
    {"eval", cmd_eval, "accuracy on gold corpora (CoNLL, spaCy JSON...) or spaCy reference JSONL"},
    {"train", cmd_train, "fine-tune a model, or train a new one, on annotated files"},
    {"split", cmd_split, "split a training file into train/dev/test parts (seeded)"},
    {"bench", cmd_bench, "speed: bulk tokens/s, per-call latency, load time, memory"},
    {"convert", cmd_convert, "convert a spaCy en_core_web_sm directory to a model file"},
    {"local", cmd_local, "local serverless platform: invoke a SAM function (like sam local)"},
};

static void usage(FILE *f)
{
    fputs("usage: nerd COMMAND [ARGS...]   (nerd COMMAND --help for details)\n\n"
          "commands:\n", f);
    for (size_t i = 0; i < sizeof CMDS / sizeof *CMDS; i++)
        fprintf(f, "  %-10s %s\n", CMDS[i].name, CMDS[i].help);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof CMDS / sizeof *CMDS; i++)
        if (!strcmp(argv[1], CMDS[i].name))
            return CMDS[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "nerd: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
