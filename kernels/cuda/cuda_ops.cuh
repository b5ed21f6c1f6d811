// cuda_ops.cuh: device ports of kernels/cpu/lmz_ops.h (docs/inference.md).
//
// The integer primitives (rounding shifts, divisions, clamp, isqrt) are
// lmz_ops.h's own, compiled for host and device. The functions here are the
// ones that read lookup tables: literal copies of their CPU twins with the
// tables passed as pointers (the tables of kernels/lmz_tables.h,
// copied to device memory by cuda_model.cu). Keep them line for line equal
// to lmz_ops.h: any difference is an archive that the CPU cannot decode.
#ifndef LMZ_CUDA_OPS_CUH
#define LMZ_CUDA_OPS_CUH

#include <stdint.h>

#include "cpu/lmz_ops.h" // LMZ_ACT, LMZ_RES and the integer primitives, shared with the CPU

// The lookup tables in device memory (read through the read-only cache).
struct lmz_dtabs {
    const int32_t *gelu;    // LMZ_GELU_T, 4097
    const uint32_t *exp_hi; // LMZ_EXP_HI, 1024
    const uint32_t *exp_lo; // LMZ_EXP_LO, 64
};

__device__ __forceinline__ int32_t d_gelu(const lmz_dtabs &t, int32_t u)
{
    if (u <= -32768)
        return 0;
    if (u >= 32768)
        return u;
    const int32_t k = (u + 32768) >> 4, f = (u + 32768) & 15;
    const int64_t lo = __ldg(t.gelu + k), hi = __ldg(t.gelu + k + 1);
    return (int32_t)(lo + lmz_rshift_round((hi - lo) * f, 4));
}

__device__ __forceinline__ uint32_t d_expq(const lmz_dtabs &t, int64_t x)
{
    if (x >= 65536)
        return 0;
    const uint64_t p = (uint64_t)__ldg(t.exp_hi + (x >> 6)) * __ldg(t.exp_lo + (x & 63));
    return (uint32_t)((p + 32768) >> 16);
}

// The quantisation of one value once the row's amax a (>= 1) is known:
// lmz_quant_row's inner loop. inv = floor(127 * 2^32 / a).
__device__ __forceinline__ uint64_t d_quant_inv(int64_t a)
{
    return (UINT64_C(127) << 32) / (uint64_t)a;
}

__device__ __forceinline__ int8_t d_quant_one(int32_t v, uint64_t inv)
{
    const uint64_t m = (uint64_t)(v < 0 ? -(int64_t)v : v);
    const int32_t r = (int32_t)((m * inv + (UINT64_C(1) << 31)) >> 32);
    return (int8_t)(v < 0 ? -r : r);
}

__device__ __forceinline__ int64_t d_abs32(int32_t v)
{
    return v < 0 ? -(int64_t)v : v;
}

#endif
