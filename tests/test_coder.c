/* test_coder.c: the range coder and the frequency-table helpers.
 *
 * Every stream is checked four ways: it decodes back; it is byte for byte
 * what a naive reference encoder (carry propagated by walking back through
 * the output, termination chosen by a different formula) produces; it is
 * minimal (no trailing zero byte, dropping its last byte breaks decoding, and
 * its length is within the proven bound of the ideal code length); and it is
 * decoded from an exact-size heap copy so that ASan sees any over-read.
 * Corrupt and truncated streams must decode to *some* symbols safely. */
#include "lmz_coder.h"
#include "testutil.h"

#include <math.h>
#include <string.h>

#define MAXN 2048               /* longest chunk */
#define CUM_N (LMZ_VOCAB + 1)   /* entries of one cumulative table */
#define STREAM_CAP (MAXN * 3 + 64)

/* Worst loss of one coding step: range = r * freq with r = floor(range /
 * 2^16) drops at most 65535 of range >= 2^24. */
static const double STEP_LOSS_BITS = 0.00564;

/* ---- tables ---- */

/* Turn non-negative weights (< 2^40) into a valid table the way
 * docs/inference.md does: 1 + floor(w * 65280 / W), remainder to the first
 * heaviest symbol. */
static void weights_to_freq(const uint64_t w[LMZ_VOCAB], uint16_t freq[LMZ_VOCAB])
{
    uint64_t total = 0;
    int best = 0;
    for (int s = 0; s < LMZ_VOCAB; s++) {
        total += w[s];
        if (w[s] > w[best])
            best = s;
    }
    uint32_t sum = 0;
    for (int s = 0; s < LMZ_VOCAB; s++) {
        uint64_t f = 1 + (total ? w[s] * (LMZ_PROB_TOTAL - LMZ_VOCAB) / total : 0);
        freq[s] = (uint16_t)f;
        sum += (uint32_t)f;
    }
    freq[best] = (uint16_t)(freq[best] + (LMZ_PROB_TOTAL - sum));
}

/* A random table of one of several shapes: flat noise, heavy-tailed
 * (log-uniform weights: a few symbols dominate), sparse, and model-like
 * (softmax of random logits with a random temperature, often near-certain). */
static void random_freq(uint16_t freq[LMZ_VOCAB], uint64_t *rs)
{
    uint64_t w[LMZ_VOCAB];
    int kind = (int)(tu_rand(rs) % 4);
    double temp = 0.2 + (double)(tu_rand(rs) % 1000) / 100.0;
    for (int s = 0; s < LMZ_VOCAB; s++) {
        uint64_t x = tu_rand(rs);
        switch (kind) {
        case 0: w[s] = x >> 44; break;
        case 1: w[s] = (x >> 24) >> (x % 41); break;
        case 2: w[s] = (x % 16 == 0) ? (x >> 40) : 0; break;
        default: {
            double logit = (double)(x >> 11) / 9007199254740992.0 * 30.0;
            w[s] = (uint64_t)(exp((logit - 30.0) / temp * 8.0) * 1e12);
        }
        }
    }
    weights_to_freq(w, freq);
}

/* One symbol at 65281, the other 255 at 1. */
static void peaked_freq(uint16_t freq[LMZ_VOCAB], int likely)
{
    for (int s = 0; s < LMZ_VOCAB; s++)
        freq[s] = 1;
    freq[likely] = LMZ_PROB_TOTAL - (LMZ_VOCAB - 1);
}

static void uniform_freq(uint16_t freq[LMZ_VOCAB])
{
    for (int s = 0; s < LMZ_VOCAB; s++)
        freq[s] = LMZ_PROB_TOTAL / LMZ_VOCAB;
}

static int draw(const uint32_t cum[CUM_N], uint64_t *rs)
{
    return lmz_cum_find(cum, (uint32_t)(tu_rand(rs) % LMZ_PROB_TOTAL));
}

/* ---- a case: symbols plus their tables ---- */

typedef struct {
    size_t n;
    uint8_t sym[MAXN];
    const uint32_t *cums; /* one cumulative table, or one per symbol */
    size_t stride;        /* 0: the same table for every symbol; CUM_N: one each */
} codecase;

static const uint32_t *cum_at(const codecase *c, size_t i)
{
    return c->cums + i * c->stride;
}

/* Encode; also report the exact interval length in bits before termination
 * and the largest k such that the final range >= 2^k. */
