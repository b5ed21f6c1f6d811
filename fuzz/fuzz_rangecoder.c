/* fuzz_rangecoder: the range decoder on arbitrary bytes (coder/).
 *
 * Input: [mode u8][count u16][table seed bytes...][stream...]. The first
 * bytes choose how the frequency tables are made (fixed, skewed, taken from
 * the input, adaptive per position like a model's, or raw (cum, freq) pairs
 * that break the table rules); the rest is the coded stream. The decoder
 * must take any bytes without crashing, looping or reading out of bounds,
 * and always name a symbol of the table. Then the properties the archive
 * relies on are checked on what came out:
 *   - re-encoding the decoded symbols with the same tables gives a stream
 *     that decodes to the same symbols (the coder is lossless);
 *   - that stream has no trailing zero byte (minimal termination);
 *   - encoding into a buffer one byte too small fails (returns -1) without
 *     writing past it, and into a buffer of exactly its length succeeds with
 *     the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "lmz_coder.h"

#define MAX_SYMBOLS 2048 /* one chunk */

enum { T_UNIFORM, T_SKEWED, T_FROM_INPUT, T_ADAPTIVE, T_RAW_PAIRS, T_NMODES };

/* Weights (each >= 1) to a valid table: every frequency >= 1, total 2^16. */
static void normalize(const uint32_t w[LMZ_VOCAB], uint16_t freq[LMZ_VOCAB])
{
    uint64_t total = 0;
    for (int s = 0; s < LMZ_VOCAB; s++)
        total += w[s];
    uint32_t sum = 0, best = 0;
    for (int s = 0; s < LMZ_VOCAB; s++) {
        freq[s] = (uint16_t)(1 + (uint64_t)w[s] * (LMZ_PROB_TOTAL - LMZ_VOCAB) / total);
        sum += freq[s];
        if (freq[s] > freq[best])
            best = (uint32_t)s;
    }
    /* the rounding remainder goes to the most likely symbol */
    freq[best] = (uint16_t)(freq[best] + (LMZ_PROB_TOTAL - sum));
}

typedef struct tables {
    int mode;
    uint8_t seed[LMZ_VOCAB];
    uint32_t counts[LMZ_VOCAB]; /* T_ADAPTIVE: order-0 counts so far */
    const uint8_t *pairs;       /* T_RAW_PAIRS: 4 bytes per position */
    size_t npairs;
    uint16_t freq[LMZ_VOCAB];   /* the current table */
    uint32_t cum[LMZ_VOCAB + 1];
} tables;

/* Make t->freq/cum the table for position i. Tables change every 8
 * positions (skewed: another symbol is the likely one), every 32 (adaptive,
 * like a model that learns), or never (uniform, from the input). */
static void table_at(tables *t, uint32_t i)
{
    uint32_t w[LMZ_VOCAB];
    switch (t->mode) {
    case T_UNIFORM:
    case T_FROM_INPUT:
        if (i > 0)
            return;
        for (int s = 0; s < LMZ_VOCAB; s++)
            w[s] = t->mode == T_UNIFORM ? 1 : 1 + (uint32_t)t->seed[s] * t->seed[s];
        normalize(w, t->freq);
        break;
    case T_SKEWED: /* one symbol near-certain, as on confident text */
        if (i % 8)
            return;
        for (int s = 0; s < LMZ_VOCAB; s++)
            t->freq[s] = 1;
        t->freq[t->seed[(i / 8) % LMZ_VOCAB]] = LMZ_PROB_TOTAL - (LMZ_VOCAB - 1);
        break;
    default: /* T_ADAPTIVE */
        if (i % 32)
            return;
        for (int s = 0; s < LMZ_VOCAB; s++)
            w[s] = 1 + 32 * t->counts[s];
        normalize(w, t->freq);
        break;
    }
    FZ_ASSERT(lmz_freq_valid(t->freq));
    lmz_freq_to_cum(t->freq, t->cum);
    FZ_ASSERT(t->cum[LMZ_VOCAB] == LMZ_PROB_TOTAL);
}

