/* trainer.c: the training loop: random windows, the step's gradient from
 * an engine (tr_engine.h: the CPU's threads or a CUDA device), clipping and
 * AdamW, the schedules, validation, checkpoints and the progress callback.
 *
 * After the engine has summed the step's gradient, its norm is summed over
 * fixed blocks (so a step's result does not depend on the thread count),
 * then AdamW runs over disjoint parameter ranges, in one OpenMP region.
 *
 * Checkpoints: the trainer hands its state to checkpoint.c as a
 * tr_ckpt_state and builds itself back from one; checkpoint.c never sees
 * the trainer (tr_ckpt.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tr_ckpt.h"
#include "tr_trainer.h"

/* Parameters per block of the gradient norm's fixed-order sum. */
#define NORM_BLOCK 4096

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

lmz_status tr_trainer_alloc(const lmz_train_opts *o, lmz_trainer **out, lmz_err *err)
{
    lmz_status st = lmz_train_opts_validate(o, err);
    if (st != LMZ_OK)
        return st;
    lmz_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "train: out of memory");
    t->o = *o;
    t->fm = lmz_fmodel_create(&o->cfg);
    if (t->fm) {
        const size_t n = t->fm->nparams;
        t->m = calloc(n, sizeof *t->m);
        t->v = calloc(n, sizeof *t->v);
        t->kind = malloc(n);
    }
    if (!t->fm || !t->m || !t->v || !t->kind) {
        lmz_trainer_free(t);
        return lmz_err_set(err, LMZ_ERR_NOMEM, "train: out of memory");
    }
    lmz_ftensor ts[8 + 12 * LMZ_MAX_LAYERS];
    const int nt = lmz_fmodel_tensors(&o->cfg, ts, (int)(sizeof ts / sizeof ts[0]));
    for (int i = 0; i < nt; i++)
        memset(t->kind + ts[i].offset, i == 0 ? TR_KIND_EMB : ts[i].kind, ts[i].size);
    t->prog.val_bpb = NAN;
    t->prog.train_bpb = NAN;
    *out = t;
    return LMZ_OK;
}

lmz_status lmz_trainer_create(const lmz_train_opts *o, lmz_trainer **out, lmz_err *err)
{
    lmz_status st = tr_trainer_alloc(o, out, err);
    if (st != LMZ_OK)
        return st;
    lmz_fmodel_init((*out)->fm, o->seed);
    (*out)->rng = o->seed * UINT64_C(0x2545f4914f6cdd1d) + 1;
    return LMZ_OK;
}

lmz_train_opts *lmz_trainer_opts(lmz_trainer *t)
{
    return &t->o;
}

const lmz_fmodel *lmz_trainer_model(const lmz_trainer *t)
{
    return t->fm;
}

const lmz_train_progress *lmz_trainer_progress(const lmz_trainer *t)
{
    return &t->prog;
}

/* ---- checkpoints (the file itself: checkpoint.c) ---- */

lmz_status lmz_trainer_save(const lmz_trainer *t, const char *path, lmz_err *err)
{
    const tr_ckpt_state s = {
        .o = t->o,
        .step = t->prog.step,
        .tokens = t->prog.tokens,
        .seconds = t->prog.seconds,
        .rng = t->rng,
        .folded = t->fm->folded,
        .nparams = t->fm->nparams,
    };
    return tr_ckpt_save(path, &s, t->fm->params, t->m, t->v, err);
}

lmz_status lmz_trainer_resume(const char *path, lmz_trainer **out, lmz_err *err)
{
    tr_ckpt_file f;
    lmz_status st = tr_ckpt_open(path, &f, err);
    if (st != LMZ_OK)
        return st;
    lmz_trainer *t = NULL;
    st = tr_trainer_alloc(&f.s.o, &t, err);
    if (st == LMZ_OK && f.s.nparams != t->fm->nparams)
        st = lmz_err_set(err, LMZ_ERR_GENERIC, "checkpoint %s: size does not match its model",
                         path);
    if (st != LMZ_OK) {
        lmz_trainer_free(t);
        tr_ckpt_close(&f);
        return st;
    }
    tr_ckpt_floats(&f, t->fm->params, t->m, t->v);
    t->fm->folded = f.s.folded;
    t->prog.step = f.s.step;     /* the rest of prog is as tr_trainer_alloc left it: */
    t->prog.tokens = f.s.tokens; /* zero, and no bpb measured yet (NaN) */
    t->prog.seconds = f.s.seconds;
    t->rng = f.s.rng;
    tr_ckpt_close(&f);
    *out = t;
    return LMZ_OK;
}

