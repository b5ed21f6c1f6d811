/* lmz_coder.h: the range coder over integer frequency tables.
 *
 * Every table has LMZ_PROB_TOTAL = 2^16 as its total and every symbol a
 * frequency >= 1. The coder is the classic 32-bit range coder with carry
 * propagation (low is 33 bits, range 32 bits, renormalised a byte at a time
 * while range < 2^24), with two lmz-specific choices written down in
 * docs/format.md:
 *   - the always-zero leading byte of that coder is not emitted;
 *   - termination is minimal: the encoder emits just enough bytes that a
 *     decoder which reads zeros past the end of the stream decodes every
 *     symbol, and trailing zero bytes are dropped.
 * Plain C, no allocation; the functions are small enough to be compiled for
 * CUDA device code too (LMZ_CODER_FN). */
#ifndef LMZ_CODER_H
#define LMZ_CODER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __CUDACC__
#define LMZ_CODER_FN __host__ __device__
#else
#define LMZ_CODER_FN
#endif

#define LMZ_PROB_BITS 16
#define LMZ_PROB_TOTAL (1u << LMZ_PROB_BITS)
#define LMZ_VOCAB 256

/* ---- encoder ---- */
typedef struct lmz_rc_enc {
    uint8_t *buf;       /* output buffer */
    size_t cap;         /* its capacity */
    size_t pos;         /* bytes produced so far; only those below cap are
                           stored (zeros past cap are fine: see finish) */
    uint64_t low;       /* 33 significant bits */
    uint32_t range;
    uint8_t cache;      /* byte held back for carry propagation */
    uint64_t pending;   /* number of 0xFF bytes held back after cache */
    int started;        /* 0 until the first real byte is known */
    int overflow;       /* set when a non-zero byte falls at or past cap,
                           or a symbol outside its table was put */
} lmz_rc_enc;

void lmz_rc_enc_init(lmz_rc_enc *e, uint8_t *buf, size_t cap);
/* Code one symbol with cumulative frequency cum and frequency freq
 * (freq >= 1, cum + freq <= LMZ_PROB_TOTAL). A symbol breaking that rule is
 * not coded; it makes finish fail. */
void lmz_rc_enc_put(lmz_rc_enc *e, uint32_t cum, uint32_t freq);
/* Finish the stream. Returns the number of bytes in buf, or (size_t)-1 if the
 * output did not fit in cap (the caller then stores the data raw). It fails
 * exactly when the final stream, trailing zeros dropped, is longer than cap;
 * nothing is ever written at or past cap. Bytes of buf past the returned
 * length may have been overwritten (with zeros termination dropped). An empty
 * input gives 0 bytes. */
size_t lmz_rc_enc_finish(lmz_rc_enc *e);

/* A whole chunk's stream from the model's view of each byte: symbol i is
 * (cum[i], freq[i]). Returns the stream length, or (size_t)-1 if it does
 * not fit in cap (a block then stores the chunk raw). This is the one
 * chunk-coding loop: the compressor, lmz_chunk_encode (lmz.h), the tests
 * and the benchmarks all call it. */
size_t lmz_rc_encode_chunk(const uint16_t *cum, const uint16_t *freq, uint32_t n, uint8_t *out,
                           size_t cap);

/* ---- decoder ---- */
typedef struct lmz_rc_dec {
    const uint8_t *buf;
    size_t len;
    size_t pos;         /* next byte to read; bytes past len read as 0 */
    uint32_t range;
    uint32_t code;      /* code - low, kept below range */
} lmz_rc_dec;

void lmz_rc_dec_init(lmz_rc_dec *d, const uint8_t *buf, size_t len);
/* The value in [0, LMZ_PROB_TOTAL) that names the next symbol: the symbol s
 * with cum[s] <= value < cum[s] + freq[s]. Never fails, whatever the bytes. */
uint32_t lmz_rc_dec_target(lmz_rc_dec *d);
/* Remove the symbol found with lmz_rc_dec_target from the stream. (A bad
 * (cum, freq) is clamped into the table rather than trusted, so no input
 * makes the decoder loop or misbehave.) */
void lmz_rc_dec_consume(lmz_rc_dec *d, uint32_t cum, uint32_t freq);

/* ---- frequency-table helpers ---- */
/* cum[0] = 0, cum[s+1] = cum[s] + freq[s]; cum[256] == LMZ_PROB_TOTAL for a
 * valid table. */
void lmz_freq_to_cum(const uint16_t freq[LMZ_VOCAB], uint32_t cum[LMZ_VOCAB + 1]);
/* The symbol s with cum[s] <= target < cum[s+1] (binary search). Always in
 * [0, 255], whatever the table or target. */
int lmz_cum_find(const uint32_t cum[LMZ_VOCAB + 1], uint32_t target);
/* 1 if every freq >= 1 and they sum to LMZ_PROB_TOTAL, else 0. */
int lmz_freq_valid(const uint16_t freq[LMZ_VOCAB]);
/* Ideal code length in bits of symbol sym under the table: -log2(f/total);
 * INFINITY for a zero frequency or a symbol outside [0, 255]. */
double lmz_freq_cost_bits(const uint16_t freq[LMZ_VOCAB], int sym);

#endif
