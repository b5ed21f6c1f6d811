// cuda_v2_score.cu: lmz_cuda_v2, the version 2 score path (docs/cuda.md,
// "Version 2 score path"). The chunks go to the device in sub-batches, as
// cuda_score.cu's; each sub-batch is one full pass in v2_forward.c's order:
// per layer, every position's q/k/v (LN + quant, qkv, then Q with its
// power-of-two exponent and K, V with the model's static shifts), the
// attention, and the rest of the layer; then the head and the table.
//
// What version 2 keeps runs on version 1's kernels (cuda_rows.cu,
// cuda_linear.cu, through the lmz_cuda in g->base); this file adds the
// q/k/v quantisation and the table (one reciprocal per row), each as a
// fast kernel and a naive one-thread-per-output reference
// (LMZ_CUDA_V2_NAIVE), with the scalar steps of v2_prims.h.
#include <stdlib.h>
#include <string.h>

#include "cuda_reduce.cuh"
#include "cuda_v2_internal.h"
#include "lmz_cuda.h"
#include "lmz_cuda_v2.h"

extern "C" {
#include "lmz_tables_v2.h"
}

struct lmz_cuda_v2 {
    lmz_cuda *base;
    int variant;
    int32_t *k_shift, *v_shift; // host copies, n_layers x n_heads
    uint8_t *exp8;              // device: LMZ_EXP8
};

// ---- q/k/v: one warp per (row, head) ----
// q8 = shift_round(q, eq) with eq the row-head's exponent; k8, v8 with the
// layer's static shifts, clamped (lmz_v2_quant_pow2, lmz_v2_quant_kv).
__global__ void k_v2_quant_heads(int n, int d, int H, lmz_v2_shifts sh,
                                 const int32_t *__restrict__ qkv, int8_t *__restrict__ q8,
                                 int8_t *__restrict__ k8, int8_t *__restrict__ v8,
                                 int32_t *__restrict__ eq)
{
    const size_t wid = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const int lane = threadIdx.x & 31;
    if (wid >= (size_t)n * H)
        return; // whole warps leave together (blockDim is a multiple of 32)
    const int h = (int)(wid % H);
    const size_t r = wid / H;
    const int dh = d / H, ks = sh.ks[h], vs = sh.vs[h];
    const int32_t *row = qkv + r * 3 * (size_t)d + (size_t)h * dh;
    int32_t a = 0;
    for (int c = lane; c < dh; c += 32) {
        const int32_t m = row[c] < 0 ? -row[c] : row[c];
        if (m > a)
            a = m;
    }
    a = lmz_warp_reduce<int32_t, 1>(a);
    const int e = lmz_v2_q_exp(a);
    const size_t o = r * (size_t)d + (size_t)h * dh;
    for (int c = lane; c < dh; c += 32) {
        q8[o + c] = (int8_t)lmz_v2_shift_round(row[c], e);
        k8[o + c] = lmz_v2_quant_kv(row[d + c], ks);
        v8[o + c] = lmz_v2_quant_kv(row[2 * d + c], vs);
    }
    if (lane == 0)
        eq[r * H + h] = e;
}

// ---- the table ----
// Fast: one block of 256 threads per row, thread s owns symbol s.
#define V2_TAB_THREADS 256

__global__ void __launch_bounds__(V2_TAB_THREADS)
k_v2_table(lmz_dtabs tabs, const int32_t *__restrict__ logits, const uint8_t *__restrict__ target,
           uint16_t *__restrict__ cum, uint16_t *__restrict__ freq, uint16_t *__restrict__ tables)
{
    __shared__ int64_t red[32];
    __shared__ uint64_t ured[32];
    const size_t r = blockIdx.x;
    const int s = threadIdx.x;
    const int32_t l = logits[r * 256 + s];
    const int64_t m = lmz_block_reduce<int64_t, 1>((int64_t)l, red);
    // the smallest s with l_s == m: the maximum of -s over those
    const int best = (int)-lmz_block_reduce<int64_t, 1>(l == m ? -(int64_t)s : INT64_MIN, red);
    const uint32_t e = d_expq(tabs, m - l);
    const uint64_t z = lmz_block_reduce<uint64_t, 0>((uint64_t)e, ured);
    uint32_t f = lmz_v2_table_f(e, lmz_v2_table_recip(z));
    const uint64_t total = lmz_block_reduce<uint64_t, 0>((uint64_t)f, ured);
    if (s == best)
        f = (uint16_t)(f + (65536 - (uint32_t)total));
    const int tgt = target[r];
    const uint64_t below = lmz_block_reduce<uint64_t, 0>(s < tgt ? f : 0, ured);
    if (s == tgt) {
        cum[r] = (uint16_t)below;
        freq[r] = (uint16_t)f;
    }
    if (tables)
        tables[r * 256 + s] = (uint16_t)f;
}

