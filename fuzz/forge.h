/* forge.h: writing hostile HDF5 files for the fuzzers (and the tests that
 * replay them). The writers here use HDF5's API, so the files are well
 * formed HDF5; what they hold is whatever the recipe says: attributes of
 * the wrong type or missing, tables with the wrong rows or fields, names
 * that escape, checksums right or wrong. lmz's own writer refuses to make
 * such files (it runs the reader's checks first), so this is the only way
 * to reach lmz's validation with values that pass HDF5 and its checksums.
 *
 * Header-only, like fuzz_util.h. */
#ifndef LMZ_FUZZ_FORGE_H
#define LMZ_FUZZ_FORGE_H

#include <hdf5.h>
#include <stdint.h>
#include <string.h>
#include <xxhash.h>

#include "archive_priv.h"
#include "fuzz_util.h"
#include "h5util.h"
#include "lmz_modelfile.h"

/* ---- attributes of any type ---- */

/* A scalar integer attribute stored with file type ftype (HDF5 converts,
 * clipping out-of-range values). */
static inline void fg_attr_int(hid_t loc, const char *name, hid_t ftype, uint64_t v)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) {
        H5Awrite(a, H5T_NATIVE_UINT64, &v);
        H5Aclose(a);
    }
    H5Sclose(space);
}

/* A string attribute: fixed-length NUL-terminated, fixed-length without
 * the NUL (space padded), or variable-length (in HDF5's global heap). */
static inline void fg_attr_str(hid_t loc, const char *name, const char *s, int how)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    hid_t space = H5Screate(H5S_SCALAR);
    if (how % 3 == 2) {
        H5Tset_size(t, H5T_VARIABLE);
        hid_t a = H5Acreate2(loc, name, t, space, H5P_DEFAULT, H5P_DEFAULT);
        if (a >= 0) {
            H5Awrite(a, t, &s);
            H5Aclose(a);
        }
    } else {
        size_t len = strlen(s);
        H5Tset_size(t, how % 3 == 0 ? len + 1 : (len ? len : 1));
        H5Tset_strpad(t, how % 3 == 0 ? H5T_STR_NULLTERM : H5T_STR_SPACEPAD);
        hid_t a = H5Acreate2(loc, name, t, space, H5P_DEFAULT, H5P_DEFAULT);
        if (a >= 0) {
            H5Awrite(a, t, s);
            H5Aclose(a);
        }
    }
    H5Sclose(space);
    H5Tclose(t);
}

/* An integer attribute written the right way (type u32/u64) or, when
 * wrong_type says so, as another integer type, an array of two, or a
 * string. */
static inline void fg_attr_uint(hid_t loc, const char *name, uint64_t v, int is64, uint8_t wrong_type)
{
    switch (wrong_type % 8) {
    case 1: fg_attr_int(loc, name, H5T_STD_I8LE, v); return;
    case 2: fg_attr_int(loc, name, H5T_STD_U16BE, v); return;
    case 3: fg_attr_int(loc, name, is64 ? H5T_STD_U32LE : H5T_STD_U64BE, v); return;
    case 4: fg_attr_int(loc, name, H5T_STD_I64LE, v); return;
    case 5: {
        char s[32];
        snprintf(s, sizeof s, "%llu", (unsigned long long)v);
        fg_attr_str(loc, name, s, 0);
        return;
    }
    case 6: { /* two elements */
        hsize_t dims[1] = {2};
        uint64_t vv[2] = {v, v};
        hid_t space = H5Screate_simple(1, dims, NULL);
        hid_t a = H5Acreate2(loc, name, H5T_STD_U64LE, space, H5P_DEFAULT, H5P_DEFAULT);
        if (a >= 0) {
            H5Awrite(a, H5T_NATIVE_UINT64, vv);
            H5Aclose(a);
        }
        H5Sclose(space);
        return;
    }
    default:
        fg_attr_int(loc, name, is64 ? H5T_STD_U64LE : H5T_STD_U32LE, v);
    }
}

/* A 1-D dataset of n elements of ftype from memory type mtype; chunked in
 * storage chunks of `chunk` elements when chunk > 0. */
