/* read.c: byte ranges, blocks and members of an open archive (lmz.h),
 * decoding only the chunks a request touches (window.h). */
#include <string.h>

#include "api_internal.h"

/* The model and the read-ahead window, made by the first read. Called
 * with the handle's lock held. */
static lmz_status ensure_decoder(lmz_archive *a, lmz_err *err)
{
    lmz_status rc = LMZ_OK;
    if (!a->r.backend) {
        rc = lmz_reader_load_model(&a->r, &a->c, err);
        if (rc) {
            /* leave the reader as it was, so a later read tries again */
            lmz_backend_free(a->r.backend);
            lmz_model_free(a->r.model);
            a->r.backend = NULL;
            a->r.model = NULL;
            return rc;
        }
    }
    if (!a->w.cap)
        rc = lmz_window_init(&a->w, &a->r, lmz_reader_batch(&a->r, &a->c, a->r.nblocks), err);
    return rc;
}

typedef struct mem_sink {
    uint8_t *p;
} mem_sink;

static lmz_status to_memory(void *ctx, const uint8_t *buf, size_t n, lmz_err *err)
{
    (void)err;
    mem_sink *s = ctx;
    memcpy(s->p, buf, n);
    s->p += n;
    return LMZ_OK;
}

lmz_status lmz_archive_read(lmz_archive *a, uint64_t offset, uint64_t length, void *buf,
                            lmz_error *err)
{
    if (!a)
        return lmz_api_null(err, "lmz_archive_read", "archive");
    if (!buf && length)
        return lmz_api_null(err, "lmz_archive_read", "buf");
    uint64_t raw = a->r.info->raw_size;
    if (offset > raw || length > raw - offset)
        return lmz_err_set(err, LMZ_ERR_RANGE, "range %llu:%llu is outside the archive's %llu bytes",
                           (unsigned long long)offset, (unsigned long long)length,
                           (unsigned long long)raw);
    if (!length)
        return LMZ_OK;
    pthread_mutex_lock(&a->lock);
    lmz_status rc = ensure_decoder(a, err);
    lmz_progress pg;
    lmz_progress_start(&pg, a->c.progress, a->c.progress_ctx, "read");
    mem_sink s = {buf};
    if (!rc)
        rc = lmz_window_read_range(&a->w, offset, length, to_memory, &s, &pg, err);
    lmz_progress_end(&pg);
    pthread_mutex_unlock(&a->lock);
    return rc;
}

/* Read [offset, offset + size) whole into buf of cap bytes. */
static lmz_status read_whole(lmz_archive *a, uint64_t offset, uint64_t size, void *buf,
                             size_t cap, size_t *len, const char *what, lmz_err *err)
{
    if (len)
        *len = (size_t)size;
    if (size > cap)
        return lmz_err_set(err, LMZ_ERR_RANGE, "%s has %llu bytes, the buffer %zu", what,
                           (unsigned long long)size, cap);
    return lmz_archive_read(a, offset, size, buf, err);
}

lmz_status lmz_archive_read_block(lmz_archive *a, uint64_t block, void *buf, size_t cap,
                                  size_t *len, lmz_error *err)
{
    if (!a)
        return lmz_api_null(err, "lmz_archive_read_block", "archive");
    if (block >= a->r.nblocks)
        return lmz_err_set(err, LMZ_ERR_RANGE, "block %llu does not exist (the archive has %llu)",
                           (unsigned long long)block, (unsigned long long)a->r.nblocks);
    const lmz_index_entry *e = &a->r.index[block];
    char what[48];
    snprintf(what, sizeof what, "block %llu", (unsigned long long)block);
    return read_whole(a, e->raw_offset, e->raw_len, buf, cap, len, what, err);
}

lmz_status lmz_archive_read_member(lmz_archive *a, uint64_t k, void *buf, size_t cap, size_t *len,
                                   lmz_error *err)
{
    lmz_member_info m;
    lmz_status rc = lmz_archive_member(a, k, &m, err);
    if (rc)
        return rc;
    char what[64];
    snprintf(what, sizeof what, "member %llu", (unsigned long long)k);
    return read_whole(a, m.offset, m.size, buf, cap, len, what, err);
}
