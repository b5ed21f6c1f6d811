/* bench_infer.c: speed of the CPU reference on one thread, in bytes/s.
 *
 * For each preset (default: tiny and 200k; or the names given as
 * arguments), a random model (seed 1) runs over one full chunk of random
 * bytes twice: the full pass (the encoder's path) and the incremental step
 * with the KV cache (the decoder's path). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lmz_infer.h"
#include "lmz_model.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int bench(const char *preset)
{
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

    double t0 = now();
    int reps = 0;
    do { /* at least 1 s or 3 runs */
        lmz_forward_chunk(m, s, data, n, cum, freq, NULL);
        reps++;
    } while (reps < 3 && now() - t0 < 1.0);
    const double full = (double)n * reps / (now() - t0);

    uint16_t table[256];
    t0 = now();
    reps = 0;
    do {
        lmz_kv_reset(kv);
        for (int i = 0; i < n; i++)
            lmz_kv_step(m, s, kv, i == 0 ? 0 : data[i - 1], table);
        reps++;
    } while (reps < 3 && now() - t0 < 1.0);
    const double incr = (double)n * reps / (now() - t0);

    printf("%-5s (%zu params, ctx %d), 1 thread: full pass %.0f bytes/s, incremental %.0f "
           "bytes/s\n",
           preset, lmz_config_param_count(&cfg), n, full, incr);
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
    int rc = 0;
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            rc |= bench(argv[i]);
    } else {
        rc |= bench("tiny");
        rc |= bench("200k");
    }
    return rc;
}
