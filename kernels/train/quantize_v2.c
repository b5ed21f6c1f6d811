/* quantize_v2.c: the float model to arithmetic version 2
 * (docs/inference.md, "Arithmetic version 2", "From float"), and the v2
 * integer model's cross-entropy.
 *
 * Version 2 needs static K and V scales. They are found on sample data:
 * the folded float model runs over a few chunks and records, per layer and
 * channel, the largest |k| and |v|. Then the float model is reparametrised
 * without changing the function it computes: scores are sums of q_c k_c,
 * so k_c * g and q_c / g give the same scores; attention outputs are
 * averages of v, so v_c * g and proj's column c / g give the same output.
 * Those factors equalise channels (alpha) and make each head's K and V
 * range exactly 127 * 2^shift in Q12, so the static scale is a pure shift
 * and no precision is lost to rounding it to a power of two. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../lmz_infer_v2.h"
#include "../lmz_train_v2.h"
#include "tr_internal.h"

void lmz_quant_v2_opts_default(lmz_quant_v2_opts *o)
{
    memset(o, 0, sizeof *o);
    o->k_alpha = 0.5;
    o->v_alpha = 0.5;
    o->k_clip = 1.0;
    o->v_clip = 1.0;
    o->calib_bytes = 256 * 1024;
    o->nthreads = 0;
}

/* Per layer l and channel c < d: kmax[l*d + c], vmax[l*d + c] (real
 * units) over the calibration chunks. */
static lmz_status calibrate(const lmz_fmodel *f, const uint8_t *data, size_t n,
                            const lmz_quant_v2_opts *o, float *kmax, float *vmax, lmz_err *err)
{
    const lmz_config *c = &f->cfg;
    const int d = c->d_model, T = c->ctx, nL = c->n_layers;
    size_t nchunks = n / (size_t)T;
    if (nchunks == 0)
        return lmz_err_set(err, LMZ_ERR_USAGE,
                           "quantize v2: the calibration sample (%zu bytes) is shorter than "
                           "one chunk (%d)", n, T);
    size_t want = o->calib_bytes / (size_t)T;
    if (want < 1)
        want = 1;
    if (want > nchunks)
        want = nchunks;
    tr_params P;
    tr_params_view(c, f->params, &P);
    memset(kmax, 0, (size_t)nL * d * sizeof *kmax);
    memset(vmax, 0, (size_t)nL * d * sizeof *vmax);
    tr_blas_single_thread();
    int failed = 0;
#pragma omp parallel num_threads(tr_threads(o->nthreads))
    {
        tr_acts *a = tr_acts_create(c, 1, T);
        float *km = calloc((size_t)nL * d, sizeof *km), *vm = calloc((size_t)nL * d, sizeof *vm);
        if (!a || !km || !vm) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t k = 0; k < want; k++) {
            if (!a || !km || !vm)
                continue;
            /* chunks spread evenly over the sample */
            const size_t start = (k * nchunks / want) * (size_t)T;
            tr_acts_load(a, data, &start, 1, T);
            tr_forward(&P, a, 0, 0.0f);
            for (int l = 0; l < nL; l++) {
                const float *qkv = a->layer[l].qkv;
                for (int t = 0; t < T; t++)
                    for (int ch = 0; ch < d; ch++) {
                        const float kv = fabsf(qkv[(size_t)t * 3 * d + d + ch]);
                        const float vv = fabsf(qkv[(size_t)t * 3 * d + 2 * d + ch]);
                        if (kv > km[l * d + ch])
                            km[l * d + ch] = kv;
                        if (vv > vm[l * d + ch])
                            vm[l * d + ch] = vv;
                    }
            }
        }
#pragma omp critical
        if (km && vm)
            for (int i = 0; i < nL * d; i++) {
                kmax[i] = fmaxf(kmax[i], km[i]);
                vmax[i] = fmaxf(vmax[i], vm[i]);
            }
        free(km);
        free(vm);
        tr_acts_free(a);
    }
    if (failed)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "quantize v2: out of memory");
    return LMZ_OK;
}

/* Scale output row r of a linear (weights and bias) by g. */
static void scale_row(float *W, float *b, int in, int r, double g)
{
    for (int i = 0; i < in; i++)
        W[(size_t)r * in + i] = (float)(W[(size_t)r * in + i] * g);
    b[r] = (float)(b[r] * g);
}

/* The smallest shift e in [0, 11] with 127 * 2^e >= range (Q12), so that
 * the head's factor 127 * 2^e / range is in (0.5, 1] (or > 1 for a range
 * below 127, < 0.5 above 127 * 2^11 where ACT would clamp anyway). */
static int shift_for(double range_q12)
{
    int e = 0;
    while (e < 11 && 127.0 * (double)(1 << e) < range_q12)
        e++;
    return e;
}

