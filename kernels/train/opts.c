/* opts.c: training options: defaults, the window schedule, validation, and
 * the FLOP count that speed is reported against. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tr_internal.h"

void lmz_train_opts_default(lmz_train_opts *o, const lmz_config *cfg)
{
    memset(o, 0, sizeof *o);
    o->cfg = *cfg;
    /* Attention's cost grows with the window: most steps run on short
     * windows, the last half on the final one (ALiBi carries over). */
    if (cfg->ctx > 256) {
        o->n_stages = 2;
        o->stages[0].ctx = 256;
        o->stages[0].until = 0.5f;
        o->stages[1].ctx = cfg->ctx;
        o->stages[1].until = 1.0f;
    }
    o->batch_tokens = 16384;
    /* Small models take large steps: on the 200k preset 1e-2 to 3e-2 did
     * best over short runs (2e-3: 3.05 bpb, 8e-3: 2.62, 1.6e-2: 2.45,
     * 3.2e-2: 2.40, 6.4e-2: 2.46 after 6.5M tokens). The best rate shrinks
     * about as 1/width, and longer runs want less than the short-run best. */
    o->lr = 1e-2f * 64.0f / (float)cfg->d_model;
    if (o->lr > 3e-2f)
        o->lr = 3e-2f;
    if (o->lr < 1e-3f)
        o->lr = 1e-3f;
    o->lr_min = 0.05f;
    o->warmup_steps = 100;
    o->decay = LMZ_DECAY_COSINE;
    o->weight_decay = 0.1f;
    o->beta1 = 0.9f;
    o->beta2 = 0.95f;
    o->adam_eps = 1e-8f;
    o->grad_clip = 1.0f;
    o->qat = 0.0f;
    o->seed = 1;
    o->eval_every = 250;
    o->eval_bytes = 65536;
}

lmz_status lmz_train_parse_schedule(const char *s, lmz_train_opts *o, lmz_err *err)
{
    const lmz_status bad = LMZ_ERR_USAGE;
    int n = 0;
    float prev = 0.0f;
    const char *p = s;
    while (p && *p) {
        if (n == LMZ_TRAIN_MAX_STAGES)
            return lmz_err_set(err, bad, "schedule '%s': more than %d stages", s,
                               LMZ_TRAIN_MAX_STAGES);
        char *end;
        long ctx = strtol(p, &end, 10);
        if (end == p || ctx < 1 || ctx > LMZ_MAX_CTX)
            return lmz_err_set(err, bad, "schedule '%s': bad window length at '%s'", s, p);
        float until = 1.0f;
        if (*end == ':') {
            p = end + 1;
            until = strtof(p, &end);
            if (end == p || !(until > prev) || until > 1.0f)
                return lmz_err_set(err, bad,
                                   "schedule '%s': fractions must increase within (0, 1]", s);
        }
        o->stages[n].ctx = (int32_t)ctx;
        o->stages[n].until = until;
        prev = until;
        n++;
        if (*end == ',') {
            p = end + 1;
            if (!*p)
                return lmz_err_set(err, bad, "schedule '%s': trailing comma", s);
        } else if (*end) {
            return lmz_err_set(err, bad, "schedule '%s': unexpected '%s'", s, end);
        } else {
            p = end;
        }
    }
    if (n == 0)
        return lmz_err_set(err, bad, "schedule '%s' is empty", s ? s : "");
    o->stages[n - 1].until = 1.0f;
    o->n_stages = n;
    return LMZ_OK;
}

lmz_status lmz_train_opts_validate(const lmz_train_opts *o, lmz_err *err)
{
    const lmz_status bad = LMZ_ERR_USAGE;
    lmz_status st = lmz_config_validate(&o->cfg, err);
    if (st != LMZ_OK)
        return st;
    if (o->max_steps <= 0 && o->max_seconds <= 0)
        return lmz_err_set(err, bad, "no budget: give a number of steps or seconds");
    if (o->batch_tokens < 1)
        return lmz_err_set(err, bad, "batch must be at least 1 token");
    if (!(o->lr > 0) || !(o->lr_min >= 0 && o->lr_min <= 1))
        return lmz_err_set(err, bad, "learning rate must be > 0 (final fraction in [0, 1])");
    if (o->warmup_steps < 0 || !(o->weight_decay >= 0) || !(o->grad_clip >= 0))
        return lmz_err_set(err, bad, "warmup, weight decay and clipping must be >= 0");
    if (!(o->beta1 >= 0 && o->beta1 < 1) || !(o->beta2 >= 0 && o->beta2 < 1) ||
        !(o->adam_eps > 0))
        return lmz_err_set(err, bad, "Adam betas must be in [0, 1) and eps > 0");
    if (!(o->qat >= 0 && o->qat <= 1))
        return lmz_err_set(err, bad, "QAT fraction must be in [0, 1]");
    for (int k = 0; k < o->n_stages; k++)
        if (o->stages[k].ctx < 1 || o->stages[k].ctx > o->cfg.ctx)
            return lmz_err_set(err, bad, "schedule window %d is outside [1, %d]",
                               (int)o->stages[k].ctx, (int)o->cfg.ctx);
    return LMZ_OK;
}

double lmz_train_flops_per_token(const lmz_config *c, int ctx)
{
    const double d = c->d_model, F = c->d_ff, L = c->n_layers;
    const double matrix = L * (3 * d * d + d * d + 2 * d * F) + 256 * d;
    return 6.0 * matrix + 6.0 * d * (ctx + 1.0) * L;
}
