/* ds_patch.c: the image patcher the readers (ds_jpeg.c, ds_png.c) hand
 * their rows to: it converts a row to gray, buffers one band of 32 rows and
 * cuts it into 32x64 patches, so memory is 32 rows whatever the image's
 * height. Apart from ds_image.c, which calls the readers, so that no file
 * both calls a reader and is called by it. */
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
