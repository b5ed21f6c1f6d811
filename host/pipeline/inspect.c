/* inspect.c: verify (lmz list is the CLI's, on the API: host/cli/list.c). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline_internal.h"
#include "progress.h"
#include "window.h"

lmz_status lmz_reader_verify(lmz_reader *r, const lmz_common_opts *c, int full,
                             lmz_verify_report_fn report, void *ctx, lmz_stats *st, lmz_err *err)
{
    return lmz_reader_verify_blocks(r, c, full, 0, r->nblocks, report, ctx, st, err);
}

lmz_status lmz_reader_verify_blocks(lmz_reader *r, const lmz_common_opts *c, int full, uint64_t b0,
                                    uint64_t b1, lmz_verify_report_fn report, void *ctx,
                                    lmz_stats *st, lmz_err *err)
{
    lmz_stats local;
    if (!st)
        st = &local;
    memset(st, 0, sizeof *st);
    double t0 = lmz_now();
    lmz_status rc = LMZ_OK;
    if (full && !r->backend)
        rc = lmz_reader_load_model(r, c, err);
    /* --full: a read-ahead window of blocks, all their chunks in one backend
     * call; otherwise one payload at a time. */
    lmz_window w;
    memset(&w, 0, sizeof w);
    if (b1 > r->nblocks)
        b1 = r->nblocks;
    if (!rc && b0 < b1)
        rc = lmz_window_init(&w, r, full ? lmz_reader_batch(r, c, b1 - b0) : 1, err);
    lmz_progress pg;
    lmz_progress_start(&pg, c->progress, c->progress_ctx, "verify");
    lmz_err first;
    lmz_err_clear(&first);
    /* Every block is checked, so every damaged block is reported. */
    for (uint64_t b = b0; b < b1 && !rc;) {
        lmz_window_clear(&w);
        if (full) {
            for (; b < b1 && w.n < w.cap; b++)
                lmz_window_add(&w, b, 0, r->index[b].raw_len);
            rc = lmz_window_decode(&w, 0, err);
        } else {
            lmz_window_add(&w, b, 0, r->index[b].raw_len);
            lmz_window_slot *s = &w.slot[0];
            s->rc = lmz_afile_read_block(r->a, b, w.payload, &s->err);
            /* a classical block is cheap to decode: always checked end to end */
            if (s->rc == LMZ_OK && lmz_block_mode_classical(w.payload[0]))
                s->rc = lmz_window_classical(r, b, w.payload, w.raw, &s->err);
            if (s->rc && s->rc != LMZ_ERR_CORRUPT_BLOCK)
                rc = lmz_err_set(err, s->rc, "%s", s->err.msg);
            b++;
        }
        for (uint32_t i = 0; i < w.n && !rc; i++) {
            const lmz_window_slot *s = &w.slot[i];
            if (s->rc) {
                st->blocks_damaged++;
                if (report)
                    report(ctx, s->block, &s->err);
                if (first.code == LMZ_OK)
                    first = s->err;
            }
            st->blocks++;
            st->raw_bytes += r->index[s->block].raw_len;
            lmz_progress_update(&pg, st->raw_bytes, r->info->raw_size, st->raw_bytes);
        }
    }
    lmz_progress_end(&pg);
    if (!rc && first.code != LMZ_OK)
        rc = lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK, "%llu of %llu blocks damaged (first: %s)",
                         (unsigned long long)st->blocks_damaged, (unsigned long long)st->blocks,
                         first.msg);
    lmz_window_free(&w);
    st->seconds = lmz_now() - t0;
    return rc;
}

static void report_to_file(void *ctx, uint64_t block, const lmz_err *why)
{
    (void)block;
    fprintf(ctx, "damaged: %s\n", why->msg);
}

lmz_status lmz_verify(const char *archive, const lmz_common_opts *c, int full, FILE *report,
                      lmz_stats *st, lmz_err *err)
{
    lmz_reader r;
    lmz_status rc = lmz_reader_open(&r, archive, err);
    if (!rc)
        rc = lmz_reader_verify(&r, c, full, report ? report_to_file : NULL, report, st, err);
    else if (st)
        memset(st, 0, sizeof *st);
    lmz_reader_close(&r);
    return rc;
}
