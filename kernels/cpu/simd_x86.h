/* simd_x86.h: the x86 kernels, written once and compiled twice.
 *
 * simd_avx2.c includes this with LMZ_VNNI 0 and the target "avx2";
 * simd_avx512.c with LMZ_VNNI 1 and AVX-512 BW/VL/VNNI (still 256-bit
 * vectors: the dot products are short and 512-bit ones would idle half the
 * lanes). The including file defines LMZ_TGT (the function attribute),
 * LMZ_SFX(name) (a per-path name) and LMZ_VNNI. Every function carries the
 * attribute so the rest of the library stays plain x86-64.
 *
 * Exactness. The spec's sums are over integers with no overflow anywhere,
 * so any order is the same sum; these kernels only have to (1) never
 * saturate or wrap, and (2) reproduce each rounding step exactly. The
 * argument for each is next to the code. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "lmz_cpu.h"
#include "lmz_ops.h"
#include "lmz_simd.h"

/* acc + sum over groups of 4 bytes of u*w, int32 lanes, where u is the
 * operand shared by many calls (the activation row, the query) and w the
 * one that changes (a weight row, a key). They go in as |u| (unsigned; the
 * compiler hoists it out of the loops) and w*sign(u) (signed), which is
 * what the unsigned-by-signed instructions need: u*w = |u| * (w*sign(u)).
 * Both are int8 in [-127, 127]: quant never makes -128, and
 * lmz_model_validate refuses a -128 weight, so the negation in vpsignb
 * cannot wrap and |u|, |w*sign(u)| <= 127.
 *   AVX2: vpmaddubsw adds two products in int16 with saturation; the pair
 *   sum is at most 2 * 127 * 127 = 32258 < 32767, so it never saturates.
 *   vpmaddwd by 1 then widens pairs to int32 exactly.
 *   VNNI: vpdpbusd adds four products into int32 without any intermediate
 *   rounding or saturation (it wraps only on int32 overflow, which the
 *   bounds of the callers rule out). */
static LMZ_TGT inline __m256i LMZ_SFX(dp)(__m256i acc, __m256i u, __m256i w)
{
    const __m256i aw = _mm256_abs_epi8(u), sq = _mm256_sign_epi8(w, u);
#if LMZ_VNNI
    return _mm256_dpbusd_epi32(acc, aw, sq);
#else
    const __m256i ones = _mm256_set1_epi16(1);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(aw, sq), ones));
#endif
}

/* The 8 horizontal sums of a0..a7, in order, as one vector. */
static LMZ_TGT inline __m256i LMZ_SFX(hsum8)(__m256i a0, __m256i a1, __m256i a2, __m256i a3,
                                             __m256i a4, __m256i a5, __m256i a6, __m256i a7)
{
    const __m256i s01 = _mm256_hadd_epi32(a0, a1), s23 = _mm256_hadd_epi32(a2, a3);
    const __m256i s45 = _mm256_hadd_epi32(a4, a5), s67 = _mm256_hadd_epi32(a6, a7);
    const __m256i s0123 = _mm256_hadd_epi32(s01, s23), s4567 = _mm256_hadd_epi32(s45, s67);
    /* s0123 = [a0 a1 a2 a3 (low halves) | a0 a1 a2 a3 (high halves)] */
    const __m256i lo = _mm256_permute2x128_si256(s0123, s4567, 0x20);
    const __m256i hi = _mm256_permute2x128_si256(s0123, s4567, 0x31);
    return _mm256_add_epi32(lo, hi);
}

static LMZ_TGT inline int32_t LMZ_SFX(hsum1)(__m256i a)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

/* ---- linear layers: acc[o] = w[o] . q ---- */

/* Columns in steps of 32; the last partial step reads zero-padded copies
 * (zero weights add nothing). 8 rows at a time share each load of q. */
static LMZ_TGT void LMZ_SFX(dots)(const int8_t *w, int out, int in, const int8_t *q,
                                  int32_t *acc)
{
    const int full = in & ~31, rest = in - full;
    _Alignas(32) int8_t qt[32] = {0};
    if (rest)
        memcpy(qt, q + full, (size_t)rest);
    const __m256i qtail = _mm256_load_si256((const __m256i *)qt);
    int o = 0;
    for (; o + 8 <= out; o += 8) {
        const int8_t *r = w + (size_t)o * (size_t)in;
        __m256i a[8];
        for (int k = 0; k < 8; k++)
            a[k] = _mm256_setzero_si256();
        for (int c = 0; c < full; c += 32) {
            const __m256i qv = _mm256_loadu_si256((const __m256i *)(q + c));
            for (int k = 0; k < 8; k++)
                a[k] = LMZ_SFX(dp)(
                    a[k], qv, _mm256_loadu_si256((const __m256i *)(r + (size_t)k * in + c)));
        }
        if (rest) {
            for (int k = 0; k < 8; k++) {
                _Alignas(32) int8_t wt[32] = {0};
                memcpy(wt, r + (size_t)k * in + full, (size_t)rest);
                a[k] = LMZ_SFX(dp)(a[k], qtail, _mm256_load_si256((const __m256i *)wt));
            }
        }
        _mm256_storeu_si256((__m256i *)(acc + o),
                            LMZ_SFX(hsum8)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]));
    }
    for (; o < out; o++) {
        const int8_t *r = w + (size_t)o * (size_t)in;
        __m256i a = _mm256_setzero_si256();
        for (int c = 0; c < full; c += 32)
            a = LMZ_SFX(dp)(a, _mm256_loadu_si256((const __m256i *)(q + c)),
                            _mm256_loadu_si256((const __m256i *)(r + c)));
        if (rest) {
            _Alignas(32) int8_t wt[32] = {0};
            memcpy(wt, r + full, (size_t)rest);
            a = LMZ_SFX(dp)(a, qtail, _mm256_load_si256((const __m256i *)wt));
        }
        acc[o] = LMZ_SFX(hsum1)(a);
    }
}

/* The 4 horizontal sums of a0..a3, in order. */
static LMZ_TGT inline __m128i LMZ_SFX(hsum4)(__m256i a0, __m256i a1, __m256i a2, __m256i a3)
{
    const __m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
    /* s = [a0 a1 a2 a3 (low halves) | a0 a1 a2 a3 (high halves)] */
    return _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}

/* dots_many with NR activation rows (a constant after inlining): KO weight
 * rows at a time, each 32-byte weight load feeding NR dot products. KO x NR
 * accumulators: 16 with KO = 4, NR = 4 fit AVX-512VL's 32 registers next to
 * the operands; AVX2 has 16, so it takes KO = 2 when NR > 2. Sums are exact
 * in any order (lmz_simd.h), so each row's sums are dots' sums. */
