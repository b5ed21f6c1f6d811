// cuda_model.cu: the lmz_cuda object: the model and the lookup tables in
// device memory, one stream, and a grow-on-demand workspace.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"
#include "lmz_cuda.h"

extern "C" {
#include "lmz_tables.h"
}

static lmz_status status_of(cudaError_t e);

lmz_status lmz_cuda_fail(lmz_err *err, const char *what, cudaError_t e)
{
    return lmz_err_set(err, status_of(e), "cuda: %s: %s", what, cudaGetErrorString(e));
}

static lmz_status status_of(cudaError_t e)
{
    return e == cudaErrorMemoryAllocation ? LMZ_ERR_NOMEM
           : (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver) ? LMZ_ERR_NO_DEVICE
                                                                          : LMZ_ERR_GENERIC;
}

// "kernels/cuda/cuda_rows.cu" -> "cuda_rows.cu": __FILE__ is whatever path
// the build gave nvcc, often absolute; the file name is enough.
static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

// Profiling: the device time of the kernel just queued (between the two
// events LMZ_LAUNCH and this put around it), summed under its name.
static cudaError_t profile_kernel(const lmz_cuda *g, const char *kernel)
{
    cudaError_t e = cudaEventRecord(g->prof_ev[1], g->stream);
    if (e == cudaSuccess)
        e = cudaEventSynchronize(g->prof_ev[1]);
    float ms = 0;
    if (e == cudaSuccess)
        e = cudaEventElapsedTime(&ms, g->prof_ev[0], g->prof_ev[1]);
    if (e != cudaSuccess)
        return e;
    int k = 0;
    while (k < g->nprof && strcmp(g->prof[k].kernel, kernel) != 0)
        k++;
    if (k == g->nprof) {
        if (g->nprof == LMZ_CUDA_PROF_MAX) { // full: the last entry sums the rest
            k = LMZ_CUDA_PROF_MAX - 1;
            g->prof[k].kernel = "other";
        } else {
            g->nprof++;
            g->prof[k].kernel = kernel;
        }
    }
    g->prof[k].calls++;
    g->prof[k].ms += ms;
    return cudaSuccess;
}

void lmz_cuda_launched(const lmz_cuda *g, const char *kernel, const char *file, int line)
{
    g->launch.n++;
    cudaError_t e = cudaGetLastError(); // launch configuration, or an earlier fault
    int synced = 0;
    if (e == cudaSuccess && g->profile) {
        e = profile_kernel(g, kernel);
        synced = 1;
    }
    if (e == cudaSuccess && g->sync_check) {
        e = cudaDeviceSynchronize(); // this kernel has run: its own fault shows now
        if (e == cudaSuccess)
            e = cudaGetLastError();
        synced = 1;
    }
    if (e != cudaSuccess && g->launch.e == cudaSuccess) {
        g->launch.e = e;
        g->launch.kernel = kernel;
        g->launch.file = file;
        g->launch.line = line;
        g->launch.synced = synced;
    }
}

void lmz_cuda_launch_reset(lmz_cuda *g)
{
    memset(&g->launch, 0, sizeof g->launch);
    g->launch.e = cudaSuccess;
}

lmz_status lmz_cuda_finish(const lmz_cuda *g, const char *what, cudaError_t e, lmz_err *err)
{
    const cudaError_t le = g->launch.e;
    if (le != cudaSuccess && g->launch.synced)
        return lmz_err_set(err, status_of(le),
                           "cuda: %s: kernel %s (%s:%d, launch %ld of this call) failed: %s", what,
                           g->launch.kernel, base_name(g->launch.file), g->launch.line,
                           g->launch.n, cudaGetErrorString(le));
    if (le != cudaSuccess)
        return lmz_err_set(err, status_of(le),
                           "cuda: %s: launching %s (%s:%d, launch %ld of this call): %s%s", what,
                           g->launch.kernel, base_name(g->launch.file), g->launch.line,
                           g->launch.n, cudaGetErrorString(le),
                           g->sync_check ? ""
                                         : " (or an earlier kernel's fault reported late: "
                                           "LMZ_CUDA_SYNC=1 names the kernel)");
    if (e != cudaSuccess)
        return lmz_err_set(err, status_of(e), "cuda: %s: %s%s", what, cudaGetErrorString(e),
                           g->sync_check ? "" : " (LMZ_CUDA_SYNC=1 names the failing kernel)");
    return LMZ_OK;
}

