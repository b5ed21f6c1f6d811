/* adamw.c: AdamW with decoupled weight decay on the linear layers' matrices,
 * and carrying the optimizer state through LayerNorm folding. */
#include <math.h>
#include <string.h>

#include "tr_math.h"
#include "tr_trainer.h"

TR_HOT static void adamw_range(float *restrict p, float *restrict m, float *restrict v,
                               const float *restrict g, const uint8_t *restrict kind, size_t n,
                               float lr, float clip, float b1, float b2, float eps, float wd,
                               float bc1, float bc2, int frozen_norms)
{
    for (size_t i = 0; i < n; i++) {
        const int k = kind[i];
        const float gi = (frozen_norms && k == LMZ_FT_NORM) ? 0.0f : g[i] * clip;
        const float mi = b1 * m[i] + (1.0f - b1) * gi;
        const float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        const float decay = k == LMZ_FT_MATRIX ? wd * p[i] : 0.0f;
        p[i] -= lr * ((mi / bc1) / (sqrtf(vi / bc2) + eps) + decay);
    }
}

void tr_adamw(lmz_trainer *t, const float *g, size_t lo, size_t hi, float lr, float clip,
              int64_t step)
{
    const lmz_train_opts *o = &t->o;
    const float bc1 = 1.0f - powf(o->beta1, (float)step);
    const float bc2 = 1.0f - powf(o->beta2, (float)step);
    adamw_range(t->fm->params + lo, t->m + lo, t->v + lo, g + lo, t->kind + lo, hi - lo, lr, clip,
                o->beta1, o->beta2, o->adam_eps, o->weight_decay, bc1, bc2, t->fm->folded);
}

/* W' = W diag(g) has gradient dW' = dW / g column-wise: scale the moments
 * so Adam's next steps continue where they were. */
static void scale_moments(float *m, float *v, int rows, int cols, const float *g)
{
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            const float s = g[c] != 0.0f ? 1.0f / g[c] : 1.0f;
            m[(size_t)r * cols + c] *= s;
            v[(size_t)r * cols + c] *= s * s;
        }
}

void tr_trainer_fold(lmz_trainer *t)
{
    if (t->fm->folded)
        return;
    const lmz_config *c = &t->fm->cfg;
    const int d = c->d_model, F = c->d_ff;
    tr_params P, M, V;
    tr_params_view(c, t->fm->params, &P);
    tr_params_view(c, t->m, &M);
    tr_params_view(c, t->v, &V);
    for (int l = 0; l < c->n_layers; l++) {
        scale_moments(M.layer[l].qkv_w, V.layer[l].qkv_w, 3 * d, d, P.layer[l].ln1_g);
        scale_moments(M.layer[l].ff1_w, V.layer[l].ff1_w, F, d, P.layer[l].ln2_g);
    }
    scale_moments(M.head_w, V.head_w, 256, d, P.lnf_g);
    lmz_fmodel_fold_ln(t->fm);
    /* The LayerNorms are frozen from now on: no moments, no updates. */
    for (size_t i = 0; i < t->fm->nparams; i++)
        if (t->kind[i] == LMZ_FT_NORM)
            t->m[i] = t->v[i] = 0.0f;
}
