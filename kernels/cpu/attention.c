/* attention.c: one query row of one head over its causal prefix, the single
 * definition both the full pass and the incremental step use. */
#include "lmz_cpu.h"
#include "lmz_ops.h"

int lmz_alibi_exp(int h, int n_heads)
{
    return (8 * (h + 1) + n_heads - 1) / n_heads;
}

void lmz_attend_rows(const lmz_att_head *kv, const lmz_att_queries *q, const lmz_att_scratch *w)
{
    /* the reference takes one query at a time in row 0 of w->sc */
    for (int t = 0; t < q->nq; t++)
        lmz_attend_row(kv, q->q8 + (size_t)t * q->q_stride, q->aq[(size_t)t * q->aq_stride],
                       q->i0 + t, w, q->out + (size_t)t * q->out_stride);
}

void lmz_attend_row(const lmz_att_head *kv, const int8_t *q8, int32_t aq, int i,
                    const lmz_att_scratch *w, int32_t *out)
{
    const int8_t *k8 = kv->k8, *v8 = kv->v8;
    const int32_t *ak = kv->ak, *av = kv->av;
    const int row_stride = kv->row_stride, a_stride = kv->a_stride, dh = kv->dh, e_h = kv->e_h;
    int32_t *sc = w->sc;
    int64_t *acc = w->acc;
    /* aq <= ACT = 2^18, so aq * 2^20 < 2^39 and g < 2^25. */
    const int64_t g = lmz_div_round((int64_t)aq << 20, 16129);
    const int64_t score_lim = INT64_C(1) << 24;

    /* Pass 1: scores and their maximum. |s| <= 127^2 * 256 < 2^22;
     * s * ak < 2^40; after >> 12, times g < 2^25: < 2^53. */
    int64_t m = INT64_MIN;
    for (int j = 0; j <= i; j++) {
        const int8_t *k = k8 + (size_t)j * (size_t)row_stride;
        int32_t s = 0;
        for (int c = 0; c < dh; c++)
            s += (int32_t)q8[c] * (int32_t)k[c];
        int64_t v = lmz_rshift_round(lmz_rshift_round((int64_t)s * ak[(size_t)j * a_stride], 12) * g, 20);
        /* (i - j) < ctx <= 2^13, so ((i - j) << 12) < 2^25. */
        v = lmz_clamp64(v, -score_lim, score_lim) - (((int64_t)(i - j) << 12) >> e_h);
        sc[j] = (int32_t)v; /* |v| <= 2^24 + 2^25 */
        if (v > m)
            m = v;
    }

    /* Pass 2: weights e_j = expq(m - sc_j) <= 65536 and the weighted sum of
     * values. e_j * av_j <= 2^16 * 2^18 = 2^34, times |v8| <= 127 is < 2^41,
     * over <= 2^13 positions < 2^54. Z <= 2^13 * 2^16 = 2^29. A zero weight
     * adds nothing, so skipping it is exact. */
    for (int c = 0; c < dh; c++)
        acc[c] = 0;
    int64_t z = 0;
    for (int j = 0; j <= i; j++) {
        const int64_t e = lmz_expq(m - sc[j]);
        if (e == 0)
            continue;
        z += e;
        const int64_t w = e * av[(size_t)j * a_stride];
        const int8_t *v = v8 + (size_t)j * (size_t)row_stride;
        for (int c = 0; c < dh; c++)
            acc[c] += w * v[c];
    }
    /* The maximal position has e = 65536, so Z >= 65536 > 0. */
    const int64_t zd = z * 127;
    for (int c = 0; c < dh; c++)
        out[c] = (int32_t)lmz_clamp64(lmz_div_round(acc[c], zd), -LMZ_ACT, LMZ_ACT);
}
