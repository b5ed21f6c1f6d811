/* kv.c: the KV cache and the incremental step (the decoder's path).
 *
 * The cache holds, per layer, the k8/ak/v8/av rows of every position so far
 * in the same layout as the full pass; a step computes one new position's
 * rows and attends over 0..pos with the shared block.c steps. */
#include <stdlib.h>

#include "lmz_cpu.h"

struct lmz_kv {
    lmz_config cfg;
    int len;        /* positions cached */
    int32_t *x;     /* d: the step's residual stream */
    /* per layer l: rows at [l * ctx * d], scales at [l * ctx * H], head-major
     * inside a layer (head h's scale of position p at [h * ctx + p]) */
    int8_t *k8, *v8;
    int32_t *ak, *av;
};

lmz_kv *lmz_kv_create(const lmz_config *cfg)
{
    if (!cfg || lmz_config_validate(cfg, NULL) != LMZ_OK)
        return NULL;
    lmz_kv *kv = calloc(1, sizeof *kv);
    if (!kv)
        return NULL;
    kv->cfg = *cfg;
    const size_t rows = (size_t)cfg->n_layers * (size_t)cfg->ctx;
    const size_t d = (size_t)cfg->d_model, H = (size_t)cfg->n_heads;
    kv->x = malloc(d * sizeof *kv->x);
    kv->k8 = malloc(rows * d);
    kv->v8 = malloc(rows * d);
    kv->ak = malloc(rows * H * sizeof *kv->ak);
    kv->av = malloc(rows * H * sizeof *kv->av);
    if (!kv->x || !kv->k8 || !kv->v8 || !kv->ak || !kv->av) {
        lmz_kv_free(kv);
        return NULL;
    }
    return kv;
}

void lmz_kv_free(lmz_kv *kv)
{
    if (!kv)
        return;
    free(kv->x);
    free(kv->k8);
    free(kv->v8);
    free(kv->ak);
    free(kv->av);
    free(kv);
}

void lmz_kv_reset(lmz_kv *kv)
{
    kv->len = 0;
}

int lmz_kv_len(const lmz_kv *kv)
{
    return kv->len;
}

lmz_status lmz_kv_step(const lmz_model *m, lmz_scratch *s, lmz_kv *kv, int input_byte,
                       uint16_t table[256])
{
    const lmz_config *c = &m->cfg;
    if (kv->cfg.d_model != c->d_model || kv->cfg.n_heads != c->n_heads ||
        kv->cfg.n_layers != c->n_layers || s->cfg.d_model != c->d_model ||
        s->cfg.n_heads != c->n_heads || s->cfg.d_ff != c->d_ff || s->cfg.ctx < kv->cfg.ctx)
        return LMZ_ERR_USAGE;
    if (input_byte < 0 || input_byte > 255)
        return LMZ_ERR_USAGE;
    const int i = kv->len;
    if (i >= kv->cfg.ctx || i >= c->ctx)
        return LMZ_ERR_RANGE;
    const size_t d = (size_t)c->d_model, H = (size_t)c->n_heads, ctx = (size_t)kv->cfg.ctx;

    lmz_embed(m, input_byte, kv->x);
    for (int l = 0; l < c->n_layers; l++) {
        const lmz_layer *L = &m->layers[l];
        int8_t *k8 = kv->k8 + (size_t)l * ctx * d, *v8 = kv->v8 + (size_t)l * ctx * d;
        int32_t *ak = kv->ak + (size_t)l * ctx * H, *av = kv->av + (size_t)l * ctx * H;
        const size_t r = (size_t)i * d;
        lmz_block_qkv(m, L, s, kv->x, s->q8, s->aq, k8 + r, ak + i, v8 + r, av + i, (int)ctx);
        lmz_block_attend(m, s, i, 1, s->q8, s->aq, k8, ak, v8, av, (int)ctx);
        lmz_block_finish(L, s, s->o, kv->x);
    }
    lmz_block_table(m, s, kv->x, table);
    kv->len = i + 1;
    return LMZ_OK;
}
