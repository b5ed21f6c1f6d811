/* test_cuda_bench.c: CUDA backend throughput (label "gpu"; exits 77,
 * skipped, without a CUDA device or a CUDA build).
 *
 * Without LMZ_CUDA_BENCH it is a short smoke run (random-tiny, 64 chunks,
 * score and decode round trip). With LMZ_CUDA_BENCH=1 (scripts/gpu-check.sh)
 * it measures, per preset, the backend's score (compress side, model only)
 * and decode (model + range decoder on the device) throughput on generated
 * text-like data, checking the round trip. Each phase is capped by time:
 * a probe on a small input first, then, if the probe leaves room within
 * the phase's time, one larger run sized from the probe's rate. Every
 * result is printed (and flushed) as soon as it is known, one line each:
 *   bench PRESET score|decode probe|main RATE MB/s (MB, s, chunks) ...
 * so a run cut short by a timeout still shows what it measured.
 * Environment:
 *   LMZ_CUDA_BENCH_PRESETS   presets (default "200k 800k 3.2m")
 *   LMZ_CUDA_BENCH_MB        score input, MB (default 8; probe: 1/8 of it)
 *   LMZ_CUDA_BENCH_DEC_MB    decode probe, MB (default 1)
 *   LMZ_CUDA_BENCH_DEC_MAX_MB decode main run at most, MB (default 16: the
 *                            decoder steps all chunks of a batch in lock
 *                            step, so few chunks measure launch overhead)
 *   LMZ_CUDA_BENCH_PHASE_S   seconds per phase (default 20)
 *   LMZ_CUDA_SYNC=1          check every kernel launch (slow; names a
 *                            failing kernel)
 *   LMZ_CUDA_PROFILE=N       after each preset's bench, where the device
 *                            time goes: score N chunks and decode N/4
 *                            with every kernel timed (lmz_cuda_set_profile),
 *                            one line per kernel:
 *                              profile PRESET score|decode KERNEL calls ms share */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lmz_backend.h"
#include "lmz_coder.h"
#include "testutil.h"

#ifdef LMZ_HAVE_CUDA
#include "cuda/lmz_cuda.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Text-like bytes: words from a small vocabulary, deterministic. */
static void gen_data(uint8_t *buf, size_t n, uint64_t seed)
{
    static const char *words[] = {"the ", "of ", "and ", "compression ", "model ", "byte ",
                                  "range ", "coder ", "is ", "a ", "transformer ", "in ",
                                  "data\n", "GPU ", "2048 ", "tables, "};
    size_t i = 0;
    while (i < n) {
        const char *w = words[tu_rand(&seed) % 16];
        for (size_t k = 0; w[k] && i < n; k++)
            buf[i++] = (uint8_t)w[k];
    }
}

/* Bench settings (from the environment in main). */
typedef struct bench_opts {
    double score_mb, dec_mb, dec_max_mb, phase_s;
    int sync;
} bench_opts;

static void say(const char *preset, const char *phase, const char *what, double bytes, double secs,
                int chunks, const char *tail)
{
    printf("bench %-5s %-6s %-5s %10.3f MB/s (%.2f MB, %.3f s, %d chunks)%s\n", preset, phase,
           what, bytes / secs / 1e6, bytes / 1e6, secs, chunks, tail);
    fflush(stdout);
}

/* Chunks for `mb` MB of ctx-byte chunks, at least 1. */
static int chunks_for(double mb, size_t ctx)
{
    const double n = mb * 1e6 / (double)ctx;
    return n < 1 ? 1 : n > 1e7 ? 10000000 : (int)n;
}

/* How many chunks fit the rest of a phase's time at the probe's rate
 * (70% of it: a margin for the main run's own setup). */
static int chunks_in_time(int probe_chunks, double probe_s, double phase_s)
{
    const double left = 0.7 * phase_s - probe_s;
    if (left <= 0 || probe_s <= 0)
        return 0;
    const double n = (double)probe_chunks * left / probe_s;
    return n > 1e7 ? 10000000 : (int)n;
}

