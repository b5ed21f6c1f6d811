// cuda_model.cu: the lmz_cuda object: the model and the lookup tables in
// device memory, one stream, and a grow-on-demand workspace.
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"
#include "lmz_cuda.h"

extern "C" {
#include "lmz_tables.h"
}

lmz_status lmz_cuda_fail(lmz_err *err, const char *what, cudaError_t e)
{
    const lmz_status st =
        e == cudaErrorMemoryAllocation ? LMZ_ERR_NOMEM
        : (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver) ? LMZ_ERR_NO_DEVICE
                                                                       : LMZ_ERR_GENERIC;
    return lmz_err_set(err, st, "cuda: %s: %s", what, cudaGetErrorString(e));
}

cudaError_t lmz_cuda_ws(lmz_cuda *g, int k, size_t n, void **out)
{
    lmz_dbuf *b = &g->ws[k];
    if (n == 0)
        n = 1;
    if (b->cap < n) {
        if (b->p) {
            cudaFree(b->p);
            b->p = NULL;
            b->cap = 0;
        }
        cudaError_t e = cudaMalloc(&b->p, n);
        if (e != cudaSuccess) {
            b->p = NULL;
            return e;
        }
        b->cap = n;
    }
    *out = b->p;
    return cudaSuccess;
}

// Copy n bytes of host memory to a new device allocation owned by g.
static cudaError_t upload(lmz_cuda *g, const void *src, size_t n, void **dst)
{
    if (g->nallocs == g->allocs_cap) {
        int cap = g->allocs_cap ? 2 * g->allocs_cap : 64;
        void **a = (void **)realloc(g->allocs, (size_t)cap * sizeof *a);
        if (!a)
            return cudaErrorMemoryAllocation;
        g->allocs = a;
        g->allocs_cap = cap;
    }
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, n ? n : 1);
    if (e != cudaSuccess)
        return e;
    g->allocs[g->nallocs++] = p;
    if (n)
        e = cudaMemcpy(p, src, n, cudaMemcpyHostToDevice);
    *dst = p;
    return e;
}

static cudaError_t upload_linear(lmz_cuda *g, const lmz_linear *l, lmz_dlinear *d)
{
    void *p;
    cudaError_t e;
    d->out = l->out;
    d->in = l->in;
    if ((e = upload(g, l->w, (size_t)l->out * (size_t)l->in, &p)) != cudaSuccess)
        return e;
    d->w = (const int8_t *)p;
    if ((e = upload(g, l->mult, (size_t)l->out * 4, &p)) != cudaSuccess)
        return e;
    d->mult = (const int32_t *)p;
    if ((e = upload(g, l->shift, (size_t)l->out * 4, &p)) != cudaSuccess)
        return e;
    d->shift = (const int32_t *)p;
    if ((e = upload(g, l->bias, (size_t)l->out * 4, &p)) != cudaSuccess)
        return e;
    d->bias = (const int32_t *)p;
    return cudaSuccess;
}

extern "C" void lmz_cuda_free(lmz_cuda *g)
{
    if (!g)
        return;
    for (int k = 0; k < (int)(sizeof g->ws / sizeof g->ws[0]); k++)
        if (g->ws[k].p)
            cudaFree(g->ws[k].p);
    for (int k = 0; k < g->nallocs; k++)
        cudaFree(g->allocs[k]);
    if (g->stream)
        cudaStreamDestroy(g->stream);
    free(g->allocs);
    free(g->lin);
    free(g);
}

extern "C" lmz_status lmz_cuda_create(const lmz_model *m, lmz_cuda **out, lmz_err *err)
{
    *out = NULL;
    if (lmz_cuda_device_count() <= 0)
        return lmz_err_set(err, LMZ_ERR_NO_DEVICE, "device cuda: no CUDA device found");
    lmz_cuda *g = (lmz_cuda *)calloc(1, sizeof *g);
    if (!g)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "cuda: out of memory");
    g->cfg = m->cfg;
    const int L = m->cfg.n_layers, d = m->cfg.d_model;
    g->lin = (lmz_dlinear *)calloc((size_t)L * LMZ_LIN_PER_LAYER + 1, sizeof *g->lin);
    cudaError_t e = g->lin ? cudaSuccess : cudaErrorMemoryAllocation;
    if (e == cudaSuccess)
        e = cudaGetDevice(&g->device);
    if (e == cudaSuccess)
        e = cudaStreamCreateWithFlags(&g->stream, cudaStreamNonBlocking);
    // tables: gelu (4097 int32), exp_hi (1024 uint32), exp_lo (64 uint32)
    if (e == cudaSuccess) {
        const size_t ng = sizeof LMZ_GELU_T, nh = sizeof LMZ_EXP_HI, nl = sizeof LMZ_EXP_LO;
        uint8_t *host = (uint8_t *)malloc(ng + nh + nl);
        void *p = NULL;
        if (!host) {
            e = cudaErrorMemoryAllocation;
        } else {
            memcpy(host, LMZ_GELU_T, ng);
            memcpy(host + ng, LMZ_EXP_HI, nh);
            memcpy(host + ng + nh, LMZ_EXP_LO, nl);
            e = upload(g, host, ng + nh + nl, &p);
            free(host);
        }
        if (e == cudaSuccess) {
            g->tabs.gelu = (const int32_t *)p;
            g->tabs.exp_hi = (const uint32_t *)((uint8_t *)p + ng);
            g->tabs.exp_lo = (const uint32_t *)((uint8_t *)p + ng + nh);
        }
    }
    void *p;
    if (e == cudaSuccess && (e = upload(g, m->emb, (size_t)256 * d, &p)) == cudaSuccess)
        g->emb = (const int8_t *)p;
    if (e == cudaSuccess && (e = upload(g, m->emb_mult, 256 * 4, &p)) == cudaSuccess)
        g->emb_mult = (const int32_t *)p;
    if (e == cudaSuccess && (e = upload(g, m->emb_shift, 256 * 4, &p)) == cudaSuccess)
        g->emb_shift = (const int32_t *)p;
    for (int l = 0; l < L && e == cudaSuccess; l++) {
        const lmz_layer *ly = &m->layers[l];
        const lmz_linear *src[LMZ_LIN_PER_LAYER] = {&ly->qkv, &ly->proj, &ly->ff1, &ly->ff2};
        for (int k = 0; k < LMZ_LIN_PER_LAYER && e == cudaSuccess; k++)
            e = upload_linear(g, src[k], &g->lin[l * LMZ_LIN_PER_LAYER + k]);
    }
    if (e == cudaSuccess)
        e = upload_linear(g, &m->head, &g->lin[L * LMZ_LIN_PER_LAYER]);
    if (e != cudaSuccess) {
        lmz_status st = lmz_cuda_fail(err, "loading the model", e);
        cudaGetLastError();
        lmz_cuda_free(g);
        return st;
    }
    *out = g;
    return LMZ_OK;
}

extern "C" void lmz_cuda_set_batch(lmz_cuda *g, int chunks_per_batch)
{
    g->batch = chunks_per_batch > 0 ? chunks_per_batch : 0;
}
