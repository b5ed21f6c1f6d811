/* test_block.c: block assembly and parsing (host/format/block.c), including every
 * single-byte mutation and every truncation of valid blocks. Blocks under
 * test sit in heap buffers of their exact size, so an over-read shows under
 * AddressSanitizer. */
#include <string.h>
#include <zstd.h>

#include "lmz_block.h"
#include "testutil.h"

#define MAX_CHUNKS 64

/* A block under construction: raw bytes and a fake coder stream per chunk
 * (the parser does not look inside streams). */
typedef struct fixture {
    uint32_t raw_len, chunk_size, n;
    uint8_t *raw;
    uint8_t *streams[MAX_CHUNKS];
    size_t stream_len[MAX_CHUNKS];
    const uint8_t *coded[MAX_CHUNKS];
} fixture;

static uint32_t chunk_raw(const fixture *f, uint32_t c)
{
    uint32_t start = c * f->chunk_size;
    return f->raw_len - start < f->chunk_size ? f->raw_len - start : f->chunk_size;
}

/* stream_len_for(c, raw) picks chunk c's stream length ((size_t)-1: none). */
static void fixture_init(fixture *f, uint32_t raw_len, uint32_t chunk_size,
                         size_t (*stream_len_for)(uint32_t c, uint32_t raw), uint64_t seed)
{
    memset(f, 0, sizeof *f);
    f->raw_len = raw_len;
    f->chunk_size = chunk_size;
    f->n = lmz_block_nchunks(raw_len, chunk_size);
    f->raw = malloc(raw_len ? raw_len : 1);
    tu_fill_random(f->raw, raw_len, seed);
    for (uint32_t c = 0; c < f->n; c++) {
        size_t len = stream_len_for(c, chunk_raw(f, c));
        f->stream_len[c] = len;
        size_t alloc = len == (size_t)-1 ? 1 : len + 1;
        f->streams[c] = malloc(alloc);
        if (len != (size_t)-1)
            tu_fill_random(f->streams[c], len, seed * 131 + c);
        f->coded[c] = f->streams[c];
    }
}

static void fixture_free(fixture *f)
{
    free(f->raw);
    for (uint32_t c = 0; c < f->n; c++)
        free(f->streams[c]);
}

/* Assemble f into a heap buffer of exactly the block's length. */
static uint8_t *assemble(const fixture *f, size_t *len)
{
    uint8_t *tmp = malloc(lmz_block_bound(f->raw_len));
    *len = lmz_block_assemble(tmp, f->raw, f->raw_len, f->chunk_size, f->coded, f->stream_len);
    CHECK(*len <= lmz_block_bound(f->raw_len));
    uint8_t *blk = malloc(*len);
    memcpy(blk, tmp, *len);
    free(tmp);
    return blk;
}

/* Whatever parse accepted must describe chunks inside the block, back to
 * back, ending exactly at its end. */
static int layout_consistent(const lmz_block_chunk *ch, uint32_t n, size_t blk_len, int stored,
                             uint32_t raw_len)
{
    size_t pos = stored ? 1 : 1 + 2 * (size_t)n;
    uint64_t raw = 0;
    for (uint32_t c = 0; c < n; c++) {
        if (ch[c].offset != pos || ch[c].len > blk_len - pos)
            return 0;
        if (ch[c].stored && ch[c].len != ch[c].raw_len)
            return 0;
        pos += ch[c].len;
        raw += ch[c].raw_len;
    }
    return pos == blk_len && raw == raw_len;
}

/* Parse f's block and compare every chunk with what went in. */
static void check_round_trip(const fixture *f, int expect_stored_block)
{
    size_t len;
    uint8_t *blk = assemble(f, &len);
    lmz_block_chunk ch[MAX_CHUNKS];
    uint32_t n = 0;
    int stored = -1;
    lmz_err err;
    CHECK_EQ_INT(lmz_block_parse(blk, len, f->raw_len, f->chunk_size, ch, &n, &stored, &err),
                 LMZ_OK);
    CHECK_EQ_INT(n, f->n);
    CHECK_EQ_INT(stored, expect_stored_block);
    CHECK(layout_consistent(ch, n, len, stored, f->raw_len));
    for (uint32_t c = 0; c < n && c < f->n; c++) {
        uint32_t rl = chunk_raw(f, c);
        CHECK_EQ_INT(ch[c].raw_len, rl);
        size_t sl = f->stream_len[c];
        int chunk_stored = stored || sl == (size_t)-1 || sl >= rl;
        CHECK_EQ_INT(ch[c].stored, chunk_stored);
        if (chunk_stored) {
            CHECK_EQ_INT(ch[c].len, rl);
            CHECK(memcmp(blk + ch[c].offset, f->raw + (size_t)c * f->chunk_size, rl) == 0);
        } else {
            CHECK_EQ_INT(ch[c].len, sl);
            CHECK(memcmp(blk + ch[c].offset, f->streams[c], sl) == 0);
        }
    }
    free(blk);
}

