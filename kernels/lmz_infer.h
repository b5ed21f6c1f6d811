/* lmz_infer.h: integer inference on the CPU (the reference).
 *
 * Two ways to run the same math, equal bit for bit (tests/test_infer.c):
 *   - lmz_forward_chunk: the full causal pass over one chunk, used to compress;
 *   - lmz_kv_step: one position at a time with a KV cache, used to decompress;
 *     its cost per byte is linear in the prefix (attention over the cache),
 *     never a re-run of the prefix.
 * Position i's table predicts byte i from bytes 0..i-1; the model's input at
 * position 0 is the byte 0 (docs/inference.md). */
#ifndef LMZ_INFER_H
#define LMZ_INFER_H

#include <stdint.h>

#include "lmz_model.h"

/* Scratch memory for one thread running one chunk at a time. */
typedef struct lmz_scratch lmz_scratch;
lmz_scratch *lmz_scratch_create(const lmz_config *cfg);
void lmz_scratch_free(lmz_scratch *s);

/* Full pass over n bytes (1 <= n <= cfg.ctx). For each position i writes the
 * coder's view of byte data[i]: cum_out[i] and freq_out[i]. If tables is not
 * NULL, also writes the full 256-entry table of each position there
 * (n*256 entries). Returns LMZ_OK or LMZ_ERR_NOMEM. */
lmz_status lmz_forward_chunk(const lmz_model *m, lmz_scratch *s,
                             const uint8_t *data, int n,
                             uint16_t *cum_out, uint16_t *freq_out,
                             uint16_t *tables);

/* KV cache of one chunk. */
typedef struct lmz_kv lmz_kv;
lmz_kv *lmz_kv_create(const lmz_config *cfg);
void lmz_kv_free(lmz_kv *kv);
void lmz_kv_reset(lmz_kv *kv);
int lmz_kv_len(const lmz_kv *kv);
/* Append the model input at the next position (0 at position 0, then each
 * decoded byte) and write the table that predicts the byte at that position.
 * Fails with LMZ_ERR_RANGE when the cache is full (cfg.ctx positions). */
lmz_status lmz_kv_step(const lmz_model *m, lmz_scratch *s, lmz_kv *kv,
                       int input_byte, uint16_t table[256]);
/* lmz_kv_step of n <= LMZ_KV_MANY different caches at once (each at its own
 * position; cache r gets input[r], its table goes to tables + r * 256).
 * Each table is the one lmz_kv_step gives; stepping several chunks together
 * only lets the linear layers read their weights once for all of them. On
 * an error no cache has advanced. */
#define LMZ_KV_MANY 4
lmz_status lmz_kv_step_many(const lmz_model *m, lmz_scratch *s, lmz_kv *const *kv, int n,
                            const int *input, uint16_t *tables);

/* SIMD paths of the CPU inference. Every path computes docs/inference.md
 * exactly (same bits as the portable scalar reference; tests/test_simd*.c).
 * The path is process-wide: the best this CPU runs unless chosen with
 * lmz_simd_select (or a CPU backend's params.simd, lmz_backend.h) before
 * inference threads start. The library never reads the environment; the
 * CLI maps LMZ_SIMD (scalar | avx2 | avx512 | auto) onto the params. */
/* lmz_simd (LMZ_SIMD_AUTO, _SCALAR, _AVX2, _AVX512) is the public enum of lmz.h. */
/* "auto", "scalar", "avx2", "avx512" -> the enum; -1 if unknown. */
int lmz_simd_parse(const char *s);
/* 1 if this build and this CPU can run the path (AUTO and SCALAR: always). */
int lmz_simd_supported(lmz_simd path);
/* Use path from now on (AUTO: the best this CPU runs).
 * LMZ_ERR_NO_DEVICE if the CPU cannot run it (the path is then unchanged). */
lmz_status lmz_simd_select(lmz_simd path);
/* The path in use: "scalar", "avx2" or "avx512". */
const char *lmz_simd_name(void);

#endif
