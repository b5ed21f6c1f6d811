/* backend.c: the backend interface: the CPU reference below, and the CUDA
 * backend (kernels/cuda, LMZ_HAVE_CUDA) when --device cuda asks for it.
 *
 * Chunks are independent, so both directions run one OpenMP parallel region
 * per call with dynamic assignment of chunks to threads; each thread
 * allocates its scratch (and KV caches) once per call. Decoding steps a few
 * chunks per thread together (lmz_kv_step_many). A chunk's result depends
 * only on the chunk, so any thread count and any number in flight give the
 * same bits. */
#include "lmz_backend.h"

#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "lmz_coder.h"
#include "lmz_infer.h"

#ifdef LMZ_HAVE_CUDA
#include "cuda/lmz_cuda.h"
#else
typedef struct lmz_cuda lmz_cuda;
#endif

struct lmz_backend {
    lmz_device dev;
    const lmz_model *m;
    int nthreads;
    lmz_cuda *cuda; /* dev == LMZ_DEVICE_CUDA: the CUDA backend (kernels/cuda) */
};

int lmz_cuda_available(void)
{
#ifdef LMZ_HAVE_CUDA
    return lmz_cuda_device_count() > 0;
#else
    return 0;
#endif
}

int lmz_device_parse(const char *s)
{
    if (!s)
        return -1;
    if (strcmp(s, "auto") == 0)
        return LMZ_DEVICE_AUTO;
    if (strcmp(s, "cpu") == 0)
        return LMZ_DEVICE_CPU;
    if (strcmp(s, "cuda") == 0)
        return LMZ_DEVICE_CUDA;
    return -1;
}

static int default_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

lmz_status lmz_backend_create(lmz_device dev, const lmz_model *m, int nthreads,
                              lmz_backend **out, lmz_err *err)
{
    *out = NULL;
    if (!m)
        return lmz_err_set(err, LMZ_ERR_USAGE, "backend: no model");
    lmz_status st = lmz_model_validate(m, err);
    if (st != LMZ_OK)
        return st;
    if (dev != LMZ_DEVICE_AUTO && dev != LMZ_DEVICE_CPU && dev != LMZ_DEVICE_CUDA)
        return lmz_err_set(err, LMZ_ERR_USAGE, "backend: unknown device %d", (int)dev);
    /* AUTO keeps choosing the CPU unless LMZ_CUDA_AUTO=1: the CUDA kernels
     * have not yet been run on a GPU (docs/cuda.md lists what is unverified),
     * so nobody gets them without asking. --device cuda asks. */
    if (dev == LMZ_DEVICE_AUTO) {
        const char *ca = getenv("LMZ_CUDA_AUTO");
        dev = ca && strcmp(ca, "1") == 0 && lmz_cuda_available() ? LMZ_DEVICE_CUDA
                                                                  : LMZ_DEVICE_CPU;
    }
    if (dev == LMZ_DEVICE_CUDA) {
#ifdef LMZ_HAVE_CUDA
        lmz_cuda *g = NULL;
        st = lmz_cuda_create(m, &g, err); /* LMZ_ERR_NO_DEVICE without a device */
        if (st != LMZ_OK)
            return st;
        lmz_backend *gb = calloc(1, sizeof *gb);
        if (!gb) {
            lmz_cuda_free(g);
            return lmz_err_set(err, LMZ_ERR_NOMEM, "backend: out of memory");
        }
        gb->dev = LMZ_DEVICE_CUDA;
        gb->m = m;
        gb->nthreads = nthreads > 0 ? nthreads : default_threads();
        gb->cuda = g;
        *out = gb;
        return LMZ_OK;
#else
        return lmz_err_set(err, LMZ_ERR_NO_DEVICE,
                           "device cuda: this lmz was built without CUDA (use --device cpu)");
#endif
    }
    lmz_backend *b = calloc(1, sizeof *b);
    if (!b)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "backend: out of memory");
    b->dev = LMZ_DEVICE_CPU;
    b->m = m;
    b->nthreads = nthreads > 0 ? nthreads : default_threads();
    *out = b;
    return LMZ_OK;
}

void lmz_backend_free(lmz_backend *b)
{
#ifdef LMZ_HAVE_CUDA
    if (b && b->cuda)
        lmz_cuda_free(b->cuda);
#endif
    free(b);
}

const char *lmz_backend_name(const lmz_backend *b)
{
    return b && b->dev == LMZ_DEVICE_CUDA ? "cuda" : "cpu";
}

static int threads_for(const lmz_backend *b, int nchunks)
{
    return nchunks < b->nthreads ? nchunks : b->nthreads;
}

lmz_status lmz_backend_score(lmz_backend *b, int nchunks, const uint8_t *const *data,
                             const uint32_t *len, uint16_t *cum, uint16_t *freq, lmz_err *err)
{
    const lmz_model *m = b->m;
    const size_t ctx = (size_t)m->cfg.ctx;
    for (int c = 0; c < nchunks; c++)
        if (len[c] < 1 || len[c] > ctx)
            return lmz_err_set(err, LMZ_ERR_RANGE, "score: chunk %d has %u bytes (allowed 1..%zu)",
                               c, (unsigned)len[c], ctx);
    if (nchunks <= 0)
        return LMZ_OK;
#ifdef LMZ_HAVE_CUDA
    if (b->cuda)
        return lmz_cuda_score(b->cuda, nchunks, data, len, cum, freq, NULL, err);
#endif

    lmz_status failed = LMZ_OK;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads_for(b, nchunks))
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
        if (mine != LMZ_OK) {
#ifdef _OPENMP
#pragma omp critical(lmz_backend_status)
#endif
            failed = mine;
        }
    }
    if (failed != LMZ_OK)
        return lmz_err_set(err, failed, "score: %s", failed == LMZ_ERR_NOMEM
                                                          ? "out of memory"
                                                          : "inference failed");
    return LMZ_OK;
}

