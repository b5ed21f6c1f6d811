/* reader.c: an open archive, its model and a backend (decoding: window.c).
 * Shared by decompress, extract and verify. */
#include <stdlib.h>
#include <string.h>

#include "lmz_modelfile.h"
#include "pipeline_internal.h"

lmz_status lmz_reader_open(lmz_reader *r, const char *path, lmz_err *err)
{
    memset(r, 0, sizeof *r);
    lmz_status rc = lmz_afile_open(path, &r->a, err);
    if (rc)
        return rc;
    r->info = lmz_afile_info(r->a);
    r->index = lmz_afile_index(r->a, &r->nblocks);
    return LMZ_OK;
}

lmz_status lmz_reader_load_model(lmz_reader *r, const lmz_common_opts *c, lmz_err *err)
{
    const lmz_archive_info *info = r->info;
    lmz_status rc;
    if (c->model_spec) {
        int shipped;
        rc =
            lmz_model_resolve(c->model_spec, c->model_dir, c->model_path, &r->model, &shipped, err);
    } else if (info->model_embedded) {
        rc = lmz_afile_read_model(r->a, &r->model, err);
    } else {
        rc = lmz_model_find_by_hash(info->model_hash, c->model_dir, c->model_path, &r->model, err);
    }
    if (rc)
        return rc;
    char hex[33];
    lmz_model_hash_hex(r->model, hex);
    if (strcmp(hex, info->model_hash) != 0)
        return lmz_err_set(err, LMZ_ERR_MODEL_MISMATCH,
                           "model %s (%s) is not the archive's model %s (%s)",
                           r->model->name[0] ? r->model->name : "given", hex,
                           info->model_name[0] ? info->model_name : "unnamed", info->model_hash);
    if ((uint32_t)r->model->arith_version != info->arith_version)
        return lmz_err_set(err, LMZ_ERR_MODEL_MISMATCH,
                           "archive uses arithmetic version %u but the model has %d",
                           info->arith_version, r->model->arith_version);
    if ((uint32_t)r->model->cfg.ctx != info->chunk_size)
        return lmz_err_set(err, LMZ_ERR_MODEL_MISMATCH,
                           "archive chunk size %u differs from the model's context %d",
                           info->chunk_size, r->model->cfg.ctx);
    const lmz_backend_params bp = lmz_common_backend_params(c);
    return lmz_backend_create(r->model, &bp, &r->backend, err);
}

void lmz_reader_close(lmz_reader *r)
{
    lmz_backend_free(r->backend);
    lmz_model_free(r->model);
    if (r->a)
        lmz_afile_close(r->a);
    memset(r, 0, sizeof *r);
}

uint32_t lmz_reader_max_payload(const lmz_reader *r)
{
    uint32_t m = 1;
    for (uint64_t b = 0; b < r->nblocks; b++)
        if (r->index[b].payload_len > m)
            m = r->index[b].payload_len;
    return m;
}

uint32_t lmz_reader_block_bytes(const lmz_reader *r)
{
    return r->info->chunk_size * r->info->chunks_per_block;
}

uint32_t lmz_reader_batch(const lmz_reader *r, const lmz_common_opts *c, uint64_t limit)
{
    uint32_t cpb = r->info->chunks_per_block;
    uint64_t per_block = (uint64_t)lmz_reader_max_payload(r) + lmz_reader_block_bytes(r) +
                         (uint64_t)cpb * (sizeof(void *) * 2 + 8);
    return lmz_batch_blocks(c, r->backend, cpb, per_block, limit);
}
