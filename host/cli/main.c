/* main.c: the lmz command line. Parses flags, calls the pipeline, prints one
 * line per error and exits 0 on success, 1 on any error. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_args.h"
#include "cli_env.h"
#include "cli_mpi.h"
#include "cli_progress.h"
#include "lmz_pipeline.h"

static const char *prog_cmd = "lmz";
/* The progress line on stderr (the library only reports). */
static cli_progress tty;

static void die_usage(const char *fmt, const char *arg)
{
    /* under MPI every rank parses the same line: rank 0 speaks for them */
    if (cli_mpi_rank() == 0) {
        fprintf(stderr, "%s: ", prog_cmd);
        fprintf(stderr, fmt, arg);
        fprintf(stderr, " (see '%s --help')\n", prog_cmd);
    }
    exit(1);
}

/* A number option's value (cli_args.h), or a usage error. */
static uint64_t parse_num(const char *s, const char *what, const char *noun, uint64_t lo,
                          uint64_t hi, int flags)
{
    uint64_t v;
    char msg[256];
    if (!cli_parse_u64(s, what, noun, lo, hi, flags, &v, msg, sizeof msg))
        die_usage("%s", msg);
    return v;
}

static const char usage_main[] =
    "lmz: lossless compression with a byte-level transformer and a range coder\n"
    "\n"
    "usage: lmz COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  compress FILE... -o ARCHIVE   compress files (-r: directories, -: stdin)\n"
    "  decompress ARCHIVE [-o DIR|FILE] [-c] [--salvage]   give every member back\n"
    "  extract ARCHIVE (--block N | --range OFF:LEN | --member NAME) [-o FILE]\n"
    "  list ARCHIVE [-v]             members, blocks (-v: each, with its mode), sizes, model\n"
    "  verify ARCHIVE [--full]       check every checksum (--full: also decode)\n"
    "  prepare KIND SOURCE... -o OUT turn text, images, audio into the paper's byte streams\n"
    "  train DATA... -o MODEL        train a model on your data\n"
    "  version                       print the version\n"
    "\n"
    "'lmz COMMAND --help' shows a command's options.\n";

static const char usage_common[] =
    "  -T, --threads N     threads (default: all cores)\n"
    "  -m, --model MODEL   model file, built-in name (random-tiny, random-200k...) or shipped name\n"
    "      --model-dir DIR where to look for shipped models (also $LMZ_MODEL_PATH)\n"
    "      --device DEV    auto, cpu or cuda (default auto)\n"
    "  -f, --force         overwrite existing output\n"
    "  -q, --quiet         no summary, no progress\n"
    "  -v, --verbose       more detail\n"
    "      --no-progress   no progress display (it is shown only on a terminal)\n"
    "  -h, --help          this help\n";

