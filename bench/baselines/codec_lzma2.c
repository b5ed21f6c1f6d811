/* codec_lzma2.c: LZMA2 in the xz container through liblzma, preset 6 with a
 * CRC64 check: what Python's lzma.compress() does by default, the paper's
 * "LZMA2". The lzma_stream is reused across streams: liblzma keeps its
 * allocations when an encoder is started again on the same stream. */
#include <stdlib.h>

#include <lzma.h>

#include "codecs.h"

typedef struct xz {
    lzma_stream s;
    uint64_t out;
    uint8_t buf[1 << 16];
} xz;

static void *create(void)
{
    xz *x = calloc(1, sizeof *x);
    if (x)
        x->s = (lzma_stream)LZMA_STREAM_INIT;
    return x;
}

static int begin(void *st, uint64_t total)
{
    (void)total;
    xz *x = st;
    x->out = 0;
    return lzma_easy_encoder(&x->s, 6, LZMA_CHECK_CRC64) == LZMA_OK ? 0 : -1;
}

static int run(xz *x, lzma_action a)
{
    for (;;) {
        x->s.next_out = x->buf;
        x->s.avail_out = sizeof x->buf;
        lzma_ret rc = lzma_code(&x->s, a);
        x->out += sizeof x->buf - x->s.avail_out;
        if (rc == LZMA_STREAM_END)
            return 0;
        if (rc != LZMA_OK)
            return -1;
        if (a == LZMA_RUN && x->s.avail_in == 0 && x->s.avail_out != 0)
            return 0;
    }
}

static int feed(void *st, const uint8_t *buf, size_t n)
{
    xz *x = st;
    x->s.next_in = buf;
    x->s.avail_in = n;
    return run(x, LZMA_RUN);
}

static int end(void *st, uint64_t *bytes)
{
    xz *x = st;
    x->s.next_in = NULL;
    x->s.avail_in = 0;
    if (run(x, LZMA_FINISH))
        return -1;
    *bytes = x->out;
    return 0;
}

static void destroy(void *st)
{
    xz *x = st;
    if (x)
        lzma_end(&x->s);
    free(x);
}

const bl_codec bl_lzma2 = {"lzma2", "LZMA2 (xz -6)", create, begin, feed, end, destroy};
