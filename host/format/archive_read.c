/* archive_read.c: opening and validating an archive, reading blocks.
 *
 * Nothing is allocated from a number in the file before that number has been
 * checked: table sizes are bounded by the file's size, and the index and
 * member tables are checked (checksum, then every offset and length) before
 * any caller sees them (docs/format.md, "Validation"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "archive_priv.h"
#include "h5util.h"
#include "lmz_modelfile.h"

struct lmz_afile {
    char *path;
    uint64_t file_size;
    hid_t file;
    hid_t payload;
    lmz_archive_info info;
    uint64_t index_xxh64, members_xxh64, nmembers_attr;
    lmz_index_entry *index;
    lmz_member *members;
    size_t nmembers;
};

/* ---- opening the HDF5 file ---- */

static const uint8_t hdf5_signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

static int starts_with_hdf5_signature(const char *path)
{
    uint8_t head[8];
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return n == sizeof head && memcmp(head, hdf5_signature, sizeof head) == 0;
}

static lmz_status open_hdf5(lmz_afile *a, lmz_err *err)
{
    int sb = lmz_h5_superblock_version(a->path);
    if (sb == 0 || sb == 1)
        return lmz_err_set(err, LMZ_ERR_NOT_ARCHIVE,
                           "%s: not an lmz archive (HDF5 superblock version %d has no metadata "
                           "checksums; lmz archives have version 2 or later)",
                           a->path, sb);
    a->file = lmz_h5_open_read(a->path);
    if (a->file >= 0)
        return LMZ_OK;
    /* HDF5 compares the end of file its superblock records with the file's
     * real size and fails with H5E_TRUNCATED when the file is shorter. The
     * error stack must be read now: the next HDF5 call clears it. */
    int truncated = lmz_h5_error_has_minor(H5E_TRUNCATED);
    int not_hdf5 = lmz_h5_error_has_minor(H5E_NOTHDF5);
    if (truncated)
        return lmz_err_set(err, LMZ_ERR_TRUNCATED, "%s: file is truncated", a->path);
    if (not_hdf5 || !starts_with_hdf5_signature(a->path))
        return lmz_err_set(err, LMZ_ERR_NOT_ARCHIVE, "%s: not an lmz archive", a->path);
    /* An HDF5 signature but no readable superblock: the file was cut inside
     * its first bytes, or they were overwritten. */
    return lmz_err_set(err, LMZ_ERR_TRUNCATED,
                       "%s: file is truncated or its HDF5 header is damaged", a->path);
}

/* ---- root attributes ---- */

static lmz_status bad_attribute(const lmz_afile *a, const char *name, lmz_err *err)
{
    return lmz_err_set(err, LMZ_ERR_CORRUPT_INDEX,
                       "%s: attribute '%s' is missing or invalid (archive damaged)", a->path,
                       name);
}

static lmz_status read_u32_attr(lmz_afile *a, const char *name, uint32_t *out, lmz_err *err)
{
    int64_t v;
    if (lmz_h5_attr_read_int(a->file, name, 0, UINT32_MAX, &v) < 0)
        return bad_attribute(a, name, err);
    *out = (uint32_t)v;
    return LMZ_OK;
}

static lmz_status read_u64_attr(lmz_afile *a, const char *name, uint64_t *out, lmz_err *err)
{
    if (lmz_h5_attr_read_u64(a->file, name, out) < 0)
        return bad_attribute(a, name, err);
    return LMZ_OK;
}

static lmz_status read_str_attr(lmz_afile *a, const char *name, char *buf, size_t cap,
                                lmz_err *err)
{
    if (lmz_h5_attr_read_str(a->file, name, buf, cap) < 0)
        return bad_attribute(a, name, err);
    return LMZ_OK;
}

/* format, then the versions: a newer archive may lay out the rest
 * differently, so nothing else is read before they are known. */
