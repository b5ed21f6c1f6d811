// cuda_v2_internal.h: what the version 2 score path's files share (C++
// side only; docs/cuda.md, "Version 2 score path").
//   cuda_v2_score.cu      the lmz_cuda_v2 object, the q/k/v quantisation,
//                         the layer loop, the table, lmz_cuda_v2_score
//   cuda_v2_attention.cu  attention: the fast tiled kernel, the naive one and
//                         the tensor-core (mma) one
// Everything version 2 keeps from version 1 runs on v1's kernels through
// the lmz_cuda the object holds (cuda_internal.h).
#ifndef LMZ_CUDA_V2_INTERNAL_H
#define LMZ_CUDA_V2_INTERNAL_H

#include "cuda_internal.h"

extern "C" {
#include "lmz_model_v2.h"
}
#include "cpu/v2_prims.h" // the scalar steps, shared with the CPU reference

// One layer's static K/V shifts, by head (passed by value to the kernels).
struct lmz_v2_shifts {
    int ks[LMZ_MAX_HEADS], vs[LMZ_MAX_HEADS];
};

// Queries per attention tile (both variants use the same tiles), and keys
// per shared-memory tile of the fast kernel (a multiple of 4).
#define LMZ_V2_QT 64
#define LMZ_V2_KT 64

// One layer's attention operands. Rows of chunk c are row0[c] ..
// row0[c] + len[c] - 1; tiles: ntiles (chunk, first query) pairs of
// LMZ_V2_QT queries. q8/k8/v8: rows of d int8 (head h at h * dh); eq: rows
// of H int32 (the query's exponent). exp8: EXP8 in device memory (n8
// entries).
struct lmz_v2_att {
    int ntiles;
    const int2 *tiles;
    const int *row0, *len;
    const int8_t *q8, *k8, *v8;
    const int32_t *eq;
    const uint8_t *exp8;
    int n8;
    lmz_v2_shifts sh;
};

// o (rows of d int32, Q12): the attention output of every row and head.
void lmz_cuda_v2_attend_fast(const lmz_cuda *g, const lmz_v2_att *a, int32_t *o);
void lmz_cuda_v2_attend_naive(const lmz_cuda *g, const lmz_v2_att *a, int32_t *o);
// int8 tensor cores (mma.sync m16n8k32, sm_80+); no opt-in (< 48 KB).
void lmz_cuda_v2_attend_mma(const lmz_cuda *g, const lmz_v2_att *a, int32_t *o);
// Shared memory of the fast kernel for g's model (opt-in above 48 KB).
lmz_status lmz_cuda_v2_attend_init(const lmz_cuda *g, lmz_err *err);

#endif
