/* v2_forward.c: arithmetic version 2 over a chunk (full pass) and one
 * position at a time (KV cache), scalar reference.
 *
 * Both paths run each position through the same three steps, in the same
 * order, so their tables are the same bits:
 *   v2_qkv     LN, quant, qkv linear, then Q (power-of-two row scale per
 *              head), K and V (the model's static per-head shifts) as int8;
 *   attention  lmz_v2_attend_row per head over keys 0..i;
 *   v2_finish  quant, proj + residual, LN, quant, ff1, GELU, quant,
 *              ff2 + residual.
 * The K/V rows need no scales: that is what makes Q.K^T and P.V plain
 * int8 products. */
#include <stdlib.h>
#include <string.h>

#include "lmz_ops.h"
#include "v2_ops.h"

struct lmz_v2_scratch {
    lmz_config cfg;
    lmz_v2_bounds *bounds; /* NULL unless watched */
    int32_t *z;            /* max(d, F): LN / GELU output of one row */
    int8_t *zq;            /* max(d, F): its quantised row */
    int32_t *qkv;          /* 3d */
    int32_t *o;            /* d: attention output of one row */
    int32_t *u;            /* F: ff1 output */
    int32_t *logits;       /* 256 */
    int32_t *sc;           /* ctx: one query's scores */
    int8_t *q8;            /* d: the step's query row */
    int32_t *eq;           /* H: its exponents */
    int32_t *x1;           /* d: the step's residual stream */
    /* whole chunk, allocated on the first full pass */
    int32_t *x;            /* ctx x d */
    int8_t *fq8, *fk8, *fv8; /* ctx x d */
    int32_t *feq;          /* ctx x H */
};

lmz_v2_scratch *lmz_v2_scratch_create(const lmz_config *cfg)
{
    if (!cfg || lmz_config_validate(cfg, NULL) != LMZ_OK)
        return NULL;
    lmz_v2_scratch *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = *cfg;
    const size_t d = (size_t)cfg->d_model, f = (size_t)cfg->d_ff;
    const size_t wide = d > f ? d : f;
    s->z = malloc(wide * sizeof *s->z);
    s->zq = malloc(wide);
    s->qkv = malloc(3 * d * sizeof *s->qkv);
    s->o = malloc(d * sizeof *s->o);
    s->u = malloc(f * sizeof *s->u);
    s->logits = malloc(256 * sizeof *s->logits);
    s->sc = malloc((size_t)cfg->ctx * sizeof *s->sc);
    s->q8 = malloc(d);
    s->eq = malloc((size_t)cfg->n_heads * sizeof *s->eq);
    s->x1 = malloc(d * sizeof *s->x1);
    if (!s->z || !s->zq || !s->qkv || !s->o || !s->u || !s->logits || !s->sc || !s->q8 ||
        !s->eq || !s->x1) {
        lmz_v2_scratch_free(s);
        return NULL;
    }
    return s;
}

void lmz_v2_scratch_free(lmz_v2_scratch *s)
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
    free(s->q8);
    free(s->eq);
    free(s->x1);
    free(s->x);
    free(s->fq8);
    free(s->fk8);
    free(s->fv8);
    free(s->feq);
    free(s);
}

void lmz_v2_scratch_watch(lmz_v2_scratch *s, lmz_v2_bounds *b)
{
    s->bounds = b;
}

/* ---- the per-position steps ---- */

/* LN of x, then quant: s->zq and its scale. */
static int32_t norm_quant(lmz_v2_scratch *s, const int32_t *x, int d)
{
    lmz_layer_norm(x, d, s->z);
    return lmz_quant_row_ref(s->z, d, s->zq);
}

/* Position's q8 row (d) with exponents eq[h], k8 and v8 rows (d each). */
static void v2_qkv(const lmz_model_v2 *m, int l, lmz_v2_scratch *s, const int32_t *x,
                   int8_t *q8, int32_t *eq, int8_t *k8, int8_t *v8)
{
    const lmz_layer *L = &m->m->layers[l];
    const int d = m->m->cfg.d_model, H = m->m->cfg.n_heads, dh = d / H;
    const int32_t a = norm_quant(s, x, d);
    lmz_v2_linear(&L->qkv, s->zq, a, LMZ_ACT, 0, s->qkv, s->bounds);
    for (int h = 0; h < H; h++) {
        const int off = h * dh;
        const int ks = m->k_shift[l * H + h], vs = m->v_shift[l * H + h];
        eq[h] = lmz_v2_quant_pow2(s->qkv + off, dh, q8 + off);
        for (int c = 0; c < dh; c++) {
            k8[off + c] = lmz_v2_quant_kv(s->qkv[d + off + c], ks);
            v8[off + c] = lmz_v2_quant_kv(s->qkv[2 * d + off + c], vs);
        }
    }
}

