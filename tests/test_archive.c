/* test_archive.c: the HDF5 archive (host/archive_*.c): round trips with
 * synthetic blocks, deterministic bytes, the temporary-file protocol, and
 * the reader's answers to damaged, truncated, foreign and newer files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include "archive_priv.h"
#include "lmz_archive.h"
#include "lmz_block.h"
#include "lmz_modelfile.h"
#include "testh5.h"
#include "testutil.h"

#define CHUNK 256
#define CPB 4
#define BLOCK (CHUNK * CPB)

static char *dir;

/* HDF5 1.10 leaks a little memory when opening an object whose metadata
 * fails its checksum (test_flip_everywhere does that on purpose); lmz closes
 * every identifier it opens. The sanitizer run suppresses exactly those
 * leaks for every test: tests/lsan.supp, set by scripts/test.sh. */

static const char *path_in(const char *name, char *buf)
{
    snprintf(buf, 1024, "%s/%s", dir, name);
    return buf;
}

static int file_exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* Number of entries in dir, "." and ".." aside. */
static int dir_entries(const char *d)
{
    DIR *dp = opendir(d);
    int n = 0;
    struct dirent *e;
    while (dp && (e = readdir(dp)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    if (dp)
        closedir(dp);
    return n;
}

static void remove_all_in_dir(void)
{
    DIR *dp = opendir(dir);
    struct dirent *e;
    char p[1024];
    while (dp && (e = readdir(dp)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            unlink(path_in(e->d_name, p));
    if (dp)
        closedir(dp);
}

/* ---- a synthetic archive ---- */

typedef struct synth {
    uint8_t *raw;
    uint32_t raw_len;
    uint32_t nblocks;
    uint8_t *blocks[64];
    size_t block_len[64];
    lmz_member members[8];
    size_t nmembers;
} synth;

/* raw_len bytes cut into blocks of BLOCK; block b's payload is a stored
 * block when b is even and some "coded" bytes of another length when odd
 * (the archive does not look inside blocks). Members split the raw stream. */
static void synth_init(synth *s, uint32_t raw_len, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->raw_len = raw_len;
    s->raw = malloc(raw_len + 1);
    tu_fill_random(s->raw, raw_len, seed);
    for (uint32_t off = 0; off < raw_len; off += BLOCK) {
        uint32_t len = raw_len - off < BLOCK ? raw_len - off : BLOCK;
        uint32_t b = s->nblocks++;
        if (b % 2 == 0) {
            s->blocks[b] = malloc(lmz_block_bound(len));
            s->block_len[b] = lmz_block_bound(len);
            s->blocks[b][0] = LMZ_BLOCK_STORED;
            memcpy(s->blocks[b] + 1, s->raw + off, len);
        } else {
            s->block_len[b] = 1 + len / 2;
            s->blocks[b] = malloc(s->block_len[b]);
            tu_fill_random(s->blocks[b], s->block_len[b], seed + b);
        }
    }
    static const char *const names[] = {"top.txt", "dir/a.bin", "dir/sub/deep/b", "z"};
    uint64_t off = 0;
    for (size_t k = 0; k < 4 && raw_len; k++) {
        uint64_t size = k == 3 ? raw_len - off : raw_len / 4;
        s->members[k] = (lmz_member){(char *)names[k], off, size, k == 2 ? 0755 : 0644};
        off += size;
        s->nmembers++;
    }
}

static void synth_free(synth *s)
{
    free(s->raw);
    for (uint32_t b = 0; b < s->nblocks; b++)
        free(s->blocks[b]);
}

static void info_init(lmz_archive_info *info)
{
    memset(info, 0, sizeof *info);
    info->arith_version = LMZ_ARITH_VERSION;
    info->chunk_size = CHUNK;
    info->chunks_per_block = CPB;
    strcpy(info->kind, "bytes");
    strcpy(info->model_hash, "0123456789abcdef0123456789abcdef");
    strcpy(info->model_name, "random-tiny");
    info->model_bytes = 12345;
}

static lmz_status append_all(lmz_archive_writer *w, const synth *s, lmz_err *err)
{
    for (uint32_t b = 0; b < s->nblocks; b++) {
        uint32_t off = b * BLOCK;
        uint32_t len = s->raw_len - off < BLOCK ? s->raw_len - off : BLOCK;
        lmz_status st = lmz_archive_append_block(w, s->blocks[b], s->block_len[b], len,
                                                 XXH64(s->raw + off, len, 0), err);
        if (st != LMZ_OK)
            return st;
    }
    return LMZ_OK;
}

static lmz_status write_synth(const char *path, const synth *s, int force,
                              const lmz_model *embed, lmz_err *err)
{
    lmz_archive_writer *w;
    lmz_status st = lmz_archive_create(path, force, &w, err);
    if (st != LMZ_OK)
        return st;
    lmz_archive_info info;
    info_init(&info);
    st = append_all(w, s, err);
    if (st == LMZ_OK)
        st = lmz_archive_finish(w, &info, s->members, s->nmembers, embed, err);
    if (st != LMZ_OK)
        lmz_archive_abort(w);
    return st;
}

static lmz_status open_status(const char *path, lmz_err *err)
{
    lmz_afile *a = NULL;
    lmz_status st = lmz_afile_open(path, &a, err);
    lmz_afile_close(a);
    return st;
}

/* ---- round trips ---- */

static void check_contents(const char *path, const synth *s)
{
    lmz_afile *a = NULL;
    lmz_err err;
    CHECK_EQ_INT(lmz_afile_open(path, &a, &err), LMZ_OK);
    if (!a) {
        fprintf(stderr, "open: %s\n", err.msg);
        return;
    }
    const lmz_archive_info *info = lmz_afile_info(a);
    /* the version the blocks need: 2 when one has a classical mode */
    int classical = 0;
    for (uint32_t b = 0; b < s->nblocks; b++)
        classical |= lmz_block_mode_classical(s->blocks[b][0]);
    CHECK_EQ_INT(info->format_version, classical ? 2 : 1);
    CHECK_EQ_INT(info->arith_version, LMZ_ARITH_VERSION);
    CHECK_EQ_INT(info->chunk_size, CHUNK);
    CHECK_EQ_INT(info->chunks_per_block, CPB);
    CHECK(strcmp(info->kind, "bytes") == 0);
    CHECK_EQ_INT(info->raw_size, s->raw_len);
    CHECK_EQ_INT(info->nblocks, s->nblocks);
    CHECK_EQ_INT(info->model_bytes, 12345);
    CHECK(strcmp(info->tool_version, "") != 0);
    uint64_t nb;
    const lmz_index_entry *idx = lmz_afile_index(a, &nb);
    CHECK_EQ_INT(nb, s->nblocks);
    uint64_t payload = 0;
    for (uint32_t b = 0; b < nb && b < s->nblocks; b++) {
        uint32_t off = b * BLOCK;
        uint32_t len = s->raw_len - off < BLOCK ? s->raw_len - off : BLOCK;
        CHECK_EQ_INT(idx[b].raw_offset, off);
        CHECK_EQ_INT(idx[b].raw_len, len);
        CHECK_EQ_INT(idx[b].payload_offset, payload);
        CHECK_EQ_INT(idx[b].payload_len, s->block_len[b]);
        CHECK(idx[b].raw_xxh64 == XXH64(s->raw + off, len, 0));
        uint8_t *buf = malloc(idx[b].payload_len);
        CHECK_EQ_INT(lmz_afile_read_block(a, b, buf, &err), LMZ_OK);
        CHECK(memcmp(buf, s->blocks[b], s->block_len[b]) == 0);
        free(buf);
        payload += s->block_len[b];
    }
    CHECK_EQ_INT(info->payload_size, payload);
    uint8_t one;
    CHECK_EQ_INT(lmz_afile_read_block(a, nb, &one, &err), LMZ_ERR_RANGE);
    size_t nm;
    const lmz_member *m = lmz_afile_members(a, &nm);
    CHECK_EQ_INT(nm, s->nmembers);
    for (size_t k = 0; k < nm && k < s->nmembers; k++) {
        CHECK(strcmp(m[k].name, s->members[k].name) == 0);
        CHECK_EQ_INT(m[k].offset, s->members[k].offset);
        CHECK_EQ_INT(m[k].size, s->members[k].size);
        CHECK_EQ_INT(m[k].mode, s->members[k].mode);
    }
    lmz_model *model = NULL;
    CHECK_EQ_INT(lmz_afile_read_model(a, &model, &err), LMZ_ERR_MODEL_MISSING);
    lmz_afile_close(a);
}

static void test_round_trip(void)
{
    char p[1024];
    synth s;
    lmz_err err;
    /* Six blocks, the last partial. */
    synth_init(&s, 5 * BLOCK + 77, 1);
    CHECK_EQ_INT(write_synth(path_in("rt.lmz", p), &s, 0, NULL, &err), LMZ_OK);
    check_contents(p, &s);
    synth_free(&s);
    /* Exactly full blocks. */
    synth_init(&s, 3 * BLOCK, 2);
    CHECK_EQ_INT(write_synth(path_in("full.lmz", p), &s, 0, NULL, &err), LMZ_OK);
    check_contents(p, &s);
    synth_free(&s);
    /* Empty input: no blocks, one empty member; and no members at all. */
    synth_init(&s, 0, 3);
    s.members[0] = (lmz_member){"empty", 0, 0, 0600};
    s.nmembers = 1;
    CHECK_EQ_INT(write_synth(path_in("empty.lmz", p), &s, 0, NULL, &err), LMZ_OK);
    check_contents(p, &s);
    s.nmembers = 0;
    CHECK_EQ_INT(write_synth(path_in("nothing.lmz", p), &s, 0, NULL, &err), LMZ_OK);
    check_contents(p, &s);
    synth_free(&s);
    /* More payload than one 1 MiB storage chunk: 9 blocks of 256 KiB. */
    lmz_archive_writer *w;
    CHECK_EQ_INT(lmz_archive_create(path_in("big.lmz", p), 0, &w, &err), LMZ_OK);
    uint32_t big = 65536 * 4;
    uint8_t *blk = malloc(big + 1);
    uint64_t sum = 0;
    for (int b = 0; b < 9; b++) {
        tu_fill_random(blk, big + 1, 200 + b);
        blk[0] = LMZ_BLOCK_STORED;
        CHECK_EQ_INT(lmz_archive_append_block(w, blk, big + 1, big, XXH64(blk + 1, big, 0), &err),
                     LMZ_OK);
        sum += big;
    }
    lmz_archive_info info;
    info_init(&info);
    info.chunk_size = 65536;
    lmz_member mem = {"big", 0, sum, 0644};
    CHECK_EQ_INT(lmz_archive_finish(w, &info, &mem, 1, NULL, &err), LMZ_OK);
    lmz_afile *a = NULL;
    CHECK_EQ_INT(lmz_afile_open(p, &a, &err), LMZ_OK);
    for (int b = 0; a && b < 9; b++) {
        tu_fill_random(blk, big + 1, 200 + b);
        blk[0] = LMZ_BLOCK_STORED;
        uint8_t *got = malloc(big + 1);
        CHECK_EQ_INT(lmz_afile_read_block(a, (uint64_t)b, got, &err), LMZ_OK);
        CHECK(memcmp(got, blk, big + 1) == 0);
        free(got);
    }
    lmz_afile_close(a);
    free(blk);
}

/* format_version is what the blocks need: 1 without a classical block
 * (what a format-1 reader reads), 2 with one. */
static void test_format_version(void)
{
    char p[1024];
    path_in("fv.lmz", p);
    for (int mode = 0; mode < 4; mode++) {
        synth s;
        synth_init(&s, 3 * BLOCK + 10, 40 + mode);
        for (uint32_t b = 1; b < s.nblocks; b += 2)
            s.blocks[b][0] = LMZ_BLOCK_CODED;
        s.blocks[1][0] = (uint8_t)mode;
        lmz_err err;
        CHECK_EQ_INT(write_synth(p, &s, 1, NULL, &err), LMZ_OK);
        lmz_afile *a = NULL;
        CHECK_EQ_INT(lmz_afile_open(p, &a, &err), LMZ_OK);
        if (a)
            CHECK_EQ_INT(lmz_afile_info(a)->format_version, mode >= 2 ? 2 : 1);
        lmz_afile_close(a);
        check_contents(p, &s);
        synth_free(&s);
    }
}

static void test_embedded_model(void)
{
    char p[1024];
    synth s;
    lmz_err err;
    lmz_model *m = NULL;
    CHECK_EQ_INT(lmz_model_builtin("random-tiny", &m, &err), LMZ_OK);
    if (!m)
        return;
    strcpy(m->name, "my-own");
    synth_init(&s, 2 * BLOCK + 3, 5);
    CHECK_EQ_INT(write_synth(path_in("embed.lmz", p), &s, 0, m, &err), LMZ_OK);
    lmz_afile *a = NULL;
    CHECK_EQ_INT(lmz_afile_open(p, &a, &err), LMZ_OK);
    if (a) {
        const lmz_archive_info *info = lmz_afile_info(a);
        char hex[33];
        lmz_model_hash_hex(m, hex);
        CHECK_EQ_INT(info->model_embedded, 1);
        CHECK(strcmp(info->model_hash, hex) == 0);
        /* The caller's name wins over the model's own. */
        CHECK(strcmp(info->model_name, "random-tiny") == 0);
        lmz_model *got = NULL;
        CHECK_EQ_INT(lmz_afile_read_model(a, &got, &err), LMZ_OK);
        CHECK(got && memcmp(got->hash, m->hash, 16) == 0);
        CHECK(got && strcmp(got->name, "my-own") == 0);
        lmz_model_free(got);
        lmz_afile_close(a);
    }
    /* Same bytes on a second write, with the model too. */
    char p2[1024];
    sleep(1); /* a time stamp, if one slipped in, would now differ */
    CHECK_EQ_INT(write_synth(path_in("embed2.lmz", p2), &s, 0, m, &err), LMZ_OK);
    size_t n1 = 0, n2 = 0;
    uint8_t *b1 = tu_read_file(p, &n1), *b2 = tu_read_file(p2, &n2);
    CHECK(b1 && b2 && n1 == n2 && memcmp(b1, b2, n1) == 0);
    free(b1);
    free(b2);
    synth_free(&s);
    lmz_model_free(m);
}

static void test_deterministic(void)
{
    char p1[1024], p2[1024];
    synth s;
    lmz_err err;
    synth_init(&s, 7 * BLOCK + 100, 6);
    CHECK_EQ_INT(write_synth(path_in("det1.lmz", p1), &s, 0, NULL, &err), LMZ_OK);
    sleep(1);
    CHECK_EQ_INT(write_synth(path_in("det2.lmz", p2), &s, 0, NULL, &err), LMZ_OK);
    size_t n1 = 0, n2 = 0;
    uint8_t *b1 = tu_read_file(p1, &n1), *b2 = tu_read_file(p2, &n2);
    CHECK(b1 && b2 && n1 == n2 && memcmp(b1, b2, n1) == 0);
    /* A small archive stays small (no 1 MiB storage chunk). */
    CHECK(n1 < 16384);
    free(b1);
    free(b2);
    synth_free(&s);
}

/* ---- the temporary file and the target ---- */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

static int file_has_text(const char *path, const char *text)
{
    size_t n = 0;
    uint8_t *b = tu_read_file(path, &n);
    int ok = b && n == strlen(text) && memcmp(b, text, n) == 0;
    free(b);
    return ok;
}

static void test_no_clobber(void)
{
    remove_all_in_dir();
    char p[1024];
    synth s;
    lmz_err err;
    synth_init(&s, BLOCK + 1, 7);
    path_in("target.lmz", p);
    write_text(p, "keep me");
    /* Refused at create. */
    CHECK_EQ_INT(write_synth(p, &s, 0, NULL, &err), LMZ_ERR_EXISTS);
    CHECK(file_has_text(p, "keep me"));
    CHECK_EQ_INT(dir_entries(dir), 1);
    /* A file that appears while the archive is written: refused at finish. */
    unlink(p);
    lmz_archive_writer *w;
    CHECK_EQ_INT(lmz_archive_create(p, 0, &w, &err), LMZ_OK);
    CHECK_EQ_INT(append_all(w, &s, &err), LMZ_OK);
    write_text(p, "appeared");
    lmz_archive_info info;
    info_init(&info);
    CHECK_EQ_INT(lmz_archive_finish(w, &info, s.members, s.nmembers, NULL, &err),
                 LMZ_ERR_EXISTS);
    CHECK(strstr(err.msg, "target.lmz") != NULL);
    lmz_archive_abort(w);
    CHECK(file_has_text(p, "appeared"));
    CHECK_EQ_INT(dir_entries(dir), 1);
    /* With force it is replaced. */
    CHECK_EQ_INT(write_synth(p, &s, 1, NULL, &err), LMZ_OK);
    check_contents(p, &s);
    CHECK_EQ_INT(dir_entries(dir), 1);
    synth_free(&s);
}

static void test_abort(void)
{
    remove_all_in_dir();
    char p[1024];
    synth s;
    lmz_err err;
    synth_init(&s, 3 * BLOCK, 8);
    lmz_archive_writer *w;
    CHECK_EQ_INT(lmz_archive_create(path_in("aborted.lmz", p), 0, &w, &err), LMZ_OK);
    CHECK_EQ_INT(dir_entries(dir), 1); /* the temporary file */
    CHECK_EQ_INT(append_all(w, &s, &err), LMZ_OK);
    lmz_archive_abort(w);
    CHECK_EQ_INT(dir_entries(dir), 0);
    CHECK(!file_exists(p));
    /* A failed finish (bad input), then abort. */
    CHECK_EQ_INT(lmz_archive_create(p, 0, &w, &err), LMZ_OK);
    CHECK_EQ_INT(append_all(w, &s, &err), LMZ_OK);
    lmz_archive_info info;
    info_init(&info);
    info.chunk_size = 100; /* blocks of 1024 are then not full 400-byte blocks */
    CHECK_EQ_INT(lmz_archive_finish(w, &info, s.members, s.nmembers, NULL, &err), LMZ_ERR_USAGE);
    lmz_archive_abort(w);
    CHECK_EQ_INT(dir_entries(dir), 0);
    /* An unsafe member name is refused before anything is written. */
    CHECK_EQ_INT(lmz_archive_create(p, 0, &w, &err), LMZ_OK);
    CHECK_EQ_INT(append_all(w, &s, &err), LMZ_OK);
    info_init(&info);
    s.members[1].name = "../escape";
    CHECK_EQ_INT(lmz_archive_finish(w, &info, s.members, s.nmembers, NULL, &err),
                 LMZ_ERR_UNSAFE_NAME);
    lmz_archive_abort(w);
    CHECK_EQ_INT(dir_entries(dir), 0);
    /* A block larger than its stored form is refused at append. */
    CHECK_EQ_INT(lmz_archive_create(p, 0, &w, &err), LMZ_OK);
    uint8_t blk[8] = {1};
    CHECK_EQ_INT(lmz_archive_append_block(w, blk, 8, 6, 0, &err), LMZ_ERR_USAGE);
    lmz_archive_abort(w);
    CHECK_EQ_INT(dir_entries(dir), 0);
    synth_free(&s);
}

/* A write that fails half way (the file size limit stands in for a full
 * disk): LMZ_ERR_IO naming the file, nothing left behind after abort. Run
 * in a child so that the limit does not outlive it. */
static void test_write_failure(void)
{
    remove_all_in_dir();
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {300000, 300000};
        setrlimit(RLIMIT_FSIZE, &rl);
        char p[1024];
        lmz_err err;
        lmz_archive_writer *w;
        if (lmz_archive_create(path_in("full.lmz", p), 0, &w, &err) != LMZ_OK)
            _exit(2);
        uint8_t *blk = calloc(1, BLOCK + 1);
        blk[0] = LMZ_BLOCK_STORED;
        lmz_status st = LMZ_OK;
        for (int b = 0; b < 3000 && st == LMZ_OK; b++)
            st = lmz_archive_append_block(w, blk, BLOCK + 1, BLOCK, 0, &err);
        if (st == LMZ_OK) {
            lmz_archive_info info;
            info_init(&info);
            st = lmz_archive_finish(w, &info, NULL, 0, NULL, &err);
        }
        int ok = st == LMZ_ERR_IO && strstr(err.msg, "full.lmz") && strstr(err.msg, "large");
        if (!ok)
            fprintf(stderr, "write failure gave %d: %s\n", st, err.msg);
        if (st != LMZ_OK)
            lmz_archive_abort(w);
        free(blk);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ_INT(dir_entries(dir), 0);
}

/* ---- damaged and foreign files ---- */

static void flip_byte(const char *path, uint64_t off)
{
    int fd = open(path, O_RDWR);
    uint8_t b = 0;
    CHECK(pread(fd, &b, 1, (off_t)off) == 1);
    b ^= 0x5a;
    CHECK(pwrite(fd, &b, 1, (off_t)off) == 1);
    close(fd);
}

static haddr_t index_file_offset(const char *path)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "index", H5P_DEFAULT);
    haddr_t off = H5Dget_offset(d);
    H5Dclose(d);
    H5Fclose(f);
    return off;
}

/* File offset of /payload's first byte: a small payload is contiguous, a
 * larger one chunked (then this is its first storage chunk). */
static haddr_t payload_file_offset(const char *path)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "payload", H5P_DEFAULT);
    hid_t dcpl = H5Dget_create_plist(d);
    haddr_t addr = HADDR_UNDEF;
    if (H5Pget_layout(dcpl) == H5D_CONTIGUOUS) {
        addr = H5Dget_offset(d);
    } else {
        hsize_t coord[1] = {0}, size = 0;
        unsigned mask = 0;
        H5Dget_chunk_info_by_coord(d, coord, &mask, &addr, &size);
    }
    H5Pclose(dcpl);
    H5Dclose(d);
    H5Fclose(f);
    return addr;
}

