/* test_cuda_v2.c: the CUDA version 2 score path (lmz_cuda_v2) against the
 * CPU reference lmz_v2_forward_chunk (label "gpu"; exits 77, skipped,
 * without a CUDA device or a CUDA build).
 *
 * Models: random v2 models (v1's random presets with random K/V shifts, as
 * tests/test_infer_v2.c's v2_from) of presets tiny, 200k and 3.2m, one with
 * a head dimension that is not a multiple of 4 (dh 6), one with dh 256 (the
 * largest shared memory of the fast attention), and "extremes" models at
 * every clamp. Data: random bytes and text-like bytes, in chunks of full
 * and odd lengths (2048, 1, 7, 300, 2047, 64, 65, ...), several chunks per
 * call. Each model is scored by the three kernel variants (fast, naive,
 * mma: the int8 tensor-core attention) and by the fast one again with 2
 * chunks per device batch (several sub-batches per call); each prints one
 * line:
 *   MODEL / VARIANT   ok    (s)
 *   MODEL / VARIANT   FAIL  (s): first difference: chunk c position i entry s ...
 * (entry 256 = cum, 257 = freq), so that a first run localises a fault.
 *
 * Environment (scripts/gpu-check.sh v2):
 *   LMZ_CUDA_SYNC=1        check every kernel launch (names a failing kernel)
 *   LMZ_CUDA_TEST_ONLY=s   only the models whose name contains s
 *   LMZ_CUDA_BENCH=1       instead of the test: the v2 score's throughput
 *                          for LMZ_CUDA_BENCH_PRESETS (default "200k 800k
 *                          3.2m") on LMZ_CUDA_BENCH_MB (8) MB of text-like
 *                          data, for each variant of
 *                          LMZ_CUDA_BENCH_VARIANTS (default "mma fast"; phase
 *                          v2mma for mma, v2score for fast, v2naive for
 *                          naive), after a warm-up, each (preset, variant)
 *                          capped at LMZ_CUDA_BENCH_PHASE_S (15) seconds:
 *                            bench PRESET PHASE probe|main RATE MB/s (MB, s, chunks)
 *   LMZ_CUDA_PROFILE=N     with the bench: per preset and variant, N chunks
 *                          scored with every kernel timed, one line per
 *                          kernel:
 *                            profile PRESET PHASE KERNEL calls ms share */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lmz_backend.h"
#include "lmz_infer_v2.h"
#include "lmz_model_v2.h"
#include "testutil.h"

#ifdef LMZ_HAVE_CUDA
#include "cuda/lmz_cuda.h"
#include "cuda/lmz_cuda_v2.h"

static int sync_check;   /* $LMZ_CUDA_SYNC=1 */
static const char *only; /* $LMZ_CUDA_TEST_ONLY */
static int stop;         /* a CUDA error in sync mode: nothing further is worth running */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A v2 model from v1 model m1 (taken over): shifts 0 (mode 0), 12 (1),
 * random in [0, 12] (2) or in [4, 9] (3). As tests/test_infer_v2.c. */
static lmz_model_v2 *v2_from(lmz_model *m1, int mode, uint64_t seed)
{
    if (!m1)
        return NULL;
    lmz_model_v2 *m = lmz_model_v2_alloc(&m1->cfg);
    if (!m) {
        lmz_model_free(m1);
        return NULL;
    }
    lmz_model_free(m->m);
    m->m = m1;
    m1->arith_version = LMZ_ARITH_V2;
    const int n = m1->cfg.n_layers * m1->cfg.n_heads;
    uint64_t st = seed;
    for (int i = 0; i < n; i++) {
        if (mode == 0 || mode == 1) {
            m->k_shift[i] = m->v_shift[i] = mode ? 12 : 0;
        } else {
            const int lo = mode == 2 ? 0 : 4, span = mode == 2 ? 13 : 6;
            m->k_shift[i] = lo + (int)(tu_rand(&st) % (uint64_t)span);
            m->v_shift[i] = lo + (int)(tu_rand(&st) % (uint64_t)span);
        }
    }
    lmz_model_v2_compute_hash(m);
    return m;
}

static lmz_model *random_cfg(const lmz_config *cfg, uint64_t seed)
{
    lmz_model *m = lmz_model_alloc(cfg);
    if (m)
        lmz_model_init_random(m, seed);
    return m;
}

