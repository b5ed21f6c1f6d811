/* classical.c: blocks coded whole with LZMA2 (mode 2) or zstd (mode 3)
 * (lmz_classical.h, docs/format.md "Blocks").
 *
 * The structure of both is checked here from the published formats (the
 * LZMA2 chunk headers; RFC 8878's zstd frame header) before any decoder
 * runs, so that a damaged block is refused without allocating from a
 * number in it, and trailing bytes or a wrong decoded length are named. */
#include "lmz_classical.h"

#include <lzma.h>
#include <string.h>
#include <zstd.h>

static lmz_status corrupt(lmz_err *err, const char *what)
{
    return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK, "%s", what);
}

const char *lmz_classical_name(int mode)
{
    return mode == LMZ_BLOCK_LZMA2 ? "lzma2" : mode == LMZ_BLOCK_ZSTD ? "zstd" : NULL;
}

/* ---- LZMA2 ---- */

uint32_t lmz_lzma2_dict_size(uint8_t p)
{
    if (p >= 40)
        return UINT32_MAX;
    return (uint32_t)(2u | (p & 1u)) << (p / 2 + 11);
}

uint8_t lmz_lzma2_dict_prop(uint32_t raw_len)
{
    uint8_t p = 0;
    while (p < 40 && lmz_lzma2_dict_size(p) < raw_len)
        p++;
    return p;
}

static uint32_t be16(const uint8_t *p)
{
    return ((uint32_t)p[0] << 8) | p[1];
}

/* Walk the LZMA2 chunk headers of s[0..n): every chunk must lie inside,
 * the unpacked sizes must add up to raw_len, and the end-of-stream byte
 * must be the last byte. */
static lmz_status lzma2_walk(const uint8_t *s, size_t n, uint32_t raw_len, lmz_err *err)
{
    size_t pos = 0;
    uint64_t total = 0;
    for (;;) {
        if (pos >= n)
            return corrupt(err, "lzma2 stream is truncated (no end-of-stream byte)");
        uint8_t c = s[pos];
        if (c == 0x00)
            break;
        size_t head, packed;
        uint64_t unpacked;
        if (c == 0x01 || c == 0x02) { /* stored chunk */
            head = 3;
            if (n - pos < head)
                return corrupt(err, "lzma2 stream is truncated in a chunk header");
            unpacked = packed = be16(s + pos + 1) + 1;
        } else if (c >= 0x80) { /* LZMA chunk; >= 0xc0 carries a properties byte */
            head = c >= 0xc0 ? 6 : 5;
            if (n - pos < head)
                return corrupt(err, "lzma2 stream is truncated in a chunk header");
            unpacked = ((uint64_t)(c & 0x1f) << 16) + be16(s + pos + 1) + 1;
            packed = be16(s + pos + 3) + 1;
        } else {
            return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK, "lzma2 stream: bad control byte 0x%02x",
                               c);
        }
        if (packed > n - pos - head)
            return corrupt(err, "lzma2 stream is truncated inside a chunk");
        if (unpacked > raw_len - total)
            return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK,
                               "lzma2 stream decodes to more than the block's %u bytes", raw_len);
        total += unpacked;
        pos += head + packed;
    }
    if (pos + 1 != n)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK,
                           "lzma2 stream has %zu bytes after its end", n - pos - 1);
    if (total != raw_len)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK,
                           "lzma2 stream decodes to %llu bytes, the block has %u",
                           (unsigned long long)total, raw_len);
    return LMZ_OK;
}

static lmz_status lzma2_parse(const uint8_t *blk, size_t len, uint32_t raw_len, lmz_err *err)
{
    if (len < 3)
        return corrupt(err, "lzma2 block is too short");
    /* The dictionary is what a decoder allocates: no larger than the
     * block needs. */
    if (blk[1] > lmz_lzma2_dict_prop(raw_len))
        return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK,
                           "lzma2 dictionary property %u is larger than the block needs (%u)",
                           blk[1], lmz_lzma2_dict_prop(raw_len));
    return lzma2_walk(blk + 2, len - 2, raw_len, err);
}

