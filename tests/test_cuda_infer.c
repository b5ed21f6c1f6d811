/* test_cuda_infer.c: the CUDA backend against the CPU reference (label
 * "gpu"; exits 77, skipped, without a CUDA device or a CUDA build).
 *
 * For random models (tiny, 200k), the trained text model, and "extremes"
 * models that drive every clamp (as in test_infer.c), on chunks of uneven
 * lengths (1 .. ctx), random and text:
 *   - every full frequency table and every (cum, freq) from CUDA equals the
 *     CPU's lmz_forward_chunk;
 *   - streams encoded from CPU tables decode on CUDA to the original bytes,
 *     and the streams encoded from CUDA's (cum, freq) are the CPU's bytes;
 *   - the same again through lmz_backend (--device cuda) and with tiny
 *     device batches (several sub-batches per call).
 *
 * Output is line-buffered, one line per model as it finishes (with its
 * time), so that a run cut short by a timeout still shows how far it got.
 * Environment (scripts/gpu-check.sh):
 *   LMZ_CUDA_SYNC=1       check every kernel launch (lmz_cuda_set_sync): a
 *                         failure names the kernel and its launch site; the
 *                         run stops at the first CUDA error
 *   LMZ_CUDA_TEST_ONLY=s  only the models whose name contains s
 * Without LMZ_CUDA_SYNC the run goes on after a CUDA error (a launch error
 * may be one model's), unless the device is then unusable (a sticky
 * error: lmz_cuda_create fails), where it stops. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lmz_backend.h"
#include "lmz_coder.h"
#include "lmz_infer.h"
#include "lmz_modelfile.h"
#include "testutil.h"

#ifdef LMZ_HAVE_CUDA
#include "cuda/lmz_cuda.h"

static int sync_check;      /* $LMZ_CUDA_SYNC=1 */
static const char *only;    /* $LMZ_CUDA_TEST_ONLY */
static int cuda_errors;     /* CUDA calls that returned an error so far */
static int stop;            /* 1: no further model is worth running */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A CUDA call of model `what` returned st: count it and say why; in sync
 * mode the first one ends the run (what follows a sticky error only
 * repeats it). */
static void cuda_error(const char *what, const char *call, lmz_status st, const lmz_err *err)
{
    cuda_errors++;
    tu_failures++;
    printf("%s: %s failed (status %d): %s\n", what, call, (int)st, err->msg);
    if (sync_check) {
        printf("stopping at the first CUDA error (LMZ_CUDA_SYNC=1)\n");
        stop = 1;
    }
}

/* ---- the comparison ---- */

#define MAXCH 8

typedef struct chunkset {
    int n;
    const uint8_t *data[MAXCH];
    uint32_t len[MAXCH];
} chunkset;

/* Uneven lengths from 1 to ctx, cut from buf (which holds >= 8 * ctx bytes). */
static void make_chunks(chunkset *cs, const uint8_t *buf, int ctx)
{
    const uint32_t want[MAXCH] = {1, 2, 777, (uint32_t)ctx, 100, 3, 1500, (uint32_t)ctx - 1};
    size_t off = 0;
    cs->n = 0;
    for (int i = 0; i < MAXCH; i++) {
        uint32_t l = want[i] > (uint32_t)ctx ? (uint32_t)ctx : want[i];
        if (l < 1)
            l = 1;
        cs->data[cs->n] = buf + off;
        cs->len[cs->n] = l;
        cs->n++;
        off += l;
    }
}

/* Encode one chunk from its (cum, freq); returns the stream length. */
static size_t encode(const uint16_t *cum, const uint16_t *freq, uint32_t n, uint8_t *buf,
                     size_t cap)
{
    return lmz_rc_encode_chunk(cum, freq, n, buf, cap);
}