static inline void fg_dataset(hid_t loc, const char *name, hid_t ftype, hid_t mtype, uint64_t n,
                              const void *data, uint64_t chunk)
{
    hsize_t dims[1] = {n}, maxdims[1] = {H5S_UNLIMITED}, cdims[1] = {chunk};
    hid_t space = H5Screate_simple(1, dims, chunk ? maxdims : NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunk)
        H5Pset_chunk(dcpl, 1, cdims);
    hid_t ds = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds >= 0) {
        if (n)
            H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
        H5Dclose(ds);
    }
    H5Pclose(dcpl);
    H5Sclose(space);
}

/* A dataset of rank 1 or 2 with one of several storage layouts, as another
 * writer (h5py, h5repack) might choose: 0 contiguous, 1 compact, 2 chunked,
 * 3 chunked + deflate, 4 chunked + shuffle + deflate, 5 chunked + fletcher32,
 * 6 chunked + n-bit, 7 chunked + scale-offset. Returns 0 or -1. */
static inline int fg_dataset_nd(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank,
                                const hsize_t *dims, const void *data, int layout)
{
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hsize_t cdims[2] = {dims[0] ? (dims[0] + 2) / 3 : 1, rank > 1 ? (dims[1] ? dims[1] : 1) : 1};
    layout %= 8;
    uint64_t n = dims[0] * (rank > 1 ? dims[1] : 1);
    if (layout == 1 && n * H5Tget_size(ftype) < 60000)
        H5Pset_layout(dcpl, H5D_COMPACT);
    else if (layout >= 2 && n > 0)
        H5Pset_chunk(dcpl, rank, cdims);
    if (layout >= 2 && n > 0) {
        if (layout == 3)
            H5Pset_deflate(dcpl, 1);
        if (layout == 4) {
            H5Pset_shuffle(dcpl);
            H5Pset_deflate(dcpl, 6);
        }
        if (layout == 5)
            H5Pset_fletcher32(dcpl);
        if (layout == 6)
            H5Pset_nbit(dcpl);
        if (layout == 7)
            H5Pset_scaleoffset(dcpl, H5Z_SO_INT, H5Z_SO_INT_MINBITS_DEFAULT);
    }
    hid_t ds = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    int rc = -1;
    if (ds >= 0) {
        rc = n == 0 || H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0 ? 0 : -1;
        H5Dclose(ds);
    }
    H5Pclose(dcpl);
    H5Sclose(space);
    return rc;
}

/* A new HDF5 file: lmz's property lists (checksummed metadata) or HDF5's
 * defaults (superblock version 0, no metadata checksums), as a hostile
 * writer might use. */
static inline hid_t fg_create(const char *path, int lmz_props)
{
    lmz_h5_init();
    if (!lmz_props)
        return H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t fcpl = lmz_h5_fcpl(), fapl = lmz_h5_fapl();
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
    H5Pclose(fcpl);
    H5Pclose(fapl);
    return f;
}

/* ---- checksums as docs/format.md defines them ---- */

/* members_xxh64 over names given as (bytes, length), which may hold any
 * byte (lmz_members_checksum takes C strings). */
static inline uint64_t fg_members_checksum(const uint8_t *const *names, const uint32_t *name_len,
                                           const lmz_member_row *rows, size_t n)
{
    XXH64_state_t *st = XXH64_createState();
    XXH64_reset(st, 0);
    for (size_t k = 0; k < n; k++) {
        uint8_t head[4], tail[20];
        for (int i = 0; i < 4; i++)
            head[i] = (uint8_t)(name_len[k] >> (8 * i));
        XXH64_update(st, head, 4);
        XXH64_update(st, names[k], name_len[k]);
        for (int i = 0; i < 8; i++) {
            tail[i] = (uint8_t)(rows[k].offset >> (8 * i));
            tail[8 + i] = (uint8_t)(rows[k].size >> (8 * i));
        }
        for (int i = 0; i < 4; i++)
            tail[16 + i] = (uint8_t)(rows[k].mode >> (8 * i));
        XXH64_update(st, tail, 20);
    }
    uint64_t h = XXH64_digest(st);
    XXH64_freeState(st);
    return h;
}

