/* lmz_cuda.h: the CUDA backend's C interface (cuda_backend.cu puts it behind
 * the backend table; the tests call it directly).
 *
 * The same contract as lmz_backend_score / lmz_backend_decode: the same
 * bits as the CPU reference (docs/inference.md), for any batch size. See
 * docs/cuda.md for the design and for what has been verified on a GPU. */
#ifndef LMZ_CUDA_H
#define LMZ_CUDA_H

#include <stdint.h>

#include "lmz_error.h"
#include "lmz_model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lmz_cuda lmz_cuda;

/* Number of CUDA devices (0 when there is no driver or device). */
int lmz_cuda_device_count(void);

/* Copy model m to the current device. LMZ_ERR_NO_DEVICE without a device,
 * LMZ_ERR_NOMEM when the model does not fit. */
lmz_status lmz_cuda_create(const lmz_model *m, lmz_cuda **out, lmz_err *err);
void lmz_cuda_free(lmz_cuda *g);

/* As lmz_backend_score (lengths already checked: 1..ctx). If tables is not
 * NULL it also receives each position's full table at
 * tables[(c * ctx + i) * 256] (used by the tests). */
lmz_status lmz_cuda_score(lmz_cuda *g, int nchunks, const uint8_t *const *data,
                          const uint32_t *len, uint16_t *cum, uint16_t *freq,
                          uint16_t *tables, lmz_err *err);

/* As lmz_backend_decode (raw lengths already checked: 0..ctx). */
lmz_status lmz_cuda_decode(lmz_cuda *g, int nchunks, const uint8_t *const *streams,
                           const uint32_t *stream_len, const uint32_t *raw_len,
                           uint8_t *const *out, lmz_err *err);

/* Chunks per device batch (0 = sized from free device memory); for tests
 * that want several batches from few chunks. */
void lmz_cuda_set_batch(lmz_cuda *g, int chunks_per_batch);

/* Debugging (lmz_backend_params.cuda_sync; $LMZ_CUDA_SYNC=1 in the CLI and
 * the tests): on != 0 waits for every kernel right after its launch and
 * checks it, so the first failing kernel is named in the error (with its
 * launch site, file:line) and nothing after it runs. Slow; the output is
 * the same either way. */
void lmz_cuda_set_sync(lmz_cuda *g, int on);

/* Profiling (tests/test_cuda_bench.c, LMZ_CUDA_PROFILE=1): on != 0 times
 * every kernel with a pair of CUDA events and waits for it (slow: the
 * stream is serialised), summing device milliseconds per kernel name;
 * turning it on also clears the sums. lmz_cuda_profile_report writes one
 * line per kernel, the largest first ("name calls ms share"), into buf
 * (cap bytes, NUL-terminated as snprintf does) and returns the length the
 * whole report needs. */
lmz_status lmz_cuda_set_profile(lmz_cuda *g, int on, lmz_err *err);
size_t lmz_cuda_profile_report(const lmz_cuda *g, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
