// cuda_table.cu: ops.c's lmz_freq_table on the GPU (one block of 256
// threads per position, thread s owns symbol s), and what follows it: the
// encoder's (cum, freq) of the actual byte, or the decoder's range-decoder
// step, which runs on the device so that decoding never waits on the host.
#include "cuda_internal.h"
#include "cuda_reduce.cuh"
#include "lmz_rc_core.h"

#define TAB_THREADS 256

// freq[s] for thread s = threadIdx.x, exactly lmz_freq_table. Also returns
// (through *best_out, same for every thread) the smallest s with the maximal
// logit. Every thread of the 256 must call it.
__device__ uint32_t block_freq(const lmz_dtabs &tabs, const int32_t *logits, int64_t *red,
                               uint64_t *ured)
{
    const int s = threadIdx.x;
    const int32_t l = logits[s];
    const int64_t m = lmz_block_reduce<int64_t, 1>((int64_t)l, red);
    // the smallest s with l_s == m: max of -s over those
    const int64_t nb = lmz_block_reduce<int64_t, 1>(l == m ? -(int64_t)s : INT64_MIN, red);
    const int best = (int)-nb;
    const uint32_t e = d_expq(tabs, m - l);
    const uint64_t z = lmz_block_reduce<uint64_t, 0>((uint64_t)e, ured);
    uint32_t f = 1 + (uint32_t)((uint64_t)e * 65280 / z);
    const uint64_t total = lmz_block_reduce<uint64_t, 0>((uint64_t)f, ured);
    if (s == best)
        f = (uint16_t)(f + (65536 - (uint32_t)total));
    return f;
}

__global__ void __launch_bounds__(TAB_THREADS)
k_table_score(lmz_dtabs tabs, const int32_t *__restrict__ logits,
              const uint8_t *__restrict__ target, uint16_t *__restrict__ cum,
              uint16_t *__restrict__ freq, uint16_t *__restrict__ tables)
{
    __shared__ int64_t red[32];
    __shared__ uint64_t ured[32];
    const size_t r = blockIdx.x;
    const int s = threadIdx.x;
    const uint32_t f = block_freq(tabs, logits + r * 256, red, ured);
    const int tgt = target[r];
    const uint64_t below = lmz_block_reduce<uint64_t, 0>(s < tgt ? f : 0, ured);
    if (s == tgt) {
        cum[r] = (uint16_t)below; // <= 65536 - freq >= 1 of the rest
        freq[r] = (uint16_t)f;
    }
    if (tables)
        tables[r * 256 + s] = (uint16_t)f;
}

void lmz_cuda_table_score(const lmz_cuda *g, int n, const int32_t *logits, const uint8_t *target,
                          uint16_t *cum, uint16_t *freq, uint16_t *tables)
{
    if (n <= 0)
        return;
    LMZ_LAUNCH(g, k_table_score, n, TAB_THREADS, 0, g->tabs, logits, target, cum, freq, tables);
}

__global__ void __launch_bounds__(TAB_THREADS)
k_table_decode(lmz_dtabs tabs, int ctx, int i, const int32_t *__restrict__ logits,
               const uint32_t *__restrict__ raw_len, lmz_rc_dec *__restrict__ dec,
               uint8_t *__restrict__ out, uint8_t *__restrict__ tok)
{
    __shared__ int64_t red[32];
    __shared__ uint64_t ured[32];
    __shared__ uint32_t cum[LMZ_VOCAB + 1];
    const size_t b = blockIdx.x;
    if ((uint32_t)i >= raw_len[b])
        return; // the whole block: this chunk is complete
    const int s = threadIdx.x;
    const uint32_t f = block_freq(tabs, logits + b * 256, red, ured);
    cum[s + 1] = f;
    if (s == 0)
        cum[0] = 0;
    __syncthreads();
    // lmz_freq_to_cum: an inclusive prefix sum (Hillis-Steele; exact)
    for (int off = 1; off < LMZ_VOCAB; off <<= 1) {
        const uint32_t add = s + 1 > off ? cum[s + 1 - off] : 0;
        __syncthreads();
        cum[s + 1] += add;
        __syncthreads();
    }
    if (s == 0) {
        lmz_rc_dec d = dec[b];
        const uint32_t target = lmz_rc_core_dec_target(&d);
        const int sym = lmz_rc_core_cum_find(cum, target);
        lmz_rc_core_dec_consume(&d, cum[sym], cum[sym + 1] - cum[sym]);
        dec[b] = d;
        out[b * (size_t)ctx + i] = (uint8_t)sym;
        tok[b] = (uint8_t)sym;
    }
}

void lmz_cuda_table_decode(const lmz_cuda *g, int nb, int i, const int32_t *logits,
                           const uint32_t *raw_len, lmz_rc_dec *dec, uint8_t *out, uint8_t *tok)
{
    if (nb <= 0)
        return;
    LMZ_LAUNCH(g, k_table_decode, nb, TAB_THREADS, 0, g->tabs, g->cfg.ctx, i, logits, raw_len, dec,
               out, tok);
}
