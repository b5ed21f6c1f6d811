/* bench_coder.c: how close the range coder comes to the ideal code length.
 *
 *   bench_coder [text-file [max-bytes]]
 *
 * Real text is cut into 2048-byte chunks, each coded as its own stream (as
 * lmz codes a block's chunks). The tables come from an adaptive order-2
 * context model (order-2 counts mixed with order-1 and order-0, so every
 * freq >= 1) normalised to exactly 2^16 the way docs/inference.md normalises
 * the transformer's output; the same table encodes and decodes each symbol.
 * Reported: the ideal length (sum of -log2(freq / 2^16)), the length of the
 * coder's final interval (the ideal plus the coder's rounding, without
 * termination), the termination bytes, speed, and the cost of a
 * near-certain symbol (freq 65281). Every chunk is decoded and compared. */
#include "lmz_coder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK 2048
#define CUM_N (LMZ_VOCAB + 1)
#define STREAM_CAP (CHUNK * 3 + 64)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
            if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
                free(buf);
                buf = NULL;
            } else {
                *len = (size_t)n;
            }
        }
    }
    fclose(f);
    return buf;
}

/* argv[1], else $LMZ_DATA_DIR/text/enwiki-dev.xml, else ../shared/data/...
 * from the cwd or one or two levels further up (a build dir, its bench/). */
static const char *find_input(int argc, char **argv, char *buf, size_t cap)
{
    if (argc > 1)
        return argv[1];
    const char *rel = "text/enwiki-dev.xml";
    const char *env = getenv("LMZ_DATA_DIR");
    if (env) {
        snprintf(buf, cap, "%s/%s", env, rel);
        FILE *f = fopen(buf, "rb");
        if (f) {
            fclose(f);
            return buf;
        }
    }
    const char *ups[] = {"../shared/data", "../../shared/data", "../../../shared/data"};
    for (size_t i = 0; i < sizeof ups / sizeof ups[0]; i++) {
        snprintf(buf, cap, "%s/%s", ups[i], rel);
        FILE *f = fopen(buf, "rb");
        if (f) {
            fclose(f);
            return buf;
        }
    }
    return NULL;
}

/* ---- the context model ---- */

/* Counts are halved past this total, so the model adapts and stays peaked. */
#define COUNT_LIMIT 4000

typedef struct {
    uint16_t o2[1 << 16][LMZ_VOCAB]; /* by the previous two bytes */
    uint32_t n2[1 << 16];
    uint16_t o1[LMZ_VOCAB][LMZ_VOCAB];
    uint32_t n1[LMZ_VOCAB];
    uint32_t o0[LMZ_VOCAB];
    uint32_t n0;
} model;

/* The table for the next byte after context (p2, p1): a mix whose weights
 * trust a context more the more it has seen, turned into integer weights and
 * normalised as in docs/inference.md: 1 + floor(w * 65280 / W), the rest to
 * the first heaviest symbol. */
static void model_table(const model *m, unsigned ctx2, unsigned p1, uint32_t cum[CUM_N])
{
    const uint16_t *c2 = m->o2[ctx2], *c1 = m->o1[p1];
    double n2 = m->n2[ctx2], n1 = m->n1[p1], n0 = m->n0;
    double w2 = n2 / (n2 + 1.5);
    double w1 = (1 - w2) * n1 / (n1 + 1.5);
    double w0 = 1 - w2 - w1;
    double s2 = n2 > 0 ? w2 / n2 : 0, s1 = n1 > 0 ? w1 / n1 : 0;
    double s0 = w0 / (n0 + LMZ_VOCAB);
    uint64_t w[LMZ_VOCAB], total = 0;
    int best = 0;
    for (int s = 0; s < LMZ_VOCAB; s++) {
        double q = s2 * c2[s] + s1 * c1[s] + s0 * (m->o0[s] + 1.0);
        w[s] = (uint64_t)(q * 1099511627776.0); /* 2^40 */
        total += w[s];
        if (w[s] > w[best])
            best = s;
    }
    uint32_t sum = 0;
    uint16_t freq[LMZ_VOCAB];
    for (int s = 0; s < LMZ_VOCAB; s++) {
        freq[s] = (uint16_t)(1 + w[s] * (LMZ_PROB_TOTAL - LMZ_VOCAB) / total);
        sum += freq[s];
    }
    freq[best] = (uint16_t)(freq[best] + LMZ_PROB_TOTAL - sum);
    lmz_freq_to_cum(freq, cum);
}

