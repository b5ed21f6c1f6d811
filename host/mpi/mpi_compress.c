/* mpi_compress.c: lmz compress over MPI ranks (lmz_mpi.h). */
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "archive_priv.h"
#include "cstream.h"
#include "h5util.h"
#include "inputs.h"
#include "lmz_block.h"
#include "mpi_internal.h"
#include "progress.h"

/* Bytes one rank hands to one collective H5Dwrite call (MPI-IO counts are
 * ints): larger shares take several rounds, every rank in every round. */
#define ROUND_BYTES ((uint64_t)1 << 30)

/* A rank's coded blocks: payload bytes and index rows (payload offsets
 * relative to the rank's first byte until the scan). */
typedef struct share {
    uint8_t *pay;
    size_t npay, cappay;
    lmz_index_entry *idx;
    uint64_t nidx, capidx;
    uint64_t raw_pos;   /* raw offset of the next block */
    int classical;
} share;

static lmz_status sink_block(void *ctx, const uint8_t *blk, size_t len, uint32_t raw_len,
                             uint64_t raw_xxh64, lmz_err *err)
{
    share *s = ctx;
    if (s->npay + len > s->cappay) {
        size_t cap = s->cappay ? s->cappay : (size_t)1 << 20;
        while (cap < s->npay + len)
            cap *= 2;
        uint8_t *p = realloc(s->pay, cap);
        if (!p)
            return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory for this rank's payload");
        s->pay = p;
        s->cappay = cap;
    }
    if (s->nidx == s->capidx) {
        uint64_t cap = s->capidx ? 2 * s->capidx : 64;
        lmz_index_entry *p = realloc(s->idx, cap * sizeof *p);
        if (!p)
            return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
        s->idx = p;
        s->capidx = cap;
    }
    lmz_index_entry *e = &s->idx[s->nidx++];
    e->raw_offset = s->raw_pos;
    e->raw_len = raw_len;
    e->payload_offset = s->npay;
    e->payload_len = (uint32_t)len;
    e->payload_xxh64 = XXH64(blk, len, 0);
    e->raw_xxh64 = raw_xxh64;
    memcpy(s->pay + s->npay, blk, len);
    s->npay += len;
    s->raw_pos += raw_len;
    s->classical |= lmz_block_mode_classical(blk[0]);
    return LMZ_OK;
}

/* The inputs as one raw stream of known sizes, read at any offset. */
typedef struct rawfiles {
    const lmz_inputs *in;
    const uint64_t *size;  /* per input, from stat (rank 0's) */
    size_t k;              /* input of fd */
    int fd;
} rawfiles;

