/* model_v2.c: life cycle of a v2 model (lmz_model_v2.h). The tensors are
 * v1's, so allocation, range checks and most of the serialization are v1's
 * code; only the version and the K/V shifts are new. */
#include "lmz_model_v2.h"

#include <stdlib.h>
#include <string.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

lmz_model_v2 *lmz_model_v2_alloc(const lmz_config *cfg)
{
    lmz_model_v2 *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->m = lmz_model_alloc(cfg);
    if (m->m) {
        const size_t n = (size_t)cfg->n_layers * (size_t)cfg->n_heads;
        m->k_shift = calloc(n, sizeof *m->k_shift);
        m->v_shift = calloc(n, sizeof *m->v_shift);
    }
    if (!m->m || !m->k_shift || !m->v_shift) {
        lmz_model_v2_free(m);
        return NULL;
    }
    m->m->arith_version = LMZ_ARITH_V2;
    return m;
}

void lmz_model_v2_free(lmz_model_v2 *m)
{
    if (!m)
        return;
    lmz_model_free(m->m);
    free(m->k_shift);
    free(m->v_shift);
    free(m);
}

lmz_status lmz_model_v2_validate(const lmz_model_v2 *m, lmz_err *err)
{
    if (!m || !m->m || !m->k_shift || !m->v_shift)
        return lmz_err_set(err, LMZ_ERR_MODEL_INVALID, "model: missing");
    if (m->m->arith_version != LMZ_ARITH_V2)
        return lmz_err_set(err, LMZ_ERR_VERSION,
                           "model: made for arithmetic version %d, expected version %d",
                           (int)m->m->arith_version, LMZ_ARITH_V2);
    /* The tensors obey v1's rules exactly; lmz_model_validate checks them
     * for a version-1 model, so check a shallow copy labelled version 1
     * (no tensor is copied or changed). */
    lmz_model tensors = *m->m;
    tensors.arith_version = LMZ_ARITH_VERSION;
    lmz_status st = lmz_model_validate(&tensors, err);
    if (st != LMZ_OK)
        return st;
    const size_t n = (size_t)m->m->cfg.n_layers * (size_t)m->m->cfg.n_heads;
    for (size_t i = 0; i < n; i++) {
        if (m->k_shift[i] < 0 || m->k_shift[i] > LMZ_V2_MAX_KV_SHIFT ||
            m->v_shift[i] < 0 || m->v_shift[i] > LMZ_V2_MAX_KV_SHIFT)
            return lmz_err_set(err, LMZ_ERR_MODEL_INVALID,
                               "model: layer %d head %d: k_shift %d / v_shift %d outside "
                               "[0, %d]",
                               (int)(i / (size_t)m->m->cfg.n_heads),
                               (int)(i % (size_t)m->m->cfg.n_heads), (int)m->k_shift[i],
                               (int)m->v_shift[i], LMZ_V2_MAX_KV_SHIFT);
    }
    return LMZ_OK;
}

static void put_i32s(void (*sink)(void *, const void *, size_t), void *ctx, const int32_t *v,
                     size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const uint32_t u = (uint32_t)v[i];
        const uint8_t le[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16),
                               (uint8_t)(u >> 24)};
        sink(ctx, le, 4);
    }
}

void lmz_model_v2_serialize(const lmz_model_v2 *m,
                            void (*sink)(void *ctx, const void *bytes, size_t n), void *ctx)
{
    /* v1's serializer writes m->arith_version (2 here) into the header. */
    lmz_model_serialize(m->m, sink, ctx);
    const size_t n = (size_t)m->m->cfg.n_layers * (size_t)m->m->cfg.n_heads;
    put_i32s(sink, ctx, m->k_shift, n);
    put_i32s(sink, ctx, m->v_shift, n);
}

static void hash_sink(void *ctx, const void *bytes, size_t n)
{
    XXH3_128bits_update((XXH3_state_t *)ctx, bytes, n);
}

void lmz_model_v2_compute_hash(lmz_model_v2 *m)
{
    XXH3_state_t st;
    memset(&st, 0, sizeof st);
    XXH3_128bits_reset(&st);
    lmz_model_v2_serialize(m, hash_sink, &st);
    const XXH128_hash_t h = XXH3_128bits_digest(&st);
    for (int i = 0; i < 8; i++) {
        m->m->hash[i] = (uint8_t)(h.high64 >> (56 - 8 * i));
        m->m->hash[8 + i] = (uint8_t)(h.low64 >> (56 - 8 * i));
    }
}
