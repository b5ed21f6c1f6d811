/* tr_engine.h: where a step's gradient is computed (private).
 *
 * The trainer (trainer.c) owns everything about a step except its forward
 * and backward passes: window positions, the schedules, clipping, AdamW,
 * validation and checkpoints all stay on the host. A gradient engine takes
 * the step's parameters and windows and returns the summed loss and the
 * summed gradient, so the CPU (engine_cpu.c) and a GPU (kernels/cuda/train/)
 * are interchangeable behind it and checkpoints do not depend on which one
 * ran. */
#ifndef TR_ENGINE_H
#define TR_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "../lmz_train.h"

/* One step's work: B windows of T tokens of data starting at starts[]. */
typedef struct tr_step_in {
    const float *params;  /* nparams: what the forward runs with (under QAT the
                           * fake-quantized copy, tr_fq_params) */
    const uint8_t *data;
    const size_t *starts; /* B window starts (data + starts[w] .. + T - 1) */
    int B, T;
    int fake_quant;       /* round activations as the integer path does */
    float dscale;         /* the loss gradient's factor: 1 / (B T) in training */
} tr_step_in;

typedef struct tr_grad_engine {
    const char *name; /* "cpu" or "cuda" */
    void *self;
    /* grad (nparams floats) = the summed gradient of the step's windows
     * (times dscale), overwritten; *loss = their summed loss in nats. */
    lmz_status (*step)(void *self, const tr_step_in *in, float *grad, double *loss,
                       lmz_err *err);
    /* A text report of where the time went (may be NULL; "" when nothing
     * was measured). Returns the length written (at most cap - 1). */
    size_t (*report)(const void *self, char *buf, size_t cap);
    void (*destroy)(void *self);
} tr_grad_engine;

/* The CPU: micro-batches dealt to gradient slots over nthreads OpenMP
 * threads, summed in a fixed order (the result does not depend on the
 * thread count). */
lmz_status tr_engine_cpu_create(const lmz_config *cfg, int nthreads, tr_grad_engine *out,
                                lmz_err *err);

/* The CUDA device (kernels/cuda/train/): LMZ_ERR_NO_DEVICE when lmz was
 * built without CUDA or there is no device. sync_check: wait for and check
 * every kernel (naming a failing one and its launch site) and time each
 * kernel by name (the report). micro_tokens: tokens per device micro-batch
 * (0: the default). */
typedef struct tr_cuda_opts {
    int sync_check;
    int micro_tokens;
} tr_cuda_opts;
lmz_status tr_engine_cuda_create(const lmz_config *cfg, const tr_cuda_opts *o,
                                 tr_grad_engine *out, lmz_err *err);
/* LMZ_OK when tr_engine_cuda_create can succeed here (a CUDA build and a
 * device), else LMZ_ERR_NO_DEVICE saying which is missing. */
lmz_status tr_engine_cuda_probe(lmz_err *err);

/* Run the engine's destructor (a zeroed engine is fine) and zero it. */
void tr_engine_free(tr_grad_engine *e);

#endif