/* ---- a whole archive ---- */

#define FG_MAX_BLOCKS 8
#define FG_MAX_MEMBERS 8

/* What a forged archive holds. Anything may be inconsistent; the fix_*
 * flags make the corresponding checksum right, so that validation goes
 * past it. */
typedef struct fg_archive {
    int lmz_props;                  /* lmz's file properties, else HDF5's defaults */
    uint32_t omit;                  /* bit k: leave out root attribute k */
    uint8_t wrong_type[18];         /* per attribute: 0 = right type */
    uint8_t str_how;                /* how string attributes are stored */
    uint64_t format_version, arith_version, chunk_size, chunks_per_block;
    char kind[24], model_hash[40], model_name[72], tool_version[40], checksum[16];
    uint64_t raw_size, payload_size, nblocks_attr, nmembers_attr;
    uint64_t model_embedded, model_bytes;
    int fix_index, fix_members;
    /* /index */
    int index_kind;                 /* 0: right compound; 1: u8 array; 2: missing; 3: fewer fields */
    lmz_index_entry index[FG_MAX_BLOCKS];
    uint64_t nrows;
    /* /payload */
    int payload_kind;               /* 0: u8 contiguous; 1: u8 chunked; 2: i16; 3: 2-D; 4: missing */
    uint64_t payload_chunk;
    uint8_t *payload;
    uint64_t payload_len;
    /* /members and /member_names */
    int members_kind;               /* 0: right; 1: missing names; 2: names of wrong length */
    lmz_member_row rows[FG_MAX_MEMBERS];
    const uint8_t *names[FG_MAX_MEMBERS];
    uint32_t name_len[FG_MAX_MEMBERS];
    size_t nmembers;
    const lmz_model *embed;         /* written as /model when not NULL */
} fg_archive;

static const char *const fg_attr_names[18] = {
    "format", "format_version", "arith_version", "chunk_size", "chunks_per_block", "kind",
    "raw_size", "payload_size", "nblocks", "model_hash", "model_name", "model_embedded",
    "model_bytes", "tool_version", "checksum", "index_xxh64", "members_xxh64", "nmembers"};

static inline void fg_write_attrs(hid_t f, const fg_archive *a, uint64_t index_xxh64,
                                  uint64_t members_xxh64)
{
    for (int k = 0; k < 18; k++) {
        if (a->omit & (1u << k))
            continue;
        const char *name = fg_attr_names[k];
        uint8_t wt = a->wrong_type[k];
        switch (k) {
        case 0: fg_attr_str(f, name, "lmz", a->str_how); break;
        case 1: fg_attr_uint(f, name, a->format_version, 0, wt); break;
        case 2: fg_attr_uint(f, name, a->arith_version, 0, wt); break;
        case 3: fg_attr_uint(f, name, a->chunk_size, 0, wt); break;
        case 4: fg_attr_uint(f, name, a->chunks_per_block, 0, wt); break;
        case 5: fg_attr_str(f, name, a->kind, a->str_how + wt); break;
        case 6: fg_attr_uint(f, name, a->raw_size, 1, wt); break;
        case 7: fg_attr_uint(f, name, a->payload_size, 1, wt); break;
        case 8: fg_attr_uint(f, name, a->nblocks_attr, 1, wt); break;
        case 9: fg_attr_str(f, name, a->model_hash, a->str_how + wt); break;
        case 10: fg_attr_str(f, name, a->model_name, a->str_how + wt); break;
        case 11: fg_attr_uint(f, name, a->model_embedded, 0, wt); break;
        case 12: fg_attr_uint(f, name, a->model_bytes, 1, wt); break;
        case 13: fg_attr_str(f, name, a->tool_version, a->str_how + wt); break;
        case 14: fg_attr_str(f, name, a->checksum, a->str_how + wt); break;
        case 15: fg_attr_uint(f, name, index_xxh64, 1, wt); break;
        case 16: fg_attr_uint(f, name, members_xxh64, 1, wt); break;
        case 17: fg_attr_uint(f, name, a->nmembers_attr, 1, wt); break;
        }
    }
}