/* Read [pos, pos + n) of the raw stream into buf. */
static lmz_status raw_read(rawfiles *rf, const lmz_member *mem, uint64_t pos, uint8_t *buf,
                           size_t n, lmz_err *err)
{
    size_t k = 0;
    while (n) {
        while (k < rf->in->n && mem[k].offset + mem[k].size <= pos)
            k++;
        if (k == rf->in->n)
            return lmz_err_set(err, LMZ_ERR_IO, "inputs end before byte %llu",
                               (unsigned long long)pos);
        const char *path = rf->in->paths[k];
        if (rf->fd < 0 || rf->k != k) {
            if (rf->fd >= 0)
                close(rf->fd);
            rf->fd = open(path, O_RDONLY);
            rf->k = k;
            if (rf->fd < 0)
                return lmz_err_set(err, LMZ_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        }
        uint64_t in_off = pos - mem[k].offset;
        uint64_t left = mem[k].size - in_off;
        size_t want = n < left ? n : (size_t)left;
        ssize_t got = pread(rf->fd, buf, want, (off_t)in_off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return lmz_err_set(err, LMZ_ERR_IO, "%s: read failed: %s", path, strerror(errno));
        if (got == 0)
            return lmz_err_set(err, LMZ_ERR_IO, "%s: shorter than its %llu bytes (changed while read)",
                               path, (unsigned long long)mem[k].size);
        buf += got;
        pos += (uint64_t)got;
        n -= (size_t)got;
    }
    return LMZ_OK;
}

/* Member table from rank 0's stat sizes: every rank gets the same one. */
static lmz_status member_sizes(MPI_Comm comm, lmz_inputs *in, uint64_t **sizes, uint64_t *total,
                               lmz_err *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    lmz_status rc = LMZ_OK;
    uint64_t *sz = calloc(in->n ? in->n : 1, sizeof *sz);
    if (!sz)
        rc = lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < in->n && !rc && rank == 0; k++) {
        struct stat sb;
        if (!in->paths[k])
            rc = lmz_err_set(err, LMZ_ERR_USAGE,
                             "compress: MPI ranks read the inputs at offsets: standard input ('-') "
                             "cannot be split; give files");
        else if (stat(in->paths[k], &sb) != 0)
            rc = lmz_err_set(err, LMZ_ERR_IO, "%s: %s", in->paths[k], strerror(errno));
        else if (!S_ISREG(sb.st_mode))
            rc = lmz_err_set(err, LMZ_ERR_USAGE,
                             "%s: not a regular file (MPI ranks read the inputs at offsets)",
                             in->paths[k]);
        else
            sz[k] = (uint64_t)sb.st_size;
    }
    if ((rc = lmz_mpi_agree(comm, rc, err)) != LMZ_OK) {
        free(sz);
        return rc;
    }
    MPI_Bcast(sz, (int)in->n, MPI_UINT64_T, 0, comm);
    uint64_t off = 0;
    for (size_t k = 0; k < in->n; k++) {
        in->members[k].offset = off;
        in->members[k].size = sz[k];
        off += sz[k];
    }
    *sizes = sz;
    *total = off;
    return LMZ_OK;
}

/* Create the archive's HDF5 file at tmp with every rank (MPI-IO), /payload
 * as the serial writer lays it out (contiguous below one storage chunk,
 * else chunked by 1 MiB, growable, no filters), and write each rank's bytes
 * at its offset with collective transfers. */
static lmz_status write_payload(MPI_Comm comm, const char *tmp, const share *s, uint64_t my_off,
                                uint64_t total, lmz_err *err)
{
    lmz_h5_init();
    hid_t fcpl = lmz_h5_fcpl(), fapl = lmz_h5_fapl(), dcpl = lmz_h5_dcpl();
    hid_t file = -1, ds = -1, fspace = -1, xfer = -1;
    int ok = fcpl >= 0 && fapl >= 0 && dcpl >= 0 &&
             H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) >= 0 &&
             H5Pset_all_coll_metadata_ops(fapl, 1) >= 0 && H5Pset_coll_metadata_write(fapl, 1) >= 0;
    errno = 0;
    if (ok)
        file = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl);
    ok = file >= 0;
    int e = errno;
    if (ok) {
        hsize_t dims[1] = {total}, maxdims[1] = {H5S_UNLIMITED};
        hsize_t chunk[1] = {LMZ_PAYLOAD_STORAGE_CHUNK};
        int chunked = total >= LMZ_PAYLOAD_STORAGE_CHUNK;
        fspace = H5Screate_simple(1, dims, chunked ? maxdims : NULL);
        /* every byte is written: no fill pass over the allocated space */
        ok = fspace >= 0 && H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) >= 0 &&
             (!chunked || H5Pset_chunk(dcpl, 1, chunk) >= 0);
        if (ok)
            ds = H5Dcreate2(file, "payload", H5T_STD_U8LE, fspace, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        ok = ok && ds >= 0;
        xfer = H5Pcreate(H5P_DATASET_XFER);
        ok = ok && xfer >= 0 && H5Pset_dxpl_mpio(xfer, H5FD_MPIO_COLLECTIVE) >= 0;
    }
    /* The same number of collective writes on every rank. */
    uint64_t mine = (s->npay + ROUND_BYTES - 1) / ROUND_BYTES, rounds = 0;
    MPI_Allreduce(&mine, &rounds, 1, MPI_UINT64_T, MPI_MAX, comm);
    int all_ok = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm);
    for (uint64_t k = 0; k < rounds && all_ok && total; k++) {
        uint64_t a = k * ROUND_BYTES, b = a + ROUND_BYTES;
        if (a > s->npay)
            a = s->npay;
        if (b > s->npay)
            b = s->npay;
        hsize_t start[1] = {my_off + a}, count[1] = {b - a}, one[1] = {1};
        hid_t mspace = H5Screate_simple(1, count[0] ? count : one, NULL);
        int w = mspace >= 0;
        if (w && count[0])
            w = H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) >= 0;
        else if (w)
            w = H5Sselect_none(fspace) >= 0 && H5Sselect_none(mspace) >= 0;
        errno = 0;
        static const uint8_t nothing[1];
        w = w && H5Dwrite(ds, H5T_NATIVE_UINT8, mspace, fspace, xfer,
                          count[0] ? s->pay + a : nothing) >= 0;
        if (!w && !e)
            e = errno ? errno : EIO;
        if (mspace >= 0)
            H5Sclose(mspace);
        MPI_Allreduce(&w, &all_ok, 1, MPI_INT, MPI_MIN, comm);
        ok = ok && w;
    }
    if (xfer >= 0)
        H5Pclose(xfer);
    if (fspace >= 0)
        H5Sclose(fspace);
    /* closing is collective: every rank that has the file closes it */
    if (ds >= 0 && H5Dclose(ds) < 0)
        ok = 0;
    errno = 0;
    if (file >= 0 && H5Fclose(file) < 0) {
        ok = 0;
        if (!e)
            e = errno ? errno : EIO;
    }
    if (fcpl >= 0)
        H5Pclose(fcpl);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (!ok)
        return lmz_err_set(err, LMZ_ERR_IO, "%s: parallel write of /payload failed: %s", tmp,
                           lmz_h5_strerror(e));
    return LMZ_OK;
}

