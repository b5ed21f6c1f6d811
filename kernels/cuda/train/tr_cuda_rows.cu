// tr_cuda_rows.cu: the trainer's per-row and elementwise kernels. Each one
// is the formula of its CPU twin in kernels/train (named beside it); block
// reductions (cuda_reduce.cuh) replace the CPU's sequential sums.
#include <math.h>

#include "cuda/cuda_reduce.cuh"
#include "tr_cuda.h"

#define ROW_THREADS 128
#define COL_ROWS 256 // rows per block of the column sums

static int blocks_for(size_t n, int threads)
{
    size_t b = (n + (size_t)threads - 1) / (size_t)threads;
    return (int)(b < 65535 * 16 ? b : 65535 * 16); // the kernels loop over the rest
}

// ---- embedding (ops_misc.c: tr_embed_fwd, tr_embed_bwd) ----

__global__ void k_embed_fwd(float *out, const uint8_t *inp, const float *wte, int N, int d)
{
    const size_t n = (size_t)N * d;
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < n;
         e += (size_t)gridDim.x * blockDim.x)
        out[e] = wte[(size_t)inp[e / d] * d + e % d];
}

// Block v: vocabulary row v; each thread one column, rows in order.
__global__ void k_embed_bwd(float *dwte, const float *dout, const uint8_t *inp, int N, int d)
{
    const int v = blockIdx.x;
    for (int c = threadIdx.x; c < d; c += blockDim.x) {
        float acc = 0.0f;
        for (int n = 0; n < N; n++)
            if (inp[n] == v)
                acc += dout[(size_t)n * d + c];
        dwte[(size_t)v * d + c] += acc;
    }
}

void trc_embed_fwd(trc_ctx *g, float *out, const uint8_t *inp, const float *wte, int N, int d)
{
    TRC_LAUNCH(g, k_embed_fwd, blocks_for((size_t)N * d, 256), 256, 0, out, inp, wte, N, d);
}

void trc_embed_bwd(trc_ctx *g, float *dwte, const float *dout, const uint8_t *inp, int N, int d)
{
    const int th = d >= 128 ? 128 : (d + 31) / 32 * 32;
    TRC_LAUNCH(g, k_embed_bwd, 256, th, 0, dwte, dout, inp, N, d);
}

// ---- LayerNorm (ops_norm.c) ----

__global__ void k_ln_fwd(float *out, float *mean, float *rstd, const float *x, const float *gm,
                         const float *b, int d)
{
    __shared__ float sh[32];
    const size_t r = blockIdx.x;
    const float *xr = x + r * d;
    float s = 0.0f;
    for (int i = threadIdx.x; i < d; i += blockDim.x)
        s += xr[i];
    const float m = lmz_block_reduce<float, 0>(s, sh) / (float)d;
    float v = 0.0f;
    for (int i = threadIdx.x; i < d; i += blockDim.x)
        v += (xr[i] - m) * (xr[i] - m);
    v = lmz_block_reduce<float, 0>(v, sh);
    const float rs = 1.0f / sqrtf(v / (float)d + TR_LN_EPS);
    for (int i = threadIdx.x; i < d; i += blockDim.x)
        out[r * d + i] = (xr[i] - m) * rs * gm[i] + b[i];
    if (threadIdx.x == 0) {
        mean[r] = m;
        rstd[r] = rs;
    }
}

// dx += (dxh - mean(dxh) - xh mean(dxh xh)) rstd, dxh = dout g, per row.
__global__ void k_ln_bwd_dx(float *dx, const float *dout, const float *x, const float *mean,
                            const float *rstd, const float *gm, int d)
{
    __shared__ float sh[32];
    const size_t r = blockIdx.x;
    const float m = mean[r], rs = rstd[r];
    const float *xr = x + r * d, *dy = dout + r * d;
    float s1 = 0.0f, s2 = 0.0f;
    for (int i = threadIdx.x; i < d; i += blockDim.x) {
        const float xh = (xr[i] - m) * rs, dxh = dy[i] * gm[i];
        s1 += dxh;
        s2 += dxh * xh;
    }
    s1 = lmz_block_reduce<float, 0>(s1, sh) / (float)d;
    s2 = lmz_block_reduce<float, 0>(s2, sh) / (float)d;
    for (int i = threadIdx.x; i < d; i += blockDim.x) {
        const float xh = (xr[i] - m) * rs, dxh = dy[i] * gm[i];
        dx[r * d + i] += (dxh - s1 - xh * s2) * rs;
    }
}

