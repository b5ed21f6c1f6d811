/* lmz_mpi.h: the commands over MPI ranks (built only with -DLMZ_MPI=ON;
 * docs/mpi.md).
 *
 * Every call is collective over comm: every rank calls it with the same
 * options and every rank returns the same status. On failure err holds the
 * first failing rank's message as "rank R: CAUSE" on every rank. Each phase
 * ends with an agreement (an MPI_Allreduce of the failing rank), so no rank
 * waits in a collective that another skipped, and nothing partial is left:
 * the archive or output goes to a temporary file that rank 0 renames into
 * place only when every rank succeeded.
 *
 * Work is divided by raw bytes (lmz_mpi_bounds): rank r of n takes the
 * blocks that start in [r*S/n, (r+1)*S/n) of the S raw bytes, the same for
 * compress, decompress, extract and verify; a rank may get none (fewer
 * blocks than ranks).
 *
 * compress: each rank reads its blocks' bytes straight from the input files
 * (positional reads: standard input is refused), scores and codes them with
 * its own backend, then an exclusive scan of the payload sizes gives each
 * rank its offset and all ranks write /payload collectively with parallel
 * HDF5 (MPI-IO); rank 0 gathers the index and writes index, members and
 * attributes with the serial writer, so /payload and /index are those of
 * the serial lmz byte for byte.
 * decompress / extract: each rank decodes its blocks and writes them with
 * pwrite into the temporary files rank 0 opened; rank 0 commits them.
 * -c (standard output) and --salvage run on rank 0 alone. */
#ifndef LMZ_MPI_H
#define LMZ_MPI_H

#include <mpi.h>
#include <stdio.h>

#include "lmz_pipeline.h"

lmz_status lmz_mpi_compress(MPI_Comm comm, const lmz_compress_opts *o, lmz_stats *st, lmz_err *err);
lmz_status lmz_mpi_decompress(MPI_Comm comm, const lmz_decompress_opts *o, lmz_stats *st,
                              lmz_err *err);
lmz_status lmz_mpi_extract(MPI_Comm comm, const lmz_extract_opts *o, lmz_stats *st, lmz_err *err);
/* Damaged blocks are reported on report ("damaged: ..." lines, each rank
 * its own). */
lmz_status lmz_mpi_verify(MPI_Comm comm, const char *archive, const lmz_common_opts *c, int full,
                          FILE *report, lmz_stats *st, lmz_err *err);

/* Rank r's part [*lo, *hi) of the raw range [off, off + len): its ends are
 * block starts (blocks of block_bytes from 0, as every archive has), the
 * first rank's part starts at off and the last one's ends at off + len. */
void lmz_mpi_bounds(uint64_t off, uint64_t len, uint64_t block_bytes, int n, int r, uint64_t *lo,
                    uint64_t *hi);

#endif
