/* fakequant.c: the integer path's roundings, in float, for
 * quantization-aware training: per-row int8 with a max-abs scale, for
 * activations (one token's row, or one head's slice) and weights (one
 * output row). Gradients pass straight through (the caller does nothing in
 * backward), the usual straight-through estimator. */
#include <math.h>
#include <string.h>

#include "tr_internal.h"
#include "tr_math.h"

/* Round to nearest for |v| <= 2^22 by the 1.5 * 2^23 trick (vectorizes). */
static inline float round_small(float v)
{
    const float magic = 12582912.0f;
    return (v + magic) - magic;
}

TR_HOT static void fq_row(float *x, int n)
{
    float a = 0.0f;
#pragma omp simd reduction(max : a)
    for (int i = 0; i < n; i++) {
        const float m = fabsf(x[i]);
        a = m > a ? m : a;
    }
    if (a == 0.0f)
        return;
    const float inv = 127.0f / a, step = a / 127.0f;
    for (int i = 0; i < n; i++)
        x[i] = round_small(x[i] * inv) * step;
}

void tr_fq_rows(float *x, int N, int n, int stride)
{
    for (int r = 0; r < N; r++)
        fq_row(x + (size_t)r * stride, n);
}

void tr_fq_params(const lmz_config *cfg, const float *src, float *dst)
{
    lmz_ftensor t[8 + 12 * LMZ_MAX_LAYERS];
    const int n = lmz_fmodel_tensors(cfg, t, (int)(sizeof t / sizeof t[0]));
    memcpy(dst, src, lmz_fmodel_param_count(cfg) * sizeof *dst);
    for (int i = 0; i < n; i++)
        if (t[i].kind == LMZ_FT_MATRIX)
            tr_fq_rows(dst + t[i].offset, t[i].rows, t[i].cols, t[i].cols);
}
