/* test_datasets_audio.c: 16-bit audio to the paper's 8-bit chunks
 * (datasets/ds_audio.c, ds_wav.c, ds_flac.c). WAV files are written here by
 * hand, FLAC files with libFLAC; expected bytes come from the rule "high byte
 * (arithmetic shift right 8) + 128", worked out by hand for the edge values. */
#include <stdio.h>
#include <string.h>

#include <FLAC/stream_encoder.h>

#include "lmz_datasets.h"
#include "testutil.h"


/* Prepare several files into one stream, as lmz prepare does. */
static lmz_status prep_audio(const char *const *paths, int n, tu_membuf *m, lmz_ds_info *info,
                             lmz_err *e)
{
    memset(m, 0, sizeof *m);
    lmz_err_clear(e);
    lmz_ds_sink s = {.write = tu_membuf_write, .ctx = m};
    for (int i = 0; i < n; i++) {
        lmz_status rc = lmz_ds_prepare_file(LMZ_DS_AUDIO, paths[i], &s, info, e);
        if (rc)
            return rc;
    }
    return LMZ_OK;
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v & 0xffff);
    put16(p + 2, v >> 16);
}

/* A canonical 44-byte-header WAV; extensible: WAVE_FORMAT_EXTENSIBLE fmt. An
 * extra "LIST" chunk before "data" checks that unknown chunks are skipped. */
static int write_wav(const char *path, const int16_t *s, size_t n, unsigned channels,
                     unsigned bits, int extensible)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    uint32_t fmt_len = extensible ? 40 : 16, data = (uint32_t)(n * 2);
    uint8_t h[12 + 8 + 40 + 8 + 4 + 8];
    size_t k = 0;
    memcpy(h + k, "RIFF", 4);
    put32(h + k + 4, 4 + 8 + fmt_len + 8 + 4 + 8 + data);
    memcpy(h + k + 8, "WAVE", 4);
    k += 12;
    memcpy(h + k, "fmt ", 4);
    put32(h + k + 4, fmt_len);
    k += 8;
    memset(h + k, 0, fmt_len);
    put16(h + k, extensible ? 0xFFFE : 1);
    put16(h + k + 2, channels);
    put32(h + k + 4, 16000);
    put32(h + k + 8, 16000 * channels * bits / 8);
    put16(h + k + 12, channels * bits / 8);
    put16(h + k + 14, bits);
    if (extensible) {
        put16(h + k + 16, 22);
        put16(h + k + 18, bits);
        put16(h + k + 24, 1); /* KSDATAFORMAT_SUBTYPE_PCM starts with 0x0001 */
    }
    k += fmt_len;
    memcpy(h + k, "LIST", 4);
    put32(h + k + 4, 4);
    memcpy(h + k + 8, "INFO", 4);
    k += 12;
    memcpy(h + k, "data", 4);
    put32(h + k + 4, data);
    k += 8;
    fwrite(h, 1, k, f);
    for (size_t i = 0; i < n; i++) {
        uint8_t b[2];
        put16(b, (uint16_t)s[i]);
        fwrite(b, 1, 2, f);
    }
    return fclose(f) == 0;
}

static int write_flac(const char *path, const int16_t *s, size_t n, unsigned channels,
                      unsigned bits)
{
    FLAC__StreamEncoder *enc = FLAC__stream_encoder_new();
    FLAC__stream_encoder_set_channels(enc, channels);
    FLAC__stream_encoder_set_bits_per_sample(enc, bits);
    FLAC__stream_encoder_set_sample_rate(enc, 16000);
    FLAC__stream_encoder_set_compression_level(enc, 5);
    if (FLAC__stream_encoder_init_file(enc, path, NULL, NULL) != FLAC__STREAM_ENCODER_INIT_STATUS_OK) {
        FLAC__stream_encoder_delete(enc);
        return 0;
    }
    FLAC__int32 *buf = malloc(n * channels * sizeof *buf);
    for (size_t i = 0; i < n; i++)
        for (unsigned c = 0; c < channels; c++)
            buf[i * channels + c] = bits == 16 ? s[i] : s[i] / 256;
    int ok = FLAC__stream_encoder_process_interleaved(enc, buf, (uint32_t)n);
    ok &= FLAC__stream_encoder_finish(enc);
    FLAC__stream_encoder_delete(enc);
    free(buf);
    return ok;
}

/* The edge values of the 16-to-8-bit map, by hand: -32768 >> 8 = -128, +128
 * = 0; -1 >> 8 = -1 (arithmetic), + 128 = 127; 0 -> 128; 255 >> 8 = 0 -> 128;
 * 256 >> 8 = 1 -> 129; 32767 >> 8 = 127 -> 255. */
