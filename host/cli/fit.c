/* fit.c: `lmz compress --fit TIME`: fit a model to the input before
 * compressing it, in one command.
 *
 * A team archiving its own dataset (logs of one service, one code base, one
 * table format) gains most from a model that has seen that kind of data.
 * This reads an even sample of the inputs, trains for TIME on it (starting
 * from the kind's default model when that is a trained one, so even a short
 * fit starts from a model that already knows bytes and text; from scratch
 * otherwise), quantizes, and keeps the fitted model only if it codes a
 * held-back part of the sample in fewer bits than the starting model once
 * the fitted model's own bytes (it is embedded in the archive) are counted
 * against the whole input; otherwise compress goes on as without --fit. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_progress.h"
#include "inputs.h"
#include "lmz_classical.h"
#include "lmz_modelfile.h"
#include "lmz_pipeline.h"
#include "lmz_train.h"
#include "pipeline_internal.h"

#define PIECE ((size_t)64 << 10)   /* the sample is made of 64 KiB pieces */
#define VAL_EVERY 16               /* every 16th kept piece is held back */
#define VAL_MAX ((size_t)512 << 10)
#define MIN_TRAIN ((size_t)64 << 10)

typedef struct sample {
    uint8_t *train, *val;
    size_t ntrain, nval, cap_train;
    uint64_t total;  /* bytes of the whole input */
} sample;

static int append(uint8_t **buf, size_t *n, size_t *cap, const uint8_t *src, size_t len)
{
    if (*n + len > *cap) {
        size_t nc = *cap ? *cap * 2 : PIECE * 16;
        while (nc < *n + len)
            nc *= 2;
        uint8_t *nb = realloc(*buf, nc);
        if (!nb)
            return 0;
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf + *n, src, len);
    *n += len;
    return 1;
}

/* Read the inputs once and keep up to max_bytes of evenly spaced pieces:
 * piece i of n is kept when it starts a new (n / k)-th of the input. */
static lmz_status read_sample(const cli_fit_opts *o, sample *s, lmz_err *err)
{
    lmz_inputs in;
    memset(&in, 0, sizeof in);
    memset(s, 0, sizeof *s);
    lmz_status rc = lmz_inputs_collect(&in, o->inputs, o->ninputs, o->recursive, err);
    uint8_t *piece = rc ? NULL : malloc(PIECE);
    if (!rc && !piece)
        rc = lmz_err_set(err, LMZ_ERR_NOMEM, "--fit: out of memory");
    const uint64_t npieces = in.expected / PIECE + 1;
    const uint64_t keep = o->sample_bytes / PIECE ? o->sample_bytes / PIECE : 1;
    size_t cap_val = 0, kept = 0;
    for (uint64_t i = 0; !rc; i++) {
        size_t got = 0;
        rc = lmz_inputs_read(&in, piece, PIECE, &got, err);
        if (rc || got == 0)
            break;
        s->total += got;
        /* A new (npieces / keep)-th of the input starts at piece i. */
        const int take = npieces <= keep || i * keep / npieces != (i + 1) * keep / npieces || i == 0;
        if (!take)
            continue;
        int ok;
        if (kept++ % VAL_EVERY == VAL_EVERY - 1 && s->nval + got <= VAL_MAX)
            ok = append(&s->val, &s->nval, &cap_val, piece, got);
        else
            ok = append(&s->train, &s->ntrain, &s->cap_train, piece, got);
        if (!ok)
            rc = lmz_err_set(err, LMZ_ERR_NOMEM, "--fit: out of memory for the sample");
        if (got < PIECE)
            break;
    }
    /* A small input has fewer than VAL_EVERY pieces: hold back its last
     * eighth instead. */
    if (!rc && s->nval == 0 && s->ntrain >= 2 * MIN_TRAIN) {
        size_t nv = s->ntrain / 8 < VAL_MAX ? s->ntrain / 8 : VAL_MAX;
        s->val = malloc(nv);
        if (!s->val)
            rc = lmz_err_set(err, LMZ_ERR_NOMEM, "--fit: out of memory for the sample");
        else {
            memcpy(s->val, s->train + s->ntrain - nv, nv);
            s->nval = nv;
            s->ntrain -= nv;
        }
    }
    free(piece);
    lmz_inputs_free(&in);
    return rc;
}

