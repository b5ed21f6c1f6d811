/* cli_progress.c: see cli_progress.h. */
#include "cli_progress.h"

#include <stdio.h>

#include "progress.h"

void cli_progress_init(cli_progress *p, int enabled)
{
    p->enabled = enabled;
    p->t0 = p->last = lmz_now();
    p->drawn = 0;
}

static void human(char *buf, size_t cap, double v)
{
    const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    while (v >= 1000.0 && i < 4) {
        v /= 1000.0;
        i++;
    }
    snprintf(buf, cap, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

void cli_progress_fn(void *ctx, const char *what, uint64_t done, uint64_t total, uint64_t out,
                     int end)
{
    cli_progress *p = ctx;
    if (!p || !p->enabled)
        return;
    if (end) {
        if (p->drawn) {
            fprintf(stderr, "\r%*s\r", 72, "");
            fflush(stderr);
        }
        p->drawn = 0;
        return;
    }
    double now = lmz_now();
    if (now - p->last < 0.25 && p->drawn)
        return;
    p->last = now;
    p->drawn = 1;
    char d[32], o[32], r[32];
    human(d, sizeof d, (double)done);
    human(o, sizeof o, (double)out);
    double dt = now - p->t0;
    human(r, sizeof r, dt > 0 ? (double)done / dt : 0.0);
    if (total)
        fprintf(stderr, "\r%s: %5.1f%%  %s -> %s  %s/s   ", what,
                100.0 * (double)done / (double)total, d, o, r);
    else
        fprintf(stderr, "\r%s: %s -> %s  %s/s   ", what, d, o, r);
    fflush(stderr);
}

void cli_fmt_time(double s, char *out, size_t cap)
{
    if (s < 0)
        s = 0;
    const long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, cap, "%ld:%02ld", t / 60, t % 60);
}