static size_t encode(const codecase *c, uint8_t *buf, size_t cap, double *interval_bits,
                     uint64_t *end_bit)
{
    lmz_rc_enc e;
    lmz_rc_enc_init(&e, buf, cap);
    for (size_t i = 0; i < c->n; i++) {
        const uint32_t *cum = cum_at(c, i);
        lmz_rc_enc_put(&e, cum[c->sym[i]], cum[c->sym[i] + 1] - cum[c->sym[i]]);
    }
    /* The window's 4 bytes end at byte `shifts + 4` of the stream (the
     * skipped leading zero byte not counted). */
    uint64_t shifts = e.pos + e.pending + (uint64_t)e.started;
    if (interval_bits)
        *interval_bits = 32.0 + 8.0 * (double)shifts - log2((double)e.range);
    if (end_bit) {
        int k = 31;
        while (!(e.range >> k))
            k--;
        /* A multiple of 2^k lies in any interval of width >= 2^k. */
        *end_bit = 32 + 8 * shifts - (uint64_t)k;
    }
    return lmz_rc_enc_finish(&e);
}

/* Decode n symbols from an exact-size heap copy of buf; checks that every
 * target is in range. */
static void decode(const codecase *c, const uint8_t *buf, size_t len, uint8_t *out)
{
    uint8_t *copy = len ? malloc(len) : NULL;
    if (len)
        memcpy(copy, buf, len);
    lmz_rc_dec d;
    lmz_rc_dec_init(&d, copy, len);
    for (size_t i = 0; i < c->n; i++) {
        const uint32_t *cum = cum_at(c, i);
        uint32_t t = lmz_rc_dec_target(&d);
        CHECK(t < LMZ_PROB_TOTAL);
        int s = lmz_cum_find(cum, t);
        CHECK(s >= 0 && s < LMZ_VOCAB && cum[s] <= t && t < cum[s + 1]);
        out[i] = (uint8_t)s;
        lmz_rc_dec_consume(&d, cum[s], cum[s + 1] - cum[s]);
    }
    free(copy);
}

/* ---- the reference encoder ---- */

static void ref_carry(uint8_t *out, size_t len)
{
    size_t i = len - 1;
    while (out[i] == 0xFF)
        out[i--] = 0;
    out[i]++;
}

/* Carry applied eagerly to the bytes already written; LZMA's leading zero
 * byte written and removed at the end; termination value found from the
 * highest bit where low - 1 and high differ. */
static size_t ref_encode(const codecase *c, uint8_t *out)
{
    size_t len = 0;
    out[len++] = 0;
    uint64_t low = 0;
    uint32_t range = 0xFFFFFFFFu;
    for (size_t i = 0; i < c->n; i++) {
        const uint32_t *cum = cum_at(c, i);
        uint32_t r = range >> 16;
        low += (uint64_t)r * cum[c->sym[i]];
        range = r * (cum[c->sym[i] + 1] - cum[c->sym[i]]);
        if (low >> 32) {
            ref_carry(out, len);
            low &= 0xFFFFFFFFu;
        }
        while (range < (1u << 24)) {
            out[len++] = (uint8_t)(low >> 24);
            low = (low << 8) & 0xFFFFFFFFu;
            range <<= 8;
        }
    }
    uint64_t v = 0;
    if (low != 0) {
        uint64_t hi = low + range - 1, x = (low - 1) ^ hi;
        int p = 63;
        while (!(x >> p))
            p--;
        v = (hi >> p) << p; /* the one multiple of 2^p in [low, hi] */
    }
    if (v >> 32)
        ref_carry(out, len);
    for (int b = 3; b >= 0; b--)
        out[len++] = (uint8_t)(v >> (8 * b));
    CHECK_EQ_INT(out[0], 0);
    while (len > 1 && out[len - 1] == 0)
        len--;
    memmove(out, out + 1, len - 1);
    return len - 1;
}

/* ---- the full check of one case ---- */

typedef struct {
    size_t cases, bytes, symbols;
    double ideal_bits, interval_bits;
    size_t mismatch, ref_mismatch, not_minimal, trailing_zero, too_long;
} stats;

static stats st;

static double ideal_bits(const codecase *c)
{
    double bits = 0;
    for (size_t i = 0; i < c->n; i++) {
        const uint32_t *cum = cum_at(c, i);
        bits += 16.0 - log2((double)(cum[c->sym[i] + 1] - cum[c->sym[i]]));
    }
    return bits;
}