static LMZ_TGT inline __attribute__((always_inline)) void
LMZ_SFX(dots_nr)(const int8_t *w, int out, int in, const int8_t *q, size_t q_stride, const int NR,
                 int32_t *acc, size_t acc_stride)
{
    const int KO = LMZ_VNNI || NR <= 2 ? 4 : 2;
    const int full = in & ~31, rest = in - full;
    _Alignas(32) int8_t qt[LMZ_KV_MANY][32];
    memset(qt, 0, sizeof qt);
    for (int r = 0; r < NR; r++)
        if (rest)
            memcpy(qt[r], q + (size_t)r * q_stride + full, (size_t)rest);
    int o = 0;
    for (; o + KO <= out; o += KO) {
        const int8_t *wr = w + (size_t)o * (size_t)in;
        __m256i a[4][LMZ_KV_MANY];
#pragma GCC unroll 4
        for (int k = 0; k < KO; k++)
#pragma GCC unroll 4
            for (int r = 0; r < NR; r++)
                a[k][r] = _mm256_setzero_si256();
        for (int c = 0; c < full; c += 32) {
            __m256i qv[LMZ_KV_MANY];
#pragma GCC unroll 4
            for (int r = 0; r < NR; r++)
                qv[r] = _mm256_loadu_si256((const __m256i *)(q + (size_t)r * q_stride + c));
#pragma GCC unroll 4
            for (int k = 0; k < KO; k++) {
                const __m256i wv = _mm256_loadu_si256((const __m256i *)(wr + (size_t)k * in + c));
#pragma GCC unroll 4
                for (int r = 0; r < NR; r++)
                    a[k][r] = LMZ_SFX(dp)(a[k][r], qv[r], wv);
            }
        }
        if (rest) {
#pragma GCC unroll 4
            for (int k = 0; k < KO; k++) {
                _Alignas(32) int8_t wt[32] = {0};
                memcpy(wt, wr + (size_t)k * in + full, (size_t)rest);
                const __m256i wv = _mm256_load_si256((const __m256i *)wt);
#pragma GCC unroll 4
                for (int r = 0; r < NR; r++)
                    a[k][r] = LMZ_SFX(dp)(a[k][r], _mm256_load_si256((const __m256i *)qt[r]), wv);
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            int32_t *y = acc + (size_t)r * acc_stride + o;
            if (KO == 4)
                _mm_storeu_si128((__m128i *)y, LMZ_SFX(hsum4)(a[0][r], a[1][r], a[2][r], a[3][r]));
            else
                _mm_storel_epi64((__m128i *)y, LMZ_SFX(hsum4)(a[0][r], a[1][r], a[0][r], a[1][r]));
        }
    }
    if (o < out) /* the last out % KO rows, one activation row at a time */
        for (int r = 0; r < NR; r++)
            LMZ_SFX(dots)(w + (size_t)o * (size_t)in, out - o, in, q + (size_t)r * q_stride,
                          acc + (size_t)r * acc_stride + o);
}

static LMZ_TGT void LMZ_SFX(dots_many)(const int8_t *w, int out, int in, const int8_t *q,
                                       size_t q_stride, int nr, int32_t *acc, size_t acc_stride)
{
    switch (nr) {
    case 1: LMZ_SFX(dots)(w, out, in, q, acc); break;
    case 2: LMZ_SFX(dots_nr)(w, out, in, q, q_stride, 2, acc, acc_stride); break;
    case 3: LMZ_SFX(dots_nr)(w, out, in, q, q_stride, 3, acc, acc_stride); break;
    case 4: LMZ_SFX(dots_nr)(w, out, in, q, q_stride, 4, acc, acc_stride); break;
    default: /* more rows than the kernel holds: groups of 4 */
        for (int r = 0; r < nr; r += 4)
            LMZ_SFX(dots_many)(w, out, in, q + (size_t)r * q_stride, q_stride,
                               nr - r < 4 ? nr - r : 4, acc + (size_t)r * acc_stride, acc_stride);
    }
}

/* ---- attention ---- */

/* 64-bit min/max: AVX2 has only the signed compare. */
static LMZ_TGT inline __m256i LMZ_SFX(max64)(__m256i a, __m256i b)
{
#if LMZ_VNNI
    return _mm256_max_epi64(a, b);
#else
    return _mm256_blendv_epi8(b, a, _mm256_cmpgt_epi64(a, b));
#endif
}
static LMZ_TGT inline __m256i LMZ_SFX(min64)(__m256i a, __m256i b)
{
#if LMZ_VNNI
    return _mm256_min_epi64(a, b);
#else
    return _mm256_blendv_epi8(a, b, _mm256_cmpgt_epi64(a, b));
#endif
}

/* The score's rescale for the four keys whose s and ak sit in the low 32
 * bits of each 64-bit lane; the result is in the low 32 bits of each lane.
 *   t = rshift_round(s * ak, 12): |s| < 2^22 and 1 <= ak <= 2^18, so
 *     vpmuldq's 32x32->64 product is exact (< 2^40). The shift is a logical
 *     one, but the spec's arithmetic shift differs from it only in the top
 *     12 bits of the 64-bit result, and |t| < 2^28 lives in the low 32.
 *   r = clamp(rshift_round(t * g, 20), -2^24, 2^24): t and g (< 2^25) are
 *     both int32, so t * g is exact (< 2^53). With x = t*g + 2^19,
 *     floor(x / 2^20) <= 2^24 iff x <= 2^44 + 2^20 - 1 and >= -2^24 iff
 *     x >= -2^44, so clamping x to that range before the shift is the same
 *     as clamping the result; then the result (|r| <= 2^24) is in bits 20..51
 *     of x, which a logical shift moves to the low 32 bits as well. */
static LMZ_TGT inline __m256i LMZ_SFX(score4)(__m256i s, __m256i ak, __m256i g)
{
    const __m256i p = _mm256_add_epi64(_mm256_mul_epi32(s, ak), _mm256_set1_epi64x(1 << 11));
    const __m256i t = _mm256_srli_epi64(p, 12);
    __m256i x = _mm256_add_epi64(_mm256_mul_epi32(t, g), _mm256_set1_epi64x(1 << 19));
    x = LMZ_SFX(max64)(x, _mm256_set1_epi64x(-(INT64_C(1) << 44)));
    x = LMZ_SFX(min64)(x, _mm256_set1_epi64x((INT64_C(1) << 44) + (INT64_C(1) << 20) - 1));
    return _mm256_srli_epi64(x, 20);
}

/* The scores of 8 keys from their dot products s (int32 x 8): the clamped,
 * rescaled score minus the ALiBi term ((i - j) << 12) >> e_h, where dist
 * holds i - j per lane (< 2^13, so the shift stays in int32). */
static LMZ_TGT inline __m256i LMZ_SFX(score8)(__m256i s, __m256i ak, __m256i g, __m256i dist,
                                              __m128i e_h)
{
    const __m256i ev = LMZ_SFX(score4)(s, ak, g);
    const __m256i od = LMZ_SFX(score4)(_mm256_srli_epi64(s, 32), _mm256_srli_epi64(ak, 32), g);
    const __m256i r = _mm256_blend_epi32(ev, _mm256_slli_epi64(od, 32), 0xaa);
    const __m256i bias = _mm256_sra_epi32(_mm256_slli_epi32(dist, 12), e_h);
    return _mm256_sub_epi32(r, bias); /* |r - bias| <= 2^24 + 2^25 */
}

/* Dot products q . k_j of 8 consecutive keys, in key order. dh == 8 (the
 * tiny preset): four keys per vector; dh == 16: two keys per vector;
 * dh % 32 == 0: one key per vector, summed over dh/32
 * steps. |q . k| <= 127^2 * 256 < 2^22 fits every int32 lane. */
static LMZ_TGT inline __m256i LMZ_SFX(qk8)(const int8_t *q8, const int8_t *k, size_t stride,
                                           int dh)
{
    if (dh == 8) { /* four keys per vector */
        int64_t qw;
        memcpy(&qw, q8, 8);
        const __m256i q4 = _mm256_set1_epi64x(qw);
        __m256i p[2];
        for (int t = 0; t < 2; t++) {
            const int8_t *k0 = k + (size_t)(4 * t) * stride;
            const __m128i lo = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)k0),
                                                  _mm_loadl_epi64((const __m128i *)(k0 + stride)));
            const __m128i hi =
                _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(k0 + 2 * stride)),
                                   _mm_loadl_epi64((const __m128i *)(k0 + 3 * stride)));
            p[t] = LMZ_SFX(dp)(_mm256_setzero_si256(), q4,
                               _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1));
        }
        /* p[t] = [k0 k0 k1 k1 | k2 k2 k3 k3] (keys 4t..4t+3, two partials each) */
        const __m256i h = _mm256_hadd_epi32(p[0], p[1]); /* [k0 k1 k4 k5 | k2 k3 k6 k7] */
        return _mm256_permutevar8x32_epi32(h, _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7));
    }
    if (dh == 16) {
        const __m128i q1 = _mm_loadu_si128((const __m128i *)q8);
        const __m256i q2 = _mm256_broadcastsi128_si256(q1);
        __m256i p[4];
        for (int t = 0; t < 4; t++) {
            const int8_t *k0 = k + (size_t)(2 * t) * stride;
            const __m256i kk = _mm256_inserti128_si256(
                _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)k0)),
                _mm_loadu_si128((const __m128i *)(k0 + stride)), 1);
            p[t] = LMZ_SFX(dp)(_mm256_setzero_si256(), q2, kk);
        }
        /* p[t] = [key 2t partials x4 | key 2t+1 partials x4] */
        const __m256i h01 = _mm256_hadd_epi32(p[0], p[1]); /* [k0 k0 k2 k2 | k1 k1 k3 k3] */
        const __m256i h23 = _mm256_hadd_epi32(p[2], p[3]); /* [k4 k4 k6 k6 | k5 k5 k7 k7] */
        const __m256i h = _mm256_hadd_epi32(h01, h23);     /* [k0 k2 k4 k6 | k1 k3 k5 k7] */
        return _mm256_permutevar8x32_epi32(h, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    }
    __m256i a[8];
    for (int t = 0; t < 8; t++)
        a[t] = _mm256_setzero_si256();
    for (int c = 0; c < dh; c += 32) {
        const __m256i qv = _mm256_loadu_si256((const __m256i *)(q8 + c));
        for (int t = 0; t < 8; t++)
            a[t] = LMZ_SFX(dp)(a[t], qv,
                               _mm256_loadu_si256((const __m256i *)(k + (size_t)t * stride + c)));
    }
    return LMZ_SFX(hsum8)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
}

