/* modelsearch.c: the models lmz finds without a path: the built-in
 * (seeded random) models, and shipped models on the search path, by hash
 * (an archive's model) or by name (-m). Reading a file is modelfile.c. */
#include "lmz_modelfile.h"

#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h5util.h"
#include "selfdir.h"

#define LMZ_MODEL_EXT ".lmzm"

#ifndef LMZ_DEFAULT_MODEL_DIR
#define LMZ_DEFAULT_MODEL_DIR "models"
#endif

/* ---- built-in models ---- */

static const struct builtin {
    const char *name;
    const char *preset;
} builtins[] = {
    {"random-tiny", "tiny"},
    {"random-200k", "200k"},
    {"random-800k", "800k"},
    {"random-3.2m", "3.2m"},
};
#define NBUILTINS (sizeof builtins / sizeof builtins[0])

/* Seed of every built-in model; part of the format (docs/format.md). */
#define BUILTIN_SEED 1

static const struct builtin *find_builtin(const char *name)
{
    for (size_t i = 0; i < NBUILTINS; i++)
        if (strcmp(builtins[i].name, name) == 0)
            return &builtins[i];
    return NULL;
}

static lmz_model *make_builtin(const struct builtin *b)
{
    lmz_config cfg;
    if (lmz_config_preset(b->preset, &cfg) != 0)
        return NULL;
    lmz_model *m = lmz_model_alloc(&cfg);
    if (!m)
        return NULL;
    lmz_model_init_random(m, BUILTIN_SEED);
    /* The name is not part of the hash. */
    snprintf(m->name, sizeof m->name, "%s", b->name);
    return m;
}

lmz_status lmz_model_builtin(const char *name, lmz_model **out, lmz_err *err)
{
    *out = NULL;
    const struct builtin *b = name ? find_builtin(name) : NULL;
    if (!b)
        return lmz_err_set(err, LMZ_ERR_MODEL_MISSING, "no built-in model named '%s'",
                           name ? name : "");
    if (!(*out = make_builtin(b)))
        return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory for model %s", name);
    return LMZ_OK;
}

/* The built-ins' hashes, computed once each on first need (building the
 * 3.2m model takes a few milliseconds). */
static pthread_mutex_t builtin_lock = PTHREAD_MUTEX_INITIALIZER;
static char builtin_hash[NBUILTINS][33];

/* Hash of builtin i, or "" if it could not be built. */
static void builtin_hash_hex(size_t i, char out[33])
{
    pthread_mutex_lock(&builtin_lock);
    if (!builtin_hash[i][0]) {
        lmz_model *m = make_builtin(&builtins[i]);
        if (m)
            lmz_model_hash_hex(m, builtin_hash[i]);
        lmz_model_free(m);
    }
    memcpy(out, builtin_hash[i], 33);
    pthread_mutex_unlock(&builtin_lock);
}

/* ---- the search path ---- */

#define MAX_SEARCH_DIRS 64

typedef struct search_path {
    char *dirs[MAX_SEARCH_DIRS];
    size_t n;
} search_path;

static void add_dir(search_path *sp, const char *dir, size_t len)
{
    if (len == 0 || sp->n == MAX_SEARCH_DIRS)
        return;
    for (size_t i = 0; i < sp->n; i++)
        if (strlen(sp->dirs[i]) == len && strncmp(sp->dirs[i], dir, len) == 0)
            return;
    char *copy = strndup(dir, len);
    if (copy)
        sp->dirs[sp->n++] = copy;
}

/* <directory of the running executable>/../models, if it can be found. */
static void add_exe_models_dir(search_path *sp)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return;
    *slash = '\0';
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/../models", exe);
    add_dir(sp, dir, strlen(dir));
}

/* model_path is the caller's (the CLI passes $LMZ_MODEL_PATH: the library
 * never reads the environment). */
static void search_path_init(search_path *sp, const char *model_dir, const char *model_path)
{
    sp->n = 0;
    if (model_dir)
        add_dir(sp, model_dir, strlen(model_dir));
    const char *entry = model_path;
    while (entry && *entry) {
        const char *colon = strchr(entry, ':');
        size_t len = colon ? (size_t)(colon - entry) : strlen(entry);
        add_dir(sp, entry, len);
        entry = colon ? colon + 1 : NULL;
    }
    add_dir(sp, LMZ_DEFAULT_MODEL_DIR, strlen(LMZ_DEFAULT_MODEL_DIR));
    add_exe_models_dir(sp);
    /* an installed lmz: <prefix>/share/lmz/models beside <prefix>/lib/liblmz.so
     * or <prefix>/bin/lmz, whatever the prefix */
    char self[PATH_MAX], dir[PATH_MAX + 32];
    if (lmz_self_dir(self, sizeof self) == 0) {
        snprintf(dir, sizeof dir, "%s/../share/lmz/models", self);
        add_dir(sp, dir, strlen(dir));
    }
}

static void search_path_free(search_path *sp)
{
    for (size_t i = 0; i < sp->n; i++)
        free(sp->dirs[i]);
    sp->n = 0;
}

/* "dir1, dir2, ..." for messages, cut to fit. */
static void search_path_describe(const search_path *sp, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sp->n && len + 1 < cap; i++) {
        int w = snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", sp->dirs[i]);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    if (sp->n == 0)
        snprintf(buf, cap, "(no directories)");
}

