/* check.c: a program that knows lmz only from its installed header and
 * pkg-config (tests/install/install.sh builds it against the installed
 * liblmz.so and liblmz.a). It compresses a buffer into an archive, reads
 * random byte ranges back, lists the members, and checks an error path.
 *
 *   check DIR INPUT   writes DIR/api.lmz (defaults) and DIR/api-lm.lmz
 *                     (--codec lm --block-chunks 2) from INPUT's bytes as
 *                     member "input.txt", for install.sh to cmp with what
 *                     `lmz compress` writes. */
#include <lmz.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define EXPECT(c)                                                        \
    do {                                                                 \
        if (!(c)) {                                                      \
            fprintf(stderr, "check.c:%d: failed: %s\n", __LINE__, #c);   \
            failures++;                                                  \
        }                                                                \
    } while (0)

static unsigned char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(len > 0 ? (size_t)len : 1);
    *n = b ? fread(b, 1, (size_t)len, f) : 0;
    fclose(f);
    return b;
}

static void write_archive(const char *path, const lmz_params *p, const unsigned char *buf,
                          size_t n)
{
    lmz_error e;
    lmz_writer *w = lmz_writer_create(path, p, &e);
    EXPECT(w != NULL);
    /* streamed in uneven pieces: the archive must not care */
    for (size_t off = 0, step = 777; w && off < n; off += step, step = step * 3 % 5000 + 1)
        EXPECT(lmz_writer_add(w, "input.txt", buf + off, off + step <= n ? step : n - off, &e) ==
               LMZ_OK);
    EXPECT(w && lmz_writer_finish(w, NULL, &e) == LMZ_OK);
    lmz_writer_free(w);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: check DIR INPUT\n");
        return 2;
    }
    char path[4096], lm[4096];
    snprintf(path, sizeof path, "%s/api.lmz", argv[1]);
    snprintf(lm, sizeof lm, "%s/api-lm.lmz", argv[1]);
    size_t n = 0;
    unsigned char *in = read_all(argv[2], &n);
    EXPECT(in && n > 10000);
    if (!in)
        return 1;

    lmz_params p;
    lmz_params_init(&p);
    p.force = 1; /* install.sh runs this twice */
    write_archive(path, &p, in, n);
    p.codec = LMZ_CODEC_LM;
    p.chunks_per_block = 2;
    write_archive(lm, &p, in, n);

    /* random ranges back, from the archive of small blocks */
    lmz_error e;
    lmz_archive *a = lmz_archive_open(lm, NULL, &e);
    EXPECT(a != NULL);
    EXPECT(lmz_archive_raw_size(a) == n);
    unsigned char *buf = malloc(n);
    unsigned long long s = 12345;
    for (int i = 0; a && i < 25; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        size_t off = (size_t)(s >> 33) % n;
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        size_t len = (size_t)(s >> 33) % (n - off + 1);
        if (len > 6000)
            len = 6000;
        EXPECT(lmz_archive_read(a, off, len, buf, &e) == LMZ_OK);
        EXPECT(memcmp(buf, in + off, len) == 0);
    }
    EXPECT(lmz_archive_read(a, n, 1, buf, &e) == LMZ_ERR_RANGE);
    /* the members */
    EXPECT(lmz_archive_nmembers(a) == 1);
    lmz_member_info m;
    EXPECT(lmz_archive_member(a, 0, &m, &e) == LMZ_OK);
    EXPECT(!strcmp(m.name, "input.txt") && m.size == n && m.offset == 0);
    printf("member %s: %llu bytes\n", m.name, (unsigned long long)m.size);
    lmz_archive_close(a);

    /* an error path: the right code and one line naming the file */
    snprintf(path, sizeof path, "%s/missing/x.lmz", argv[1]);
    EXPECT(lmz_archive_open(path, NULL, &e) == NULL);
    EXPECT(e.code == LMZ_ERR_IO && !strcmp(lmz_status_name(e.code), "io"));
    EXPECT(strstr(e.msg, "missing/x.lmz") && !strchr(e.msg, '\n'));
    printf("error: %s: %s\n", lmz_status_name(e.code), e.msg);

    /* the installed models are on the library's search path: a missing
     * model's message names the directories searched */
    lmz_params q;
    lmz_params_init(&q);
    q.model = "no-such-model";
    EXPECT(lmz_coder_create(&q, &e) == NULL && e.code == LMZ_ERR_MODEL_MISSING);
    printf("model search: %s\n", e.msg);
    free(buf);
    free(in);
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}
