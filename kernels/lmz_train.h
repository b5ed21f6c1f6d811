/* lmz_train.h: training lmz's transformer in float32 on the CPU, and turning
 * the result into the integer model that inference runs.
 *
 * The float model is exactly the architecture of docs/inference.md ("From
 * float"): byte embedding (no positions), n_layers pre-LN blocks (LayerNorm
 * with gain and bias, eps 128/2^24; causal attention with ALiBi slopes
 * 2^-ceil(8(h+1)/H) and scale 1/sqrt(dh); output projection; LayerNorm; GELU
 * (erf) feed-forward; residual adds), a final LayerNorm and a 256-way head.
 * A window of T bytes x0..x_{T-1} is trained as inputs [0, x0 .. x_{T-2}]
 * predicting x0..x_{T-1}, so every window starts from an empty context as
 * every chunk does at inference.
 *
 * Training is reproducible bit for bit for the same data, options and seed
 * on the same CPU, whatever the thread count (every sum runs in a fixed
 * order), with a step budget (a time budget makes the schedules follow the
 * clock); across CPUs it is not (BLAS and the SIMD width are chosen per CPU).
 * Nothing here prints: progress goes through a callback. */
#ifndef LMZ_TRAIN_H
#define LMZ_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "lmz_error.h"
#include "lmz_model.h"

/* ---- the float model ---- */

typedef struct lmz_fmodel {
    lmz_config cfg;
    size_t nparams;
    float *params; /* every tensor back to back: see lmz_fmodel_tensors */
    /* 1 once each LayerNorm's gain and bias have been folded into the linear
     * layers it feeds (then they stay 1 and 0): the float model then has the
     * integer model's structure, which quantization-aware training needs. */
    int folded;
} lmz_fmodel;

/* Parameters of the float model: lmz_config_param_count plus the
 * LayerNorms' gains and biases. */
size_t lmz_fmodel_param_count(const lmz_config *cfg);

/* One tensor of the float model. */
typedef struct lmz_ftensor {
    char name[32];      /* e.g. "layer1.qkv.w" */
    size_t offset, size;/* in floats, into params */
    int rows, cols;     /* matrices: out x in; vectors: 1 x n */
    int kind;           /* LMZ_FT_MATRIX, LMZ_FT_BIAS, LMZ_FT_NORM */
} lmz_ftensor;
enum { LMZ_FT_MATRIX = 0, LMZ_FT_BIAS = 1, LMZ_FT_NORM = 2 };
/* The tensors in parameter order: wte, per layer ln1 (g, b), qkv (w, b),
 * proj (w, b), ln2 (g, b), ff1 (w, b), ff2 (w, b), then lnf (g, b), head
 * (w, b). Writes at most cap entries; returns how many there are. */
int lmz_fmodel_tensors(const lmz_config *cfg, lmz_ftensor *out, int cap);

lmz_fmodel *lmz_fmodel_create(const lmz_config *cfg);
void lmz_fmodel_free(lmz_fmodel *fm);
/* Seeded initialisation (same seed, same values everywhere): linear
 * weights normal with std 1/sqrt(fan_in) (the residual outputs proj and ff2
 * also divided by sqrt(2 n_layers)), embedding std 1, head weights small,
 * gains 1, biases 0. */
void lmz_fmodel_init(lmz_fmodel *fm, uint64_t seed);
/* Set the head's bias to the log byte frequencies of data (Laplace
 * smoothed), so training starts from the unigram model. */
void lmz_fmodel_init_unigram(lmz_fmodel *fm, const uint8_t *data, size_t n);
/* Fold every LayerNorm's gain and bias into the linear layer it feeds
 * (W diag(g), b + W b_ln) and set them to 1 and 0. The function computed
 * does not change. */
void lmz_fmodel_fold_ln(lmz_fmodel *fm);

/* Cross-entropy in bits per byte of data cut into chunks of `chunk` bytes
 * (the last one may be shorter), each predicted from an empty context, as
 * lmz compresses. fake_quant: run the float model with the integer model's
 * rounding of weights and activations (what QAT trains). nthreads <= 0:
 * all cores. */
