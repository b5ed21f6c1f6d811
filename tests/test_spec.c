/* test_spec.c: the documents and the code say the same thing.
 *
 * docs/inference.md pins every lookup table of the arithmetic (version 1's
 * in lmz_tables.h, version 2's EXP8 in lmz_tables_v2.h) by its length and
 * XXH64; docs/format.md pins every built-in model by its hash. This test
 * reads those numbers out of the documents themselves (so neither side can
 * change alone) and recomputes them from kernels/lmz_tables.h and from the
 * built-in models:
 *
 *   inference.md: a table row  | `NAME` | ENTRIES | ... | `0x<16 hex digits>` |
 *   format.md:    a table row  | `random-...` | ... | `<32 hex digits>` |
 *
 * The table hash is XXH64 (seed 0) of the entries in index order, each as a
 * 4-byte little-endian two's-complement integer (the definition written in
 * inference.md). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "lmz_modelfile.h"
#include "lmz_tables.h"
#include "lmz_tables_v2.h"
#include "testutil.h"

/* XXH64 of n int32 values as 4-byte little-endian, whatever the host's byte
 * order. */
static uint64_t table_hash(const void *tab, size_t n, int is_signed)
{
    uint8_t *b = malloc(4 * n);
    if (!b)
        return 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t u = is_signed ? (uint32_t)((const int32_t *)tab)[i] : ((const uint32_t *)tab)[i];
        b[4 * i] = (uint8_t)u;
        b[4 * i + 1] = (uint8_t)(u >> 8);
        b[4 * i + 2] = (uint8_t)(u >> 16);
        b[4 * i + 3] = (uint8_t)(u >> 24);
    }
    uint64_t h = XXH64(b, 4 * n, 0);
    free(b);
    return h;
}

static char *read_doc(const char *rel)
{
    char path[4096];
    size_t n = 0;
    char *text = (char *)tu_read_file(tu_source_path(rel, path, sizeof path), &n);
    if (!text) {
        fprintf(stderr, "cannot read %s (set LMZ_SOURCE_DIR to the source tree)\n", path);
        return NULL;
    }
    char *z = realloc(text, n + 1);
    if (!z) {
        free(text);
        return NULL;
    }
    z[n] = '\0';
    return z;
}

/* The line of doc that starts with "| `key` |", or NULL. Only the first
 * such line counts: a second one would make the document ambiguous, which
 * is a failure too. */
static const char *find_row(const char *doc, const char *key, int *count)
{
    char pat[128];
    snprintf(pat, sizeof pat, "| `%s` |", key);
    const char *first = NULL;
    *count = 0;
    for (const char *p = doc; (p = strstr(p, pat)) != NULL; p++) {
        if (p == doc || p[-1] == '\n') {
            if (!first)
                first = p;
            ++*count;
        }
    }
    return first;
}

/* Copy of the row's text up to its end of line. */
static void row_text(const char *row, char *out, size_t cap)
{
    size_t n = strcspn(row, "\n");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, row, n);
    out[n] = '\0';
}

/* The first run of exactly `digits` hex digits in s that follows prefix
 * (e.g. "`0x") and is closed by a backquote; 0 on success. */
static int hex_after(const char *s, const char *prefix, int digits, char *out)
{
    for (const char *p = s; (p = strstr(p, prefix)) != NULL; p++) {
        const char *h = p + strlen(prefix);
        int k = 0;
        while (k < digits && isxdigit((unsigned char)h[k]))
            k++;
        if (k == digits && h[k] == '`') {
            memcpy(out, h, (size_t)digits);
            out[digits] = '\0';
            return 0;
        }
    }
    return -1;
}