static void free_run_buffers(lmz_trainer *t)
{
    tr_engine_free(&t->eng);
    free(t->grads);
    free(t->qparams);
    t->grads = NULL;
    t->qparams = NULL;
}

lmz_status lmz_trainer_device_probe(const lmz_train_device *d, lmz_err *err)
{
    return d->cuda ? tr_engine_cuda_probe(err) : LMZ_OK;
}

lmz_status lmz_trainer_set_device(lmz_trainer *t, const lmz_train_device *d, lmz_err *err)
{
    const lmz_status st = lmz_trainer_device_probe(d, err);
    if (st == LMZ_OK)
        t->dev = *d;
    return st;
}

size_t lmz_trainer_device_report(const lmz_trainer *t, char *buf, size_t cap)
{
    if (cap > 0)
        buf[0] = '\0';
    if (!t->eng.report || cap == 0)
        return 0;
    return t->eng.report(t->eng.self, buf, cap);
}

void lmz_trainer_free(lmz_trainer *t)
{
    if (!t)
        return;
    free_run_buffers(t);
    lmz_fmodel_free(t->fm);
    free(t->m);
    free(t->v);
    free(t->kind);
    free(t);
}

/* The fraction of the budget spent: the larger of steps and time. */
static double budget_frac(const lmz_trainer *t)
{
    double f = 0;
    if (t->o.max_steps > 0)
        f = fmax(f, (double)t->prog.step / (double)t->o.max_steps);
    if (t->o.max_seconds > 0)
        f = fmax(f, t->prog.seconds / t->o.max_seconds);
    return f;
}

static int stage_ctx(const lmz_train_opts *o, double frac)
{
    for (int k = 0; k < o->n_stages; k++)
        if (frac < o->stages[k].until || k == o->n_stages - 1)
            return o->stages[k].ctx;
    return o->cfg.ctx;
}

static double lr_at(const lmz_train_opts *o, int64_t step, double frac)
{
    /* A short step budget shortens the warmup to a tenth of it. */
    double wu = o->warmup_steps;
    if (o->max_steps > 0 && wu > 0.1 * (double)o->max_steps)
        wu = fmax(1.0, 0.1 * (double)o->max_steps);
    const double warm = wu > 0 ? fmin(1.0, (double)(step + 1) / wu) : 1.0;
    const double p = fmin(fmax(frac, 0.0), 1.0), lo = o->lr_min;
    const double k = o->decay == LMZ_DECAY_LINEAR ? 1.0 - (1.0 - lo) * p
                                                  : lo + (1.0 - lo) * 0.5 * (1.0 + cos(M_PI * p));
    return o->lr * warm * k;
}

/* One optimizer step on B windows of T tokens: the engine's gradient,
 * clipped, then AdamW. *mean_loss: the mean loss in nats per token. */
