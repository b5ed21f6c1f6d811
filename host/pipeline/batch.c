/* batch.c: blocks in flight per backend call (batch.h). */
#include "batch.h"

#include <string.h>

uint32_t lmz_batch_blocks(const lmz_common_opts *c, const lmz_backend *b, uint32_t chunks_per_block,
                          uint64_t bytes_per_block, uint64_t limit)
{
    uint64_t n = c && c->batch_blocks ? c->batch_blocks : LMZ_CPU_BATCH_BLOCKS;
    if (!(c && c->batch_blocks) && b && !strcmp(lmz_backend_name(b), "cuda")) {
        uint32_t cpb = chunks_per_block ? chunks_per_block : 1;
        n = (LMZ_GPU_BATCH_CHUNKS + cpb - 1) / cpb;
        uint64_t fit = bytes_per_block ? LMZ_BATCH_MEMORY / bytes_per_block : n;
        if (n > fit)
            n = fit;
        if (n < LMZ_CPU_BATCH_BLOCKS)
            n = LMZ_CPU_BATCH_BLOCKS;
    }
    if (limit && n > limit)
        n = limit;
    if (n > LMZ_MAX_BATCH_BLOCKS)
        n = LMZ_MAX_BATCH_BLOCKS;
    return n ? (uint32_t)n : 1;
}
