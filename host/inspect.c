/* inspect.c: lmz list and lmz verify. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline_internal.h"
#include "progress.h"

lmz_status lmz_list(const char *archive, const lmz_common_opts *c, FILE *out, lmz_err *err)
{
    lmz_reader r;
    lmz_status rc = lmz_reader_open(&r, archive, err);
    if (rc)
        return rc;
    const lmz_archive_info *in = r.info;
    struct stat sb;
    uint64_t file = stat(archive, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    double raw = (double)in->raw_size;
    fprintf(out, "archive:      %s (%llu bytes on disk)\n", archive, (unsigned long long)file);
    fprintf(out, "format:       lmz %u, arithmetic %u, written by lmz %s\n", in->format_version,
            in->arith_version, in->tool_version);
    fprintf(out, "kind:         %s\n", in->kind);
    fprintf(out, "model:        %s  %s  (%s, %llu bytes)\n", in->model_name[0] ? in->model_name : "-",
            in->model_hash, in->model_embedded ? "embedded" : "shipped, found by hash",
            (unsigned long long)in->model_bytes);
    fprintf(out, "chunks:       %u bytes, %u per block; %llu blocks\n", in->chunk_size,
            in->chunks_per_block, (unsigned long long)r.nblocks);
    fprintf(out, "raw size:     %llu bytes\n", (unsigned long long)in->raw_size);
    fprintf(out, "payload:      %llu bytes\n", (unsigned long long)in->payload_size);
    if (in->raw_size) {
        fprintf(out, "raw rate:     %.2f%% (payload / raw)\n", 100.0 * (double)in->payload_size / raw);
        fprintf(out, "adjusted:     %.2f%% ((payload + model) / raw)\n",
                100.0 * (double)(in->payload_size + in->model_bytes) / raw);
        fprintf(out, "file rate:    %.2f%% (archive file / raw)\n", 100.0 * (double)file / raw);
    }
    size_t nm = 0;
    const lmz_member *m = lmz_archive_get_members(r.a, &nm);
    fprintf(out, "members:      %zu\n", nm);
    for (size_t k = 0; k < nm; k++)
        fprintf(out, "  %12llu  %04o  %s\n", (unsigned long long)m[k].size, m[k].mode & 07777,
                m[k].name);
    if (c && c->verbose > 0) {
        fprintf(out, "blocks:\n  %8s %12s %10s %12s %10s %7s\n", "block", "raw_offset", "raw_len",
                "payload_off", "payload", "rate");
        for (uint64_t b = 0; b < r.nblocks; b++) {
            const lmz_index_entry *e = &r.index[b];
            fprintf(out, "  %8llu %12llu %10u %12llu %10u %6.2f%%\n", (unsigned long long)b,
                    (unsigned long long)e->raw_offset, e->raw_len,
                    (unsigned long long)e->payload_offset, e->payload_len,
                    100.0 * e->payload_len / e->raw_len);
        }
    }
    lmz_reader_close(&r);
    return LMZ_OK;
}

lmz_status lmz_verify(const char *archive, const lmz_common_opts *c, int full, FILE *report,
                      lmz_stats *st, lmz_err *err)
{
    lmz_stats local;
    if (!st)
        st = &local;
    memset(st, 0, sizeof *st);
    double t0 = lmz_now();
    lmz_reader r;
    lmz_status rc = lmz_reader_open(&r, archive, err);
    if (rc)
        return rc;
    if (full)
        rc = lmz_reader_load_model(&r, c, err);
    uint8_t *payload = NULL, *raw = NULL;
    if (!rc) {
        payload = malloc(lmz_reader_max_payload(&r));
        raw = malloc(lmz_reader_block_bytes(&r));
        if (!payload || !raw)
            rc = lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
    }
    lmz_progress pg;
    lmz_progress_start(&pg, c->progress, "verify");
    lmz_err first;
    lmz_err_clear(&first);
    /* Every block is checked, so every damaged block is reported. */
    for (uint64_t b = 0; b < r.nblocks && !rc; b++) {
        lmz_err e1;
        lmz_err_clear(&e1);
        lmz_status brc = full ? lmz_reader_decode_block(&r, b, 0, r.index[b].raw_len, payload, raw, &e1)
                              : lmz_archive_read_block(r.a, b, payload, &e1);
        if (brc == LMZ_ERR_CORRUPT_BLOCK) {
            st->blocks_damaged++;
            if (report)
                fprintf(report, "damaged: %s\n", e1.msg);
            if (first.code == LMZ_OK)
                first = e1;
        } else if (brc) {
            rc = lmz_err_set(err, brc, "%s", e1.msg);
        }
        st->blocks++;
        st->raw_bytes += r.index[b].raw_len;
        lmz_progress_update(&pg, st->raw_bytes, r.info->raw_size, st->raw_bytes);
    }
    lmz_progress_end(&pg);
    if (!rc && first.code != LMZ_OK)
        rc = lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK, "%llu of %llu blocks damaged (first: %s)",
                         (unsigned long long)st->blocks_damaged, (unsigned long long)st->blocks,
                         first.msg);
    free(payload);
    free(raw);
    lmz_reader_close(&r);
    st->seconds = lmz_now() - t0;
    return rc;
}
