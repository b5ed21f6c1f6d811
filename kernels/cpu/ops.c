/* ops.c: vector operations of docs/inference.md (scalar reference). */
#include "lmz_cpu.h"
#include "lmz_ops.h"
#include "lmz_simd.h"

void lmz_layer_norm(const int32_t *x, int d, int32_t *z)
{
    int64_t sum = 0;
    for (int c = 0; c < d; c++)
        sum += x[c];
    const int64_t mean = lmz_div_round(sum, d);
    /* |x| <= RES = 2^24 and |mean| <= 2^24, so |c_i| <= 2^25, c_i^2 <= 2^50
     * and the sum over d <= 1024 values is <= 2^60 < 2^62. */
    uint64_t sq = 0;
    for (int c = 0; c < d; c++) {
        const int64_t ci = x[c] - mean;
        sq += (uint64_t)(ci * ci);
    }
    const uint64_t var = sq / (uint64_t)d;
    /* var + 128 >= 128, so std >= isqrt(128) = 11 and inv < 2^40 / 11. */
    const int64_t std = (int64_t)lmz_isqrt64(var + 128);
    const int64_t inv = (INT64_C(1) << 40) / std;
    /* |c_i| * inv < 2^25 * 2^36.6 < 2^62. */
    for (int c = 0; c < d; c++)
        z[c] = (int32_t)lmz_rshift_round((x[c] - mean) * inv, 28);
}

int32_t lmz_quant_row(const int32_t *v, int n, int8_t *q)
{
    return lmz_kern()->quant_row(v, n, q);
}

int32_t lmz_quant_row_ref(const int32_t *v, int n, int8_t *q)
{
    int64_t a = 0;
    for (int i = 0; i < n; i++) {
        const int64_t m = v[i] < 0 ? -(int64_t)v[i] : v[i];
        if (m > a)
            a = m;
    }
    if (a == 0)
        a = 1;
    const uint64_t inv = (UINT64_C(127) << 32) / (uint64_t)a;
    /* |v_i| <= a, so |v_i| * inv <= 127 * 2^32 and |q_i| <= 127. */
    for (int i = 0; i < n; i++) {
        const uint64_t m = (uint64_t)(v[i] < 0 ? -(int64_t)v[i] : v[i]);
        const int32_t r = (int32_t)((m * inv + (UINT64_C(1) << 31)) >> 32);
        q[i] = (int8_t)(v[i] < 0 ? -r : r);
    }
    return (int32_t)a;
}

/* The linear layers' rescale of docs/inference.md: y_t before any clamp
 * from acc_t = w . q (|acc| <= 127^2 * 4096 < 2^26 in int32): p = acc * a
 * (< 2^44), p * mult < 2^59, plus |bias| <= 2^24. */

void lmz_rescale_ref(const int32_t *acc, int n, int32_t a, const int32_t *mult,
                     const int32_t *shift, const int32_t *bias, int64_t lim, int residual,
                     int32_t *y)
{
    for (int t = 0; t < n; t++) {
        const int64_t p = (int64_t)acc[t] * a;
        const int64_t v = lmz_rshift_round(p * mult[t], shift[t]) + bias[t];
        y[t] = residual ? (int32_t)lmz_clamp64((int64_t)y[t] + v, -LMZ_RES, LMZ_RES)
                        : (int32_t)lmz_clamp64(v, -lim, lim);
    }
}

/* The dot products and the rescale come from the SIMD path's kernels
 * (lmz_simd.h), in tiles of LIN_TILE outputs (the sums of a tile for all
 * rows stay in L1 between the two). */
#define LIN_TILE 256

void lmz_linear_many(const lmz_linear *L, int nr, const int8_t *q, size_t q_stride,
                     const int32_t *a, int64_t lim, int residual, int32_t *y, size_t y_stride)
{
    const lmz_cpu_kern *k = lmz_kern();
    int32_t acc[LMZ_KV_MANY * LIN_TILE];
    for (int r0 = 0; r0 < nr; r0 += LMZ_KV_MANY) {
        const int nb = nr - r0 < LMZ_KV_MANY ? nr - r0 : LMZ_KV_MANY;
        const int8_t *qb = q + (size_t)r0 * q_stride;
        int32_t *yb = y + (size_t)r0 * y_stride;
        for (int o0 = 0; o0 < L->out; o0 += LIN_TILE) {
            const int n = L->out - o0 < LIN_TILE ? L->out - o0 : LIN_TILE;
            k->dots_many(L->w + (size_t)o0 * (size_t)L->in, n, L->in, qb, q_stride, nb, acc,
                         LIN_TILE);
            for (int r = 0; r < nb; r++)
                k->rescale(acc + (size_t)r * LIN_TILE, n, a[r0 + r], L->mult + o0,
                           L->shift + o0, L->bias + o0, lim, residual,
                           yb + (size_t)r * y_stride + o0);
        }
    }
}

void lmz_linear_clamp(const lmz_linear *L, const int8_t *q, int32_t a, int64_t lim, int32_t *y)
{
    lmz_linear_many(L, 1, q, 0, &a, lim, 0, y, 0);
}

void lmz_linear_residual(const lmz_linear *L, const int8_t *q, int32_t a, int32_t *x)
{
    lmz_linear_many(L, 1, q, 0, &a, LMZ_RES, 1, x, 0);
}

int lmz_freq_weights(const int32_t logits[256], uint32_t e[256], uint64_t *z)
{
    int best = 0; /* the smallest s with the maximal logit */
    for (int s = 1; s < 256; s++)
        if (logits[s] > logits[best])
            best = s;
    const int64_t m = logits[best];
    *z = 0;
    for (int s = 0; s < 256; s++) {
        e[s] = lmz_expq(m - logits[s]);
        *z += e[s];
    }
    return best;
}

void lmz_freq_table(const int32_t logits[256], uint16_t freq[256])
{
    uint32_t e[256];
    uint64_t z;
    const int best = lmz_freq_weights(logits, e, &z);
    /* e[best] = 65536, so 65536 <= Z <= 256 * 65536 = 2^24. Each f_s <=
     * 1 + 65280 * e_s / Z, and the f_s sum to at most 256 + 65280. */
    uint32_t total = 0;
    for (int s = 0; s < 256; s++) {
        const uint32_t f = 1 + (uint32_t)((uint64_t)e[s] * 65280 / z);
        freq[s] = (uint16_t)f;
        total += f;
    }
    /* R = 65536 - total is in [0, 256): the other 255 symbols keep >= 1,
     * so freq[best] + R <= 65281 still fits 16 bits. */
    freq[best] = (uint16_t)(freq[best] + (65536 - total));
}
