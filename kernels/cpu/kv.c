/* kv.c: the KV cache and the incremental step (the decoder's path).
 *
 * The cache holds, per layer, the k8/ak/v8/av rows of every position so far
 * in the same layout as the full pass; a step computes one new position's
 * rows and attends over 0..pos with the shared block.c steps. The decoder
 * steps up to LMZ_KV_MANY chunks together (lmz_kv_step_many): their
 * positions are independent rows of the same batched steps the full pass
 * uses for consecutive positions, so the linears read the weights once per
 * step for all of them; only the attention is per chunk. */
#include <stdlib.h>

#include "lmz_cpu.h"

struct lmz_kv {
    lmz_config cfg;
    int len;        /* positions cached */
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
    kv->k8 = malloc(rows * d);
    kv->v8 = malloc(rows * d);
    kv->ak = malloc(rows * H * sizeof *kv->ak);
    kv->av = malloc(rows * H * sizeof *kv->av);
    if (!kv->k8 || !kv->v8 || !kv->ak || !kv->av) {
        lmz_kv_free(kv);
        return NULL;
    }
    return kv;
}

void lmz_kv_free(lmz_kv *kv)
{
    if (!kv)
        return;
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

static int kv_fits(const lmz_model *m, const lmz_scratch *s, const lmz_kv *kv)
{
    const lmz_config *c = &m->cfg;
    return kv->cfg.d_model == c->d_model && kv->cfg.n_heads == c->n_heads &&
           kv->cfg.n_layers == c->n_layers && s->cfg.d_model == c->d_model &&
           s->cfg.n_heads == c->n_heads && s->cfg.d_ff == c->d_ff && s->cfg.ctx >= kv->cfg.ctx;
}

lmz_status lmz_kv_step_many(const lmz_model *m, lmz_scratch *s, lmz_kv *const *kv, int n,
                            const int *input, uint16_t *tables)
{
    if (n < 1 || n > LMZ_KV_MANY)
        return LMZ_ERR_USAGE;
    const lmz_config *c = &m->cfg;
    for (int r = 0; r < n; r++) {
        if (!kv_fits(m, s, kv[r]))
            return LMZ_ERR_USAGE;
        if (input[r] < 0 || input[r] > 255)
            return LMZ_ERR_USAGE;
        if (kv[r]->len >= kv[r]->cfg.ctx || kv[r]->len >= c->ctx)
            return LMZ_ERR_RANGE;
        for (int t = 0; t < r; t++)
            if (kv[t] == kv[r]) /* one cache twice would write its row twice */
                return LMZ_ERR_USAGE;
    }
    const size_t d = (size_t)c->d_model, H = (size_t)c->n_heads;

    for (int r = 0; r < n; r++)
        lmz_embed(m, input[r], s->bx + r * d);
    for (int l = 0; l < c->n_layers; l++) {
        const lmz_layer *L = &m->layers[l];
        lmz_block_qkv_many(L, s, n, s->bx);
        for (int r = 0; r < n; r++) {
            const lmz_kv *k = kv[r];
            const int i = k->len;
            const size_t ctx = (size_t)k->cfg.ctx;
            int8_t *k8 = k->k8 + (size_t)l * ctx * d, *v8 = k->v8 + (size_t)l * ctx * d;
            int32_t *ak = k->ak + (size_t)l * ctx * H, *av = k->av + (size_t)l * ctx * H;
            int8_t *q8 = s->q8 + r * d;
            int32_t *aq = s->aq + r * H;
            const size_t row = (size_t)i * d;
            lmz_block_qkv_store(m, s->qkv + r * 3 * d, q8, aq, k8 + row, ak + i, v8 + row, av + i,
                                (int)ctx);
            lmz_block_attend(m, s, i, 1, q8, aq, k8, ak, v8, av, (int)ctx, s->o + r * d);
        }
        lmz_block_finish_many(L, s, n, s->o, s->bx);
    }
    lmz_block_table_many(m, s, n, s->bx, tables);
    for (int r = 0; r < n; r++)
        kv[r]->len++;
    return LMZ_OK;
}

lmz_status lmz_kv_step(const lmz_model *m, lmz_scratch *s, lmz_kv *kv, int input_byte,
                       uint16_t table[256])
{
    return lmz_kv_step_many(m, s, &kv, 1, &input_byte, table);
}
