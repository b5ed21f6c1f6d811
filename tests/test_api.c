/* test_api.c: the public API of include/lmz.h.
 *
 * One archive of four members (one streamed in pieces, one empty) in
 * blocks of two chunks, written through lmz_writer and, from files of the
 * same names, through lmz_compress_files: the two must be the same bytes.
 * Then reads across block and member edges, zero lengths, ranges past the
 * end, a damaged block (named, its neighbours still readable, verify
 * reporting it alone), NULL arguments, the chunk coder (round trip, and its
 * streams equal to those inside the archive's coded blocks), two threads
 * reading, and a writer freed unfinished leaving no file. */
#define _GNU_SOURCE /* memmem */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lmz.h"
#include "lmz_archive.h"
#include "lmz_block.h"
#include "testutil.h"

#define NMEM 4
static const char *const names[NMEM] = {"a.txt", "dir/b.txt", "empty", "c.txt"};
static const size_t sizes[NMEM] = {5000, 7001, 0, 300};
static uint8_t *data;   /* the members back to back */
static size_t total;
static size_t offs[NMEM];

static lmz_params params(void)
{
    lmz_params p;
    lmz_params_init(&p);
    p.model = "text-200k-1";   /* shipped: its blocks are really coded */
    p.codec = LMZ_CODEC_LM;    /* the model's blocks only */
    p.chunks_per_block = 2;    /* 4 KiB blocks: several of them */
    p.threads = 2;
    return p;
}

/* Text from the shared data, or made-up words when it is not there. */
static void make_data(void)
{
    for (int k = 0; k < NMEM; k++)
        total += sizes[k];
    data = malloc(total);
    char path[1024];
    size_t tlen = 0;
    uint8_t *text = tu_data_path("text/alice29.txt", path, sizeof path)
                        ? tu_read_file(path, &tlen) : NULL;
    if (text && tlen >= total) {
        memcpy(data, text, total);
    } else {
        static const char *const words[] = {"the ", "cat ", "sat ", "on ", "a ", "mat, ",
                                            "and ", "then ", "it ", "slept.\n"};
        uint64_t st = 7;
        for (size_t i = 0; i < total;) {
            const char *w = words[tu_rand(&st) % 10];
            for (size_t j = 0; w[j] && i < total; j++)
                data[i++] = (uint8_t)w[j];
        }
    }
    free(text);
    size_t o = 0;
    for (int k = 0; k < NMEM; k++) {
        offs[k] = o;
        o += sizes[k];
    }
}

static uint8_t *slurp(const char *path, size_t *n)
{
    *n = 0;
    return tu_read_file(path, n);
}

static int one_line(const lmz_error *e)
{
    return e->msg[0] && !strchr(e->msg, '\n');
}

/* ---- writing ---- */

