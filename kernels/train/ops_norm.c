/* ops_norm.c: LayerNorm forward and backward (eps as the integer path). */
#include <math.h>

#include "tr_internal.h"
#include "tr_math.h"

TR_HOT void tr_ln_fwd(float *out, float *mean, float *rstd, const float *x, const float *g,
                      const float *b, int N, int d)
{
    for (int n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * d;
        float *o = out + (size_t)n * d;
        float s = 0.0f;
#pragma omp simd reduction(+ : s)
        for (int i = 0; i < d; i++)
            s += xr[i];
        const float m = s / (float)d;
        float v = 0.0f;
#pragma omp simd reduction(+ : v)
        for (int i = 0; i < d; i++)
            v += (xr[i] - m) * (xr[i] - m);
        const float r = 1.0f / sqrtf(v / (float)d + TR_LN_EPS);
        for (int i = 0; i < d; i++)
            o[i] = (xr[i] - m) * r * g[i] + b[i];
        mean[n] = m;
        rstd[n] = r;
    }
}

/* With xhat = (x - mean) rstd and dxhat = dout * g:
 * dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)). */
TR_HOT void tr_ln_bwd(float *dx, float *dg, float *db, const float *dout, const float *x,
                      const float *mean, const float *rstd, const float *g, int N, int d)
{
    for (int n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * d, *dy = dout + (size_t)n * d;
        float *dxr = dx + (size_t)n * d;
        const float m = mean[n], r = rstd[n];
        float s1 = 0.0f, s2 = 0.0f;
#pragma omp simd reduction(+ : s1, s2)
        for (int i = 0; i < d; i++) {
            const float xh = (xr[i] - m) * r, dxh = dy[i] * g[i];
            s1 += dxh;
            s2 += dxh * xh;
        }
        s1 /= (float)d;
        s2 /= (float)d;
        for (int i = 0; i < d; i++) {
            const float xh = (xr[i] - m) * r, dxh = dy[i] * g[i];
            dg[i] += dy[i] * xh;
            db[i] += dy[i];
            dxr[i] += (dxh - s1 - xh * s2) * r;
        }
    }
}