static void help(const char *cmd)
{
    if (!strcmp(cmd, "compress"))
        printf("usage: lmz compress FILE... -o ARCHIVE [options]\n\n"
               "Compress files (or '-' for standard input) into one HDF5 archive. The archive\n"
               "must be a file: HDF5 cannot write to a pipe.\n\n"
               "  -o, --output FILE   the archive (required)\n"
               "  -r, --recursive     compress directories\n"
               "      --kind KIND     text, image, audio or bytes: picks the default model;\n"
               "                      the input is never transformed (default text)\n"
               "      --block-chunks N  2048-byte chunks per block (default 64)\n"
               "      --codec CODEC   auto: each block coded by the model, LZMA2 or zstd,\n"
               "                      whichever is smallest (default); lm: the model only\n"
               "                      (the paper's protocol); lzma2 or zstd: that codec only,\n"
               "                      without running the model. Stored when nothing is smaller\n"
               "      --fit TIME      first train a model on a sample of the input for TIME\n"
               "                      (e.g. 10m; from the kind's default model when it is a\n"
               "                      trained one), and use it, embedded, if it codes a held-back\n"
               "                      part of the sample better, its own size counted\n"
               "      --fit-sample N  bytes of the input to train on (default 32 MiB; suffixes\n"
               "                      k, M, G: x1000)\n"
               "      --batch N       blocks in flight per batch (default 4 on the CPU, on CUDA\n"
               "                      16384 chunks: 256 blocks of 64, at most 1 GiB); memory\n"
               "                      grows with N (~8 x N x block size; 6 x with --codec lm)\n");
    else if (!strcmp(cmd, "decompress"))
        printf("usage: lmz decompress ARCHIVE [-o DIR|FILE] [-c] [--salvage] [options]\n\n"
               "Write every member back under DIR (default: the current directory), or to\n"
               "FILE when the archive has one member, or all of them in order to stdout (-c).\n\n"
               "  -o, --output PATH   output directory, or file for a one-member archive\n"
               "  -c, --stdout        write to standard output\n"
               "      --salvage       go on past damaged blocks: write every intact block, write\n"
               "                      a damaged block's bytes as zeros (members keep their size),\n"
               "                      name each damaged block and the member bytes it held (on\n"
               "                      stdout, or stderr with -c); exit 1 if any was damaged\n"
               "      --batch N       blocks decoded per backend call (read ahead; default 4 on\n"
               "                      the CPU, on CUDA 16384 chunks: 256 blocks of 64, at most\n"
               "                      1 GiB); memory grows with N (~2 x N x block size)\n");
    else if (!strcmp(cmd, "extract"))
        printf("usage: lmz extract ARCHIVE (--block N | --range OFFSET:LENGTH | --member NAME)\n"
               "                  [-o FILE | -c] [options]\n\n"
               "Decode only the chunks the request touches. Output goes to FILE, or to\n"
               "standard output with -c (or when it is not a terminal).\n\n"
               "  --block N           block N (see 'lmz list -v')\n"
               "  --range OFF:LEN     LEN bytes from offset OFF of the raw stream\n"
               "  --member NAME       one member\n"
               "  -o, --output FILE   output file\n"
               "  -c, --stdout        write to standard output\n"
               "  --batch N           blocks decoded per backend call (read ahead; default 4 on\n"
               "                      the CPU, on CUDA 16384 chunks: 256 blocks of 64, at most\n"
               "                      1 GiB); memory grows with N (~2 x N x block size)\n");
    else if (!strcmp(cmd, "list"))
        printf("usage: lmz list ARCHIVE [-v]\n\n"
               "Print members, blocks, sizes, raw and adjusted rate and the model\n"
               "(-v: one line per block with its mode, and the blocks and bytes of each\n"
               "mode: model, lzma2, zstd, stored).\n");
    else if (!strcmp(cmd, "verify"))
        printf("usage: lmz verify ARCHIVE [--full] [options]\n\n"
               "Check the index and every block's payload checksum; with --full also decode\n"
               "every block with the model and check its raw checksum. Blocks coded by LZMA2\n"
               "or zstd are cheap to decode: they are always decoded and checked. Every\n"
               "damaged block is reported.\n\n"
               "  --full              decode and check the raw bytes too\n"
               "  --batch N           with --full: blocks decoded per backend call (read ahead;\n"
               "                      default 4 on the CPU, on CUDA 16384 chunks: 256 blocks of\n"
               "                      64, at most 1 GiB); memory grows with N (~2 x N x block\n"
               "                      size)\n");
    else {
        fputs(usage_main, stdout);
        return;
    }
    printf("\ncommon options:\n%s", usage_common);
}

enum { OPT_MODEL_DIR = 1000, OPT_DEVICE, OPT_NO_PROGRESS, OPT_KIND, OPT_BLOCK_CHUNKS, OPT_BATCH,
       OPT_BLOCK, OPT_RANGE, OPT_MEMBER, OPT_FULL, OPT_SALVAGE, OPT_CODEC, OPT_FIT, OPT_FIT_SAMPLE };

/* The commands of this file, as bits: which command takes which option. */
enum { C_COMPRESS = 1, C_DECOMPRESS = 2, C_EXTRACT = 4, C_LIST = 8, C_VERIFY = 16, C_ALL = 31 };
static const char *const cmd_names[] = {"compress", "decompress", "extract", "list", "verify"};

