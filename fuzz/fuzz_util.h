/* fuzz_util.h: helpers shared by the libFuzzer targets in fuzz/ and by the
 * regression tests that replay their corpora (tests/test_regress_*.c).
 *
 * Header-only (static functions), so that a regression test can #include a
 * target's .c file and call its LLVMFuzzerTestOneInput directly, built with
 * gcc and without libFuzzer.
 *
 *   fz_in       reads typed values off the fuzzer's input; past its end every
 *               read gives zeros, so any input is a complete recipe;
 *   fz_dir()    a private temporary directory for this process (in /dev/shm
 *               when there is one: the targets write files on every run),
 *               removed at exit;
 *   FZ_ASSERT   a broken invariant: print it and abort(), which libFuzzer
 *               records as a finding and ctest as a failure. */
#ifndef LMZ_FUZZ_UTIL_H
#define LMZ_FUZZ_UTIL_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FZ_ASSERT(cond)                                                                   \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

/* ---- reading the input ---- */

typedef struct fz_in {
    const uint8_t *p;
    size_t n, pos;
} fz_in;

static inline void fz_init(fz_in *in, const uint8_t *p, size_t n)
{
    in->p = p;
    in->n = n;
    in->pos = 0;
}

static inline size_t fz_left(const fz_in *in)
{
    return in->n - in->pos;
}

static inline uint8_t fz_u8(fz_in *in)
{
    return in->pos < in->n ? in->p[in->pos++] : 0;
}

static inline uint16_t fz_u16(fz_in *in)
{
    uint16_t v = fz_u8(in);
    return (uint16_t)(v | (uint16_t)fz_u8(in) << 8);
}

static inline uint32_t fz_u32(fz_in *in)
{
    uint32_t v = fz_u16(in);
    return v | (uint32_t)fz_u16(in) << 16;
}

static inline uint64_t fz_u64(fz_in *in)
{
    uint64_t v = fz_u32(in);
    return v | (uint64_t)fz_u32(in) << 32;
}

/* Up to want bytes of the input (fewer at its end): *got says how many. */
static inline const uint8_t *fz_bytes(fz_in *in, size_t want, size_t *got)
{
    size_t n = fz_left(in) < want ? fz_left(in) : want;
    const uint8_t *p = in->p + in->pos;
    in->pos += n;
    *got = n;
    return p;
}

/* A value that is usually one of a few interesting ones and sometimes raw:
 * keeps forged files close enough to valid ones to get past the first check. */
static inline uint64_t fz_pick(fz_in *in, const uint64_t *choices, size_t n)
{
    uint8_t sel = fz_u8(in);
    if (sel < 0xf0 || n == 0)
        return choices[sel % (n ? n : 1)];
    return sel & 1 ? fz_u64(in) : fz_u32(in);
}

/* ---- files ---- */

static inline void fz_rmtree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            size_t n = strlen(path) + strlen(e->d_name) + 2;
            char *sub = malloc(n);
            if (sub) {
                snprintf(sub, n, "%s/%s", path, e->d_name);
                fz_rmtree(sub);
                free(sub);
            }
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static char fz_dir_path[256];

static void fz_dir_cleanup(void)
{
    if (fz_dir_path[0])
        fz_rmtree(fz_dir_path);
}

/* This process's scratch directory. */
static inline const char *fz_dir(void)
{
    if (!fz_dir_path[0]) {
        struct stat st;
        const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
                                   access("/dev/shm", W_OK) == 0
                               ? "/dev/shm"
                               : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        snprintf(fz_dir_path, sizeof fz_dir_path, "%s/lmz-fuzz-XXXXXX", base);
        if (!mkdtemp(fz_dir_path)) {
            perror("lmz fuzz: mkdtemp");
            abort();
        }
        atexit(fz_dir_cleanup);
    }
    return fz_dir_path;
}

/* dir/name into buf (cap bytes). */
static inline const char *fz_path(const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", fz_dir(), name);
    return buf;
}

static inline void fz_write_file(const char *path, const uint8_t *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

/* Whole file into a malloc'd buffer; NULL if it cannot be read. */
static inline uint8_t *fz_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        uint8_t *nb = realloc(buf, cap *= 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* HDF5's signature: a fuzzer input that starts with it is written out as a
 * file as it is; any other input is a recipe for a forged file. */
static const uint8_t fz_hdf5_signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

static inline int fz_is_hdf5(const uint8_t *data, size_t n)
{
    return n >= 8 && memcmp(data, fz_hdf5_signature, 8) == 0;
}

#endif