static void test_damaged_index(void)
{
    char good[1024], bad[1024];
    synth s;
    lmz_err err;
    synth_init(&s, 4 * BLOCK + 9, 9);
    CHECK_EQ_INT(write_synth(path_in("good.lmz", good), &s, 0, NULL, &err), LMZ_OK);
    haddr_t off = index_file_offset(good);
    CHECK(off != HADDR_UNDEF);
    /* One byte in each field of each row. */
    for (uint64_t k = 0; k < (uint64_t)s.nblocks * LMZ_INDEX_ROW_BYTES; k += 3) {
        tu_copy_file(good, path_in("bad.lmz", bad), SIZE_MAX);
        flip_byte(bad, off + k);
        lmz_err_clear(&err);
        CHECK_EQ_INT(open_status(bad, &err), LMZ_ERR_CORRUPT_INDEX);
        CHECK(strstr(err.msg, "index checksum mismatch") != NULL);
    }
    /* Damaged payload: only that block fails. */
    haddr_t poff = payload_file_offset(good);
    CHECK(poff != HADDR_UNDEF);
    tu_copy_file(good, bad, SIZE_MAX);
    lmz_afile *a = NULL;
    CHECK_EQ_INT(lmz_afile_open(good, &a, &err), LMZ_OK);
    uint64_t nb = 0;
    const lmz_index_entry *idx = a ? lmz_afile_index(a, &nb) : NULL;
    uint64_t victim = 2;
    if (idx)
        flip_byte(bad, poff + idx[victim].payload_offset + idx[victim].payload_len / 2);
    lmz_afile_close(a);
    a = NULL;
    CHECK_EQ_INT(lmz_afile_open(bad, &a, &err), LMZ_OK);
    for (uint64_t b = 0; a && b < nb; b++) {
        uint8_t *buf = malloc(lmz_block_bound(BLOCK));
        lmz_status st = lmz_afile_read_block(a, b, buf, &err);
        if (b == victim) {
            CHECK_EQ_INT(st, LMZ_ERR_CORRUPT_BLOCK);
            CHECK(strstr(err.msg, "block 2: payload checksum mismatch") != NULL);
        } else {
            CHECK_EQ_INT(st, LMZ_OK);
        }
        free(buf);
    }
    lmz_afile_close(a);
    synth_free(&s);
}

