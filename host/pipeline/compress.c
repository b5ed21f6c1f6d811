/* compress.c: inputs -> chunks -> model scores -> range coder -> blocks ->
 * archive. One batch of blocks is in memory at a time. With --codec auto
 * each block is also coded whole by LZMA2 and zstd, and the smallest form
 * is kept (docs/format.md, "Blocks"). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "batch.h"
#include "cstream.h"
#include "inputs.h"
#include "lmz_classical.h"
#include "lmz_coder.h"
#include "lmz_modelfile.h"
#include "pipeline_internal.h"
#include "progress.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Threads an OpenMP loop gets when -T is not given. */
static int lmz_omp_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

int lmz_codec_parse(const char *s)
{
    static const char *const names[] = {"auto", "lm", "lzma2", "zstd"};
    for (int k = 0; s && k < 4; k++)
        if (!strcmp(s, names[k]))
            return k; /* the order of lmz_codec */
    return -1;
}

/* The classical codecs a --codec setting tries, in the writer's tie order
 * (LZMA2 before zstd). */
static int classical_modes(lmz_codec codec, int modes[2])
{
    switch (codec) {
    case LMZ_CODEC_AUTO:
        modes[0] = LMZ_BLOCK_LZMA2;
        modes[1] = LMZ_BLOCK_ZSTD;
        return 2;
    case LMZ_CODEC_LZMA2:
        modes[0] = LMZ_BLOCK_LZMA2;
        return 1;
    case LMZ_CODEC_ZSTD:
        modes[0] = LMZ_BLOCK_ZSTD;
        return 1;
    default:
        return 0;
    }
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
    uint8_t *cls;                  /* nmodes * max_blocks slots of cpb * chunk: classical forms */
    size_t *cls_len;               /* one per slot; (size_t)-1: not smaller than stored */
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
    free(b->cls);
    free(b->cls_len);
}

/* nmodes: classical codecs tried per block (a slot of block size each). */
static int batch_alloc(batch *b, uint32_t chunk, uint32_t cpb, uint32_t max_blocks, int nmodes)
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
    b->cls = malloc(nmodes ? nmodes * raw : 1);
    b->cls_len = malloc((nmodes ? nmodes : 1) * (size_t)max_blocks * sizeof *b->cls_len);
    if (!b->raw || !b->cum || !b->freq || !b->coded || !b->coded_len || !b->chunk_ptr ||
        !b->chunk_len || !b->block || !b->cls || !b->cls_len) {
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
    for (int64_t c = 0; c < (int64_t)nchunks; c++)
        b->coded_len[c] = lmz_rc_encode_chunk(b->cum + (size_t)c * b->chunk,
                                              b->freq + (size_t)c * b->chunk, b->chunk_len[c],
                                              b->coded + (size_t)c * b->chunk, b->chunk_len[c]);
}

/* Code every block of the batch whole with each classical codec, in
 * parallel over (block, codec) pairs: slot blk * nmodes + m. A form counts
 * only when strictly smaller than the stored block (1 + raw_len bytes). */
static void code_classical(batch *b, size_t got, const int *modes, int nmodes, int nthreads)
{
    size_t block_bytes = (size_t)b->cpb * b->chunk;
    int64_t nslots = (int64_t)((got + block_bytes - 1) / block_bytes) * nmodes;
    if (nthreads <= 0)
        nthreads = lmz_omp_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
    for (int64_t k = 0; k < nslots; k++) {
        size_t off = (size_t)(k / nmodes) * block_bytes;
        uint32_t raw_len = (uint32_t)(got - off < block_bytes ? got - off : block_bytes);
        size_t len = 0;
        int rc = lmz_classical_encode(modes[k % nmodes], b->raw + off, raw_len,
                                      b->cls + (size_t)k * block_bytes, raw_len, &len);
        b->cls_len[k] = rc == 0 ? len : (size_t)-1;
    }
}

/* The block that goes into the archive for raw [off, off + raw_len) of the
 * batch: the model's form (coded or stored) when the model ran, else the
 * stored form; then each classical form in tie order replaces it only when
 * strictly smaller. */