static void test_write(const char *dir, char *arch, size_t cap)
{
    snprintf(arch, cap, "%s/w.lmz", dir);
    lmz_params p = params();
    lmz_error e;
    lmz_writer *w = lmz_writer_create(arch, &p, &e);
    CHECK(w != NULL);
    if (!w) {
        fprintf(stderr, "writer: %s\n", e.msg);
        return;
    }
    /* a.txt streamed in three pieces: the second and third continue it */
    CHECK_EQ_INT(lmz_writer_add(w, names[0], data, 1000, &e), LMZ_OK);
    CHECK_EQ_INT(lmz_writer_add(w, NULL, data + 1000, 3000, &e), LMZ_OK);
    CHECK_EQ_INT(lmz_writer_add(w, names[0], data + 4000, 1000, &e), LMZ_OK);
    CHECK_EQ_INT(lmz_writer_add(w, names[1], data + offs[1], sizes[1], &e), LMZ_OK);
    CHECK_EQ_INT(lmz_writer_add(w, names[2], NULL, 0, &e), LMZ_OK);
    /* refused, and the writer goes on */
    CHECK_EQ_INT(lmz_writer_add(w, names[0], data, 1, &e), LMZ_ERR_USAGE);
    CHECK(one_line(&e) && strstr(e.msg, "a.txt"));
    CHECK_EQ_INT(lmz_writer_add(w, "../evil", data, 1, &e), LMZ_ERR_UNSAFE_NAME);
    CHECK_EQ_INT(lmz_writer_add(w, "/abs", data, 1, &e), LMZ_ERR_UNSAFE_NAME);
    CHECK_EQ_INT(lmz_writer_add(w, names[3], data + offs[3], sizes[3], &e), LMZ_OK);
    lmz_stats st;
    CHECK_EQ_INT(lmz_writer_finish(w, &st, &e), LMZ_OK);
    CHECK_EQ_INT(st.raw_bytes, total);
    CHECK_EQ_INT(st.blocks, (total + 4095) / 4096);
    CHECK(st.mode_blocks[LMZ_MODE_MODEL] > 0);
    /* finished: only free is left */
    CHECK_EQ_INT(lmz_writer_add(w, "x", data, 1, &e), LMZ_ERR_USAGE);
    CHECK_EQ_INT(lmz_writer_finish(w, NULL, &e), LMZ_ERR_USAGE);
    lmz_writer_free(w);

    /* an existing archive is refused unless force */
    w = lmz_writer_create(arch, &p, &e);
    CHECK(w == NULL);
    CHECK_EQ_INT(e.code, LMZ_ERR_EXISTS);

    /* the same members as files, through lmz_compress_files: same bytes */
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK(chdir(dir) == 0);
    CHECK(mkdir("dir", 0755) == 0);
    for (int k = 0; k < NMEM; k++) {
        FILE *f = fopen(names[k], "wb");
        CHECK(f && fwrite(data + offs[k], 1, sizes[k], f) == sizes[k]);
        fclose(f);
        chmod(names[k], 0644);
    }
    CHECK_EQ_INT(lmz_compress_files(names, NMEM, "f.lmz", &p, &st, &e), LMZ_OK);
    CHECK(chdir(cwd) == 0);
    char farch[4200];
    snprintf(farch, sizeof farch, "%s/f.lmz", dir);
    size_t n1, n2;
    uint8_t *b1 = slurp(arch, &n1), *b2 = slurp(farch, &n2);
    CHECK(b1 && b2 && n1 == n2 && memcmp(b1, b2, n1) == 0);
    free(b1);
    free(b2);

    /* freed unfinished: nothing left, not even the temporary file */
    char gone[4200];
    snprintf(gone, sizeof gone, "%s/gone.lmz", dir);
    w = lmz_writer_create(gone, &p, &e);
    CHECK(w != NULL);
    CHECK_EQ_INT(lmz_writer_add(w, "x", data, 9000, &e), LMZ_OK); /* a batch or more coded */
    lmz_writer_free(w);
    CHECK(access(gone, F_OK) != 0);
    snprintf(gone, sizeof gone, "%s/.gone.lmz", dir);
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -q '^\\.gone\\.lmz'", dir);
    CHECK(system(cmd) != 0);
}

/* ---- reading ---- */

