/* cli_mpi.h: the CLI under mpirun (built with -DLMZ_MPI=ON; docs/mpi.md).
 * Without LMZ_MPI every function here is a no-op and cli_mpi_ranks() is 0,
 * so the serial lmz is unchanged. */
#ifndef LMZ_CLI_MPI_H
#define LMZ_CLI_MPI_H

#include "lmz_pipeline.h"

/* Start MPI when the process was launched by an MPI launcher (mpirun,
 * srun): its environment says so. Picks this rank's GPU (local rank mod the
 * visible devices, through CUDA_VISIBLE_DEVICES, before CUDA starts) and
 * registers MPI_Finalize at exit. */
void cli_mpi_init(int *argc, char ***argv);
/* Ranks when MPI runs (1 under "mpirun -np 1"), 0 when it does not. */
int cli_mpi_ranks(void);
/* This rank (0 without MPI). Only rank 0 prints errors and summaries. */
int cli_mpi_rank(void);
/* -T not given: the node's cores divided among the ranks on this node. */
int cli_mpi_threads(int nthreads);

lmz_status cli_mpi_compress(const lmz_compress_opts *o, lmz_stats *st, lmz_err *err);
lmz_status cli_mpi_decompress(const lmz_decompress_opts *o, lmz_stats *st, lmz_err *err);
lmz_status cli_mpi_extract(const lmz_extract_opts *o, lmz_stats *st, lmz_err *err);
lmz_status cli_mpi_verify(const char *archive, const lmz_common_opts *c, int full, FILE *report,
                          lmz_stats *st, lmz_err *err);

#endif
