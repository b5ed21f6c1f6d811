/* lmz_classical.h: blocks coded whole by a classical codec (docs/format.md,
 * "Blocks", modes 2 and 3), the fallback that keeps lmz from doing much
 * worse than LZMA2 or zstd on data the model predicts badly.
 *
 *   mode 2, LZMA2: [2][dictionary property byte][raw LZMA2 stream, ending
 *                  with its end-of-stream byte 0x00]
 *   mode 3, zstd:  [3][one zstd frame whose header carries the content size]
 *
 * lmz_classical_parse checks a block's structure without decoding or
 * allocating (the LZMA2 chunk headers, the zstd frame header and block
 * headers): lmz_block_parse calls it. lmz_classical_decode decodes and checks
 * everything again. Both say LMZ_ERR_CORRUPT_BLOCK without the block number
 * (the caller adds it). */
#ifndef LMZ_CLASSICAL_H
#define LMZ_CLASSICAL_H

#include <stddef.h>
#include <stdint.h>

#include "lmz_error.h"

#define LMZ_BLOCK_LZMA2 2
#define LMZ_BLOCK_ZSTD 3

/* The writer's settings (informative: a reader accepts any valid stream
 * within the rules of docs/format.md). */
#define LMZ_LZMA2_PRESET 9          /* with LZMA_PRESET_EXTREME: xz -9e */
#define LMZ_ZSTD_LEVEL 19

/* 1 for the modes of this header. */
static inline int lmz_block_mode_classical(int mode)
{
    return mode == LMZ_BLOCK_LZMA2 || mode == LMZ_BLOCK_ZSTD;
}

/* "lzma2" or "zstd" (NULL for other modes). */
const char *lmz_classical_name(int mode);

/* LZMA2 dictionary size for property byte p (0..40; 40 means 4 GiB - 1). */
uint32_t lmz_lzma2_dict_size(uint8_t p);
/* The property byte a writer uses for raw_len bytes: the smallest whose
 * dictionary holds them (4 KiB at least). A reader refuses a larger one. */
uint8_t lmz_lzma2_dict_prop(uint32_t raw_len);
/* Largest zstd window a reader accepts for raw_len bytes: raw_len rounded
 * up to a power of two, 1 KiB at least. */
uint64_t lmz_zstd_window_max(uint32_t raw_len);

/* Code raw whole as a block of the given mode into dst (mode byte
 * included), if it takes at most cap bytes; *len is its length. Returns 0,
 * or -1 when it does not fit (or the codec failed: the block is then simply
 * not a candidate). Deterministic for one liblzma / libzstd version. */
int lmz_classical_encode(int mode, const uint8_t *raw, uint32_t raw_len, uint8_t *dst, size_t cap,
                         size_t *len);

/* Check the structure of a classical block of blk_len bytes that must
 * decode to raw_len bytes. No allocation. */
lmz_status lmz_classical_parse(const uint8_t *blk, size_t blk_len, uint32_t raw_len, lmz_err *err);

/* Decode a classical block into out (raw_len bytes): the structure as
 * lmz_classical_parse, then the stream must decode to exactly raw_len bytes
 * and end exactly at the end of the block. Allocates the decoder (for
 * LZMA2 its dictionary, bounded by lmz_lzma2_dict_prop(raw_len)). */
lmz_status lmz_classical_decode(const uint8_t *blk, size_t blk_len, uint32_t raw_len, uint8_t *out,
                                lmz_err *err);

#endif
