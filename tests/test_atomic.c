/* test_atomic.c: io/lmz_atomic.h, the one way lmz writes a file: the target
 * appears whole or not at all, never over a file that appeared meanwhile
 * (without force), with the umask or the requested mode, and stale
 * temporary files of killed runs are removed while live ones are not. */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lmz_atomic.h"
#include "testutil.h"

static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

/* Entries of dir whose names have the temporary form. */
static int count_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += lmz_atomic_is_tmp_name(e->d_name);
    if (d)
        closedir(d);
    return n;
}

static int has_content(const char *p, const char *want)
{
    size_t n = 0;
    uint8_t *b = tu_read_file(p, &n);
    int ok = b && n == strlen(want) && memcmp(b, want, n) == 0;
    free(b);
    return ok;
}

static void put(const char *p, const char *text)
{
    FILE *f = fopen(p, "wb");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_names(void)
{
    CHECK(lmz_atomic_is_tmp_name(".a.lmz-tmp-Ab3xY9"));
    CHECK(lmz_atomic_is_tmp_name(".archive.lmz.lmz-tmp-000000"));
    CHECK(!lmz_atomic_is_tmp_name("a.lmz-tmp-Ab3xY9"));   /* no leading dot */
    CHECK(!lmz_atomic_is_tmp_name(".a.lmz-tmp-Ab3x"));    /* short suffix */
    CHECK(!lmz_atomic_is_tmp_name(".a.lmz-tmp-Ab3xY!"));  /* not alphanumeric */
    CHECK(!lmz_atomic_is_tmp_name(".lmz-tmp-Ab3xY9"));    /* no name */
    CHECK(!lmz_atomic_is_tmp_name(".a.lmz-tmp-Ab3xY9x")); /* suffix not at the end */
}

static void test_commit_and_refuse(const char *dir)
{
    char *t = path_in(dir, "a.bin");
    lmz_atomic a;
    lmz_err e;
    CHECK(lmz_atomic_open(&a, t, 0, 0, &e) == LMZ_OK);
    /* ".a.bin.lmz-tmp-XXXXXX" beside the target, target not there yet */
    const char *base = strrchr(a.tmp, '/');
    CHECK(base && strncmp(a.tmp, dir, strlen(dir)) == 0 && lmz_atomic_is_tmp_name(base + 1) &&
          strncmp(base + 1, ".a.bin.lmz-tmp-", 15) == 0);
    CHECK(lmz_atomic_write(&a, "hello", 5, &e) == LMZ_OK);
    CHECK(!exists(t));
    CHECK_EQ_INT(count_tmp(dir), 1);
    CHECK(lmz_atomic_commit(&a, &e) == LMZ_OK);
    CHECK(has_content(t, "hello"));
    CHECK_EQ_INT(count_tmp(dir), 0);
    CHECK(a.tmp == NULL && a.fd1 == 0);
    lmz_atomic_abort(&a); /* after commit: nothing happens */
    CHECK(has_content(t, "hello"));

    /* exists, no force: refused before anything is created */
    CHECK(lmz_atomic_open(&a, t, 0, 0, &e) == LMZ_ERR_EXISTS);
    CHECK(strstr(e.msg, "already exists") != NULL);
    CHECK_EQ_INT(count_tmp(dir), 0);

    /* force: replaced */
    CHECK(lmz_atomic_open(&a, t, LMZ_ATOMIC_FORCE, 0, &e) == LMZ_OK);
    CHECK(lmz_atomic_write(&a, "new", 3, &e) == LMZ_OK);
    CHECK(has_content(t, "hello")); /* the old file stays until the rename */
    CHECK(lmz_atomic_commit(&a, &e) == LMZ_OK);
    CHECK(has_content(t, "new"));
    free(t);

    /* a target that appears while we write is not replaced */
    t = path_in(dir, "b.bin");
    CHECK(lmz_atomic_open(&a, t, 0, 0, &e) == LMZ_OK);
    CHECK(lmz_atomic_write(&a, "ours", 4, &e) == LMZ_OK);
    put(t, "theirs");
    CHECK(lmz_atomic_commit(&a, &e) == LMZ_ERR_EXISTS);
    CHECK(has_content(t, "theirs"));
    CHECK_EQ_INT(count_tmp(dir), 0); /* the failed commit removed ours */
    lmz_atomic_abort(&a);            /* and left nothing to abort */
    free(t);

    /* abort: nothing stays */
    t = path_in(dir, "c.bin");
    CHECK(lmz_atomic_open(&a, t, 0, 0, &e) == LMZ_OK);
    CHECK(lmz_atomic_write(&a, "x", 1, &e) == LMZ_OK);
    lmz_atomic_abort(&a);
    CHECK(!exists(t));
    CHECK_EQ_INT(count_tmp(dir), 0);
    free(t);

    /* not a file name */
    t = path_in(dir, "");
    CHECK(lmz_atomic_open(&a, t, 0, 0, &e) == LMZ_ERR_USAGE);
    free(t);
}

static void test_modes(const char *dir)
{
    lmz_atomic a;
    lmz_err e;
    struct stat st;
    mode_t old = umask(027);
    char *t = path_in(dir, "umask.bin");
    CHECK(lmz_atomic_open(&a, t, 0, 0, &e) == LMZ_OK);
    CHECK(lmz_atomic_commit(&a, &e) == LMZ_OK);
    CHECK(stat(t, &st) == 0 && (st.st_mode & 07777) == 0640);
    free(t);
    t = path_in(dir, "mode.bin"); /* an explicit mode is set as given */
    CHECK(lmz_atomic_open(&a, t, 0, 0751, &e) == LMZ_OK);
    CHECK(lmz_atomic_commit(&a, &e) == LMZ_OK);
    CHECK(stat(t, &st) == 0 && (st.st_mode & 07777) == 0751);
    free(t);
    umask(old);
}

static void test_mkdirs(const char *dir)
{
    lmz_atomic a;
    lmz_err e;
    char *t = path_in(dir, "d/e/f.bin");
    CHECK(lmz_atomic_open(&a, t, 0, 0, &e) == LMZ_ERR_IO); /* no parent, no flag */
    CHECK(lmz_atomic_open(&a, t, LMZ_ATOMIC_MKDIRS, 0, &e) == LMZ_OK);
    CHECK(lmz_atomic_write(&a, "deep", 4, &e) == LMZ_OK);
    CHECK(lmz_atomic_commit(&a, &e) == LMZ_OK);
    CHECK(has_content(t, "deep"));
    free(t);
}

/* A killed run's temporary file (unlocked) goes; a running one's (locked),
 * and files that only look similar, stay. */
static void test_stale(const char *top)
{
    char *dir = path_in(top, "stale");
    CHECK(mkdir(dir, 0777) == 0);
    char *stale = path_in(dir, ".old.lmz-tmp-AbC123");
    char *live = path_in(dir, ".run.lmz-tmp-ZzZ999");
    char *nodot = path_in(dir, "keep.lmz-tmp-AbC123");
    char *shortsfx = path_in(dir, ".keep.lmz-tmp-AbC");
    put(stale, "x");
    put(nodot, "x");
    put(shortsfx, "x");
    int fd = open(live, O_RDWR | O_CREAT | O_EXCL, 0666);
    CHECK(fd >= 0);
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_RDLCK;
    fl.l_whence = SEEK_SET;
    CHECK(fcntl(fd, F_OFD_SETLK, &fl) == 0);

    /* opening any file there cleans the directory first */
    char *t = path_in(dir, "new.bin");
    lmz_atomic a;
    lmz_err e;
    CHECK(lmz_atomic_open(&a, t, 0, 0, &e) == LMZ_OK);
    CHECK(!exists(stale));
    CHECK(exists(live));
    CHECK(exists(nodot));
    CHECK(exists(shortsfx));
    CHECK(lmz_atomic_commit(&a, &e) == LMZ_OK);
    close(fd);
    free(t);
    free(stale);
    free(live);
    free(nodot);
    free(shortsfx);
    free(dir);
}

int main(void)
{
    char *dir = tu_test_dir();
    test_names();
    test_commit_and_refuse(dir);
    test_modes(dir);
    test_mkdirs(dir);
    test_stale(dir);
    tu_rmtree(dir);
    free(dir);
    return tu_finish("atomic");
}