static size_t len_small(uint32_t c, uint32_t raw) { return raw / 3 + c % 5; }
static size_t len_mixed(uint32_t c, uint32_t raw)
{
    switch (c % 4) {
    case 0: return raw / 4;         /* coded */
    case 1: return (size_t)-1;      /* did not fit */
    case 2: return raw;             /* not shorter: stored */
    default: return c % 8 == 3 ? 0 : raw - 1; /* an empty stream; just shorter */
    }
}
static size_t len_none(uint32_t c, uint32_t raw) { return (size_t)-1; }
static size_t len_almost(uint32_t c, uint32_t raw) { return raw - 1; }

static void test_sizes(void)
{
    CHECK_EQ_INT(lmz_block_nchunks(0, 2048), 0);
    CHECK_EQ_INT(lmz_block_nchunks(1, 2048), 1);
    CHECK_EQ_INT(lmz_block_nchunks(2048, 2048), 1);
    CHECK_EQ_INT(lmz_block_nchunks(2049, 2048), 2);
    CHECK_EQ_INT(lmz_block_nchunks(64 * 2048, 2048), 64);
    CHECK_EQ_INT(lmz_block_nchunks(0xffffffffu, 65536), 65536);
    CHECK_EQ_INT(lmz_block_bound(0), 1);
    CHECK_EQ_INT(lmz_block_bound(131072), 131073);
}

static void test_round_trips(void)
{
    fixture f;
    /* All chunks coded, the last one partial. */
    fixture_init(&f, 64 * 37 + 11, 64, len_small, 1);
    check_round_trip(&f, 0);
    fixture_free(&f);
    /* Some chunks stored raw for each reason; still smaller than stored. */
    fixture_init(&f, 64 * 40, 64, len_mixed, 2);
    check_round_trip(&f, 0);
    fixture_free(&f);
    /* Nothing fit: the whole block is stored. */
    fixture_init(&f, 1000, 64, len_none, 3);
    check_round_trip(&f, 1);
    fixture_free(&f);
    /* Every stream one byte short: the table makes the coded form larger. */
    fixture_init(&f, 64 * 8, 64, len_almost, 4);
    check_round_trip(&f, 1);
    fixture_free(&f);
    /* Full-size lmz block: 64 chunks of 2048. */
    fixture_init(&f, 64 * 2048, 2048, len_small, 5);
    check_round_trip(&f, 0);
    fixture_free(&f);
    /* One byte. */
    fixture_init(&f, 1, 2048, len_small, 6);
    check_round_trip(&f, 1);
    fixture_free(&f);
}

/* The block is exactly blk_len bytes in its own heap buffer. Returns the
 * status and checks that an accepted block is self-consistent. */
static lmz_status parse_copy(const uint8_t *src, size_t blk_len, uint32_t raw_len,
                             uint32_t chunk_size)
{
    uint8_t *blk = malloc(blk_len ? blk_len : 1);
    memcpy(blk, src, blk_len);
    lmz_block_chunk ch[MAX_CHUNKS];
    uint32_t n = 0;
    int stored = 0;
    lmz_err err;
    lmz_err_clear(&err);
    lmz_status st = lmz_block_parse(blk, blk_len, raw_len, chunk_size, ch, &n, &stored, &err);
    if (st == LMZ_OK)
        CHECK(layout_consistent(ch, n, blk_len, stored, raw_len));
    else {
        CHECK_EQ_INT(st, LMZ_ERR_CORRUPT_BLOCK);
        CHECK(err.msg[0] != '\0');
    }
    free(blk);
    return st;
}

/* Every byte of the mode byte and the length table, every value: a changed
 * length no longer adds up, so each is rejected. Bytes of the chunks do not
 * affect parsing and must still parse. Every truncation and an extension
 * are rejected. */
