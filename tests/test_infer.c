/* test_infer.c: the integer inference of docs/inference.md.
 *
 *   - the primitives, on exact values and boundaries;
 *   - full pass == incremental step, table by table, for random models,
 *     random bytes and real text, and for "extremes" models that push every
 *     clamp (run this under -fsanitize=address,undefined too);
 *   - the backend: score == tables, any thread count and any batching give
 *     the same bits, and score + range coder + decode round-trips. */
#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../kernels/cpu/lmz_cpu.h"
#include "../kernels/cpu/lmz_ops.h"
#include "lmz_backend.h"
#include "lmz_coder.h"
#include "lmz_infer.h"
#include "lmz_model.h"
#include "testutil.h"

/* ---- primitives ---- */

static void test_rounding(void)
{
    CHECK_EQ_INT(lmz_rshift_round(5, 1), 3);   /* 2.5 -> 3 (half up) */
    CHECK_EQ_INT(lmz_rshift_round(-5, 1), -2); /* -2.5 -> -2 (half up) */
    CHECK_EQ_INT(lmz_rshift_round(-6, 2), -1); /* -1.5 -> -1 */
    CHECK_EQ_INT(lmz_rshift_round(-7, 2), -2); /* -1.75 -> -2 */
    CHECK_EQ_INT(lmz_rshift_round(-1, 1), 0);  /* -0.5 -> 0 */
    CHECK_EQ_INT(lmz_rshift_round(-3, 1), -1); /* -1.5 -> -1 */
    CHECK_EQ_INT(lmz_rshift_round(INT64_C(1) << 61, 62), 1);
    CHECK_EQ_INT(lmz_rshift_round((INT64_C(1) << 61) - 1, 62), 0);
    CHECK_EQ_INT(lmz_rshift_round(-(INT64_C(1) << 61), 62), 0);
    CHECK_EQ_INT(lmz_rshift_round(-(INT64_C(1) << 61) - 1, 62), -1);

    CHECK_EQ_INT(lmz_div_round(7, 2), 4);   /* 3.5 -> 4 */
    CHECK_EQ_INT(lmz_div_round(-7, 2), -3); /* -3.5 -> -3 */
    CHECK_EQ_INT(lmz_div_round(-3, 2), -1); /* -1.5 -> -1 */
    CHECK_EQ_INT(lmz_div_round(-5, 4), -1); /* -1.25 -> -1 */
    CHECK_EQ_INT(lmz_div_round(-7, 4), -2); /* -1.75 -> -2 */
    CHECK_EQ_INT(lmz_div_round(-1, 3), 0);  /* -0.33 -> 0 */
    CHECK_EQ_INT(lmz_div_round(-2, 3), -1); /* -0.67 -> -1 */
    CHECK_EQ_INT(lmz_div_round(0, 5), 0);
    CHECK_EQ_INT(lmz_div_round(-100, 1), -100);
    /* the g of attention: aq = ACT gives round(2^38 / 16129) */
    CHECK_EQ_INT(lmz_div_round(INT64_C(1) << 38, 16129), 17042464);
    /* against the definition floor((2a + b) / 2b), by brute force */
    for (int64_t a = -300; a <= 300; a++)
        for (int64_t b = 1; b <= 17; b++) {
            int64_t num = 2 * a + b, den = 2 * b, f = 0;
            while (f * den > num)
                f--;
            while ((f + 1) * den <= num)
                f++;
            if (lmz_div_round(a, b) != f) {
                fprintf(stderr, "div_round(%lld, %lld)\n", (long long)a, (long long)b);
                tu_failures++;
            }
        }
}

