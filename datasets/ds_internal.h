/* ds_internal.h (private to datasets/): the format readers behind
 * lmz_ds_image and lmz_ds_audio. Each takes an open file positioned at its
 * start; the caller closes it (except lmz_ds_flac, which always closes it:
 * libFLAC owns the FILE it is given). */
#ifndef LMZ_DS_INTERNAL_H
#define LMZ_DS_INTERNAL_H

#include <stdio.h>

#include "lmz_datasets.h"

lmz_status lmz_ds_jpeg(FILE *f, const char *path, lmz_ds_sink *sink, lmz_ds_info *info,
                       lmz_err *err);
lmz_status lmz_ds_png(FILE *f, const char *path, lmz_ds_sink *sink, lmz_ds_info *info,
                      lmz_err *err);
lmz_status lmz_ds_wav(FILE *f, const char *path, lmz_ds_sink *sink, lmz_ds_info *info,
                      lmz_err *err);
lmz_status lmz_ds_flac(FILE *f, const char *path, lmz_ds_sink *sink, lmz_ds_info *info,
                       lmz_err *err);

/* One decoded row of width pixels with `channels` bytes each (1 gray,
 * 2 gray+alpha, 3 RGB, 4 RGBA) to gray: gray as it is, RGB by the truncated
 * mean; alpha is ignored. */
void lmz_ds_row_to_gray(const uint8_t *in, uint32_t channels, uint32_t width, uint8_t *out);

/* The message for a sample format other than 16-bit mono. */
lmz_status lmz_ds_reject_format(const char *path, const char *what, unsigned channels,
                                unsigned bits, lmz_err *err);

#endif
