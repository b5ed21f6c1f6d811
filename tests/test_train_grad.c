/* test_train_grad.c: the trainer's gradients against finite differences,
 * layer by layer and for the whole network, and the forward ops against
 * straightforward double-precision references.
 *
 * Each layer check uses the scalar loss f = sum(dy * layer(x)) with a random
 * dy, so backward's input and parameter gradients are compared with central
 * differences of f. The comparison is per tensor: |g - fd| / |fd| over the
 * entries checked. Float32 rounding gives ~1e-3 here; a missing term or a
 * wrong index gives errors of order 1. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmz_train.h"
#include "testutil.h"
#include "train/tr_internal.h"
#include "train/tr_math.h"

static uint64_t rng = 12345;

static float urand(void) /* uniform in [-1, 1) */
{
    return (float)((double)(tu_rand(&rng) >> 11) * 0x1.0p-52 - 1.0);
}

static float *rand_vec(size_t n, float scale)
{
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = scale * urand();
    return v;
}

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* Relative error between analytic g and numeric fd over n entries. */
static double rel_err(const double *g, const double *fd, int n)
{
    double num = 0, den = 0;
    for (int i = 0; i < n; i++) {
        num += (g[i] - fd[i]) * (g[i] - fd[i]);
        den += fd[i] * fd[i];
    }
    return sqrt(num) / (sqrt(den) + 1e-12);
}

static int report(const char *what, double err, double tol)
{
    const int ok = err < tol && isfinite(err);
    printf("%-28s rel err %.2e %s\n", what, err, ok ? "ok" : "FAIL");
    if (!ok)
        tu_failures++;
    return ok;
}

/* ---- generic layer check: f(x) = sum(dy * out(x)) ---- */

typedef struct layer_case {
    void (*fwd)(void *ctx, float *out);
    size_t nout;
    const float *dy;
    void *ctx;
} layer_case;

static double eval_f(layer_case *lc, float *out)
{
    lc->fwd(lc->ctx, out);
    return dot(lc->dy, out, lc->nout);
}

/* Compare grad (analytic d f / d v) with central differences in v, at up to
 * 64 entries spread over v. */
static void check_tensor(const char *what, layer_case *lc, float *v, size_t n, const float *grad,
                         float eps, double tol)
{
    float *out = malloc(lc->nout * sizeof *out);
    double g[64], fd[64];
    int k = 0;
    const size_t stride = n > 64 ? n / 64 : 1;
    for (size_t i = 0; i < n && k < 64; i += stride, k++) {
        const float keep = v[i];
        v[i] = keep + eps;
        const double fp = eval_f(lc, out);
        v[i] = keep - eps;
        const double fm = eval_f(lc, out);
        v[i] = keep;
        fd[k] = (fp - fm) / (2.0 * eps);
        g[k] = grad[i];
    }
    free(out);
    report(what, rel_err(g, fd, k), tol);
}

/* ---- LayerNorm ---- */

typedef struct ln_ctx {
    float *x, *g, *b, *mean, *rstd;
    int N, d;
} ln_ctx;

static void ln_f(void *c, float *out)
{
    ln_ctx *l = c;
    tr_ln_fwd(out, l->mean, l->rstd, l->x, l->g, l->b, l->N, l->d);
}

static void test_layernorm(void)
{
    const int N = 5, d = 24;
    ln_ctx l = {rand_vec((size_t)N * d, 2.0f), rand_vec(d, 1.0f), rand_vec(d, 1.0f),
                malloc(N * sizeof(float)), malloc(N * sizeof(float)), N, d};
    for (int i = 0; i < N * d; i++)
        l.x[i] += 0.5f; /* a non-zero mean */
    float *dy = rand_vec((size_t)N * d, 1.0f), *out = malloc((size_t)N * d * sizeof *out);
    /* forward against the definition, in double */
    ln_f(&l, out);
    double worst = 0;
    for (int n = 0; n < N; n++) {
        double m = 0, v = 0;
        for (int i = 0; i < d; i++)
            m += l.x[n * d + i] / (double)d;
        for (int i = 0; i < d; i++)
            v += (l.x[n * d + i] - m) * (l.x[n * d + i] - m) / d;
        for (int i = 0; i < d; i++) {
            const double ref = (l.x[n * d + i] - m) / sqrt(v + 128.0 / 16777216.0) * l.g[i] + l.b[i];
            worst = fmax(worst, fabs(ref - out[n * d + i]));
        }
    }
    report("layernorm forward", worst, 1e-5);
    float *dx = calloc((size_t)N * d, sizeof *dx), *dg = calloc(d, sizeof *dg),
          *db = calloc(d, sizeof *db);
    tr_ln_bwd(dx, dg, db, dy, l.x, l.mean, l.rstd, l.g, N, d);
    layer_case lc = {ln_f, (size_t)N * d, dy, &l};
    check_tensor("layernorm dx", &lc, l.x, (size_t)N * d, dx, 1e-2f, 2e-2);
    check_tensor("layernorm dgain", &lc, l.g, d, dg, 1e-2f, 2e-2);
    check_tensor("layernorm dbias", &lc, l.b, d, db, 1e-2f, 2e-2);
    free(l.x), free(l.g), free(l.b), free(l.mean), free(l.rstd);
    free(dy), free(out), free(dx), free(dg), free(db);
}

