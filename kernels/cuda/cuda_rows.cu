// cuda_rows.cu: kernels that work on one row (one position) at a time:
// embedding, layer norm + quantisation, row quantisation (optionally of
// GELU), and the per-head quantisation of q/k/v. Ports of block.c / ops.c.
#include "cuda_internal.h"
#include "cuda_reduce.cuh"

#define ROW_THREADS 256

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

// Quantise the w values v[] of shared memory into q (lmz_quant_row); every
// thread of the block calls it. Returns a.
__device__ int32_t block_quant(const int32_t *v, int w, int8_t *q, int64_t *red)
{
    int64_t a = 0;
    for (int i = threadIdx.x; i < w; i += blockDim.x) {
        const int64_t m = d_abs32(v[i]);
        if (m > a)
            a = m;
    }
    a = lmz_block_reduce<int64_t, 1>(a, red);
    if (a == 0)
        a = 1;
    const uint64_t inv = d_quant_inv(a);
    for (int i = threadIdx.x; i < w; i += blockDim.x)
        q[i] = d_quant_one(v[i], inv);
    return (int32_t)a;
}

// lmz_layer_norm then lmz_quant_row, one block per row.
__global__ void k_ln_quant(int d, const int32_t *__restrict__ x, int8_t *__restrict__ zq,
                           int32_t *__restrict__ za)
{
    extern __shared__ int32_t z[]; // d
    __shared__ int64_t red[32];
    __shared__ uint64_t ured[32];
    const size_t r = blockIdx.x;
    const int32_t *xr = x + r * d;
    int64_t sum = 0;
    for (int c = threadIdx.x; c < d; c += blockDim.x)
        sum += xr[c];
    sum = lmz_block_reduce<int64_t, 0>(sum, red);
    const int64_t mean = lmz_div_round(sum, d);
    uint64_t sq = 0;
    for (int c = threadIdx.x; c < d; c += blockDim.x) {
        const int64_t ci = xr[c] - mean;
        sq += (uint64_t)(ci * ci);
    }
    sq = lmz_block_reduce<uint64_t, 0>(sq, ured);
    const uint64_t var = sq / (uint64_t)d;
    const int64_t std = (int64_t)lmz_isqrt64(var + 128);
    const int64_t inv = (INT64_C(1) << 40) / std;
    for (int c = threadIdx.x; c < d; c += blockDim.x)
        z[c] = (int32_t)lmz_rshift_round((xr[c] - mean) * inv, 28);
    __syncthreads();
    const int32_t a = block_quant(z, d, zq + r * d, red);
    if (threadIdx.x == 0)
        za[r] = a;
}

void lmz_cuda_ln_quant(const lmz_cuda *g, int n, const int32_t *x, int8_t *zq, int32_t *za)
{
    if (n <= 0)
        return;
    const int d = g->cfg.d_model;
    LMZ_LAUNCH(g, k_ln_quant, n, ROW_THREADS, (size_t)d * 4, d, x, zq, za);
}

// lmz_quant_row of a row (of gelu of it with LMZ_QUANT_GELU), one block per row.
__global__ void k_quant_rows(int w, lmz_quant_pre pre, lmz_dtabs tabs, const int32_t *__restrict__ v,
                             int8_t *__restrict__ q, int32_t *__restrict__ a)
{
    extern __shared__ int32_t vs[]; // w
    __shared__ int64_t red[32];
    const size_t r = blockIdx.x;
    for (int i = threadIdx.x; i < w; i += blockDim.x) {
        const int32_t u = v[r * w + i];
        vs[i] = pre == LMZ_QUANT_GELU ? d_gelu(tabs, u) : u; // |gelu(u)| <= |u| <= ACT
    }
    __syncthreads();
    const int32_t am = block_quant(vs, w, q + r * w, red);
    if (threadIdx.x == 0)
        a[r] = am;
}

void lmz_cuda_quant_rows(const lmz_cuda *g, int n, int w, lmz_quant_pre pre, const int32_t *v,
                         int8_t *q, int32_t *a)
{
    if (n <= 0)
        return;
    LMZ_LAUNCH(g, k_quant_rows, n, ROW_THREADS, (size_t)w * 4, w, pre, g->tabs, v, q, a);
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

// The row kernels' dynamic shared memory is one row: d int32 for LN, and
// up to max(d, d_ff) int32 for row quantisation (the attention output and
// the GELU of ff1's).
lmz_status lmz_cuda_rows_init(const lmz_cuda *g, lmz_err *err)
{
    const size_t d = (size_t)g->cfg.d_model, f = (size_t)g->cfg.d_ff;
    lmz_status st = lmz_cuda_smem(g, (const void *)k_ln_quant, "k_ln_quant", d * 4, err);
    if (st == LMZ_OK)
        st = lmz_cuda_smem(g, (const void *)k_quant_rows, "k_quant_rows", (d > f ? d : f) * 4,
                           err);
    return st;
}
