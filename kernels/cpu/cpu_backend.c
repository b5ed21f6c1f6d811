/* cpu_backend.c: the CPU reference behind the backend interface: creation
 * and the encoder's side (score); cpu_decode.c has the decoder's side.
 *
 * Chunks are independent, so both directions run one OpenMP parallel region
 * per call with dynamic assignment of chunks to threads; each thread
 * allocates its scratch (and KV caches) once per call. A chunk's result
 * depends only on the chunk, so any thread count gives the same bits. */
#include <stdlib.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu_backend.h"
#include "lmz_infer.h"

static int default_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static void cpu_free(lmz_backend *b)
{
    free(b->ctx);
    b->ctx = NULL;
}

void lmz_cpu_note_status(lmz_status *failed, lmz_status mine)
{
    if (mine != LMZ_OK) {
#ifdef _OPENMP
#pragma omp critical(lmz_backend_status)
#endif
        *failed = mine;
    }
}

lmz_status lmz_cpu_call_status(lmz_status failed, const char *what, lmz_err *err)
{
    if (failed != LMZ_OK)
        return lmz_err_set(err, failed, "%s: %s", what,
                           failed == LMZ_ERR_NOMEM ? "out of memory" : "inference failed");
    return LMZ_OK;
}

static lmz_status cpu_score(lmz_backend *b, int nchunks, const uint8_t *const *data,
                            const uint32_t *len, uint16_t *cum, uint16_t *freq, lmz_err *err)
{
    const cpu_backend *cb = b->ctx;
    const lmz_model *m = b->m;
    const size_t ctx = (size_t)m->cfg.ctx;
    lmz_status failed = LMZ_OK;
#ifdef _OPENMP
#pragma omp parallel num_threads(cpu_threads_for(cb, nchunks))
#endif
    {
        lmz_scratch *s = lmz_scratch_create(&m->cfg);
        lmz_status mine = s ? LMZ_OK : LMZ_ERR_NOMEM;
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (int c = 0; c < nchunks; c++) {
            if (mine != LMZ_OK)
                continue; /* cannot leave a worksharing loop; skip the rest */
            mine = lmz_forward_chunk(m, s, data[c], (int)len[c], cum + (size_t)c * ctx,
                                     freq + (size_t)c * ctx, NULL);
        }
        lmz_scratch_free(s);
        lmz_cpu_note_status(&failed, mine);
    }
    return lmz_cpu_call_status(failed, "score", err);
}

static const lmz_backend_i cpu_iface = {
    .name = "cpu",
    .free = cpu_free,
    .score = cpu_score,
    .decode = lmz_cpu_decode,
};

lmz_status lmz_backend_cpu_init(lmz_backend *b, const lmz_backend_params *p, lmz_err *err)
{
    /* The SIMD path is process-wide (the kernels read one table), so a
     * backend that asks for one sets it for everyone; every path computes
     * the same bits, so this can only change the speed of others. */
    static const char *const simd_names[] = {"auto", "scalar", "avx2", "avx512"};
    if (p->simd != LMZ_SIMD_AUTO && lmz_simd_select(p->simd) != LMZ_OK)
        return lmz_err_set(err, LMZ_ERR_NO_DEVICE, "simd: this CPU or build cannot run %s",
                           p->simd > 0 && p->simd <= LMZ_SIMD_AVX512 ? simd_names[p->simd]
                                                                     : "that path");
    cpu_backend *c = malloc(sizeof *c);
    if (!c)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "backend: out of memory");
    c->nthreads = p->nthreads > 0 ? p->nthreads : default_threads();
    /* Stepping several chunks together lets each step's linear layers read
     * their weights once for all of them (lmz_kv_step_many); the bits never
     * depend on the number. */
    c->decode_batch = p->decode_batch >= 1 && p->decode_batch <= LMZ_KV_MANY ? p->decode_batch
                                                                            : LMZ_KV_MANY;
    b->iface = &cpu_iface;
    b->ctx = c;
    return LMZ_OK;
}
