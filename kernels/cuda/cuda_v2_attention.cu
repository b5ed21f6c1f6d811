// cuda_v2_attention.cu: version 2 attention (docs/inference.md, "Attention,
// version 2") on the GPU, for the full pass: lmz_v2_attend_row of every
// query row and head.
//
// Two kernels, the same tiles (LMZ_V2_QT queries of one chunk per block,
// blockIdx.y the head):
//   k_v2_attend_naive  one thread per (chunk, query, head): lmz_v2_attend_row
//                      line for line (global memory, int32 accumulators).
//   k_v2_attend_fast   the block's queries in shared memory, keys and values
//                      streamed through it LMZ_V2_KT at a time, two passes
//                      (the maximum, then the weights) like the reference.
//                      Q.K: __dp4a s8 x s8. P.V: __dp4a of (P - 128) as s8
//                      by v8 s8 (4 keys per word, V transposed in shared
//                      memory), plus 128 * sum_j v8_j[c] over the same keys:
//                      exactly sum_j P_j v8_j[c]. A key j > i (or past the
//                      chunk) has P = 0 and v8 = 0 past the chunk, so it
//                      adds exactly 0.
// Every sum is an exact int32 (the bounds of docs/inference.md: |s| < 2^22,
// |acc| < 2^28, Z < 2^21; the running P.V sum with its correction never
// leaves +-2^29), so the order of the sums cannot change them; the scalar
// steps (score, EXP8, reciprocal, output) are v2_prims.h's, the CPU's own.
#include "cuda_v2_internal.h"

// e_h = ceil(8 (h + 1) / H) (lmz_alibi_exp).
__device__ __forceinline__ int v2_alibi_exp(int h, int n_heads)
{
    return (8 * (h + 1) + n_heads - 1) / n_heads;
}

// ---------------------------------------------------------------------------
// Naive: one thread per (chunk, query, head).
__global__ void __launch_bounds__(LMZ_V2_QT)
k_v2_attend_naive(int d, int H, lmz_v2_att a, int32_t *__restrict__ o)
{
    const int dh = d / H, h = blockIdx.y;
    const int ks = a.sh.ks[h], vs = a.sh.vs[h], ab = 8 - v2_alibi_exp(h, H);
    const int2 tile = a.tiles[blockIdx.x];
    const int c = tile.x, i = tile.y + (int)threadIdx.x;
    if (i >= a.len[c])
        return;
    const size_t row0 = (size_t)a.row0[c];
    const int8_t *q = a.q8 + (row0 + i) * d + (size_t)h * dh;
    const int8_t *kb = a.k8 + row0 * d + (size_t)h * dh;
    const int8_t *vb = a.v8 + row0 * d + (size_t)h * dh;
    const int t = 16 - a.eq[(row0 + i) * H + h] - ks;
    int32_t m = INT32_MIN;
    for (int j = 0; j <= i; j++) {
        const int8_t *k = kb + (size_t)j * d;
        int32_t s = 0;
        for (int cc = 0; cc < dh; cc++)
            s += (int32_t)q[cc] * (int32_t)k[cc];
        const int32_t v = lmz_v2_score(s, t, ab, i, j);
        if (v > m)
            m = v;
    }
    int32_t acc[LMZ_MAX_HEAD_DIM];
    for (int cc = 0; cc < dh; cc++)
        acc[cc] = 0;
    int32_t z = 0;
    for (int j = 0; j <= i; j++) {
        const int8_t *k = kb + (size_t)j * d;
        int32_t s = 0;
        for (int cc = 0; cc < dh; cc++)
            s += (int32_t)q[cc] * (int32_t)k[cc];
        const int32_t p = lmz_v2_exp8_in(a.exp8, a.n8, m - lmz_v2_score(s, t, ab, i, j));
        if (p == 0)
            continue;
        z += p;
        const int8_t *v = vb + (size_t)j * d;
        for (int cc = 0; cc < dh; cc++)
            acc[cc] += p * (int32_t)v[cc];
    }
    const int64_t r = lmz_v2_recip(z);
    int32_t *out = o + (row0 + i) * d + (size_t)h * dh;
    for (int cc = 0; cc < dh; cc++)
        out[cc] = lmz_v2_out(acc[cc], r, vs);
}

