/* block.c: the network at one position, in the steps that the full pass and
 * the incremental step share, plus the scratch memory they run in. */
#include <stdlib.h>

#include "lmz_cpu.h"
#include "lmz_ops.h"
#include "lmz_simd.h"

lmz_scratch *lmz_scratch_create(const lmz_config *cfg)
{
    if (!cfg || lmz_config_validate(cfg, NULL) != LMZ_OK)
        return NULL;
    lmz_scratch *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = *cfg;
    const size_t d = (size_t)cfg->d_model, f = (size_t)cfg->d_ff;
    const size_t wide = d > f ? d : f;
    s->z = malloc(wide * sizeof *s->z);
    s->zq = malloc(wide);
    s->qkv = malloc(3 * d * sizeof *s->qkv);
    s->o = malloc(LMZ_ATT_ROWS * d * sizeof *s->o);
    s->u = malloc(f * sizeof *s->u);
    s->logits = malloc(256 * sizeof *s->logits);
    s->sc = malloc(LMZ_ATT_ROWS * (size_t)cfg->ctx * sizeof *s->sc);
    s->acc = malloc((d / (size_t)cfg->n_heads) * sizeof *s->acc);
    s->q8 = malloc(d);
    s->aq = malloc((size_t)cfg->n_heads * sizeof *s->aq);
    if (!s->z || !s->zq || !s->qkv || !s->o || !s->u || !s->logits || !s->sc || !s->acc ||
        !s->q8 || !s->aq) {
        lmz_scratch_free(s);
        return NULL;
    }
    return s;
}

void lmz_scratch_free(lmz_scratch *s)
{
    if (!s)
        return;
    free(s->z);
    free(s->zq);
    free(s->qkv);
    free(s->o);
    free(s->u);
    free(s->logits);
    free(s->sc);
    free(s->acc);
    free(s->q8);
    free(s->aq);
    free(s->x);
    free(s->fq8);
    free(s->fk8);
    free(s->fv8);
    free(s->faq);
    free(s->fak);
    free(s->fav);
    free(s);
}

void lmz_embed(const lmz_model *m, int t, int32_t *x)
{
    const int d = m->cfg.d_model;
    const int8_t *row = m->emb + (size_t)t * (size_t)d;
    /* |emb * mult| < 2^7 * 2^15 = 2^22: no overflow for any shift. */
    for (int c = 0; c < d; c++)
        x[c] = (int32_t)lmz_clamp64(
            lmz_rshift_round((int64_t)row[c] * m->emb_mult[t], m->emb_shift[t]), -LMZ_RES,
            LMZ_RES);
}

void lmz_block_qkv(const lmz_model *m, const lmz_layer *L, lmz_scratch *s, const int32_t *x,
                   int8_t *q8, int32_t *aq, int8_t *k8, int32_t *ak, int8_t *v8, int32_t *av,
                   int a_stride)
{
    const int d = m->cfg.d_model, H = m->cfg.n_heads, dh = d / H;
    lmz_layer_norm(x, d, s->z);
    const int32_t za = lmz_quant_row(s->z, d, s->zq);
    lmz_linear_clamp(&L->qkv, s->zq, za, LMZ_ACT, s->qkv);
    for (int h = 0; h < H; h++) {
        const int off = h * dh;
        aq[h] = lmz_quant_row(s->qkv + off, dh, q8 + off);
        ak[(size_t)h * a_stride] = lmz_quant_row(s->qkv + d + off, dh, k8 + off);
        av[(size_t)h * a_stride] = lmz_quant_row(s->qkv + 2 * d + off, dh, v8 + off);
    }
}

void lmz_block_attend(const lmz_model *m, lmz_scratch *s, int i0, int nq, const int8_t *q8,
                      const int32_t *aq, const int8_t *k8, const int32_t *ak, const int8_t *v8,
                      const int32_t *av, int a_stride)
{
    const int d = m->cfg.d_model, H = m->cfg.n_heads, dh = d / H;
    const lmz_cpu_kern *k = lmz_kern();
    for (int h = 0; h < H; h++) {
        const int off = h * dh;
        const size_t ah = (size_t)h * a_stride;
        if (nq == 1)
            k->attend_row(q8 + off, aq[h], k8 + off, ak + ah, v8 + off, av + ah, d, 1, i0, dh,
                          lmz_alibi_exp(h, H), s->sc, s->acc, s->o + off);
        else
            k->attend_rows(q8 + off, aq + h, d, H, k8 + off, ak + ah, v8 + off, av + ah, d, 1,
                           i0, nq, dh, lmz_alibi_exp(h, H), s->sc, s->cfg.ctx, s->acc,
                           s->o + off, d);
    }
}

void lmz_block_finish(const lmz_layer *L, lmz_scratch *s, const int32_t *o, int32_t *x)
{
    const int d = L->proj.out, f = L->ff1.out;
    const int32_t oa = lmz_quant_row(o, d, s->zq);
    lmz_linear_residual(&L->proj, s->zq, oa, x);

    lmz_layer_norm(x, d, s->z);
    const int32_t za = lmz_quant_row(s->z, d, s->zq);
    lmz_linear_clamp(&L->ff1, s->zq, za, LMZ_ACT, s->u);
    for (int k = 0; k < f; k++)
        s->z[k] = lmz_gelu(s->u[k]); /* |gelu(u)| <= |u| <= ACT */
    const int32_t ga = lmz_quant_row(s->z, f, s->zq);
    lmz_linear_residual(&L->ff2, s->zq, ga, x);
}

void lmz_block_table(const lmz_model *m, lmz_scratch *s, const int32_t *x, uint16_t freq[256])
{
    const int d = m->cfg.d_model;
    lmz_layer_norm(x, d, s->z);
    const int32_t za = lmz_quant_row(s->z, d, s->zq);
    lmz_linear_clamp(&m->head, s->zq, za, LMZ_ACT, s->logits);
    lmz_freq_table(s->logits, freq);
}
