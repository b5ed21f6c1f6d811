#include <stdio.h>

#include "cli.h"

int cmd_train(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "lmz train: not available in this version\n");
    return 1;
}
