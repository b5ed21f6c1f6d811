/* outfile.h (private to host/): an output file that appears only when
 * complete. Bytes go to a temporary file beside the target; commit renames it
 * into place (refusing to replace an existing file unless force), abort
 * removes it. Standard output is passed through unbuffered by lmz.
 *
 * Temporary files are named ".<target's basename>.lmz-tmp-XXXXXX" and are
 * locked (an open-file-description lock, which the kernel drops when the
 * process dies, even by SIGKILL) for as long as lmz writes them. A killed
 * lmz leaves its temporary file behind, unlocked; the next lmz that writes
 * into that directory removes it (lmz_tmp_clean). lmz never reads one. */
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
    int lock_fd1;    /* 1 + the fd that holds the temporary file's lock until
                        commit or abort; 0 when none (so a zeroed struct is safe) */
} lmz_outfile;

/* Open path for writing (path "-" or NULL: stdout). Fails with
 * LMZ_ERR_EXISTS if path exists and force is 0. Creates missing parent
 * directories when make_dirs is set. */
lmz_status lmz_outfile_open(lmz_outfile *o, const char *path, int force, int make_dirs,
                            uint32_t mode, lmz_err *err);
lmz_status lmz_outfile_write(lmz_outfile *o, const void *buf, size_t n, lmz_err *err);
lmz_status lmz_outfile_commit(lmz_outfile *o, lmz_err *err);
void lmz_outfile_abort(lmz_outfile *o);

/* Remove what killed lmz runs left in the directory of target: regular
 * files named ".NAME.lmz-tmp-XXXXXX" (any NAME), owned by this user, that
 * no running lmz holds locked. Each directory is scanned once per process.
 * Failures are ignored: a stale file that stays is only wasted space. */
void lmz_tmp_clean(const char *target);
/* Lock the temporary file just created (fd open on it) for as long as fd,
 * or a dup of it, stays open. Returns 0, or -1 if another lmz's
 * lmz_tmp_clean removed the file before it was locked (create another). On
 * a file system without locks it returns 0 and nothing is ever cleaned
 * there. */
int lmz_tmp_lock(int fd);

/* Create every missing directory of path's parent. */
lmz_status lmz_make_parent_dirs(const char *path, lmz_err *err);
/* Rename tmp to path; without force never replaces an existing path (link +
 * unlink, so a file that appeared meanwhile is kept). */
lmz_status lmz_rename_into_place(const char *tmp, const char *path, int force, lmz_err *err);

#endif