static const uint8_t *choose_block(batch *b, size_t off, uint32_t raw_len, int use_model,
                                   int nmodes, size_t *len)
{
    uint32_t c0 = (uint32_t)(off / b->chunk);
    if (use_model) {
        const uint8_t *coded[LMZ_MAX_CHUNKS_PER_BLOCK];
        for (uint32_t k = 0; k < lmz_block_nchunks(raw_len, b->chunk); k++)
            coded[k] = b->coded + (size_t)(c0 + k) * b->chunk;
        *len = lmz_block_assemble(b->block, b->raw + off, raw_len, b->chunk, coded,
                                  b->coded_len + c0);
    } else {
        b->block[0] = LMZ_BLOCK_STORED;
        memcpy(b->block + 1, b->raw + off, raw_len);
        *len = lmz_block_bound(raw_len);
    }
    const uint8_t *best = b->block;
    size_t block_bytes = (size_t)b->cpb * b->chunk;
    size_t slot = off / block_bytes * (size_t)nmodes;
    for (int m = 0; m < nmodes; m++) {
        if (b->cls_len[slot + m] != (size_t)-1 && b->cls_len[slot + m] < *len) {
            best = b->cls + (slot + m) * block_bytes;
            *len = b->cls_len[slot + m];
        }
    }
    return best;
}

struct lmz_cstream {
    const lmz_compress_opts *o;
    uint32_t cpb;
    const char *kind;
    lmz_model *owned;              /* resolved here from -m or the kind */
    const lmz_model *m;            /* owned, or the caller's (compress --fit) */
    int shipped;
    lmz_backend *be;
    lmz_archive_writer *w;
    lmz_block_sink sink;           /* instead of w (lmz_cstream_set_sink); NULL: w */
    void *sink_ctx;
    batch b;
    int modes[2], nmodes, use_model;
    size_t fill;                   /* bytes in b.raw */
    uint64_t expected;
    lmz_stats st;
    lmz_progress pg;
    double t0;
};

uint64_t lmz_cstream_bytes(const lmz_cstream *cs)
{
    return cs->st.raw_bytes + cs->fill;
}

lmz_status lmz_cstream_create(const lmz_compress_opts *o, lmz_cstream **out, lmz_err *err)
{
    *out = NULL;
    if (!o->output || !strcmp(o->output, "-"))
        return lmz_err_set(err, LMZ_ERR_USAGE,
                           "compress: give the archive with -o FILE (HDF5 needs a seekable file, not a pipe)");
    const char *kind = o->kind ? o->kind : "text";
    if (!kind_known(kind))
        return lmz_err_set(err, LMZ_ERR_USAGE, "unknown --kind '%s' (text, image, audio or bytes)", kind);
    uint32_t cpb = o->chunks_per_block ? o->chunks_per_block : LMZ_DEFAULT_CHUNKS_PER_BLOCK;
    if ((int)o->codec < 0 || o->codec > LMZ_CODEC_ZSTD)
        return lmz_err_set(err, LMZ_ERR_USAGE, "unknown codec %d (auto, lm, lzma2 or zstd)",
                           (int)o->codec);
    if (cpb > LMZ_MAX_CHUNKS_PER_BLOCK)
        return lmz_err_set(err, LMZ_ERR_USAGE, "chunks per block must be 1..%d", LMZ_MAX_CHUNKS_PER_BLOCK);
    lmz_cstream *cs = calloc(1, sizeof *cs);
    if (!cs)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
    cs->t0 = lmz_now();
    cs->o = o;
    cs->cpb = cpb;
    cs->kind = kind;
    cs->nmodes = classical_modes(o->codec, cs->modes);
    cs->use_model = o->codec == LMZ_CODEC_AUTO || o->codec == LMZ_CODEC_LM;
    cs->m = o->model;
    lmz_status rc = LMZ_OK;
    if (!cs->m) {
        const char *spec = o->c.model_spec ? o->c.model_spec : lmz_default_model_for_kind(kind);
        rc = lmz_model_resolve(spec, o->c.model_dir, o->c.model_path, &cs->owned, &cs->shipped, err);
        cs->m = cs->owned;
    }
    if (rc) {
        lmz_cstream_free(cs);
        return rc;
    }
    *out = cs;
    return LMZ_OK;
}

