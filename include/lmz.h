/* lmz.h: the public API of liblmz, lossless compression with a byte-level
 * transformer and a range coder. This is the only header a program needs
 * (`pkg-config --cflags --libs lmz`); it includes nothing of lmz's own.
 *
 * Conventions (zstd's):
 *  - Contexts are opaque (lmz_writer, lmz_archive, lmz_coder); every
 *    create/open has a free/close that accepts NULL.
 *  - Every call that can fail returns an lmz_status (0 = LMZ_OK; the numbers
 *    never change) or NULL, and fills the caller's lmz_error, if one is
 *    given (NULL is allowed), with the code and a one-line message naming
 *    the problem (the file, the block number...). There is no hidden
 *    "last error" state: the message lives in the caller's struct, so
 *    threads never see each other's errors.
 *  - The library prints nothing, reads no environment variable and never
 *    exits; progress goes to a callback (lmz_params.progress).
 *
 * Thread safety: different handles may be used from different threads at
 * the same time (HDF5, built thread-safe, serializes its own calls; the
 * model runs outside that lock). Calls on one lmz_archive are serialized by
 * a mutex inside it, so sharing one handle is safe but not parallel: open
 * one handle per thread to read in parallel. An lmz_writer or lmz_coder
 * belongs to one thread at a time. lmz_params.simd is process-wide.
 *
 * Chunk, block: a chunk is lmz's 2048-byte unit (the model's context); a
 * block is chunks_per_block consecutive chunks, the unit of the archive's
 * index and checksums (docs/format.md). */
#ifndef LMZ_H
#define LMZ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define LMZ_API __attribute__((visibility("default")))
#else
#define LMZ_API
#endif

#define LMZ_VERSION_MAJOR 0
#define LMZ_VERSION_MINOR 1
#define LMZ_VERSION_PATCH 0

/* ---- status codes and errors ---- */

/* Numbered status codes; the numbers are stable (scripts and bindings may
 * store them). lmz_status_name gives each a stable lower-case name. */
typedef enum lmz_status {
    LMZ_OK = 0,
    LMZ_ERR_GENERIC = 1,         /* unspecified failure */
    LMZ_ERR_NOMEM = 2,           /* allocation failed */
    LMZ_ERR_IO = 3,              /* read/write/open failed (errno in message) */
    LMZ_ERR_USAGE = 4,           /* bad arguments */
    LMZ_ERR_NOT_ARCHIVE = 5,     /* the file is not an lmz archive */
    LMZ_ERR_VERSION = 6,         /* newer format or arithmetic version */
    LMZ_ERR_CORRUPT_INDEX = 7,   /* the index fails its checksum or validation */
    LMZ_ERR_CORRUPT_BLOCK = 8,   /* a block fails its checksum or parse (message: its number) */
    LMZ_ERR_MODEL_MISSING = 9,   /* the archive's model cannot be found */
    LMZ_ERR_MODEL_MISMATCH = 10, /* the given model is not the archive's */
    LMZ_ERR_MODEL_INVALID = 11,  /* a model file is malformed */
    LMZ_ERR_EXISTS = 12,         /* the output exists and force was not set */
    LMZ_ERR_UNSAFE_NAME = 13,    /* a member name would escape the output directory */
    LMZ_ERR_RANGE = 14,          /* the block, byte range or member does not exist */
    LMZ_ERR_NO_DEVICE = 15,      /* the requested device is not available */
    LMZ_ERR_TRUNCATED = 16,      /* the file is shorter than its metadata says */
    LMZ_ERR_COUNT
} lmz_status;

/* Filled by a failing call: the code and one line of text (no newline). */
typedef struct lmz_error {
    lmz_status code;
    char msg[512];
} lmz_error;

/* "0.1.0". */
LMZ_API const char *lmz_version(void);
/* Stable lower-case name of a code, e.g. "corrupt_block"; "unknown" for a
 * number that is not a code. */
LMZ_API const char *lmz_status_name(int code);

/* ---- parameters ---- */

