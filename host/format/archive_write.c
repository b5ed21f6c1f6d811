/* archive_write.c: writing an archive (docs/format.md).
 *
 * Blocks are appended to /payload as they come, through a buffer of one
 * storage chunk, so the writer holds at most 1 MiB of payload; the index is
 * kept in memory (40 bytes a block) and written at the end with the members
 * and the attributes. Everything goes to a temporary file beside the target
 * that is renamed into place only when complete. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "archive_priv.h"
#include "h5util.h"
#include "lmz_block.h"
#include "lmz_modelfile.h"

#ifndef LMZ_VERSION_STRING
#define LMZ_VERSION_STRING "unknown"
#endif

struct lmz_archive_writer {
    lmz_tmpfile tmp;
    hid_t file;
    hid_t payload;            /* -1 until the first storage chunk is full */
    uint8_t *pending;         /* payload bytes not yet in /payload */
    size_t npending;          /* < LMZ_PAYLOAD_STORAGE_CHUNK between calls */
    uint64_t written;         /* payload bytes already in /payload */
    lmz_index_entry *index;
    uint64_t nblocks, cap;
    uint64_t raw_size;
    int classical;            /* a block of a classical mode: format version 2 */
    lmz_err failure;          /* first error; sticky, every later call returns it */
};

static lmz_status fail(lmz_archive_writer *w, lmz_err *err)
{
    if (err)
        *err = w->failure;
    return w->failure.code;
}

/* Record the first failure of w (later calls repeat it) and return it. */
static lmz_status set_failure(lmz_archive_writer *w, lmz_err *err, lmz_status code,
                              const char *what)
{
    if (w->failure.code == LMZ_OK)
        lmz_err_set(&w->failure, code, "%s: %s", w->tmp.target, what);
    return fail(w, err);
}

static lmz_status write_failure(lmz_archive_writer *w, lmz_err *err, int saved_errno)
{
    char what[256];
    snprintf(what, sizeof what, "write failed: %s", lmz_h5_strerror(saved_errno));
    return set_failure(w, err, LMZ_ERR_IO, what);
}

/* The writer with its temporary file and no HDF5 file yet. */
static lmz_status writer_new(const char *path, int force, lmz_archive_writer **out, lmz_err *err)
{
    lmz_h5_init();
    *out = NULL;
    lmz_archive_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->pending = malloc(LMZ_PAYLOAD_STORAGE_CHUNK))) {
        free(w);
        return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
    }
    w->file = w->payload = -1;
    lmz_status st = lmz_tmpfile_create(&w->tmp, path, force, err);
    if (st != LMZ_OK) {
        free(w->pending);
        free(w);
        return st;
    }
    *out = w;
    return LMZ_OK;
}

lmz_status lmz_archive_create(const char *path, int force, lmz_archive_writer **out,
                              lmz_err *err)
{
    lmz_archive_writer *w;
    lmz_status st = writer_new(path, force, &w, err);
    if (st != LMZ_OK)
        return st;
    hid_t fcpl = lmz_h5_fcpl(), fapl = lmz_h5_fapl();
    errno = 0;
    if (fcpl >= 0 && fapl >= 0)
        w->file = H5Fcreate(w->tmp.tmp, H5F_ACC_TRUNC, fcpl, fapl);
    int e = errno;
    if (fcpl >= 0)
        H5Pclose(fcpl);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (w->file < 0) {
        lmz_err_set(err, LMZ_ERR_IO, "%s: cannot create: %s", path, lmz_h5_strerror(e));
        lmz_archive_abort(w);
        return LMZ_ERR_IO;
    }
    *out = w;
    return LMZ_OK;
}

lmz_status lmz_archive_reserve(const char *path, int force, lmz_archive_writer **out,
                               lmz_err *err)
{
    return writer_new(path, force, out, err);
}

const char *lmz_archive_tmp_path(const lmz_archive_writer *w)
{
    return w->tmp.tmp;
}