/* How many chunks each decoding thread keeps in flight: LMZ_DECODE_BATCH
 * (1 .. LMZ_KV_MANY; a tuning and testing knob, the bits never depend on
 * it), by default LMZ_KV_MANY. Stepping several chunks together lets each
 * step's linear layers read their weights once for all of them
 * (lmz_kv_step_many). */
static int decode_batch(void)
{
    const char *e = getenv("LMZ_DECODE_BATCH");
    const int v = e ? atoi(e) : 0;
    return v >= 1 && v <= LMZ_KV_MANY ? v : LMZ_KV_MANY;
}

/* One chunk being decoded: at each position the model's table names the
 * byte that the range decoder reads, and that byte is the next position's
 * input. The range decoding of a chunk stays in its own order. */
typedef struct dec_slot {
    lmz_kv *kv;
    lmz_rc_dec dec;
    uint8_t *out;
    uint32_t pos, len;
} dec_slot;

lmz_status lmz_backend_decode(lmz_backend *b, int nchunks, const uint8_t *const *streams,
                              const uint32_t *stream_len, const uint32_t *raw_len,
                              uint8_t *const *out, lmz_err *err)
{
    const lmz_model *m = b->m;
    for (int c = 0; c < nchunks; c++)
        if (raw_len[c] > (uint32_t)m->cfg.ctx)
            return lmz_err_set(err, LMZ_ERR_RANGE,
                               "decode: chunk %d has %u bytes (allowed up to %d)", c,
                               (unsigned)raw_len[c], (int)m->cfg.ctx);
    if (nchunks <= 0)
        return LMZ_OK;
#ifdef LMZ_HAVE_CUDA
    if (b->cuda)
        return lmz_cuda_decode(b->cuda, nchunks, streams, stream_len, raw_len, out, err);
#endif

    /* Each thread keeps up to `batch` chunks in flight and steps them
     * together; a finished chunk's slot takes the next unclaimed chunk of
     * the call (a shared counter: dynamic assignment, so threads share the
     * chunks however their lengths differ). With few chunks per thread the
     * batch shrinks so that no thread claims work another would idle for. */
    const int nt = threads_for(b, nchunks);
    int batch = decode_batch();
    const int per_thread = (nchunks + nt - 1) / nt;
    if (batch > per_thread)
        batch = per_thread;
    int next = 0;
    lmz_status failed = LMZ_OK;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
#endif
    {
        lmz_scratch *s = lmz_scratch_create(&m->cfg);
        dec_slot slot[LMZ_KV_MANY];
        lmz_kv *kvs[LMZ_KV_MANY];
        int input[LMZ_KV_MANY];
        uint16_t tables[LMZ_KV_MANY * LMZ_VOCAB];
        uint32_t cum[LMZ_VOCAB + 1];
        lmz_status mine = s ? LMZ_OK : LMZ_ERR_NOMEM;
        for (int k = 0; k < batch; k++) {
            slot[k].kv = lmz_kv_create(&m->cfg);
            if (!slot[k].kv)
                mine = LMZ_ERR_NOMEM;
        }
        /* live slots are slot[0 .. live): a finished one swaps with the last */
        int live = 0;
        for (;;) {
            while (mine == LMZ_OK && live < batch) {
                int c;
#ifdef _OPENMP
#pragma omp atomic capture
#endif
                c = next++;
                if (c >= nchunks)
                    break;
                if (raw_len[c] == 0)
                    continue; /* nothing to decode */
                dec_slot *d = &slot[live];
                lmz_kv_reset(d->kv);
                lmz_rc_dec_init(&d->dec, streams[c], stream_len[c]);
                d->out = out[c];
                d->pos = 0;
                d->len = raw_len[c];
                live++;
            }
            if (live == 0 || mine != LMZ_OK)
                break;
            for (int k = 0; k < live; k++) {
                kvs[k] = slot[k].kv;
                input[k] = slot[k].pos == 0 ? 0 : slot[k].out[slot[k].pos - 1];
            }
            mine = lmz_kv_step_many(m, s, kvs, live, input, tables);
            if (mine != LMZ_OK)
                break;
            for (int k = 0; k < live;) {
                dec_slot *d = &slot[k];
                const uint16_t *freq = tables + (size_t)k * LMZ_VOCAB;
                lmz_freq_to_cum(freq, cum);
                const uint32_t target = lmz_rc_dec_target(&d->dec);
                const int sym = lmz_cum_find(cum, target);
                lmz_rc_dec_consume(&d->dec, cum[sym], freq[sym]);
                d->out[d->pos++] = (uint8_t)sym;
                if (d->pos == d->len) {
                    /* done: the last live slot, and its table, move here
                     * (the finished slot keeps its cache for reuse) */
                    const dec_slot t = slot[k];
                    slot[k] = slot[live - 1];
                    slot[live - 1] = t;
                    live--;
                    if (k < live)
                        memcpy(tables + (size_t)k * LMZ_VOCAB, tables + (size_t)live * LMZ_VOCAB,
                               LMZ_VOCAB * sizeof *tables);
                    continue;
                }
                k++;
            }
        }
        for (int k = 0; k < batch; k++)
            lmz_kv_free(slot[k].kv);
        lmz_scratch_free(s);
        if (mine != LMZ_OK) {
#ifdef _OPENMP
#pragma omp critical(lmz_backend_status)
#endif
            failed = mine;
        }
    }
    if (failed != LMZ_OK)
        return lmz_err_set(err, failed, "decode: %s", failed == LMZ_ERR_NOMEM
                                                           ? "out of memory"
                                                           : "inference failed");
    return LMZ_OK;
}
