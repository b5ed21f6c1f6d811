/* rangecoder.c: the 32-bit range coder of lmz_coder.h.
 *
 * The encoder is the LZMA range coder's integer arithmetic with a fixed total
 * of 2^16:
 *   - low holds 33 bits: 32 bits of the interval's lower end inside the
 *     current 4-byte window plus one carry bit;
 *   - a byte leaves the window only once it is known not to change, except
 *     for a carry: it waits in `cache`, followed by `pending` 0xFF bytes that
 *     a carry would turn into 0x00;
 *   - LZMA's stream starts with a byte that is always 0 (the cache before the
 *     first shift); lmz never emits it (started == 0 stands for that byte).
 *
 * Output bytes go through put_byte(), which stores zero bytes past cap
 * without complaint (they are not stored, only counted): finish() drops
 * trailing zeros anyway, so only a non-zero byte past cap is an overflow.
 * That way finish() fails exactly when the final, trimmed stream would not
 * fit, never because of zeros it was going to drop. */
#include "lmz_coder.h"
#include "lmz_rc_core.h"

#define RC_TOP (1u << 24) /* renormalise while range < RC_TOP */

/* ---- encoder ---- */

void lmz_rc_enc_init(lmz_rc_enc *e, uint8_t *buf, size_t cap)
{
    e->buf = buf;
    e->cap = cap;
    e->pos = 0;
    e->low = 0;
    e->range = 0xFFFFFFFFu;
    e->cache = 0;
    e->pending = 0;
    e->started = 0;
    e->overflow = 0;
}

/* Append one byte to the stream. pos counts every byte produced, stored or
 * not; only bytes below cap are stored. */
static void put_byte(lmz_rc_enc *e, uint8_t b)
{
    if (e->pos < e->cap)
        e->buf[e->pos] = b;
    else if (b != 0)
        e->overflow = 1;
    e->pos++;
}

/* Move the top byte of the window out of low (LZMA's ShiftLow). If that byte
 * is 0xFF and there is no carry, a later carry could still ripple through
 * it, so it joins the pending run; otherwise cache and the pending run are
 * final (plus the carry, if any) and are written. */
static void shift_low(lmz_rc_enc *e)
{
    if (e->low < 0xFF000000u || e->low >= 0x100000000u) {
        uint8_t carry = (uint8_t)(e->low >> 32);
        /* Before the first real byte, cache is LZMA's leading zero byte. The
         * interval never leaves [0, 1) at that scale, so it never gets a
         * carry and is simply not written. */
        if (e->started)
            put_byte(e, (uint8_t)(e->cache + carry));
        for (; e->pending > 0; e->pending--)
            put_byte(e, (uint8_t)(0xFFu + carry));
        e->cache = (uint8_t)(e->low >> 24);
        e->started = 1;
    } else {
        e->pending++;
    }
    e->low = (e->low & 0x00FFFFFFu) << 8;
}

void lmz_rc_enc_put(lmz_rc_enc *e, uint32_t cum, uint32_t freq)
{
    /* A zero frequency would leave range 0 and renormalise forever; an
     * out-of-table symbol cannot be decoded. Both are caller bugs: mark the
     * stream unusable (finish fails, the caller stores the chunk raw). */
    if (freq == 0 || cum >= LMZ_PROB_TOTAL || freq > LMZ_PROB_TOTAL - cum) {
        e->overflow = 1;
        return;
    }
    uint32_t r = e->range >> LMZ_PROB_BITS;
    e->low += (uint64_t)r * cum;
    e->range = r * freq;
    /* range >= 256 here (r >= 256, freq >= 1): at most two shifts. */
    while (e->range < RC_TOP) {
        e->range <<= 8;
        shift_low(e);
    }
}

/* The value in [low, low + range) with the most trailing zero bits. The
 * decoder reads zeros past the end of the stream, so a value whose low bits
 * are zero needs none of those bits written: this choice gives the shortest
 * stream. For the largest k that has a multiple of 2^k in the interval that
 * multiple is unique (two would include a multiple of 2^(k+1)). */
static uint64_t roundest_value(uint64_t low, uint32_t range)
{
    for (int k = 40; k > 0; k--) {
        uint64_t mask = ((uint64_t)1 << k) - 1;
        uint64_t v = (low + mask) & ~mask;
        if (v - low < range)
            return v;
    }
    return low; /* k = 0: low itself is in the interval */
}

size_t lmz_rc_enc_finish(lmz_rc_enc *e)
{
    e->low = roundest_value(e->low, e->range);
    /* range >= 2^24, so the chosen value is a multiple of 2^24: of the
     * window only its top byte (and the carry) can be non-zero. The first
     * shift settles cache and the pending run and takes that byte into
     * cache; the second writes it (the next top byte is 0, so it cannot
     * become pending). */
    shift_low(e);
    shift_low(e);
    if (e->overflow)
        return (size_t)-1;
    /* Every byte at or past cap was a zero (else overflow): the stored part
     * holds every non-zero byte. Drop the trailing zeros. */
    size_t n = e->pos < e->cap ? e->pos : e->cap;
    while (n > 0 && e->buf[n - 1] == 0)
        n--;
    return n;
}

/* ---- decoder ---- */

/* The decoder's arithmetic lives in lmz_rc_core.h, shared with the CUDA
 * backend's device-side decoder. */

void lmz_rc_dec_init(lmz_rc_dec *d, const uint8_t *buf, size_t len)
{
    lmz_rc_core_dec_init(d, buf, len);
}

uint32_t lmz_rc_dec_target(lmz_rc_dec *d)
{
    return lmz_rc_core_dec_target(d);
}

void lmz_rc_dec_consume(lmz_rc_dec *d, uint32_t cum, uint32_t freq)
{
    lmz_rc_core_dec_consume(d, cum, freq);
}

size_t lmz_rc_encode_chunk(const uint16_t *cum, const uint16_t *freq, uint32_t n, uint8_t *out,
                           size_t cap)
{
    lmz_rc_enc e;
    lmz_rc_enc_init(&e, out, cap);
    for (uint32_t i = 0; i < n; i++)
        lmz_rc_enc_put(&e, cum[i], freq[i]);
    return lmz_rc_enc_finish(&e);
}