lmz_status lmz_archive_adopt_payload(lmz_archive_writer *w, const lmz_index_entry *index,
                                     uint64_t nblocks, int classical, lmz_err *err)
{
    lmz_h5_init();
    if (w->failure.code != LMZ_OK)
        return fail(w, err);
    if (nblocks) {
        w->index = malloc(nblocks * sizeof *w->index);
        if (!w->index)
            return set_failure(w, err, LMZ_ERR_NOMEM, "out of memory");
        memcpy(w->index, index, nblocks * sizeof *w->index);
        w->cap = nblocks;
    }
    w->nblocks = nblocks;
    w->raw_size = 0;
    for (uint64_t b = 0; b < nblocks; b++)
        w->raw_size += index[b].raw_len;
    w->classical = classical;
    hid_t fapl = lmz_h5_fapl();
    errno = 0;
    if (fapl >= 0)
        w->file = H5Fopen(w->tmp.tmp, H5F_ACC_RDWR, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (w->file >= 0)
        w->payload = H5Dopen2(w->file, "payload", H5P_DEFAULT);
    hid_t space = w->payload >= 0 ? H5Dget_space(w->payload) : -1;
    hsize_t dims[1] = {0};
    int ok = space >= 0 && H5Sget_simple_extent_ndims(space) == 1 &&
             H5Sget_simple_extent_dims(space, dims, NULL) == 1;
    int e = errno;
    if (space >= 0)
        H5Sclose(space);
    if (!ok)
        return write_failure(w, err, e);
    w->written = dims[0];
    uint64_t end = nblocks ? index[nblocks - 1].payload_offset + index[nblocks - 1].payload_len : 0;
    if (end != w->written)
        return set_failure(w, err, LMZ_ERR_USAGE, "payload size does not match its index");
    return LMZ_OK;
}

/* /payload: 1-D uint8, chunked in storage chunks of 1 MiB with no maximum
 * size and no filters, so that it grows as blocks come. */
static int create_chunked_payload(lmz_archive_writer *w)
{
    hsize_t dims[1] = {0}, maxdims[1] = {H5S_UNLIMITED};
    hsize_t storage_chunk[1] = {LMZ_PAYLOAD_STORAGE_CHUNK};
    hid_t space = H5Screate_simple(1, dims, maxdims);
    hid_t dcpl = lmz_h5_dcpl();
    if (space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, storage_chunk) >= 0)
        w->payload = H5Dcreate2(w->file, "payload", H5T_STD_U8LE, space, H5P_DEFAULT, dcpl,
                                H5P_DEFAULT);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    return w->payload >= 0 ? 0 : -1;
}

/* A payload that never filled a storage chunk is written at the end as one
 * contiguous dataset: a small archive then carries neither a mostly empty
 * 1 MiB chunk nor a chunk index (docs/format.md allows either layout). */
static lmz_status write_small_payload(lmz_archive_writer *w, lmz_err *err)
{
    hsize_t dims[1] = {w->npending};
    hid_t space = H5Screate_simple(1, dims, NULL);
    hid_t dcpl = lmz_h5_dcpl();
    errno = 0;
    if (space >= 0 && dcpl >= 0)
        w->payload = H5Dcreate2(w->file, "payload", H5T_STD_U8LE, space, H5P_DEFAULT, dcpl,
                                H5P_DEFAULT);
    int ok = w->payload >= 0 &&
             (w->npending == 0 ||
              H5Dwrite(w->payload, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                       w->pending) >= 0);
    int e = errno;
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    if (!ok)
        return write_failure(w, err, e);
    w->written = w->npending;
    w->npending = 0;
    return LMZ_OK;
}

/* Write the pending bytes at the end of /payload (final: the last call). */
static lmz_status flush_pending(lmz_archive_writer *w, int final, lmz_err *err)
{
    if (w->payload < 0 && final)
        return write_small_payload(w, err);
    errno = 0;
    if (w->payload < 0 && create_chunked_payload(w) < 0)
        return write_failure(w, err, errno);
    if (w->npending == 0)
        return LMZ_OK;
    hsize_t start[1] = {w->written}, count[1] = {w->npending};
    hsize_t newsize[1] = {w->written + w->npending};
    int ok = H5Dset_extent(w->payload, newsize) >= 0;
    hid_t fspace = ok ? H5Dget_space(w->payload) : -1;
    hid_t mspace = ok ? H5Screate_simple(1, count, NULL) : -1;
    ok = ok && fspace >= 0 && mspace >= 0 &&
         H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
         H5Dwrite(w->payload, H5T_NATIVE_UINT8, mspace, fspace, H5P_DEFAULT, w->pending) >= 0;
    int e = errno;
    if (fspace >= 0)
        H5Sclose(fspace);
    if (mspace >= 0)
        H5Sclose(mspace);
    if (!ok)
        return write_failure(w, err, e);
    w->written += w->npending;
    w->npending = 0;
    return LMZ_OK;
}