static void test_isqrt(void)
{
    CHECK_EQ_INT(lmz_isqrt64(0), 0);
    CHECK_EQ_INT(lmz_isqrt64(1), 1);
    CHECK_EQ_INT(lmz_isqrt64(2), 1);
    CHECK_EQ_INT(lmz_isqrt64(3), 1);
    CHECK_EQ_INT(lmz_isqrt64(128), 11);
    CHECK_EQ_INT(lmz_isqrt64(UINT64_C(1) << 62), UINT64_C(1) << 31);
    CHECK(lmz_isqrt64(UINT64_MAX) == UINT64_C(4294967295));
    const uint64_t ks[] = {2, 3, 11, 12, 1000, 65535, 65536, 3037000499u, 2147483647u,
                           2147483648u, 4294967295u};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        const uint64_t k = ks[i];
        CHECK(lmz_isqrt64(k * k) == k);
        CHECK(lmz_isqrt64(k * k - 1) == k - 1);
        if (k < 4294967295u)
            CHECK(lmz_isqrt64(k * k + 2 * k) == k); /* (k+1)^2 - 1 */
    }
    uint64_t st = 5;
    for (int i = 0; i < 100000; i++) {
        const uint64_t v = tu_rand(&st) >> (tu_rand(&st) & 63);
        const uint64_t r = lmz_isqrt64(v);
        /* r^2 <= v < (r+1)^2, without overflow: r <= 2^32 - 1 */
        CHECK(r * r <= v && (r == 4294967295u || (r + 1) * (r + 1) > v));
    }
}

static void test_quant(void)
{
    int32_t v[8] = {0};
    int8_t q[8];
    memset(q, 55, sizeof q);
    CHECK_EQ_INT(lmz_quant_row(v, 8, q), 1); /* amax 0 counts as 1 */
    for (int i = 0; i < 8; i++)
        CHECK_EQ_INT(q[i], 0);

    const int32_t act = (int32_t)LMZ_ACT;
    int32_t w[5] = {act, -act, 1, -act / 2, act / 254};
    CHECK_EQ_INT(lmz_quant_row(w, 5, q), act);
    CHECK_EQ_INT(q[0], 127);
    CHECK_EQ_INT(q[1], -127);
    CHECK_EQ_INT(q[2], 0);
    CHECK_EQ_INT(q[3], -64); /* -63.5 rounds away from zero on |v| */
    CHECK_EQ_INT(q[4], 0);   /* 1032 / 2^18 * 127 = 0.4999 */

    int32_t one[1] = {-3};
    CHECK_EQ_INT(lmz_quant_row(one, 1, q), 3);
    CHECK_EQ_INT(q[0], -127);
}

static void test_expq_gelu(void)
{
    CHECK_EQ_INT(lmz_expq(0), 65536);
    CHECK_EQ_INT(lmz_expq(65536), 0);
    CHECK_EQ_INT(lmz_expq(1 << 25), 0);
    CHECK_EQ_INT(lmz_expq(4096), 24109); /* 65536 / e = 24109.1 */
    CHECK(lmz_expq(65535) <= 1);
    /* close to 65536 exp(-x/4096) everywhere (the product of two rounded
     * tables is not exactly monotone at the EXP_HI steps, and need not be) */
    double worst = 0;
    for (int x = 0; x <= 65536; x++) {
        const double err = fabs((double)lmz_expq(x) - 65536.0 * exp(-x / 4096.0));
        if (err > worst)
            worst = err;
    }
    CHECK(worst <= 1.5);

    CHECK_EQ_INT(lmz_gelu(0), 0);
    CHECK_EQ_INT(lmz_gelu(-32768), 0); /* -8.0 */
    CHECK_EQ_INT(lmz_gelu(32768), 32768);
    CHECK_EQ_INT(lmz_gelu(-32767), 0);
    CHECK_EQ_INT(lmz_gelu(32767), 32767); /* interpolated: 32752 + (32768-32752)*15/16 */
    CHECK_EQ_INT(lmz_gelu((int32_t)LMZ_ACT), (int32_t)LMZ_ACT);
    CHECK_EQ_INT(lmz_gelu(-(int32_t)LMZ_ACT), 0);
    CHECK_EQ_INT(lmz_gelu(4096), 3446);  /* gelu(1.0) = 0.8413 */
    CHECK_EQ_INT(lmz_gelu(-4096), -650); /* gelu(-1.0) = -0.1587 */
    CHECK_EQ_INT(LMZ_GELU_T[2048], 0);
    CHECK_EQ_INT(LMZ_GELU_T[4096], 32768);
    CHECK_EQ_INT(LMZ_EXP_HI[0], 65536);
    CHECK_EQ_INT(LMZ_EXP_LO[0], 65536);
}

