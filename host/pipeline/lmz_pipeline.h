/* lmz_pipeline.h: what the lmz commands do, as library calls.
 *
 * compress:   inputs -> 2048-byte chunks -> backend scores -> range coder
 *             (OpenMP over chunks) -> blocks -> archive (one writer thread).
 * decompress: archive -> a read-ahead window of --batch blocks (payload
 *             checksums) -> one backend decode call for all their chunks ->
 *             raw checksum of each block -> member files, in order
 *             (temporary file, then rename).
 * extract:    one block, one byte range or one member; decodes only the
 *             chunks it touches (the same window over the blocks it spans).
 * verify:     read the index, check every checksum (full: decodes).
 * Memory is bounded by the batch (blocks in flight), not by the input. */
#ifndef LMZ_PIPELINE_H
#define LMZ_PIPELINE_H

#include <stdint.h>
#include <stdio.h>

#include "lmz_archive.h"
#include "lmz_backend.h"
#include "lmz_error.h"

/* Options every command shares. */
typedef struct lmz_common_opts {
    int nthreads;            /* -T; <= 0: all cores */
    lmz_device device;       /* --device */
    const char *model_spec;  /* -m: path, built-in or shipped name; NULL: default */
    const char *model_dir;   /* --model-dir; NULL: search path only */
    int force;               /* -f */
    lmz_progress_fn progress; /* progress reports (lmz.h); NULL: none. The library
                                  never draws: the CLI's callback does. */
    void *progress_ctx;
    int verbose;             /* -v count; -1 for -q */
    uint32_t batch_blocks;   /* --batch: blocks in flight per batch (compress) or per
                                backend decode call (read-ahead window of decompress,
                                extract, verify --full); 0: the backend's default */
    /* From the environment: the CLI reads it, the library never does. */
    const char *model_path;  /* $LMZ_MODEL_PATH: colon-separated model dirs; NULL: none */
    lmz_simd simd;           /* $LMZ_SIMD: the CPU's SIMD path; 0: the best */
    int cuda_auto;           /* < 0 ($LMZ_CUDA_AUTO=0): --device auto stays on the CPU */
    int decode_batch;        /* $LMZ_DECODE_BATCH: chunks per CPU decoding thread; 0: 4 */
    int cuda_sync;           /* $LMZ_CUDA_SYNC=1: check every CUDA kernel (debugging) */
} lmz_common_opts;

/* --codec: lmz_codec of lmz.h (LMZ_CODEC_AUTO, _LM, _LZMA2, _ZSTD). */
/* "auto", "lm", "lzma2", "zstd" -> lmz_codec; -1 for anything else. */
int lmz_codec_parse(const char *s);

typedef struct lmz_compress_opts {
    lmz_common_opts c;
    const char *const *inputs;  /* files, directories (with recursive) or "-" */
    int ninputs;
    int recursive;              /* -r */
    const char *output;         /* archive path (never "-": HDF5 needs seeking) */
    const char *kind;           /* --kind; NULL: "text" */
    uint32_t chunks_per_block;  /* 0: 64 */
    lmz_codec codec;            /* --codec; 0: auto */
    const lmz_model *model;     /* a model in memory (e.g. fitted by --fit): used
                                   instead of model_spec and embedded; NULL: none */
} lmz_compress_opts;

/* lmz_stats: the public counters of lmz.h. */

lmz_status lmz_compress(const lmz_compress_opts *o, lmz_stats *st, lmz_err *err);

typedef struct lmz_decompress_opts {
    lmz_common_opts c;
    const char *archive;
    const char *output;   /* -o: a directory, or a file for a single member; NULL: "." */
    int to_stdout;        /* -c: every member's bytes, in order, to stdout */
    int salvage;          /* --salvage: a damaged block does not stop the run: its
                             raw bytes are written as zeros (so every member keeps its
                             size and every intact byte its offset), it is reported on
                             report, and the result is LMZ_ERR_CORRUPT_BLOCK with the
                             count (st->blocks_damaged) */
    FILE *report;         /* salvage: one line per damaged block; NULL: none */
} lmz_decompress_opts;

lmz_status lmz_decompress(const lmz_decompress_opts *o, lmz_stats *st, lmz_err *err);

typedef enum lmz_extract_what { LMZ_EXTRACT_BLOCK, LMZ_EXTRACT_RANGE, LMZ_EXTRACT_MEMBER } lmz_extract_what;

typedef struct lmz_extract_opts {
    lmz_common_opts c;
    const char *archive;
    lmz_extract_what what;
    uint64_t block;         /* --block N */
    uint64_t offset, length;/* --range OFFSET:LENGTH (raw stream) */
    const char *member;     /* --member NAME */
    const char *output;     /* -o FILE; NULL or "-" with to_stdout: stdout */
    int to_stdout;
} lmz_extract_opts;

lmz_status lmz_extract(const lmz_extract_opts *o, lmz_stats *st, lmz_err *err);

/* verify: every checksum; full also decodes every block with the model. Each
 * damaged block is reported on report (one line each: the CLI passes stdout,
 * so that stderr keeps its one error line); the return value is
 * LMZ_ERR_CORRUPT_BLOCK with a count and the first damaged block. */
lmz_status lmz_verify(const char *archive, const lmz_common_opts *c, int full,
                      FILE *report, lmz_stats *st, lmz_err *err);

#endif