/* expq of 8 values x >= 0 (|x| < 2^27), as the scalar lmz_expq: 0 from
 * 65536 on, else one gather from lmz_exp16 (the scalar lmz_expq of every
 * x < 65536, stored as min(e, 65535); only x == 0 has e = 65536). Each
 * 4-byte gather at 2x reads entries x and x + 1, and the mask keeps the low
 * 16 bits = entry x (little-endian; the table has one spare entry).
 * (The spec's product form EXP_HI[x >> 6] * EXP_LO[x & 63] with only the
 * 4 KB EXP_HI gathered from L1 and EXP_LO computed, bit-exact over every x,
 * was measured at -2% to +2%: on this CPU the gather instruction, not the
 * L2 latency of its lines, is the cost; bench/results/profile.md.) */
static LMZ_TGT inline __m256i LMZ_SFX(expq8)(__m256i x, const uint16_t *tab)
{
    const __m256i live = _mm256_cmpgt_epi32(_mm256_set1_epi32(65536), x);
    const __m256i xc = _mm256_min_epi32(x, _mm256_set1_epi32(65535)); /* in-table index */
    __m256i e = _mm256_and_si256(_mm256_i32gather_epi32((const int *)tab, xc, 2),
                                 _mm256_set1_epi32(0xffff));
    e = _mm256_sub_epi32(e, _mm256_cmpeq_epi32(x, _mm256_setzero_si256())); /* +1 at x == 0 */
    return _mm256_and_si256(e, live);
}

/* expq of n values x[t] >= 0 (the kernel table's expq, for the tests). */
static LMZ_TGT void LMZ_SFX(expq_n)(const int32_t *x, int n, uint32_t *e)
{
    const uint16_t *tab = lmz_exp16();
    int t = 0;
    for (; t + 8 <= n; t += 8)
        _mm256_storeu_si256((__m256i *)(e + t),
                            LMZ_SFX(expq8)(_mm256_loadu_si256((const __m256i *)(x + t)), tab));
    for (; t < n; t++)
        e[t] = lmz_expq(x[t]);
}

/* Pass 2's weighted sum of values, acc_c = sum_j w_j * v8_j[c] with
 * w_j = e_j * av_j <= 2^16 * 2^18 = 2^34 (e and av are never negative).
 * vpmaddwd multiplies int16 pairs, so w_j is cut into 15-bit digits,
 * w = w0 + w1 * 2^15 + w2 * 2^30 (w0, w1 < 2^15, w2 <= 16), and two keys
 * are interleaved per int16 pair: one vpmaddwd lane is
 * w_j * v_j[c] + w_{j+1} * v_{j+1}[c] for one digit, |.| <= 2 * 32767 * 127
 * < 2^23. Each digit's int32 accumulators take at most LMZ_PAIRS_FLUSH
 * pairs (< 2^23 * 128 = 2^30) before they are folded into the int64 sums
 * exactly (acc += a0 + a1 * 2^15 + a2 * 2^30). */
#define LMZ_PAIRS_FLUSH 128

typedef struct {
    __m256i a[3][LMZ_MAX_HEAD_DIM / 8];
    int pairs;
} LMZ_SFX(vacc);

static LMZ_TGT inline void LMZ_SFX(vflush)(LMZ_SFX(vacc) * va, int dh, int64_t *acc)
{
    for (int b = 0; b < dh / 8; b++) {
        _Alignas(32) int32_t d0[8], d1[8], d2[8];
        _mm256_store_si256((__m256i *)d0, va->a[0][b]);
        _mm256_store_si256((__m256i *)d1, va->a[1][b]);
        _mm256_store_si256((__m256i *)d2, va->a[2][b]);
        for (int c = 0; c < 8; c++)
            acc[8 * b + c] += (int64_t)d0[c] + (int64_t)d1[c] * (INT64_C(1) << 15) +
                              (int64_t)d2[c] * (INT64_C(1) << 30);
        va->a[0][b] = va->a[1][b] = va->a[2][b] = _mm256_setzero_si256();
    }
    va->pairs = 0;
}

/* One pair of keys (rows r0, r1; r1 may be a zero row) with digit pairs
 * b0, b1, b2 (w_j's digit in the low int16, w_{j+1}'s in the high). dh is
 * a multiple of 16; the compiler specialises the dh == 16 and 32 calls. */
/* acc + vpmaddwd(a, b): VNNI's vpdpwssd does both in one instruction, and
 * like vpmaddwd + vpaddd it wraps only on int32 overflow, ruled out above. */
static LMZ_TGT inline __m256i LMZ_SFX(madd_acc)(__m256i acc, __m256i a, __m256i b)
{
#if LMZ_VNNI
    return _mm256_dpwssd_epi32(acc, a, b);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
#endif
}