static int run(const char *preset, const bench_opts *o)
{
    char name[64];
    snprintf(name, sizeof name, "random-%s", preset);
    lmz_config cfg;
    if (lmz_config_preset(preset, &cfg) != 0) {
        printf("bench %-5s FAILED: unknown preset\n", preset);
        return 1;
    }
    const double t_setup = now();
    lmz_model *m = lmz_model_alloc(&cfg);
    lmz_model_init_random(m, 1);
    const size_t ctx = (size_t)cfg.ctx;
    const int ns = chunks_for(o->score_mb, ctx);
    uint8_t *buf = malloc((size_t)ns * ctx);
    const uint8_t **data = malloc((size_t)ns * sizeof *data);
    uint32_t *len = malloc((size_t)ns * 4);
    uint16_t *cum = malloc((size_t)ns * ctx * 2), *freq = malloc((size_t)ns * ctx * 2);
    if (!m || !buf || !data || !len || !cum || !freq) {
        printf("bench %-5s FAILED: out of host memory\n", preset);
        return 1;
    }
    gen_data(buf, (size_t)ns * ctx, 42);
    for (int c = 0; c < ns; c++) {
        data[c] = buf + (size_t)c * ctx;
        len[c] = (uint32_t)ctx;
    }
    lmz_backend *be = NULL;
    lmz_err err;
    lmz_status st = lmz_backend_create(
        m, &(lmz_backend_params){.device = LMZ_DEVICE_CUDA, .cuda_sync = o->sync}, &be, &err);
    if (st != LMZ_OK) {
        printf("bench %-5s FAILED: backend: %s\n", preset, err.msg);
        return 1;
    }
    /* warm-up (allocations, module load) on one chunk */
    st = lmz_backend_score(be, 1, data, len, cum, freq, &err);
    printf("bench %-5s setup  %.2f s (model, backend, one-chunk warm-up)%s%s\n", preset,
           now() - t_setup, st == LMZ_OK ? "" : ": FAILED: ", st == LMZ_OK ? "" : err.msg);
    fflush(stdout);
    int fail = st != LMZ_OK;

    /* score: the probe (1/8 of the input), then as much of the input as
     * the phase's time allows */
    int scored = 0;
    for (int pass = 0, n = ns / 8 > 0 ? ns / 8 : 1; pass < 2 && !fail && n > scored; pass++) {
        const double t0 = now();
        st = lmz_backend_score(be, n, data, len, cum, freq, &err);
        const double ts = now() - t0;
        if (st != LMZ_OK) {
            printf("bench %-5s score  FAILED: %s\n", preset, err.msg);
            fail = 1;
            break;
        }
        say(preset, "score", pass ? "main" : "probe", (double)n * ctx, ts, n,
            pass && n < ns ? "  (cut to fit the phase's time)" : "");
        scored = n;
        if (pass == 0) {
            const int fit = chunks_in_time(n, ts, o->phase_s);
            n = fit < ns ? fit : ns;
            if (n <= scored && ns > scored) {
                printf("bench %-5s score  main skipped: the probe took %.2f s of %.0f\n", preset,
                       ts, o->phase_s);
                fflush(stdout);
            }
        }
    }

    /* decode: encode the scored chunks on the host; chunk c of a decode run
     * is scored chunk c % scored (the same work as distinct chunks) */
    uint8_t **enc = NULL;
    uint32_t *enc_len = NULL;
    if (!fail) {
        enc = calloc((size_t)scored, sizeof *enc);
        enc_len = malloc((size_t)scored * 4);
        for (int c = 0; c < scored && !fail; c++) {
            if (!enc || !enc_len || !(enc[c] = malloc(3 * ctx + 64))) {
                printf("bench %-5s decode FAILED: out of host memory\n", preset);
                fail = 1;
                break;
            }
            enc_len[c] = (uint32_t)lmz_rc_encode_chunk(cum + c * ctx, freq + c * ctx,
                                                       (uint32_t)ctx, enc[c], 3 * ctx + 64);
        }
    }
    int nd = chunks_for(o->dec_mb, ctx);
    for (int pass = 0; pass < 2 && !fail; pass++) {
        const uint8_t **streams = malloc((size_t)nd * sizeof *streams);
        uint32_t *slen = malloc((size_t)nd * 4);
        uint8_t *outbuf = malloc((size_t)nd * ctx);
        uint8_t **outs = malloc((size_t)nd * sizeof *outs);
        uint32_t *dlen = malloc((size_t)nd * 4);
        if (!streams || !slen || !outbuf || !outs || !dlen) {
            printf("bench %-5s decode FAILED: out of host memory\n", preset);
            fail = 1;
        } else {
            for (int c = 0; c < nd; c++) {
                streams[c] = enc[c % scored];
                slen[c] = enc_len[c % scored];
                outs[c] = outbuf + (size_t)c * ctx;
                dlen[c] = (uint32_t)ctx;
            }
            const double t0 = now();
            st = lmz_backend_decode(be, nd, streams, slen, dlen, outs, &err);
            const double td = now() - t0;
            if (st != LMZ_OK) {
                printf("bench %-5s decode FAILED: %s\n", preset, err.msg);
                fail = 1;
            } else {
                int bad = 0;
                for (int c = 0; c < nd && !bad; c++)
                    bad = memcmp(outs[c], data[c % scored], ctx) != 0;
                say(preset, "decode", pass ? "main" : "probe", (double)nd * ctx, td, nd,
                    bad ? "  roundtrip FAILED" : "  roundtrip ok");
                fail |= bad;
                /* the main run: up to dec_max_mb within the phase's time */
                const int want = chunks_for(o->dec_max_mb, ctx);
                const int fit = chunks_in_time(nd, td, o->phase_s);
                const int next = want < fit ? want : fit;
                if (pass == 0 && o->dec_max_mb > 0 && next < 2 * nd && want >= 2 * nd) {
                    printf("bench %-5s decode main skipped: the probe took %.2f s of %.0f\n",
                           preset, td, o->phase_s);
                    fflush(stdout);
                }
                if (pass == 0 && (o->dec_max_mb <= 0 || next < 2 * nd))
                    pass = 2; /* no main run */
                nd = next;
            }
        }
        free(streams);
        free(slen);
        free(outbuf);
        free(outs);
        free(dlen);
    }
    for (int c = 0; enc && c < scored; c++)
        free(enc[c]);
    free(enc);
    free(enc_len);
    lmz_backend_free(be);
    lmz_model_free(m);
    free(buf);
    free(data);
    free(len);
    free(cum);
    free(freq);
    return fail;
}

