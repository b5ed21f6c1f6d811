#include "rawcursor.h"

#include <stdlib.h>
#include <string.h>

lmz_status lmz_rawcursor_init(lmz_rawcursor *c, lmz_reader *r, uint32_t batch, lmz_progress *pg,
                              lmz_rawcursor_damage_fn on_damage, void *damage_ctx, lmz_err *err)
{
    memset(c, 0, sizeof *c);
    c->r = r;
    c->pg = pg;
    c->on_damage = on_damage;
    c->damage_ctx = damage_ctx;
    if (r->nblocks && batch > r->nblocks)
        batch = (uint32_t)r->nblocks;
    return lmz_window_init(&c->w, r, batch, err);
}

/* Fill the window with the next blocks and decode them. */
static lmz_status refill(lmz_rawcursor *c, lmz_err *err)
{
    lmz_window_clear(&c->w);
    while (c->w.n < c->w.cap && c->next < c->r->nblocks) {
        lmz_window_add(&c->w, c->next, 0, c->r->index[c->next].raw_len);
        c->next++;
    }
    c->cur = 0;
    lmz_status rc = lmz_window_decode(&c->w, !c->on_damage, err);
    if (!rc && c->w.n && c->w.slot[c->w.n - 1].block + 1 < c->next)
        c->next = c->w.slot[c->w.n - 1].block + 1; /* cut at a damaged block */
    return rc;
}

lmz_status lmz_rawcursor_next(lmz_rawcursor *c, uint64_t want, const uint8_t **ptr, uint32_t *got,
                              lmz_err *err)
{
    *got = 0;
    while (c->used == c->have) {
        if (c->block >= c->r->nblocks)
            return LMZ_OK;
        /* the next block: the window's next slot, or a new window */
        if (c->cur + 1 >= c->w.n) {
            lmz_status rc = refill(c, err);
            if (rc)
                return rc;
            if (!c->w.n)
                return LMZ_OK;
        } else {
            c->cur++;
        }
        const lmz_window_slot *s = &c->w.slot[c->cur];
        const lmz_index_entry *e = &c->r->index[s->block];
        if (s->rc) {
            if (!c->on_damage) {
                if (err)
                    *err = s->err;
                return s->rc;
            }
            memset(lmz_window_raw(&c->w, c->cur), 0, e->raw_len);
            c->on_damage(c->damage_ctx, c->r, s->block, &s->err);
        }
        c->bytes = lmz_window_raw(&c->w, c->cur);
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
    *ptr = c->bytes + c->used;
    *got = n;
    c->used += n;
    return LMZ_OK;
}

void lmz_rawcursor_free(lmz_rawcursor *c)
{
    lmz_window_free(&c->w);
}
