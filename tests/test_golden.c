/* Golden vectors: a tiny committed model, inputs, the expected frequency
 * tables (as hashes) and archives, made once by scripts/make-golden.sh with
 * arithmetic version 1 and never regenerated. A kernel, coder or format
 * change that would make old archives undecodable fails here, not silently
 * in round trips (which would pass with the new arithmetic on both sides).
 *
 * test_golden --write-tables DIR writes DIR/tables.txt (make-golden.sh only). */
#include <string.h>
#include <xxhash.h>

#include "lmz_archive.h"
#include "lmz_block.h"
#include "lmz_infer.h"
#include "lmz_modelfile.h"
#include "lmz_pipeline.h"
#include "testutil.h"

/* The committed model's hash: if this changes, the model file or the hash
 * definition changed, and old archives would no longer find their model. */
#define GOLDEN_TINY_HASH_FILE "tests/golden/v1/tiny.lmzm"

static char dir[1024];

static const char *gpath(const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", dir, name);
    return buf;
}

/* XXH64 of the n*256 tables of one chunk, as little-endian u16. */
static uint64_t tables_hash(const lmz_model *m, lmz_scratch *s, const uint8_t *data, int n)
{
    uint16_t *tables = malloc((size_t)n * 256 * sizeof *tables);
    uint16_t *cum = malloc((size_t)n * sizeof *cum), *freq = malloc((size_t)n * sizeof *freq);
    lmz_forward_chunk(m, s, data, n, cum, freq, tables);
    uint8_t *le = malloc((size_t)n * 512);
    for (size_t i = 0; i < (size_t)n * 256; i++) {
        le[2 * i] = (uint8_t)tables[i];
        le[2 * i + 1] = (uint8_t)(tables[i] >> 8);
    }
    uint64_t h = XXH64(le, (size_t)n * 512, 0);
    free(le);
    free(tables);
    free(cum);
    free(freq);
    return h;
}

