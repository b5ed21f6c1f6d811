/* archive_priv.h: what the archive writer and reader share (host/format/,
 * not public): the HDF5 types of /index and /members, the checksums over them,
 * and the validation rules of docs/format.md. The writer runs the same
 * checks as the reader before it writes, so it cannot make an archive that
 * lmz would refuse to read. */
#ifndef LMZ_ARCHIVE_PRIV_H
#define LMZ_ARCHIVE_PRIV_H

#include <hdf5.h>

#include "lmz_archive.h"

/* Storage chunk of /payload, in bytes (an HDF5 chunk, not an lmz chunk). */
#define LMZ_PAYLOAD_STORAGE_CHUNK (1u << 20)
/* Bytes of one /index row in its canonical serialization (and on disk). */
#define LMZ_INDEX_ROW_BYTES 40
#define LMZ_MAX_CHUNK_SIZE 65536
#define LMZ_MAX_CHUNKS_PER_BLOCK 4096
#define LMZ_CHECKSUM_NAME "XXH64"

/* Bytes of one /members row on disk. */
#define LMZ_MEMBER_ROW_BYTES 32

/* /index: the packed little-endian file type and the in-memory type of
 * lmz_index_entry. Caller closes. */
hid_t lmz_index_file_type(void);
hid_t lmz_index_mem_type(void);

/* One /members row as stored: the name is bytes [name_offset, name_offset +
 * name_len) of /member_names. Names are not HDF5 variable-length strings
 * because HDF5 (1.10) crashes or hangs on a damaged global heap; every byte
 * lmz reads is plain fixed-size data that it checks itself. */
typedef struct lmz_member_row {
    uint64_t name_offset;
    uint32_t name_len;
    uint64_t offset;
    uint64_t size;
    uint32_t mode;
} lmz_member_row;

hid_t lmz_member_row_file_type(void);
hid_t lmz_member_row_mem_type(void);

/* A contiguous 1-D dataset of n elements (created empty when n is 0). */
int lmz_archive_write_table(hid_t file, const char *name, hid_t ftype, hid_t mtype, uint64_t n,
                            const void *rows);
/* Write /members and /member_names for n members (used by the writer; the
 * tests use it to forge archives). Returns 0 or -1. */
int lmz_archive_write_members(hid_t file, const lmz_member *members, size_t n);

/* XXH64 (seed 0) of the canonical serializations (docs/format.md). */
uint64_t lmz_index_checksum(const lmz_index_entry *index, uint64_t n);
uint64_t lmz_members_checksum(const lmz_member *members, size_t n);

/* The rules of docs/format.md, "Validation". path names the file in
 * messages. check_info covers the attributes that do not depend on the
 * datasets; check_index the rows against info (LMZ_ERR_CORRUPT_INDEX);
 * check_members the members against info (LMZ_ERR_CORRUPT_INDEX, or
 * LMZ_ERR_UNSAFE_NAME naming the member). */
lmz_status lmz_archive_check_info(const char *path, const lmz_archive_info *info, lmz_err *err);
lmz_status lmz_archive_check_index(const char *path, const lmz_archive_info *info,
                                   const lmz_index_entry *index, lmz_err *err);
lmz_status lmz_archive_check_members(const char *path, const lmz_archive_info *info,
                                     const lmz_member *members, size_t n, lmz_err *err);

#endif
