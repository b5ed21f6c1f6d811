// cuda_reduce.cuh: block-wide integer reductions. Integer sums and maxima
// do not depend on the order they are formed in, so these give exactly what
// the CPU's sequential loops give.
#ifndef LMZ_CUDA_REDUCE_CUH
#define LMZ_CUDA_REDUCE_CUH

#include <stdint.h>

// op: 0 sum, 1 max. blockDim.x a multiple of 32, <= 1024. Every thread of
// the block must call it; every thread gets the result. sh: 32 T of shared
// memory; the function synchronises before returning, so sh may be reused
// by the next call.
template <typename T, int OP>
__device__ __forceinline__ T lmz_block_reduce(T v, T *sh)
{
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int nw = blockDim.x >> 5;
    for (int o = 16; o > 0; o >>= 1) {
        T w = __shfl_xor_sync(0xffffffffu, v, o);
        v = OP == 0 ? v + w : (w > v ? w : v);
    }
    __syncthreads(); // sh free from any earlier use
    if (lane == 0)
        sh[warp] = v;
    __syncthreads();
    T r = sh[0];
    for (int k = 1; k < nw; k++)
        r = OP == 0 ? r + sh[k] : (sh[k] > r ? sh[k] : r);
    return r;
}

template <typename T, int OP>
__device__ __forceinline__ T lmz_warp_reduce(T v)
{
    for (int o = 16; o > 0; o >>= 1) {
        T w = __shfl_xor_sync(0xffffffffu, v, o);
        v = OP == 0 ? v + w : (w > v ? w : v);
    }
    return v;
}

#endif
