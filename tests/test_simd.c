/* test_simd.c: every SIMD path gives the scalar reference's bits.
 *
 *   - the kernels a path replaces (lmz_simd.h: dots, rescale, quant_row,
 *     attend_row, attend_rows), on random operands and
 *     on operands at their limits (+-127 everywhere, scales 1 and 2^18,
 *     equal scores, the longest context, every ALiBi slope, head sizes 8 to
 *     256, ragged lengths) that would expose any saturation or rounding slip;
 *   - whole models, table by table, full pass and incremental step: random
 *     models of every preset, the trained text model, the golden tiny model,
 *     and "extremes" models that drive every clamp;
 *   - lmz_simd_select and a backend's params.simd choose the path.
 * A path this CPU lacks is reported and skipped; with none but scalar the
 * whole test exits 77 (skipped). */
#include <string.h>

#include "../kernels/cpu/lmz_cpu.h"
#include "../kernels/cpu/lmz_ops.h"
#include "../kernels/cpu/lmz_simd.h"
#include "lmz_backend.h"
#include "lmz_infer.h"
#include "lmz_model.h"
#include "lmz_modelfile.h"
#include "testutil.h"

static int rand_in(uint64_t *st, int lo, int hi)
{
    return lo + (int)(tu_rand(st) % (uint64_t)(hi - lo + 1));
}

/* int8 values: mode 0 uniform in [-127, 127], 1 only +-127, 2 all +127,
 * 3 small (|v| <= 2, many zeros). */
static void fill8(int8_t *p, size_t n, int mode, uint64_t *st)
{
    for (size_t k = 0; k < n; k++) {
        switch (mode) {
        case 0: p[k] = (int8_t)rand_in(st, -127, 127); break;
        case 1: p[k] = (tu_rand(st) & 1) ? 127 : -127; break;
        case 2: p[k] = 127; break;
        default: p[k] = (int8_t)rand_in(st, -2, 2); break;
        }
    }
}

/* ---- the kernels ---- */

/* The operands of a dots case in the given mode (see fill8): w is out x in;
 * mode 2 puts +127 weights against -127 inputs: the most negative sum. */
static void fill_dots(int8_t *w, size_t wn, int8_t *q, size_t qn, int mode, uint64_t *st)
{
    fill8(w, wn, mode, st);
    fill8(q, qn, mode, st);
    if (mode == 2)
        memset(q, 0x81, qn);
}

/* Every mode, every out of outs, every in of the input sizes (ragged and
 * SIMD-aligned), one seeded stream: check(k, out, in, mode, st). */
typedef void (*dots_check)(const lmz_cpu_kern *k, int out, int in, int mode, uint64_t *st);
static void dots_sweep(const lmz_cpu_kern *k, const int *outs, size_t nouts, uint64_t seed,
                       dots_check check)
{
    static const int ins[] = {1, 16, 31, 32, 33, 64, 100, 256, 4096};
    uint64_t st = seed;
    for (int mode = 0; mode < 4; mode++)
        for (size_t a = 0; a < nouts; a++)
            for (size_t b = 0; b < sizeof ins / sizeof ins[0]; b++)
                check(k, outs[a], ins[b], mode, &st);
}

static void dots_case(const lmz_cpu_kern *k, int out, int in, int mode, uint64_t *st)
{
    static int8_t w[256 * 4096], q[4096];
    static int32_t want[256], got[256];
    fill_dots(w, (size_t)out * in, q, (size_t)in, mode, st);
    lmz_dots_scalar(w, out, in, q, want);
    k->dots(w, out, in, q, got);
    if (memcmp(want, got, (size_t)out * sizeof *got) != 0) {
        fprintf(stderr, "%s dots out %d in %d mode %d differ\n", k->name, out, in, mode);
        tu_failures++;
    }
}

static void test_dots(const lmz_cpu_kern *k)
{
    static const int outs[] = {1, 3, 8, 9, 17, 64, 256};
    dots_sweep(k, outs, sizeof outs / sizeof outs[0], 7, dots_case);
}

/* dots_many: 1 to LMZ_KV_MANY activation rows (and more, which the kernel
 * takes in groups), ragged sizes, each row against the scalar dots. */
static void dots_many_case(const lmz_cpu_kern *k, int out, int in, int mode, uint64_t *st)
{
    enum { MAXR = LMZ_KV_MANY + 2, QS = 4096 + 8 };
    static int8_t w[256 * 4096], q[MAXR * QS];
    static int32_t want[256], got[MAXR * 300];
    fill_dots(w, (size_t)out * in, q, sizeof q, mode, st);
    for (int nr = 1; nr <= MAXR; nr++) {
        memset(got, 0x55, sizeof got);
        k->dots_many(w, out, in, q, QS, nr, got, 300);
        for (int r = 0; r < nr; r++) {
            lmz_dots_scalar(w, out, in, q + (size_t)r * QS, want);
            if (memcmp(want, got + (size_t)r * 300, (size_t)out * sizeof *got) != 0) {
                fprintf(stderr, "%s dots_many out %d in %d rows %d mode %d: row %d differs\n",
                        k->name, out, in, nr, mode, r);
                tu_failures++;
            }
        }
    }
}