static LMZ_TGT inline __attribute__((always_inline)) void
LMZ_SFX(vpair)(LMZ_SFX(vacc) * va, const int8_t *r0, const int8_t *r1, __m256i b0, __m256i b1,
               __m256i b2, int dh)
{
    if (dh == 8) { /* the two keys' 8 channels interleaved fill one vector */
        const __m256i v = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(
            _mm_loadl_epi64((const __m128i *)r0), _mm_loadl_epi64((const __m128i *)r1)));
        va->a[0][0] = LMZ_SFX(madd_acc)(va->a[0][0], v, b0);
        va->a[1][0] = LMZ_SFX(madd_acc)(va->a[1][0], v, b1);
        va->a[2][0] = LMZ_SFX(madd_acc)(va->a[2][0], v, b2);
        return;
    }
    for (int c = 0; c < dh; c += 16) {
        const __m128i x0 = _mm_loadu_si128((const __m128i *)(r0 + c));
        const __m128i x1 = _mm_loadu_si128((const __m128i *)(r1 + c));
        const __m256i vlo = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(x0, x1));
        const __m256i vhi = _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(x0, x1));
        const int b = c / 8;
        va->a[0][b] = LMZ_SFX(madd_acc)(va->a[0][b], vlo, b0);
        va->a[1][b] = LMZ_SFX(madd_acc)(va->a[1][b], vlo, b1);
        va->a[2][b] = LMZ_SFX(madd_acc)(va->a[2][b], vlo, b2);
        va->a[0][b + 1] = LMZ_SFX(madd_acc)(va->a[0][b + 1], vhi, b0);
        va->a[1][b + 1] = LMZ_SFX(madd_acc)(va->a[1][b + 1], vhi, b1);
        va->a[2][b + 1] = LMZ_SFX(madd_acc)(va->a[2][b + 1], vhi, b2);
    }
}

/* The first key (a multiple of 8) that can have a non-zero weight for query
 * i; every key before it has e_j = 0 and is not the maximum, so both passes
 * may start there and compute the same bits (docs/inference.md).
 *   Bound: |k8[c]| <= 127, so s_j <= S = 127 * sum_c |q8[c]|; the score is
 *   a non-decreasing function of s * ak_j (rshift_round is monotone, g > 0),
 *   so for every j, clamp(score_j) <= U = min(2^24, score(S * akmax)) with
 *   akmax = max_j ak_j (S >= 0). The self key i (distance 0) has score
 *   sc_i <= m. A key at distance d has sc_j <= U - d * 2^(12 - e_h) (e_h <= 8,
 *   so the ALiBi shift is exact); for d >= D = ceil((U - sc_i + 65536) /
 *   2^(12 - e_h)), sc_j <= sc_i - 65536 <= m - 65536 < m: not the maximum
 *   and expq(m - sc_j) = 0. So keys j <= i - D drop out, and the maximum is
 *   attained inside the window. */
/* The largest ak over keys 0..n-1 (at least 1; a_stride == 1: eight per
 * step). */
static LMZ_TGT inline int32_t LMZ_SFX(ak_max)(const int32_t *ak, int a_stride, int n)
{
    int32_t akmax = 1;
    int j = 0;
    if (a_stride == 1) {
        __m256i vm = _mm256_set1_epi32(1);
        for (; j + 8 <= n; j += 8)
            vm = _mm256_max_epi32(vm, _mm256_loadu_si256((const __m256i *)(ak + j)));
        _Alignas(32) int32_t t8[8];
        _mm256_store_si256((__m256i *)t8, vm);
        for (int t = 0; t < 8; t++)
            akmax = t8[t] > akmax ? t8[t] : akmax;
    }
    for (; j < n; j++)
        akmax = ak[(size_t)j * a_stride] > akmax ? ak[(size_t)j * a_stride] : akmax;
    return akmax;
}

/* attend_start's bound for query i given akmax >= max_{j <= i} ak_j (any
 * larger value only widens the window: the bound stays valid). */
static LMZ_TGT inline int LMZ_SFX(attend_first)(const int8_t *q8, int64_t g, const int32_t *ak,
                                                int a_stride, const int8_t *ki, int i, int dh,
                                                int e_h, int32_t akmax)
{
    int32_t s = 0, l1 = 0;
    for (int c = 0; c < dh; c++) {
        s += (int32_t)q8[c] * (int32_t)ki[c];
        l1 += q8[c] < 0 ? -(int32_t)q8[c] : (int32_t)q8[c];
    }
    const int64_t lim = INT64_C(1) << 24;
    const int64_t sci = lmz_clamp64(
        lmz_rshift_round(lmz_rshift_round((int64_t)s * ak[(size_t)i * a_stride], 12) * g, 20),
        -lim, lim);
    /* S * akmax <= 127 * 127 * 256 * 2^18 < 2^41; after >> 12, times g < 2^25: < 2^54 */
    int64_t u = lmz_rshift_round(lmz_rshift_round((int64_t)127 * l1 * akmax, 12) * g, 20);
    u = u < lim ? u : lim;
    const int64_t step = INT64_C(1) << (12 - e_h);
    const int64_t d = (u - sci + 65536 + step - 1) / step; /* numerator > 0 */
    const int64_t first = (int64_t)i - d + 1;
    return first <= 0 ? 0 : (int)(first & ~(int64_t)7);
}

/* The first key (a multiple of 8) that can have a non-zero weight for query
 * i; every key before it has e_j = 0 and is not the maximum, so both passes
 * may start there and compute the same bits (docs/inference.md).
 *   Bound: |k8[c]| <= 127, so s_j <= S = 127 * sum_c |q8[c]|; the score is
 *   a non-decreasing function of s * ak_j (rshift_round is monotone, g > 0),
 *   so for every j, clamp(score_j) <= U = min(2^24, score(S * akmax)) with
 *   akmax = max_j ak_j (S >= 0). The self key i (distance 0) has score
 *   sc_i <= m. A key at distance d has sc_j <= U - d * 2^(12 - e_h) (e_h <= 8,
 *   so the ALiBi shift is exact); for d >= D = ceil((U - sc_i + 65536) /
 *   2^(12 - e_h)), sc_j <= sc_i - 65536 <= m - 65536 < m: not the maximum
 *   and expq(m - sc_j) = 0. So keys j <= i - D drop out, and the maximum is
 *   attained inside the window. */
static LMZ_TGT inline int LMZ_SFX(attend_start)(const int8_t *q8, int64_t g, const int32_t *ak,
                                                int a_stride, const int8_t *ki, int i, int dh,
                                                int e_h)
{
    if (i < 64)
        return 0;
    return LMZ_SFX(attend_first)(q8, g, ak, a_stride, ki, i, dh, e_h,
                                 LMZ_SFX(ak_max)(ak, a_stride, i + 1));
}

/* The two passes over keys 0..i for one query (docs/inference.md,
 * "Attention"); the scores live only in the row sc[0..i] (4 bytes per key,
 * in L1 for any ctx), never as a matrix. */
