/* test_cuda_bench.c: CUDA backend throughput (label "gpu"; exits 77,
 * skipped, without a CUDA device or a CUDA build).
 *
 * Without LMZ_CUDA_BENCH it is a short smoke run (random-tiny, 64 chunks,
 * score and decode round trip). With LMZ_CUDA_BENCH=1 (scripts/gpu-check.sh)
 * it measures, per preset (LMZ_CUDA_BENCH_PRESETS, default "200k 800k 3.2m"),
 * the backend's score (compress side, model only) and decode (model + range
 * decoder) throughput on generated text-like data, LMZ_CUDA_BENCH_MB MB for
 * score and LMZ_CUDA_BENCH_DEC_MB for decode, checking the round trip.
 * Prints one line per preset: "bench PRESET score X MB/s decode Y MB/s". */
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

static int run(const char *preset, double score_mb, double dec_mb)
{
    char name[64];
    snprintf(name, sizeof name, "random-%s", preset);
    lmz_config cfg;
    if (lmz_config_preset(preset, &cfg) != 0) {
        fprintf(stderr, "unknown preset %s\n", preset);
        return 1;
    }
    lmz_model *m = lmz_model_alloc(&cfg);
    lmz_model_init_random(m, 1);
    const size_t ctx = (size_t)cfg.ctx;
    int ns = (int)(score_mb * 1e6 / (double)ctx), nd = (int)(dec_mb * 1e6 / (double)ctx);
    if (ns < 1)
        ns = 1;
    if (nd < 1)
        nd = 1;
    if (nd > ns)
        nd = ns;
    uint8_t *buf = malloc((size_t)ns * ctx);
    gen_data(buf, (size_t)ns * ctx, 42);
    const uint8_t **data = malloc((size_t)ns * sizeof *data);
    uint32_t *len = malloc((size_t)ns * 4);
    for (int c = 0; c < ns; c++) {
        data[c] = buf + (size_t)c * ctx;
        len[c] = (uint32_t)ctx;
    }
    uint16_t *cum = malloc((size_t)ns * ctx * 2), *freq = malloc((size_t)ns * ctx * 2);
    lmz_backend *be = NULL;
    lmz_err err;
    if (lmz_backend_create(m, &(lmz_backend_params){.device = LMZ_DEVICE_CUDA}, &be, &err) != LMZ_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    /* warm-up (allocations, module load) on one chunk */
    lmz_backend_score(be, 1, data, len, cum, freq, &err);
    double t0 = now();
    lmz_status st = lmz_backend_score(be, ns, data, len, cum, freq, &err);
    const double ts = now() - t0;
    if (st != LMZ_OK) {
        fprintf(stderr, "score: %s\n", err.msg);
        return 1;
    }
    /* encode nd chunks on the host, decode them on the device */
    uint8_t **streams = malloc((size_t)nd * sizeof *streams), **outs = malloc((size_t)nd * sizeof *outs);
    uint32_t *slen = malloc((size_t)nd * 4);
    size_t coded = 0;
    for (int c = 0; c < nd; c++) {
        streams[c] = malloc(3 * ctx + 64);
        outs[c] = malloc(ctx);
        lmz_rc_enc e;
        lmz_rc_enc_init(&e, streams[c], 3 * ctx + 64);
        for (size_t i = 0; i < ctx; i++)
            lmz_rc_enc_put(&e, cum[c * ctx + i], freq[c * ctx + i]);
        slen[c] = (uint32_t)lmz_rc_enc_finish(&e);
        coded += slen[c];
    }
    t0 = now();
    st = lmz_backend_decode(be, nd, (const uint8_t *const *)streams, slen, len, outs, &err);
    const double td = now() - t0;
    int bad = st != LMZ_OK;
    for (int c = 0; c < nd && !bad; c++)
        bad = memcmp(outs[c], data[c], ctx) != 0;
    printf("bench %-5s score %8.2f MB/s (%d chunks, %.2f s)  decode %8.3f MB/s (%d chunks, %.2f s)"
           "  ratio %.3f  roundtrip %s\n",
           preset, (double)ns * ctx / ts / 1e6, ns, ts, (double)nd * ctx / td / 1e6, nd, td,
           (double)coded / ((double)nd * ctx), bad ? "FAILED" : "ok");
    fflush(stdout);
    for (int c = 0; c < nd; c++) {
        free(streams[c]);
        free(outs[c]);
    }
    free(streams);
    free(outs);
    free(slen);
    lmz_backend_free(be);
    lmz_model_free(m);
    free(buf);
    free(data);
    free(len);
    free(cum);
    free(freq);
    return bad;
}

int main(void)
{
    if (!lmz_cuda_available()) {
        printf("cuda_bench: no CUDA device, skipped\n");
        return TEST_SKIP;
    }
    const char *b = getenv("LMZ_CUDA_BENCH");
    if (!b || strcmp(b, "1") != 0)
        return run("tiny", 0.13, 0.13) ? 1 : 0;
    const char *ps = getenv("LMZ_CUDA_BENCH_PRESETS");
    const char *smb = getenv("LMZ_CUDA_BENCH_MB"), *dmb = getenv("LMZ_CUDA_BENCH_DEC_MB");
    const double score_mb = smb ? atof(smb) : 64, dec_mb = dmb ? atof(dmb) : 8;
    char list[256];
    snprintf(list, sizeof list, "%s", ps ? ps : "200k 800k 3.2m");
    int fails = 0;
    for (char *tok = strtok(list, " ,"); tok; tok = strtok(NULL, " ,"))
        fails += run(tok, score_mb, dec_mb);
    return fails ? 1 : 0;
}

#else

int main(void)
{
    printf("cuda_bench: built without CUDA, skipped\n");
    return TEST_SKIP;
}

#endif