/* Text-like bytes: words from a small vocabulary, deterministic. */
static void gen_text(uint8_t *buf, size_t n, uint64_t seed)
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

#define MAXCH 10

typedef struct chunkset {
    int n;
    const uint8_t *data[MAXCH];
    uint32_t len[MAXCH];
} chunkset;

/* The CPU's tables, cum and freq of every chunk ([c * ctx + i]). */
typedef struct reference {
    uint16_t *tab, *cum, *freq;
} reference;

static int cpu_reference(const lmz_model_v2 *m, const chunkset *cs, reference *r)
{
    const size_t ctx = (size_t)m->m->cfg.ctx;
    r->tab = calloc((size_t)cs->n * ctx * 256, 2);
    r->cum = calloc((size_t)cs->n * ctx, 2);
    r->freq = calloc((size_t)cs->n * ctx, 2);
    lmz_v2_scratch *s = lmz_v2_scratch_create(&m->m->cfg);
    int ok = r->tab && r->cum && r->freq && s;
    for (int c = 0; ok && c < cs->n; c++)
        ok = lmz_v2_forward_chunk(m, s, cs->data[c], (int)cs->len[c], r->cum + c * ctx,
                                  r->freq + c * ctx, r->tab + c * ctx * 256) == LMZ_OK;
    lmz_v2_scratch_free(s);
    return ok;
}

static void reference_free(reference *r)
{
    free(r->tab);
    free(r->cum);
    free(r->freq);
}

static const char *variant_name(int variant)
{
    return variant == LMZ_CUDA_V2_NAIVE ? "naive" : variant == LMZ_CUDA_V2_MMA ? "mma" : "fast";
}

/* One (model, variant): score cs on the device and compare every entry.
 * variant: LMZ_CUDA_V2_FAST / _NAIVE / _MMA; batch: chunks per device batch (0:
 * from memory). */
static void compare(const char *name, const lmz_model_v2 *m, const chunkset *cs,
                    const reference *ref, int variant, int batch)
{
    char label[128];
    snprintf(label, sizeof label, "%s / %s%s", name, variant_name(variant),
             batch ? " batch 2" : "");
    printf("> %s\n", label);
    const double t0 = now();
    const size_t ctx = (size_t)m->m->cfg.ctx;
    uint16_t *tab = malloc((size_t)cs->n * ctx * 256 * 2);
    uint16_t *cum = malloc((size_t)cs->n * ctx * 2), *freq = malloc((size_t)cs->n * ctx * 2);
    lmz_cuda_v2 *g = NULL;
    lmz_err err = {0};
    lmz_status st = tab && cum && freq ? lmz_cuda_v2_create(m, &g, &err) : LMZ_ERR_NOMEM;
    if (st == LMZ_OK) {
        lmz_cuda_v2_set_variant(g, variant);
        lmz_cuda_set_batch(lmz_cuda_v2_base(g), batch);
        lmz_cuda_set_sync(lmz_cuda_v2_base(g), sync_check);
        st = lmz_cuda_v2_score(g, cs->n, cs->data, cs->len, cum, freq, tab, &err);
    }
    char why[700] = "";
    if (st != LMZ_OK) {
        snprintf(why, sizeof why, "CUDA error (status %d): %s", (int)st, err.msg);
        if (sync_check)
            stop = 1;
    } else {
        long diffs = 0;
        for (int c = 0; c < cs->n; c++)
            for (uint32_t i = 0; i < cs->len[c]; i++) {
                const size_t r = (size_t)c * ctx + i;
                for (int s = 0; s < 258; s++) {
                    const int a = s < 256 ? tab[r * 256 + s] : s == 256 ? cum[r] : freq[r];
                    const int b = s < 256 ? ref->tab[r * 256 + s] : s == 256 ? ref->cum[r]
                                                                             : ref->freq[r];
                    if (a != b && diffs++ == 0)
                        snprintf(why, sizeof why,
                                 "first difference: chunk %d (length %u) position %u entry %d "
                                 "(256 = cum, 257 = freq): cuda %d cpu %d",
                                 c, (unsigned)cs->len[c], (unsigned)i, s, a, b);
                }
            }
        if (diffs) {
            const size_t l = strlen(why);
            snprintf(why + l, sizeof why - l, "; %ld entries differ", diffs);
        }
    }
    if (why[0]) {
        tu_failures++;
        printf("%-44s FAIL  (%.2f s): %s\n", label, now() - t0, why);
    } else {
        printf("%-44s ok    (%.2f s)\n", label, now() - t0);
    }
    lmz_cuda_v2_free(g);
    free(tab);
    free(cum);
    free(freq);
}

