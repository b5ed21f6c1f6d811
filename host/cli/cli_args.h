/* cli_args.h: reading the values of the command line's options, one way
 * for every command: whole numbers and sizes (cli_parse_u64) and durations
 * (cli_parse_seconds). The commands word their own usage errors from the
 * message these write. */
#ifndef LMZ_CLI_ARGS_H
#define LMZ_CLI_ARGS_H

#include <stddef.h>
#include <stdint.h>

/* flags of cli_parse_u64 */
#define CLI_SUFFIX 1 /* k (or K), M, G, T: x1000 each, as in 64k or 1.5M */

/* A whole number in [lo, hi]: decimal digits, and with CLI_SUFFIX a
 * fraction and a suffix as long as the result is whole ("1.5k" is 1500).
 * No sign, no hex, no exponent. On error writes "WHAT wants NOUN from LO
 * to HI, not 'S'" (without "from..." when any number goes) into msg and
 * returns 0; noun is e.g. "a number", "a size", "a number of blocks". */
int cli_parse_u64(const char *s, const char *what, const char *noun, uint64_t lo, uint64_t hi,
                  int flags, uint64_t *out, char *msg, size_t cap);

/* "lmz CMD: MESSAGE (see 'lmz CMD --help')" on stderr, MESSAGE being fmt
 * with its one %s as arg; returns 1, the exit status of a usage error. */
int cli_usage_error(const char *cmd, const char *fmt, const char *arg);

/* A duration: seconds, or with a suffix s, m or h ("10m", "1.5h"); 0 if bad. */
int cli_parse_seconds(const char *s, double *out);

#endif
