/* cpu_decode.c: the CPU backend's decoder side. Each thread steps a few
 * chunks together (lmz_kv_step_many) and range-decodes each one's table;
 * a chunk's bytes depend only on the chunk, so any thread count and any
 * number in flight give the same bits. */
#include <string.h>

#include "cpu_backend.h"
#include "lmz_coder.h"
#include "lmz_infer.h"

/* One chunk being decoded: at each position the model's table names the
 * byte that the range decoder reads, and that byte is the next position's
 * input. The range decoding of a chunk stays in its own order. */
typedef struct dec_slot {
    lmz_kv *kv;
    lmz_rc_dec dec;
    uint8_t *out;
    uint32_t pos, len;
} dec_slot;

lmz_status lmz_cpu_decode(lmz_backend *b, int nchunks, const uint8_t *const *streams,
                          const uint32_t *stream_len, const uint32_t *raw_len,
                          uint8_t *const *out, lmz_err *err)
{
    const cpu_backend *cb = b->ctx;
    const lmz_model *m = b->m;
    /* Each thread keeps up to `batch` chunks in flight and steps them
     * together; a finished chunk's slot takes the next unclaimed chunk of
     * the call (a shared counter: dynamic assignment, so threads share the
     * chunks however their lengths differ). With few chunks per thread the
     * batch shrinks so that no thread claims work another would idle for. */
    const int nt = cpu_threads_for(cb, nchunks);
    int batch = cb->decode_batch;
    const int per_thread = (nchunks + nt - 1) / nt;
    if (batch > per_thread)
        batch = per_thread;
    int next = 0;
    lmz_status failed = LMZ_OK;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
#endif
    {
        lmz_scratch *s = lmz_scratch_create(&m->cfg);
        dec_slot slot[LMZ_KV_MANY];
        lmz_kv *kvs[LMZ_KV_MANY];
        int input[LMZ_KV_MANY];
        uint16_t tables[LMZ_KV_MANY * LMZ_VOCAB];
        uint32_t cum[LMZ_VOCAB + 1];
        lmz_status mine = s ? LMZ_OK : LMZ_ERR_NOMEM;
        for (int k = 0; k < batch; k++) {
            slot[k].kv = lmz_kv_create(&m->cfg);
            if (!slot[k].kv)
                mine = LMZ_ERR_NOMEM;
        }
        /* live slots are slot[0 .. live): a finished one swaps with the last */
        int live = 0;
        for (;;) {
            while (mine == LMZ_OK && live < batch) {
                int c;
#ifdef _OPENMP
#pragma omp atomic capture
#endif
                c = next++;
                if (c >= nchunks)
                    break;
                if (raw_len[c] == 0)
                    continue; /* nothing to decode */
                dec_slot *d = &slot[live];
                lmz_kv_reset(d->kv);
                lmz_rc_dec_init(&d->dec, streams[c], stream_len[c]);
                d->out = out[c];
                d->pos = 0;
                d->len = raw_len[c];
                live++;
            }
            if (live == 0 || mine != LMZ_OK)
                break;
            for (int k = 0; k < live; k++) {
                kvs[k] = slot[k].kv;
                input[k] = slot[k].pos == 0 ? 0 : slot[k].out[slot[k].pos - 1];
            }
            mine = lmz_kv_step_many(m, s, kvs, live, input, tables);
            if (mine != LMZ_OK)
                break;
            for (int k = 0; k < live;) {
                dec_slot *d = &slot[k];
                const uint16_t *freq = tables + (size_t)k * LMZ_VOCAB;
                lmz_freq_to_cum(freq, cum);
                const uint32_t target = lmz_rc_dec_target(&d->dec);
                const int sym = lmz_cum_find(cum, target);
                lmz_rc_dec_consume(&d->dec, cum[sym], freq[sym]);
                d->out[d->pos++] = (uint8_t)sym;
                if (d->pos == d->len) {
                    /* done: the last live slot, and its table, move here
                     * (the finished slot keeps its cache for reuse) */
                    const dec_slot t = slot[k];
                    slot[k] = slot[live - 1];
                    slot[live - 1] = t;
                    live--;
                    if (k < live)
                        memcpy(tables + (size_t)k * LMZ_VOCAB, tables + (size_t)live * LMZ_VOCAB,
                               LMZ_VOCAB * sizeof *tables);
                    continue;
                }
                k++;
            }
        }
        for (int k = 0; k < batch; k++)
            lmz_kv_free(slot[k].kv);
        lmz_scratch_free(s);
        lmz_cpu_note_status(&failed, mine);
    }
    return lmz_cpu_call_status(failed, "decode", err);
}
