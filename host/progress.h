/* progress.h (private to host/): a one-line progress display on stderr,
 * redrawn at most a few times a second; the CLI enables it only when stderr
 * is a terminal and neither -q nor --no-progress was given. */
#ifndef LMZ_PROGRESS_H
#define LMZ_PROGRESS_H

#include <stdint.h>

typedef struct lmz_progress {
    int enabled;
    const char *verb;
    double t0, last;
    int drawn;
} lmz_progress;

double lmz_now(void);  /* monotonic seconds */
void lmz_progress_start(lmz_progress *p, int enabled, const char *verb);
/* done/total in raw bytes (total 0 if unknown), out = bytes produced. */
void lmz_progress_update(lmz_progress *p, uint64_t done, uint64_t total, uint64_t out);
void lmz_progress_end(lmz_progress *p);

#endif
