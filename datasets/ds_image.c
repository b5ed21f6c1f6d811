/* ds_image.c: images to the paper's grayscale 32x64 patches. The format is
 * recognized by its first bytes; the readers (ds_jpeg.c, ds_png.c) hand rows
 * to the patcher here, which buffers one band of 32 rows and cuts it into
 * patches, so memory is 32 rows whatever the image's height. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ds_internal.h"

void lmz_ds_row_to_gray(const uint8_t *in, uint32_t channels, uint32_t width, uint8_t *out)
{
    if (channels <= 2) {
        for (uint32_t x = 0; x < width; x++)
            out[x] = in[(size_t)x * channels];
        return;
    }
    for (uint32_t x = 0; x < width; x++) {
        const uint8_t *p = in + (size_t)x * channels;
        out[x] = lmz_ds_gray(p[0], p[1], p[2]);
    }
}

lmz_status lmz_ds_patcher_init(lmz_ds_patcher *p, uint32_t width, lmz_err *err)
{
    memset(p, 0, sizeof *p);
    p->width = width;
    /* An image narrower than a patch gives no patches; its rows are not kept. */
    if (width < LMZ_DS_PATCH_COLS)
        return LMZ_OK;
    p->band = malloc((size_t)LMZ_DS_PATCH_ROWS * width);
    if (!p->band)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory for a band of %u-pixel rows", width);
    return LMZ_OK;
}

lmz_status lmz_ds_patcher_row(lmz_ds_patcher *p, const uint8_t *row, lmz_ds_sink *sink,
                              lmz_err *err)
{
    if (!p->band)
        return LMZ_OK;
    memcpy(p->band + (size_t)p->rows * p->width, row, p->width);
    if (++p->rows < LMZ_DS_PATCH_ROWS)
        return LMZ_OK;
    p->rows = 0;
    /* Row-major patch order within the band; the columns past the last whole
     * patch are cropped. */
    for (uint32_t px = 0; px + LMZ_DS_PATCH_COLS <= p->width; px += LMZ_DS_PATCH_COLS) {
        for (uint32_t r = 0; r < LMZ_DS_PATCH_ROWS; r++)
            memcpy(p->patch + r * LMZ_DS_PATCH_COLS, p->band + (size_t)r * p->width + px,
                   LMZ_DS_PATCH_COLS);
        lmz_status rc = lmz_ds_emit(sink, p->patch, LMZ_DS_CHUNK, err);
        if (rc)
            return rc;
    }
    return LMZ_OK;
}

void lmz_ds_patcher_free(lmz_ds_patcher *p)
{
    free(p->band);
    p->band = NULL;
}

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
