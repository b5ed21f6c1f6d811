/* lmz_rc_core.h: the range decoder and the symbol search as static inline
 * functions that compile both as C and as CUDA device code.
 *
 * This is the one definition: rangecoder.c's lmz_rc_dec_* and freq.c's
 * lmz_cum_find are thin wrappers around it, and the CUDA backend's decoder
 * (kernels/cuda/cuda_table.cu) runs the same functions on the device, so
 * the two decoders cannot drift apart. See lmz_coder.h for the contract. */
#ifndef LMZ_RC_CORE_H
#define LMZ_RC_CORE_H

#include "lmz_coder.h"

#define LMZ_RC_TOP (1u << 24) /* renormalise while range < LMZ_RC_TOP */

/* Bytes past the end of the stream read as zero (minimal termination relies
 * on it). pos keeps counting past len, so a caller can see how far the
 * decoder read. */
static inline LMZ_CODER_FN uint8_t lmz_rc_core_next_byte(lmz_rc_dec *d)
{
    uint8_t b = d->pos < d->len ? d->buf[d->pos] : 0;
    d->pos++;
    return b;
}

static inline LMZ_CODER_FN void lmz_rc_core_dec_init(lmz_rc_dec *d, const uint8_t *buf,
                                                     size_t len)
{
    d->buf = buf;
    d->len = len;
    d->pos = 0;
    d->range = 0xFFFFFFFFu;
    d->code = 0;
    /* The encoder's always-zero first byte is not in the stream: the window
     * starts with the first stored byte. */
    for (int i = 0; i < 4; i++)
        d->code = (d->code << 8) | lmz_rc_core_next_byte(d);
}

static inline LMZ_CODER_FN uint32_t lmz_rc_core_dec_target(const lmz_rc_dec *d)
{
    uint32_t t = d->code / (d->range >> LMZ_PROB_BITS);
    /* A valid stream keeps code < r * 2^16. Clamping covers the part of the
     * range above r * 2^16 (never chosen by the encoder) and corrupt input:
     * any bytes decode to some symbol. */
    return t < LMZ_PROB_TOTAL ? t : LMZ_PROB_TOTAL - 1;
}

static inline LMZ_CODER_FN void lmz_rc_core_dec_consume(lmz_rc_dec *d, uint32_t cum,
                                                        uint32_t freq)
{
    /* Keep a bad (cum, freq) from a buggy caller from setting range to 0,
     * which would renormalise forever. Valid tables never take this path. */
    if (cum >= LMZ_PROB_TOTAL)
        cum = LMZ_PROB_TOTAL - 1;
    if (freq == 0 || freq > LMZ_PROB_TOTAL - cum)
        freq = 1;
    uint32_t r = d->range >> LMZ_PROB_BITS;
    /* Unsigned arithmetic: on corrupt input code may leave [0, range) and
     * wrap, which is defined and only yields other (wrong) symbols. */
    d->code -= r * cum;
    d->range = r * freq;
    while (d->range < LMZ_RC_TOP) {
        d->range <<= 8;
        d->code = (d->code << 8) | lmz_rc_core_next_byte(d);
    }
}

/* The largest s in [0, 255] with cum[s] <= target, by eight halving steps
 * written so that compilers use a conditional move: a branch here would be
 * mispredicted about half the time. The answer is a symbol in [0, 255]
 * whatever the table or target (255 for target >= cum[255]). */
static inline LMZ_CODER_FN int lmz_rc_core_cum_find(const uint32_t cum[LMZ_VOCAB + 1],
                                                    uint32_t target)
{
    int lo = 0;
    for (int step = LMZ_VOCAB / 2; step > 0; step >>= 1)
        lo += cum[lo + step] <= target ? step : 0;
    return lo;
}

#endif