static void check_model(const lmz_model *m, const uint8_t *buf, const char *what)
{
    if (stop || (only && !strstr(what, only)))
        return;
    const double t_start = now();
    const int fails0 = tu_failures;
    printf("> %s\n", what); /* a hang shows which model it is in */
    const int ctx = m->cfg.ctx;
    lmz_cuda *g = NULL;
    lmz_err err;
    chunkset cs;
    make_chunks(&cs, buf, ctx);
    const size_t per = (size_t)ctx;
    uint16_t *ctab = malloc(cs.n * per * 256 * 2), *gtab = malloc(cs.n * per * 256 * 2);
    uint16_t *ccum = calloc(cs.n * per, 2), *cfreq = calloc(cs.n * per, 2);
    uint16_t *gcum = calloc(cs.n * per, 2), *gfreq = calloc(cs.n * per, 2);
    CHECK(ctab && gtab && ccum && cfreq && gcum && gfreq);
    if (!(ctab && gtab && ccum && cfreq && gcum && gfreq))
        goto out;

    /* CUDA first: when it cannot even start, skip the CPU reference */
    const lmz_status cst = lmz_cuda_create(m, &g, &err);
    if (cst != LMZ_OK) {
        cuda_error(what, "lmz_cuda_create", cst, &err);
        if (cuda_errors > 1) {
            printf("stopping: the device is unusable after the first CUDA error "
                   "(a sticky error; LMZ_CUDA_SYNC=1 names the kernel)\n");
            stop = 1;
        }
        goto out;
    }
    lmz_cuda_set_sync(g, sync_check);

    /* CPU reference, chunks in parallel (one scratch per chunk) */
    int cpu_st[MAXCH];
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1)
#endif
    for (int c = 0; c < cs.n; c++) {
        lmz_scratch *sc = lmz_scratch_create(&m->cfg);
        cpu_st[c] = sc ? lmz_forward_chunk(m, sc, cs.data[c], (int)cs.len[c], ccum + c * per,
                                           cfreq + c * per, ctab + c * per * 256)
                       : LMZ_ERR_NOMEM;
        lmz_scratch_free(sc);
    }
    for (int c = 0; c < cs.n; c++)
        CHECK_EQ_INT(cpu_st[c], LMZ_OK);

    /* CUDA: whole batch, then batches of 1 and 3 chunks */
    const int batches[3] = {0, 1, 3};
    for (int bi = 0; bi < 3; bi++) {
        lmz_cuda_set_batch(g, batches[bi]);
        memset(gtab, 0xAB, cs.n * per * 256 * 2);
        lmz_status st = lmz_cuda_score(g, cs.n, cs.data, cs.len, gcum, gfreq, gtab, &err);
        if (st != LMZ_OK) {
            cuda_error(what, "lmz_cuda_score", st, &err);
            goto out;
        }
        long bad = 0;
        for (int c = 0; c < cs.n; c++)
            for (uint32_t i = 0; i < cs.len[c]; i++) {
                const size_t r = c * per + i;
                if (memcmp(ctab + r * 256, gtab + r * 256, 512) != 0) {
                    if (bad++ < 3)
                        printf("%s (batch %d): chunk %d position %u: table differs\n", what,
                               batches[bi], c, (unsigned)i);
                }
                if (ccum[r] != gcum[r] || cfreq[r] != gfreq[r])
                    bad++;
            }
        CHECK_EQ_INT(bad, 0);
    }

    /* streams: CPU-encoded == CUDA-encoded; CUDA decodes them */
    uint8_t *streams[MAXCH], *outs[MAXCH];
    uint32_t slen[MAXCH];
    for (int c = 0; c < cs.n; c++) {
        const size_t cap = (size_t)cs.len[c] * 3 + 64;
        streams[c] = malloc(cap);
        uint8_t *other = malloc(cap);
        outs[c] = malloc(per);
        size_t a = encode(ccum + c * per, cfreq + c * per, cs.len[c], streams[c], cap);
        size_t b = encode(gcum + c * per, gfreq + c * per, cs.len[c], other, cap);
        CHECK(a != (size_t)-1 && a == b && memcmp(streams[c], other, a) == 0);
        slen[c] = (uint32_t)a;
        free(other);
    }
    for (int bi = 0; bi < 3; bi++) {
        lmz_cuda_set_batch(g, batches[bi]);
        for (int c = 0; c < cs.n; c++)
            memset(outs[c], 0x5A, per);
        lmz_status st = lmz_cuda_decode(g, cs.n, (const uint8_t *const *)streams, slen, cs.len,
                                        outs, &err);
        if (st != LMZ_OK) {
            cuda_error(what, "lmz_cuda_decode", st, &err);
            break;
        }
        for (int c = 0; c < cs.n; c++)
            if (memcmp(outs[c], cs.data[c], cs.len[c]) != 0) {
                printf("%s (batch %d): chunk %d decodes wrong\n", what, batches[bi], c);
                tu_failures++;
            }
    }
    lmz_cuda_free(g);
    g = NULL;

    /* the same through the backend interface */
    lmz_backend *be = NULL;
    lmz_status st = stop ? LMZ_OK
                         : lmz_backend_create(m,
                                              &(lmz_backend_params){.device = LMZ_DEVICE_CUDA,
                                                                    .cuda_sync = sync_check},
                                              &be, &err);
    if (st != LMZ_OK)
        cuda_error(what, "lmz_backend_create", st, &err);
    if (be) {
        CHECK(strcmp(lmz_backend_name(be), "cuda") == 0);
        st = lmz_backend_score(be, cs.n, cs.data, cs.len, gcum, gfreq, &err);
        if (st != LMZ_OK)
            cuda_error(what, "lmz_backend_score", st, &err);
        else
            for (int c = 0; c < cs.n; c++)
                CHECK(memcmp(gcum + c * per, ccum + c * per, cs.len[c] * 2) == 0 &&
                      memcmp(gfreq + c * per, cfreq + c * per, cs.len[c] * 2) == 0);
        st = stop ? LMZ_OK
                  : lmz_backend_decode(be, cs.n, (const uint8_t *const *)streams, slen, cs.len,
                                       outs, &err);
        if (st != LMZ_OK)
            cuda_error(what, "lmz_backend_decode", st, &err);
        else if (!stop)
            for (int c = 0; c < cs.n; c++)
                CHECK(memcmp(outs[c], cs.data[c], cs.len[c]) == 0);
        lmz_backend_free(be);
    }
    for (int c = 0; c < cs.n; c++) {
        free(streams[c]);
        free(outs[c]);
    }
