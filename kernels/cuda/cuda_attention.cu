// cuda_attention.cu: attention.c's lmz_attend_row on the GPU, for the full
// pass (a tile of queries per block) and for the decoder's one-query step.
//
// Both keep the reference's two passes: pass 1 computes every score and
// the maximum m; pass 2 recomputes the same integer scores, e_j =
// expq(m - sc_j), Z = sum e_j and acc_c = sum (e_j * av_j) * v8_j[c]. All
// sums are exact integers (int64), so tiling and thread order cannot change
// them. A key j > i (or a zero e_j) adds exactly 0, as in the CPU's skip.
#include "cuda_internal.h"
#include "cuda_reduce.cuh"

// ALiBi exponent e_h = ceil(8 (h + 1) / H) (lmz_alibi_exp).
__device__ __forceinline__ int d_alibi_exp(int h, int n_heads)
{
    return (8 * (h + 1) + n_heads - 1) / n_heads;
}

// The score of query i against key j from the dot product s (pass 1 of
// lmz_attend_row, before the maximum).
__device__ __forceinline__ int32_t d_score(int32_t s, int32_t ak, int64_t g, int i, int j, int e_h)
{
    const int64_t score_lim = INT64_C(1) << 24;
    int64_t v = lmz_rshift_round(lmz_rshift_round((int64_t)s * ak, 12) * g, 20);
    v = lmz_clamp64(v, -score_lim, score_lim) - (((int64_t)(i - j) << 12) >> e_h);
    return (int32_t)v;
}

// g_i = div_round(aq * 2^20, 16129).
__device__ __forceinline__ int64_t d_gq(int32_t aq)
{
    return lmz_div_round((int64_t)aq << 20, 16129);
}

// Copy dh int8 of src into dst (dhw words, zero-padded past dh).
__device__ __forceinline__ void load_row_words(int *dst, const int8_t *src, int dh, int dhw,
                                               int lane, int nl)
{
    for (int w = lane; w < dhw; w += nl) {
        uint32_t x = 0;
        for (int b = 0; b < 4; b++) {
            const int c = 4 * w + b;
            if (c < dh)
                x |= (uint32_t)(uint8_t)src[c] << (8 * b);
        }
        dst[w] = (int)x;
    }
}

// Rows 0..nrows-1 of a tile (row r at src + r * stride, dh int8 each) into
// dst[r * dhw + w], every thread of the block over (row, word) pairs; rows
// at or past `valid` are left as they are (never read for a valid pair).
__device__ __forceinline__ void load_tile_words(int *dst, const int8_t *src, size_t stride,
                                                int nrows, int valid, int dh, int dhw)
{
    for (int idx = threadIdx.x; idx < nrows * dhw; idx += blockDim.x) {
        const int r = idx / dhw, w = idx % dhw;
        if (r >= valid)
            continue;
        const int8_t *row = src + (size_t)r * stride;
        uint32_t x = 0;
        for (int b = 0; b < 4; b++) {
            const int c = 4 * w + b;
            if (c < dh)
                x |= (uint32_t)(uint8_t)row[c] << (8 * b);
        }
        dst[idx] = (int)x;
    }
}

__device__ __forceinline__ int32_t dot_words(const int *a, const int *b, int dhw)
{
    int32_t s = 0;
    for (int w = 0; w < dhw; w++)
        s = __dp4a(a[w], b[w], s);
    return s;
}

// ---------------------------------------------------------------------------
// Full pass: block (tile, head); tile = (chunk c, first query q0). 128
// threads; thread t scores query q = t >> 2 against keys kk = t & 3 + 4u.
#define ATT_THREADS 128

struct att_smem {
    int *qs;      // [QT][dhw]
    int *ks;      // [KT][dhw]
    int8_t *vs;   // [KT][dh]
    int64_t *w;   // [QT][KT]: e * av
    int64_t *acc; // [QT][dh]
};

