/* params.c: the float model's parameters: layout, initialisation, and the
 * LayerNorm folding that gives it the integer model's structure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tr_internal.h"

/* Every tensor in parameter order, as (name, rows, cols, kind). */
typedef struct spec {
    char name[32];
    int rows, cols, kind;
} spec;

static int specs(const lmz_config *c, spec *s, int cap)
{
    const int d = c->d_model, F = c->d_ff;
    int n = 0;
#define ADD(nm, r, co, k)                                                       \
    do {                                                                        \
        if (n < cap) {                                                          \
            snprintf(s[n].name, sizeof s[n].name, "%s", nm);                    \
            s[n].rows = (r);                                                    \
            s[n].cols = (co);                                                   \
            s[n].kind = (k);                                                    \
        }                                                                       \
        n++;                                                                    \
    } while (0)
    ADD("wte", 256, d, LMZ_FT_MATRIX);
    for (int l = 0; l < c->n_layers; l++) {
        char nm[32];
#define ADDL(suffix, r, co, k)                                                  \
    do {                                                                        \
        snprintf(nm, sizeof nm, "layer%d.%s", l, suffix);                       \
        ADD(nm, r, co, k);                                                      \
    } while (0)
        ADDL("ln1.g", 1, d, LMZ_FT_NORM);
        ADDL("ln1.b", 1, d, LMZ_FT_NORM);
        ADDL("qkv.w", 3 * d, d, LMZ_FT_MATRIX);
        ADDL("qkv.b", 1, 3 * d, LMZ_FT_BIAS);
        ADDL("proj.w", d, d, LMZ_FT_MATRIX);
        ADDL("proj.b", 1, d, LMZ_FT_BIAS);
        ADDL("ln2.g", 1, d, LMZ_FT_NORM);
        ADDL("ln2.b", 1, d, LMZ_FT_NORM);
        ADDL("ff1.w", F, d, LMZ_FT_MATRIX);
        ADDL("ff1.b", 1, F, LMZ_FT_BIAS);
        ADDL("ff2.w", d, F, LMZ_FT_MATRIX);
        ADDL("ff2.b", 1, d, LMZ_FT_BIAS);
#undef ADDL
    }
    ADD("lnf.g", 1, d, LMZ_FT_NORM);
    ADD("lnf.b", 1, d, LMZ_FT_NORM);
    ADD("head.w", 256, d, LMZ_FT_MATRIX);
    ADD("head.b", 1, 256, LMZ_FT_BIAS);
#undef ADD
    return n;
}

int lmz_fmodel_tensors(const lmz_config *cfg, lmz_ftensor *out, int cap)
{
    spec s[8 + 12 * LMZ_MAX_LAYERS];
    const int n = specs(cfg, s, (int)(sizeof s / sizeof s[0]));
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        if (i < cap) {
            memcpy(out[i].name, s[i].name, sizeof out[i].name);
            out[i].offset = off;
            out[i].size = (size_t)s[i].rows * (size_t)s[i].cols;
            out[i].rows = s[i].rows;
            out[i].cols = s[i].cols;
            out[i].kind = s[i].kind;
        }
        off += (size_t)s[i].rows * (size_t)s[i].cols;
    }
    return n;
}

size_t lmz_fmodel_param_count(const lmz_config *cfg)
{
    return lmz_config_param_count(cfg) + (size_t)(2 * cfg->n_layers + 1) * 2 * (size_t)cfg->d_model;
}

void tr_params_view(const lmz_config *c, float *p, tr_params *v)
{
    const size_t d = (size_t)c->d_model, F = (size_t)c->d_ff;
    memset(v, 0, sizeof *v);
    v->wte = p;
    p += 256 * d;
    for (int l = 0; l < c->n_layers; l++) {
        tr_layer_p *L = &v->layer[l];
        L->ln1_g = p; p += d;
        L->ln1_b = p; p += d;
        L->qkv_w = p; p += 3 * d * d;
        L->qkv_b = p; p += 3 * d;
        L->proj_w = p; p += d * d;
        L->proj_b = p; p += d;
        L->ln2_g = p; p += d;
        L->ln2_b = p; p += d;
        L->ff1_w = p; p += F * d;
        L->ff1_b = p; p += F;
        L->ff2_w = p; p += d * F;
        L->ff2_b = p; p += d;
    }
    v->lnf_g = p; p += d;
    v->lnf_b = p; p += d;
    v->head_w = p; p += 256 * d;
    v->head_b = p;
}

lmz_fmodel *lmz_fmodel_create(const lmz_config *cfg)
{
    if (!cfg || lmz_config_validate(cfg, NULL) != LMZ_OK)
        return NULL;
    lmz_fmodel *fm = calloc(1, sizeof *fm);
    if (!fm)
        return NULL;
    fm->cfg = *cfg;
    fm->nparams = lmz_fmodel_param_count(cfg);
    fm->params = calloc(fm->nparams, sizeof *fm->params);
    if (!fm->params) {
        free(fm);
        return NULL;
    }
    return fm;
}