static void test_layer_norm(void)
{
    int32_t x[16], z[16];
    for (int i = 0; i < 16; i++)
        x[i] = 12345;
    lmz_layer_norm(x, 16, z);
    for (int i = 0; i < 16; i++)
        CHECK_EQ_INT(z[i], 0);
    /* the extremes: half +RES, half -RES gives +-1.0 (var 2^48) */
    for (int i = 0; i < 16; i++)
        x[i] = i & 1 ? (int32_t)LMZ_RES : -(int32_t)LMZ_RES;
    lmz_layer_norm(x, 16, z);
    CHECK_EQ_INT(z[0], -4096);
    CHECK_EQ_INT(z[1], 4096);
    /* one spike in 1024 reaches the bound sqrt(d) * 4096 (almost) */
    static int32_t big[1024], bz[1024];
    big[0] = (int32_t)LMZ_RES;
    for (int i = 1; i < 1024; i++)
        big[i] = -(int32_t)LMZ_RES;
    lmz_layer_norm(big, 1024, bz);
    CHECK(bz[0] > 130000 && bz[0] <= 32 * 4096);
}

static void test_freq_table(void)
{
    int32_t l[256];
    uint16_t f[256];
    for (int s = 0; s < 256; s++)
        l[s] = 777;
    lmz_freq_table(l, f);
    CHECK(lmz_freq_valid(f));
    for (int s = 0; s < 256; s++)
        CHECK_EQ_INT(f[s], 256);
    for (int s = 0; s < 256; s++)
        l[s] = -(int32_t)LMZ_ACT;
    l[200] = (int32_t)LMZ_ACT;
    lmz_freq_table(l, f);
    CHECK(lmz_freq_valid(f));
    CHECK_EQ_INT(f[200], 65281);
    CHECK_EQ_INT(f[0], 1);
    /* ties: the remainder goes to the smallest maximal symbol */
    for (int s = 0; s < 256; s++)
        l[s] = s % 3 == 0 ? 4096 : 0;
    lmz_freq_table(l, f);
    CHECK(lmz_freq_valid(f));
    CHECK(f[0] >= f[3] && f[3] == f[6]);
}

/* ---- models ---- */

/* Full pass vs incremental steps over data[0..n): every table equal and
 * valid, cum/freq equal to the tables' entries. Returns the ideal code
 * length in bits (so the caller can see the model predicts sanely). */
static double check_full_vs_incremental(const lmz_model *m, const uint8_t *data, int n,
                                        const char *what)
{
    lmz_scratch *s = lmz_scratch_create(&m->cfg);
    lmz_kv *kv = lmz_kv_create(&m->cfg);
    uint16_t *tables = malloc((size_t)n * 256 * sizeof *tables);
    uint16_t *cum = malloc((size_t)n * sizeof *cum), *freq = malloc((size_t)n * sizeof *freq);
    double bits = 0;
    CHECK(s && kv && tables && cum && freq);
    CHECK_EQ_INT(lmz_forward_chunk(m, s, data, n, cum, freq, tables), LMZ_OK);

    int bad_valid = 0, bad_lookup = 0, first_diff = -1;
    uint16_t t[256];
    for (int i = 0; i < n; i++) {
        const uint16_t *ft = tables + (size_t)i * 256;
        bad_valid += !lmz_freq_valid(ft);
        uint32_t c = 0;
        for (int b = 0; b < data[i]; b++)
            c += ft[b];
        bad_lookup += cum[i] != c || freq[i] != ft[data[i]];
        bits += lmz_freq_cost_bits(ft, data[i]);

        CHECK_EQ_INT(lmz_kv_len(kv), i);
        CHECK_EQ_INT(lmz_kv_step(m, s, kv, i == 0 ? 0 : data[i - 1], t), LMZ_OK);
        if (first_diff < 0 && memcmp(t, ft, sizeof t) != 0)
            first_diff = i;
    }
    if (bad_valid || bad_lookup || first_diff >= 0) {
        fprintf(stderr, "%s n=%d: %d invalid tables, %d bad lookups, first full/incremental "
                        "difference at %d\n", what, n, bad_valid, bad_lookup, first_diff);
        tu_failures++;
    }
    /* a full cache refuses one more step */
    if (n == m->cfg.ctx)
        CHECK_EQ_INT(lmz_kv_step(m, s, kv, 0, t), LMZ_ERR_RANGE);
    /* a reset cache starts over with the same tables */
    lmz_kv_reset(kv);
    CHECK_EQ_INT(lmz_kv_len(kv), 0);
    CHECK_EQ_INT(lmz_kv_step(m, s, kv, 0, t), LMZ_OK);
    CHECK(memcmp(t, tables, sizeof t) == 0);

    free(tables);
    free(cum);
    free(freq);
    lmz_kv_free(kv);
    lmz_scratch_free(s);
    return bits;
}

