/* test_prepare.c: `lmz prepare` end to end and the parts of datasets/ that
 * are not about one format: text, seeded random bytes, the sink's limit,
 * directory order, and the command line (output, manifest, -f, errors).
 * The command-line part runs the lmz binary next to the tests (../lmz from
 * the test's working directory, or $LMZ_BIN) and is skipped without it. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <png.h>

#include "lmz_datasets.h"
#include "testutil.h"


static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(b, 1, n, f);
        fclose(f);
    }
}

static void test_kinds(void)
{
    CHECK_EQ_INT(lmz_ds_kind_parse("text"), LMZ_DS_TEXT);
    CHECK_EQ_INT(lmz_ds_kind_parse("image"), LMZ_DS_IMAGE);
    CHECK_EQ_INT(lmz_ds_kind_parse("audio"), LMZ_DS_AUDIO);
    CHECK_EQ_INT(lmz_ds_kind_parse("random"), LMZ_DS_RANDOM);
    CHECK_EQ_INT(lmz_ds_kind_parse("bytes"), -1);
    CHECK_EQ_INT(lmz_ds_kind_parse(NULL), -1);
    CHECK(!strcmp(lmz_ds_kind_name(LMZ_DS_IMAGE), "image"));
}

static void test_sink_limit(void)
{
    tu_membuf m = {0};
    lmz_err e;
    lmz_ds_sink s = {.write = tu_membuf_write, .ctx = &m, .limit = 10};
    uint8_t b[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    CHECK_EQ_INT(lmz_ds_emit(&s, b, 8, &e), LMZ_OK);
    CHECK(!s.full);
    CHECK_EQ_INT(lmz_ds_emit(&s, b, 8, &e), LMZ_OK); /* cut to 2 */
    CHECK(s.full);
    CHECK_EQ_INT(lmz_ds_emit(&s, b, 8, &e), LMZ_OK); /* ignored */
    CHECK_EQ_INT(m.n, 10);
    CHECK_EQ_INT(s.written, 10);
    CHECK_EQ_INT(m.p[9], 2);
    free(m.p);
}

/* Text: the bytes as they are, also across pieces larger than a read. */
static void test_text(const char *dir)
{
    char p[512];
    snprintf(p, sizeof p, "%s/t.txt", dir);
    size_t n = 200000;
    uint8_t *b = malloc(n);
    tu_fill_random(b, n, 7);
    write_bytes(p, b, n);
    tu_membuf m = {0};
    lmz_err e;
    lmz_ds_info in;
    lmz_ds_sink s = {.write = tu_membuf_write, .ctx = &m};
    CHECK_EQ_INT(lmz_ds_prepare_file(LMZ_DS_TEXT, p, &s, &in, &e), LMZ_OK);
    CHECK_EQ_INT(m.n, n);
    CHECK_EQ_INT(in.bytes, n);
    CHECK(m.n == n && memcmp(m.p, b, n) == 0);
    free(m.p);
    CHECK_EQ_INT(lmz_ds_prepare_file(LMZ_DS_TEXT, "/nonexistent/t", &s, &in, &e), LMZ_ERR_IO);
    CHECK(strstr(e.msg, "/nonexistent/t") != NULL);
    free(b);
}

/* Random: splitmix64 from the seed, each output little-endian. The first
 * output for seed 0 is 0xe220a8397b1dcdaf (the published splitmix64 value). */
static void test_random(void)
{
    tu_membuf m = {0}, m2 = {0};
    lmz_err e;
    lmz_ds_info in;
    lmz_ds_sink s = {.write = tu_membuf_write, .ctx = &m};
    CHECK_EQ_INT(lmz_ds_random(0, 100003, &s, &in, &e), LMZ_OK);
    CHECK_EQ_INT(m.n, 100003);
    static const uint8_t first[8] = {0xaf, 0xcd, 0x1d, 0x7b, 0x39, 0xa8, 0x20, 0xe2};
    CHECK(m.n >= 8 && memcmp(m.p, first, 8) == 0);
    lmz_ds_sink s2 = {.write = tu_membuf_write, .ctx = &m2};
    CHECK_EQ_INT(lmz_ds_random(0, 5000, &s2, &in, &e), LMZ_OK);
    CHECK(memcmp(m.p, m2.p, 5000) == 0); /* a prefix: same seed, same bytes */
    free(m2.p);
    m2 = (tu_membuf){0};
    lmz_ds_sink s3 = {.write = tu_membuf_write, .ctx = &m2};
    CHECK_EQ_INT(lmz_ds_random(1, 5000, &s3, &in, &e), LMZ_OK);
    CHECK(memcmp(m.p, m2.p, 5000) != 0);
    free(m.p);
    free(m2.p);
}

