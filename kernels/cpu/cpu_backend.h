/* cpu_backend.h: the CPU backend's state, shared by its two files
 * (private to kernels/cpu): cpu_backend.c (creation, score) and
 * cpu_decode.c (decode). */
#ifndef LMZ_CPU_BACKEND_H
#define LMZ_CPU_BACKEND_H

#include "../backend_impl.h"

typedef struct cpu_backend {
    int nthreads;     /* >= 1 */
    int decode_batch; /* 1..LMZ_KV_MANY chunks in flight per decoding thread */
} cpu_backend;

/* Threads for a call over nchunks chunks: no more than there are chunks. */
static inline int cpu_threads_for(const cpu_backend *c, int nchunks)
{
    return nchunks < c->nthreads ? nchunks : c->nthreads;
}

lmz_status lmz_cpu_decode(lmz_backend *b, int nchunks, const uint8_t *const *streams,
                          const uint32_t *stream_len, const uint32_t *raw_len,
                          uint8_t *const *out, lmz_err *err);

#endif
