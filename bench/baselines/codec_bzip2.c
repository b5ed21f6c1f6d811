/* codec_bzip2.c: bzip2 -9 through libbz2 (900 KB blocks, default work
 * factor). */
#include <stdlib.h>
#include <string.h>

#include <bzlib.h>

#include "codecs.h"

typedef struct bz {
    bz_stream s;
    int live;
    uint64_t out;
    char buf[1 << 16];
} bz;

static void *create(void) { return calloc(1, sizeof(bz)); }

static int begin(void *st, uint64_t total)
{
    (void)total;
    bz *b = st;
    if (b->live)
        BZ2_bzCompressEnd(&b->s);
    memset(&b->s, 0, sizeof b->s);
    b->out = 0;
    b->live = BZ2_bzCompressInit(&b->s, 9, 0, 0) == BZ_OK;
    return b->live ? 0 : -1;
}

static int run(bz *b, int action)
{
    for (;;) {
        b->s.next_out = b->buf;
        b->s.avail_out = sizeof b->buf;
        int rc = BZ2_bzCompress(&b->s, action);
        b->out += sizeof b->buf - b->s.avail_out;
        if (rc == BZ_STREAM_END)
            return 0;
        if (rc != BZ_RUN_OK && rc != BZ_FINISH_OK)
            return -1;
        if (action == BZ_RUN && b->s.avail_in == 0)
            return 0;
    }
}

static int feed(void *st, const uint8_t *buf, size_t n)
{
    bz *b = st;
    b->s.next_in = (char *)buf;
    b->s.avail_in = (unsigned)n;
    return run(b, BZ_RUN);
}

static int end(void *st, uint64_t *bytes)
{
    bz *b = st;
    b->s.next_in = NULL;
    b->s.avail_in = 0;
    if (run(b, BZ_FINISH))
        return -1;
    BZ2_bzCompressEnd(&b->s);
    b->live = 0;
    *bytes = b->out;
    return 0;
}

static void destroy(void *st)
{
    bz *b = st;
    if (b && b->live)
        BZ2_bzCompressEnd(&b->s);
    free(b);
}

const bl_codec bl_bzip2 = {"bzip2", "bzip2 -9", create, begin, feed, end, destroy};
