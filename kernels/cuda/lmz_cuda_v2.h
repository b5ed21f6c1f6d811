/* lmz_cuda_v2.h: the CUDA score path of arithmetic version 2 (the full
 * causal pass over chunks; docs/inference.md, "Arithmetic version 2";
 * docs/cuda.md, "Version 2 score path").
 *
 * The same contract as lmz_cuda_score for a version 2 model: every
 * position's table equal, bit for bit, to lmz_v2_forward_chunk's. Not wired
 * into the backends or the CLI yet (tests/test_cuda_v2.c calls it). A
 * separate object from lmz_cuda: it holds one (the v1 kernels that version 2
 * keeps run through it: embedding, LN + quant, row quant, GELU, the linear
 * layers), plus the version 2 parts: the per-layer K/V shifts, the EXP8
 * table, and the v2 kernels (q/k/v quantisation, attention, table). */
#ifndef LMZ_CUDA_V2_H
#define LMZ_CUDA_V2_H

#include <stdint.h>

#include "lmz_error.h"
#include "lmz_model_v2.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lmz_cuda lmz_cuda;
typedef struct lmz_cuda_v2 lmz_cuda_v2;

/* Which kernels compute attention and the table. FAST: a tile of queries
 * per block, int8 dot products (__dp4a) for Q.K and P.V; the table with one
 * block of 256 threads per row. NAIVE: one thread per (chunk, query, head)
 * for attention and one thread per row for the table: the simple
 * references the fast kernels are checked against on the device. MMA: as
 * FAST, but attention on the int8 tensor cores (mma.sync m16n8k32: Q.K
 * s8 x s8, P.V u8 x s8; sm_80 or later); the table as FAST. */
enum { LMZ_CUDA_V2_FAST = 0, LMZ_CUDA_V2_NAIVE = 1, LMZ_CUDA_V2_MMA = 2 };

/* Copy version 2 model m to the current device (m->m is its tensors; the
 * model is not validated here: lmz_model_v2_validate first).
 * LMZ_ERR_NO_DEVICE without a device. */
lmz_status lmz_cuda_v2_create(const lmz_model_v2 *m, lmz_cuda_v2 **out, lmz_err *err);
void lmz_cuda_v2_free(lmz_cuda_v2 *g);

/* LMZ_CUDA_V2_FAST (the default), LMZ_CUDA_V2_NAIVE or LMZ_CUDA_V2_MMA. */
void lmz_cuda_v2_set_variant(lmz_cuda_v2 *g, int variant);

/* As lmz_cuda_score: chunks of lengths 1..ctx; cum/freq at [c * ctx + i];
 * tables (if not NULL) at tables[(c * ctx + i) * 256]. */
lmz_status lmz_cuda_v2_score(lmz_cuda_v2 *g, int nchunks, const uint8_t *const *data,
                             const uint32_t *len, uint16_t *cum, uint16_t *freq,
                             uint16_t *tables, lmz_err *err);

/* The lmz_cuda that runs the kernels: lmz_cuda_set_batch, lmz_cuda_set_sync,
 * lmz_cuda_set_profile and lmz_cuda_profile_report apply to it (and so to
 * the v2 score). Its own lmz_cuda_score/decode must not be called (it is
 * not a version 1 model). */
lmz_cuda *lmz_cuda_v2_base(lmz_cuda_v2 *g);

#ifdef __cplusplus
}
#endif

#endif
