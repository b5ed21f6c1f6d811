// tr_cuda_engine.cu: the CUDA gradient engine (kernels/train/tr_engine.h).
//
// Per step: the parameters go up once (nparams floats), the step's windows
// as bytes (inputs and targets, B*T each), then every micro-batch's forward
// and backward runs on the device, accumulating into one device gradient;
// the gradient and the summed loss come back once. The host keeps the
// optimizer, so checkpoints and model files are the CPU trainer's.
//
// A micro-batch is GPU-sized (MICRO_TOKENS), capped so that attention's
// score buffer (nb * H * T * T floats, twice: S and dP) stays under
// S_BYTES_MAX each.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tr_cuda.h"

#define MICRO_TOKENS 16384
#define S_BYTES_MAX ((size_t)1 << 30)

struct trc_engine {
    lmz_config cfg;
    size_t np;
    int micro_tokens;
    trc_ctx g;
    float *d_params, *d_grad;
    double *d_loss;
    uint8_t *d_inp, *d_tgt; // the step's windows
    size_t cap_tokens;
    uint8_t *h_inp, *h_tgt;
    trc_acts acts;          // device activations for (acts_nb, acts_T)
    void *acts_mem;
    int acts_nb, acts_T;
};

static lmz_status cu_fail(lmz_err *err, const char *what, cudaError_t e)
{
    return lmz_err_set(err, e == cudaErrorMemoryAllocation ? LMZ_ERR_NOMEM : LMZ_ERR_GENERIC,
                       "train (cuda): %s: %s", what, cudaGetErrorString(e));
}

// Lay the activations of nb windows of T tokens out in one allocation, in
// tr_acts_create's order, plus attention's scratch and the loss rows.
static lmz_status ensure_acts(trc_engine *e, int nb, int T, lmz_err *err)
{
    if (e->acts_nb == nb && e->acts_T == T)
        return LMZ_OK;
    cudaFree(e->acts_mem);
    e->acts_mem = NULL;
    e->acts_nb = e->acts_T = 0;
    const lmz_config *c = &e->cfg;
    const size_t N = (size_t)nb * T, d = (size_t)c->d_model, F = (size_t)c->d_ff;
    const size_t H = (size_t)c->n_heads, L = (size_t)c->n_layers;
    const size_t per_layer = 4 * N + 5 * N * d + 3 * N * d + N * H + 2 * N * F;
    const size_t acts = N * d + L * per_layer + 2 * N + N * d + N * 256 + 3 * N * d +
                        3 * N * d + N * F;
    const size_t attn = 8 * N * d + 2 * (size_t)nb * H * T * T;
    const size_t bytes = (acts + attn) * sizeof(float) + N * sizeof(double);
    cudaError_t ce = cudaMalloc(&e->acts_mem, bytes);
    if (ce != cudaSuccess) {
        e->acts_mem = NULL;
        cudaGetLastError();
        return lmz_err_set(err, LMZ_ERR_NOMEM,
                           "train (cuda): %.1f MiB of device memory for micro-batches of %d x %d "
                           "tokens: %s",
                           (double)bytes / 1048576.0, nb, T, cudaGetErrorString(ce));
    }
    tr_acts *a = &e->acts.a;
    memset(a, 0, sizeof *a);
    a->cfg = *c;
    a->cap_nb = nb;
    a->cap_T = T;
    double *dp = (double *)e->acts_mem; // doubles first: aligned
    e->acts.rowloss = dp;
    float *p = (float *)(dp + N);
#define TAKE(ptr, n) do { (ptr) = p; p += (n); } while (0)
    TAKE(a->x0, N * d);
    for (size_t l = 0; l < L; l++) {
        tr_layer_a *A = &a->layer[l];
        TAKE(A->ln1_mean, N);
        TAKE(A->ln1_rstd, N);
        TAKE(A->ln1_out, N * d);
        TAKE(A->qkv, 3 * N * d);
        TAKE(A->lse, N * H);
        TAKE(A->att, N * d);
        TAKE(A->res1, N * d);
        TAKE(A->ln2_mean, N);
        TAKE(A->ln2_rstd, N);
        TAKE(A->ln2_out, N * d);
        TAKE(A->ff1, N * F);
        TAKE(A->ff1g, N * F);
        TAKE(A->res2, N * d);
    }
    TAKE(a->lnf_mean, N);
    TAKE(a->lnf_rstd, N);
    TAKE(a->lnf_out, N * d);
    TAKE(a->logits, N * 256);
    TAKE(a->dres, N * d);
    TAKE(a->dln, N * d);
    TAKE(a->datt, N * d);
    TAKE(a->dqkv, 3 * N * d);
    TAKE(a->dff, N * F);
    trc_attn_ws *w = &e->acts.attn;
    for (int k = 0; k < 3; k++) {
        TAKE(w->h[k], N * d);
        TAKE(w->dh[k], N * d);
    }
    TAKE(w->o, N * d);
    TAKE(w->dO, N * d);
    TAKE(w->S, (size_t)nb * H * T * T);
    TAKE(w->dP, (size_t)nb * H * T * T);
#undef TAKE
    e->acts_nb = nb;
    e->acts_T = T;
    return LMZ_OK;
}