__global__ void __launch_bounds__(ATT_THREADS)
k_attend_full(int d, int H, lmz_att_tiles tt, lmz_dqkv in, lmz_dtabs tabs,
              int32_t *__restrict__ o)
{
    const int2 *__restrict__ tiles = tt.tiles;
    const int *__restrict__ row0s = tt.row0;
    const int *__restrict__ lens = tt.len;
    const int8_t *__restrict__ q8 = in.q8;
    const int32_t *__restrict__ aq = in.aq;
    const int8_t *__restrict__ k8 = in.k8;
    const int32_t *__restrict__ ak = in.ak;
    const int8_t *__restrict__ v8 = in.v8;
    const int32_t *__restrict__ av = in.av;
    extern __shared__ int64_t smem64[];
    __shared__ int64_t gq[LMZ_ATT_QT], zq[LMZ_ATT_QT];
    __shared__ int32_t aks[LMZ_ATT_KT], avs[LMZ_ATT_KT];
    const int dh = d / H, dhw = (dh + 3) / 4, h = blockIdx.y, e_h = d_alibi_exp(h, H);
    const int2 tile = tiles[blockIdx.x];
    const int c = tile.x, q0 = tile.y, len = lens[c];
    const size_t row0 = (size_t)row0s[c];
    const int qend = min(q0 + LMZ_ATT_QT, len); // queries q0 .. qend-1
    att_smem S;
    S.acc = smem64;                                       // QT*dh int64
    S.w = S.acc + LMZ_ATT_QT * dh;                        // QT*KT int64
    S.qs = (int *)(S.w + LMZ_ATT_QT * LMZ_ATT_KT);        // QT*dhw int
    S.ks = S.qs + LMZ_ATT_QT * dhw;                       // KT*dhw int
    S.vs = (int8_t *)(S.ks + LMZ_ATT_KT * dhw);           // KT*dh int8
    const int t = threadIdx.x, q = t >> 2, kk = t & 3;
    const int i = q0 + q;

    load_tile_words(S.qs, q8 + (row0 + q0) * d + (size_t)h * dh, (size_t)d, LMZ_ATT_QT, qend - q0,
                    dh, dhw);
    if (t < LMZ_ATT_QT)
        gq[t] = q0 + t < qend ? d_gq(aq[(row0 + q0 + t) * H + h]) : 0;
    for (int idx = t; idx < LMZ_ATT_QT * dh; idx += ATT_THREADS)
        S.acc[idx] = 0;
    __syncthreads();
    const int64_t g = gq[q];

    // Pass 1: the maximum score of each query.
    int64_t m = INT64_MIN;
    for (int j0 = 0; j0 < qend; j0 += LMZ_ATT_KT) {
        load_tile_words(S.ks, k8 + (row0 + j0) * d + (size_t)h * dh, (size_t)d, LMZ_ATT_KT,
                        qend - j0, dh, dhw);
        if (t < LMZ_ATT_KT)
            aks[t] = j0 + t < qend ? ak[(row0 + j0 + t) * H + h] : 0;
        __syncthreads();
        if (i < qend)
            for (int u = 0; u < LMZ_ATT_KT / 4; u++) {
                const int k = kk + 4 * u, j = j0 + k;
                if (j > i)
                    break;
                const int32_t s = dot_words(S.qs + q * dhw, S.ks + k * dhw, dhw);
                const int64_t v = d_score(s, aks[k], g, i, j, e_h);
                if (v > m)
                    m = v;
            }
        __syncthreads();
    }
    // the 4 threads of a query are adjacent lanes of one warp
    for (int off = 1; off < 4; off <<= 1) {
        const int64_t w = __shfl_xor_sync(0xffffffffu, m, off);
        if (w > m)
            m = w;
    }

    // Pass 2: weights, Z and the weighted sum of values.
    int64_t z = 0;
    for (int j0 = 0; j0 < qend; j0 += LMZ_ATT_KT) {
        load_tile_words(S.ks, k8 + (row0 + j0) * d + (size_t)h * dh, (size_t)d, LMZ_ATT_KT,
                        qend - j0, dh, dhw);
        for (int idx = t; idx < LMZ_ATT_KT * dh; idx += ATT_THREADS) {
            const int r = idx / dh, cc = idx % dh;
            S.vs[idx] = j0 + r < qend ? v8[(row0 + j0 + r) * d + (size_t)h * dh + cc] : 0;
        }
        if (t < LMZ_ATT_KT) {
            aks[t] = j0 + t < qend ? ak[(row0 + j0 + t) * H + h] : 0;
            avs[t] = j0 + t < qend ? av[(row0 + j0 + t) * H + h] : 0;
        }
        __syncthreads();
        for (int u = 0; u < LMZ_ATT_KT / 4; u++) {
            const int k = kk + 4 * u, j = j0 + k;
            int64_t w = 0;
            if (i < qend && j <= i) {
                const int32_t s = dot_words(S.qs + q * dhw, S.ks + k * dhw, dhw);
                const int64_t v = d_score(s, aks[k], g, i, j, e_h);
                const int64_t e = d_expq(tabs, m - v);
                z += e;
                w = e * avs[k];
            }
            S.w[q * LMZ_ATT_KT + k] = w;
        }
        __syncthreads();
        for (int idx = t; idx < LMZ_ATT_QT * dh; idx += ATT_THREADS) {
            const int qq = idx / dh, cc = idx % dh;
            if (q0 + qq >= qend || j0 > q0 + qq)
                continue;
            int64_t a = S.acc[idx];
            const int64_t *wr = S.w + qq * LMZ_ATT_KT;
            for (int k = 0; k < LMZ_ATT_KT; k++)
                a += wr[k] * S.vs[k * dh + cc];
            S.acc[idx] = a;
        }
        __syncthreads();
    }
    for (int off = 1; off < 4; off <<= 1)
        z += __shfl_xor_sync(0xffffffffu, z, off);
    if (kk == 0)
        zq[q] = z;
    __syncthreads();
    for (int idx = t; idx < LMZ_ATT_QT * dh; idx += ATT_THREADS) {
        const int qq = idx / dh, cc = idx % dh;
        if (q0 + qq >= qend)
            continue;
        // the maximal position has e = 65536, so Z >= 65536 > 0
        const int64_t zd = zq[qq] * 127;
        o[(row0 + q0 + qq) * d + (size_t)h * dh + cc] =
            (int32_t)lmz_clamp64(lmz_div_round(S.acc[idx], zd), -LMZ_ACT, LMZ_ACT);
    }
}

