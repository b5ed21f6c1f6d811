/* test_train_learn.c: the trainer learns, and a run survives stop/resume.
 *
 *   - the training loss falls on a small real text (alice29.txt);
 *   - a small model trained for a fixed number of steps (a few seconds here)
 *     reaches a fixed cross-entropy on held-out text (the last 16 KB of
 *     alice29.txt, never trained on): below HELD_BPB bits per byte, which
 *     needs more than byte frequencies (a unigram model of English is at
 *     ~4.6) while a working trainer reaches ~3.3;
 *   - a run stopped at a checkpoint and resumed ends with exactly the
 *     parameters of the same run done in one go;
 *   - the thread count does not change the result (bit for bit).
 * Skipped (77) when ../shared/data is not there. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lmz_train.h"
#include "testutil.h"

#define HELD_BPB 3.6
#define HELD_BYTES 16384

/* d 32, 2 layers, 2 heads, ff 128, windows of 128: small enough to train
 * in seconds on one core. */
static void small_opts(lmz_train_opts *o, int64_t steps)
{
    const lmz_config cfg = {32, 2, 2, 128, 128};
    lmz_train_opts_default(o, &cfg);
    o->batch_tokens = 2048;
    o->max_steps = steps;
    o->lr = 3e-3f;
    o->warmup_steps = 20;
    o->eval_every = 0;
    o->nthreads = 1;
    o->seed = 5;
}

typedef struct trace {
    double first, last; /* mean train bpb of the first and last 10 steps */
    int n;
} trace;

static int record(void *ctx, const lmz_train_progress *p)
{
    trace *t = ctx;
    const int64_t steps = 300;
    if (p->step <= 10)
        t->first += p->train_bpb / 10;
    if (p->step > steps - 10)
        t->last += p->train_bpb / 10;
    t->n++;
    return 0;
}

static void test_loss_falls_and_generalizes(const uint8_t *train, size_t ntrain,
                                            const uint8_t *held, size_t nheld)
{
    lmz_train_opts o;
    small_opts(&o, 300);
    lmz_trainer *t = NULL;
    lmz_err e;
    lmz_err_clear(&e);
    CHECK(lmz_trainer_create(&o, &t, &e) == LMZ_OK);
    if (!t)
        return;
    trace tr = {0, 0, 0};
    lmz_train_hooks hooks = {record, &tr, NULL, 0};
    CHECK(lmz_trainer_run(t, train, ntrain, NULL, 0, &hooks, &e) == LMZ_OK);
    CHECK_EQ_INT(tr.n, 300);
    printf("train loss: first 10 steps %.3f bpb, last 10 %.3f bpb\n", tr.first, tr.last);
    CHECK(tr.last < tr.first - 1.0);
    double bpb = 99;
    CHECK(lmz_fmodel_eval(lmz_trainer_model(t), held, nheld, 128, 0, 0, &bpb, &e) == LMZ_OK);
    printf("held-out (end of alice29.txt, 128-byte chunks): %.3f bpb (threshold %.1f)\n", bpb,
           HELD_BPB);
    CHECK(bpb < HELD_BPB);
    lmz_trainer_free(t);
}

static int stop_at_15(void *ctx, const lmz_train_progress *p)
{
    (void)ctx;
    return p->step == 15;
}

static void test_resume_is_exact(const uint8_t *train, size_t ntrain)
{
    char *dir = tu_mkdtemp();
    char ckpt[4096];
    snprintf(ckpt, sizeof ckpt, "%s/run.ckpt", dir);
    lmz_err e;
    lmz_err_clear(&e);
    lmz_train_opts o;
    small_opts(&o, 40);
    o.qat = 0.5f; /* the second half crosses into QAT after the resume */

    lmz_trainer *a = NULL, *b = NULL, *c = NULL;
    CHECK(lmz_trainer_create(&o, &a, &e) == LMZ_OK);
    CHECK(a && lmz_trainer_run(a, train, ntrain, NULL, 0, NULL, &e) == LMZ_OK);

    /* The same run, stopped after step 15 (as an interrupt does). */
    CHECK(lmz_trainer_create(&o, &b, &e) == LMZ_OK);
    lmz_train_hooks hooks = {stop_at_15, NULL, ckpt, 0};
    CHECK(b && lmz_trainer_run(b, train, ntrain, NULL, 0, &hooks, &e) == LMZ_OK);
    CHECK(lmz_trainer_resume(ckpt, &c, &e) == LMZ_OK);
    if (a && b && c) {
        CHECK_EQ_INT(lmz_trainer_progress(c)->step, 15);
        CHECK(lmz_trainer_run(c, train, ntrain, NULL, 0, NULL, &e) == LMZ_OK);
        const lmz_fmodel *fa = lmz_trainer_model(a), *fc = lmz_trainer_model(c);
        CHECK_EQ_INT(lmz_trainer_progress(c)->step, 40);
        CHECK(fa->folded == 1 && fc->folded == 1);
        CHECK(memcmp(fa->params, fc->params, fa->nparams * sizeof(float)) == 0);
        printf("resume at step 15 of 40: parameters %s\n",
               memcmp(fa->params, fc->params, fa->nparams * sizeof(float)) ? "differ" : "identical");
    }
    /* A damaged checkpoint is refused, not loaded. */
    FILE *f = fopen(ckpt, "r+b");
    if (f) {
        fseek(f, 200, SEEK_SET);
        int ch = fgetc(f);
        fseek(f, 200, SEEK_SET);
        fputc(ch ^ 1, f);
        fclose(f);
    }
    lmz_trainer *d = NULL;
    CHECK(lmz_trainer_resume(ckpt, &d, &e) == LMZ_ERR_CORRUPT_BLOCK);
    CHECK(d == NULL);
    lmz_trainer_free(a);
    lmz_trainer_free(b);
    lmz_trainer_free(c);
    tu_rmtree(dir);
    free(dir);
}

static void test_threads_agree(const uint8_t *train, size_t ntrain)
{
    lmz_train_opts o;
    small_opts(&o, 12);
    o.batch_tokens = 4096; /* 32 windows, 2 micro-batches of 16 */
    lmz_trainer *t1 = NULL, *t3 = NULL;
    lmz_err e;
    lmz_err_clear(&e);
    CHECK(lmz_trainer_create(&o, &t1, &e) == LMZ_OK);
    o.nthreads = 3;
    CHECK(lmz_trainer_create(&o, &t3, &e) == LMZ_OK);
    if (!t1 || !t3)
        return;
    CHECK(lmz_trainer_run(t1, train, ntrain, NULL, 0, NULL, &e) == LMZ_OK);
    CHECK(lmz_trainer_run(t3, train, ntrain, NULL, 0, NULL, &e) == LMZ_OK);
    const lmz_fmodel *a = lmz_trainer_model(t1), *b = lmz_trainer_model(t3);
    const int same = memcmp(a->params, b->params, a->nparams * sizeof(float)) == 0;
    printf("1 thread and 3 threads: parameters %s\n", same ? "identical" : "differ");
    CHECK(same);
    lmz_trainer_free(t1);
    lmz_trainer_free(t3);
}

int main(void)
{
    size_t n = 0;
    uint8_t *text = tu_read_data_at_least("text/alice29.txt", 4 * HELD_BYTES, &n);
    if (!text)
        return TEST_SKIP;
    const size_t ntrain = n - HELD_BYTES;
    test_loss_falls_and_generalizes(text, ntrain, text + ntrain, HELD_BYTES);
    test_resume_is_exact(text, ntrain);
    test_threads_agree(text, ntrain);
    free(text);
    return tu_finish("train_learn");
}