static void test_truncated(void)
{
    char good[1024], cut[1024];
    lmz_err err;
    size_t n = 0;
    uint8_t *bytes = tu_read_file(path_in("good.lmz", good), &n);
    CHECK(bytes != NULL);
    if (!bytes)
        return;
    size_t points[] = {0, 1, 7, 8, 40, 100, 200, 511, 1000, 2048, n / 3, n / 2, n - 100, n - 1};
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
        if (points[i] >= n)
            continue;
        FILE *f = fopen(path_in("cut.lmz", cut), "wb");
        fwrite(bytes, 1, points[i], f);
        fclose(f);
        lmz_err_clear(&err);
        lmz_status st = open_status(cut, &err);
        CHECK(st != LMZ_OK);
        CHECK(err.msg[0] != '\0');
        if (points[i] < 8)
            CHECK_EQ_INT(st, LMZ_ERR_NOT_ARCHIVE);
        else if (points[i] >= 200) {
            CHECK_EQ_INT(st, LMZ_ERR_TRUNCATED);
            CHECK(strstr(err.msg, ": file is truncated") && !strstr(err.msg, "damaged"));
        }
    }
    free(bytes);
}

/* Every 5th byte of a small archive flipped in turn: each open either fails
 * with one of the damage codes or succeeds, and then every block reads or
 * fails its checksum. (Found by this: HDF5's variable-length strings crash
 * on a damaged heap, which is why member names are plain bytes.) */