// dg[c] += sum_r dout[r][c] xh[r][c], db[c] += sum_r dout[r][c]: a block
// per (column group, COL_ROWS rows), added atomically.
__global__ void k_ln_bwd_dgb(float *dg, float *db, const float *dout, const float *x,
                             const float *mean, const float *rstd, int N, int d)
{
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= d)
        return;
    const int r0 = blockIdx.y * COL_ROWS, r1 = r0 + COL_ROWS < N ? r0 + COL_ROWS : N;
    float sg = 0.0f, sb = 0.0f;
    for (int r = r0; r < r1; r++) {
        const float dy = dout[(size_t)r * d + c];
        sg += dy * ((x[(size_t)r * d + c] - mean[r]) * rstd[r]);
        sb += dy;
    }
    atomicAdd(dg + c, sg);
    atomicAdd(db + c, sb);
}

void trc_ln_fwd(trc_ctx *g, float *out, float *mean, float *rstd, const float *x, const float *gm,
                const float *b, int N, int d)
{
    TRC_LAUNCH(g, k_ln_fwd, N, ROW_THREADS, 0, out, mean, rstd, x, gm, b, d);
}

void trc_ln_bwd(trc_ctx *g, float *dx, float *dg, float *db, const float *dout, const float *x,
                const float *mean, const float *rstd, const float *gm, int N, int d)
{
    TRC_LAUNCH(g, k_ln_bwd_dx, N, ROW_THREADS, 0, dx, dout, x, mean, rstd, gm, d);
    const dim3 grid((d + 127) / 128, (N + COL_ROWS - 1) / COL_ROWS);
    TRC_LAUNCH(g, k_ln_bwd_dgb, grid, 128, 0, dg, db, dout, x, mean, rstd, N, d);
}

// ---- GELU, add, biases (ops_misc.c, ops_linear.c) ----

// tr_math.h's tr_phi_cdf / tr_gelu / tr_gelu_grad with expf for tr_exp.
__device__ __forceinline__ float phi_cdf(float x, float e)
{
    const float ax = (x < 0 ? -x : x) * 0.70710678118654752f;
    const float t = 1.0f / (1.0f + 0.3275911f * ax);
    float p = 1.061405429f;
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    const float erf_ax = 1.0f - p * t * e;
    const float erf_x = x < 0 ? -erf_ax : erf_ax;
    return 0.5f * (1.0f + erf_x);
}

__global__ void k_gelu_fwd(float *out, const float *inp, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        const float x = inp[i], e = expf(-0.5f * x * x);
        out[i] = x * phi_cdf(x, e);
    }
}

__global__ void k_gelu_bwd(float *dinp, const float *dout, const float *inp, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        const float x = inp[i], e = expf(-0.5f * x * x);
        dinp[i] = dout[i] * (phi_cdf(x, e) + x * e * 0.39894228040143268f);
    }
}

__global__ void k_zero(float *x, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        x[i] = 0.0f;
}

__global__ void k_add(float *out, const float *a, const float *b, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        out[i] = a[i] + b[i];
}

__global__ void k_bias_rows(float *out, const float *b, int N, int n)
{
    const size_t total = (size_t)N * n;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
         i += (size_t)gridDim.x * blockDim.x)
        out[i] = b[i % n];
}

__global__ void k_bias_grad(float *db, const float *dout, int N, int n)
{
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= n)
        return;
    const int r0 = blockIdx.y * COL_ROWS, r1 = r0 + COL_ROWS < N ? r0 + COL_ROWS : N;
    float s = 0.0f;
    for (int r = r0; r < r1; r++)
        s += dout[(size_t)r * n + c];
    atomicAdd(db + c, s);
}

void trc_gelu_fwd(trc_ctx *g, float *out, const float *inp, size_t n)
{
    TRC_LAUNCH(g, k_gelu_fwd, blocks_for(n, 256), 256, 0, out, inp, n);
}

