/* block.c: the network at one position, in the steps that the full pass and
 * the incremental step share, plus the scratch memory they run in. */
#include <stdlib.h>

#include "lmz_cpu.h"
#include "lmz_ops.h"
#include "lmz_simd.h"

/* The full pass hands its groups of LMZ_ATT_ROWS positions to the batched
 * steps, whose row buffers hold LMZ_KV_MANY. */
_Static_assert(LMZ_ATT_ROWS <= LMZ_KV_MANY, "batched steps take the full pass's groups");

lmz_scratch *lmz_scratch_create(const lmz_config *cfg)
{
    if (!cfg || lmz_config_validate(cfg, NULL) != LMZ_OK)
        return NULL;
    lmz_scratch *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = *cfg;
    const size_t d = (size_t)cfg->d_model, f = (size_t)cfg->d_ff, B = LMZ_KV_MANY;
    const size_t wide = d > f ? d : f;
    s->wide = wide;
    s->z = malloc(wide * sizeof *s->z);
    s->zq = malloc(B * wide);
    s->qkv = malloc(B * 3 * d * sizeof *s->qkv);
    s->o = malloc(LMZ_ATT_ROWS * d * sizeof *s->o);
    s->u = malloc(B * f * sizeof *s->u);
    s->logits = malloc(B * 256 * sizeof *s->logits);
    s->sc = malloc(LMZ_ATT_ROWS * (size_t)cfg->ctx * sizeof *s->sc);
    s->acc = malloc((d / (size_t)cfg->n_heads) * sizeof *s->acc);
    s->q8 = malloc(B * d);
    s->aq = malloc(B * (size_t)cfg->n_heads * sizeof *s->aq);
    s->bx = malloc(B * d * sizeof *s->bx);
    if (!s->z || !s->zq || !s->qkv || !s->o || !s->u || !s->logits || !s->sc || !s->acc ||
        !s->q8 || !s->aq || !s->bx) {
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
    free(s->bx);
    lmz_scratch_free_chunk(s);
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

/* LN and quant of nr rows x + r * d into the rows of s->zq (s->wide
 * apart), their scales into za. */
static void norm_quant_rows(lmz_scratch *s, int nr, const int32_t *x, int d, int32_t *za)
{
    for (int r = 0; r < nr; r++) {
        lmz_layer_norm(x + (size_t)r * d, d, s->z);
        za[r] = lmz_quant_row(s->z, d, s->zq + (size_t)r * s->wide);
    }
}

void lmz_block_qkv_many(const lmz_layer *L, lmz_scratch *s, int nr, const int32_t *x)
{
    const int d = L->qkv.in;
    int32_t za[LMZ_KV_MANY] = {0};
    norm_quant_rows(s, nr, x, d, za);
    lmz_linear_many(&L->qkv, nr, s->zq, s->wide, za, LMZ_ACT, 0, s->qkv, (size_t)3 * d);
}

void lmz_block_qkv_store(const lmz_model *m, const int32_t *qkv, int8_t *q8, int32_t *aq,
                         int8_t *k8, int32_t *ak, int8_t *v8, int32_t *av, int a_stride)
{
    const int d = m->cfg.d_model, H = m->cfg.n_heads, dh = d / H;
    for (int h = 0; h < H; h++) {
        const int off = h * dh;
        aq[h] = lmz_quant_row(qkv + off, dh, q8 + off);
        ak[(size_t)h * a_stride] = lmz_quant_row(qkv + d + off, dh, k8 + off);
        av[(size_t)h * a_stride] = lmz_quant_row(qkv + 2 * d + off, dh, v8 + off);
    }
}

void lmz_block_attend(const lmz_model *m, lmz_scratch *s, int i0, int nq, const int8_t *q8,
                      const int32_t *aq, const int8_t *k8, const int32_t *ak, const int8_t *v8,
                      const int32_t *av, int a_stride, int32_t *o)
{
    const int d = m->cfg.d_model, H = m->cfg.n_heads, dh = d / H;
    const lmz_cpu_kern *k = lmz_kern();
    const lmz_att_scratch w = {s->sc, s->cfg.ctx, s->acc};
    for (int h = 0; h < H; h++) {
        const int off = h * dh;
        const size_t ah = (size_t)h * a_stride;
        const lmz_att_head kv = {k8 + off, ak + ah, v8 + off, av + ah, d, 1, dh,
                                 lmz_alibi_exp(h, H)};
        if (nq == 1) {
            k->attend_row(&kv, q8 + off, aq[h], i0, &w, o + off);
        } else {
            const lmz_att_queries q = {q8 + off, aq + h, d, H, i0, nq, o + off, d};
            k->attend_rows(&kv, &q, &w);
        }
    }
}

void lmz_block_finish_many(const lmz_layer *L, lmz_scratch *s, int nr, const int32_t *o,
                           int32_t *x)
{
    const int d = L->proj.out, f = L->ff1.out;
    const size_t w = s->wide;
    int32_t a[LMZ_KV_MANY] = {0};
    for (int r = 0; r < nr; r++)
        a[r] = lmz_quant_row(o + (size_t)r * d, d, s->zq + (size_t)r * w);
    lmz_linear_many(&L->proj, nr, s->zq, w, a, LMZ_RES, 1, x, (size_t)d);

    norm_quant_rows(s, nr, x, d, a);
    lmz_linear_many(&L->ff1, nr, s->zq, w, a, LMZ_ACT, 0, s->u, (size_t)f);
    for (int r = 0; r < nr; r++) {
        const int32_t *u = s->u + (size_t)r * f;
        for (int k = 0; k < f; k++)
            s->z[k] = lmz_gelu(u[k]); /* |gelu(u)| <= |u| <= ACT */
        a[r] = lmz_quant_row(s->z, f, s->zq + (size_t)r * w);
    }
    lmz_linear_many(&L->ff2, nr, s->zq, w, a, LMZ_RES, 1, x, (size_t)d);
}

void lmz_block_table_many(const lmz_model *m, lmz_scratch *s, int nr, const int32_t *x,
                          uint16_t *freq)
{
    int32_t za[LMZ_KV_MANY] = {0};
    norm_quant_rows(s, nr, x, m->cfg.d_model, za);
    lmz_linear_many(&m->head, nr, s->zq, s->wide, za, LMZ_ACT, 0, s->logits, 256);
    for (int r = 0; r < nr; r++)
        lmz_freq_table(s->logits + (size_t)r * 256, freq + (size_t)r * 256);
}