static void mutate_all(const fixture *f)
{
    size_t len;
    uint8_t *blk = assemble(f, &len);
    int coded = blk[0] == LMZ_BLOCK_CODED;
    size_t header = coded ? 1 + 2 * (size_t)f->n : 1;
    uint8_t *m = malloc(len + 1);
    for (size_t i = 0; i < len; i++) {
        for (int v = 0; v < 256; v++) {
            if (v == blk[i])
                continue;
            memcpy(m, blk, len);
            m[i] = (uint8_t)v;
            lmz_status st = parse_copy(m, len, f->raw_len, f->chunk_size);
            if (i < header && coded)
                CHECK_EQ_INT(st, LMZ_ERR_CORRUPT_BLOCK);
            else if (i == 0 && v > LMZ_BLOCK_ZSTD)
                CHECK_EQ_INT(st, LMZ_ERR_CORRUPT_BLOCK);
            else if (i >= header)
                CHECK_EQ_INT(st, LMZ_OK);
            /* (a stored block relabelled coded or classical: anything goes, no
             * crash) */
        }
    }
    for (size_t cut = 0; cut < len; cut++)
        CHECK_EQ_INT(parse_copy(blk, cut, f->raw_len, f->chunk_size), LMZ_ERR_CORRUPT_BLOCK);
    memcpy(m, blk, len);
    m[len] = 0;
    CHECK_EQ_INT(parse_copy(m, len + 1, f->raw_len, f->chunk_size), LMZ_ERR_CORRUPT_BLOCK);
    /* A raw length one more than the block's: the fixtures' last chunks are
     * stored or full, so it changes a stored length or the chunk count.
     * (A coded last chunk's raw length is not in the block at all: only the
     * index and the raw checksum vouch for it.) */
    CHECK_EQ_INT(parse_copy(blk, len, f->raw_len + 1, f->chunk_size), LMZ_ERR_CORRUPT_BLOCK);
    free(m);
    free(blk);
}

static void test_mutations(void)
{
    fixture f;
    fixture_init(&f, 32 * 9 + 5, 32, len_small, 11);
    mutate_all(&f);
    fixture_free(&f);
    fixture_init(&f, 32 * 12, 32, len_mixed, 12);
    mutate_all(&f);
    fixture_free(&f);
    fixture_init(&f, 100, 32, len_none, 13);
    mutate_all(&f);
    fixture_free(&f);
}

/* Hand-made blocks for the rules a mutation of a valid block cannot reach. */
static void test_rules(void)
{
    /* chunk_size 8, raw_len 24: three chunks, coded 2 / stored / coded 1. */
    uint8_t ok[] = {0, 2, 0, 0x00, 0x80, 1, 0, 0xaa, 0xbb, 1, 2, 3, 4, 5, 6, 7, 8, 0xcc};
    CHECK_EQ_INT(parse_copy(ok, sizeof ok, 24, 8), LMZ_OK);
    /* A stored-chunk entry with low bits set. */
    uint8_t bad_flag[] = {0, 2, 0, 0x01, 0x80, 1, 0, 0xaa, 0xbb, 1, 2, 3, 4, 5, 6, 7, 8, 0xcc};
    CHECK_EQ_INT(parse_copy(bad_flag, sizeof bad_flag, 24, 8), LMZ_ERR_CORRUPT_BLOCK);
    /* A coded stream as long as its raw chunk (a writer stores it). */
    uint8_t too_long[] = {0, 8, 0, 0x00, 0x80, 1, 0, 9, 9, 9, 9, 9, 9, 9, 9,
                          1, 2, 3, 4, 5, 6, 7, 8, 0xcc};
    CHECK_EQ_INT(parse_copy(too_long, sizeof too_long, 24, 8), LMZ_ERR_CORRUPT_BLOCK);
    /* An empty coded stream is allowed. */
    uint8_t empty_stream[] = {0, 0, 0, 0x00, 0x80, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0xcc};
    CHECK_EQ_INT(parse_copy(empty_stream, sizeof empty_stream, 24, 8), LMZ_OK);
    /* A coded block larger than the stored form. */
    uint8_t bloated[] = {0, 0x00, 0x80, 1, 2, 3};
    CHECK_EQ_INT(parse_copy(bloated, sizeof bloated, 3, 8), LMZ_ERR_CORRUPT_BLOCK);
    /* Unknown mode. */
    uint8_t mode4[] = {4, 1, 2, 3};
    CHECK_EQ_INT(parse_copy(mode4, sizeof mode4, 3, 4), LMZ_ERR_CORRUPT_BLOCK);
    /* Stored block of the right length, and one byte short. */
    uint8_t stored[] = {1, 1, 2, 3};
    CHECK_EQ_INT(parse_copy(stored, sizeof stored, 3, 4), LMZ_OK);
    CHECK_EQ_INT(parse_copy(stored, sizeof stored, 4, 4), LMZ_ERR_CORRUPT_BLOCK);
    /* Bad chunk sizes. */
    CHECK_EQ_INT(parse_copy(stored, sizeof stored, 3, 0), LMZ_ERR_CORRUPT_BLOCK);
    CHECK_EQ_INT(parse_copy(stored, sizeof stored, 3, 65537), LMZ_ERR_CORRUPT_BLOCK);
}