static void test_random_models(void)
{
    static uint8_t data[2048];
    const int lens[] = {1, 2, 100, 2048};
    const char *presets[] = {"tiny", "200k"};
    for (int p = 0; p < 2; p++)
        for (uint64_t seed = 1; seed <= 3; seed++) {
            lmz_model *m = tu_model_random(presets[p], seed);
            CHECK(m != NULL);
            tu_fill_random(data, sizeof data, seed * 1000 + (uint64_t)p);
            for (int k = 0; k < 4; k++) {
                if (p == 1 && seed > 2 && lens[k] == 2048)
                    continue; /* enough long 200k runs */
                char what[64];
                snprintf(what, sizeof what, "%s seed %d random bytes", presets[p], (int)seed);
                double bits = check_full_vs_incremental(m, data, lens[k], what);
                if (lens[k] == 2048)
                    printf("%s: %.3f bits/byte\n", what, bits / lens[k]);
            }
            lmz_model_free(m);
        }
}

static void test_text(void)
{
    char path[1024];
    size_t len = 0;
    uint8_t *text = NULL;
    if (tu_data_path("text/alice29.txt", path, sizeof path))
        text = tu_read_file(path, &len);
    if (!text || len < 4096) {
        printf("text: alice29.txt not found, skipped\n");
        free(text);
        return;
    }
    const char *presets[] = {"tiny", "200k"};
    for (int p = 0; p < 2; p++) {
        lmz_model *m = tu_model_random(presets[p], 1);
        char what[64];
        snprintf(what, sizeof what, "%s seed 1 alice29", presets[p]);
        double bits = check_full_vs_incremental(m, text + 2048, 2048, what);
        printf("%s: %.3f bits/byte\n", what, bits / 2048);
        check_full_vs_incremental(m, text, 100, what);
        lmz_model_free(m);
    }
    free(text);
}

static void test_extremes(void)
{
    static uint8_t data[8192];
    tu_fill_random(data, sizeof data, 99);
    /* a run of one byte too: equal inputs give equal keys, flat scores */
    memset(data + 100, 'a', 200);
    lmz_config small;
    lmz_config_preset("200k", &small);
    /* the widest shapes: d 1024 (LN sums), d_ff 4096 (the ff2 dot product),
     * head dim 256 (the attention dot product) */
    const lmz_config wide = {1024, 1, 4, 4096, 64};
    /* the longest context: ALiBi distances up to 8191, sums over 8192 keys */
    const lmz_config longest = {16, 1, 1, 16, 8192};
    for (int v = 0; v < 4; v++) {
        char what[64];
        lmz_model *m = tu_model_extreme(&small, v, 10 + (uint64_t)v);
        CHECK(m && lmz_model_validate(m, NULL) == LMZ_OK);
        snprintf(what, sizeof what, "extreme %d 200k", v);
        check_full_vs_incremental(m, data, 400, what);
        lmz_model_free(m);

        m = tu_model_extreme(&wide, v, 20 + (uint64_t)v);
        CHECK(m && lmz_model_validate(m, NULL) == LMZ_OK);
        snprintf(what, sizeof what, "extreme %d wide", v);
        check_full_vs_incremental(m, data, 64, what);
        lmz_model_free(m);
    }
    for (int v = 0; v < 4; v += 2) {
        lmz_model *m = tu_model_extreme(&longest, v, 30 + (uint64_t)v);
        char what[64];
        snprintf(what, sizeof what, "extreme %d long", v);
        check_full_vs_incremental(m, data, 8192, what);
        lmz_model_free(m);
    }
}

