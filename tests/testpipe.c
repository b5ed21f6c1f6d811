/* testpipe.c: the pipeline as the tests call it: one file compressed to an
 * archive, one archive decompressed, on 2 threads. */
#include <string.h>

#include "lmz_pipeline.h"
#include "testutil.h"

lmz_status tu_compress_one(const char *input, const char *archive, const char *model,
                           int codec, lmz_stats *st, lmz_err *err)
{
    lmz_compress_opts o;
    memset(&o, 0, sizeof o);
    o.c.nthreads = 2;
    o.c.model_spec = model;
    o.inputs = &input;
    o.ninputs = 1;
    o.output = archive;
    o.codec = (lmz_codec)codec;
    lmz_err_clear(err);
    return lmz_compress(&o, st, err);
}

lmz_status tu_decompress_one(const char *archive, const char *output, lmz_err *err)
{
    lmz_decompress_opts o;
    memset(&o, 0, sizeof o);
    o.c.nthreads = 2;
    o.archive = archive;
    o.output = output;
    lmz_err_clear(err);
    return lmz_decompress(&o, NULL, err);
}
