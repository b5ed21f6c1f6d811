/* selfdir.c: see selfdir.h. dladdr is a GNU extension (it names the
 * loaded object that holds an address), hence _GNU_SOURCE in this file
 * alone. */
#define _GNU_SOURCE
#include "selfdir.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int lmz_self_dir(char *buf, size_t cap)
{
    Dl_info info;
    if (!dladdr((void *)lmz_self_dir, &info) || !info.dli_fname || info.dli_fname[0] != '/')
        return -1;
    const char *slash = strrchr(info.dli_fname, '/');
    size_t len = (size_t)(slash - info.dli_fname);
    if (len + 1 > cap)
        return -1;
    memcpy(buf, info.dli_fname, len);
    buf[len] = '\0';
    return 0;
}
