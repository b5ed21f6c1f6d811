/* fuzz_roundtrip: compress and decompress arbitrary input with the built-in
 * random-tiny model, through the same library calls as the lmz commands
 * (host/pipeline/lmz_pipeline.h: lmz_compress, lmz_decompress, lmz_extract).
 *
 * Input: [options u8][split u16][bytes...]. The options pick the chunks per
 * block (1..4, so that a few KB make several blocks), the blocks per batch,
 * and whether the bytes are cut into two members (at `split`). The bytes
 * are compressed into an archive, which must then decompress to exactly
 * the input, file by file, and from which a range (chosen by the last
 * bytes of the input) must extract to exactly that slice.
 *
 * The tiny model's context is 2048 bytes and it codes ~50 KB/s (a few KB/s
 * under the sanitizers), so this runs with -max_len 2600: one full chunk and
 * a part of the next (scripts/fuzz.sh sets it). Seeds that the
 * model itself sampled (tests/fuzz-corpus/roundtrip) compress, so that the
 * range-coded path is exercised and not only stored chunks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_util.h"
#include "lmz_pipeline.h"

static void same_file(const char *path, const uint8_t *want, size_t n)
{
    size_t got = 0;
    uint8_t *bytes = fz_read_file(path, &got);
    FZ_ASSERT(bytes);
    FZ_ASSERT(got == n);
    FZ_ASSERT(n == 0 || memcmp(bytes, want, n) == 0);
    free(bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in;
    fz_init(&in, data, size);
    uint8_t opt = fz_u8(&in);
    uint16_t split = fz_u16(&in);
    size_t n;
    const uint8_t *bytes = fz_bytes(&in, fz_left(&in), &n);
    size_t cut = opt & 4 ? (n ? split % (n + 1) : 0) : n;

    char a[4096], b[4096], arch[4096], out[4096], ra[8300], rb[8300], ext[4096];
    fz_path("a.bin", a, sizeof a);
    fz_path("b.bin", b, sizeof b);
    fz_path("rt.lmz", arch, sizeof arch);
    fz_path("out", out, sizeof out);
    fz_path("ext.bin", ext, sizeof ext);
    fz_write_file(a, bytes, cut);
    if (opt & 4)
        fz_write_file(b, bytes + cut, n - cut);
    const char *inputs[2] = {a, b};

    lmz_common_opts c;
    memset(&c, 0, sizeof c);
    c.nthreads = 1;
    c.device = LMZ_DEVICE_CPU;
    c.model_spec = "random-tiny";
    c.force = 1;
    c.verbose = -1;
    c.batch_blocks = opt & 8 ? 1 : 0;
    lmz_compress_opts co;
    memset(&co, 0, sizeof co);
    co.c = c;
    co.inputs = inputs;
    co.ninputs = opt & 4 ? 2 : 1;
    co.output = arch;
    co.kind = "bytes";
    co.chunks_per_block = 1 + (opt & 3);
    lmz_stats st;
    lmz_err e;
    lmz_err_clear(&e);
    lmz_status rc = lmz_compress(&co, &st, &e);
    if (rc != LMZ_OK)
        fprintf(stderr, "compress: %s\n", e.msg);
    FZ_ASSERT(rc == LMZ_OK);
    FZ_ASSERT(st.raw_bytes == n);
    /* never more than one byte per block over the input, plus nothing */
    FZ_ASSERT(st.payload_bytes <= n + st.blocks);

    fz_rmtree(out);
    lmz_decompress_opts d;
    memset(&d, 0, sizeof d);
    d.c = c;
    d.c.model_spec = NULL; /* found by its hash, as a user's decompress would */
    d.archive = arch;
    d.output = out;
    rc = lmz_decompress(&d, &st, &e);
    if (rc != LMZ_OK)
        fprintf(stderr, "decompress: %s\n", e.msg);
    FZ_ASSERT(rc == LMZ_OK);
    /* members are named by their paths, the leading '/' dropped */
    if (opt & 4) {
        snprintf(ra, sizeof ra, "%s/%s", out, a + 1);
        snprintf(rb, sizeof rb, "%s/%s", out, b + 1);
        same_file(ra, bytes, cut);
        same_file(rb, bytes + cut, n - cut);
    } else {
        same_file(out, bytes, n); /* one member, -o naming a file */
    }
    fz_rmtree(out);

    if (n > 0) {
        lmz_extract_opts x;
        memset(&x, 0, sizeof x);
        x.c = c;
        x.archive = arch;
        x.what = LMZ_EXTRACT_RANGE;
        x.offset = (bytes[n - 1] * 131u + split) % n;
        x.length = 1 + (bytes[0] * 257u) % (n - x.offset);
        x.output = ext;
        rc = lmz_extract(&x, &st, &e);
        if (rc != LMZ_OK)
            fprintf(stderr, "extract: %s\n", e.msg);
        FZ_ASSERT(rc == LMZ_OK);
        same_file(ext, bytes + x.offset, x.length);
        unlink(ext);
    }
    unlink(a);
    unlink(b);
    unlink(arch);
    return 0;
}
