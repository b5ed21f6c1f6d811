/* archive_format.c: the archive's table types, checksums and validation
 * rules, shared by archive_write.c and archive_read.c. */
#include "archive_priv.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "h5util.h"

/* ---- HDF5 types ---- */

/* One field of a table row: its name, its offset in the packed
 * little-endian row on disk and in the C struct, and its width (4 or 8
 * bytes, unsigned). The fields are inserted in this order, which is part
 * of the file's bytes. */
typedef struct row_field {
    const char *name;
    size_t file_off, mem_off;
    int bytes;
} row_field;

static const row_field index_fields[] = {
    {"raw_offset", 0, offsetof(lmz_index_entry, raw_offset), 8},
    {"raw_len", 8, offsetof(lmz_index_entry, raw_len), 4},
    {"payload_offset", 12, offsetof(lmz_index_entry, payload_offset), 8},
    {"payload_len", 20, offsetof(lmz_index_entry, payload_len), 4},
    {"payload_xxh64", 24, offsetof(lmz_index_entry, payload_xxh64), 8},
    {"raw_xxh64", 32, offsetof(lmz_index_entry, raw_xxh64), 8},
};

static const row_field member_fields[] = {
    {"name_offset", 0, offsetof(lmz_member_row, name_offset), 8},
    {"name_len", 8, offsetof(lmz_member_row, name_len), 4},
    {"offset", 12, offsetof(lmz_member_row, offset), 8},
    {"size", 20, offsetof(lmz_member_row, size), 8},
    {"mode", 28, offsetof(lmz_member_row, mode), 4},
};

/* The compound type of a row of n fields: on disk (file: packed,
 * little-endian, size bytes) or in memory (the C struct of size bytes). */
static hid_t row_type(const row_field *f, size_t n, size_t size, int file)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, size);
    if (t < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const hid_t ft = f[i].bytes == 8 ? (file ? H5T_STD_U64LE : H5T_NATIVE_UINT64)
                                         : (file ? H5T_STD_U32LE : H5T_NATIVE_UINT32);
        if (H5Tinsert(t, f[i].name, file ? f[i].file_off : f[i].mem_off, ft) < 0) {
            H5Tclose(t);
            return -1;
        }
    }
    return t;
}

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

hid_t lmz_index_file_type(void)
{
    return row_type(index_fields, NFIELDS(index_fields), LMZ_INDEX_ROW_BYTES, 1);
}

hid_t lmz_index_mem_type(void)
{
    return row_type(index_fields, NFIELDS(index_fields), sizeof(lmz_index_entry), 0);
}

hid_t lmz_member_row_file_type(void)
{
    return row_type(member_fields, NFIELDS(member_fields), LMZ_MEMBER_ROW_BYTES, 1);
}

hid_t lmz_member_row_mem_type(void)
{
    return row_type(member_fields, NFIELDS(member_fields), sizeof(lmz_member_row), 0);
}

/* A contiguous 1-D dataset of n elements; a 0-element one is created and
 * left unwritten (there is nothing to write). */
