// cuda_layer.cu: one layer of the network and the head on the device, the
// single layer loop that the full pass (cuda_score.cu) and the decoder step
// (cuda_decode.cu) share; they differ only in how attention reads its keys
// (lmz_cuda_att). The order and every operation are block.c's.
#include "cuda_internal.h"

static void attend(const lmz_cuda *g, int n, const lmz_cuda_att *att, int32_t *o)
{
    if (att->kind == LMZ_ATT_FULL)
        lmz_cuda_attend_full(g, &att->tiles, &att->in, o);
    else
        lmz_cuda_attend_step(g, n, &att->step, &att->in, o);
}

void lmz_cuda_layer(const lmz_cuda *g, int l, const lmz_dacts *a, const lmz_cuda_att *att)
{
    const int n = a->n, d = g->cfg.d_model, F = g->cfg.d_ff;
    lmz_cuda_ln_quant(g, n, a->x, a->zq, a->za);
    lmz_cuda_linear(g, lmz_cuda_lin(g, l, LMZ_LIN_QKV), n, a->zq, a->za, LMZ_LIN_CLAMP, LMZ_ACT,
                    a->big);
    lmz_cuda_quant_heads(g, n, a->big, &att->dst);
    attend(g, n, att, a->o);
    lmz_cuda_quant_rows(g, n, d, LMZ_QUANT_PLAIN, a->o, a->zq, a->za);
    lmz_cuda_linear(g, lmz_cuda_lin(g, l, LMZ_LIN_PROJ), n, a->zq, a->za, LMZ_LIN_RESIDUAL, 0,
                    a->x);
    lmz_cuda_ln_quant(g, n, a->x, a->zq, a->za);
    lmz_cuda_linear(g, lmz_cuda_lin(g, l, LMZ_LIN_FF1), n, a->zq, a->za, LMZ_LIN_CLAMP, LMZ_ACT,
                    a->big);
    lmz_cuda_quant_rows(g, n, F, LMZ_QUANT_GELU, a->big, a->zq, a->za);
    lmz_cuda_linear(g, lmz_cuda_lin(g, l, LMZ_LIN_FF2), n, a->zq, a->za, LMZ_LIN_RESIDUAL, 0,
                    a->x);
}

void lmz_cuda_logits(const lmz_cuda *g, const lmz_dacts *a)
{
    lmz_cuda_ln_quant(g, a->n, a->x, a->zq, a->za);
    lmz_cuda_linear(g, lmz_cuda_head(g), a->n, a->zq, a->za, LMZ_LIN_CLAMP, LMZ_ACT, a->big);
}
