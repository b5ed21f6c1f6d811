/* testmodels.c: models the inference tests share (CPU, SIMD, CUDA): seeded
 * random presets and "extremes" that push every clamp. */
#include <stdio.h>

#include "lmz_model.h"
#include "testutil.h"

lmz_model *tu_model_random(const char *preset, uint64_t seed)
{
    lmz_config cfg;
    if (lmz_config_preset(preset, &cfg) != 0)
        return NULL;
    lmz_model *m = lmz_model_alloc(&cfg);
    if (m)
        lmz_model_init_random(m, seed);
    return m;
}

/* A model at every limit: weights +-127 only, multipliers and shifts at
 * their ends, biases at +-2^24. variant picks the mix:
 *   0: huge scales (mult 2^15-1, shift 1): every clamp saturates;
 *   1: tiny scales (mult 2^14, shift 62): outputs are the biases;
 *   2: a per-row mix of both, biases of both signs;
 *   3: the embedding shifted to nothing (x = 0: LN of a zero vector). */
static int extreme_sign(uint64_t *st)
{
    return (tu_rand(st) >> 63) ? 127 : -127;
}

static void extreme_linear(lmz_linear *l, int variant, uint64_t *st)
{
    for (size_t i = 0; i < (size_t)l->out * (size_t)l->in; i++)
        l->w[i] = (int8_t)extreme_sign(st);
    for (int o = 0; o < l->out; o++) {
        const int big = variant == 0 || (variant >= 2 && (tu_rand(st) & 1));
        l->mult[o] = big ? (1 << 15) - 1 : 1 << 14;
        l->shift[o] = big ? 1 : 62;
        l->bias[o] = (tu_rand(st) & 1) ? (1 << 24) : -(1 << 24);
        if (variant == 0)
            l->bias[o] = 1 << 24;
    }
}

lmz_model *tu_model_extreme(const lmz_config *cfg, int variant, uint64_t seed)
{
    lmz_model *m = lmz_model_alloc(cfg);
    if (!m)
        return NULL;
    uint64_t st = seed;
    for (size_t i = 0; i < 256 * (size_t)cfg->d_model; i++)
        m->emb[i] = (int8_t)extreme_sign(&st);
    for (int t = 0; t < 256; t++) {
        m->emb_mult[t] = (1 << 15) - 1;
        m->emb_shift[t] = variant == 3 ? 62 : 1;
    }
    for (int l = 0; l < cfg->n_layers; l++) {
        extreme_linear(&m->layers[l].qkv, variant, &st);
        extreme_linear(&m->layers[l].proj, variant, &st);
        extreme_linear(&m->layers[l].ff1, variant, &st);
        extreme_linear(&m->layers[l].ff2, variant, &st);
    }
    extreme_linear(&m->head, variant == 3 ? 2 : variant, &st);
    snprintf(m->name, sizeof m->name, "extreme-%d", variant);
    lmz_model_compute_hash(m);
    return m;
}
