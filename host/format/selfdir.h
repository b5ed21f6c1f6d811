/* selfdir.h (host/format/, not public): where lmz's own code lies on disk, so that
 * an installed lmz (the executable, or a program linked with liblmz.so)
 * finds the models installed beside it, wherever the prefix is. */
#ifndef LMZ_SELFDIR_H
#define LMZ_SELFDIR_H

#include <stddef.h>

/* The directory of the file (liblmz.so, or the executable that holds the
 * library's code) this function was loaded from, into buf: 0, or -1 when
 * it cannot be told. */
int lmz_self_dir(char *buf, size_t cap);

#endif