lmz_status lmz_fmodel_eval(const lmz_fmodel *fm, const uint8_t *data, size_t n, int chunk,
                           int fake_quant, int nthreads, double *bpb, lmz_err *err);

/* The float model of an integer model (the inverse of lmz_quantize up to
 * its rounding): a folded model (LayerNorm gains 1, biases 0), to start
 * training from a shipped model rather than a random one. */
lmz_status lmz_fmodel_from_model(const lmz_model *m, lmz_fmodel **out, lmz_err *err);

/* ---- quantization ---- */

/* The integer model of fm (docs/inference.md, "From float"): LayerNorm
 * gains and biases folded into the following linear layers, 1/sqrt(dh) into
 * the q rows, per-row int8 weights with mult * 2^-shift = rowmax/127^2, Q12
 * biases, embedding rows with emb_mult * 2^-emb_shift = rowmax/127 * 4096.
 * name (may be NULL) is stored in the model; the hash is set. */
lmz_status lmz_quantize(const lmz_fmodel *fm, const char *name, lmz_model **out, lmz_err *err);

/* Cross-entropy in bits per byte of the integer model on data cut into
 * chunks of m->cfg.ctx bytes: the mean of -log2(freq/65536) of the tables
 * lmz_forward_chunk gives, i.e. what the range coder would spend. */
lmz_status lmz_model_eval(const lmz_model *m, const uint8_t *data, size_t n, int nthreads,
                          double *bpb, lmz_err *err);

/* ---- training ---- */

#define LMZ_TRAIN_MAX_STAGES 8

/* Window length schedule: ctx[k] until the budget fraction until[k]; the
 * last stage runs to the end. */
typedef struct lmz_ctx_stage {
    int32_t ctx;
    float until;
} lmz_ctx_stage;

enum { LMZ_DECAY_COSINE = 0, LMZ_DECAY_LINEAR = 1 };

typedef struct lmz_train_opts {
    lmz_config cfg;          /* model shape; cfg.ctx: the final window length */
    int n_stages;            /* 0: cfg.ctx from the start */
    lmz_ctx_stage stages[LMZ_TRAIN_MAX_STAGES];
    int64_t batch_tokens;    /* tokens per optimizer step (whole windows) */
    int64_t max_steps;       /* step budget (0: none) */
    double max_seconds;      /* time budget, training time only (0: none) */
    float lr;                /* peak learning rate */
    float lr_min;            /* final learning rate as a fraction of lr */
    int32_t warmup_steps;
    int32_t decay;           /* LMZ_DECAY_COSINE or LMZ_DECAY_LINEAR */
    float weight_decay;      /* AdamW, on matrices only */
    float beta1, beta2, adam_eps;
    float grad_clip;         /* global norm (0: none) */
    float qat;               /* last fraction of the budget trained with fake quantization */
    uint64_t seed;
    int32_t nthreads;        /* <= 0: all cores */
    int64_t eval_every;      /* steps between validations (0: only at the end) */
    int64_t eval_bytes;      /* validation bytes of those (0: all), spread over the split */
} lmz_train_opts;

/* Defaults for a shape: the window schedule 256 for the first half, then
 * cfg->ctx (when cfg->ctx > 256); 16384 tokens per step; peak learning rate
 * 1e-2 * 64 / d_model within [1e-3, 3e-2], cosine decay to 5%, 100 warmup
 * steps; AdamW (0.9, 0.95), weight decay 0.1, clipping at 1; no QAT. No
 * budget is set. */
void lmz_train_opts_default(lmz_train_opts *o, const lmz_config *cfg);
/* Parse a schedule "256:0.5,1024:0.8,2048" (window:until-fraction, the last
 * one without a fraction) into o; LMZ_ERR_USAGE with a message when bad. */
lmz_status lmz_train_parse_schedule(const char *s, lmz_train_opts *o, lmz_err *err);
/* Check every option; LMZ_ERR_USAGE naming the bad one. */
lmz_status lmz_train_opts_validate(const lmz_train_opts *o, lmz_err *err);

/* Floating-point operations of one training token (forward and backward)
 * at window length ctx: 6 per matrix weight plus attention's 6 d (ctx+1)/2
 * per layer multiply-adds as FLOPs (QK^T and PV forward, four products
 * backward), counted over the causal half. */
