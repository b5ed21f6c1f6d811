/* v2_ops.c: the vector operations of arithmetic version 2 (scalar
 * reference; docs/inference.md, "Arithmetic version 2"). */
#include "v2_ops.h"

#include "lmz_ops.h"

int lmz_v2_quant_pow2(const int32_t *v, int n, int8_t *q)
{
    int32_t a = 0;
    for (int i = 0; i < n; i++) {
        const int32_t m = v[i] < 0 ? -v[i] : v[i];
        if (m > a)
            a = m;
    }
    /* a <= 2^18: e = 12 gives (2^18 + 2^11) >> 12 = 64, so e <= 12. */
    const int e = lmz_v2_q_exp(a);
    for (int i = 0; i < n; i++)
        q[i] = (int8_t)lmz_v2_shift_round(v[i], e);
    return e;
}

/* A record of one accumulator: its int64 shadow's magnitude. */
static void watch(int64_t *max, int64_t *mismatches, int32_t acc32, int64_t acc64)
{
    const int64_t m = acc64 < 0 ? -acc64 : acc64;
    if (m > *max)
        *max = m;
    if ((int64_t)acc32 != acc64)
        ++*mismatches;
}

void lmz_v2_attend_row(const int8_t *q8, int eq, const int8_t *k8, const int8_t *v8,
                       int row_stride, int i, int dh, int ks, int vs, int e_h, int32_t *sc,
                       int32_t *out, lmz_v2_bounds *b)
{
    /* Pass 1: scores. s = q8 . k8, |s| <= 127^2 * dh <= 127^2 * 256 < 2^22
     * (int32; as u8 x s8 with q8 + 128: <= 255 * 127 * 256 < 2^23). The
     * score in Q8 is s * 2^(eq + ks - 16): a right shift t = 16 - eq - ks
     * (rounded half up), or a left shift by -t <= 8 (eq, ks <= 12): < 2^30.
     * Clamped to +-2^24, minus the ALiBi bias (i - j) << (8 - e_h) < 2^20. */
    const int t = 16 - eq - ks;
    const int ab = 8 - e_h; /* e_h in [1, 8] */
    int32_t m = INT32_MIN;
    for (int j = 0; j <= i; j++) {
        const int8_t *k = k8 + (size_t)j * (size_t)row_stride;
        int32_t s = 0;
        for (int c = 0; c < dh; c++)
            s += (int32_t)q8[c] * (int32_t)k[c];
        if (b) {
            int64_t s64 = 0;
            for (int c = 0; c < dh; c++)
                s64 += (int64_t)q8[c] * (int64_t)k[c];
            watch(&b->qk, &b->mismatches, s, s64);
        }
        const int32_t v = lmz_v2_score(s, t, ab, i, j);
        sc[j] = v;
        if (v > m)
            m = v;
    }

    /* Pass 2: weights P_j = EXP8[m - sc_j] (uint8; m - sc_j < 2^26),
     * Z = sum P_j in [255, 255 * 8192 < 2^21], acc_c = sum P_j v8_j[c] with
     * |acc_c| <= 255 * 127 * 8192 < 2^28 (int32; a u8 x s8 product). */
    int32_t acc[LMZ_MAX_HEAD_DIM];
    for (int c = 0; c < dh; c++)
        acc[c] = 0;
    int32_t z = 0;
    for (int j = 0; j <= i; j++) {
        const int32_t p = lmz_v2_exp8(m - sc[j]);
        if (p == 0) /* adds nothing: skipping it is exact */
            continue;
        z += p;
        const int8_t *v = v8 + (size_t)j * (size_t)row_stride;
        for (int c = 0; c < dh; c++)
            acc[c] += p * (int32_t)v[c];
    }
    if (b) {
        for (int c = 0; c < dh; c++) {
            int64_t a64 = 0;
            for (int j = 0; j <= i; j++)
                a64 += (int64_t)lmz_v2_exp8(m - sc[j]) * v8[(size_t)j * (size_t)row_stride + c];
            watch(&b->pv, &b->mismatches, acc[c], a64);
        }
        watch(&b->z, &b->mismatches, z, z);
    }
    /* One reciprocal per row: R = floor(2^40 / Z) < 2^32 (Z >= 255: the
     * maximal key has P = 255). o_c = acc_c * 2^vs / Z in Q12, as
     * rshift_round(acc_c * R, 40 - vs): |acc_c * R| < 2^28 * 2^32 = 2^60. */
    const int64_t r = lmz_v2_recip(z);
    for (int c = 0; c < dh; c++)
        out[c] = lmz_v2_out(acc[c], r, vs);
}

void lmz_v2_linear(const lmz_linear *L, const int8_t *q, int32_t a, int64_t lim, int residual,
                   int32_t *y, lmz_v2_bounds *b)
{
    /* |sum| <= 127 * 127 * 4096 < 2^26 (s8 x s8), or with q + 128 as u8
     * (VNNI): 255 * 127 * 4096 < 2^27. */
    int32_t acc[256];
    for (int o0 = 0; o0 < L->out; o0 += 256) {
        const int n = L->out - o0 < 256 ? L->out - o0 : 256;
        for (int t = 0; t < n; t++) {
            const int8_t *w = L->w + (size_t)(o0 + t) * (size_t)L->in;
            int32_t s = 0;
            for (int i = 0; i < L->in; i++)
                s += (int32_t)w[i] * (int32_t)q[i];
            acc[t] = s;
            if (b) {
                int64_t s64 = 0;
                for (int i = 0; i < L->in; i++)
                    s64 += (int64_t)w[i] * (int64_t)q[i];
                watch(&b->lin, &b->mismatches, s, s64);
            }
        }
        lmz_rescale_ref(acc, n, a, L->mult + o0, L->shift + o0, L->bias + o0, lim, residual,
                        y + o0);
    }
}

void lmz_v2_freq_table(const int32_t logits[256], uint16_t freq[256])
{
    uint32_t e[256];
    uint64_t z;
    const int best = lmz_freq_weights(logits, e, &z);
    /* 65536 <= Z <= 2^24, so R = floor(65280 * 2^32 / Z) <= 65280 * 2^16
     * < 2^32 and e_s * R <= 2^16 * 2^32 = 2^48. Each f_s - 1 <= 65280 e_s / Z,
     * so the f_s sum to at most 256 + 65280 = 65536. */
    const uint64_t r = lmz_v2_table_recip(z);
    uint32_t total = 0;
    for (int s = 0; s < 256; s++) {
        const uint32_t f = lmz_v2_table_f(e[s], r);
        freq[s] = (uint16_t)f;
        total += f;
    }
    /* The 255 others keep >= 1: freq[best] + (65536 - total) <= 65281. */
    freq[best] = (uint16_t)(freq[best] + (65536 - total));
}
