/* ds_flac.c: FLAC through libFLAC's stream decoder, frame by frame, with its
 * MD5 check on: a damaged or truncated file is an error, not fewer samples. */
#include <stdlib.h>
#include <string.h>

#include <FLAC/stream_decoder.h>

#include "ds_internal.h"

typedef struct flac_state {
    const char *path;
    lmz_ds_sink *sink;
    lmz_ds_info *info;
    lmz_err *err;
    lmz_status rc;          /* first failure from the sink or a format check */
    int decode_error;       /* libFLAC reported damage */
    const char *decode_msg;
    unsigned channels, bits;
    uint64_t total;         /* samples per STREAMINFO; 0 if unknown */
    lmz_ds_chunker chunker;
    int16_t buf[4096];
} flac_state;

static FLAC__StreamDecoderWriteStatus on_write(const FLAC__StreamDecoder *d, const FLAC__Frame *fr,
                                               const FLAC__int32 *const *ch, void *ctx)
{
    (void)d;
    flac_state *s = ctx;
    if (fr->header.channels != 1 || fr->header.bits_per_sample != 16) {
        s->rc = lmz_ds_reject_format(s->path, "FLAC", fr->header.channels,
                                     fr->header.bits_per_sample, s->err);
        return FLAC__STREAM_DECODER_WRITE_STATUS_ABORT;
    }
    for (unsigned i = 0; i < fr->header.blocksize;) {
        unsigned n = fr->header.blocksize - i;
        if (n > sizeof s->buf / sizeof s->buf[0])
            n = sizeof s->buf / sizeof s->buf[0];
        for (unsigned k = 0; k < n; k++)
            s->buf[k] = (int16_t)ch[0][i + k]; /* 16-bit by the check above */
        s->rc = lmz_ds_chunker_push(&s->chunker, s->buf, n, s->sink, s->err);
        if (s->rc || s->sink->full)
            return FLAC__STREAM_DECODER_WRITE_STATUS_ABORT;
        i += n;
    }
    return FLAC__STREAM_DECODER_WRITE_STATUS_CONTINUE;
}

static void on_metadata(const FLAC__StreamDecoder *d, const FLAC__StreamMetadata *m, void *ctx)
{
    (void)d;
    flac_state *s = ctx;
    if (m->type != FLAC__METADATA_TYPE_STREAMINFO)
        return;
    s->channels = m->data.stream_info.channels;
    s->bits = m->data.stream_info.bits_per_sample;
    s->total = m->data.stream_info.total_samples;
    s->info->sample_rate = m->data.stream_info.sample_rate;
}

static const char *error_words(FLAC__StreamDecoderErrorStatus st)
{
    switch (st) {
    case FLAC__STREAM_DECODER_ERROR_STATUS_LOST_SYNC: return "lost sync";
    case FLAC__STREAM_DECODER_ERROR_STATUS_BAD_HEADER: return "bad frame header";
    case FLAC__STREAM_DECODER_ERROR_STATUS_FRAME_CRC_MISMATCH: return "frame CRC mismatch";
    case FLAC__STREAM_DECODER_ERROR_STATUS_UNPARSEABLE_STREAM: return "unparseable stream";
    default: return "decoding error";
    }
}

static void on_error(const FLAC__StreamDecoder *d, FLAC__StreamDecoderErrorStatus st, void *ctx)
{
    (void)d;
    flac_state *s = ctx;
    if (!s->decode_error) {
        s->decode_error = 1;
        s->decode_msg = error_words(st);
    }
}

lmz_status lmz_ds_flac(FILE *f, const char *path, lmz_ds_sink *sink, lmz_ds_info *info,
                       lmz_err *err)
{
    info->format = "flac";
    flac_state *s = calloc(1, sizeof *s);
    FLAC__StreamDecoder *dec = s ? FLAC__stream_decoder_new() : NULL;
    if (!dec) {
        free(s);
        fclose(f);
        return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
    }
    *s = (flac_state){.path = path, .sink = sink, .info = info, .err = err};
    FLAC__stream_decoder_set_md5_checking(dec, true);
    /* From here libFLAC owns f and closes it in finish(). */
    if (FLAC__stream_decoder_init_FILE(dec, f, on_write, on_metadata, on_error, s) !=
        FLAC__STREAM_DECODER_INIT_STATUS_OK) {
        FLAC__stream_decoder_delete(dec);
        free(s);
        fclose(f);
        return lmz_err_set(err, LMZ_ERR_GENERIC, "%s: cannot start the FLAC decoder", path);
    }
    uint64_t before = sink->written;
    lmz_status rc = LMZ_OK;
    int meta_ok = FLAC__stream_decoder_process_until_end_of_metadata(dec);
    /* Ending before any audio frame is a cut file, unless STREAMINFO says
     * there are no samples at all. */
    if (FLAC__stream_decoder_get_state(dec) == FLAC__STREAM_DECODER_END_OF_STREAM &&
        (!s->channels || s->total)) {
        rc = lmz_err_set(err, LMZ_ERR_TRUNCATED,
                         "%s: truncated FLAC (the file ends inside its header)", path);
    } else if (!meta_ok || s->decode_error || !s->channels) {
        rc = lmz_err_set(err, LMZ_ERR_GENERIC, "%s: not a valid FLAC stream: %s", path,
                         s->decode_msg ? s->decode_msg
                                       : FLAC__stream_decoder_get_resolved_state_string(dec));
    } else if (s->channels != 1 || s->bits != 16) {
        rc = lmz_ds_reject_format(path, "FLAC", s->channels, s->bits, err);
    } else {
        FLAC__stream_decoder_process_until_end_of_stream(dec);
        if (s->rc)
            rc = s->rc;
        else if (sink->full)
            rc = LMZ_OK; /* stopped by the limit: the rest is not checked */
        else if (s->total && s->chunker.samples < s->total)
            rc = lmz_err_set(err, LMZ_ERR_TRUNCATED,
                             "%s: truncated FLAC: %llu of its %llu samples are present%s%s", path,
                             (unsigned long long)s->chunker.samples, (unsigned long long)s->total,
                             s->decode_error ? ", then " : "", s->decode_error ? s->decode_msg : "");
        else if (s->decode_error)
            rc = lmz_err_set(err, LMZ_ERR_GENERIC, "%s: damaged FLAC stream: %s", path,
                             s->decode_msg);
        else if (FLAC__stream_decoder_get_state(dec) != FLAC__STREAM_DECODER_END_OF_STREAM)
            rc = lmz_err_set(err, LMZ_ERR_GENERIC, "%s: FLAC decoding failed: %s", path,
                             FLAC__stream_decoder_get_resolved_state_string(dec));
    }
    /* finish() compares the MD5 of everything decoded with STREAMINFO's; it
     * means something only when the whole stream was decoded. */
    int md5_ok = FLAC__stream_decoder_finish(dec);
    if (!rc && !sink->full && !md5_ok)
        rc = lmz_err_set(err, LMZ_ERR_GENERIC, "%s: FLAC MD5 mismatch: the decoded audio is damaged",
                         path);
    info->samples = s->chunker.samples;
    info->dropped = sink->full ? 0 : s->chunker.fill;
    info->bytes = sink->written - before;
    FLAC__stream_decoder_delete(dec);
    free(s);
    return rc;
}
