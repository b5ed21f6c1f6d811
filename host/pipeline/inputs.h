/* inputs.h (host/pipeline/, not public): the files a compress reads, in order, as one
 * raw stream. Member names are the paths as given, normalised: leading "/"
 * and "./" dropped; a path with a ".." component is stored by its base name
 * (it could not be recreated safely anyway). */
#ifndef LMZ_INPUTS_H
#define LMZ_INPUTS_H

#include <stdint.h>
#include <stdio.h>

#include "lmz_archive.h"
#include "lmz_error.h"

typedef struct lmz_inputs {
    lmz_member *members;  /* names, and offsets/sizes as actually read */
    char **paths;         /* filesystem paths; NULL entry = standard input */
    size_t n, cap;
    /* streaming state */
    size_t cur;
    FILE *f;
    uint64_t total;       /* bytes read so far */
    uint64_t expected;    /* sum of sizes from stat (progress only; 0 if unknown) */
} lmz_inputs;

/* Expand args (files, "-" for stdin, directories when recursive) into inputs.
 * Errors: missing file, a directory without -r, duplicate member names. */
lmz_status lmz_inputs_collect(lmz_inputs *in, const char *const *args, int nargs,
                              int recursive, lmz_err *err);
/* Read up to cap bytes, crossing file boundaries; *got < cap only at the end.
 * Records each member's offset and size as read. */
lmz_status lmz_inputs_read(lmz_inputs *in, uint8_t *buf, size_t cap, size_t *got, lmz_err *err);
void lmz_inputs_free(lmz_inputs *in);

#endif