void lmz_fmodel_free(lmz_fmodel *fm)
{
    if (!fm)
        return;
    free(fm->params);
    free(fm);
}

static void fill_normal(float *w, size_t n, double std, uint64_t *st)
{
    for (size_t i = 0; i < n; i++)
        w[i] = (float)(std * tr_normal(st));
}

void lmz_fmodel_init(lmz_fmodel *fm, uint64_t seed)
{
    const lmz_config *c = &fm->cfg;
    const int d = c->d_model, F = c->d_ff;
    tr_params P;
    tr_params_view(c, fm->params, &P);
    memset(fm->params, 0, fm->nparams * sizeof *fm->params);
    fm->folded = 0;
    uint64_t st = seed ^ UINT64_C(0x6c6d7a747261696e); /* "lmztrain" */
    /* Pre-LN: every block reads a normalised stream, so the weights are
     * sized for unit-variance inputs (1/sqrt(fan_in)); the two layers that
     * write back into the residual are scaled down by sqrt(2 n_layers) so
     * the stream's variance grows slowly with depth (GPT-2). The embedding
     * starts at unit scale, comparable to the blocks' outputs. */
    const double res_scale = 1.0 / sqrt(2.0 * c->n_layers);
    fill_normal(P.wte, 256 * (size_t)d, 1.0, &st);
    for (int l = 0; l < c->n_layers; l++) {
        tr_layer_p *L = &P.layer[l];
        for (int i = 0; i < d; i++)
            L->ln1_g[i] = L->ln2_g[i] = 1.0f;
        fill_normal(L->qkv_w, 3 * (size_t)d * d, 1.0 / sqrt(d), &st);
        fill_normal(L->proj_w, (size_t)d * d, res_scale / sqrt(d), &st);
        fill_normal(L->ff1_w, (size_t)F * d, 1.0 / sqrt(d), &st);
        fill_normal(L->ff2_w, (size_t)d * F, res_scale / sqrt(F), &st);
    }
    for (int i = 0; i < d; i++)
        P.lnf_g[i] = 1.0f;
    /* Small head: the first predictions are near the head bias alone. */
    fill_normal(P.head_w, 256 * (size_t)d, 0.1 / sqrt(d), &st);
}

void lmz_fmodel_init_unigram(lmz_fmodel *fm, const uint8_t *data, size_t n)
{
    tr_params P;
    tr_params_view(&fm->cfg, fm->params, &P);
    double count[256];
    for (int s = 0; s < 256; s++)
        count[s] = 1.0; /* Laplace: no byte starts impossible */
    for (size_t i = 0; i < n; i++)
        count[data[i]] += 1.0;
    double total = 0;
    for (int s = 0; s < 256; s++)
        total += count[s];
    /* Softmax is shift-invariant; centring keeps the logits near 0, far
     * from the integer model's +-64 clamp. */
    double mean = 0;
    for (int s = 0; s < 256; s++)
        mean += log(count[s] / total) / 256.0;
    for (int s = 0; s < 256; s++)
        P.head_b[s] = (float)(log(count[s] / total) - mean);
}

/* W' = W diag(g), b' = b + W beta, for one linear fed by a LayerNorm. */
static void fold_one(float *w, float *b, int out, int in, const float *g, const float *beta)
{
    for (int o = 0; o < out; o++) {
        float *row = w + (size_t)o * in;
        double acc = b[o];
        for (int i = 0; i < in; i++)
            acc += (double)row[i] * beta[i];
        b[o] = (float)acc;
        for (int i = 0; i < in; i++)
            row[i] *= g[i];
    }
}

static void reset_norm(float *g, float *b, int d)
{
    for (int i = 0; i < d; i++) {
        g[i] = 1.0f;
        b[i] = 0.0f;
    }
}

void lmz_fmodel_fold_ln(lmz_fmodel *fm)
{
    const lmz_config *c = &fm->cfg;
    const int d = c->d_model, F = c->d_ff;
    tr_params P;
    tr_params_view(c, fm->params, &P);
    for (int l = 0; l < c->n_layers; l++) {
        tr_layer_p *L = &P.layer[l];
        fold_one(L->qkv_w, L->qkv_b, 3 * d, d, L->ln1_g, L->ln1_b);
        fold_one(L->ff1_w, L->ff1_b, F, d, L->ln2_g, L->ln2_b);
        reset_norm(L->ln1_g, L->ln1_b, d);
        reset_norm(L->ln2_g, L->ln2_b, d);
    }
    fold_one(P.head_w, P.head_b, 256, d, P.lnf_g, P.lnf_b);
    reset_norm(P.lnf_g, P.lnf_b, d);
    fm->folded = 1;
}