/* ---- linear ---- */

typedef struct lin_ctx {
    float *x, *w, *b;
    int N, nin, nout;
} lin_ctx;

static void lin_f(void *c, float *out)
{
    lin_ctx *l = c;
    tr_linear_fwd(out, l->x, l->w, l->b, l->N, l->nin, l->nout);
}

static void test_linear(void)
{
    const int N = 7, nin = 12, nout = 9;
    lin_ctx l = {rand_vec((size_t)N * nin, 1.0f), rand_vec((size_t)nout * nin, 0.5f),
                 rand_vec(nout, 0.5f), N, nin, nout};
    float *dy = rand_vec((size_t)N * nout, 1.0f);
    float *dx = calloc((size_t)N * nin, sizeof *dx), *dw = calloc((size_t)nout * nin, sizeof *dw),
          *db = calloc(nout, sizeof *db);
    tr_linear_bwd(dx, dw, db, dy, l.x, l.w, N, nin, nout);
    layer_case lc = {lin_f, (size_t)N * nout, dy, &l};
    check_tensor("linear dx", &lc, l.x, (size_t)N * nin, dx, 1e-2f, 1e-2);
    check_tensor("linear dW", &lc, l.w, (size_t)nout * nin, dw, 1e-2f, 1e-2);
    check_tensor("linear db", &lc, l.b, nout, db, 1e-2f, 1e-2);
    free(l.x), free(l.w), free(l.b), free(dy), free(dx), free(dw), free(db);
}

/* ---- attention ---- */

typedef struct att_ctx {
    float *qkv, *lse;
    int nb, T, d, H;
    tr_attn_ws *ws;
} att_ctx;

static void att_f(void *c, float *out)
{
    att_ctx *a = c;
    tr_attn_fwd(out, a->lse, a->qkv, a->nb, a->T, a->d, a->H, a->ws);
}

/* The definition in double: softmax_j<=i(q.k / sqrt(dh) - (i-j) 2^-e_h) v. */
static double att_reference_err(const att_ctx *a, const float *out)
{
    const int d = a->d, H = a->H, dh = d / H, T = a->T;
    double worst = 0;
    for (int b = 0; b < a->nb; b++)
        for (int h = 0; h < H; h++) {
            const double slope = pow(2.0, -(double)((8 * (h + 1) + H - 1) / H));
            for (int i = 0; i < T; i++) {
                const float *q = a->qkv + ((size_t)b * T + i) * 3 * d + h * dh;
                double s[512], m = -1e300, z = 0;
                for (int j = 0; j <= i; j++) {
                    const float *k = a->qkv + ((size_t)b * T + j) * 3 * d + d + h * dh;
                    double acc = 0;
                    for (int c = 0; c < dh; c++)
                        acc += (double)q[c] * k[c];
                    s[j] = acc / sqrt((double)dh) - slope * (i - j);
                    m = fmax(m, s[j]);
                }
                for (int j = 0; j <= i; j++)
                    z += exp(s[j] - m);
                for (int c = 0; c < dh; c++) {
                    double o = 0;
                    for (int j = 0; j <= i; j++)
                        o += exp(s[j] - m) / z * a->qkv[((size_t)b * T + j) * 3 * d + 2 * d + h * dh + c];
                    worst = fmax(worst, fabs(o - out[((size_t)b * T + i) * d + h * dh + c]));
                }
            }
        }
    return worst;
}

static void test_attention(int nb, int T, int d, int H, float scale)
{
    att_ctx a = {rand_vec((size_t)nb * T * 3 * d, scale), malloc((size_t)nb * H * T * sizeof(float)),
                 nb, T, d, H, tr_attn_ws_create(T, d / H)};
    const size_t nout = (size_t)nb * T * d;
    float *out = malloc(nout * sizeof *out), *dy = rand_vec(nout, 1.0f);
    float *dqkv = malloc((size_t)nb * T * 3 * d * sizeof *dqkv);
    char name[64];
    att_f(&a, out);
    snprintf(name, sizeof name, "attention fwd T=%d H=%d dh=%d", T, H, d / H);
    report(name, att_reference_err(&a, out), 2e-5);
    tr_attn_bwd(dqkv, dy, a.lse, a.qkv, nb, T, d, H, a.ws);
    layer_case lc = {att_f, nout, dy, &a};
    snprintf(name, sizeof name, "attention dqkv T=%d H=%d", T, H);
    check_tensor(name, &lc, a.qkv, (size_t)nb * T * 3 * d, dqkv, 1e-2f, 2e-2);
    free(a.qkv), free(a.lse), free(out), free(dy), free(dqkv);
    tr_attn_ws_free(a.ws);
}

/* ---- GELU, embedding, cross-entropy, exp ---- */

