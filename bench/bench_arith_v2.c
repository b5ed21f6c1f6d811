/* bench_arith_v2.c: quality and first timings of arithmetic version 2
 * against version 1 on a shipped model (docs/inference.md, "Arithmetic
 * version 2"; results in bench/results/arith-v2.md).
 *
 * usage: bench_arith_v2 MODEL.lmzm CALIB VAL [options]
 *   The float model is the shipped v1 model dequantised
 *   (lmz_fmodel_from_model); it is requantised to v2 with static K/V
 *   scales calibrated on CALIB (a training split, never VAL) and all three
 *   are measured on VAL in bits per byte (2048-byte chunks from an empty
 *   context, lmz's protocol).
 *   --val-bytes N      measure on the first N bytes of VAL only
 *   --k-alpha A --v-alpha A --k-clip C --v-clip C --calib-bytes N
 *                      lmz_quant_v2_opts (defaults: lmz_quant_v2_opts_default)
 *   --no-float --no-v1 skip those measurements
 *   --time N           also time the scalar full pass of v1 and v2 over N
 *                      chunks of VAL (one thread), per position
 *   -T N               threads for the measurements (default 1)
 *   -o FILE            write the v2 model's hash and shifts to FILE */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lmz.h"
#include "lmz_infer.h"
#include "lmz_infer_v2.h"
#include "lmz_modelfile.h"
#include "lmz_train.h"
#include "lmz_train_v2.h"

