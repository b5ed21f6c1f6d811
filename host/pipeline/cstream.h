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

#endif