/* Model `name` (taken over) on chunks of buf with the given lengths. */
static void run_model(const char *name, lmz_model_v2 *m, const uint8_t *buf,
                      const uint32_t *lens, int nch)
{
    if (stop || (only && !strstr(name, only))) {
        lmz_model_v2_free(m);
        return;
    }
    if (!m) {
        printf("%-44s FAIL  (0.00 s): could not make the model\n", name);
        tu_failures++;
        return;
    }
    lmz_err e = {0};
    if (lmz_model_v2_validate(m, &e) != LMZ_OK) {
        printf("%-44s FAIL  (0.00 s): invalid model: %s\n", name, e.msg);
        tu_failures++;
        lmz_model_v2_free(m);
        return;
    }
    chunkset cs = {0};
    size_t off = 0;
    for (int c = 0; c < nch && c < MAXCH; c++) {
        uint32_t l = lens[c] > (uint32_t)m->m->cfg.ctx ? (uint32_t)m->m->cfg.ctx : lens[c];
        cs.data[cs.n] = buf + off;
        cs.len[cs.n++] = l;
        off += l;
    }
    const double t0 = now();
    reference ref;
    if (!cpu_reference(m, &cs, &ref)) {
        printf("%-44s FAIL  (0.00 s): the CPU reference failed\n", name);
        tu_failures++;
    } else {
        printf("%s: CPU reference %.2f s\n", name, now() - t0);
        compare(name, m, &cs, &ref, LMZ_CUDA_V2_FAST, 0);
        if (!stop)
            compare(name, m, &cs, &ref, LMZ_CUDA_V2_NAIVE, 0);
        if (!stop)
            compare(name, m, &cs, &ref, LMZ_CUDA_V2_MMA, 0);
        if (!stop)
            compare(name, m, &cs, &ref, LMZ_CUDA_V2_FAST, 2);
    }
    reference_free(&ref);
    lmz_model_v2_free(m);
}

static int run_tests(void)
{
    const size_t cap = MAXCH * 2048;
    uint8_t *rnd = malloc(cap), *txt = malloc(cap);
    if (!rnd || !txt)
        return 1;
    tu_fill_random(rnd, cap, 5);
    gen_text(txt, cap, 6);
    const uint32_t mixed[] = {2048, 1, 7, 300, 2047, 64, 65, 2048};
    const uint32_t few[] = {2048, 7, 300};
    const int nmixed = 8, nfew = 3;
    const lmz_config odd = {24, 2, 4, 96, 2048};  /* dh 6: not a multiple of 4 */
    const lmz_config wide = {256, 1, 1, 64, 2048}; /* dh 256 */
    const lmz_config small = {16, 2, 2, 64, 2048};
    char name[64];
    for (int text = 0; text < 2 && !stop; text++) {
        const uint8_t *buf = text ? txt : rnd;
        const char *dn = text ? "text" : "random";
        snprintf(name, sizeof name, "random tiny shifts 2 %s", dn);
        run_model(name, v2_from(tu_model_random("tiny", 7), 2, 40), buf, mixed, nmixed);
        snprintf(name, sizeof name, "random 200k shifts 3 %s", dn);
        run_model(name, v2_from(tu_model_random("200k", 8), 3, 41), buf, mixed, nmixed);
        snprintf(name, sizeof name, "random dh6 shifts 2 %s", dn);
        run_model(name, v2_from(random_cfg(&odd, 9), 2, 42), buf, mixed, nmixed);
    }
    /* the larger ones once (the CPU reference takes seconds per chunk) */
    run_model("random 3.2m shifts 2 random", v2_from(tu_model_random("3.2m", 10), 2, 43), rnd, few,
              nfew);
    run_model("random 200k shifts 0 text", v2_from(tu_model_random("200k", 11), 0, 44), txt,
              mixed, nmixed);
    run_model("random wide dh256 shifts 3 text", v2_from(random_cfg(&wide, 12), 3, 45), txt, few,
              nfew);
    for (int v = 0; v < 4 && !stop; v++) {
        snprintf(name, sizeof name, "extreme %d small shifts %d random", v, v % 3);
        run_model(name, v2_from(tu_model_extreme(&small, v, 10 + (uint64_t)v), v % 3, 5), rnd,
                  mixed, nmixed);
    }
    free(rnd);
    free(txt);
    return tu_finish("cuda_v2");
}

