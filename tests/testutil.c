#include "testutil.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tu_failures = 0;

int tu_finish(const char *suite)
{
    if (tu_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", suite, tu_failures);
        return 1;
    }
    printf("%s: all checks passed\n", suite);
    return 0;
}

uint64_t tu_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void tu_fill_random(uint8_t *buf, size_t n, uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(tu_rand(&s) >> 56);
}

uint8_t *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf && len)
        *len = (size_t)n;
    return buf;
}

void tu_copy_file(const char *from, const char *to, size_t keep)
{
    size_t n = 0;
    uint8_t *b = tu_read_file(from, &n);
    FILE *f = fopen(to, "wb");
    if (b && f)
        fwrite(b, 1, keep < n ? keep : n, f);
    if (f)
        fclose(f);
    free(b);
}

int tu_file_equals(const char *path, const uint8_t *want, size_t n)
{
    size_t got_n = 0;
    uint8_t *got = tu_read_file(path, &got_n);
    const int same = got && got_n == n && memcmp(got, want, n) == 0;
    free(got);
    return same;
}

uint8_t *tu_read_data(const char *rel, size_t *len)
{
    char buf[4096];
    const char *p = tu_data_path(rel, buf, sizeof buf);
    return p ? tu_read_file(p, len) : NULL;
}

uint8_t *tu_read_data_at_least(const char *rel, size_t min, size_t *len)
{
    size_t n = 0;
    uint8_t *b = tu_read_data(rel, &n);
    if (!b || n < min) {
        printf("skipped: ../shared/data/%s not found\n", rel);
        free(b);
        return NULL;
    }
    *len = n;
    return b;
}

const char *tu_data_path(const char *rel, char *buf, size_t cap)
{
    const char *dir = getenv("LMZ_DATA_DIR");
    if (!dir)
        dir = "../shared/data";
    snprintf(buf, cap, "%s/%s", dir, rel);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

const char *tu_source_path(const char *rel, char *buf, size_t cap)
{
    const char *dir = getenv("LMZ_SOURCE_DIR");
    if (!dir)
        dir = "..";
    snprintf(buf, cap, "%s/%s", dir, rel);
    return buf;
}

char *tu_mkdtemp(void)
{
    const char *t = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/lmz-test-XXXXXX", t ? t : "/tmp");
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

char *tu_test_dir(void)
{
    char *d = tu_mkdtemp();
    if (!d) {
        fprintf(stderr, "cannot make a temporary directory\n");
        exit(1);
    }
    return d;
}

void tu_rmtree(const char *dir)
{
    if (!dir)
        return;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
}

lmz_status tu_membuf_write(void *ctx, const uint8_t *buf, size_t n, lmz_err *err)
{
    tu_membuf *m = ctx;
    if (m->n + n > m->cap) {
        size_t cap = (m->n + n) * 2;
        uint8_t *p = realloc(m->p, cap);
        if (!p)
            return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
        m->p = p;
        m->cap = cap;
    }
    memcpy(m->p + m->n, buf, n);
    m->n += n;
    return LMZ_OK;
}