void trc_gelu_bwd(trc_ctx *g, float *dinp, const float *dout, const float *inp, size_t n)
{
    TRC_LAUNCH(g, k_gelu_bwd, blocks_for(n, 256), 256, 0, dinp, dout, inp, n);
}

void trc_zero(trc_ctx *g, float *x, size_t n)
{
    TRC_LAUNCH(g, k_zero, blocks_for(n, 256), 256, 0, x, n);
}

void trc_add(trc_ctx *g, float *out, const float *a, const float *b, size_t n)
{
    TRC_LAUNCH(g, k_add, blocks_for(n, 256), 256, 0, out, a, b, n);
}

void trc_bias_rows(trc_ctx *g, float *out, const float *b, int N, int n)
{
    TRC_LAUNCH(g, k_bias_rows, blocks_for((size_t)N * n, 256), 256, 0, out, b, N, n);
}

void trc_bias_grad(trc_ctx *g, float *db, const float *dout, int N, int n)
{
    const dim3 grid((n + 127) / 128, (N + COL_ROWS - 1) / COL_ROWS);
    TRC_LAUNCH(g, k_bias_grad, grid, 128, 0, db, dout, N, n);
}

// ---- cross-entropy (ops_misc.c: tr_xent) ----

// One block of 256 threads per row, thread s holds logit s.
__global__ void __launch_bounds__(256)
k_xent(float *logits, const uint8_t *tgt, float dscale, double *rowloss)
{
    __shared__ float sh[32];
    const size_t r = blockIdx.x;
    const int s = threadIdx.x;
    float *l = logits + r * 256;
    const float v = l[s];
    const float m = lmz_block_reduce<float, 1>(v, sh);
    const float e = expf(v - m);
    const float z = lmz_block_reduce<float, 0>(e, sh);
    const int t = tgt[r];
    if (s == t)
        rowloss[r] = (double)logf(z) + (double)m - (double)v;
    if (dscale != 0.0f)
        l[s] = e * (dscale / z) - (s == t ? dscale : 0.0f);
}

// *loss += sum of rowloss[0..N) (one block; fixed order, so repeatable).
__global__ void k_sum_loss(const double *rowloss, int N, double *loss)
{
    __shared__ double sh[32];
    double s = 0.0;
    for (int i = threadIdx.x; i < N; i += blockDim.x)
        s += rowloss[i];
    s = lmz_block_reduce<double, 0>(s, sh);
    if (threadIdx.x == 0)
        *loss += s;
}

void trc_xent(trc_ctx *g, float *logits, const uint8_t *tgt, int N, float dscale,
              double *rowloss, double *loss)
{
    TRC_LAUNCH(g, k_xent, N, 256, 0, logits, tgt, dscale, rowloss);
    TRC_LAUNCH(g, k_sum_loss, 1, 1024, 0, rowloss, N, loss);
}

// ---- fake quantization (fakequant.c: tr_fq_rows) ----

// One warp per row: int8 with the row's max-abs scale, round half to even
// (rintf, as the CPU's 1.5 * 2^23 trick in the default rounding mode).
__global__ void k_fq_rows(float *x, int N, int n, int stride)
{
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= N)
        return;
    float *xr = x + (size_t)row * stride;
    float a = 0.0f;
    for (int i = lane; i < n; i += 32)
        a = fmaxf(a, fabsf(xr[i]));
    a = lmz_warp_reduce<float, 1>(a);
    if (a == 0.0f)
        return;
    const float inv = 127.0f / a, step = a / 127.0f;
    for (int i = lane; i < n; i += 32)
        xr[i] = rintf(xr[i] * inv) * step;
}

void trc_fq_rows(trc_ctx *g, float *x, int N, int n, int stride)
{
    TRC_LAUNCH(g, k_fq_rows, (N + 3) / 4, 128, 0, x, N, n, stride);
}

// ---- attention's head layout ----

struct heads3 {
    float *p[3];
};

