/* outfile.h (private to host/): an output file that appears only when
 * complete. Bytes go to a temporary file beside the target; commit renames it
 * into place (refusing to replace an existing file unless force), abort
 * removes it. Standard output is passed through unbuffered by lmz. */
#ifndef LMZ_OUTFILE_H
#define LMZ_OUTFILE_H

#include <stdint.h>
#include <stdio.h>

#include "lmz_error.h"

typedef struct lmz_outfile {
    char *path;      /* final path; NULL for stdout */
    char *tmp;       /* temporary path */
    FILE *f;
    int force;
    uint32_t mode;
} lmz_outfile;

/* Open path for writing (path "-" or NULL: stdout). Fails with
 * LMZ_ERR_EXISTS if path exists and force is 0. Creates missing parent
 * directories when make_dirs is set. */
lmz_status lmz_outfile_open(lmz_outfile *o, const char *path, int force, int make_dirs,
                            uint32_t mode, lmz_err *err);
lmz_status lmz_outfile_write(lmz_outfile *o, const void *buf, size_t n, lmz_err *err);
lmz_status lmz_outfile_commit(lmz_outfile *o, lmz_err *err);
void lmz_outfile_abort(lmz_outfile *o);

/* Create every missing directory of path's parent. */
lmz_status lmz_make_parent_dirs(const char *path, lmz_err *err);
/* Rename tmp to path; without force never replaces an existing path (link +
 * unlink, so a file that appeared meanwhile is kept). */
lmz_status lmz_rename_into_place(const char *tmp, const char *path, int force, lmz_err *err);

#endif