lmz_status lmz_cstream_start(lmz_cstream *cs, uint64_t expected, int exact, lmz_err *err)
{
    const lmz_compress_opts *o = cs->o;
    const lmz_backend_params bp = lmz_common_backend_params(&o->c);
    lmz_status rc = lmz_backend_create(cs->m, &bp, &cs->be, err);
    if (rc)
        return rc;
    uint32_t chunk = (uint32_t)cs->m->cfg.ctx, cpb = cs->cpb;
    /* --batch, or 4 blocks on the CPU and many more on CUDA (lmz_batch_blocks);
     * a batch costs 6 bytes per raw byte (raw, cum, freq, coded) and one
     * more per classical codec tried (auto: 8). */
    uint64_t per_block = (uint64_t)cpb * chunk * (6 + (uint64_t)cs->nmodes) + (uint64_t)cpb * 24;
    /* no bigger than the input when its size is known exactly (a file that
     * grows only means more batches) */
    uint64_t need = exact ? 1 + expected / ((uint64_t)cpb * chunk) : 0;
    uint32_t max_blocks = lmz_batch_blocks(&o->c, cs->be, cpb, per_block, need);
    if (batch_alloc(&cs->b, chunk, cpb, max_blocks, cs->nmodes) != 0)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory for a batch of %u blocks", max_blocks);
    if (!cs->sink) {
        rc = lmz_archive_create(o->output, o->c.force, &cs->w, err);
        if (rc)
            return rc;
    }
    cs->expected = expected;
    lmz_progress_start(&cs->pg, o->c.progress, o->c.progress_ctx, "compress");
    return LMZ_OK;
}

/* Code the got bytes of the batch buffer and append their blocks. */
static lmz_status code_batch(lmz_cstream *cs, size_t got, lmz_err *err)
{
    batch *b = &cs->b;
    lmz_stats *st = &cs->st;
    size_t block_bytes = (size_t)b->cpb * b->chunk;
    uint32_t nchunks = (uint32_t)((got + b->chunk - 1) / b->chunk);
    for (uint32_t c = 0; c < nchunks; c++) {
        b->chunk_ptr[c] = b->raw + (size_t)c * b->chunk;
        size_t left = got - (size_t)c * b->chunk;
        b->chunk_len[c] = (uint32_t)(left < b->chunk ? left : b->chunk);
    }
    lmz_status rc = LMZ_OK;
    if (cs->use_model) {
        rc = lmz_backend_score(cs->be, (int)nchunks, b->chunk_ptr, b->chunk_len, b->cum, b->freq,
                               err);
        if (rc)
            return rc;
        code_chunks(b, nchunks, cs->o->c.nthreads);
    }
    code_classical(b, got, cs->modes, cs->nmodes, cs->o->c.nthreads);
    /* Blocks go to the archive in order, from this one thread. */
    for (size_t off = 0; off < got && !rc; off += block_bytes) {
        uint32_t raw_len = (uint32_t)(got - off < block_bytes ? got - off : block_bytes);
        size_t len = 0;
        const uint8_t *blk = choose_block(b, off, raw_len, cs->use_model, cs->nmodes, &len);
        uint64_t h = XXH64(b->raw + off, raw_len, 0);
        rc = cs->sink ? cs->sink(cs->sink_ctx, blk, len, raw_len, h, err)
                      : lmz_archive_append_block(cs->w, blk, len, raw_len, h, err);
        st->payload_bytes += len;
        st->mode_blocks[blk[0] & 3]++;
        st->blocks++;
    }
    st->raw_bytes += got;
    lmz_progress_update(&cs->pg, st->raw_bytes, cs->expected, st->payload_bytes);
    return rc;
}

uint8_t *lmz_cstream_room(lmz_cstream *cs, size_t *room)
{
    *room = (size_t)cs->b.max_blocks * cs->b.cpb * cs->b.chunk - cs->fill;
    return cs->b.raw + cs->fill;
}

lmz_status lmz_cstream_commit(lmz_cstream *cs, size_t n, lmz_err *err)
{
    cs->fill += n;
    if (cs->fill < (size_t)cs->b.max_blocks * cs->b.cpb * cs->b.chunk)
        return LMZ_OK;
    size_t got = cs->fill;
    cs->fill = 0;
    return code_batch(cs, got, err);
}

lmz_status lmz_cstream_write(lmz_cstream *cs, const void *buf, size_t len, lmz_err *err)
{
    const uint8_t *p = buf;
    while (len) {
        size_t room;
        uint8_t *dst = lmz_cstream_room(cs, &room);
        size_t n = len < room ? len : room;
        memcpy(dst, p, n);
        lmz_status rc = lmz_cstream_commit(cs, n, err);
        if (rc)
            return rc;
        p += n;
        len -= n;
    }
    return LMZ_OK;
}

