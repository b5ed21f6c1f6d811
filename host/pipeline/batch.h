/* batch.h (host/pipeline/, not public): how many blocks go through the
 * backend together, for compress (a batch) and the reading commands (the
 * read-ahead window) alike. */
#ifndef LMZ_BATCH_H
#define LMZ_BATCH_H

#include <stdint.h>

#include "lmz_backend.h"
#include "lmz_pipeline.h"

/* --batch: blocks in flight per backend call (compress: per batch; the
 * reading commands: the read-ahead window, window.h). c->batch_blocks when
 * given; else LMZ_CPU_BATCH_BLOCKS on the CPU, and on CUDA enough blocks for
 * LMZ_GPU_BATCH_CHUNKS chunks (256 blocks of 64 chunks) as long as they take
 * at most LMZ_BATCH_MEMORY bytes at bytes_per_block each. Never more than
 * limit (the blocks there are to do; 0: no limit), never 0. */
#define LMZ_CPU_BATCH_BLOCKS 4
#define LMZ_GPU_BATCH_CHUNKS 16384
#define LMZ_BATCH_MEMORY ((uint64_t)1 << 30)
#define LMZ_MAX_BATCH_BLOCKS 65536
uint32_t lmz_batch_blocks(const lmz_common_opts *c, const lmz_backend *b, uint32_t chunks_per_block,
                          uint64_t bytes_per_block, uint64_t limit);

#endif