static void test_dots_many(const lmz_cpu_kern *k)
{
    static const int outs[] = {1, 3, 4, 5, 8, 9, 17, 64, 192, 256};
    dots_sweep(k, outs, sizeof outs / sizeof outs[0], 11, dots_many_case);
}

/* The vector exp against lmz_expq for every x in [0, 65536), around and
 * past the cut-off at 16.0, and up to the largest score difference. */
static void test_expq(const lmz_cpu_kern *k)
{
    enum { N = 65536 + 4096 };
    static int32_t x[N];
    static uint32_t e[N];
    for (int t = 0; t < N; t++)
        x[t] = t;
    for (int t = 65536 + 2048; t < N; t++) /* large x: up to 2^24 + 2^25 and 2^27 - 1 */
        x[t] = (t & 1) ? (int32_t)((1 << 27) - 1 - (t - 65536)) : (1 << 24) + (1 << 25) - t;
    for (int off = 0; off < 8; off++) { /* every lane position and the scalar tail */
        k->expq_n(x + off, N - off, e + off);
        int bad = 0;
        for (int t = off; t < N; t++)
            bad += e[t] != lmz_expq(x[t]);
        if (bad) {
            fprintf(stderr, "%s expq: %d values differ (offset %d)\n", k->name, bad, off);
            tu_failures++;
        }
    }
}

/* The operands of an attention case over n positions: keys and values of
 * d bytes each (H heads of d / H) with their per-head scales, nq query rows
 * of d bytes, the score scratch (nsc values) and two outputs of nq rows
 * (reference and kernel, zeroed). */
typedef struct {
    int8_t *k8, *v8, *q8;
    int32_t *ak, *av, *sc, *o1, *o2;
} att_bufs;

static att_bufs att_bufs_alloc(int n, int d, int H, int nq, int nsc)
{
    att_bufs b;
    b.k8 = malloc((size_t)n * d);
    b.v8 = malloc((size_t)n * d);
    b.q8 = malloc((size_t)nq * d);
    b.ak = malloc((size_t)n * H * sizeof *b.ak);
    b.av = malloc((size_t)n * H * sizeof *b.av);
    b.sc = malloc((size_t)nsc * sizeof *b.sc);
    b.o1 = calloc((size_t)nq * d, sizeof *b.o1);
    b.o2 = calloc((size_t)nq * d, sizeof *b.o2);
    return b;
}

static void att_bufs_free(att_bufs *b)
{
    free(b->k8);
    free(b->v8);
    free(b->q8);
    free(b->ak);
    free(b->av);
    free(b->sc);
    free(b->o1);
    free(b->o2);
}

/* One attend_row comparison over keys 0..i with the given operand mode. */
static int attend_case(const lmz_cpu_kern *k, int dh, int H, int i, int e_h, int mode,
                       uint64_t *st)
{
    const int d = dh * H, n = i + 1;
    att_bufs b = att_bufs_alloc(n, d, H, 1, n);
    int64_t acc[LMZ_MAX_HEAD_DIM];
    fill8(b.k8, (size_t)n * d, mode, st);
    fill8(b.v8, (size_t)n * d, mode == 2 ? 1 : mode, st);
    fill8(b.q8, (size_t)dh, mode, st);
    for (int t = 0; t < n * H; t++) {
        switch (mode) {
        case 1: /* the largest weights e * av = 2^34 */
            b.ak[t] = 1 << 18;
            b.av[t] = 1 << 18;
            break;
        case 2: /* smallest scales */
            b.ak[t] = 1;
            b.av[t] = 1;
            break;
        default:
            b.ak[t] = rand_in(st, 1, 1 << 18);
            b.av[t] = rand_in(st, 1, 1 << 18);
            break;
        }
    }
    const int32_t aq = mode == 1 ? 1 << 18 : mode == 2 ? 1 : rand_in(st, 1, 1 << 18);
    const int h = rand_in(st, 0, H - 1), off = h * dh;
    lmz_attend_row(&(lmz_att_head){b.k8 + off, b.ak + h, b.v8 + off, b.av + h, d, H, dh, e_h}, b.q8,
                   aq, i, &(lmz_att_scratch){b.sc, 0, acc}, b.o1);
    k->attend_row(&(lmz_att_head){b.k8 + off, b.ak + h, b.v8 + off, b.av + h, d, H, dh, e_h}, b.q8,
                  aq, i, &(lmz_att_scratch){b.sc, 0, acc}, b.o2);
    const int bad = memcmp(b.o1, b.o2, (size_t)dh * sizeof *b.o1) != 0;
    if (bad)
        fprintf(stderr, "%s attend dh %d H %d i %d e_h %d mode %d differ\n", k->name, dh, H, i,
                e_h, mode);
    att_bufs_free(&b);
    return bad;
}

