/* engine_cuda_stub.c: the CUDA gradient engine in an lmz built without
 * CUDA (-DLMZ_CUDA=OFF): it refuses, saying why. The real one is
 * kernels/cuda/train/. */
#include "tr_engine.h"

#ifndef LMZ_HAVE_CUDA
lmz_status tr_engine_cuda_probe(lmz_err *err)
{
    return lmz_err_set(err, LMZ_ERR_NO_DEVICE,
                       "this lmz was built without CUDA (training on cuda needs -DLMZ_CUDA=ON)");
}

lmz_status tr_engine_cuda_create(const lmz_config *cfg, const tr_cuda_opts *o,
                                 tr_grad_engine *out, lmz_err *err)
{
    (void)cfg;
    (void)o;
    (void)out;
    return tr_engine_cuda_probe(err);
}
#else
typedef int tr_engine_cuda_stub_unused; /* ISO C: a translation unit is never empty */
#endif
