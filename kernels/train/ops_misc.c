/* ops_misc.c: embedding, GELU, residual add and the softmax cross-entropy. */
#include <math.h>
#include <string.h>

#include "tr_internal.h"
#include "tr_math.h"

void tr_embed_fwd(float *out, const uint8_t *inp, const float *wte, int N, int d)
{
    for (int n = 0; n < N; n++)
        memcpy(out + (size_t)n * d, wte + (size_t)inp[n] * d, (size_t)d * sizeof *out);
}

void tr_embed_bwd(float *dwte, const float *dout, const uint8_t *inp, int N, int d)
{
    for (int n = 0; n < N; n++) {
        float *row = dwte + (size_t)inp[n] * d;
        const float *g = dout + (size_t)n * d;
        for (int i = 0; i < d; i++)
            row[i] += g[i];
    }
}

TR_HOT void tr_gelu_fwd(float *out, const float *inp, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = tr_gelu(inp[i]);
}

TR_HOT void tr_gelu_bwd(float *dinp, const float *dout, const float *inp, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dinp[i] = dout[i] * tr_gelu_grad(inp[i]);
}

TR_HOT void tr_add(float *out, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] + b[i];
}

TR_HOT double tr_xent(float *logits, const uint8_t *tgt, int N, float dscale)
{
    double loss = 0.0;
    for (int n = 0; n < N; n++) {
        float *l = logits + (size_t)n * 256;
        float m = l[0];
#pragma omp simd reduction(max : m)
        for (int s = 0; s < 256; s++)
            m = l[s] > m ? l[s] : m;
        float z = 0.0f;
        float e[256];
#pragma omp simd reduction(+ : z)
        for (int s = 0; s < 256; s++) {
            e[s] = tr_exp(l[s] - m);
            z += e[s];
        }
        loss += (double)logf(z) + (double)m - (double)l[tgt[n]];
        if (dscale != 0.0f) {
            const float k = dscale / z;
            for (int s = 0; s < 256; s++)
                l[s] = e[s] * k;
            l[tgt[n]] -= dscale;
        }
    }
    return loss;
}