static lmz_status train_step(lmz_trainer *t, const uint8_t *data, size_t n, int B, int T,
                             float lr, size_t *starts, double *block_sq, double *mean_loss,
                             lmz_err *err)
{
    const size_t np = t->fm->nparams;
    const int fq = t->fm->folded && t->o.qat > 0;
    const size_t nblocks = (np + NORM_BLOCK - 1) / NORM_BLOCK;
    for (int w = 0; w < B; w++)
        starts[w] = (size_t)(((tr_splitmix64(&t->rng) >> 32) * (uint64_t)(n - (size_t)T + 1)) >> 32);
    if (fq)
        tr_fq_params(&t->fm->cfg, t->fm->params, t->qparams);
    const tr_step_in in = {
        .params = fq ? t->qparams : t->fm->params,
        .data = data,
        .starts = starts,
        .B = B,
        .T = T,
        .fake_quant = fq,
        .dscale = 1.0f / ((float)B * (float)T),
    };
    double loss = 0;
    lmz_status st = t->eng.step(t->eng.self, &in, t->grads, &loss, err);
    if (st != LMZ_OK)
        return st;
    const int64_t step = t->prog.step + 1;
    float clip = 1.0f;
#pragma omp parallel num_threads(t->nth)
    {
#pragma omp for schedule(static)
        for (size_t b = 0; b < nblocks; b++) {
            const size_t lo = b * NORM_BLOCK, hi = lo + NORM_BLOCK < np ? lo + NORM_BLOCK : np;
            double sq = 0;
            for (size_t i = lo; i < hi; i++)
                sq += (double)t->grads[i] * t->grads[i];
            block_sq[b] = sq;
        }
#pragma omp single
        {
            double sumsq = 0;
            for (size_t b = 0; b < nblocks; b++)
                sumsq += block_sq[b];
            const double norm = sqrt(sumsq);
            if (t->o.grad_clip > 0 && norm > t->o.grad_clip)
                clip = (float)(t->o.grad_clip / norm);
        }
#pragma omp for schedule(static)
        for (size_t b = 0; b < nblocks; b++) {
            const size_t lo = b * NORM_BLOCK, hi = lo + NORM_BLOCK < np ? lo + NORM_BLOCK : np;
            tr_adamw(t, t->grads, lo, hi, lr, clip, step);
        }
    }
    *mean_loss = loss / ((double)B * T);
    return LMZ_OK;
}

/* Validation: the chunks of val (each from an empty context), or when
 * eval_bytes is smaller, that many bytes' worth of whole chunks spread
 * evenly over the split. */
static lmz_status validate(lmz_trainer *t, const uint8_t *val, size_t nval, double *bpb,
                           lmz_err *err)
{
    const int chunk = t->fm->cfg.ctx;
    const int fq = t->fm->folded && t->o.qat > 0;
    const size_t nchunks = nval / (size_t)chunk;
    const size_t want = t->o.eval_bytes > 0 ? (size_t)t->o.eval_bytes / (size_t)chunk : 0;
    if (want == 0 || want >= nchunks)
        return lmz_fmodel_eval(t->fm, val, nval, chunk, fq, t->nth, bpb, err);
    uint8_t *buf = malloc(want * (size_t)chunk);
    if (!buf)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "train: out of memory");
    for (size_t k = 0; k < want; k++)
        memcpy(buf + k * chunk, val + (k * nchunks / want) * (size_t)chunk, (size_t)chunk);
    lmz_status st = lmz_fmodel_eval(t->fm, buf, want * (size_t)chunk, chunk, fq, t->nth, bpb, err);
    free(buf);
    return st;
}

