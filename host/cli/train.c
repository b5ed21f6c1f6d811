/* train.c: `lmz train DATA... -o MODEL`: train a model on the CPU or a CUDA
 * GPU (--device cuda: the forward and backward passes; the optimizer stays
 * on the CPU, so checkpoints move between the two), quantize
 * it to the integer model and write it as a model file that `lmz compress
 * -m MODEL` uses (and embeds).
 *
 * The run itself is kernels/train (lmz_train.h); this file reads the data,
 * splits off the validation bytes, shows progress, writes the log and the
 * model, and reports the final cross-entropy of the float and the integer
 * model on the validation split. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_args.h"
#include "cli_progress.h"
#include "cli_env.h"
#include "lmz_backend.h"
#include "lmz_modelfile.h"
#include "lmz_train.h"

static const char usage[] =
    "usage: lmz train DATA... -o MODEL [options]\n"
    "       lmz train DATA... -o MODEL --resume CKPT [options]\n"
    "\n"
    "Train a byte-level transformer on DATA (files, concatenated) on the CPU or a\n"
    "CUDA GPU, then\n"
    "quantize it to lmz's integer model and write MODEL (.lmzm), for\n"
    "'lmz compress -m MODEL'. Every window of training text starts from an empty\n"
    "context, as every 2048-byte chunk does when compressing.\n"
    "\n"
    "model:\n"
    "      --preset NAME     tiny, 200k, 800k or 3.2m (default 200k)\n"
    "      --d-model N       embedding width     } override the preset\n"
    "      --layers N        transformer blocks  }\n"
    "      --heads N         attention heads     }\n"
    "      --d-ff N          feed-forward width  }\n"
    "      --ctx N           the model's context: the final window (default 2048)\n"
    "      --ctx-schedule S  window lengths over the budget, e.g. 256:0.5,1024:0.8,2048\n"
    "                        (default: 256 for the first half, then --ctx)\n"
    "      --name NAME       model name stored in the file (default: MODEL's stem)\n"
    "budget (at least one; training stops at whichever is spent first):\n"
    "      --steps N         optimizer steps\n"
    "      --time T          seconds of training (suffix s, m or h: 2h)\n"
    "optimization:\n"
    "      --batch N         tokens per step, in whole windows (default 16384)\n"
    "      --lr X            peak learning rate (default 1e-2 x 64 / d-model, in\n"
    "                        [1e-3, 3e-2]: 1e-2 for 200k, 2.5e-3 for 3.2m)\n"
    "      --lr-min X        final learning rate as a fraction of --lr (default 0.05)\n"
    "      --warmup N        warmup steps (default 100)\n"
    "      --decay KIND      cosine or linear (default cosine)\n"
    "      --weight-decay X  AdamW decay of the weight matrices (default 0.1)\n"
    "      --clip X          gradient norm clipping (default 1, 0: off)\n"
    "      --qat X           train the last fraction X of the budget quantization-aware\n"
    "                        (default 0: plain rounding already costs ~0.15%)\n"
    "      --seed N          initialisation and data order (default 1)\n"
    "validation:\n"
    "      --val FILE        validation data (default: the last --val-fraction of DATA)\n"
    "      --val-from N      DATA's bytes from offset N on are the validation split\n"
    "      --val-fraction X  (default 0.05; 0: none)\n"
    "      --eval-every N    steps between validations (default 250)\n"
    "      --eval-bytes N    bytes of those validations (default 64k; 0: all)\n"
    "      --final-eval N    bytes of the final float/integer comparison (default 1M;\n"
    "                        0: skip)\n"
    "run:\n"
    "      --checkpoint CKPT write the run's state to CKPT every --checkpoint-every\n"
    "                        seconds (default 600) and at the end\n"
    "      --resume CKPT     continue that run (its shape, options and data order;\n"
    "                        --steps/--time set a new total budget)\n"
    "      --log FILE        training log (tab-separated: step, tokens, seconds, lr,\n"
    "                        ctx, qat, train bpb, val bpb, tokens/s, GFLOP/s)\n"
    "  -o, --output MODEL    the model file (required)\n"
    "  -T, --threads N       threads (default: all cores)\n"
    "      --device DEV      auto, cpu or cuda (default auto: the CPU); cuda computes\n"
    "                        the gradients on the GPU in float32 (LMZ_CUDA_SYNC=1:\n"
    "                        check every kernel and print the time per kernel)\n"
    "  -f, --force           overwrite MODEL, the log\n"
    "  -q, --quiet           no summary, no progress\n"
    "      --no-progress     no progress line (it is shown only on a terminal)\n"
    "  -h, --help            this help\n"
    "\n"
    "Numbers take suffixes k, M, G (x1000). Speed and training time are reported\n"
    "in tokens (bytes) per second and GFLOP/s.\n";

static int fail(const char *fmt, const char *arg)
{
    fprintf(stderr, "lmz train: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return 1;
}

static int usage_error(const char *fmt, const char *arg)
{
    return cli_usage_error("train", fmt, arg);
}

static int parse_real(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

/* Append a whole file to *buf. */
static int read_into(const char *path, uint8_t **buf, size_t *len, size_t *cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    for (;;) {
        if (*cap - *len < 1 << 20) {
            size_t nc = *cap ? *cap * 2 : (size_t)8 << 20;
            uint8_t *nb = realloc(*buf, nc);
            if (!nb) {
                fclose(f);
                errno = ENOMEM;
                return 0;
            }
            *buf = nb;
            *cap = nc;
        }
        size_t got = fread(*buf + *len, 1, *cap - *len, f);
        *len += got;
        if (got == 0)
            break;
    }
    int ok = !ferror(f);
    fclose(f);
    return ok;
}

