/* outfile.c: stdio over io/lmz_atomic.h, or standard output. */
#include "outfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The CLI's wording: the library says what is wrong, the host adds how to
 * get past it. */
static lmz_status exists_hint(lmz_status rc, const char *path, lmz_err *err)
{
    if (rc == LMZ_ERR_EXISTS)
        return lmz_err_set(err, LMZ_ERR_EXISTS, "%s: already exists (use -f to overwrite)", path);
    return rc;
}

lmz_status lmz_outfile_open(lmz_outfile *o, const char *path, int force, int make_dirs,
                            uint32_t mode, lmz_err *err)
{
    memset(o, 0, sizeof *o);
    if (!path || strcmp(path, "-") == 0) {
        o->f = stdout;
        return LMZ_OK;
    }
    unsigned flags = (force ? LMZ_ATOMIC_FORCE : 0) | (make_dirs ? LMZ_ATOMIC_MKDIRS : 0);
    lmz_status rc = lmz_atomic_open(&o->file, path, flags, mode ? mode : 0644, err);
    if (rc != LMZ_OK)
        return exists_hint(rc, path, err);
    /* The stream gets a descriptor of its own: fclose must not close the
     * one that holds the lock before the rename. */
    int fd = dup(lmz_atomic_fd(&o->file));
    o->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!o->f) {
        rc = lmz_err_set(err, LMZ_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        lmz_atomic_abort(&o->file);
        return rc;
    }
    return LMZ_OK;
}

lmz_status lmz_outfile_write(lmz_outfile *o, const void *buf, size_t n, lmz_err *err)
{
    if (n && fwrite(buf, 1, n, o->f) != n)
        return lmz_err_set(err, LMZ_ERR_IO, "%s: write failed: %s",
                           o->file.target ? o->file.target : "stdout", strerror(errno));
    return LMZ_OK;
}

lmz_status lmz_outfile_commit(lmz_outfile *o, lmz_err *err)
{
    if (o->f == stdout) {
        o->f = NULL;
        if (fflush(stdout) != 0)
            return lmz_err_set(err, LMZ_ERR_IO, "stdout: write failed: %s", strerror(errno));
        return LMZ_OK;
    }
    int bad = fflush(o->f) != 0;
    int saved = errno;
    if (fclose(o->f) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    o->f = NULL;
    if (bad) {
        lmz_status rc = lmz_err_set(err, LMZ_ERR_IO, "%s: write failed: %s", o->file.target,
                                    strerror(saved));
        lmz_atomic_abort(&o->file);
        return rc;
    }
    const char *path = o->file.target;
    char *keep = path ? strdup(path) : NULL; /* commit frees the names */
    lmz_status rc = lmz_atomic_commit(&o->file, err);
    if (rc != LMZ_OK && keep)
        rc = exists_hint(rc, keep, err);
    free(keep);
    return rc;
}

void lmz_outfile_abort(lmz_outfile *o)
{
    if (o->f == stdout)
        fflush(stdout);
    else if (o->f)
        fclose(o->f);
    o->f = NULL;
    lmz_atomic_abort(&o->file);
}