typedef enum lmz_device { LMZ_DEVICE_AUTO = 0, LMZ_DEVICE_CPU, LMZ_DEVICE_CUDA } lmz_device;

/* SIMD path of the CPU inference (every path gives the same bits). */
typedef enum lmz_simd {
    LMZ_SIMD_AUTO = 0,
    LMZ_SIMD_SCALAR,
    LMZ_SIMD_AVX2,   /* x86-64 AVX2 */
    LMZ_SIMD_AVX512  /* x86-64 AVX-512 BW/VL + VNNI (256-bit vectors) */
} lmz_simd;

/* How blocks are coded (docs/format.md, "Blocks"): AUTO keeps, per block,
 * the smallest of the model's form, LZMA2 and zstd (stored as the last
 * resort); LM the model only (the paper's protocol, format version 1);
 * LZMA2 and ZSTD that codec alone, without running the model. */
typedef enum lmz_codec { LMZ_CODEC_AUTO = 0, LMZ_CODEC_LM, LMZ_CODEC_LZMA2, LMZ_CODEC_ZSTD } lmz_codec;

/* Progress of a long call: what ("compress", "decompress", "read",
 * "verify"), raw bytes done of total (0: unknown), bytes produced; end is 1
 * on the last call of the operation. Called from the calling thread. */
typedef void (*lmz_progress_fn)(void *ctx, const char *what, uint64_t done, uint64_t total,
                                uint64_t out, int end);

/* Every option; lmz_params_init sets the defaults (all zero/NULL today,
 * but call it: new fields get defaults there). The strings are copied by
 * the calls that keep them. None of these changes a bit of an archive's
 * payload except model, kind, codec and chunks_per_block. */
typedef struct lmz_params {
    int threads;                /* CPU threads; <= 0: all cores */
    lmz_device device;          /* AUTO: CUDA when a device is present, else the CPU */
    int cuda_auto;              /* < 0: AUTO stays on the CPU; 0 or 1: AUTO picks CUDA
                                   when a device is present (the bits are the same) */
    const char *model;          /* a model file, a built-in name or a shipped model's
                                   name; NULL: the kind's default (compress) or the
                                   archive's own model (read) */
    const char *model_dir;      /* searched first for shipped models; NULL: none */
    const char *model_path;     /* colon-separated model directories (what the CLI
                                   takes from $LMZ_MODEL_PATH); NULL: none */
    const char *kind;           /* "text", "image", "audio", "bytes"; NULL: "text" */
    lmz_codec codec;            /* default AUTO */
    uint32_t chunks_per_block;  /* 1..4096; 0: 64 (128 KiB blocks) */
    uint32_t batch;             /* blocks per backend call; 0: the backend's default */
    lmz_simd simd;              /* AUTO: the best this CPU runs (process-wide) */
    int decode_batch;           /* chunks each CPU decoding thread steps together; 0: 4 */
    int force;                  /* 1: replace an existing output file */
    int recursive;              /* lmz_compress_files: a directory's files too (sorted) */
    lmz_progress_fn progress;   /* NULL: none */
    void *progress_ctx;
} lmz_params;

LMZ_API void lmz_params_init(lmz_params *p);

/* Counters a call fills (NULL allowed wherever one is taken). */
typedef struct lmz_stats {
    uint64_t raw_bytes;
    uint64_t payload_bytes;
    uint64_t archive_bytes;     /* the archive file on disk (compress) */
    uint64_t blocks;
    uint64_t blocks_damaged;    /* verify */
    uint64_t mode_blocks[4];    /* compress: blocks coded by the model, stored, LZMA2, zstd */
    double seconds;
} lmz_stats;

/* ---- compressing ---- */

/* Compress files ("-": standard input; directories only with
 * p->recursive; members are named by the paths as given, normalised) into
 * an archive at archive: the same bytes as
 * `lmz compress PATHS... -o ARCHIVE` with the same options. The archive
 * appears only when complete (a temporary file beside it, renamed). */
