/* test_train_warmstart.c: training can start from an integer model
 * (lmz compress --fit fine-tunes the kind's default model).
 *
 *   - lmz_fmodel_from_model inverts lmz_quantize up to its rounding:
 *     quantizing the dequantized model gives back (almost) every int8
 *     weight, and the integer model's bits per byte on held-out text stay
 *     within 0.5% of the original's;
 *   - a trainer started from it (lmz_trainer_set_model) begins at the
 *     original's loss, not at a random model's, and a few steps on the
 *     held-out chunk lower that loss;
 *   - a model of another shape, or a run that has started, is refused.
 * Uses the shipped text model when models/ has it (else a model trained here
 * for a few steps) and ../shared/data (else skipped, 77). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmz_modelfile.h"
#include "lmz_train.h"
#include "testutil.h"

static lmz_model *trained_model(const uint8_t *data, size_t n)
{
    const lmz_config cfg = {32, 2, 2, 128, 256};
    lmz_train_opts o;
    lmz_train_opts_default(&o, &cfg);
    o.n_stages = 0;
    o.batch_tokens = 4096;
    o.max_steps = 60;
    o.lr = 3e-3f;
    o.warmup_steps = 10;
    o.eval_every = 0;
    o.seed = 5;
    lmz_trainer *t = NULL;
    lmz_model *m = NULL;
    lmz_err e;
    lmz_err_clear(&e);
    CHECK(lmz_trainer_create(&o, &t, &e) == LMZ_OK);
    CHECK(lmz_trainer_run(t, data, n, NULL, 0, NULL, &e) == LMZ_OK);
    CHECK(lmz_quantize(lmz_trainer_model(t), "warm-test", &m, &e) == LMZ_OK);
    lmz_trainer_free(t);
    return m;
}

static double int_bpb(const lmz_model *m, const uint8_t *d, size_t n)
{
    double bpb = NAN;
    lmz_err e;
    lmz_err_clear(&e);
    CHECK(lmz_model_eval(m, d, n, 0, &bpb, &e) == LMZ_OK);
    return bpb;
}

int main(void)
{
    size_t nal = 0;
    uint8_t *alice = tu_read_data("text/alice29.txt", &nal);
    if (!alice) {
        fprintf(stderr, "skip: ../shared/data/text/alice29.txt not found\n");
        return 77;
    }
    /* The shipped text model if it is there; else a small one trained here. */
    lmz_model *m = NULL;
    lmz_err e;
    lmz_err_clear(&e);
    char path[4096];
    if (!tu_source_path("models/text-200k-1.lmzm", path, sizeof path) ||
        lmz_model_load(path, &m, &e) != LMZ_OK) {
        fprintf(stderr, "note: %s not loaded (%s); using a model trained here\n", path, e.msg);
        m = trained_model(alice, nal - 16384);
    }
    CHECK(m != NULL);
    if (!m)
        return tu_finish("train_warmstart");
    const int ctx = m->cfg.ctx;
    const size_t nheld = (size_t)(ctx >= 2048 ? 1 : 16) * (size_t)ctx;
    const uint8_t *held = alice + nal - nheld;

    /* Dequantize, requantize: the same integer model up to rounding. */
    lmz_fmodel *fm = NULL;
    CHECK(lmz_fmodel_from_model(m, &fm, &e) == LMZ_OK);
    lmz_model *q = NULL;
    CHECK(lmz_quantize(fm, "again", &q, &e) == LMZ_OK);
    size_t same = 0, total = 0;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        const lmz_linear *A = &m->layers[l].ff1, *B = &q->layers[l].ff1;
        for (size_t i = 0; i < (size_t)A->out * A->in; i++, total++)
            same += A->w[i] == B->w[i];
    }
    fprintf(stderr, "requantized ff1 weights identical: %zu of %zu\n", same, total);
    CHECK(same >= total * 99 / 100);
    const double b0 = int_bpb(m, held, nheld), b1 = int_bpb(q, held, nheld);
    fprintf(stderr, "held-out bpb: original %.4f, dequantized+requantized %.4f\n", b0, b1);
    CHECK(fabs(b1 - b0) <= 0.005 * b0);

    /* A run started from it begins near the original's loss. */
    lmz_train_opts o;
    lmz_train_opts_default(&o, &m->cfg);
    o.n_stages = 0;
    o.batch_tokens = ctx;
    o.max_steps = 6;
    o.lr = 1e-3f;
    o.warmup_steps = 2;
    o.eval_every = 0;
    lmz_trainer *t = NULL;
    CHECK(lmz_trainer_create(&o, &t, &e) == LMZ_OK);
    double fresh = NAN, warm = NAN, after = NAN;
    CHECK(lmz_fmodel_eval(lmz_trainer_model(t), held, nheld, ctx, 0, 0, &fresh, &e) == LMZ_OK);
    CHECK(lmz_trainer_set_model(t, fm, &e) == LMZ_OK);
    CHECK(lmz_fmodel_eval(lmz_trainer_model(t), held, nheld, ctx, 0, 0, &warm, &e) == LMZ_OK);
    fprintf(stderr, "float bpb: fresh %.4f, warm %.4f (integer %.4f)\n", fresh, warm, b0);
    CHECK(fabs(warm - b0) <= 0.02 * b0);
    CHECK(warm < fresh - 1.0);
    CHECK(lmz_trainer_run(t, held, nheld, NULL, 0, NULL, &e) == LMZ_OK);
    CHECK(lmz_fmodel_eval(lmz_trainer_model(t), held, nheld, ctx, 0, 0, &after, &e) == LMZ_OK);
    fprintf(stderr, "after 6 steps on the held-out text: %.4f\n", after);
    CHECK(after < warm);
    /* Refusals: a started run; another shape. */
    CHECK(lmz_trainer_set_model(t, fm, &e) == LMZ_ERR_USAGE);
    lmz_trainer_free(t);
    lmz_config other = m->cfg;
    other.d_ff *= 2;
    lmz_train_opts_default(&o, &other);
    o.max_steps = 1;
    CHECK(lmz_trainer_create(&o, &t, &e) == LMZ_OK);
    CHECK(lmz_trainer_set_model(t, fm, &e) == LMZ_ERR_USAGE);
    lmz_trainer_free(t);

    lmz_fmodel_free(fm);
    lmz_model_free(q);
    lmz_model_free(m);
    free(alice);
    return tu_finish("train_warmstart");
}
