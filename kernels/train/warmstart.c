/* warmstart.c: the float model of an integer model, so that training can
 * start from a shipped model instead of a random one (lmz compress --fit
 * fine-tunes the kind's default model on the user's data).
 *
 * lmz_quantize folds every LayerNorm into the linear layer it feeds and
 * rounds each row to int8 with a scale mult * 2^-shift; this is its inverse
 * up to that rounding: the result is a folded float model (gains 1, biases
 * 0) whose integer quantization is close to the original. */
#include <math.h>
#include <string.h>

#include "tr_trainer.h"

/* The real factor a (mult, shift) pair stands for. */
static double scale_of(int32_t mult, int32_t shift)
{
    return ldexp((double)mult, -shift);
}

/* Row o of L back to float: w * wscale with wscale = 127 * mult 2^-shift
 * (quant_linear's wscale / 127 = mult 2^-shift), bias / 4096; rows
 * o < nscaled were multiplied by row_scale before rounding. */
static void dequant_linear(const lmz_linear *L, float *W, float *b, double row_scale, int nscaled)
{
    for (int o = 0; o < L->out; o++) {
        const double s = o < nscaled ? row_scale : 1.0;
        const double ws = 127.0 * scale_of(L->mult[o], L->shift[o]) / s;
        const int8_t *w = L->w + (size_t)o * L->in;
        for (int i = 0; i < L->in; i++)
            W[(size_t)o * L->in + i] = (float)(w[i] * ws);
        b[o] = (float)(L->bias[o] / 4096.0 / s);
    }
}

lmz_status lmz_fmodel_from_model(const lmz_model *m, lmz_fmodel **out, lmz_err *err)
{
    const lmz_config *c = &m->cfg;
    lmz_fmodel *fm = lmz_fmodel_create(c);
    if (!fm)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "dequantize: out of memory");
    /* Start from the initialiser's LayerNorm gains (1) and biases (0). */
    lmz_fmodel_init(fm, 1);
    tr_params P;
    tr_params_view(c, fm->params, &P);
    const int d = c->d_model, dh = d / c->n_heads;
    for (int t = 0; t < 256; t++) {
        const double rs = scale_of(m->emb_mult[t], m->emb_shift[t]) / 4096.0;
        for (int i = 0; i < d; i++)
            P.wte[(size_t)t * d + i] = (float)(m->emb[(size_t)t * d + i] * rs);
    }
    for (int l = 0; l < c->n_layers; l++) {
        const lmz_layer *Q = &m->layers[l];
        tr_layer_p *L = &P.layer[l];
        dequant_linear(&Q->qkv, L->qkv_w, L->qkv_b, 1.0 / sqrt((double)dh), d);
        dequant_linear(&Q->proj, L->proj_w, L->proj_b, 1.0, 0);
        dequant_linear(&Q->ff1, L->ff1_w, L->ff1_b, 1.0, 0);
        dequant_linear(&Q->ff2, L->ff2_w, L->ff2_b, 1.0, 0);
        for (int i = 0; i < d; i++) {
            L->ln1_g[i] = L->ln2_g[i] = 1.0f;
            L->ln1_b[i] = L->ln2_b[i] = 0.0f;
        }
    }
    dequant_linear(&m->head, P.head_w, P.head_b, 1.0, 0);
    for (int i = 0; i < d; i++) {
        P.lnf_g[i] = 1.0f;
        P.lnf_b[i] = 0.0f;
    }
    fm->folded = 1;
    *out = fm;
    return LMZ_OK;
}

lmz_status lmz_trainer_set_model(lmz_trainer *t, const lmz_fmodel *fm, lmz_err *err)
{
    if (memcmp(&t->fm->cfg, &fm->cfg, sizeof fm->cfg) != 0 || t->fm->nparams != fm->nparams)
        return lmz_err_set(err, LMZ_ERR_USAGE, "warm start: the model's shape differs from the run's");
    if (t->prog.step != 0)
        return lmz_err_set(err, LMZ_ERR_USAGE, "warm start: the run has already started");
    memcpy(t->fm->params, fm->params, fm->nparams * sizeof *fm->params);
    t->fm->folded = fm->folded;
    return LMZ_OK;
}
