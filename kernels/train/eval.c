/* eval.c: cross-entropy of the float model and of the integer model over
 * data cut into chunks, each from an empty context (lmz's protocol). Chunks
 * run in parallel; per-chunk sums are added in chunk order, so the result
 * does not depend on the thread count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../lmz_infer.h"
#include "tr_internal.h"

lmz_status lmz_fmodel_eval(const lmz_fmodel *fm, const uint8_t *data, size_t n, int chunk,
                           int fake_quant, int nthreads, double *bpb, lmz_err *err)
{
    if (!fm || !data || n == 0 || chunk < 1 || chunk > LMZ_MAX_CTX || !bpb)
        return lmz_err_set(err, LMZ_ERR_USAGE, "eval: nothing to evaluate");
    const size_t nchunks = (n + (size_t)chunk - 1) / (size_t)chunk;
    double *loss = calloc(nchunks, sizeof *loss);
    float *qparams = NULL;
    const float *params = fm->params;
    if (fake_quant) {
        /* What the integer model computes: folded LayerNorms, int8 rows. */
        lmz_fmodel *f = lmz_fmodel_create(&fm->cfg);
        qparams = malloc(fm->nparams * sizeof *qparams);
        if (f && qparams) {
            memcpy(f->params, fm->params, fm->nparams * sizeof *qparams);
            lmz_fmodel_fold_ln(f);
            tr_fq_params(&fm->cfg, f->params, qparams);
        }
        lmz_fmodel_free(f);
        if (!f || !qparams) {
            free(qparams);
            free(loss);
            return lmz_err_set(err, LMZ_ERR_NOMEM, "eval: out of memory");
        }
        params = qparams;
    }
    if (!loss) {
        free(qparams);
        return lmz_err_set(err, LMZ_ERR_NOMEM, "eval: out of memory");
    }
    tr_params P;
    tr_params_view(&fm->cfg, (float *)params, &P);
    tr_blas_single_thread();
    int failed = 0;
#pragma omp parallel num_threads(tr_threads(nthreads))
    {
        tr_acts *a = tr_acts_create(&fm->cfg, 1, chunk);
        if (!a) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t c = 0; c < nchunks; c++) {
            if (!a)
                continue;
            const size_t start = c * (size_t)chunk;
            const int len = (int)(n - start < (size_t)chunk ? n - start : (size_t)chunk);
            tr_acts_load(a, data, &start, 1, len);
            loss[c] = tr_forward(&P, a, fake_quant, 0.0f);
        }
        tr_acts_free(a);
    }
    double total = 0;
    for (size_t c = 0; c < nchunks; c++)
        total += loss[c];
    free(loss);
    free(qparams);
    if (failed)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "eval: out of memory");
    *bpb = total / ((double)n * log(2.0));
    return LMZ_OK;
}

lmz_status lmz_model_eval(const lmz_model *m, const uint8_t *data, size_t n, int nthreads,
                          double *bpb, lmz_err *err)
{
    if (!m || !data || n == 0 || !bpb)
        return lmz_err_set(err, LMZ_ERR_USAGE, "eval: nothing to evaluate");
    const int chunk = m->cfg.ctx;
    const size_t nchunks = (n + (size_t)chunk - 1) / (size_t)chunk;
    double *bits = calloc(nchunks, sizeof *bits);
    if (!bits)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "eval: out of memory");
    int failed = 0;
#pragma omp parallel num_threads(tr_threads(nthreads))
    {
        lmz_scratch *s = lmz_scratch_create(&m->cfg);
        uint16_t *freq = malloc((size_t)chunk * sizeof *freq);
        if (!s || !freq) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t c = 0; c < nchunks; c++) {
            if (!s || !freq)
                continue;
            const size_t start = c * (size_t)chunk;
            const int len = (int)(n - start < (size_t)chunk ? n - start : (size_t)chunk);
            if (lmz_forward_chunk(m, s, data + start, len, NULL, freq, NULL) != LMZ_OK) {
#pragma omp atomic write
                failed = 1;
                continue;
            }
            double b = 0;
            for (int i = 0; i < len; i++)
                b += 16.0 - log2((double)freq[i]);
            bits[c] = b;
        }
        free(freq);
        lmz_scratch_free(s);
    }
    double total = 0;
    for (size_t c = 0; c < nchunks; c++)
        total += bits[c];
    free(bits);
    if (failed)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "eval: out of memory");
    *bpb = total / (double)n;
    return LMZ_OK;
}
