/* test_datasets_image.c: images to the paper's 32x64 grayscale patches
 * (datasets/ds_image.c, ds_png.c, ds_jpeg.c). Every image is made here with
 * libpng or libjpeg; expected bytes are computed by hand from the pixel
 * formulas. JPEG is lossy, so exact values are checked on images JPEG keeps
 * exactly (flat ones at quality 100) and otherwise against libjpeg's own
 * decode of the same file. */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "lmz_datasets.h"
#include "testutil.h"

/* ---- a sink into memory ---- */


static lmz_status prep_image(const char *path, tu_membuf *m, lmz_ds_info *info, lmz_err *e)
{
    memset(m, 0, sizeof *m);
    lmz_err_clear(e);
    lmz_ds_sink s = {.write = tu_membuf_write, .ctx = m};
    return lmz_ds_prepare_file(LMZ_DS_IMAGE, path, &s, info, e);
}

/* ---- writing test images ---- */

typedef void (*pixel_fn)(uint32_t x, uint32_t y, uint8_t *px); /* fills channels */

/* A PNG of w x h; color: PNG_COLOR_TYPE_GRAY or _RGB; depth 8 or 16. */
static int write_png(const char *path, uint32_t w, uint32_t h, int color, int depth, pixel_fn fn)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    int ch = color == PNG_COLOR_TYPE_RGB ? 3 : 1, bps = depth / 8;
    uint8_t *row = malloc((size_t)w * ch * bps);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        free(row);
        return 0;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, w, h, depth, color, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++)
            fn(x, y, row + (size_t)x * ch * bps);
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    return fclose(f) == 0;
}

/* A JPEG at quality 100; space JCS_GRAYSCALE, JCS_RGB or JCS_CMYK. */
static int write_jpeg(const char *path, uint32_t w, uint32_t h, J_COLOR_SPACE space, pixel_fn fn)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = w;
    c.image_height = h;
    c.input_components = space == JCS_GRAYSCALE ? 1 : space == JCS_CMYK ? 4 : 3;
    c.in_color_space = space;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 100, TRUE);
    jpeg_start_compress(&c, TRUE);
    uint8_t *row = malloc((size_t)w * c.input_components);
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++)
            fn(x, y, row + (size_t)x * c.input_components);
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    return fclose(f) == 0;
}

/* libjpeg's own RGB decode of a file, as the reference for lossy images. */
static uint8_t *decode_jpeg_rgb(const char *path, uint32_t *w, uint32_t *h)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct jpeg_decompress_struct d;
    struct jpeg_error_mgr jerr;
    d.err = jpeg_std_error(&jerr);
    jpeg_create_decompress(&d);
    jpeg_stdio_src(&d, f);
    jpeg_read_header(&d, TRUE);
    d.out_color_space = JCS_RGB;
    jpeg_start_decompress(&d);
    *w = d.output_width;
    *h = d.output_height;
    uint8_t *img = malloc((size_t)*w * *h * 3);
    while (d.output_scanline < d.output_height) {
        JSAMPROW r = img + (size_t)d.output_scanline * *w * 3;
        jpeg_read_scanlines(&d, &r, 1);
    }
    jpeg_finish_decompress(&d);
    jpeg_destroy_decompress(&d);
    fclose(f);
    return img;
}

/* ---- pixel formulas ---- */

/* R = x, G = y, B = 100: gray = (x + y + 100) / 3, easy to do by hand. */
static void px_rgb_xy(uint32_t x, uint32_t y, uint8_t *p)
{
    p[0] = (uint8_t)x;
    p[1] = (uint8_t)y;
    p[2] = 100;
}

static void px_gray_xy(uint32_t x, uint32_t y, uint8_t *p) { p[0] = (uint8_t)(4 * x + y); }

