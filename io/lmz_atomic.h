/* lmz_atomic.h: files that appear whole or not at all.
 *
 * Every file lmz writes (archives, model files, decompressed members,
 * extracts, prepared datasets, training checkpoints) goes through here: the
 * bytes go to a temporary file beside the target, which is flushed to disk
 * and then renamed onto the target, so the target path never holds a
 * partial file, whatever happens to the process or the machine.
 *
 * The protocol (docs/format.md, "Writing"):
 *
 *  - The temporary file is "<dir>/.<basename>.lmz-tmp-XXXXXX" (X: letters
 *    and digits), in the target's directory so that the rename is atomic,
 *    starting with a dot so that directory listings hide it, and with a
 *    suffix by which lmz recognises its own leftovers.
 *  - It is created exclusively (O_EXCL) with mode 0666 minus the umask,
 *    like any new file, and held locked (an open-file-description lock,
 *    which the kernel drops when the process ends, SIGKILL included) until
 *    it is renamed or removed.
 *  - Commit: fsync the file, set the requested permission bits, rename it
 *    onto the target, fsync the directory. Without force the rename never
 *    replaces a file (renameat2 RENAME_NOREPLACE, or link + unlink where the
 *    file system lacks it), so a target that appeared after the first check
 *    is kept and the commit fails with LMZ_ERR_EXISTS. With force an
 *    existing target is replaced atomically (rename).
 *  - Any failure, and abort, removes the temporary file.
 *  - Stale temporary files: a killed lmz leaves its temporary file behind,
 *    unlocked. Opening a new one first removes, once per directory and
 *    process, every regular file in the target's directory whose name has
 *    the temporary form (any basename), that belongs to this user and that
 *    nobody holds locked. lmz never reads one.
 *
 * Library code: nothing here prints, exits or reads the environment; errors
 * come back as an lmz_status with a one-line message naming the target. */
#ifndef LMZ_ATOMIC_H
#define LMZ_ATOMIC_H

#include <stdint.h>
#include <stddef.h>

#include "lmz_error.h"

/* Flags of lmz_atomic_open. */
#define LMZ_ATOMIC_FORCE 1u  /* replace an existing target */
#define LMZ_ATOMIC_MKDIRS 2u /* create the target's missing parent directories */

/* One file being written. All zero (memset) is a valid "nothing open"
 * state: lmz_atomic_abort on it does nothing. */
typedef struct lmz_atomic {
    char *target;  /* the final path */
    char *tmp;     /* the temporary file's path (HDF5 writers open it by name) */
    int fd1;       /* 1 + a read-write descriptor of tmp that holds its lock;
                      0 when none (so that a zeroed struct is safe) */
    int force;     /* LMZ_ATOMIC_FORCE was given */
    uint32_t mode; /* permission bits set at commit; 0: keep those of creation */
} lmz_atomic;

/* Refuse (LMZ_ERR_EXISTS, "PATH: already exists") if target exists and
 * LMZ_ATOMIC_FORCE is not in flags; create the parent directories with
 * LMZ_ATOMIC_MKDIRS; remove stale temporary files in the target's
 * directory; create and lock the temporary file. mode: the permission bits
 * the target gets at commit (e.g. a decompressed member's recorded mode), or
 * 0 for 0666 minus the umask. On failure nothing is left behind. */
lmz_status lmz_atomic_open(lmz_atomic *a, const char *target, unsigned flags, uint32_t mode,
                           lmz_err *err);

/* The temporary file's descriptor (read-write, positioned at 0 after open),
 * for callers that write through stdio (dup it) or pwrite. */
int lmz_atomic_fd(const lmz_atomic *a);

/* Append n bytes at the descriptor's position (all of them: short writes
 * and EINTR are retried). */
lmz_status lmz_atomic_write(lmz_atomic *a, const void *buf, size_t n, lmz_err *err);

/* Make the file durable and put it in place (see the protocol above). On
 * success the struct is reset to zero; on failure the temporary file is
 * removed and the struct reset too, so a later lmz_atomic_abort is a
 * harmless no-op. */
lmz_status lmz_atomic_commit(lmz_atomic *a, lmz_err *err);

/* Remove the temporary file, drop the lock, free the names; the target is
 * untouched. Safe on a zeroed, committed or already aborted struct. */
void lmz_atomic_abort(lmz_atomic *a);

/* Remove stale temporary files from the directory of target (see above).
 * Each directory is scanned at most once per process. Failures are ignored:
 * a stale file that stays is only wasted space. */
void lmz_atomic_clean_stale(const char *target);

/* 1 if name (a directory entry, no slash) has the temporary form
 * ".NAME.lmz-tmp-XXXXXX". */
int lmz_atomic_is_tmp_name(const char *name);

/* Create every missing directory of path's parent (mode 0777 minus the
 * umask). */
lmz_status lmz_atomic_mkdirs(const char *path, lmz_err *err);

#endif