static int write_table(hid_t file, const char *name, hid_t ftype, hid_t mtype, uint64_t n,
                       const void *rows)
{
    hsize_t dims[1] = {n};
    if (n > 0)
        return lmz_h5_write_array(file, name, ftype, mtype, 1, dims, rows);
    hid_t space = H5Screate_simple(1, dims, NULL);
    hid_t dcpl = lmz_h5_dcpl();
    hid_t ds = -1;
    if (space >= 0 && dcpl >= 0)
        ds = H5Dcreate2(file, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    return ds >= 0 && H5Dclose(ds) >= 0 ? 0 : -1;
}

int lmz_archive_write_table(hid_t file, const char *name, hid_t ftype, hid_t mtype, uint64_t n,
                            const void *rows)
{
    return write_table(file, name, ftype, mtype, n, rows);
}

int lmz_archive_write_members(hid_t file, const lmz_member *members, size_t n)
{
    size_t names_len = 0;
    for (size_t k = 0; k < n; k++)
        names_len += strlen(members[k].name);
    lmz_member_row *rows = malloc((n ? n : 1) * sizeof *rows);
    char *names = malloc(names_len ? names_len : 1);
    hid_t ft = lmz_member_row_file_type(), mt = lmz_member_row_mem_type();
    int rc = -1;
    if (rows && names && ft >= 0 && mt >= 0) {
        size_t pos = 0;
        for (size_t k = 0; k < n; k++) {
            size_t len = strlen(members[k].name);
            rows[k] = (lmz_member_row){pos, (uint32_t)len, members[k].offset, members[k].size,
                                       members[k].mode};
            memcpy(names + pos, members[k].name, len);
            pos += len;
        }
        rc = write_table(file, "members", ft, mt, n, rows) |
             write_table(file, "member_names", H5T_STD_U8LE, H5T_NATIVE_UINT8, names_len, names);
    }
    if (ft >= 0)
        H5Tclose(ft);
    if (mt >= 0)
        H5Tclose(mt);
    free(rows);
    free(names);
    return rc;
}

/* ---- checksums over canonical little-endian serializations ---- */

static void put_le(uint8_t *p, uint64_t v, int nbytes)
{
    for (int i = 0; i < nbytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A row's canonical bytes: each field of rec (a C struct) little-endian at
 * its offset on disk, as the file type lays it out. */
static void pack_row(uint8_t *row, const row_field *f, size_t n, const void *rec)
{
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = (const uint8_t *)rec + f[i].mem_off;
        uint64_t v;
        if (f[i].bytes == 8) {
            memcpy(&v, p, 8);
        } else {
            uint32_t v32;
            memcpy(&v32, p, 4);
            v = v32;
        }
        put_le(row + f[i].file_off, v, f[i].bytes);
    }
}

/* A streaming XXH64 (seed 0); NULL when out of memory: the checksum is
 * then 0, which the reader's comparison takes for damage. */
static XXH64_state_t *hash_begin(void)
{
    XXH64_state_t *st = XXH64_createState();
    if (st)
        XXH64_reset(st, 0);
    return st;
}

static uint64_t hash_end(XXH64_state_t *st)
{
    if (!st)
        return 0;
    uint64_t h = XXH64_digest(st);
    XXH64_freeState(st);
    return h;
}

uint64_t lmz_index_checksum(const lmz_index_entry *index, uint64_t n)
{
    XXH64_state_t *st = hash_begin();
    for (uint64_t b = 0; st && b < n; b++) {
        uint8_t row[LMZ_INDEX_ROW_BYTES];
        pack_row(row, index_fields, NFIELDS(index_fields), &index[b]);
        XXH64_update(st, row, sizeof row);
    }
    return hash_end(st);
}

uint64_t lmz_members_checksum(const lmz_member *members, size_t n)
{
    XXH64_state_t *st = hash_begin();
    for (size_t k = 0; st && k < n; k++) {
        const lmz_member *m = &members[k];
        size_t len = m->name ? strlen(m->name) : 0;
        uint8_t head[4], tail[20];
        put_le(head, (uint32_t)len, 4);
        XXH64_update(st, head, sizeof head);
        if (len)
            XXH64_update(st, m->name, len);
        put_le(tail + 0, m->offset, 8);
        put_le(tail + 8, m->size, 8);
        put_le(tail + 16, m->mode, 4);
        XXH64_update(st, tail, sizeof tail);
    }
    return hash_end(st);
}

/* ---- validation ---- */

static int is_hash_hex(const char *s)
{
    size_t n = strlen(s);
    if (n != 32)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

lmz_status lmz_archive_check_info(const char *path, const lmz_archive_info *info, lmz_err *err)
{
    const char *bad = NULL;
    if (info->chunk_size < 1 || info->chunk_size > LMZ_MAX_CHUNK_SIZE)
        bad = "chunk_size";
    else if (info->chunks_per_block < 1 || info->chunks_per_block > LMZ_MAX_CHUNKS_PER_BLOCK)
        bad = "chunks_per_block";
    else if (info->arith_version < 1)
        bad = "arith_version";
    else if (!info->kind[0])
        bad = "kind";
    else if (!is_hash_hex(info->model_hash))
        bad = "model_hash";
    else if (info->model_embedded != 0 && info->model_embedded != 1)
        bad = "model_embedded";
    if (bad)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_INDEX, "%s: invalid %s in the archive header",
                           path, bad);
    return LMZ_OK;
}

static lmz_status index_error(const char *path, uint64_t b, const char *what, uint64_t got,
                              uint64_t want, lmz_err *err)
{
    return lmz_err_set(err, LMZ_ERR_CORRUPT_INDEX,
                       "%s: block %llu: %s is %llu, expected %llu (index damaged)", path,
                       (unsigned long long)b, what, (unsigned long long)got,
                       (unsigned long long)want);
}

lmz_status lmz_archive_check_index(const char *path, const lmz_archive_info *info,
                                   const lmz_index_entry *index, lmz_err *err)
{
    uint64_t block_cap = (uint64_t)info->chunk_size * info->chunks_per_block;
    uint64_t raw = 0, payload = 0;
    for (uint64_t b = 0; b < info->nblocks; b++) {
        const lmz_index_entry *e = &index[b];
        int last = b + 1 == info->nblocks;
        if (e->raw_offset != raw)
            return index_error(path, b, "raw_offset", e->raw_offset, raw, err);
        if (e->raw_len < 1 || e->raw_len > block_cap || (!last && e->raw_len != block_cap))
            return index_error(path, b, "raw_len", e->raw_len, block_cap, err);
        if (e->payload_offset != payload)
            return index_error(path, b, "payload_offset", e->payload_offset, payload, err);
        if (e->payload_len < 1 || e->payload_len > (uint64_t)e->raw_len + 1)
            return index_error(path, b, "payload_len", e->payload_len, (uint64_t)e->raw_len + 1,
                               err);
        raw += e->raw_len;
        payload += e->payload_len;
    }
    if (raw != info->raw_size)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_INDEX,
                           "%s: blocks hold %llu bytes, raw_size says %llu (index damaged)", path,
                           (unsigned long long)raw, (unsigned long long)info->raw_size);
    if (payload != info->payload_size)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_INDEX,
                           "%s: blocks hold %llu payload bytes, payload_size says %llu "
                           "(index damaged)",
                           path, (unsigned long long)payload,
                           (unsigned long long)info->payload_size);
    return LMZ_OK;
}