lmz_status lmz_mpi_compress(MPI_Comm comm, const lmz_compress_opts *o, lmz_stats *st, lmz_err *err)
{
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    lmz_stats local;
    if (!st)
        st = &local;
    memset(st, 0, sizeof *st);
    double t0 = lmz_now();
    lmz_cstream *cs = NULL;
    lmz_inputs in;
    memset(&in, 0, sizeof in);
    share sh;
    memset(&sh, 0, sizeof sh);
    rawfiles rf = {&in, NULL, 0, -1};
    uint64_t *sizes = NULL, total = 0;
    lmz_archive_writer *w = NULL;
    char *tmp = NULL;
    lmz_index_entry *all = NULL;
    lmz_status rc = LMZ_OK;

    if (o->model)
        rc = lmz_err_set(err, LMZ_ERR_USAGE, "compress: --fit is not available with MPI ranks");
    if (!rc)
        rc = lmz_cstream_create(o, &cs, err);
    if (!rc)
        rc = lmz_inputs_collect(&in, o->inputs, o->ninputs, o->recursive, err);
    if ((rc = lmz_mpi_agree(comm, rc, err)) != LMZ_OK)
        goto out;
    /* every rank must see the same inputs */
    unsigned long long n = in.n, nmin = 0, nmax = 0;
    MPI_Allreduce(&n, &nmin, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, comm);
    MPI_Allreduce(&n, &nmax, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, comm);
    if (nmin != nmax) {
        rc = lmz_err_set(err, LMZ_ERR_IO, "rank %d: the ranks see different input files (%llu to %llu)",
                         rank, nmin, nmax);
        goto out;
    }
    if ((rc = member_sizes(comm, &in, &sizes, &total, err)) != LMZ_OK)
        goto out;
    lmz_archive_info info;
    const lmz_model *embed = NULL;
    lmz_cstream_info(cs, &info, &embed);
    uint64_t block_bytes = (uint64_t)info.chunk_size * info.chunks_per_block, lo, hi;
    lmz_mpi_bounds(0, total, block_bytes, size, rank, &lo, &hi);

    /* rank 0: the temporary file beside the archive (refuses an existing
     * archive without -f); every rank learns its name */
    if (rank == 0 && (rc = lmz_archive_reserve(o->output, o->c.force, &w, err)) == LMZ_ERR_EXISTS)
        lmz_err_set(err, rc, "%s: already exists (use -f to overwrite)", o->output);
    if ((rc = lmz_mpi_agree(comm, rc, err)) != LMZ_OK)
        goto out;
    tmp = rank == 0 ? (char *)lmz_archive_tmp_path(w) : NULL;
    if (lmz_mpi_bcast_str(comm, 0, &tmp) != 0)
        rc = lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");

    /* this rank's blocks: read, score, code, into memory */
    sh.raw_pos = lo;
    lmz_cstream_set_sink(cs, sink_block, &sh);
    if (!rc)
        rc = lmz_cstream_start(cs, hi - lo, 1, err);
    for (uint64_t pos = lo; !rc && pos < hi;) {
        size_t room;
        uint8_t *dst = lmz_cstream_room(cs, &room);
        size_t want = hi - pos < room ? (size_t)(hi - pos) : room;
        rc = raw_read(&rf, in.members, pos, dst, want, err);
        if (!rc)
            rc = lmz_cstream_commit(cs, want, err);
        pos += want;
    }
    if (!rc)
        rc = lmz_cstream_flush(cs, err);
    if ((rc = lmz_mpi_agree(comm, rc, err)) != LMZ_OK)
        goto out;

    /* offsets: an exclusive scan of the payload sizes */
    uint64_t mine = sh.npay, my_off = 0;
    MPI_Exscan(&mine, &my_off, 1, MPI_UINT64_T, MPI_SUM, comm);
    if (rank == 0)
        my_off = 0; /* MPI_Exscan leaves rank 0's undefined */
    uint64_t payload_total = 0;
    MPI_Allreduce(&mine, &payload_total, 1, MPI_UINT64_T, MPI_SUM, comm);
    int classical = 0;
    MPI_Allreduce(&sh.classical, &classical, 1, MPI_INT, MPI_LOR, comm);
    for (uint64_t b = 0; b < sh.nidx; b++)
        sh.idx[b].payload_offset += my_off;

    rc = write_payload(comm, tmp, &sh, my_off, payload_total, err);
    if ((rc = lmz_mpi_agree(comm, rc, err)) != LMZ_OK)
        goto out;
    free(sh.pay);
    sh.pay = NULL;

    /* the index on rank 0, in rank (= block) order */
    int nbytes = (int)(sh.nidx * sizeof *sh.idx);
    int *counts = rank == 0 ? calloc((size_t)size, sizeof *counts) : NULL;
    int *displs = rank == 0 ? calloc((size_t)size, sizeof *displs) : NULL;
    MPI_Gather(&nbytes, 1, MPI_INT, counts, 1, MPI_INT, 0, comm);
    uint64_t nblocks = 0;
    if (rank == 0) {
        long long sum = 0;
        for (int r = 0; r < size; r++) {
            displs[r] = (int)sum;
            sum += counts[r];
        }
        nblocks = (uint64_t)sum / sizeof *all;
        all = malloc(sum ? (size_t)sum : 1);
    }
    MPI_Gatherv(sh.idx, nbytes, MPI_BYTE, all, counts, displs, MPI_BYTE, 0, comm);
    free(counts);
    free(displs);

    /* rank 0: index, members, attributes and model, with the serial writer */
    if (rank == 0) {
        rc = all ? lmz_archive_adopt_payload(w, all, nblocks, classical, err)
                 : lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory");
        if (!rc)
            rc = lmz_archive_finish(w, &info, in.members, in.n, embed, err);
        if (!rc)
            w = NULL; /* finish freed it */
    }
    rc = lmz_mpi_agree(comm, rc, err);

out:;
    /* counters of every rank, summed on every rank */
    const lmz_stats *cst = cs ? lmz_cstream_stats(cs) : NULL;
    unsigned long long v[7] = {0}, sum[7] = {0};
    if (cst) {
        v[0] = cst->raw_bytes;
        v[1] = cst->payload_bytes;
        v[2] = cst->blocks;
        for (int m = 0; m < 4; m++)
            v[3 + m] = cst->mode_blocks[m];
    }
    MPI_Allreduce(v, sum, 7, MPI_UNSIGNED_LONG_LONG, MPI_SUM, comm);
    st->raw_bytes = sum[0];
    st->payload_bytes = sum[1];
    st->blocks = sum[2];
    for (int m = 0; m < 4; m++)
        st->mode_blocks[m] = sum[3 + m];
    struct stat sb;
    if (!rc && stat(o->output, &sb) == 0)
        st->archive_bytes = (uint64_t)sb.st_size;
    st->seconds = lmz_now() - t0;
    if (rank != 0)
        free(tmp);
    if (rf.fd >= 0)
        close(rf.fd);
    lmz_archive_abort(w); /* removes the temporary file (rank 0) */
    free(all);
    free(sh.pay);
    free(sh.idx);
    free(sizes);
    lmz_cstream_free(cs);
    lmz_inputs_free(&in);
    return rc;
}