static LMZ_TGT inline __attribute__((always_inline)) void
LMZ_SFX(attend_dh)(const int8_t *q8, int32_t aq, const int8_t *k8, const int32_t *ak,
                   const int8_t *v8, const int32_t *av, int row_stride, int a_stride, int i,
                   const int dh, int e_h, int32_t *sc, int64_t *acc, int32_t *out)
{
    const size_t stride = (size_t)row_stride;
    const int n = i + 1, n8 = n & ~7;
    const int64_t g = lmz_div_round((int64_t)aq << 20, 16129); /* < 2^25 */
    const __m256i gv = _mm256_set1_epi64x(g);
    const __m128i eh = _mm_cvtsi32_si128(e_h);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i aidx = _mm256_mullo_epi32(lane, _mm256_set1_epi32(a_stride));
    const int j0 = LMZ_SFX(attend_start)(q8, g, ak, a_stride, k8 + (size_t)i * stride, i, dh, e_h);

    /* Pass 1: scores and their maximum (int32: |sc| <= 2^24 + 2^25) over
     * the keys j0.. that can have a non-zero weight (attend_start). */
    __m256i vmax = _mm256_set1_epi32(INT32_MIN);
    for (int j = j0; j < n8; j += 8) {
        const __m256i s = LMZ_SFX(qk8)(q8, k8 + (size_t)j * stride, stride, dh);
        const __m256i a =
            a_stride == 1 ? _mm256_loadu_si256((const __m256i *)(ak + j))
                          : _mm256_i32gather_epi32((const int *)(ak + (size_t)j * a_stride), aidx, 4);
        const __m256i dist = _mm256_sub_epi32(_mm256_set1_epi32(i - j), lane);
        const __m256i v = LMZ_SFX(score8)(s, a, gv, dist, eh);
        _mm256_storeu_si256((__m256i *)(sc + j), v);
        vmax = _mm256_max_epi32(vmax, v);
    }
    _Alignas(32) int32_t mx[8];
    _mm256_store_si256((__m256i *)mx, vmax);
    int64_t m = INT64_MIN;
    for (int t = 0; t < 8 && n8 > j0; t++)
        if (mx[t] > m)
            m = mx[t];
    for (int j = n8; j < n; j++) { /* the last < 8 keys: the scalar formula */
        const int8_t *k = k8 + (size_t)j * stride;
        int32_t s = 0;
        for (int c = 0; c < dh; c++)
            s += (int32_t)q8[c] * (int32_t)k[c];
        int64_t v =
            lmz_rshift_round(lmz_rshift_round((int64_t)s * ak[(size_t)j * a_stride], 12) * g, 20);
        v = lmz_clamp64(v, -(INT64_C(1) << 24), INT64_C(1) << 24) -
            (((int64_t)(i - j) << 12) >> e_h);
        sc[j] = (int32_t)v;
        if (v > m)
            m = v;
    }

    /* Pass 2: weights and the weighted sum. A zero weight (m - sc >= 16.0)
     * adds nothing to Z or acc, so whole groups and pairs of them are
     * skipped; that is exact, not an approximation. */
    for (int c = 0; c < dh; c++)
        acc[c] = 0;
    LMZ_SFX(vacc) va;
    for (int b = 0; b < dh / 8; b++)
        va.a[0][b] = va.a[1][b] = va.a[2][b] = _mm256_setzero_si256();
    va.pairs = 0;
    const __m256i mv = _mm256_set1_epi32((int32_t)m);
    const __m256i m15 = _mm256_set1_epi64x(0x7fff);
    __m256i zv = _mm256_setzero_si256(); /* per lane <= 2^16 * 2^10 groups */
    /* 2a: every weight first, written over its score (sc is not read
     * again): a loop without branches keeps the gathers in flight instead
     * of waiting on each one. */
    const uint16_t *tab = lmz_exp16();
    for (int j = j0; j < n8; j += 8) {
        const __m256i e = LMZ_SFX(expq8)(
            _mm256_sub_epi32(mv, _mm256_loadu_si256((const __m256i *)(sc + j))), tab);
        zv = _mm256_add_epi32(zv, e);
        _mm256_storeu_si256((__m256i *)(sc + j), e);
    }
    /* 2b: the weighted sum over the keys with a non-zero weight. */
    for (int j = j0; j < n8; j += 8) {
        const __m256i e = _mm256_loadu_si256((const __m256i *)(sc + j));
        /* bit t set: key j + t has weight 0 */
        const int zero = _mm256_movemask_ps(
            _mm256_castsi256_ps(_mm256_cmpeq_epi32(e, _mm256_setzero_si256())));
        if (zero == 0xff)
            continue;
        const __m256i a =
            a_stride == 1 ? _mm256_loadu_si256((const __m256i *)(av + j))
                          : _mm256_i32gather_epi32((const int *)(av + (size_t)j * a_stride), aidx, 4);
        /* w = e * av for even keys (ev) and odd keys (od), 64-bit lanes */
        const __m256i wev = _mm256_mul_epu32(e, a);
        const __m256i wod = _mm256_mul_epu32(_mm256_srli_epi64(e, 32), _mm256_srli_epi64(a, 32));
        /* digit pairs in the low 32 bits of each 64-bit lane t: low int16 =
         * key 2t's digit, high int16 = key 2t+1's */
        const __m256i d0 = _mm256_or_si256(_mm256_and_si256(wev, m15),
                                           _mm256_slli_epi64(_mm256_and_si256(wod, m15), 16));
        const __m256i d1 = _mm256_or_si256(
            _mm256_and_si256(_mm256_srli_epi64(wev, 15), m15),
            _mm256_slli_epi64(_mm256_and_si256(_mm256_srli_epi64(wod, 15), m15), 16));
        const __m256i d2 = _mm256_or_si256(_mm256_srli_epi64(wev, 30),
                                           _mm256_slli_epi64(_mm256_srli_epi64(wod, 30), 16));
        for (int t = 0; t < 4; t++) {
            if (((zero >> (2 * t)) & 3) == 3)
                continue;
            const __m256i idx = _mm256_set1_epi32(2 * t);
            const size_t r = (size_t)(j + 2 * t) * stride;
            LMZ_SFX(vpair)(&va, v8 + r, v8 + r + stride, _mm256_permutevar8x32_epi32(d0, idx),
                           _mm256_permutevar8x32_epi32(d1, idx),
                           _mm256_permutevar8x32_epi32(d2, idx), dh);
            if (++va.pairs == LMZ_PAIRS_FLUSH)
                LMZ_SFX(vflush)(&va, dh, acc);
        }
    }
    LMZ_SFX(vflush)(&va, dh, acc);
    int64_t z = (int64_t)LMZ_SFX(hsum1)(zv); /* <= 2^29: int32 is enough */
    for (int j = n8; j < n; j++) {
        const int64_t e = lmz_expq(m - sc[j]);
        if (e == 0)
            continue;
        z += e;
        const int64_t w = e * av[(size_t)j * a_stride];
        const int8_t *v = v8 + (size_t)j * stride;
        for (int c = 0; c < dh; c++)
            acc[c] += w * v[c];
    }
    const int64_t zd = z * 127;
    for (int c = 0; c < dh; c++)
        out[c] = (int32_t)lmz_clamp64(lmz_div_round(acc[c], zd), -LMZ_ACT, LMZ_ACT);
}

static LMZ_TGT void LMZ_SFX(attend_row)(const lmz_att_head *kv, const int8_t *q8, int32_t aq,
                                        int i, const lmz_att_scratch *w, int32_t *out)
{
    const int8_t *k8 = kv->k8, *v8 = kv->v8;
    const int32_t *ak = kv->ak, *av = kv->av;
    const int row_stride = kv->row_stride, a_stride = kv->a_stride, dh = kv->dh, e_h = kv->e_h;
    int32_t *sc = w->sc;
    int64_t *acc = w->acc;
    if (dh == 8)
        LMZ_SFX(attend_dh)(q8, aq, k8, ak, v8, av, row_stride, a_stride, i, 8, e_h, sc, acc, out);
    else if (dh == 16)
        LMZ_SFX(attend_dh)(q8, aq, k8, ak, v8, av, row_stride, a_stride, i, 16, e_h, sc, acc, out);
    else if (dh == 32)
        LMZ_SFX(attend_dh)(q8, aq, k8, ak, v8, av, row_stride, a_stride, i, 32, e_h, sc, acc, out);
    else if (dh % 32 == 0)
        LMZ_SFX(attend_dh)(q8, aq, k8, ak, v8, av, row_stride, a_stride, i, dh, e_h, sc, acc, out);
    else /* other head sizes: the reference */
        lmz_attend_row(kv, q8, aq, i, w, out);
}