static int lzma2_options(lzma_options_lzma *opt, uint8_t prop)
{
    if (lzma_lzma_preset(opt, LMZ_LZMA2_PRESET | LZMA_PRESET_EXTREME))
        return -1;
    opt->dict_size = lmz_lzma2_dict_size(prop);
    return 0;
}

static int lzma2_encode(const uint8_t *raw, uint32_t raw_len, uint8_t *dst, size_t cap, size_t *len)
{
    uint8_t prop = lmz_lzma2_dict_prop(raw_len);
    lzma_options_lzma opt;
    if (cap < 3 || lzma2_options(&opt, prop))
        return -1;
    lzma_filter f[2] = {{LZMA_FILTER_LZMA2, &opt}, {LZMA_VLI_UNKNOWN, NULL}};
    size_t pos = 2;
    if (lzma_raw_buffer_encode(f, NULL, raw, raw_len, dst, &pos, cap) != LZMA_OK)
        return -1;
    dst[0] = LMZ_BLOCK_LZMA2;
    dst[1] = prop;
    *len = pos;
    return 0;
}

static lmz_status lzma2_decode(const uint8_t *blk, size_t len, uint32_t raw_len, uint8_t *out,
                               lmz_err *err)
{
    lzma_options_lzma opt;
    if (lzma2_options(&opt, blk[1]))
        return corrupt(err, "lzma2 options rejected");
    lzma_filter f[2] = {{LZMA_FILTER_LZMA2, &opt}, {LZMA_VLI_UNKNOWN, NULL}};
    lzma_stream s = LZMA_STREAM_INIT;
    lzma_ret r = lzma_raw_decoder(&s, f);
    if (r != LZMA_OK)
        return lmz_err_set(err, r == LZMA_MEM_ERROR ? LMZ_ERR_NOMEM : LMZ_ERR_CORRUPT_BLOCK,
                           "lzma2 decoder could not start (%d)", (int)r);
    s.next_in = blk + 2;
    s.avail_in = len - 2;
    s.next_out = out;
    s.avail_out = raw_len;
    /* Every byte is there: run until the stream ends or nothing moves. */
    do {
        size_t in = s.avail_in, outl = s.avail_out;
        r = lzma_code(&s, LZMA_FINISH);
        if (r == LZMA_OK && in == s.avail_in && outl == s.avail_out)
            r = LZMA_BUF_ERROR;
    } while (r == LZMA_OK);
    size_t left = s.avail_in;
    uint64_t got = s.total_out;
    lzma_end(&s);
    if (r == LZMA_MEM_ERROR)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory for the lzma2 decoder");
    if (r != LZMA_STREAM_END)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK,
                           "lzma2 stream is damaged (liblzma error %d after %llu bytes)", (int)r,
                           (unsigned long long)got);
    if (left || got != raw_len)
        return corrupt(err, "lzma2 stream does not decode to exactly the block's bytes");
    return LMZ_OK;
}

/* ---- zstd ---- */

uint64_t lmz_zstd_window_max(uint32_t raw_len)
{
    uint64_t w = 1024;
    while (w < raw_len)
        w <<= 1;
    return w;
}

static uint64_t le_n(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* RFC 8878, 3.1.1: the frame header of the zstd frame at f[0..n). */
static lmz_status zstd_header(const uint8_t *f, size_t n, uint32_t raw_len, lmz_err *err)
{
    if (n < 6 || le_n(f, 4) != 0xFD2FB528u)
        return corrupt(err, "zstd block does not start with a zstd frame");
    uint8_t fhd = f[4];
    int fcs_flag = fhd >> 6, single = (fhd >> 5) & 1, dict_flag = fhd & 3;
    if (fhd & 0x08)
        return corrupt(err, "zstd frame header has its reserved bit set");
    if (dict_flag)
        return corrupt(err, "zstd frame names a dictionary");
    int fcs_bytes = fcs_flag == 0 ? single : 1 << fcs_flag;
    if (!fcs_bytes)
        return corrupt(err, "zstd frame does not record its content size");
    size_t pos = 5;
    uint64_t window = 0;
    if (!single) {
        uint8_t wd = f[pos++];
        uint64_t base = (uint64_t)1 << (10 + (wd >> 3));
        window = base + base / 8 * (wd & 7);
    }
    if (n - pos < (size_t)fcs_bytes)
        return corrupt(err, "zstd frame header is truncated");
    uint64_t fcs = le_n(f + pos, fcs_bytes) + (fcs_bytes == 2 ? 256 : 0);
    if (single)
        window = fcs;
    if (fcs != raw_len)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK,
                           "zstd frame content size %llu is not the block's %u bytes",
                           (unsigned long long)fcs, raw_len);
    if (window > lmz_zstd_window_max(raw_len))
        return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK,
                           "zstd window of %llu bytes is larger than the block needs",
                           (unsigned long long)window);
    return LMZ_OK;
}