/* Directories: name order, hidden files skipped, extensions by kind. */
static void test_list_dir(const char *dir)
{
    char d[512], p[600];
    snprintf(d, sizeof d, "%s/imgs", dir);
    mkdir(d, 0755);
    const char *names[] = {"b.png", "a.JPEG", "c.txt", ".hidden.png", "B.jpg"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", d, names[i]);
        write_bytes(p, "x", 1);
    }
    snprintf(p, sizeof p, "%s/sub", d);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/sub/d.png", d);
    write_bytes(p, "x", 1);
    char **paths = NULL;
    size_t n = 0, cap = 0;
    lmz_err e;
    CHECK_EQ_INT(lmz_ds_list_dir(d, LMZ_DS_IMAGE, 0, &paths, &n, &cap, &e), LMZ_OK);
    CHECK_EQ_INT(n, 3);
    if (n == 3) {
        CHECK(strstr(paths[0], "/B.jpg") != NULL); /* bytewise: 'B' < 'a' < 'b' */
        CHECK(strstr(paths[1], "/a.JPEG") != NULL);
        CHECK(strstr(paths[2], "/b.png") != NULL);
    }
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    n = 0;
    CHECK_EQ_INT(lmz_ds_list_dir(d, LMZ_DS_IMAGE, 1, &paths, &n, &cap, &e), LMZ_OK);
    CHECK_EQ_INT(n, 4);
    if (n == 4)
        CHECK(strstr(paths[3], "/sub/d.png") != NULL);
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    n = 0;
    CHECK_EQ_INT(lmz_ds_list_dir(d, LMZ_DS_TEXT, 0, &paths, &n, &cap, &e), LMZ_OK);
    CHECK_EQ_INT(n, 4); /* text takes every file */
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    CHECK_EQ_INT(lmz_ds_list_dir("/nonexistent", LMZ_DS_TEXT, 0, &paths, &n, &cap, &e),
                 LMZ_ERR_IO);
}

/* ---- the command line ---- */

static char lmz_bin[600];

