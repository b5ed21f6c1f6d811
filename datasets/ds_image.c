/* ds_image.c: images to the paper's grayscale 32x64 patches. The format is
 * recognized by its first bytes and the file handed to its reader
 * (ds_jpeg.c, ds_png.c), which passes rows to the patcher (ds_patch.c).
 * Calls run one way: ds_image -> readers -> ds_patch -> ds_sink. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ds_internal.h"

lmz_status lmz_ds_image(const char *path, lmz_ds_sink *sink, lmz_ds_info *info, lmz_err *err)
{
    memset(info, 0, sizeof *info);
    if (strcmp(path, "-") == 0)
        return lmz_err_set(err, LMZ_ERR_USAGE, "images cannot be read from standard input");
    FILE *f = fopen(path, "rb");
    if (!f)
        return lmz_err_set(err, LMZ_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    uint8_t magic[8] = {0};
    size_t got = fread(magic, 1, sizeof magic, f);
    lmz_status rc;
    if (fseek(f, 0, SEEK_SET) != 0)
        rc = lmz_err_set(err, LMZ_ERR_IO, "%s: cannot seek: %s", path, strerror(errno));
    else if (got >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF)
        rc = lmz_ds_jpeg(f, path, sink, info, err);
    else if (got == 8 && memcmp(magic, "\x89PNG\r\n\x1a\n", 8) == 0)
        rc = lmz_ds_png(f, path, sink, info, err);
    else if (got == 0)
        rc = lmz_err_set(err, LMZ_ERR_TRUNCATED, "%s: empty file, not an image", path);
    else
        rc = lmz_err_set(err, LMZ_ERR_USAGE, "%s: not a JPEG or PNG file", path);
    fclose(f);
    return rc;
}
