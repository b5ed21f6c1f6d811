/* outfile.h (host/pipeline/, not public): an output stream that is either standard
 * output or a file that appears only when complete. The file side is
 * io/lmz_atomic.h (temporary file beside the target, locked while written,
 * fsync, rename without replacing unless force, stale temporary files of
 * killed runs removed); this layer adds a stdio stream over it (the callers
 * print with fprintf) and the CLI's wording of an existing target. */
#ifndef LMZ_OUTFILE_H
#define LMZ_OUTFILE_H

#include <stdint.h>
#include <stdio.h>

#include "lmz_atomic.h"
#include "lmz_error.h"

typedef struct lmz_outfile {
    lmz_atomic file; /* the temporary file and its target; all zero for stdout */
    FILE *f;         /* where bytes go: stdout, or a stream on a dup of file's descriptor */
} lmz_outfile;

/* Open path for writing (path "-" or NULL: stdout). Fails with
 * LMZ_ERR_EXISTS if path exists and force is 0. Creates missing parent
 * directories when make_dirs is set. The file gets permission bits mode
 * (0: 0644) at commit. */
lmz_status lmz_outfile_open(lmz_outfile *o, const char *path, int force, int make_dirs,
                            uint32_t mode, lmz_err *err);
lmz_status lmz_outfile_write(lmz_outfile *o, const void *buf, size_t n, lmz_err *err);
/* Flush and put the file in place (stdout: flush). On failure the
 * temporary file is already removed. */
lmz_status lmz_outfile_commit(lmz_outfile *o, lmz_err *err);
/* Remove the temporary file; safe on a zeroed, committed or failed one. */
void lmz_outfile_abort(lmz_outfile *o);

#endif
