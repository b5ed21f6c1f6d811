/* compress.c: inputs -> chunks -> model scores -> range coder -> blocks ->
 * archive. One batch of blocks is in memory at a time. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "inputs.h"
#include "lmz_coder.h"
#include "lmz_modelfile.h"
#include "pipeline_internal.h"
#include "progress.h"

#ifdef _OPENMP
#include <omp.h>
#endif

static void count_sink(void *ctx, const void *bytes, size_t n)
{
    (void)bytes;
    *(uint64_t *)ctx += n;
}

uint64_t lmz_model_bytes(const lmz_model *m)
{
    uint64_t n = 0;
    lmz_model_serialize(m, count_sink, &n);
    return n;
}

static int kind_known(const char *k)
{
    return !strcmp(k, "text") || !strcmp(k, "image") || !strcmp(k, "audio") || !strcmp(k, "bytes");
}

/* Everything one batch needs, allocated once. */
typedef struct batch {
    uint32_t chunk, cpb, max_blocks, max_chunks;
    uint8_t *raw;                  /* max_blocks * cpb * chunk */
    uint16_t *cum, *freq;          /* max_chunks * chunk */
    uint8_t *coded;                /* max_chunks * chunk: one slot per chunk */
    size_t *coded_len;             /* max_chunks */
    const uint8_t **chunk_ptr;     /* max_chunks */
    uint32_t *chunk_len;           /* max_chunks */
    uint8_t *block;                /* lmz_block_bound(cpb * chunk) */
} batch;

static void batch_free(batch *b)
{
    free(b->raw);
    free(b->cum);
    free(b->freq);
    free(b->coded);
    free(b->coded_len);
    free(b->chunk_ptr);
    free(b->chunk_len);
    free(b->block);
}

static int batch_alloc(batch *b, uint32_t chunk, uint32_t cpb, uint32_t max_blocks)
{
    memset(b, 0, sizeof *b);
    b->chunk = chunk;
    b->cpb = cpb;
    b->max_blocks = max_blocks;
    b->max_chunks = max_blocks * cpb;
    size_t raw = (size_t)b->max_chunks * chunk;
    b->raw = malloc(raw);
    b->cum = malloc(raw * sizeof *b->cum);
    b->freq = malloc(raw * sizeof *b->freq);
    b->coded = malloc(raw);
    b->coded_len = malloc(b->max_chunks * sizeof *b->coded_len);
    b->chunk_ptr = malloc(b->max_chunks * sizeof *b->chunk_ptr);
    b->chunk_len = malloc(b->max_chunks * sizeof *b->chunk_len);
    b->block = malloc(lmz_block_bound(cpb * chunk));
    if (!b->raw || !b->cum || !b->freq || !b->coded || !b->coded_len || !b->chunk_ptr ||
        !b->chunk_len || !b->block) {
        batch_free(b);
        return -1;
    }
    return 0;
}

/* Range-code every chunk of the batch from its (cum, freq) pairs; a chunk
 * whose stream would reach its raw length gets coded_len (size_t)-1. */
static void code_chunks(batch *b, uint32_t nchunks, int nthreads)
{
#pragma omp parallel for schedule(dynamic, 4) num_threads(nthreads)
    for (int64_t c = 0; c < (int64_t)nchunks; c++) {
        lmz_rc_enc e;
        uint32_t n = b->chunk_len[c];
        lmz_rc_enc_init(&e, b->coded + (size_t)c * b->chunk, n);
        const uint16_t *cum = b->cum + (size_t)c * b->chunk;
        const uint16_t *freq = b->freq + (size_t)c * b->chunk;
        for (uint32_t i = 0; i < n; i++)
            lmz_rc_enc_put(&e, cum[i], freq[i]);
        b->coded_len[c] = lmz_rc_enc_finish(&e);
    }
}

static lmz_status compress_batches(const lmz_compress_opts *o, lmz_inputs *in, lmz_backend *be,
                                   lmz_archive_writer *w, batch *b, lmz_stats *st, lmz_err *err)
{
    size_t block_bytes = (size_t)b->cpb * b->chunk;
    lmz_progress pg;
    lmz_progress_start(&pg, o->c.progress, "compress");
    lmz_status rc = LMZ_OK;
    for (;;) {
        size_t got = 0;
        rc = lmz_inputs_read(in, b->raw, (size_t)b->max_blocks * block_bytes, &got, err);
        if (rc || got == 0)
            break;
        uint32_t nchunks = (uint32_t)((got + b->chunk - 1) / b->chunk);
        for (uint32_t c = 0; c < nchunks; c++) {
            b->chunk_ptr[c] = b->raw + (size_t)c * b->chunk;
            size_t left = got - (size_t)c * b->chunk;
            b->chunk_len[c] = (uint32_t)(left < b->chunk ? left : b->chunk);
        }
        rc = lmz_backend_score(be, (int)nchunks, b->chunk_ptr, b->chunk_len, b->cum, b->freq, err);
        if (rc)
            break;
        code_chunks(b, nchunks, o->c.nthreads);
        /* Blocks go to the archive in order, from this one thread. */
        for (size_t off = 0; off < got && !rc; off += block_bytes) {
            uint32_t raw_len = (uint32_t)(got - off < block_bytes ? got - off : block_bytes);
            uint32_t c0 = (uint32_t)(off / b->chunk);
            const uint8_t *coded[LMZ_MAX_CHUNKS_PER_BLOCK];
            for (uint32_t k = 0; k < lmz_block_nchunks(raw_len, b->chunk); k++)
                coded[k] = b->coded + (size_t)(c0 + k) * b->chunk;
            size_t len = lmz_block_assemble(b->block, b->raw + off, raw_len, b->chunk, coded,
                                            b->coded_len + c0);
            uint64_t h = XXH64(b->raw + off, raw_len, 0);
            rc = lmz_archive_append_block(w, b->block, len, raw_len, h, err);
            st->payload_bytes += len;
            st->blocks++;
        }
        st->raw_bytes += got;
        lmz_progress_update(&pg, st->raw_bytes, in->expected, st->payload_bytes);
        if (got < (size_t)b->max_blocks * block_bytes)
            break;
    }
    lmz_progress_end(&pg);
    return rc;
}