static void halve16(uint16_t *c, uint32_t *n)
{
    *n = 0;
    for (int s = 0; s < LMZ_VOCAB; s++)
        *n += c[s] = (uint16_t)(c[s] >> 1);
}

static void model_update(model *m, unsigned ctx2, unsigned p1, uint8_t b)
{
    m->o2[ctx2][b] += 2;
    m->n2[ctx2] += 2;
    if (m->n2[ctx2] > COUNT_LIMIT)
        halve16(m->o2[ctx2], &m->n2[ctx2]);
    m->o1[p1][b] += 2;
    m->n1[p1] += 2;
    if (m->n1[p1] > COUNT_LIMIT)
        halve16(m->o1[p1], &m->n1[p1]);
    m->o0[b]++;
    m->n0++;
}

/* ---- coding one chunk ---- */

typedef struct {
    double ideal_bits, interval_bits;
    size_t symbols, stream_bytes, chunks;
    double enc_s, dec_s;
    size_t bad_chunks;
} totals;

/* Symbol i is coded with table cum[i & mask]: mask CHUNK - 1 gives every
 * symbol its own table, 0 one table for all, HOT - 1 a few in turn. */

/* Encode n symbols; return the stream length and the final interval's
 * length in bits (before termination). The window's four bytes end at byte
 * pos + pending + started of the stream. */
static size_t encode(const uint8_t *sym, size_t n, const uint32_t (*cum)[CUM_N], size_t mask,
                     uint8_t *out, double *interval_bits)
{
    lmz_rc_enc e;
    lmz_rc_enc_init(&e, out, STREAM_CAP);
    for (size_t i = 0; i < n; i++) {
        const uint32_t *c = cum[i & mask];
        lmz_rc_enc_put(&e, c[sym[i]], c[sym[i] + 1] - c[sym[i]]);
    }
    double shifts = (double)(e.pos + e.pending + (uint64_t)e.started);
    *interval_bits = 32.0 + 8.0 * shifts - log2((double)e.range);
    return lmz_rc_enc_finish(&e);
}

static void decode(const uint8_t *in, size_t len, size_t n, const uint32_t (*cum)[CUM_N],
                   size_t mask, uint8_t *out)
{
    lmz_rc_dec d;
    lmz_rc_dec_init(&d, in, len);
    for (size_t i = 0; i < n; i++) {
        const uint32_t *c = cum[i & mask];
        int s = lmz_cum_find(c, lmz_rc_dec_target(&d));
        out[i] = (uint8_t)s;
        lmz_rc_dec_consume(&d, c[s], c[s + 1] - c[s]);
    }
}

static void code_chunk(const uint8_t *sym, size_t n, const uint32_t (*cum)[CUM_N], size_t mask,
                       totals *t)
{
    static uint8_t stream[STREAM_CAP], back[CHUNK];
    double ibits, t0 = now_s();
    size_t len = encode(sym, n, cum, mask, stream, &ibits);
    double t1 = now_s();
    if (len == (size_t)-1) {
        t->bad_chunks++;
        return;
    }
    decode(stream, len, n, cum, mask, back);
    double t2 = now_s();
    t->bad_chunks += memcmp(back, sym, n) != 0;
    for (size_t i = 0; i < n; i++) {
        const uint32_t *c = cum[i & mask];
        t->ideal_bits += 16.0 - log2((double)(c[sym[i] + 1] - c[sym[i]]));
    }
    t->interval_bits += ibits;
    t->symbols += n;
    t->stream_bytes += len;
    t->chunks++;
    t->enc_s += t1 - t0;
    t->dec_s += t2 - t1;
}

/* ---- the measurements ---- */

/* A few real tables from the text run, for the hot-cache speed test. */
#define HOT 16
static uint32_t hot_cum[HOT][CUM_N];
static int have_hot;

