/* lmz_sample: write N bytes sampled from a model's own predictions
 * (integer tables, splitmix64 draws), chunk by chunk from an empty context.
 * A model compresses its own samples well, so these inputs exercise the
 * coded (not stored) path even with a random model. Test tool only.
 *
 * With SHARPEN k > 1 each draw is from the table raised to the power k
 * (renormalised), so the model is surer of its own samples and they compress
 * further: the golden vectors and CLI tests want mostly coded chunks even from
 * a random model. The committed outputs are data; this sampler's doubles need
 * not agree across machines.
 *
 * usage: lmz_sample MODEL N SEED OUT [SHARPEN] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "lmz_coder.h"
#include "lmz_infer.h"
#include "lmz_modelfile.h"
#include "testutil.h" /* tu_rand: splitmix64 */

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: lmz_sample MODEL N SEED OUT [SHARPEN]\n");
        return 1;
    }
    lmz_model *m = NULL;
    lmz_err err;
    int shipped;
    if (lmz_model_resolve(argv[1], NULL, getenv("LMZ_MODEL_PATH"), &m, &shipped, &err)) {
        fprintf(stderr, "lmz_sample: %s\n", err.msg);
        return 1;
    }
    long n = atol(argv[2]);
    double k = argc == 6 ? atof(argv[5]) : 1.0;
    uint64_t seed = strtoull(argv[3], NULL, 10);
    FILE *f = fopen(argv[4], "wb");
    lmz_scratch *s = lmz_scratch_create(&m->cfg);
    lmz_kv *kv = lmz_kv_create(&m->cfg);
    if (!f || !s || !kv) {
        fprintf(stderr, "lmz_sample: cannot start\n");
        return 1;
    }
    uint16_t table[256];
    uint32_t cum[257];
    int prev = 0;
    for (long i = 0; i < n; i++) {
        if (i % m->cfg.ctx == 0) {
            lmz_kv_reset(kv);
            prev = 0;
        }
        lmz_kv_step(m, s, kv, prev, table);
        if (k == 1.0) {
            lmz_freq_to_cum(table, cum);
            uint32_t t = (uint32_t)(tu_rand(&seed) >> 48); /* uniform in [0, 2^16) */
            prev = lmz_cum_find(cum, t);
        } else {
            double w[256], z = 0;
            for (int c = 0; c < 256; c++)
                z += (w[c] = pow((double)table[c], k));
            double u = (double)(tu_rand(&seed) >> 11) / 9007199254740992.0 * z;
            prev = 255;
            for (int c = 0; c < 256; c++)
                if ((u -= w[c]) < 0) {
                    prev = c;
                    break;
                }
        }
        fputc(prev, f);
    }
    fclose(f);
    lmz_kv_free(kv);
    lmz_scratch_free(s);
    lmz_model_free(m);
    return 0;
}