lmz_status lmz_cuda_smem(const lmz_cuda *g, const void *kernel, const char *name, size_t need,
                         lmz_err *err)
{
    cudaFuncAttributes fa;
    cudaError_t e = cudaFuncGetAttributes(&fa, kernel);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return lmz_err_set(err, status_of(e), "cuda: %s: cudaFuncGetAttributes: %s", name,
                           cudaGetErrorString(e));
    }
    // fa.maxDynamicSharedSizeBytes: what a launch may ask for now (48 KB less
    // the static part until someone opts in)
    if (need <= (size_t)fa.maxDynamicSharedSizeBytes)
        return LMZ_OK;
    int optin = 0;
    e = cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, g->device);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return lmz_err_set(err, status_of(e), "cuda: %s: cudaDeviceGetAttribute: %s", name,
                           cudaGetErrorString(e));
    }
    const size_t stat = fa.sharedSizeBytes;
    const size_t limit = (size_t)optin > stat ? (size_t)optin - stat : 0;
    if (need > limit)
        return lmz_err_set(err, LMZ_ERR_NO_DEVICE,
                           "cuda: %s needs %zu bytes of dynamic shared memory for this model; "
                           "the device allows %zu (opt-in maximum %d per block less %zu static)",
                           name, need, limit, optin, stat);
    // The whole limit rather than `need`: the attribute belongs to the
    // kernel, process-wide, and another model in this process may need more.
    e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)limit);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return lmz_err_set(err, status_of(e),
                           "cuda: %s: cudaFuncSetAttribute(MaxDynamicSharedMemorySize, %zu) "
                           "failed: %s (needs %zu dynamic + %zu static bytes, opt-in maximum %d)",
                           name, limit, cudaGetErrorString(e), need, stat, optin);
    }
    return LMZ_OK;
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
    for (int i = 0; i < 2; i++)
        if (g->prof_ev[i])
            cudaEventDestroy(g->prof_ev[i]);
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
    // Launch configurations that depend on the model (shared memory): fail
    // here, naming the kernel, rather than at the first launch.
    lmz_status st = lmz_cuda_rows_init(g, err);
    if (st == LMZ_OK)
        st = lmz_cuda_attend_init(g, err);
    if (st != LMZ_OK) {
        lmz_cuda_free(g);
        return st;
    }
    lmz_cuda_launch_reset(g);
    *out = g;
    return LMZ_OK;
}

extern "C" void lmz_cuda_set_batch(lmz_cuda *g, int chunks_per_batch)
{
    g->batch = chunks_per_batch > 0 ? chunks_per_batch : 0;
}

extern "C" void lmz_cuda_set_sync(lmz_cuda *g, int on)
{
    g->sync_check = on != 0;
}

extern "C" lmz_status lmz_cuda_set_profile(lmz_cuda *g, int on, lmz_err *err)
{
    if (on && !g->prof_ev[0]) {
        for (int i = 0; i < 2; i++) {
            cudaError_t e = cudaEventCreate(&g->prof_ev[i]);
            if (e != cudaSuccess)
                return lmz_cuda_fail(err, "profiling events", e);
        }
    }
    g->profile = on != 0;
    g->nprof = 0;
    return LMZ_OK;
}

extern "C" size_t lmz_cuda_profile_report(const lmz_cuda *g, char *buf, size_t cap)
{
    double total = 0;
    for (int k = 0; k < g->nprof; k++)
        total += g->prof[k].ms;
    size_t n = 0;
    // largest first: a selection over at most LMZ_CUDA_PROF_MAX names
    char done[LMZ_CUDA_PROF_MAX] = {0};
    for (int r = 0; r < g->nprof; r++) {
        int best = -1;
        for (int k = 0; k < g->nprof; k++)
            if (!done[k] && (best < 0 || g->prof[k].ms > g->prof[best].ms))
                best = k;
        done[best] = 1;
        const int w = snprintf(buf ? buf + n : NULL, buf && n < cap ? cap - n : 0,
                               "%-28s %8ld calls %10.3f ms %5.1f%%\n", g->prof[best].kernel,
                               g->prof[best].calls, g->prof[best].ms,
                               total > 0 ? 100.0 * g->prof[best].ms / total : 0.0);
        if (w > 0)
            n += (size_t)w;
    }
    return n;
}