LMZ_API lmz_status lmz_compress_files(const char *const *paths, size_t npaths,
                                      const char *archive, const lmz_params *p,
                                      lmz_stats *st, lmz_error *err);

/* Compress buffers into an archive. Members are added in order with
 * lmz_writer_add: a call with a new name starts a member; a call with the
 * current member's name (or NULL) appends to it, so a member may be
 * streamed in pieces of any size; a name used by an earlier member is
 * refused (LMZ_ERR_USAGE), as is an unsafe one (LMZ_ERR_UNSAFE_NAME).
 * Members get permission bits 0644. Memory stays bounded by the batch,
 * whatever is added. lmz_writer_finish writes the index and renames the
 * archive into place (the same bytes as `lmz compress` of files with those
 * names, contents and mode 0644); lmz_writer_free without a successful
 * finish removes the temporary file, so no partial archive is left. After
 * any failed call the writer only accepts lmz_writer_free. */
typedef struct lmz_writer lmz_writer;
LMZ_API lmz_writer *lmz_writer_create(const char *archive, const lmz_params *p, lmz_error *err);
LMZ_API lmz_status lmz_writer_add(lmz_writer *w, const char *member, const void *buf, size_t len,
                                  lmz_error *err);
LMZ_API lmz_status lmz_writer_finish(lmz_writer *w, lmz_stats *st, lmz_error *err);
LMZ_API void lmz_writer_free(lmz_writer *w);

/* ---- reading ---- */

typedef struct lmz_archive lmz_archive;

/* Open and validate an archive (attributes, index, member table; no
 * payload is read and no model loaded until a read needs it). p: where to
 * find the model and how to run it (NULL: defaults). */
LMZ_API lmz_archive *lmz_archive_open(const char *path, const lmz_params *p, lmz_error *err);
LMZ_API void lmz_archive_close(lmz_archive *a);

/* What an archive says about itself; strings are NUL-terminated. */
typedef struct lmz_archive_meta {
    uint32_t format_version, arith_version;
    uint32_t chunk_size, chunks_per_block;
    uint64_t raw_size;          /* bytes of all members together */
    uint64_t payload_size;      /* coded bytes (raw rate = payload_size / raw_size) */
    uint64_t nblocks, nmembers;
    uint64_t file_bytes;        /* the archive file on disk */
    char kind[16];
    char model_name[64];
    char model_hash[33];        /* 32 hex digits */
    int model_embedded;         /* 1: the archive holds its model */
    uint64_t model_bytes;       /* the model's size (adjusted rate: payload + model) */
    char tool_version[32];
} lmz_archive_meta;
LMZ_API lmz_status lmz_archive_get_meta(const lmz_archive *a, lmz_archive_meta *out,
                                        lmz_error *err);
LMZ_API uint64_t lmz_archive_raw_size(const lmz_archive *a);
LMZ_API uint64_t lmz_archive_nblocks(const lmz_archive *a);
LMZ_API uint64_t lmz_archive_nmembers(const lmz_archive *a);

/* Block modes (lmz_block_info.mode). */
#define LMZ_MODE_MODEL 0
#define LMZ_MODE_STORED 1
#define LMZ_MODE_LZMA2 2
#define LMZ_MODE_ZSTD 3

typedef struct lmz_block_info {
    uint64_t raw_offset;        /* of its first byte in the raw stream */
    uint32_t raw_len;
    uint64_t payload_offset;
    uint32_t payload_len;
    int mode;                   /* LMZ_MODE_*: the block's first byte, not checked
                                   against its checksum (reads check it) */
} lmz_block_info;
LMZ_API lmz_status lmz_archive_block_info(lmz_archive *a, uint64_t block, lmz_block_info *out,
                                          lmz_error *err);

typedef struct lmz_member_info {
    const char *name;           /* valid while the archive is open */
    uint64_t offset;            /* in the raw stream */
    uint64_t size;
    uint32_t mode;              /* permission bits */
} lmz_member_info;
LMZ_API lmz_status lmz_archive_member(const lmz_archive *a, uint64_t k, lmz_member_info *out,
                                      lmz_error *err);
