/* lmz_backend.h: one interface, CPU and CUDA behind it (ggml-style).
 *
 * A backend turns chunks into what the coder needs. It does not do I/O or
 * archive work. Every backend gives the same bits as the CPU reference.
 * Each implementation fills a table of functions (backend_impl.h); this
 * interface checks the arguments and calls through it. */
#ifndef LMZ_BACKEND_H
#define LMZ_BACKEND_H

#include <stdint.h>

#include "lmz_error.h"
#include "lmz_infer.h"
#include "lmz_model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lmz_backend lmz_backend;

/* lmz_device (LMZ_DEVICE_AUTO, _CPU, _CUDA) is the public enum of lmz.h. */

/* Parse "auto", "cpu" or "cuda"; -1 if none. */
int lmz_device_parse(const char *s);

/* How to build a backend. All zero is the default everywhere (so
 * `lmz_backend_params p = {0}` or a NULL pointer asks for the defaults).
 * The library never reads the environment: the CLI maps LMZ_SIMD,
 * LMZ_CUDA_AUTO, LMZ_DECODE_BATCH and LMZ_CUDA_SYNC onto these fields. None of them
 * changes a single bit of the output; they choose where and how fast. */
typedef struct lmz_backend_params {
    lmz_device device; /* AUTO: CUDA when a device is present (and cuda_auto >= 0), else the CPU */
    int nthreads;      /* CPU threads; <= 0: all cores */
    lmz_simd simd;     /* CPU SIMD path; AUTO: leave the process's path (the best this
                          CPU runs unless lmz_simd_select chose another). The path is
                          process-wide (lmz_infer.h), so a non-AUTO choice applies to
                          every CPU inference from then on. */
    int cuda_auto;     /* < 0: AUTO stays on the CPU; 0 (default) or 1: AUTO picks
                          CUDA when a device is present. On by default since the
                          CUDA backend passed its checks on an H200 (docs/cuda.md,
                          bench/results/gpu.md); archives are the same bits. */
    int decode_batch;  /* chunks each CPU decoding thread steps together,
                          1..LMZ_KV_MANY; anything else: LMZ_KV_MANY */
    int cuda_sync;     /* 1: debugging: CUDA waits for and checks every kernel
                          launch, so an error names the failing kernel and its
                          launch site (docs/cuda.md); slow. The CLI maps
                          LMZ_CUDA_SYNC=1 onto it. */
} lmz_backend_params;

/* Create a backend for model m (which must outlive it); p NULL: defaults.
 * CUDA gives LMZ_ERR_NO_DEVICE when this build has no CUDA or there is no
 * device; a SIMD path this CPU cannot run gives LMZ_ERR_NO_DEVICE too. */
lmz_status lmz_backend_create(const lmz_model *m, const lmz_backend_params *p,
                              lmz_backend **out, lmz_err *err);
void lmz_backend_free(lmz_backend *b);
/* "cpu" or "cuda". */
const char *lmz_backend_name(const lmz_backend *b);

/* Encode side. For chunk c (0 <= c < nchunks) of len[c] bytes (1..ctx) at
 * data[c], write the coder's view of each byte i: cum[c*ctx + i] and
 * freq[c*ctx + i], ctx = the model's context. Chunks run in parallel. */
lmz_status lmz_backend_score(lmz_backend *b, int nchunks,
                             const uint8_t *const *data, const uint32_t *len,
                             uint16_t *cum, uint16_t *freq, lmz_err *err);

/* Decode side. For chunk c, range-decode raw_len[c] bytes from the coded
 * stream streams[c] (stream_len[c] bytes) into out[c]. Any bytes decode to
 * something (the caller checks the block's raw checksum). */
lmz_status lmz_backend_decode(lmz_backend *b, int nchunks,
                              const uint8_t *const *streams, const uint32_t *stream_len,
                              const uint32_t *raw_len, uint8_t *const *out,
                              lmz_err *err);

/* 1 if a CUDA device can be used in this process, else 0. */
int lmz_cuda_available(void);

#ifdef __cplusplus
}
#endif

#endif