static void test_read(const char *arch)
{
    lmz_params p = params();
    lmz_error e;
    lmz_archive *a = lmz_archive_open(arch, &p, &e);
    CHECK(a != NULL);
    if (!a)
        return;
    lmz_archive_meta m;
    CHECK_EQ_INT(lmz_archive_get_meta(a, &m, &e), LMZ_OK);
    CHECK_EQ_INT(m.raw_size, total);
    CHECK_EQ_INT(lmz_archive_raw_size(a), total);
    CHECK_EQ_INT(m.nblocks, (total + 4095) / 4096);
    CHECK_EQ_INT(lmz_archive_nblocks(a), m.nblocks);
    CHECK_EQ_INT(m.nmembers, NMEM);
    CHECK_EQ_INT(m.chunk_size, 2048);
    CHECK_EQ_INT(m.chunks_per_block, 2);
    CHECK_EQ_INT(m.format_version, 1); /* --codec lm */
    CHECK_EQ_INT(m.model_embedded, 0);
    CHECK(!strcmp(m.model_name, "text-200k-1") && strlen(m.model_hash) == 32);
    CHECK(m.payload_size > 0 && m.payload_size < total && m.file_bytes > m.payload_size);

    /* members */
    for (int k = 0; k < NMEM; k++) {
        lmz_member_info mi;
        CHECK_EQ_INT(lmz_archive_member(a, (uint64_t)k, &mi, &e), LMZ_OK);
        CHECK(!strcmp(mi.name, names[k]));
        CHECK_EQ_INT(mi.offset, offs[k]);
        CHECK_EQ_INT(mi.size, sizes[k]);
        CHECK_EQ_INT(mi.mode, 0644);
        CHECK_EQ_INT(lmz_archive_find_member(a, names[k]), k);
        uint8_t *buf = malloc(sizes[k] + 1);
        size_t len = 99;
        CHECK_EQ_INT(lmz_archive_read_member(a, (uint64_t)k, buf, sizes[k], &len, &e), LMZ_OK);
        CHECK_EQ_INT(len, sizes[k]);
        CHECK(memcmp(buf, data + offs[k], sizes[k]) == 0);
        if (sizes[k])
            CHECK_EQ_INT(lmz_archive_read_member(a, (uint64_t)k, buf, sizes[k] - 1, &len, &e),
                         LMZ_ERR_RANGE);
        free(buf);
    }
    CHECK_EQ_INT(lmz_archive_find_member(a, "nope"), -1);
    lmz_member_info mi;
    CHECK_EQ_INT(lmz_archive_member(a, NMEM, &mi, &e), LMZ_ERR_RANGE);

    /* blocks */
    uint8_t *buf = malloc(total + 16);
    for (uint64_t b = 0; b < m.nblocks; b++) {
        lmz_block_info bi;
        CHECK_EQ_INT(lmz_archive_block_info(a, b, &bi, &e), LMZ_OK);
        CHECK_EQ_INT(bi.raw_offset, b * 4096);
        CHECK_EQ_INT(bi.mode, LMZ_MODE_MODEL);
        size_t len = 0;
        CHECK_EQ_INT(lmz_archive_read_block(a, b, buf, 4096, &len, &e), LMZ_OK);
        CHECK_EQ_INT(len, bi.raw_len);
        CHECK(memcmp(buf, data + bi.raw_offset, len) == 0);
        CHECK_EQ_INT(lmz_archive_read_block(a, b, buf, len - 1, &len, &e), LMZ_ERR_RANGE);
    }
    lmz_block_info bi;
    CHECK_EQ_INT(lmz_archive_block_info(a, m.nblocks, &bi, &e), LMZ_ERR_RANGE);
    size_t len;
    CHECK_EQ_INT(lmz_archive_read_block(a, m.nblocks, buf, total, &len, &e), LMZ_ERR_RANGE);
    CHECK(one_line(&e));

    /* whole, then ranges across every block and member edge, then random */
    memset(buf, 0, total);
    CHECK_EQ_INT(lmz_archive_read(a, 0, total, buf, &e), LMZ_OK);
    CHECK(memcmp(buf, data, total) == 0);
    uint64_t edges[] = {4096, 8192, 12288, offs[1], offs[3], 2048, 6144};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
        for (int lo = -3; lo <= 1; lo++) {
            uint64_t o = edges[i] + (uint64_t)(int64_t)lo;
            uint64_t l = o + 5 <= total ? 5 : total - o;
            memset(buf, 0xee, 8);
            CHECK_EQ_INT(lmz_archive_read(a, o, l, buf, &e), LMZ_OK);
            CHECK(memcmp(buf, data + o, l) == 0);
        }
    }
    uint64_t rs = 99;
    for (int i = 0; i < 40; i++) {
        uint64_t o = tu_rand(&rs) % total, l = tu_rand(&rs) % (total - o + 1) % 4097;
        CHECK_EQ_INT(lmz_archive_read(a, o, l, buf, &e), LMZ_OK);
        CHECK(memcmp(buf, data + o, l) == 0);
    }
    /* zero bytes anywhere up to the end; past it, or overflowing, a range error */
    CHECK_EQ_INT(lmz_archive_read(a, 0, 0, NULL, &e), LMZ_OK);
    CHECK_EQ_INT(lmz_archive_read(a, total, 0, buf, &e), LMZ_OK);
    CHECK_EQ_INT(lmz_archive_read(a, total + 1, 0, buf, &e), LMZ_ERR_RANGE);
    CHECK_EQ_INT(lmz_archive_read(a, 0, total + 1, buf, &e), LMZ_ERR_RANGE);
    CHECK(one_line(&e) && strstr(e.msg, "outside"));
    CHECK_EQ_INT(lmz_archive_read(a, UINT64_MAX, 2, buf, &e), LMZ_ERR_RANGE);
    CHECK_EQ_INT(lmz_archive_read(a, total - 1, UINT64_MAX, buf, &e), LMZ_ERR_RANGE);

    lmz_stats st;
    CHECK_EQ_INT(lmz_archive_verify(a, 1, NULL, NULL, &st, &e), LMZ_OK);
    CHECK_EQ_INT(st.blocks, m.nblocks);
    CHECK_EQ_INT(st.blocks_damaged, 0);
    free(buf);
    lmz_archive_close(a);
}

