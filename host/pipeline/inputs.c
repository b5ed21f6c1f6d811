#include "inputs.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static lmz_status push(lmz_inputs *in, const char *path, const char *name, uint32_t mode,
                       uint64_t size, lmz_err *err)
{
    if (in->n == in->cap) {
        size_t cap = in->cap ? in->cap * 2 : 16;
        lmz_member *m = realloc(in->members, cap * sizeof *m);
        if (m)
            in->members = m;
        char **p = realloc(in->paths, cap * sizeof *p);
        if (p)
            in->paths = p;
        if (!m || !p)
            return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
        in->cap = cap;
    }
    lmz_member *m = &in->members[in->n];
    memset(m, 0, sizeof *m);
    m->name = strdup(name);
    m->mode = mode;
    in->paths[in->n] = path ? strdup(path) : NULL;
    if (!m->name || (path && !in->paths[in->n])) {
        free(m->name);
        free(in->paths[in->n]);
        return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
    }
    in->n++;
    in->expected += size;
    return LMZ_OK;
}

/* The member name for a path as the user gave it. */
static char *member_name(const char *path)
{
    const char *p = path;
    for (;;) {
        if (*p == '/')
            p++;
        else if (p[0] == '.' && p[1] == '/')
            p += 2;
        else
            break;
    }
    /* "." and "/" name the top of a tree: its members get no prefix */
    if (*p == '\0' || strcmp(p, ".") == 0 || strcmp(p, "./") == 0)
        return strdup("");
    char *name = strdup(p);
    if (!name)
        return NULL;
    /* collapse "//" and "/./", strip a trailing "/" */
    char *w = name;
    for (const char *r = name; *r;) {
        if (r[0] == '/' && (r[1] == '/' || r[1] == '\0')) {
            r++;
            continue;
        }
        if (r[0] == '/' && r[1] == '.' && (r[2] == '/' || r[2] == '\0')) {
            r += 2;
            continue;
        }
        *w++ = *r++;
    }
    *w = '\0';
    if (!lmz_member_name_safe(name)) {
        const char *base = strrchr(name, '/');
        base = base ? base + 1 : name;
        memmove(name, base, strlen(base) + 1);
        if (!lmz_member_name_safe(name)) {
            free(name);
            return strdup("unnamed");
        }
    }
    return name;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static lmz_status add_path(lmz_inputs *in, const char *path, const char *name, int recursive,
                           lmz_err *err);

static lmz_status add_dir(lmz_inputs *in, const char *path, const char *name, lmz_err *err)
{
    DIR *d = opendir(path);
    if (!d)
        return lmz_err_set(err, LMZ_ERR_IO, "%s: cannot open directory: %s", path, strerror(errno));
    char **ents = NULL;
    size_t n = 0, cap = 0;
    lmz_status rc = LMZ_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **t = realloc(ents, cap * sizeof *t);
            if (!t) {
                rc = lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
                break;
            }
            ents = t;
        }
        if (!(ents[n++] = strdup(e->d_name))) {
            n--;
            rc = lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
            break;
        }
    }
    closedir(d);
    /* Sorted by bytes, not locale, so the same tree gives the same archive. */
    if (!rc)
        qsort(ents, n, sizeof *ents, cmp_str);
    for (size_t i = 0; i < n && !rc; i++) {
        size_t lp = strlen(path) + strlen(ents[i]) + 2, ln = strlen(name) + strlen(ents[i]) + 2;
        char *sub = malloc(lp), *subname = malloc(ln);
        if (!sub || !subname) {
            rc = lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
        } else {
            snprintf(sub, lp, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", ents[i]);
            snprintf(subname, ln, "%s%s%s", name, *name ? "/" : "", ents[i]);
            rc = add_path(in, sub, subname, 1, err);
        }
        free(sub);
        free(subname);
    }
    for (size_t i = 0; i < n; i++)
        free(ents[i]);
    free(ents);
    return rc;
}

static lmz_status add_path(lmz_inputs *in, const char *path, const char *name, int recursive,
                           lmz_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return lmz_err_set(err, LMZ_ERR_IO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        if (!recursive)
            return lmz_err_set(err, LMZ_ERR_USAGE, "%s: is a directory (use -r)", path);
        return add_dir(in, path, name, err);
    }
    if (!S_ISREG(st.st_mode))
        return lmz_err_set(err, LMZ_ERR_USAGE, "%s: not a regular file", path);
    return push(in, path, name, (uint32_t)(st.st_mode & 0777), (uint64_t)st.st_size, err);
}

lmz_status lmz_inputs_collect(lmz_inputs *in, const char *const *args, int nargs, int recursive,
                              lmz_err *err)
{
    memset(in, 0, sizeof *in);
    lmz_status rc = LMZ_OK;
    int stdin_seen = 0;
    for (int i = 0; i < nargs && !rc; i++) {
        if (strcmp(args[i], "-") == 0) {
            if (stdin_seen++)
                return lmz_err_set(err, LMZ_ERR_USAGE, "standard input given twice");
            rc = push(in, NULL, "stdin", 0644, 0, err);
            continue;
        }
        char *name = member_name(args[i]);
        if (!name)
            return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
        rc = add_path(in, args[i], name, recursive, err);
        free(name);
    }
    if (rc)
        return rc;
    /* Two members with one name could not both be recreated. */
    char **names = malloc((in->n ? in->n : 1) * sizeof *names);
    if (!names)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < in->n; i++)
        names[i] = in->members[i].name;
    qsort(names, in->n, sizeof *names, cmp_str);
    for (size_t i = 1; i < in->n && !rc; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            rc = lmz_err_set(err, LMZ_ERR_USAGE, "%s: given twice (member names must be unique)",
                             names[i]);
    free(names);
    return rc;
}

lmz_status lmz_inputs_read(lmz_inputs *in, uint8_t *buf, size_t cap, size_t *got, lmz_err *err)
{
    *got = 0;
    while (*got < cap && in->cur < in->n) {
        lmz_member *m = &in->members[in->cur];
        if (!in->f) {
            m->offset = in->total;
            m->size = 0;
            const char *p = in->paths[in->cur];
            in->f = p ? fopen(p, "rb") : stdin;
            if (!in->f)
                return lmz_err_set(err, LMZ_ERR_IO, "%s: %s", p, strerror(errno));
        }
        size_t n = fread(buf + *got, 1, cap - *got, in->f);
        *got += n;
        m->size += n;
        in->total += n;
        if (n == 0 || *got < cap) {
            if (ferror(in->f)) {
                const char *p = in->paths[in->cur];
                return lmz_err_set(err, LMZ_ERR_IO, "%s: read failed: %s", p ? p : "stdin",
                                   strerror(errno));
            }
            if (feof(in->f)) {
                if (in->f != stdin)
                    fclose(in->f);
                in->f = NULL;
                in->cur++;
            }
        }
    }
    return LMZ_OK;
}

void lmz_inputs_free(lmz_inputs *in)
{
    if (in->f && in->f != stdin)
        fclose(in->f);
    for (size_t i = 0; i < in->n; i++) {
        free(in->members[i].name);
        free(in->paths[i]);
    }
    free(in->members);
    free(in->paths);
    memset(in, 0, sizeof *in);
}