static void test_attend(const lmz_cpu_kern *k)
{
    uint64_t st = 11;
    const int dhs[] = {8, 16, 32, 64, 256};
    const int is[] = {0, 1, 6, 7, 8, 9, 15, 16, 255, 256, 257, 300, 1023, 2047};
    for (size_t a = 0; a < sizeof dhs / sizeof dhs[0]; a++)
        for (size_t b = 0; b < sizeof is / sizeof is[0]; b++)
            for (int mode = 0; mode < 4; mode++) {
                const int dh = dhs[a], H = dh == 256 ? 1 : 4;
                tu_failures += attend_case(k, dh, H, is[b], rand_in(&st, 1, 8), mode, &st);
            }
    /* every slope, and the longest context (8192 keys: ALiBi distance up to
     * 8191, more than LMZ_PAIRS_FLUSH pairs between folds) */
    for (int e_h = 1; e_h <= 8; e_h++)
        for (int mode = 0; mode < 4; mode++)
            tu_failures += attend_case(k, 16, 2, 8191, e_h, mode, &st);
    tu_failures += attend_case(k, 32, 1, 8191, 8, 1, &st);
    tu_failures += attend_case(k, 256, 1, 4000, 8, 1, &st);
}

/* The attention window: the SIMD attend_row starts both passes at the
 * first key that can have a non-zero weight (simd_x86.h, attend_start).
 * Cases where the bound is tight: every k8 = 127 * sign(q8) and one ak, so
 * every raw score equals the bound U and key j's score is exactly
 * U - ALiBi(i - j); the weights fall to 0 only at the edge of expq. Each
 * case checks the kernel against the reference, and on the reference alone
 * that (a) starting at the kernel's window start gives the same bits and
 * (b) a window computed with a wrong threshold (32768 instead of 65536)
 * would not: the planted-bug check that these cases can see a cut too deep. */
static int window_case(const lmz_cpu_kern *k, int dh, int i, int e_h, int tight, int *caught,
                       uint64_t *st)
{
    const int n = i + 1;
    att_bufs b = att_bufs_alloc(n, dh, 1, 1, n);
    int32_t cut[LMZ_MAX_HEAD_DIM];
    int64_t acc[LMZ_MAX_HEAD_DIM];
    for (int c = 0; c < dh; c++) {
        b.q8[c] = (int8_t)rand_in(st, tight ? 1 : -127, 127);
        if (tight && (tu_rand(st) & 1))
            b.q8[c] = (int8_t)-b.q8[c];
    }
    const int32_t aq = rand_in(st, 1 << 10, 1 << 16), ak0 = rand_in(st, 1 << 8, 1 << 14);
    for (int j = 0; j < n; j++) {
        for (int c = 0; c < dh; c++) {
            b.k8[(size_t)j * dh + c] =
                tight ? (int8_t)(b.q8[c] < 0 ? -127 : 127) : (int8_t)rand_in(st, -127, 127);
            b.v8[(size_t)j * dh + c] = (int8_t)rand_in(st, -127, 127);
        }
        b.ak[j] = tight ? ak0 : rand_in(st, 1, ak0);
        b.av[j] = rand_in(st, 1, 1 << 18);
    }
    lmz_attend_row(&(lmz_att_head){b.k8, b.ak, b.v8, b.av, dh, 1, dh, e_h}, b.q8, aq, i,
                   &(lmz_att_scratch){b.sc, 0, acc}, b.o1);
    k->attend_row(&(lmz_att_head){b.k8, b.ak, b.v8, b.av, dh, 1, dh, e_h}, b.q8, aq, i,
                  &(lmz_att_scratch){b.sc, 0, acc}, b.o2);
    int bad = memcmp(b.o1, b.o2, (size_t)dh * sizeof *b.o1) != 0;
    /* the window as attend_start derives it (for i >= 64) */
    const int64_t g = lmz_div_round((int64_t)aq << 20, 16129), lim = INT64_C(1) << 24;
    int32_t s = 0, l1 = 0, akmax = 1;
    for (int c = 0; c < dh; c++) {
        s += (int32_t)b.q8[c] * b.k8[(size_t)i * dh + c];
        l1 += abs(b.q8[c]);
    }
    for (int j = 0; j < n; j++)
        akmax = b.ak[j] > akmax ? b.ak[j] : akmax;
    const int64_t sci = lmz_clamp64(
        lmz_rshift_round(lmz_rshift_round((int64_t)s * b.ak[i], 12) * g, 20), -lim, lim);
    int64_t u = lmz_rshift_round(lmz_rshift_round((int64_t)127 * l1 * akmax, 12) * g, 20);
    u = u < lim ? u : lim;
    const int64_t step = INT64_C(1) << (12 - e_h);
    for (int wrong = 0; wrong < 2; wrong++) {
        const int64_t d = (u - sci + (wrong ? 32768 : 65536) + step - 1) / step;
        const int64_t first = (int64_t)i - d + 1, j0 = first <= 0 ? 0 : first & ~(int64_t)7;
        if (j0 == 0)
            continue;
        lmz_attend_row(
            &(lmz_att_head){b.k8 + j0 * dh, b.ak + j0, b.v8 + j0 * dh, b.av + j0, dh, 1, dh, e_h},
            b.q8, aq, (int)(i - j0), &(lmz_att_scratch){b.sc, 0, acc}, cut);
        const int same = memcmp(b.o1, cut, (size_t)dh * sizeof *b.o1) == 0;
        if (!wrong && !same)
            bad = 1; /* the window itself would drop a weight */
        if (wrong && !same)
            (*caught)++;
    }
    if (bad)
        fprintf(stderr, "%s window dh %d i %d e_h %d tight %d differ\n", k->name, dh, i, e_h,
                tight);
    att_bufs_free(&b);
    return bad;
}

