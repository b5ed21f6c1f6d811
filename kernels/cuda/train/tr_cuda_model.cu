// tr_cuda_model.cu: the network over one micro-batch on the device, forward
// and backward: model_fb.c's tr_forward / tr_backward line for line, with
// the device ops of tr_cuda_rows.cu / tr_cuda_attn.cu and linear layers as
// cuBLAS GEMMs (ops_linear.c's products, row-major, through TRC_GEMM).
#include <string.h>

#include "tr_cuda.h"

// out[N][nout] = inp[N][nin] . W^T + b  (W row-major [nout][nin]).
static void linear_fwd(trc_ctx *g, float *out, const float *inp, const float *w, const float *b,
                       int N, int nin, int nout)
{
    trc_bias_rows(g, out, b, N, nout);
    TRC_GEMM(g, "gemm linear Y=XW^T+b", false, true, N, nout, nin, 1.0f, inp, nin, w, nin, 1.0f,
             out, nout, 1, 0, 0, 0);
}

// dinp = dout . W (overwritten; skipped when NULL), dW += dout^T . inp,
// db += column sums of dout.
static void linear_bwd(trc_ctx *g, float *dinp, float *dw, float *db, const float *dout,
                       const float *inp, const float *w, int N, int nin, int nout)
{
    if (dinp)
        TRC_GEMM(g, "gemm linear dX=dY W", false, false, N, nin, nout, 1.0f, dout, nout, w, nin,
                 0.0f, dinp, nin, 1, 0, 0, 0);
    TRC_GEMM(g, "gemm linear dW+=dY^T X", true, false, nout, nin, N, 1.0f, dout, nout, inp, nin,
             1.0f, dw, nin, 1, 0, 0, 0);
    trc_bias_grad(g, db, dout, N, nout);
}

void trc_forward(trc_ctx *g, const tr_params *P, trc_acts *A, int fq, float dscale, double *loss)
{
    tr_acts *a = &A->a;
    const lmz_config *c = &a->cfg;
    const int d = c->d_model, F = c->d_ff, H = c->n_heads, dh = d / H;
    const int nb = a->nb, T = a->T, N = nb * T;
    trc_embed_fwd(g, a->x0, a->inp, P->wte, N, d);
    const float *x = a->x0;
    for (int l = 0; l < c->n_layers; l++) {
        tr_layer_a *L_a = &a->layer[l];
        const tr_layer_p *L = &P->layer[l];
        trc_ln_fwd(g, L_a->ln1_out, L_a->ln1_mean, L_a->ln1_rstd, x, L->ln1_g, L->ln1_b, N, d);
        if (fq)
            trc_fq_rows(g, L_a->ln1_out, N, d, d);
        linear_fwd(g, L_a->qkv, L_a->ln1_out, L->qkv_w, L->qkv_b, N, d, 3 * d);
        if (fq) // q, k, v of each head: 3H slices of dh per row
            trc_fq_rows(g, L_a->qkv, N * 3 * H, dh, dh);
        trc_attn_fwd(g, L_a->att, L_a->lse, L_a->qkv, nb, T, d, H, &A->attn);
        if (fq)
            trc_fq_rows(g, L_a->att, N, d, d);
        linear_fwd(g, L_a->res1, L_a->att, L->proj_w, L->proj_b, N, d, d);
        trc_add(g, L_a->res1, L_a->res1, x, (size_t)N * d);
        trc_ln_fwd(g, L_a->ln2_out, L_a->ln2_mean, L_a->ln2_rstd, L_a->res1, L->ln2_g, L->ln2_b,
                   N, d);
        if (fq)
            trc_fq_rows(g, L_a->ln2_out, N, d, d);
        linear_fwd(g, L_a->ff1, L_a->ln2_out, L->ff1_w, L->ff1_b, N, d, F);
        trc_gelu_fwd(g, L_a->ff1g, L_a->ff1, (size_t)N * F);
        if (fq)
            trc_fq_rows(g, L_a->ff1g, N, F, F);
        linear_fwd(g, L_a->res2, L_a->ff1g, L->ff2_w, L->ff2_b, N, F, d);
        trc_add(g, L_a->res2, L_a->res2, L_a->res1, (size_t)N * d);
        x = L_a->res2;
    }
    trc_ln_fwd(g, a->lnf_out, a->lnf_mean, a->lnf_rstd, x, P->lnf_g, P->lnf_b, N, d);
    if (fq)
        trc_fq_rows(g, a->lnf_out, N, d, d);
    linear_fwd(g, a->logits, a->lnf_out, P->head_w, P->head_b, N, d, 256);
    trc_xent(g, a->logits, a->tgt, N, dscale, A->rowloss, loss);
}

void trc_backward(trc_ctx *g, const tr_params *P, tr_params *G, trc_acts *A)
{
    tr_acts *a = &A->a;
    const lmz_config *c = &a->cfg;
    const int d = c->d_model, F = c->d_ff, H = c->n_heads, nL = c->n_layers;
    const int nb = a->nb, T = a->T, N = nb * T;
    // a->dres carries the gradient of the residual stream downwards.
    linear_bwd(g, a->dln, G->head_w, G->head_b, a->logits, a->lnf_out, P->head_w, N, d, 256);
    trc_zero(g, a->dres, (size_t)N * d);
    trc_ln_bwd(g, a->dres, G->lnf_g, G->lnf_b, a->dln, a->layer[nL - 1].res2, a->lnf_mean,
               a->lnf_rstd, P->lnf_g, N, d);
    for (int l = nL - 1; l >= 0; l--) {
        tr_layer_a *L_a = &a->layer[l];
        const tr_layer_p *L = &P->layer[l];
        tr_layer_p *Lg = &G->layer[l];
        const float *x = l > 0 ? a->layer[l - 1].res2 : a->x0;
        // feed-forward: res2 = res1 + ff2(gelu(ff1(LN2(res1))))
        linear_bwd(g, a->dff, Lg->ff2_w, Lg->ff2_b, a->dres, L_a->ff1g, L->ff2_w, N, F, d);
        trc_gelu_bwd(g, a->dff, a->dff, L_a->ff1, (size_t)N * F);
        linear_bwd(g, a->dln, Lg->ff1_w, Lg->ff1_b, a->dff, L_a->ln2_out, L->ff1_w, N, d, F);
        trc_ln_bwd(g, a->dres, Lg->ln2_g, Lg->ln2_b, a->dln, L_a->res1, L_a->ln2_mean,
                   L_a->ln2_rstd, L->ln2_g, N, d);
        // attention: res1 = x + proj(attn(qkv(LN1(x))))
        linear_bwd(g, a->datt, Lg->proj_w, Lg->proj_b, a->dres, L_a->att, L->proj_w, N, d, d);
        trc_attn_bwd(g, a->dqkv, a->datt, L_a->lse, L_a->qkv, nb, T, d, H, &A->attn);
        linear_bwd(g, a->dln, Lg->qkv_w, Lg->qkv_b, a->dqkv, L_a->ln1_out, L->qkv_w, N, d, 3 * d);
        trc_ln_bwd(g, a->dres, Lg->ln1_g, Lg->ln1_b, a->dln, x, L_a->ln1_mean, L_a->ln1_rstd,
                   L->ln1_g, N, d);
    }
    trc_embed_bwd(g, G->wte, a->dres, a->inp, N, d);
}