/* ---- a damaged block ---- */

typedef struct damage_log {
    int n;
    uint64_t block;
    int code;
} damage_log;

static void on_damage(void *ctx, uint64_t block, const lmz_error *why)
{
    damage_log *d = ctx;
    d->n++;
    d->block = block;
    d->code = why->code;
}

static void test_damage(const char *dir, const char *arch)
{
    /* flip a byte in the middle of block 1's payload, found in the file by
     * its bytes (whatever HDF5's layout) */
    char bad[4200];
    snprintf(bad, sizeof bad, "%s/bad.lmz", dir);
    size_t n = 0;
    uint8_t *file = slurp(arch, &n);
    lmz_afile *af = NULL;
    lmz_error e;
    CHECK_EQ_INT(lmz_afile_open(arch, &af, &e), LMZ_OK);
    if (!af || !file) {
        free(file);
        return;
    }
    uint64_t nb = 0;
    const lmz_index_entry *ix = lmz_afile_index(af, &nb);
    uint8_t *pay = malloc(ix[1].payload_len);
    CHECK_EQ_INT(lmz_afile_read_block(af, 1, pay, &e), LMZ_OK);
    uint8_t *at = memmem(file, n, pay, ix[1].payload_len);
    CHECK(at != NULL);
    if (at)
        at[ix[1].payload_len / 2] ^= 0x5a;
    FILE *f = fopen(bad, "wb");
    CHECK(f && fwrite(file, 1, n, f) == n);
    fclose(f);
    free(pay);
    free(file);
    const uint64_t b1 = ix[1].raw_offset, l1 = ix[1].raw_len;
    lmz_afile_close(af);

    lmz_params p = params();
    lmz_archive *a = lmz_archive_open(bad, &p, &e);
    CHECK(a != NULL);
    if (!a)
        return;
    uint8_t *buf = malloc(total);
    size_t len;
    CHECK_EQ_INT(lmz_archive_read_block(a, 1, buf, total, &len, &e), LMZ_ERR_CORRUPT_BLOCK);
    CHECK(one_line(&e) && strstr(e.msg, "block 1"));
    /* a range that only touches the damaged block's last byte */
    CHECK_EQ_INT(lmz_archive_read(a, b1 + l1 - 1, 2, buf, &e), LMZ_ERR_CORRUPT_BLOCK);
    CHECK(strstr(e.msg, "block 1") != NULL);
    /* the others read fine, before and after */
    CHECK_EQ_INT(lmz_archive_read_block(a, 0, buf, total, &len, &e), LMZ_OK);
    CHECK(memcmp(buf, data, len) == 0);
    CHECK_EQ_INT(lmz_archive_read_block(a, 2, buf, total, &len, &e), LMZ_OK);
    CHECK(memcmp(buf, data + 8192, len) == 0);
    CHECK_EQ_INT(lmz_archive_read(a, 0, b1, buf, &e), LMZ_OK);
    CHECK(memcmp(buf, data, b1) == 0);
    damage_log d = {0, 0, 0};
    lmz_stats st;
    CHECK_EQ_INT(lmz_archive_verify(a, 0, on_damage, &d, &st, &e), LMZ_ERR_CORRUPT_BLOCK);
    CHECK_EQ_INT(d.n, 1);
    CHECK_EQ_INT(d.block, 1);
    CHECK_EQ_INT(d.code, LMZ_ERR_CORRUPT_BLOCK);
    CHECK_EQ_INT(st.blocks_damaged, 1);
    CHECK(one_line(&e) && strstr(e.msg, "block 1"));
    free(buf);
    lmz_archive_close(a);
}

