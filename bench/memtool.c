/* memtool: write a large archive quickly, for bench/memory.sh.
 *
 * The model runs at ~50 KB/s with random-tiny on a CPU, so a real compress
 * of 200 MB takes over an hour. This writes the same kind of archive that
 * compress writes for incompressible input (every block stored, which is
 * what random-tiny does with random bytes), through lmz's own archive
 * writer, without running the model: the writer's memory can be measured
 * on any size, and decompress, extract and verify can then be measured on
 * the result with the real lmz binary (stored blocks need no decoding).
 *
 * usage: lmz_memtool ARCHIVE BYTES [SEED]
 * The member is named "data.bin"; its bytes are splitmix64(SEED). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "lmz_archive.h"
#include "lmz_block.h"
#include "lmz_modelfile.h"

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: lmz_memtool ARCHIVE BYTES [SEED]\n");
        return 1;
    }
    uint64_t total = strtoull(argv[2], NULL, 10), seed = argc == 4 ? strtoull(argv[3], NULL, 10) : 1;
    const uint32_t chunk = 2048, cpb = 64, block = chunk * cpb;
    lmz_model *m = NULL;
    lmz_err err;
    if (lmz_model_builtin("random-tiny", &m, &err)) {
        fprintf(stderr, "lmz_memtool: %s\n", err.msg);
        return 1;
    }
    uint8_t *raw = malloc(block), *blk = malloc(lmz_block_bound(block));
    lmz_archive_writer *w = NULL;
    if (!raw || !blk || lmz_archive_create(argv[1], 1, &w, &err)) {
        fprintf(stderr, "lmz_memtool: %s\n", raw && blk ? err.msg : "out of memory");
        return 1;
    }
    for (uint64_t done = 0; done < total;) {
        uint32_t n = total - done < block ? (uint32_t)(total - done) : block;
        for (uint32_t i = 0; i < n; i += 8) {
            uint64_t v = splitmix(&seed);
            memcpy(raw + i, &v, n - i < 8 ? n - i : 8);
        }
        blk[0] = LMZ_BLOCK_STORED;
        memcpy(blk + 1, raw, n);
        if (lmz_archive_append_block(w, blk, (size_t)n + 1, n, XXH64(raw, n, 0), &err)) {
            fprintf(stderr, "lmz_memtool: %s\n", err.msg);
            lmz_archive_abort(w);
            return 1;
        }
        done += n;
    }
    lmz_archive_info info;
    memset(&info, 0, sizeof info);
    info.arith_version = LMZ_ARITH_VERSION;
    info.chunk_size = chunk;
    info.chunks_per_block = cpb;
    snprintf(info.kind, sizeof info.kind, "bytes");
    lmz_model_hash_hex(m, info.model_hash);
    snprintf(info.model_name, sizeof info.model_name, "random-tiny");
    lmz_member mem = {"data.bin", 0, total, 0644};
    if (lmz_archive_finish(w, &info, &mem, 1, NULL, &err)) {
        fprintf(stderr, "lmz_memtool: %s\n", err.msg);
        lmz_archive_abort(w);
        return 1;
    }
    free(raw);
    free(blk);
    lmz_model_free(m);
    return 0;
}
