// tr_cuda_launch.cu: every kernel launch and cuBLAS call of the trainer is
// checked here (TRC_LAUNCH, TRC_GEMM). Kernel faults otherwise surface at
// the next synchronisation, far from their cause: in sync_check mode each
// launch is waited for, so the first failure names its kernel and launch
// site, and every later launch of the step is skipped (a sticky error
// would fail them all; the first is the one worth reporting). The same
// mode times each launch with events, summed per name, so a first run on a
// new GPU shows where the time goes.
#include <stdio.h>
#include <string.h>

#include "tr_cuda.h"

static void fail(trc_ctx *g, const char *name, const char *file, int line, const char *why,
                 int synced)
{
    if (g->launch.failed)
        return;
    g->launch.failed = 1;
    const char *base = strrchr(file, '/');
    snprintf(g->launch.what, sizeof g->launch.what, "%s (%s:%d, launch %ld%s): %s", name,
             base ? base + 1 : file, line, g->launch.n,
             synced ? "" : "; may be an earlier kernel's error: rerun with LMZ_CUDA_SYNC=1", why);
}

int trc_pre(trc_ctx *g)
{
    if (g->launch.failed)
        return 0;
    g->launch.n++;
    if (g->sync_check)
        cudaEventRecord(g->ev0, g->stream);
    return 1;
}

static void add_time(trc_ctx *g, const char *name, float ms)
{
    int k = 0;
    while (k < g->ntimers && strcmp(g->timer[k].name, name) != 0)
        k++;
    if (k == g->ntimers) {
        if (g->ntimers == TRC_MAX_TIMERS)
            return;
        g->timer[k].name = name;
        g->timer[k].ms = 0;
        g->timer[k].calls = 0;
        g->ntimers++;
    }
    g->timer[k].ms += ms;
    g->timer[k].calls++;
}

static void post(trc_ctx *g, const char *name, const char *file, int line)
{
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) {
        fail(g, name, file, line, cudaGetErrorString(e), g->sync_check);
        return;
    }
    if (!g->sync_check)
        return;
    cudaEventRecord(g->ev1, g->stream);
    e = cudaEventSynchronize(g->ev1);
    if (e == cudaSuccess)
        e = cudaGetLastError();
    if (e != cudaSuccess) {
        fail(g, name, file, line, cudaGetErrorString(e), 1);
        return;
    }
    float ms = 0;
    if (cudaEventElapsedTime(&ms, g->ev0, g->ev1) == cudaSuccess)
        add_time(g, name, ms);
}

void trc_post_kernel(trc_ctx *g, const char *name, const char *file, int line)
{
    post(g, name, file, line);
}

void trc_post_blas(trc_ctx *g, cublasStatus_t s, const char *name, const char *file, int line)
{
    if (s != CUBLAS_STATUS_SUCCESS) {
        char why[64];
        snprintf(why, sizeof why, "cuBLAS status %d", (int)s);
        fail(g, name, file, line, why, 1);
        return;
    }
    post(g, name, file, line);
}

void trc_gemm_run(trc_ctx *g, const trc_gemm &p, const char *name, const char *file, int line)
{
    // See tr_cuda.h: C^T (N x M) = op(B)^T (N x K) . op(A)^T (K x M).
    const cublasOperation_t ob = p.tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t oa = p.ta ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasStatus_t s;
    if (p.batch <= 1)
        s = cublasSgemm(g->blas, ob, oa, p.N, p.M, p.K, &p.alpha, p.B, p.ldb, p.A, p.lda, &p.beta,
                        p.C, p.ldc);
    else
        s = cublasSgemmStridedBatched(g->blas, ob, oa, p.N, p.M, p.K, &p.alpha, p.B, p.ldb, p.sB,
                                      p.A, p.lda, p.sA, &p.beta, p.C, p.ldc, p.sC, p.batch);
    trc_post_blas(g, s, name, file, line);
}