static int bench_text(const char *path, const uint8_t *data, size_t len)
{
    model *m = calloc(1, sizeof *m);
    uint32_t (*cum)[CUM_N] = malloc(sizeof(uint32_t) * CUM_N * CHUNK);
    if (!m || !cum) {
        fprintf(stderr, "bench_coder: out of memory\n");
        free(m);
        free(cum);
        return 1;
    }
    totals t = {0};
    double model_s = 0;
    for (size_t at = 0; at < len; at += CHUNK) {
        size_t n = len - at < CHUNK ? len - at : CHUNK;
        double t0 = now_s();
        /* The model runs across chunks (it stands in for a trained model);
         * each chunk is its own stream. */
        for (size_t i = 0; i < n; i++) {
            size_t k = at + i;
            unsigned p1 = k >= 1 ? data[k - 1] : 0, p2 = k >= 2 ? data[k - 2] : 0;
            model_table(m, (p2 << 8) | p1, p1, cum[i]);
            model_update(m, (p2 << 8) | p1, p1, data[k]);
        }
        model_s += now_s() - t0;
        if (!have_hot && at >= len / 2 && n >= HOT) {
            memcpy(hot_cum, cum, sizeof hot_cum);
            have_hot = 1;
        }
        code_chunk(data + at, n, (const uint32_t (*)[CUM_N])cum, CHUNK - 1, &t);
    }
    free(m);
    free(cum);

    double over = t.interval_bits - t.ideal_bits;
    double term_bits = 8.0 * (double)t.stream_bytes - t.interval_bits;
    double mb = (double)t.symbols / 1e6;
    printf("lmz range coder vs the ideal code length of the same integer tables\n\n");
    printf("input           %s\n", path);
    printf("                %zu bytes, %zu chunks of up to %d, one stream each\n", len, t.chunks,
           CHUNK);
    printf("tables          adaptive order-2/1/0 mix, total 2^16, freq >= 1 (%.1f s to build)\n\n",
           model_s);
    printf("  %-34s %16s %12s\n", "", "bits", "bits/byte");
    printf("  %-34s %16.1f %12.5f\n", "ideal  sum -log2(f/65536)", t.ideal_bits,
           t.ideal_bits / (double)t.symbols);
    printf("  %-34s %16.1f %12.5f\n", "coder, termination excluded", t.interval_bits,
           t.interval_bits / (double)t.symbols);
    printf("  %-34s %16.1f %12.5f\n", "stream (bytes x 8)", 8.0 * (double)t.stream_bytes,
           8.0 * (double)t.stream_bytes / (double)t.symbols);
    printf("\n  overhead, termination excluded   %+.4f %%  (%.6f bits/symbol)\n",
           100.0 * over / t.ideal_bits, over / (double)t.symbols);
    printf("  termination                      %.3f bytes/chunk on average\n",
           term_bits / 8.0 / (double)t.chunks);
    printf("  overhead, everything             %+.4f %%\n",
           100.0 * (8.0 * (double)t.stream_bytes - t.ideal_bits) / t.ideal_bits);
    printf("  encode, tables from memory       %.1f MB/s\n", mb / t.enc_s);
    printf("  decode, tables from memory       %.1f MB/s  (binary search in each table)\n",
           mb / t.dec_s);
    printf("  round trip                       %s\n\n",
           t.bad_chunks ? "FAILED" : "every chunk decodes exactly");
    if (over / t.ideal_bits >= 0.001)
        printf("  WARNING: overhead above 0.1 %%\n\n");
    return t.bad_chunks != 0;
}

/* The coder alone, with its tables in L1 as when a model hands over each
 * table right before it is coded: 16 real tables from the text run, each
 * symbol drawn from its own table (so it costs what text costs). In the text
 * run above the chunk's 2 MB of tables come from memory, and the decoder's
 * binary search waits on it. */
