/* ds_png.c: PNG rows through libpng, normalized to 8 bits per channel
 * (palette expanded, 16-bit reduced to its high byte, low bit depths
 * expanded), then to gray and the patcher. Non-interlaced images are read a
 * row at a time; an interlaced image needs all its passes before any row is
 * complete, so it alone is read whole. */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "ds_internal.h"

typedef struct png_state {
    FILE *f;
    int truncated;
    char msg[256];
    uint8_t *row, *gray, *image;
    lmz_ds_patcher patcher;
} png_state;

static void on_error(png_structp png, png_const_charp msg)
{
    png_state *s = png_get_error_ptr(png);
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg; /* library code does not print; warnings do not change pixels */
}

/* Our own read callback, to tell a file that ends early from other damage. */
static void on_read(png_structp png, png_bytep buf, size_t n)
{
    png_state *s = png_get_io_ptr(png);
    if (fread(buf, 1, n, s->f) != n) {
        s->truncated = 1;
        png_error(png, "unexpected end of file");
    }
}

lmz_status lmz_ds_png(FILE *f, const char *path, lmz_ds_sink *sink, lmz_ds_info *info,
                      lmz_err *err)
{
    png_state *s = calloc(1, sizeof *s);
    if (!s)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
    s->f = f;
    info->format = "png";
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, s, on_error, on_warning);
    png_infop pinfo = png ? png_create_info_struct(png) : NULL;
    lmz_status rc = LMZ_OK;
    if (!png || !pinfo) {
        rc = lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (setjmp(png_jmpbuf(png))) {
        if (s->truncated)
            rc = lmz_err_set(err, LMZ_ERR_TRUNCATED,
                             "%s: truncated PNG (the file ends before the image data)", path);
        else
            rc = lmz_err_set(err, LMZ_ERR_GENERIC, "%s: not a valid PNG: %s", path, s->msg);
        goto done;
    }
    png_set_read_fn(png, s, on_read);
    png_read_info(png, pinfo);
    int color = png_get_color_type(png, pinfo), depth = png_get_bit_depth(png, pinfo);
    if (color == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16)
        png_set_strip_16(png); /* keeps the high byte */
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, pinfo);
    uint32_t w = png_get_image_width(png, pinfo), h = png_get_image_height(png, pinfo);
    uint32_t ch = png_get_channels(png, pinfo);
    size_t rowbytes = png_get_rowbytes(png, pinfo);
    info->width = w;
    info->height = h;
    info->channels = ch <= 2 ? 1 : 3;
    info->patches_x = w / LMZ_DS_PATCH_COLS;
    info->patches_y = h / LMZ_DS_PATCH_ROWS;
    s->gray = malloc(w);
    if (passes > 1)
        s->image = malloc(rowbytes * h);
    else
        s->row = malloc(rowbytes);
    if (!s->gray || (passes > 1 ? !s->image : !s->row)) {
        rc = lmz_err_set(err, LMZ_ERR_NOMEM, "%s: out of memory for a %ux%u image", path, w, h);
        goto done;
    }
    if ((rc = lmz_ds_patcher_init(&s->patcher, w, err)))
        goto done;
    uint64_t before = sink->written;
    if (passes > 1) {
        for (int pass = 0; pass < passes; pass++)
            for (uint32_t y = 0; y < h; y++)
                png_read_row(png, s->image + rowbytes * y, NULL);
    }
    for (uint32_t y = 0; y < h && !sink->full; y++) {
        const uint8_t *row = s->image ? s->image + rowbytes * y : s->row;
        if (!s->image)
            png_read_row(png, s->row, NULL);
        lmz_ds_row_to_gray(row, ch, w, s->gray);
        if ((rc = lmz_ds_patcher_row(&s->patcher, s->gray, sink, err)))
            goto done;
    }
    /* The rows after the last whole band were read above too: a file cut
     * inside them is noticed here or by png_read_end. */
    if (!sink->full)
        png_read_end(png, NULL);
    info->bytes = sink->written - before;
done:
    png_destroy_read_struct(png ? &png : NULL, pinfo ? &pinfo : NULL, NULL);
    lmz_ds_patcher_free(&s->patcher);
    free(s->row);
    free(s->gray);
    free(s->image);
    free(s);
    return rc;
}