lmz_status lmz_trainer_run(lmz_trainer *t, const uint8_t *train, size_t ntrain,
                           const uint8_t *val, size_t nval, const lmz_train_hooks *hooks,
                           lmz_err *err)
{
    lmz_status st = lmz_train_opts_validate(&t->o, err);
    if (st != LMZ_OK)
        return st;
    if (!train || ntrain < 2)
        return lmz_err_set(err, LMZ_ERR_USAGE, "train: need at least 2 bytes of training data");
    const lmz_train_hooks none = {0};
    if (!hooks)
        hooks = &none;
    free_run_buffers(t);
    t->nth = tr_threads(t->o.nthreads);
    const size_t np = t->fm->nparams;
    if (t->dev.cuda) {
        const tr_cuda_opts co = {.sync_check = t->dev.sync_check};
        st = tr_engine_cuda_create(&t->fm->cfg, &co, &t->eng, err);
    } else {
        st = tr_engine_cpu_create(&t->fm->cfg, t->nth, &t->eng, err);
    }
    if (st != LMZ_OK)
        return st;
    t->grads = malloc(np * sizeof *t->grads);
    t->qparams = malloc(np * sizeof *t->qparams);
    /* The most windows a step can have: at the shortest window. */
    int64_t minT = t->o.cfg.ctx;
    for (int k = 0; k < t->o.n_stages; k++)
        minT = t->o.stages[k].ctx < minT ? t->o.stages[k].ctx : minT;
    if ((size_t)minT > ntrain)
        minT = (int64_t)ntrain;
    const int64_t maxB = (t->o.batch_tokens + minT / 2) / minT + 1;
    size_t *starts = malloc((size_t)maxB * sizeof *starts);
    double *work = malloc((np + NORM_BLOCK - 1) / NORM_BLOCK * sizeof *work);
    if (!t->grads || !t->qparams || !starts || !work) {
        free(starts);
        free(work);
        return lmz_err_set(err, LMZ_ERR_NOMEM, "train: out of memory");
    }
    if (t->prog.step == 0)
        lmz_fmodel_init_unigram(t->fm, train, ntrain);

    double last_ckpt = t->prog.seconds, rate_t0 = t->prog.seconds, rate_busy = 0;
    int64_t rate_tokens = 0;
    st = LMZ_OK;
    for (;;) {
        const double frac = budget_frac(t);
        if (frac >= 1.0)
            break;
        const double t0 = now_s();
        int T = stage_ctx(&t->o, frac);
        if ((size_t)T > ntrain)
            T = (int)ntrain;
        int B = (int)((t->o.batch_tokens + T / 2) / T);
        if (B < 1)
            B = 1;
        if (t->o.qat > 0 && frac >= 1.0 - t->o.qat && !t->fm->folded)
            tr_trainer_fold(t);
        const double lr = lr_at(&t->o, t->prog.step, frac);
        double loss = 0;
        st = train_step(t, train, ntrain, B, T, (float)lr, starts, work, &loss, err);
        if (st != LMZ_OK)
            break;
        const double busy = now_s() - t0;

        lmz_train_progress *p = &t->prog;
        p->step++;
        p->tokens += (int64_t)B * T;
        p->lr = lr;
        p->ctx = T;
        p->qat = t->fm->folded && t->o.qat > 0;
        p->train_bpb = loss / M_LN2;
        p->val_bpb = NAN;
        p->checkpointed = 0;
        rate_busy += busy;
        rate_tokens += (int64_t)B * T;
        if (rate_busy > 0) {
            p->tokens_per_s = (double)rate_tokens / rate_busy;
            p->gflops = p->tokens_per_s * lmz_train_flops_per_token(&t->fm->cfg, T) * 1e-9;
        }
        p->seconds += busy;
        if (p->seconds - rate_t0 > 5.0) { /* a fresh rate window every ~5 s */
            rate_t0 = p->seconds;
            rate_busy = 0;
            rate_tokens = 0;
        }
        if (!isfinite(loss)) {
            st = lmz_err_set(err, LMZ_ERR_GENERIC,
                             "train: the loss diverged at step %lld (try a lower --lr)",
                             (long long)p->step);
            break;
        }
        p->frac = budget_frac(t);
        p->done = p->frac >= 1.0;
        const double e0 = now_s();
        if (val && nval > 0 && t->o.eval_every > 0 && p->step % t->o.eval_every == 0 && !p->done) {
            st = validate(t, val, nval, &p->val_bpb, err);
            if (st != LMZ_OK)
                break;
        }
        if (hooks->checkpoint && hooks->checkpoint_every > 0 &&
            p->seconds - last_ckpt >= hooks->checkpoint_every && !p->done) {
            st = lmz_trainer_save(t, hooks->checkpoint, err);
            if (st != LMZ_OK)
                break;
            p->checkpointed = 1;
            last_ckpt = p->seconds;
        }
        p->seconds += now_s() - e0; /* the budget counts validation and checkpoints too */
        p->frac = budget_frac(t);
        if (p->done && val && nval > 0) {
            st = validate(t, val, nval, &p->val_bpb, err);
            if (st != LMZ_OK)
                break;
        }
        if (hooks->progress && hooks->progress(hooks->ctx, p))
            break;
    }
    free(starts);
    free(work);
    if (st == LMZ_OK && hooks->checkpoint) {
        st = lmz_trainer_save(t, hooks->checkpoint, err);
        if (st == LMZ_OK)
            t->prog.checkpointed = 1;
    }
    return st;
}
