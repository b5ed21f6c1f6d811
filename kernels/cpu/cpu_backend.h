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

/* A worker thread's end: its status into *failed (shared by the parallel
 * region; the last failure wins), then the call's status from that, the
 * message naming what ("score", "decode"). */
void lmz_cpu_note_status(lmz_status *failed, lmz_status mine);
lmz_status lmz_cpu_call_status(lmz_status failed, const char *what, lmz_err *err);

lmz_status lmz_cpu_decode(lmz_backend *b, int nchunks, const uint8_t *const *streams,
                          const uint32_t *stream_len, const uint32_t *raw_len,
                          uint8_t *const *out, lmz_err *err);

#endif
