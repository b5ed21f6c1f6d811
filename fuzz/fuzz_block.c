/* fuzz_block: one block's byte layout (host/block.c, docs/format.md
 * "Blocks"), without HDF5.
 *
 * Input: [chunk size selector u8][raw_len u16/u32][mode u8][bytes...].
 *   - parse: the rest of the input is a block of raw_len raw bytes; on
 *     success every chunk must lie inside the block, chunks must tile it
 *     (coded) or be the stored block's bytes, and their raw lengths must
 *     add up to raw_len; on failure the error must be corrupt_block;
 *   - assemble: the rest is raw bytes and per-chunk "coded streams" (some
 *     missing, some too long); the block built from them must fit in
 *     lmz_block_bound, parse back, and give back each chunk's bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "lmz_block.h"

#define MAX_CHUNKS 4096

static uint32_t pick_chunk_size(uint8_t sel)
{
    static const uint32_t sizes[] = {1, 2, 3, 7, 16, 64, 255, 256, 2048, 65536, 0, 65537};
    return sizes[sel % (sizeof sizes / sizeof sizes[0])];
}

static void check_parsed(const uint8_t *blk, size_t blk_len, uint32_t raw_len, uint32_t chunk,
                         const lmz_block_chunk *c, uint32_t n, int stored)
{
    FZ_ASSERT(n == lmz_block_nchunks(raw_len, chunk));
    FZ_ASSERT(blk_len <= lmz_block_bound(raw_len));
    FZ_ASSERT(stored == (blk[0] == LMZ_BLOCK_STORED));
    uint64_t raw_sum = 0;
    size_t pos = stored ? 1 : 1 + 2 * (size_t)n;
    for (uint32_t k = 0; k < n; k++) {
        FZ_ASSERT(c[k].offset == pos);
        FZ_ASSERT((uint64_t)c[k].offset + c[k].len <= blk_len);
        FZ_ASSERT(c[k].raw_len >= 1 && c[k].raw_len <= chunk);
        if (c[k].stored)
            FZ_ASSERT(c[k].len == c[k].raw_len);
        else
            FZ_ASSERT(c[k].len < c[k].raw_len && c[k].len <= 0x7fff);
        raw_sum += c[k].raw_len;
        pos += c[k].len;
    }
    FZ_ASSERT(raw_sum == raw_len);
    FZ_ASSERT(pos == blk_len);
}

static void fuzz_parse(fz_in *in, uint32_t chunk, uint32_t raw_len)
{
    size_t len;
    const uint8_t *p = fz_bytes(in, fz_left(in), &len);
    uint8_t *blk = malloc(len ? len : 1); /* exact size: overreads are caught */
    uint32_t n = lmz_block_nchunks(raw_len, chunk);
    lmz_block_chunk *chunks = malloc((n ? n : 1) * sizeof *chunks);
    FZ_ASSERT(blk && chunks);
    memcpy(blk, p, len);
    uint32_t got_n = 0;
    int stored = -1;
    lmz_err err;
    lmz_err_clear(&err);
    lmz_status st = lmz_block_parse(blk, len, raw_len, chunk, chunks, &got_n, &stored, &err);
    if (st == LMZ_OK)
        check_parsed(blk, len, raw_len, chunk, chunks, got_n, stored);
    else
        FZ_ASSERT(st == LMZ_ERR_CORRUPT_BLOCK && err.msg[0]);
    free(chunks);
    free(blk);
}

static void fuzz_assemble(fz_in *in, uint32_t chunk, uint32_t raw_len)
{
    uint32_t n = lmz_block_nchunks(raw_len, chunk);
    uint8_t *raw = malloc(raw_len ? raw_len : 1);
    uint8_t *dst = malloc(lmz_block_bound(raw_len));
    /* Every chunk's "stream" is a slice of one patterned buffer. */
    uint8_t *streams = malloc(0x8000 + 256);
    const uint8_t **coded = malloc((n ? n : 1) * sizeof *coded);
    size_t *coded_len = malloc((n ? n : 1) * sizeof *coded_len);
    lmz_block_chunk *chunks = malloc((n ? n : 1) * sizeof *chunks);
    FZ_ASSERT(raw && dst && streams && coded && coded_len && chunks);
    for (size_t i = 0; i < 0x8000 + 256; i++)
        streams[i] = (uint8_t)(i * 7 + 1);
    size_t got;
    const uint8_t *p = fz_bytes(in, raw_len, &got);
    memcpy(raw, p, got);
    memset(raw + got, 0xa5, raw_len - got);
    for (uint32_t k = 0; k < n; k++) {
        uint16_t v = fz_u16(in);
        coded[k] = streams + k % 256;
        /* a stream of v bytes (it may be too long: then the chunk must be
         * stored), or one that did not fit at all */
        coded_len[k] = v == 0xffff ? (size_t)-1 : (size_t)(v & 0x7fff);
    }
    size_t len = lmz_block_assemble(dst, raw, raw_len, chunk, coded, coded_len);
    FZ_ASSERT(len >= 1 && len <= lmz_block_bound(raw_len));
    uint32_t got_n = 0;
    int stored = -1;
    lmz_err err;
    lmz_status st = lmz_block_parse(dst, len, raw_len, chunk, chunks, &got_n, &stored, &err);
    FZ_ASSERT(st == LMZ_OK);
    check_parsed(dst, len, raw_len, chunk, chunks, got_n, stored);
    for (uint32_t k = 0; k < got_n; k++) {
        const uint8_t *bytes = dst + chunks[k].offset;
        if (chunks[k].stored)
            FZ_ASSERT(memcmp(bytes, raw + (size_t)k * chunk, chunks[k].raw_len) == 0);
        else
            FZ_ASSERT(chunks[k].len == coded_len[k] &&
                      memcmp(bytes, coded[k], chunks[k].len) == 0);
    }
    free(raw);
    free(dst);
    free(streams);
    free(coded);
    free(coded_len);
    free(chunks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in;
    fz_init(&in, data, size);
    uint32_t chunk = pick_chunk_size(fz_u8(&in));
    uint8_t mode = fz_u8(&in);
    uint32_t raw_len = mode & 0x80 ? fz_u32(&in) : fz_u16(&in);
    /* The reader never has more than 4096 chunks or 256 MiB in a block
     * (chunk_size * chunks_per_block); keep the fuzzer's blocks that big. */
    if (chunk >= 1 && chunk <= 65536 && lmz_block_nchunks(raw_len, chunk) > MAX_CHUNKS)
        raw_len = chunk * MAX_CHUNKS - (raw_len % chunk);
    if (chunk == 0 || chunk > 65536)
        raw_len %= 65536;
    if (mode & 1) /* the compressor's chunk size is a model's context */
        fuzz_assemble(&in, chunk >= 1 && chunk <= 65536 ? chunk : 2048, raw_len % (1u << 20));
    else
        fuzz_parse(&in, chunk, raw_len);
    return 0;
}
