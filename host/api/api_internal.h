/* api_internal.h (private to host/api/): what the public handles of lmz.h
 * hold, and the mapping from lmz_params to the pipeline's options. */
#ifndef LMZ_API_INTERNAL_H
#define LMZ_API_INTERNAL_H

#include <pthread.h>

#include "lmz.h"
#include "pipeline_internal.h"
#include "window.h"

/* lmz_params with its strings copied, so a handle never points into the
 * caller's memory after the call that created it. */
typedef struct lmz_api_params {
    lmz_params p;
    char *model, *model_dir, *model_path, *kind;
} lmz_api_params;

/* Check p (NULL: defaults) and copy it into out. LMZ_ERR_USAGE for a value
 * out of range (device, codec, chunks per block), LMZ_ERR_NOMEM. */
lmz_status lmz_api_params_copy(lmz_api_params *out, const lmz_params *p, lmz_err *err);
void lmz_api_params_free(lmz_api_params *ap);
/* The pipeline's options for these params. */
void lmz_api_common_opts(const lmz_api_params *ap, lmz_common_opts *c);

/* An open archive (lmz.h): the reader, and the model and read-ahead window
 * made the first time a read needs them. lock serializes calls on one
 * handle (the window is one scratch area); different handles share
 * nothing, so they run in parallel. */
struct lmz_archive {
    pthread_mutex_t lock;
    lmz_api_params ap;
    lmz_common_opts c;
    lmz_reader r;
    lmz_window w;        /* w.cap == 0 until the first read */
    uint64_t file_bytes;
};

/* Set err to LMZ_ERR_USAGE naming the NULL argument of fn. */
lmz_status lmz_api_null(lmz_err *err, const char *fn, const char *what);

#endif