/* Every option of these commands, and the commands that take it: an
 * option given to another command is refused, naming its commands. The
 * common options (usage_common) are every command's. */
static const struct cli_option {
    struct option o;
    int cmds;
} options[] = {
    {{"threads", required_argument, 0, 'T'}, C_ALL},
    {{"model", required_argument, 0, 'm'}, C_ALL},
    {{"model-dir", required_argument, 0, OPT_MODEL_DIR}, C_ALL},
    {{"device", required_argument, 0, OPT_DEVICE}, C_ALL},
    {{"force", no_argument, 0, 'f'}, C_ALL},
    {{"quiet", no_argument, 0, 'q'}, C_ALL},
    {{"verbose", no_argument, 0, 'v'}, C_ALL},
    {{"no-progress", no_argument, 0, OPT_NO_PROGRESS}, C_ALL},
    {{"help", no_argument, 0, 'h'}, C_ALL},
    {{"output", required_argument, 0, 'o'}, C_COMPRESS | C_DECOMPRESS | C_EXTRACT},
    {{"stdout", no_argument, 0, 'c'}, C_DECOMPRESS | C_EXTRACT},
    {{"batch", required_argument, 0, OPT_BATCH}, C_COMPRESS | C_DECOMPRESS | C_EXTRACT | C_VERIFY},
    {{"recursive", no_argument, 0, 'r'}, C_COMPRESS},
    {{"kind", required_argument, 0, OPT_KIND}, C_COMPRESS},
    {{"block-chunks", required_argument, 0, OPT_BLOCK_CHUNKS}, C_COMPRESS},
    {{"codec", required_argument, 0, OPT_CODEC}, C_COMPRESS},
    {{"fit", required_argument, 0, OPT_FIT}, C_COMPRESS},
    {{"fit-sample", required_argument, 0, OPT_FIT_SAMPLE}, C_COMPRESS},
    {{"salvage", no_argument, 0, OPT_SALVAGE}, C_DECOMPRESS},
    {{"block", required_argument, 0, OPT_BLOCK}, C_EXTRACT},
    {{"range", required_argument, 0, OPT_RANGE}, C_EXTRACT},
    {{"member", required_argument, 0, OPT_MEMBER}, C_EXTRACT},
    {{"full", no_argument, 0, OPT_FULL}, C_VERIFY},
};
#define NOPTIONS (sizeof options / sizeof options[0])

static int cmd_bit(const char *cmd)
{
    for (int k = 0; k < 5; k++)
        if (!strcmp(cmd, cmd_names[k]))
            return 1 << k;
    return 0;
}

/* Refuse option ch (getopt_long's answer; typed as a long option when
 * is_long) unless cmd takes it: "option '--full' is not an option of
 * compress (--full is an option of verify)". */
static void check_option(const char *cmd, int ch, int is_long)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (options[i].o.val != ch)
            continue;
        if (options[i].cmds & cmd_bit(cmd))
            return;
        char name[40], owners[64] = "";
        if (is_long)
            snprintf(name, sizeof name, "--%s", options[i].o.name);
        else
            snprintf(name, sizeof name, "-%c", ch);
        for (int k = 0; k < 5; k++)
            if (options[i].cmds & (1 << k))
                snprintf(owners + strlen(owners), sizeof owners - strlen(owners), "%s%s",
                         owners[0] ? ", " : "", cmd_names[k]);
        fprintf(stderr, "%s: option '%s' is not an option of %s (%s is an option of %s)\n",
                prog_cmd, name, cmd, name, owners);
        exit(1);
    }
}

typedef struct cli {
    lmz_common_opts c;
    const char *output;
    int recursive, to_stdout, full, quiet, no_progress, salvage;
    const char *kind;
    uint32_t block_chunks;
    lmz_codec codec;
    int have_block, have_range, have_member;
    uint64_t block, off, len;
    const char *member;
    double fit_seconds;      /* --fit; 0: none */
    uint64_t fit_sample;     /* --fit-sample */
} cli;