static void test_window(const lmz_cpu_kern *k)
{
    uint64_t st = 17;
    const int dhs[] = {8, 16, 32, 64};
    const int is[] = {63, 64, 65, 100, 513, 1000, 2047, 8191};
    int caught = 0;
    for (size_t a = 0; a < sizeof dhs / sizeof dhs[0]; a++)
        for (size_t b = 0; b < sizeof is / sizeof is[0]; b++)
            for (int e_h = 1; e_h <= 8; e_h++)
                for (int tight = 0; tight < 2; tight++)
                    tu_failures += window_case(k, dhs[a], is[b], e_h, tight, &caught, &st);
    /* the planted wrong threshold must be seen in the tight cases */
    CHECK(caught > 0);
}

/* The window of the full pass: attend_rows's groups of queries share one
 * sweep that starts at the earliest window start among them (simd_x86.h,
 * attend_mq). nq queries i0 .. i0 + nq - 1 of one head against the
 * reference's rows; in the tight cases every query has the same signs (its
 * magnitudes and aq its own), so every key's raw score equals that query's
 * bound and each query's window ends exactly at the edge of expq. On the
 * reference alone: the union window (each query's start with akmax over the
 * group's keys, the earliest over the group) must give the same bits, and
 * the same union with a wrong threshold (32768) must not, in some case. */
static int64_t mq_first(const int8_t *q, int32_t aq, const int8_t *k8, const int32_t *ak,
                        int32_t akmax, int i, int dh, int e_h, int64_t thr)
{
    const int64_t g = lmz_div_round((int64_t)aq << 20, 16129), lim = INT64_C(1) << 24;
    int32_t s = 0, l1 = 0;
    for (int c = 0; c < dh; c++) {
        s += (int32_t)q[c] * k8[(size_t)i * dh + c];
        l1 += abs(q[c]);
    }
    const int64_t sci = lmz_clamp64(
        lmz_rshift_round(lmz_rshift_round((int64_t)s * ak[i], 12) * g, 20), -lim, lim);
    int64_t u = lmz_rshift_round(lmz_rshift_round((int64_t)127 * l1 * akmax, 12) * g, 20);
    u = u < lim ? u : lim;
    const int64_t step = INT64_C(1) << (12 - e_h);
    const int64_t first = (int64_t)i - (u - sci + thr + step - 1) / step + 1;
    return i < 64 || first <= 0 ? 0 : first & ~(int64_t)7;
}

static int mq_window_case(const lmz_cpu_kern *k, int dh, int i0, int nq, int e_h, int tight,
                          int *caught, uint64_t *st)
{
    const int n = i0 + nq, ctx = n + 3;
    att_bufs b = att_bufs_alloc(n, dh, 1, nq, LMZ_ATT_ROWS * ctx);
    int32_t aq[LMZ_ATT_ROWS];
    int32_t cut[LMZ_MAX_HEAD_DIM];
    int64_t acc[LMZ_MAX_HEAD_DIM];
    int8_t sign[LMZ_MAX_HEAD_DIM];
    for (int c = 0; c < dh; c++)
        sign[c] = (tu_rand(st) & 1) ? 1 : -1;
    for (int t = 0; t < nq; t++) {
        for (int c = 0; c < dh; c++)
            b.q8[(size_t)t * dh + c] =
                tight ? (int8_t)(sign[c] * rand_in(st, 1, 127)) : (int8_t)rand_in(st, -127, 127);
        aq[t] = rand_in(st, 1 << 10, 1 << 16);
    }
    const int32_t ak0 = rand_in(st, 1 << 8, 1 << 14);
    for (int j = 0; j < n; j++) {
        for (int c = 0; c < dh; c++) {
            b.k8[(size_t)j * dh + c] =
                tight ? (int8_t)(127 * sign[c]) : (int8_t)rand_in(st, -127, 127);
            b.v8[(size_t)j * dh + c] = (int8_t)rand_in(st, -127, 127);
        }
        b.ak[j] = tight ? ak0 : rand_in(st, 1, ak0);
        b.av[j] = rand_in(st, 1, 1 << 18);
    }
    lmz_attend_rows(&(lmz_att_head){b.k8, b.ak, b.v8, b.av, dh, 1, dh, e_h},
                    &(lmz_att_queries){b.q8, aq, dh, 1, i0, nq, b.o1, dh},
                    &(lmz_att_scratch){b.sc, ctx, acc});
    k->attend_rows(&(lmz_att_head){b.k8, b.ak, b.v8, b.av, dh, 1, dh, e_h},
                   &(lmz_att_queries){b.q8, aq, dh, 1, i0, nq, b.o2, dh},
                   &(lmz_att_scratch){b.sc, ctx, acc});
    int bad = memcmp(b.o1, b.o2, (size_t)nq * dh * sizeof *b.o1) != 0;
    int32_t akmax = 1;
    for (int j = 0; j < n; j++)
        akmax = b.ak[j] > akmax ? b.ak[j] : akmax;
    for (int wrong = 0; wrong < 2; wrong++) {
        int64_t j0 = INT64_MAX;
        for (int t = 0; t < nq; t++) {
            const int64_t f = mq_first(b.q8 + (size_t)t * dh, aq[t], b.k8, b.ak, akmax, i0 + t, dh,
                                       e_h, wrong ? 32768 : 65536);
            j0 = f < j0 ? f : j0;
        }
        if (j0 == 0)
            continue;
        int same = 1;
        for (int t = 0; t < nq; t++) {
            lmz_attend_row(&(lmz_att_head){b.k8 + j0 * dh, b.ak + j0, b.v8 + j0 * dh, b.av + j0, dh,
                                           1, dh, e_h},
                           b.q8 + (size_t)t * dh, aq[t], (int)(i0 + t - j0),
                           &(lmz_att_scratch){b.sc, 0, acc}, cut);
            same &= memcmp(b.o1 + (size_t)t * dh, cut, (size_t)dh * sizeof *b.o1) == 0;
        }
        if (!wrong && !same)
            bad = 1; /* the union window itself would drop a weight */
        if (wrong && !same)
            (*caught)++;
    }
    if (bad)
        fprintf(stderr, "%s mq window dh %d i0 %d nq %d e_h %d tight %d differ\n", k->name, dh,
                i0, nq, e_h, tight);
    att_bufs_free(&b);
    return bad;
}