/* ---- classical blocks (modes 2 and 3) ---- */

/* Text-like bytes that both codecs shrink: words from a small list with
 * seeded choices. */
static void fill_text(uint8_t *p, size_t n, uint64_t seed)
{
    static const char *const words[] = {"block ", "model ", "the ", "chunk ", "zstd ", "lzma ",
                                        "archive\n", "of ", "{\"id\": ", "42, "};
    uint64_t s = seed;
    size_t pos = 0;
    while (pos < n) {
        const char *w = words[tu_rand(&s) % 10];
        for (size_t k = 0; w[k] && pos < n; k++)
            p[pos++] = (uint8_t)w[k];
    }
}

/* Parse and decode a classical block held in a heap buffer of exactly its
 * size; an accepted block must give back want (when given). */
static lmz_status classical_copy(const uint8_t *src, size_t len, uint32_t raw_len,
                                 const uint8_t *want)
{
    uint8_t *blk = malloc(len ? len : 1);
    uint8_t *out = malloc(raw_len ? raw_len : 1);
    memcpy(blk, src, len);
    lmz_block_chunk ch[1];
    uint32_t n = 7;
    int mode = -1;
    lmz_err err;
    lmz_err_clear(&err);
    lmz_status st = lmz_block_parse(blk, len, raw_len, 2048, ch, &n, &mode, &err);
    if (st == LMZ_OK) {
        CHECK(lmz_block_mode_classical(mode));
        CHECK_EQ_INT(n, 0);
        st = lmz_classical_decode(blk, len, raw_len, out, &err);
        if (st == LMZ_OK && want)
            CHECK(memcmp(out, want, raw_len) == 0);
    }
    if (st != LMZ_OK) {
        CHECK_EQ_INT(st, LMZ_ERR_CORRUPT_BLOCK);
        CHECK(err.msg[0] != '\0');
    }
    free(blk);
    free(out);
    return st;
}

/* lmz_classical_decode alone on a heap copy of exactly len bytes. */
static lmz_status classical_decode_copy(const uint8_t *src, size_t len, uint32_t raw_len,
                                        const uint8_t *want)
{
    uint8_t *blk = malloc(len ? len : 1);
    uint8_t *out = malloc(raw_len ? raw_len : 1);
    memcpy(blk, src, len);
    lmz_err err;
    lmz_err_clear(&err);
    lmz_status st = lmz_classical_decode(blk, len, raw_len, out, &err);
    if (st == LMZ_OK && want)
        CHECK(memcmp(out, want, raw_len) == 0);
    if (st != LMZ_OK)
        CHECK(st == LMZ_ERR_CORRUPT_BLOCK && err.msg[0]);
    free(blk);
    free(out);
    return st;
}

/* Encode raw[0..n) with mode; returns the block in a heap buffer. */
static uint8_t *classical_block(int mode, const uint8_t *raw, uint32_t n, size_t *len)
{
    uint8_t *blk = malloc(n + 1);
    CHECK_EQ_INT(lmz_classical_encode(mode, raw, n, blk, n, len), 0);
    CHECK(*len <= n);
    CHECK_EQ_INT(blk[0], mode);
    return blk;
}