/* ---- backend ---- */

#define NCHUNKS 7

typedef struct chunks {
    const uint8_t *data[NCHUNKS];
    uint32_t len[NCHUNKS];
} chunks;

static void make_chunks(chunks *c, const uint8_t *buf, int ctx)
{
    /* lengths from 1 to the full context, uneven so threads finish apart */
    const uint32_t lens[NCHUNKS] = {1, 2, 777, (uint32_t)ctx, 100, 3, 1500};
    size_t off = 0;
    for (int i = 0; i < NCHUNKS; i++) {
        c->data[i] = buf + off;
        c->len[i] = lens[i];
        off += lens[i];
    }
}

/* A CPU backend with nthreads threads and decode_batch chunks in flight
 * per decoding thread (0: the default). */
static lmz_backend *backend_batch(const lmz_model *m, int nthreads, int decode_batch)
{
    lmz_backend *b = NULL;
    lmz_err err;
    const lmz_backend_params p = {.device = LMZ_DEVICE_CPU, .nthreads = nthreads,
                                  .decode_batch = decode_batch};
    CHECK_EQ_INT(lmz_backend_create(m, &p, &b, &err), LMZ_OK);
    return b;
}

static lmz_backend *backend(const lmz_model *m, int nthreads)
{
    return backend_batch(m, nthreads, 0);
}