/* ---- errors and NULL ---- */

static void test_errors(const char *dir)
{
    lmz_error e;
    CHECK(!strcmp(lmz_version(), "0.1.0"));
    CHECK(!strcmp(lmz_status_name(LMZ_ERR_CORRUPT_BLOCK), "corrupt_block"));
    CHECK(!strcmp(lmz_status_name(LMZ_ERR_RANGE), "range"));
    CHECK(!strcmp(lmz_status_name(LMZ_OK), "ok"));
    CHECK(!strcmp(lmz_status_name(999), "unknown"));
    CHECK(!strcmp(lmz_status_name(-1), "unknown"));
    CHECK_EQ_INT(LMZ_ERR_TRUNCATED, 16); /* the numbers are the stable ones */

    char path[4200];
    snprintf(path, sizeof path, "%s/no/such.lmz", dir);
    CHECK(lmz_archive_open(path, NULL, &e) == NULL);
    CHECK_EQ_INT(e.code, LMZ_ERR_IO);
    CHECK(one_line(&e) && strstr(e.msg, "no/such.lmz"));
    CHECK(lmz_archive_open(path, NULL, NULL) == NULL); /* no error struct: fine */
    snprintf(path, sizeof path, "%s/a.txt", dir);
    CHECK(lmz_archive_open(path, NULL, &e) == NULL);
    CHECK_EQ_INT(e.code, LMZ_ERR_NOT_ARCHIVE);

    CHECK(lmz_archive_open(NULL, NULL, &e) == NULL);
    CHECK_EQ_INT(e.code, LMZ_ERR_USAGE);
    lmz_archive_close(NULL);
    lmz_writer_free(NULL);
    lmz_coder_free(NULL);
    lmz_params_init(NULL);
    CHECK_EQ_INT(lmz_archive_read(NULL, 0, 0, NULL, &e), LMZ_ERR_USAGE);
    CHECK_EQ_INT(lmz_archive_read(NULL, 0, 0, NULL, NULL), LMZ_ERR_USAGE);
    CHECK_EQ_INT(lmz_archive_verify(NULL, 0, NULL, NULL, NULL, &e), LMZ_ERR_USAGE);
    CHECK_EQ_INT(lmz_archive_get_meta(NULL, NULL, &e), LMZ_ERR_USAGE);
    CHECK_EQ_INT(lmz_archive_raw_size(NULL), 0);
    CHECK_EQ_INT(lmz_archive_nblocks(NULL), 0);
    CHECK_EQ_INT(lmz_archive_find_member(NULL, "x"), -1);
    CHECK_EQ_INT(lmz_writer_add(NULL, "x", "", 0, &e), LMZ_ERR_USAGE);
    CHECK_EQ_INT(lmz_writer_finish(NULL, NULL, &e), LMZ_ERR_USAGE);
    CHECK(lmz_writer_create(NULL, NULL, &e) == NULL);
    CHECK_EQ_INT(lmz_compress_files(NULL, 0, NULL, NULL, NULL, &e), LMZ_ERR_USAGE);
    CHECK_EQ_INT(lmz_chunk_encode(NULL, "", 0, NULL, 0, NULL, &e), LMZ_ERR_USAGE);
    CHECK_EQ_INT(lmz_chunk_decode(NULL, "", 0, NULL, 0, &e), LMZ_ERR_USAGE);
    CHECK(lmz_coder_chunk_size(NULL) == 0);
    CHECK_EQ_INT(lmz_decompress_archive(NULL, NULL, NULL, NULL, &e), LMZ_ERR_USAGE);

    /* bad params are named */
    lmz_params p;
    lmz_params_init(&p);
    p.device = (lmz_device)7;
    CHECK(lmz_writer_create("x.lmz", &p, &e) == NULL);
    CHECK_EQ_INT(e.code, LMZ_ERR_USAGE);
    CHECK(strstr(e.msg, "device") != NULL);
    lmz_params_init(&p);
    p.chunks_per_block = 5000;
    CHECK(lmz_coder_create(&p, &e) == NULL);
    CHECK_EQ_INT(e.code, LMZ_ERR_USAGE);
    lmz_params_init(&p);
    p.model = "no-such-model";
    CHECK(lmz_coder_create(&p, &e) == NULL);
    CHECK_EQ_INT(e.code, LMZ_ERR_MODEL_MISSING);
    CHECK(one_line(&e));
}

