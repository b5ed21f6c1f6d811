/* pipeline_internal.h (private to host/): pieces the commands share. */
#ifndef LMZ_PIPELINE_INTERNAL_H
#define LMZ_PIPELINE_INTERNAL_H

#include "lmz_archive.h"
#include "lmz_backend.h"
#include "lmz_block.h"
#include "lmz_pipeline.h"

#define LMZ_DEFAULT_CHUNKS_PER_BLOCK 64
#define LMZ_MAX_CHUNKS_PER_BLOCK 4096

/* Bytes of a model's canonical serialization (the "model size" that the
 * adjusted rate counts). */
uint64_t lmz_model_bytes(const lmz_model *m);

/* An open archive with its model and a backend: what every reading command
 * needs. */
typedef struct lmz_reader {
    lmz_archive *a;
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

/* Decode the raw bytes [lo, hi) of block b (0 <= lo < hi <= raw_len) into
 * out (hi - lo bytes), decoding only the chunks that range touches. payload
 * is scratch of at least index[b].payload_len bytes. When the whole block is
 * decoded its raw checksum is checked too. Errors name the block. */
lmz_status lmz_reader_decode_block(lmz_reader *r, uint64_t b, uint32_t lo, uint32_t hi,
                                   uint8_t *payload, uint8_t *out, lmz_err *err);

/* The largest payload_len / raw_len over the index (scratch sizes). */
uint32_t lmz_reader_max_payload(const lmz_reader *r);
uint32_t lmz_reader_block_bytes(const lmz_reader *r);

#endif
