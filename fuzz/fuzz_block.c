/* fuzz_block: one block's byte layout (host/format/block.c, docs/format.md
 * "Blocks"), without HDF5.
 *
 * Input: [chunk size selector u8][raw_len u16/u32][mode u8][bytes...].
 *   - parse: the rest of the input is a block of raw_len raw bytes; on
 *     success every chunk must lie inside the block, chunks must tile it
 *     (coded) or be the stored block's bytes, and their raw lengths must
 *     add up to raw_len; on failure the error must be corrupt_block;
 *   - assemble: the rest is raw bytes and per-chunk "coded streams" (some
 *     missing, some too long); the block built from them must fit in
 *     lmz_block_bound, parse back, and give back each chunk's bytes;
 *   - parse of a classical block (modes 2, 3): accepted blocks are decoded
 *     (up to 1 MiB), which must succeed or say corrupt_block;
 *   - assemble with mode bit 2: the raw bytes are also coded whole by LZMA2
 *     and zstd; a form that fits must parse and decode back to them. */
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
                         const lmz_block_chunk *c, uint32_t n, int mode)
{
    FZ_ASSERT(blk_len <= lmz_block_bound(raw_len));
    FZ_ASSERT(mode == blk[0]);
    if (lmz_block_mode_classical(mode)) {
        FZ_ASSERT(n == 0); /* decoded whole */
        return;
    }
    int stored = mode == LMZ_BLOCK_STORED;
    FZ_ASSERT(n == lmz_block_nchunks(raw_len, chunk));
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
    int mode = -1;
    lmz_err err;
    lmz_err_clear(&err);
    lmz_status st = lmz_block_parse(blk, len, raw_len, chunk, chunks, &got_n, &mode, &err);
    if (st == LMZ_OK)
        check_parsed(blk, len, raw_len, chunk, chunks, got_n, mode);
    else
        FZ_ASSERT(st == LMZ_ERR_CORRUPT_BLOCK && err.msg[0]);
    if (st == LMZ_OK && lmz_block_mode_classical(mode) && raw_len <= (1u << 20)) {
        uint8_t *out = malloc(raw_len ? raw_len : 1);
        FZ_ASSERT(out);
        st = lmz_classical_decode(blk, len, raw_len, out, &err);
        FZ_ASSERT(st == LMZ_OK || (st == LMZ_ERR_CORRUPT_BLOCK && err.msg[0]));
        free(out);
    }
    free(chunks);
    free(blk);
}

/* raw coded whole by each classical codec: what fits parses and decodes. */
static void fuzz_classical(const uint8_t *raw, uint32_t raw_len, uint32_t chunk)
{
    uint8_t *dst = malloc(raw_len + 1);
    uint8_t *out = malloc(raw_len + 1);
    FZ_ASSERT(dst && out);
    for (int mode = LMZ_BLOCK_LZMA2; mode <= LMZ_BLOCK_ZSTD; mode++) {
        size_t len = 0;
        if (lmz_classical_encode(mode, raw, raw_len, dst, raw_len, &len) != 0)
            continue;
        FZ_ASSERT(len >= 2 && len <= raw_len && dst[0] == mode);
        uint32_t n = 1;
        int got_mode = -1;
        lmz_block_chunk ch[1];
        lmz_err err;
        FZ_ASSERT(lmz_block_parse(dst, len, raw_len, chunk, ch, &n, &got_mode, &err) == LMZ_OK);
        FZ_ASSERT(n == 0 && got_mode == mode);
        FZ_ASSERT(lmz_classical_decode(dst, len, raw_len, out, &err) == LMZ_OK);
        FZ_ASSERT(memcmp(out, raw, raw_len) == 0);
    }
    free(dst);
    free(out);
}

static void fuzz_assemble(fz_in *in, uint32_t chunk, uint32_t raw_len, int classical)
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
    int mode = -1;
    lmz_err err;
    lmz_status st = lmz_block_parse(dst, len, raw_len, chunk, chunks, &got_n, &mode, &err);
    FZ_ASSERT(st == LMZ_OK);
    check_parsed(dst, len, raw_len, chunk, chunks, got_n, mode);
    for (uint32_t k = 0; k < got_n; k++) {
        const uint8_t *bytes = dst + chunks[k].offset;
        if (chunks[k].stored)
            FZ_ASSERT(memcmp(bytes, raw + (size_t)k * chunk, chunks[k].raw_len) == 0);
        else
            FZ_ASSERT(chunks[k].len == coded_len[k] &&
                      memcmp(bytes, coded[k], chunks[k].len) == 0);
    }
    /* the codecs are slow next to the rest: small blocks only */
    if (classical && raw_len >= 1 && raw_len <= 65536)
        fuzz_classical(raw, raw_len, chunk);
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
        fuzz_assemble(&in, chunk >= 1 && chunk <= 65536 ? chunk : 2048, raw_len % (1u << 20),
                      (mode & 2) != 0);
    else
        fuzz_parse(&in, chunk, raw_len);
    return 0;
}