/* Where the device time goes: score nchunks chunks of generated text and
 * decode a quarter of them with every kernel timed; prints the per-kernel
 * totals. The backend table hides the lmz_cuda object, so this makes its own. */
static int profile(const char *preset, int nchunks)
{
    lmz_config cfg;
    if (lmz_config_preset(preset, &cfg) != 0)
        return 1;
    lmz_model *m = lmz_model_alloc(&cfg);
    const size_t ctx = (size_t)cfg.ctx;
    const int nd = nchunks / 4 > 0 ? nchunks / 4 : 1;
    uint8_t *buf = malloc((size_t)nchunks * ctx), *outbuf = malloc((size_t)nd * ctx);
    const uint8_t **data = malloc((size_t)nchunks * sizeof *data);
    uint8_t **enc = calloc((size_t)nd, sizeof *enc), **outs = malloc((size_t)nd * sizeof *outs);
    uint32_t *len = malloc((size_t)nchunks * 4), *enc_len = malloc((size_t)nd * 4);
    uint16_t *cum = malloc((size_t)nchunks * ctx * 2), *freq = malloc((size_t)nchunks * ctx * 2);
    char *rep = malloc(1 << 16);
    int fail = !m || !buf || !outbuf || !data || !enc || !outs || !len || !enc_len || !cum ||
               !freq || !rep;
    lmz_cuda *g = NULL;
    lmz_err err = {0};
    if (!fail) {
        lmz_model_init_random(m, 1);
        gen_data(buf, (size_t)nchunks * ctx, 42);
        for (int c = 0; c < nchunks; c++) {
            data[c] = buf + (size_t)c * ctx;
            len[c] = (uint32_t)ctx;
        }
        fail = lmz_cuda_create(m, &g, &err) != LMZ_OK ||
               lmz_cuda_score(g, 1, data, len, cum, freq, NULL, &err) != LMZ_OK || /* warm-up */
               lmz_cuda_set_profile(g, 1, &err) != LMZ_OK;
    }
    if (!fail) {
        const double t0 = now();
        fail = lmz_cuda_score(g, nchunks, data, len, cum, freq, NULL, &err) != LMZ_OK;
        const double ts = now() - t0;
        if (!fail) {
            lmz_cuda_profile_report(g, rep, 1 << 16);
            printf("profile %-5s score  %d chunks, %.3f s with every kernel timed\n", preset,
                   nchunks, ts);
            for (char *line = strtok(rep, "\n"); line; line = strtok(NULL, "\n"))
                printf("profile %-5s score  %s\n", preset, line);
        }
    }
    for (int c = 0; c < nd && !fail; c++) {
        fail = !(enc[c] = malloc(3 * ctx + 64));
        if (!fail) {
            enc_len[c] = (uint32_t)lmz_rc_encode_chunk(cum + c * ctx, freq + c * ctx,
                                                       (uint32_t)ctx, enc[c], 3 * ctx + 64);
            outs[c] = outbuf + (size_t)c * ctx;
            len[c] = (uint32_t)ctx;
        }
    }
    if (!fail && (fail = lmz_cuda_set_profile(g, 1, &err) != LMZ_OK) == 0) {
        const double t0 = now();
        fail = lmz_cuda_decode(g, nd, (const uint8_t *const *)enc, enc_len, len, outs, &err) !=
               LMZ_OK;
        const double td = now() - t0;
        if (!fail) {
            lmz_cuda_profile_report(g, rep, 1 << 16);
            int bad = 0;
            for (int c = 0; c < nd && !bad; c++)
                bad = memcmp(outs[c], data[c], ctx) != 0;
            printf("profile %-5s decode %d chunks, %.3f s with every kernel timed, roundtrip %s\n",
                   preset, nd, td, bad ? "FAILED" : "ok");
            for (char *line = strtok(rep, "\n"); line; line = strtok(NULL, "\n"))
                printf("profile %-5s decode %s\n", preset, line);
            fail = bad;
        }
    }
    if (fail)
        printf("profile %-5s FAILED: %s\n", preset, err.msg[0] ? err.msg : "out of host memory");
    for (int c = 0; enc && c < nd; c++)
        free(enc[c]);
    lmz_cuda_free(g);
    lmz_model_free(m);
    free(buf);
    free(outbuf);
    free(data);
    free(enc);
    free(outs);
    free(len);
    free(enc_len);
    free(cum);
    free(freq);
    free(rep);
    return fail;
}