static size_t full_smem(int dh)
{
    const int dhw = (dh + 3) / 4;
    return (size_t)LMZ_ATT_QT * dh * 8 + (size_t)LMZ_ATT_QT * LMZ_ATT_KT * 8 +
           (size_t)LMZ_ATT_QT * dhw * 4 + (size_t)LMZ_ATT_KT * dhw * 4 + (size_t)LMZ_ATT_KT * dh;
}

void lmz_cuda_attend_full(const lmz_cuda *g, const lmz_att_tiles *t, const lmz_dqkv *in,
                          int32_t *o)
{
    if (t->ntiles <= 0)
        return;
    const int d = g->cfg.d_model, H = g->cfg.n_heads;
    // above 48 KB (dh > 112) this relies on the opt-in of lmz_cuda_attend_init
    const size_t smem = full_smem(d / H);
    const dim3 grid((unsigned)t->ntiles, (unsigned)H);
    LMZ_LAUNCH(g, k_attend_full, grid, ATT_THREADS, smem, d, H, *t, *in, g->tabs, o);
}

// ---------------------------------------------------------------------------
// Decoder step: block (chunk b, head h), one query at position i over the
// cached keys 0..i. Cache layout per chunk: [h][pos][dh] int8 and [h][pos]
// int32, so the keys of one head are contiguous (coalesced reads).
#define STEP_THREADS 128

