/* engine_cpu.c: the step's gradient on the CPU (tr_engine.h).
 *
 * The step's windows are cut into micro-batches, and the micro-batches
 * dealt to at most MAX_SLOTS gradient slots (micro-batch k to slot k mod S,
 * in order). Threads take whole slots as they become free (dynamic
 * scheduling: a thread slowed by another process on its core does not hold
 * the step up), each slot's gradient is accumulated in a fixed order and
 * the slots are summed in slot order: so the result does not depend on the
 * thread count or on which thread ran what. Nothing is split finer than a
 * window, so a step has a handful of barriers whatever the model. */
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "tr_engine.h"
#include "tr_internal.h"

/* Windows per micro-batch: enough rows for efficient matrix products,
 * few enough that a layer's activations stay in cache. */
#define MICRO_TOKENS 2048
/* Gradient slots per step: enough to balance two to a few threads. */
#define MAX_SLOTS 16
/* Parameters per block of the slots' sum (one block per task). */
#define SUM_BLOCK 4096

typedef struct cpu_engine {
    lmz_config cfg;
    size_t np;
    int nth;
    float *slots;   /* (MAX_SLOTS - 1) x np: slots 1..; slot 0 is the caller's grad */
    tr_acts **acts; /* one per thread */
    int acts_nb, acts_T;
    double loss[MAX_SLOTS];
} cpu_engine;

/* Per-thread activations for micro-batches of nb windows of T tokens. */
static lmz_status ensure_acts(cpu_engine *c, int nb, int T, lmz_err *err)
{
    if (c->acts_nb == nb && c->acts_T == T)
        return LMZ_OK;
    for (int i = 0; i < c->nth; i++) {
        tr_acts_free(c->acts[i]);
        c->acts[i] = NULL;
    }
    c->acts_nb = c->acts_T = 0;
    for (int i = 0; i < c->nth; i++)
        if (!(c->acts[i] = tr_acts_create(&c->cfg, nb, T)))
            return lmz_err_set(err, LMZ_ERR_NOMEM, "train: out of memory for activations");
    c->acts_nb = nb;
    c->acts_T = T;
    return LMZ_OK;
}

static lmz_status cpu_step(void *self, const tr_step_in *in, float *grad, double *loss_out,
                           lmz_err *err)
{
    cpu_engine *c = self;
    const size_t np = c->np;
    const int B = in->B, T = in->T;
    int mb = MICRO_TOKENS / T;
    if (mb < 1)
        mb = 1;
    if (mb > B)
        mb = B;
    lmz_status st = ensure_acts(c, mb, T, err);
    if (st != LMZ_OK)
        return st;
    const int nmb = (B + mb - 1) / mb, S = nmb < MAX_SLOTS ? nmb : MAX_SLOTS;
    const size_t nblocks = (np + SUM_BLOCK - 1) / SUM_BLOCK;
#pragma omp parallel num_threads(c->nth)
    {
#ifdef _OPENMP
        tr_acts *a = c->acts[omp_get_thread_num()];
#else
        tr_acts *a = c->acts[0];
#endif
        tr_params P;
        tr_params_view(&c->cfg, (float *)in->params, &P);
#pragma omp for schedule(dynamic, 1)
        for (int s = 0; s < S; s++) {
            float *g = s == 0 ? grad : c->slots + (size_t)(s - 1) * np;
            tr_params G;
            tr_params_view(&c->cfg, g, &G);
            memset(g, 0, np * sizeof *g);
            double loss = 0;
            for (int k = s; k < nmb; k += S) {
                const int w = k * mb, nb = B - w < mb ? B - w : mb;
                tr_acts_load(a, in->data, in->starts + w, nb, T);
                loss += tr_forward(&P, a, in->fake_quant, in->dscale);
                tr_backward(&P, &G, a);
            }
            c->loss[s] = loss;
        }
        /* Sum the slots into slot 0, in slot order, block by block. */
#pragma omp for schedule(static)
        for (size_t b = 0; b < nblocks; b++) {
            const size_t lo = b * SUM_BLOCK, hi = lo + SUM_BLOCK < np ? lo + SUM_BLOCK : np;
            for (size_t i = lo; i < hi; i++) {
                float v = grad[i];
                for (int k = 1; k < S; k++)
                    v += c->slots[(size_t)(k - 1) * np + i];
                grad[i] = v;
            }
        }
    }
    double loss = 0;
    for (int s = 0; s < S; s++)
        loss += c->loss[s];
    *loss_out = loss;
    return LMZ_OK;
}

static void cpu_destroy(void *self)
{
    cpu_engine *c = self;
    if (!c)
        return;
    if (c->acts)
        for (int i = 0; i < c->nth; i++)
            tr_acts_free(c->acts[i]);
    free(c->acts);
    free(c->slots);
    free(c);
}

lmz_status tr_engine_cpu_create(const lmz_config *cfg, int nthreads, tr_grad_engine *out,
                                lmz_err *err)
{
    memset(out, 0, sizeof *out);
    cpu_engine *c = calloc(1, sizeof *c);
    if (!c)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "train: out of memory");
    c->cfg = *cfg;
    c->np = lmz_fmodel_param_count(cfg);
    c->nth = nthreads < 1 ? 1 : nthreads;
    c->slots = malloc((size_t)(MAX_SLOTS - 1) * c->np * sizeof *c->slots);
    c->acts = calloc((size_t)c->nth, sizeof *c->acts);
    if (!c->slots || !c->acts) {
        cpu_destroy(c);
        return lmz_err_set(err, LMZ_ERR_NOMEM, "train: out of memory");
    }
    tr_blas_single_thread();
    out->name = "cpu";
    out->self = c;
    out->step = cpu_step;
    out->report = NULL;
    out->destroy = cpu_destroy;
    return LMZ_OK;
}

void tr_engine_free(tr_grad_engine *e)
{
    if (e && e->destroy)
        e->destroy(e->self);
    if (e)
        memset(e, 0, sizeof *e);
}
