/* progress.h (host/pipeline/, not public): progress reports of a long operation,
 * handed to the caller's callback (lmz_progress_fn of lmz.h). The library
 * never draws anything itself: the CLI's callback (host/cli/cli_progress.c)
 * draws a line on stderr. */
#ifndef LMZ_PROGRESS_H
#define LMZ_PROGRESS_H

#include <stdint.h>

#include "lmz.h"

typedef struct lmz_progress {
    lmz_progress_fn fn;  /* NULL: reports go nowhere */
    void *ctx;
    const char *verb;
    uint64_t done, total, out; /* the last report, repeated by end */
} lmz_progress;

double lmz_now(void);  /* monotonic seconds */
void lmz_progress_start(lmz_progress *p, lmz_progress_fn fn, void *ctx, const char *verb);
/* done/total in raw bytes (total 0 if unknown), out = bytes produced. */
void lmz_progress_update(lmz_progress *p, uint64_t done, uint64_t total, uint64_t out);
/* The last report again, with end = 1 (the CLI erases its line). */
void lmz_progress_end(lmz_progress *p);

#endif
