/* test_train_engine.c: the gradient engine interface (kernels/train/
 * tr_engine.h) with the CPU engine, which trainer.c runs unless a device is
 * asked for:
 *  - its loss and gradient equal the one-thread reference (tr_forward /
 *    tr_backward over all windows at once) up to float32 summation order,
 *    across micro-batches (T = 64: 32 windows per micro-batch, so 40
 *    windows are two micro-batches in two slots) and at T = 300;
 *  - the result is the same bit for bit for 1 and 3 threads;
 *  - asking for cuda where it cannot run (no device, or a build without
 *    CUDA) is LMZ_ERR_NO_DEVICE with a message, and the CPU always probes
 *    fine. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmz_backend.h"
#include "lmz_train.h"
#include "testutil.h"
#include "train/tr_engine.h"
#include "train/tr_internal.h"

static double rel_err(const float *a, const float *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return sqrt(num) / (sqrt(den) + 1e-30);
}

static void check(const char *preset, int T, int B)
{
    lmz_config cfg;
    lmz_config_preset(preset, &cfg);
    lmz_fmodel *fm = lmz_fmodel_create(&cfg);
    lmz_fmodel_init(fm, 9);
    const size_t np = fm->nparams;
    const size_t n = 50000;
    uint8_t *data = malloc(n);
    tu_fill_random(data, n, 4);
    for (size_t i = 0; i < n; i += 3)
        data[i] = 'e'; /* some structure */
    uint64_t r = 17;
    size_t starts[64];
    for (int w = 0; w < B; w++)
        starts[w] = (size_t)(tu_rand(&r) % (n - (size_t)T + 1));
    float *ref = malloc(np * sizeof *ref), *g1 = malloc(np * sizeof *g1),
          *g3 = malloc(np * sizeof *g3);
    const double lref = tr_loss_grad(fm, data, starts, B, T, ref);
    const tr_step_in in = {fm->params, data, starts, B, T, 0, 1.0f};
    double l1 = NAN, l3 = NAN;
    lmz_err err;
    lmz_err_clear(&err);
    tr_grad_engine e1, e3;
    CHECK(tr_engine_cpu_create(&cfg, 1, &e1, &err) == LMZ_OK);
    CHECK(tr_engine_cpu_create(&cfg, 3, &e3, &err) == LMZ_OK);
    CHECK(strcmp(e1.name, "cpu") == 0);
    CHECK(e1.step(e1.self, &in, g1, &l1, &err) == LMZ_OK);
    CHECK(e3.step(e3.self, &in, g3, &l3, &err) == LMZ_OK);
    /* a second step on the same engine (buffers reused) gives the same */
    float *again = malloc(np * sizeof *again);
    double la = NAN;
    CHECK(e3.step(e3.self, &in, again, &la, &err) == LMZ_OK);
    const double eg = rel_err(g1, ref, np), el = fabs(l1 - lref) / lref;
    const int same = memcmp(g1, g3, np * sizeof *g1) == 0 && l1 == l3 &&
                     memcmp(g3, again, np * sizeof *g3) == 0 && la == l3;
    printf("%-5s T=%-3d B=%-2d cpu engine vs reference: loss rel %.1e, grad rel %.1e; "
           "1 vs 3 threads %s\n",
           preset, T, B, el, eg, same ? "identical" : "DIFFERENT");
    CHECK(el < 1e-5);
    CHECK(eg < 1e-4);
    CHECK(same);
    tr_engine_free(&e1);
    tr_engine_free(&e3);
    CHECK(e1.step == NULL && e1.self == NULL);
    free(again);
    free(ref);
    free(g1);
    free(g3);
    free(data);
    lmz_fmodel_free(fm);
}

int main(void)
{
    check("tiny", 64, 40);
    check("200k", 300, 5);
    check("200k", 64, 40);

    lmz_err err;
    lmz_err_clear(&err);
    const lmz_train_device cpu = {0, 0}, cuda = {1, 0};
    CHECK(lmz_trainer_device_probe(&cpu, &err) == LMZ_OK);
    const lmz_status st = lmz_trainer_device_probe(&cuda, &err);
    if (lmz_cuda_available()) {
        printf("cuda probe: a device is present (status %d)\n", (int)st);
        CHECK(st == LMZ_OK);
    } else {
        printf("cuda probe without a device: %s\n", err.msg);
        CHECK(st == LMZ_ERR_NO_DEVICE);
        CHECK(err.msg[0] != '\0');
    }
    return tu_finish("train_engine");
}