// Naive: one thread per row, lmz_v2_freq_table line for line. The
// frequencies go to tab (row r at r * 256: the caller's tables, or
// scratch when it wants none).
__global__ void k_v2_table_naive(int n, lmz_dtabs tabs, const int32_t *__restrict__ logits,
                                 const uint8_t *__restrict__ target, uint16_t *__restrict__ cum,
                                 uint16_t *__restrict__ freq, uint16_t *__restrict__ tab)
{
    const size_t r = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= (size_t)n)
        return;
    const int32_t *lg = logits + r * 256;
    uint16_t *f = tab + r * 256;
    int best = 0;
    for (int s = 1; s < 256; s++)
        if (lg[s] > lg[best])
            best = s;
    const int64_t m = lg[best];
    uint64_t z = 0;
    for (int s = 0; s < 256; s++)
        z += d_expq(tabs, m - lg[s]);
    const uint64_t rr = lmz_v2_table_recip(z);
    uint32_t total = 0;
    for (int s = 0; s < 256; s++) {
        const uint32_t fs = lmz_v2_table_f(d_expq(tabs, m - lg[s]), rr);
        f[s] = (uint16_t)fs;
        total += fs;
    }
    f[best] = (uint16_t)(f[best] + (65536 - total));
    uint32_t below = 0;
    for (int s = 0; s < target[r]; s++)
        below += f[s];
    cum[r] = (uint16_t)below;
    freq[r] = f[target[r]];
}

// ---- the object ----
extern "C" lmz_cuda *lmz_cuda_v2_base(lmz_cuda_v2 *g)
{
    return g->base;
}

extern "C" void lmz_cuda_v2_set_variant(lmz_cuda_v2 *g, int variant)
{
    g->variant = variant == LMZ_CUDA_V2_NAIVE || variant == LMZ_CUDA_V2_MMA ? variant
                                                                             : LMZ_CUDA_V2_FAST;
}

extern "C" void lmz_cuda_v2_free(lmz_cuda_v2 *g)
{
    if (!g)
        return;
    if (g->exp8)
        cudaFree(g->exp8);
    lmz_cuda_free(g->base);
    free(g->k_shift);
    free(g->v_shift);
    free(g);
}

extern "C" lmz_status lmz_cuda_v2_create(const lmz_model_v2 *m, lmz_cuda_v2 **out, lmz_err *err)
{
    *out = NULL;
    if (!m || !m->m || !m->k_shift || !m->v_shift)
        return lmz_err_set(err, LMZ_ERR_USAGE, "cuda v2: no model");
    lmz_cuda_v2 *g = (lmz_cuda_v2 *)calloc(1, sizeof *g);
    if (!g)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "cuda v2: out of memory");
    lmz_status st = lmz_cuda_create(m->m, &g->base, err); // the tensors, v1's kernels
    if (st != LMZ_OK) {
        free(g);
        return st;
    }
    const size_t nlh = (size_t)m->m->cfg.n_layers * (size_t)m->m->cfg.n_heads;
    g->k_shift = (int32_t *)malloc(nlh * 4);
    g->v_shift = (int32_t *)malloc(nlh * 4);
    if (!g->k_shift || !g->v_shift) {
        lmz_cuda_v2_free(g);
        return lmz_err_set(err, LMZ_ERR_NOMEM, "cuda v2: out of memory");
    }
    memcpy(g->k_shift, m->k_shift, nlh * 4);
    memcpy(g->v_shift, m->v_shift, nlh * 4);
    cudaError_t e = cudaMalloc(&g->exp8, sizeof LMZ_EXP8);
    if (e == cudaSuccess)
        e = cudaMemcpy(g->exp8, LMZ_EXP8, sizeof LMZ_EXP8, cudaMemcpyHostToDevice);
    if (e != cudaSuccess) {
        st = lmz_cuda_fail(err, "cuda v2: EXP8 table", e);
        cudaGetLastError();
        lmz_cuda_v2_free(g);
        return st;
    }
    st = lmz_cuda_v2_attend_init(g->base, err);
    if (st != LMZ_OK) {
        lmz_cuda_v2_free(g);
        return st;
    }
    *out = g;
    return LMZ_OK;
}

