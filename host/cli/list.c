/* list.c: lmz list, written on the public API (lmz.h) alone: what an
 * archive says about itself, its members and (-v) its blocks. */
#include <stdio.h>

#include "cli.h"

/* Name of a block mode in listings. */
static const char *mode_name(int mode)
{
    static const char *const names[] = {"model", "stored", "lzma2", "zstd"};
    return mode >= 0 && mode < 4 ? names[mode] : "unknown";
}

/* -v: one line per block with its mode, then the blocks and payload bytes
 * of each mode (the mode byte is peeked, not checked: verify does). */
static lmz_status list_blocks(lmz_archive *a, uint64_t nblocks, FILE *out, lmz_error *err)
{
    uint64_t count[5] = {0}, bytes[5] = {0};
    fprintf(out, "blocks:\n  %8s %12s %10s %12s %10s %7s  %s\n", "block", "raw_offset", "raw_len",
            "payload_off", "payload", "rate", "mode");
    for (uint64_t b = 0; b < nblocks; b++) {
        lmz_block_info e;
        lmz_status rc = lmz_archive_block_info(a, b, &e, err);
        if (rc)
            return rc;
        fprintf(out, "  %8llu %12llu %10u %12llu %10u %6.2f%%  %s\n", (unsigned long long)b,
                (unsigned long long)e.raw_offset, e.raw_len,
                (unsigned long long)e.payload_offset, e.payload_len,
                100.0 * e.payload_len / e.raw_len, mode_name(e.mode));
        int k = e.mode >= 0 && e.mode < 4 ? e.mode : 4;
        count[k]++;
        bytes[k] += e.payload_len;
    }
    /* in the writer's order of preference */
    static const int order[] = {0, 2, 3, 1};
    fprintf(out, "block modes:\n");
    for (int k = 0; k < 4; k++)
        fprintf(out, "  %-8s %10llu blocks %14llu bytes\n", mode_name(order[k]),
                (unsigned long long)count[order[k]], (unsigned long long)bytes[order[k]]);
    if (count[4])
        fprintf(out, "  %-8s %10llu blocks %14llu bytes\n", "unknown", (unsigned long long)count[4],
                (unsigned long long)bytes[4]);
    return LMZ_OK;
}

lmz_status cli_list(const char *path, const lmz_params *p, int verbose, FILE *out, lmz_error *err)
{
    lmz_archive *a = lmz_archive_open(path, p, err);
    if (!a)
        return err ? err->code : LMZ_ERR_GENERIC;
    lmz_archive_meta in;
    lmz_status rc = lmz_archive_get_meta(a, &in, err);
    if (rc) {
        lmz_archive_close(a);
        return rc;
    }
    double raw = (double)in.raw_size;
    fprintf(out, "archive:      %s (%llu bytes on disk)\n", path, (unsigned long long)in.file_bytes);
    fprintf(out, "format:       lmz %u, arithmetic %u, written by lmz %s\n", in.format_version,
            in.arith_version, in.tool_version);
    fprintf(out, "kind:         %s\n", in.kind);
    fprintf(out, "model:        %s  %s  (%s, %llu bytes)\n", in.model_name[0] ? in.model_name : "-",
            in.model_hash, in.model_embedded ? "embedded" : "shipped, found by hash",
            (unsigned long long)in.model_bytes);
    fprintf(out, "chunks:       %u bytes, %u per block; %llu blocks\n", in.chunk_size,
            in.chunks_per_block, (unsigned long long)in.nblocks);
    fprintf(out, "raw size:     %llu bytes\n", (unsigned long long)in.raw_size);
    fprintf(out, "payload:      %llu bytes\n", (unsigned long long)in.payload_size);
    if (in.raw_size) {
        fprintf(out, "raw rate:     %.2f%% (payload / raw)\n", 100.0 * (double)in.payload_size / raw);
        fprintf(out, "adjusted:     %.2f%% ((payload + model) / raw)\n",
                100.0 * (double)(in.payload_size + in.model_bytes) / raw);
        fprintf(out, "file rate:    %.2f%% (archive file / raw)\n", 100.0 * (double)in.file_bytes / raw);
    }
    fprintf(out, "members:      %llu\n", (unsigned long long)in.nmembers);
    for (uint64_t k = 0; k < in.nmembers && !rc; k++) {
        lmz_member_info m;
        rc = lmz_archive_member(a, k, &m, err);
        if (!rc)
            fprintf(out, "  %12llu  %04o  %s\n", (unsigned long long)m.size, m.mode & 07777, m.name);
    }
    if (!rc && verbose > 0)
        rc = list_blocks(a, in.nblocks, out, err);
    lmz_archive_close(a);
    return rc;
}
