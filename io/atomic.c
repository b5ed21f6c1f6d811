/* atomic.c: the temporary-file-and-rename protocol of lmz_atomic.h. */
#define _GNU_SOURCE /* renameat2, RENAME_NOREPLACE, F_OFD_SETLK */
#include "lmz_atomic.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The suffix that marks lmz's temporary files; the stale-file cleaner
 * removes nothing without it. */
#define TMP_MARK ".lmz-tmp-"
#define TMP_RAND 6 /* random letters and digits after the mark */

static int path_exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

/* The target's directory as a prefix to put a name after: "" for a bare
 * name, else everything up to and including the last '/'. */
static size_t dir_prefix_len(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? (size_t)(slash - path) + 1 : 0;
}

/* The target's directory as a path of its own ("." for a bare name). */
static char *dir_of(const char *path)
{
    size_t n = dir_prefix_len(path);
    if (n == 0)
        return strdup(".");
    return strndup(path, n == 1 ? 1 : n - 1); /* "/x" -> "/" */
}

/* ---- locks ----
 *
 * An open-file-description lock (Linux; flock elsewhere), not flock: HDF5
 * flocks the files it opens when HDF5_USE_FILE_LOCKING asks it to, and the
 * two kinds do not conflict. The writer holds a read lock; the cleaner asks
 * for a write lock without waiting, which any read lock refuses. */

/* 0 on success, else errno (EAGAIN/EACCES: someone holds a conflicting
 * lock). */
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

/* Lock a temporary file just created. 0, or -1 if a cleaner removed it
 * between its creation and the lock (it has no name any more: make
 * another). Where the file system has no locks this returns 0, and then
 * no cleaner can lock, nor remove, the file either. */
static int lock_new_tmp(int fd)
{
    if (lock_fd(fd, 0, 1) != 0)
        return 0;
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_nlink == 0)
        return -1;
    return 0;
}

/* ---- stale temporary files ---- */

int lmz_atomic_is_tmp_name(const char *name)
{
    const size_t n = strlen(name), m = sizeof TMP_MARK - 1;
    if (n < 2 + m + TMP_RAND || name[0] != '.')
        return 0;
    const char *tail = name + n - TMP_RAND - m;
    if (memcmp(tail, TMP_MARK, m) != 0)
        return 0;
    for (int i = 0; i < TMP_RAND; i++)
        if (!isalnum((unsigned char)tail[m + i]))
            return 0;
    return 1;
}

/* Remove dir/name if it is a regular file of ours that nobody holds
 * locked. The lock is held while the name is checked and removed, and the
 * name must still be the file that was locked (not one renamed there
 * meanwhile). */
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

/* Directories already cleaned by this process (device and inode): a run
 * that writes thousands of members into one directory scans it once. */
static pthread_mutex_t cleaned_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { dev_t dev; ino_t ino; } *cleaned;
static size_t ncleaned, capcleaned;

/* 1 the first time the directory open as dirfd is seen, then 0. */
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

void lmz_atomic_clean_stale(const char *target)
{
    char *dir = dir_of(target);
    if (!dir)
        return;
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (dirfd < 0)
        return;
    /* fdopendir takes over its descriptor; unlinkat needs one of its own. */
    int scan = dup(dirfd);
    DIR *d = first_visit(dirfd) && scan >= 0 ? fdopendir(scan) : NULL;
    if (!d && scan >= 0)
        close(scan);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (lmz_atomic_is_tmp_name(e->d_name))
            remove_if_stale(dirfd, e->d_name);
    if (d)
        closedir(d);
    close(dirfd);
}

/* ---- directories ---- */

lmz_status lmz_atomic_mkdirs(const char *path, lmz_err *err)
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

/* Make a rename in path's directory durable. A failure loses nothing that
 * is already written (the file itself was synced), so it is not reported. */
static void fsync_dir_of(const char *path)
{
    char *dir = dir_of(path);
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

/* ---- the temporary file ---- */

/* Random letters and digits for a temporary name. They need not be
 * unpredictable, only unlikely to collide: O_EXCL catches a collision and
 * another name is drawn. mkstemp would pick them too, but it creates the
 * file 0600 and the umask can only be read by changing it (not
 * thread-safe), so lmz opens the file itself with 0666 and lets the kernel
 * apply the umask. */
static void random_suffix(char out[TMP_RAND])
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static atomic_uint_fast64_t counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t z = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                 ((uint64_t)getpid() << 40) ^
                 (atomic_fetch_add(&counter, 1) * UINT64_C(0x9e3779b97f4a7c15));
    /* splitmix64's finalizer: every input bit moves every output bit */
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    z ^= z >> 31;
    for (int i = 0; i < TMP_RAND; i++) {
        out[i] = alnum[z % 62];
        z /= 62;
    }
}

int lmz_atomic_fd(const lmz_atomic *a)
{
    return a->fd1 - 1;
}