static void sample_free(sample *s)
{
    free(s->train);
    free(s->val);
}

/* ---- progress ---- */

static volatile sig_atomic_t fit_interrupted = 0;

static void on_sigint(int sig)
{
    (void)sig;
    fit_interrupted = 1;
}

typedef struct view {
    int tty;
    double last;
} view;

static int on_progress(void *ctx, const lmz_train_progress *p)
{
    view *v = ctx;
    if (v->tty && (p->seconds - v->last >= 0.25 || p->done)) {
        char left[32];
        cli_fmt_time(p->frac > 0 ? p->seconds * (1.0 - p->frac) / p->frac : 0, left, sizeof left);
        fprintf(stderr, "\rfit: %3.0f%% ctx %d loss %.3f bpb | %.1fk tok/s | %s left \033[K",
                100.0 * p->frac, (int)p->ctx, p->train_bpb, p->tokens_per_s / 1000.0, left);
        v->last = p->seconds;
    }
    return fit_interrupted != 0;
}

/* ---- the fit ---- */

/* Train on s from base (a trained model: fine-tune) or from scratch. */
static lmz_status train(const cli_fit_opts *o, const sample *s, const lmz_model *base, int warm,
                        lmz_model **out, lmz_err *err)
{
    lmz_train_opts to;
    lmz_train_opts_default(&to, &base->cfg);
    to.max_seconds = o->seconds;
    to.nthreads = o->nthreads;
    to.seed = 1;
    to.eval_every = 0;
    lmz_status rc = LMZ_OK;
    if (warm) {
        /* Fine-tuning: a gentler peak, and short windows first (they are
         * cheaper per token) then the full context the model codes with. */
        to.lr = 4e-3f;
        to.warmup_steps = 20;
        rc = lmz_train_parse_schedule("512:0.5,2048", &to, err);
    } else {
        to.lr = 2e-2f;
        rc = lmz_train_parse_schedule("256:0.6,1024:0.85,2048", &to, err);
    }
    if (to.n_stages > 0)
        to.stages[to.n_stages - 1].ctx = base->cfg.ctx;
    lmz_trainer *t = NULL;
    lmz_fmodel *fm = NULL;
    if (!rc)
        rc = lmz_trainer_create(&to, &t, err);
    if (!rc && warm)
        rc = lmz_fmodel_from_model(base, &fm, err);
    if (!rc && warm)
        rc = lmz_trainer_set_model(t, fm, err);
    if (!rc && !warm)
        lmz_fmodel_init_unigram((lmz_fmodel *)lmz_trainer_model(t), s->train, s->ntrain);
    view v = {.tty = o->progress, .last = -1};
    lmz_train_hooks hooks = {.progress = on_progress, .ctx = &v};
    void (*old)(int) = signal(SIGINT, on_sigint);
    if (!rc)
        rc = lmz_trainer_run(t, s->train, s->ntrain, NULL, 0, &hooks, err);
    signal(SIGINT, old);
    if (v.tty)
        fputs("\r\033[K", stderr);
    if (!rc && fit_interrupted)
        rc = lmz_err_set(err, LMZ_ERR_USAGE, "--fit: interrupted");
    char name[64];
    snprintf(name, sizeof name, "%.40s+fit", base->name[0] ? base->name : "model");
    if (!rc)
        rc = lmz_quantize(lmz_trainer_model(t), name, out, err);
    lmz_fmodel_free(fm);
    lmz_trainer_free(t);
    return rc;
}

/* Bits per byte of the held-back part coded as compress --codec auto codes
 * a block the model does not win: each 64 KiB piece by LZMA2 or zstd,
 * whichever is smaller (stored at worst). */
