/* mpi_read.c: lmz decompress, extract and verify over MPI ranks
 * (lmz_mpi.h). Each rank decodes the blocks of its part of the raw range
 * and writes them with pwrite into the temporary files that rank 0 created
 * (io/lmz_atomic.h); rank 0 renames them into place once every rank is done
 * (each rank has made its writes durable with fsync first). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lmz_atomic.h"
#include "mpi_internal.h"
#include "pipeline_internal.h"
#include "progress.h"
#include "window.h"

/* One output file of the raw stream: raw bytes [off, off + size) of the
 * stream go to tmp at 0.. . */
typedef struct outspan {
    uint64_t off, size;
    char *tmp;
} outspan;

/* What a rank's decoded bytes go to: positional writes into the outputs. */
typedef struct pwriter {
    const outspan *out;
    size_t n, k;   /* outputs; the one fd is open on */
    int fd;
    uint64_t pos;  /* raw offset of the next byte */
} pwriter;

static lmz_status pw_close(pwriter *p, lmz_err *err)
{
    if (p->fd < 0)
        return LMZ_OK;
    int bad = fsync(p->fd) != 0 && errno != EINVAL;
    int e = errno;
    bad |= close(p->fd) != 0;
    p->fd = -1;
    if (bad)
        return lmz_err_set(err, LMZ_ERR_IO, "%s: write failed: %s", p->out[p->k].tmp, strerror(e));
    return LMZ_OK;
}

static lmz_status pw_sink(void *ctx, const uint8_t *buf, size_t n, lmz_err *err)
{
    pwriter *p = ctx;
    while (n) {
        while (p->k < p->n && p->out[p->k].off + p->out[p->k].size <= p->pos) {
            lmz_status rc = pw_close(p, err);
            if (rc)
                return rc;
            p->k++;
        }
        if (p->k == p->n)
            return lmz_err_set(err, LMZ_ERR_CORRUPT_INDEX, "archive holds bytes past its members");
        const outspan *o = &p->out[p->k];
        if (p->fd < 0) {
            p->fd = open(o->tmp, O_WRONLY);
            if (p->fd < 0)
                return lmz_err_set(err, LMZ_ERR_IO, "%s: cannot open: %s", o->tmp, strerror(errno));
        }
        uint64_t at = p->pos - o->off, left = o->size - at;
        size_t m = n < left ? n : (size_t)left;
        ssize_t w = pwrite(p->fd, buf, m, (off_t)at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return lmz_err_set(err, LMZ_ERR_IO, "%s: write failed: %s", o->tmp,
                               w < 0 ? strerror(errno) : "no space");
        buf += w;
        n -= (size_t)w;
        p->pos += (uint64_t)w;
    }
    return LMZ_OK;
}

/* Decode raw [off, off + len) of the archive, this rank's part of it, into
 * the outputs. */
static lmz_status decode_part(MPI_Comm comm, lmz_reader *r, const lmz_common_opts *c,
                              uint64_t off, uint64_t len, const outspan *out, size_t nout,
                              uint64_t *done, lmz_err *err)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    uint64_t block_bytes = lmz_reader_block_bytes(r), lo, hi;
    lmz_mpi_bounds(off, len, block_bytes, size, rank, &lo, &hi);
    *done = 0;
    if (lo >= hi)
        return LMZ_OK;
    lmz_status rc = LMZ_OK;
    if (!r->backend)
        rc = lmz_reader_load_model(r, c, err);
    lmz_window w;
    memset(&w, 0, sizeof w);
    if (!rc) {
        uint64_t nb = lmz_reader_block_of(r, hi - 1) + 1 - lmz_reader_block_of(r, lo);
        rc = lmz_window_init(&w, r, lmz_reader_batch(r, c, nb), err);
    }
    pwriter p = {out, nout, 0, -1, lo};
    if (!rc)
        rc = lmz_window_read_range(&w, lo, hi - lo, pw_sink, &p, NULL, err);
    lmz_err e2;
    lmz_status rc2 = pw_close(&p, &e2);
    if (!rc && rc2) {
        rc = rc2;
        *err = e2;
    }
    lmz_window_free(&w);
    if (!rc)
        *done = hi - lo;
    return rc;
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

static char *member_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
    return p;
}

/* Rank 0's outputs, their temporary files and commit. */
typedef struct outputs {
    lmz_atomic *files;  /* rank 0 */
    outspan *span;      /* every rank */
    size_t n;
} outputs;