void lmz_cuda_v2_attend_naive(const lmz_cuda *g, const lmz_v2_att *a, int32_t *o)
{
    if (a->ntiles <= 0)
        return;
    const int d = g->cfg.d_model, H = g->cfg.n_heads;
    const dim3 grid((unsigned)a->ntiles, (unsigned)H);
    LMZ_LAUNCH(g, k_v2_attend_naive, grid, LMZ_V2_QT, 0, d, H, *a, o);
}

// ---------------------------------------------------------------------------
// Fast: block (tile, head), 256 threads. Pass 1 and the weights of pass 2:
// thread t owns query q = t >> 2 and keys kk + 4u of each key tile
// (kk = t & 3), as v1's kernel. The P.V product: thread owns (query, group
// of 4 channels) pairs.
#define V2_THREADS 256
#define V2_KW (LMZ_V2_KT / 4) // words of 4 keys in a key tile
#define V2_VLD (V2_KW + 1)    // row stride (words) of Vt and Pw: no bank conflicts
#define V2_EXP8_CAP 1600      // >= LMZ_EXP8_N, a multiple of 4

// Shared memory layout (int words), dhw = ceil(dh / 4), ld = dhw + 1,
// dhp = 4 * dhw (channels padded with zeros past dh: exact, they add 0).
struct v2_smem {
    int *qs;     // [QT][ld]   query rows, 4 int8 per word
    int *ks;     // [KT][ld]   key rows of the current tile
    int *vt;     // [dhp][VLD] values, transposed: word w of channel c = keys 4w..4w+3
    int *acc;    // [QT][dhp]  sum_j P_j v8_j[c]
    int *pw;     // [QT][VLD]  (P - 128) as int8, 4 keys per word
    int *colsum; // [dhp]      sum over the tile's keys of v8[c]
};

static size_t fast_smem(int dh)
{
    const size_t dhw = (size_t)(dh + 3) / 4, ld = dhw + 1, dhp = 4 * dhw;
    return 4 * (LMZ_V2_QT * ld + LMZ_V2_KT * ld + dhp * V2_VLD + LMZ_V2_QT * dhp +
                LMZ_V2_QT * V2_VLD + dhp);
}

__device__ __forceinline__ int32_t v2_dot(const int *a, const int *b, int dhw)
{
    int32_t s = 0;
    for (int w = 0; w < dhw; w++)
        s = __dp4a(a[w], b[w], s);
    return s;
}

// 4 int8 of a row (bytes c0 .. c0+3 of src, zero at c >= dh) as one word.
__device__ __forceinline__ int pack4(const int8_t *src, int c0, int dh)
{
    uint32_t x = 0;
    for (int b = 0; b < 4; b++)
        if (c0 + b < dh)
            x |= (uint32_t)(uint8_t)src[c0 + b] << (8 * b);
    return (int)x;
}