static void test_flip_everywhere(void)
{
    char good[1024], bad[1024];
    size_t n = 0;
    uint8_t *bytes = tu_read_file(path_in("good.lmz", good), &n);
    CHECK(bytes != NULL);
    for (size_t i = 0; bytes && i < n; i += 5) {
        bytes[i] ^= 0x5a;
        FILE *f = fopen(path_in("flip.lmz", bad), "wb");
        fwrite(bytes, 1, n, f);
        fclose(f);
        bytes[i] ^= 0x5a;
        lmz_afile *a = NULL;
        lmz_err err;
        lmz_status st = lmz_afile_open(bad, &a, &err);
        CHECK(st == LMZ_OK || st == LMZ_ERR_NOT_ARCHIVE || st == LMZ_ERR_CORRUPT_INDEX ||
              st == LMZ_ERR_TRUNCATED || st == LMZ_ERR_VERSION || st == LMZ_ERR_UNSAFE_NAME);
        uint64_t nb = 0;
        const lmz_index_entry *idx = a ? lmz_afile_index(a, &nb) : NULL;
        for (uint64_t b = 0; b < nb; b++) {
            uint8_t *buf = malloc(idx[b].payload_len);
            st = lmz_afile_read_block(a, b, buf, &err);
            CHECK(st == LMZ_OK || st == LMZ_ERR_CORRUPT_BLOCK);
            free(buf);
        }
        lmz_afile_close(a);
    }
    free(bytes);
}

