/* lmz_infer_v2.h: integer inference, arithmetic version 2, on the CPU (the
 * portable scalar reference; docs/inference.md, "Arithmetic version 2").
 *
 * The same two ways to run it as version 1 (lmz_infer.h), equal bit for bit
 * (tests/test_infer_v2.c):
 *   - lmz_v2_forward_chunk: the full causal pass over one chunk (compress);
 *   - lmz_v2_kv_step: one position at a time with a KV cache (decompress).
 * Not wired into the backends or the archive yet. */
#ifndef LMZ_INFER_V2_H
#define LMZ_INFER_V2_H

#include <stdint.h>

#include "lmz_model_v2.h"

/* The largest magnitudes the int32 accumulators reached, measured by an
 * int64 shadow of every accumulator (tests: each must stay within the bound
 * docs/inference.md states, and the int32 sum must equal the shadow). */
typedef struct lmz_v2_bounds {
    int64_t lin;        /* |sum_i w[o][i] * q[i]| of every linear output */
    int64_t qk;         /* |sum_c q8[c] * k8[c]| of every (query, key, head) */
    int64_t pv;         /* |sum_j P_j * v8_j[c]| of every (query, head, channel) */
    int64_t z;          /* sum_j P_j of every (query, head) */
    int64_t mismatches; /* int32 accumulators that differ from their shadow */
} lmz_v2_bounds;

typedef struct lmz_v2_scratch lmz_v2_scratch;
lmz_v2_scratch *lmz_v2_scratch_create(const lmz_config *cfg);
void lmz_v2_scratch_free(lmz_v2_scratch *s);
/* Record accumulator bounds into b from now on (NULL: stop). Slow: every
 * product is computed twice. */
void lmz_v2_scratch_watch(lmz_v2_scratch *s, lmz_v2_bounds *b);

/* Full pass over n bytes (1 <= n <= cfg.ctx), as lmz_forward_chunk:
 * cum_out/freq_out (may be NULL) get the coder's view of data[i], tables
 * (may be NULL) all n*256 entries. */
lmz_status lmz_v2_forward_chunk(const lmz_model_v2 *m, lmz_v2_scratch *s, const uint8_t *data,
                                int n, uint16_t *cum_out, uint16_t *freq_out, uint16_t *tables);

typedef struct lmz_v2_kv lmz_v2_kv;
lmz_v2_kv *lmz_v2_kv_create(const lmz_config *cfg);
void lmz_v2_kv_free(lmz_v2_kv *kv);
void lmz_v2_kv_reset(lmz_v2_kv *kv);
int lmz_v2_kv_len(const lmz_v2_kv *kv);
/* Append the model input at the next position (0 at position 0, then each
 * decoded byte) and write the table that predicts the byte there.
 * LMZ_ERR_RANGE when the cache is full. */
lmz_status lmz_v2_kv_step(const lmz_model_v2 *m, lmz_v2_scratch *s, lmz_v2_kv *kv,
                          int input_byte, uint16_t table[256]);

#endif