__global__ void __launch_bounds__(V2_THREADS)
k_v2_attend_fast(int d, int H, lmz_v2_att a, int32_t *__restrict__ o)
{
    extern __shared__ int smem[];
    __shared__ uint8_t ex8[V2_EXP8_CAP];
    __shared__ int tq[LMZ_V2_QT];
    __shared__ long long rq[LMZ_V2_QT];
    const int dh = d / H, dhw = (dh + 3) / 4, ld = dhw + 1, dhp = 4 * dhw;
    const int h = blockIdx.y, ks = a.sh.ks[h], vs = a.sh.vs[h], ab = 8 - v2_alibi_exp(h, H);
    const int2 tile = a.tiles[blockIdx.x];
    const int c = tile.x, q0 = tile.y, len = a.len[c];
    const size_t row0 = (size_t)a.row0[c];
    const int qend = min(q0 + LMZ_V2_QT, len); // queries q0 .. qend-1, keys 0 .. qend-1
    v2_smem S;
    S.qs = smem;
    S.ks = S.qs + LMZ_V2_QT * ld;
    S.vt = S.ks + LMZ_V2_KT * ld;
    S.acc = S.vt + dhp * V2_VLD;
    S.pw = S.acc + LMZ_V2_QT * dhp;
    S.colsum = S.pw + LMZ_V2_QT * V2_VLD;
    int8_t *pb = (int8_t *)S.pw; // byte k of row q: pb[q * 4 * VLD + k]
    const int t = threadIdx.x, q = t >> 2, kk = t & 3;
    const int i = q0 + q;
    const int8_t *hq = a.q8 + (size_t)h * dh, *hk = a.k8 + (size_t)h * dh,
                 *hv = a.v8 + (size_t)h * dh;

    for (int x = t; x < V2_EXP8_CAP; x += V2_THREADS)
        ex8[x] = x < a.n8 ? a.exp8[x] : 0;
    for (int idx = t; idx < LMZ_V2_QT * dhw; idx += V2_THREADS) {
        const int r = idx / dhw, w = idx % dhw;
        S.qs[r * ld + w] = q0 + r < qend ? pack4(hq + (row0 + q0 + r) * d, 4 * w, dh) : 0;
    }
    if (t < LMZ_V2_QT)
        tq[t] = q0 + t < qend ? 16 - a.eq[(row0 + q0 + t) * H + h] - ks : 0;
    for (int idx = t; idx < LMZ_V2_QT * dhp; idx += V2_THREADS)
        S.acc[idx] = 0;
    __syncthreads();
    const int tqi = tq[q];
    const int *qrow = S.qs + q * ld;

    // Pass 1: the maximum score of each query (its own key j = i is always
    // scored, so m is a real score for every valid query).
    int32_t m = INT32_MIN;
    for (int j0 = 0; j0 < qend; j0 += LMZ_V2_KT) {
        for (int idx = t; idx < LMZ_V2_KT * dhw; idx += V2_THREADS) {
            const int r = idx / dhw, w = idx % dhw;
            S.ks[r * ld + w] = j0 + r < qend ? pack4(hk + (row0 + j0 + r) * d, 4 * w, dh) : 0;
        }
        __syncthreads();
        if (i < qend)
            for (int u = 0; u < V2_KW; u++) {
                const int k = kk + 4 * u, j = j0 + k;
                if (j > i)
                    break;
                const int32_t v = lmz_v2_score(v2_dot(qrow, S.ks + k * ld, dhw), tqi, ab, i, j);
                if (v > m)
                    m = v;
            }
        __syncthreads();
    }
    // the 4 threads of a query are adjacent lanes of one warp
    for (int off = 1; off < 4; off <<= 1) {
        const int32_t w = __shfl_xor_sync(0xffffffffu, m, off);
        if (w > m)
            m = w;
    }

    // Pass 2: weights P (as P - 128 in pb), Z, and acc += P.V per key tile.
    int32_t z = 0;
    const int ncg = dhw; // groups of 4 channels
    for (int j0 = 0; j0 < qend; j0 += LMZ_V2_KT) {
        for (int idx = t; idx < LMZ_V2_KT * dhw; idx += V2_THREADS) {
            const int r = idx / dhw, w = idx % dhw;
            S.ks[r * ld + w] = j0 + r < qend ? pack4(hk + (row0 + j0 + r) * d, 4 * w, dh) : 0;
        }
        for (int idx = t; idx < dhp * V2_KW; idx += V2_THREADS) {
            const int cc = idx / V2_KW, w = idx % V2_KW;
            uint32_t x = 0;
            if (cc < dh)
                for (int b = 0; b < 4; b++) {
                    const int j = j0 + 4 * w + b;
                    if (j < qend)
                        x |= (uint32_t)(uint8_t)hv[(row0 + j) * d + cc] << (8 * b);
                }
            S.vt[cc * V2_VLD + w] = (int)x;
        }
        __syncthreads();
        for (int cc = t; cc < dhp; cc += V2_THREADS) {
            int32_t s = 0;
            for (int w = 0; w < V2_KW; w++)
                s = __dp4a(S.vt[cc * V2_VLD + w], 0x01010101, s); // the 4 signed bytes' sum
            S.colsum[cc] = s;
        }
        for (int u = 0; u < V2_KW; u++) {
            const int k = kk + 4 * u, j = j0 + k;
            int32_t p = 0;
            if (i < qend && j <= i) {
                const int32_t v = lmz_v2_score(v2_dot(qrow, S.ks + k * ld, dhw), tqi, ab, i, j);
                p = lmz_v2_exp8_in(ex8, a.n8, m - v);
                z += p;
            }
            pb[q * 4 * V2_VLD + k] = (int8_t)(p - 128);
        }
        __syncthreads();
        for (int e = t; e < LMZ_V2_QT * ncg; e += V2_THREADS) {
            const int qq = e / ncg, cg = e % ncg;
            if (q0 + qq >= qend || j0 > q0 + qq)
                continue; // no query, or every key of this tile is after it
            int *ar = S.acc + qq * dhp + 4 * cg;
            int32_t a0 = ar[0], a1 = ar[1], a2 = ar[2], a3 = ar[3];
            const int *pr = S.pw + qq * V2_VLD;
            const int *v0 = S.vt + (4 * cg) * V2_VLD;
            for (int w = 0; w < V2_KW; w++) {
                const int p4 = pr[w];
                a0 = __dp4a(p4, v0[w], a0);
                a1 = __dp4a(p4, v0[V2_VLD + w], a1);
                a2 = __dp4a(p4, v0[2 * V2_VLD + w], a2);
                a3 = __dp4a(p4, v0[3 * V2_VLD + w], a3);
            }
            const int *cs = S.colsum + 4 * cg;
            ar[0] = a0 + 128 * cs[0];
            ar[1] = a1 + 128 * cs[1];
            ar[2] = a2 + 128 * cs[2];
            ar[3] = a3 + 128 * cs[3];
        }
        __syncthreads();
    }
    for (int off = 1; off < 4; off <<= 1)
        z += __shfl_xor_sync(0xffffffffu, z, off);
    if (kk == 0)
        rq[q] = i < qend ? (long long)lmz_v2_recip(z) : 0; // Z >= 255: the maximum has P 255
    __syncthreads();
    for (int idx = t; idx < LMZ_V2_QT * dh; idx += V2_THREADS) {
        const int qq = idx / dh, cc = idx % dh;
        if (q0 + qq >= qend)
            continue;
        o[(row0 + q0 + qq) * d + (size_t)h * dh + cc] =
            lmz_v2_out(S.acc[qq * dhp + cc], (int64_t)rq[qq], vs);
    }
}

