/* lmz_error.h: numbered error codes shared by every lmz module.
 *
 * Library code never prints or exits: it returns an lmz_status and, where a
 * caller passes one, fills an lmz_err with a one-line message naming the
 * problem (the file, the block number...). The CLI prints that line. */
#ifndef LMZ_ERROR_H
#define LMZ_ERROR_H

#include <stddef.h>

typedef enum lmz_status {
    LMZ_OK = 0,
    LMZ_ERR_GENERIC = 1,         /* unspecified failure */
    LMZ_ERR_NOMEM = 2,           /* allocation failed */
    LMZ_ERR_IO = 3,              /* read/write/open failed (errno in message) */
    LMZ_ERR_USAGE = 4,           /* bad flags or arguments */
    LMZ_ERR_NOT_ARCHIVE = 5,     /* file is not an lmz archive */
    LMZ_ERR_VERSION = 6,         /* newer format or arithmetic version */
    LMZ_ERR_CORRUPT_INDEX = 7,   /* index fails its checksum or validation */
    LMZ_ERR_CORRUPT_BLOCK = 8,   /* a block fails its payload/raw checksum or parse */
    LMZ_ERR_MODEL_MISSING = 9,   /* the archive's model cannot be found */
    LMZ_ERR_MODEL_MISMATCH = 10, /* the given model is not the archive's */
    LMZ_ERR_MODEL_INVALID = 11,  /* a model file is malformed */
    LMZ_ERR_EXISTS = 12,         /* output exists and -f was not given */
    LMZ_ERR_UNSAFE_NAME = 13,    /* a member name would escape the output dir */
    LMZ_ERR_RANGE = 14,          /* requested block/range/member does not exist */
    LMZ_ERR_NO_DEVICE = 15,      /* requested device not available */
    LMZ_ERR_TRUNCATED = 16,      /* file shorter than its metadata says */
    LMZ_ERR_COUNT
} lmz_status;

/* The error record: a status plus a message of one line. */
typedef struct lmz_err {
    lmz_status code;
    char msg[512];
} lmz_err;

/* Stable lower-case name of a code, e.g. "corrupt_block". */
const char *lmz_status_name(lmz_status code);

/* Set err (if non-NULL) to code and a printf-style message; returns code so
 * that callers can write `return lmz_err_set(err, LMZ_ERR_IO, "...")`. */
lmz_status lmz_err_set(lmz_err *err, lmz_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Clear err to LMZ_OK with an empty message. */
void lmz_err_clear(lmz_err *err);

#endif
