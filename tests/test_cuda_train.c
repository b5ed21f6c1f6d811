/* test_cuda_train.c: the CUDA gradient engine (kernels/cuda/train) against
 * the CPU trainer (label "gpu"; exits 77, skipped, without a CUDA device or
 * a CUDA build).
 *
 * 1. Loss and gradient of one step, tensor by tensor, against the CPU
 *    reference (tr_forward / tr_backward on one thread), for the tiny and
 *    200k shapes at T = 64 and T = 300 (not a multiple of 32), in one
 *    micro-batch and in several (the device accumulating into its
 *    gradient), without and with fake quantization.
 * 2. The same with per-launch checks on, which also prints the time per
 *    kernel.
 * 3. 20 steps of the whole trainer on the GPU and on the CPU from the same
 *    seed (the last third with QAT): both losses fall, and they end close.
 *
 * Tolerances. Float32 with different summation orders (cuBLAS tiles, block
 * reductions, the CPU's sequential loops) differ by ~1e-6 relative per
 * operation; through a few layers of a random model the relative error of
 * a whole tensor's gradient stays ~1e-5. 1e-3 on |g_gpu - g_cpu| / |g_cpu|
 * per tensor leaves a wide margin, while a wrong index, transpose, mask or
 * scale gives errors of order 1. With fake quantization a value that lands
 * within ~1e-6 of a rounding boundary can round the other way on the other
 * device (a step of max/127 in that one value), so a few values per tensor
 * differ by a quantization step: 2e-2 there. The loss: 1e-4 relative
 * (1e-3 with fake quantization). Training: the two runs see the same
 * windows, so their losses after 20 steps agree to well under 3%. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmz_backend.h"
#include "lmz_train.h"
#include "testutil.h"
#include "train/tr_engine.h"
#include "train/tr_internal.h"

static uint64_t rng = 99;

static float urand(void) /* uniform in [-1, 1) */
{
    return (float)((double)(tu_rand(&rng) >> 11) * 0x1.0p-52 - 1.0);
}

/* The CPU reference on one thread: tr_forward / tr_backward over all nb
 * windows at once. Returns the summed loss; grad overwritten. */
static double cpu_ref(const lmz_config *cfg, const float *params, const uint8_t *data,
                      const size_t *starts, int nb, int T, int fq, float *grad)
{
    tr_acts *a = tr_acts_create(cfg, nb, T);
    if (!a)
        return NAN;
    tr_params P, G;
    tr_params_view(cfg, (float *)params, &P);
    tr_acts_load(a, data, starts, nb, T);
    const double loss = tr_forward(&P, a, fq, 1.0f);
    memset(grad, 0, lmz_fmodel_param_count(cfg) * sizeof *grad);
    tr_params_view(cfg, grad, &G);
    tr_backward(&P, &G, a);
    tr_acts_free(a);
    return loss;
}

/* Per-tensor relative error; prints the worst tensor, fails above tol. */
static void compare(const char *what, const lmz_config *cfg, double lc, double lg,
                    const float *gc, const float *gg, double ltol, double tol)
{
    lmz_ftensor ts[8 + 12 * LMZ_MAX_LAYERS];
    const int nt = lmz_fmodel_tensors(cfg, ts, (int)(sizeof ts / sizeof ts[0]));
    double worst = -1;
    int wi = 0, nbad = 0;
    for (int i = 0; i < nt; i++) {
        double num = 0, den = 0;
        for (size_t k = 0; k < ts[i].size; k++) {
            const double c = gc[ts[i].offset + k], g = gg[ts[i].offset + k];
            num += (g - c) * (g - c);
            den += c * c;
        }
        const double rel = sqrt(num) / (sqrt(den) + 1e-30);
        if (!(rel <= tol)) {
            nbad++;
            printf("    %-18s rel err %.2e (|g| %.3e) FAIL\n", ts[i].name, rel, sqrt(den));
        }
        if (!(rel <= worst) || worst < 0) {
            worst = rel;
            wi = i;
        }
    }
    const double lrel = fabs(lg - lc) / fabs(lc);
    const int ok = nbad == 0 && lrel <= ltol && isfinite(lg);
    printf("%-44s loss %.6f vs %.6f (rel %.1e) | worst tensor %-16s %.2e | %s\n", what, lg, lc,
           lrel, ts[wi].name, worst, ok ? "ok" : "FAIL");
    if (!ok)
        tu_failures++;
}