/* --range OFFSET:LENGTH (byte counts, suffixes as sizes take). */
static void parse_range(const char *arg, cli *o)
{
    const char *colon = strchr(arg, ':');
    if (!colon)
        die_usage("--range wants OFFSET:LENGTH, got '%s'", arg);
    char buf[64];
    size_t n = (size_t)(colon - arg);
    if (n >= sizeof buf)
        die_usage("--range offset too long: '%s'", arg);
    memcpy(buf, arg, n);
    buf[n] = '\0';
    o->off = parse_num(buf, "--range offset", "a byte count", 0, UINT64_MAX, CLI_SUFFIX);
    o->len = parse_num(colon + 1, "--range length", "a byte count", 0, UINT64_MAX, CLI_SUFFIX);
    o->have_range = 1;
}

static void parse(const char *cmd, int argc, char **argv, cli *o)
{
    struct option longs[NOPTIONS + 1];
    for (size_t i = 0; i < NOPTIONS; i++)
        longs[i] = options[i].o;
    memset(&longs[NOPTIONS], 0, sizeof longs[NOPTIONS]);
    memset(o, 0, sizeof *o);
    cli_env_common(&o->c); /* LMZ_MODEL_PATH, LMZ_SIMD, LMZ_CUDA_AUTO, LMZ_DECODE_BATCH */
    opterr = 0;
    optind = 1;
    int ch, li = -1;
    /* "+" is not used: options may follow file names, as with zstd. */
    while ((ch = getopt_long(argc, argv, ":o:fT:m:qvhrc", longs, &li)) != -1) {
        if (ch != ':' && ch != '?')
            check_option(cmd, ch, li >= 0);
        li = -1;
        switch (ch) {
        case 'o': o->output = optarg; break;
        case 'f': o->c.force = 1; break;
        case 'T': o->c.nthreads = (int)parse_num(optarg, "-T", "a number", 0, 65536, 0); break;
        case 'm': o->c.model_spec = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'v': o->c.verbose++; break;
        case 'h': help(cmd); exit(0);
        case 'r': o->recursive = 1; break;
        case 'c': o->to_stdout = 1; break;
        case OPT_MODEL_DIR: o->c.model_dir = optarg; break;
        case OPT_DEVICE: {
            int d = lmz_device_parse(optarg);
            if (d < 0)
                die_usage("unknown --device '%s' (auto, cpu or cuda)", optarg);
            o->c.device = (lmz_device)d;
            break;
        }
        case OPT_NO_PROGRESS: o->no_progress = 1; break;
        case OPT_KIND: o->kind = optarg; break;
        case OPT_BLOCK_CHUNKS:
            o->block_chunks = (uint32_t)parse_num(optarg, "--block-chunks", "a number of chunks",
                                                  1, 4096, 0);
            break;
        case OPT_BATCH:
            /* blocks in flight: 1..65536, nothing else (not 0, -1, 1e3, 2^32+1) */
            o->c.batch_blocks =
                (uint32_t)parse_num(optarg, "--batch", "a number of blocks", 1, 65536, 0);
            break;
        case OPT_BLOCK:
            o->have_block = 1;
            o->block = parse_num(optarg, "--block", "a block number", 0, UINT64_MAX, 0);
            break;
        case OPT_RANGE: parse_range(optarg, o); break;
        case OPT_MEMBER: o->have_member = 1; o->member = optarg; break;
        case OPT_FULL: o->full = 1; break;
        case OPT_CODEC: {
            int k = lmz_codec_parse(optarg);
            if (k < 0)
                die_usage("unknown --codec '%s' (auto, lm, lzma2 or zstd)", optarg);
            o->codec = (lmz_codec)k;
            break;
        }
        case OPT_FIT:
            if (!cli_parse_seconds(optarg, &o->fit_seconds) || o->fit_seconds > 7 * 86400.0)
                die_usage("--fit wants a time such as 600, 10m or 1h, not '%s'", optarg);
            break;
        case OPT_FIT_SAMPLE:
            o->fit_sample = parse_num(optarg, "--fit-sample", "a size", 64000,
                                      (uint64_t)1000000000000, CLI_SUFFIX);
            break;
        case OPT_SALVAGE: o->salvage = 1; break;
        case ':': die_usage("option '%s' needs a value", argv[optind - 1]); break;
        default: die_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (o->quiet)
        o->c.verbose = -1;
    /* MPI ranks: no progress line (ranks share one terminal); -T, if not
     * given, divides the node's cores among its ranks */
    cli_progress_init(&tty, !o->quiet && !o->no_progress && isatty(2) && !cli_mpi_ranks());
    o->c.nthreads = cli_mpi_threads(o->c.nthreads);
    o->c.progress = cli_progress_fn;
    o->c.progress_ctx = &tty;
}

/* The library's params for the parsed options (lmz.h): compress,
 * decompress, list and verify go through the public API. */
static lmz_params to_params(const cli *o)
{
    lmz_params p;
    lmz_params_init(&p);
    p.threads = o->c.nthreads;
    p.device = o->c.device;
    p.cuda_auto = o->c.cuda_auto;
    p.model = o->c.model_spec;
    p.model_dir = o->c.model_dir;
    p.model_path = o->c.model_path;
    p.kind = o->kind;
    p.codec = o->codec;
    p.chunks_per_block = o->block_chunks;
    p.batch = o->c.batch_blocks;
    p.simd = o->c.simd;
    p.decode_batch = o->c.decode_batch;
    p.force = o->c.force;
    p.recursive = o->recursive;
    p.progress = o->c.progress;
    p.progress_ctx = o->c.progress_ctx;
    return p;
}

static int fail(const lmz_err *e)
{
    if (cli_mpi_rank() == 0)
        fprintf(stderr, "%s: %s\n", prog_cmd, e->msg[0] ? e->msg : lmz_status_name(e->code));
    return 1;
}

static void rate_line(const char *what, const lmz_stats *st, uint64_t in, uint64_t out)
{
    double mb = (double)st->raw_bytes / 1e6;
    fprintf(stderr, "%s: %llu -> %llu bytes (%.2f%%), %.2f s, %.1f KB/s\n", what,
            (unsigned long long)in, (unsigned long long)out, in ? 100.0 * (double)out / (double)in : 0.0,
            st->seconds, st->seconds > 0 ? mb * 1000.0 / st->seconds : 0.0);
}

static int cmd_compress(int argc, char **argv)
{
    cli o;
    parse("compress", argc, argv, &o);
    int nin = argc - optind;
    if (nin < 1)
        die_usage("compress: no input files%s", "");
    if (!o.output)
        die_usage("compress: give the archive with -o ARCHIVE%s", "");
    lmz_compress_opts co = {.c = o.c, .inputs = (const char *const *)argv + optind, .ninputs = nin,
                            .recursive = o.recursive, .output = o.output, .kind = o.kind,
                            .chunks_per_block = o.block_chunks, .codec = o.codec};
    lmz_stats st;
    lmz_err e;
    lmz_err_clear(&e);
    lmz_model *fitted = NULL;
    if (o.fit_sample && !o.fit_seconds)
        die_usage("compress: --fit-sample needs --fit%s", "");
    if (o.fit_seconds && cli_mpi_ranks())
        die_usage("compress: --fit is not available with MPI ranks%s", "");
    if (o.fit_seconds) {
        for (int i = 0; i < nin; i++)
            if (!strcmp(co.inputs[i], "-"))
                die_usage("compress: --fit reads the input twice, so it cannot read standard input%s", "");
        /* Refuse an existing archive before spending TIME on training. */
        if (!o.c.force && access(o.output, F_OK) == 0) {
            fprintf(stderr, "%s: %s: already exists (use -f to overwrite)\n", prog_cmd, o.output);
            return 1;
        }
        cli_fit_opts fo = {.inputs = co.inputs, .ninputs = nin, .recursive = o.recursive,
                           .kind = o.kind ? o.kind : "text", .model_spec = o.c.model_spec,
                           .model_dir = o.c.model_dir, .model_path = o.c.model_path,
                           .seconds = o.fit_seconds,
                           .sample_bytes = o.fit_sample ? o.fit_sample : (uint64_t)32 << 20,
                           .nthreads = o.c.nthreads, .progress = tty.enabled,
                           .verbose = o.c.verbose, .classical = o.codec == LMZ_CODEC_AUTO};
        if (o.codec == LMZ_CODEC_LZMA2 || o.codec == LMZ_CODEC_ZSTD)
            die_usage("compress: --fit trains a model, and --codec %s codes without one",
                      o.codec == LMZ_CODEC_LZMA2 ? "lzma2" : "zstd");
        if (cli_fit(&fo, &fitted, &e))
            return fail(&e);
        co.model = fitted;
    }
    /* a fitted model lives in memory, which the public API does not take */
    const lmz_params p = to_params(&o);
    lmz_status rc = cli_mpi_ranks() ? cli_mpi_compress(&co, &st, &e)
                    : fitted        ? lmz_compress(&co, &st, &e)
                                    : lmz_compress_files(co.inputs, (size_t)nin, o.output, &p, &st, &e);
    lmz_model_free(fitted);
    if (rc)
        return fail(&e);
    if (cli_mpi_rank() != 0)
        return 0;
    if (!o.quiet)
        rate_line(o.output, &st, st.raw_bytes, st.archive_bytes);
    if (o.c.verbose > 0)
        fprintf(stderr, "blocks: %llu model, %llu lzma2, %llu zstd, %llu stored\n",
                (unsigned long long)st.mode_blocks[0], (unsigned long long)st.mode_blocks[2],
                (unsigned long long)st.mode_blocks[3], (unsigned long long)st.mode_blocks[1]);
    return 0;
}

static const char *one_archive(int argc, char **argv, const char *cmd)
{
    if (argc - optind != 1)
        die_usage("%s: give exactly one archive", cmd);
    return argv[optind];
}

static int cmd_decompress(int argc, char **argv)
{
    cli o;
    parse("decompress", argc, argv, &o);
    /* Salvage reports each damaged block on stdout, as verify does, unless
     * stdout carries the data. */
    lmz_decompress_opts d = {.c = o.c, .archive = one_archive(argc, argv, "decompress"),
                             .output = o.output, .to_stdout = o.to_stdout,
                             .salvage = o.salvage, .report = o.to_stdout ? stderr : stdout};
    if (o.to_stdout && o.output)
        die_usage("decompress: -c and -o exclude each other%s", "");
    lmz_stats st;
    lmz_err e;
    lmz_err_clear(&e);
    /* -c and --salvage (a stream, a damage report) stay on the pipeline's
     * own call; the rest is the API's lmz_decompress_archive */
    const lmz_params p = to_params(&o);
    lmz_status rc = cli_mpi_ranks()           ? cli_mpi_decompress(&d, &st, &e)
                    : o.to_stdout || o.salvage ? lmz_decompress(&d, &st, &e)
                                               : lmz_decompress_archive(d.archive, o.output, &p, &st, &e);
    if (rc)
        return fail(&e);
    if (!o.quiet && !o.to_stdout && cli_mpi_rank() == 0)
        rate_line(d.archive, &st, st.payload_bytes, st.raw_bytes);
    return 0;
}

static int cmd_extract(int argc, char **argv)
{
    cli o;
    parse("extract", argc, argv, &o);
    lmz_extract_opts x = {.c = o.c, .archive = one_archive(argc, argv, "extract"), .output = o.output,
                          .to_stdout = o.to_stdout, .block = o.block, .offset = o.off, .length = o.len,
                          .member = o.member};
    if (o.have_block + o.have_range + o.have_member != 1)
        die_usage("extract: give exactly one of --block, --range, --member%s", "");
    x.what = o.have_block ? LMZ_EXTRACT_BLOCK : o.have_range ? LMZ_EXTRACT_RANGE : LMZ_EXTRACT_MEMBER;
    if (o.to_stdout && o.output)
        die_usage("extract: -c and -o exclude each other%s", "");
    if (!o.output && !o.to_stdout) {
        if (isatty(1))
            die_usage("extract: refusing to write binary data to a terminal; use -o FILE or -c%s", "");
        x.to_stdout = 1;
    }
    lmz_stats st;
    lmz_err e;
    lmz_err_clear(&e);
    if (cli_mpi_ranks() ? cli_mpi_extract(&x, &st, &e) : lmz_extract(&x, &st, &e))
        return fail(&e);
    if (o.c.verbose > 0 && cli_mpi_rank() == 0)
        fprintf(stderr, "extract: %llu bytes from %llu block(s) in %.2f s\n",
                (unsigned long long)st.raw_bytes, (unsigned long long)st.blocks, st.seconds);
    return 0;
}

static int cmd_list(int argc, char **argv)
{
    cli o;
    parse("list", argc, argv, &o);
    lmz_err e;
    lmz_err_clear(&e);
    const lmz_params p = to_params(&o);
    if (cli_list(one_archive(argc, argv, "list"), &p, o.c.verbose, stdout, &e))
        return fail(&e);
    return 0;
}

static void print_damage(void *ctx, uint64_t block, const lmz_error *why)
{
    (void)block;
    fprintf(ctx, "damaged: %s\n", why->msg);
}

static int cmd_verify(int argc, char **argv)
{
    cli o;
    parse("verify", argc, argv, &o);
    const char *a = one_archive(argc, argv, "verify");
    lmz_stats st;
    lmz_err e;
    lmz_err_clear(&e);
    if (cli_mpi_ranks()) {
        if (cli_mpi_verify(a, &o.c, o.full, stdout, &st, &e))
            return fail(&e);
        if (!o.quiet && cli_mpi_rank() == 0)
            fprintf(stderr, "%s: OK, %llu blocks%s\n", a, (unsigned long long)st.blocks,
                    o.full ? " decoded and checked" : " checked");
        return 0;
    }
    const lmz_params p = to_params(&o);
    lmz_archive *h = lmz_archive_open(a, &p, &e);
    if (!h)
        return fail(&e);
    /* each damaged block on stdout, so that stderr keeps its one error line */
    lmz_status rc = lmz_archive_verify(h, o.full, print_damage, stdout, &st, &e);
    lmz_archive_close(h);
    if (rc)
        return fail(&e);
    if (!o.quiet)
        fprintf(stderr, "%s: OK, %llu blocks%s\n", a, (unsigned long long)st.blocks,
                o.full ? " decoded and checked" : " checked");
    return 0;
}

int main(int argc, char **argv)
{
    cli_mpi_init(&argc, &argv);
    if (argc < 2) {
        fputs(usage_main, stderr);
        return 1;
    }
    const char *cmd = argv[1];
    static char name[64];
    snprintf(name, sizeof name, "lmz %s", cmd);
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        if (argc > 2)
            help(argv[2]);
        else
            fputs(usage_main, stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("lmz %s (archive format %d, arithmetic version %d)\n", LMZ_VERSION_STRING,
               LMZ_FORMAT_VERSION, LMZ_ARITH_VERSION);
        return 0;
    }
    prog_cmd = name;
    /* Under MPI the ranks share compress, decompress, extract and verify;
     * any other command runs on rank 0 alone. */
    if (cli_mpi_ranks() && cli_mpi_rank() != 0 && strcmp(cmd, "compress") &&
        strcmp(cmd, "decompress") && strcmp(cmd, "extract") && strcmp(cmd, "verify"))
        return 0;
    /* Shift so the subcommand sees itself as argv[0]. */
    argc--;
    argv++;
    if (!strcmp(cmd, "compress"))
        return cmd_compress(argc, argv);
    if (!strcmp(cmd, "decompress"))
        return cmd_decompress(argc, argv);
    if (!strcmp(cmd, "extract"))
        return cmd_extract(argc, argv);
    if (!strcmp(cmd, "list"))
        return cmd_list(argc, argv);
    if (!strcmp(cmd, "verify"))
        return cmd_verify(argc, argv);
    if (!strcmp(cmd, "prepare"))
        return cmd_prepare(argc, argv);
    if (!strcmp(cmd, "train"))
        return cmd_train(argc, argv);
    prog_cmd = "lmz";
    die_usage("unknown command '%s'", cmd);
    return 1;
}
