/* ds_audio.c: 16-bit mono audio to the paper's 8-bit chunks. The format is
 * recognized by its first bytes and the file handed to its reader
 * (ds_wav.c, ds_flac.c), which pushes samples to the chunker (ds_chunk.c).
 * Calls run one way: ds_audio -> readers -> ds_chunk -> ds_sink. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ds_internal.h"

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
