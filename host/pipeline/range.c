/* range.c: a byte range of the raw stream, decoded through a read-ahead
 * window (window.h): what extract and the library's reads share. */
#include "progress.h"
#include "window.h"

uint64_t lmz_reader_block_of(const lmz_reader *r, uint64_t off)
{
    /* index rows are contiguous: bisect on their ends */
    uint64_t lo = 0, hi = r->nblocks;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (r->index[mid].raw_offset + r->index[mid].raw_len <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

lmz_status lmz_window_read_range(lmz_window *w, uint64_t off, uint64_t len, lmz_range_sink sink,
                                 void *ctx, lmz_progress *pg, lmz_err *err)
{
    if (!len)
        return LMZ_OK;
    const lmz_reader *r = w->r;
    uint64_t b0 = lmz_reader_block_of(r, off), b1 = lmz_reader_block_of(r, off + len - 1) + 1;
    uint64_t done = 0;
    lmz_status rc = LMZ_OK;
    for (uint64_t b = b0; !rc && b < b1;) {
        lmz_window_clear(w);
        for (; b < b1 && w->n < w->cap; b++) {
            const lmz_index_entry *e = &r->index[b];
            uint64_t lo = off > e->raw_offset ? off - e->raw_offset : 0;
            uint64_t hi = off + len - e->raw_offset;
            if (hi > e->raw_len)
                hi = e->raw_len;
            lmz_window_add(w, b, (uint32_t)lo, (uint32_t)hi);
        }
        rc = lmz_window_decode(w, 1, err);
        /* in order; the first damaged block ends the read, named alone */
        for (uint32_t i = 0; i < w->n && !rc; i++) {
            const lmz_window_slot *s = &w->slot[i];
            if (s->rc) {
                if (err)
                    *err = s->err;
                return s->rc;
            }
            rc = sink(ctx, lmz_window_bytes(w, i), s->hi - s->lo, err);
            done += s->hi - s->lo;
            if (pg)
                lmz_progress_update(pg, done, len, done);
        }
    }
    return rc;
}