static void check_table(const char *doc, const char *name, const void *tab, size_t n,
                        int is_signed)
{
    int rows = 0;
    const char *row = find_row(doc, name, &rows);
    if (rows != 1) {
        fprintf(stderr, "inference.md: %d rows for table %s (want exactly 1)\n", rows, name);
        tu_failures++;
        return;
    }
    char line[512], hex[17];
    row_text(row, line, sizeof line);
    /* The entry count is the second cell. */
    const char *cell = strchr(line + 1, '|');
    long entries = cell ? strtol(cell + 1, NULL, 10) : -1;
    if (entries != (long)n) {
        fprintf(stderr, "inference.md: %s has %ld entries in the doc, %zu in lmz_tables.h\n",
                name, entries, n);
        tu_failures++;
    }
    if (hex_after(line, "`0x", 16, hex) != 0) {
        fprintf(stderr, "inference.md: no `0x<16 hex digits>` in the row of %s: %s\n", name,
                line);
        tu_failures++;
        return;
    }
    const uint64_t doc_h = strtoull(hex, NULL, 16), code_h = table_hash(tab, n, is_signed);
    if (doc_h != code_h) {
        fprintf(stderr, "%s: XXH64 in inference.md 0x%016llx, of lmz_tables.h 0x%016llx\n", name,
                (unsigned long long)doc_h, (unsigned long long)code_h);
        tu_failures++;
    } else {
        printf("%-7s %5zu entries  XXH64 0x%016llx  (doc = code)\n", name, n,
               (unsigned long long)code_h);
    }
}

static void check_builtin(const char *doc, const char *name)
{
    int rows = 0;
    const char *row = find_row(doc, name, &rows);
    if (rows != 1) {
        fprintf(stderr, "format.md: %d rows for built-in model %s (want exactly 1)\n", rows, name);
        tu_failures++;
        return;
    }
    char line[512], doc_hex[33], code_hex[33];
    row_text(row, line, sizeof line);
    if (hex_after(line, "`", 32, doc_hex) != 0) {
        fprintf(stderr, "format.md: no `<32 hex digits>` hash in the row of %s: %s\n", name, line);
        tu_failures++;
        return;
    }
    lmz_model *m = NULL;
    lmz_err e;
    CHECK(lmz_model_builtin(name, &m, &e) == LMZ_OK);
    if (!m)
        return;
    lmz_model_hash_hex(m, code_hex);
    if (strcmp(doc_hex, code_hex) != 0) {
        fprintf(stderr, "%s: hash in format.md %s, built by lmz %s\n", name, doc_hex, code_hex);
        tu_failures++;
    } else {
        printf("%-12s %s  (doc = code)\n", name, code_hex);
    }
    lmz_model_free(m);
}

int main(void)
{
    char *inf = read_doc("docs/inference.md");
    CHECK(inf != NULL);
    if (inf) {
        check_table(inf, "GELU_T", LMZ_GELU_T, sizeof LMZ_GELU_T / sizeof LMZ_GELU_T[0], 1);
        check_table(inf, "EXP_HI", LMZ_EXP_HI, sizeof LMZ_EXP_HI / sizeof LMZ_EXP_HI[0], 0);
        check_table(inf, "EXP_LO", LMZ_EXP_LO, sizeof LMZ_EXP_LO / sizeof LMZ_EXP_LO[0], 0);
        /* arithmetic version 2's uint8 table, hashed like the others: each
         * entry widened to a 4-byte little-endian integer */
        uint32_t exp8[LMZ_EXP8_N];
        for (int i = 0; i < LMZ_EXP8_N; i++)
            exp8[i] = LMZ_EXP8[i];
        check_table(inf, "EXP8", exp8, LMZ_EXP8_N, 0);
    }
    char *fmt = read_doc("docs/format.md");
    CHECK(fmt != NULL);
    if (fmt) {
        check_builtin(fmt, "random-tiny");
        check_builtin(fmt, "random-200k");
        check_builtin(fmt, "random-800k");
        check_builtin(fmt, "random-3.2m");
    }
    free(inf);
    free(fmt);
    return tu_finish("spec");
}