/* 16-bit gray, big-endian as PNG stores it: 0x1234 + x; the high byte is kept. */
static void px_gray16(uint32_t x, uint32_t y, uint8_t *p)
{
    uint32_t v = 0x1234 + 0x100 * (x % 7) + y;
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void px_flat77(uint32_t x, uint32_t y, uint8_t *p) { p[0] = 77; (void)x; (void)y; }

static void px_texture(uint32_t x, uint32_t y, uint8_t *p)
{
    p[0] = (uint8_t)(x * 3 + y * 5);
    p[1] = (uint8_t)(x * y);
    p[2] = (uint8_t)(200 - x + y);
}

/* Adobe-style inverted CMYK (255 = no ink), flat: C 255, M 128, Y 0, K 200. */
static void px_cmyk(uint32_t x, uint32_t y, uint8_t *p)
{
    (void)x;
    (void)y;
    p[0] = 255;
    p[1] = 128;
    p[2] = 0;
    p[3] = 200;
}

/* ---- tests ---- */

/* One image through the dataset code: its file, the bytes and info that
 * lmz_ds_prepare_file gives, the error. */
typedef struct {
    char path[512];
    tu_membuf m;
    lmz_ds_info in;
    lmz_err e;
} img_case;

static lmz_status png_case(img_case *c, const char *dir, const char *name, uint32_t w, uint32_t h,
                           int color, int depth, pixel_fn fn)
{
    snprintf(c->path, sizeof c->path, "%s/%s", dir, name);
    CHECK(write_png(c->path, w, h, color, depth, fn));
    return prep_image(c->path, &c->m, &c->in, &c->e);
}

static lmz_status jpeg_case(img_case *c, const char *dir, const char *name, uint32_t w,
                            uint32_t h, J_COLOR_SPACE space, pixel_fn fn)
{
    snprintf(c->path, sizeof c->path, "%s/%s", dir, name);
    CHECK(write_jpeg(c->path, w, h, space, fn));
    return prep_image(c->path, &c->m, &c->in, &c->e);
}

/* The first keep bytes (0: half) of dir/from as dir/to. */
static lmz_status cut_case(img_case *c, const char *dir, const char *from, const char *to,
                           size_t keep)
{
    char full[512];
    snprintf(full, sizeof full, "%s/%s", dir, from);
    snprintf(c->path, sizeof c->path, "%s/%s", dir, to);
    if (!keep) {
        size_t n = 0;
        free(tu_read_file(full, &n));
        keep = n / 2;
    }
    tu_copy_file(full, c->path, keep);
    return prep_image(c->path, &c->m, &c->in, &c->e);
}

static void test_gray_mean(void)
{
    CHECK_EQ_INT(lmz_ds_gray(0, 0, 0), 0);
    CHECK_EQ_INT(lmz_ds_gray(255, 255, 255), 255);
    CHECK_EQ_INT(lmz_ds_gray(1, 1, 0), 0);     /* 2/3 truncates to 0 */
    CHECK_EQ_INT(lmz_ds_gray(255, 255, 254), 254); /* 764/3 = 254.67 */
    CHECK_EQ_INT(lmz_ds_gray(10, 20, 31), 20);  /* 61/3 = 20.33 */
}

/* RGB PNG 129 x 70: an odd width. 129 / 64 = 2 patches across (1 column
 * cropped), 70 / 32 = 2 bands (6 rows cropped): 4 patches, 8192 bytes. */
static void test_png_rgb_patches(const char *dir)
{
    img_case im;
    CHECK_EQ_INT(png_case(&im, dir, "rgb.png", 129, 70, PNG_COLOR_TYPE_RGB, 8, px_rgb_xy), LMZ_OK);
    CHECK_EQ_INT(im.m.n, 4 * 2048);
    CHECK(!strcmp(im.in.format, "png"));
    CHECK_EQ_INT(im.in.width, 129);
    CHECK_EQ_INT(im.in.height, 70);
    CHECK_EQ_INT(im.in.patches_x, 2);
    CHECK_EQ_INT(im.in.patches_y, 2);
    CHECK_EQ_INT(im.in.bytes, 8192);
    if (im.m.n == 4 * 2048) {
        const uint8_t *p0 = im.m.p, *p1 = im.m.p + 2048, *p2 = im.m.p + 4096, *p3 = im.m.p + 6144;
        /* Patch 0, first row (y 0, x 0..63): (x + 100) / 3. */
        static const uint8_t row0[] = {33, 33, 34, 34, 34, 35, 35, 35, 36, 36};
        for (int i = 0; i < 10; i++)
            CHECK_EQ_INT(p0[i], row0[i]);
        CHECK_EQ_INT(p0[63], 54);  /* 163 / 3 */
        CHECK_EQ_INT(p0[64], 33);  /* second row, y 1: 101 / 3 */
        CHECK_EQ_INT(p0[31 * 64 + 63], 64); /* y 31, x 63: 194 / 3 */
        /* Patch 1 (x 64..127) of the first band. */
        CHECK_EQ_INT(p1[0], 54);   /* 164 / 3 */
        CHECK_EQ_INT(p1[63], 75);  /* 227 / 3 */
        /* Second band (y 32..63), row-major patch order. */
        CHECK_EQ_INT(p2[0], 44);   /* x 0, y 32: 132 / 3 */
        CHECK_EQ_INT(p3[0], 65);   /* x 64, y 32: 196 / 3 */
        CHECK_EQ_INT(p3[31 * 64 + 63], 96); /* x 127, y 63: 290 / 3 */
        /* Every byte by the formula, to be sure nothing else moved. */
        int bad = 0;
        for (int pi = 0; pi < 4; pi++)
            for (int r = 0; r < 32; r++)
                for (int c = 0; c < 64; c++) {
                    int x = (pi % 2) * 64 + c, y = (pi / 2) * 32 + r;
                    bad += im.m.p[pi * 2048 + r * 64 + c] != (x + y + 100) / 3;
                }
        CHECK_EQ_INT(bad, 0);
    }
    free(im.m.p);
}

/* Gray PNG: the values as they are. 64 x 32 is exactly one patch. */
static void test_png_gray(const char *dir)
{
    img_case im;
    CHECK_EQ_INT(png_case(&im, dir, "gray.png", 64, 32, PNG_COLOR_TYPE_GRAY, 8, px_gray_xy),
                 LMZ_OK);
    CHECK_EQ_INT(im.m.n, 2048);
    CHECK_EQ_INT(im.in.channels, 1);
    if (im.m.n == 2048) {
        CHECK_EQ_INT(im.m.p[0], 0);
        CHECK_EQ_INT(im.m.p[1], 4);
        CHECK_EQ_INT(im.m.p[63], 252);
        CHECK_EQ_INT(im.m.p[64], 1);     /* y 1 */
        CHECK_EQ_INT(im.m.p[65], 5);
        CHECK_EQ_INT(im.m.p[2047], 27);  /* (4*63 + 31) & 255 */
    }
    free(im.m.p);

    /* 16-bit gray keeps the high byte. */
    CHECK_EQ_INT(png_case(&im, dir, "gray16.png", 64, 32, PNG_COLOR_TYPE_GRAY, 16, px_gray16),
                 LMZ_OK);
    CHECK_EQ_INT(im.m.n, 2048);
    if (im.m.n == 2048) {
        CHECK_EQ_INT(im.m.p[0], 0x12);       /* 0x1234 */
        CHECK_EQ_INT(im.m.p[1], 0x13);       /* 0x1334 */
        CHECK_EQ_INT(im.m.p[6], 0x18);       /* 0x1834 */
        CHECK_EQ_INT(im.m.p[7], 0x12);       /* x 7: x % 7 = 0 */
        CHECK_EQ_INT(im.m.p[64 * 31 + 6], 0x18); /* 0x1834 + 31 = 0x1853 */
    }
    free(im.m.p);
}

/* Too small for one patch: no bytes, no error. */
static void test_png_small(const char *dir)
{
    img_case im;
    CHECK_EQ_INT(png_case(&im, dir, "small.png", 63, 100, PNG_COLOR_TYPE_GRAY, 8, px_gray_xy),
                 LMZ_OK);
    CHECK_EQ_INT(im.m.n, 0);
    CHECK_EQ_INT(im.in.width, 63);
    free(im.m.p);
    CHECK_EQ_INT(png_case(&im, dir, "short.png", 200, 31, PNG_COLOR_TYPE_RGB, 8, px_rgb_xy),
                 LMZ_OK);
    CHECK_EQ_INT(im.m.n, 0);
    free(im.m.p);
}

static void test_png_truncated(const char *dir)
{
    img_case im;
    CHECK_EQ_INT(cut_case(&im, dir, "rgb.png", "cut.png", 0), LMZ_ERR_TRUNCATED);
    CHECK(strstr(im.e.msg, "truncated PNG") != NULL);
    CHECK(strstr(im.e.msg, "cut.png") != NULL);
    free(im.m.p);
}

/* A flat gray JPEG at quality 100 decodes exactly. */
static void test_jpeg_flat_gray(const char *dir)
{
    img_case im;
    CHECK_EQ_INT(jpeg_case(&im, dir, "flat.jpg", 130, 64, JCS_GRAYSCALE, px_flat77), LMZ_OK);
    CHECK(!strcmp(im.in.format, "jpeg"));
    CHECK_EQ_INT(im.in.channels, 1);
    CHECK_EQ_INT(im.m.n, 4 * 2048); /* 2 x 2 patches */
    int bad = 0;
    for (size_t i = 0; i < im.m.n; i++)
        bad += im.m.p[i] != 77;
    CHECK_EQ_INT(bad, 0);
    free(im.m.p);
}

/* Color JPEG: the mean of libjpeg's own RGB decode (not its luminance gray),
 * cut into patches in the right order. */
static void test_jpeg_rgb_structure(const char *dir)
{
    img_case im;
    CHECK_EQ_INT(jpeg_case(&im, dir, "tex.jpg", 201, 99, JCS_RGB, px_texture), LMZ_OK);
    CHECK_EQ_INT(im.in.width, 201);
    CHECK_EQ_INT(im.in.height, 99);
    CHECK_EQ_INT(im.in.channels, 3);
    CHECK_EQ_INT(im.m.n, 3 * 3 * 2048); /* 201/64 = 3 across, 99/32 = 3 down */
    uint32_t w, h;
    uint8_t *rgb = decode_jpeg_rgb(im.path, &w, &h);
    CHECK(rgb != NULL);
    if (rgb && im.m.n == 9 * 2048) {
        int bad = 0;
        for (int pi = 0; pi < 9; pi++)
            for (int r = 0; r < 32; r++)
                for (int c = 0; c < 64; c++) {
                    size_t x = (size_t)(pi % 3) * 64 + c, y = (size_t)(pi / 3) * 32 + r;
                    const uint8_t *p = rgb + (y * w + x) * 3;
                    bad += im.m.p[pi * 2048 + r * 64 + c] != (p[0] + p[1] + p[2]) / 3;
                }
        CHECK_EQ_INT(bad, 0);
    }
    free(rgb);
    free(im.m.p);
}

/* CMYK as Adobe writes it: R = C*K/255 = 200, G = 128*200/255 = 100, B = 0;
 * gray (200 + 100 + 0) / 3 = 100. Flat, so exact at quality 100. */
static void test_jpeg_cmyk(const char *dir)
{
    img_case im;
    CHECK_EQ_INT(jpeg_case(&im, dir, "cmyk.jpg", 64, 32, JCS_CMYK, px_cmyk), LMZ_OK);
    CHECK_EQ_INT(im.m.n, 2048);
    if (im.m.n == 2048) {
        CHECK_EQ_INT(im.m.p[0], 100);
        CHECK_EQ_INT(im.m.p[2047], 100);
    }
    free(im.m.p);
}

static void test_jpeg_truncated(const char *dir)
{
    img_case im;
    /* Cut in the middle of the image data, and inside the header. */
    CHECK_EQ_INT(cut_case(&im, dir, "tex.jpg", "cut.jpg", 0), LMZ_ERR_TRUNCATED);
    CHECK(strstr(im.e.msg, "truncated JPEG") != NULL);
    CHECK(strstr(im.e.msg, "cut.jpg") != NULL);
    free(im.m.p);
    CHECK(cut_case(&im, dir, "tex.jpg", "cut.jpg", 100) != LMZ_OK);
    CHECK(strstr(im.e.msg, "cut.jpg") != NULL);
    free(im.m.p);
}

static void test_not_an_image(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    FILE *f = fopen(path, "wb");
    fputs("not an image\n", f);
    fclose(f);
    tu_membuf m;
    lmz_ds_info in;
    lmz_err e;
    CHECK_EQ_INT(prep_image(path, &m, &in, &e), LMZ_ERR_USAGE);
    CHECK(strstr(e.msg, "not a JPEG or PNG") != NULL);
    free(m.p);
    CHECK_EQ_INT(prep_image("/nonexistent/x.png", &m, &in, &e), LMZ_ERR_IO);
    free(m.p);
}

/* The patcher alone: rows in, patches out, limit respected. */
static void test_patcher_limit(void)
{
    lmz_ds_patcher p;
    lmz_err e;
    tu_membuf m = {0};
    lmz_ds_sink s = {.write = tu_membuf_write, .ctx = &m, .limit = 2048};
    CHECK_EQ_INT(lmz_ds_patcher_init(&p, 128, &e), LMZ_OK);
    uint8_t row[128];
    for (int y = 0; y < 64; y++) {
        for (int x = 0; x < 128; x++)
            row[x] = (uint8_t)(x + y);
        CHECK_EQ_INT(lmz_ds_patcher_row(&p, row, &s, &e), LMZ_OK);
    }
    lmz_ds_patcher_free(&p);
    CHECK_EQ_INT(m.n, 2048); /* 4 patches made, the limit let one through */
    CHECK(s.full);
    CHECK_EQ_INT(m.p[64], 1);
    free(m.p);
}

int main(void)
{
    char *dir = tu_test_dir();
    test_gray_mean();
    test_png_rgb_patches(dir);
    test_png_gray(dir);
    test_png_small(dir);
    test_png_truncated(dir);
    test_jpeg_flat_gray(dir);
    test_jpeg_rgb_structure(dir);
    test_jpeg_cmyk(dir);
    test_jpeg_truncated(dir);
    test_not_an_image(dir);
    test_patcher_limit();
    tu_rmtree(dir);
    free(dir);
    return tu_finish("datasets_image");
}
