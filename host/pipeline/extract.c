/* extract.c: one block, one byte range or one member of the raw stream,
 * decoding only the chunks the request touches, a read-ahead window of
 * blocks per backend call (--batch). */
#include <stdlib.h>
#include <string.h>

#include "outfile.h"
#include "pipeline_internal.h"
#include "progress.h"
#include "window.h"

/* The raw range [off, off+len) the request names. */
static lmz_status resolve_range(const lmz_extract_opts *o, lmz_reader *r, uint64_t *off,
                                uint64_t *len, lmz_err *err)
{
    const lmz_archive_info *info = r->info;
    switch (o->what) {
    case LMZ_EXTRACT_BLOCK:
        if (o->block >= r->nblocks)
            return lmz_err_set(err, LMZ_ERR_RANGE, "block %llu does not exist (the archive has %llu)",
                               (unsigned long long)o->block, (unsigned long long)r->nblocks);
        *off = r->index[o->block].raw_offset;
        *len = r->index[o->block].raw_len;
        return LMZ_OK;
    case LMZ_EXTRACT_RANGE:
        if (o->offset > info->raw_size || o->length > info->raw_size - o->offset)
            return lmz_err_set(err, LMZ_ERR_RANGE,
                               "range %llu:%llu is outside the archive's %llu bytes",
                               (unsigned long long)o->offset, (unsigned long long)o->length,
                               (unsigned long long)info->raw_size);
        *off = o->offset;
        *len = o->length;
        return LMZ_OK;
    case LMZ_EXTRACT_MEMBER: {
        size_t nm = 0;
        const lmz_member *m = lmz_afile_members(r->a, &nm);
        for (size_t k = 0; k < nm; k++)
            if (!strcmp(m[k].name, o->member)) {
                *off = m[k].offset;
                *len = m[k].size;
                return LMZ_OK;
            }
        return lmz_err_set(err, LMZ_ERR_RANGE, "no member named '%s' in the archive", o->member);
    }
    }
    return lmz_err_set(err, LMZ_ERR_USAGE, "extract: nothing to extract");
}

static lmz_status to_outfile(void *ctx, const uint8_t *buf, size_t n, lmz_err *err)
{
    return lmz_outfile_write(ctx, buf, n, err);
}

lmz_status lmz_extract(const lmz_extract_opts *o, lmz_stats *st, lmz_err *err)
{
    lmz_stats local;
    if (!st)
        st = &local;
    memset(st, 0, sizeof *st);
    double t0 = lmz_now();
    lmz_reader r;
    lmz_status rc = lmz_reader_open(&r, o->archive, err);
    if (rc)
        return rc;
    uint64_t off = 0, len = 0;
    rc = resolve_range(o, &r, &off, &len, err);
    const char *path = o->to_stdout ? NULL : o->output;
    lmz_outfile of;
    memset(&of, 0, sizeof of);
    if (!rc)
        rc = lmz_outfile_open(&of, path, o->c.force, 0, 0644, err);
    if (!rc && len)
        rc = lmz_reader_load_model(&r, &o->c, err);
    /* The blocks the range touches go through a read-ahead window: all the
     * chunks of a window's blocks in one backend call. */
    lmz_window w;
    memset(&w, 0, sizeof w);
    if (!rc && len) {
        uint64_t nb = lmz_reader_block_of(&r, off + len - 1) + 1 - lmz_reader_block_of(&r, off);
        rc = lmz_window_init(&w, &r, lmz_reader_batch(&r, &o->c, nb), err);
    }
    lmz_progress pg;
    lmz_progress_start(&pg, o->c.progress, o->c.progress_ctx, "extract");
    if (!rc)
        rc = lmz_window_read_range(&w, off, len, to_outfile, &of, &pg, err);
    lmz_progress_end(&pg);
    if (!rc) {
        st->raw_bytes = len;
        st->blocks = len ? lmz_reader_block_of(&r, off + len - 1) + 1 - lmz_reader_block_of(&r, off) : 0;
    }
    if (!rc)
        rc = lmz_outfile_commit(&of, err);
    else if (of.f)
        lmz_outfile_abort(&of);
    lmz_window_free(&w);
    lmz_reader_close(&r);
    st->seconds = lmz_now() - t0;
    return rc;
}
