/* test_block.c: block assembly and parsing (host/block.c), including every
 * single-byte mutation and every truncation of valid blocks. Blocks under
 * test sit in heap buffers of their exact size, so an over-read shows under
 * AddressSanitizer. */
#include <string.h>

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
            else if (i == 0 && v > 1)
                CHECK_EQ_INT(st, LMZ_ERR_CORRUPT_BLOCK);
            else if (i >= header)
                CHECK_EQ_INT(st, LMZ_OK);
            /* (a stored block relabelled coded: anything goes, no crash) */
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
    uint8_t mode2[] = {2, 1, 2, 3};
    CHECK_EQ_INT(parse_copy(mode2, sizeof mode2, 3, 4), LMZ_ERR_CORRUPT_BLOCK);
    /* Stored block of the right length, and one byte short. */
    uint8_t stored[] = {1, 1, 2, 3};
    CHECK_EQ_INT(parse_copy(stored, sizeof stored, 3, 4), LMZ_OK);
    CHECK_EQ_INT(parse_copy(stored, sizeof stored, 4, 4), LMZ_ERR_CORRUPT_BLOCK);
    /* Bad chunk sizes. */
    CHECK_EQ_INT(parse_copy(stored, sizeof stored, 3, 0), LMZ_ERR_CORRUPT_BLOCK);
    CHECK_EQ_INT(parse_copy(stored, sizeof stored, 3, 65537), LMZ_ERR_CORRUPT_BLOCK);
}

int main(void)
{
    test_sizes();
    test_round_trips();
    test_mutations();
    test_rules();
    return tu_finish("block");
}
