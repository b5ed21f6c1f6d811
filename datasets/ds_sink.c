/* ds_sink.c: the sink every producer writes to, and the kind names. The
 * producers (ds_text.c, ds_image.c, ...) call into this file and it calls
 * none of them: the dispatch from a kind to its producer is ds_prepare.c,
 * so the dependencies run one way: ds_prepare -> producers -> ds_sink. */
#include <string.h>

#include "lmz_datasets.h"

static const char *const kind_names[] = {"text", "image", "audio", "random"};

int lmz_ds_kind_parse(const char *name)
{
    for (int k = 0; k < (int)(sizeof kind_names / sizeof kind_names[0]); k++)
        if (name && strcmp(name, kind_names[k]) == 0)
            return k;
    return -1;
}

const char *lmz_ds_kind_name(lmz_ds_kind kind)
{
    return (unsigned)kind < sizeof kind_names / sizeof kind_names[0] ? kind_names[kind] : "?";
}

lmz_status lmz_ds_emit(lmz_ds_sink *s, const uint8_t *buf, size_t n, lmz_err *err)
{
    if (s->full)
        return LMZ_OK;
    if (s->limit) {
        uint64_t room = s->limit - s->written;
        if (n >= room) {
            n = (size_t)room;
            s->full = 1;
        }
    }
    if (n) {
        lmz_status rc = s->write(s->ctx, buf, n, err);
        if (rc)
            return rc;
        s->written += n;
    }
    return LMZ_OK;
}
