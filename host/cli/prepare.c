/* prepare.c: `lmz prepare KIND SOURCE... -o OUT`, the paper's datasets.
 *
 * Runs each source through datasets/ (text as it is, images to grayscale
 * 32x64 patches, 16-bit audio to 8-bit chunks, seeded random bytes) into one
 * output file, and writes OUT.manifest.tsv beside it: one line per source with
 * the chunks it became. Both appear only when complete (temporary file, then
 * rename), and neither replaces an existing file without -f. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_args.h"
#include "lmz_datasets.h"
#include "outfile.h"
#include "cli_progress.h"
#include "progress.h"

static const char usage[] =
    "usage: lmz prepare KIND SOURCE... -o OUT [options]\n"
    "       lmz prepare random --size BYTES [--seed N] -o OUT [options]\n"
    "\n"
    "Make a dataset in the representation of \"Language Modeling Is Compression\".\n"
    "The output is a new dataset: images and audio lose information on the way.\n"
    "Sources are taken in the order given; a directory gives its files in name\n"
    "order (only .jpg/.jpeg/.png for image, .wav/.flac for audio).\n"
    "\n"
    "kinds:\n"
    "  text     the bytes as they are ('-' reads standard input)\n"
    "  image    JPEG/PNG; grayscale by the truncated mean of R, G, B; 32x64 patches\n"
    "           (32 rows, 64 columns, remainder cropped), each 2048 bytes row-major\n"
    "  audio    16-bit mono WAV/FLAC; 8 bits per sample (high byte + 128); each file\n"
    "           cut into 2048-byte chunks, its partial last chunk dropped\n"
    "  random   seeded pseudo-random bytes (splitmix64)\n"
    "\n"
    "  -o, --output FILE   the dataset ('-': standard output, then no manifest)\n"
    "  -r, --recursive     also walk subdirectories of a SOURCE directory\n"
    "      --limit BYTES   stop after BYTES of output (image and audio: rounded down\n"
    "                      to whole 2048-byte chunks); suffixes k M G (1000s)\n"
    "      --size BYTES    random: how many bytes (required)\n"
    "      --seed N        random: the seed (default 0)\n"
    "      --no-manifest   do not write OUT.manifest.tsv\n"
    "  -f, --force         overwrite existing output\n"
    "  -q, --quiet         no summary, no warnings, no progress\n"
    "      --no-progress   no progress display (it is shown only on a terminal)\n"
    "  -h, --help          this help\n";

static int usage_error(const char *fmt, const char *arg)
{
    return cli_usage_error("prepare", fmt, arg);
}

/* Tabs, newlines and backslashes in a name would break the TSV. */
static void put_field(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\t')
            fputs("\\t", f);
        else if (*s == '\n')
            fputs("\\n", f);
        else if (*s == '\\')
            fputs("\\\\", f);
        else
            fputc(*s, f);
    }
}

typedef struct prep {
    lmz_outfile out;
    lmz_progress prog;
    uint64_t in_done, in_total; /* input bytes of the sources finished, of all */
    uint64_t out_bytes, src_start;
    int text;                   /* text: output bytes are input bytes */
} prep;

static lmz_status write_out(void *ctx, const uint8_t *buf, size_t n, lmz_err *err)
{
    prep *p = ctx;
    lmz_status rc = lmz_outfile_write(&p->out, buf, n, err);
    p->out_bytes += n;
    /* Within a text file (enwik9 is one file) progress moves with the bytes;
     * images and audio files are small and count when finished. */
    uint64_t done = p->in_done + (p->text ? p->out_bytes - p->src_start : 0);
    lmz_progress_update(&p->prog, done, p->in_total, p->out_bytes);
    return rc;
}

static void manifest_line(FILE *m, const char *src, const lmz_ds_info *in, uint64_t offset)
{
    uint64_t first = offset / LMZ_DS_CHUNK;
    uint64_t chunks = in->bytes ? (offset + in->bytes - 1) / LMZ_DS_CHUNK - first + 1 : 0;
    put_field(m, src);
    fprintf(m, "\t%s\t%llu\t%llu\t%llu\t%llu\t", in->format ? in->format : "?",
            (unsigned long long)offset, (unsigned long long)in->bytes, (unsigned long long)first,
            (unsigned long long)chunks);
    if (in->width)
        fprintf(m, "%u\t%u\t%u", in->width, in->height, in->channels);
    else
        fputs("\t\t", m);
    if (in->sample_rate || in->samples)
        fprintf(m, "\t%u\t%llu\t%llu\n", in->sample_rate, (unsigned long long)in->samples,
                (unsigned long long)in->dropped);
    else
        fputs("\t\t\t\n", m);
}