static int write_tables(const char *outdir)
{
    char p[1200];
    snprintf(dir, sizeof dir, "%s", outdir);
    lmz_model *m = NULL;
    lmz_err err;
    if (lmz_model_load(gpath("tiny.lmzm", p, sizeof p), &m, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    size_t n = 0;
    uint8_t *data = tu_read_file(gpath("sampled.bin", p, sizeof p), &n);
    FILE *f = fopen(gpath("tables.txt", p, sizeof p), "w");
    if (!data || !f)
        return 1;
    lmz_scratch *s = lmz_scratch_create(&m->cfg);
    for (size_t off = 0; off < n; off += (size_t)m->cfg.ctx) {
        int len = (int)(n - off < (size_t)m->cfg.ctx ? n - off : (size_t)m->cfg.ctx);
        fprintf(f, "%016llx\n", (unsigned long long)tables_hash(m, s, data + off, len));
    }
    fclose(f);
    lmz_scratch_free(s);
    free(data);
    lmz_model_free(m);
    return 0;
}

/* Every block of archive a (decoded with the default search) equals want. */
static void check_archive_decodes(const char *archive, const uint8_t *want, size_t n)
{
    char *tmp = tu_mkdtemp();
    char out[1200];
    snprintf(out, sizeof out, "%s/out.bin", tmp);
    lmz_err err;
    lmz_status rc = tu_decompress_one(archive, out, &err);
    if (rc)
        fprintf(stderr, "decompress %s: %s\n", archive, err.msg);
    CHECK_EQ_INT(rc, LMZ_OK);
    CHECK(tu_file_equals(out, want, n));
    tu_rmtree(tmp);
    free(tmp);
}

/* Count the coded (not stored) chunks of an archive: the vectors must
 * exercise the range coder, not only the stored path. */
static int coded_chunks(const char *archive)
{
    lmz_afile *a = NULL;
    lmz_err err;
    if (lmz_afile_open(archive, &a, &err))
        return -1;
    uint64_t nb = 0;
    const lmz_index_entry *ix = lmz_afile_index(a, &nb);
    const lmz_archive_info *info = lmz_afile_info(a);
    int coded = 0;
    for (uint64_t b = 0; b < nb; b++) {
        uint8_t *buf = malloc(ix[b].payload_len);
        lmz_block_chunk ch[4096];
        uint32_t nc = 0;
        int stored = 0;
        if (lmz_afile_read_block(a, b, buf, &err) == LMZ_OK &&
            lmz_block_parse(buf, ix[b].payload_len, ix[b].raw_len, info->chunk_size, ch, &nc, &stored,
                            &err) == LMZ_OK && !stored)
            for (uint32_t c = 0; c < nc; c++)
                coded += !ch[c].stored;
        free(buf);
    }
    lmz_afile_close(a);
    return coded;
}

/* Compressing the input again gives the golden archive's payload bytes. */
static void check_recompress_payload(const char *golden, const char *input, const char *model)
{
    char *tmp = tu_mkdtemp();
    char out[1200];
    snprintf(out, sizeof out, "%s/re.lmz", tmp);
    lmz_err err;
    /* LMZ_CODEC_LM: format 1, the model only, as these were made */
    lmz_status rc = tu_compress_one(input, out, model, LMZ_CODEC_LM, NULL, &err);
    if (rc)
        fprintf(stderr, "compress: %s\n", err.msg);
    CHECK_EQ_INT(rc, LMZ_OK);
    lmz_afile *a = NULL, *b = NULL;
    CHECK_EQ_INT(lmz_afile_open(golden, &a, &err), LMZ_OK);
    CHECK_EQ_INT(lmz_afile_open(out, &b, &err), LMZ_OK);
    if (a && b) {
        uint64_t na = 0, nb = 0;
        const lmz_index_entry *ia = lmz_afile_index(a, &na);
        const lmz_index_entry *ib = lmz_afile_index(b, &nb);
        CHECK_EQ_INT(na, nb);
        CHECK_EQ_INT(lmz_afile_info(a)->payload_size, lmz_afile_info(b)->payload_size);
        for (uint64_t k = 0; k < na && k < nb; k++) {
            CHECK_EQ_INT(ia[k].payload_xxh64, ib[k].payload_xxh64);
            CHECK_EQ_INT(ia[k].raw_xxh64, ib[k].raw_xxh64);
        }
        CHECK(strcmp(lmz_afile_info(a)->model_hash, lmz_afile_info(b)->model_hash) == 0);
    }
    if (a)
        lmz_afile_close(a);
    if (b)
        lmz_afile_close(b);
    tu_rmtree(tmp);
    free(tmp);
}

/* Blocks of each mode (lmz_block.h) in an archive, and its format. */
static int mode_counts(const char *archive, uint64_t counts[4], uint32_t *format)
{
    lmz_afile *a = NULL;
    lmz_err err;
    memset(counts, 0, 4 * sizeof *counts);
    if (lmz_afile_open(archive, &a, &err))
        return -1;
    uint64_t nb = 0;
    lmz_afile_index(a, &nb);
    *format = lmz_afile_info(a)->format_version;
    for (uint64_t b = 0; b < nb; b++) {
        uint8_t mode = 0xff;
        if (lmz_afile_peek_mode(a, b, &mode, &err) == LMZ_OK && mode < 4)
            counts[mode]++;
    }
    lmz_afile_close(a);
    return (int)nb;
}

/* 5. Format 2 (tests/golden/format2): classical blocks made once decode
 * forever, and verify (which decodes them) passes. They are not encoded
 * again: LZMA2 and zstd output may change with the library's version. */
static void check_format2(void)
{
    char d2[1024], p[1200], q[1200];
    tu_source_path("tests/golden/format2", d2, sizeof d2);
    snprintf(q, sizeof q, "%s/mixed.bin", d2);
    size_t n = 0;
    uint8_t *data = tu_read_file(q, &n);
    CHECK(data && n == 20480);
    static const char *const names[] = {"mixed.lmz", "zstd.lmz", "lzma2.lmz"};
    for (int k = 0; data && k < 3; k++) {
        snprintf(p, sizeof p, "%s/%s", d2, names[k]);
        check_archive_decodes(p, data, n);
        uint64_t c[4];
        uint32_t format = 0;
        int nb = mode_counts(p, c, &format);
        CHECK_EQ_INT(format, 2);
        if (k == 0) /* coded by the model, by zstd and stored */
            CHECK(nb == 10 && c[LMZ_BLOCK_CODED] >= 2 && c[LMZ_BLOCK_ZSTD] >= 2 &&
                  c[LMZ_BLOCK_STORED] >= 1);
        else
            CHECK_EQ_INT(c[k == 1 ? LMZ_BLOCK_ZSTD : LMZ_BLOCK_LZMA2], (uint64_t)nb);
        lmz_common_opts co;
        memset(&co, 0, sizeof co);
        lmz_err err;
        CHECK_EQ_INT(lmz_verify(p, &co, 0, NULL, NULL, &err), LMZ_OK);
    }
    free(data);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--write-tables"))
        return write_tables(argv[2]);
    tu_source_path("tests/golden/v1", dir, sizeof dir);
    char p[1200], q[1200];
    setenv("LMZ_MODEL_PATH", "", 1);

    /* 1. the committed model loads and keeps its hash */
    lmz_model *m = NULL;
    lmz_err err;
    lmz_status rc = lmz_model_load(gpath("tiny.lmzm", p, sizeof p), &m, &err);
    if (rc) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    size_t hn = 0;
    char *want_hash = (char *)tu_read_file(gpath("tiny.hash", q, sizeof q), &hn);
    char hex[33];
    lmz_model_hash_hex(m, hex);
    CHECK(want_hash && hn >= 32 && memcmp(want_hash, hex, 32) == 0);
    free(want_hash);

    /* 2. the frequency tables of every chunk are the recorded ones */
    size_t n = 0;
    uint8_t *data = tu_read_file(gpath("sampled.bin", p, sizeof p), &n);
    FILE *tf = fopen(gpath("tables.txt", q, sizeof q), "r");
    CHECK(data && tf);
    lmz_scratch *s = lmz_scratch_create(&m->cfg);
    int chunks = 0;
    for (size_t off = 0; data && tf && off < n; off += (size_t)m->cfg.ctx, chunks++) {
        int len = (int)(n - off < (size_t)m->cfg.ctx ? n - off : (size_t)m->cfg.ctx);
        unsigned long long want = 0;
        CHECK(fscanf(tf, "%llx", &want) == 1);
        CHECK_EQ_INT(tables_hash(m, s, data + off, len), want);
    }
    CHECK(chunks >= 3);
    if (tf)
        fclose(tf);
    lmz_scratch_free(s);

    /* 3. the golden archives decode, and exercise the coder */
    check_archive_decodes(gpath("sampled-embedded.lmz", p, sizeof p), data, n);
    CHECK(coded_chunks(p) >= 2);
    size_t bn = 0;
    uint8_t *bdata = tu_read_file(gpath("builtin.bin", q, sizeof q), &bn);
    CHECK(bdata != NULL);
    if (bdata) {
        check_archive_decodes(gpath("builtin.lmz", p, sizeof p), bdata, bn);
        CHECK(coded_chunks(p) >= 1);
    }

    /* 4. compressing again gives the same payload bytes */
    char model_path[1200];
    gpath("tiny.lmzm", model_path, sizeof model_path);
    check_recompress_payload(gpath("sampled-embedded.lmz", p, sizeof p),
                             gpath("sampled.bin", q, sizeof q), model_path);
    char bpath[1200];
    check_recompress_payload(gpath("builtin.lmz", p, sizeof p), gpath("builtin.bin", bpath, sizeof bpath),
                             "random-tiny");
    free(bdata);
    free(data);
    lmz_model_free(m);
    check_format2();
    return tu_finish("golden");
}
