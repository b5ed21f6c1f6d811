/* lmz_datasets.h: turning sources into the paper's byte streams
 * ("Language Modeling Is Compression", Delétang et al. 2024), for
 * `lmz prepare`. Everything here is a lossy, explicit transform that makes a
 * new dataset; `lmz compress` itself never transforms its input.
 *
 *   text    the bytes as they are;
 *   image   JPEG or PNG; RGB to grayscale by the mean of the three channels,
 *           truncated to uint8 (grayscale inputs as they are); cut into
 *           non-overlapping 32x64 patches (32 rows, 64 columns; the remainder
 *           of the image cropped), each flattened row-major into 2048 bytes,
 *           in row-major patch order;
 *   audio   WAV or FLAC, 16-bit mono only; each sample to 8 bits by keeping
 *           the high byte (arithmetic shift right 8) and adding 128; each
 *           file cut into 2048-byte chunks on its own, its partial last chunk
 *           dropped;
 *   random  seeded pseudo-random bytes.
 *
 * Everything streams: an image is decoded 32 rows at a time, audio and text
 * are read in pieces, so memory does not grow with the input. The bytes go to
 * a sink the caller supplies. Library code: nothing here prints or exits;
 * errors come back as an lmz_status with a one-line message in lmz_err. */
#ifndef LMZ_DATASETS_H
#define LMZ_DATASETS_H

#include <stddef.h>
#include <stdint.h>

#include "lmz_error.h"

#define LMZ_DS_CHUNK 2048        /* the paper's chunk: the model's context */
#define LMZ_DS_PATCH_ROWS 32     /* an image patch is 32 rows ... */
#define LMZ_DS_PATCH_COLS 64     /* ... of 64 columns = 2048 bytes */

typedef enum lmz_ds_kind {
    LMZ_DS_TEXT = 0,
    LMZ_DS_IMAGE,
    LMZ_DS_AUDIO,
    LMZ_DS_RANDOM,
} lmz_ds_kind;

/* "text", "image", "audio", "random" -> kind; -1 if unknown. */
int lmz_ds_kind_parse(const char *name);
const char *lmz_ds_kind_name(lmz_ds_kind kind);

/* Where prepared bytes go. write() receives every byte in order; limit (if
 * non-zero) caps the total: the write that crosses it is cut, and full is set
 * so that producers stop reading their source. */
typedef struct lmz_ds_sink {
    lmz_status (*write)(void *ctx, const uint8_t *buf, size_t n, lmz_err *err);
    void *ctx;
    uint64_t limit;    /* 0: none */
    uint64_t written;  /* bytes passed to write so far */
    int full;          /* limit reached */
} lmz_ds_sink;

/* Pass n bytes to the sink, respecting its limit. */
lmz_status lmz_ds_emit(lmz_ds_sink *s, const uint8_t *buf, size_t n, lmz_err *err);

/* What one source turned into (for the manifest). */
typedef struct lmz_ds_info {
    const char *format;     /* "text", "jpeg", "png", "wav", "flac", "random" */
    uint64_t bytes;         /* bytes this source gave the sink */
    /* image */
    uint32_t width, height; /* pixels */
    uint32_t channels;      /* as decoded: 1 (gray) or 3 (RGB; CMYK is converted) */
    uint32_t patches_x, patches_y;
    /* audio */
    uint32_t sample_rate;
    uint64_t samples;       /* samples in the file */
    uint64_t dropped;       /* samples of the partial last chunk, not written */
} lmz_ds_info;

/* Prepare one file of the given kind (not LMZ_DS_RANDOM) into the sink.
 * Text accepts "-" for standard input. Images and audio are recognized by
 * their first bytes, not by their name. A truncated or malformed file, or an
 * unsupported sample format, is an error naming the file. Stops early (with
 * LMZ_OK) when the sink is full. */
lmz_status lmz_ds_prepare_file(lmz_ds_kind kind, const char *path, lmz_ds_sink *sink,
                               lmz_ds_info *info, lmz_err *err);

/* The per-kind producers behind lmz_ds_prepare_file. */
lmz_status lmz_ds_text(const char *path, lmz_ds_sink *sink, lmz_ds_info *info, lmz_err *err);
lmz_status lmz_ds_image(const char *path, lmz_ds_sink *sink, lmz_ds_info *info, lmz_err *err);
lmz_status lmz_ds_audio(const char *path, lmz_ds_sink *sink, lmz_ds_info *info, lmz_err *err);

/* size bytes of seeded pseudo-random data: splitmix64(seed) outputs, each
 * written little-endian. The same seed gives the same bytes everywhere. */
lmz_status lmz_ds_random(uint64_t seed, uint64_t size, lmz_ds_sink *sink, lmz_ds_info *info,
                         lmz_err *err);

/* The two per-value transforms, exposed so tests can check them alone. */
static inline uint8_t lmz_ds_gray(uint8_t r, uint8_t g, uint8_t b)
{
    return (uint8_t)(((unsigned)r + g + b) / 3u); /* mean, truncated */
}
static inline uint8_t lmz_ds_audio8(int16_t s)
{
    /* The high byte of the two's-complement sample is the arithmetic shift
     * right by 8 taken mod 256; adding 128 mod 256 flips its top bit. Written
     * on the unsigned value, because >> of a negative int is
     * implementation-defined in C. */
    return (uint8_t)(((uint16_t)s >> 8) ^ 0x80u);
}

/* Image patching over a stream of grayscale rows: feed rows of `width`
 * bytes; every 32 rows emit floor(width / 64) patches. Rows after the last
 * whole band of 32 are ignored (cropped). Used by the JPEG and PNG readers;
 * public so a test can drive it with synthetic rows. */
typedef struct lmz_ds_patcher {
    uint32_t width;
    uint32_t rows;      /* rows buffered in the current band */
    uint8_t *band;      /* 32 * width bytes */
    uint8_t patch[LMZ_DS_CHUNK];
} lmz_ds_patcher;

lmz_status lmz_ds_patcher_init(lmz_ds_patcher *p, uint32_t width, lmz_err *err);
/* Copy of one row of width gray bytes. */
lmz_status lmz_ds_patcher_row(lmz_ds_patcher *p, const uint8_t *row, lmz_ds_sink *sink,
                              lmz_err *err);
void lmz_ds_patcher_free(lmz_ds_patcher *p);

/* Audio chunking: feed 16-bit samples; every 2048 of them become one 2048-byte
 * chunk; at the end of a file the partial chunk is dropped. */
typedef struct lmz_ds_chunker {
    uint32_t fill;
    uint64_t samples;
    uint8_t chunk[LMZ_DS_CHUNK];
} lmz_ds_chunker;

lmz_status lmz_ds_chunker_push(lmz_ds_chunker *c, const int16_t *s, size_t n, lmz_ds_sink *sink,
                               lmz_err *err);

/* Sources: expand a directory into the files it holds (regular files,
 * names not starting with '.'), sorted by name bytewise (strcmp), so a
 * prepared dataset does not depend on the file system's order. With
 * recursive, subdirectories are walked too, each at its place in the name
 * order. For image and audio, only files whose extension is known are taken
 * (.jpg .jpeg .png; .wav .flac; any case); text takes every file. The list
 * is appended to *paths (malloc'd strings, *n entries, *cap capacity). */
lmz_status lmz_ds_list_dir(const char *dir, lmz_ds_kind kind, int recursive, char ***paths,
                           size_t *n, size_t *cap, lmz_err *err);

#endif
