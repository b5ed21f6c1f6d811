/* fuzz_names: member names on decompress (host/format/names.c, archive_read.c,
 * decompress.c, outfile.c).
 *
 * Input: [flags u8][name 0] NUL [name 1] NUL ... (up to 8 names; bytes
 * after a NUL start the next name).
 *
 *   1. lmz_member_name_safe must agree with an independent reading of the
 *      rule in docs/format.md "Members" (written here from the spec);
 *   2. an archive is forged with those names as its members (checksums
 *      right, so only the name rule can refuse it) and decompressed into a
 *      fresh sandbox/out: if any name is unsafe nothing at all may be
 *      written; else every file that appears must be a member's, with the
 *      member's bytes, under sandbox/out, and nothing else may appear
 *      anywhere in the sandbox (no temporary file left behind, nothing
 *      beside out). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "forge.h"
#include "fuzz_util.h"
#include "lmz_archive.h"
#include "lmz_block.h"
#include "lmz_modelfile.h"
#include "lmz_pipeline.h"

#define MAX_NAMES 8

/* The rule, from docs/format.md alone. */
static int spec_safe(const uint8_t *s, size_t n)
{
    if (n < 1 || n > 4096)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\')
            return 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '/')
            continue;
        size_t len = i - start;
        if (len == 0)
            return 0; /* leading, trailing or double '/' */
        if (len == 1 && s[start] == '.')
            return 0;
        if (len == 2 && s[start] == '.' && s[start + 1] == '.')
            return 0;
        start = i + 1;
    }
    return 1;
}

static char tiny_hash[33];

static void init_once(void)
{
    if (tiny_hash[0])
        return;
    lmz_model *m = NULL;
    lmz_err e;
    FZ_ASSERT(lmz_model_builtin("random-tiny", &m, &e) == LMZ_OK);
    lmz_model_hash_hex(m, tiny_hash);
    lmz_model_free(m);
}

typedef struct names {
    const uint8_t *p[MAX_NAMES];
    uint32_t len[MAX_NAMES];
    uint64_t size[MAX_NAMES];
    size_t n;
    uint8_t *raw;
    uint64_t raw_len;
} names;

/* Which of several members of one name a file must hold: without -f the
 * first (the second is refused: it exists), with -f after a successful run
 * the last (each overwrote the one before), and after a failed run with -f
 * any of them (the run may have stopped between the two). */
enum { WANT_FIRST, WANT_LAST, WANT_ANY };

/* Every entry under dir (recursively) must be a member file with the
 * member's bytes, or a directory on the way to one. rel is the path below
 * the output directory so far. */
