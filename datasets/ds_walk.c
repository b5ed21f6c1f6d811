/* ds_walk.c: a directory as a list of sources, in name order, so a prepared
 * dataset is the same whatever order the file system returns entries in. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "lmz_datasets.h"

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int known_extension(const char *name, lmz_ds_kind kind)
{
    static const char *const image[] = {".jpg", ".jpeg", ".png", NULL};
    static const char *const audio[] = {".wav", ".flac", NULL};
    const char *const *ext = kind == LMZ_DS_IMAGE ? image : kind == LMZ_DS_AUDIO ? audio : NULL;
    if (!ext)
        return 1;
    const char *dot = strrchr(name, '.');
    for (; dot && *ext; ext++)
        if (strcasecmp(dot, *ext) == 0)
            return 1;
    return 0;
}

static lmz_status push(char ***paths, size_t *n, size_t *cap, char *p, lmz_err *err)
{
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 64;
        char **np = realloc(*paths, nc * sizeof *np);
        if (!np) {
            free(p);
            return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory listing sources");
        }
        *paths = np;
        *cap = nc;
    }
    (*paths)[(*n)++] = p;
    return LMZ_OK;
}

lmz_status lmz_ds_list_dir(const char *dir, lmz_ds_kind kind, int recursive, char ***paths,
                           size_t *n, size_t *cap, lmz_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return lmz_err_set(err, LMZ_ERR_IO, "%s: cannot open directory: %s", dir, strerror(errno));
    char **names = NULL;
    size_t nn = 0, ncap = 0;
    lmz_status rc = LMZ_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *s = strdup(e->d_name);
        rc = s ? push(&names, &nn, &ncap, s, err)
               : lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory listing sources");
    }
    closedir(d);
    if (nn)
        qsort(names, nn, sizeof *names, by_name);
    size_t dl = strlen(dir);
    int slash = dl && dir[dl - 1] == '/';
    for (size_t i = 0; i < nn && !rc; i++) {
        size_t len = dl + 1 + strlen(names[i]) + 1;
        char *p = malloc(len);
        if (!p) {
            rc = lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory listing sources");
            break;
        }
        snprintf(p, len, "%s%s%s", dir, slash ? "" : "/", names[i]);
        struct stat st;
        if (stat(p, &st) != 0) {
            rc = lmz_err_set(err, LMZ_ERR_IO, "%s: %s", p, strerror(errno));
            free(p);
        } else if (S_ISDIR(st.st_mode)) {
            if (recursive)
                rc = lmz_ds_list_dir(p, kind, recursive, paths, n, cap, err);
            free(p);
        } else if (S_ISREG(st.st_mode) && known_extension(names[i], kind)) {
            rc = push(paths, n, cap, p, err);
        } else {
            free(p);
        }
    }
    for (size_t i = 0; i < nn; i++)
        free(names[i]);
    free(names);
    return rc;
}
