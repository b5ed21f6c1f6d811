/* lmz_error.h: numbered error codes shared by every lmz module.
 *
 * Library code never prints or exits: it returns an lmz_status and, where a
 * caller passes one, fills an lmz_err with a one-line message naming the
 * problem (the file, the block number...). The CLI prints that line. */
#ifndef LMZ_ERROR_H
#define LMZ_ERROR_H

#include <stddef.h>

/* The status codes (lmz_status, LMZ_OK, LMZ_ERR_*), lmz_error and
 * lmz_status_name are the public ones of include/lmz.h: one definition, so
 * the numbers the library returns are the numbers its users see. */
#include "lmz.h"

/* The error record: a status plus a message of one line. */
typedef lmz_error lmz_err;

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
