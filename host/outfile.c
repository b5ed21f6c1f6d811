#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int path_exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

lmz_status lmz_make_parent_dirs(const char *path, lmz_err *err)
{
    char *p = strdup(path);
    if (!p)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            lmz_status rc = lmz_err_set(err, LMZ_ERR_IO, "%s: cannot create directory: %s", p,
                                        strerror(errno));
            free(p);
            return rc;
        }
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
            lmz_status rc = lmz_err_set(err, LMZ_ERR_IO, "%s: exists and is not a directory", p);
            free(p);
            return rc;
        }
        *s = '/';
    }
    free(p);
    return LMZ_OK;
}

lmz_status lmz_rename_into_place(const char *tmp, const char *path, int force, lmz_err *err)
{
    if (force) {
        if (rename(tmp, path) != 0)
            return lmz_err_set(err, LMZ_ERR_IO, "%s: cannot rename into place: %s", path,
                               strerror(errno));
        return LMZ_OK;
    }
    /* link() fails with EEXIST instead of replacing: no window in which a file
     * that appeared after our first check could be clobbered. */
    if (link(tmp, path) != 0) {
        if (errno == EEXIST)
            return lmz_err_set(err, LMZ_ERR_EXISTS, "%s: already exists (use -f to overwrite)", path);
        return lmz_err_set(err, LMZ_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    }
    unlink(tmp);
    return LMZ_OK;
}

lmz_status lmz_outfile_open(lmz_outfile *o, const char *path, int force, int make_dirs,
                            uint32_t mode, lmz_err *err)
{
    memset(o, 0, sizeof *o);
    o->force = force;
    o->mode = mode ? mode : 0644;
    if (!path || strcmp(path, "-") == 0) {
        o->f = stdout;
        return LMZ_OK;
    }
    if (!force && path_exists(path))
        return lmz_err_set(err, LMZ_ERR_EXISTS, "%s: already exists (use -f to overwrite)", path);
    if (make_dirs) {
        lmz_status rc = lmz_make_parent_dirs(path, err);
        if (rc)
            return rc;
    }
    o->path = strdup(path);
    size_t n = strlen(path) + 32;
    o->tmp = malloc(n);
    if (!o->path || !o->tmp) {
        lmz_outfile_abort(o);
        return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
    }
    /* The temporary name sits in the target's directory so the rename is
     * atomic; it starts with a dot and says what it is. */
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
    snprintf(o->tmp, n, "%.*s.%s.lmz-tmp-XXXXXX", (int)dirlen, path, path + dirlen);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        lmz_status rc = lmz_err_set(err, LMZ_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        lmz_outfile_abort(o);
        return rc;
    }
    o->f = fdopen(fd, "wb");
    if (!o->f) {
        close(fd);
        lmz_outfile_abort(o);
        return lmz_err_set(err, LMZ_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    return LMZ_OK;
}

lmz_status lmz_outfile_write(lmz_outfile *o, const void *buf, size_t n, lmz_err *err)
{
    if (n && fwrite(buf, 1, n, o->f) != n)
        return lmz_err_set(err, LMZ_ERR_IO, "%s: write failed: %s", o->path ? o->path : "stdout",
                           strerror(errno));
    return LMZ_OK;
}

lmz_status lmz_outfile_commit(lmz_outfile *o, lmz_err *err)
{
    if (!o->path) { /* stdout */
        if (fflush(o->f) != 0)
            return lmz_err_set(err, LMZ_ERR_IO, "stdout: write failed: %s", strerror(errno));
        o->f = NULL;
        return LMZ_OK;
    }
    int bad = fflush(o->f) != 0 || fsync(fileno(o->f)) != 0;
    int saved = errno;
    if (fchmod(fileno(o->f), o->mode & 07777) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    if (fclose(o->f) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    o->f = NULL;
    if (bad) {
        lmz_status rc = lmz_err_set(err, LMZ_ERR_IO, "%s: write failed: %s", o->path, strerror(saved));
        lmz_outfile_abort(o);
        return rc;
    }
    lmz_status rc = lmz_rename_into_place(o->tmp, o->path, o->force, err);
    if (rc) {
        lmz_outfile_abort(o);
        return rc;
    }
    free(o->tmp);
    free(o->path);
    o->tmp = o->path = NULL;
    return LMZ_OK;
}

void lmz_outfile_abort(lmz_outfile *o)
{
    if (o->f && o->f != stdout)
        fclose(o->f);
    else if (o->f == stdout)
        fflush(stdout);
    o->f = NULL;
    if (o->tmp)
        unlink(o->tmp);
    free(o->tmp);
    free(o->path);
    o->tmp = o->path = NULL;
}