/* Expand directories into their files; plain files and "-" stay as given. */
static int collect_sources(int n, char **args, lmz_ds_kind kind, int recursive, char ***paths,
                           size_t *np)
{
    size_t cap = 0;
    *paths = NULL;
    *np = 0;
    for (int i = 0; i < n; i++) {
        struct stat st;
        lmz_err e;
        lmz_err_clear(&e);
        if (strcmp(args[i], "-") != 0 && stat(args[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            size_t before = *np;
            if (lmz_ds_list_dir(args[i], kind, recursive, paths, np, &cap, &e)) {
                fprintf(stderr, "lmz prepare: %s\n", e.msg);
                return 0;
            }
            if (*np == before)
                fprintf(stderr, "lmz prepare: warning: %s: no %s files in it\n", args[i],
                        lmz_ds_kind_name(kind));
            continue;
        }
        if (strcmp(args[i], "-") != 0 && access(args[i], R_OK) != 0) {
            fprintf(stderr, "lmz prepare: %s: %s\n", args[i], strerror(errno));
            return 0;
        }
        if (*np == cap) {
            cap = cap ? 2 * cap : 64;
            char **g = realloc(*paths, cap * sizeof *g);
            if (!g)
                return 0;
            *paths = g;
        }
        if (!((*paths)[*np] = strdup(args[i])))
            return 0;
        (*np)++;
    }
    return 1;
}

static void free_sources(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    return strcmp(path, "-") != 0 && stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static void warn_empty(const char *src, const lmz_ds_info *in, lmz_ds_kind kind)
{
    if (kind == LMZ_DS_IMAGE)
        fprintf(stderr,
                "lmz prepare: warning: %s: a %ux%u image is smaller than one 32x64 patch; "
                "it gives nothing\n",
                src, in->width, in->height);
    else if (kind == LMZ_DS_AUDIO)
        fprintf(stderr,
                "lmz prepare: warning: %s: %llu samples, fewer than one 2048-sample chunk; "
                "it gives nothing\n",
                src, (unsigned long long)in->samples);
}

int cmd_prepare(int argc, char **argv)
{
    enum { OPT_LIMIT = 1000, OPT_SIZE, OPT_SEED, OPT_NO_MANIFEST, OPT_NO_PROGRESS };
    static const struct option longs[] = {
        {"output", required_argument, 0, 'o'},   {"force", no_argument, 0, 'f'},
        {"quiet", no_argument, 0, 'q'},          {"help", no_argument, 0, 'h'},
        {"recursive", no_argument, 0, 'r'},      {"limit", required_argument, 0, OPT_LIMIT},
        {"size", required_argument, 0, OPT_SIZE}, {"seed", required_argument, 0, OPT_SEED},
        {"no-manifest", no_argument, 0, OPT_NO_MANIFEST},
        {"no-progress", no_argument, 0, OPT_NO_PROGRESS}, {0, 0, 0, 0}};
    const char *output = NULL;
    int force = 0, quiet = 0, recursive = 0, no_manifest = 0, no_progress = 0, have_size = 0;
    uint64_t limit = 0, size = 0, seed = 0;
    char msg[256];
    opterr = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, ":o:fqhr", longs, NULL)) != -1) {
        switch (ch) {
        case 'o': output = optarg; break;
        case 'f': force = 1; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(usage, stdout); return 0;
        case 'r': recursive = 1; break;
        case OPT_LIMIT:
            if (!cli_parse_u64(optarg, "--limit", "a byte count", 1, UINT64_MAX, CLI_SUFFIX,
                               &limit, msg, sizeof msg))
                return usage_error("%s", msg);
            break;
        case OPT_SIZE:
            if (!cli_parse_u64(optarg, "--size", "a byte count", 0, UINT64_MAX, CLI_SUFFIX, &size,
                               msg, sizeof msg))
                return usage_error("%s", msg);
            have_size = 1;
            break;
        case OPT_SEED: {
            char *end;
            errno = 0;
            seed = strtoull(optarg, &end, 0);
            if (!*optarg || *end || errno || *optarg == '-')
                return usage_error("bad number for --seed: '%s'", optarg);
            break;
        }
        case OPT_NO_MANIFEST: no_manifest = 1; break;
        case OPT_NO_PROGRESS: no_progress = 1; break;
        case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return usage_error("give a KIND: text, image, audio or random%s", "");
    int k = lmz_ds_kind_parse(argv[optind]);
    if (k < 0)
        return usage_error("unknown kind '%s' (text, image, audio or random)", argv[optind]);
    lmz_ds_kind kind = (lmz_ds_kind)k;
    int nargs = argc - optind - 1;
    char **args = argv + optind + 1;
    if (!output)
        return usage_error("give the output with -o OUT%s", "");
    if (kind == LMZ_DS_RANDOM) {
        if (nargs)
            return usage_error("random takes no sources, got '%s'", args[0]);
        if (!have_size)
            return usage_error("random needs --size BYTES%s", "");
    } else {
        if (!nargs)
            return usage_error("%s: no sources given", lmz_ds_kind_name(kind));
        if (have_size)
            return usage_error("--size is for random only%s", "");
    }
    int to_stdout = strcmp(output, "-") == 0;
    if (to_stdout && isatty(1))
        return usage_error("refusing to write a dataset to a terminal; use -o FILE%s", "");
    /* Image and audio datasets are whole chunks; a limit keeps them so. */
    if (limit && (kind == LMZ_DS_IMAGE || kind == LMZ_DS_AUDIO)) {
        limit -= limit % LMZ_DS_CHUNK;
        if (!limit)
            return usage_error("--limit is below one 2048-byte chunk%s", "");
    }

    char **srcs = NULL;
    size_t nsrc = 0;
    if (kind != LMZ_DS_RANDOM && !collect_sources(nargs, args, kind, recursive, &srcs, &nsrc)) {
        free_sources(srcs, nsrc);
        return 1;
    }
    if (kind != LMZ_DS_RANDOM && !nsrc) {
        free_sources(srcs, nsrc);
        fprintf(stderr, "lmz prepare: no %s sources found\n", lmz_ds_kind_name(kind));
        return 1;
    }

    lmz_err e;
    lmz_err_clear(&e);
    prep p;
    memset(&p, 0, sizeof p);
    lmz_outfile man;
    memset(&man, 0, sizeof man);
    char *man_path = NULL;
    int with_manifest = !to_stdout && !no_manifest;
    if (with_manifest) {
        size_t n = strlen(output) + 16;
        man_path = malloc(n);
        if (man_path)
            snprintf(man_path, n, "%s.manifest.tsv", output);
    }
    /* Open both first, so an existing manifest stops us before any work. */
    if (lmz_outfile_open(&p.out, output, force, 0, 0644, &e) ||
        (with_manifest && lmz_outfile_open(&man, man_path, force, 0, 0644, &e))) {
        fprintf(stderr, "lmz prepare: %s\n", e.msg);
        lmz_outfile_abort(&p.out);
        free(man_path);
        free_sources(srcs, nsrc);
        return 1;
    }
    if (with_manifest) {
        fprintf(man.f, "# lmz prepare %s -> %s: %d-byte chunks; one line per source, in output order.\n",
                lmz_ds_kind_name(kind), output, LMZ_DS_CHUNK);
        fprintf(man.f, "# offset, bytes: where its bytes are in the output; first_chunk, chunks: the\n"
                       "# chunks they touch (text sources may share a chunk with their neighbours).\n");
        fputs("source\tformat\toffset\tbytes\tfirst_chunk\tchunks\twidth\theight\tchannels\t"
              "sample_rate\tsamples\tdropped_samples\n",
              man.f);
    }

    for (size_t i = 0; i < nsrc; i++)
        p.in_total += file_size(srcs[i]);
    lmz_ds_sink sink = {.write = write_out, .ctx = &p, .limit = limit};
    cli_progress tty;
    cli_progress_init(&tty, !quiet && !no_progress && isatty(2));
    lmz_progress_start(&p.prog, cli_progress_fn, &tty, "prepare");
    lmz_status rc = LMZ_OK;
    size_t used = 0;
    p.text = kind == LMZ_DS_TEXT;
    if (kind == LMZ_DS_RANDOM) {
        lmz_ds_info in;
        rc = lmz_ds_random(seed, size, &sink, &in, &e);
        if (!rc && with_manifest) {
            char name[64];
            snprintf(name, sizeof name, "random:seed=%llu", (unsigned long long)seed);
            manifest_line(man.f, name, &in, 0);
        }
    }
    for (size_t i = 0; i < nsrc && !rc && !sink.full; i++) {
        lmz_ds_info in;
        uint64_t offset = sink.written;
        p.src_start = p.out_bytes;
        rc = lmz_ds_prepare_file(kind, srcs[i], &sink, &in, &e);
        if (rc)
            break;
        used++;
        if (with_manifest)
            manifest_line(man.f, srcs[i], &in, offset);
        if (!in.bytes && !quiet && !sink.full)
            warn_empty(srcs[i], &in, kind);
        p.in_done += file_size(srcs[i]);
        lmz_progress_update(&p.prog, p.in_done, p.in_total, sink.written);
    }
    lmz_progress_end(&p.prog);
    if (!rc)
        rc = lmz_outfile_commit(&p.out, &e);
    else
        lmz_outfile_abort(&p.out);
    if (with_manifest) {
        if (!rc)
            rc = lmz_outfile_commit(&man, &e);
        else
            lmz_outfile_abort(&man);
    }
    if (rc) {
        fprintf(stderr, "lmz prepare: %s\n", e.msg[0] ? e.msg : lmz_status_name(rc));
    } else if (!quiet) {
        if (kind == LMZ_DS_RANDOM)
            fprintf(stderr, "lmz prepare: random seed %llu -> %s: %llu bytes\n",
                    (unsigned long long)seed, output, (unsigned long long)sink.written);
        else
            fprintf(stderr, "lmz prepare: %zu %s source%s -> %s: %llu bytes (%llu chunks)%s\n",
                    used, lmz_ds_kind_name(kind), used == 1 ? "" : "s", output,
                    (unsigned long long)sink.written,
                    (unsigned long long)((sink.written + LMZ_DS_CHUNK - 1) / LMZ_DS_CHUNK),
                    sink.full ? ", stopped at --limit" : "");
    }
    free(man_path);
    free_sources(srcs, nsrc);
    return rc ? 1 : 0;
}
