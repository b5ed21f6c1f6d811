/* bench_baselines: the classical compressors of the paper's Table 1 on one
 * prepared dataset, measured two ways:
 *
 *   whole    the stream compressed in one go;
 *   chunked  each 2048-byte chunk compressed alone, the codec's header
 *            counted once: from the sum of the chunk sizes, subtract the size
 *            of compressing a single zero byte for every chunk but the first
 *            (the rule of the paper's compress.py).
 *
 * Rates are compressed / raw in percent. Inputs are streamed (a piece at a
 * time), so a 1 GB dataset needs no 1 GB buffer.
 *
 * usage: bench_baselines [options] FILE
 *   --codecs LIST   comma-separated: gzip,lzma2,bzip2,zstd,png,flac (default all)
 *   --mode M        whole, chunked or both (default both)
 *   --chunk N       chunk size (default 2048)
 *   --limit BYTES   use only the first BYTES of FILE
 *   --partial P     the partial last chunk, if any: keep (compressed alone like
 *                   the others, default) or drop (from both modes)
 *   --label NAME    the data column (default: the file name)
 *   --flac-padding N  bytes of FLAC PADDING block (default 8192, as the flac
 *                   command writes; 0 for libFLAC's bare stream)
 *   --csv           CSV lines instead of a table; --no-header: without the header */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "baselines/codecs.h"

static const bl_codec *const all_codecs[] = {&bl_gzip, &bl_lzma2, &bl_bzip2,
                                             &bl_zstd, &bl_png,   &bl_flac};
#define NCODECS (sizeof all_codecs / sizeof all_codecs[0])

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "bench_baselines: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(1);
}

typedef struct result {
    uint64_t raw, bytes, header, chunks;
    double seconds;
} result;

/* One stream of n bytes from f's current position through codec c. */
static uint64_t one_stream(const bl_codec *c, void *st, FILE *f, const char *path, uint64_t n,
                           uint8_t *buf, size_t bufsize)
{
    if (c->begin(st, n))
        die("%s: cannot start the encoder", c->name);
    for (uint64_t left = n; left;) {
        size_t take = left < bufsize ? (size_t)left : bufsize;
        if (fread(buf, 1, take, f) != take)
            die("%s: read failed or file shrank", path);
        if (c->feed(st, buf, take))
            die("%s: encoding failed", c->name);
        left -= take;
    }
    uint64_t bytes;
    if (c->end(st, &bytes))
        die("%s: encoding failed at the end", c->name);
    return bytes;
}

static result run_whole(const bl_codec *c, void *st, FILE *f, const char *path, uint64_t n)
{
    static uint8_t buf[1 << 20];
    result r = {.raw = n, .chunks = 1};
    rewind(f);
    double t0 = now();
    r.bytes = one_stream(c, st, f, path, n, buf, sizeof buf);
    r.seconds = now() - t0;
    return r;
}

static result run_chunked(const bl_codec *c, void *st, FILE *f, const char *path, uint64_t n,
                          uint32_t chunk)
{
    static uint8_t buf[1 << 20];
    result r = {.raw = n};
    rewind(f);
    double t0 = now();
    for (uint64_t off = 0; off < n; off += chunk) {
        uint64_t len = n - off < chunk ? n - off : chunk;
        r.bytes += one_stream(c, st, f, path, len, buf, sizeof buf);
        r.chunks++;
    }
    r.seconds = now() - t0;
    /* The header: what one zero byte costs, counted for the first chunk only. */
    static const uint8_t zero = 0;
    if (c->begin(st, 1) || c->feed(st, &zero, 1) || c->end(st, &r.header))
        die("%s: encoding one byte failed", c->name);
    if (r.chunks > 1)
        r.bytes -= r.header * (r.chunks - 1);
    return r;
}

static void print_csv_row(const char *label, const bl_codec *c, const char *mode, const result *r)
{
    double mb = (double)r->raw / 1e6;
    printf("%s,%s,%s,%llu,%llu,%.4f,%llu,%llu,%.4f,%.4f\n", label, c->name, mode,
           (unsigned long long)r->raw, (unsigned long long)r->bytes,
           r->raw ? 100.0 * (double)r->bytes / (double)r->raw : 0.0,
           (unsigned long long)r->header, (unsigned long long)r->chunks, r->seconds,
           mb > 0 ? r->seconds / mb : 0.0);
}