/* Run a shell command; stderr to dir/err. Returns the exit status. */
static int sh(const char *dir, const char *fmt, const char *a, const char *b)
{
    char cmd[4096], line[2048];
    snprintf(line, sizeof line, fmt, a, b);
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>err </dev/null", dir, lmz_bin, line);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *read_err(const char *dir)
{
    char p[600];
    snprintf(p, sizeof p, "%s/err", dir);
    size_t n;
    uint8_t *b = tu_read_file(p, &n);
    if (!b)
        return strdup("");
    char *s = realloc(b, n + 1);
    s[n] = '\0';
    return s;
}

static int exists(const char *dir, const char *name)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

/* A 65 x 33 gray PNG with pixel x + 2y: one patch (a column and a row
 * cropped), whose first row is 0, 1, 2, ... 63. */
static int write_gray_png(const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        fclose(f);
        return 0;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, 65, 33, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    uint8_t row[65];
    for (int y = 0; y < 33; y++) {
        for (int x = 0; x < 65; x++)
            row[x] = (uint8_t)(x + 2 * y);
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return fclose(f) == 0;
}

static int no_temp_files(const char *dir)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -q lmz-tmp", dir);
    return system(cmd) != 0;
}

static void test_cli(const char *dir)
{
    char p[600];
    snprintf(p, sizeof p, "%s/one.png", dir);
    CHECK(write_gray_png(p));
    snprintf(p, sizeof p, "%s/two.png", dir);
    CHECK(write_gray_png(p));

    CHECK_EQ_INT(sh(dir, "prepare image one.png two.png -o out.bin -q", "", ""), 0);
    size_t n;
    snprintf(p, sizeof p, "%s/out.bin", dir);
    uint8_t *b = tu_read_file(p, &n);
    CHECK_EQ_INT(n, 2 * 2048);
    if (b && n == 4096) {
        CHECK_EQ_INT(b[0], 0);
        CHECK_EQ_INT(b[63], 63);
        CHECK_EQ_INT(b[64], 2);    /* row 1 starts at x 0, y 1 */
        CHECK_EQ_INT(b[2048], 0);  /* the second image */
    }
    free(b);
    /* The manifest: a header and one line per source. */
    snprintf(p, sizeof p, "%s/out.bin.manifest.tsv", dir);
    b = tu_read_file(p, &n);
    CHECK(b != NULL);
    if (b) {
        char *s = realloc(b, n + 1);
        s[n] = '\0';
        CHECK(strstr(s, "source\tformat\toffset\tbytes\tfirst_chunk\tchunks") != NULL);
        CHECK(strstr(s, "one.png\tpng\t0\t2048\t0\t1\t65\t33\t1") != NULL);
        CHECK(strstr(s, "two.png\tpng\t2048\t2048\t1\t1\t65\t33\t1") != NULL);
        free(s);
    }

    /* No overwrite without -f; with -f it is replaced. */
    CHECK_EQ_INT(sh(dir, "prepare image one.png -o out.bin", "", ""), 1);
    char *err = read_err(dir);
    CHECK(strncmp(err, "lmz prepare: ", 13) == 0);
    CHECK(strstr(err, "already exists") != NULL);
    free(err);
    CHECK_EQ_INT(sh(dir, "prepare image one.png -o out.bin -f", "", ""), 0);
    snprintf(p, sizeof p, "%s/out.bin", dir);
    free(tu_read_file(p, &n));
    CHECK_EQ_INT(n, 2048);
    err = read_err(dir);
    CHECK(strstr(err, "1 image source -> out.bin: 2048 bytes (1 chunks)") != NULL);
    free(err);

    /* A bad source: exit 1, one line naming it, no output, no temp file. */
    snprintf(p, sizeof p, "%s/bad.png", dir);
    write_bytes(p, "\x89PNG\r\n\x1a\n\0\0", 10);
    CHECK_EQ_INT(sh(dir, "prepare image one.png bad.png -o bad.bin", "", ""), 1);
    err = read_err(dir);
    CHECK(strstr(err, "lmz prepare: bad.png: truncated PNG") == err);
    CHECK(strchr(err, '\n') == err + strlen(err) - 1);
    free(err);
    CHECK(!exists(dir, "bad.bin"));
    CHECK(!exists(dir, "bad.bin.manifest.tsv"));
    CHECK(no_temp_files(dir));

    /* Random: --size, --seed, the same bytes as the library's. */
    CHECK_EQ_INT(sh(dir, "prepare random --size 3k --seed 0 -o r.bin -q", "", ""), 0);
    snprintf(p, sizeof p, "%s/r.bin", dir);
    b = tu_read_file(p, &n);
    CHECK_EQ_INT(n, 3000);
    CHECK(b && b[0] == 0xaf && b[7] == 0xe2);
    free(b);

    /* Text with a limit; a directory in name order. */
    snprintf(p, sizeof p, "%s/txt", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/txt/b", dir);
    write_bytes(p, "BBBB", 4);
    snprintf(p, sizeof p, "%s/txt/a", dir);
    write_bytes(p, "AAA", 3);
    CHECK_EQ_INT(sh(dir, "prepare text txt -o t.bin -q", "", ""), 0);
    snprintf(p, sizeof p, "%s/t.bin", dir);
    b = tu_read_file(p, &n);
    CHECK(b && n == 7 && memcmp(b, "AAABBBB", 7) == 0);
    free(b);
    CHECK_EQ_INT(sh(dir, "prepare text txt --limit 5 -o t5.bin -q --no-manifest", "", ""), 0);
    snprintf(p, sizeof p, "%s/t5.bin", dir);
    b = tu_read_file(p, &n);
    CHECK(b && n == 5 && memcmp(b, "AAABB", 5) == 0);
    free(b);
    CHECK(!exists(dir, "t5.bin.manifest.tsv"));

    /* Usage errors: one line, exit 1. */
    CHECK_EQ_INT(sh(dir, "prepare sound x -o y", "", ""), 1);
    err = read_err(dir);
    CHECK(strstr(err, "lmz prepare: unknown kind 'sound'") == err);
    free(err);
    CHECK_EQ_INT(sh(dir, "prepare random -o y", "", ""), 1);
    err = read_err(dir);
    CHECK(strstr(err, "--size") != NULL);
    free(err);
    CHECK_EQ_INT(sh(dir, "prepare image one.png", "", ""), 1);
    CHECK_EQ_INT(sh(dir, "prepare image missing.png -o y", "", ""), 1);
    err = read_err(dir);
    CHECK(strstr(err, "missing.png") != NULL);
    free(err);
    CHECK_EQ_INT(sh(dir, "prepare --help >/dev/null", "", ""), 0);
}

int main(void)
{
    char *dir = tu_test_dir();
    test_kinds();
    test_sink_limit();
    test_text(dir);
    test_random();
    test_list_dir(dir);
    const char *env = getenv("LMZ_BIN");
    snprintf(lmz_bin, sizeof lmz_bin, "%s", env ? env : "");
    if (!env) {
        char cwd[512];
        if (getcwd(cwd, sizeof cwd))
            snprintf(lmz_bin, sizeof lmz_bin, "%s/../lmz", cwd);
    }
    if (access(lmz_bin, X_OK) == 0)
        test_cli(dir);
    else
        printf("prepare: %s not found; command-line checks skipped\n", lmz_bin);
    tu_rmtree(dir);
    free(dir);
    return tu_finish("prepare");
}
