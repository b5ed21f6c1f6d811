/* pipeline_internal.h (host/pipeline/, not public): pieces the commands share. */
#ifndef LMZ_PIPELINE_INTERNAL_H
#define LMZ_PIPELINE_INTERNAL_H

#include "lmz_archive.h"
#include "lmz_backend.h"
#include "batch.h"
#include "lmz_block.h"
#include "lmz_pipeline.h"

#define LMZ_DEFAULT_CHUNKS_PER_BLOCK 64
#define LMZ_MAX_CHUNKS_PER_BLOCK 4096

/* The backend parameters the common options ask for. */
static inline lmz_backend_params lmz_common_backend_params(const lmz_common_opts *c)
{
    const lmz_backend_params p = {.device = c->device, .nthreads = c->nthreads, .simd = c->simd,
                                  .cuda_auto = c->cuda_auto, .decode_batch = c->decode_batch,
                                  .cuda_sync = c->cuda_sync};
    return p;
}

/* An open archive with its model and a backend: what every reading command
 * needs. */
typedef struct lmz_reader {
    lmz_afile *a;
    const lmz_archive_info *info;
    const lmz_index_entry *index;
    uint64_t nblocks;
    lmz_model *model;      /* NULL until lmz_reader_load_model */
    lmz_backend *backend;
} lmz_reader;

/* Open and validate the archive (no model yet). */
lmz_status lmz_reader_open(lmz_reader *r, const char *path, lmz_err *err);
/* Find the archive's model (embedded, -m, or by hash on the search path),
 * check it is the archive's, and create the backend. */
lmz_status lmz_reader_load_model(lmz_reader *r, const lmz_common_opts *c, lmz_err *err);
void lmz_reader_close(lmz_reader *r);

/* verify on an open reader (lmz_verify and lmz_archive_verify): every
 * block's payload checksum (classical blocks decoded), with full every
 * block decoded (the model loaded if it is not yet); each damaged block is
 * handed to report (may be NULL) in order. */
typedef void (*lmz_verify_report_fn)(void *ctx, uint64_t block, const lmz_err *why);
lmz_status lmz_reader_verify(lmz_reader *r, const lmz_common_opts *c, int full,
                             lmz_verify_report_fn report, void *ctx, lmz_stats *st, lmz_err *err);

/* The same over blocks [b0, b1) only (an MPI rank's share). */
lmz_status lmz_reader_verify_blocks(lmz_reader *r, const lmz_common_opts *c, int full, uint64_t b0,
                                    uint64_t b1, lmz_verify_report_fn report, void *ctx,
                                    lmz_stats *st, lmz_err *err);

/* The largest payload_len / raw_len over the index (scratch sizes). */
uint32_t lmz_reader_max_payload(const lmz_reader *r);
uint32_t lmz_reader_block_bytes(const lmz_reader *r);

/* The reading commands' window: lmz_batch_blocks for this archive (its
 * largest payload + block bytes, and the call lists, per block), at most
 * limit blocks. */
uint32_t lmz_reader_batch(const lmz_reader *r, const lmz_common_opts *c, uint64_t limit);

#endif