int main(int argc, char **argv)
{
    static const struct option longs[] = {
        {"codecs", required_argument, 0, 'c'}, {"mode", required_argument, 0, 'm'},
        {"chunk", required_argument, 0, 'k'},  {"limit", required_argument, 0, 'l'},
        {"partial", required_argument, 0, 'p'}, {"label", required_argument, 0, 'L'},
        {"csv", no_argument, 0, 'C'},          {"no-header", no_argument, 0, 'H'},
        {"flac-padding", required_argument, 0, 'P'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *codecs = NULL, *mode = "both", *label = NULL;
    uint64_t limit = 0;
    uint32_t chunk = 2048;
    int drop_partial = 0, csv = 0, header = 1, ch;
    while ((ch = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (ch) {
        case 'c': codecs = optarg; break;
        case 'm': mode = optarg; break;
        case 'k': chunk = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'l': limit = strtoull(optarg, NULL, 10); break;
        case 'p':
            if (strcmp(optarg, "keep") && strcmp(optarg, "drop"))
                die("--partial is keep or drop, not '%s'", optarg);
            drop_partial = !strcmp(optarg, "drop");
            break;
        case 'L': label = optarg; break;
        case 'C': csv = 1; break;
        case 'H': header = 0; break;
        case 'P': bl_flac_padding = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'h':
            printf("usage: bench_baselines [--codecs gzip,lzma2,bzip2,zstd,png,flac] [--mode "
                   "whole|chunked|both]\n       [--chunk 2048] [--limit BYTES] [--partial "
                   "keep|drop] [--label NAME] [--flac-padding 8192]\n       [--csv [--no-header]] FILE\n");
            return 0;
        default: return 1;
        }
    }
    if (optind != argc - 1)
        die("give one input file%s", "");
    if (!chunk)
        die("--chunk must be positive%s", "");
    int whole = !strcmp(mode, "whole") || !strcmp(mode, "both");
    int chunked = !strcmp(mode, "chunked") || !strcmp(mode, "both");
    if (!whole && !chunked)
        die("--mode is whole, chunked or both, not '%s'", mode);
    const char *path = argv[optind];
    if (!label) {
        const char *slash = strrchr(path, '/');
        label = slash ? slash + 1 : path;
    }
    FILE *f = fopen(path, "rb");
    struct stat sb;
    if (!f || fstat(fileno(f), &sb) != 0)
        die("cannot open %s", path);
    uint64_t n = (uint64_t)sb.st_size;
    if (limit && limit < n)
        n = limit;
    if (drop_partial)
        n -= n % chunk;
    if (!n)
        die("%s: no data", path);

    const bl_codec *use[NCODECS];
    size_t nuse = 0;
    if (!codecs) {
        for (size_t i = 0; i < NCODECS; i++)
            use[nuse++] = all_codecs[i];
    } else {
        char *list = strdup(codecs);
        for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
            size_t i = 0;
            while (i < NCODECS && strcmp(tok, all_codecs[i]->name))
                i++;
            if (i == NCODECS)
                die("unknown codec '%s' (gzip, lzma2, bzip2, zstd, png, flac)", tok);
            if (nuse < NCODECS)
                use[nuse++] = all_codecs[i];
        }
        free(list);
    }
    if (!nuse)
        die("no codec in '%s'", codecs);

    if (csv && header)
        printf("data,codec,mode,raw_bytes,compressed_bytes,rate_pct,header_bytes,chunks,seconds,"
               "s_per_mb\n");
    if (!csv)
        printf("%s: %llu bytes, %llu chunks of %u%s\n\n%-14s %9s %9s %7s %9s %9s\n", label,
               (unsigned long long)n, (unsigned long long)((n + chunk - 1) / chunk), chunk,
               n % chunk ? " (the last one partial)" : "", "codec", "whole %", "chunked %",
               "header", "s/MB whl", "s/MB chk");
    for (size_t i = 0; i < nuse; i++) {
        const bl_codec *c = use[i];
        void *st = c->create();
        if (!st)
            die("%s: cannot create the encoder", c->name);
        result w = {0}, k = {0};
        if (whole)
            w = run_whole(c, st, f, path, n);
        if (chunked)
            k = run_chunked(c, st, f, path, n, chunk);
        c->destroy(st);
        if (csv) {
            if (whole)
                print_csv_row(label, c, "whole", &w);
            if (chunked)
                print_csv_row(label, c, "chunked", &k);
        } else {
            double mb = (double)n / 1e6;
            printf("%-14s %9.2f %9.2f %7llu %9.3f %9.3f\n", c->title,
                   whole ? 100.0 * (double)w.bytes / (double)n : 0.0,
                   chunked ? 100.0 * (double)k.bytes / (double)n : 0.0,
                   (unsigned long long)k.header, w.seconds / mb, k.seconds / mb);
        }
        fflush(stdout);
    }
    fclose(f);
    return 0;
}
