/* fuzz_replay.h: main() of a regression test that replays a fuzz target's
 * corpus (tests/test_regress_<target>.c).
 *
 * A regression test #includes one fuzz/fuzz_<target>.c and this header, and
 * calls fz_replay_main("<target>", argc, argv): every file of
 * tests/fuzz-corpus/<target>/ (the seeds, and every input that ever crashed
 * the target, named crash-*, leak-*, oom-* or timeout-* as libFuzzer named
 * it) goes through the same LLVMFuzzerTestOneInput the fuzzer runs, in name
 * order. A broken invariant aborts; a sanitizer build also catches memory
 * errors and leaks. Files given on the command line are replayed instead
 * (to reproduce one input by hand). */
#ifndef LMZ_FUZZ_REPLAY_H
#define LMZ_FUZZ_REPLAY_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fz_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int fz_replay_one(const char *path)
{
    size_t n = 0;
    uint8_t *data = fz_read_file(path, &n);
    if (!data) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        return 1;
    }
    /* An exact-size copy, so that a read past the input is caught by ASan
     * as it would be under libFuzzer. */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) {
        free(data);
        return 1;
    }
    memcpy(exact, data, n);
    free(data);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int fz_replay_main(const char *target, int argc, char **argv)
{
    if (argc > 1) {
        int bad = 0;
        for (int i = 1; i < argc; i++) {
            fprintf(stderr, "replay: %s\n", argv[i]);
            bad |= fz_replay_one(argv[i]);
        }
        return bad;
    }
    const char *src = getenv("LMZ_SOURCE_DIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/fuzz-corpus/%s", src ? src : "..", target);
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: no corpus at %s\n", dir);
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn)
                abort();
            names = nn;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n == 0) {
        fprintf(stderr, "replay: %s is empty\n", dir);
        return 1;
    }
    qsort(names, n, sizeof *names, fz_cmp_names);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        fprintf(stderr, "replay %s: %s\n", target, names[i]);
        bad |= fz_replay_one(path);
        free(names[i]);
    }
    free(names);
    printf("%s: %zu input(s) replayed, %s\n", target, n, bad ? "FAILED" : "all passed");
    return bad;
}

#endif
