/* decompress.c: every member back, bit-exact, each file appearing only when
 * complete and checked.
 *
 * With salvage (lmz decompress --salvage) a damaged block does not stop the
 * run: every block that passes its checksums is written as usual, a damaged
 * block's raw bytes are written as zeros (so every member keeps its size and
 * every intact byte stays at its offset, which matters for fixed-size
 * records), and each damaged block is reported with the members and byte
 * ranges it covered. Nothing wrong is ever handed back as if it were right:
 * the zeros are named, and the run ends with LMZ_ERR_CORRUPT_BLOCK. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "outfile.h"
#include "rawcursor.h"

/* What a salvaging decompress keeps track of. */
typedef struct salvage {
    int on;
    FILE *report;
    const lmz_member *mem;
    size_t nm;
    uint64_t damaged;
    uint64_t first;          /* first damaged block */
} salvage;

/* Report damaged block b of r (err says why): its raw range and the part
 * of each member it covered, all written as zeros. */
static void report_damage(salvage *sv, const lmz_reader *r, uint64_t b, const lmz_err *why)
{
    if (sv->damaged++ == 0)
        sv->first = b;
    if (!sv->report)
        return;
    const lmz_index_entry *e = &r->index[b];
    uint64_t lo = e->raw_offset, hi = e->raw_offset + e->raw_len;
    fprintf(sv->report, "damaged: block %llu (raw bytes %llu..%llu) written as zeros",
            (unsigned long long)b, (unsigned long long)lo, (unsigned long long)(hi - 1));
    /* members overlapping [lo, hi): the first one ending past lo, by bisection */
    size_t a = 0, z = sv->nm;
    while (a < z) {
        size_t mid = a + (z - a) / 2;
        if (sv->mem[mid].offset + sv->mem[mid].size <= lo)
            a = mid + 1;
        else
            z = mid;
    }
    const char *sep = ": ";
    for (size_t k = a; k < sv->nm && sv->mem[k].offset < hi; k++) {
        const lmz_member *m = &sv->mem[k];
        if (m->size == 0)
            continue;
        uint64_t s = lo > m->offset ? lo - m->offset : 0;
        uint64_t t = (hi < m->offset + m->size ? hi : m->offset + m->size) - m->offset;
        fprintf(sv->report, "%s%s bytes %llu..%llu", sep, m->name, (unsigned long long)s,
                (unsigned long long)(t - 1));
        sep = ", ";
    }
    fprintf(sv->report, " (%s)\n", why->msg);
    fflush(sv->report);
}

static void on_damage(void *ctx, const lmz_reader *r, uint64_t b, const lmz_err *why)
{
    report_damage(ctx, r, b, why);
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int path_exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

/* Copy size bytes of the raw stream into o. */
static lmz_status copy_out(lmz_rawcursor *cur, lmz_outfile *o, uint64_t size,
                           lmz_err *err)
{
    while (size) {
        const uint8_t *p;
        uint32_t got;
        lmz_status rc = lmz_rawcursor_next(cur, size, &p, &got, err);
        if (rc)
            return rc;
        if (!got)
            return lmz_err_set(err, LMZ_ERR_CORRUPT_INDEX, "archive ends before its members do");
        rc = lmz_outfile_write(o, p, got, err);
        if (rc)
            return rc;
        size -= got;
    }
    return LMZ_OK;
}

/* Target path of member k. */
static char *member_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
    return p;
}

lmz_status lmz_decompress(const lmz_decompress_opts *o, lmz_stats *st, lmz_err *err)
{
    lmz_stats local;
    if (!st)
        st = &local;
    memset(st, 0, sizeof *st);
    double t0 = lmz_now();
    lmz_reader r;
    lmz_status rc = lmz_reader_open(&r, o->archive, err);
    if (rc)
        return rc;
    size_t nm = 0;
    const lmz_member *mem = lmz_afile_members(r.a, &nm);
    const char *out = o->output ? o->output : ".";
    size_t olen = strlen(out);
    /* One member and -o naming something that is not a directory: a file. */
    int file_mode = !o->to_stdout && o->output && nm == 1 && !is_dir(out) && out[olen - 1] != '/';
    int dir_mode = !o->to_stdout && !file_mode;

    /* Refuse before decoding anything: unsafe names, existing outputs. */
    for (size_t k = 0; k < nm && !rc && dir_mode; k++) {
        if (!lmz_member_name_safe(mem[k].name)) {
            rc = lmz_err_set(err, LMZ_ERR_UNSAFE_NAME,
                             "member '%s' would escape the output directory; refusing", mem[k].name);
            break;
        }
        char *p = member_path(out, mem[k].name);
        if (!p)
            rc = lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
        else if (!o->c.force && path_exists(p))
            rc = lmz_err_set(err, LMZ_ERR_EXISTS, "%s: already exists (use -f to overwrite)", p);
        free(p);
    }
    if (!rc && file_mode && !o->c.force && path_exists(out))
        rc = lmz_err_set(err, LMZ_ERR_EXISTS, "%s: already exists (use -f to overwrite)", out);
    if (!rc && dir_mode && path_exists(out) && !is_dir(out))
        rc = lmz_err_set(err, LMZ_ERR_IO, "%s: exists and is not a directory", out);
    if (!rc)
        rc = lmz_reader_load_model(&r, &o->c, err);

    salvage sv = {o->salvage, o->report, mem, nm, 0, 0};
    lmz_progress pg;
    lmz_progress_start(&pg, o->c.progress, o->c.progress_ctx, "decompress");
    lmz_rawcursor cur;
    memset(&cur, 0, sizeof cur);
    if (!rc)
        rc = lmz_rawcursor_init(&cur, &r, lmz_reader_batch(&r, &o->c, r.nblocks), &pg, sv.on ? on_damage : NULL,
                                &sv, err);
    if (!rc && o->to_stdout) {
        lmz_outfile of;
        rc = lmz_outfile_open(&of, NULL, 1, 0, 0, err);
        if (!rc)
            rc = copy_out(&cur, &of, r.info->raw_size, err);
        if (!rc)
            rc = lmz_outfile_commit(&of, err);
        else
            lmz_outfile_abort(&of);
    }
    for (size_t k = 0; k < nm && !rc && !o->to_stdout; k++) {
        char *p = file_mode ? strdup(out) : member_path(out, mem[k].name);
        if (!p) {
            rc = lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
            break;
        }
        lmz_outfile of;
        rc = lmz_outfile_open(&of, p, o->c.force, dir_mode, mem[k].mode, err);
        if (!rc)
            rc = copy_out(&cur, &of, mem[k].size, err);
        if (!rc)
            rc = lmz_outfile_commit(&of, err);
        else
            lmz_outfile_abort(&of);
        free(p);
    }
    lmz_progress_end(&pg);
    if (!rc && sv.damaged)
        rc = lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK,
                         "%s: %llu of %llu blocks damaged (first: block %llu); their bytes were "
                         "written as zeros",
                         o->archive, (unsigned long long)sv.damaged,
                         (unsigned long long)r.nblocks, (unsigned long long)sv.first);
    st->raw_bytes = cur.done;
    st->blocks = cur.block;
    st->blocks_damaged = sv.damaged;
    st->payload_bytes = r.info ? r.info->payload_size : 0;
    lmz_rawcursor_free(&cur);
    lmz_reader_close(&r);
    st->seconds = lmz_now() - t0;
    return rc;
}