/* Decode up to n symbols of stream (len bytes) into out. */
static void decode(tables *t, const uint8_t *stream, size_t len, uint32_t n, uint8_t *out)
{
    lmz_rc_dec d;
    lmz_rc_dec_init(&d, stream, len);
    memset(t->counts, 0, sizeof t->counts);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t target = lmz_rc_dec_target(&d);
        FZ_ASSERT(target < LMZ_PROB_TOTAL);
        if (t->mode == T_RAW_PAIRS) {
            /* A caller with a broken table: consume must clamp, not loop. */
            const uint8_t *p = t->pairs + 4 * (size_t)(i % (t->npairs ? t->npairs : 1));
            uint32_t cum = t->npairs ? (uint32_t)(p[0] | p[1] << 8) : 0;
            uint32_t freq = t->npairs ? (uint32_t)(p[2] | p[3] << 8) : 0;
            lmz_rc_dec_consume(&d, cum, freq);
            out[i] = (uint8_t)target;
            continue;
        }
        table_at(t, i);
        int s = lmz_cum_find(t->cum, target);
        FZ_ASSERT(s >= 0 && s < LMZ_VOCAB);
        FZ_ASSERT(t->cum[s] <= target && target < t->cum[s + 1]);
        lmz_rc_dec_consume(&d, t->cum[s], t->freq[s]);
        out[i] = (uint8_t)s;
        t->counts[s]++;
    }
}

/* Encode syms with the tables into buf (cap bytes): the finished length or
 * (size_t)-1. */
static size_t encode(tables *t, const uint8_t *syms, uint32_t n, uint8_t *buf, size_t cap)
{
    lmz_rc_enc e;
    lmz_rc_enc_init(&e, buf, cap);
    memset(t->counts, 0, sizeof t->counts);
    for (uint32_t i = 0; i < n; i++) {
        table_at(t, i);
        lmz_rc_enc_put(&e, t->cum[syms[i]], t->freq[syms[i]]);
        t->counts[syms[i]]++;
    }
    return lmz_rc_enc_finish(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in;
    fz_init(&in, data, size);
    tables t;
    memset(&t, 0, sizeof t);
    t.mode = fz_u8(&in) % T_NMODES;
    uint32_t n = fz_u16(&in) % (MAX_SYMBOLS + 1);
    if (t.mode == T_SKEWED || t.mode == T_FROM_INPUT) {
        size_t got;
        const uint8_t *p = fz_bytes(&in, LMZ_VOCAB, &got);
        memcpy(t.seed, p, got);
    }
    if (t.mode == T_RAW_PAIRS) {
        size_t got;
        t.npairs = fz_u8(&in);
        t.pairs = fz_bytes(&in, 4 * t.npairs, &got);
        t.npairs = got / 4;
    }
    size_t len;
    const uint8_t *stream = fz_bytes(&in, fz_left(&in), &len);
    /* An exact copy, so that ASan sees any read past the stream's end. */
    uint8_t *copy = malloc(len ? len : 1);
    uint8_t *syms = malloc(n ? n : 1);
    FZ_ASSERT(copy && syms);
    memcpy(copy, stream, len);
    decode(&t, copy, len, n, syms);
    free(copy);

    if (t.mode != T_RAW_PAIRS) {
        /* Worst case: a 1/2^16 symbol costs 16 bits (a little more with the
         * range >> 16 truncation), plus termination. */
        size_t cap = 2 * (size_t)n + n / 64 + 16;
        uint8_t *buf = malloc(cap);
        FZ_ASSERT(buf);
        size_t got = encode(&t, syms, n, buf, cap);
        FZ_ASSERT(got != (size_t)-1 && got <= cap);
        FZ_ASSERT(got == 0 || buf[got - 1] != 0);
        uint8_t *exact = malloc(got ? got : 1), *again = malloc(n ? n : 1);
        FZ_ASSERT(exact && again);
        memcpy(exact, buf, got);
        decode(&t, exact, got, n, again);
        FZ_ASSERT(memcmp(again, syms, n) == 0);
        /* exactly enough room: the same stream */
        size_t got2 = encode(&t, syms, n, exact, got);
        FZ_ASSERT(got2 == got && memcmp(exact, buf, got) == 0);
        /* one byte short: fails, writes nothing past the (exact) buffer */
        if (got > 0) {
            uint8_t *small = malloc(got - 1 ? got - 1 : 1);
            FZ_ASSERT(small);
            FZ_ASSERT(encode(&t, syms, n, small, got - 1) == (size_t)-1);
            free(small);
        }
        free(exact);
        free(again);
        free(buf);
    }
    free(syms);
    return 0;
}
