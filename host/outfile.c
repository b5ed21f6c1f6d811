#define _GNU_SOURCE /* F_OFD_SETLK */
#include "outfile.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int path_exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

/* ---- temporary files: locks and stale ones ----
 *
 * A writer locks its temporary file with an open-file-description lock
 * (Linux; flock elsewhere), not with flock: HDF5 flocks the files it opens
 * when HDF5_USE_FILE_LOCKING asks it to, and the two kinds do not conflict.
 * A read lock is enough (the archive writer's lock fd is read-only): the
 * cleaner asks for a write lock, which any read lock refuses. */

/* Try to lock fd: 0 on success, else errno (EAGAIN/EACCES: someone holds a
 * conflicting lock). */
static int lock_fd(int fd, int exclusive, int wait)
{
#ifdef F_OFD_SETLK
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = exclusive ? F_WRLCK : F_RDLCK;
    fl.l_whence = SEEK_SET; /* l_start = l_len = 0: the whole file */
    if (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) == 0)
        return 0;
    return errno;
#else
    if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB)) == 0)
        return 0;
    return errno;
#endif
}

int lmz_tmp_lock(int fd)
{
    if (lock_fd(fd, 0, 1) != 0)
        return 0; /* no locks here: then no cleaner can lock, nor remove, it either */
    /* A cleaner that locked the file between its creation and now has
     * removed it: it has no name any more. */
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_nlink == 0)
        return -1;
    return 0;
}

/* ".NAME.lmz-tmp-XXXXXX", XXXXXX from mkstemp's letters and digits. */
static int is_tmp_name(const char *name)
{
    static const char mark[] = ".lmz-tmp-";
    size_t n = strlen(name), m = sizeof mark - 1;
    if (n < 2 + m + 6 || name[0] != '.')
        return 0;
    const char *tail = name + n - 6 - m;
    if (memcmp(tail, mark, m) != 0)
        return 0;
    for (int i = 0; i < 6; i++)
        if (!isalnum((unsigned char)tail[m + i]))
            return 0;
    return 1;
}

/* Remove dir/name if it is a regular file of ours that nobody holds
 * locked. The lock is held while the name is checked and removed, and the
 * name must still be the file that was locked. */
static void remove_if_stale(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat a, b;
    if (fstat(fd, &a) == 0 && S_ISREG(a.st_mode) && a.st_uid == geteuid() &&
        lock_fd(fd, 1, 0) == 0 && fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
        a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        (void)unlinkat(dirfd, name, 0);
    close(fd);
}

/* Directories already cleaned by this process (device and inode). */
static pthread_mutex_t cleaned_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { dev_t dev; ino_t ino; } *cleaned;
static size_t ncleaned, capcleaned;

/* 1 the first time dir (open as dirfd) is seen, then 0. */
static int first_visit(int dirfd)
{
    struct stat st;
    if (fstat(dirfd, &st) != 0)
        return 0;
    int first = 1;
    pthread_mutex_lock(&cleaned_lock);
    for (size_t i = 0; i < ncleaned && first; i++)
        if (cleaned[i].dev == st.st_dev && cleaned[i].ino == st.st_ino)
            first = 0;
    if (first && ncleaned == capcleaned) {
        size_t cap = capcleaned ? 2 * capcleaned : 16;
        void *p = realloc(cleaned, cap * sizeof *cleaned);
        if (p) {
            cleaned = p;
            capcleaned = cap;
        }
    }
    if (first && ncleaned < capcleaned) {
        cleaned[ncleaned].dev = st.st_dev;
        cleaned[ncleaned].ino = st.st_ino;
        ncleaned++;
    }
    pthread_mutex_unlock(&cleaned_lock);
    return first;
}

void lmz_tmp_clean(const char *target)
{
    const char *slash = strrchr(target, '/');
    char *dir = slash ? strndup(target, (size_t)(slash - target) + 1) : strdup(".");
    if (!dir)
        return;
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (dirfd < 0)
        return;
    int scan = dup(dirfd);
    DIR *d = first_visit(dirfd) && scan >= 0 ? fdopendir(scan) : NULL;
    if (!d && scan >= 0)
        close(scan);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (is_tmp_name(e->d_name))
            remove_if_stale(dirfd, e->d_name);
    if (d)
        closedir(d);
    close(dirfd);
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
    lmz_tmp_clean(path);
    int fd = -1;
    for (int tries = 0; tries < 8; tries++) {
        snprintf(o->tmp, n, "%.*s.%s.lmz-tmp-XXXXXX", (int)dirlen, path, path + dirlen);
        fd = mkstemp(o->tmp);
        if (fd < 0 || lmz_tmp_lock(fd) == 0)
            break;
        close(fd); /* removed by another lmz before it was locked: again */
        fd = -1;
        errno = EAGAIN;
    }
    if (fd >= 0)
        o->lock_fd1 = dup(fd) + 1; /* the lock outlives fclose, until the rename */
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
    if (o->lock_fd1 > 0)
        close(o->lock_fd1 - 1);
    o->lock_fd1 = 0;
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
    if (o->lock_fd1 > 0)
        close(o->lock_fd1 - 1);
    o->lock_fd1 = 0;
    free(o->tmp);
    free(o->path);
    o->tmp = o->path = NULL;
}
