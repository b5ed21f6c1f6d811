/* names.c: which member names may be created under an output directory.
 *
 * A member name comes from an archive, which may be hostile: it must not
 * escape the directory it is extracted into, nor name something the
 * extraction cannot create as a plain path (docs/format.md, "Members"). */
#include "lmz_archive.h"

#include <string.h>

/* One '/'-separated component [s, s+len). */
static int component_safe(const char *s, size_t len)
{
    if (len == 0)
        return 0; /* "//", a leading or a trailing '/' */
    if (len == 1 && s[0] == '.')
        return 0;
    if (len == 2 && s[0] == '.' && s[1] == '.')
        return 0;
    return 1;
}

int lmz_member_name_safe(const char *name)
{
    if (!name)
        return 0;
    size_t len = strnlen(name, LMZ_MAX_MEMBER_NAME + 1);
    if (len == 0 || len > LMZ_MAX_MEMBER_NAME)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        /* Control characters would garble listings and terminals; a
         * backslash is a separator on other systems. */
        if (ch < 0x20 || ch == 0x7f || ch == '\\')
            return 0;
    }
    const char *start = name;
    for (;;) {
        const char *slash = strchr(start, '/');
        size_t clen = slash ? (size_t)(slash - start) : strlen(start);
        if (!component_safe(start, clen))
            return 0;
        if (!slash)
            return 1;
        start = slash + 1;
    }
}