static void check_case(const codecase *c)
{
    static uint8_t buf[STREAM_CAP], ref[STREAM_CAP], out[MAXN];
    double ibits;
    uint64_t end_bit;
    size_t len = encode(c, buf, sizeof buf, &ibits, &end_bit);
    CHECK(len != (size_t)-1);
    if (len == (size_t)-1)
        return;

    decode(c, buf, len, out);
    int ok = memcmp(out, c->sym, c->n) == 0;
    st.mismatch += !ok;

    size_t rlen = ref_encode(c, ref);
    st.ref_mismatch += rlen != len || memcmp(ref, buf, len) != 0;

    /* Minimal: no trailing zero, and one byte less decodes wrongly. */
    if (len > 0) {
        st.trailing_zero += buf[len - 1] == 0;
        decode(c, buf, len - 1, out);
        st.not_minimal += memcmp(out, c->sym, c->n) == 0;
    }
    /* Bounds: the stream ends by the bit where the final interval is sure to
     * hold a multiple of a power of two; the interval is no longer than the
     * ideal code plus the worst rounding loss per step. */
    double ideal = ideal_bits(c);
    st.too_long += len > (end_bit + 7) / 8;
    st.too_long += ibits > ideal + c->n * STEP_LOSS_BITS + 1e-6 || ibits < ideal - 1e-6;
    st.too_long += len * 8.0 > ideal + c->n * STEP_LOSS_BITS + 1.0 + 7.0 + 1e-6;

    st.cases++;
    st.bytes += len;
    st.symbols += c->n;
    st.ideal_bits += ideal;
    st.interval_bits += ibits;
}

static void report_stats(const char *what)
{
    printf("  %-28s %6zu cases %8zu symbols  ideal %10.0f bits  interval +%.4f%%  "
           "stream %zu bytes\n",
           what, st.cases, st.symbols, st.ideal_bits,
           st.ideal_bits > 0 ? 100.0 * (st.interval_bits - st.ideal_bits) / st.ideal_bits : 0.0,
           st.bytes);
    CHECK_EQ_INT(st.mismatch, 0);
    CHECK_EQ_INT(st.ref_mismatch, 0);
    CHECK_EQ_INT(st.trailing_zero, 0);
    CHECK_EQ_INT(st.not_minimal, 0);
    CHECK_EQ_INT(st.too_long, 0);
    memset(&st, 0, sizeof st);
}

/* ---- tests ---- */

static uint32_t g_cums[MAXN * CUM_N]; /* per-symbol tables for (c) */

static void set_table(uint32_t *cum, const uint16_t freq[LMZ_VOCAB])
{
    CHECK(lmz_freq_valid(freq));
    lmz_freq_to_cum(freq, cum);
}

static void test_helpers(void)
{
    uint64_t rs = 1;
    uint16_t freq[LMZ_VOCAB];
    uint32_t cum[CUM_N];
    for (int t = 0; t < 8; t++) {
        if (t == 0)
            peaked_freq(freq, 0);
        else if (t == 1)
            peaked_freq(freq, 255);
        else
            random_freq(freq, &rs);
        set_table(cum, freq);
        CHECK_EQ_INT(cum[0], 0);
        CHECK_EQ_INT(cum[LMZ_VOCAB], LMZ_PROB_TOTAL);
        for (uint32_t x = 0; x < LMZ_PROB_TOTAL; x++) {
            int s = lmz_cum_find(cum, x);
            if (!(cum[s] <= x && x < cum[s + 1])) {
                CHECK(cum[s] <= x && x < cum[s + 1]);
                break;
            }
        }
        CHECK_EQ_INT(lmz_cum_find(cum, LMZ_PROB_TOTAL), 255);
        CHECK_EQ_INT(lmz_cum_find(cum, 0xFFFFFFFFu), 255);
    }
    uniform_freq(freq);
    CHECK(lmz_freq_valid(freq));
    freq[3] = 0;
    freq[4] = 512;
    CHECK(!lmz_freq_valid(freq)); /* right sum, a zero */
    freq[3] = 1;
    CHECK(!lmz_freq_valid(freq)); /* no zero, sum one too high */
    freq[4] = 510;
    CHECK(!lmz_freq_valid(freq)); /* sum one too low */

    double worst = 0;
    for (int f = 1; f < 65535; f++) {
        freq[7] = (uint16_t)f;
        double err = fabs(lmz_freq_cost_bits(freq, 7) - (16.0 - log2((double)f)));
        worst = err > worst ? err : worst;
    }
    CHECK(worst < 1e-12);
    peaked_freq(freq, 9);
    CHECK(fabs(lmz_freq_cost_bits(freq, 9) - 0.0056245) < 1e-6);
    CHECK_EQ_INT(lmz_freq_cost_bits(freq, 10), 16);
    CHECK(isinf(lmz_freq_cost_bits(freq, 256)));
}

