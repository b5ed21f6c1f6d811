/* inspect.c: lmz list and lmz verify. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline_internal.h"
#include "progress.h"
#include "window.h"

/* Name of a block mode in listings. */
static const char *mode_name(uint8_t mode)
{
    static const char *const names[] = {"model", "stored", "lzma2", "zstd"};
    return mode < 4 ? names[mode] : "unknown";
}

/* list -v: one line per block with its mode, then the blocks and payload
 * bytes of each mode (the mode byte is peeked, not checked: verify does). */
static lmz_status list_blocks(lmz_reader *r, FILE *out, lmz_err *err)
{
    uint64_t count[5] = {0}, bytes[5] = {0};
    fprintf(out, "blocks:\n  %8s %12s %10s %12s %10s %7s  %s\n", "block", "raw_offset", "raw_len",
            "payload_off", "payload", "rate", "mode");
    for (uint64_t b = 0; b < r->nblocks; b++) {
        const lmz_index_entry *e = &r->index[b];
        uint8_t mode = 0xff;
        lmz_status rc = lmz_archive_peek_mode(r->a, b, &mode, err);
        if (rc)
            return rc;
        fprintf(out, "  %8llu %12llu %10u %12llu %10u %6.2f%%  %s\n", (unsigned long long)b,
                (unsigned long long)e->raw_offset, e->raw_len,
                (unsigned long long)e->payload_offset, e->payload_len,
                100.0 * e->payload_len / e->raw_len, mode_name(mode));
        count[mode < 4 ? mode : 4]++;
        bytes[mode < 4 ? mode : 4] += e->payload_len;
    }
    /* in the writer's order of preference */
    static const uint8_t order[] = {0, 2, 3, 1};
    fprintf(out, "block modes:\n");
    for (int k = 0; k < 4; k++)
        fprintf(out, "  %-8s %10llu blocks %14llu bytes\n", mode_name(order[k]),
                (unsigned long long)count[order[k]], (unsigned long long)bytes[order[k]]);
    if (count[4])
        fprintf(out, "  %-8s %10llu blocks %14llu bytes\n", "unknown", (unsigned long long)count[4],
                (unsigned long long)bytes[4]);
    return LMZ_OK;
}

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
    if (c && c->verbose > 0)
        rc = list_blocks(&r, out, err);
    lmz_reader_close(&r);
    return rc;
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
    /* --full: a read-ahead window of blocks, all their chunks in one backend
     * call; otherwise one payload at a time. */
    lmz_window w;
    memset(&w, 0, sizeof w);
    if (!rc && r.nblocks)
        rc = lmz_window_init(&w, &r, full ? lmz_reader_batch(&r, c, r.nblocks) : 1, err);
    lmz_progress pg;
    lmz_progress_start(&pg, c->progress, "verify");
    lmz_err first;
    lmz_err_clear(&first);
    /* Every block is checked, so every damaged block is reported. */
    for (uint64_t b = 0; b < r.nblocks && !rc;) {
        lmz_window_clear(&w);
        if (full) {
            for (; b < r.nblocks && w.n < w.cap; b++)
                lmz_window_add(&w, b, 0, r.index[b].raw_len);
            rc = lmz_window_decode(&w, 0, err);
        } else {
            lmz_window_add(&w, b, 0, r.index[b].raw_len);
            lmz_window_slot *s = &w.slot[0];
            s->rc = lmz_archive_read_block(r.a, b, w.payload, &s->err);
            /* a classical block is cheap to decode: always checked end to end */
            if (s->rc == LMZ_OK && lmz_block_mode_classical(w.payload[0]))
                s->rc = lmz_window_classical(&r, b, w.payload, w.raw, &s->err);
            if (s->rc && s->rc != LMZ_ERR_CORRUPT_BLOCK)
                rc = lmz_err_set(err, s->rc, "%s", s->err.msg);
            b++;
        }
        for (uint32_t i = 0; i < w.n && !rc; i++) {
            const lmz_window_slot *s = &w.slot[i];
            if (s->rc) {
                st->blocks_damaged++;
                if (report)
                    fprintf(report, "damaged: %s\n", s->err.msg);
                if (first.code == LMZ_OK)
                    first = s->err;
            }
            st->blocks++;
            st->raw_bytes += r.index[s->block].raw_len;
            lmz_progress_update(&pg, st->raw_bytes, r.info->raw_size, st->raw_bytes);
        }
    }
    lmz_progress_end(&pg);
    if (!rc && first.code != LMZ_OK)
        rc = lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK, "%llu of %llu blocks damaged (first: %s)",
                         (unsigned long long)st->blocks_damaged, (unsigned long long)st->blocks,
                         first.msg);
    lmz_window_free(&w);
    lmz_reader_close(&r);
    st->seconds = lmz_now() - t0;
    return rc;
}