/* ---- attention of several queries per sweep (the full pass) ---- */

/* How many queries share one sweep over the keys: as many as keep their
 * value accumulators (NQ x 3 digits x dh/8 vectors) in registers, 16 on
 * AVX2 and 32 with AVX-512VL; 1 = no sharing (one attend_row per query). */
#if LMZ_VNNI
#define LMZ_MQ(dh) ((dh) == 8 ? 4 : (dh) == 16 ? 4 : (dh) == 32 ? 2 : 1)
#else
#define LMZ_MQ(dh) ((dh) == 8 ? 4 : (dh) == 16 ? 2 : 1)
#endif

/* vflush for attend_mq's accumulators: fold the three digit sums into
 * the int64 sums (acc += a0 + a1 * 2^15 + a2 * 2^30) and clear them. */
static LMZ_TGT inline __attribute__((always_inline)) void
LMZ_SFX(mq_fold)(__m256i A[4][3][4], const int NQ, const int dh, int64_t acc[4][LMZ_MAX_HEAD_DIM])
{
#pragma GCC unroll 4
    for (int t = 0; t < NQ; t++)
#pragma GCC unroll 4
        for (int b = 0; b < dh / 8; b++) {
            _Alignas(32) int32_t d0[8], d1[8], d2[8];
            _mm256_store_si256((__m256i *)d0, A[t][0][b]);
            _mm256_store_si256((__m256i *)d1, A[t][1][b]);
            _mm256_store_si256((__m256i *)d2, A[t][2][b]);
            for (int c = 0; c < 8; c++)
                acc[t][8 * b + c] += (int64_t)d0[c] + (int64_t)d1[c] * (INT64_C(1) << 15) +
                                     (int64_t)d2[c] * (INT64_C(1) << 30);
            A[t][0][b] = A[t][1][b] = A[t][2][b] = _mm256_setzero_si256();
        }
}

/* NQ consecutive queries i0 .. i0 + NQ - 1 of one head, each computed
 * exactly as attend_dh computes it alone: every query keeps its own scores
 * (row t of sc), maximum, weights, Z and int64 sums; only the key and value
 * loads (and the int8 -> int16 widening of the values) are shared. The keys
 * J0 .. S - 1 (S = (i0 + 1) rounded down to 8, J0 the group's window
 * start) are visible to all NQ queries and go through the vector passes;
 * query t's remaining keys S .. i0 + t (at most 7 + NQ - 1) take the
 * scalar formula, as attend_dh's tail does.
 * A pair of keys whose weights are zero for every query is skipped (a
 * zero weight adds nothing); a pair with some non-zero weights is added
 * for every query, zeros included, which is the same sum. */