/* An HDF5 file with the given root attribute "format" (none if NULL). */
static void make_hdf5(const char *path, const char *format)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (format) {
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, strlen(format) + 1);
        hid_t sp = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate2(f, "format", t, sp, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, t, format);
        H5Aclose(a);
        H5Sclose(sp);
        H5Tclose(t);
    }
    H5Fclose(f);
}

static void test_foreign(void)
{
    char p[1024];
    lmz_err err;
    write_text(path_in("text.txt", p), "hello, this is not HDF5 at all\n");
    CHECK_EQ_INT(open_status(p, &err), LMZ_ERR_NOT_ARCHIVE);
    CHECK(strstr(err.msg, "not an lmz archive") != NULL);
    make_hdf5(path_in("plain.h5", p), NULL);
    CHECK_EQ_INT(open_status(p, &err), LMZ_ERR_NOT_ARCHIVE);
    make_hdf5(p, "lmz-model");
    CHECK_EQ_INT(open_status(p, &err), LMZ_ERR_NOT_ARCHIVE);
    CHECK_EQ_INT(open_status(path_in("does-not-exist.lmz", p), &err), LMZ_ERR_IO);
    CHECK_EQ_INT(open_status(dir, &err), LMZ_ERR_NOT_ARCHIVE);
}

