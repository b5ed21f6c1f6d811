/* codec_png.c: the paper's PNG baseline. The bytes become an 8-bit grayscale
 * image of the closest-to-square shape (see bl_png_shape) and go through
 * libpng at zlib level 9 with libpng's adaptive per-row filter choice (as
 * Pillow's optimize=True does), in large IDAT chunks, no ancillary chunks.
 * Rows are written as the bytes arrive, so a large stream needs one row of
 * memory. */
#include <math.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "codecs.h"

void bl_png_shape(uint64_t n, uint32_t *width, uint64_t *height)
{
    uint64_t a = (uint64_t)llround(sqrt((double)n));
    /* Settle round(sqrt(n)) in integers (a double's sqrt can be off by one
     * for huge n): a is it when a*a - a < n <= a*a + a. */
    while (a > 1 && a * a - a >= n)
        a--;
    while ((a + 1) * (a + 1) - (a + 1) < n)
        a++;
    while (a > 1 && n % a)
        a--;
    *width = (uint32_t)a;
    *height = n / a;
}

typedef struct pngc {
    png_structp png;
    png_infop info;
    uint64_t out;
    uint32_t width, fill;
    uint8_t *row;
} pngc;

static void on_write(png_structp png, png_bytep data, size_t n)
{
    pngc *p = png_get_io_ptr(png);
    (void)data;
    p->out += n;
}

static void on_flush(png_structp png) { (void)png; }

static void on_error(png_structp png, png_const_charp msg)
{
    (void)msg;
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void *create(void) { return calloc(1, sizeof(pngc)); }

static void drop(pngc *p)
{
    if (p->png)
        png_destroy_write_struct(&p->png, &p->info);
    p->png = NULL;
    p->info = NULL;
    free(p->row);
    p->row = NULL;
}

static int begin(void *st, uint64_t total)
{
    pngc *p = st;
    drop(p);
    uint64_t h;
    bl_png_shape(total ? total : 1, &p->width, &h);
    if (h > 0x7fffffffu)
        return -1; /* beyond PNG's limit on rows */
    p->out = 0;
    p->fill = 0;
    p->row = malloc(p->width);
    p->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, p, on_error, on_warning);
    p->info = p->png ? png_create_info_struct(p->png) : NULL;
    if (!p->row || !p->info)
        return -1;
    if (setjmp(png_jmpbuf(p->png)))
        return -1;
    png_set_write_fn(p->png, p, on_write, on_flush);
    png_set_IHDR(p->png, p->info, p->width, (uint32_t)h, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(p->png, 9);
    png_set_compression_mem_level(p->png, 9);
    png_set_filter(p->png, PNG_FILTER_TYPE_BASE, PNG_ALL_FILTERS);
    /* One IDAT chunk per 64 KB of compressed data: 12 bytes each. */
    png_set_compression_buffer_size(p->png, 1 << 16);
    png_write_info(p->png, p->info);
    return 0;
}

/* Apart from feed so that nothing feed's setjmp frame holds changes after
 * setjmp (what changes lives in *p, in memory). */
static void write_rows(pngc *p, const uint8_t *buf, size_t n)
{
    while (n) {
        size_t take = p->width - p->fill < n ? p->width - p->fill : n;
        memcpy(p->row + p->fill, buf, take);
        p->fill += (uint32_t)take;
        buf += take;
        n -= take;
        if (p->fill == p->width) {
            png_write_row(p->png, p->row);
            p->fill = 0;
        }
    }
}

static int feed(void *st, const uint8_t *buf, size_t n)
{
    pngc *p = st;
    if (setjmp(png_jmpbuf(p->png)))
        return -1;
    write_rows(p, buf, n);
    return 0;
}

static int end(void *st, uint64_t *bytes)
{
    pngc *p = st;
    if (setjmp(png_jmpbuf(p->png)))
        return -1;
    png_write_end(p->png, NULL);
    *bytes = p->out;
    return 0;
}

static void destroy(void *st)
{
    if (st)
        drop(st);
    free(st);
}

const bl_codec bl_png = {"png", "PNG", create, begin, feed, end, destroy};