/* Attention of position i (query q8/eq) over rows 0..i of k8/v8 (position
 * stride d), every head, into s->o. */
static void v2_attend(const lmz_model_v2 *m, int l, lmz_v2_scratch *s, int i, const int8_t *q8,
                      const int32_t *eq, const int8_t *k8, const int8_t *v8)
{
    const int d = m->m->cfg.d_model, H = m->m->cfg.n_heads, dh = d / H;
    for (int h = 0; h < H; h++) {
        const int off = h * dh;
        lmz_v2_attend_row(q8 + off, eq[h], k8 + off, v8 + off, d, i, dh,
                          m->k_shift[l * H + h], m->v_shift[l * H + h], lmz_alibi_exp(h, H),
                          s->sc, s->o + off, s->bounds);
    }
}

/* The rest of layer l for one position: o = s->o, x updated. */
static void v2_finish(const lmz_model_v2 *m, int l, lmz_v2_scratch *s, int32_t *x)
{
    const lmz_layer *L = &m->m->layers[l];
    const int d = m->m->cfg.d_model, F = m->m->cfg.d_ff;
    int32_t a = lmz_quant_row_ref(s->o, d, s->zq);
    lmz_v2_linear(&L->proj, s->zq, a, LMZ_RES, 1, x, s->bounds);
    a = norm_quant(s, x, d);
    lmz_v2_linear(&L->ff1, s->zq, a, LMZ_ACT, 0, s->u, s->bounds);
    for (int k = 0; k < F; k++)
        s->z[k] = lmz_gelu(s->u[k]); /* |gelu(u)| <= |u| <= ACT */
    a = lmz_quant_row_ref(s->z, F, s->zq);
    lmz_v2_linear(&L->ff2, s->zq, a, LMZ_RES, 1, x, s->bounds);
}

/* Final LN, head, table. */
static void v2_table(const lmz_model_v2 *m, lmz_v2_scratch *s, const int32_t *x,
                     uint16_t freq[256])
{
    const int32_t a = norm_quant(s, x, m->m->cfg.d_model);
    lmz_v2_linear(&m->m->head, s->zq, a, LMZ_ACT, 0, s->logits, s->bounds);
    lmz_v2_freq_table(s->logits, freq);
}

/* ---- full pass ---- */

static int fits(const lmz_config *s, const lmz_config *m)
{
    return s->d_model == m->d_model && s->n_heads == m->n_heads && s->d_ff == m->d_ff &&
           s->ctx >= m->ctx;
}

static lmz_status chunk_buffers(lmz_v2_scratch *s)
{
    if (s->x)
        return LMZ_OK;
    const size_t n = (size_t)s->cfg.ctx, d = (size_t)s->cfg.d_model;
    s->x = malloc(n * d * sizeof *s->x);
    s->fq8 = malloc(n * d);
    s->fk8 = malloc(n * d);
    s->fv8 = malloc(n * d);
    s->feq = malloc(n * (size_t)s->cfg.n_heads * sizeof *s->feq);
    if (s->x && s->fq8 && s->fk8 && s->fv8 && s->feq)
        return LMZ_OK;
    free(s->x);
    free(s->fq8);
    free(s->fk8);
    free(s->fv8);
    free(s->feq);
    s->x = NULL;
    s->fq8 = s->fk8 = s->fv8 = NULL;
    s->feq = NULL;
    return LMZ_ERR_NOMEM;
}

