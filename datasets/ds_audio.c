/* ds_audio.c: 16-bit mono audio to the paper's 8-bit chunks. The format is
 * recognized by its first bytes; the readers (ds_wav.c, ds_flac.c) push
 * samples to the chunker here, which writes each full 2048-sample chunk and
 * drops the partial one at the end of the file (the paper cuts every
 * utterance on its own). */
#include <errno.h>
#include <string.h>

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

lmz_status lmz_ds_audio(const char *path, lmz_ds_sink *sink, lmz_ds_info *info, lmz_err *err)
{
    memset(info, 0, sizeof *info);
    if (strcmp(path, "-") == 0)
        return lmz_err_set(err, LMZ_ERR_USAGE, "audio cannot be read from standard input");
    FILE *f = fopen(path, "rb");
    if (!f)
        return lmz_err_set(err, LMZ_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    uint8_t magic[12] = {0};
    size_t got = fread(magic, 1, sizeof magic, f);
    if (fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return lmz_err_set(err, LMZ_ERR_IO, "%s: cannot seek: %s", path, strerror(errno));
    }
    if (got >= 4 && (memcmp(magic, "fLaC", 4) == 0 || memcmp(magic, "ID3", 3) == 0))
        return lmz_ds_flac(f, path, sink, info, err); /* closes f */
    lmz_status rc;
    if (got >= 12 && memcmp(magic, "RIFF", 4) == 0 && memcmp(magic + 8, "WAVE", 4) == 0)
        rc = lmz_ds_wav(f, path, sink, info, err);
    else if (got >= 4 && (memcmp(magic, "RIFX", 4) == 0 || memcmp(magic, "RF64", 4) == 0))
        rc = lmz_err_set(err, LMZ_ERR_USAGE,
                         "%s: big-endian (RIFX) and RF64 WAV files are not supported", path);
    else if (got < 12 && got >= 4 && memcmp(magic, "RIFF", 4) == 0)
        rc = lmz_err_set(err, LMZ_ERR_TRUNCATED, "%s: truncated WAV header", path);
    else if (got == 0)
        rc = lmz_err_set(err, LMZ_ERR_TRUNCATED, "%s: empty file, not audio", path);
    else
        rc = lmz_err_set(err, LMZ_ERR_USAGE, "%s: not a WAV or FLAC file", path);
    fclose(f);
    return rc;
}
