/* ds_jpeg.c: JPEG rows through libjpeg(-turbo), converted to gray by the
 * mean of R, G and B (not libjpeg's own grayscale output, which weights the
 * channels by luminance) and handed to the patcher one row at a time. */
#include <setjmp.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE */
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "ds_internal.h"

typedef struct jpeg_state {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    int truncated;
    char msg[JMSG_LENGTH_MAX];
    /* Everything that changes after setjmp lives here, in memory, so its value
     * is defined after a longjmp. */
    uint8_t *row, *gray;
    lmz_ds_patcher patcher;
} jpeg_state;

static void on_error(j_common_ptr c)
{
    jpeg_state *s = (jpeg_state *)c->err;
    c->err->format_message(c, s->msg);
    longjmp(s->jb, 1);
}

/* libjpeg reports a file that ends early only as a warning and fills the
 * rest of the image with gray; that would silently invent pixels, so it is an
 * error here. Other warnings (stray bytes before a marker, which a few
 * ImageNet files have) are tolerated, as common decoders do. */
static void on_message(j_common_ptr c, int level)
{
    jpeg_state *s = (jpeg_state *)c->err;
    if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF) {
        s->truncated = 1;
        longjmp(s->jb, 1);
    }
    if (level < 0)
        c->err->num_warnings++;
}

/* CMYK (and YCCK, converted to CMYK by libjpeg) to RGB. Adobe's files store
 * the inks inverted (255 = no ink), so there R = C * K / 255 on the stored
 * values; without the Adobe marker the values are plain ink amounts. */
static void cmyk_to_rgb(uint8_t *row, uint32_t width, int adobe)
{
    for (uint32_t x = 0; x < width; x++) {
        const uint8_t *p = row + 4 * (size_t)x;
        unsigned k = adobe ? p[3] : 255u - p[3], rgb[3];
        for (int c = 0; c < 3; c++)
            rgb[c] = (adobe ? p[c] : 255u - p[c]) * k / 255u;
        uint8_t *q = row + 4 * (size_t)x; /* in place: 4 channels, RGB first */
        q[0] = (uint8_t)rgb[0];
        q[1] = (uint8_t)rgb[1];
        q[2] = (uint8_t)rgb[2];
    }
}

lmz_status lmz_ds_jpeg(FILE *f, const char *path, lmz_ds_sink *sink, lmz_ds_info *info,
                       lmz_err *err)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_state *s = calloc(1, sizeof *s);
    if (!s)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
    info->format = "jpeg";
    cinfo.err = jpeg_std_error(&s->pub);
    s->pub.error_exit = on_error;
    s->pub.emit_message = on_message;
    lmz_status rc = LMZ_OK;
    if (setjmp(s->jb)) {
        if (s->truncated)
            rc = lmz_err_set(err, LMZ_ERR_TRUNCATED,
                             "%s: truncated JPEG (the file ends before the image data)", path);
        else
            rc = lmz_err_set(err, LMZ_ERR_GENERIC, "%s: not a valid JPEG: %s", path, s->msg);
        goto done;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, f);
    jpeg_read_header(&cinfo, TRUE);
    int adobe = cinfo.saw_Adobe_marker;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK:
    case JCS_YCCK: cinfo.out_color_space = JCS_CMYK; break;
    default: cinfo.out_color_space = JCS_RGB; break;
    }
    jpeg_start_decompress(&cinfo);
    uint32_t w = cinfo.output_width, ch = (uint32_t)cinfo.output_components;
    info->width = w;
    info->height = cinfo.output_height;
    info->channels = ch == 1 ? 1 : 3;
    info->patches_x = w / LMZ_DS_PATCH_COLS;
    info->patches_y = info->height / LMZ_DS_PATCH_ROWS;
    s->row = malloc((size_t)w * ch);
    s->gray = malloc(w);
    if (!s->row || !s->gray) {
        rc = lmz_err_set(err, LMZ_ERR_NOMEM, "%s: out of memory for a %u-pixel row", path, w);
        goto done;
    }
    if ((rc = lmz_ds_patcher_init(&s->patcher, w, err)))
        goto done;
    uint64_t before = sink->written;
    /* Every row is decoded, also the cropped ones after the last band, so a
     * file cut short is noticed (unless the sink's limit stops us first). */
    while (cinfo.output_scanline < cinfo.output_height && !sink->full) {
        JSAMPROW r = s->row;
        jpeg_read_scanlines(&cinfo, &r, 1);
        if (ch == 4)
            cmyk_to_rgb(s->row, w, adobe);
        lmz_ds_row_to_gray(s->row, ch == 4 ? 4 : ch, w, s->gray);
        if ((rc = lmz_ds_patcher_row(&s->patcher, s->gray, sink, err)))
            goto done;
    }
    if (!sink->full)
        jpeg_finish_decompress(&cinfo);
    info->bytes = sink->written - before;
done:
    jpeg_destroy_decompress(&cinfo);
    lmz_ds_patcher_free(&s->patcher);
    free(s->row);
    free(s->gray);
    free(s);
    return rc;
}