static int bench_hot(void)
{
    enum { ROUNDS = 2000 };
    static uint8_t sym[CHUNK];
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < CHUNK; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        sym[i] = (uint8_t)lmz_cum_find(hot_cum[i % HOT], (uint32_t)(x >> 48));
    }
    totals t = {0};
    for (int r = 0; r < ROUNDS; r++)
        code_chunk(sym, CHUNK, (const uint32_t (*)[CUM_N])hot_cum, HOT - 1, &t);
    double mb = (double)t.symbols / 1e6;
    printf("coder alone, tables hot in cache (%d real tables in turn, %.2f bits/byte)\n\n",
           HOT, t.ideal_bits / (double)t.symbols);
    printf("  encode                           %.1f MB/s\n", mb / t.enc_s);
    printf("  decode                           %.1f MB/s  (binary search in each table)\n\n",
           mb / t.dec_s);
    return t.bad_chunks != 0;
}

/* A symbol at 65281 (the most a table can give, docs/inference.md) coded
 * over and over: once as one long run (the coder's steady state) and as
 * 2048-symbol chunks (with termination). */
static int bench_near_certain(void)
{
    enum { LONG_RUN = 1 << 22, CHUNKS = 256 };
    static uint32_t cum[1][CUM_N];
    static uint8_t sym[CHUNK];
    uint16_t freq[LMZ_VOCAB];
    const double ideal = 16.0 - log2(65281.0);
    int bad = 0;

    printf("near-certain symbol: freq 65281, ideal %.6f bits/symbol\n\n", ideal);
    printf("  %-18s %14s %10s %16s %14s\n", "likely symbol", "bits/sym", "overhead",
           "bytes/2048 chunk", "enc MB/s");
    const int likely_at[3] = {0, 128, 255};
    for (int li = 0; li < 3; li++) {
        int likely = likely_at[li];
        for (int s = 0; s < LMZ_VOCAB; s++)
            freq[s] = 1;
        freq[likely] = LMZ_PROB_TOTAL - (LMZ_VOCAB - 1);
        lmz_freq_to_cum(freq, cum[0]);
        uint32_t c = cum[0][likely], f = freq[likely];

        lmz_rc_enc e;
        static uint8_t sink[64];
        lmz_rc_enc_init(&e, sink, 0); /* only the interval is wanted */
        double t0 = now_s();
        for (size_t i = 0; i < LONG_RUN; i++)
            lmz_rc_enc_put(&e, c, f);
        double secs = now_s() - t0;
        double shifts = (double)(e.pos + e.pending + (uint64_t)e.started);
        double bits = (32.0 + 8.0 * shifts - log2((double)e.range)) / LONG_RUN;

        memset(sym, likely, sizeof sym);
        totals t = {0};
        for (int k = 0; k < CHUNKS; k++)
            code_chunk(sym, CHUNK, (const uint32_t (*)[CUM_N])cum, 0, &t);
        bad |= t.bad_chunks != 0;
        printf("  %-18d %14.6f %+9.2f%% %16.2f %14.1f\n", likely, bits,
               100.0 * (bits - ideal) / ideal, (double)t.stream_bytes / CHUNKS,
               LONG_RUN / 1e6 / secs);
    }
    printf("\n  (bits/sym: one run of %d symbols, termination excluded; bytes/2048 chunk:\n"
           "   whole streams; ideal for 2048 symbols is %.2f bytes)\n",
           LONG_RUN, ideal * CHUNK / 8.0);
    return bad;
}

int main(int argc, char **argv)
{
    char pathbuf[1024];
    const char *path = find_input(argc, argv, pathbuf, sizeof pathbuf);
    size_t len = 0;
    uint8_t *data = path ? read_file(path, &len) : NULL;
    if (!data) {
        fprintf(stderr, "bench_coder: cannot read %s (give a text file as argv[1])\n",
                path ? path : "text/enwiki-dev.xml under $LMZ_DATA_DIR or ../shared/data");
        return 1;
    }
    if (argc > 2) {
        size_t max = (size_t)strtoull(argv[2], NULL, 10);
        if (max > 0 && max < len)
            len = max;
    }
    int bad = bench_text(path, data, len);
    free(data);
    if (have_hot)
        bad |= bench_hot();
    bad |= bench_near_certain();
    return bad;
}
