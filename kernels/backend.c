/* backend.c: the backend interface: argument checks, then a call through
 * the chosen implementation's table (backend_impl.h). Creation resolves
 * --device auto and looks the device up in the registry below, the one
 * place that knows whether this build has CUDA. */
#include <stdlib.h>
#include <string.h>

#include "backend_impl.h"

#ifdef LMZ_HAVE_CUDA
#include "cuda/lmz_cuda.h"
#endif

/* The implementations this build has, with how many devices each sees in
 * this process (NULL: always one, the host). */
typedef struct backend_reg {
    lmz_device dev;
    lmz_backend_init_fn init;
    int (*devices)(void);
} backend_reg;

static const backend_reg registry[] = {
    {LMZ_DEVICE_CPU, lmz_backend_cpu_init, NULL},
#ifdef LMZ_HAVE_CUDA
    {LMZ_DEVICE_CUDA, lmz_backend_cuda_init, lmz_cuda_device_count},
#endif
};

static const backend_reg *find_reg(lmz_device dev)
{
    for (size_t k = 0; k < sizeof registry / sizeof registry[0]; k++)
        if (registry[k].dev == dev)
            return &registry[k];
    return NULL;
}

int lmz_cuda_available(void)
{
    const backend_reg *r = find_reg(LMZ_DEVICE_CUDA);
    return r && r->devices() > 0;
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

lmz_status lmz_backend_create(const lmz_model *m, const lmz_backend_params *params,
                              lmz_backend **out, lmz_err *err)
{
    *out = NULL;
    if (!m)
        return lmz_err_set(err, LMZ_ERR_USAGE, "backend: no model");
    lmz_status st = lmz_model_validate(m, err);
    if (st != LMZ_OK)
        return st;
    lmz_backend_params p = {0};
    if (params)
        p = *params;
    if (p.device != LMZ_DEVICE_AUTO && p.device != LMZ_DEVICE_CPU && p.device != LMZ_DEVICE_CUDA)
        return lmz_err_set(err, LMZ_ERR_USAGE, "backend: unknown device %d", (int)p.device);
    /* AUTO takes a CUDA device when there is one (the CUDA backend writes
     * the CPU's bits, checked on an H200: bench/results/gpu.md), unless the
     * caller keeps it on the CPU (cuda_auto < 0, $LMZ_CUDA_AUTO=0). */
    if (p.device == LMZ_DEVICE_AUTO)
        p.device = p.cuda_auto >= 0 && lmz_cuda_available() ? LMZ_DEVICE_CUDA : LMZ_DEVICE_CPU;
    const backend_reg *r = find_reg(p.device);
    if (!r)
        return lmz_err_set(err, LMZ_ERR_NO_DEVICE,
                           "device cuda: this lmz was built without CUDA (use --device cpu)");
    lmz_backend *b = calloc(1, sizeof *b);
    if (!b)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "backend: out of memory");
    b->m = m;
    st = r->init(b, &p, err);
    if (st != LMZ_OK) {
        free(b);
        return st;
    }
    *out = b;
    return LMZ_OK;
}

void lmz_backend_free(lmz_backend *b)
{
    if (!b)
        return;
    b->iface->free(b);
    free(b);
}

const char *lmz_backend_name(const lmz_backend *b)
{
    return b ? b->iface->name : "cpu";
}

lmz_status lmz_backend_score(lmz_backend *b, int nchunks, const uint8_t *const *data,
                             const uint32_t *len, uint16_t *cum, uint16_t *freq, lmz_err *err)
{
    const size_t ctx = (size_t)b->m->cfg.ctx;
    for (int c = 0; c < nchunks; c++)
        if (len[c] < 1 || len[c] > ctx)
            return lmz_err_set(err, LMZ_ERR_RANGE, "score: chunk %d has %u bytes (allowed 1..%zu)",
                               c, (unsigned)len[c], ctx);
    if (nchunks <= 0)
        return LMZ_OK;
    return b->iface->score(b, nchunks, data, len, cum, freq, err);
}

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
    return b->iface->decode(b, nchunks, streams, stream_len, raw_len, out, err);
}