/* ---- chunks ---- */

static void test_chunks(const char *arch)
{
    lmz_params p = params();
    lmz_error e;
    lmz_coder *c = lmz_coder_create(&p, &e);
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK_EQ_INT(lmz_coder_chunk_size(c), 2048);
    lmz_archive *a = lmz_archive_open(arch, &p, &e);
    lmz_archive_meta m;
    CHECK_EQ_INT(lmz_archive_get_meta(a, &m, &e), LMZ_OK);
    CHECK(!strcmp(lmz_coder_model_hash(c), m.model_hash));
    lmz_archive_close(a);

    /* every chunk of the archive: the coder's stream is the block's */
    lmz_afile *af = NULL;
    CHECK_EQ_INT(lmz_afile_open(arch, &af, &e), LMZ_OK);
    uint64_t nb = 0;
    const lmz_index_entry *ix = lmz_afile_index(af, &nb);
    int compared = 0;
    for (uint64_t b = 0; b < nb; b++) {
        uint8_t pay[2 * 4096 + 64], stream[LMZ_CHUNK_BOUND(2048)], back[2048];
        CHECK_EQ_INT(lmz_afile_read_block(af, b, pay, &e), LMZ_OK);
        lmz_block_chunk ch[2];
        uint32_t nch = 0;
        int mode = -1;
        CHECK_EQ_INT(lmz_block_parse(pay, ix[b].payload_len, ix[b].raw_len, 2048, ch, &nch, &mode,
                                     &e),
                     LMZ_OK);
        for (uint32_t k = 0; k < nch; k++) {
            const uint8_t *raw = data + ix[b].raw_offset + (size_t)k * 2048;
            size_t len = 0;
            CHECK_EQ_INT(lmz_chunk_encode(c, raw, ch[k].raw_len, stream, sizeof stream, &len, &e),
                         LMZ_OK);
            if (!ch[k].stored) {
                CHECK(len == ch[k].len && memcmp(stream, pay + ch[k].offset, len) == 0);
                compared++;
            }
            memset(back, 0, sizeof back);
            CHECK_EQ_INT(lmz_chunk_decode(c, stream, len, back, ch[k].raw_len, &e), LMZ_OK);
            CHECK(memcmp(back, raw, ch[k].raw_len) == 0);
        }
    }
    CHECK(compared >= 4);
    lmz_afile_close(af);

    /* limits */
    uint8_t big[2049] = {0}, out[64];
    size_t len = 1;
    CHECK_EQ_INT(lmz_chunk_encode(c, big, 2049, out, sizeof out, &len, &e), LMZ_ERR_RANGE);
    CHECK(one_line(&e));
    CHECK_EQ_INT(lmz_chunk_encode(c, data, 2048, out, 4, &len, &e), LMZ_ERR_RANGE);
    CHECK_EQ_INT(lmz_chunk_encode(c, data, 0, out, sizeof out, &len, &e), LMZ_OK);
    CHECK_EQ_INT(len, 0);
    CHECK_EQ_INT(lmz_chunk_decode(c, out, 0, big, 2049, &e), LMZ_ERR_RANGE);
    /* garbage decodes to something, without failing */
    CHECK_EQ_INT(lmz_chunk_decode(c, "garbage", 7, big, 100, &e), LMZ_OK);
    lmz_coder_free(c);
}

