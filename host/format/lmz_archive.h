/* lmz_archive.h: the HDF5 archive (docs/format.md).
 *
 * Writer: blocks are appended in order by one thread (HDF5 serialises calls),
 * into a temporary file beside the target that lmz_archive_finish renames into
 * place; lmz_archive_abort removes it. Reader: lmz_afile_open validates the
 * attributes, the index (its checksum and every offset and length, before
 * anything is allocated from them) and the members; blocks are read one at a
 * time and checked against their payload checksum. */
#ifndef LMZ_ARCHIVE_H
#define LMZ_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "lmz_error.h"
#include "lmz_model.h"

#define LMZ_FORMAT_NAME "lmz"
/* The newest archive format this lmz reads and writes. Format 2 adds the
 * classical block modes (LZMA2, zstd); an archive records 2 only when it
 * has such a block, else 1 (docs/format.md, "Versions"). */
#define LMZ_FORMAT_VERSION 2

typedef struct lmz_index_entry {
    uint64_t raw_offset;      /* of the block's first byte in the raw stream */
    uint64_t payload_offset;  /* of the block in /payload */
    uint32_t raw_len;
    uint32_t payload_len;
    uint64_t payload_xxh64;   /* XXH64 (seed 0) of the block's payload bytes */
    uint64_t raw_xxh64;       /* XXH64 (seed 0) of the block's raw bytes */
} lmz_index_entry;

typedef struct lmz_member {
    char *name;               /* relative path, '/'-separated, UTF-8 */
    uint64_t offset;          /* in the raw stream */
    uint64_t size;
    uint32_t mode;            /* permission bits (0644 for stdin) */
} lmz_member;

typedef struct lmz_archive_info {
    uint32_t format_version;
    uint32_t arith_version;
    uint32_t chunk_size;
    uint32_t chunks_per_block;
    char kind[16];            /* "text", "image", "audio", "bytes" */
    uint64_t raw_size;
    uint64_t payload_size;
    uint64_t nblocks;
    char model_hash[33];      /* 32 hex digits */
    char model_name[64];
    int model_embedded;       /* 1: /model holds it */
    uint64_t model_bytes;     /* size of the model's tensors (for the adjusted rate) */
    char tool_version[32];
} lmz_archive_info;

typedef struct lmz_archive_writer lmz_archive_writer;

/* Start an archive that will end up at path. Fails with LMZ_ERR_EXISTS when
 * path exists and force is 0 (checked again at rename). */
lmz_status lmz_archive_create(const char *path, int force, lmz_archive_writer **out, lmz_err *err);
/* Append one block (blocks come in raw order): len payload bytes (1 to
 * lmz_block_bound(raw_len)) that decode to raw_len bytes whose XXH64 is
 * raw_xxh64. The bytes are copied. Holds at most one 1 MiB storage chunk of
 * payload in memory. A write error (LMZ_ERR_IO "PATH: write failed: ...")
 * sticks: every later call on w returns it. */
lmz_status lmz_archive_append_block(lmz_archive_writer *w, const uint8_t *blk, size_t len,
                                    uint32_t raw_len, uint64_t raw_xxh64, lmz_err *err);
/* Write index, members, attributes and, if embed is not NULL, the model;
 * then fsync and rename into place. From info the writer takes
 * arith_version, chunk_size, chunks_per_block, kind, model_hash, model_name,
 * model_bytes and tool_version ("" = this lmz's version); it sets
 * format_version (2 if a block has a classical mode, else 1), raw_size,
 * payload_size and nblocks itself, and with embed
 * model_embedded = 1, model_hash = embed's hash and model_name = embed->name
 * when info's is "". Before writing it runs the reader's checks on the
 * result (LMZ_ERR_USAGE for an inconsistent description, LMZ_ERR_UNSAFE_NAME
 * for a bad member name), so it never makes an archive lmz would refuse.
 * On success w is freed; on failure w stays and the caller calls
 * lmz_archive_abort. */
