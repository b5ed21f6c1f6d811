/* fuzz_archive: opening and reading archives (host/format/archive_read.c,
 * archive_format.c, reader.c, inspect.c, decompress.c, extract.c).
 *
 * An input that starts with HDF5's signature is written out as the archive
 * file as it is (the seeds are small real archives, which libFuzzer
 * mutates). Any other input is a recipe for a forged archive (fuzz/forge.h):
 * well-formed HDF5 holding hostile values, with the index and member
 * checksums made right or left wrong as the recipe says, so that the
 * validation past the checksums is reached too.
 *
 * Then lmz_afile_open must either refuse the file with one of its
 * documented errors, or accept one that keeps every promise of
 * docs/format.md "Validation": versions it supports, blocks that tile the
 * raw stream and the payload, members that tile the raw stream, safe
 * names. Every block is read and parsed; list and verify run; and when the
 * archive names the built-in random-tiny model and is small, verify --full,
 * decompress (plain and --salvage) and extract decode it, and whatever they
 * write must be where they were told and as long as the members say. */
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

/* Decode only small archives: the tiny model decodes ~50 KB/s. */
#define MAX_DECODE_RAW 16384

static char tiny_hash[33];
static const lmz_model *tiny;
static FILE *devnull;

static void init_once(void)
{
    if (tiny)
        return;
    lmz_model *m = NULL;
    lmz_err e;
    FZ_ASSERT(lmz_model_builtin("random-tiny", &m, &e) == LMZ_OK);
    lmz_model_hash_hex(m, tiny_hash);
    tiny = m;
    devnull = fopen("/dev/null", "w");
    FZ_ASSERT(devnull);
}

/* ---- the recipe ---- */

static void forge_blocks(fz_in *in, fg_archive *a, int consistent, int real_blocks)
{
    uint64_t cap = a->chunk_size * a->chunks_per_block;
    if (cap == 0 || cap > 3 * 4096)
        cap = 1 + fz_u16(in) % 4096; /* keep forged blocks small */
    a->nrows = fz_u8(in) % (FG_MAX_BLOCKS + 1);
    uint64_t raw = 0, pay = 0;
    a->payload = malloc(a->nrows * (cap + 1) + 16);
    FZ_ASSERT(a->payload);
    uint8_t *rawbuf = malloc(cap + 1);
    FZ_ASSERT(rawbuf);
    for (uint64_t b = 0; b < a->nrows; b++) {
        lmz_index_entry *e = &a->index[b];
        int last = b + 1 == a->nrows;
        uint32_t raw_len = consistent ? (last ? 1 + (uint32_t)(fz_u16(in) % cap) : (uint32_t)cap)
                                      : fz_u32(in);
        uint32_t plen;
        uint8_t *dst = a->payload + pay;
        size_t got;
        const uint8_t *p = fz_bytes(in, raw_len < cap ? raw_len : cap, &got);
        memset(rawbuf, 0x5a, cap + 1);
        memcpy(rawbuf, p, got);
        if (real_blocks && raw_len <= cap && raw_len >= 1) {
            /* a valid block: stored, or coded with made-up chunk streams */
            uint32_t chunk = a->chunk_size >= 1 && a->chunk_size <= raw_len ? (uint32_t)a->chunk_size : raw_len;
            uint32_t n = lmz_block_nchunks(raw_len, chunk);
            if (n <= 64 && fz_u8(in) & 1) {
                const uint8_t *coded[64];
                size_t coded_len[64];
                for (uint32_t k = 0; k < n; k++) {
                    coded[k] = rawbuf;
                    coded_len[k] = fz_u8(in);
                }
                plen = (uint32_t)lmz_block_assemble(dst, rawbuf, raw_len, chunk, coded, coded_len);
            } else {
                dst[0] = LMZ_BLOCK_STORED;
                memcpy(dst + 1, rawbuf, raw_len);
                plen = raw_len + 1;
            }
            e->payload_xxh64 = XXH64(dst, plen, 0);
            e->raw_xxh64 = XXH64(rawbuf, raw_len, 0);
            if (fz_u8(in) == 0xee) /* damaged on disk */
                dst[fz_u8(in) % plen] ^= 0x10;
        } else {
            plen = consistent ? 1 + (uint32_t)(fz_u16(in) % ((raw_len < cap ? raw_len : cap) + 1))
                              : fz_u32(in);
            uint32_t have = plen <= cap + 1 ? plen : (uint32_t)(cap + 1);
            p = fz_bytes(in, have, &got);
            memset(dst, 0, have);
            memcpy(dst, p, got);
            plen = have;
            e->payload_xxh64 = consistent ? XXH64(dst, plen, 0) : fz_u64(in);
            e->raw_xxh64 = fz_u64(in);
        }
        e->raw_offset = consistent ? raw : fz_u64(in);
        e->raw_len = raw_len;
        e->payload_offset = consistent ? pay : fz_u64(in);
        e->payload_len = plen;
        raw += raw_len;
        pay += plen;
    }
    free(rawbuf);
    a->payload_len = pay;
    a->raw_size = raw;
    a->payload_size = pay;
    a->nblocks_attr = a->nrows;
}

