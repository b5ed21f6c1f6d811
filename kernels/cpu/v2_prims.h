/* v2_prims.h: the scalar integer steps of arithmetic version 2
 * (docs/inference.md, "Arithmetic version 2"), shared by the CPU reference
 * (v2_ops.c) and the CUDA kernels (kernels/cuda/cuda_v2_*.cu): one
 * definition of each step, compiled for host and device (LMZ_HD), so the
 * two cannot drift apart. No table lookups here (EXP8 is passed in).
 * Private to kernels/. */
#ifndef LMZ_V2_PRIMS_H
#define LMZ_V2_PRIMS_H

#include <stdint.h>

#include "lmz_ops.h" /* LMZ_HD, LMZ_ACT, lmz_rshift_round, lmz_clamp64 */

/* Scores are Q8 (1/256 nat); bound before the ALiBi bias. */
#define LMZ_V2_SCORE_LIM (1 << 24)
/* The attention's reciprocal: R = floor(2^40 / Z). */
#define LMZ_V2_RECIP_BITS 40

/* sign(v) * floor((|v| + 2^(e-1)) / 2^e) for e >= 1, v itself for e = 0:
 * |v| / 2^e rounded half away from zero. |v| <= ACT = 2^18 here, so every
 * intermediate fits int32. */
static inline LMZ_HD int32_t lmz_v2_shift_round(int32_t v, int e)
{
    if (e == 0)
        return v;
    const int32_t m = v < 0 ? -v : v;
    const int32_t r = (m + (1 << (e - 1))) >> e;
    return v < 0 ? -r : r;
}

/* K and V: clamp(shift_round(v, e), -127, 127) with the model's static e. */
static inline LMZ_HD int8_t lmz_v2_quant_kv(int32_t v, int e)
{
    const int32_t r = lmz_v2_shift_round(v, e);
    return (int8_t)(r > 127 ? 127 : (r < -127 ? -127 : r));
}

/* Q's exponent: the smallest e >= 0 with shift_round(amax, e) <= 127
 * (amax <= 2^18: e = 12 gives 64, so e <= 12). */
static inline LMZ_HD int lmz_v2_q_exp(int32_t amax)
{
    int e = 0;
    while (lmz_v2_shift_round(amax, e) > 127)
        e++;
    return e;
}

/* The score of query i against key j (Q8) from s = q8 . k8 (|s| < 2^22):
 * t = 16 - eq_i - ks (the query's shift), ab = 8 - e_h (the ALiBi bias
 * per position). A right shift rounded half up for t > 0, a left shift by
 * -t <= 8 otherwise (< 2^30); clamped to +-2^24; minus (i - j) << ab. */
static inline LMZ_HD int32_t lmz_v2_score(int32_t s, int t, int ab, int i, int j)
{
    int32_t v = t > 0 ? (s + (1 << (t - 1))) >> t : s * (1 << -t);
    v = v < -LMZ_V2_SCORE_LIM ? -LMZ_V2_SCORE_LIM : (v > LMZ_V2_SCORE_LIM ? LMZ_V2_SCORE_LIM : v);
    return v - ((i - j) << ab);
}

/* EXP8[x] for x < n (the table's length), 0 beyond: the weight of a score
 * x >= 0 below the row's maximum. */
static inline LMZ_HD int32_t lmz_v2_exp8_in(const uint8_t *tab, int n, int32_t x)
{
    return x < n ? (int32_t)tab[x] : 0;
}

/* R = floor(2^40 / Z), Z >= 255 (the maximal key has P = 255): R < 2^32. */
static inline LMZ_HD int64_t lmz_v2_recip(int32_t z)
{
    return (INT64_C(1) << LMZ_V2_RECIP_BITS) / z;
}

/* o_c = clamp(rshift_round(acc_c * R, 40 - vs), -ACT, ACT): acc_c * 2^vs / Z
 * in Q12; |acc_c * R| < 2^28 * 2^32 = 2^60. */
static inline LMZ_HD int32_t lmz_v2_out(int32_t acc, int64_t r, int vs)
{
    return (int32_t)lmz_clamp64(lmz_rshift_round((int64_t)acc * r, LMZ_V2_RECIP_BITS - vs),
                                -LMZ_ACT, LMZ_ACT);
}

/* The table's reciprocal: R = floor(65280 * 2^32 / Z), 65536 <= Z <= 2^24,
 * so R <= 65280 * 2^16 < 2^32. */
static inline LMZ_HD uint64_t lmz_v2_table_recip(uint64_t z)
{
    return (UINT64_C(65280) << 32) / z;
}

/* f_s = 1 + floor(e_s * R / 2^32) (e_s * R <= 2^48), before the remainder
 * goes to the most probable symbol. */
static inline LMZ_HD uint32_t lmz_v2_table_f(uint32_t e, uint64_t r)
{
    return 1 + (uint32_t)(((uint64_t)e * r) >> 32);
}

#endif