static void check_grad(const char *preset, int T, int B, int micro_tokens, int fq, int sync,
                       const uint8_t *data, size_t n)
{
    lmz_config cfg;
    lmz_config_preset(preset, &cfg);
    lmz_fmodel *fm = lmz_fmodel_create(&cfg);
    lmz_fmodel_init(fm, 5);
    /* every parameter away from its initial value, so that LayerNorm gains
     * and biases matter too */
    for (size_t i = 0; i < fm->nparams; i++)
        fm->params[i] += 0.05f * urand();
    const size_t np = fm->nparams;
    float *params = malloc(np * sizeof *params), *gc = malloc(np * sizeof *gc),
          *gg = malloc(np * sizeof *gg);
    if (fq)
        tr_fq_params(&cfg, fm->params, params);
    else
        memcpy(params, fm->params, np * sizeof *params);
    size_t starts[64];
    for (int w = 0; w < B; w++)
        starts[w] = (size_t)(tu_rand(&rng) % (n - (size_t)T + 1));
    const double lc = cpu_ref(&cfg, params, data, starts, B, T, fq, gc);

    char what[128];
    snprintf(what, sizeof what, "%s T=%d B=%d micro=%d%s%s", preset, T, B, micro_tokens,
             fq ? " fq" : "", sync ? " sync" : "");
    tr_grad_engine e;
    lmz_err err;
    lmz_err_clear(&err);
    const tr_cuda_opts o = {.sync_check = sync, .micro_tokens = micro_tokens};
    lmz_status st = tr_engine_cuda_create(&cfg, &o, &e, &err);
    double lg = NAN;
    if (st == LMZ_OK) {
        const tr_step_in in = {params, data, starts, B, T, fq, 1.0f};
        st = e.step(e.self, &in, gg, &lg, &err);
        if (st == LMZ_OK && sync && e.report) {
            char rep[8192];
            if (e.report(e.self, rep, sizeof rep) > 0)
                fputs(rep, stdout);
        }
        tr_engine_free(&e);
    }
    if (st != LMZ_OK) {
        printf("%-44s FAIL: %s\n", what, err.msg);
        tu_failures++;
    } else {
        compare(what, &cfg, lc, lg, gc, gg, fq ? 1e-3 : 1e-4, fq ? 2e-2 : 1e-3);
    }
    free(params);
    free(gc);
    free(gg);
    lmz_fmodel_free(fm);
}

typedef struct curve {
    double first, last;
    int steps;
} curve;

static int on_step(void *ctx, const lmz_train_progress *p)
{
    curve *c = ctx;
    if (c->steps++ == 0)
        c->first = p->train_bpb;
    c->last = p->train_bpb;
    return 0;
}

/* 20 steps of lmz_trainer_run on the device or the CPU. */
static int train20(int cuda, const uint8_t *text, size_t n, curve *c)
{
    lmz_config cfg;
    lmz_config_preset("200k", &cfg);
    cfg.ctx = 128;
    lmz_train_opts o;
    lmz_train_opts_default(&o, &cfg);
    o.max_steps = 20;
    o.batch_tokens = 4096;
    o.warmup_steps = 2;
    o.qat = 0.3f; /* the last 6 steps with fake quantization */
    o.seed = 3;
    o.nthreads = 2;
    lmz_trainer *t = NULL;
    lmz_err err;
    lmz_err_clear(&err);
    memset(c, 0, sizeof *c);
    lmz_status st = lmz_trainer_create(&o, &t, &err);
    const lmz_train_device dev = {cuda, 0};
    if (st == LMZ_OK)
        st = lmz_trainer_set_device(t, &dev, &err);
    const lmz_train_hooks hooks = {on_step, c, NULL, 0};
    if (st == LMZ_OK)
        st = lmz_trainer_run(t, text, n, NULL, 0, &hooks, &err);
    lmz_trainer_free(t);
    if (st != LMZ_OK)
        printf("train 20 steps on %s: FAIL: %s\n", cuda ? "cuda" : "cpu", err.msg);
    return st == LMZ_OK;
}