/* ---- progress, log and interruption ---- */

static volatile sig_atomic_t interrupted = 0;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct run_view {
    FILE *log;
    int tty;          /* draw a progress line */
    int drawn;
    double last_draw;
    double last_val;
    int64_t log_every;
} run_view;

static int on_progress(void *ctx, const lmz_train_progress *p)
{
    run_view *v = ctx;
    if (!isnan(p->val_bpb))
        v->last_val = p->val_bpb;
    if (v->log && (p->step % v->log_every == 0 || !isnan(p->val_bpb) || p->done)) {
        fprintf(v->log, "%lld\t%lld\t%.1f\t%.3e\t%d\t%d\t%.4f\t", (long long)p->step,
                (long long)p->tokens, p->seconds, p->lr, (int)p->ctx, (int)p->qat, p->train_bpb);
        if (isnan(p->val_bpb))
            fputs("-", v->log);
        else
            fprintf(v->log, "%.4f", p->val_bpb);
        fprintf(v->log, "\t%.0f\t%.2f\n", p->tokens_per_s, p->gflops);
        fflush(v->log);
    }
    if (v->tty && (p->seconds - v->last_draw >= 0.25 || p->done)) {
        char left[32], val[32] = "";
        const double rest = p->frac > 0 ? p->seconds * (1.0 - p->frac) / p->frac : 0;
        cli_fmt_time(rest, left, sizeof left);
        if (!isnan(v->last_val))
            snprintf(val, sizeof val, " val %.3f", v->last_val);
        fprintf(stderr, "\rtrain: step %lld %3.0f%% ctx %d%s loss %.3f%s bpb | %.1fk tok/s %.1f GFLOP/s | %s left \033[K",
                (long long)p->step, 100.0 * p->frac, (int)p->ctx, p->qat ? " qat" : "",
                p->train_bpb, val, p->tokens_per_s / 1000.0, p->gflops, left);
        v->drawn = 1;
        v->last_draw = p->seconds;
    }
    return interrupted != 0;
}

/* ---- options ---- */

enum {
    OPT_PRESET = 1000, OPT_DMODEL, OPT_LAYERS, OPT_HEADS, OPT_DFF, OPT_CTX, OPT_SCHED, OPT_NAME,
    OPT_STEPS, OPT_TIME, OPT_BATCH, OPT_LR, OPT_LRMIN, OPT_WARMUP, OPT_DECAY, OPT_WD, OPT_CLIP,
    OPT_QAT, OPT_SEED, OPT_VAL, OPT_VALFROM, OPT_VALFRAC, OPT_EVALEVERY, OPT_EVALBYTES,
    OPT_FINALEVAL, OPT_CKPT, OPT_CKPTEVERY, OPT_RESUME, OPT_LOG, OPT_NOPROGRESS, OPT_DEVICE
};

