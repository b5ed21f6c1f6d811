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

/* The bits the range coder would spend on data cut into chunks, each scored
 * from an empty context by sc (v1 or v2 arithmetic): the mean of
 * -log2(freq/65536) over every byte. Chunks run in parallel; their bits are
 * added in chunk order, so the result does not depend on the thread count. */
lmz_status tr_eval_tables(const tr_table_scorer *sc, const uint8_t *data, size_t n,
                          int nthreads, double *bpb, lmz_err *err)
{
    const int chunk = sc->chunk;
    const size_t nchunks = (n + (size_t)chunk - 1) / (size_t)chunk;
    double *bits = calloc(nchunks, sizeof *bits);
    if (!bits)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "eval: out of memory");
    int failed = 0;
#pragma omp parallel num_threads(tr_threads(nthreads))
    {
        void *s = sc->scratch_create(sc->model);
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
            if (sc->forward(sc->model, s, data + start, len, freq) != LMZ_OK) {
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
        if (s)
            sc->scratch_free(s);
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

static void *v1_scratch_create(const void *m)
{
    return lmz_scratch_create(&((const lmz_model *)m)->cfg);
}

static void v1_scratch_free(void *s)
{
    lmz_scratch_free(s);
}

static lmz_status v1_forward(const void *m, void *s, const uint8_t *x, int len, uint16_t *freq)
{
    return lmz_forward_chunk(m, s, x, len, NULL, freq, NULL);
}

lmz_status lmz_model_eval(const lmz_model *m, const uint8_t *data, size_t n, int nthreads,
                          double *bpb, lmz_err *err)
{
    if (!m || !data || n == 0 || !bpb)
        return lmz_err_set(err, LMZ_ERR_USAGE, "eval: nothing to evaluate");
    const tr_table_scorer sc = {v1_scratch_create, v1_scratch_free, v1_forward, m, m->cfg.ctx};
    return tr_eval_tables(&sc, data, n, nthreads, bpb, err);
}
