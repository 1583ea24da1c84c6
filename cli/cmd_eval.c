/* placeholder until the eval command lands */
#include "cli.h"
int cmd_eval(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("usage: nerd eval (not yet available)\n", stderr);
    return 2;
}
