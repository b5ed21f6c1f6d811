/* ds_chunk.c: the audio chunker the readers (ds_wav.c, ds_flac.c) push
 * samples to: each sample to 8 bits, each full 2048-sample chunk written,
 * the partial one at the end of a file dropped (the paper cuts every
 * utterance on its own); and the readers' shared message for a sample
 * format they refuse. Apart from ds_audio.c, which calls the readers, so
 * that no file both calls a reader and is called by it. */
#include "ds_internal.h"

lmz_status lmz_ds_chunker_push(lmz_ds_chunker *c, const int16_t *s, size_t n, lmz_ds_sink *sink,
                               lmz_err *err)
{
    for (size_t i = 0; i < n && !sink->full; i++) {
        c->chunk[c->fill++] = lmz_ds_audio8(s[i]);
        if (c->fill == LMZ_DS_CHUNK) {
            c->fill = 0;
            lmz_status rc = lmz_ds_emit(sink, c->chunk, LMZ_DS_CHUNK, err);
            if (rc)
                return rc;
        }
    }
    c->samples += n;
    return LMZ_OK;
}

lmz_status lmz_ds_reject_format(const char *path, const char *what, unsigned channels,
                                unsigned bits, lmz_err *err)
{
    return lmz_err_set(err, LMZ_ERR_USAGE,
                       "%s: %s with %u channel%s of %u-bit samples: only 16-bit mono audio is "
                       "supported (convert it first, e.g. 'sox IN -b 16 -c 1 OUT.wav')",
                       path, what, channels, channels == 1 ? "" : "s", bits);
}