lmz_status lmz_compress(const lmz_compress_opts *o, lmz_stats *st, lmz_err *err)
{
    lmz_stats local;
    if (!st)
        st = &local;
    memset(st, 0, sizeof *st);
    double t0 = lmz_now();
    if (!o->output || !strcmp(o->output, "-"))
        return lmz_err_set(err, LMZ_ERR_USAGE,
                           "compress: give the archive with -o FILE (HDF5 needs a seekable file, not a pipe)");
    const char *kind = o->kind ? o->kind : "text";
    if (!kind_known(kind))
        return lmz_err_set(err, LMZ_ERR_USAGE, "unknown --kind '%s' (text, image, audio or bytes)", kind);
    uint32_t cpb = o->chunks_per_block ? o->chunks_per_block : LMZ_DEFAULT_CHUNKS_PER_BLOCK;
    if (cpb > LMZ_MAX_CHUNKS_PER_BLOCK)
        return lmz_err_set(err, LMZ_ERR_USAGE, "chunks per block must be 1..%d", LMZ_MAX_CHUNKS_PER_BLOCK);

    lmz_model *m = NULL;
    lmz_backend *be = NULL;
    lmz_archive_writer *w = NULL;
    lmz_inputs in;
    batch b;
    memset(&in, 0, sizeof in);
    memset(&b, 0, sizeof b);
    int shipped = 0;
    const char *spec = o->c.model_spec ? o->c.model_spec : lmz_default_model_for_kind(kind);
    lmz_status rc = lmz_model_resolve(spec, o->c.model_dir, &m, &shipped, err);
    if (!rc)
        rc = lmz_inputs_collect(&in, o->inputs, o->ninputs, o->recursive, err);
    if (!rc)
        rc = lmz_backend_create(o->c.device, m, o->c.nthreads, &be, err);
    uint32_t chunk = m ? (uint32_t)m->cfg.ctx : 0;
    /* --batch, or 4 blocks on the CPU and many more on CUDA (lmz_batch_blocks);
     * a batch costs 6 bytes per raw byte (raw, cum, freq, coded). */
    uint64_t per_block = (uint64_t)cpb * chunk * 6 + (uint64_t)cpb * 24;
    /* no bigger than the input when every input is a regular file, so its
     * size is known (a file that grows only means more batches) */
    uint64_t need = 1;
    for (size_t k = 0; k < in.n && need; k++) {
        struct stat sb;
        if (!in.paths[k] || stat(in.paths[k], &sb) != 0 || !S_ISREG(sb.st_mode))
            need = 0;
    }
    if (need && chunk)
        need += in.expected / ((uint64_t)cpb * chunk);
    uint32_t max_blocks = lmz_batch_blocks(&o->c, be, cpb, per_block, need);
    if (!rc && batch_alloc(&b, chunk, cpb, max_blocks) != 0)
        rc = lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory for a batch of %u blocks", max_blocks);
    if (!rc)
        rc = lmz_archive_create(o->output, o->c.force, &w, err);
    if (!rc)
        rc = compress_batches(o, &in, be, w, &b, st, err);
    if (!rc) {
        lmz_archive_info info;
        memset(&info, 0, sizeof info);
        info.format_version = LMZ_FORMAT_VERSION;
        info.arith_version = (uint32_t)m->arith_version;
        info.chunk_size = chunk;
        info.chunks_per_block = cpb;
        snprintf(info.kind, sizeof info.kind, "%s", kind);
        info.raw_size = st->raw_bytes;
        lmz_model_hash_hex(m, info.model_hash);
        snprintf(info.model_name, sizeof info.model_name, "%s", m->name);
        info.model_embedded = !shipped;
        info.model_bytes = lmz_model_bytes(m);
        snprintf(info.tool_version, sizeof info.tool_version, "%s", LMZ_VERSION_STRING);
        rc = lmz_archive_finish(w, &info, in.members, in.n, shipped ? NULL : m, err);
        if (!rc)
            w = NULL; /* finish freed it; on failure abort removes the temp file */
    }
    if (w)
        lmz_archive_abort(w);
    if (!rc) {
        struct stat sb;
        if (stat(o->output, &sb) == 0)
            st->archive_bytes = (uint64_t)sb.st_size;
    }
    batch_free(&b);
    lmz_inputs_free(&in);
    lmz_backend_free(be);
    lmz_model_free(m);
    st->seconds = lmz_now() - t0;
    return rc;
}