static void set_u64_attr(const char *path, const char *name, uint64_t v)
{
    tu_h5_set_attr(path, name, H5T_NATIVE_UINT64, &v);
}

static void set_str_attr(const char *path, const char *name, const char *v)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Adelete(f, name);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(v) + 1);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, v);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    H5Fclose(f);
}

static void test_tampered_header(void)
{
    char good[1024], p[1024];
    lmz_err err;
    path_in("good.lmz", good);
    path_in("tampered.lmz", p);

    tu_copy_file(good, p, SIZE_MAX);
    set_u64_attr(p, "format_version", 7);
    CHECK_EQ_INT(open_status(p, &err), LMZ_ERR_VERSION);
    CHECK(strstr(err.msg, "archive format version 7 is newer than this lmz supports (2)"));

    tu_copy_file(good, p, SIZE_MAX);
    set_u64_attr(p, "arith_version", LMZ_ARITH_VERSION + 1);
    CHECK_EQ_INT(open_status(p, &err), LMZ_ERR_VERSION);

    tu_copy_file(good, p, SIZE_MAX);
    set_str_attr(p, "checksum", "CRC32C");
    CHECK_EQ_INT(open_status(p, &err), LMZ_ERR_VERSION);

    tu_copy_file(good, p, SIZE_MAX);
    set_str_attr(p, "format", "zip");
    CHECK_EQ_INT(open_status(p, &err), LMZ_ERR_NOT_ARCHIVE);

    /* Absurd counts are refused before anything is allocated from them. */
    static const char *const counts[] = {"nblocks", "nmembers", "raw_size", "payload_size"};
    uint64_t values[] = {1ull << 40, UINT64_MAX, 3, 0};
    for (size_t c = 0; c < 4; c++) {
        for (size_t v = 0; v < 4; v++) {
            tu_copy_file(good, p, SIZE_MAX);
            set_u64_attr(p, counts[c], values[v]);
            CHECK_EQ_INT(open_status(p, &err), LMZ_ERR_CORRUPT_INDEX);
        }
    }
    tu_copy_file(good, p, SIZE_MAX);
    set_u64_attr(p, "chunks_per_block", 5000);
    CHECK_EQ_INT(open_status(p, &err), LMZ_ERR_CORRUPT_INDEX);
    tu_copy_file(good, p, SIZE_MAX);
    set_u64_attr(p, "chunk_size", 0);
    CHECK_EQ_INT(open_status(p, &err), LMZ_ERR_CORRUPT_INDEX);
    tu_copy_file(good, p, SIZE_MAX);
    set_str_attr(p, "model_hash", "xyz");
    CHECK_EQ_INT(open_status(p, &err), LMZ_ERR_CORRUPT_INDEX);
    tu_copy_file(good, p, SIZE_MAX);
    set_u64_attr(p, "index_xxh64", 42);
    CHECK_EQ_INT(open_status(p, &err), LMZ_ERR_CORRUPT_INDEX);
    tu_copy_file(good, p, SIZE_MAX);
    set_u64_attr(p, "members_xxh64", 42);
    CHECK_EQ_INT(open_status(p, &err), LMZ_ERR_CORRUPT_INDEX);
    CHECK(strstr(err.msg, "member table checksum mismatch") != NULL);
}

