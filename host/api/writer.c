/* writer.c: compressing files and buffers into an archive (lmz.h). Both
 * feed the compressor's one stream (cstream.h), so the archive is the one
 * `lmz compress` writes for the same bytes, names and options. */
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "cstream.h"

struct lmz_writer {
    lmz_api_params ap;
    lmz_compress_opts o;
    char *archive;
    lmz_cstream *cs;
    lmz_member *members;
    size_t n, cap;
    int failed;          /* a call failed: only lmz_writer_free is accepted */
};

static void compress_opts(const lmz_api_params *ap, const char *archive, lmz_compress_opts *o)
{
    memset(o, 0, sizeof *o);
    lmz_api_common_opts(ap, &o->c);
    o->output = archive;
    o->kind = ap->p.kind;
    o->chunks_per_block = ap->p.chunks_per_block;
    o->codec = ap->p.codec;
    o->recursive = ap->p.recursive;
}

lmz_status lmz_compress_files(const char *const *paths, size_t npaths, const char *archive,
                              const lmz_params *p, lmz_stats *st, lmz_error *err)
{
    if (st)
        memset(st, 0, sizeof *st);
    if (!archive)
        return lmz_api_null(err, "lmz_compress_files", "archive");
    if (!paths && npaths)
        return lmz_api_null(err, "lmz_compress_files", "paths");
    if (npaths > 0x7fffffff)
        return lmz_err_set(err, LMZ_ERR_USAGE, "lmz_compress_files: too many paths");
    for (size_t k = 0; k < npaths; k++)
        if (!paths[k])
            return lmz_err_set(err, LMZ_ERR_USAGE, "lmz_compress_files: path %zu is NULL", k);
    lmz_api_params ap;
    lmz_status rc = lmz_api_params_copy(&ap, p, err);
    if (rc)
        return rc;
    lmz_compress_opts o;
    compress_opts(&ap, archive, &o);
    o.inputs = paths;
    o.ninputs = (int)npaths;
    rc = lmz_compress(&o, st, err);
    lmz_api_params_free(&ap);
    return rc;
}

lmz_writer *lmz_writer_create(const char *archive, const lmz_params *p, lmz_error *err)
{
    if (!archive) {
        lmz_api_null(err, "lmz_writer_create", "archive");
        return NULL;
    }
    lmz_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->archive = strdup(archive))) {
        free(w);
        lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
        return NULL;
    }
    lmz_status rc = lmz_api_params_copy(&w->ap, p, err);
    if (!rc) {
        compress_opts(&w->ap, w->archive, &w->o);
        rc = lmz_cstream_create(&w->o, &w->cs, err);
    }
    if (!rc)
        rc = lmz_cstream_start(w->cs, 0, 0, err);
    if (rc) {
        lmz_writer_free(w);
        return NULL;
    }
    return w;
}

/* Start member name at the current end of the stream. */
static lmz_status new_member(lmz_writer *w, const char *name, lmz_err *err)
{
    if (!lmz_member_name_safe(name))
        return lmz_err_set(err, LMZ_ERR_UNSAFE_NAME,
                           "member name '%s' is not a safe relative path", name);
    /* unique names, as compress demands of its inputs: two members of one
     * name could not both be recreated */
    for (size_t k = 0; k < w->n; k++)
        if (!strcmp(w->members[k].name, name))
            return lmz_err_set(err, LMZ_ERR_USAGE, "member '%s' was already added", name);
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        lmz_member *m = realloc(w->members, cap * sizeof *m);
        if (!m)
            return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
        w->members = m;
        w->cap = cap;
    }
    lmz_member *m = &w->members[w->n];
    memset(m, 0, sizeof *m);
    if (!(m->name = strdup(name)))
        return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
    m->offset = lmz_cstream_bytes(w->cs);
    m->mode = 0644;
    w->n++;
    return LMZ_OK;
}

lmz_status lmz_writer_add(lmz_writer *w, const char *member, const void *buf, size_t len,
                          lmz_error *err)
{
    if (!w)
        return lmz_api_null(err, "lmz_writer_add", "writer");
    if (!buf && len)
        return lmz_api_null(err, "lmz_writer_add", "buf");
    if (w->failed || !w->cs)
        return lmz_err_set(err, LMZ_ERR_USAGE,
                           "lmz_writer_add: the writer failed or finished before; free it");
    lmz_status rc = LMZ_OK;
    int cont = w->n && (!member || !strcmp(member, w->members[w->n - 1].name));
    if (!cont && !member)
        rc = lmz_err_set(err, LMZ_ERR_USAGE, "lmz_writer_add: the first member needs a name");
    else if (!cont)
        rc = new_member(w, member, err);
    if (!rc)
        rc = lmz_cstream_write(w->cs, buf, len, err);
    if (!rc)
        w->members[w->n - 1].size += len;
    if (rc && rc != LMZ_ERR_USAGE && rc != LMZ_ERR_UNSAFE_NAME)
        w->failed = 1; /* the stream itself failed: nothing more can go right */
    return rc;
}

lmz_status lmz_writer_finish(lmz_writer *w, lmz_stats *st, lmz_error *err)
{
    if (st)
        memset(st, 0, sizeof *st);
    if (!w)
        return lmz_api_null(err, "lmz_writer_finish", "writer");
    if (w->failed || !w->cs)
        return lmz_err_set(err, LMZ_ERR_USAGE,
                           "lmz_writer_finish: the writer failed or finished before; free it");
    lmz_status rc = lmz_cstream_finish(w->cs, w->members, w->n, st, err);
    if (rc)
        w->failed = 1;
    else
        w->cs = NULL; /* finish freed it; the archive is in place */
    return rc;
}

void lmz_writer_free(lmz_writer *w)
{
    if (!w)
        return;
    lmz_cstream_free(w->cs); /* not finished: the temporary file goes */
    for (size_t k = 0; k < w->n; k++)
        free(w->members[k].name);
    free(w->members);
    lmz_api_params_free(&w->ap);
    free(w->archive);
    free(w);
}
