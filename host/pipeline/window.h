/* window.h (host/pipeline/, not public): a read-ahead window of blocks decoded
 * together, so that a backend (a GPU above all) gets many chunks per call.
 *
 * Up to cap blocks are added (a raw byte range of each). lmz_window_decode
 * reads each block's payload and checks its checksum, parses it, then hands
 * every coded chunk those ranges touch, of every block, to the backend in ONE
 * lmz_backend_decode call; stored blocks and chunks are copied; a classical
 * block (LZMA2, zstd) is decoded whole and its raw checksum checked at once,
 * whatever part of it was asked for. A block whose
 * payload checksum fails, that cannot be parsed, or (decoded whole) fails its
 * raw checksum is marked damaged alone: its neighbours are decoded as usual.
 *
 * Memory: cap x (largest payload + block bytes) plus a few pointers per
 * chunk, allocated once: bounded by cap, never by the archive's size. */
#ifndef LMZ_WINDOW_H
#define LMZ_WINDOW_H

#include "pipeline_internal.h"
#include "progress.h"

typedef struct lmz_window_slot {
    uint64_t block;
    uint32_t lo, hi;  /* the raw bytes [lo, hi) of the block wanted */
    lmz_status rc;    /* LMZ_OK, or LMZ_ERR_CORRUPT_BLOCK with err naming the block */
    int checked;      /* raw checksum already checked (a classical block) */
    lmz_err err;
} lmz_window_slot;

typedef struct lmz_window {
    lmz_reader *r;
    uint32_t cap, n;          /* blocks the window holds / holds now */
    size_t pay_stride, raw_stride;
    uint8_t *payload, *raw;   /* cap slots of each */
    lmz_window_slot *slot;    /* cap */
    lmz_block_chunk *chunks;  /* chunks_per_block: parse scratch */
    const uint8_t **streams;  /* cap x chunks_per_block: the backend call */
    uint32_t *slen, *rlen;
    uint8_t **outs;
    uint64_t calls, chunks_decoded; /* backend calls made, chunks they decoded */
} lmz_window;

/* A window of cap >= 1 blocks (callers clamp cap to the blocks they need). */
lmz_status lmz_window_init(lmz_window *w, lmz_reader *r, uint32_t cap, lmz_err *err);
void lmz_window_free(lmz_window *w);

/* Empty the window. */
static inline void lmz_window_clear(lmz_window *w)
{
    w->n = 0;
}

/* Add the raw bytes [lo, hi) of block b (0 <= lo < hi <= raw_len); the
 * window must not be full (n < cap). */
void lmz_window_add(lmz_window *w, uint64_t b, uint32_t lo, uint32_t hi);

/* Decode every block added. Damage is per slot (slot[i].rc); the return
 * value is an error that ends the run (I/O, memory, the backend). With
 * stop_at_damage (a caller that stops at the first damaged block anyway),
 * the window is cut (n) after the first block found damaged before
 * decoding, so no work is spent on blocks that would not be used. */
lmz_status lmz_window_decode(lmz_window *w, int stop_at_damage, lmz_err *err);

/* Decode classical block b of r, whose payload (already read and checked)
 * is at payload, whole into raw (raw_len bytes) and check its raw
 * checksum. Such a block in an archive of format version 1 is damaged too
 * (that version has no classical modes). Damage: LMZ_ERR_CORRUPT_BLOCK with
 * err naming the block; any other status (memory) ends the run. */
lmz_status lmz_window_classical(const lmz_reader *r, uint64_t b, const uint8_t *payload,
                                uint8_t *raw, lmz_err *err);

/* Slot i's decoded bytes [lo, hi): hi - lo bytes (meaningless if damaged). */
static inline uint8_t *lmz_window_bytes(const lmz_window *w, uint32_t i)
{
    return w->raw + (size_t)i * w->raw_stride + w->slot[i].lo;
}

/* Slot i's whole raw buffer (raw_len bytes of the block when lo..hi is the
 * whole block), e.g. to zero a damaged block. */
static inline uint8_t *lmz_window_raw(const lmz_window *w, uint32_t i)
{
    return w->raw + (size_t)i * w->raw_stride;
}

/* Index of the first block whose raw bytes reach past off (the block
 * holding byte off; nblocks when off is the end). */
uint64_t lmz_reader_block_of(const lmz_reader *r, uint64_t off);

/* Receives decoded bytes in order. */
typedef lmz_status (*lmz_range_sink)(void *ctx, const uint8_t *buf, size_t n, lmz_err *err);

/* The raw bytes [off, off + len) (inside the archive: the caller checks),
 * through w: the blocks they span go through the window w.cap at a time,
 * only the chunks the range touches are decoded, and the bytes go to sink
 * in order. The first damaged block ends the read with its error
 * (LMZ_ERR_CORRUPT_BLOCK naming it). pg (may be NULL) gets the bytes done.
 * Used by extract and by lmz_archive_read (lmz.h). */
lmz_status lmz_window_read_range(lmz_window *w, uint64_t off, uint64_t len, lmz_range_sink sink,
                                 void *ctx, lmz_progress *pg, lmz_err *err);

#endif
