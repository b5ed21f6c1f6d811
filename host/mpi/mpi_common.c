/* mpi_common.c: agreement on failure, dividing the work, strings. */
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

lmz_status lmz_mpi_agree(MPI_Comm comm, lmz_status rc, lmz_err *err)
{
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    int mine = rc != LMZ_OK ? rank : size, first = size;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
    if (first == size)
        return LMZ_OK;
    struct {
        int code;
        char msg[sizeof err->msg];
    } m;
    memset(&m, 0, sizeof m);
    if (rank == first) {
        m.code = (int)rc;
        snprintf(m.msg, sizeof m.msg, "%s", err && err->msg[0] ? err->msg : lmz_status_name(rc));
    }
    MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, first, comm);
    lmz_err_set(err, (lmz_status)m.code, "rank %d: %s", first, m.msg);
    return (lmz_status)m.code;
}

int lmz_mpi_bcast_str(MPI_Comm comm, int root, char **s)
{
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    long long n = rank == root && *s ? (long long)strlen(*s) : -1;
    MPI_Bcast(&n, 1, MPI_LONG_LONG, root, comm);
    if (n < 0) {
        if (rank != root)
            *s = NULL;
        return 0;
    }
    if (rank != root) {
        *s = malloc((size_t)n + 1);
        if (!*s) {
            /* still take part in the broadcast */
            char *sink = malloc((size_t)n + 1);
            MPI_Bcast(sink ? sink : (char[1]){0}, sink ? (int)n + 1 : 0, MPI_CHAR, root, comm);
            free(sink);
            return -1;
        }
    }
    MPI_Bcast(*s, (int)n + 1, MPI_CHAR, root, comm);
    return 0;
}

/* floor(len * r / n) without overflow. */
static uint64_t split(uint64_t len, int n, int r)
{
    return len / (uint64_t)n * (uint64_t)r + len % (uint64_t)n * (uint64_t)r / (uint64_t)n;
}

static uint64_t snap(uint64_t off, uint64_t len, uint64_t block_bytes, int n, int r)
{
    if (r <= 0)
        return off;
    if (r >= n)
        return off + len;
    uint64_t x = off + split(len, n, r);
    uint64_t b = (x + block_bytes - 1) / block_bytes * block_bytes;
    return b < off + len ? b : off + len;
}

void lmz_mpi_bounds(uint64_t off, uint64_t len, uint64_t block_bytes, int n, int r, uint64_t *lo,
                    uint64_t *hi)
{
    *lo = snap(off, len, block_bytes, n, r);
    *hi = snap(off, len, block_bytes, n, r + 1);
}
