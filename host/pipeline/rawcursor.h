/* rawcursor.h (host/pipeline/, not public): reads an archive's raw stream in order,
 * a read-ahead window of blocks at a time (window.h: all their chunks in
 * one backend call), every block decoded whole and its raw checksum
 * checked. Bytes are handed out block by block, in order. */
#ifndef LMZ_RAWCURSOR_H
#define LMZ_RAWCURSOR_H

#include "pipeline_internal.h"
#include "progress.h"
#include "window.h"

/* Called for a damaged block when the cursor reaches it (in order); its
 * bytes are then handed out as zeros. */
typedef void (*lmz_rawcursor_damage_fn)(void *ctx, const lmz_reader *r, uint64_t block, const lmz_err *why);

typedef struct lmz_rawcursor {
    lmz_reader *r;
    lmz_window w;
    uint32_t cur;        /* slot of w being handed out */
    uint64_t next;       /* next block to put into the window */
    uint64_t block;      /* blocks handed out (done) */
    const uint8_t *bytes;
    uint32_t have, used; /* bytes of the current block / handed out */
    uint64_t done;
    lmz_progress *pg;
    lmz_rawcursor_damage_fn on_damage; /* NULL: a damaged block is an error */
    void *damage_ctx;
} lmz_rawcursor;

/* batch: blocks per window (lmz_batch_blocks). on_damage: see above. */
lmz_status lmz_rawcursor_init(lmz_rawcursor *c, lmz_reader *r, uint32_t batch, lmz_progress *pg,
                              lmz_rawcursor_damage_fn on_damage, void *damage_ctx, lmz_err *err);
/* Next up to want bytes: *ptr points into the cursor's buffer (valid until
 * the next call), *got > 0 unless the stream has ended. */
lmz_status lmz_rawcursor_next(lmz_rawcursor *c, uint64_t want, const uint8_t **ptr, uint32_t *got,
                              lmz_err *err);
void lmz_rawcursor_free(lmz_rawcursor *c);

#endif
