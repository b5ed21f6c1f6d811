/* model_fb.c: the whole network over one micro-batch, forward and
 * backward, composed from the per-layer operations (one thread). */
#include <stdlib.h>
#include <string.h>

#include "tr_internal.h"

tr_acts *tr_acts_create(const lmz_config *cfg, int cap_nb, int cap_T)
{
    tr_acts *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->cfg = *cfg;
    a->cap_nb = cap_nb;
    a->cap_T = cap_T;
    const size_t N = (size_t)cap_nb * cap_T, d = (size_t)cfg->d_model, F = (size_t)cfg->d_ff;
    const size_t H = (size_t)cfg->n_heads, L = (size_t)cfg->n_layers;
    const size_t per_layer = 4 * N + 5 * N * d + 3 * N * d + N * H + 2 * N * F;
    const size_t total = N * d + L * per_layer + 2 * N + N * d + N * 256 /* forward */
                         + 3 * N * d + 3 * N * d + N * F;      /* backward temporaries */
    a->mem = malloc(total * sizeof *a->mem);
    a->inp = malloc(N);
    a->tgt = malloc(N);
    a->attn = tr_attn_ws_create(cap_T, cfg->d_model / cfg->n_heads);
    if (!a->mem || !a->inp || !a->tgt || !a->attn) {
        tr_acts_free(a);
        return NULL;
    }
    float *p = a->mem;
#define TAKE(ptr, n) do { (ptr) = p; p += (n); } while (0)
    TAKE(a->x0, N * d);
    for (size_t l = 0; l < L; l++) {
        tr_layer_a *A = &a->layer[l];
        TAKE(A->ln1_mean, N);
        TAKE(A->ln1_rstd, N);
        TAKE(A->ln1_out, N * d);
        TAKE(A->qkv, 3 * N * d);
        TAKE(A->lse, N * H);
        TAKE(A->att, N * d);
        TAKE(A->res1, N * d);
        TAKE(A->ln2_mean, N);
        TAKE(A->ln2_rstd, N);
        TAKE(A->ln2_out, N * d);
        TAKE(A->ff1, N * F);
        TAKE(A->ff1g, N * F);
        TAKE(A->res2, N * d);
    }
    TAKE(a->lnf_mean, N);
    TAKE(a->lnf_rstd, N);
    TAKE(a->lnf_out, N * d);
    TAKE(a->logits, N * 256);
    TAKE(a->dres, N * d);
    TAKE(a->dln, N * d);
    TAKE(a->datt, N * d);
    TAKE(a->dqkv, 3 * N * d);
    TAKE(a->dff, N * F);
#undef TAKE
    return a;
}

void tr_acts_free(tr_acts *a)
{
    if (!a)
        return;
    free(a->mem);
    free(a->inp);
    free(a->tgt);
    tr_attn_ws_free(a->attn);
    free(a);
}

void tr_acts_load(tr_acts *a, const uint8_t *data, const size_t *starts, int nb, int T)
{
    a->nb = nb;
    a->T = T;
    for (int w = 0; w < nb; w++) {
        const uint8_t *x = data + starts[w];
        uint8_t *in = a->inp + (size_t)w * T, *tg = a->tgt + (size_t)w * T;
        in[0] = 0; /* every window starts from an empty context */
        if (T > 1)
            memcpy(in + 1, x, (size_t)T - 1);
        memcpy(tg, x, (size_t)T);
    }
}

