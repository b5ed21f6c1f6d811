/* ds_text.c: text is the bytes as they are (enwik8/enwik9 are plain files),
 * copied in pieces so any size streams through. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lmz_datasets.h"

lmz_status lmz_ds_text(const char *path, lmz_ds_sink *sink, lmz_ds_info *info, lmz_err *err)
{
    memset(info, 0, sizeof *info);
    info->format = "text";
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f)
        return lmz_err_set(err, LMZ_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    uint8_t buf[1 << 16];
    uint64_t before = sink->written;
    lmz_status rc = LMZ_OK;
    while (!sink->full) {
        size_t n = fread(buf, 1, sizeof buf, f);
        if (n == 0) {
            if (ferror(f))
                rc = lmz_err_set(err, LMZ_ERR_IO, "%s: read failed: %s", path, strerror(errno));
            break;
        }
        if ((rc = lmz_ds_emit(sink, buf, n, err)))
            break;
    }
    if (!is_stdin)
        fclose(f);
    info->bytes = sink->written - before;
    return rc;
}
