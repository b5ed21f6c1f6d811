#include "rawcursor.h"

#include <stdlib.h>
#include <string.h>

lmz_status lmz_rawcursor_init(lmz_rawcursor *c, lmz_reader *r, lmz_progress *pg, lmz_err *err)
{
    memset(c, 0, sizeof *c);
    c->r = r;
    c->pg = pg;
    c->payload = malloc(lmz_reader_max_payload(r));
    c->raw = malloc(lmz_reader_block_bytes(r));
    if (!c->payload || !c->raw) {
        lmz_rawcursor_free(c);
        return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
    }
    return LMZ_OK;
}

lmz_status lmz_rawcursor_next(lmz_rawcursor *c, uint64_t want, const uint8_t **ptr, uint32_t *got,
                              lmz_err *err)
{
    *got = 0;
    if (c->used == c->have) {
        if (c->block >= c->r->nblocks)
            return LMZ_OK;
        const lmz_index_entry *e = &c->r->index[c->block];
        lmz_status rc = lmz_reader_decode_block(c->r, c->block, 0, e->raw_len, c->payload, c->raw, err);
        if (rc)
            return rc;
        c->block++;
        c->have = e->raw_len;
        c->used = 0;
        c->done += e->raw_len;
        if (c->pg)
            lmz_progress_update(c->pg, c->done, c->r->info->raw_size, c->done);
    }
    uint32_t n = c->have - c->used;
    if (want < n)
        n = (uint32_t)want;
    *ptr = c->raw + c->used;
    *got = n;
    c->used += n;
    return LMZ_OK;
}

void lmz_rawcursor_free(lmz_rawcursor *c)
{
    free(c->payload);
    free(c->raw);
    c->payload = c->raw = NULL;
}
