/* block.c: assembling and parsing one block (docs/format.md, "Blocks").
 *
 * Pure C, no HDF5 and no allocation, so that it can be fuzzed on its own.
 * Every length read from a block is checked against what is left of the
 * block before it is used. */
#include "lmz_block.h"

#include <string.h>

/* Raw length of chunk c of a block of raw_len bytes. */
static uint32_t chunk_raw_len(uint32_t raw_len, uint32_t chunk_size, uint32_t c)
{
    uint64_t start = (uint64_t)c * chunk_size;
    uint64_t left = raw_len - start;
    return (uint32_t)(left < chunk_size ? left : chunk_size);
}

uint32_t lmz_block_nchunks(uint32_t raw_len, uint32_t chunk_size)
{
    if (chunk_size == 0)
        return 0;
    return (uint32_t)(((uint64_t)raw_len + chunk_size - 1) / chunk_size);
}

size_t lmz_block_bound(uint32_t raw_len)
{
    return 1 + (size_t)raw_len;
}

/* 1 when chunk c goes into the block raw: no stream, or a stream that is not
 * shorter than the raw bytes or does not fit in 15 bits. */
static int chunk_is_stored(size_t coded_len, uint32_t raw_len)
{
    return coded_len == (size_t)-1 || coded_len >= raw_len ||
           coded_len > (LMZ_CHUNK_STORED_FLAG - 1);
}

/* Length of the coded (mode 0) form of the block. */
static uint64_t coded_form_len(uint32_t raw_len, uint32_t chunk_size, uint32_t n,
                               const size_t *coded_len)
{
    uint64_t len = 1 + 2 * (uint64_t)n;
    for (uint32_t c = 0; c < n; c++) {
        uint32_t rl = chunk_raw_len(raw_len, chunk_size, c);
        len += chunk_is_stored(coded_len[c], rl) ? rl : coded_len[c];
    }
    return len;
}

static void put_u16le(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v & 0xff);
    p[1] = (uint8_t)(v >> 8);
}

static uint16_t get_u16le(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

size_t lmz_block_assemble(uint8_t *dst, const uint8_t *raw, uint32_t raw_len,
                          uint32_t chunk_size, const uint8_t *const *coded,
                          const size_t *coded_len)
{
    uint32_t n = lmz_block_nchunks(raw_len, chunk_size);
    /* The coded form must be strictly smaller than the stored one; this also
     * keeps every write below inside lmz_block_bound(raw_len). */
    if (n == 0 || coded_form_len(raw_len, chunk_size, n, coded_len) >= lmz_block_bound(raw_len)) {
        dst[0] = LMZ_BLOCK_STORED;
        if (raw_len)
            memcpy(dst + 1, raw, raw_len);
        return lmz_block_bound(raw_len);
    }
    dst[0] = LMZ_BLOCK_CODED;
    size_t pos = 1 + 2 * (size_t)n;
    for (uint32_t c = 0; c < n; c++) {
        uint32_t rl = chunk_raw_len(raw_len, chunk_size, c);
        if (chunk_is_stored(coded_len[c], rl)) {
            put_u16le(dst + 1 + 2 * (size_t)c, LMZ_CHUNK_STORED_FLAG);
            memcpy(dst + pos, raw + (size_t)c * chunk_size, rl);
            pos += rl;
        } else {
            put_u16le(dst + 1 + 2 * (size_t)c, (uint16_t)coded_len[c]);
            if (coded_len[c])
                memcpy(dst + pos, coded[c], coded_len[c]);
            pos += coded_len[c];
        }
    }
    return pos;
}

/* A stored block: the raw bytes follow the mode byte; every chunk is
 * described as a stored chunk so that callers can treat both modes alike. */
static lmz_status parse_stored(size_t blk_len, uint32_t raw_len, uint32_t chunk_size,
                               uint32_t n, lmz_block_chunk *chunks, lmz_err *err)
{
    if (blk_len != lmz_block_bound(raw_len))
        return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK,
                           "stored block is %zu bytes, expected %zu", blk_len,
                           lmz_block_bound(raw_len));
    for (uint32_t c = 0; c < n; c++) {
        uint32_t rl = chunk_raw_len(raw_len, chunk_size, c);
        chunks[c].offset = 1 + c * chunk_size;
        chunks[c].len = rl;
        chunks[c].raw_len = rl;
        chunks[c].stored = 1;
    }
    return LMZ_OK;
}

static lmz_status parse_coded(const uint8_t *blk, size_t blk_len, uint32_t raw_len,
                              uint32_t chunk_size, uint32_t n, lmz_block_chunk *chunks,
                              lmz_err *err)
{
    size_t table_end = 1 + 2 * (size_t)n;
    if (blk_len < table_end)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK,
                           "block of %zu bytes is too short for its %u-chunk table",
                           blk_len, n);
    size_t pos = table_end;
    for (uint32_t c = 0; c < n; c++) {
        uint16_t entry = get_u16le(blk + 1 + 2 * (size_t)c);
        uint32_t rl = chunk_raw_len(raw_len, chunk_size, c);
        uint32_t len;
        int stored = (entry & LMZ_CHUNK_STORED_FLAG) != 0;
        if (stored) {
            if (entry != LMZ_CHUNK_STORED_FLAG)
                return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK,
                                   "chunk %u: bad stored-chunk entry 0x%04x", c, entry);
            len = rl;
        } else {
            len = entry;
            /* A writer stores a chunk whose stream is not shorter. */
            if (len >= rl)
                return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK,
                                   "chunk %u: coded length %u is not below its raw length %u",
                                   c, len, rl);
        }
        if (len > blk_len - pos)
            return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK,
                               "chunk %u: length %u runs past the end of the block", c, len);
        chunks[c].offset = (uint32_t)pos;
        chunks[c].len = len;
        chunks[c].raw_len = rl;
        chunks[c].stored = stored;
        pos += len;
    }
    if (pos != blk_len)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK,
                           "block has %zu bytes after its last chunk", blk_len - pos);
    return LMZ_OK;
}

lmz_status lmz_block_parse(const uint8_t *blk, size_t blk_len, uint32_t raw_len,
                           uint32_t chunk_size, lmz_block_chunk *chunks,
                           uint32_t *nchunks, int *mode, lmz_err *err)
{
    if (chunk_size == 0 || chunk_size > 65536)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK, "bad chunk size %u", chunk_size);
    if (blk_len < 1)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK, "empty block");
    /* No valid block is larger than its stored form. */
    if (blk_len > lmz_block_bound(raw_len))
        return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK,
                           "block of %zu bytes is larger than its stored form (%zu)",
                           blk_len, lmz_block_bound(raw_len));
    uint32_t n = lmz_block_nchunks(raw_len, chunk_size);
    lmz_status st;
    switch (blk[0]) {
    case LMZ_BLOCK_STORED:
        st = parse_stored(blk_len, raw_len, chunk_size, n, chunks, err);
        break;
    case LMZ_BLOCK_CODED:
        st = parse_coded(blk, blk_len, raw_len, chunk_size, n, chunks, err);
        break;
    case LMZ_BLOCK_LZMA2:
    case LMZ_BLOCK_ZSTD:
        st = lmz_classical_parse(blk, blk_len, raw_len, err);
        n = 0; /* decoded whole, not by chunks */
        break;
    default:
        return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK, "unknown block mode %u", blk[0]);
    }
    if (st != LMZ_OK)
        return st;
    if (nchunks)
        *nchunks = n;
    if (mode)
        *mode = blk[0];
    return LMZ_OK;
}
