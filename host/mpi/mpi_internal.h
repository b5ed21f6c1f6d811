/* mpi_internal.h (host/mpi/, not public): what the MPI commands share. */
#ifndef LMZ_MPI_INTERNAL_H
#define LMZ_MPI_INTERNAL_H

#include "lmz_mpi.h"

/* Every rank passes its own status (err its message when not LMZ_OK). The
 * lowest failing rank's status comes back on every rank, with err set to
 * "rank R: MESSAGE"; LMZ_OK when no rank failed. Collective. */
lmz_status lmz_mpi_agree(MPI_Comm comm, lmz_status rc, lmz_err *err);
/* A string from root to every rank (*s malloc'd on the others; NULL on
 * memory failure). Collective. */
int lmz_mpi_bcast_str(MPI_Comm comm, int root, char **s);

#endif