// ---- the full pass ----
// Workspace slots of the base lmz_cuda (its own score is never run on it).
enum { V_X, V_ZQ, V_ZA, V_BIG, V_Q8, V_K8, V_V8, V_EQ, V_O, V_IN, V_META, V_CF, V_TAB };

#define V2_MAX_ROWS (1 << 20) // as cuda_score.cu: the GEMM's grid.y (rows / 64) < 65536

// Device bytes per row (position) of a sub-batch, tables included (the
// naive table always writes them).
static size_t row_bytes(const lmz_config *c)
{
    const size_t d = (size_t)c->d_model, f = (size_t)c->d_ff, H = (size_t)c->n_heads;
    size_t big = 3 * d > f ? 3 * d : f;
    if (big < 256)
        big = 256;
    // x, zq, za, big, q8 k8 v8, eq, o, in (2), cf (4), tables
    return 4 * d + (d > f ? d : f) + 4 + 4 * big + 3 * d + 4 * H + 4 * d + 2 + 4 + 512 + 16;
}

static void v2_layer(const lmz_cuda_v2 *g2, int l, const lmz_dacts *a, lmz_v2_att *att,
                     int8_t *q8, int8_t *k8, int8_t *v8, int32_t *eq)
{
    const lmz_cuda *g = g2->base;
    const int n = a->n, d = g->cfg.d_model, F = g->cfg.d_ff, H = g->cfg.n_heads;
    for (int h = 0; h < H; h++) {
        att->sh.ks[h] = g2->k_shift[l * H + h];
        att->sh.vs[h] = g2->v_shift[l * H + h];
    }
    lmz_cuda_ln_quant(g, n, a->x, a->zq, a->za);
    lmz_cuda_linear(g, lmz_cuda_lin(g, l, LMZ_LIN_QKV), n, a->zq, a->za, LMZ_LIN_CLAMP, LMZ_ACT,
                    a->big);
    const size_t threads = (size_t)n * H * 32;
    LMZ_LAUNCH(g, k_v2_quant_heads, (unsigned)((threads + 255) / 256), 256, 0, n, d, H, att->sh,
               a->big, q8, k8, v8, eq);
    if (g2->variant == LMZ_CUDA_V2_NAIVE)
        lmz_cuda_v2_attend_naive(g, att, a->o);
    else if (g2->variant == LMZ_CUDA_V2_MMA)
        lmz_cuda_v2_attend_mma(g, att, a->o);
    else
        lmz_cuda_v2_attend_fast(g, att, a->o);
    lmz_cuda_quant_rows(g, n, d, LMZ_QUANT_PLAIN, a->o, a->zq, a->za);
    lmz_cuda_linear(g, lmz_cuda_lin(g, l, LMZ_LIN_PROJ), n, a->zq, a->za, LMZ_LIN_RESIDUAL, 0,
                    a->x);
    lmz_cuda_ln_quant(g, n, a->x, a->zq, a->za);
    lmz_cuda_linear(g, lmz_cuda_lin(g, l, LMZ_LIN_FF1), n, a->zq, a->za, LMZ_LIN_CLAMP, LMZ_ACT,
                    a->big);
    lmz_cuda_quant_rows(g, n, F, LMZ_QUANT_GELU, a->big, a->zq, a->za);
    lmz_cuda_linear(g, lmz_cuda_lin(g, l, LMZ_LIN_FF2), n, a->zq, a->za, LMZ_LIN_RESIDUAL, 0,
                    a->x);
}

