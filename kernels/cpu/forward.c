/* forward.c: the full causal pass over one chunk (the encoder's path).
 *
 * Layer by layer over all positions: first every position's q/k/v rows,
 * then each position's attention over rows 0..i and the rest of its layer.
 * Each position goes through exactly the block.c steps the incremental
 * step uses, in the same order, so the tables are the same bits. */
#include <stdlib.h>
#include <string.h>

#include "lmz_cpu.h"

static int same_shape(const lmz_config *a, const lmz_config *b)
{
    return a->d_model == b->d_model && a->n_heads == b->n_heads && a->d_ff == b->d_ff &&
           a->ctx >= b->ctx;
}

/* The chunk-sized buffers, allocated once per scratch on the first pass. */
static lmz_status ensure_chunk_buffers(lmz_scratch *s)
{
    if (s->x)
        return LMZ_OK;
    const size_t n = (size_t)s->cfg.ctx, d = (size_t)s->cfg.d_model, H = (size_t)s->cfg.n_heads;
    s->x = malloc(n * d * sizeof *s->x);
    s->fq8 = malloc(n * d);
    s->fk8 = malloc(n * d);
    s->fv8 = malloc(n * d);
    s->faq = malloc(n * H * sizeof *s->faq);
    s->fak = malloc(n * H * sizeof *s->fak);
    s->fav = malloc(n * H * sizeof *s->fav);
    if (s->x && s->fq8 && s->fk8 && s->fv8 && s->faq && s->fak && s->fav)
        return LMZ_OK;
    lmz_scratch_free_chunk(s);
    return LMZ_ERR_NOMEM;
}

void lmz_scratch_free_chunk(lmz_scratch *s)
{
    free(s->x);
    free(s->fq8);
    free(s->fk8);
    free(s->fv8);
    free(s->faq);
    free(s->fak);
    free(s->fav);
    s->x = NULL;
    s->fq8 = s->fk8 = s->fv8 = NULL;
    s->faq = s->fak = s->fav = NULL;
}

lmz_status lmz_forward_chunk(const lmz_model *m, lmz_scratch *s, const uint8_t *data, int n,
                             uint16_t *cum_out, uint16_t *freq_out, uint16_t *tables)
{
    if (!m || !s || !same_shape(&s->cfg, &m->cfg))
        return LMZ_ERR_USAGE;
    if (n < 1 || n > m->cfg.ctx)
        return LMZ_ERR_RANGE;
    lmz_status st = ensure_chunk_buffers(s);
    if (st != LMZ_OK)
        return st;
    const int d = m->cfg.d_model, H = m->cfg.n_heads;
    const int ctx = s->cfg.ctx; /* fak/fav: head-major, ctx per head */

    for (int i = 0; i < n; i++)
        lmz_embed(m, i == 0 ? 0 : data[i - 1], s->x + (size_t)i * d);

    /* Positions go through the batched steps in groups of LMZ_ATT_ROWS:
     * the linears read their weights once per group, and the attention
     * kernel shares its sweeps over the keys between the group's queries. */
    for (int l = 0; l < m->cfg.n_layers; l++) {
        const lmz_layer *L = &m->layers[l];
        for (int i0 = 0; i0 < n; i0 += LMZ_ATT_ROWS) {
            const int nq = n - i0 < LMZ_ATT_ROWS ? n - i0 : LMZ_ATT_ROWS;
            lmz_block_qkv_many(L, s, nq, s->x + (size_t)i0 * d);
            for (int t = 0; t < nq; t++) {
                const int i = i0 + t;
                const size_t r = (size_t)i * d, a = (size_t)i * H;
                lmz_block_qkv_store(m, s->qkv + (size_t)t * 3 * d, s->fq8 + r, s->faq + a,
                                    s->fk8 + r, s->fak + i, s->fv8 + r, s->fav + i, ctx);
            }
        }
        for (int i0 = 0; i0 < n; i0 += LMZ_ATT_ROWS) {
            const int nq = n - i0 < LMZ_ATT_ROWS ? n - i0 : LMZ_ATT_ROWS;
            const size_t r = (size_t)i0 * d, a = (size_t)i0 * H;
            lmz_block_attend(m, s, i0, nq, s->fq8 + r, s->faq + a, s->fk8, s->fak, s->fv8,
                             s->fav, ctx, s->o);
            lmz_block_finish_many(L, s, nq, s->o, s->x + r);
        }
    }

    uint16_t freq[LMZ_KV_MANY * 256];
    for (int i0 = 0; i0 < n; i0 += LMZ_KV_MANY) {
        const int nr = n - i0 < LMZ_KV_MANY ? n - i0 : LMZ_KV_MANY;
        uint16_t *tb = tables ? tables + (size_t)i0 * 256 : freq;
        lmz_block_table_many(m, s, nr, s->x + (size_t)i0 * d, tb);
        for (int t = 0; t < nr; t++) {
            const int i = i0 + t;
            const uint16_t *tt = tb + (size_t)t * 256;
            uint32_t cum = 0;
            for (int b = 0; b < data[i]; b++)
                cum += tt[b];
            if (cum_out)
                cum_out[i] = (uint16_t)cum; /* <= 65536 - freq >= 1 of the rest */
            if (freq_out)
                freq_out[i] = tt[data[i]];
        }
    }
    return LMZ_OK;
}
