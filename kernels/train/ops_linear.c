/* ops_linear.c: linear layers as single-threaded BLAS calls.
 *
 * Each thread trains its own windows, so these run inside the caller's
 * parallel region, where OpenBLAS's OpenMP build runs on the calling thread
 * alone (it checks omp_in_parallel): one parallel region per step instead of
 * one per matrix product, which matters on VMs that wake threads slowly. */
#include <cblas.h>
#include <string.h>

#include "tr_internal.h"

void tr_linear_fwd(float *out, const float *inp, const float *w, const float *b, int N, int nin,
                   int nout)
{
    for (int n = 0; n < N; n++)
        memcpy(out + (size_t)n * nout, b, (size_t)nout * sizeof *out);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, nout, nin, 1.0f, inp, nin, w, nin, 1.0f, out,
                nout);
}

void tr_linear_bwd(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                   const float *w, int N, int nin, int nout)
{
    if (dinp)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, nin, nout, 1.0f, dout, nout, w, nin,
                    0.0f, dinp, nin);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nout, nin, N, 1.0f, dout, nout, inp, nin, 1.0f, dw,
                nin);
    for (int n = 0; n < N; n++) {
        const float *r = dout + (size_t)n * nout;
        for (int o = 0; o < nout; o++)
            db[o] += r[o];
    }
}

void tr_blas_single_thread(void)
{
    /* Each trainer thread calls BLAS on its own windows: BLAS itself must
     * not start threads (the OpenMP build would not inside a parallel
     * region; a pthreads build would, and fight the trainer's threads). */
    openblas_set_num_threads(1);
}
