/* test_train_quant.c: from a trained float model to a working compressor.
 *
 *   - quantization (docs/inference.md "From float") keeps the cross-entropy
 *     within a few percent: the integer model's bits per byte on held-out
 *     text (the last 16 KB of alice29.txt, never trained on; through
 *     lmz_forward_chunk, what the coder spends) over the float model's on
 *     the same chunks;
 *   - the float model run with fake quantization (what QAT trains) tracks
 *     the integer model closely, so QAT optimizes the right thing;
 *   - a model trained with QAT also quantizes within the bound;
 *   - the model file round trip: save, load (same hash), compress held-out
 *     text with it (smaller than the input) and decompress it exactly.
 * Skipped (77) when ../shared/data is not there. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmz_modelfile.h"
#include "lmz_pipeline.h"
#include "lmz_train.h"
#include "testutil.h"

/* d 32, 2 layers, 2 heads, ff 128, context 256: small enough that the
 * integer reference evaluates it quickly. */
static lmz_trainer *train_small(const uint8_t *train, size_t n, int64_t steps, float qat)
{
    const lmz_config cfg = {32, 2, 2, 128, 256};
    lmz_train_opts o;
    lmz_train_opts_default(&o, &cfg);
    o.n_stages = 0;
    o.batch_tokens = 4096;
    o.max_steps = steps;
    o.lr = 3e-3f;
    o.warmup_steps = 20;
    o.eval_every = 0;
    o.qat = qat;
    o.seed = 11;
    lmz_trainer *t = NULL;
    lmz_err e;
    lmz_err_clear(&e);
    CHECK(lmz_trainer_create(&o, &t, &e) == LMZ_OK);
    if (t && lmz_trainer_run(t, train, n, NULL, 0, NULL, &e) != LMZ_OK) {
        fprintf(stderr, "train: %s\n", e.msg);
        tu_failures++;
    }
    return t;
}

/* Float, fake-quantized float and integer bits per byte on held. */
static void gap(const char *what, const lmz_fmodel *fm, const uint8_t *held, size_t n,
                lmz_model **out)
{
    lmz_err e;
    lmz_err_clear(&e);
    lmz_model *m = NULL;
    CHECK(lmz_quantize(fm, what, &m, &e) == LMZ_OK);
    if (!m)
        return;
    double fb = 0, qb = 0, ib = 0;
    CHECK(lmz_fmodel_eval(fm, held, n, 256, 0, 0, &fb, &e) == LMZ_OK);
    CHECK(lmz_fmodel_eval(fm, held, n, 256, 1, 0, &qb, &e) == LMZ_OK);
    CHECK(lmz_model_eval(m, held, n, 0, &ib, &e) == LMZ_OK);
    const double g = ib / fb - 1.0;
    printf("%s: float %.4f bpb, fake-quant %.4f, integer %.4f: gap %+.2f%%, integer vs "
           "fake-quant %+.2f%%\n",
           what, fb, qb, ib, 100 * g, 100 * (ib / qb - 1.0));
    CHECK(fb < 4.0);          /* it did learn */
    CHECK(fabs(g) < 0.015);   /* quantization costs little (measured: ~0.15%) */
    CHECK(fabs(ib / qb - 1.0) < 0.005);
    if (out)
        *out = m;
    else
        lmz_model_free(m);
}

static void roundtrip(const lmz_model *m, const uint8_t *held, size_t n)
{
    char *dir = tu_mkdtemp();
    char model[4096], input[4096], archive[4096], back[4096];
    snprintf(model, sizeof model, "%s/small.lmzm", dir);
    snprintf(input, sizeof input, "%s/input.txt", dir);
    snprintf(archive, sizeof archive, "%s/input.lmz", dir);
    snprintf(back, sizeof back, "%s/back.txt", dir);
    lmz_err e;
    lmz_err_clear(&e);
    CHECK_EQ_INT(lmz_model_save(m, model, 0, &e), LMZ_OK);
    lmz_model *l = NULL;
    CHECK_EQ_INT(lmz_model_load(model, &l, &e), LMZ_OK);
    CHECK(l && memcmp(l->hash, m->hash, 16) == 0 && strcmp(l->name, m->name) == 0);
    lmz_model_free(l);

    FILE *f = fopen(input, "wb");
    CHECK(f && fwrite(held, 1, n, f) == n);
    if (f)
        fclose(f);
    lmz_stats st;
    memset(&st, 0, sizeof st);
    CHECK_EQ_INT(tu_compress_one(input, archive, model, LMZ_CODEC_AUTO, &st, &e), LMZ_OK);
    printf("compressed %zu bytes to a %llu-byte payload (%.1f%%) with the trained model\n", n,
           (unsigned long long)st.payload_bytes, 100.0 * (double)st.payload_bytes / (double)n);
    CHECK(st.payload_bytes > 0 && st.payload_bytes < n * 6 / 10);

    CHECK_EQ_INT(tu_decompress_one(archive, back, &e), LMZ_OK);
    CHECK(tu_file_equals(back, held, n));
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    size_t total = 0;
    uint8_t *text = tu_read_data_at_least("text/alice29.txt", 65536, &total);
    if (!text)
        return TEST_SKIP;
    const size_t n = 16384, ntrain = total - n; /* 64 held-out chunks of 256 */
    const uint8_t *train = text, *held = text + ntrain;

    lmz_trainer *plain = train_small(train, ntrain, 250, 0.0f);
    lmz_model *m = NULL;
    if (plain)
        gap("plain", lmz_trainer_model(plain), held, n, &m);
    lmz_trainer *qat = train_small(train, ntrain, 250, 0.3f);
    if (qat) {
        CHECK(lmz_trainer_model(qat)->folded == 1);
        gap("qat", lmz_trainer_model(qat), held, n, NULL);
    }
    if (m)
        roundtrip(m, held, 16384);
    lmz_model_free(m);
    lmz_trainer_free(plain);
    lmz_trainer_free(qat);
    free(text);
    return tu_finish("train_quant");
}