static LMZ_TGT inline __attribute__((always_inline)) void
LMZ_SFX(attend_mq)(const int NQ, const int8_t *q8, const int32_t *aq, int q_stride, int aq_stride,
                   const int8_t *k8, const int32_t *ak, const int8_t *v8, const int32_t *av,
                   int row_stride, int a_stride, int i0, const int dh, int e_h, int32_t *sc,
                   int sc_stride, int32_t *out, int out_stride)
{
    const size_t stride = (size_t)row_stride;
    const int S = (i0 + 1) & ~7;
    const __m128i eh = _mm_cvtsi32_si128(e_h);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i aidx = _mm256_mullo_epi32(lane, _mm256_set1_epi32(a_stride));
    int64_t g[4], m[4];
    __m256i gv[4], vmax[4], zv[4];
    for (int t = 0; t < NQ; t++) {
        g[t] = lmz_div_round((int64_t)aq[(size_t)t * aq_stride] << 20, 16129);
        gv[t] = _mm256_set1_epi64x(g[t]);
        vmax[t] = _mm256_set1_epi32(INT32_MIN);
        zv[t] = _mm256_setzero_si256();
    }
    /* The group's window: the union of its queries' windows (attend_start),
     * i.e. the earliest start, a multiple of 8 and <= S (query i0's start is
     * <= i0 & ~7). A query that sees keys before its own start computes
     * them exactly (weight 0, never the maximum), so its bits are those of
     * attend_dh. One akmax over keys 0 .. i0 + NQ - 1 serves every query:
     * it is >= each query's own, which only widens a window. */
    int J0 = 0;
    if (i0 >= 64) {
        const int32_t akmax = LMZ_SFX(ak_max)(ak, a_stride, i0 + NQ);
        J0 = S;
        for (int t = 0; t < NQ && J0 > 0; t++) {
            const int f = LMZ_SFX(attend_first)(q8 + (size_t)t * q_stride, g[t], ak, a_stride,
                                                k8 + (size_t)(i0 + t) * stride, i0 + t, dh, e_h,
                                                akmax);
            J0 = f < J0 ? f : J0;
        }
    }

    /* Pass 1 over the shared keys of the window. */
    for (int j = J0; j < S; j += 8) {
        const __m256i a =
            a_stride == 1 ? _mm256_loadu_si256((const __m256i *)(ak + j))
                          : _mm256_i32gather_epi32((const int *)(ak + (size_t)j * a_stride), aidx, 4);
        for (int t = 0; t < NQ; t++) {
            const __m256i s =
                LMZ_SFX(qk8)(q8 + (size_t)t * q_stride, k8 + (size_t)j * stride, stride, dh);
            const __m256i dist = _mm256_sub_epi32(_mm256_set1_epi32(i0 + t - j), lane);
            const __m256i v = LMZ_SFX(score8)(s, a, gv[t], dist, eh);
            _mm256_storeu_si256((__m256i *)(sc + (size_t)t * sc_stride + j), v);
            vmax[t] = _mm256_max_epi32(vmax[t], v);
        }
    }
    /* Each query's maximum, then its own tail keys. */
    for (int t = 0; t < NQ; t++) {
        const int8_t *qt = q8 + (size_t)t * q_stride;
        int32_t *st = sc + (size_t)t * sc_stride;
        const int i = i0 + t;
        _Alignas(32) int32_t mx[8];
        _mm256_store_si256((__m256i *)mx, vmax[t]);
        m[t] = INT64_MIN;
        for (int u = 0; u < 8 && S > J0; u++)
            if (mx[u] > m[t])
                m[t] = mx[u];
        for (int j = S; j <= i; j++) {
            const int8_t *k = k8 + (size_t)j * stride;
            int32_t s = 0;
            for (int c = 0; c < dh; c++)
                s += (int32_t)qt[c] * (int32_t)k[c];
            int64_t v = lmz_rshift_round(
                lmz_rshift_round((int64_t)s * ak[(size_t)j * a_stride], 12) * g[t], 20);
            v = lmz_clamp64(v, -(INT64_C(1) << 24), INT64_C(1) << 24) -
                (((int64_t)(i - j) << 12) >> e_h);
            st[j] = (int32_t)v;
            if (v > m[t])
                m[t] = v;
        }
    }

    /* Pass 2a: the weights of the shared keys, over their scores. */
    const uint16_t *tab = lmz_exp16();
    for (int t = 0; t < NQ; t++) {
        const __m256i mv = _mm256_set1_epi32((int32_t)m[t]);
        int32_t *st = sc + (size_t)t * sc_stride;
        for (int j = J0; j < S; j += 8) {
            const __m256i e = LMZ_SFX(expq8)(
                _mm256_sub_epi32(mv, _mm256_loadu_si256((const __m256i *)(st + j))), tab);
            zv[t] = _mm256_add_epi32(zv[t], e);
            _mm256_storeu_si256((__m256i *)(st + j), e);
        }
    }

    /* Pass 2b: the weighted sums over the shared keys. The accumulators
     * are a fixed-size array indexed only by constants after unrolling, so
     * they stay in registers (NQ * 3 * dh/8 <= 24 vectors). */
    __m256i A[4][3][4];
    int64_t acc[4][LMZ_MAX_HEAD_DIM];
#pragma GCC unroll 4
    for (int t = 0; t < NQ; t++) {
        for (int c = 0; c < dh; c++)
            acc[t][c] = 0;
#pragma GCC unroll 4
        for (int b = 0; b < dh / 8; b++)
            A[t][0][b] = A[t][1][b] = A[t][2][b] = _mm256_setzero_si256();
    }
    const __m256i m15 = _mm256_set1_epi64x(0x7fff);
    int pairs = 0;
    for (int j = J0; j < S; j += 8) {
        __m256i e[4], any = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int t = 0; t < NQ; t++) {
            e[t] = _mm256_loadu_si256((const __m256i *)(sc + (size_t)t * sc_stride + j));
            any = _mm256_or_si256(any, e[t]);
        }
        const int zero = _mm256_movemask_ps(
            _mm256_castsi256_ps(_mm256_cmpeq_epi32(any, _mm256_setzero_si256())));
        if (zero == 0xff)
            continue;
        const __m256i a =
            a_stride == 1 ? _mm256_loadu_si256((const __m256i *)(av + j))
                          : _mm256_i32gather_epi32((const int *)(av + (size_t)j * a_stride), aidx, 4);
        const __m256i aod = _mm256_srli_epi64(a, 32);
        /* digit pairs as in attend_dh, stored so that each pair's 32 bits
         * can be broadcast straight from memory */
        _Alignas(32) int32_t dg[4][3][8];
#pragma GCC unroll 4
        for (int t = 0; t < NQ; t++) {
            const __m256i wev = _mm256_mul_epu32(e[t], a);
            const __m256i wod = _mm256_mul_epu32(_mm256_srli_epi64(e[t], 32), aod);
            _mm256_store_si256((__m256i *)dg[t][0],
                               _mm256_or_si256(_mm256_and_si256(wev, m15),
                                               _mm256_slli_epi64(_mm256_and_si256(wod, m15), 16)));
            _mm256_store_si256(
                (__m256i *)dg[t][1],
                _mm256_or_si256(
                    _mm256_and_si256(_mm256_srli_epi64(wev, 15), m15),
                    _mm256_slli_epi64(_mm256_and_si256(_mm256_srli_epi64(wod, 15), m15), 16)));
            _mm256_store_si256((__m256i *)dg[t][2],
                               _mm256_or_si256(_mm256_srli_epi64(wev, 30),
                                               _mm256_slli_epi64(_mm256_srli_epi64(wod, 30), 16)));
        }
        for (int p = 0; p < 4; p++) {
            if (((zero >> (2 * p)) & 3) == 3)
                continue;
            const int8_t *r0 = v8 + (size_t)(j + 2 * p) * stride, *r1 = r0 + stride;
#pragma GCC unroll 2
            for (int c = 0; c < dh; c += 16) {
                __m256i vlo, vhi = _mm256_setzero_si256();
                if (dh == 8) {
                    vlo = _mm256_cvtepi8_epi16(
                        _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)r0),
                                          _mm_loadl_epi64((const __m128i *)r1)));
                } else {
                    const __m128i x0 = _mm_loadu_si128((const __m128i *)(r0 + c));
                    const __m128i x1 = _mm_loadu_si128((const __m128i *)(r1 + c));
                    vlo = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(x0, x1));
                    vhi = _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(x0, x1));
                }
                const int b = c / 8;
#pragma GCC unroll 4
                for (int t = 0; t < NQ; t++)
#pragma GCC unroll 3
                    for (int k = 0; k < 3; k++) {
                        const __m256i bk = _mm256_set1_epi32(dg[t][k][2 * p]);
                        A[t][k][b] = LMZ_SFX(madd_acc)(A[t][k][b], vlo, bk);
                        if (dh > 8)
                            A[t][k][b + 1] = LMZ_SFX(madd_acc)(A[t][k][b + 1], vhi, bk);
                    }
            }
            if (++pairs == LMZ_PAIRS_FLUSH) {
                LMZ_SFX(mq_fold)(A, NQ, dh, acc);
                pairs = 0;
            }
        }
    }
    LMZ_SFX(mq_fold)(A, NQ, dh, acc);
    for (int t = 0; t < NQ; t++) {
        const int32_t *st = sc + (size_t)t * sc_stride;
        const int i = i0 + t;
        int64_t z = (int64_t)LMZ_SFX(hsum1)(zv[t]);
        for (int j = S; j <= i; j++) {
            const int64_t ej = lmz_expq(m[t] - st[j]);
            if (ej == 0)
                continue;
            z += ej;
            const int64_t w = ej * av[(size_t)j * a_stride];
            const int8_t *v = v8 + (size_t)j * stride;
            for (int c = 0; c < dh; c++)
                acc[t][c] += w * v[c];
        }
        const int64_t zd = z * 127;
        int32_t *o = out + (size_t)t * out_stride;
        for (int c = 0; c < dh; c++)
            o[c] = (int32_t)lmz_clamp64(lmz_div_round(acc[t][c], zd), -LMZ_ACT, LMZ_ACT);
    }
}

/* lmz_attend_rows's contract (lmz_cpu.h): groups of LMZ_MQ(dh) queries
 * share a sweep; the rest, and head sizes without a shared kernel, go one
 * by one through attend_row. */
static LMZ_TGT void LMZ_SFX(attend_rows)(const lmz_att_head *kv, const lmz_att_queries *q,
                                         const lmz_att_scratch *w)
{
    const int8_t *k8 = kv->k8, *v8 = kv->v8, *q8 = q->q8;
    const int32_t *ak = kv->ak, *av = kv->av, *aq = q->aq;
    const int row_stride = kv->row_stride, a_stride = kv->a_stride, dh = kv->dh, e_h = kv->e_h;
    const int q_stride = q->q_stride, aq_stride = q->aq_stride, i0 = q->i0, nq = q->nq;
    const int out_stride = q->out_stride, sc_stride = w->sc_stride;
    int32_t *out = q->out, *sc = w->sc;
    const int NQ = LMZ_MQ(dh);
    int t = 0;
    if (NQ > 1)
        for (; t + NQ <= nq; t += NQ) {
            const int8_t *qt = q8 + (size_t)t * q_stride;
            const int32_t *at = aq + (size_t)t * aq_stride;
            int32_t *ot = out + (size_t)t * out_stride;
            if (dh == 8)
                LMZ_SFX(attend_mq)(LMZ_MQ(8), qt, at, q_stride, aq_stride, k8, ak, v8, av,
                                   row_stride, a_stride, i0 + t, 8, e_h, sc, sc_stride, ot,
                                   out_stride);
            else if (dh == 16)
                LMZ_SFX(attend_mq)(LMZ_MQ(16), qt, at, q_stride, aq_stride, k8, ak, v8, av,
                                   row_stride, a_stride, i0 + t, 16, e_h, sc, sc_stride, ot,
                                   out_stride);
#if LMZ_VNNI
            else if (dh == 32)
                LMZ_SFX(attend_mq)(LMZ_MQ(32), qt, at, q_stride, aq_stride, k8, ak, v8, av,
                                   row_stride, a_stride, i0 + t, 32, e_h, sc, sc_stride, ot,
                                   out_stride);
#endif
        }
    for (; t < nq; t++)
        LMZ_SFX(attend_row)(kv, q8 + (size_t)t * q_stride, aq[(size_t)t * aq_stride], i0 + t, w,
                            out + (size_t)t * out_stride);
}