/* Index of the member named name, or -1. */
LMZ_API int64_t lmz_archive_find_member(const lmz_archive *a, const char *name);

/* Read length bytes of the raw stream (all members back to back) from
 * offset into buf, decoding only the chunks the range touches. Zero bytes
 * are fine anywhere up to the end; past the end: LMZ_ERR_RANGE. A damaged
 * block in the range gives LMZ_ERR_CORRUPT_BLOCK naming the block; other
 * blocks stay readable. */
LMZ_API lmz_status lmz_archive_read(lmz_archive *a, uint64_t offset, uint64_t length, void *buf,
                                    lmz_error *err);
/* Block i whole into buf (cap bytes; *len gets its raw length; a cap below
 * it: LMZ_ERR_RANGE and nothing read). */
LMZ_API lmz_status lmz_archive_read_block(lmz_archive *a, uint64_t block, void *buf, size_t cap,
                                          size_t *len, lmz_error *err);
/* Member k whole, likewise. */
LMZ_API lmz_status lmz_archive_read_member(lmz_archive *a, uint64_t k, void *buf, size_t cap,
                                           size_t *len, lmz_error *err);

/* Called once per damaged block found by verify, in block order. */
typedef void (*lmz_damage_fn)(void *ctx, uint64_t block, const lmz_error *why);
/* Check every block's payload checksum (and decode classical blocks); full:
 * also decode the model's blocks and check their raw checksums. Every
 * damaged block is reported to on_damage (may be NULL); the result is then
 * LMZ_ERR_CORRUPT_BLOCK with the count and the first one. */
LMZ_API lmz_status lmz_archive_verify(lmz_archive *a, int full, lmz_damage_fn on_damage,
                                      void *ctx, lmz_stats *st, lmz_error *err);

/* Write every member of the archive at path under the directory outdir
 * (NULL: "."), or to the file outdir when the archive has one member and
 * outdir is not a directory: what `lmz decompress ARCHIVE -o OUTDIR` does.
 * Each file appears only when complete and checked; existing files are
 * refused unless p->force; unsafe names are refused before anything is
 * written. */
LMZ_API lmz_status lmz_decompress_archive(const char *path, const char *outdir,
                                          const lmz_params *p, lmz_stats *st, lmz_error *err);

/* ---- chunks ---- */

/* One model, ready to code single chunks: the stream of a chunk is exactly
 * the range-coder stream a coded block holds for it (docs/format.md,
 * "Blocks"), so these calls are the model coding of the archive without the
 * archive. The model is p->model (NULL: the default for p->kind). */
typedef struct lmz_coder lmz_coder;
LMZ_API lmz_coder *lmz_coder_create(const lmz_params *p, lmz_error *err);
LMZ_API void lmz_coder_free(lmz_coder *c);
/* The longest chunk (the model's context, 2048 for the shipped models). */
LMZ_API size_t lmz_coder_chunk_size(const lmz_coder *c);
/* The model's hash (32 hex digits). */
LMZ_API const char *lmz_coder_model_hash(const lmz_coder *c);

/* Room that always holds the stream of an n-byte chunk. */
#define LMZ_CHUNK_BOUND(n) (2 * (size_t)(n) + 8)
/* Code raw (n bytes, 1..chunk size) into out (cap bytes): *outlen gets the
 * stream's length. A cap too small for this stream: LMZ_ERR_RANGE (a
 * block stores such a chunk raw instead). */
LMZ_API lmz_status lmz_chunk_encode(lmz_coder *c, const void *raw, size_t n, void *out, size_t cap,
                                    size_t *outlen, lmz_error *err);
/* Decode n bytes (1..chunk size) from a stream of inlen bytes. Any bytes
 * decode to something: the archive's checksums, not the coder, catch damage. */
LMZ_API lmz_status lmz_chunk_decode(lmz_coder *c, const void *in, size_t inlen, void *out, size_t n,
                                    lmz_error *err);

#ifdef __cplusplus
}
#endif

#endif