/* ---- bench ---- */

static void say(const char *preset, const char *phase, const char *what, double bytes, double secs,
                int chunks, const char *tail)
{
    printf("bench %-5s %-6s %-5s %10.3f MB/s (%.2f MB, %.3f s, %d chunks)%s\n", preset, phase,
           what, bytes / secs / 1e6, bytes / 1e6, secs, chunks, tail);
    fflush(stdout);
}

static double env_num(const char *name, double dflt)
{
    const char *v = getenv(name);
    return v && *v ? atof(v) : dflt;
}

static int bench(const char *preset, double mb, double phase_s, int prof, const int *variants,
                 int nvar)
{
    lmz_config cfg;
    if (lmz_config_preset(preset, &cfg) != 0) {
        printf("bench %-5s FAILED: unknown preset\n", preset);
        return 1;
    }
    const double t_setup = now();
    lmz_model_v2 *m = v2_from(random_cfg(&cfg, 1), 3, 1);
    const size_t ctx = (size_t)cfg.ctx;
    double nd = mb * 1e6 / (double)ctx;
    const int ns = nd < 1 ? 1 : (int)nd;
    const int np = prof > ns ? prof : ns;
    uint8_t *buf = malloc((size_t)np * ctx);
    const uint8_t **data = malloc((size_t)np * sizeof *data);
    uint32_t *len = malloc((size_t)np * 4);
    uint16_t *cum = malloc((size_t)np * ctx * 2), *freq = malloc((size_t)np * ctx * 2);
    char *rep = malloc(1 << 16);
    if (!m || !buf || !data || !len || !cum || !freq || !rep) {
        printf("bench %-5s FAILED: out of host memory\n", preset);
        return 1;
    }
    gen_text(buf, (size_t)np * ctx, 42);
    for (int c = 0; c < np; c++) {
        data[c] = buf + (size_t)c * ctx;
        len[c] = (uint32_t)ctx;
    }
    lmz_cuda_v2 *g = NULL;
    lmz_err err = {0};
    lmz_status st = lmz_cuda_v2_create(m, &g, &err);
    if (st == LMZ_OK) {
        lmz_cuda_set_sync(lmz_cuda_v2_base(g), sync_check);
        lmz_cuda_v2_set_variant(g, variants[0]);
        st = lmz_cuda_v2_score(g, 1, data, len, cum, freq, NULL, &err); /* warm-up */
    }
    printf("bench %-5s setup  %.2f s (model, device copy, one-chunk warm-up)%s%s\n", preset,
           now() - t_setup, st == LMZ_OK ? "" : ": FAILED: ", st == LMZ_OK ? "" : err.msg);
    fflush(stdout);
    int fail = st != LMZ_OK;
    for (int vi = 0; vi < nvar && st == LMZ_OK; vi++) {
        const char *ph = variants[vi] == LMZ_CUDA_V2_MMA     ? "v2mma"
                         : variants[vi] == LMZ_CUDA_V2_NAIVE ? "v2naive"
                                                             : "v2score";
        lmz_cuda_v2_set_variant(g, variants[vi]);
        int vfail = vi > 0 && lmz_cuda_v2_score(g, 1, data, len, cum, freq, NULL, &err) != LMZ_OK;
        if (vfail)
            printf("bench %-5s %s FAILED (warm-up): %s\n", preset, ph, err.msg);
        /* the probe (1/8 of the input), then as much as 70% of the phase allows */
        int scored = 0;
        for (int pass = 0, n = ns / 8 > 0 ? ns / 8 : 1; pass < 2 && !vfail && n > scored; pass++) {
            const double t0 = now();
            const lmz_status sv = lmz_cuda_v2_score(g, n, data, len, cum, freq, NULL, &err);
            const double ts = now() - t0;
            if (sv != LMZ_OK) {
                printf("bench %-5s %s FAILED: %s\n", preset, ph, err.msg);
                vfail = 1;
                break;
            }
            say(preset, ph, pass ? "main" : "probe", (double)n * ctx, ts, n,
                pass && n < ns ? "  (cut to fit the phase's time)" : "");
            scored = n;
            if (pass == 0) {
                const double left = 0.7 * phase_s - ts;
                const double fit = left > 0 && ts > 0 ? (double)n * left / ts : 0;
                n = fit < ns ? (int)fit : ns;
                if (n <= scored && ns > scored) {
                    printf("bench %-5s %s main skipped: the probe took %.2f s of %.0f\n", preset,
                           ph, ts, phase_s);
                    fflush(stdout);
                }
            }
        }
        if (!vfail && prof > 0) {
            lmz_cuda *b = lmz_cuda_v2_base(g);
            vfail = lmz_cuda_set_profile(b, 1, &err) != LMZ_OK;
            const double t0 = now();
            if (!vfail)
                vfail = lmz_cuda_v2_score(g, prof, data, len, cum, freq, NULL, &err) != LMZ_OK;
            const double ts = now() - t0;
            if (vfail) {
                printf("profile %-5s %s FAILED: %s\n", preset, ph, err.msg);
            } else {
                lmz_cuda_profile_report(b, rep, 1 << 16);
                printf("profile %-5s %s %d chunks, %.3f s with every kernel timed\n", preset, ph,
                       prof, ts);
                for (char *line = strtok(rep, "\n"); line; line = strtok(NULL, "\n"))
                    printf("profile %-5s %s %s\n", preset, ph, line);
                fflush(stdout);
            }
            lmz_cuda_set_profile(b, 0, &err);
        }
        fail |= vfail;
    }
    lmz_cuda_v2_free(g);
    lmz_model_v2_free(m);
    free(buf);
    free(data);
    free(len);
    free(cum);
    free(freq);
    free(rep);
    return fail;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!lmz_cuda_available()) {
        printf("cuda_v2: no CUDA device, skipped\n");
        return TEST_SKIP;
    }
    const char *sy = getenv("LMZ_CUDA_SYNC");
    sync_check = sy && strcmp(sy, "1") == 0;
    only = getenv("LMZ_CUDA_TEST_ONLY");
    if (only && !*only)
        only = NULL;
    const char *b = getenv("LMZ_CUDA_BENCH");
    if (!b || strcmp(b, "1") != 0)
        return run_tests();
    const double mb = env_num("LMZ_CUDA_BENCH_MB", 8), phase_s = env_num("LMZ_CUDA_BENCH_PHASE_S", 15);
    const int prof = (int)env_num("LMZ_CUDA_PROFILE", 0);
    const char *ps = getenv("LMZ_CUDA_BENCH_PRESETS");
    char list[256];
    snprintf(list, sizeof list, "%s", ps ? ps : "200k 800k 3.2m");
    const char *vl = getenv("LMZ_CUDA_BENCH_VARIANTS");
    char vlist[128];
    snprintf(vlist, sizeof vlist, "%s", vl && *vl ? vl : "mma fast");
    int variants[8], nvar = 0;
    char *save = NULL;
    for (char *tok = strtok_r(vlist, " ,", &save); tok && nvar < 8; tok = strtok_r(NULL, " ,", &save)) {
        if (strcmp(tok, "mma") == 0)
            variants[nvar++] = LMZ_CUDA_V2_MMA;
        else if (strcmp(tok, "fast") == 0)
            variants[nvar++] = LMZ_CUDA_V2_FAST;
        else if (strcmp(tok, "naive") == 0)
            variants[nvar++] = LMZ_CUDA_V2_NAIVE;
        else
            printf("bench: unknown variant '%s' ignored (mma, fast, naive)\n", tok);
    }
    if (nvar == 0) {
        printf("bench: no variant to run\n");
        return 1;
    }
    int fails = 0;
    save = NULL;
    for (char *tok = strtok_r(list, " ,", &save); tok; tok = strtok_r(NULL, " ,", &save))
        fails += bench(tok, mb, phase_s, prof, variants, nvar);
    return fails ? 1 : 0;
}

#else

int main(void)
{
    printf("cuda_v2: built without CUDA, skipped\n");
    return TEST_SKIP;
}

#endif
