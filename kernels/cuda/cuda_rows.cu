// cuda_rows.cu: kernels that work on one row (one position) at a time:
// embedding, layer norm + quantisation, row quantisation (optionally of
// GELU), and the per-head quantisation of q/k/v. Ports of block.c / ops.c.
#include "cuda_internal.h"
#include "cuda_reduce.cuh"

// lmz_embed, one thread per (row, column).
__global__ void k_embed(int n, int d, const uint8_t *__restrict__ in,
                        const int8_t *__restrict__ emb, const int32_t *__restrict__ mult,
                        const int32_t *__restrict__ shift, int32_t *__restrict__ x)
{
    const size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (size_t)n * d)
        return;
    const size_t r = idx / d;
    const int c = (int)(idx % d);
    const int t = in[r];
    x[idx] = (int32_t)lmz_clamp64(
        lmz_rshift_round((int64_t)emb[(size_t)t * d + c] * mult[t], shift[t]), -LMZ_RES,
        LMZ_RES);
}

void lmz_cuda_embed(const lmz_cuda *g, int n, const uint8_t *in, int32_t *x)
{
    const int d = g->cfg.d_model;
    const size_t total = (size_t)n * d;
    if (total == 0)
        return;
    LMZ_LAUNCH(g, k_embed, (unsigned)((total + 255) / 256), 256, 0, n, d, in, g->emb, g->emb_mult,
               g->emb_shift, x);
}

// lmz_layer_norm then lmz_quant_row. One warp per row, ROW_WARPS rows per
// block: the row's sums and maxima are warp shuffles, with no shared memory
// and no block barrier (measured on an H200, the earlier one-block-per-row
// kernel with three block-wide reductions took 20% of the score's device
// time at 200k). The row is read again for each pass instead of being kept:
// it is d int32 and sits in L1. Every lane gets every reduction's result,
// so all lanes compute the same mean, std and scale, exactly the CPU's
// (the sums are exact integers, independent of their order).
#define ROW_WARPS 4

__global__ void __launch_bounds__(ROW_WARPS * 32)
k_ln_quant(int n, int d, const int32_t *__restrict__ x, int8_t *__restrict__ zq,
           int32_t *__restrict__ za)
{
    const size_t r = (size_t)blockIdx.x * ROW_WARPS + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (r >= (size_t)n)
        return; // whole warps leave together
    const int32_t *xr = x + r * d;
    int64_t sum = 0;
    for (int c = lane; c < d; c += 32)
        sum += xr[c];
    sum = lmz_warp_reduce<int64_t, 0>(sum);
    const int64_t mean = lmz_div_round(sum, d);
    uint64_t sq = 0;
    for (int c = lane; c < d; c += 32) {
        const int64_t ci = xr[c] - mean;
        sq += (uint64_t)(ci * ci);
    }
    sq = lmz_warp_reduce<uint64_t, 0>(sq);
    const uint64_t var = sq / (uint64_t)d;
    const int64_t std = (int64_t)lmz_isqrt64(var + 128);
    const int64_t inv = (INT64_C(1) << 40) / std;
    // lmz_quant_row of z = the normalised row, z recomputed in each pass
    int64_t a = 0;
    for (int c = lane; c < d; c += 32) {
        const int64_t m = d_abs32((int32_t)lmz_rshift_round((xr[c] - mean) * inv, 28));
        if (m > a)
            a = m;
    }
    a = lmz_warp_reduce<int64_t, 1>(a);
    if (a == 0)
        a = 1;
    const uint64_t qinv = d_quant_inv(a);
    int8_t *q = zq + r * d;
    for (int c = lane; c < d; c += 32)
        q[c] = d_quant_one((int32_t)lmz_rshift_round((xr[c] - mean) * inv, 28), qinv);
    if (lane == 0)
        za[r] = (int32_t)a;
}

void lmz_cuda_ln_quant(const lmz_cuda *g, int n, const int32_t *x, int8_t *zq, int32_t *za)
{
    if (n <= 0)
        return;
    const int d = g->cfg.d_model;
    LMZ_LAUNCH(g, k_ln_quant, (unsigned)((n + ROW_WARPS - 1) / ROW_WARPS), ROW_WARPS * 32, 0, n,
               d, x, zq, za);
}

