/* lmz_block.h: the byte layout of one block (docs/format.md, "Blocks").
 *
 * A block holds up to chunks_per_block chunks of chunk_size raw bytes (the
 * last chunk of the archive may be shorter). Byte 0 is the block mode:
 *   0 = coded:  then one u16 little-endian entry per chunk: bit 15 set means
 *               the chunk is stored raw (its length is the chunk's raw
 *               length, low 15 bits 0), clear means a range-coder stream of
 *               length (entry & 0x7fff); then the chunks' bytes back to back.
 *   1 = stored: the raw bytes of the whole block follow.
 *   2 = LZMA2, 3 = zstd: the whole block coded by a classical codec
 *               (lmz_classical.h); such a block has no chunks of its own.
 * Pure C, no HDF5: fuzzable on its own. */
#ifndef LMZ_BLOCK_H
#define LMZ_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "lmz_classical.h"
#include "lmz_error.h"

#define LMZ_BLOCK_CODED 0
#define LMZ_BLOCK_STORED 1
#define LMZ_CHUNK_STORED_FLAG 0x8000u

/* Where one chunk's bytes are inside a block. */
typedef struct lmz_block_chunk {
    uint32_t offset;   /* of its bytes within the block */
    uint32_t len;      /* coded (or stored) length in the block */
    uint32_t raw_len;  /* decoded length */
    int stored;        /* 1: the bytes are the raw chunk */
} lmz_block_chunk;

/* Number of chunks a block of raw_len bytes has. */
uint32_t lmz_block_nchunks(uint32_t raw_len, uint32_t chunk_size);

/* Largest block for raw_len bytes (the stored form): 1 + raw_len. */
size_t lmz_block_bound(uint32_t raw_len);

/* Build a block. coded[c]/coded_len[c] is chunk c's coder stream, or
 * coded_len[c] == (size_t)-1 when it did not fit (stored raw). A chunk whose
 * stream is not shorter than its raw bytes is stored raw; the whole block is
 * stored when the coded form is not smaller. dst must hold
 * lmz_block_bound(raw_len) bytes. Returns the block's length. */
size_t lmz_block_assemble(uint8_t *dst, const uint8_t *raw, uint32_t raw_len,
                          uint32_t chunk_size, const uint8_t *const *coded,
                          const size_t *coded_len);

/* Parse and validate a block of blk_len bytes that decodes to raw_len bytes.
 * chunks must have room for lmz_block_nchunks(raw_len, chunk_size) entries.
 * Every length is checked against blk_len before use. *mode gets the block
 * mode (LMZ_BLOCK_CODED 0, LMZ_BLOCK_STORED 1, so it reads as "stored" for
 * those two, or a classical mode). A classical block's structure is checked
 * (lmz_classical_parse) and *nchunks is 0: it is decoded whole, with
 * lmz_classical_decode. On damage returns LMZ_ERR_CORRUPT_BLOCK (the caller
 * adds the block number). */
lmz_status lmz_block_parse(const uint8_t *blk, size_t blk_len, uint32_t raw_len,
                           uint32_t chunk_size, lmz_block_chunk *chunks,
                           uint32_t *nchunks, int *mode, lmz_err *err);

#endif