/* ---- threads ---- */

typedef struct reader_job {
    const char *arch;
    lmz_archive *shared; /* NULL: open its own handle */
    uint64_t seed;
    int bad;
} reader_job;

static void *reader_main(void *arg)
{
    reader_job *j = arg;
    lmz_params p = params();
    p.threads = 1;
    lmz_error e;
    lmz_archive *a = j->shared ? j->shared : lmz_archive_open(j->arch, &p, &e);
    uint8_t *buf = malloc(total);
    if (!a || !buf) {
        j->bad++;
        free(buf);
        return NULL;
    }
    for (int i = 0; i < 6; i++) {
        uint64_t o = tu_rand(&j->seed) % total, l = tu_rand(&j->seed) % (total - o + 1);
        if (l > 3000)
            l = 3000;
        if (lmz_archive_read(a, o, l, buf, &e) != LMZ_OK || memcmp(buf, data + o, l) != 0)
            j->bad++;
    }
    if (!j->shared)
        lmz_archive_close(a);
    free(buf);
    return NULL;
}

static void test_threads(const char *arch)
{
    lmz_params p = params();
    lmz_error e;
    lmz_archive *shared = lmz_archive_open(arch, &p, &e);
    reader_job jobs[4] = {{arch, NULL, 1, 0}, {arch, NULL, 2, 0}, {arch, shared, 3, 0},
                          {arch, shared, 4, 0}};
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, reader_main, &jobs[i]);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ_INT(jobs[i].bad, 0);
    }
    lmz_archive_close(shared);
}

/* ---- decompress ---- */

static void test_decompress(const char *dir, const char *arch)
{
    char out[4200], path[4400];
    snprintf(out, sizeof out, "%s/out", dir);
    lmz_params p = params();
    lmz_error e;
    lmz_stats st;
    CHECK_EQ_INT(lmz_decompress_archive(arch, out, &p, &st, &e), LMZ_OK);
    for (int k = 0; k < NMEM; k++) {
        snprintf(path, sizeof path, "%s/%s", out, names[k]);
        size_t n = 0;
        uint8_t *b = slurp(path, &n);
        CHECK(b != NULL && n == sizes[k] && memcmp(b, data + offs[k], n) == 0);
        free(b);
    }
    /* a second time: the files exist */
    CHECK_EQ_INT(lmz_decompress_archive(arch, out, &p, &st, &e), LMZ_ERR_EXISTS);
    p.force = 1;
    CHECK_EQ_INT(lmz_decompress_archive(arch, out, &p, &st, &e), LMZ_OK);
}

int main(void)
{
    make_data();
    char *dir = tu_mkdtemp();
    char arch[4200];
    test_write(dir, arch, sizeof arch);
    test_read(arch);
    test_damage(dir, arch);
    test_errors(dir);
    test_chunks(arch);
    test_threads(arch);
    test_decompress(dir, arch);
    tu_rmtree(dir);
    free(dir);
    free(data);
    return tu_finish("api");
}