// lmz_quant_row of a row (of gelu of it with LMZ_QUANT_GELU): one warp per
// row as k_ln_quant, the GELU (a table lookup) recomputed in the second pass.
__device__ __forceinline__ int32_t quant_pre(const lmz_dtabs &tabs, lmz_quant_pre pre, int32_t u)
{
    return pre == LMZ_QUANT_GELU ? d_gelu(tabs, u) : u; // |gelu(u)| <= |u| <= ACT
}

__global__ void __launch_bounds__(ROW_WARPS * 32)
k_quant_rows(int n, int w, lmz_quant_pre pre, lmz_dtabs tabs, const int32_t *__restrict__ v,
             int8_t *__restrict__ q, int32_t *__restrict__ a)
{
    const size_t r = (size_t)blockIdx.x * ROW_WARPS + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (r >= (size_t)n)
        return;
    const int32_t *vr = v + r * w;
    int64_t am = 0;
    for (int i = lane; i < w; i += 32) {
        const int64_t m = d_abs32(quant_pre(tabs, pre, vr[i]));
        if (m > am)
            am = m;
    }
    am = lmz_warp_reduce<int64_t, 1>(am);
    if (am == 0)
        am = 1;
    const uint64_t inv = d_quant_inv(am);
    int8_t *qr = q + r * w;
    for (int i = lane; i < w; i += 32)
        qr[i] = d_quant_one(quant_pre(tabs, pre, vr[i]), inv);
    if (lane == 0)
        a[r] = (int32_t)am;
}

void lmz_cuda_quant_rows(const lmz_cuda *g, int n, int w, lmz_quant_pre pre, const int32_t *v,
                         int8_t *q, int32_t *a)
{
    if (n <= 0)
        return;
    LMZ_LAUNCH(g, k_quant_rows, (unsigned)((n + ROW_WARPS - 1) / ROW_WARPS), ROW_WARPS * 32, 0, n,
               w, pre, g->tabs, v, q, a);
}

// The q, k and v head slices of the qkv output, each row-quantised: one warp
// per (row, head, part). dh <= 256, so a lane holds at most 8 values.
__global__ void k_quant_heads(int n, int d, int H, const int32_t *__restrict__ qkv,
                              lmz_qkv_dst dst)
{
    const size_t wid = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const int lane = threadIdx.x & 31;
    if (wid >= (size_t)n * H * 3)
        return; // whole warps leave together (blockDim is a multiple of 32)
    const int part = (int)(wid % 3);
    const int h = (int)((wid / 3) % H);
    const size_t r = wid / 3 / H;
    const int dh = d / H;
    const int32_t *v = qkv + r * 3 * (size_t)d + (size_t)part * d + (size_t)h * dh;
    int64_t a = 0;
    for (int c = lane; c < dh; c += 32) {
        const int64_t m = d_abs32(v[c]);
        if (m > a)
            a = m;
    }
    a = lmz_warp_reduce<int64_t, 1>(a);
    if (a == 0)
        a = 1;
    const uint64_t inv = d_quant_inv(a);
    int8_t *q = dst.p8[part] + r * dst.r8[part] + (size_t)h * dst.h8[part];
    for (int c = lane; c < dh; c += 32)
        q[c] = d_quant_one(v[c], inv);
    if (lane == 0)
        dst.pa[part][r * dst.ra[part] + (size_t)h * dst.ha[part]] = (int32_t)a;
}

void lmz_cuda_quant_heads(const lmz_cuda *g, int n, const int32_t *qkv, const lmz_qkv_dst *dst)
{
    if (n <= 0)
        return;
    const int d = g->cfg.d_model, H = g->cfg.n_heads;
    const size_t threads = (size_t)n * H * 3 * 32;
    LMZ_LAUNCH(g, k_quant_heads, (unsigned)((threads + 255) / 256), 256, 0, n, d, H, qkv, *dst);
}

// The row kernels (one warp per row, values recomputed rather than kept)
// use no dynamic shared memory, so no model can ask them for too much: the
// launcher files' init hook has nothing to check here.
lmz_status lmz_cuda_rows_init(const lmz_cuda *g, lmz_err *err)
{
    (void)g;
    (void)err;
    return LMZ_OK;
}