static void outputs_free(outputs *o, int abort_files)
{
    for (size_t k = 0; k < o->n; k++) {
        if (o->files && abort_files)
            lmz_atomic_abort(&o->files[k]);
        if (o->span && (!o->files))
            free(o->span[k].tmp); /* others' copies; rank 0's belong to files */
    }
    free(o->files);
    free(o->span);
    memset(o, 0, sizeof *o);
}

/* Rank 0 opens (creates) the temporary file of every output; every rank
 * gets their names. paths[k] may be NULL on ranks other than 0. */
static lmz_status outputs_open(MPI_Comm comm, outputs *o, size_t n, char *const *paths,
                               const uint64_t *off, const uint64_t *size, const uint32_t *mode,
                               int force, int mkdirs, lmz_err *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    memset(o, 0, sizeof *o);
    o->n = n;
    o->span = calloc(n ? n : 1, sizeof *o->span);
    if (rank == 0)
        o->files = calloc(n ? n : 1, sizeof *o->files);
    lmz_status rc = o->span && (rank != 0 || o->files) ? LMZ_OK
                                                       : lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
    unsigned flags = (force ? LMZ_ATOMIC_FORCE : 0) | (mkdirs ? LMZ_ATOMIC_MKDIRS : 0);
    for (size_t k = 0; k < n && !rc && rank == 0; k++) {
        rc = lmz_atomic_open(&o->files[k], paths[k], flags, mode[k], err);
        if (rc == LMZ_ERR_EXISTS)
            lmz_err_set(err, rc, "%s: already exists (use -f to overwrite)", paths[k]);
    }
    rc = lmz_mpi_agree(comm, rc, err);
    if (rc) {
        if (o->files)
            for (size_t k = 0; k < n; k++)
                lmz_atomic_abort(&o->files[k]);
        free(o->files);
        free(o->span);
        memset(o, 0, sizeof *o);
        return rc;
    }
    int bad = 0;
    for (size_t k = 0; k < n; k++) {
        o->span[k].off = off[k];
        o->span[k].size = size[k];
        o->span[k].tmp = rank == 0 ? o->files[k].tmp : NULL;
        bad |= lmz_mpi_bcast_str(comm, 0, &o->span[k].tmp) != 0;
    }
    return lmz_mpi_agree(comm, bad ? lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory") : LMZ_OK, err);
}

/* After the ranks' writes: rank 0 renames every output into place, or
 * removes them all when some rank failed (rc, agreed). */
static lmz_status outputs_finish(MPI_Comm comm, outputs *o, lmz_status rc, lmz_err *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    lmz_status agreed = rc; /* the same on every rank */
    if (rank == 0 && o->files) {
        for (size_t k = 0; k < o->n; k++) {
            if (!rc)
                rc = lmz_atomic_commit(&o->files[k], err);
            else
                lmz_atomic_abort(&o->files[k]);
        }
    }
    if (!agreed)
        rc = lmz_mpi_agree(comm, rc, err);
    outputs_free(o, 1);
    return rc;
}

/* Run fn on rank 0 alone (standard output, salvage); the others wait for
 * its result. */
#define ON_RANK0(call)                                                                             \
    do {                                                                                           \
        lmz_status r0_ = LMZ_OK;                                                                   \
        if (rank == 0)                                                                             \
            r0_ = (call);                                                                          \
        return lmz_mpi_agree(comm, r0_, err);                                                      \
    } while (0)

lmz_status lmz_mpi_decompress(MPI_Comm comm, const lmz_decompress_opts *o, lmz_stats *st,
                              lmz_err *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    lmz_stats local;
    if (!st)
        st = &local;
    memset(st, 0, sizeof *st);
    if (o->to_stdout || o->salvage)
        ON_RANK0(lmz_decompress(o, st, err));
    double t0 = lmz_now();
    lmz_reader r;
    lmz_status rc = lmz_reader_open(&r, o->archive, err);
    if ((rc = lmz_mpi_agree(comm, rc, err)) != LMZ_OK) {
        if (!r.a)
            return rc;
        lmz_reader_close(&r);
        return rc;
    }
    size_t nm = 0;
    const lmz_member *mem = lmz_afile_members(r.a, &nm);
    const char *out = o->output ? o->output : ".";
    size_t olen = strlen(out);
    int file_mode = o->output && nm == 1 && !is_dir(out) && out[olen - 1] != '/';
    int dir_mode = !file_mode;
    char **paths = calloc(nm ? nm : 1, sizeof *paths);
    uint64_t *off = calloc(nm ? nm : 1, sizeof *off), *size = calloc(nm ? nm : 1, sizeof *size);
    uint32_t *mode = calloc(nm ? nm : 1, sizeof *mode);
    if (!paths || !off || !size || !mode)
        rc = lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
    /* rank 0 checks, as the serial decompress does, before decoding anything */
    for (size_t k = 0; k < nm && !rc; k++) {
        off[k] = mem[k].offset;
        size[k] = mem[k].size;
        mode[k] = mem[k].mode;
        if (rank != 0)
            continue;
        if (dir_mode && !lmz_member_name_safe(mem[k].name)) {
            rc = lmz_err_set(err, LMZ_ERR_UNSAFE_NAME,
                             "member '%s' would escape the output directory; refusing", mem[k].name);
            break;
        }
        paths[k] = file_mode ? strdup(out) : member_path(out, mem[k].name);
        if (!paths[k])
            rc = lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
        else if (!o->c.force && path_exists(paths[k]))
            rc = lmz_err_set(err, LMZ_ERR_EXISTS, "%s: already exists (use -f to overwrite)", paths[k]);
    }
    if (!rc && rank == 0 && dir_mode && path_exists(out) && !is_dir(out))
        rc = lmz_err_set(err, LMZ_ERR_IO, "%s: exists and is not a directory", out);
    rc = lmz_mpi_agree(comm, rc, err);
    outputs outs;
    memset(&outs, 0, sizeof outs);
    if (!rc)
        rc = outputs_open(comm, &outs, nm, paths, off, size, mode, o->c.force, dir_mode, err);
    uint64_t done = 0;
    if (!rc) {
        rc = decode_part(comm, &r, &o->c, 0, r.info->raw_size, outs.span, outs.n, &done, err);
        rc = lmz_mpi_agree(comm, rc, err);
        rc = outputs_finish(comm, &outs, rc, err);
    }
    unsigned long long d = done, sum = 0;
    MPI_Allreduce(&d, &sum, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, comm);
    st->raw_bytes = sum;
    st->blocks = rc ? 0 : r.nblocks;
    st->payload_bytes = r.info ? r.info->payload_size : 0;
    for (size_t k = 0; paths && k < nm; k++)
        free(paths[k]);
    free(paths);
    free(off);
    free(size);
    free(mode);
    lmz_reader_close(&r);
    st->seconds = lmz_now() - t0;
    return rc;
}

/* The raw range [off, off+len) an extract names (as extract.c). */
static lmz_status resolve_range(const lmz_extract_opts *o, lmz_reader *r, uint64_t *off,
                                uint64_t *len, lmz_err *err)
{
    const lmz_archive_info *info = r->info;
    switch (o->what) {
    case LMZ_EXTRACT_BLOCK:
        if (o->block >= r->nblocks)
            return lmz_err_set(err, LMZ_ERR_RANGE, "block %llu does not exist (the archive has %llu)",
                               (unsigned long long)o->block, (unsigned long long)r->nblocks);
        *off = r->index[o->block].raw_offset;
        *len = r->index[o->block].raw_len;
        return LMZ_OK;
    case LMZ_EXTRACT_RANGE:
        if (o->offset > info->raw_size || o->length > info->raw_size - o->offset)
            return lmz_err_set(err, LMZ_ERR_RANGE,
                               "range %llu:%llu is outside the archive's %llu bytes",
                               (unsigned long long)o->offset, (unsigned long long)o->length,
                               (unsigned long long)info->raw_size);
        *off = o->offset;
        *len = o->length;
        return LMZ_OK;
    case LMZ_EXTRACT_MEMBER: {
        size_t nm = 0;
        const lmz_member *m = lmz_afile_members(r->a, &nm);
        for (size_t k = 0; k < nm; k++)
            if (!strcmp(m[k].name, o->member)) {
                *off = m[k].offset;
                *len = m[k].size;
                return LMZ_OK;
            }
        return lmz_err_set(err, LMZ_ERR_RANGE, "no member named '%s' in the archive", o->member);
    }
    }
    return lmz_err_set(err, LMZ_ERR_USAGE, "extract: nothing to extract");
}

lmz_status lmz_mpi_extract(MPI_Comm comm, const lmz_extract_opts *o, lmz_stats *st, lmz_err *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    lmz_stats local;
    if (!st)
        st = &local;
    memset(st, 0, sizeof *st);
    if (o->to_stdout || !o->output || !strcmp(o->output, "-"))
        ON_RANK0(lmz_extract(o, st, err));
    double t0 = lmz_now();
    lmz_reader r;
    lmz_status rc = lmz_reader_open(&r, o->archive, err);
    if ((rc = lmz_mpi_agree(comm, rc, err)) != LMZ_OK) {
        if (r.a)
            lmz_reader_close(&r);
        return rc;
    }
    uint64_t off = 0, len = 0;
    rc = lmz_mpi_agree(comm, resolve_range(o, &r, &off, &len, err), err);
    outputs outs;
    memset(&outs, 0, sizeof outs);
    char *path = (char *)o->output;
    uint32_t mode = 0644;
    if (!rc)
        rc = outputs_open(comm, &outs, 1, &path, &off, &len, &mode, o->c.force, 0, err);
    uint64_t done = 0;
    if (!rc) {
        rc = decode_part(comm, &r, &o->c, off, len, outs.span, outs.n, &done, err);
        rc = lmz_mpi_agree(comm, rc, err);
        rc = outputs_finish(comm, &outs, rc, err);
    }
    if (!rc) {
        st->raw_bytes = len;
        st->blocks = len ? lmz_reader_block_of(&r, off + len - 1) + 1 - lmz_reader_block_of(&r, off) : 0;
    }
    lmz_reader_close(&r);
    st->seconds = lmz_now() - t0;
    return rc;
}

typedef struct vreport {
    FILE *f;
    lmz_err first;
} vreport;

static void on_damage(void *ctx, uint64_t block, const lmz_err *why)
{
    vreport *v = ctx;
    (void)block;
    if (v->first.code == LMZ_OK)
        v->first = *why;
    if (v->f) {
        fprintf(v->f, "damaged: %s\n", why->msg);
        fflush(v->f);
    }
}

lmz_status lmz_mpi_verify(MPI_Comm comm, const char *archive, const lmz_common_opts *c, int full,
                          FILE *report, lmz_stats *st, lmz_err *err)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    lmz_stats local, mine;
    if (!st)
        st = &local;
    memset(st, 0, sizeof *st);
    memset(&mine, 0, sizeof mine);
    double t0 = lmz_now();
    lmz_reader r;
    lmz_status rc = lmz_reader_open(&r, archive, err);
    if ((rc = lmz_mpi_agree(comm, rc, err)) != LMZ_OK) {
        if (r.a)
            lmz_reader_close(&r);
        return rc;
    }
    uint64_t lo, hi, bb = lmz_reader_block_bytes(&r);
    lmz_mpi_bounds(0, r.info->raw_size, bb, size, rank, &lo, &hi);
    uint64_t b0 = lmz_reader_block_of(&r, lo), b1 = lo < hi ? lmz_reader_block_of(&r, hi - 1) + 1 : b0;
    vreport v = {report, {0}};
    lmz_err_clear(&v.first);
    rc = lmz_reader_verify_blocks(&r, c, full, b0, b1, on_damage, &v, &mine, err);
    if (rc == LMZ_ERR_CORRUPT_BLOCK)
        rc = LMZ_OK; /* counted below, across the ranks */
    rc = lmz_mpi_agree(comm, rc, err);
    unsigned long long a[3] = {mine.blocks, mine.blocks_damaged, mine.raw_bytes}, s[3] = {0};
    MPI_Allreduce(a, s, 3, MPI_UNSIGNED_LONG_LONG, MPI_SUM, comm);
    st->blocks = s[0];
    st->blocks_damaged = s[1];
    st->raw_bytes = s[2];
    if (!rc && s[1]) {
        lmz_status d = v.first.code != LMZ_OK ? LMZ_ERR_CORRUPT_BLOCK : LMZ_OK;
        if (d)
            lmz_err_set(err, d, "%llu of %llu blocks damaged (first: %s)", s[1], s[0], v.first.msg);
        rc = lmz_mpi_agree(comm, d, err);
    }
    lmz_reader_close(&r);
    st->seconds = lmz_now() - t0;
    return rc;
}
