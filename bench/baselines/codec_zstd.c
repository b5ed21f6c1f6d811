/* codec_zstd.c: zstd -19 through libzstd's streaming API, with the source
 * size pledged so the frame (header and parameters) is the one-shot call's. */
#include <stdlib.h>

#include <zstd.h>

#include "codecs.h"

typedef struct zs {
    ZSTD_CCtx *c;
    uint64_t out;
    uint8_t buf[1 << 16];
} zs;

static void *create(void)
{
    zs *z = calloc(1, sizeof *z);
    if (z && !(z->c = ZSTD_createCCtx())) {
        free(z);
        z = NULL;
    }
    return z;
}

static int begin(void *st, uint64_t total)
{
    zs *z = st;
    z->out = 0;
    if (ZSTD_isError(ZSTD_CCtx_reset(z->c, ZSTD_reset_session_and_parameters)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(z->c, ZSTD_c_compressionLevel, 19)) ||
        ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(z->c, total)))
        return -1;
    return 0;
}

static int run(zs *z, const uint8_t *buf, size_t n, ZSTD_EndDirective mode)
{
    ZSTD_inBuffer in = {buf, n, 0};
    for (;;) {
        ZSTD_outBuffer out = {z->buf, sizeof z->buf, 0};
        size_t left = ZSTD_compressStream2(z->c, &out, &in, mode);
        if (ZSTD_isError(left))
            return -1;
        z->out += out.pos;
        if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size)
            return 0;
    }
}

static int feed(void *st, const uint8_t *buf, size_t n) { return run(st, buf, n, ZSTD_e_continue); }

static int end(void *st, uint64_t *bytes)
{
    zs *z = st;
    if (run(z, NULL, 0, ZSTD_e_end))
        return -1;
    *bytes = z->out;
    return 0;
}

static void destroy(void *st)
{
    zs *z = st;
    if (z)
        ZSTD_freeCCtx(z->c);
    free(z);
}

const bl_codec bl_zstd = {"zstd", "zstd -19", create, begin, feed, end, destroy};