// One sub-batch: chunks [c0, c1) with n rows in all.
static lmz_status run_batch(lmz_cuda_v2 *g2, int c0, int c1, int n, const uint8_t *const *data,
                            const uint32_t *len, uint16_t *cum, uint16_t *freq, uint16_t *tables,
                            lmz_err *err)
{
    lmz_cuda *g = g2->base;
    const lmz_config *cfg = &g->cfg;
    const int d = cfg->d_model, H = cfg->n_heads, F = cfg->d_ff, L = cfg->n_layers;
    const size_t ctx = (size_t)cfg->ctx, nn = (size_t)n;
    const int nc = c1 - c0;
    const int naive = g2->variant == LMZ_CUDA_V2_NAIVE;
    // the naive table writes every row's table (to scratch without tables)
    const int want_tab = tables != NULL || naive;
    size_t big = 3 * (size_t)d > (size_t)F ? 3 * (size_t)d : (size_t)F;
    if (big < 256)
        big = 256;

    int ntiles = 0;
    for (int c = c0; c < c1; c++)
        ntiles += (int)((len[c] + LMZ_V2_QT - 1) / LMZ_V2_QT);
    const size_t meta_bytes = (size_t)nc * 8 + (size_t)ntiles * sizeof(int2);
    uint8_t *hin = (uint8_t *)malloc(2 * nn);
    uint8_t *hmeta = (uint8_t *)malloc(meta_bytes);
    uint16_t *hcf = (uint16_t *)malloc(4 * nn);
    uint16_t *htab = tables ? (uint16_t *)malloc(nn * 512) : NULL;
    lmz_status st = LMZ_OK;
    if (!hin || !hmeta || !hcf || (tables && !htab)) {
        st = lmz_err_set(err, LMZ_ERR_NOMEM, "cuda v2: out of host memory");
        goto done;
    }
    {
        int *hrow0 = (int *)hmeta, *hlen = hrow0 + nc;
        int2 *htiles = (int2 *)(hlen + nc);
        size_t r = 0;
        int k = 0;
        for (int c = c0; c < c1; c++) {
            const uint32_t n_c = len[c];
            hrow0[c - c0] = (int)r;
            hlen[c - c0] = (int)n_c;
            hin[r] = 0;
            memcpy(hin + r + 1, data[c], n_c - 1);
            memcpy(hin + nn + r, data[c], n_c);
            for (uint32_t q0 = 0; q0 < n_c; q0 += LMZ_V2_QT)
                htiles[k++] = make_int2(c - c0, (int)q0);
            r += n_c;
        }

        void *p[V_TAB + 1] = {0};
        const size_t sz[V_TAB + 1] = {nn * d * 4, nn * (size_t)(d > F ? d : F), nn * 4,
                                      nn * big * 4, nn * d, nn * d, nn * d, nn * H * 4,
                                      nn * d * 4, 2 * nn, meta_bytes, 4 * nn,
                                      want_tab ? nn * 512 : 1};
        cudaError_t e = cudaSuccess;
        for (int w = 0; w <= V_TAB && e == cudaSuccess; w++)
            e = lmz_cuda_ws(g, w, sz[w], &p[w]);
        if (e != cudaSuccess) {
            st = lmz_cuda_fail(err, "v2 workspace", e);
            goto done;
        }
        int32_t *x = (int32_t *)p[V_X], *za = (int32_t *)p[V_ZA], *bigp = (int32_t *)p[V_BIG];
        int32_t *o = (int32_t *)p[V_O], *eq = (int32_t *)p[V_EQ];
        int8_t *zq = (int8_t *)p[V_ZQ];
        int8_t *q8 = (int8_t *)p[V_Q8], *k8 = (int8_t *)p[V_K8], *v8 = (int8_t *)p[V_V8];
        uint8_t *din = (uint8_t *)p[V_IN];
        int *drow0 = (int *)p[V_META], *dlen = drow0 + nc;
        const int2 *dtiles = (const int2 *)(dlen + nc);
        uint16_t *dcf = (uint16_t *)p[V_CF];
        uint16_t *dtab = want_tab ? (uint16_t *)p[V_TAB] : NULL;
        cudaStream_t s = g->stream;

        cudaMemcpyAsync(din, hin, 2 * nn, cudaMemcpyHostToDevice, s);
        cudaMemcpyAsync(drow0, hmeta, meta_bytes, cudaMemcpyHostToDevice, s);

        lmz_v2_att att;
        memset(&att, 0, sizeof att);
        att.ntiles = ntiles;
        att.tiles = dtiles;
        att.row0 = drow0;
        att.len = dlen;
        att.q8 = q8;
        att.k8 = k8;
        att.v8 = v8;
        att.eq = eq;
        att.exp8 = g2->exp8;
        att.n8 = LMZ_EXP8_N;
        const lmz_dacts acts = {n, x, zq, za, bigp, o};

        lmz_cuda_embed(g, n, din, x);
        for (int l = 0; l < L; l++)
            v2_layer(g2, l, &acts, &att, q8, k8, v8, eq);
        lmz_cuda_logits(g, &acts);
        if (naive)
            LMZ_LAUNCH(g, k_v2_table_naive, (unsigned)((nn + 127) / 128), 128, 0, n, g->tabs, bigp,
                       din + nn, dcf, dcf + nn, dtab);
        else
            LMZ_LAUNCH(g, k_v2_table, n, V2_TAB_THREADS, 0, g->tabs, bigp, din + nn, dcf,
                       dcf + nn, dtab);

        cudaMemcpyAsync(hcf, dcf, 4 * nn, cudaMemcpyDeviceToHost, s);
        if (tables)
            cudaMemcpyAsync(htab, dtab, nn * 512, cudaMemcpyDeviceToHost, s);
        e = cudaGetLastError();
        if (e == cudaSuccess)
            e = cudaStreamSynchronize(s);
        st = lmz_cuda_finish(g, "v2 score", e, err); // names the first failed launch
        if (st != LMZ_OK)
            goto done;
        for (int c = c0; c < c1; c++) {
            const size_t r0 = (size_t)hrow0[c - c0];
            memcpy(cum + (size_t)c * ctx, hcf + r0, len[c] * sizeof(uint16_t));
            memcpy(freq + (size_t)c * ctx, hcf + nn + r0, len[c] * sizeof(uint16_t));
            if (tables)
                memcpy(tables + (size_t)c * ctx * 256, htab + r0 * 256,
                       (size_t)len[c] * 256 * sizeof(uint16_t));
        }
    }
done:
    free(hin);
    free(hmeta);
    free(hcf);
    free(htab);
    return st;
}