static double classical_bpb(const uint8_t *d, size_t n)
{
    size_t cap = PIECE + PIECE / 2 + 4096, total = 0;
    uint8_t *dst = malloc(cap);
    if (!dst || n == 0) {
        free(dst);
        return INFINITY;
    }
    for (size_t off = 0; off < n; off += PIECE) {
        const uint32_t len = (uint32_t)(n - off < PIECE ? n - off : PIECE);
        size_t best = (size_t)len + 1, got = 0;
        if (lmz_classical_encode(LMZ_BLOCK_LZMA2, d + off, len, dst, cap, &got) == 0 && got < best)
            best = got;
        if (lmz_classical_encode(LMZ_BLOCK_ZSTD, d + off, len, dst, cap, &got) == 0 && got < best)
            best = got;
        total += best;
    }
    free(dst);
    return 8.0 * (double)total / (double)n;
}

lmz_status cli_fit(const cli_fit_opts *o, lmz_model **out, lmz_err *err)
{
    *out = NULL;
    sample s;
    lmz_status rc = read_sample(o, &s, err);
    lmz_model *base = NULL;
    int shipped = 0;
    const char *spec = o->model_spec ? o->model_spec : lmz_default_model_for_kind(o->kind);
    if (!rc)
        rc = lmz_model_resolve(spec, o->model_dir, o->model_path, &base, &shipped, err);
    if (!rc && (s.ntrain < MIN_TRAIN || s.nval == 0)) {
        if (o->verbose >= 0)
            fprintf(stderr, "fit: %llu bytes are too few to fit a model; using %s\n",
                    (unsigned long long)s.total, base->name);
        goto done;
    }
    /* A built-in model is seeded noise: start from scratch with its shape. */
    lmz_model *dummy = NULL;
    const int warm = lmz_model_builtin(spec, &dummy, err) != LMZ_OK;
    lmz_model_free(dummy);
    lmz_err_clear(err);
    if (o->verbose >= 0)
        fprintf(stderr, "fit: %s %s on %zu bytes of %llu for %.0f s\n",
                warm ? "fine-tuning" : "training from scratch with the shape of", base->name,
                s.ntrain, (unsigned long long)s.total, o->seconds);
    lmz_model *fit = NULL;
    if (!rc)
        rc = train(o, &s, base, warm, &fit, err);
    double bb = NAN, bf = NAN;
    if (!rc)
        rc = lmz_model_eval(base, s.val, s.nval, o->nthreads, &bb, err);
    if (!rc)
        rc = lmz_model_eval(fit, s.val, s.nval, o->nthreads, &bf, err);
    if (!rc) {
        /* Bytes for the whole input at the held-back rate, plus the models'
         * own bytes when they are embedded. With --codec auto a block the
         * model codes worse than LZMA2/zstd costs the classical rate
         * instead, whichever model is used: so a fitted model must beat
         * that too, or its 262 KB buy nothing. */
        const double bc = o->classical ? classical_bpb(s.val, s.nval) : INFINITY;
        const double n = (double)s.total;
        const double cost_base = fmin(bb, bc) * n / 8 + (shipped ? 0 : (double)lmz_model_bytes(base));
        const double cost_fit = fmin(bf, bc) * n / 8 + (double)lmz_model_bytes(fit);
        const int use = cost_fit < cost_base;
        if (o->verbose >= 0) {
            char cl[48] = "";
            if (o->classical)
                snprintf(cl, sizeof cl, ", LZMA2/zstd %.3f bpb", bc);
            fprintf(stderr, "fit: held-back %zu bytes: %s %.3f bpb, fitted %.3f bpb%s; %s\n",
                    s.nval, base->name, bb, bf, cl,
                    use ? "the fitted model is embedded" : "no gain, keeping the starting model");
        }
        if (use) {
            *out = fit;
            fit = NULL;
        }
    }
    lmz_model_free(fit);
done:
    lmz_model_free(base);
    sample_free(&s);
    return rc;
}