lmz_status lmz_v2_forward_chunk(const lmz_model_v2 *m, lmz_v2_scratch *s, const uint8_t *data,
                                int n, uint16_t *cum_out, uint16_t *freq_out, uint16_t *tables)
{
    if (!m || !m->m || !s || !data || !fits(&s->cfg, &m->m->cfg))
        return LMZ_ERR_USAGE;
    if (n < 1 || n > m->m->cfg.ctx)
        return LMZ_ERR_RANGE;
    lmz_status st = chunk_buffers(s);
    if (st != LMZ_OK)
        return st;
    const size_t d = (size_t)m->m->cfg.d_model, H = (size_t)m->m->cfg.n_heads;
    for (int i = 0; i < n; i++)
        lmz_embed(m->m, i == 0 ? 0 : data[i - 1], s->x + (size_t)i * d);
    for (int l = 0; l < m->m->cfg.n_layers; l++) {
        /* every position's q, k, v first: position i attends to keys 0..i */
        for (int i = 0; i < n; i++)
            v2_qkv(m, l, s, s->x + (size_t)i * d, s->fq8 + (size_t)i * d, s->feq + (size_t)i * H,
                   s->fk8 + (size_t)i * d, s->fv8 + (size_t)i * d);
        for (int i = 0; i < n; i++) {
            v2_attend(m, l, s, i, s->fq8 + (size_t)i * d, s->feq + (size_t)i * H, s->fk8,
                      s->fv8);
            v2_finish(m, l, s, s->x + (size_t)i * d);
        }
    }
    uint16_t one[256];
    for (int i = 0; i < n; i++) {
        uint16_t *t = tables ? tables + (size_t)i * 256 : one;
        v2_table(m, s, s->x + (size_t)i * d, t);
        uint32_t cum = 0;
        for (int b = 0; b < data[i]; b++)
            cum += t[b];
        if (cum_out)
            cum_out[i] = (uint16_t)cum; /* <= 65536 - t[data[i]] */
        if (freq_out)
            freq_out[i] = t[data[i]];
    }
    return LMZ_OK;
}

/* ---- KV cache and step ---- */

struct lmz_v2_kv {
    lmz_config cfg;
    int len;
    int8_t *k8, *v8; /* per layer l: ctx x d rows at l * ctx * d */
};

lmz_v2_kv *lmz_v2_kv_create(const lmz_config *cfg)
{
    if (!cfg || lmz_config_validate(cfg, NULL) != LMZ_OK)
        return NULL;
    lmz_v2_kv *kv = calloc(1, sizeof *kv);
    if (!kv)
        return NULL;
    kv->cfg = *cfg;
    const size_t n = (size_t)cfg->n_layers * (size_t)cfg->ctx * (size_t)cfg->d_model;
    kv->k8 = malloc(n);
    kv->v8 = malloc(n);
    if (!kv->k8 || !kv->v8) {
        lmz_v2_kv_free(kv);
        return NULL;
    }
    return kv;
}

void lmz_v2_kv_free(lmz_v2_kv *kv)
{
    if (!kv)
        return;
    free(kv->k8);
    free(kv->v8);
    free(kv);
}

void lmz_v2_kv_reset(lmz_v2_kv *kv)
{
    kv->len = 0;
}

int lmz_v2_kv_len(const lmz_v2_kv *kv)
{
    return kv->len;
}

lmz_status lmz_v2_kv_step(const lmz_model_v2 *m, lmz_v2_scratch *s, lmz_v2_kv *kv,
                          int input_byte, uint16_t table[256])
{
    if (!m || !m->m || !s || !kv || !table || !fits(&s->cfg, &m->m->cfg))
        return LMZ_ERR_USAGE;
    const lmz_config *c = &m->m->cfg;
    if (kv->cfg.d_model != c->d_model || kv->cfg.n_heads != c->n_heads ||
        kv->cfg.n_layers != c->n_layers)
        return LMZ_ERR_USAGE;
    if (input_byte < 0 || input_byte > 255)
        return LMZ_ERR_USAGE;
    if (kv->len >= kv->cfg.ctx || kv->len >= c->ctx)
        return LMZ_ERR_RANGE;
    const size_t d = (size_t)c->d_model, ctx = (size_t)kv->cfg.ctx;
    const int i = kv->len;
    lmz_embed(m->m, input_byte, s->x1);
    for (int l = 0; l < c->n_layers; l++) {
        int8_t *k8 = kv->k8 + (size_t)l * ctx * d, *v8 = kv->v8 + (size_t)l * ctx * d;
        v2_qkv(m, l, s, s->x1, s->q8, s->eq, k8 + (size_t)i * d, v8 + (size_t)i * d);
        v2_attend(m, l, s, i, s->q8, s->eq, k8, v8);
        v2_finish(m, l, s, s->x1);
    }
    v2_table(m, s, s->x1, table);
    kv->len++;
    return LMZ_OK;
}
