/* codecs.h: the classical compressors of the paper's Table 1 behind one
 * streaming interface, linked against the real libraries (zlib, liblzma,
 * libbz2, libzstd, libpng, libFLAC). A codec only counts the bytes it would
 * write: the benchmark needs sizes, not files.
 *
 * One stream: begin(total), feed(...) until total bytes are given, end().
 * total is known up front because PNG's image shape, FLAC's STREAMINFO and
 * zstd's frame header depend on it, as they do for a one-shot call. */
#ifndef LMZ_BENCH_CODECS_H
#define LMZ_BENCH_CODECS_H

#include <stddef.h>
#include <stdint.h>

typedef struct bl_codec {
    const char *name;  /* short name for flags and the CSV: gzip, lzma2, ... */
    const char *title; /* column title: "gzip -9", ... */
    void *(*create)(void);
    int (*begin)(void *st, uint64_t total);
    int (*feed)(void *st, const uint8_t *buf, size_t n);
    int (*end)(void *st, uint64_t *bytes); /* the stream's compressed size */
    void (*destroy)(void *st);
} bl_codec;

extern const bl_codec bl_gzip;  /* zlib deflate level 9, gzip framing (as gzip -9) */
extern const bl_codec bl_lzma2; /* liblzma xz container, preset 6 (Python's lzma default) */
extern const bl_codec bl_bzip2; /* libbz2, 900k blocks (bzip2 -9) */
extern const bl_codec bl_zstd;  /* libzstd level 19 */
extern const bl_codec bl_png;   /* libpng, the bytes as the closest-to-square 8-bit gray image */
extern const bl_codec bl_flac;  /* libFLAC, bytes as 8-bit mono 16 kHz samples, level 8 */
extern uint32_t bl_flac_padding; /* bytes of FLAC PADDING block; 8192 as the flac command */

/* The shape the paper's PNG baseline uses: a = round(sqrt(n)), lowered until
 * it divides n; the image is a pixels wide and n / a rows high. */
void bl_png_shape(uint64_t n, uint32_t *width, uint64_t *height);

#endif
