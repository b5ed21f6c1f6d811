/* cli.h: the subcommands that live in their own files. Each gets argv with
 * its own name as argv[0], and returns the process exit code (0 or 1). */
#ifndef LMZ_CLI_H
#define LMZ_CLI_H

int cmd_prepare(int argc, char **argv);
int cmd_train(int argc, char **argv);

#endif