static lmz_status read_identity(lmz_afile *a, lmz_err *err)
{
    lmz_archive_info *i = &a->info;
    char format[16], checksum[16];
    /* An error (not "absent") here means HDF5 could not read the root
     * group's header: its metadata checksum failed. */
    if (H5Aexists(a->file, "format") < 0)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_INDEX,
                           "%s: HDF5 metadata is damaged (root group unreadable)", a->path);
    if (lmz_h5_attr_read_str(a->file, "format", format, sizeof format) < 0 ||
        strcmp(format, LMZ_FORMAT_NAME) != 0)
        return lmz_err_set(err, LMZ_ERR_NOT_ARCHIVE, "%s: not an lmz archive", a->path);
    lmz_status st = read_u32_attr(a, "format_version", &i->format_version, err);
    if (st == LMZ_OK && i->format_version < 1)
        st = bad_attribute(a, "format_version", err);
    if (st != LMZ_OK)
        return st;
    if (i->format_version > LMZ_FORMAT_VERSION)
        return lmz_err_set(err, LMZ_ERR_VERSION,
                           "%s: archive format version %u is newer than this lmz supports (%u)",
                           a->path, i->format_version, LMZ_FORMAT_VERSION);
    if ((st = read_u32_attr(a, "arith_version", &i->arith_version, err)) != LMZ_OK)
        return st;
    if (i->arith_version > LMZ_ARITH_VERSION)
        return lmz_err_set(err, LMZ_ERR_VERSION,
                           "%s: archive arithmetic version %u is newer than this lmz supports "
                           "(%u)",
                           a->path, i->arith_version, LMZ_ARITH_VERSION);
    if ((st = read_str_attr(a, "checksum", checksum, sizeof checksum, err)) != LMZ_OK)
        return st;
    if (strcmp(checksum, LMZ_CHECKSUM_NAME) != 0)
        return lmz_err_set(err, LMZ_ERR_VERSION,
                           "%s: checksum algorithm '%s' is not supported (this lmz knows %s)",
                           a->path, checksum, LMZ_CHECKSUM_NAME);
    return LMZ_OK;
}

static lmz_status read_header(lmz_afile *a, lmz_err *err)
{
    lmz_archive_info *i = &a->info;
    lmz_status st = read_identity(a, err);
    uint32_t embedded = 0;
    if (st == LMZ_OK)
        st = read_u32_attr(a, "chunk_size", &i->chunk_size, err);
    if (st == LMZ_OK)
        st = read_u32_attr(a, "chunks_per_block", &i->chunks_per_block, err);
    if (st == LMZ_OK)
        st = read_str_attr(a, "kind", i->kind, sizeof i->kind, err);
    if (st == LMZ_OK)
        st = read_u64_attr(a, "raw_size", &i->raw_size, err);
    if (st == LMZ_OK)
        st = read_u64_attr(a, "payload_size", &i->payload_size, err);
    if (st == LMZ_OK)
        st = read_u64_attr(a, "nblocks", &i->nblocks, err);
    if (st == LMZ_OK)
        st = read_str_attr(a, "model_hash", i->model_hash, sizeof i->model_hash, err);
    if (st == LMZ_OK)
        st = read_str_attr(a, "model_name", i->model_name, sizeof i->model_name, err);
    if (st == LMZ_OK)
        st = read_u32_attr(a, "model_embedded", &embedded, err);
    if (st == LMZ_OK)
        st = read_u64_attr(a, "model_bytes", &i->model_bytes, err);
    if (st == LMZ_OK)
        st = read_str_attr(a, "tool_version", i->tool_version, sizeof i->tool_version, err);
    if (st == LMZ_OK)
        st = read_u64_attr(a, "index_xxh64", &a->index_xxh64, err);
    if (st == LMZ_OK)
        st = read_u64_attr(a, "members_xxh64", &a->members_xxh64, err);
    if (st == LMZ_OK)
        st = read_u64_attr(a, "nmembers", &a->nmembers_attr, err);
    if (st != LMZ_OK)
        return st;
    i->model_embedded = embedded > 1 ? 2 : (int)embedded; /* 2: rejected below */
    return lmz_archive_check_info(a->path, i, err);
}

/* ---- tables ---- */

/* Rows of a 1-D dataset (0 for an empty or null dataspace), -1 if it is not
 * one-dimensional. */
static int64_t table_rows(hid_t ds)
{
    hid_t space = H5Dget_space(ds);
    if (space < 0)
        return -1;
    int64_t rows = -1;
    H5S_class_t cls = H5Sget_simple_extent_type(space);
    if (cls == H5S_NULL) {
        rows = 0;
    } else if (cls == H5S_SIMPLE && H5Sget_simple_extent_ndims(space) == 1) {
        hsize_t dims[1];
        if (H5Sget_simple_extent_dims(space, dims, NULL) == 1 && dims[0] <= INT64_MAX)
            rows = (int64_t)dims[0];
    }
    H5Sclose(space);
    return rows;
}

/* The dataset's element type is a compound holding every field in names
 * (by name; HDF5 converts each to the memory type). */
