/* archive.c: opening an archive and what it says about itself (lmz.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api_internal.h"

lmz_archive *lmz_archive_open(const char *path, const lmz_params *p, lmz_error *err)
{
    if (!path) {
        lmz_api_null(err, "lmz_archive_open", "path");
        return NULL;
    }
    lmz_archive *a = calloc(1, sizeof *a);
    if (!a) {
        lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
        return NULL;
    }
    lmz_status rc = lmz_api_params_copy(&a->ap, p, err);
    if (rc) {
        free(a);
        return NULL;
    }
    lmz_api_common_opts(&a->ap, &a->c);
    rc = lmz_reader_open(&a->r, path, err);
    if (rc) {
        lmz_api_params_free(&a->ap);
        free(a);
        return NULL;
    }
    struct stat sb;
    a->file_bytes = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    pthread_mutex_init(&a->lock, NULL);
    return a;
}

void lmz_archive_close(lmz_archive *a)
{
    if (!a)
        return;
    lmz_window_free(&a->w);
    lmz_reader_close(&a->r);
    lmz_api_params_free(&a->ap);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

lmz_status lmz_archive_get_meta(const lmz_archive *a, lmz_archive_meta *out, lmz_error *err)
{
    if (!a || !out)
        return lmz_api_null(err, "lmz_archive_get_meta", a ? "out" : "archive");
    const lmz_archive_info *in = a->r.info;
    memset(out, 0, sizeof *out);
    out->format_version = in->format_version;
    out->arith_version = in->arith_version;
    out->chunk_size = in->chunk_size;
    out->chunks_per_block = in->chunks_per_block;
    out->raw_size = in->raw_size;
    out->payload_size = in->payload_size;
    out->nblocks = a->r.nblocks;
    out->nmembers = lmz_archive_nmembers(a);
    out->file_bytes = a->file_bytes;
    snprintf(out->kind, sizeof out->kind, "%s", in->kind);
    snprintf(out->model_name, sizeof out->model_name, "%s", in->model_name);
    snprintf(out->model_hash, sizeof out->model_hash, "%s", in->model_hash);
    out->model_embedded = in->model_embedded;
    out->model_bytes = in->model_bytes;
    snprintf(out->tool_version, sizeof out->tool_version, "%s", in->tool_version);
    return LMZ_OK;
}

uint64_t lmz_archive_raw_size(const lmz_archive *a)
{
    return a ? a->r.info->raw_size : 0;
}

uint64_t lmz_archive_nblocks(const lmz_archive *a)
{
    return a ? a->r.nblocks : 0;
}

uint64_t lmz_archive_nmembers(const lmz_archive *a)
{
    size_t n = 0;
    if (a)
        lmz_afile_members(a->r.a, &n);
    return n;
}

lmz_status lmz_archive_block_info(lmz_archive *a, uint64_t block, lmz_block_info *out,
                                  lmz_error *err)
{
    if (!a || !out)
        return lmz_api_null(err, "lmz_archive_block_info", a ? "out" : "archive");
    if (block >= a->r.nblocks)
        return lmz_err_set(err, LMZ_ERR_RANGE, "block %llu does not exist (the archive has %llu)",
                           (unsigned long long)block, (unsigned long long)a->r.nblocks);
    const lmz_index_entry *e = &a->r.index[block];
    memset(out, 0, sizeof *out);
    out->raw_offset = e->raw_offset;
    out->raw_len = e->raw_len;
    out->payload_offset = e->payload_offset;
    out->payload_len = e->payload_len;
    uint8_t mode = 0;
    /* the mode byte is a payload read: HDF5 and the handle's lock */
    pthread_mutex_lock(&a->lock);
    lmz_status rc = lmz_afile_peek_mode(a->r.a, block, &mode, err);
    pthread_mutex_unlock(&a->lock);
    out->mode = mode;
    return rc;
}

lmz_status lmz_archive_member(const lmz_archive *a, uint64_t k, lmz_member_info *out,
                              lmz_error *err)
{
    if (!a || !out)
        return lmz_api_null(err, "lmz_archive_member", a ? "out" : "archive");
    size_t n = 0;
    const lmz_member *m = lmz_afile_members(a->r.a, &n);
    if (k >= n)
        return lmz_err_set(err, LMZ_ERR_RANGE, "member %llu does not exist (the archive has %zu)",
                           (unsigned long long)k, n);
    out->name = m[k].name;
    out->offset = m[k].offset;
    out->size = m[k].size;
    out->mode = m[k].mode;
    return LMZ_OK;
}

int64_t lmz_archive_find_member(const lmz_archive *a, const char *name)
{
    if (!a || !name)
        return -1;
    size_t n = 0;
    const lmz_member *m = lmz_afile_members(a->r.a, &n);
    for (size_t k = 0; k < n; k++)
        if (!strcmp(m[k].name, name))
            return (int64_t)k;
    return -1;
}