static lmz_status ensure_tokens(trc_engine *e, size_t n, lmz_err *err)
{
    if (n <= e->cap_tokens)
        return LMZ_OK;
    cudaFree(e->d_inp);
    cudaFree(e->d_tgt);
    free(e->h_inp);
    free(e->h_tgt);
    e->d_inp = e->d_tgt = e->h_inp = e->h_tgt = NULL;
    e->cap_tokens = 0;
    cudaError_t ce = cudaMalloc(&e->d_inp, n);
    if (ce == cudaSuccess)
        ce = cudaMalloc(&e->d_tgt, n);
    if (ce != cudaSuccess) {
        cudaGetLastError();
        return cu_fail(err, "window buffers", ce);
    }
    e->h_inp = (uint8_t *)malloc(n);
    e->h_tgt = (uint8_t *)malloc(n);
    if (!e->h_inp || !e->h_tgt)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "train (cuda): out of memory");
    e->cap_tokens = n;
    return LMZ_OK;
}

// Windows per micro-batch at window length T for a step of B windows.
static int micro_windows(const trc_engine *e, int B, int T)
{
    int mb = e->micro_tokens / T;
    const size_t per_window = (size_t)e->cfg.n_heads * T * T * sizeof(float);
    const size_t cap = S_BYTES_MAX / per_window;
    if ((size_t)mb > cap)
        mb = (int)cap;
    if (mb < 1)
        mb = 1;
    return mb < B ? mb : B;
}

static lmz_status engine_step(void *self, const tr_step_in *in, float *grad, double *loss,
                              lmz_err *err)
{
    trc_engine *e = (trc_engine *)self;
    trc_ctx *g = &e->g;
    const int B = in->B, T = in->T, mb = micro_windows(e, B, T);
    lmz_status st = ensure_acts(e, mb, T, err);
    if (st == LMZ_OK)
        st = ensure_tokens(e, (size_t)B * T, err);
    if (st != LMZ_OK)
        return st;
    // The windows as tr_acts_load cuts them: inputs [0, x_s .. x_{s+T-2}].
    for (int w = 0; w < B; w++) {
        const uint8_t *x = in->data + in->starts[w];
        uint8_t *ip = e->h_inp + (size_t)w * T, *tp = e->h_tgt + (size_t)w * T;
        ip[0] = 0;
        if (T > 1)
            memcpy(ip + 1, x, (size_t)T - 1);
        memcpy(tp, x, (size_t)T);
    }
    g->launch.failed = 0;
    g->launch.n = 0;
    g->launch.what[0] = '\0';
    cudaError_t ce = cudaMemcpyAsync(e->d_params, in->params, e->np * sizeof(float),
                                     cudaMemcpyHostToDevice, g->stream);
    if (ce == cudaSuccess)
        ce = cudaMemcpyAsync(e->d_inp, e->h_inp, (size_t)B * T, cudaMemcpyHostToDevice, g->stream);
    if (ce == cudaSuccess)
        ce = cudaMemcpyAsync(e->d_tgt, e->h_tgt, (size_t)B * T, cudaMemcpyHostToDevice, g->stream);
    if (ce == cudaSuccess)
        ce = cudaMemsetAsync(e->d_grad, 0, e->np * sizeof(float), g->stream);
    if (ce == cudaSuccess)
        ce = cudaMemsetAsync(e->d_loss, 0, sizeof(double), g->stream);
    if (ce != cudaSuccess)
        return cu_fail(err, "uploading the step", ce);
    tr_params P, G;
    tr_params_view(&e->cfg, e->d_params, &P);
    tr_params_view(&e->cfg, e->d_grad, &G);
    for (int w = 0; w < B; w += mb) {
        tr_acts *a = &e->acts.a;
        a->nb = B - w < mb ? B - w : mb;
        a->T = T;
        a->inp = e->d_inp + (size_t)w * T;
        a->tgt = e->d_tgt + (size_t)w * T;
        trc_forward(g, &P, &e->acts, in->fake_quant, in->dscale, e->d_loss);
        if (in->dscale != 0.0f)
            trc_backward(g, &P, &G, &e->acts);
    }
    if (g->launch.failed) {
        cudaStreamSynchronize(g->stream);
        cudaGetLastError();
        return lmz_err_set(err, LMZ_ERR_GENERIC, "train (cuda): %s", g->launch.what);
    }
    ce = cudaMemcpyAsync(grad, e->d_grad, e->np * sizeof(float), cudaMemcpyDeviceToHost,
                         g->stream);
    if (ce == cudaSuccess)
        ce = cudaMemcpyAsync(loss, e->d_loss, sizeof(double), cudaMemcpyDeviceToHost, g->stream);
    if (ce == cudaSuccess)
        ce = cudaStreamSynchronize(g->stream);
    if (ce != cudaSuccess)
        return cu_fail(err,
                       g->sync_check ? "the step"
                                     : "the step (rerun with LMZ_CUDA_SYNC=1 to name the kernel)",
                       ce);
    return LMZ_OK;
}

