/* quantize.c: the float model to the integer model (docs/inference.md,
 * "From float"). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tr_internal.h"

#define BIAS_MAX (1 << 24)

/* mult * 2^-shift ~= f with mult in [2^14, 2^15): f = m 2^e, m in [0.5, 1),
 * mult = round(m 2^15), shift = 15 - e. 0 if f is outside what shifts in
 * [1, 62] can express. */
static int mult_shift(double f, int32_t *mult, int32_t *shift)
{
    int e;
    const double m = frexp(f, &e);
    long mu = lround(m * 32768.0);
    int sh = 15 - e;
    if (mu == 32768) { /* m rounded up to 1 */
        mu = 16384;
        sh -= 1;
    }
    if (f <= 0 || sh < 1 || sh > 62)
        return 0;
    *mult = (int32_t)mu;
    *shift = sh;
    return 1;
}

static int32_t q12(double v)
{
    double r = floor(v * 4096.0 + 0.5);
    if (r > BIAS_MAX)
        r = BIAS_MAX;
    if (r < -BIAS_MAX)
        r = -BIAS_MAX;
    return (int32_t)r;
}

static int8_t q8(double v)
{
    long r = lround(v);
    return (int8_t)(r > 127 ? 127 : (r < -127 ? -127 : r));
}

/* Rows o < nscaled are multiplied by row_scale first (the q rows' folded
 * 1/sqrt(dh)). A row whose scale is too small to express is all zeros: it
 * contributes nothing either way. */
static void quant_linear(lmz_linear *L, const float *W, const float *b, int out, int in,
                         double row_scale, int nscaled)
{
    for (int o = 0; o < out; o++) {
        const double s = o < nscaled ? row_scale : 1.0;
        const float *row = W + (size_t)o * in;
        double amax = 0;
        for (int i = 0; i < in; i++)
            amax = fmax(amax, fabs((double)row[i] * s));
        const double wscale = amax / 127.0;
        int8_t *w = L->w + (size_t)o * in;
        if (!mult_shift(wscale / 127.0, &L->mult[o], &L->shift[o])) {
            memset(w, 0, (size_t)in);
            L->mult[o] = 1 << 14;
            L->shift[o] = 62;
        } else {
            for (int i = 0; i < in; i++)
                w[i] = q8((double)row[i] * s / wscale);
        }
        L->bias[o] = q12((double)b[o] * s);
    }
}

lmz_status lmz_quantize(const lmz_fmodel *fm, const char *name, lmz_model **out, lmz_err *err)
{
    const lmz_config *c = &fm->cfg;
    lmz_fmodel *f = lmz_fmodel_create(c);
    lmz_model *m = lmz_model_alloc(c);
    if (!f || !m) {
        lmz_fmodel_free(f);
        lmz_model_free(m);
        return lmz_err_set(err, LMZ_ERR_NOMEM, "quantize: out of memory");
    }
    memcpy(f->params, fm->params, fm->nparams * sizeof *f->params);
    lmz_fmodel_fold_ln(f);
    tr_params P;
    tr_params_view(c, f->params, &P);
    const int d = c->d_model, F = c->d_ff, dh = d / c->n_heads;

    for (int t = 0; t < 256; t++) {
        const float *row = P.wte + (size_t)t * d;
        double amax = 0;
        for (int i = 0; i < d; i++)
            amax = fmax(amax, fabs((double)row[i]));
        const double rs = amax / 127.0;
        if (!mult_shift(rs * 4096.0, &m->emb_mult[t], &m->emb_shift[t])) {
            /* Too small (a zero row) or too large (|x| > 508) to express. */
            if (amax > 1.0) {
                lmz_fmodel_free(f);
                lmz_model_free(m);
                return lmz_err_set(err, LMZ_ERR_RANGE,
                                   "quantize: embedding row %d reaches %g, beyond the "
                                   "integer model's range", t, amax);
            }
            memset(m->emb + (size_t)t * d, 0, (size_t)d);
            m->emb_mult[t] = 1 << 14;
            m->emb_shift[t] = 62;
            continue;
        }
        for (int i = 0; i < d; i++)
            m->emb[(size_t)t * d + i] = q8(row[i] / rs);
    }
    for (int l = 0; l < c->n_layers; l++) {
        const tr_layer_p *L = &P.layer[l];
        lmz_layer *Q = &m->layers[l];
        quant_linear(&Q->qkv, L->qkv_w, L->qkv_b, 3 * d, d, 1.0 / sqrt((double)dh), d);
        quant_linear(&Q->proj, L->proj_w, L->proj_b, d, d, 1.0, 0);
        quant_linear(&Q->ff1, L->ff1_w, L->ff1_b, F, d, 1.0, 0);
        quant_linear(&Q->ff2, L->ff2_w, L->ff2_b, d, F, 1.0, 0);
    }
    quant_linear(&m->head, P.head_w, P.head_b, 256, d, 1.0, 0);
    lmz_fmodel_free(f);

    snprintf(m->name, sizeof m->name, "%s", name ? name : "");
    lmz_model_compute_hash(m);
    lmz_status st = lmz_model_validate(m, err);
    if (st != LMZ_OK) {
        lmz_model_free(m);
        return st;
    }
    *out = m;
    return LMZ_OK;
}
