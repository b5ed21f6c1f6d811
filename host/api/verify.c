/* verify.c: checking an open archive, and writing all its members out
 * (lmz.h). */
#include <string.h>

#include "api_internal.h"

lmz_status lmz_archive_verify(lmz_archive *a, int full, lmz_damage_fn on_damage, void *ctx,
                              lmz_stats *st, lmz_error *err)
{
    if (st)
        memset(st, 0, sizeof *st);
    if (!a)
        return lmz_api_null(err, "lmz_archive_verify", "archive");
    pthread_mutex_lock(&a->lock);
    /* lmz_damage_fn and lmz_verify_report_fn are one signature (lmz_err is
     * lmz_error) */
    lmz_status rc = lmz_reader_verify(&a->r, &a->c, full, on_damage, ctx, st, err);
    pthread_mutex_unlock(&a->lock);
    return rc;
}

lmz_status lmz_decompress_archive(const char *path, const char *outdir, const lmz_params *p,
                                  lmz_stats *st, lmz_error *err)
{
    if (st)
        memset(st, 0, sizeof *st);
    if (!path)
        return lmz_api_null(err, "lmz_decompress_archive", "path");
    lmz_api_params ap;
    lmz_status rc = lmz_api_params_copy(&ap, p, err);
    if (rc)
        return rc;
    lmz_decompress_opts o;
    memset(&o, 0, sizeof o);
    lmz_api_common_opts(&ap, &o.c);
    o.archive = path;
    o.output = outdir;
    rc = lmz_decompress(&o, st, err);
    lmz_api_params_free(&ap);
    return rc;
}