static void test_classical_round_trips(int mode)
{
    static const uint32_t sizes[] = {200, 2048, 5000, 65536, 131072};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        uint32_t n = sizes[k];
        uint8_t *raw = malloc(n);
        fill_text(raw, n, 100 + k);
        size_t len = 0, len2 = 0;
        uint8_t *blk = classical_block(mode, raw, n, &len);
        CHECK_EQ_INT(classical_copy(blk, len, n, raw), LMZ_OK);
        /* deterministic */
        uint8_t *again = classical_block(mode, raw, n, &len2);
        CHECK(len == len2 && memcmp(blk, again, len) == 0);
        /* the wrong raw length: one byte more or less */
        CHECK_EQ_INT(classical_copy(blk, len, n + 1, NULL), LMZ_ERR_CORRUPT_BLOCK);
        CHECK_EQ_INT(classical_copy(blk, len, n - 1, NULL), LMZ_ERR_CORRUPT_BLOCK);
        /* trailing garbage */
        uint8_t *longer = malloc(len + 1);
        memcpy(longer, blk, len);
        longer[len] = 0;
        CHECK_EQ_INT(classical_copy(longer, len + 1, n, NULL), LMZ_ERR_CORRUPT_BLOCK);
        longer[len] = 0x5a;
        CHECK_EQ_INT(classical_copy(longer, len + 1, n, NULL), LMZ_ERR_CORRUPT_BLOCK);
        /* every truncation of the small ones, a sample of the big ones */
        for (size_t cut = 0; cut < len; cut += len < 600 ? 1 : 97)
            CHECK_EQ_INT(classical_copy(blk, cut, n, NULL), LMZ_ERR_CORRUPT_BLOCK);
        free(longer);
        free(again);
        free(blk);
        free(raw);
    }
    /* Incompressible bytes do not fit below the stored form. */
    uint8_t rnd[4096], out[4096 + 1];
    size_t len = 0;
    tu_fill_random(rnd, sizeof rnd, 9);
    CHECK_EQ_INT(lmz_classical_encode(mode, rnd, sizeof rnd, out, sizeof rnd, &len), -1);
}

/* Every single-byte change of a small block is refused or decodes without
 * a crash or an over-read (the raw checksum judges what it decodes to). */
static void test_classical_mutations(int mode)
{
    uint32_t n = 3000;
    uint8_t raw[3000];
    fill_text(raw, n, 77);
    size_t len = 0;
    uint8_t *blk = classical_block(mode, raw, n, &len);
    uint8_t *m = malloc(len);
    int refused = 0;
    for (size_t i = 0; i < len; i++)
        for (int v = 0; v < 256; v += 5) {
            if (v == blk[i])
                continue;
            memcpy(m, blk, len);
            m[i] = (uint8_t)v;
            refused += classical_copy(m, len, n, NULL) != LMZ_OK;
        }
    CHECK(refused > 0);
    free(m);
    free(blk);
}