static const int16_t edge_in[] = {-32768, -1, 0, 255, 256, 32767, -256, -257, 127, -129};
static const uint8_t edge_out[] = {0, 127, 128, 128, 129, 255, 127, 126, 128, 127};
#define NEDGE (sizeof edge_in / sizeof edge_in[0])

static void test_map(void)
{
    for (size_t i = 0; i < NEDGE; i++)
        CHECK_EQ_INT(lmz_ds_audio8(edge_in[i]), edge_out[i]);
    /* Every value: the high byte of the two's-complement sample, plus 128. */
    int bad = 0;
    for (int v = -32768; v <= 32767; v++) {
        int hi = (v - (((v % 256) + 256) % 256)) / 256; /* floor(v / 256) */
        bad += lmz_ds_audio8((int16_t)v) != (uint8_t)(hi + 128);
    }
    CHECK_EQ_INT(bad, 0);
}

/* n samples: the edge values first, then a ramp. */
static int16_t *samples(size_t n)
{
    int16_t *s = malloc(n * sizeof *s);
    for (size_t i = 0; i < n; i++)
        s[i] = i < NEDGE ? edge_in[i] : (int16_t)((int)(i * 97 % 65536) - 32768);
    return s;
}

static void check_chunk(const uint8_t *got, const int16_t *s)
{
    for (size_t i = 0; i < NEDGE; i++)
        CHECK_EQ_INT(got[i], edge_out[i]);
    int bad = 0;
    for (size_t i = 0; i < 2048; i++)
        bad += got[i] != lmz_ds_audio8(s[i]);
    CHECK_EQ_INT(bad, 0);
}

static void test_wav(const char *dir)
{
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/a.wav", dir);
    snprintf(b, sizeof b, "%s/b.wav", dir);
    int16_t *s = samples(3000);
    CHECK(write_wav(a, s, 3000, 1, 16, 0));
    /* b: 1100 samples, less than a chunk. Concatenated, a and b would make
     * two chunks (4100 samples); each file alone makes one and none. */
    CHECK(write_wav(b, s, 1100, 1, 16, 1));
    tu_membuf m;
    lmz_ds_info in;
    lmz_err e;
    const char *one[] = {a};
    CHECK_EQ_INT(prep_audio(one, 1, &m, &in, &e), LMZ_OK);
    CHECK_EQ_INT(m.n, 2048);
    CHECK(!strcmp(in.format, "wav"));
    CHECK_EQ_INT(in.samples, 3000);
    CHECK_EQ_INT(in.dropped, 3000 - 2048);
    CHECK_EQ_INT(in.sample_rate, 16000);
    if (m.n == 2048)
        check_chunk(m.p, s);
    free(m.p);
    const char *two[] = {a, b};
    CHECK_EQ_INT(prep_audio(two, 2, &m, &in, &e), LMZ_OK);
    CHECK_EQ_INT(m.n, 2048); /* per file: 1 + 0 chunks */
    CHECK_EQ_INT(in.samples, 1100); /* the extensible-format file was read */
    free(m.p);
    free(s);
}

static void test_wav_rejected(const char *dir)
{
    char p[512];
    int16_t *s = samples(4096);
    tu_membuf m;
    lmz_ds_info in;
    lmz_err e;
    const char *one[] = {p};
    snprintf(p, sizeof p, "%s/stereo.wav", dir);
    CHECK(write_wav(p, s, 4096, 2, 16, 0));
    CHECK_EQ_INT(prep_audio(one, 1, &m, &in, &e), LMZ_ERR_USAGE);
    CHECK(strstr(e.msg, "only 16-bit mono") != NULL);
    CHECK(strstr(e.msg, "2 channels") != NULL);
    free(m.p);
    snprintf(p, sizeof p, "%s/24bit.wav", dir);
    CHECK(write_wav(p, s, 4096, 1, 24, 0));
    CHECK_EQ_INT(prep_audio(one, 1, &m, &in, &e), LMZ_ERR_USAGE);
    CHECK(strstr(e.msg, "24-bit") != NULL);
    free(m.p);
    free(s);
}

static void test_wav_truncated(const char *dir)
{
    char full[512], cut[512];
    snprintf(full, sizeof full, "%s/a.wav", dir);
    snprintf(cut, sizeof cut, "%s/cut.wav", dir);
    tu_membuf m;
    lmz_ds_info in;
    lmz_err e;
    const char *one[] = {cut};
    /* Inside the samples: the data chunk promises more than the file has. */
    tu_copy_file(full, cut, 3000);
    CHECK_EQ_INT(prep_audio(one, 1, &m, &in, &e), LMZ_ERR_TRUNCATED);
    CHECK(strstr(e.msg, "truncated WAV") != NULL);
    CHECK(strstr(e.msg, "cut.wav") != NULL);
    free(m.p);
    /* Inside the header. */
    tu_copy_file(full, cut, 30);
    CHECK_EQ_INT(prep_audio(one, 1, &m, &in, &e), LMZ_ERR_TRUNCATED);
    CHECK(strstr(e.msg, "truncated") != NULL);
    free(m.p);
    tu_copy_file(full, cut, 8);
    CHECK_EQ_INT(prep_audio(one, 1, &m, &in, &e), LMZ_ERR_TRUNCATED);
    free(m.p);
}