__global__ void k_heads(float *rows, heads3 hd, int parts, int T, int d, int H, size_t total,
                        int to_heads)
{
    const int dh = d / H, W = parts * d;
    for (size_t e = blockIdx.x * (size_t)blockDim.x + threadIdx.x; e < total;
         e += (size_t)gridDim.x * blockDim.x) {
        const size_t n = e / W;
        const int k = (int)(e % W), part = k / d, h = (k % d) / dh, c = k % dh;
        const size_t b = n / T, i = n % T;
        float *dst = hd.p[part] + ((b * H + h) * T + i) * dh + c;
        if (to_heads)
            *dst = rows[e];
        else
            rows[e] = *dst;
    }
}

void trc_heads(trc_ctx *g, float *rows, float *const heads[3], int parts, int nb, int T, int d,
               int H, int to_heads)
{
    heads3 hd = {{heads[0], parts > 1 ? heads[1] : heads[0], parts > 2 ? heads[2] : heads[0]}};
    const size_t total = (size_t)nb * T * parts * d;
    TRC_LAUNCH(g, k_heads, blocks_for(total, 256), 256, 0, rows, hd, parts, T, d, H, total,
               to_heads);
}

// ---- attention's softmax rows (ops_attn.c: softmax_row, grad_row) ----

__device__ __forceinline__ float alibi_slope(int h, int H)
{
    return ldexpf(1.0f, -((8 * (h + 1) + H - 1) / H)); // tr_alibi_exp
}

// Block = one query row i of one (window, head): keys j <= i.
__global__ void k_softmax_fwd(float *S, float *lse, int H, int T, float scale)
{
    __shared__ float sh[32];
    const size_t row = blockIdx.x; // (b*H + h) * T + i
    const int i = (int)(row % T), h = (int)((row / T) % H);
    const float slope = alibi_slope(h, H);
    float *s = S + row * T;
    float m = -INFINITY;
    for (int j = threadIdx.x; j <= i; j += blockDim.x) {
        const float v = s[j] * scale - slope * (float)(i - j);
        s[j] = v;
        m = fmaxf(m, v);
    }
    m = lmz_block_reduce<float, 1>(m, sh);
    float l = 0.0f;
    for (int j = threadIdx.x; j <= i; j += blockDim.x) {
        const float p = expf(s[j] - m);
        s[j] = p;
        l += p;
    }
    l = lmz_block_reduce<float, 0>(l, sh);
    const float inv = 1.0f / l;
    for (int j = threadIdx.x; j < T; j += blockDim.x)
        s[j] = j <= i ? s[j] * inv : 0.0f;
    if (threadIdx.x == 0)
        lse[row] = m + logf(l);
}

// P = exp(S scale - slope (i-j) - lse); D = sum P dP; S <- P (dP - D) scale,
// dP <- P (each element is read and written by the same thread).
__global__ void k_softmax_bwd(float *S, float *dP, const float *lse, int H, int T, float scale)
{
    __shared__ float sh[32];
    const size_t row = blockIdx.x;
    const int i = (int)(row % T), h = (int)((row / T) % H);
    const float slope = alibi_slope(h, H), ls = lse[row];
    float *s = S + row * T, *dp = dP + row * T;
    float D = 0.0f;
    for (int j = threadIdx.x; j <= i; j += blockDim.x)
        D += expf(s[j] * scale - slope * (float)(i - j) - ls) * dp[j];
    D = lmz_block_reduce<float, 0>(D, sh);
    for (int j = threadIdx.x; j < T; j += blockDim.x) {
        if (j <= i) {
            const float p = expf(s[j] * scale - slope * (float)(i - j) - ls);
            s[j] = p * (dp[j] - D) * scale;
            dp[j] = p;
        } else {
            s[j] = 0.0f;
            dp[j] = 0.0f;
        }
    }
}

void trc_softmax_fwd(trc_ctx *g, float *S, float *lse, int nb, int H, int T, float scale)
{
    TRC_LAUNCH(g, k_softmax_fwd, nb * H * T, ROW_THREADS, 0, S, lse, H, T, scale);
}

void trc_softmax_bwd(trc_ctx *g, float *S, float *dP, const float *lse, int nb, int H, int T,
                     float scale)
{
    TRC_LAUNCH(g, k_softmax_bwd, nb * H * T, ROW_THREADS, 0, S, dP, lse, H, T, scale);
}