static int has_fields(hid_t ds, const char *const *names, size_t n)
{
    hid_t t = H5Dget_type(ds);
    int ok = t >= 0 && H5Tget_class(t) == H5T_COMPOUND;
    for (size_t k = 0; ok && k < n; k++)
        ok = H5Tget_member_index(t, names[k]) >= 0;
    if (t >= 0)
        H5Tclose(t);
    return ok;
}

/* Open table name, check its fields, that it has want_rows rows, and that
 * rows of at least min_row_bytes each fit in the file (so a forged row count
 * cannot make us allocate more than a few times the file's size). */
static lmz_status open_table(lmz_afile *a, const char *name, const char *const *fields,
                             size_t nfields, uint64_t want_rows, uint64_t min_row_bytes,
                             hid_t *out, lmz_err *err)
{
    *out = H5Dopen2(a->file, name, H5P_DEFAULT);
    if (*out < 0)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_INDEX, "%s: /%s is missing (archive damaged)",
                           a->path, name);
    int64_t rows = table_rows(*out);
    if (rows < 0 || !has_fields(*out, fields, nfields))
        return lmz_err_set(err, LMZ_ERR_CORRUPT_INDEX,
                           "%s: /%s does not have the expected layout (archive damaged)",
                           a->path, name);
    if ((uint64_t)rows != want_rows)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_INDEX,
                           "%s: /%s has %lld rows, the header says %llu (archive damaged)",
                           a->path, name, (long long)rows, (unsigned long long)want_rows);
    if (want_rows > a->file_size / min_row_bytes)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_INDEX,
                           "%s: /%s claims %llu rows, more than the file can hold "
                           "(archive damaged)",
                           a->path, name, (unsigned long long)want_rows);
    return LMZ_OK;
}

static lmz_status read_index(lmz_afile *a, lmz_err *err)
{
    static const char *const fields[] = {"raw_offset", "raw_len", "payload_offset",
                                         "payload_len", "payload_xxh64", "raw_xxh64"};
    uint64_t n = a->info.nblocks;
    hid_t ds = -1;
    lmz_status st = open_table(a, "index", fields, 6, n, LMZ_INDEX_ROW_BYTES, &ds, err);
    if (st == LMZ_OK && n > 0) {
        a->index = malloc(n * sizeof *a->index);
        hid_t mt = lmz_index_mem_type();
        if (!a->index)
            st = lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
        else if (mt < 0 || H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, a->index) < 0)
            st = lmz_err_set(err, LMZ_ERR_CORRUPT_INDEX, "%s: cannot read /index (archive damaged)",
                             a->path);
        if (mt >= 0)
            H5Tclose(mt);
    }
    if (ds >= 0)
        H5Dclose(ds);
    if (st != LMZ_OK)
        return st;
    if (lmz_index_checksum(a->index, n) != a->index_xxh64)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_INDEX, "%s: index checksum mismatch (index damaged)",
                           a->path);
    return lmz_archive_check_index(a->path, &a->info, a->index, err);
}

static lmz_status open_payload(lmz_afile *a, lmz_err *err)
{
    hsize_t dims[1] = {a->info.payload_size};
    a->payload = H5Dopen2(a->file, "payload", H5P_DEFAULT);
    if (a->payload < 0 ||
        lmz_h5_check_int_dataset(a->payload, 1, H5T_SGN_NONE, 1, dims) < 0)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_INDEX,
                           "%s: /payload is missing or not %llu bytes long (archive damaged)",
                           a->path, (unsigned long long)a->info.payload_size);
    return LMZ_OK;
}

static lmz_status members_damaged(const lmz_afile *a, const char *what, size_t k,
                                  lmz_err *err)
{
    return lmz_err_set(err, LMZ_ERR_CORRUPT_INDEX,
                       "%s: member %zu: %s (member table damaged)", a->path, k, what);
}

/* The names' layout: back to back from 0, each 1..LMZ_MAX_MEMBER_NAME bytes;
 * *total is where the last one ends. */
static lmz_status check_name_layout(const lmz_afile *a, const lmz_member_row *rows, size_t n,
                                    uint64_t *total, lmz_err *err)
{
    uint64_t pos = 0;
    for (size_t k = 0; k < n; k++) {
        if (rows[k].name_offset != pos)
            return members_damaged(a, "name_offset does not follow the previous name", k, err);
        if (rows[k].name_len < 1 || rows[k].name_len > LMZ_MAX_MEMBER_NAME)
            return members_damaged(a, "bad name_len", k, err);
        pos += rows[k].name_len;
    }
    *total = pos;
    return LMZ_OK;
}