/* A copy of name fit for a one-line message: control characters become '?'
 * and long names are cut. */
static void printable_name(const char *name, char *out, size_t cap)
{
    size_t i = 0;
    for (; name && name[i] && i + 4 < cap; i++) {
        unsigned char ch = (unsigned char)name[i];
        out[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    if (name && name[i]) {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
}

lmz_status lmz_archive_check_members(const char *path, const lmz_archive_info *info,
                                     const lmz_member *members, size_t n, lmz_err *err)
{
    uint64_t offset = 0;
    for (size_t k = 0; k < n; k++) {
        const lmz_member *m = &members[k];
        if (m->offset != offset || m->size > info->raw_size - offset)
            return lmz_err_set(err, LMZ_ERR_CORRUPT_INDEX,
                               "%s: member %zu: offset %llu size %llu do not follow the "
                               "previous member (member table damaged)",
                               path, k, (unsigned long long)m->offset,
                               (unsigned long long)m->size);
        offset += m->size;
    }
    if (offset != info->raw_size)
        return lmz_err_set(err, LMZ_ERR_CORRUPT_INDEX,
                           "%s: members hold %llu bytes, raw_size says %llu (member table "
                           "damaged)",
                           path, (unsigned long long)offset, (unsigned long long)info->raw_size);
    for (size_t k = 0; k < n; k++) {
        if (!lmz_member_name_safe(members[k].name)) {
            char shown[256];
            printable_name(members[k].name, shown, sizeof shown);
            return lmz_err_set(err, LMZ_ERR_UNSAFE_NAME, "%s: member '%s' has an unsafe name",
                               path, shown);
        }
    }
    return LMZ_OK;
}