void lmz_cuda_v2_attend_fast(const lmz_cuda *g, const lmz_v2_att *a, int32_t *o)
{
    if (a->ntiles <= 0)
        return;
    const int d = g->cfg.d_model, H = g->cfg.n_heads;
    const dim3 grid((unsigned)a->ntiles, (unsigned)H);
    LMZ_LAUNCH(g, k_v2_attend_fast, grid, V2_THREADS, fast_smem(d / H), d, H, *a, o);
}

lmz_status lmz_cuda_v2_attend_init(const lmz_cuda *g, lmz_err *err)
{
    const int dh = g->cfg.d_model / g->cfg.n_heads;
    return lmz_cuda_smem(g, (const void *)k_v2_attend_fast, "k_v2_attend_fast", fast_smem(dh),
                         err);
}

// ---------------------------------------------------------------------------
// MMA: int8 tensor cores (mma.sync m16n8k32, sm_80+). Block (tile, head),
// 4 warps; warp w owns the tile's queries 16w .. 16w+15 (the A rows of its
// mma's). dh is padded with zeros to DK * 32 channels (DK = 1..8, a template
// parameter: zero q/k/v channels add exactly 0). Keys stream through shared
// memory LMZ_V2_KT (64) at a time, two passes as the other kernels:
//   pass 1  S = Q.K^T (s8 x s8 -> s32) per 8-key n-block, the score of each
//           C element (lmz_v2_score), the row maximum m;
//   pass 2  the same S again, P = EXP8[m - score] (0 for j > i or past the
//           chunk), Z += P in registers, P as u8 into the warp's rows of a
//           shared [query][key] tile, then acc += P.V (u8 x s8 -> s32) with
//           V transposed in shared memory ([channel][key]: the .col B
//           operand with k = key). acc stays in the C fragments (registers)
//           for the whole pass.
// Fragments (PTX ISA, "Matrix Fragments for mma.m16n8k32", 8-bit types;
// g = lane / 4, t = lane % 4; 4 bytes per register, k ascending):
//   A 16x32 row: a0 row g k 4t..4t+3, a1 row g+8 k 4t.., a2 row g k 16+4t..,
//                a3 row g+8 k 16+4t..
//   B 32x8 col:  b0 col g k 4t..4t+3, b1 col g k 16+4t..
//   C 16x8 s32:  c0, c1 row g cols 2t, 2t+1; c2, c3 row g+8 cols 2t, 2t+1
// Every sum is exact in int32 (the bounds above), so the tensor cores' order
// cannot change it; the scalar steps are v2_prims.h's.
#define V2M_THREADS 128
#define V2M_KW (LMZ_V2_KT / 4) // words of keys per row of Vt and Ps (16)
#define V2M_LDV (V2M_KW + 4)   // row stride (words) of Vt and Ps: == 4 mod 8, no bank conflicts

