/* example.c: liblmz in a few lines (README.md, "Library").
 *
 *   cc example.c $(pkg-config --cflags --libs lmz) -o example
 *   ./example notes.lmz
 *
 * Compresses a buffer into an archive, reads a byte range back without
 * decoding the rest, and lists the members. */
#include <lmz.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "example.lmz";
    char text[6000];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = "the quick brown fox jumps over the lazy dog. "[i % 45];

    lmz_params p;
    lmz_params_init(&p);  /* defaults: the text model, codec auto */
    p.force = 1;          /* replace an earlier run's archive */
    lmz_error err;

    /* write: one member, streamed in two pieces */
    lmz_writer *w = lmz_writer_create(path, &p, &err);
    if (!w || lmz_writer_add(w, "fox.txt", text, 4000, &err) ||
        lmz_writer_add(w, NULL, text + 4000, sizeof text - 4000, &err) ||
        lmz_writer_finish(w, NULL, &err)) {
        fprintf(stderr, "example: %s (%s)\n", err.msg, lmz_status_name(err.code));
        lmz_writer_free(w);
        return 1;
    }
    lmz_writer_free(w);

    /* read: bytes 4090..4109, which straddle the two pieces */
    lmz_archive *a = lmz_archive_open(path, &p, &err);
    char back[20];
    if (!a || lmz_archive_read(a, 4090, sizeof back, back, &err)) {
        fprintf(stderr, "example: %s (%s)\n", err.msg, lmz_status_name(err.code));
        lmz_archive_close(a);
        return 1;
    }
    int same = memcmp(back, text + 4090, sizeof back) == 0;
    lmz_archive_meta m;
    lmz_archive_get_meta(a, &m, &err);
    for (uint64_t k = 0; k < lmz_archive_nmembers(a); k++) {
        lmz_member_info mi;
        if (lmz_archive_member(a, k, &mi, &err) == LMZ_OK)
            printf("%s: %llu bytes\n", mi.name, (unsigned long long)mi.size);
    }
    printf("%s: %llu -> %llu bytes with lmz %s; range read back %s\n", path,
           (unsigned long long)m.raw_size, (unsigned long long)m.payload_size, lmz_version(),
           same ? "equal" : "DIFFERENT");
    lmz_archive_close(a);
    return same ? 0 : 1;
}