out:
    lmz_cuda_free(g);
    printf("%-28s %s  (%.1f s; %d failures so far)\n", what,
           tu_failures == fails0 ? "ok  " : "FAIL", now() - t_start, tu_failures);
    free(ctab);
    free(gtab);
    free(ccum);
    free(cfreq);
    free(gcum);
    free(gfreq);
}

int main(void)
{
    /* a line per model as soon as it is known, also into a pipe or file */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!lmz_cuda_available()) {
        printf("cuda_infer: no CUDA device, skipped\n");
        return TEST_SKIP;
    }
    const char *sy = getenv("LMZ_CUDA_SYNC");
    sync_check = sy && strcmp(sy, "1") == 0;
    only = getenv("LMZ_CUDA_TEST_ONLY");
    if (only && !*only)
        only = NULL;
    printf("cuda_infer: per-launch checks %s%s%s\n", sync_check ? "on" : "off",
           only ? ", only models matching " : "", only ? only : "");
    /* 8 chunks of up to 8192 bytes: random bytes, a run, and text if any */
    const size_t nbuf = 8 * 8192;
    uint8_t *buf = malloc(nbuf);
    tu_fill_random(buf, nbuf, 7);
    memset(buf + 5000, 'a', 300);
    char path[1024];
    size_t tlen = 0;
    uint8_t *text = NULL;
    if (tu_data_path("text/alice29.txt", path, sizeof path))
        text = tu_read_file(path, &tlen);
    uint8_t *tbuf = malloc(nbuf);
    for (size_t i = 0; i < nbuf; i++)
        tbuf[i] = text && tlen ? text[i % tlen] : (uint8_t)"the quick brown fox "[i % 20];
    free(text);

    const char *presets[] = {"tiny", "200k"};
    for (int p = 0; p < 2; p++) {
        lmz_model *m = tu_model_random(presets[p], 3);
        char what[64];
        snprintf(what, sizeof what, "random %s random bytes", presets[p]);
        check_model(m, buf, what);
        snprintf(what, sizeof what, "random %s text", presets[p]);
        check_model(m, tbuf, what);
        lmz_model_free(m);
    }

    lmz_model *tm = NULL;
    lmz_err err;
    if (tu_source_path("models/text-200k-1.lmzm", path, sizeof path) &&
        lmz_model_load(path, &tm, &err) == LMZ_OK) {
        check_model(tm, tbuf, "text-200k-1 text");
        check_model(tm, buf, "text-200k-1 random bytes");
        lmz_model_free(tm);
    } else {
        printf("models/text-200k-1.lmzm not loadable, skipped\n");
    }

    lmz_config small;
    lmz_config_preset("200k", &small);
    const lmz_config wide = {1024, 1, 4, 4096, 64};
    const lmz_config longest = {16, 1, 1, 16, 8192};
    /* dh 10, d 30 and d_ff 21 not multiples of 4 (the GEMM's byte path) */
    const lmz_config odd = {30, 2, 3, 21, 300};
    for (int v = 0; v < 4; v++) {
        char what[64];
        lmz_model *m = tu_model_extreme(&small, v, 10 + (uint64_t)v);
        snprintf(what, sizeof what, "extreme %d 200k", v);
        check_model(m, buf, what);
        lmz_model_free(m);
        m = tu_model_extreme(&wide, v, 20 + (uint64_t)v);
        snprintf(what, sizeof what, "extreme %d wide", v);
        check_model(m, buf, what);
        lmz_model_free(m);
        m = tu_model_extreme(&odd, v, 40 + (uint64_t)v);
        snprintf(what, sizeof what, "extreme %d odd", v);
        if (m && lmz_model_validate(m, NULL) == LMZ_OK)
            check_model(m, buf, what);
        lmz_model_free(m);
    }
    for (int v = 0; v < 4; v += 2) {
        lmz_model *m = tu_model_extreme(&longest, v, 30 + (uint64_t)v);
        char what[64];
        snprintf(what, sizeof what, "extreme %d long", v);
        check_model(m, buf, what);
        lmz_model_free(m);
    }
    free(buf);
    free(tbuf);
    return tu_finish("cuda_infer");
}

#else /* !LMZ_HAVE_CUDA */

int main(void)
{
    printf("cuda_infer: built without CUDA, skipped\n");
    return TEST_SKIP;
}

#endif