static void test_mq_window(const lmz_cpu_kern *k)
{
    uint64_t st = 19;
    const int dhs[] = {8, 16, 32, 64};
    const int i0s[] = {60, 62, 63, 64, 65, 71, 100, 513, 1000, 2045, 8188};
    const int nqs[] = {1, 2, 3, 4};
    int caught = 0;
    for (size_t a = 0; a < sizeof dhs / sizeof dhs[0]; a++)
        for (size_t b = 0; b < sizeof i0s / sizeof i0s[0]; b++)
            for (size_t c = 0; c < sizeof nqs / sizeof nqs[0]; c++)
                for (int e_h = 1; e_h <= 8; e_h++)
                    for (int tight = 0; tight < 2; tight++)
                        tu_failures +=
                            mq_window_case(k, dhs[a], i0s[b], nqs[c], e_h, tight, &caught, &st);
    /* the planted wrong threshold must be seen */
    CHECK(caught > 0);
}

/* attend_rows: nq consecutive queries sharing the key sweeps, against the
 * reference's one-at-a-time rows, for every head size with a shared kernel
 * (8, 16, 32) and one without, query groups starting on and off the 8-key
 * boundaries (the per-query scalar tails), and the operand modes above. */
static int attend_rows_case(const lmz_cpu_kern *k, int dh, int H, int i0, int nq, int e_h,
                            int mode, uint64_t *st)
{
    const int d = dh * H, n = i0 + nq, ctx = n + 3;
    att_bufs b = att_bufs_alloc(n, d, H, n, LMZ_ATT_ROWS * ctx);
    int32_t *aq = malloc((size_t)n * H * sizeof *aq);
    int64_t acc[LMZ_MAX_HEAD_DIM];
    fill8(b.k8, (size_t)n * d, mode, st);
    fill8(b.v8, (size_t)n * d, mode == 2 ? 1 : mode, st);
    fill8(b.q8, (size_t)n * d, mode, st);
    for (int t = 0; t < n * H; t++) {
        const int32_t x = mode == 1 ? 1 << 18 : mode == 2 ? 1 : rand_in(st, 1, 1 << 18);
        b.ak[t] = b.av[t] = aq[t] = x;
        if (mode == 0 || mode == 3) {
            b.av[t] = rand_in(st, 1, 1 << 18);
            aq[t] = rand_in(st, 1, 1 << 18);
        }
    }
    /* head h of H, head-major scales (a_stride 1, as block.c) */
    const int h = rand_in(st, 0, H - 1), off = h * dh;
    int32_t *akh = malloc((size_t)n * sizeof *akh), *avh = malloc((size_t)n * sizeof *avh);
    for (int j = 0; j < n; j++) {
        akh[j] = b.ak[(size_t)j * H + h];
        avh[j] = b.av[(size_t)j * H + h];
    }
    const int8_t *qs = b.q8 + (size_t)i0 * d + off;
    const int32_t *as = aq + (size_t)i0 * H + h;
    lmz_attend_rows(&(lmz_att_head){b.k8 + off, akh, b.v8 + off, avh, d, 1, dh, e_h},
                    &(lmz_att_queries){qs, as, d, H, i0, nq, b.o1, d},
                    &(lmz_att_scratch){b.sc, ctx, acc});
    k->attend_rows(&(lmz_att_head){b.k8 + off, akh, b.v8 + off, avh, d, 1, dh, e_h},
                   &(lmz_att_queries){qs, as, d, H, i0, nq, b.o2, d},
                   &(lmz_att_scratch){b.sc, ctx, acc});
    const int bad = memcmp(b.o1, b.o2, (size_t)nq * d * sizeof *b.o1) != 0;
    if (bad)
        fprintf(stderr, "%s attend_rows dh %d H %d i0 %d nq %d e_h %d mode %d differ\n", k->name,
                dh, H, i0, nq, e_h, mode);
    att_bufs_free(&b);
    free(aq);
    free(akh);
    free(avh);
    return bad;
}

