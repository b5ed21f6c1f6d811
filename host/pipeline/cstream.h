/* cstream.h (host/pipeline/, not public): the compressor as a stream of raw bytes.
 *
 * Bytes go into a batch buffer; each time it is full, its blocks are
 * scored, range-coded (and coded by the classical codecs), and appended to
 * the archive in order. lmz_compress (files) and the public lmz_writer
 * (buffers) both feed this one stream, so the same bytes with the same
 * member table give the same archive. Block boundaries never depend on how
 * the bytes arrive: a batch is a whole number of blocks. */
#ifndef LMZ_CSTREAM_H
#define LMZ_CSTREAM_H

#include "lmz_pipeline.h"

typedef struct lmz_cstream lmz_cstream;

/* Check the options (archive path, kind, codec, chunks per block) and
 * resolve the model: o->model, else o->c.model_spec, else the kind's
 * default. Nothing is written yet. o and its strings must outlive cs. */
lmz_status lmz_cstream_create(const lmz_compress_opts *o, lmz_cstream **out, lmz_err *err);
/* Create the backend, the batch buffers and the archive's temporary file.
 * expected: raw bytes to come (progress; and, when exact, the batch is no
 * bigger than the input); 0: unknown. */
lmz_status lmz_cstream_start(lmz_cstream *cs, uint64_t expected, int exact, lmz_err *err);
/* Where the next bytes go: *room bytes at the returned pointer. */
uint8_t *lmz_cstream_room(lmz_cstream *cs, size_t *room);
/* n bytes (<= room) were put there; codes the batch once it is full. */
lmz_status lmz_cstream_commit(lmz_cstream *cs, size_t n, lmz_err *err);
/* Copy len bytes in (through room and commit). */
lmz_status lmz_cstream_write(lmz_cstream *cs, const void *buf, size_t len, lmz_err *err);
/* Code what is left, write the index and the members (their offsets and
 * sizes must tile the bytes written), rename the archive into place, fill
 * st and free cs. On failure cs stays: call lmz_cstream_free. */
lmz_status lmz_cstream_finish(lmz_cstream *cs, const lmz_member *members, size_t nmembers,
                              lmz_stats *st, lmz_err *err);
/* Give up (the temporary file is removed) and free; NULL is a no-op. */
void lmz_cstream_free(lmz_cstream *cs);
/* Raw bytes taken so far. */
uint64_t lmz_cstream_bytes(const lmz_cstream *cs);

/* Where coded blocks go instead of an archive (the MPI ranks, host/mpi/):
 * each block in order, as lmz_archive_append_block would get it. Set before
 * lmz_cstream_start, which then creates no archive; end with
 * lmz_cstream_flush (not finish) and lmz_cstream_free. */
typedef lmz_status (*lmz_block_sink)(void *ctx, const uint8_t *blk, size_t len, uint32_t raw_len,
                                     uint64_t raw_xxh64, lmz_err *err);
void lmz_cstream_set_sink(lmz_cstream *cs, lmz_block_sink sink, void *ctx);
/* Code the bytes still in the batch buffer (to the sink or the archive). */
lmz_status lmz_cstream_flush(lmz_cstream *cs, lmz_err *err);
/* The archive's description as lmz_cstream_finish gives it to the writer,
 * with the model to embed (NULL for a shipped model). */
void lmz_cstream_info(const lmz_cstream *cs, lmz_archive_info *info, const lmz_model **embed);
/* Counters so far (raw and payload bytes, blocks, modes). */
const lmz_stats *lmz_cstream_stats(const lmz_cstream *cs);

#endif
