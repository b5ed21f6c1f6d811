// cuda_backend.cu: the CUDA kernels behind the backend interface
// (backend_impl.h): the table's functions forward to lmz_cuda_score and
// lmz_cuda_decode, which backend.c calls only after its checks.
#include "lmz_cuda.h"

extern "C" {
#include "backend_impl.h"
}

static void cuda_free(lmz_backend *b)
{
    lmz_cuda_free((lmz_cuda *)b->ctx);
    b->ctx = NULL;
}

static lmz_status cuda_score(lmz_backend *b, int nchunks, const uint8_t *const *data,
                             const uint32_t *len, uint16_t *cum, uint16_t *freq, lmz_err *err)
{
    return lmz_cuda_score((lmz_cuda *)b->ctx, nchunks, data, len, cum, freq, NULL, err);
}

static lmz_status cuda_decode(lmz_backend *b, int nchunks, const uint8_t *const *streams,
                              const uint32_t *stream_len, const uint32_t *raw_len,
                              uint8_t *const *out, lmz_err *err)
{
    return lmz_cuda_decode((lmz_cuda *)b->ctx, nchunks, streams, stream_len, raw_len, out, err);
}

static const lmz_backend_i cuda_iface = {"cuda", cuda_free, cuda_score, cuda_decode};

// The CPU's params (nthreads, simd, decode_batch) do not apply here: the
// device batch is sized from free device memory. cuda_sync is the
// debugging mode of LMZ_LAUNCH (cuda_internal.h).
extern "C" lmz_status lmz_backend_cuda_init(lmz_backend *b, const lmz_backend_params *p,
                                            lmz_err *err)
{
    lmz_cuda *g = NULL;
    lmz_status st = lmz_cuda_create(b->m, &g, err); // LMZ_ERR_NO_DEVICE without a device
    if (st != LMZ_OK)
        return st;
    lmz_cuda_set_sync(g, p->cuda_sync);
    b->iface = &cuda_iface;
    b->ctx = g;
    return LMZ_OK;
}