static void check_tree(const char *dir, const char *rel, const names *nm, int want)
{
    DIR *d = opendir(dir);
    FZ_ASSERT(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char path[16384], sub[16384];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        struct stat st;
        FZ_ASSERT(lstat(path, &st) == 0);
        FZ_ASSERT(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode));
        if (S_ISDIR(st.st_mode)) {
            check_tree(path, sub, nm, want);
            continue;
        }
        /* a member of that name, and its bytes (so a temporary file left
         * behind, or anything else, fails here) */
        size_t got = 0;
        uint8_t *bytes = fz_read_file(path, &got);
        FZ_ASSERT(bytes);
        int seen = 0, match = 0;
        uint64_t off = 0;
        for (size_t k = 0; k < nm->n; off += nm->size[k], k++) {
            if (nm->len[k] != strlen(sub) || memcmp(nm->p[k], sub, nm->len[k]) != 0)
                continue;
            int same = got == nm->size[k] && (got == 0 || !memcmp(bytes, nm->raw + off, got));
            if (want == WANT_FIRST && !seen)
                match = same;
            else if (want == WANT_LAST)
                match = same;
            else if (want == WANT_ANY)
                match |= same;
            seen = 1;
        }
        FZ_ASSERT(seen && match);
        free(bytes);
    }
    closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    FZ_ASSERT(!lmz_member_name_safe(NULL));
    fz_in in;
    fz_init(&in, data, size);
    uint8_t flags = fz_u8(&in);
    names nm;
    memset(&nm, 0, sizeof nm);
    int all_safe = 1;
    while (nm.n < MAX_NAMES && fz_left(&in) > 0) {
        const uint8_t *p = in.p + in.pos;
        const uint8_t *nul = memchr(p, 0, fz_left(&in));
        size_t len = nul ? (size_t)(nul - p) : fz_left(&in);
        in.pos += len + (nul ? 1 : 0);
        /* 1: the check against the spec, on a C string */
        char *s = malloc(len + 1);
        FZ_ASSERT(s);
        memcpy(s, p, len);
        s[len] = '\0';
        int safe = lmz_member_name_safe(s);
        FZ_ASSERT(safe == spec_safe(p, len));
        free(s);
        if (len == 0)
            continue; /* a name of 0 bytes is not even a member row */
        all_safe &= safe;
        nm.p[nm.n] = p;
        nm.len[nm.n] = (uint32_t)len;
        nm.size[nm.n] = (flags >> (nm.n % 4)) & 3;
        nm.raw_len += nm.size[nm.n];
        nm.n++;
    }
    if (nm.n == 0)
        return 0;

    /* 2: an archive whose only problem may be its names */
    nm.raw = malloc(nm.raw_len + 1);
    FZ_ASSERT(nm.raw);
    for (uint64_t i = 0; i < nm.raw_len; i++)
        nm.raw[i] = (uint8_t)('a' + i % 26);
    fg_archive a;
    memset(&a, 0, sizeof a);
    a.lmz_props = 1;
    a.fix_index = a.fix_members = 1;
    a.format_version = a.arith_version = 1;
    a.chunk_size = 2048;
    a.chunks_per_block = 64;
    strcpy(a.kind, "bytes");
    strcpy(a.model_hash, tiny_hash);
    strcpy(a.model_name, "random-tiny");
    strcpy(a.tool_version, "fuzz");
    strcpy(a.checksum, "XXH64");
    uint8_t block[1 + 32];
    block[0] = LMZ_BLOCK_STORED;
    memcpy(block + 1, nm.raw, nm.raw_len);
    if (nm.raw_len) {
        a.nrows = 1;
        a.index[0] = (lmz_index_entry){0, 0, (uint32_t)nm.raw_len, (uint32_t)nm.raw_len + 1,
                                       XXH64(block, nm.raw_len + 1, 0), XXH64(nm.raw, nm.raw_len, 0)};
        a.payload = block;
        a.payload_len = nm.raw_len + 1;
    }
    a.raw_size = nm.raw_len;
    a.payload_size = a.payload_len;
    a.nblocks_attr = a.nrows;
    a.nmembers = a.nmembers_attr = nm.n;
    uint64_t off = 0, noff = 0;
    for (size_t k = 0; k < nm.n; k++) {
        a.names[k] = nm.p[k];
        a.name_len[k] = nm.len[k];
        a.rows[k] = (lmz_member_row){noff, nm.len[k], off, nm.size[k], 0644};
        off += nm.size[k];
        noff += nm.len[k];
    }
    char arch[4096], sandbox[4096], out[4200];
    fz_path("names.lmz", arch, sizeof arch);
    fz_path("sandbox", sandbox, sizeof sandbox);
    /* "out/" makes even a one-member archive go into a directory */
    snprintf(out, sizeof out, "%s/out%s", sandbox, flags & 0x40 ? "/" : "");
    FZ_ASSERT(fg_write_archive(arch, &a, 0, 0) == 0);
    fz_rmtree(sandbox);
    FZ_ASSERT(mkdir(sandbox, 0777) == 0);

    lmz_decompress_opts d;
    memset(&d, 0, sizeof d);
    d.c.nthreads = 1;
    d.c.device = LMZ_DEVICE_CPU;
    d.c.verbose = -1;
    d.c.force = flags >> 7;
    d.archive = arch;
    d.output = out;
    lmz_stats st;
    lmz_err e;
    lmz_err_clear(&e);
    lmz_status rc = lmz_decompress(&d, &st, &e);
    if (!all_safe) {
        FZ_ASSERT(rc == LMZ_ERR_UNSAFE_NAME);
        DIR *dd = opendir(sandbox);
        struct dirent *de;
        while (dd && (de = readdir(dd)))
            FZ_ASSERT(!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."));
        if (dd)
            closedir(dd);
    } else {
        /* duplicates, a name that is also a directory, a component too
         * long for the file system: refused, never half-done */
        FZ_ASSERT(rc == LMZ_OK || rc == LMZ_ERR_EXISTS || rc == LMZ_ERR_IO);
        DIR *dd = opendir(sandbox);
        struct dirent *de;
        while (dd && (de = readdir(dd)))
            FZ_ASSERT(!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
                      !strcmp(de->d_name, "out"));
        if (dd)
            closedir(dd);
        struct stat sb;
        if (lstat(out, &sb) == 0 && S_ISREG(sb.st_mode)) {
            /* one member and -o naming no directory: the member is that file */
            FZ_ASSERT(nm.n == 1 && rc == LMZ_OK);
            size_t got = 0;
            uint8_t *bytes = fz_read_file(out, &got);
            FZ_ASSERT(bytes && got == nm.size[0] && (!got || !memcmp(bytes, nm.raw, got)));
            free(bytes);
        } else if (lstat(out, &sb) == 0) {
            FZ_ASSERT(S_ISDIR(sb.st_mode));
            check_tree(out, "", &nm,
                       !d.c.force ? WANT_FIRST : rc == LMZ_OK ? WANT_LAST : WANT_ANY);
        } else {
            FZ_ASSERT(rc != LMZ_OK);
        }
    }
    fz_rmtree(sandbox);
    unlink(arch);
    free(nm.raw);
    return 0;
}