double lmz_train_flops_per_token(const lmz_config *cfg, int ctx);

/* What the callback is told after each step. */
typedef struct lmz_train_progress {
    int64_t step, tokens;    /* done so far, over every session of the run */
    double seconds;          /* training time so far */
    double frac;             /* budget used, 0..1 */
    double lr;
    int32_t ctx;             /* window length of this step */
    int32_t qat;             /* fake quantization on */
    double train_bpb;        /* this step's training loss */
    double val_bpb;          /* NaN unless validated after this step */
    double tokens_per_s;     /* over the last few seconds */
    double gflops;           /* achieved, by lmz_train_flops_per_token */
    int32_t checkpointed;    /* a checkpoint was written after this step */
    int32_t done;            /* the budget is spent */
} lmz_train_progress;

typedef struct lmz_train_hooks {
    /* Called after every step; a non-zero return stops training (the
     * checkpoint, if any, is still written). May be NULL. */
    int (*progress)(void *ctx, const lmz_train_progress *p);
    void *ctx;
    const char *checkpoint;      /* path, or NULL */
    double checkpoint_every;     /* seconds between checkpoints (0: only at the end) */
} lmz_train_hooks;

typedef struct lmz_trainer lmz_trainer;

/* A new run: a freshly initialised model (o->seed). */
lmz_status lmz_trainer_create(const lmz_train_opts *o, lmz_trainer **out, lmz_err *err);
/* Continue a run from a checkpoint: model, Adam state, step, clock, data
 * order (RNG) and options as they were. */
lmz_status lmz_trainer_resume(const char *path, lmz_trainer **out, lmz_err *err);
/* The run's options; budgets, threads and evaluation may be changed before
 * lmz_trainer_run (e.g. a longer budget on resume), the shape may not. */
lmz_train_opts *lmz_trainer_opts(lmz_trainer *t);
/* Train on train[0..ntrain) until the budget is spent (or the callback
 * stops it), validating on val (may be NULL). Then the model is in
 * lmz_trainer_model. */
lmz_status lmz_trainer_run(lmz_trainer *t, const uint8_t *train, size_t ntrain,
                           const uint8_t *val, size_t nval, const lmz_train_hooks *hooks,
                           lmz_err *err);
/* Start a new run (before its first step) from fm instead of the seeded
 * initialisation; fm must have the run's shape. */
lmz_status lmz_trainer_set_model(lmz_trainer *t, const lmz_fmodel *fm, lmz_err *err);
/* Where the gradients are computed; the host keeps the optimizer, the
 * schedules, validation and checkpoints, so checkpoints and models do not
 * depend on it and a run may resume on another device. */
typedef struct lmz_train_device {
    int32_t cuda;       /* 1: forward and backward on the CUDA device (float32, cuBLAS) */
    int32_t sync_check; /* debugging: wait for and check every kernel (naming a failing
                         * one and its launch site) and time each by name */
} lmz_train_device;
/* LMZ_OK when d can be used here; LMZ_ERR_NO_DEVICE (saying why) when d
 * asks for cuda and there is no device or lmz was built without CUDA. */
lmz_status lmz_trainer_device_probe(const lmz_train_device *d, lmz_err *err);
/* Set before lmz_trainer_run (the CPU when never called). cuda without a
 * device, or in an lmz built without CUDA: LMZ_ERR_NO_DEVICE. */
lmz_status lmz_trainer_set_device(lmz_trainer *t, const lmz_train_device *d, lmz_err *err);
/* After a run with sync_check on the device: the time spent per kernel, as
 * text (empty otherwise). Returns its length (at most cap - 1). */
size_t lmz_trainer_device_report(const lmz_trainer *t, char *buf, size_t cap);
/* Write a checkpoint (temporary file beside it, then rename). */
lmz_status lmz_trainer_save(const lmz_trainer *t, const char *path, lmz_err *err);
const lmz_fmodel *lmz_trainer_model(const lmz_trainer *t);
/* The state after the last step (step 0 before any). */
const lmz_train_progress *lmz_trainer_progress(const lmz_trainer *t);
void lmz_trainer_free(lmz_trainer *t);

#endif
