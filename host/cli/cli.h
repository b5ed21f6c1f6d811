/* cli.h: the subcommands that live in their own files. Each gets argv with
 * its own name as argv[0], and returns the process exit code (0 or 1). */
#ifndef LMZ_CLI_H
#define LMZ_CLI_H

int cmd_prepare(int argc, char **argv);
int cmd_train(int argc, char **argv);

/* lmz list (list.c): the summary, members and (verbose > 0) blocks of an
 * archive, printed to out; built on lmz.h alone. */
#include <stdio.h>
#include "lmz.h"
lmz_status cli_list(const char *path, const lmz_params *p, int verbose, FILE *out, lmz_error *err);

/* compress --fit (fit.c). */
#include <stdint.h>
#include "lmz_error.h"
#include "lmz_model.h"

typedef struct cli_fit_opts {
    const char *const *inputs;  /* as compress takes them (no "-") */
    int ninputs, recursive;
    const char *kind;           /* picks the starting model with model_spec NULL */
    const char *model_spec, *model_dir, *model_path; /* as lmz_common_opts */
    double seconds;             /* training time */
    uint64_t sample_bytes;      /* at most this much of the input is read into the sample */
    int nthreads, progress, verbose;
    int classical;              /* --codec auto: blocks may be coded by LZMA2 or zstd */
} cli_fit_opts;

/* Fit a model to the inputs: *out is the fitted model when it beats the
 * starting one (its embedded bytes counted), else NULL (compress as usual). */
lmz_status cli_fit(const cli_fit_opts *o, lmz_model **out, lmz_err *err);

#endif
