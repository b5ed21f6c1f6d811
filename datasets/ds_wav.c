/* ds_wav.c: RIFF/WAVE, parsed by hand (the format is a few fixed fields):
 * 16-bit mono PCM only (format 1, or WAVE_FORMAT_EXTENSIBLE with the PCM
 * sub-format), little-endian, samples read in pieces. */
#include <errno.h>
#include <string.h>

#include "ds_internal.h"

static uint32_t le16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const uint8_t *p) { return le16(p) | le16(p + 2) << 16; }

/* Read exactly n bytes; 0 if the file ends first. */
static int read_all(FILE *f, void *buf, size_t n) { return fread(buf, 1, n, f) == n; }

static lmz_status read_samples(FILE *f, const char *path, uint64_t size, int to_eof,
                               lmz_ds_sink *sink, lmz_ds_info *info, lmz_err *err)
{
    lmz_ds_chunker c;
    memset(&c, 0, sizeof c);
    uint8_t raw[1 << 15];
    int16_t smp[sizeof raw / 2];
    uint64_t left = size, before = sink->written;
    while ((to_eof || left >= 2) && !sink->full) {
        size_t want = to_eof || left > sizeof raw ? sizeof raw : (size_t)(left & ~(uint64_t)1);
        size_t got = fread(raw, 1, want, f);
        if (got < want && ferror(f))
            return lmz_err_set(err, LMZ_ERR_IO, "%s: read failed: %s", path, strerror(errno));
        if (got < want && !to_eof)
            return lmz_err_set(err, LMZ_ERR_TRUNCATED,
                               "%s: truncated WAV: the data chunk says %llu bytes, the file "
                               "ends after %llu",
                               path, (unsigned long long)size,
                               (unsigned long long)(size - left + got));
        size_t n = got / 2;
        for (size_t i = 0; i < n; i++) {
            int32_t v = (int32_t)le16(raw + 2 * i);
            smp[i] = (int16_t)(v >= 32768 ? v - 65536 : v);
        }
        lmz_status rc = lmz_ds_chunker_push(&c, smp, n, sink, err);
        if (rc)
            return rc;
        left -= got;
        if (to_eof && got < want)
            break;
    }
    info->samples = c.samples;
    info->dropped = sink->full ? 0 : c.fill;
    info->bytes = sink->written - before;
    return LMZ_OK;
}

lmz_status lmz_ds_wav(FILE *f, const char *path, lmz_ds_sink *sink, lmz_ds_info *info,
                      lmz_err *err)
{
    info->format = "wav";
    uint8_t hdr[12];
    if (!read_all(f, hdr, sizeof hdr))
        return lmz_err_set(err, LMZ_ERR_TRUNCATED, "%s: truncated WAV header", path);
    int have_fmt = 0;
    uint32_t tag = 0, channels = 0, bits = 0;
    for (;;) {
        uint8_t ck[8];
        if (!read_all(f, ck, sizeof ck))
            return lmz_err_set(err, LMZ_ERR_TRUNCATED,
                               "%s: truncated WAV: the file ends before its data chunk", path);
        uint32_t size = le32(ck + 4);
        if (memcmp(ck, "fmt ", 4) == 0) {
            uint8_t fmt[40] = {0};
            if (size < 16)
                return lmz_err_set(err, LMZ_ERR_GENERIC, "%s: malformed WAV fmt chunk", path);
            size_t take = size < sizeof fmt ? size : sizeof fmt;
            if (!read_all(f, fmt, take))
                return lmz_err_set(err, LMZ_ERR_TRUNCATED, "%s: truncated WAV fmt chunk", path);
            tag = le16(fmt);
            channels = le16(fmt + 2);
            info->sample_rate = le32(fmt + 4);
            bits = le16(fmt + 14);
            /* WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes
             * of the sub-format GUID at offset 24. */
            if (tag == 0xFFFE && size >= 26)
                tag = le16(fmt + 24);
            size_t rest = size - take + (size & 1);
            if (rest && fseek(f, (long)rest, SEEK_CUR) != 0)
                return lmz_err_set(err, LMZ_ERR_IO, "%s: cannot seek: %s", path, strerror(errno));
            have_fmt = 1;
        } else if (memcmp(ck, "data", 4) == 0) {
            if (!have_fmt)
                return lmz_err_set(err, LMZ_ERR_GENERIC, "%s: WAV data chunk before its fmt chunk",
                                   path);
            if (tag != 1)
                return lmz_err_set(err, LMZ_ERR_USAGE,
                                   "%s: WAV sample format %u is not integer PCM: only 16-bit mono "
                                   "PCM audio is supported",
                                   path, tag);
            if (channels != 1 || bits != 16)
                return lmz_ds_reject_format(path, "WAV", channels, bits, err);
            /* A streaming writer that could not seek back leaves the size at
             * its maximum: read to the end of the file then. */
            int to_eof = size == 0xFFFFFFFFu;
            return read_samples(f, path, size, to_eof, sink, info, err);
        } else {
            uint64_t skip = (uint64_t)size + (size & 1);
            if (fseek(f, (long)skip, SEEK_CUR) != 0)
                return lmz_err_set(err, LMZ_ERR_IO, "%s: cannot seek: %s", path, strerror(errno));
        }
    }
}
