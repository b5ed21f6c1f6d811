/* lmz_ops.h: the scalar integer primitives of docs/inference.md.
 *
 * Every function here is the literal definition from the spec; the bounds in
 * the comments are the ones the spec guarantees for the arguments it is
 * called with, and they are what makes each int64 expression overflow-free.
 * Private to kernels/. */
#ifndef LMZ_OPS_H
#define LMZ_OPS_H

#include <stdint.h>

#include "../lmz_tables.h"

/* The pure integer primitives below are also compiled for the GPU
 * (kernels/cuda/cuda_ops.cuh includes this file), so CPU and CUDA share one
 * definition of each; the table lookups (gelu, expq) have device twins that
 * read the tables from device memory. */
#ifdef __CUDACC__
#define LMZ_HD __host__ __device__
#else
#define LMZ_HD
#endif

#define LMZ_ACT (INT64_C(1) << 18) /* 64.0 in Q12: bound of matmul inputs */
#define LMZ_RES (INT64_C(1) << 24) /* 4096.0 in Q12: bound of the residual */

/* floor((v + 2^(s-1)) / 2^s), s >= 1: round half up. Right-shifting a
 * negative int64 is arithmetic on every compiler lmz supports (GCC, Clang,
 * NVCC document it); the callers keep |v| + 2^(s-1) < 2^63. */
static inline LMZ_HD int64_t lmz_rshift_round(int64_t v, int s)
{
    return (v + (INT64_C(1) << (s - 1))) >> s;
}

/* floor(a / b) for b > 0 (C's '/' truncates toward zero). */
static inline LMZ_HD int64_t lmz_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && (a < 0))
        q--;
    return q;
}

/* floor((2a + b) / (2b)), b > 0: a / b rounded half up. Callers keep
 * |2a + b| < 2^63 (the largest use is the attention sum, < 2^56). */
static inline LMZ_HD int64_t lmz_div_round(int64_t a, int64_t b)
{
    return lmz_floor_div(2 * a + b, 2 * b);
}

static inline LMZ_HD int64_t lmz_clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Exact floor(sqrt(v)) for any uint64, by the bitwise (digit-by-digit)
 * method: integer only, so no libm or rounding mode can change it. */
static inline LMZ_HD uint64_t lmz_isqrt64(uint64_t v)
{
    uint64_t rem = v, root = 0;
    uint64_t bit = UINT64_C(1) << 62; /* highest power of four <= 2^63 */
    while (bit > rem)
        bit >>= 2;
    while (bit != 0) {
        if (rem >= root + bit) {
            rem -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    return root;
}

/* gelu(u) for u in Q12, |u| <= ACT: the GELU_T table, linearly interpolated
 * between its 1/256 steps. (u + 32768) >> 4 is in [0, 4095] on the
 * interpolated range, so k + 1 <= 4096 stays inside the table. */
static inline int32_t lmz_gelu(int32_t u)
{
    if (u <= -32768)
        return 0;
    if (u >= 32768)
        return u;
    const int32_t k = (u + 32768) >> 4, f = (u + 32768) & 15;
    const int64_t lo = LMZ_GELU_T[k], hi = LMZ_GELU_T[k + 1];
    return (int32_t)(lo + lmz_rshift_round((hi - lo) * f, 4));
}

/* 65536 * exp(-x / 4096) for x >= 0 in Q12. EXP_HI * EXP_LO <= 2^32 needs
 * 33 bits, hence uint64. */
static inline uint32_t lmz_expq(int64_t x)
{
    if (x >= 65536)
        return 0;
    const uint64_t p = (uint64_t)LMZ_EXP_HI[x >> 6] * LMZ_EXP_LO[x & 63];
    return (uint32_t)((p + 32768) >> 16);
}

#endif
