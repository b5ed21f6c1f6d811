/* bench_infer.c: speed of the CPU inference on one thread, in bytes/s.
 *
 * usage: bench_infer [--simd scalar|avx2|avx512|all] [preset...]
 * For each preset (default: tiny and 200k) and each SIMD path (default: all
 * this CPU runs), a random model (seed 1) runs over one full chunk of random
 * bytes twice: the full pass (the encoder's path) and the incremental step
 * with the KV cache (the decoder's path). The incremental run also reports
 * the time of one step at positions 256, 1024 and 2048 (the mean over the
 * 64 steps before each), which grows with the attended length.
 * --best N (before the presets): N single runs of each kind, reporting the
 * fastest, which shuts out most of a busy machine's interference; it also
 * times LMZ_KV_MANY chunks stepped together (lmz_kv_step_many, the
 * decoder's batch), in bytes/s over all of them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lmz_infer.h"
#include "lmz_model.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int best_of; /* --best N; 0: the default timing */

/* The fastest of best_of single runs: full pass, incremental, and
 * LMZ_KV_MANY chunks in lock-step (B/s each). */
static void bench_best(const lmz_model *m, lmz_scratch *s, const uint8_t *data, int n,
                       uint16_t *cum, uint16_t *freq, double out[3])
{
    lmz_kv *kv[LMZ_KV_MANY];
    for (int r = 0; r < LMZ_KV_MANY; r++)
        kv[r] = lmz_kv_create(&m->cfg);
    uint16_t tables[LMZ_KV_MANY * 256];
    int input[LMZ_KV_MANY];
    out[0] = out[1] = out[2] = 0;
    for (int t = 0; t < best_of; t++) {
        double t0 = now();
        lmz_forward_chunk(m, s, data, n, cum, freq, NULL);
        double b = n / (now() - t0);
        out[0] = b > out[0] ? b : out[0];
        lmz_kv_reset(kv[0]);
        t0 = now();
        for (int i = 0; i < n; i++)
            lmz_kv_step(m, s, kv[0], i == 0 ? 0 : data[i - 1], tables);
        b = n / (now() - t0);
        out[1] = b > out[1] ? b : out[1];
        for (int r = 0; r < LMZ_KV_MANY; r++)
            lmz_kv_reset(kv[r]);
        t0 = now();
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < LMZ_KV_MANY; r++) /* chunks r: the data rotated by r * 509 */
                input[r] = i == 0 ? 0 : data[(i - 1 + r * 509) % n];
            lmz_kv_step_many(m, s, kv, LMZ_KV_MANY, input, tables);
        }
        b = (double)n * LMZ_KV_MANY / (now() - t0);
        out[2] = b > out[2] ? b : out[2];
    }
    for (int r = 0; r < LMZ_KV_MANY; r++)
        lmz_kv_free(kv[r]);
}

/* The default run: full passes and incremental steps for at least 1 s or
 * 3 runs each, with the step time at three positions. */
static void bench_timed(const lmz_model *m, lmz_scratch *s, lmz_kv *kv, const uint8_t *data,
                        int n, uint16_t *cum, uint16_t *freq, const char *preset,
                        const lmz_config *cfg)
{
    double t0 = now();
    int reps = 0;
    do { /* at least 1 s or 3 runs */
        lmz_forward_chunk(m, s, data, n, cum, freq, NULL);
        reps++;
    } while (reps < 3 && now() - t0 < 1.0);
    const double full = (double)n * reps / (now() - t0);

    uint16_t table[256];
    double *at = malloc((size_t)(n + 1) * sizeof *at), step_us[3] = {0, 0, 0};
    const int marks[3] = {256, 1024, 2048};
    t0 = now();
    reps = 0;
    do {
        lmz_kv_reset(kv);
        for (int i = 0; i < n; i++) {
            at[i] = now();
            lmz_kv_step(m, s, kv, i == 0 ? 0 : data[i - 1], table);
        }
        at[n] = now();
        for (int k = 0; k < 3; k++)
            if (marks[k] <= n && marks[k] >= 64)
                step_us[k] += 1e6 * (at[marks[k]] - at[marks[k] - 64]) / 64;
        reps++;
    } while (reps < 3 && now() - t0 < 1.0);
    const double incr = (double)n * reps / (now() - t0);

    printf("%-5s %-6s full pass %8.0f B/s, incremental %8.0f B/s; step at 256/1024/2048: "
           "%.1f / %.1f / %.1f us  (%zu params, 1 thread)\n",
           preset, lmz_simd_name(), full, incr, step_us[0] / reps, step_us[1] / reps,
           step_us[2] / reps, lmz_config_param_count(cfg));
    fflush(stdout);
    free(at);
}

static int bench(const char *preset, lmz_simd path)
{
    if (lmz_simd_select(path) != LMZ_OK) {
        printf("%-5s %-6s not supported on this CPU\n", preset, "");
        return 0;
    }
    lmz_config cfg;
    if (lmz_config_preset(preset, &cfg) != 0) {
        fprintf(stderr, "unknown preset %s\n", preset);
        return 1;
    }
    lmz_model *m = lmz_model_alloc(&cfg);
    lmz_scratch *s = lmz_scratch_create(&cfg);
    lmz_kv *kv = lmz_kv_create(&cfg);
    const int n = cfg.ctx;
    uint8_t *data = malloc((size_t)n);
    uint16_t *cum = malloc((size_t)n * sizeof *cum), *freq = malloc((size_t)n * sizeof *freq);
    if (!m || !s || !kv || !data || !cum || !freq) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    lmz_model_init_random(m, 1);
    uint64_t st = 12345;
    for (int i = 0; i < n; i++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        data[i] = (uint8_t)(st >> 56);
    }

    if (best_of > 0) {
        double b[3];
        bench_best(m, s, data, n, cum, freq, b);
        printf("%-5s %-6s best of %d: full pass %8.0f B/s, incremental %8.0f B/s, "
               "%d in lock-step %8.0f B/s\n",
               preset, lmz_simd_name(), best_of, b[0], b[1], LMZ_KV_MANY, b[2]);
        fflush(stdout);
    } else {
        bench_timed(m, s, kv, data, n, cum, freq, preset, &cfg);
    }
    free(data);
    free(cum);
    free(freq);
    lmz_kv_free(kv);
    lmz_scratch_free(s);
    lmz_model_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    int rc = 0, first = 1;
    lmz_simd paths[3] = {LMZ_SIMD_SCALAR, LMZ_SIMD_AVX2, LMZ_SIMD_AVX512};
    int npaths = 3;
    if (argc > 2 && strcmp(argv[1], "--simd") == 0) {
        if (strcmp(argv[2], "all") != 0) {
            const int p = lmz_simd_parse(argv[2]);
            if (p < 0) {
                fprintf(stderr, "unknown SIMD path %s\n", argv[2]);
                return 1;
            }
            paths[0] = (lmz_simd)p;
            npaths = 1;
        }
        first = 3;
    }
    if (argc > first + 1 && strcmp(argv[first], "--best") == 0) {
        best_of = atoi(argv[first + 1]);
        first += 2;
    }
    const char *dflt[] = {"tiny", "200k"};
    const int nnames = argc > first ? argc - first : 2;
    for (int i = 0; i < nnames; i++)
        for (int k = 0; k < npaths; k++)
            rc |= bench(argc > first ? argv[first + i] : dflt[i], paths[k]);
    return rc;
}
