/* reader.c: an open archive, its model and a backend; decoding (parts of)
 * blocks. Shared by decompress, extract and verify. */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "lmz_modelfile.h"
#include "pipeline_internal.h"

lmz_status lmz_reader_open(lmz_reader *r, const char *path, lmz_err *err)
{
    memset(r, 0, sizeof *r);
    lmz_status rc = lmz_archive_open(path, &r->a, err);
    if (rc)
        return rc;
    r->info = lmz_archive_get_info(r->a);
    r->index = lmz_archive_get_index(r->a, &r->nblocks);
    return LMZ_OK;
}

lmz_status lmz_reader_load_model(lmz_reader *r, const lmz_common_opts *c, lmz_err *err)
{
    const lmz_archive_info *info = r->info;
    lmz_status rc;
    if (c->model_spec) {
        int shipped;
        rc = lmz_model_resolve(c->model_spec, c->model_dir, &r->model, &shipped, err);
    } else if (info->model_embedded) {
        rc = lmz_archive_read_model(r->a, &r->model, err);
    } else {
        rc = lmz_model_find_by_hash(info->model_hash, c->model_dir, &r->model, err);
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
    return lmz_backend_create(c->device, r->model, c->nthreads, &r->backend, err);
}

void lmz_reader_close(lmz_reader *r)
{
    lmz_backend_free(r->backend);
    lmz_model_free(r->model);
    if (r->a)
        lmz_archive_close(r->a);
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

lmz_status lmz_reader_decode_block(lmz_reader *r, uint64_t b, uint32_t lo, uint32_t hi,
                                   uint8_t *payload, uint8_t *out, lmz_err *err)
{
    const lmz_index_entry *e = &r->index[b];
    uint32_t chunk = r->info->chunk_size;
    lmz_status rc = lmz_archive_read_block(r->a, b, payload, err);
    if (rc)
        return rc;
    lmz_block_chunk chunks[LMZ_MAX_CHUNKS_PER_BLOCK];
    uint32_t nchunks = 0;
    int stored = 0;
    rc = lmz_block_parse(payload, e->payload_len, e->raw_len, chunk, chunks, &nchunks, &stored, err);
    if (rc) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err ? err->msg : "cannot be parsed");
        return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK, "block %llu: %s", (unsigned long long)b, why);
    }
    int whole = lo == 0 && hi == e->raw_len;
    uint8_t *raw = whole ? out : NULL;
    uint32_t c0 = lo / chunk, c1 = (hi - 1) / chunk; /* chunks touched */
    if (!whole) {
        /* decode the touched chunks into a scratch of their size */
        raw = malloc((size_t)(c1 - c0 + 1) * chunk);
        if (!raw)
            return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
    }
    uint8_t *base = raw - (size_t)c0 * chunk; /* raw stream of the block, virtually */
    if (stored) {
        memcpy(raw, payload + 1 + (size_t)c0 * chunk,
               (size_t)((c1 == nchunks - 1 ? e->raw_len : (c1 + 1) * chunk) - c0 * chunk));
    } else {
        const uint8_t *streams[LMZ_MAX_CHUNKS_PER_BLOCK];
        uint32_t slen[LMZ_MAX_CHUNKS_PER_BLOCK], rlen[LMZ_MAX_CHUNKS_PER_BLOCK];
        uint8_t *outs[LMZ_MAX_CHUNKS_PER_BLOCK];
        int n = 0;
        for (uint32_t c = c0; c <= c1; c++) {
            uint8_t *dst = base + (size_t)c * chunk;
            if (chunks[c].stored) {
                memcpy(dst, payload + chunks[c].offset, chunks[c].raw_len);
                continue;
            }
            streams[n] = payload + chunks[c].offset;
            slen[n] = chunks[c].len;
            rlen[n] = chunks[c].raw_len;
            outs[n] = dst;
            n++;
        }
        if (n)
            rc = lmz_backend_decode(r->backend, n, streams, slen, rlen, outs, err);
    }
    if (!rc && whole && XXH64(out, e->raw_len, 0) != e->raw_xxh64)
        rc = lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK,
                         "block %llu: decoded bytes fail the raw checksum (wrong model or damaged block)",
                         (unsigned long long)b);
    if (!rc && !whole)
        memcpy(out, base + lo, hi - lo);
    if (!whole)
        free(raw);
    return rc;
}
