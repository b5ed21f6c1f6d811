/* backend_impl.h: what a backend implements (private to kernels/).
 *
 * In the style of ggml's backend interface: struct lmz_backend is a table
 * of functions plus the implementation's own state. backend.c checks the
 * arguments (model, lengths, chunk counts) once for every backend, then
 * calls through the table, so an implementation only does the work:
 *   kernels/cpu/cpu_backend.c   the CPU reference (OpenMP over chunks)
 *   kernels/cuda/cuda_backend.cu the CUDA kernels
 * backend.c's registry is the one place that knows which exist. */
#ifndef LMZ_BACKEND_IMPL_H
#define LMZ_BACKEND_IMPL_H

#include "lmz_backend.h"

typedef struct lmz_backend_i {
    const char *name; /* "cpu", "cuda" */
    /* Release the implementation's state (b->ctx); backend.c frees b. */
    void (*free)(lmz_backend *b);
    /* lmz_backend_score / lmz_backend_decode after backend.c's checks:
     * nchunks >= 1 and every length within the model's context. */
    lmz_status (*score)(lmz_backend *b, int nchunks, const uint8_t *const *data,
                        const uint32_t *len, uint16_t *cum, uint16_t *freq, lmz_err *err);
    lmz_status (*decode)(lmz_backend *b, int nchunks, const uint8_t *const *streams,
                         const uint32_t *stream_len, const uint32_t *raw_len,
                         uint8_t *const *out, lmz_err *err);
} lmz_backend_i;

struct lmz_backend {
    const lmz_backend_i *iface;
    const lmz_model *m; /* validated; outlives the backend */
    void *ctx;          /* the implementation's state */
};

/* An implementation's constructor: set b->iface and b->ctx (b->m is set,
 * the model validated, p complete) or return an error and leave b->ctx
 * NULL. */
typedef lmz_status (*lmz_backend_init_fn)(lmz_backend *b, const lmz_backend_params *p,
                                          lmz_err *err);

lmz_status lmz_backend_cpu_init(lmz_backend *b, const lmz_backend_params *p, lmz_err *err);
lmz_status lmz_backend_cuda_init(lmz_backend *b, const lmz_backend_params *p, lmz_err *err);

#endif