lmz_status lmz_atomic_open(lmz_atomic *a, const char *target, unsigned flags, uint32_t mode,
                           lmz_err *err)
{
    memset(a, 0, sizeof *a);
    const size_t dlen = target ? dir_prefix_len(target) : 0;
    if (!target || !target[dlen])
        return lmz_err_set(err, LMZ_ERR_USAGE, "%s: not a file name", target ? target : "");
    const int force = (flags & LMZ_ATOMIC_FORCE) != 0;
    if (!force && path_exists(target))
        return lmz_err_set(err, LMZ_ERR_EXISTS, "%s: already exists", target);
    if (flags & LMZ_ATOMIC_MKDIRS) {
        lmz_status rc = lmz_atomic_mkdirs(target, err);
        if (rc != LMZ_OK)
            return rc;
    }
    const size_t n = strlen(target) + sizeof TMP_MARK + TMP_RAND + 2;
    a->target = strdup(target);
    a->tmp = malloc(n);
    if (!a->target || !a->tmp) {
        lmz_atomic_abort(a);
        return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
    }
    /* What killed runs left here goes first; then our own file, locked so
     * that no other lmz takes it for stale. */
    lmz_atomic_clean_stale(target);
    int fd = -1, e = 0;
    for (int tries = 0; tries < 100 && fd < 0; tries++) {
        char rnd[TMP_RAND];
        random_suffix(rnd);
        snprintf(a->tmp, n, "%.*s.%s%s%.*s", (int)dlen, target, target + dlen, TMP_MARK,
                 TMP_RAND, rnd);
        fd = open(a->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        e = errno;
        if (fd < 0 && e != EEXIST)
            break;
        if (fd >= 0 && lock_new_tmp(fd) != 0) {
            close(fd); /* removed by another lmz before it was locked: again */
            fd = -1;
            e = EEXIST;
        }
    }
    if (fd < 0) {
        free(a->tmp); /* never created: nothing to remove */
        a->tmp = NULL;
        lmz_atomic_abort(a);
        return lmz_err_set(err, LMZ_ERR_IO, "%s: cannot create: %s", target, strerror(e));
    }
    a->fd1 = fd + 1;
    a->force = force;
    a->mode = mode & 07777;
    return LMZ_OK;
}

lmz_status lmz_atomic_write(lmz_atomic *a, const void *buf, size_t n, lmz_err *err)
{
    const char *p = buf;
    while (n) {
        ssize_t k = write(a->fd1 - 1, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return lmz_err_set(err, LMZ_ERR_IO, "%s: write failed: %s", a->target,
                               strerror(k < 0 ? errno : EIO));
        p += k;
        n -= (size_t)k;
    }
    return LMZ_OK;
}

/* Rename without replacing: renameat2(RENAME_NOREPLACE) where the kernel
 * and file system have it, else link() + unlink(), which also fails on an
 * existing target. 0, or -1 with errno (EEXIST when the target exists). */
static int rename_noreplace(const char *from, const char *to)
{
#ifdef RENAME_NOREPLACE
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return -1;
#endif
    if (link(from, to) < 0)
        return -1;
    (void)unlink(from);
    return 0;
}

lmz_status lmz_atomic_commit(lmz_atomic *a, lmz_err *err)
{
    const int fd = a->fd1 - 1;
    lmz_status st = LMZ_OK;
    if (fd < 0 || !a->tmp)
        st = lmz_err_set(err, LMZ_ERR_GENERIC, "%s: no file open to commit",
                         a->target ? a->target : "?");
    else if (fsync(fd) != 0)
        st = lmz_err_set(err, LMZ_ERR_IO, "%s: write failed: %s", a->target, strerror(errno));
    else if (a->mode && fchmod(fd, a->mode) != 0)
        st = lmz_err_set(err, LMZ_ERR_IO, "%s: cannot set its mode: %s", a->target,
                         strerror(errno));
    else if ((a->force ? rename(a->tmp, a->target) : rename_noreplace(a->tmp, a->target)) != 0)
        st = errno == EEXIST
                 ? lmz_err_set(err, LMZ_ERR_EXISTS, "%s: already exists", a->target)
                 : lmz_err_set(err, LMZ_ERR_IO, "%s: cannot rename into place: %s", a->target,
                               strerror(errno));
    if (st != LMZ_OK) {
        lmz_atomic_abort(a);
        return st;
    }
    fsync_dir_of(a->target);
    close(fd); /* drops the lock: the file has its final name now */
    free(a->tmp);
    free(a->target);
    memset(a, 0, sizeof *a);
    return LMZ_OK;
}

void lmz_atomic_abort(lmz_atomic *a)
{
    /* Unlink before closing: while the lock is held no cleaner can take the
     * name for stale and remove a file that another lmz created there. */
    if (a->tmp && a->fd1 > 0)
        (void)unlink(a->tmp);
    if (a->fd1 > 0)
        close(a->fd1 - 1);
    free(a->tmp);
    free(a->target);
    memset(a, 0, sizeof *a);
}