/* (a) one random table per chunk, every length 0..2048, then more chunks of
 * random lengths. */
static void test_random_tables(void)
{
    static codecase c;
    static uint32_t cum[CUM_N];
    uint16_t freq[LMZ_VOCAB];
    uint64_t rs = 42;
    c.cums = cum;
    c.stride = 0;
    for (size_t k = 0; k < MAXN + 1 + 2000; k++) {
        c.n = k <= MAXN ? k : tu_rand(&rs) % (MAXN + 1);
        random_freq(freq, &rs);
        set_table(cum, freq);
        for (size_t i = 0; i < c.n; i++)
            c.sym[i] = (uint8_t)draw(cum, &rs);
        check_case(&c);
    }
    report_stats("(a) random tables");
}

/* (b) one symbol at 65281 and 255 at 1, with the likely symbol at the
 * bottom, the top and the middle of the table; and the uniform table. */
static void test_extreme_tables(void)
{
    static codecase c;
    static uint32_t cum[CUM_N];
    uint16_t freq[LMZ_VOCAB];
    uint64_t rs = 7;
    const int likely_at[3] = {0, 255, 100};
    c.cums = cum;
    c.stride = 0;
    for (int li = 0; li < 3; li++) {
        int likely = likely_at[li];
        peaked_freq(freq, likely);
        set_table(cum, freq);
        for (int pattern = 0; pattern < 7; pattern++) {
            c.n = MAXN;
            for (size_t i = 0; i < c.n; i++) {
                int unlikely = (int)(likely + 1 + tu_rand(&rs) % 255) % 256;
                switch (pattern) {
                case 0: c.sym[i] = (uint8_t)likely; break;              /* 2048 likely */
                case 1: c.sym[i] = (uint8_t)unlikely; break;            /* 2048 unlikely */
                case 2: c.sym[i] = (uint8_t)(i % 2 ? unlikely : likely); break;
                case 3: c.sym[i] = (uint8_t)(i % 64 ? likely : unlikely); break;
                case 4: c.sym[i] = (uint8_t)(i < MAXN - 1 ? likely : unlikely); break;
                case 5: c.sym[i] = (uint8_t)(i ? likely : unlikely); break;
                default: c.sym[i] = (uint8_t)((likely + 1 + i % 255) % 256); break; /* each */
                }
            }
            check_case(&c);
            /* The pattern's short prefixes too, for their endings. */
            for (c.n = 0; c.n < 64; c.n++)
                check_case(&c);
        }
    }
    uniform_freq(freq);
    set_table(cum, freq);
    for (int pattern = 0; pattern < 4; pattern++) {
        c.n = MAXN;
        for (size_t i = 0; i < c.n; i++)
            c.sym[i] = pattern == 0   ? 0
                       : pattern == 1 ? 255
                       : pattern == 2 ? (uint8_t)i
                                      : (uint8_t)tu_rand(&rs);
        check_case(&c);
    }
    report_stats("(b) extreme tables");

    /* The near-certain symbol at the bottom of the table (cum = 0) keeps low
     * at 0: the whole stream is zeros and is dropped. */
    static uint8_t buf[16];
    peaked_freq(freq, 0);
    set_table(cum, freq);
    c.n = MAXN;
    memset(c.sym, 0, c.n);
    CHECK_EQ_INT(encode(&c, buf, 0, NULL, NULL), 0);
}