lmz_status lmz_quantize_v2(const lmz_fmodel *fm, const uint8_t *calib, size_t ncalib,
                           const lmz_quant_v2_opts *opts, const char *name, lmz_model_v2 **out,
                           lmz_err *err)
{
    lmz_quant_v2_opts o;
    if (opts)
        o = *opts;
    else
        lmz_quant_v2_opts_default(&o);
    if (!fm || !calib || !out)
        return lmz_err_set(err, LMZ_ERR_USAGE, "quantize v2: missing argument");
    const lmz_config *c = &fm->cfg;
    const int d = c->d_model, H = c->n_heads, dh = d / H, nL = c->n_layers;
    lmz_fmodel *f = lmz_fmodel_create(c);
    float *kmax = malloc((size_t)nL * d * sizeof *kmax);
    float *vmax = malloc((size_t)nL * d * sizeof *vmax);
    int32_t *ks = malloc((size_t)nL * H * sizeof *ks), *vs = malloc((size_t)nL * H * sizeof *vs);
    lmz_model *m1 = NULL;
    lmz_status st = LMZ_OK;
    if (!f || !kmax || !vmax || !ks || !vs) {
        st = lmz_err_set(err, LMZ_ERR_NOMEM, "quantize v2: out of memory");
        goto done;
    }
    memcpy(f->params, fm->params, fm->nparams * sizeof *f->params);
    f->folded = fm->folded;
    lmz_fmodel_fold_ln(f);
    st = calibrate(f, calib, ncalib, &o, kmax, vmax, err);
    if (st != LMZ_OK)
        goto done;

    tr_params P;
    tr_params_view(c, f->params, &P);
    for (int l = 0; l < nL; l++) {
        tr_layer_p *L = &P.layer[l];
        for (int h = 0; h < H; h++) {
            const int off = h * dh;
            double kh = 0, vh = 0;
            for (int ch = 0; ch < dh; ch++) {
                kh = fmax(kh, kmax[l * d + off + ch]);
                vh = fmax(vh, vmax[l * d + off + ch]);
            }
            /* channel equalisation, then the head's range after it */
            double gk[LMZ_MAX_HEAD_DIM], gv[LMZ_MAX_HEAD_DIM], kr = 0, vr = 0;
            for (int ch = 0; ch < dh; ch++) {
                const double mk = fmax(kmax[l * d + off + ch], 1e-6 * kh + 1e-12);
                const double mv = fmax(vmax[l * d + off + ch], 1e-6 * vh + 1e-12);
                gk[ch] = pow(kh / mk, o.k_alpha);
                gv[ch] = pow(vh / mv, o.v_alpha);
                kr = fmax(kr, mk * gk[ch]);
                vr = fmax(vr, mv * gv[ch]);
            }
            const double krq = o.k_clip * kr * 4096.0, vrq = o.v_clip * vr * 4096.0;
            const int ek = shift_for(krq), ev = shift_for(vrq);
            const double hk = krq > 0 ? 127.0 * (double)(1 << ek) / krq : 1.0;
            const double hv = vrq > 0 ? 127.0 * (double)(1 << ev) / vrq : 1.0;
            ks[l * H + h] = ek;
            vs[l * H + h] = ev;
            for (int ch = 0; ch < dh; ch++) {
                const double g = gk[ch] * hk, gvv = gv[ch] * hv;
                scale_row(L->qkv_w, L->qkv_b, d, d + off + ch, g);     /* k */
                scale_row(L->qkv_w, L->qkv_b, d, off + ch, 1.0 / g);   /* q */
                scale_row(L->qkv_w, L->qkv_b, d, 2 * d + off + ch, gvv); /* v */
                for (int r = 0; r < d; r++) /* proj's column */
                    L->proj_w[(size_t)r * d + off + ch] =
                        (float)(L->proj_w[(size_t)r * d + off + ch] / gvv);
            }
        }
    }
    st = lmz_quantize(f, name, &m1, err);
    if (st != LMZ_OK)
        goto done;
    lmz_model_v2 *m = calloc(1, sizeof *m);
    if (!m) {
        st = lmz_err_set(err, LMZ_ERR_NOMEM, "quantize v2: out of memory");
        goto done;
    }
    m->m = m1;
    m1 = NULL;
    m->m->arith_version = LMZ_ARITH_V2;
    m->k_shift = ks;
    m->v_shift = vs;
    ks = vs = NULL;
    lmz_model_v2_compute_hash(m);
    st = lmz_model_v2_validate(m, err);
    if (st != LMZ_OK) {
        lmz_model_v2_free(m);
        goto done;
    }
    *out = m;
done:
    lmz_model_free(m1);
    lmz_fmodel_free(f);
    free(kmax);
    free(vmax);
    free(ks);
    free(vs);
    return st;
}

static void *v2_scratch_create(const void *m)
{
    return lmz_v2_scratch_create(&((const lmz_model_v2 *)m)->m->cfg);
}

static void v2_scratch_free(void *s)
{
    lmz_v2_scratch_free(s);
}

static lmz_status v2_forward(const void *m, void *s, const uint8_t *x, int len, uint16_t *freq)
{
    return lmz_v2_forward_chunk(m, s, x, len, NULL, freq, NULL);
}

lmz_status lmz_model_v2_eval(const lmz_model_v2 *m, const uint8_t *data, size_t n,
                             int nthreads, double *bpb, lmz_err *err)
{
    if (!m || !m->m || !data || n == 0 || !bpb)
        return lmz_err_set(err, LMZ_ERR_USAGE, "eval: nothing to evaluate");
    const tr_table_scorer sc = {v2_scratch_create, v2_scratch_free, v2_forward, m, m->m->cfg.ctx};
    return tr_eval_tables(&sc, data, n, nthreads, bpb, err);
}
