/* codec_flac.c: the paper's FLAC baseline through libFLAC: every byte is one
 * unsigned 8-bit sample (as in an 8-bit WAV: value - 128 is the signed
 * sample) of a 16 kHz mono stream, at compression level 8, the highest.
 *
 * The stream carries a PADDING block of bl_flac_padding bytes, 8192 by
 * default: what the flac command writes (flac -8), which is the FLAC people
 * compare with and what ../shared/data's table was measured with. It is part
 * of the header, so the chunked rate counts it once; on a small sample it
 * still costs a point (8 KB of 686 KB). */
#include <stdlib.h>

#include <FLAC/metadata.h>
#include <FLAC/stream_encoder.h>

#include "codecs.h"

uint32_t bl_flac_padding = 8192;

typedef struct fl {
    FLAC__StreamEncoder *enc;
    FLAC__StreamMetadata *padding;
    uint64_t out;
    FLAC__int32 buf[4096];
} fl;

static FLAC__StreamEncoderWriteStatus on_write(const FLAC__StreamEncoder *e, const FLAC__byte b[],
                                               size_t n, uint32_t samples, uint32_t frame,
                                               void *ctx)
{
    (void)e;
    (void)b;
    (void)samples;
    (void)frame;
    ((fl *)ctx)->out += n;
    return FLAC__STREAM_ENCODER_WRITE_STATUS_OK;
}

static void *create(void) { return calloc(1, sizeof(fl)); }

static int begin(void *st, uint64_t total)
{
    fl *f = st;
    if (f->enc)
        FLAC__stream_encoder_delete(f->enc);
    f->out = 0;
    f->enc = FLAC__stream_encoder_new();
    if (!f->enc)
        return -1;
    FLAC__stream_encoder_set_channels(f->enc, 1);
    FLAC__stream_encoder_set_bits_per_sample(f->enc, 8);
    FLAC__stream_encoder_set_sample_rate(f->enc, 16000);
    FLAC__stream_encoder_set_compression_level(f->enc, 8);
    FLAC__stream_encoder_set_total_samples_estimate(f->enc, total);
    if (bl_flac_padding) {
        if (!f->padding && !(f->padding = FLAC__metadata_object_new(FLAC__METADATA_TYPE_PADDING)))
            return -1;
        f->padding->length = bl_flac_padding;
        FLAC__stream_encoder_set_metadata(f->enc, &f->padding, 1);
    }
    /* No seek callback: STREAMINFO is not rewritten at the end, which changes
     * no sizes. */
    if (FLAC__stream_encoder_init_stream(f->enc, on_write, NULL, NULL, NULL, f) !=
        FLAC__STREAM_ENCODER_INIT_STATUS_OK)
        return -1;
    return 0;
}

static int feed(void *st, const uint8_t *buf, size_t n)
{
    fl *f = st;
    while (n) {
        size_t take = n < 4096 ? n : 4096;
        for (size_t i = 0; i < take; i++)
            f->buf[i] = (FLAC__int32)buf[i] - 128;
        if (!FLAC__stream_encoder_process_interleaved(f->enc, f->buf, (uint32_t)take))
            return -1;
        buf += take;
        n -= take;
    }
    return 0;
}

static int end(void *st, uint64_t *bytes)
{
    fl *f = st;
    int ok = FLAC__stream_encoder_finish(f->enc);
    FLAC__stream_encoder_delete(f->enc);
    f->enc = NULL;
    *bytes = f->out;
    return ok ? 0 : -1;
}

static void destroy(void *st)
{
    fl *f = st;
    if (f && f->enc)
        FLAC__stream_encoder_delete(f->enc);
    if (f && f->padding)
        FLAC__metadata_object_delete(f->padding);
    free(f);
}

const bl_codec bl_flac = {"flac", "FLAC", create, begin, feed, end, destroy};