/* /member_names: 1-D uint8 of exactly total bytes, read whole. */
static lmz_status read_names_blob(lmz_afile *a, uint64_t total, uint8_t **out, lmz_err *err)
{
    hsize_t dims[1] = {total};
    hid_t ds = H5Dopen2(a->file, "member_names", H5P_DEFAULT);
    lmz_status st = LMZ_OK;
    if (ds < 0 || lmz_h5_check_int_dataset(ds, 1, H5T_SGN_NONE, 1, dims) < 0 ||
        total > a->file_size)
        st = lmz_err_set(err, LMZ_ERR_CORRUPT_INDEX,
                         "%s: /member_names is missing or not %llu bytes long (archive damaged)",
                         a->path, (unsigned long long)total);
    else if (!(*out = malloc(total ? total : 1)))
        st = lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
    else if (total && H5Dread(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0)
        st = lmz_err_set(err, LMZ_ERR_CORRUPT_INDEX,
                         "%s: cannot read /member_names (archive damaged)", a->path);
    if (ds >= 0)
        H5Dclose(ds);
    return st;
}

/* a->members from the checked rows and the names. */
static lmz_status build_members(lmz_afile *a, const lmz_member_row *rows, size_t n,
                                const uint8_t *names, lmz_err *err)
{
    if (!(a->members = calloc(n ? n : 1, sizeof *a->members)))
        return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
    a->nmembers = n;
    for (size_t k = 0; k < n; k++) {
        const char *name = (const char *)names + rows[k].name_offset;
        if (memchr(name, '\0', rows[k].name_len))
            return members_damaged(a, "name holds a NUL byte", k, err);
        if (!(a->members[k].name = strndup(name, rows[k].name_len)))
            return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
        a->members[k].offset = rows[k].offset;
        a->members[k].size = rows[k].size;
        a->members[k].mode = rows[k].mode;
    }
    return LMZ_OK;
}

static lmz_status read_member_rows(lmz_afile *a, uint64_t n, lmz_member_row **rows,
                                   lmz_err *err)
{
    static const char *const fields[] = {"name_offset", "name_len", "offset", "size", "mode"};
    hid_t ds = -1;
    lmz_status st = open_table(a, "members", fields, 5, n, LMZ_MEMBER_ROW_BYTES, &ds, err);
    if (st == LMZ_OK) {
        hid_t mt = lmz_member_row_mem_type();
        if (!(*rows = malloc((n ? n : 1) * sizeof **rows)))
            st = lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
        else if (n && (mt < 0 || H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, *rows) < 0))
            st = lmz_err_set(err, LMZ_ERR_CORRUPT_INDEX,
                             "%s: cannot read /members (archive damaged)", a->path);
        if (mt >= 0)
            H5Tclose(mt);
    }
    if (ds >= 0)
        H5Dclose(ds);
    return st;
}

static lmz_status read_members(lmz_afile *a, lmz_err *err)
{
    uint64_t n = a->nmembers_attr, names_len = 0;
    lmz_member_row *rows = NULL;
    uint8_t *names = NULL;
    lmz_status st = read_member_rows(a, n, &rows, err);
    if (st == LMZ_OK)
        st = check_name_layout(a, rows, n, &names_len, err);
    if (st == LMZ_OK)
        st = read_names_blob(a, names_len, &names, err);
    if (st == LMZ_OK)
        st = build_members(a, rows, n, names, err);
    free(rows);
    free(names);
    if (st != LMZ_OK)
        return st;
    if (lmz_members_checksum(a->members, a->nmembers) != a->members_xxh64)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_INDEX,
                           "%s: member table checksum mismatch (member table damaged)", a->path);
    return lmz_archive_check_members(a->path, &a->info, a->members, a->nmembers, err);
}

/* ---- public ---- */

lmz_status lmz_afile_open(const char *path, lmz_afile **out, lmz_err *err)
{
    lmz_h5_init();
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) < 0)
        return lmz_err_set(err, LMZ_ERR_IO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return lmz_err_set(err, LMZ_ERR_NOT_ARCHIVE, "%s: not an lmz archive", path);
    lmz_afile *a = calloc(1, sizeof *a);
    if (!a || !(a->path = strdup(path))) {
        free(a);
        return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
    }
    a->file = a->payload = -1;
    a->file_size = (uint64_t)sb.st_size;
    lmz_status st = open_hdf5(a, err);
    if (st == LMZ_OK)
        st = read_header(a, err);
    if (st == LMZ_OK)
        st = read_index(a, err);
    if (st == LMZ_OK)
        st = open_payload(a, err);
    if (st == LMZ_OK)
        st = read_members(a, err);
    if (st != LMZ_OK) {
        lmz_afile_close(a);
        return st;
    }
    *out = a;
    return LMZ_OK;
}

