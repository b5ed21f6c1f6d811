/* lmz_backend.h: one interface, CPU and CUDA behind it (ggml-style).
 *
 * A backend turns chunks into what the coder needs. It does not do I/O or
 * archive work. Every backend gives the same bits as the CPU reference. */
#ifndef LMZ_BACKEND_H
#define LMZ_BACKEND_H

#include <stdint.h>

#include "lmz_error.h"
#include "lmz_model.h"

typedef struct lmz_backend lmz_backend;

typedef enum lmz_device { LMZ_DEVICE_AUTO = 0, LMZ_DEVICE_CPU, LMZ_DEVICE_CUDA } lmz_device;

/* Parse "auto", "cpu" or "cuda"; -1 if none. */
int lmz_device_parse(const char *s);

/* Create a backend for model m (which must outlive it). nthreads <= 0 means
 * all cores. CUDA gives LMZ_ERR_NO_DEVICE when this build has no CUDA or
 * there is no device. AUTO picks the CPU, or CUDA when the environment has
 * LMZ_CUDA_AUTO=1 and a device is present (until the CUDA backend has been
 * verified on hardware: docs/cuda.md). */
lmz_status lmz_backend_create(lmz_device dev, const lmz_model *m, int nthreads,
                              lmz_backend **out, lmz_err *err);
void lmz_backend_free(lmz_backend *b);
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

#endif