static int has_model_ext(const char *name)
{
    size_t n = strlen(name), e = strlen(LMZ_MODEL_EXT);
    return n > e && strcmp(name + n - e, LMZ_MODEL_EXT) == 0;
}

static int model_entry_filter(const struct dirent *d)
{
    return d->d_name[0] != '.' && has_model_ext(d->d_name);
}

/* Look through dir's *.lmzm files (in name order) for hash_hex. Returns 1
 * and sets *out when found; a file that states the hash but fails to load
 * leaves its error in *first_err (if not set yet) and the search goes on. */
static int search_dir_for_hash(const char *dir, const char *hash_hex, lmz_model **out,
                               lmz_err *first_err)
{
    struct dirent **entries = NULL;
    int n = scandir(dir, &entries, model_entry_filter, alphasort);
    if (n < 0)
        return 0;
    int found = 0;
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX], hash[64];
        if (!found && snprintf(path, sizeof path, "%s/%s", dir, entries[i]->d_name) <
                          (int)sizeof path) {
            lmz_model_file_hash(path, hash);
            if (strcmp(hash, hash_hex) == 0) {
                lmz_err e;
                if (lmz_model_load(path, out, &e) == LMZ_OK)
                    found = 1;
                else if (first_err->code == LMZ_OK)
                    *first_err = e;
            }
        }
        free(entries[i]);
    }
    free(entries);
    return found;
}

lmz_status lmz_model_find_by_hash(const char *hash_hex, const char *model_dir,
                                  const char *model_path, lmz_model **out, lmz_err *err)
{
    lmz_h5_init();
    *out = NULL;
    for (size_t i = 0; i < NBUILTINS; i++) {
        char h[33];
        builtin_hash_hex(i, h);
        if (strcmp(h, hash_hex) == 0)
            return lmz_model_builtin(builtins[i].name, out, err);
    }
    search_path sp;
    search_path_init(&sp, model_dir, model_path);
    lmz_err first_err;
    lmz_err_clear(&first_err);
    int found = 0;
    for (size_t i = 0; !found && i < sp.n; i++)
        found = search_dir_for_hash(sp.dirs[i], hash_hex, out, &first_err);
    char dirs[1024];
    search_path_describe(&sp, dirs, sizeof dirs);
    search_path_free(&sp);
    if (found)
        return LMZ_OK;
    if (first_err.code != LMZ_OK)
        return lmz_err_set(err, first_err.code, "%s", first_err.msg);
    return lmz_err_set(err, LMZ_ERR_MODEL_MISSING,
                       "model %s not found (searched the built-in models and %s)", hash_hex,
                       dirs);
}

static int is_regular_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* <dir>/<name>.lmzm (or <dir>/<name> when name already ends in .lmzm) on
 * the search path. */
static int find_named_on_path(const search_path *sp, const char *name, char *path, size_t cap)
{
    const char *ext = has_model_ext(name) ? "" : LMZ_MODEL_EXT;
    for (size_t i = 0; i < sp->n; i++) {
        int w = snprintf(path, cap, "%s/%s%s", sp->dirs[i], name, ext);
        if (w > 0 && (size_t)w < cap && is_regular_file(path))
            return 1;
    }
    return 0;
}

lmz_status lmz_model_resolve(const char *spec, const char *model_dir, const char *model_path,
                             lmz_model **out, int *shipped, lmz_err *err)
{
    lmz_h5_init();
    *out = NULL;
    *shipped = 0;
    if (!spec || !*spec)
        return lmz_err_set(err, LMZ_ERR_USAGE, "empty model name");
    if (find_builtin(spec)) {
        *shipped = 1;
        return lmz_model_builtin(spec, out, err);
    }
    /* A path (it has a '/', or names an existing file): the user's own. */
    if (strchr(spec, '/') || is_regular_file(spec))
        return lmz_model_load(spec, out, err);
    search_path sp;
    search_path_init(&sp, model_dir, model_path);
    char path[PATH_MAX], dirs[1024];
    int found = find_named_on_path(&sp, spec, path, sizeof path);
    search_path_describe(&sp, dirs, sizeof dirs);
    search_path_free(&sp);
    if (!found)
        return lmz_err_set(err, LMZ_ERR_MODEL_MISSING,
                           "model '%s' not found: not a file, a built-in model or a model in %s",
                           spec, dirs);
    lmz_status st = lmz_model_load(path, out, err);
    if (st == LMZ_OK)
        *shipped = 1;
    return st;
}

/* ---- defaults ---- */

/* The model each --kind uses when -m is not given: a shipped model in
 * models/ (found by name on the search path), or the built-in random model
 * for "bytes", which has no data to train on: it stores what it cannot
 * predict, at one byte per block. */
static const struct {
    const char *kind;
    const char *model;
} default_models[] = {
    {"text", "text-general-200k-1"}, /* models/text-general-200k-1.lmzm: code, logs, tables, prose */
    {"image", "image-200k-1"}, /* models/image-200k-1.lmzm: 32x64 grayscale patches */
    {"audio", "audio-200k-1"}, /* models/audio-200k-1.lmzm: 8-bit speech samples */
    {"bytes", "random-200k"},
};
#define DEFAULT_MODEL_FALLBACK "random-200k"

const char *lmz_default_model_for_kind(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof default_models / sizeof default_models[0]; i++)
        if (strcmp(default_models[i].kind, kind) == 0)
            return default_models[i].model;
    return DEFAULT_MODEL_FALLBACK;
}
