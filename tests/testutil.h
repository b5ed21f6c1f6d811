/* testutil.h: small helpers shared by the C tests. */
#ifndef LMZ_TESTUTIL_H
#define LMZ_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lmz_error.h"
#include "lmz_model.h"

/* Exit code that ctest reads as "skipped". */
#define TEST_SKIP 77

extern int tu_failures;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            tu_failures++;                                                       \
        }                                                                        \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                       \
    do {                                                                         \
        long long va_ = (long long)(a), vb_ = (long long)(b);                    \
        if (va_ != vb_) {                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n",    \
                    __FILE__, __LINE__, #a, #b, va_, vb_);                       \
            tu_failures++;                                                       \
        }                                                                        \
    } while (0)

/* Print a summary and return the process exit code (0 or 1). */
int tu_finish(const char *suite);

/* Deterministic random bytes (splitmix64). */
uint64_t tu_rand(uint64_t *state);
void tu_fill_random(uint8_t *buf, size_t n, uint64_t seed);

/* Read a whole file (malloc'd); NULL if missing. */
uint8_t *tu_read_file(const char *path, size_t *len);
/* Copy a file, its first keep bytes at most (SIZE_MAX: all of it); a
 * missing source leaves an empty file. */
void tu_copy_file(const char *from, const char *to, size_t keep);
/* Whether the file holds exactly the n bytes want. */
int tu_file_equals(const char *path, const uint8_t *want, size_t n);
/* A file under the shared data dir, read whole; NULL if it is missing. */
uint8_t *tu_read_data(const char *rel, size_t *len);
/* The same, for a test that needs at least min bytes of it: NULL (after a
 * line saying the test is skipped) if the file is missing or shorter. */
uint8_t *tu_read_data_at_least(const char *rel, size_t min, size_t *len);
/* Path under the shared data dir ($LMZ_DATA_DIR), or NULL if it is missing. */
const char *tu_data_path(const char *rel, char *buf, size_t cap);
/* Path under the source tree ($LMZ_SOURCE_DIR or "..") */
const char *tu_source_path(const char *rel, char *buf, size_t cap);
/* A fresh temporary directory (mkdtemp), removed by tu_rmtree. */
char *tu_mkdtemp(void);
void tu_rmtree(const char *dir);
/* tu_mkdtemp for a test's main: on failure it says so and exits 1. */
char *tu_test_dir(void);

/* A growing memory buffer with a write callback of the (ctx, buf, n, err)
 * shape that lmz's sinks take. */
typedef struct tu_membuf {
    uint8_t *p;
    size_t n, cap;
} tu_membuf;
lmz_status tu_membuf_write(void *ctx, const uint8_t *buf, size_t n, lmz_err *err);

/* testmodels.c. A seeded random model of a preset ("tiny", "200k", ...),
 * NULL if the name is unknown. */
lmz_model *tu_model_random(const char *preset, uint64_t seed);
/* A model at every limit: weights +-127, multipliers and shifts at their
 * ends, biases at +-2^24. variant 0: every clamp saturates; 1: outputs are
 * the biases; 2: a per-row mix; 3: the embedding shifted to nothing. */
lmz_model *tu_model_extreme(const lmz_config *cfg, int variant, uint64_t seed);

/* testpipe.c (the pipeline, 2 threads). One file to an archive with model
 * (NULL: the default) and codec (0: auto); st may be NULL. */
struct lmz_stats;
lmz_status tu_compress_one(const char *input, const char *archive, const char *model,
                           int codec, struct lmz_stats *st, lmz_err *err);
/* An archive's members to output (a directory, or a file for one member). */
lmz_status tu_decompress_one(const char *archive, const char *output, lmz_err *err);

#endif