static lmz_status append_bytes(lmz_archive_writer *w, const uint8_t *p, size_t len, lmz_err *err)
{
    while (len) {
        size_t room = LMZ_PAYLOAD_STORAGE_CHUNK - w->npending;
        size_t n = len < room ? len : room;
        memcpy(w->pending + w->npending, p, n);
        w->npending += n;
        p += n;
        len -= n;
        if (w->npending == LMZ_PAYLOAD_STORAGE_CHUNK) {
            lmz_status st = flush_pending(w, 0, err);
            if (st != LMZ_OK)
                return st;
        }
    }
    return LMZ_OK;
}

static int grow_index(lmz_archive_writer *w)
{
    if (w->nblocks < w->cap)
        return 0;
    uint64_t cap = w->cap ? 2 * w->cap : 64;
    lmz_index_entry *p = realloc(w->index, cap * sizeof *p);
    if (!p)
        return -1;
    w->index = p;
    w->cap = cap;
    return 0;
}

lmz_status lmz_archive_append_block(lmz_archive_writer *w, const uint8_t *blk, size_t len,
                                    uint32_t raw_len, uint64_t raw_xxh64, lmz_err *err)
{
    lmz_h5_init();
    if (w->failure.code != LMZ_OK)
        return fail(w, err);
    /* The rest of the block rules are checked at finish, when chunk_size
     * and chunks_per_block are known. */
    if (raw_len < 1 || len < 1 || len > lmz_block_bound(raw_len)) {
        char what[128];
        snprintf(what, sizeof what, "block %llu: %zu payload bytes for %u raw bytes",
                 (unsigned long long)w->nblocks, len, raw_len);
        return set_failure(w, err, LMZ_ERR_USAGE, what);
    }
    if (grow_index(w) < 0)
        return set_failure(w, err, LMZ_ERR_NOMEM, "out of memory");
    lmz_index_entry *e = &w->index[w->nblocks];
    e->raw_offset = w->raw_size;
    e->raw_len = raw_len;
    e->payload_offset = w->written + w->npending;
    e->payload_len = (uint32_t)len;
    e->payload_xxh64 = XXH64(blk, len, 0);
    e->raw_xxh64 = raw_xxh64;
    lmz_status st = append_bytes(w, blk, len, err);
    if (st != LMZ_OK)
        return st;
    w->nblocks++;
    w->raw_size += raw_len;
    w->classical |= lmz_block_mode_classical(blk[0]);
    return LMZ_OK;
}

static int write_index(lmz_archive_writer *w)
{
    hid_t ft = lmz_index_file_type(), mt = lmz_index_mem_type();
    int rc = -1;
    if (ft >= 0 && mt >= 0)
        rc = lmz_archive_write_table(w->file, "index", ft, mt, w->nblocks, w->index);
    if (ft >= 0)
        H5Tclose(ft);
    if (mt >= 0)
        H5Tclose(mt);
    return rc;
}

/* Root attributes, in the order of docs/format.md. */
static int write_attributes(hid_t f, const lmz_archive_info *i, uint64_t index_xxh64,
                            uint64_t members_xxh64, uint64_t nmembers)
{
    return lmz_h5_attr_write_str(f, "format", LMZ_FORMAT_NAME) |
           lmz_h5_attr_write_u32(f, "format_version", i->format_version) |
           lmz_h5_attr_write_u32(f, "arith_version", i->arith_version) |
           lmz_h5_attr_write_u32(f, "chunk_size", i->chunk_size) |
           lmz_h5_attr_write_u32(f, "chunks_per_block", i->chunks_per_block) |
           lmz_h5_attr_write_str(f, "kind", i->kind) |
           lmz_h5_attr_write_u64(f, "raw_size", i->raw_size) |
           lmz_h5_attr_write_u64(f, "payload_size", i->payload_size) |
           lmz_h5_attr_write_u64(f, "nblocks", i->nblocks) |
           lmz_h5_attr_write_str(f, "model_hash", i->model_hash) |
           lmz_h5_attr_write_str(f, "model_name", i->model_name) |
           lmz_h5_attr_write_u32(f, "model_embedded", (uint32_t)i->model_embedded) |
           lmz_h5_attr_write_u64(f, "model_bytes", i->model_bytes) |
           lmz_h5_attr_write_str(f, "tool_version", i->tool_version) |
           lmz_h5_attr_write_str(f, "checksum", LMZ_CHECKSUM_NAME) |
           lmz_h5_attr_write_u64(f, "index_xxh64", index_xxh64) |
           lmz_h5_attr_write_u64(f, "members_xxh64", members_xxh64) |
           lmz_h5_attr_write_u64(f, "nmembers", nmembers);
}

/* The header as it will be written: the caller's description plus what the
 * writer knows (counts, sizes, versions, the embedded model's identity). */
