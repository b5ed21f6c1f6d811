/* lmz_model.h: the quantized byte-level transformer that both sides run.
 *
 * The struct is public so that host/ can fill it from a model file; kernels/
 * owns its allocation (lmz_model_alloc/free), its invariants
 * (lmz_model_validate) and its math (docs/inference.md, arithmetic version
 * LMZ_ARITH_VERSION). Every tensor is little-endian integer data; there is no
 * float anywhere between the loaded model and the frequency table. */
#ifndef LMZ_MODEL_H
#define LMZ_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "lmz_error.h"

#define LMZ_ARITH_VERSION 1

/* Limits that keep every intermediate of docs/inference.md inside int64. */
#define LMZ_MAX_D_MODEL 1024
#define LMZ_MAX_D_FF 4096
#define LMZ_MAX_HEADS 16
#define LMZ_MAX_HEAD_DIM 256
#define LMZ_MAX_LAYERS 64
#define LMZ_MAX_CTX 8192

typedef struct lmz_config {
    int32_t d_model;   /* embedding width */
    int32_t n_layers;
    int32_t n_heads;   /* d_model % n_heads == 0 */
    int32_t d_ff;      /* feed-forward width */
    int32_t ctx;       /* context = chunk size the model was made for (2048) */
} lmz_config;

/* One linear layer y = W x + b in the integer scheme: W int8 [out][in]
 * (row-major), a per-output-channel multiplier mult[o] * 2^-shift[o]
 * (mult in [2^14, 2^15), shift in [1, 62]) and a bias in Q12. */
typedef struct lmz_linear {
    int32_t out, in;
    int8_t *w;         /* out*in */
    int32_t *mult;     /* out */
    int32_t *shift;    /* out */
    int32_t *bias;     /* out, Q12 */
} lmz_linear;

typedef struct lmz_layer {
    lmz_linear qkv;    /* out = 3*d_model: q rows, then k rows, then v rows */
    lmz_linear proj;   /* attention output projection, d_model x d_model */
    lmz_linear ff1;    /* d_ff x d_model */
    lmz_linear ff2;    /* d_model x d_ff */
} lmz_layer;

typedef struct lmz_model {
    lmz_config cfg;
    int32_t arith_version;       /* LMZ_ARITH_VERSION it was made for */
    int8_t *emb;                 /* 256 x d_model */
    int32_t *emb_mult;           /* 256, in [2^14, 2^15) */
    int32_t *emb_shift;          /* 256, in [1, 62] */
    lmz_layer *layers;           /* n_layers */
    lmz_linear head;             /* 256 x d_model: logits */
    char name[64];               /* human name, e.g. "text-200k-v1" ("" if none) */
    uint8_t hash[16];            /* XXH3-128 of the canonical serialization */
} lmz_model;

/* Named presets of the paper: "200k", "800k", "3.2m", plus "tiny" (d 16,
 * 1 layer, 2 heads, ctx 2048) for golden vectors and fuzzing. Returns 0 on
 * success, -1 for an unknown name. */
int lmz_config_preset(const char *name, lmz_config *cfg);
/* Check a configuration against the limits above. */
lmz_status lmz_config_validate(const lmz_config *cfg, lmz_err *err);
/* Number of parameters (weights and biases) of a configuration. */
size_t lmz_config_param_count(const lmz_config *cfg);

/* Allocate every tensor for cfg (zeroed). NULL on failure. */
lmz_model *lmz_model_alloc(const lmz_config *cfg);
void lmz_model_free(lmz_model *m);

/* Fill m with seeded pseudo-random weights (a splitmix64 stream, so the same
 * seed gives the same model on every machine). Scales are chosen so the
 * activations stay in a sensible range; the model predicts badly but
 * exercises every path. Sets name "random-<seed>" and the hash. */
void lmz_model_init_random(lmz_model *m, uint64_t seed);

/* Recompute m->hash (XXH3-128 of lmz_model_serialize's bytes). Call after
 * changing any tensor or the config. */
void lmz_model_compute_hash(lmz_model *m);
/* The hash as 32 lower-case hex digits plus NUL. */
void lmz_model_hash_hex(const lmz_model *m, char out[33]);

/* Check every invariant inference relies on (multipliers and shifts in range,
 * arith_version supported). Loaders call this before a model is used. */
lmz_status lmz_model_validate(const lmz_model *m, lmz_err *err);

/* Canonical serialization (see docs/format.md, "Model hash"): calls
 * sink(ctx, bytes, n) with the bytes in order. Used for the hash. */
void lmz_model_serialize(const lmz_model *m,
                         void (*sink)(void *ctx, const void *bytes, size_t n),
                         void *ctx);

#endif