void lmz_cstream_info(const lmz_cstream *cs, lmz_archive_info *out, const lmz_model **embed)
{
    const lmz_model *m = cs->m;
    lmz_archive_info info;
    memset(&info, 0, sizeof info);
    /* the writer records the version the blocks need (1 or 2) */
    info.arith_version = (uint32_t)m->arith_version;
    info.chunk_size = (uint32_t)m->cfg.ctx;
    info.chunks_per_block = cs->cpb;
    snprintf(info.kind, sizeof info.kind, "%s", cs->kind);
    info.raw_size = cs->st.raw_bytes;
    lmz_model_hash_hex(m, info.model_hash);
    snprintf(info.model_name, sizeof info.model_name, "%s", m->name);
    info.model_embedded = !cs->shipped;
    info.model_bytes = lmz_model_bytes(m);
    snprintf(info.tool_version, sizeof info.tool_version, "%s", LMZ_VERSION_STRING);
    *out = info;
    *embed = cs->shipped ? NULL : m;
}

void lmz_cstream_set_sink(lmz_cstream *cs, lmz_block_sink sink, void *ctx)
{
    cs->sink = sink;
    cs->sink_ctx = ctx;
}

lmz_status lmz_cstream_flush(lmz_cstream *cs, lmz_err *err)
{
    if (!cs->fill)
        return LMZ_OK;
    size_t got = cs->fill;
    cs->fill = 0;
    return code_batch(cs, got, err);
}

const lmz_stats *lmz_cstream_stats(const lmz_cstream *cs)
{
    return &cs->st;
}

lmz_status lmz_cstream_finish(lmz_cstream *cs, const lmz_member *members, size_t nmembers,
                              lmz_stats *st, lmz_err *err)
{
    lmz_status rc = LMZ_OK;
    if (cs->fill) {
        size_t got = cs->fill;
        cs->fill = 0;
        rc = code_batch(cs, got, err);
    }
    lmz_progress_end(&cs->pg);
    if (rc)
        return rc;
    lmz_archive_info info;
    const lmz_model *embed;
    lmz_cstream_info(cs, &info, &embed);
    rc = lmz_archive_finish(cs->w, &info, members, nmembers, embed, err);
    if (rc)
        return rc;
    cs->w = NULL; /* finish freed it */
    struct stat sb;
    if (stat(cs->o->output, &sb) == 0)
        cs->st.archive_bytes = (uint64_t)sb.st_size;
    cs->st.seconds = lmz_now() - cs->t0;
    if (st)
        *st = cs->st;
    lmz_cstream_free(cs);
    return LMZ_OK;
}

void lmz_cstream_free(lmz_cstream *cs)
{
    if (!cs)
        return;
    lmz_progress_end(&cs->pg);
    if (cs->w)
        lmz_archive_abort(cs->w); /* removes the temporary file */
    batch_free(&cs->b);
    lmz_backend_free(cs->be);
    lmz_model_free(cs->owned);
    free(cs);
}

/* 1 when every input is a regular file, so the input's size is known. */
static int sizes_known(const lmz_inputs *in)
{
    for (size_t k = 0; k < in->n; k++) {
        struct stat sb;
        if (!in->paths[k] || stat(in->paths[k], &sb) != 0 || !S_ISREG(sb.st_mode))
            return 0;
    }
    return 1;
}

lmz_status lmz_compress(const lmz_compress_opts *o, lmz_stats *st, lmz_err *err)
{
    if (st)
        memset(st, 0, sizeof *st);
    double t0 = lmz_now();
    lmz_cstream *cs = NULL;
    lmz_inputs in;
    memset(&in, 0, sizeof in);
    lmz_status rc = lmz_cstream_create(o, &cs, err);
    if (!rc)
        rc = lmz_inputs_collect(&in, o->inputs, o->ninputs, o->recursive, err);
    if (!rc)
        rc = lmz_cstream_start(cs, in.expected, sizes_known(&in), err);
    /* the files are read straight into the batch buffer */
    for (size_t room = 0, got = 0; !rc;) {
        uint8_t *dst = lmz_cstream_room(cs, &room);
        rc = lmz_inputs_read(&in, dst, room, &got, err);
        if (!rc)
            rc = lmz_cstream_commit(cs, got, err);
        if (got < room)
            break;
    }
    if (!rc) {
        rc = lmz_cstream_finish(cs, in.members, in.n, st, err);
        if (!rc)
            cs = NULL;
    }
    if (rc && st) {
        st->raw_bytes = cs ? lmz_cstream_bytes(cs) : 0;
        st->seconds = lmz_now() - t0;
    }
    lmz_cstream_free(cs);
    lmz_inputs_free(&in);
    return rc;
}
