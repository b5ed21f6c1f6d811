/* rawcursor.h (private to host/): reads an archive's raw stream in order,
 * decoding one whole block at a time (every block's raw checksum checked). */
#ifndef LMZ_RAWCURSOR_H
#define LMZ_RAWCURSOR_H

#include "pipeline_internal.h"
#include "progress.h"

typedef struct lmz_rawcursor {
    lmz_reader *r;
    uint8_t *payload, *raw;
    uint64_t block;      /* next block to decode */
    uint32_t have, used; /* bytes of raw decoded / handed out */
    uint64_t done;
    lmz_progress *pg;
} lmz_rawcursor;

lmz_status lmz_rawcursor_init(lmz_rawcursor *c, lmz_reader *r, lmz_progress *pg, lmz_err *err);
/* Next up to want bytes: *ptr points into the cursor's buffer, *got > 0
 * unless the stream has ended. */
lmz_status lmz_rawcursor_next(lmz_rawcursor *c, uint64_t want, const uint8_t **ptr, uint32_t *got,
                              lmz_err *err);
void lmz_rawcursor_free(lmz_rawcursor *c);

#endif