/* (c) a new table for every symbol, as a model gives. */
static void test_changing_tables(void)
{
    static codecase c;
    uint16_t freq[LMZ_VOCAB];
    uint64_t rs = 99;
    c.cums = g_cums;
    c.stride = CUM_N;
    for (int k = 0; k < 150; k++) {
        c.n = k < 50 ? (size_t)k : tu_rand(&rs) % (MAXN + 1);
        for (size_t i = 0; i < c.n; i++) {
            uint32_t *cum = g_cums + i * CUM_N;
            if (tu_rand(&rs) % 8 == 0)
                peaked_freq(freq, (int)(tu_rand(&rs) % 256));
            else
                random_freq(freq, &rs);
            set_table(cum, freq);
            c.sym[i] = (uint8_t)draw(cum, &rs);
        }
        check_case(&c);
    }
    report_stats("(c) per-symbol tables");
}

/* Tables for decoding garbage: drawn once, picked at random per symbol. */
#define POOL 64
static uint32_t g_pool[POOL][CUM_N];

static void make_pool(uint64_t *rs)
{
    uint16_t freq[LMZ_VOCAB];
    for (int k = 0; k < POOL; k++) {
        if (k < 8)
            peaked_freq(freq, (int)(tu_rand(rs) % 256));
        else if (k < 10)
            uniform_freq(freq);
        else
            random_freq(freq, rs);
        set_table(g_pool[k], freq);
    }
}

/* Decode 2048 symbols from len bytes (an exact-size heap copy). Targets stay
 * in range and nothing is read out of bounds (ASan). */
static void decode_anything(const uint8_t *src, size_t len, uint64_t *rs)
{
    uint8_t *copy = len ? malloc(len) : NULL;
    if (len)
        memcpy(copy, src, len);
    lmz_rc_dec d;
    lmz_rc_dec_init(&d, copy, len);
    int bad = 0;
    for (size_t i = 0; i < MAXN; i++) {
        const uint32_t *cum = g_pool[tu_rand(rs) % POOL];
        uint32_t t = lmz_rc_dec_target(&d);
        int s = lmz_cum_find(cum, t);
        bad += t >= LMZ_PROB_TOTAL || s < 0 || s >= LMZ_VOCAB || cum[s] > t || t >= cum[s + 1];
        lmz_rc_dec_consume(&d, cum[s], cum[s + 1] - cum[s]);
    }
    CHECK_EQ_INT(bad, 0);
    free(copy);
}

/* (d) random garbage and truncated streams. */
static void test_garbage(void)
{
    uint64_t rs = 1234;
    uint8_t tmp[4096];
    make_pool(&rs);
    for (int k = 0; k < 600; k++) {
        size_t len = k < 64 ? (size_t)k : tu_rand(&rs) % sizeof tmp;
        int fill = k % 3;
        for (size_t i = 0; i < len; i++)
            tmp[i] = fill == 0 ? (uint8_t)tu_rand(&rs) : fill == 1 ? 0xFF : (uint8_t)(i & 1 ? 0xFF : 0);
        decode_anything(tmp, len, &rs);
    }
    decode_anything(NULL, 0, &rs);

    /* Truncations of real streams, every cut of a few, random cuts of more. */
    static codecase c;
    static uint32_t cum[CUM_N];
    static uint8_t buf[STREAM_CAP];
    uint16_t freq[LMZ_VOCAB];
    c.cums = cum;
    c.stride = 0;
    for (int k = 0; k < 40; k++) {
        random_freq(freq, &rs);
        set_table(cum, freq);
        c.n = MAXN;
        for (size_t i = 0; i < c.n; i++)
            c.sym[i] = (uint8_t)draw(cum, &rs);
        size_t len = encode(&c, buf, sizeof buf, NULL, NULL);
        CHECK(len != (size_t)-1 && len > 0);
        if (len == (size_t)-1)
            continue;
        for (size_t cut = 0; cut < len; cut += (k < 4 ? 1 : 1 + tu_rand(&rs) % 64))
            decode_anything(buf, cut, &rs);
    }
}