static void forge_members(fz_in *in, fg_archive *a, int consistent)
{
    a->nmembers = fz_u8(in) % (FG_MAX_MEMBERS + 1);
    uint64_t off = 0, name_off = 0;
    for (size_t k = 0; k < a->nmembers; k++) {
        size_t got;
        uint32_t want = fz_u8(in) % 24;
        a->names[k] = fz_bytes(in, want, &got);
        a->name_len[k] = (uint32_t)got;
        uint64_t size = k + 1 == a->nmembers ? a->raw_size - off
                                             : (a->raw_size - off) / (2 + fz_u8(in) % 4);
        a->rows[k].name_offset = consistent ? name_off : fz_u64(in);
        a->rows[k].name_len = consistent ? (uint32_t)got : fz_u32(in);
        a->rows[k].offset = consistent ? off : fz_u64(in);
        a->rows[k].size = consistent ? size : fz_u64(in);
        a->rows[k].mode = fz_u16(in) & 07777;
        off += size;
        name_off += got;
    }
    a->nmembers_attr = a->nmembers;
}

static void forge(fz_in *in, const char *path)
{
    static const uint64_t versions[] = {1, 1, 1, 0, 2, 7};
    static const uint64_t chunks[] = {2048, 2048, 1, 3, 16, 256, 65536, 0, 65537};
    static const uint64_t cpbs[] = {1, 1, 2, 4, 64, 4096, 0, 4097};
    static const char *const kinds[] = {"text", "bytes", "image", "", "0123456789abcdefXYZ"};
    static const char *const sums[] = {"XXH64", "XXH64", "CRC32C", ""};
    fg_archive a;
    memset(&a, 0, sizeof a);
    uint32_t flags = fz_u32(in);
    /* HDF5's default format (superblock 0) is refused at once: rarely */
    a.lmz_props = !((flags & 1) && (flags & 0x100000));
    a.fix_index = !(flags & 2);
    a.fix_members = !(flags & 4);
    int consistent_index = !(flags & 8), consistent_members = !(flags & 16);
    int real_blocks = !(flags & 32);
    if (flags & 64) {
        a.omit = 1u << (fz_u8(in) % 18);
        if (flags & 128)
            a.omit |= fz_u32(in);
    }
    if (flags & 256)
        a.wrong_type[fz_u8(in) % 18] = fz_u8(in);
    a.str_how = flags & 512 ? fz_u8(in) : 0;
    a.index_kind = flags & 1024 ? fz_u8(in) : 0;
    a.payload_kind = flags & 2048 ? 1 + fz_u8(in) % 4 : 0;
    a.payload_chunk = 1 + fz_u8(in);
    a.members_kind = flags & 4096 ? fz_u8(in) : 0;
    a.format_version = fz_pick(in, versions, 6);
    a.arith_version = fz_pick(in, versions, 6);
    a.chunk_size = fz_pick(in, chunks, 9);
    a.chunks_per_block = fz_pick(in, cpbs, 8);
    snprintf(a.kind, sizeof a.kind, "%s", kinds[fz_u8(in) % 5]);
    snprintf(a.checksum, sizeof a.checksum, "%s", sums[fz_u8(in) % 4]);
    uint8_t h = fz_u8(in);
    snprintf(a.model_hash, sizeof a.model_hash, "%s",
             h % 4 == 0 ? "0123456789abcdef0123456789ABCDEF" : h % 4 == 1 ? "abc" : tiny_hash);
    snprintf(a.model_name, sizeof a.model_name, "%s", h & 0x80 ? "" : "random-tiny");
    snprintf(a.tool_version, sizeof a.tool_version, "%s", h & 0x40 ? "9.9.9-fuzz" : "0.1.0");
    a.model_embedded = flags & 8192 ? fz_u8(in) % 3 : 0;
    if (a.model_embedded == 1 && flags & 16384)
        a.embed = tiny;
    a.model_bytes = fz_u32(in);
    forge_blocks(in, &a, consistent_index, real_blocks);
    forge_members(in, &a, consistent_members);
    if (flags & 32768) { /* header counts that disagree with the tables */
        a.raw_size += fz_u8(in);
        a.payload_size += fz_u8(in);
        a.nblocks_attr += fz_u8(in) % 3;
        a.nmembers_attr += fz_u8(in) % 3;
    }
    if (flags & 65536)
        a.nblocks_attr = fz_u64(in);
    fg_write_archive(path, &a, fz_u64(in), fz_u64(in));
    free(a.payload);
}