static double env_num(const char *name, double dflt)
{
    const char *v = getenv(name);
    return v && *v ? atof(v) : dflt;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!lmz_cuda_available()) {
        printf("cuda_bench: no CUDA device, skipped\n");
        return TEST_SKIP;
    }
    const char *sy = getenv("LMZ_CUDA_SYNC");
    const char *b = getenv("LMZ_CUDA_BENCH");
    bench_opts o = {0.13, 0.13, 0, 60, sy && strcmp(sy, "1") == 0};
    if (!b || strcmp(b, "1") != 0)
        return run("tiny", &o) ? 1 : 0;
    o.score_mb = env_num("LMZ_CUDA_BENCH_MB", 8);
    o.dec_mb = env_num("LMZ_CUDA_BENCH_DEC_MB", 1);
    o.dec_max_mb = env_num("LMZ_CUDA_BENCH_DEC_MAX_MB", 16);
    o.phase_s = env_num("LMZ_CUDA_BENCH_PHASE_S", 20);
    const char *ps = getenv("LMZ_CUDA_BENCH_PRESETS");
    char list[256];
    snprintf(list, sizeof list, "%s", ps ? ps : "200k 800k 3.2m");
    int fails = 0;
    const int prof = (int)env_num("LMZ_CUDA_PROFILE", 0);
    char *save = NULL;
    for (char *tok = strtok_r(list, " ,", &save); tok; tok = strtok_r(NULL, " ,", &save)) {
        fails += run(tok, &o);
        if (prof > 0)
            fails += profile(tok, prof);
    }
    return fails ? 1 : 0;
}

#else

int main(void)
{
    printf("cuda_bench: built without CUDA, skipped\n");
    return TEST_SKIP;
}

#endif