double tr_forward(const tr_params *P, tr_acts *a, int fq, float dscale)
{
    const lmz_config *c = &a->cfg;
    const int d = c->d_model, F = c->d_ff, H = c->n_heads, dh = d / H;
    const int nb = a->nb, T = a->T, N = nb * T;
    tr_embed_fwd(a->x0, a->inp, P->wte, N, d);
    const float *x = a->x0;
    for (int l = 0; l < c->n_layers; l++) {
        tr_layer_a *A = &a->layer[l];
        const tr_layer_p *L = &P->layer[l];
        tr_ln_fwd(A->ln1_out, A->ln1_mean, A->ln1_rstd, x, L->ln1_g, L->ln1_b, N, d);
        if (fq)
            tr_fq_rows(A->ln1_out, N, d, d);
        tr_linear_fwd(A->qkv, A->ln1_out, L->qkv_w, L->qkv_b, N, d, 3 * d);
        if (fq) /* q, k, v of each head: 3H slices of dh per row */
            tr_fq_rows(A->qkv, N * 3 * H, dh, dh);
        tr_attn_fwd(A->att, A->lse, A->qkv, nb, T, d, H, a->attn);
        if (fq)
            tr_fq_rows(A->att, N, d, d);
        tr_linear_fwd(A->res1, A->att, L->proj_w, L->proj_b, N, d, d);
        tr_add(A->res1, A->res1, x, (size_t)N * d);
        tr_ln_fwd(A->ln2_out, A->ln2_mean, A->ln2_rstd, A->res1, L->ln2_g, L->ln2_b, N, d);
        if (fq)
            tr_fq_rows(A->ln2_out, N, d, d);
        tr_linear_fwd(A->ff1, A->ln2_out, L->ff1_w, L->ff1_b, N, d, F);
        tr_gelu_fwd(A->ff1g, A->ff1, (size_t)N * F);
        if (fq)
            tr_fq_rows(A->ff1g, N, F, F);
        tr_linear_fwd(A->res2, A->ff1g, L->ff2_w, L->ff2_b, N, F, d);
        tr_add(A->res2, A->res2, A->res1, (size_t)N * d);
        x = A->res2;
    }
    tr_ln_fwd(a->lnf_out, a->lnf_mean, a->lnf_rstd, x, P->lnf_g, P->lnf_b, N, d);
    if (fq)
        tr_fq_rows(a->lnf_out, N, d, d);
    tr_linear_fwd(a->logits, a->lnf_out, P->head_w, P->head_b, N, d, 256);
    return tr_xent(a->logits, a->tgt, N, dscale);
}

void tr_backward(const tr_params *P, tr_params *G, tr_acts *a)
{
    const lmz_config *c = &a->cfg;
    const int d = c->d_model, F = c->d_ff, H = c->n_heads, nL = c->n_layers;
    const int nb = a->nb, T = a->T, N = nb * T;
    /* a->dres carries the gradient of the residual stream downwards. */
    tr_linear_bwd(a->dln, G->head_w, G->head_b, a->logits, a->lnf_out, P->head_w, N, d, 256);
    memset(a->dres, 0, (size_t)N * d * sizeof *a->dres);
    tr_ln_bwd(a->dres, G->lnf_g, G->lnf_b, a->dln, a->layer[nL - 1].res2, a->lnf_mean,
              a->lnf_rstd, P->lnf_g, N, d);
    for (int l = nL - 1; l >= 0; l--) {
        tr_layer_a *A = &a->layer[l];
        const tr_layer_p *L = &P->layer[l];
        tr_layer_p *Lg = &G->layer[l];
        const float *x = l > 0 ? a->layer[l - 1].res2 : a->x0;
        /* feed-forward: res2 = res1 + ff2(gelu(ff1(LN2(res1)))) */
        tr_linear_bwd(a->dff, Lg->ff2_w, Lg->ff2_b, a->dres, A->ff1g, L->ff2_w, N, F, d);
        tr_gelu_bwd(a->dff, a->dff, A->ff1, (size_t)N * F);
        tr_linear_bwd(a->dln, Lg->ff1_w, Lg->ff1_b, a->dff, A->ln2_out, L->ff1_w, N, d, F);
        tr_ln_bwd(a->dres, Lg->ln2_g, Lg->ln2_b, a->dln, A->res1, A->ln2_mean, A->ln2_rstd,
                  L->ln2_g, N, d);
        /* attention: res1 = x + proj(attn(qkv(LN1(x)))) */
        tr_linear_bwd(a->datt, Lg->proj_w, Lg->proj_b, a->dres, A->att, L->proj_w, N, d, d);
        tr_attn_bwd(a->dqkv, a->datt, A->lse, A->qkv, nb, T, d, H, a->attn);
        tr_linear_bwd(a->dln, Lg->qkv_w, Lg->qkv_b, a->dqkv, A->ln1_out, L->qkv_w, N, d, 3 * d);
        tr_ln_bwd(a->dres, Lg->ln1_g, Lg->ln1_b, a->dln, x, A->ln1_mean, A->ln1_rstd, L->ln1_g,
                  N, d);
    }
    tr_embed_bwd(G->wte, a->dres, a->inp, N, d);
}

double tr_loss_grad(const lmz_fmodel *fm, const uint8_t *data, const size_t *starts, int nb,
                    int T, float *grad)
{
    tr_acts *a = tr_acts_create(&fm->cfg, nb, T);
    if (!a)
        return -1.0;
    tr_params P, G;
    tr_params_view(&fm->cfg, fm->params, &P);
    tr_acts_load(a, data, starts, nb, T);
    double loss = tr_forward(&P, a, 0, grad ? 1.0f : 0.0f);
    if (grad) {
        memset(grad, 0, fm->nparams * sizeof *grad);
        tr_params_view(&fm->cfg, grad, &G);
        tr_backward(&P, &G, a);
    }
    tr_acts_free(a);
    return loss;
}
