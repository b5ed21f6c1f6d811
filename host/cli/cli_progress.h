/* cli_progress.h: the CLI's progress line on stderr, redrawn at most four
 * times a second; shown only when stderr is a terminal and neither -q nor
 * --no-progress was given. It is an lmz_progress_fn (lmz.h): the library
 * reports, the CLI draws. */
#ifndef LMZ_CLI_PROGRESS_H
#define LMZ_CLI_PROGRESS_H

#include <stdint.h>

#include "lmz.h"

typedef struct cli_progress {
    int enabled;
    double t0, last;
    int drawn;
} cli_progress;

void cli_progress_init(cli_progress *p, int enabled);
/* An lmz_progress_fn; ctx is a cli_progress. */
void cli_progress_fn(void *ctx, const char *what, uint64_t done, uint64_t total, uint64_t out,
                     int end);

/* s seconds as m:ss or h:mm:ss (time left on the progress lines). */
void cli_fmt_time(double s, char *out, size_t cap);

#endif