static void test_backend(void)
{
    CHECK_EQ_INT(lmz_device_parse("auto"), LMZ_DEVICE_AUTO);
    CHECK_EQ_INT(lmz_device_parse("cpu"), LMZ_DEVICE_CPU);
    CHECK_EQ_INT(lmz_device_parse("cuda"), LMZ_DEVICE_CUDA);
    CHECK_EQ_INT(lmz_device_parse("gpu"), -1);
    CHECK_EQ_INT(lmz_device_parse(NULL), -1);

    lmz_model *m = tu_model_random("tiny", 5);
    const int ctx = m->cfg.ctx;
    lmz_err err;
    lmz_backend *b = NULL;
    CHECK_EQ_INT(lmz_backend_create(m, NULL, &b, &err), LMZ_OK); /* NULL: auto */
    CHECK(b && strcmp(lmz_backend_name(b), "cpu") == 0);
    lmz_backend_free(b);
    const lmz_backend_params cuda = {.device = LMZ_DEVICE_CUDA};
    if (!lmz_cuda_available()) {
        b = NULL;
        CHECK_EQ_INT(lmz_backend_create(m, &cuda, &b, &err), LMZ_ERR_NO_DEVICE);
        CHECK(b == NULL && strstr(err.msg, "CUDA") != NULL);
        /* auto (which takes a CUDA device when present) picks the CPU
         * without one, whatever cuda_auto says */
        for (int ca = -1; ca <= 1; ca++) {
            const lmz_backend_params pa = {.cuda_auto = ca};
            b = NULL;
            CHECK_EQ_INT(lmz_backend_create(m, &pa, &b, &err), LMZ_OK);
            CHECK(b && strcmp(lmz_backend_name(b), "cpu") == 0);
            lmz_backend_free(b);
        }
    } else {
        /* with a device: auto takes it, unless cuda_auto < 0 */
        b = NULL;
        CHECK_EQ_INT(lmz_backend_create(m, &(lmz_backend_params){0}, &b, &err), LMZ_OK);
        CHECK(b && strcmp(lmz_backend_name(b), "cuda") == 0);
        lmz_backend_free(b);
        b = NULL;
        CHECK_EQ_INT(lmz_backend_create(m, &(lmz_backend_params){.cuda_auto = -1}, &b, &err),
                     LMZ_OK);
        CHECK(b && strcmp(lmz_backend_name(b), "cpu") == 0);
        lmz_backend_free(b);
    }
    b = NULL;
    const lmz_backend_params bad_dev = {.device = (lmz_device)7};
    CHECK_EQ_INT(lmz_backend_create(m, &bad_dev, &b, &err), LMZ_ERR_USAGE);
    CHECK(b == NULL);

    size_t total = 8 * (size_t)ctx;
    uint8_t *buf = malloc(total);
    tu_fill_random(buf, total, 4242);
    char path[1024];
    size_t tlen = 0;
    uint8_t *text = tu_data_path("text/alice29.txt", path, sizeof path)
                        ? tu_read_file(path, &tlen)
                        : NULL;
    if (text && tlen >= 3000)
        memcpy(buf + 777 + 3, text, 3000); /* chunks 2..4 get text */
    free(text);
    chunks c;
    make_chunks(&c, buf, ctx);

    /* score with 1, 2 and 3 threads, and chunk by chunk */
    const size_t slots = (size_t)NCHUNKS * (size_t)ctx;
    uint16_t *cum[4], *freq[4];
    for (int k = 0; k < 4; k++) {
        cum[k] = calloc(slots, sizeof **cum);
        freq[k] = calloc(slots, sizeof **freq);
    }
    for (int k = 0; k < 3; k++) {
        b = backend(m, k + 1);
        CHECK_EQ_INT(lmz_backend_score(b, NCHUNKS, c.data, c.len, cum[k], freq[k], &err), LMZ_OK);
        lmz_backend_free(b);
    }
    b = backend(m, 2);
    for (int i = 0; i < NCHUNKS; i++)
        CHECK_EQ_INT(lmz_backend_score(b, 1, &c.data[i], &c.len[i], cum[3] + (size_t)i * ctx,
                                       freq[3] + (size_t)i * ctx, &err),
                     LMZ_OK);
    lmz_backend_free(b);
    for (int k = 1; k < 4; k++) {
        CHECK(memcmp(cum[0], cum[k], slots * sizeof **cum) == 0);
        CHECK(memcmp(freq[0], freq[k], slots * sizeof **freq) == 0);
    }

    /* score == the full pass's tables */
    lmz_scratch *s = lmz_scratch_create(&m->cfg);
    uint16_t *tables = malloc((size_t)ctx * 256 * sizeof *tables);
    int bad = 0;
    for (int i = 0; i < NCHUNKS; i++) {
        CHECK_EQ_INT(lmz_forward_chunk(m, s, c.data[i], (int)c.len[i], NULL, NULL, tables), LMZ_OK);
        for (uint32_t j = 0; j < c.len[i]; j++) {
            const uint16_t *t = tables + (size_t)j * 256;
            uint32_t cu = 0;
            for (int x = 0; x < c.data[i][j]; x++)
                cu += t[x];
            bad += cum[0][(size_t)i * ctx + j] != cu ||
                   freq[0][(size_t)i * ctx + j] != t[c.data[i][j]];
        }
    }
    CHECK_EQ_INT(bad, 0);
    lmz_scratch_free(s);
    free(tables);

    /* the process-wide OpenMP setting does not matter either */
#ifdef _OPENMP
    omp_set_num_threads(1);
    b = backend(m, 0);
    memset(cum[1], 0, slots * sizeof **cum);
    CHECK_EQ_INT(lmz_backend_score(b, NCHUNKS, c.data, c.len, cum[1], freq[1], &err), LMZ_OK);
    CHECK(memcmp(cum[0], cum[1], slots * sizeof **cum) == 0);
    lmz_backend_free(b);
    omp_set_num_threads(2);
#endif

    /* bad lengths are refused */
    b = backend(m, 1);
    uint32_t zero = 0, over = (uint32_t)ctx + 1;
    CHECK_EQ_INT(lmz_backend_score(b, 1, c.data, &zero, cum[1], freq[1], &err), LMZ_ERR_RANGE);
    CHECK_EQ_INT(lmz_backend_score(b, 1, c.data, &over, cum[1], freq[1], &err), LMZ_ERR_RANGE);
    lmz_backend_free(b);

    /* round trip: range-code each chunk with the scores, decode with the
     * backend (1 and 2 threads) */
    uint8_t *streams[NCHUNKS], *out[NCHUNKS];
    uint32_t stream_len[NCHUNKS];
    double ideal = 0;
    size_t coded = 0;
    for (int i = 0; i < NCHUNKS; i++) {
        const size_t cap = 2 * (size_t)c.len[i] + 16;
        streams[i] = malloc(cap);
        out[i] = malloc(c.len[i]);
        for (uint32_t j = 0; j < c.len[i]; j++)
            ideal += 16.0 - log2((double)freq[0][(size_t)i * ctx + j]);
        const size_t n = lmz_rc_encode_chunk(cum[0] + (size_t)i * ctx, freq[0] + (size_t)i * ctx,
                                             c.len[i], streams[i], cap);
        CHECK(n != (size_t)-1);
        stream_len[i] = (uint32_t)n;
        coded += n;
    }
    /* every (threads, chunks in flight per thread) decodes the same bytes:
     * chunks of 1, 2, 100 ... ctx bytes finish at different steps, so the
     * lock-step batches shrink and refill in every pattern; then the same
     * with an empty chunk first and the chunks in a different order */
    for (int nt = 1; nt <= 3; nt++)
        for (int inflight = 1; inflight <= LMZ_KV_MANY; inflight++) {
            b = backend_batch(m, nt, inflight);
            for (int i = 0; i < NCHUNKS; i++)
                memset(out[i], 0xAA, c.len[i]);
            CHECK_EQ_INT(lmz_backend_decode(b, NCHUNKS, (const uint8_t *const *)streams,
                                            stream_len, c.len, out, &err),
                         LMZ_OK);
            for (int i = 0; i < NCHUNKS; i++)
                if (memcmp(out[i], c.data[i], c.len[i]) != 0) {
                    fprintf(stderr, "decode: %d threads, %d in flight: chunk %d differs\n", nt,
                            inflight, i);
                    tu_failures++;
                }
            const uint8_t *rs[NCHUNKS + 1];
            uint32_t rsl[NCHUNKS + 1], rrl[NCHUNKS + 1];
            uint8_t *ro[NCHUNKS + 1], none = 0;
            rs[0] = streams[0];
            rsl[0] = 0;
            rrl[0] = 0;
            ro[0] = &none;
            for (int i = 0; i < NCHUNKS; i++) { /* reversed */
                const int j = NCHUNKS - 1 - i;
                rs[i + 1] = streams[j];
                rsl[i + 1] = stream_len[j];
                rrl[i + 1] = c.len[j];
                ro[i + 1] = out[j];
                memset(out[j], 0xAA, c.len[j]);
            }
            CHECK_EQ_INT(lmz_backend_decode(b, NCHUNKS + 1, rs, rsl, rrl, ro, &err), LMZ_OK);
            for (int i = 0; i < NCHUNKS; i++)
                if (memcmp(out[i], c.data[i], c.len[i]) != 0) {
                    fprintf(stderr, "decode (reversed): %d threads, %d in flight: chunk %d "
                                    "differs\n", nt, inflight, i);
                    tu_failures++;
                }
            lmz_backend_free(b);
        }
    printf("round trip: %zu bytes coded, %.0f ideal\n", coded, ideal / 8);
    CHECK(coded <= ideal / 8 + 4 * NCHUNKS);
    /* garbage decodes to something without failing */
    b = backend(m, 2);
    const uint8_t junk[5] = {1, 2, 3, 4, 5};
    const uint8_t *jp = junk;
    uint32_t jl = 5, rl = 300;
    uint8_t junk_out[300];
    uint8_t *jo = junk_out;
    CHECK_EQ_INT(lmz_backend_decode(b, 1, &jp, &jl, &rl, &jo, &err), LMZ_OK);
    rl = (uint32_t)ctx + 1;
    CHECK_EQ_INT(lmz_backend_decode(b, 1, &jp, &jl, &rl, &jo, &err), LMZ_ERR_RANGE);
    lmz_backend_free(b);

    for (int i = 0; i < NCHUNKS; i++) {
        free(streams[i]);
        free(out[i]);
    }
    for (int k = 0; k < 4; k++) {
        free(cum[k]);
        free(freq[k]);
    }
    free(buf);
    lmz_model_free(m);
}