static void test_attend_rows(const lmz_cpu_kern *k)
{
    uint64_t st = 13;
    const int dhs[] = {8, 16, 32, 64};
    const int i0s[] = {0, 1, 4, 5, 7, 8, 12, 13, 60, 252, 253, 1020, 1021, 2044};
    for (size_t a = 0; a < sizeof dhs / sizeof dhs[0]; a++)
        for (size_t b = 0; b < sizeof i0s / sizeof i0s[0]; b++)
            for (int nq = 1; nq <= LMZ_ATT_ROWS; nq++)
                for (int mode = 0; mode < 4; mode++)
                    tu_failures += attend_rows_case(k, dhs[a], dhs[a] == 64 ? 2 : 4, i0s[b], nq,
                                                    rand_in(&st, 1, 8), mode, &st);
    /* the longest context: more than LMZ_PAIRS_FLUSH pairs between folds */
    for (int mode = 0; mode < 4; mode++) {
        tu_failures += attend_rows_case(k, 16, 2, 8188, 4, rand_in(&st, 1, 8), mode, &st);
        tu_failures += attend_rows_case(k, 8, 2, 8188, 4, 8, mode, &st);
        tu_failures += attend_rows_case(k, 32, 1, 8188, 4, 1, mode, &st);
    }
}

/* quant_row on random rows, rows of +-ACT, tiny values with zeros, an all
 * zero row, exact halves of the rounding (v = a * (2k + 1) / 254), and
 * ragged lengths. */
static void test_quant(const lmz_cpu_kern *k)
{
    static int32_t v[4096];
    static int8_t want[4096], got[4096];
    const int ns[] = {1, 2, 7, 8, 9, 15, 16, 17, 64, 100, 256, 1024, 4096};
    uint64_t st = 17;
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (int mode = 0; mode < 6; mode++)
            for (int rep = 0; rep < 4; rep++) {
                const int n = ns[a];
                const int32_t amax = rep == 0 ? (int32_t)LMZ_ACT : rand_in(&st, 1, (int)LMZ_ACT);
                for (int i = 0; i < n; i++) {
                    switch (mode) {
                    case 0: v[i] = rand_in(&st, -amax, amax); break;
                    case 1: v[i] = (tu_rand(&st) & 1) ? amax : -amax; break;
                    case 2: v[i] = rand_in(&st, -3, 3); break;
                    case 3: v[i] = 0; break;
                    case 4: v[i] = (int32_t)((int64_t)amax * (2 * rand_in(&st, 0, 126) + 1) / 254) *
                                   ((tu_rand(&st) & 1) ? 1 : -1);
                        break;
                    default: v[i] = rand_in(&st, -1, 1) * amax; break;
                    }
                }
                const int32_t ra = lmz_quant_row_ref(v, n, want), ka = k->quant_row(v, n, got);
                if (ra != ka || memcmp(want, got, (size_t)n) != 0) {
                    fprintf(stderr, "%s quant n %d mode %d differ\n", k->name, n, mode);
                    tu_failures++;
                }
            }
}

/* rescale: random and extreme dot products, scales, multipliers, shifts
 * (1 and 62, where the rounding and the arithmetic shift of negative
 * values matter most), biases, both clamps and the residual form. */
static void test_rescale(const lmz_cpu_kern *k)
{
    enum { N = 256 };
    static int32_t acc[N], mult[N], shift[N], bias[N], y0[N], y1[N], y2[N];
    const int ns[] = {1, 3, 4, 5, 8, 63, 64, 256};
    const int32_t accmax = 127 * 127 * 4096;
    uint64_t st = 19;
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (int mode = 0; mode < 4; mode++)
            for (int residual = 0; residual < 2; residual++)
                for (int rep = 0; rep < 8; rep++) {
                    const int n = ns[a];
                    const int32_t sa = mode == 1 ? (int32_t)LMZ_ACT : rand_in(&st, 1, (int)LMZ_ACT);
                    for (int t = 0; t < n; t++) {
                        acc[t] = mode == 1 ? ((tu_rand(&st) & 1) ? accmax : -accmax)
                                 : mode == 2 ? rand_in(&st, -3, 3)
                                             : rand_in(&st, -accmax, accmax);
                        mult[t] = mode == 1 ? (1 << 15) - 1 : rand_in(&st, 1 << 14, (1 << 15) - 1);
                        shift[t] = mode == 3 ? ((tu_rand(&st) & 1) ? 1 : 62) : rand_in(&st, 1, 62);
                        bias[t] = mode == 1 ? ((tu_rand(&st) & 1) ? 1 << 24 : -(1 << 24))
                                            : rand_in(&st, -(1 << 24), 1 << 24);
                        y0[t] = rand_in(&st, -(1 << 24), 1 << 24);
                    }
                    const int64_t lim = rep & 1 ? LMZ_ACT : LMZ_RES;
                    memcpy(y1, y0, sizeof y0);
                    memcpy(y2, y0, sizeof y0);
                    lmz_rescale_ref(acc, n, sa, mult, shift, bias, lim, residual, y1);
                    k->rescale(acc, n, sa, mult, shift, bias, lim, residual, y2);
                    if (memcmp(y1, y2, (size_t)n * sizeof *y1) != 0) {
                        fprintf(stderr, "%s rescale n %d mode %d residual %d differ\n", k->name,
                                n, mode, residual);
                        tu_failures++;
                    }
                }
}

