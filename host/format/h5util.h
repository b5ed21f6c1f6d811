/* h5util.h: private helpers of host/ for the HDF5 files lmz writes (archives
 * and model files): deterministic creation properties, typed attribute
 * access that checks the stored type before reading, telling apart why HDF5
 * failed, and the temporary-file-and-rename protocol. Not a public header. */
#ifndef LMZ_H5UTIL_H
#define LMZ_H5UTIL_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "lmz_atomic.h"
#include "lmz_error.h"

/* Turn HDF5's automatic error printing off for the calling thread: lmz
 * reports one line of its own. Every entry point that calls HDF5 calls
 * this. */
void lmz_h5_init(void);

/* 1 if the current HDF5 error stack holds an error with this minor number
 * (H5E_TRUNCATED, H5E_NOTHDF5, H5E_CHECKSUM...). Call it right after the
 * failed call: every HDF5 API call clears the stack on entry. */
int lmz_h5_error_has_minor(hid_t minor);

/* Property lists for deterministic files: libver bounds v18..latest (so
 * metadata is checksummed), no object time stamps, attributes kept in the
 * object header, no aggregation holes, no file locks. Each returns a new
 * list the caller closes; < 0 on failure. */
hid_t lmz_h5_fapl(void);
/* Open path read-only with the same access properties (no file locks).
 * After a failure the HDF5 error stack still describes why. A file whose
 * superblock is not at offset 0, or is of version 0 or 1, is not opened at
 * all (-1, nothing on the error stack): see lmz_h5_superblock_version. */
hid_t lmz_h5_open_read(const char *path);
/* The version of the HDF5 superblock at offset 0 of path (0..3 today), -1
 * if the file does not start with HDF5's signature, -2 if it ends right
 * after the signature (truncated; HDF5 says so). lmz writes version 2
 * or later, where every piece of metadata carries a checksum, and reads
 * nothing else: HDF5 1.10 parses the unchecksummed metadata of versions 0
 * and 1 without enough care, and a damaged or crafted one crashes it
 * (docs/hdf5-crashes.md). */
int lmz_h5_superblock_version(const char *path);
hid_t lmz_h5_fcpl(void);
hid_t lmz_h5_gcpl(void);
hid_t lmz_h5_dcpl(void);

/* Create a group with lmz_h5_gcpl. */
hid_t lmz_h5_create_group(hid_t loc, const char *name);
/* Create and fill a contiguous dataset of rank 1 or 2 with file type ftype,
 * written from memory type mtype. Returns 0 or -1. */
int lmz_h5_write_array(hid_t loc, const char *name, hid_t ftype, hid_t mtype,
                       int rank, const hsize_t *dims, const void *data);

/* Scalar attributes. Return 0 or -1. Strings are fixed-length,
 * NUL-terminated, ASCII/UTF-8. */
int lmz_h5_attr_write_u32(hid_t loc, const char *name, uint32_t v);
int lmz_h5_attr_write_i32(hid_t loc, const char *name, int32_t v);
int lmz_h5_attr_write_u64(hid_t loc, const char *name, uint64_t v);
int lmz_h5_attr_write_str(hid_t loc, const char *name, const char *s);

/* Read a scalar (or one-element) integer attribute of any integer type
 * into an int64 range check: 0 on success, -1 if missing, not an integer,
 * not one element, or outside [lo, hi]. */
int lmz_h5_attr_read_int(hid_t loc, const char *name, int64_t lo, int64_t hi, int64_t *out);
/* The same for values that need the full u64 range. */
int lmz_h5_attr_read_u64(hid_t loc, const char *name, uint64_t *out);
/* Read a fixed-length string attribute into buf of cap bytes,
 * NUL-terminated: 0 on success, -1 if missing, not a string, a
 * variable-length string (those live in HDF5's unchecksummed global heap,
 * which HDF5 1.10 cannot read safely when damaged: docs/hdf5-crashes.md),
 * not one element or not shorter than cap. */
int lmz_h5_attr_read_str(hid_t loc, const char *name, char *buf, size_t cap);

/* Check a dataset's element type and shape before reading it: its type
 * class is H5T_INTEGER with the given size in bytes and sign (H5T_SGN_NONE
 * or H5T_SGN_2), its rank and dims equal the expected ones. Returns 0 or
 * -1. */
int lmz_h5_check_int_dataset(hid_t ds, size_t size, H5T_sign_t sign, int rank,
                             const hsize_t *dims);

/* The temporary file of an atomic write: io/lmz_atomic.h, under the names
 * the archive and model writers use. HDF5 creates the file by name
 * (t->tmp) over the empty temporary file, which keeps its lock. */
typedef lmz_atomic lmz_tmpfile;

/* lmz_atomic_open with mode 0 (0666 minus the umask): refuse
 * (LMZ_ERR_EXISTS) an existing target without force, remove stale
 * temporary files there, create the empty temporary file, locked. */
lmz_status lmz_tmpfile_create(lmz_tmpfile *t, const char *target, int force, lmz_err *err);
/* lmz_atomic_commit: fsync the (HDF5-closed) file, rename it onto the
 * target (without force never over a file that appeared meanwhile:
 * LMZ_ERR_EXISTS), fsync the directory. On failure the temporary file is
 * already removed; lmz_tmpfile_discard afterwards is harmless. */
lmz_status lmz_tmpfile_commit(lmz_tmpfile *t, lmz_err *err);
/* lmz_atomic_abort: remove the temporary file (if any), free the names. */
void lmz_tmpfile_discard(lmz_tmpfile *t);

/* Message of a failed write: strerror(saved_errno) or a generic text. */
const char *lmz_h5_strerror(int saved_errno);

#endif