/* lmz_kv_step_many == lmz_kv_step for each cache, with the batch's caches
 * at different positions and ending at different lengths (1, 2, 100, ctx),
 * and its refusals. */
static void test_kv_many(void)
{
    lmz_model *m = tu_model_random("200k", 9);
    const int ctx = m->cfg.ctx;
    const int lens[LMZ_KV_MANY] = {ctx, 1, 100, 2};
    uint8_t *data = malloc((size_t)ctx);
    tu_fill_random(data, (size_t)ctx, 77);
    lmz_scratch *s = lmz_scratch_create(&m->cfg);
    lmz_kv *kv[LMZ_KV_MANY], *one = lmz_kv_create(&m->cfg);
    for (int r = 0; r < LMZ_KV_MANY; r++)
        kv[r] = lmz_kv_create(&m->cfg);
    uint16_t *want = malloc((size_t)LMZ_KV_MANY * ctx * 256 * sizeof *want);
    CHECK(s && one && data && want);
    /* chunk r is the data from offset 37 r on (wrapping) */
    for (int r = 0; r < LMZ_KV_MANY; r++) {
        lmz_kv_reset(one);
        for (int i = 0; i < lens[r]; i++)
            CHECK_EQ_INT(lmz_kv_step(m, s, one, i == 0 ? 0 : data[(37 * r + i - 1) % ctx],
                                     want + ((size_t)r * ctx + i) * 256),
                         LMZ_OK);
    }
    /* refill a finished cache's place as the decoder does: the batch is
     * the caches not yet at their length, in a rotating order */
    int pos[LMZ_KV_MANY] = {0}, bad = 0;
    uint16_t got[LMZ_KV_MANY * 256];
    for (int step = 0;; step++) {
        lmz_kv *bk[LMZ_KV_MANY];
        int in[LMZ_KV_MANY], who[LMZ_KV_MANY], n = 0;
        for (int t = 0; t < LMZ_KV_MANY; t++) {
            const int r = (t + step) % LMZ_KV_MANY;
            if (pos[r] < lens[r]) {
                bk[n] = kv[r];
                who[n] = r;
                in[n] = pos[r] == 0 ? 0 : data[(37 * r + pos[r] - 1) % ctx];
                n++;
            }
        }
        if (n == 0)
            break;
        CHECK_EQ_INT(lmz_kv_step_many(m, s, bk, n, in, got), LMZ_OK);
        for (int t = 0; t < n; t++) {
            const int r = who[t];
            bad += memcmp(got + (size_t)t * 256, want + ((size_t)r * ctx + pos[r]) * 256,
                          256 * sizeof *got) != 0;
            pos[r]++;
        }
    }
    CHECK_EQ_INT(bad, 0);
    for (int r = 0; r < LMZ_KV_MANY; r++)
        CHECK_EQ_INT(lmz_kv_len(kv[r]), lens[r]);
    /* refusals, and no cache moves on a refusal */
    int in2[2] = {0, 0};
    lmz_kv *dup[2] = {kv[1], kv[1]}, *full[2] = {kv[1], kv[0]};
    CHECK_EQ_INT(lmz_kv_step_many(m, s, dup, 2, in2, got), LMZ_ERR_USAGE);
    CHECK_EQ_INT(lmz_kv_step_many(m, s, dup, 0, in2, got), LMZ_ERR_USAGE);
    CHECK_EQ_INT(lmz_kv_step_many(m, s, full, 2, in2, got), LMZ_ERR_RANGE); /* kv[0] is full */
    CHECK_EQ_INT(lmz_kv_len(kv[1]), 1);
    for (int r = 0; r < LMZ_KV_MANY; r++)
        lmz_kv_free(kv[r]);
    lmz_kv_free(one);
    lmz_scratch_free(s);
    free(want);
    free(data);
    lmz_model_free(m);
}

int main(void)
{
    test_rounding();
    test_isqrt();
    test_quant();
    test_expq_gelu();
    test_layer_norm();
    test_freq_table();
    test_backend();
    test_kv_many();
    test_random_models();
    test_text();
    test_extremes();
    return tu_finish("infer");
}