static lmz_status zstd_parse(const uint8_t *blk, size_t len, uint32_t raw_len, lmz_err *err)
{
    lmz_status st = zstd_header(blk + 1, len - 1, raw_len, err);
    if (st)
        return st;
    /* Walks the block headers only: where the one frame ends. */
    size_t fl = ZSTD_findFrameCompressedSize(blk + 1, len - 1);
    if (ZSTD_isError(fl))
        return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK, "zstd frame is damaged or truncated (%s)",
                           ZSTD_getErrorName(fl));
    if (fl != len - 1)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK, "zstd frame has %zu bytes after its end",
                           len - 1 - fl);
    return LMZ_OK;
}

static int zstd_encode(const uint8_t *raw, uint32_t raw_len, uint8_t *dst, size_t cap, size_t *len)
{
    if (cap < 2)
        return -1;
    ZSTD_CCtx *c = ZSTD_createCCtx();
    if (!c)
        return -1;
    size_t r = ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, LMZ_ZSTD_LEVEL);
    if (!ZSTD_isError(r))
        r = ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 1);
    if (!ZSTD_isError(r))
        r = ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 0); /* the raw XXH64 checks it */
    if (!ZSTD_isError(r))
        r = ZSTD_compress2(c, dst + 1, cap - 1, raw, raw_len);
    ZSTD_freeCCtx(c);
    if (ZSTD_isError(r))
        return -1;
    dst[0] = LMZ_BLOCK_ZSTD;
    *len = 1 + r;
    return 0;
}

static lmz_status zstd_decode(const uint8_t *blk, size_t len, uint32_t raw_len, uint8_t *out,
                              lmz_err *err)
{
    ZSTD_DCtx *d = ZSTD_createDCtx();
    if (!d)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory for the zstd decoder");
    size_t r = ZSTD_decompressDCtx(d, out, raw_len, blk + 1, len - 1);
    ZSTD_freeDCtx(d);
    if (ZSTD_isError(r))
        return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK, "zstd frame is damaged (%s)",
                           ZSTD_getErrorName(r));
    if (r != raw_len)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK,
                           "zstd frame decodes to %zu bytes, the block has %u", r, raw_len);
    return LMZ_OK;
}

/* ---- both ---- */

int lmz_classical_encode(int mode, const uint8_t *raw, uint32_t raw_len, uint8_t *dst, size_t cap,
                         size_t *len)
{
    if (mode == LMZ_BLOCK_LZMA2)
        return lzma2_encode(raw, raw_len, dst, cap, len);
    if (mode == LMZ_BLOCK_ZSTD)
        return zstd_encode(raw, raw_len, dst, cap, len);
    return -1;
}

lmz_status lmz_classical_parse(const uint8_t *blk, size_t blk_len, uint32_t raw_len, lmz_err *err)
{
    if (blk_len < 2)
        return corrupt(err, "classical block is too short");
    if (blk[0] == LMZ_BLOCK_LZMA2)
        return lzma2_parse(blk, blk_len, raw_len, err);
    if (blk[0] == LMZ_BLOCK_ZSTD)
        return zstd_parse(blk, blk_len, raw_len, err);
    return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK, "block mode %u is not a classical codec", blk[0]);
}

lmz_status lmz_classical_decode(const uint8_t *blk, size_t blk_len, uint32_t raw_len, uint8_t *out,
                                lmz_err *err)
{
    lmz_status st = lmz_classical_parse(blk, blk_len, raw_len, err);
    if (st)
        return st;
    if (blk[0] == LMZ_BLOCK_LZMA2)
        return lzma2_decode(blk, blk_len, raw_len, out, err);
    return zstd_decode(blk, blk_len, raw_len, out, err);
}