/* ---- whole models ---- */

/* Tables of the full pass under the scalar path and under path p, and of
 * the incremental step under p for the first n_incr positions: all equal. */
static void compare_model(const lmz_model *m, lmz_simd p, const uint8_t *data, int n, int n_incr,
                          const char *what)
{
    lmz_scratch *s = lmz_scratch_create(&m->cfg);
    lmz_kv *kv = lmz_kv_create(&m->cfg);
    uint16_t *ref = malloc((size_t)n * 256 * sizeof *ref);
    uint16_t *got = malloc((size_t)n * 256 * sizeof *got);
    uint16_t *cum = malloc((size_t)n * sizeof *cum), *freq = malloc((size_t)n * sizeof *freq);
    CHECK(s && kv && ref && got && cum && freq);
    CHECK_EQ_INT(lmz_simd_select(LMZ_SIMD_SCALAR), LMZ_OK);
    CHECK_EQ_INT(lmz_forward_chunk(m, s, data, n, cum, freq, ref), LMZ_OK);
    CHECK_EQ_INT(lmz_simd_select(p), LMZ_OK);
    CHECK_EQ_INT(lmz_forward_chunk(m, s, data, n, cum, freq, got), LMZ_OK);
    int first = -1;
    for (int i = 0; i < n && first < 0; i++)
        if (memcmp(ref + (size_t)i * 256, got + (size_t)i * 256, 256 * sizeof *ref) != 0)
            first = i;
    uint16_t t[256];
    for (int i = 0; i < n_incr && first < 0; i++) {
        CHECK_EQ_INT(lmz_kv_step(m, s, kv, i == 0 ? 0 : data[i - 1], t), LMZ_OK);
        if (memcmp(ref + (size_t)i * 256, t, sizeof t) != 0)
            first = i;
    }
    if (first >= 0) {
        fprintf(stderr, "%s, path %s: first table difference at position %d\n", what,
                lmz_simd_name(), first);
        tu_failures++;
    }
    lmz_simd_select(LMZ_SIMD_SCALAR);
    free(ref);
    free(got);
    free(cum);
    free(freq);
    lmz_kv_free(kv);
    lmz_scratch_free(s);
}

static void test_models(lmz_simd p)
{
    static uint8_t data[8192];
    tu_fill_random(data, sizeof data, 5);
    memset(data + 300, 'e', 300); /* a run: equal keys, flat scores */
    const char *presets[] = {"tiny", "200k", "800k", "3.2m"};
    for (int k = 0; k < 4; k++) {
        lmz_config cfg;
        lmz_config_preset(presets[k], &cfg);
        lmz_model *m = lmz_model_alloc(&cfg);
        CHECK(m != NULL);
        lmz_model_init_random(m, 3);
        char what[64];
        snprintf(what, sizeof what, "random %s", presets[k]);
        compare_model(m, p, data, k >= 2 ? 700 : 2048, k >= 2 ? 40 : 300, what);
        lmz_model_free(m);
    }

    /* the trained text model on real text (or random bytes without it) */
    char path[1024];
    size_t len = 0;
    uint8_t *text = NULL;
    if (tu_data_path("text/alice29.txt", path, sizeof path))
        text = tu_read_file(path, &len);
    const uint8_t *in = text && len >= 4096 ? text + 2048 : data;
    const char *files[] = {"models/text-200k-1.lmzm", "tests/golden/v1/tiny.lmzm"};
    for (int f = 0; f < 2; f++) {
        lmz_model *m = NULL;
        lmz_err err;
        if (!tu_source_path(files[f], path, sizeof path) || lmz_model_load(path, &m, &err)) {
            printf("%s not found, skipped\n", files[f]);
            continue;
        }
        compare_model(m, p, in, 2048, 200, files[f]);
        lmz_model_free(m);
    }
    free(text);

    /* the extremes: every clamp, LN of a zero vector, the widest shapes and
     * the longest context */
    lmz_config small;
    lmz_config_preset("200k", &small);
    const lmz_config wide = {1024, 1, 4, 4096, 64};
    const lmz_config longest = {16, 1, 1, 16, 8192};
    const lmz_config heads = {256, 1, 8, 64, 512}; /* dh 32, 8 slopes */
    for (int v = 0; v < 4; v++) {
        char what[64];
        lmz_model *m = tu_model_extreme(&small, v, 10 + (uint64_t)v);
        snprintf(what, sizeof what, "extreme %d 200k", v);
        compare_model(m, p, data, 700, 100, what);
        lmz_model_free(m);
        m = tu_model_extreme(&wide, v, 20 + (uint64_t)v);
        snprintf(what, sizeof what, "extreme %d wide", v);
        compare_model(m, p, data, 64, 64, what);
        lmz_model_free(m);
        m = tu_model_extreme(&heads, v, 40 + (uint64_t)v);
        snprintf(what, sizeof what, "extreme %d heads", v);
        compare_model(m, p, data, 512, 20, what);
        lmz_model_free(m);
    }
    for (int v = 0; v < 4; v += 2) {
        lmz_model *m = tu_model_extreme(&longest, v, 30 + (uint64_t)v);
        char what[64];
        snprintf(what, sizeof what, "extreme %d long", v);
        compare_model(m, p, data, 8192, 0, what);
        lmz_model_free(m);
    }
}