static size_t engine_report(const void *self, char *buf, size_t cap)
{
    const trc_engine *e = (const trc_engine *)self;
    const trc_ctx *g = &e->g;
    if (cap == 0)
        return 0;
    buf[0] = '\0';
    if (g->ntimers == 0)
        return 0;
    int order[TRC_MAX_TIMERS];
    double total = 0;
    for (int k = 0; k < g->ntimers; k++) {
        order[k] = k;
        total += g->timer[k].ms;
    }
    for (int i = 1; i < g->ntimers; i++) // by time, largest first
        for (int j = i; j > 0 && g->timer[order[j]].ms > g->timer[order[j - 1]].ms; j--) {
            const int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    size_t n = (size_t)snprintf(buf, cap, "cuda kernel times (synchronised, %.1f ms in all):\n",
                                total);
    for (int i = 0; i < g->ntimers && n < cap; i++) {
        const int k = order[i];
        n += (size_t)snprintf(buf + n, cap - n, "  %-28s %8ld calls %10.1f ms %5.1f%%\n",
                              g->timer[k].name, g->timer[k].calls, g->timer[k].ms,
                              total > 0 ? 100.0 * g->timer[k].ms / total : 0.0);
    }
    return n < cap ? n : cap - 1;
}

static void engine_destroy(void *self)
{
    trc_engine *e = (trc_engine *)self;
    if (!e)
        return;
    cudaFree(e->acts_mem);
    cudaFree(e->d_params);
    cudaFree(e->d_grad);
    cudaFree(e->d_loss);
    cudaFree(e->d_inp);
    cudaFree(e->d_tgt);
    free(e->h_inp);
    free(e->h_tgt);
    if (e->g.blas)
        cublasDestroy(e->g.blas);
    if (e->g.ev0)
        cudaEventDestroy(e->g.ev0);
    if (e->g.ev1)
        cudaEventDestroy(e->g.ev1);
    if (e->g.stream)
        cudaStreamDestroy(e->g.stream);
    free(e);
}

extern "C" lmz_status tr_engine_cuda_probe(lmz_err *err)
{
    int n = 0;
    const cudaError_t ce = cudaGetDeviceCount(&n);
    if (ce != cudaSuccess || n < 1) {
        cudaGetLastError();
        return lmz_err_set(err, LMZ_ERR_NO_DEVICE, "no CUDA device to train on (%s)",
                           ce != cudaSuccess ? cudaGetErrorString(ce) : "none found");
    }
    return LMZ_OK;
}

extern "C" lmz_status tr_engine_cuda_create(const lmz_config *cfg, const tr_cuda_opts *o,
                                            tr_grad_engine *out, lmz_err *err)
{
    memset(out, 0, sizeof *out);
    lmz_status st = tr_engine_cuda_probe(err);
    if (st != LMZ_OK)
        return st;
    trc_engine *e = (trc_engine *)calloc(1, sizeof *e);
    if (!e)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "train: out of memory");
    e->cfg = *cfg;
    e->np = lmz_fmodel_param_count(cfg);
    e->micro_tokens = o && o->micro_tokens > 0 ? o->micro_tokens : MICRO_TOKENS;
    e->g.sync_check = o ? o->sync_check : 0;
    cudaError_t ce = cudaStreamCreateWithFlags(&e->g.stream, cudaStreamNonBlocking);
    if (ce == cudaSuccess)
        ce = cudaEventCreate(&e->g.ev0);
    if (ce == cudaSuccess)
        ce = cudaEventCreate(&e->g.ev1);
    if (ce == cudaSuccess)
        ce = cudaMalloc(&e->d_params, e->np * sizeof(float));
    if (ce == cudaSuccess)
        ce = cudaMalloc(&e->d_grad, e->np * sizeof(float));
    if (ce == cudaSuccess)
        ce = cudaMalloc(&e->d_loss, sizeof(double));
    if (ce != cudaSuccess) {
        cudaGetLastError();
        engine_destroy(e);
        return cu_fail(err, "setting up", ce);
    }
    cublasStatus_t bs = cublasCreate(&e->g.blas);
    if (bs == CUBLAS_STATUS_SUCCESS)
        bs = cublasSetStream(e->g.blas, e->g.stream);
    // Plain float32 products: the CPU reference's arithmetic (no TF32).
    if (bs == CUBLAS_STATUS_SUCCESS)
        bs = cublasSetMathMode(e->g.blas, CUBLAS_DEFAULT_MATH);
    if (bs != CUBLAS_STATUS_SUCCESS) {
        engine_destroy(e); // a handle that was created is destroyed there
        return lmz_err_set(err, LMZ_ERR_GENERIC, "train (cuda): cuBLAS setup failed (status %d)",
                           (int)bs);
    }
    out->name = "cuda";
    out->self = e;
    out->step = engine_step;
    out->report = engine_report;
    out->destroy = engine_destroy;
    return LMZ_OK;
}