static void test_elementwise(void)
{
    double worst_exp = 0, worst_gelu = 0, worst_grad = 0;
    for (int i = -8700; i <= 8800; i++) {
        const float x = (float)i * 0.01f;
        worst_exp = fmax(worst_exp, fabs(tr_exp(x) / exp((double)x) - 1.0));
    }
    for (int i = -1200; i <= 1200; i++) {
        const double x = i * 0.01;
        const double ref = 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
        const double dref = 0.5 * (1.0 + erf(x / sqrt(2.0))) + x * exp(-0.5 * x * x) / sqrt(2 * M_PI);
        worst_gelu = fmax(worst_gelu, fabs(tr_gelu((float)x) - ref));
        worst_grad = fmax(worst_grad, fabs(tr_gelu_grad((float)x) - dref));
    }
    report("exp relative", worst_exp, 1e-6);
    report("gelu vs erf form", worst_gelu, 2e-6);
    report("gelu derivative", worst_grad, 2e-6);

    /* cross-entropy: d(sum -ln p)/dlogits by finite differences */
    const int N = 3;
    float *l = rand_vec((size_t)N * 256, 3.0f), *g = malloc((size_t)N * 256 * sizeof *g);
    const uint8_t tgt[3] = {7, 200, 65};
    memcpy(g, l, (size_t)N * 256 * sizeof *g);
    tr_xent(g, tgt, N, 1.0f);
    /* every 13th logit, then the targets themselves, where the gradient is
     * p - 1 */
    int idx[64 + 3], k = 0;
    for (int i = 0; i < N * 256 && k < 64; i += 13)
        idx[k++] = i;
    for (int n = 0; n < N; n++)
        idx[k++] = n * 256 + tgt[n];
    double ga[64 + 3], fd[64 + 3];
    float *tmp = malloc((size_t)N * 256 * sizeof *tmp);
    for (int j = 0; j < k; j++) {
        const int i = idx[j];
        const float keep = l[i];
        l[i] = keep + 1e-2f;
        memcpy(tmp, l, (size_t)N * 256 * sizeof *tmp);
        const double fp = tr_xent(tmp, tgt, N, 0.0f);
        l[i] = keep - 1e-2f;
        memcpy(tmp, l, (size_t)N * 256 * sizeof *tmp);
        const double fm = tr_xent(tmp, tgt, N, 0.0f);
        l[i] = keep;
        fd[j] = (fp - fm) / 2e-2;
        ga[j] = g[i];
    }
    free(tmp);
    report("cross-entropy dlogits", rel_err(ga, fd, k), 1e-2);
    free(l), free(g);
}

/* ---- the whole network ---- */

static void test_network(void)
{
    /* d 16, 2 layers, 4 heads (dh 4, slopes 1/4 .. 1/256), F 24; T 19 is no
     * multiple of any tile size. */
    const lmz_config cfg = {16, 2, 4, 24, 64};
    lmz_fmodel *fm = lmz_fmodel_create(&cfg);
    lmz_fmodel_init(fm, 7);
    /* Perturb every parameter so no gain is exactly 1, no bias 0. */
    for (size_t i = 0; i < fm->nparams; i++)
        fm->params[i] += 0.1f * urand();
    uint8_t data[64];
    const char *text = "the quick brown fox jumps over the lazy dog, 0123456789 ABCDEFGHIJKLM";
    memcpy(data, text, sizeof data);
    const size_t starts[2] = {0, 30};
    const int T = 19;
    float *grad = malloc(fm->nparams * sizeof *grad);
    tr_loss_grad(fm, data, starts, 2, T, grad);

    lmz_ftensor ts[64];
    const int nt = lmz_fmodel_tensors(&cfg, ts, 64);
    int bad = 0;
    for (int t = 0; t < nt; t++) {
        double g[24], fd[24];
        int k = 0;
        const size_t stride = ts[t].size > 24 ? ts[t].size / 24 : 1;
        for (size_t j = 0; j < ts[t].size && k < 24; j += stride) {
            float *p = fm->params + ts[t].offset + j;
            if (ts[t].offset == 0) /* wte: only rows of bytes that occur */
                p = fm->params + (size_t)data[(j / 16) % 48] * 16 + j % 16;
            const float keep = *p, eps = 1e-2f;
            *p = keep + eps;
            const double fp = tr_loss_grad(fm, data, starts, 2, T, NULL);
            *p = keep - eps;
            const double fmn = tr_loss_grad(fm, data, starts, 2, T, NULL);
            *p = keep;
            fd[k] = (fp - fmn) / (2.0 * eps);
            g[k] = grad[p - fm->params];
            k++;
        }
        char name[64];
        snprintf(name, sizeof name, "network %.40s", ts[t].name);
        bad += !report(name, rel_err(g, fd, k), 1e-2);
    }
    CHECK(bad == 0);
    free(grad);
    lmz_fmodel_free(fm);
}

int main(void)
{
    test_layernorm();
    test_linear();
    test_attention(2, 7, 8, 2, 1.0f);   /* shorter than one tile */
    test_attention(1, 37, 16, 4, 2.0f); /* across tiles, dh 4 padded */
    test_attention(1, 21, 64, 2, 0.5f); /* dh 32: two column blocks */
    test_elementwise();
    test_network();
    return tu_finish("train_grad");
}