/* ---- checking what lmz makes of the file ---- */

static int documented_open_error(lmz_status st)
{
    return st == LMZ_ERR_IO || st == LMZ_ERR_NOT_ARCHIVE || st == LMZ_ERR_TRUNCATED ||
           st == LMZ_ERR_VERSION || st == LMZ_ERR_CORRUPT_INDEX || st == LMZ_ERR_UNSAFE_NAME ||
           st == LMZ_ERR_NOMEM;
}

/* Blocks the reader finds damaged, counted the way verify should count. */
static uint64_t read_every_block(lmz_afile *a)
{
    const lmz_archive_info *info = lmz_afile_info(a);
    uint64_t nb = 0, damaged = 0;
    const lmz_index_entry *idx = lmz_afile_index(a, &nb);
    FZ_ASSERT(nb == info->nblocks);
    for (uint64_t b = 0; b < nb; b++) {
        uint8_t *buf = malloc(idx[b].payload_len);
        FZ_ASSERT(buf);
        lmz_err e;
        lmz_status st = lmz_afile_read_block(a, b, buf, &e);
        if (st == LMZ_OK) {
            FZ_ASSERT(XXH64(buf, idx[b].payload_len, 0) == idx[b].payload_xxh64);
            uint32_t n = lmz_block_nchunks(idx[b].raw_len, info->chunk_size);
            FZ_ASSERT(n >= 1 && n <= info->chunks_per_block);
            lmz_block_chunk *chunks = malloc(n * sizeof *chunks);
            FZ_ASSERT(chunks);
            uint32_t got_n;
            int stored;
            st = lmz_block_parse(buf, idx[b].payload_len, idx[b].raw_len, info->chunk_size,
                                 chunks, &got_n, &stored, &e);
            FZ_ASSERT(st == LMZ_OK || st == LMZ_ERR_CORRUPT_BLOCK);
            free(chunks);
        } else {
            FZ_ASSERT(st == LMZ_ERR_CORRUPT_BLOCK);
            damaged++;
        }
        free(buf);
    }
    lmz_err e;
    lmz_status st = lmz_afile_read_block(a, nb, NULL, &e);
    FZ_ASSERT(st == LMZ_ERR_RANGE);
    return damaged;
}

static void check_open_archive(lmz_afile *a, const char *path)
{
    const lmz_archive_info *info = lmz_afile_info(a);
    FZ_ASSERT(info->format_version >= 1 && info->format_version <= LMZ_FORMAT_VERSION);
    FZ_ASSERT(info->arith_version >= 1 && info->arith_version <= LMZ_ARITH_VERSION);
    FZ_ASSERT(info->chunk_size >= 1 && info->chunk_size <= 65536);
    FZ_ASSERT(info->chunks_per_block >= 1 && info->chunks_per_block <= 4096);
    FZ_ASSERT(info->model_embedded == 0 || info->model_embedded == 1);
    uint64_t nb;
    const lmz_index_entry *idx = lmz_afile_index(a, &nb);
    lmz_err e;
    FZ_ASSERT(lmz_archive_check_index(path, info, idx, &e) == LMZ_OK);
    size_t nm;
    const lmz_member *m = lmz_afile_members(a, &nm);
    FZ_ASSERT(lmz_archive_check_members(path, info, m, nm, &e) == LMZ_OK);
    for (size_t k = 0; k < nm; k++)
        FZ_ASSERT(lmz_member_name_safe(m[k].name));
    if (info->model_embedded) {
        lmz_model *mm = NULL;
        lmz_status st = lmz_afile_read_model(a, &mm, &e);
        FZ_ASSERT(st == LMZ_OK || st == LMZ_ERR_MODEL_INVALID || st == LMZ_ERR_VERSION ||
                  st == LMZ_ERR_NOMEM);
        lmz_model_free(mm);
    }
}

/* Everything a decompress may leave in dir must be a member's file of the
 * member's size (nothing else, nothing half-written). */
static void check_outputs(const char *dir, const lmz_member *m, size_t nm, int complete)
{
    struct stat ds;
    if (nm == 1 && stat(dir, &ds) == 0 && S_ISREG(ds.st_mode)) {
        /* one member and -o naming no directory: the member is that file */
        FZ_ASSERT((uint64_t)ds.st_size == m[0].size);
        return;
    }
    for (size_t k = 0; k < nm; k++) {
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", dir, m[k].name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
            FZ_ASSERT((uint64_t)st.st_size == m[k].size);
        else if (complete)
            FZ_ASSERT(!"a member's file is missing after a successful decompress");
    }
}

