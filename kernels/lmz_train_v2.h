/* lmz_train_v2.h: the float model to an arithmetic-version-2 model, and the
 * v2 integer model's bits per byte (kernels/train/quantize_v2.c). */
#ifndef LMZ_TRAIN_V2_H
#define LMZ_TRAIN_V2_H

#include <stddef.h>
#include <stdint.h>

#include "lmz_model_v2.h"
#include "lmz_train.h"

typedef struct lmz_quant_v2_opts {
    /* Per-channel equalisation of K (and of V) before the per-head shift:
     * channel c of head h is scaled by (M_h / M_c)^alpha (M: calibrated
     * max |.|), folded exactly into the q rows (K) or proj's columns (V).
     * 0: none, 1: every channel fills the int8 range. */
    double k_alpha, v_alpha;
    /* The int8 range covers clip * (calibrated max) of each head; larger
     * values are clamped. */
    double k_clip, v_clip;
    /* Calibration: at most this many bytes of the sample are run through
     * the float model (in chunks of cfg.ctx, spread evenly). */
    size_t calib_bytes;
    int nthreads; /* <= 0: all cores */
} lmz_quant_v2_opts;

/* The defaults of the shipped requantisation (docs/inference.md, v2 "From
 * float"). */
void lmz_quant_v2_opts_default(lmz_quant_v2_opts *o);

/* The v2 model of fm: LayerNorms folded, K/V channels and heads rescaled
 * (an exact reparametrisation of the float model) so that each head's
 * calibrated K and V ranges map onto int8 with a power-of-two scale, then
 * v1's weight quantisation (lmz_quantize) and the shifts. calib: sample
 * data (not the data the model is measured on). name may be NULL. */
lmz_status lmz_quantize_v2(const lmz_fmodel *fm, const uint8_t *calib, size_t ncalib,
                           const lmz_quant_v2_opts *o, const char *name, lmz_model_v2 **out,
                           lmz_err *err);

/* Bits per byte of the v2 integer model on data cut into chunks of
 * m->m->cfg.ctx bytes (what the range coder would spend), as
 * lmz_model_eval does for v1. */
lmz_status lmz_model_v2_eval(const lmz_model_v2 *m, const uint8_t *data, size_t n,
                             int nthreads, double *bpb, lmz_err *err);

#endif