static uint8_t *load_text(size_t *n)
{
    static const char *files[] = {"README.md", "docs/architecture.md", "docs/inference.md",
                                  "docs/cuda.md", "docs/format.md"};
    uint8_t *all = NULL;
    size_t len = 0;
    char path[1024];
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        size_t m = 0;
        uint8_t *b = tu_source_path(files[k], path, sizeof path) ? tu_read_file(path, &m) : NULL;
        if (b && m) {
            all = realloc(all, len + m);
            memcpy(all + len, b, m);
            len += m;
        }
        free(b);
    }
    if (len < 20000) { /* no sources here: words from a small fixed vocabulary */
        static const char *words[] = {"the ", "model ", "of ", "a ", "byte ", "and ", "train ",
                                      "gradient ", "is ", "on ", "device. ", "\n"};
        free(all);
        len = 200000;
        all = malloc(len);
        size_t i = 0;
        while (i < len) {
            const char *w = words[tu_rand(&rng) % 12];
            for (; *w && i < len; w++)
                all[i++] = (uint8_t)*w;
        }
    }
    *n = len;
    return all;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!lmz_cuda_available()) {
        printf("cuda_train: no CUDA device, skipped\n");
        return TEST_SKIP;
    }
    const char *sy = getenv("LMZ_CUDA_SYNC");
    const int sync = sy && strcmp(sy, "1") == 0;
    printf("cuda_train: per-launch checks %s\n", sync ? "on" : "off");
    size_t n = 0;
    uint8_t *text = load_text(&n);
    uint8_t *rnd = malloc(65536);
    tu_fill_random(rnd, 65536, 11);

    /* 1. one step's loss and gradient */
    check_grad("tiny", 64, 4, 0, 0, sync, rnd, 65536);
    check_grad("tiny", 300, 3, 0, 0, sync, text, n);
    check_grad("200k", 64, 6, 0, 0, sync, text, n);
    check_grad("200k", 64, 6, 128, 0, sync, text, n); /* 3 micro-batches of 2 windows */
    check_grad("200k", 300, 3, 0, 0, sync, text, n);
    check_grad("200k", 300, 3, 300, 0, sync, rnd, 65536); /* one window per micro-batch */
    check_grad("tiny", 64, 4, 0, 1, sync, text, n);
    check_grad("200k", 300, 3, 0, 1, sync, text, n);
    /* 2. per-launch checks and the time report */
    if (!sync)
        check_grad("200k", 64, 6, 128, 0, 1, text, n);

    /* 3. the whole trainer, 20 steps on each */
    curve cg, cc;
    if (train20(1, text, n, &cg) && train20(0, text, n, &cc)) {
        const double rel = fabs(cg.last - cc.last) / cc.last;
        const int fell = cg.last < 0.9 * cg.first && cc.last < 0.9 * cc.first;
        const int ok = fell && rel < 0.03 && cg.steps == 20 && cc.steps == 20;
        printf("train 20 steps (200k, ctx 128, qat 0.3): cuda %.4f -> %.4f bpb, cpu %.4f -> "
               "%.4f bpb (end rel %.1e) | %s\n",
               cg.first, cg.last, cc.first, cc.last, rel, ok ? "ok" : "FAIL");
        if (!ok)
            tu_failures++;
    } else {
        tu_failures++;
    }
    free(text);
    free(rnd);
    return tu_finish("cuda_train");
}
