/* tr_trainer.h: the trainer's state, shared by the loop (trainer.c) and the
 * optimizer (adamw.c). Private. The checkpoint file (checkpoint.c) does not
 * include it: it serializes a tr_ckpt_state (tr_ckpt.h) that trainer.c fills
 * and reads back. */
#ifndef TR_TRAINER_H
#define TR_TRAINER_H

#include "tr_engine.h"
#include "tr_internal.h"

struct lmz_trainer {
    lmz_train_opts o;
    lmz_fmodel *fm;
    float *m, *v;            /* Adam moments, parameter-shaped */
    uint8_t *kind;           /* per parameter: LMZ_FT_* of its tensor, or TR_KIND_EMB */
    uint64_t rng;            /* window positions */
    lmz_train_progress prog; /* step, tokens, seconds... after the last step */
    /* run-time only */
    float *qparams;          /* fake-quantized copy (QAT) */
    float *grads;            /* nparams: the step's summed gradient */
    int nth;                 /* threads of the CPU work (engine, AdamW, validation) */
    lmz_train_device dev;    /* where the gradients are computed */
    tr_grad_engine eng;      /* ... and the engine that does it (tr_engine.h) */
};

#define TR_KIND_EMB 3 /* a matrix, but not decayed: LayerNorm follows it */

/* Allocate the trainer's model, moments and kinds for o (no init). */
lmz_status tr_trainer_alloc(const lmz_train_opts *o, lmz_trainer **out, lmz_err *err);

/* One AdamW update of parameters [lo, hi) with the summed gradient g:
 * t is the 1-based step (bias correction), clip the factor on g. */
void tr_adamw(lmz_trainer *t, const float *g, size_t lo, size_t hi, float lr, float clip,
              int64_t step);

/* Switch the model to its folded form (QAT) and carry the Adam moments of
 * the folded matrices along (column c scaled by the gain it absorbed). */
void tr_trainer_fold(lmz_trainer *t);

#endif
