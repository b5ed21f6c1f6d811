#include "progress.h"

#include <string.h>
#include <time.h>

double lmz_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void lmz_progress_start(lmz_progress *p, lmz_progress_fn fn, void *ctx, const char *verb)
{
    memset(p, 0, sizeof *p);
    p->fn = fn;
    p->ctx = ctx;
    p->verb = verb;
}

void lmz_progress_update(lmz_progress *p, uint64_t done, uint64_t total, uint64_t out)
{
    p->done = done;
    p->total = total;
    p->out = out;
    if (p->fn)
        p->fn(p->ctx, p->verb, done, total, out, 0);
}

void lmz_progress_end(lmz_progress *p)
{
    if (p->fn)
        p->fn(p->ctx, p->verb, p->done, p->total, p->out, 1);
    p->fn = NULL; /* once */
}