static void test_select(void)
{
    CHECK_EQ_INT(lmz_simd_parse("scalar"), LMZ_SIMD_SCALAR);
    CHECK_EQ_INT(lmz_simd_parse("avx2"), LMZ_SIMD_AVX2);
    CHECK_EQ_INT(lmz_simd_parse("avx512"), LMZ_SIMD_AVX512);
    CHECK_EQ_INT(lmz_simd_parse("auto"), LMZ_SIMD_AUTO);
    CHECK_EQ_INT(lmz_simd_parse("sse9"), -1);
    CHECK_EQ_INT(lmz_simd_select(LMZ_SIMD_SCALAR), LMZ_OK);
    CHECK(strcmp(lmz_simd_name(), "scalar") == 0);
    /* AUTO is the best path this CPU runs (the library reads no LMZ_SIMD:
     * the CLI passes it as a backend parameter) */
    CHECK_EQ_INT(lmz_simd_select(LMZ_SIMD_AUTO), LMZ_OK);
    const char *best = lmz_simd_supported(LMZ_SIMD_AVX512) ? "avx512"
                       : lmz_simd_supported(LMZ_SIMD_AVX2) ? "avx2"
                                                            : "scalar";
    CHECK(strcmp(lmz_simd_name(), best) == 0);
    /* a CPU backend's params.simd selects the path; AUTO leaves it */
    lmz_model *m = tu_model_random("tiny", 5);
    lmz_backend *b = NULL;
    lmz_err err;
    CHECK_EQ_INT(lmz_backend_create(m, &(lmz_backend_params){.simd = LMZ_SIMD_SCALAR}, &b, &err),
                 LMZ_OK);
    CHECK(strcmp(lmz_simd_name(), "scalar") == 0);
    lmz_backend_free(b);
    CHECK_EQ_INT(lmz_backend_create(m, NULL, &b, &err), LMZ_OK);
    CHECK(strcmp(lmz_simd_name(), "scalar") == 0);
    lmz_backend_free(b);
    if (lmz_simd_supported(LMZ_SIMD_AVX2)) {
        CHECK_EQ_INT(lmz_backend_create(m, &(lmz_backend_params){.simd = LMZ_SIMD_AVX2}, &b, &err),
                     LMZ_OK);
        CHECK(strcmp(lmz_simd_name(), "avx2") == 0);
        lmz_backend_free(b);
    }
    for (int p = LMZ_SIMD_SCALAR; p <= LMZ_SIMD_AVX512; p++)
        if (!lmz_simd_supported((lmz_simd)p)) {
            CHECK_EQ_INT(lmz_simd_select((lmz_simd)p), LMZ_ERR_NO_DEVICE);
            b = NULL;
            CHECK_EQ_INT(lmz_backend_create(m, &(lmz_backend_params){.simd = (lmz_simd)p}, &b,
                                            &err),
                         LMZ_ERR_NO_DEVICE);
            CHECK(b == NULL);
        }
    lmz_model_free(m);
    lmz_simd_select(LMZ_SIMD_SCALAR);
}

int main(void)
{
    test_select();
    int ran = 0;
    for (int p = LMZ_SIMD_AVX2; p <= LMZ_SIMD_AVX512; p++) {
        const lmz_cpu_kern *k = lmz_kern_of((lmz_simd)p);
        const char *name = p == LMZ_SIMD_AVX2 ? "avx2" : "avx512";
        if (!k) {
            printf("%s: not supported by this CPU or build, skipped\n", name);
            continue;
        }
        printf("%s: kernels\n", name);
        test_dots(k);
        test_dots_many(k);
        test_expq(k);
        test_attend(k);
        test_window(k);
        test_mq_window(k);
        test_attend_rows(k);
        test_quant(k);
        test_rescale(k);
        printf("%s: models\n", name);
        test_models((lmz_simd)p);
        ran++;
    }
    if (!ran) {
        printf("no SIMD path on this CPU: skipped\n");
        return TEST_SKIP;
    }
    return tu_finish("simd");
}