static uint8_t *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, len = 0;
    uint8_t *b = malloc(cap);
    for (;;) {
        if (len == cap) {
            uint8_t *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                fclose(f);
                return NULL;
            }
            b = nb;
        }
        const size_t r = fread(b + len, 1, cap - len, f);
        if (r == 0)
            break;
        len += r;
    }
    fclose(f);
    *n = len;
    return b;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int fail(const char *what, const lmz_err *e)
{
    fprintf(stderr, "bench_arith_v2: %s: %s\n", what, e->msg);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_arith_v2 MODEL.lmzm CALIB VAL [options]\n");
        return 2;
    }
    lmz_quant_v2_opts qo;
    lmz_quant_v2_opts_default(&qo);
    qo.nthreads = 1;
    size_t val_bytes = 0;
    int do_float = 1, do_v1 = 1, time_chunks = 0, threads = 1;
    const char *out_path = NULL;
    for (int i = 4; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "0";
        if (strcmp(a, "--val-bytes") == 0)
            val_bytes = strtoull(v, NULL, 10), i++;
        else if (strcmp(a, "--k-alpha") == 0)
            qo.k_alpha = atof(v), i++;
        else if (strcmp(a, "--v-alpha") == 0)
            qo.v_alpha = atof(v), i++;
        else if (strcmp(a, "--k-clip") == 0)
            qo.k_clip = atof(v), i++;
        else if (strcmp(a, "--v-clip") == 0)
            qo.v_clip = atof(v), i++;
        else if (strcmp(a, "--calib-bytes") == 0)
            qo.calib_bytes = strtoull(v, NULL, 10), i++;
        else if (strcmp(a, "--no-float") == 0)
            do_float = 0;
        else if (strcmp(a, "--no-v1") == 0)
            do_v1 = 0;
        else if (strcmp(a, "--time") == 0)
            time_chunks = atoi(v), i++;
        else if (strcmp(a, "-T") == 0)
            threads = atoi(v), qo.nthreads = threads, i++;
        else if (strcmp(a, "-o") == 0)
            out_path = v, i++;
        else {
            fprintf(stderr, "bench_arith_v2: unknown option %s\n", a);
            return 2;
        }
    }
    lmz_err e = {0};
    lmz_model *m1 = NULL;
    if (lmz_model_load(argv[1], &m1, &e) != LMZ_OK)
        return fail(argv[1], &e);
    size_t ncal = 0, nval = 0;
    uint8_t *cal = read_all(argv[2], &ncal), *val = read_all(argv[3], &nval);
    if (!cal || !val) {
        fprintf(stderr, "bench_arith_v2: cannot read %s or %s\n", argv[2], argv[3]);
        return 1;
    }
    if (val_bytes && val_bytes < nval)
        nval = val_bytes;
    lmz_fmodel *fm = NULL;
    if (lmz_fmodel_from_model(m1, &fm, &e) != LMZ_OK)
        return fail("dequantize", &e);
    lmz_model_v2 *m2 = NULL;
    double t0 = now();
    if (lmz_quantize_v2(fm, cal, ncal, &qo, m1->name, &m2, &e) != LMZ_OK)
        return fail("quantize v2", &e);
    const double tq = now() - t0;
    char hex[33];
    lmz_model_hash_hex(m2->m, hex);
    printf("model %s  val %s (%zu bytes)  calib %s (%zu bytes)\n", argv[1], argv[3], nval,
           argv[2], ncal);
    printf("v2 opts: k_alpha %.2f v_alpha %.2f k_clip %.3f v_clip %.3f calib_bytes %zu "
           "(quantized in %.1f s)  v2 hash %s\n",
           qo.k_alpha, qo.v_alpha, qo.k_clip, qo.v_clip, qo.calib_bytes, tq, hex);
    const int L = m2->m->cfg.n_layers, H = m2->m->cfg.n_heads;
    printf("k_shift/v_shift per layer:");
    for (int l = 0; l < L; l++) {
        printf("  [");
        for (int h = 0; h < H; h++)
            printf("%s%d/%d", h ? " " : "", m2->k_shift[l * H + h], m2->v_shift[l * H + h]);
        printf("]");
    }
    printf("\n");
    if (out_path) {
        FILE *f = fopen(out_path, "w");
        if (f) {
            fprintf(f, "%s\n", hex);
            fclose(f);
        }
    }
    fflush(stdout);

    double bf = NAN, b1 = NAN, b2 = NAN;
    if (do_float) {
        if (lmz_fmodel_eval(fm, val, nval, m1->cfg.ctx, 0, threads, &bf, &e) != LMZ_OK)
            return fail("float eval", &e);
        printf("float %.4f\n", bf);
        fflush(stdout);
    }
    if (do_v1) {
        if (lmz_model_eval(m1, val, nval, threads, &b1, &e) != LMZ_OK)
            return fail("v1 eval", &e);
        printf("v1    %.4f  (%+.2f%% vs float)\n", b1, 100 * (b1 / bf - 1));
        fflush(stdout);
    }
    t0 = now();
    if (lmz_model_v2_eval(m2, val, nval, threads, &b2, &e) != LMZ_OK)
        return fail("v2 eval", &e);
    const double t2 = now() - t0;
    printf("v2    %.4f  (%+.2f%% vs float, %+.2f%% vs v1)  [%.1f s]\n", b2, 100 * (b2 / bf - 1),
           100 * (b2 / b1 - 1), t2);
    fflush(stdout);

    if (time_chunks > 0) {
        /* one thread, whole 2048-byte chunks of VAL, scalar paths */
        const int ctx = m1->cfg.ctx;
        int nc = (int)(nval / (size_t)ctx);
        if (nc > time_chunks)
            nc = time_chunks;
        lmz_simd_select(LMZ_SIMD_SCALAR);
        lmz_scratch *s1 = lmz_scratch_create(&m1->cfg);
        lmz_v2_scratch *s2 = lmz_v2_scratch_create(&m1->cfg);
        uint16_t *freq = malloc((size_t)ctx * sizeof *freq);
        double best1 = 1e30, best2 = 1e30;
        for (int rep = 0; rep < 2; rep++) {
            t0 = now();
            for (int k = 0; k < nc; k++)
                lmz_forward_chunk(m1, s1, val + (size_t)k * ctx, ctx, NULL, freq, NULL);
            double t = now() - t0;
            best1 = t < best1 ? t : best1;
            t0 = now();
            for (int k = 0; k < nc; k++)
                lmz_v2_forward_chunk(m2, s2, val + (size_t)k * ctx, ctx, NULL, freq, NULL);
            t = now() - t0;
            best2 = t < best2 ? t : best2;
        }
        const double pos = (double)nc * ctx;
        printf("scalar full pass, 1 thread, %d chunks: v1 %.1f us/position (%.1f KB/s), "
               "v2 %.1f us/position (%.1f KB/s)\n",
               nc, 1e6 * best1 / pos, pos / best1 / 1000, 1e6 * best2 / pos, pos / best2 / 1000);
        /* the decoder's step, over one chunk */
        lmz_kv *k1 = lmz_kv_create(&m1->cfg);
        lmz_v2_kv *k2 = lmz_v2_kv_create(&m1->cfg);
        uint16_t tab[256];
        t0 = now();
        for (int i = 0; i < ctx; i++)
            lmz_kv_step(m1, s1, k1, i == 0 ? 0 : val[i - 1], tab);
        const double ts1 = now() - t0;
        t0 = now();
        for (int i = 0; i < ctx; i++)
            lmz_v2_kv_step(m2, s2, k2, i == 0 ? 0 : val[i - 1], tab);
        const double ts2 = now() - t0;
        printf("scalar KV step, 1 thread, 1 chunk: v1 %.1f us/position, v2 %.1f us/position\n",
               1e6 * ts1 / ctx, 1e6 * ts2 / ctx);
        lmz_kv_free(k1);
        lmz_v2_kv_free(k2);
        free(freq);
        lmz_scratch_free(s1);
        lmz_v2_scratch_free(s2);
    }
    lmz_model_v2_free(m2);
    lmz_fmodel_free(fm);
    lmz_model_free(m1);
    free(cal);
    free(val);
    return 0;
}
