/* v2_ops.h: the operations of arithmetic version 2 that differ from
 * version 1 (docs/inference.md, "Arithmetic version 2"), scalar reference.
 * LN, row quantisation, the linear layers' rescale, GELU and expq are
 * version 1's (lmz_cpu.h, lmz_ops.h) and are called from there unchanged.
 * Private to kernels/. */
#ifndef LMZ_V2_OPS_H
#define LMZ_V2_OPS_H

#include <stdint.h>

#include "../lmz_infer_v2.h"
#include "../lmz_tables_v2.h"
#include "lmz_cpu.h"
#include "v2_prims.h"

/* LMZ_V2_SCORE_LIM, LMZ_V2_RECIP_BITS, lmz_v2_shift_round, lmz_v2_quant_kv
 * and the other scalar steps: v2_prims.h (shared with the CUDA kernels). */

/* The softmax weight of a score x >= 0 below the row's maximum (Q8). */
static inline uint8_t lmz_v2_exp8(int32_t x)
{
    return (uint8_t)lmz_v2_exp8_in(LMZ_EXP8, LMZ_EXP8_N, x);
}

/* Q: the smallest e in [0, 12] with shift_round(max |v|, e) <= 127, and the
 * n values shift_round(v_i, e) into q (|v_i| <= ACT). Returns e. */
int lmz_v2_quant_pow2(const int32_t *v, int n, int8_t *q);

/* One query row (q8 with exponent eq) of one head attending over key
 * positions 0..i: k8/v8 at position 0's head slice, row_stride bytes apart;
 * ks/vs the head's static shifts, e_h its ALiBi exponent. sc: i+1 int32 of
 * scratch. Writes dh outputs (Q12, clamped to ACT) to out. b: NULL, or the
 * bounds to record (lmz_infer_v2.h). */
void lmz_v2_attend_row(const int8_t *q8, int eq, const int8_t *k8, const int8_t *v8,
                       int row_stride, int i, int dh, int ks, int vs, int e_h, int32_t *sc,
                       int32_t *out, lmz_v2_bounds *b);

/* y = linear(L, q, a) (v1's formula: int32 dot products, v1's rescale);
 * residual: y = clamp(y + ..., -RES, RES), else y = clamp(..., -lim, lim). */
void lmz_v2_linear(const lmz_linear *L, const int8_t *q, int32_t a, int64_t lim, int residual,
                   int32_t *y, lmz_v2_bounds *b);

/* The output table from clamped logits: v1's, with one reciprocal per row
 * in place of 256 divisions. */
void lmz_v2_freq_table(const int32_t logits[256], uint16_t freq[256]);

#endif
