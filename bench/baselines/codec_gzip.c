/* codec_gzip.c: gzip -9 through zlib (deflate, window 2^15, memLevel 8, gzip
 * header and trailer: 18 bytes, as gzip and Python's gzip module write). */
#include <stdlib.h>

#include <zlib.h>

#include "codecs.h"

typedef struct gz {
    z_stream z;
    uint64_t out;
    uint8_t buf[1 << 16];
} gz;

static void *create(void)
{
    gz *g = calloc(1, sizeof *g);
    /* windowBits 15 + 16 asks zlib for the gzip wrapper. */
    if (g && deflateInit2(&g->z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(g);
        g = NULL;
    }
    return g;
}

static int begin(void *st, uint64_t total)
{
    (void)total;
    gz *g = st;
    g->out = 0;
    return deflateReset(&g->z) == Z_OK ? 0 : -1;
}

static int run(gz *g, int flush)
{
    int rc;
    do {
        g->z.next_out = g->buf;
        g->z.avail_out = sizeof g->buf;
        rc = deflate(&g->z, flush);
        if (rc == Z_STREAM_ERROR)
            return -1;
        g->out += sizeof g->buf - g->z.avail_out;
    } while (g->z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    return 0;
}

static int feed(void *st, const uint8_t *buf, size_t n)
{
    gz *g = st;
    g->z.next_in = (Bytef *)buf;
    g->z.avail_in = (uInt)n;
    return run(g, Z_NO_FLUSH);
}

static int end(void *st, uint64_t *bytes)
{
    gz *g = st;
    g->z.next_in = NULL;
    g->z.avail_in = 0;
    if (run(g, Z_FINISH))
        return -1;
    *bytes = g->out;
    return 0;
}

static void destroy(void *st)
{
    gz *g = st;
    if (g)
        deflateEnd(&g->z);
    free(g);
}

const bl_codec bl_gzip = {"gzip", "gzip -9", create, begin, feed, end, destroy};