typedef struct args {
    const char *output, *preset, *schedule, *name, *val, *ckpt, *resume, *log;
    int64_t d_model, layers, heads, d_ff, ctx; /* -1: not given */
    int64_t steps, batch, warmup, seed, eval_every, eval_bytes, final_eval, val_from;
    double seconds, lr, lr_min, wd, clip, qat, val_frac, ckpt_every;
    int decay, threads, force, quiet, no_progress;
    int device; /* lmz_device: --device */
    int have_steps, have_time, have_batch, have_lr, have_lrmin, have_warmup, have_decay,
        have_wd, have_clip, have_qat, have_seed, have_eval_every, have_eval_bytes;
} args;

static int parse_args(int argc, char **argv, args *a)
{
    static const struct option longs[] = {
        {"output", required_argument, 0, 'o'}, {"force", no_argument, 0, 'f'},
        {"threads", required_argument, 0, 'T'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'}, {"preset", required_argument, 0, OPT_PRESET},
        {"d-model", required_argument, 0, OPT_DMODEL}, {"layers", required_argument, 0, OPT_LAYERS},
        {"heads", required_argument, 0, OPT_HEADS}, {"d-ff", required_argument, 0, OPT_DFF},
        {"ctx", required_argument, 0, OPT_CTX}, {"ctx-schedule", required_argument, 0, OPT_SCHED},
        {"name", required_argument, 0, OPT_NAME}, {"steps", required_argument, 0, OPT_STEPS},
        {"time", required_argument, 0, OPT_TIME}, {"batch", required_argument, 0, OPT_BATCH},
        {"lr", required_argument, 0, OPT_LR}, {"lr-min", required_argument, 0, OPT_LRMIN},
        {"warmup", required_argument, 0, OPT_WARMUP}, {"decay", required_argument, 0, OPT_DECAY},
        {"weight-decay", required_argument, 0, OPT_WD}, {"clip", required_argument, 0, OPT_CLIP},
        {"qat", required_argument, 0, OPT_QAT}, {"seed", required_argument, 0, OPT_SEED},
        {"val", required_argument, 0, OPT_VAL}, {"val-from", required_argument, 0, OPT_VALFROM},
        {"val-fraction", required_argument, 0, OPT_VALFRAC},
        {"eval-every", required_argument, 0, OPT_EVALEVERY},
        {"eval-bytes", required_argument, 0, OPT_EVALBYTES},
        {"final-eval", required_argument, 0, OPT_FINALEVAL},
        {"checkpoint", required_argument, 0, OPT_CKPT},
        {"checkpoint-every", required_argument, 0, OPT_CKPTEVERY},
        {"resume", required_argument, 0, OPT_RESUME}, {"log", required_argument, 0, OPT_LOG},
        {"no-progress", no_argument, 0, OPT_NOPROGRESS}, {"device", required_argument, 0, OPT_DEVICE},
        {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    a->d_model = a->layers = a->heads = a->d_ff = a->ctx = -1;
    a->val_from = -1;
    a->val_frac = 0.05;
    a->final_eval = 1000000;
    a->ckpt_every = 600;
    opterr = 0;
    optind = 1;
    int ch;
    double x;
    uint64_t u;
    char msg[256];
#define COUNT(field, what)                                                           \
    do {                                                                             \
        if (!cli_parse_u64(optarg, what, "a number", 0, UINT64_MAX, CLI_SUFFIX, &u, msg, \
                           sizeof msg))                                              \
            return usage_error("%s", msg);                                           \
        (field) = (int64_t)u;                                                        \
    } while (0)
#define REAL(field, what)                                                       \
    do {                                                                        \
        if (!parse_real(optarg, &x))                                            \
            return usage_error("bad value for " what ": '%s'", optarg);         \
        (field) = x;                                                            \
    } while (0)
    while ((ch = getopt_long(argc, argv, ":o:fT:qh", longs, NULL)) != -1) {
        switch (ch) {
        case 'o': a->output = optarg; break;
        case 'f': a->force = 1; break;
        case 'T':
            if (!cli_parse_u64(optarg, "-T", "a number of threads", 1, 1024, 0, &u, msg, sizeof msg))
                return usage_error("%s", msg);
            a->threads = (int)u;
            break;
        case 'q': a->quiet = 1; break;
        case 'h': fputs(usage, stdout); exit(0);
        case OPT_PRESET: a->preset = optarg; break;
        case OPT_DMODEL: COUNT(a->d_model, "--d-model"); break;
        case OPT_LAYERS: COUNT(a->layers, "--layers"); break;
        case OPT_HEADS: COUNT(a->heads, "--heads"); break;
        case OPT_DFF: COUNT(a->d_ff, "--d-ff"); break;
        case OPT_CTX: COUNT(a->ctx, "--ctx"); break;
        case OPT_SCHED: a->schedule = optarg; break;
        case OPT_NAME: a->name = optarg; break;
        case OPT_STEPS: COUNT(a->steps, "--steps"); a->have_steps = 1; break;
        case OPT_TIME:
            if (!cli_parse_seconds(optarg, &a->seconds))
                return usage_error("bad duration for --time: '%s' (e.g. 600, 30m, 2h)", optarg);
            a->have_time = 1;
            break;
        case OPT_BATCH: COUNT(a->batch, "--batch"); a->have_batch = 1; break;
        case OPT_LR: REAL(a->lr, "--lr"); a->have_lr = 1; break;
        case OPT_LRMIN: REAL(a->lr_min, "--lr-min"); a->have_lrmin = 1; break;
        case OPT_WARMUP: COUNT(a->warmup, "--warmup"); a->have_warmup = 1; break;
        case OPT_DECAY:
            if (!strcmp(optarg, "cosine"))
                a->decay = LMZ_DECAY_COSINE;
            else if (!strcmp(optarg, "linear"))
                a->decay = LMZ_DECAY_LINEAR;
            else
                return usage_error("--decay is cosine or linear, not '%s'", optarg);
            a->have_decay = 1;
            break;
        case OPT_WD: REAL(a->wd, "--weight-decay"); a->have_wd = 1; break;
        case OPT_CLIP: REAL(a->clip, "--clip"); a->have_clip = 1; break;
        case OPT_QAT: REAL(a->qat, "--qat"); a->have_qat = 1; break;
        case OPT_SEED: COUNT(a->seed, "--seed"); a->have_seed = 1; break;
        case OPT_VAL: a->val = optarg; break;
        case OPT_VALFROM: COUNT(a->val_from, "--val-from"); break;
        case OPT_VALFRAC:
            REAL(a->val_frac, "--val-fraction");
            if (a->val_frac < 0 || a->val_frac >= 1)
                return usage_error("--val-fraction must be in [0, 1), not '%s'", optarg);
            break;
        case OPT_EVALEVERY: COUNT(a->eval_every, "--eval-every"); a->have_eval_every = 1; break;
        case OPT_EVALBYTES: COUNT(a->eval_bytes, "--eval-bytes"); a->have_eval_bytes = 1; break;
        case OPT_FINALEVAL: COUNT(a->final_eval, "--final-eval"); break;
        case OPT_CKPT: a->ckpt = optarg; break;
        case OPT_CKPTEVERY:
            if (!cli_parse_seconds(optarg, &a->ckpt_every))
                return usage_error("bad duration for --checkpoint-every: '%s'", optarg);
            break;
        case OPT_RESUME: a->resume = optarg; break;
        case OPT_LOG: a->log = optarg; break;
        case OPT_NOPROGRESS: a->no_progress = 1; break;
        case OPT_DEVICE:
            a->device = lmz_device_parse(optarg);
            if (a->device < 0)
                return usage_error("unknown --device '%s' (auto, cpu or cuda)", optarg);
            break;
        case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
#undef COUNT
#undef REAL
    return 0;
}

/* Options given on the command line over o (a new run's defaults, or a
 * resumed run's stored options). */
static void apply_args(const args *a, lmz_train_opts *o)
{
    if (a->have_steps)
        o->max_steps = a->steps;
    if (a->have_time)
        o->max_seconds = a->seconds;
    if (a->have_batch)
        o->batch_tokens = a->batch;
    if (a->have_lr)
        o->lr = (float)a->lr;
    if (a->have_lrmin)
        o->lr_min = (float)a->lr_min;
    if (a->have_warmup)
        o->warmup_steps = (int32_t)a->warmup;
    if (a->have_decay)
        o->decay = a->decay;
    if (a->have_wd)
        o->weight_decay = (float)a->wd;
    if (a->have_clip)
        o->grad_clip = (float)a->clip;
    if (a->have_qat)
        o->qat = (float)a->qat;
    if (a->have_seed)
        o->seed = (uint64_t)a->seed;
    if (a->have_eval_every)
        o->eval_every = a->eval_every;
    if (a->have_eval_bytes)
        o->eval_bytes = a->eval_bytes;
    o->nthreads = a->threads;
}

/* The model shape from --preset and the explicit sizes. */
static int build_config(const args *a, lmz_config *cfg)
{
    const char *preset = a->preset ? a->preset : "200k";
    if (lmz_config_preset(preset, cfg) != 0)
        return usage_error("unknown preset '%s' (tiny, 200k, 800k, 3.2m)", preset);
    if (a->d_model >= 0)
        cfg->d_model = (int32_t)a->d_model;
    if (a->layers >= 0)
        cfg->n_layers = (int32_t)a->layers;
    if (a->heads >= 0)
        cfg->n_heads = (int32_t)a->heads;
    if (a->d_ff >= 0)
        cfg->d_ff = (int32_t)a->d_ff;
    if (a->ctx >= 0)
        cfg->ctx = (int32_t)a->ctx;
    lmz_err e;
    lmz_err_clear(&e);
    if (lmz_config_validate(cfg, &e) != LMZ_OK)
        return fail("%s", e.msg);
    return 0;
}

/* MODEL's file name without directories and .lmzm. */
static void default_name(const char *path, char *out, size_t cap)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(out, cap, "%s", base);
    const size_t n = strlen(out);
    if (n > 5 && !strcmp(out + n - 5, ".lmzm"))
        out[n - 5] = '\0';
}

/* Whole chunks spread over val, at most max_bytes of them (all if fewer). */
static uint8_t *eval_sample(const uint8_t *val, size_t nval, int chunk, int64_t max_bytes,
                            size_t *n_out)
{
    const size_t nchunks = (nval + (size_t)chunk - 1) / (size_t)chunk;
    size_t want = (size_t)max_bytes / (size_t)chunk;
    if (want == 0)
        want = 1;
    uint8_t *buf;
    if (want >= nchunks) {
        buf = malloc(nval);
        if (buf)
            memcpy(buf, val, nval);
        *n_out = nval;
        return buf;
    }
    const size_t full = nval / (size_t)chunk; /* whole chunks only */
    if (want > full)
        want = full;
    buf = malloc(want * (size_t)chunk);
    if (!buf)
        return NULL;
    for (size_t k = 0; k < want; k++)
        memcpy(buf + k * chunk, val + (k * full / want) * (size_t)chunk, (size_t)chunk);
    *n_out = want * (size_t)chunk;
    return buf;
}

/* The checks that need neither data nor a run: a usage error (printed,
 * 1) before any work. */
static int check_args(const args *a, int ninputs)
{
    if (ninputs < 1)
        return usage_error("no training data%s", "");
    if (!a->output)
        return usage_error("give the model file with -o MODEL%s", "");
    if (a->resume && (a->preset || a->d_model >= 0 || a->layers >= 0 || a->heads >= 0 ||
                      a->d_ff >= 0 || a->ctx >= 0 || a->schedule))
        return usage_error("--resume continues a run: its shape and schedule cannot change%s", "");
    if (!a->resume && !a->have_steps && !a->have_time)
        return usage_error("give a budget: --steps N or --time SECONDS%s", "");
    if (a->val && a->val_from >= 0)
        return usage_error("--val and --val-from exclude each other%s", "");
    /* Refuse to overwrite before hours of training, not after. */
    struct stat sb;
    if (!a->force && stat(a->output, &sb) == 0)
        return fail("%s exists (use -f to overwrite)", a->output);
    if (a->log && !a->force && stat(a->log, &sb) == 0 && !a->resume)
        return fail("log %s exists (use -f to overwrite)", a->log);
    return 0;
}

/* DATA, and the validation bytes: --val's file, or DATA's tail. */
typedef struct train_data {
    uint8_t *data, *val_file; /* owned */
    const uint8_t *train, *val;
    size_t ntrain, nval;
} train_data;

static void data_free(train_data *d)
{
    free(d->data);
    free(d->val_file);
    memset(d, 0, sizeof *d);
}

static int data_load(const args *a, char **files, int nfiles, train_data *d)
{
    memset(d, 0, sizeof *d);
    size_t n = 0, cap = 0, vcap = 0;
    for (int i = 0; i < nfiles; i++)
        if (!read_into(files[i], &d->data, &n, &cap)) {
            fprintf(stderr, "lmz train: %s: %s\n", files[i], strerror(errno));
            data_free(d);
            return 1;
        }
    d->train = d->data;
    d->ntrain = n;
    if (a->val) {
        if (!read_into(a->val, &d->val_file, &d->nval, &vcap)) {
            fprintf(stderr, "lmz train: %s: %s\n", a->val, strerror(errno));
            data_free(d);
            return 1;
        }
        d->val = d->val_file;
    } else {
        size_t cut = a->val_from >= 0 ? (size_t)a->val_from : n - (size_t)((double)n * a->val_frac);
        if (cut > n) {
            data_free(d);
            return usage_error("--val-from is beyond the data's %s", "end");
        }
        d->ntrain = cut;
        d->nval = n - cut;
        d->val = d->nval ? d->data + cut : NULL;
    }
    if (d->ntrain < 2) {
        const size_t ntrain = d->ntrain;
        data_free(d);
        return fail("not enough training data (%s)", ntrain ? "1 byte" : "none");
    }
    return 0;
}

/* A new run from the options, or the checkpoint's run with the options
 * given over its own. 1: a usage error was printed; else *st. */
static int make_trainer(const args *a, lmz_trainer **t, lmz_status *st, lmz_err *e)
{
    if (a->resume) {
        *st = lmz_trainer_resume(a->resume, t, e);
        if (*st == LMZ_OK)
            apply_args(a, lmz_trainer_opts(*t));
        return 0;
    }
    lmz_config cfg;
    if (build_config(a, &cfg))
        return 1;
    lmz_train_opts o;
    lmz_train_opts_default(&o, &cfg);
    *st = LMZ_OK;
    if (a->schedule)
        *st = lmz_train_parse_schedule(a->schedule, &o, e);
    apply_args(a, &o);
    if (*st == LMZ_OK)
        *st = lmz_trainer_create(&o, t, e);
    return 0;
}

static lmz_status open_log(const args *a, FILE **log, lmz_err *e)
{
    *log = NULL;
    if (!a->log)
        return LMZ_OK;
    *log = fopen(a->log, a->resume ? "a" : "w");
    if (!*log)
        return lmz_err_set(e, LMZ_ERR_IO, "log %s: %s", a->log, strerror(errno));
    if (!a->resume || ftell(*log) == 0)
        fputs("step\ttokens\tseconds\tlr\tctx\tqat\ttrain_bpb\tval_bpb\ttokens_per_s\tgflops\n",
              *log);
    return LMZ_OK;
}

/* The run's shape, data and budget, on one line. */
static void print_plan(const args *a, lmz_trainer *t, const train_data *d)
{
    const lmz_train_opts *o = lmz_trainer_opts(t);
    const lmz_config *c = &o->cfg;
    fprintf(stderr,
            "train: d %d, %d layers, %d heads, ff %d, ctx %d (%zu parameters); %zu training "
            "bytes, %zu validation; %s%s",
            (int)c->d_model, (int)c->n_layers, (int)c->n_heads, (int)c->d_ff, (int)c->ctx,
            lmz_config_param_count(c), d->ntrain, d->nval, a->resume ? "resuming at step " : "",
            "");
    if (a->resume)
        fprintf(stderr, "%lld; ", (long long)lmz_trainer_progress(t)->step);
    fprintf(stderr, "budget");
    if (o->max_steps > 0)
        fprintf(stderr, " %lld steps", (long long)o->max_steps);
    if (o->max_seconds > 0)
        fprintf(stderr, " %.0f s", o->max_seconds);
    fprintf(stderr, "\n");
}

/* Train until the budget is spent or SIGINT/SIGTERM (then a checkpoint,
 * if there is one, to resume from). */
static lmz_status run_training(const args *a, lmz_trainer *t, const train_data *d, FILE *log,
                               lmz_err *e)
{
    run_view view = {log, !a->quiet && !a->no_progress && isatty(2), 0, -1, NAN, 10};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    const char *ckpt = a->ckpt ? a->ckpt : a->resume;
    lmz_train_hooks hooks = {on_progress, &view, ckpt, a->ckpt_every};
    lmz_status st = lmz_trainer_run(t, d->train, d->ntrain, d->val, d->nval, &hooks, e);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (view.drawn)
        fputc('\n', stderr);
    if (st == LMZ_OK && interrupted)
        st = lmz_err_set(e, LMZ_ERR_GENERIC, "interrupted at step %lld%s%s",
                         (long long)lmz_trainer_progress(t)->step,
                         ckpt ? "; resume with --resume " : "", ckpt ? ckpt : "");
    return st;
}

/* The float and the integer model on (a sample of) the validation bytes. */
static lmz_status final_eval(const args *a, lmz_trainer *t, const lmz_model *m,
                             const train_data *d, lmz_err *e)
{
    size_t ns = 0;
    uint8_t *s = eval_sample(d->val, d->nval, m->cfg.ctx, a->final_eval, &ns);
    double fb = 0, ib = 0;
    lmz_status st = LMZ_OK;
    if (!s)
        st = lmz_err_set(e, LMZ_ERR_NOMEM, "out of memory");
    if (st == LMZ_OK)
        st = lmz_fmodel_eval(lmz_trainer_model(t), s, ns, m->cfg.ctx, 0, a->threads, &fb, e);
    if (st == LMZ_OK)
        st = lmz_model_eval(m, s, ns, a->threads, &ib, e);
    if (st == LMZ_OK && !a->quiet)
        fprintf(stderr,
                "train: validation (%zu bytes): float %.4f bpb, integer %.4f bpb "
                "(quantization gap %+.2f%%)\n",
                ns, fb, ib, 100.0 * (ib / fb - 1.0));
    free(s);
    return st;
}

/* Quantize, compare on the validation bytes, write MODEL. */
static lmz_status write_model(const args *a, lmz_trainer *t, const train_data *d, lmz_err *e)
{
    char name[64];
    if (a->name)
        snprintf(name, sizeof name, "%s", a->name);
    else
        default_name(a->output, name, sizeof name);
    lmz_model *m = NULL;
    lmz_status st = lmz_quantize(lmz_trainer_model(t), name, &m, e);
    if (st == LMZ_OK && d->nval > 0 && a->final_eval > 0)
        st = final_eval(a, t, m, d, e);
    if (st == LMZ_OK)
        st = lmz_model_save(m, a->output, a->force, e);
    if (st == LMZ_OK && !a->quiet) {
        char hex[33];
        lmz_model_hash_hex(m, hex);
        const lmz_train_progress *p = lmz_trainer_progress(t);
        fprintf(stderr,
                "train: %lld steps, %lld tokens in %.0f s (%.0f tokens/s at the end); wrote %s "
                "(%s, hash %s)\n",
                (long long)p->step, (long long)p->tokens, p->seconds, p->tokens_per_s, a->output,
                m->name, hex);
    }
    lmz_model_free(m);
    return st;
}

int cmd_train(int argc, char **argv)
{
    args a;
    if (parse_args(argc, argv, &a))
        return 1;
    cli_env_select_simd(); /* LMZ_SIMD: the path of the evaluations' integer inference */
    /* auto means the CPU for training (a GPU only when asked for). Checked
     * before reading the data: an lmz without CUDA, or a machine without a
     * device, says so at once. */
    const lmz_train_device dev = {a.device == LMZ_DEVICE_CUDA, cli_env_cuda_sync()};
    if (dev.cuda) {
        lmz_err pe;
        lmz_err_clear(&pe);
        if (lmz_trainer_device_probe(&dev, &pe) != LMZ_OK) {
            fprintf(stderr, "lmz train: --device cuda: %s\n", pe.msg);
            return 1;
        }
    }
    train_data d;
    if (check_args(&a, argc - optind) || data_load(&a, argv + optind, argc - optind, &d))
        return 1;
    lmz_err e;
    lmz_err_clear(&e);
    lmz_trainer *t = NULL;
    lmz_status st;
    if (make_trainer(&a, &t, &st, &e)) {
        data_free(&d);
        return 1;
    }
    if (st == LMZ_OK)
        st = lmz_trainer_set_device(t, &dev, &e);
    FILE *log = NULL;
    if (st == LMZ_OK)
        st = open_log(&a, &log, &e);
    if (st == LMZ_OK && !a.quiet)
        print_plan(&a, t, &d);
    if (st == LMZ_OK)
        st = run_training(&a, t, &d, log, &e);
    if (log)
        fclose(log);
    if (t && dev.sync_check && !a.quiet) {
        char rep[4096];
        if (lmz_trainer_device_report(t, rep, sizeof rep) > 0)
            fputs(rep, stderr);
    }
    if (st == LMZ_OK)
        st = write_model(&a, t, &d, &e);
    lmz_trainer_free(t);
    data_free(&d);
    if (st != LMZ_OK) {
        fprintf(stderr, "lmz train: %s\n", e.msg[0] ? e.msg : lmz_status_name(st));
        return 1;
    }
    return 0;
}