extern "C" lmz_status lmz_cuda_v2_score(lmz_cuda_v2 *g2, int nchunks, const uint8_t *const *data,
                                        const uint32_t *len, uint16_t *cum, uint16_t *freq,
                                        uint16_t *tables, lmz_err *err)
{
    if (nchunks <= 0)
        return LMZ_OK;
    lmz_cuda *g = g2->base;
    for (int c = 0; c < nchunks; c++)
        if (len[c] < 1 || len[c] > (uint32_t)g->cfg.ctx)
            return lmz_err_set(err, LMZ_ERR_RANGE, "cuda v2: chunk %d has length %u (1..%d)", c,
                               (unsigned)len[c], (int)g->cfg.ctx);
    cudaError_t e = cudaSetDevice(g->device);
    if (e != cudaSuccess)
        return lmz_cuda_fail(err, "set device", e);
    lmz_cuda_launch_reset(g);
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess)
        free_b = (size_t)1 << 30;
    size_t cap = free_b / 2 / row_bytes(&g->cfg);
    if (cap > V2_MAX_ROWS)
        cap = V2_MAX_ROWS;
    if (cap < (size_t)g->cfg.ctx)
        cap = (size_t)g->cfg.ctx;
    int c0 = 0;
    while (c0 < nchunks) {
        size_t rows = 0;
        int c1 = c0;
        while (c1 < nchunks && rows + len[c1] <= cap && (g->batch == 0 || c1 - c0 < g->batch))
            rows += len[c1++];
        lmz_status st = run_batch(g2, c0, c1, (int)rows, data, len, cum, freq, tables, err);
        if (st != LMZ_OK)
            return st;
        c0 = c1;
    }
    return LMZ_OK;
}