static void final_info(const lmz_archive_writer *w, const lmz_archive_info *in,
                       const lmz_model *embed, lmz_archive_info *out)
{
    *out = *in;
    /* The version needed to read the blocks: an archive without classical
     * blocks stays readable by (and byte-identical to) format 1. */
    out->format_version = w->classical ? LMZ_FORMAT_VERSION : 1;
    out->raw_size = w->raw_size;
    out->payload_size = w->written + w->npending;
    out->nblocks = w->nblocks;
    out->model_embedded = embed != NULL;
    if (embed) {
        lmz_model_hash_hex(embed, out->model_hash);
        if (!out->model_name[0])
            snprintf(out->model_name, sizeof out->model_name, "%s", embed->name);
    }
    if (!out->tool_version[0])
        snprintf(out->tool_version, sizeof out->tool_version, "%s", LMZ_VERSION_STRING);
    /* Fixed-size fields of the caller's struct may lack their NUL. */
    out->kind[sizeof out->kind - 1] = '\0';
    out->model_hash[sizeof out->model_hash - 1] = '\0';
    out->model_name[sizeof out->model_name - 1] = '\0';
    out->tool_version[sizeof out->tool_version - 1] = '\0';
}

static lmz_status check_before_writing(lmz_archive_writer *w, const lmz_archive_info *info,
                                       const lmz_member *members, size_t nmembers, lmz_err *err)
{
    lmz_err e;
    lmz_status st = lmz_archive_check_info(w->tmp.target, info, &e);
    if (st == LMZ_OK)
        st = lmz_archive_check_index(w->tmp.target, info, w->index, &e);
    if (st == LMZ_OK)
        st = lmz_archive_check_members(w->tmp.target, info, members, nmembers, &e);
    if (st == LMZ_OK)
        return LMZ_OK;
    /* The reader's wording blames damage; here the caller gave bad input. */
    if (st != LMZ_ERR_UNSAFE_NAME)
        st = LMZ_ERR_USAGE;
    lmz_err_set(&w->failure, st, "refusing to write %s", e.msg);
    return fail(w, err);
}

static lmz_status write_model_group(lmz_archive_writer *w, const lmz_model *m, lmz_err *err)
{
    hid_t g = lmz_h5_create_group(w->file, "model");
    if (g < 0)
        return write_failure(w, err, errno);
    lmz_err e;
    lmz_status st = lmz_model_h5_write(g, m, &e);
    if (H5Gclose(g) < 0 && st == LMZ_OK)
        return write_failure(w, err, errno);
    if (st != LMZ_OK)
        return set_failure(w, err, st, e.msg);
    return LMZ_OK;
}

lmz_status lmz_archive_finish(lmz_archive_writer *w, const lmz_archive_info *info,
                              const lmz_member *members, size_t nmembers,
                              const lmz_model *embed, lmz_err *err)
{
    lmz_h5_init();
    if (w->failure.code != LMZ_OK)
        return fail(w, err);
    lmz_archive_info fi;
    final_info(w, info, embed, &fi);
    lmz_status st = check_before_writing(w, &fi, members, nmembers, err);
    if (st == LMZ_OK)
        st = flush_pending(w, 1, err);
    if (st != LMZ_OK)
        return st;
    errno = 0;
    if (write_index(w) < 0 || lmz_archive_write_members(w->file, members, nmembers) < 0 ||
        write_attributes(w->file, &fi, lmz_index_checksum(w->index, w->nblocks),
                         lmz_members_checksum(members, nmembers), nmembers) != 0)
        return write_failure(w, err, errno);
    if (embed && (st = write_model_group(w, embed, err)) != LMZ_OK)
        return st;
    errno = 0;
    herr_t closed = H5Dclose(w->payload);
    w->payload = -1;
    if (H5Fclose(w->file) < 0 || closed < 0) {
        w->file = -1;
        return write_failure(w, err, errno);
    }
    w->file = -1;
    lmz_err e;
    if ((st = lmz_tmpfile_commit(&w->tmp, &e)) != LMZ_OK) {
        w->failure = e;
        return fail(w, err);
    }
    free(w->index);
    free(w->pending);
    free(w);
    return LMZ_OK;
}

void lmz_archive_abort(lmz_archive_writer *w)
{
    if (!w)
        return;
    if (w->payload >= 0)
        H5Dclose(w->payload);
    if (w->file >= 0)
        H5Fclose(w->file);
    lmz_tmpfile_discard(&w->tmp);
    free(w->index);
    free(w->pending);
    free(w);
}