static void test_flac(const char *dir)
{
    char p[512], cut[512];
    snprintf(p, sizeof p, "%s/a.flac", dir);
    snprintf(cut, sizeof cut, "%s/cut.flac", dir);
    int16_t *s = samples(5000);
    CHECK(write_flac(p, s, 5000, 1, 16));
    tu_membuf m;
    lmz_ds_info in;
    lmz_err e;
    const char *one[] = {p};
    CHECK_EQ_INT(prep_audio(one, 1, &m, &in, &e), LMZ_OK);
    CHECK(!strcmp(in.format, "flac"));
    CHECK_EQ_INT(m.n, 2 * 2048);
    CHECK_EQ_INT(in.samples, 5000);
    CHECK_EQ_INT(in.dropped, 5000 - 4096);
    if (m.n == 4096) {
        check_chunk(m.p, s);
        int bad = 0;
        for (size_t i = 2048; i < 4096; i++)
            bad += m.p[i] != lmz_ds_audio8(s[i]);
        CHECK_EQ_INT(bad, 0);
    }
    free(m.p);

    /* Cut in the middle of the frames. */
    size_t n;
    free(tu_read_file(p, &n));
    tu_copy_file(p, cut, n / 2);
    const char *c1[] = {cut};
    CHECK_EQ_INT(prep_audio(c1, 1, &m, &in, &e), LMZ_ERR_TRUNCATED);
    CHECK(strstr(e.msg, "truncated FLAC") != NULL);
    free(m.p);
    tu_copy_file(p, cut, 20);
    CHECK_EQ_INT(prep_audio(c1, 1, &m, &in, &e), LMZ_ERR_TRUNCATED);
    free(m.p);

    /* Stereo and 8-bit FLAC are refused. */
    snprintf(p, sizeof p, "%s/stereo.flac", dir);
    CHECK(write_flac(p, s, 5000, 2, 16));
    CHECK_EQ_INT(prep_audio(one, 1, &m, &in, &e), LMZ_ERR_USAGE);
    CHECK(strstr(e.msg, "only 16-bit mono") != NULL);
    free(m.p);
    snprintf(p, sizeof p, "%s/8bit.flac", dir);
    CHECK(write_flac(p, s, 5000, 1, 8));
    CHECK_EQ_INT(prep_audio(one, 1, &m, &in, &e), LMZ_ERR_USAGE);
    CHECK(strstr(e.msg, "8-bit") != NULL);
    free(m.p);
    free(s);
}

static void test_not_audio(const char *dir)
{
    char p[512];
    snprintf(p, sizeof p, "%s/notes.txt", dir);
    FILE *f = fopen(p, "wb");
    fputs("hello, not audio at all\n", f);
    fclose(f);
    tu_membuf m;
    lmz_ds_info in;
    lmz_err e;
    const char *one[] = {p};
    CHECK_EQ_INT(prep_audio(one, 1, &m, &in, &e), LMZ_ERR_USAGE);
    CHECK(strstr(e.msg, "not a WAV or FLAC") != NULL);
    free(m.p);
}

/* A limit stops the producer at a chunk boundary. */
static void test_limit(const char *dir)
{
    char p[512];
    snprintf(p, sizeof p, "%s/long.wav", dir);
    int16_t *s = samples(10000);
    CHECK(write_wav(p, s, 10000, 1, 16, 0));
    tu_membuf m = {0};
    lmz_err e;
    lmz_ds_info in;
    lmz_ds_sink sink = {.write = tu_membuf_write, .ctx = &m, .limit = 4096};
    CHECK_EQ_INT(lmz_ds_prepare_file(LMZ_DS_AUDIO, p, &sink, &in, &e), LMZ_OK);
    CHECK_EQ_INT(m.n, 4096);
    CHECK(sink.full);
    free(m.p);
    free(s);
}

int main(void)
{
    char *dir = tu_test_dir();
    test_map();
    test_wav(dir);
    test_wav_rejected(dir);
    test_wav_truncated(dir);
    test_flac(dir);
    test_not_audio(dir);
    test_limit(dir);
    tu_rmtree(dir);
    free(dir);
    return tu_finish("datasets_audio");
}