lmz_status lmz_archive_finish(lmz_archive_writer *w, const lmz_archive_info *info,
                              const lmz_member *members, size_t nmembers,
                              const lmz_model *embed, lmz_err *err);
/* Give up: close and remove the temporary file, free w. Safe after any
 * failed call (not after a successful finish, which freed w). NULL is a
 * no-op. */
void lmz_archive_abort(lmz_archive_writer *w);

/* A payload written by other means (the MPI ranks' parallel HDF5 writer,
 * host/mpi/): lmz_archive_reserve makes the writer and its temporary file
 * (lmz_archive_tmp_path) without creating the HDF5 file; someone else
 * creates it there with /payload (the layout of docs/format.md) and closes
 * it; lmz_archive_adopt_payload then opens it again and takes the index
 * (copied; payload_offset and raw_offset as final) and whether a block has
 * a classical mode, so that lmz_archive_finish writes the rest exactly as
 * for appended blocks. On failure: lmz_archive_abort. */
lmz_status lmz_archive_reserve(const char *path, int force, lmz_archive_writer **out,
                               lmz_err *err);
const char *lmz_archive_tmp_path(const lmz_archive_writer *w);
lmz_status lmz_archive_adopt_payload(lmz_archive_writer *w, const lmz_index_entry *index,
                                     uint64_t nblocks, int classical, lmz_err *err);

/* The archive file as stored: validated tables, payload access. (The
 * public handle of lmz.h, lmz_archive, wraps one with a model and a
 * decoder: host/api/.) */
typedef struct lmz_afile lmz_afile;

/* Open and validate (docs/format.md, "Validation"): LMZ_ERR_IO (cannot
 * read), LMZ_ERR_NOT_ARCHIVE, LMZ_ERR_TRUNCATED, LMZ_ERR_VERSION,
 * LMZ_ERR_CORRUPT_INDEX (header, index or member table damaged),
 * LMZ_ERR_UNSAFE_NAME. The index and members stay in memory (40 and ~32
 * bytes each plus names). */
lmz_status lmz_afile_open(const char *path, lmz_afile **out, lmz_err *err);
/* NULL is a no-op. */
void lmz_afile_close(lmz_afile *a);
const lmz_archive_info *lmz_afile_info(const lmz_afile *a);
const lmz_index_entry *lmz_afile_index(const lmz_afile *a, uint64_t *nblocks);
const lmz_member *lmz_afile_members(const lmz_afile *a, size_t *nmembers);
/* Read block b's payload into buf (index[b].payload_len bytes) and check its
 * checksum: LMZ_ERR_CORRUPT_BLOCK "PATH: block N: payload checksum
 * mismatch"; LMZ_ERR_RANGE if b >= nblocks. Not thread-safe against other
 * calls on the same archive (HDF5 serialises anyway). */
lmz_status lmz_afile_read_block(lmz_afile *a, uint64_t b, uint8_t *buf, lmz_err *err);
/* The first payload byte of block b, its mode (lmz_block.h), NOT checked
 * against the payload checksum: for listing only (decoding reads the block
 * whole and checks it). LMZ_ERR_RANGE if b >= nblocks. */
lmz_status lmz_afile_peek_mode(lmz_afile *a, uint64_t b, uint8_t *mode, lmz_err *err);
/* The embedded model, loaded and checked like a model file and against
 * model_hash (LMZ_ERR_MODEL_MISSING if the archive names a shipped model
 * instead: find it with lmz_model_find_by_hash). */
lmz_status lmz_afile_read_model(lmz_afile *a, lmz_model **out, lmz_err *err);

/* Longest member name, in bytes (UTF-8). */
#define LMZ_MAX_MEMBER_NAME 4096

/* 1 if name is safe to create under an output directory: 1 to
 * LMZ_MAX_MEMBER_NAME bytes; relative ('/'-separated, no leading or trailing
 * '/'); no empty, "." or ".." component; no backslash; no control character
 * (bytes 0x01-0x1f, 0x7f). Names are canonical: "a/./b" and "./a" are
 * refused too (docs/format.md, "Members"). */
int lmz_member_name_safe(const char *name);

#endif