/* (e) a cap too small fails and writes nothing past cap. */
static void test_overflow(void)
{
    enum { GUARD = 32 };
    static codecase c;
    static uint32_t cum[CUM_N];
    static uint8_t full[STREAM_CAP], buf[STREAM_CAP + GUARD];
    uint16_t freq[LMZ_VOCAB];
    uint64_t rs = 555;
    c.cums = cum;
    c.stride = 0;
    int failures = 0;
    for (int k = 0; k < 300; k++) {
        random_freq(freq, &rs);
        set_table(cum, freq);
        c.n = 1 + tu_rand(&rs) % MAXN;
        for (size_t i = 0; i < c.n; i++)
            c.sym[i] = (uint8_t)draw(cum, &rs);
        size_t len = encode(&c, full, sizeof full, NULL, NULL);
        if (len == (size_t)-1 || len == 0)
            continue;
        size_t caps[4] = {0, 1, len / 2, len - 1};
        for (int ci = 0; ci < 5; ci++) {
            size_t cap = ci < 4 ? caps[ci] : len;
            memset(buf, 0xA5, sizeof buf);
            size_t got = encode(&c, buf, cap, NULL, NULL);
            int guard_ok = 1;
            for (size_t i = cap; i < cap + GUARD; i++)
                guard_ok &= buf[i] == 0xA5;
            if (ci < 4)
                failures += got != (size_t)-1 || !guard_ok;
            else
                failures += got != len || memcmp(buf, full, len) != 0 || !guard_ok;
        }
    }
    CHECK_EQ_INT(failures, 0);

    /* A stream that fits only once its trailing zeros are dropped does fit:
     * the likely symbol in the middle of the table, then the bottom one. */
    peaked_freq(freq, 0);
    set_table(cum, freq);
    c.n = MAXN;
    memset(c.sym, 0, c.n);
    c.sym[0] = 200;
    size_t len = encode(&c, full, sizeof full, NULL, NULL);
    memset(buf, 0xA5, sizeof buf);
    CHECK_EQ_INT(encode(&c, buf, len, NULL, NULL), len);
    CHECK_EQ_INT(buf[len], 0xA5);

    /* A symbol outside its table is refused, not coded. */
    lmz_rc_enc e;
    lmz_rc_enc_init(&e, full, sizeof full);
    lmz_rc_enc_put(&e, 0, 0);
    CHECK_EQ_INT(lmz_rc_enc_finish(&e), (size_t)-1);
    lmz_rc_enc_init(&e, full, sizeof full);
    lmz_rc_enc_put(&e, 65535, 2);
    CHECK_EQ_INT(lmz_rc_enc_finish(&e), (size_t)-1);
}

/* (g) nothing in, nothing out; and the empty stream decodes. */
static void test_empty(void)
{
    uint8_t buf[4] = {0xA5, 0xA5, 0xA5, 0xA5};
    lmz_rc_enc e;
    lmz_rc_enc_init(&e, buf, sizeof buf);
    CHECK_EQ_INT(lmz_rc_enc_finish(&e), 0);
    lmz_rc_enc_init(&e, NULL, 0);
    CHECK_EQ_INT(lmz_rc_enc_finish(&e), 0);

    lmz_rc_dec d;
    lmz_rc_dec_init(&d, NULL, 0);
    CHECK_EQ_INT(lmz_rc_dec_target(&d), 0);
}

/* A fixed vector pins the bitstream: a change here is a format change. */
static void test_known_answer(void)
{
    static codecase c;
    static uint32_t cum[CUM_N];
    uint16_t freq[LMZ_VOCAB];
    for (int s = 0; s < LMZ_VOCAB; s++)
        freq[s] = (uint16_t)(s < 128 ? 384 : 128);
    set_table(cum, freq);
    const char *text = "lmz: a lossless compressor";
    c.cums = cum;
    c.stride = 0;
    c.n = strlen(text);
    memcpy(c.sym, text, c.n);
    uint8_t buf[64];
    size_t len = encode(&c, buf, sizeof buf, NULL, NULL);
    static const uint8_t expect[] = {
        0xa2, 0xf5, 0x95, 0xf7, 0x91, 0x5e, 0x83, 0x55, 0x3b, 0x9a, 0x19, 0x41,
        0x9f, 0xa1, 0x0b, 0x0c, 0xb5, 0xc3, 0x9a, 0xe7, 0xd1, 0x0d, 0xa7, 0x9f};
    CHECK_EQ_INT(len, sizeof expect);
    CHECK(len == sizeof expect && memcmp(buf, expect, len) == 0);
    if (len != sizeof expect || memcmp(buf, expect, len) != 0) {
        fprintf(stderr, "known answer:");
        for (size_t i = 0; i < len && len != (size_t)-1; i++)
            fprintf(stderr, " 0x%02x,", buf[i]);
        fprintf(stderr, "\n");
    }
}

int main(void)
{
    test_helpers();
    test_empty();
    test_known_answer();
    test_random_tables();
    test_extreme_tables();
    test_changing_tables();
    test_garbage();
    test_overflow();
    return tu_finish("coder");
}
