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
    return LMZ_ERR_NOMEM;
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

    for (int l = 0; l < m->cfg.n_layers; l++) {
        const lmz_layer *L = &m->layers[l];
        for (int i = 0; i < n; i++) {
            const size_t r = (size_t)i * d, a = (size_t)i * H;
            lmz_block_qkv(m, L, s, s->x + r, s->fq8 + r, s->faq + a, s->fk8 + r, s->fak + i,
                          s->fv8 + r, s->fav + i, ctx);
        }
        /* LMZ_ATT_ROWS positions at a time, so the attention kernel can
         * share its sweeps over the keys between their queries. */
        for (int i0 = 0; i0 < n; i0 += LMZ_ATT_ROWS) {
            const int nq = n - i0 < LMZ_ATT_ROWS ? n - i0 : LMZ_ATT_ROWS;
            const size_t r = (size_t)i0 * d, a = (size_t)i0 * H;
            lmz_block_attend(m, s, i0, nq, s->fq8 + r, s->faq + a, s->fk8, s->fak, s->fv8,
                             s->fav, ctx);
            for (int t = 0; t < nq; t++)
                lmz_block_finish(L, s, s->o + (size_t)t * d, s->x + r + (size_t)t * d);
        }
    }

    uint16_t freq[256];
    for (int i = 0; i < n; i++) {
        uint16_t *t = tables ? tables + (size_t)i * 256 : freq;
        lmz_block_table(m, s, s->x + (size_t)i * d, t);
        uint32_t cum = 0;
        for (int b = 0; b < data[i]; b++)
            cum += t[b];
        if (cum_out)
            cum_out[i] = (uint16_t)cum; /* <= 65536 - freq >= 1 of the rest */
        if (freq_out)
            freq_out[i] = t[data[i]];
    }
    return LMZ_OK;
}
