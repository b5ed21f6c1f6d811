/* ds_random.c: seeded pseudo-random bytes, the paper's "random" dataset
 * (incompressible data: a compressor must store it, not expand it). */
#include <string.h>

#include "lmz_datasets.h"

/* splitmix64: small, fast, and specified in a few lines, so the bytes for a
 * seed can be reproduced by anyone. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

lmz_status lmz_ds_random(uint64_t seed, uint64_t size, lmz_ds_sink *sink, lmz_ds_info *info,
                         lmz_err *err)
{
    memset(info, 0, sizeof *info);
    info->format = "random";
    uint8_t buf[1 << 16];
    uint64_t state = seed, left = size, before = sink->written;
    while (left && !sink->full) {
        size_t n = left < sizeof buf ? (size_t)left : sizeof buf;
        for (size_t i = 0; i < n; i += 8) {
            uint64_t v = splitmix64(&state);
            for (size_t b = 0; b < 8 && i + b < n; b++)
                buf[i + b] = (uint8_t)(v >> (8 * b));
        }
        lmz_status rc = lmz_ds_emit(sink, buf, n, err);
        if (rc)
            return rc;
        left -= n;
    }
    info->bytes = sink->written - before;
    return LMZ_OK;
}