static void decode_paths(const char *path, fz_in *in)
{
    lmz_afile *a = NULL;
    lmz_err e;
    if (lmz_afile_open(path, &a, &e) != LMZ_OK)
        return;
    const lmz_archive_info *info = lmz_afile_info(a);
    int ours = !info->model_embedded && strcmp(info->model_hash, tiny_hash) == 0 &&
               info->chunk_size == 2048 && info->raw_size <= MAX_DECODE_RAW;
    if (!ours) {
        lmz_afile_close(a);
        return;
    }
    lmz_common_opts c;
    memset(&c, 0, sizeof c);
    c.nthreads = 1;
    c.device = LMZ_DEVICE_CPU;
    c.verbose = -1;
    lmz_stats st;
    lmz_status rc = lmz_verify(path, &c, 1, devnull, &st, &e);
    FZ_ASSERT(rc == LMZ_OK || rc == LMZ_ERR_CORRUPT_BLOCK);

    size_t nm;
    const lmz_member *m = lmz_afile_members(a, &nm);
    char out[4096];
    fz_path("out", out, sizeof out);
    for (int salvage = 0; salvage <= 1; salvage++) {
        fz_rmtree(out);
        lmz_decompress_opts d;
        memset(&d, 0, sizeof d);
        d.c = c;
        d.archive = path;
        d.output = out;
        d.salvage = salvage;
        d.report = devnull;
        rc = lmz_decompress(&d, &st, &e);
        FZ_ASSERT(rc == LMZ_OK || rc == LMZ_ERR_CORRUPT_BLOCK || rc == LMZ_ERR_EXISTS ||
                  rc == LMZ_ERR_IO);
        check_outputs(out, m, nm, rc == LMZ_OK);
        if (salvage && rc == LMZ_ERR_CORRUPT_BLOCK)
            FZ_ASSERT(st.blocks_damaged > 0);
    }
    fz_rmtree(out);

    lmz_extract_opts x;
    memset(&x, 0, sizeof x);
    x.c = c;
    x.archive = path;
    x.what = LMZ_EXTRACT_RANGE;
    x.offset = info->raw_size ? fz_u16(in) % info->raw_size : 0;
    x.length = fz_u16(in) % (info->raw_size - x.offset + 1);
    x.output = out;
    rc = lmz_extract(&x, &st, &e);
    FZ_ASSERT(rc == LMZ_OK || rc == LMZ_ERR_CORRUPT_BLOCK);
    struct stat sb;
    if (rc == LMZ_OK)
        FZ_ASSERT(stat(out, &sb) == 0 && (uint64_t)sb.st_size == x.length);
    else
        FZ_ASSERT(stat(out, &sb) != 0);
    unlink(out);
    lmz_afile_close(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    char path[4096];
    fz_path("a.lmz", path, sizeof path);
    fz_in in;
    fz_init(&in, data, size);
    if (fz_is_hdf5(data, size)) {
        fz_write_file(path, data, size);
        in.pos = size; /* decode_paths gets zeros */
    } else {
        forge(&in, path);
    }

    lmz_afile *a = NULL;
    lmz_err e;
    lmz_err_clear(&e);
    lmz_status st = lmz_afile_open(path, &a, &e);
    if (st != LMZ_OK) {
        FZ_ASSERT(a == NULL);
        FZ_ASSERT(documented_open_error(st));
        FZ_ASSERT(e.msg[0] != '\0' && strchr(e.msg, '\n') == NULL);
        unlink(path);
        return 0;
    }
    check_open_archive(a, path);
    uint64_t damaged = read_every_block(a);
    lmz_afile_close(a);

    lmz_common_opts c;
    memset(&c, 0, sizeof c);
    c.nthreads = 1;
    c.verbose = -1;
    lmz_stats vs;
    st = lmz_verify(path, &c, 0, devnull, &vs, &e);
    FZ_ASSERT(vs.blocks_damaged == damaged);
    FZ_ASSERT(damaged ? st == LMZ_ERR_CORRUPT_BLOCK : st == LMZ_OK);
    /* what lmz list shows, through the library's API (lmz.h) */
    lmz_archive *pa = lmz_archive_open(path, NULL, &e);
    FZ_ASSERT(pa != NULL);
    lmz_archive_meta meta;
    FZ_ASSERT(lmz_archive_get_meta(pa, &meta, &e) == LMZ_OK);
    for (uint64_t k = 0; k < meta.nmembers; k++) {
        lmz_member_info mi;
        FZ_ASSERT(lmz_archive_member(pa, k, &mi, &e) == LMZ_OK);
    }
    for (uint64_t b = 0; b < meta.nblocks; b++) {
        lmz_block_info bi;
        FZ_ASSERT(lmz_archive_block_info(pa, b, &bi, &e) == LMZ_OK);
    }
    lmz_archive_close(pa);

    decode_paths(path, &in);
    unlink(path);
    return 0;
}
