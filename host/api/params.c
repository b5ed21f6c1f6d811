/* params.c: the library's version, lmz_params and their mapping onto the
 * pipeline's options. The library reads no environment: a caller (the CLI)
 * fills the params from it. */
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"

const char *lmz_version(void)
{
    return LMZ_VERSION_STRING;
}

void lmz_params_init(lmz_params *p)
{
    if (p)
        memset(p, 0, sizeof *p);
}

lmz_status lmz_api_null(lmz_err *err, const char *fn, const char *what)
{
    return lmz_err_set(err, LMZ_ERR_USAGE, "%s: %s is NULL", fn, what);
}

static int dup_str(char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : -1;
}

lmz_status lmz_api_params_copy(lmz_api_params *out, const lmz_params *p, lmz_err *err)
{
    memset(out, 0, sizeof *out);
    if (p)
        out->p = *p;
    else
        lmz_params_init(&out->p);
    const lmz_params *q = &out->p;
    if ((int)q->device < LMZ_DEVICE_AUTO || q->device > LMZ_DEVICE_CUDA)
        return lmz_err_set(err, LMZ_ERR_USAGE, "params: unknown device %d (auto, cpu or cuda)",
                           (int)q->device);
    if ((int)q->codec < LMZ_CODEC_AUTO || q->codec > LMZ_CODEC_ZSTD)
        return lmz_err_set(err, LMZ_ERR_USAGE, "params: unknown codec %d (auto, lm, lzma2 or zstd)",
                           (int)q->codec);
    if ((int)q->simd < LMZ_SIMD_AUTO || q->simd > LMZ_SIMD_AVX512)
        return lmz_err_set(err, LMZ_ERR_USAGE, "params: unknown SIMD path %d", (int)q->simd);
    if (q->chunks_per_block > LMZ_MAX_CHUNKS_PER_BLOCK)
        return lmz_err_set(err, LMZ_ERR_USAGE, "params: chunks per block must be 1..%d, not %u",
                           LMZ_MAX_CHUNKS_PER_BLOCK, q->chunks_per_block);
    if (dup_str(&out->model, q->model) || dup_str(&out->model_dir, q->model_dir) ||
        dup_str(&out->model_path, q->model_path) || dup_str(&out->kind, q->kind)) {
        lmz_api_params_free(out);
        return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
    }
    out->p.model = out->model;
    out->p.model_dir = out->model_dir;
    out->p.model_path = out->model_path;
    out->p.kind = out->kind;
    return LMZ_OK;
}

void lmz_api_params_free(lmz_api_params *ap)
{
    free(ap->model);
    free(ap->model_dir);
    free(ap->model_path);
    free(ap->kind);
    memset(ap, 0, sizeof *ap);
}

void lmz_api_common_opts(const lmz_api_params *ap, lmz_common_opts *c)
{
    const lmz_params *p = &ap->p;
    memset(c, 0, sizeof *c);
    c->nthreads = p->threads;
    c->device = p->device;
    c->model_spec = p->model;
    c->model_dir = p->model_dir;
    c->model_path = p->model_path;
    c->force = p->force;
    c->progress = p->progress;
    c->progress_ctx = p->progress_ctx;
    c->batch_blocks = p->batch;
    c->simd = p->simd;
    c->cuda_auto = p->cuda_auto;
    c->decode_batch = p->decode_batch;
}