__device__ __forceinline__ void v2_mma_s8(int (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                          uint32_t b1)
{
    asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 "
                 "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ void v2_mma_u8(int (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                          uint32_t b1)
{
    asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.u8.s8.s32 "
                 "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// 4 int8 of a row as one word (bytes c0 .. c0+3, zero at c >= dh): one
// 32-bit load when dh is a multiple of 4 (then d is, every row and head
// starts on a word, and a word is all in or all past dh), else pack4.
__device__ __forceinline__ int ld4(const int8_t *src, int c0, int dh, bool al)
{
    if (al)
        return c0 < dh ? *(const int *)(src + c0) : 0;
    return pack4(src, c0, dh);
}

// Shared memory (words): Ks [KT][8 DK + 4] key rows (4 int8 per word),
// Vt [32 DK][V2M_LDV] values transposed (word w of channel c: keys
// 4w..4w+3), Ps [QT][V2M_LDV] the weights P (u8, 4 keys per word).
static size_t mma_smem(int dk)
{
    return 4 * ((size_t)LMZ_V2_KT * (8 * dk + 4) + (size_t)32 * dk * V2M_LDV +
                (size_t)LMZ_V2_QT * V2M_LDV);
}

template <int DK>
__global__ void __launch_bounds__(V2M_THREADS)
k_v2_attend_mma(int d, int H, lmz_v2_att a, int32_t *__restrict__ o)
{
    extern __shared__ int smem[];
    __shared__ uint8_t ex8[V2_EXP8_CAP];
    constexpr int LDK = 8 * DK + 4; // words per key row
    constexpr int NC = 4 * DK;      // 8-channel n-blocks of the output
    int *Ks = smem;
    int *Vt = Ks + LMZ_V2_KT * LDK;
    int *Ps = Vt + 32 * DK * V2M_LDV;
    const int dh = d / H, h = blockIdx.y, ks = a.sh.ks[h], vs = a.sh.vs[h],
              ab = 8 - v2_alibi_exp(h, H);
    const int2 tile = a.tiles[blockIdx.x];
    const int c = tile.x, q0 = tile.y, len = a.len[c];
    const size_t row0 = (size_t)a.row0[c];
    const int qend = min(q0 + LMZ_V2_QT, len); // queries q0 .. qend-1, keys 0 .. qend-1
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, tg = lane & 3;
    const int r0 = 16 * warp;                       // the warp's first row in the tile
    const int ia = q0 + r0 + g, ib = ia + 8;        // the thread's two queries
    const int wlast = min(q0 + r0 + 15, qend - 1);  // the warp's last valid query (< its first: none)
    const int8_t *hq = a.q8 + (size_t)h * dh, *hk = a.k8 + (size_t)h * dh,
                 *hv = a.v8 + (size_t)h * dh;
    const bool al = (dh & 3) == 0;

    for (int x = tid; x < V2_EXP8_CAP; x += V2M_THREADS)
        ex8[x] = x < a.n8 ? a.exp8[x] : 0;
    // the warp's Q rows as A fragments, straight from global memory (zero
    // past dh and for rows past the chunk)
    uint32_t qa[DK][4];
#pragma unroll
    for (int kq = 0; kq < DK; kq++)
#pragma unroll
        for (int r = 0; r < 4; r++) {
            const int i = (r & 1) ? ib : ia, c0 = 32 * kq + 16 * (r >> 1) + 4 * tg;
            qa[kq][r] = i < qend ? (uint32_t)ld4(hq + (row0 + i) * d, c0, dh, al) : 0u;
        }
    const int ta = ia < qend ? 16 - a.eq[(row0 + ia) * H + h] - ks : 0;
    const int tb = ib < qend ? 16 - a.eq[(row0 + ib) * H + h] - ks : 0;

    // Pass 1: the row maxima (the key j = i is always scored: m is a real
    // score for every valid query).
    int32_t ma = INT32_MIN, mb = INT32_MIN;
    for (int j0 = 0; j0 < qend; j0 += LMZ_V2_KT) {
        __syncthreads();
        for (int idx = tid; idx < LMZ_V2_KT * 8 * DK; idx += V2M_THREADS) {
            const int r = idx / (8 * DK), w = idx % (8 * DK);
            Ks[r * LDK + w] = j0 + r < qend ? ld4(hk + (row0 + j0 + r) * d, 4 * w, dh, al) : 0;
        }
        __syncthreads();
        if (j0 > wlast)
            continue; // every key of the tile is after the warp's queries
#pragma unroll
        for (int nb = 0; nb < LMZ_V2_KT / 8; nb++) {
            int sc[4] = {0, 0, 0, 0};
            const int *kr = Ks + (nb * 8 + g) * LDK + tg;
#pragma unroll
            for (int kq = 0; kq < DK; kq++)
                v2_mma_s8(sc, qa[kq], (uint32_t)kr[8 * kq], (uint32_t)kr[8 * kq + 4]);
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int i = e < 2 ? ia : ib, j = j0 + nb * 8 + 2 * tg + (e & 1);
                if (i < qend && j <= i) {
                    const int32_t v = lmz_v2_score(sc[e], e < 2 ? ta : tb, ab, i, j);
                    if (e < 2)
                        ma = v > ma ? v : ma;
                    else
                        mb = v > mb ? v : mb;
                }
            }
        }
    }
    // the 4 threads of a row group are lanes 4g .. 4g+3
    for (int off = 1; off < 4; off <<= 1) {
        const int32_t xa = __shfl_xor_sync(0xffffffffu, ma, off);
        const int32_t xb = __shfl_xor_sync(0xffffffffu, mb, off);
        ma = xa > ma ? xa : ma;
        mb = xb > mb ? xb : mb;
    }

    // Pass 2: P, Z and acc = sum_j P_j v8_j.
    int32_t za = 0, zb = 0;
    int acc[NC][4];
#pragma unroll
    for (int n = 0; n < NC; n++)
        acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0;
    uint8_t *pw = (uint8_t *)(Ps + r0 * V2M_LDV); // the warp's 16 rows of P
    for (int j0 = 0; j0 < qend; j0 += LMZ_V2_KT) {
        __syncthreads();
        for (int idx = tid; idx < LMZ_V2_KT * 8 * DK; idx += V2M_THREADS) {
            const int r = idx / (8 * DK), w = idx % (8 * DK);
            Ks[r * LDK + w] = j0 + r < qend ? ld4(hk + (row0 + j0 + r) * d, 4 * w, dh, al) : 0;
        }
        // V transposed: a thread reads channels 4cw..4cw+3 of keys
        // 4w..4w+3 (4 words) and writes the 4 channels' words of those keys
        for (int idx = tid; idx < 8 * DK * V2M_KW; idx += V2M_THREADS) {
            const int cw = idx % (8 * DK), w = idx / (8 * DK);
            uint32_t r[4];
#pragma unroll
            for (int k = 0; k < 4; k++) {
                const int j = j0 + 4 * w + k;
                r[k] = j < qend ? (uint32_t)ld4(hv + (row0 + j) * d, 4 * cw, dh, al) : 0u;
            }
#pragma unroll
            for (int b = 0; b < 4; b++)
                Vt[(4 * cw + b) * V2M_LDV + w] =
                    (int)(((r[0] >> (8 * b)) & 0xffu) | (((r[1] >> (8 * b)) & 0xffu) << 8) |
                          (((r[2] >> (8 * b)) & 0xffu) << 16) | (((r[3] >> (8 * b)) & 0xffu) << 24));
        }
        __syncthreads();
        if (j0 > wlast)
            continue;
#pragma unroll
        for (int nb = 0; nb < LMZ_V2_KT / 8; nb++) {
            int sc[4] = {0, 0, 0, 0};
            const int *kr = Ks + (nb * 8 + g) * LDK + tg;
#pragma unroll
            for (int kq = 0; kq < DK; kq++)
                v2_mma_s8(sc, qa[kq], (uint32_t)kr[8 * kq], (uint32_t)kr[8 * kq + 4]);
            int32_t p[4];
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int i = e < 2 ? ia : ib, j = j0 + nb * 8 + 2 * tg + (e & 1);
                p[e] = 0;
                if (i < qend && j <= i) {
                    const int32_t v = lmz_v2_score(sc[e], e < 2 ? ta : tb, ab, i, j);
                    p[e] = lmz_v2_exp8_in(ex8, a.n8, (e < 2 ? ma : mb) - v);
                }
            }
            za += p[0] + p[1];
            zb += p[2] + p[3];
            // row g: keys nb*8 + 2t, +1; row g+8 likewise (bytes, little-endian)
            *(uint16_t *)(pw + g * (4 * V2M_LDV) + nb * 8 + 2 * tg) =
                (uint16_t)(p[0] | (p[1] << 8));
            *(uint16_t *)(pw + (g + 8) * (4 * V2M_LDV) + nb * 8 + 2 * tg) =
                (uint16_t)(p[2] | (p[3] << 8));
        }
        __syncwarp();
        const uint32_t *pr = (const uint32_t *)(Ps + r0 * V2M_LDV);
#pragma unroll
        for (int kq = 0; kq < LMZ_V2_KT / 32; kq++) {
            uint32_t pa[4];
            pa[0] = pr[g * V2M_LDV + 8 * kq + tg];
            pa[1] = pr[(g + 8) * V2M_LDV + 8 * kq + tg];
            pa[2] = pr[g * V2M_LDV + 8 * kq + 4 + tg];
            pa[3] = pr[(g + 8) * V2M_LDV + 8 * kq + 4 + tg];
#pragma unroll
            for (int n = 0; n < NC; n++) {
                const int *vr = Vt + (n * 8 + g) * V2M_LDV + 8 * kq + tg;
                v2_mma_u8(acc[n], pa, (uint32_t)vr[0], (uint32_t)vr[4]);
            }
        }
        __syncwarp(); // the P tile is read before the next tile's writes
    }
    for (int off = 1; off < 4; off <<= 1) {
        za += __shfl_xor_sync(0xffffffffu, za, off);
        zb += __shfl_xor_sync(0xffffffffu, zb, off);
    }
    // Z >= 255 for a valid query (its maximum has P 255)
    const int64_t ra = ia < qend ? lmz_v2_recip(za) : 0, rb = ib < qend ? lmz_v2_recip(zb) : 0;
#pragma unroll
    for (int n = 0; n < NC; n++)
#pragma unroll
        for (int e = 0; e < 4; e++) {
            const int i = e < 2 ? ia : ib, cc = n * 8 + 2 * tg + (e & 1);
            if (i < qend && cc < dh)
                o[(row0 + i) * d + (size_t)h * dh + cc] = lmz_v2_out(acc[n][e], e < 2 ? ra : rb, vs);
        }
}

// The instance for dh: DK = ceil(dh / 32) (1..8).
static int mma_dk(int dh)
{
    return (dh + 31) / 32;
}

void lmz_cuda_v2_attend_mma(const lmz_cuda *g, const lmz_v2_att *a, int32_t *o)
{
    if (a->ntiles <= 0)
        return;
    const int d = g->cfg.d_model, H = g->cfg.n_heads, dk = mma_dk(d / H);
    const dim3 grid((unsigned)a->ntiles, (unsigned)H);
    const size_t sm = mma_smem(dk);
    switch (dk) {
    case 1: LMZ_LAUNCH(g, k_v2_attend_mma<1>, grid, V2M_THREADS, sm, d, H, *a, o); break;
    case 2: LMZ_LAUNCH(g, k_v2_attend_mma<2>, grid, V2M_THREADS, sm, d, H, *a, o); break;
    case 3: LMZ_LAUNCH(g, k_v2_attend_mma<3>, grid, V2M_THREADS, sm, d, H, *a, o); break;
    case 4: LMZ_LAUNCH(g, k_v2_attend_mma<4>, grid, V2M_THREADS, sm, d, H, *a, o); break;
    case 5: LMZ_LAUNCH(g, k_v2_attend_mma<5>, grid, V2M_THREADS, sm, d, H, *a, o); break;
    case 6: LMZ_LAUNCH(g, k_v2_attend_mma<6>, grid, V2M_THREADS, sm, d, H, *a, o); break;
    case 7: LMZ_LAUNCH(g, k_v2_attend_mma<7>, grid, V2M_THREADS, sm, d, H, *a, o); break;
    default: LMZ_LAUNCH(g, k_v2_attend_mma<8>, grid, V2M_THREADS, sm, d, H, *a, o); break;
    }
}