/* Rules a mutation cannot reach: hand-made headers. */
static void test_classical_rules(void)
{
    uint8_t raw[5000];
    fill_text(raw, sizeof raw, 5);
    size_t len = 0;
    /* LZMA2: the writer's dictionary is the smallest that holds the block;
     * a larger one is refused, a smaller one accepted. */
    CHECK_EQ_INT(lmz_lzma2_dict_prop(1), 0);
    CHECK_EQ_INT(lmz_lzma2_dict_size(0), 4096);
    CHECK_EQ_INT(lmz_lzma2_dict_size(1), 6144);
    CHECK_EQ_INT(lmz_lzma2_dict_prop(131072), 10);
    CHECK_EQ_INT(lmz_lzma2_dict_prop(131073), 11);
    CHECK_EQ_INT(lmz_lzma2_dict_size(40), 0xffffffffu);
    uint8_t *blk = classical_block(LMZ_BLOCK_LZMA2, raw, sizeof raw, &len);
    CHECK_EQ_INT(blk[1], lmz_lzma2_dict_prop(sizeof raw));
    blk[1]++;
    CHECK_EQ_INT(classical_copy(blk, len, sizeof raw, NULL), LMZ_ERR_CORRUPT_BLOCK);
    blk[1] = 41;
    CHECK_EQ_INT(classical_copy(blk, len, sizeof raw, NULL), LMZ_ERR_CORRUPT_BLOCK);
    free(blk);
    /* An LZMA2 stream of one stored chunk, by hand: control 1, size-1 BE,
     * the bytes, end byte (longer than a stored block, so straight to the
     * classical decoder). */
    uint8_t hand[] = {LMZ_BLOCK_LZMA2, 0, 0x01, 0x00, 0x02, 'a', 'b', 'c', 0x00};
    CHECK_EQ_INT(classical_decode_copy(hand, sizeof hand, 3, (const uint8_t *)"abc"), LMZ_OK);
    CHECK_EQ_INT(classical_decode_copy(hand, sizeof hand, 4, NULL), LMZ_ERR_CORRUPT_BLOCK);
    CHECK_EQ_INT(classical_decode_copy(hand, sizeof hand, 2, NULL), LMZ_ERR_CORRUPT_BLOCK);
    uint8_t bad_ctrl[] = {LMZ_BLOCK_LZMA2, 0, 0x03, 0x00, 0x02, 'a', 'b', 'c', 0x00};
    CHECK_EQ_INT(classical_decode_copy(bad_ctrl, sizeof bad_ctrl, 3, NULL), LMZ_ERR_CORRUPT_BLOCK);
    /* no end byte; a chunk running past the end */
    CHECK_EQ_INT(classical_decode_copy(hand, sizeof hand - 1, 3, NULL), LMZ_ERR_CORRUPT_BLOCK);
    CHECK_EQ_INT(classical_decode_copy(hand, sizeof hand - 2, 3, NULL), LMZ_ERR_CORRUPT_BLOCK);
    /* the first chunk does not reset the dictionary (control 2): the
     * structure is fine, liblzma refuses it */
    uint8_t no_reset[] = {LMZ_BLOCK_LZMA2, 0, 0x02, 0x00, 0x02, 'a', 'b', 'c', 0x00};
    CHECK_EQ_INT(classical_decode_copy(no_reset, sizeof no_reset, 3, NULL), LMZ_ERR_CORRUPT_BLOCK);

    /* zstd: content size must be recorded and equal raw_len; no dictionary. */
    blk = classical_block(LMZ_BLOCK_ZSTD, raw, sizeof raw, &len);
    CHECK_EQ_INT(classical_copy(blk, len, sizeof raw, raw), LMZ_OK);
    uint8_t *m = malloc(len);
    memcpy(m, blk, len);
    m[5] |= 0x01; /* dictionary ID flag */
    CHECK_EQ_INT(classical_copy(m, len, sizeof raw, NULL), LMZ_ERR_CORRUPT_BLOCK);
    memcpy(m, blk, len);
    m[5] |= 0x08; /* reserved bit */
    CHECK_EQ_INT(classical_copy(m, len, sizeof raw, NULL), LMZ_ERR_CORRUPT_BLOCK);
    memcpy(m, blk, len);
    m[1] ^= 0xff; /* magic */
    CHECK_EQ_INT(classical_copy(m, len, sizeof raw, NULL), LMZ_ERR_CORRUPT_BLOCK);
    free(m);
    free(blk);
    /* a frame without its content size (zstd's own writer, flag off) */
    uint8_t frame[6000];
    ZSTD_CCtx *c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
    size_t fl = ZSTD_compress2(c, frame + 1, sizeof frame - 1, raw, sizeof raw);
    ZSTD_freeCCtx(c);
    CHECK(!ZSTD_isError(fl));
    frame[0] = LMZ_BLOCK_ZSTD;
    CHECK_EQ_INT(classical_copy(frame, fl + 1, sizeof raw, NULL), LMZ_ERR_CORRUPT_BLOCK);
    /* two frames back to back */
    size_t one = 0;
    blk = classical_block(LMZ_BLOCK_ZSTD, raw, 2000, &one);
    uint8_t two[4000];
    memcpy(two, blk, one);
    memcpy(two + one, blk + 1, one - 1);
    CHECK_EQ_INT(classical_copy(two, 2 * one - 1, 4000, NULL), LMZ_ERR_CORRUPT_BLOCK);
    free(blk);
    /* A classical block is never longer than the stored form either. */
    uint8_t tiny[] = {LMZ_BLOCK_ZSTD, 1, 2, 3};
    CHECK_EQ_INT(classical_copy(tiny, sizeof tiny, 2, NULL), LMZ_ERR_CORRUPT_BLOCK);
    CHECK(strcmp(lmz_classical_name(LMZ_BLOCK_LZMA2), "lzma2") == 0);
    CHECK(strcmp(lmz_classical_name(LMZ_BLOCK_ZSTD), "zstd") == 0);
}

int main(void)
{
    test_sizes();
    test_round_trips();
    test_mutations();
    test_rules();
    for (int mode = LMZ_BLOCK_LZMA2; mode <= LMZ_BLOCK_ZSTD; mode++) {
        test_classical_round_trips(mode);
        test_classical_mutations(mode);
    }
    test_classical_rules();
    return tu_finish("block");
}