/* ---- row quantisation and the linear rescale ---- */

/* lmz_quant_row_ref. vpabsd of any int32 read as unsigned is the exact
 * |v| (even of INT32_MIN), so vpmaxud finds a exactly. q_i = round of
 * m_i * inv / 2^32 with m_i = |v_i| <= a < 2^32 and inv = (127 << 32) / a
 * < 2^39: split inv = hi * 2^32 + lo, m * inv = m * lo + (m * hi) << 32,
 * both vpmuludq products exact, and the sum <= 127 * 2^32 (m <= a) fits
 * 64 bits, so (sum + 2^31) >> 32 is the reference's r in the lane's low
 * 32 bits; vpsignd restores the sign (r = 0 when v = 0). */
static LMZ_TGT int32_t LMZ_SFX(quant_row)(const int32_t *v, int n, int8_t *q)
{
    const int n8 = n & ~7;
    __m256i mx = _mm256_setzero_si256();
    for (int i = 0; i < n8; i += 8)
        mx = _mm256_max_epu32(mx, _mm256_abs_epi32(_mm256_loadu_si256((const __m256i *)(v + i))));
    _Alignas(32) uint32_t mxs[8];
    _mm256_store_si256((__m256i *)mxs, mx);
    uint64_t a = 0;
    for (int t = 0; t < 8; t++)
        if (mxs[t] > a)
            a = mxs[t];
    for (int i = n8; i < n; i++) {
        const uint64_t m = (uint64_t)(v[i] < 0 ? -(int64_t)v[i] : v[i]);
        if (m > a)
            a = m;
    }
    if (a == 0)
        a = 1;
    const uint64_t inv = (UINT64_C(127) << 32) / a;
    const __m256i lo = _mm256_set1_epi64x((int64_t)(inv & 0xffffffffu));
    const __m256i hi = _mm256_set1_epi64x((int64_t)(inv >> 32));
    const __m256i half = _mm256_set1_epi64x(INT64_C(1) << 31);
    for (int i = 0; i < n8; i += 8) {
        const __m256i x = _mm256_loadu_si256((const __m256i *)(v + i));
        const __m256i me = _mm256_abs_epi32(x), mo = _mm256_srli_epi64(me, 32);
        const __m256i pe = _mm256_add_epi64(
            _mm256_add_epi64(_mm256_mul_epu32(me, lo), _mm256_slli_epi64(_mm256_mul_epu32(me, hi), 32)),
            half);
        const __m256i po = _mm256_add_epi64(
            _mm256_add_epi64(_mm256_mul_epu32(mo, lo), _mm256_slli_epi64(_mm256_mul_epu32(mo, hi), 32)),
            half);
        const __m256i r = _mm256_blend_epi32(_mm256_srli_epi64(pe, 32), po, 0xaa);
        const __m256i sr = _mm256_sign_epi32(r, x); /* |r| <= 127 */
        const __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(sr), _mm256_extracti128_si256(sr, 1));
        _mm_storel_epi64((__m128i *)(q + i), _mm_packs_epi16(w16, w16));
    }
    for (int i = n8; i < n; i++) {
        const uint64_t m = (uint64_t)(v[i] < 0 ? -(int64_t)v[i] : v[i]);
        const int32_t r = (int32_t)((m * inv + (UINT64_C(1) << 31)) >> 32);
        q[i] = (int8_t)(v[i] < 0 ? -r : r);
    }
    return (int32_t)a;
}

/* Arithmetic right shift of int64 lanes by per-lane counts in [1, 62]:
 * AVX-512VL has it; on AVX2, x >> s = ~(~x >>> s) for x < 0 (the logical
 * shift of the non-negative ~x), i.e. ((x ^ sg) >>> s) ^ sg, sg = x < 0. */
static LMZ_TGT inline __m256i LMZ_SFX(srav64)(__m256i x, __m256i s)
{
#if LMZ_VNNI
    return _mm256_srav_epi64(x, s);
#else
    const __m256i sg = _mm256_cmpgt_epi64(_mm256_setzero_si256(), x);
    return _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(x, sg), s), sg);
#endif
}

/* lmz_rescale_ref, four outputs per vector in int64 lanes. p = acc * a is
 * vpmuldq's exact product (|acc| < 2^26, a <= 2^18, both int32). p * mult
 * (mult in [2^14, 2^15)) with p = ph * 2^32 + pl (ph signed, pl unsigned):
 * pl * mult (vpmuludq) + (ph * mult (vpmuldq)) << 32, exact modulo 2^64 and
 * so exact, as |p * mult| < 2^59. Then + 2^(shift-1), the arithmetic shift,
 * + bias, the clamp (and the residual's add) all in int64 as the
 * reference; each result fits int32 and sits in its lane's low half. */
static LMZ_TGT void LMZ_SFX(rescale)(const int32_t *acc, int n, int32_t a, const int32_t *mult,
                                     const int32_t *shift, const int32_t *bias, int64_t lim,
                                     int residual, int32_t *y)
{
    const int n4 = n & ~3;
    const __m256i av = _mm256_set1_epi64x(a), one = _mm256_set1_epi64x(1);
    const __m256i hiv = _mm256_set1_epi64x(residual ? LMZ_RES : lim);
    const __m256i lov = _mm256_set1_epi64x(residual ? -LMZ_RES : -lim);
    const __m256i low32 = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
    for (int t = 0; t < n4; t += 4) {
        const __m256i p = _mm256_mul_epi32(
            _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)(acc + t))), av);
        const __m256i mu = _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)(mult + t)));
        const __m256i sh = _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)(shift + t)));
        const __m256i pm = _mm256_add_epi64(
            _mm256_mul_epu32(p, mu), _mm256_slli_epi64(_mm256_mul_epi32(_mm256_srli_epi64(p, 32), mu), 32));
        const __m256i rnd = _mm256_sllv_epi64(one, _mm256_sub_epi64(sh, one));
        __m256i v = _mm256_add_epi64(LMZ_SFX(srav64)(_mm256_add_epi64(pm, rnd), sh),
                                     _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)(bias + t))));
        if (residual)
            v = _mm256_add_epi64(v, _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)(y + t))));
        v = LMZ_SFX(min64)(LMZ_SFX(max64)(v, lov), hiv);
        _mm_storeu_si128((__m128i *)(y + t),
                         _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(v, low32)));
    }
    if (n4 < n)
        lmz_rescale_ref(acc + n4, n - n4, a, mult + n4, shift + n4, bias + n4, lim, residual,
                        y + n4);
}
