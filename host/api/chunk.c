/* chunk.c: one model coding single chunks (lmz.h): the model's scores and
 * the range coder's one chunk loop (lmz_rc_encode_chunk) on the encode
 * side, the backend's decoder on the other, exactly as inside a coded
 * block. */
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "lmz_coder.h"
#include "lmz_modelfile.h"

struct lmz_coder {
    lmz_model *model;
    lmz_backend *be;
    uint16_t *cum, *freq;  /* one chunk's scores */
    char hash[33];
};

lmz_coder *lmz_coder_create(const lmz_params *p, lmz_error *err)
{
    lmz_api_params ap;
    if (lmz_api_params_copy(&ap, p, err))
        return NULL;
    lmz_coder *c = calloc(1, sizeof *c);
    lmz_status rc = c ? LMZ_OK : lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
    const char *kind = ap.p.kind ? ap.p.kind : "text";
    const char *spec = ap.p.model ? ap.p.model : lmz_default_model_for_kind(kind);
    int shipped = 0;
    if (!rc)
        rc = lmz_model_resolve(spec, ap.p.model_dir, ap.p.model_path, &c->model, &shipped, err);
    if (!rc) {
        lmz_common_opts co;
        lmz_api_common_opts(&ap, &co);
        const lmz_backend_params bp = lmz_common_backend_params(&co);
        rc = lmz_backend_create(c->model, &bp, &c->be, err);
    }
    if (!rc) {
        size_t ctx = (size_t)c->model->cfg.ctx;
        c->cum = malloc(ctx * sizeof *c->cum);
        c->freq = malloc(ctx * sizeof *c->freq);
        if (!c->cum || !c->freq)
            rc = lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
        lmz_model_hash_hex(c->model, c->hash);
    }
    lmz_api_params_free(&ap);
    if (rc) {
        lmz_coder_free(c);
        return NULL;
    }
    return c;
}

void lmz_coder_free(lmz_coder *c)
{
    if (!c)
        return;
    lmz_backend_free(c->be);
    lmz_model_free(c->model);
    free(c->cum);
    free(c->freq);
    free(c);
}

size_t lmz_coder_chunk_size(const lmz_coder *c)
{
    return c ? (size_t)c->model->cfg.ctx : 0;
}

const char *lmz_coder_model_hash(const lmz_coder *c)
{
    return c ? c->hash : "";
}

static lmz_status check_len(const lmz_coder *c, size_t n, lmz_err *err)
{
    if (n > (size_t)c->model->cfg.ctx)
        return lmz_err_set(err, LMZ_ERR_RANGE, "a chunk of %zu bytes is longer than the model's "
                                               "context (%d)", n, c->model->cfg.ctx);
    return LMZ_OK;
}

lmz_status lmz_chunk_encode(lmz_coder *c, const void *raw, size_t n, void *out, size_t cap,
                            size_t *outlen, lmz_error *err)
{
    if (outlen)
        *outlen = 0;
    if (!c || (!raw && n) || (!out && cap) || !outlen)
        return lmz_api_null(err, "lmz_chunk_encode",
                            !c ? "coder" : !outlen ? "outlen" : !out ? "out" : "raw");
    lmz_status rc = check_len(c, n, err);
    if (rc || n == 0)
        return rc; /* an empty chunk is an empty stream */
    const uint8_t *data = raw;
    const uint32_t len = (uint32_t)n;
    rc = lmz_backend_score(c->be, 1, &data, &len, c->cum, c->freq, err);
    if (rc)
        return rc;
    size_t got = lmz_rc_encode_chunk(c->cum, c->freq, len, out, cap);
    if (got == (size_t)-1)
        return lmz_err_set(err, LMZ_ERR_RANGE,
                           "the stream of this %zu-byte chunk does not fit in %zu bytes", n, cap);
    *outlen = got;
    return LMZ_OK;
}

lmz_status lmz_chunk_decode(lmz_coder *c, const void *in, size_t inlen, void *out, size_t n,
                            lmz_error *err)
{
    if (!c || (!in && inlen) || (!out && n))
        return lmz_api_null(err, "lmz_chunk_decode", !c ? "coder" : !out ? "out" : "in");
    lmz_status rc = check_len(c, n, err);
    if (rc || n == 0)
        return rc;
    if (inlen > UINT32_MAX)
        return lmz_err_set(err, LMZ_ERR_RANGE, "a stream of %zu bytes is too long for a chunk",
                           inlen);
    const uint8_t *s = in;
    uint8_t *o = out;
    const uint32_t sl = (uint32_t)inlen, rl = (uint32_t)n;
    return lmz_backend_decode(c->be, 1, &s, &sl, &rl, &o, err);
}