__global__ void __launch_bounds__(STEP_THREADS)
k_attend_step(int d, int H, int ctx, lmz_att_step st, lmz_dqkv in, lmz_dtabs tabs,
              int32_t *__restrict__ o)
{
    const int i = st.i;
    const size_t cs8 = st.cs8, csa = st.csa;
    const int8_t *__restrict__ q8 = in.q8;
    const int32_t *__restrict__ aq = in.aq;
    const int8_t *__restrict__ k8 = in.k8;
    const int32_t *__restrict__ ak = in.ak;
    const int8_t *__restrict__ v8 = in.v8;
    const int32_t *__restrict__ av = in.av;
    extern __shared__ int32_t sc[]; // i + 1 scores, then e_j
    __shared__ int qw[LMZ_MAX_HEAD_DIM / 4];
    __shared__ int64_t red[32];
    __shared__ int64_t part[STEP_THREADS];
    const int b = blockIdx.x, h = blockIdx.y, t = threadIdx.x;
    const int dh = d / H, dhw = (dh + 3) / 4, e_h = d_alibi_exp(h, H);
    const int8_t *kb = k8 + (size_t)b * cs8 + (size_t)h * ctx * dh;
    const int8_t *vb = v8 + (size_t)b * cs8 + (size_t)h * ctx * dh;
    const int32_t *akb = ak + (size_t)b * csa + (size_t)h * ctx;
    const int32_t *avb = av + (size_t)b * csa + (size_t)h * ctx;
    load_row_words(qw, q8 + (size_t)b * d + (size_t)h * dh, dh, dhw, t, STEP_THREADS);
    const int64_t g = d_gq(aq[(size_t)b * H + h]);
    __syncthreads();

    // Pass 1
    int64_t m = INT64_MIN;
    for (int j = t; j <= i; j += STEP_THREADS) {
        const int8_t *k = kb + (size_t)j * dh;
        int32_t s = 0;
        if ((dh & 3) == 0) {
            for (int w = 0; w < dhw; w++)
                s = __dp4a(qw[w], __ldg((const int *)(k + 4 * w)), s);
        } else {
            const int8_t *qb = (const int8_t *)qw;
            for (int cc = 0; cc < dh; cc++)
                s += (int32_t)qb[cc] * (int32_t)k[cc];
        }
        const int32_t v = d_score(s, akb[j], g, i, j, e_h);
        sc[j] = v;
        if (v > m)
            m = v;
    }
    m = lmz_block_reduce<int64_t, 1>(m, red);

    // Pass 2: e_j (<= 65536) replaces sc_j; Z.
    int64_t z = 0;
    for (int j = t; j <= i; j += STEP_THREADS) {
        const uint32_t e = d_expq(tabs, m - sc[j]);
        sc[j] = (int32_t)e;
        z += e;
    }
    z = lmz_block_reduce<int64_t, 0>(z, red); // synchronises: sc is complete
    const int64_t zd = z * 127;
    int32_t *ob = o + (size_t)b * d + (size_t)h * dh;
    if (dh <= STEP_THREADS) {
        const int P = STEP_THREADS / dh; // key groups
        const int cc = t % dh, p = t / dh;
        int64_t acc = 0;
        if (p < P)
            for (int j = p; j <= i; j += P) {
                const int64_t e = sc[j];
                if (e == 0)
                    continue;
                acc += (e * avb[j]) * vb[(size_t)j * dh + cc];
            }
        part[t] = p < P ? acc : 0;
        __syncthreads();
        if (t < dh) {
            int64_t a = 0;
            for (int q = 0; q < P; q++)
                a += part[q * dh + t];
            ob[t] = (int32_t)lmz_clamp64(lmz_div_round(a, zd), -LMZ_ACT, LMZ_ACT);
        }
    } else {
        for (int cc = t; cc < dh; cc += STEP_THREADS) {
            int64_t acc = 0;
            for (int j = 0; j <= i; j++) {
                const int64_t e = sc[j];
                if (e == 0)
                    continue;
                acc += (e * avb[j]) * vb[(size_t)j * dh + cc];
            }
            ob[cc] = (int32_t)lmz_clamp64(lmz_div_round(acc, zd), -LMZ_ACT, LMZ_ACT);
        }
    }
}

void lmz_cuda_attend_step(const lmz_cuda *g, int nb, const lmz_att_step *st, const lmz_dqkv *in,
                          int32_t *o)
{
    if (nb <= 0)
        return;
    const int d = g->cfg.d_model, H = g->cfg.n_heads;
    const dim3 grid((unsigned)nb, (unsigned)H);
    const size_t smem = (size_t)(st->i + 1) * 4;
    LMZ_LAUNCH(g, k_attend_step, grid, STEP_THREADS, smem, d, H, g->cfg.ctx, *st, *in, g->tabs, o);
}

// The full pass needs full_smem(dh) of dynamic shared memory (98 KB at dh
// 256: beyond the default 48 KB, so it opts in, less its static arrays);
// the step needs (i + 1) int32 scores, ctx of them at the last position.
lmz_status lmz_cuda_attend_init(const lmz_cuda *g, lmz_err *err)
{
    const int dh = g->cfg.d_model / g->cfg.n_heads;
    lmz_status st = lmz_cuda_smem(g, (const void *)k_attend_full, "k_attend_full", full_smem(dh),
                                  err);
    if (st == LMZ_OK)
        st = lmz_cuda_smem(g, (const void *)k_attend_step, "k_attend_step",
                           (size_t)g->cfg.ctx * 4, err);
    return st;
}
