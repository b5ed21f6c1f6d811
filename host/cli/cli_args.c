/* cli_args.c: option values (cli_args.h). */
#include "cli_args.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* v with a suffix when it is a whole number of thousands (64k, 1000G), so
 * that a message names bounds the way a user writes them. */
static void fmt_bound(uint64_t v, int flags, char *out, size_t cap)
{
    static const char suffix[] = "kMGT";
    int k = -1;
    while ((flags & CLI_SUFFIX) && v >= 1000 && v % 1000 == 0 && k < 3) {
        v /= 1000;
        k++;
    }
    if (k >= 0)
        snprintf(out, cap, "%" PRIu64 "%c", v, suffix[k]);
    else
        snprintf(out, cap, "%" PRIu64, v);
}

/* Digits (and with a suffix a fraction): the value, or -1 when s is not one. */
static int read_u64(const char *s, int flags, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long whole = strtoull(s, &end, 10);
    if (errno)
        return -1;
    if (!(flags & CLI_SUFFIX)) {
        *out = whole;
        return *end ? -1 : 0;
    }
    /* a fraction or a suffix: through a double, exact up to 2^53 */
    errno = 0;
    double v = strtod(s, &end);
    const char *p = strchr("kKMGT", *end ? *end : '!');
    if (p) {
        static const double mul[] = {1e3, 1e3, 1e6, 1e9, 1e12};
        v *= mul[p - "kKMGT"];
        end++;
    }
    if (errno || *end || !(v >= 0) || v > 9e15 || v != floor(v))
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int cli_parse_u64(const char *s, const char *what, const char *noun, uint64_t lo, uint64_t hi,
                  int flags, uint64_t *out, char *msg, size_t cap)
{
    uint64_t v;
    if (read_u64(s, flags, &v) == 0 && v >= lo && v <= hi) {
        *out = v;
        return 1;
    }
    char a[32], b[32];
    fmt_bound(lo, flags, a, sizeof a);
    fmt_bound(hi, flags, b, sizeof b);
    if (lo == 0 && hi == UINT64_MAX)
        snprintf(msg, cap, "%s wants %s, not '%s'", what, noun, s ? s : "");
    else if (hi == UINT64_MAX)
        snprintf(msg, cap, "%s wants %s of at least %s, not '%s'", what, noun, a, s ? s : "");
    else
        snprintf(msg, cap, "%s wants %s from %s to %s, not '%s'", what, noun, a, b, s ? s : "");
    return 0;
}

int cli_parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !(v > 0))
        return 0;
    if (*end == 'm')
        v *= 60, end++;
    else if (*end == 'h')
        v *= 3600, end++;
    else if (*end == 's')
        end++;
    if (*end)
        return 0;
    *out = v;
    return 1;
}

int cli_usage_error(const char *cmd, const char *fmt, const char *arg)
{
    fprintf(stderr, "lmz %s: ", cmd);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see 'lmz %s --help')\n", cmd);
    return 1;
}