/* Write a forged archive to path. Returns 0, or -1 if HDF5 would not. */
static inline int fg_write_archive(const char *path, const fg_archive *a, uint64_t index_xxh64,
                                   uint64_t members_xxh64)
{
    hid_t f = fg_create(path, a->lmz_props);
    if (f < 0)
        return -1;
    if (a->fix_index)
        index_xxh64 = lmz_index_checksum(a->index, a->nrows);
    if (a->fix_members)
        members_xxh64 = fg_members_checksum(a->names, a->name_len, a->rows, a->nmembers);
    /* /index */
    hid_t ft = lmz_index_file_type(), mt = lmz_index_mem_type();
    switch (a->index_kind % 4) {
    case 0: lmz_archive_write_table(f, "index", ft, mt, a->nrows, a->index); break;
    case 1: fg_dataset(f, "index", H5T_STD_U8LE, H5T_NATIVE_UINT8, a->nrows * 8,
                       (const uint8_t *)a->index, 0); break;
    case 2: break;
    case 3: {
        /* a compound lacking raw_xxh64 */
        hid_t t = H5Tcreate(H5T_COMPOUND, 32);
        H5Tinsert(t, "raw_offset", 0, H5T_STD_U64LE);
        H5Tinsert(t, "raw_len", 8, H5T_STD_U32LE);
        H5Tinsert(t, "payload_offset", 12, H5T_STD_U64LE);
        H5Tinsert(t, "payload_len", 20, H5T_STD_U32LE);
        H5Tinsert(t, "payload_xxh64", 24, H5T_STD_U64LE);
        lmz_archive_write_table(f, "index", t, mt, a->nrows, a->index);
        H5Tclose(t);
        break;
    }
    }
    H5Tclose(ft);
    H5Tclose(mt);
    /* /payload */
    switch (a->payload_kind % 5) {
    case 0: fg_dataset(f, "payload", H5T_STD_U8LE, H5T_NATIVE_UINT8, a->payload_len, a->payload, 0); break;
    case 1: fg_dataset(f, "payload", H5T_STD_U8LE, H5T_NATIVE_UINT8, a->payload_len, a->payload,
                       a->payload_chunk ? a->payload_chunk : 1); break;
    case 2: fg_dataset(f, "payload", H5T_STD_I16LE, H5T_NATIVE_UINT8, a->payload_len, a->payload, 0); break;
    case 3: {
        hsize_t dims[2] = {a->payload_len / 2, 2};
        lmz_h5_write_array(f, "payload", H5T_STD_U8LE, H5T_NATIVE_UINT8, 2, dims, a->payload);
        break;
    }
    case 4: break;
    }
    /* /members, /member_names */
    uint64_t names_len = 0;
    for (size_t k = 0; k < a->nmembers; k++)
        names_len += a->name_len[k];
    uint8_t *blob = calloc(1, names_len + 4); /* members_kind 2 may write 3 bytes of none */
    FZ_ASSERT(blob);
    uint64_t pos = 0;
    for (size_t k = 0; k < a->nmembers; k++) {
        memcpy(blob + pos, a->names[k], a->name_len[k]);
        pos += a->name_len[k];
    }
    ft = lmz_member_row_file_type();
    mt = lmz_member_row_mem_type();
    lmz_archive_write_table(f, "members", ft, mt, a->nmembers, a->rows);
    H5Tclose(ft);
    H5Tclose(mt);
    if (a->members_kind % 3 == 0)
        lmz_archive_write_table(f, "member_names", H5T_STD_U8LE, H5T_NATIVE_UINT8, names_len, blob);
    else if (a->members_kind % 3 == 2)
        lmz_archive_write_table(f, "member_names", H5T_STD_U8LE, H5T_NATIVE_UINT8,
                                names_len ? names_len - 1 : 3, blob);
    free(blob);
    fg_write_attrs(f, a, index_xxh64, members_xxh64);
    if (a->embed) {
        hid_t g = lmz_h5_create_group(f, "model");
        if (g >= 0) {
            lmz_err e;
            lmz_model_h5_write(g, a->embed, &e);
            H5Gclose(g);
        }
    }
    return H5Fclose(f) < 0 ? -1 : 0;
}

#endif