void lmz_afile_close(lmz_afile *a)
{
    if (!a)
        return;
    if (a->payload >= 0)
        H5Dclose(a->payload);
    if (a->file >= 0)
        H5Fclose(a->file);
    for (size_t k = 0; k < a->nmembers; k++)
        free(a->members[k].name);
    free(a->members);
    free(a->index);
    free(a->path);
    free(a);
}

const lmz_archive_info *lmz_afile_info(const lmz_afile *a)
{
    return &a->info;
}

const lmz_index_entry *lmz_afile_index(const lmz_afile *a, uint64_t *nblocks)
{
    if (nblocks)
        *nblocks = a->info.nblocks;
    return a->index;
}

const lmz_member *lmz_afile_members(const lmz_afile *a, size_t *nmembers)
{
    if (nmembers)
        *nmembers = a->nmembers;
    return a->members;
}

/* Read len bytes of /payload at off into buf: 1 on success. */
static int read_payload(lmz_afile *a, uint64_t off, uint64_t len, uint8_t *buf)
{
    hsize_t start[1] = {off}, count[1] = {len};
    hid_t fspace = H5Dget_space(a->payload);
    hid_t mspace = H5Screate_simple(1, count, NULL);
    int ok = fspace >= 0 && mspace >= 0 &&
             H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
             H5Dread(a->payload, H5T_NATIVE_UINT8, mspace, fspace, H5P_DEFAULT, buf) >= 0;
    if (fspace >= 0)
        H5Sclose(fspace);
    if (mspace >= 0)
        H5Sclose(mspace);
    return ok;
}

static lmz_status no_block(const lmz_afile *a, uint64_t b, lmz_err *err)
{
    return lmz_err_set(err, LMZ_ERR_RANGE, "%s: block %llu does not exist (%llu blocks)", a->path,
                       (unsigned long long)b, (unsigned long long)a->info.nblocks);
}

lmz_status lmz_afile_peek_mode(lmz_afile *a, uint64_t b, uint8_t *mode, lmz_err *err)
{
    lmz_h5_init();
    if (b >= a->info.nblocks)
        return no_block(a, b, err);
    if (!read_payload(a, a->index[b].payload_offset, 1, mode))
        return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK,
                           "%s: block %llu: cannot read its payload (archive damaged)", a->path,
                           (unsigned long long)b);
    return LMZ_OK;
}

lmz_status lmz_afile_read_block(lmz_afile *a, uint64_t b, uint8_t *buf, lmz_err *err)
{
    lmz_h5_init();
    if (b >= a->info.nblocks)
        return no_block(a, b, err);
    const lmz_index_entry *e = &a->index[b];
    int ok = read_payload(a, e->payload_offset, e->payload_len, buf);
    if (!ok)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK,
                           "%s: block %llu: cannot read its payload (archive damaged)", a->path,
                           (unsigned long long)b);
    if (XXH64(buf, e->payload_len, 0) != e->payload_xxh64)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK, "%s: block %llu: payload checksum mismatch",
                           a->path, (unsigned long long)b);
    return LMZ_OK;
}

lmz_status lmz_afile_read_model(lmz_afile *a, lmz_model **out, lmz_err *err)
{
    lmz_h5_init();
    *out = NULL;
    if (!a->info.model_embedded)
        return lmz_err_set(err, LMZ_ERR_MODEL_MISSING,
                           "%s: the model (%s, %s) is not embedded in the archive", a->path,
                           a->info.model_name[0] ? a->info.model_name : "unnamed",
                           a->info.model_hash);
    hid_t g = H5Gopen2(a->file, "model", H5P_DEFAULT);
    if (g < 0)
        return lmz_err_set(err, LMZ_ERR_MODEL_INVALID,
                           "%s: /model is missing (archive damaged)", a->path);
    lmz_err e;
    lmz_model *m = NULL;
    lmz_status st = lmz_model_h5_read(g, &m, &e);
    H5Gclose(g);
    if (st != LMZ_OK)
        return lmz_err_set(err, st, "%s: embedded model: %s", a->path, e.msg);
    char hex[33];
    lmz_model_hash_hex(m, hex);
    if (strcmp(hex, a->info.model_hash) != 0) {
        lmz_model_free(m);
        return lmz_err_set(err, LMZ_ERR_MODEL_INVALID,
                           "%s: embedded model is %s, the header says %s (archive damaged)",
                           a->path, hex, a->info.model_hash);
    }
    *out = m;
    return LMZ_OK;
}