/* Replace /members, /member_names and their checksum, as a hostile writer
 * could. */
static void replace_members(const char *path, const lmz_member *m, size_t n)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(f, "members", H5P_DEFAULT);
    H5Ldelete(f, "member_names", H5P_DEFAULT);
    CHECK_EQ_INT(lmz_archive_write_members(f, m, n), 0);
    H5Fclose(f);
    set_u64_attr(path, "members_xxh64", lmz_members_checksum(m, n));
    set_u64_attr(path, "nmembers", n);
}

/* Overwrite bytes of dataset name (contiguous) at offset off. */
static void poke_dataset(const char *path, const char *name, uint64_t off, const void *bytes,
                         size_t n)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    haddr_t base = H5Dget_offset(d);
    H5Dclose(d);
    H5Fclose(f);
    int fd = open(path, O_RDWR);
    CHECK(pwrite(fd, bytes, n, (off_t)(base + off)) == (ssize_t)n);
    close(fd);
}

static void test_hostile_members(void)
{
    char good[1024], p[1024];
    lmz_err err;
    path_in("good.lmz", good);
    path_in("hostile.lmz", p);
    lmz_afile *a = NULL;
    CHECK_EQ_INT(lmz_afile_open(good, &a, &err), LMZ_OK);
    uint64_t raw = a ? lmz_afile_info(a)->raw_size : 0;
    lmz_afile_close(a);

    lmz_member m[2] = {{"ok", 0, 10, 0644}, {"../../etc/passwd", 10, raw - 10, 0644}};
    tu_copy_file(good, p, SIZE_MAX);
    replace_members(p, m, 2);
    CHECK_EQ_INT(open_status(p, &err), LMZ_ERR_UNSAFE_NAME);
    CHECK(strstr(err.msg, "../../etc/passwd") != NULL);

    m[1].name = "bad\nname";
    tu_copy_file(good, p, SIZE_MAX);
    replace_members(p, m, 2);
    CHECK_EQ_INT(open_status(p, &err), LMZ_ERR_UNSAFE_NAME);
    CHECK(strchr(err.msg, '\n') == NULL);

    m[1].name = "fine";
    m[1].offset = 11; /* a gap */
    tu_copy_file(good, p, SIZE_MAX);
    replace_members(p, m, 2);
    CHECK_EQ_INT(open_status(p, &err), LMZ_ERR_CORRUPT_INDEX);

    m[1].offset = 10;
    m[1].size = raw; /* past the end */
    tu_copy_file(good, p, SIZE_MAX);
    replace_members(p, m, 2);
    CHECK_EQ_INT(open_status(p, &err), LMZ_ERR_CORRUPT_INDEX);

    m[1].size = raw - 10; /* and now all is well */
    tu_copy_file(good, p, SIZE_MAX);
    replace_members(p, m, 2);
    CHECK_EQ_INT(open_status(p, &err), LMZ_OK);

    /* Damaged name layout: found before any name is read. */
    uint32_t huge = 0x7fffffff;
    poke_dataset(p, "members", 8, &huge, 4); /* row 0 name_len */
    CHECK_EQ_INT(open_status(p, &err), LMZ_ERR_CORRUPT_INDEX);
    CHECK(strstr(err.msg, "member 0") != NULL);
    tu_copy_file(good, p, SIZE_MAX);
    replace_members(p, m, 2);
    uint64_t far = 1ull << 60;
    poke_dataset(p, "members", 32, &far, 8); /* row 1 name_offset */
    CHECK_EQ_INT(open_status(p, &err), LMZ_ERR_CORRUPT_INDEX);
    /* A damaged name byte: the checksum. */
    tu_copy_file(good, p, SIZE_MAX);
    replace_members(p, m, 2);
    poke_dataset(p, "member_names", 1, "X", 1);
    CHECK_EQ_INT(open_status(p, &err), LMZ_ERR_CORRUPT_INDEX);
    CHECK(strstr(err.msg, "member table checksum mismatch") != NULL);
    /* A NUL inside a name. */
    tu_copy_file(good, p, SIZE_MAX);
    replace_members(p, m, 2);
    poke_dataset(p, "member_names", 1, "", 1);
    CHECK_EQ_INT(open_status(p, &err), LMZ_ERR_CORRUPT_INDEX);
}

int main(void)
{
    dir = tu_test_dir();
    test_round_trip();
    test_format_version();
    test_embedded_model();
    test_deterministic();
    test_no_clobber();
    test_abort();
    test_write_failure();
    test_damaged_index();
    test_truncated();
    test_flip_everywhere();
    test_foreign();
    test_tampered_header();
    test_hostile_members();
    if (!getenv("LMZ_KEEP_TMP"))
        tu_rmtree(dir);
    else
        printf("kept %s\n", dir);
    free(dir);
    return tu_finish("archive");
}
