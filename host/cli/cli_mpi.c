/* cli_mpi.c: MPI start-up, GPU choice and the commands' MPI entry points
 * (cli_mpi.h). Compiled empty-handed without LMZ_MPI. */
#include "cli_mpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef LMZ_MPI
#include <dirent.h>
#include <mpi.h>
#include <unistd.h>

#include "lmz_mpi.h"

static int ranks, rank, local_ranks = 1, local_rank;

static void finalize(void)
{
    int done = 0;
    MPI_Finalized(&done);
    if (!done)
        MPI_Finalize();
}

/* GPUs this process may see: CUDA_VISIBLE_DEVICES's list, else the
 * /dev/nvidiaN device files. */
static int visible_gpus(const char *list)
{
    if (list) {
        int n = *list ? 1 : 0;
        for (const char *p = list; *p; p++)
            n += *p == ',';
        return n;
    }
    int n = 0;
    DIR *d = opendir("/dev");
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, "nvidia", 6) && e->d_name[6] >= '0' && e->d_name[6] <= '9')
            n++;
    if (d)
        closedir(d);
    return n;
}

/* Rank r on a node uses the node's GPU r mod the devices: restrict CUDA to
 * that one before anything starts CUDA. */
static void pick_gpu(void)
{
    const char *list = getenv("CUDA_VISIBLE_DEVICES");
    int n = visible_gpus(list);
    if (n <= 1)
        return;
    int k = local_rank % n;
    char pick[64] = "";
    if (list) {
        const char *p = list;
        for (int i = 0; i < k && p; i++) {
            p = strchr(p, ',');
            if (p)
                p++;
        }
        if (!p)
            return;
        size_t len = strcspn(p, ",");
        if (len >= sizeof pick)
            return;
        memcpy(pick, p, len);
        pick[len] = '\0';
    } else {
        snprintf(pick, sizeof pick, "%d", k);
    }
    setenv("CUDA_VISIBLE_DEVICES", pick, 1);
}

void cli_mpi_init(int *argc, char ***argv)
{
    /* launched by an MPI launcher? (Open MPI, PMIx, PMI: MPICH, Slurm's srun) */
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK") && !getenv("PMI_SIZE") &&
        !getenv("PMI_RANK"))
        return;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return;
    atexit(finalize);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm node;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node) ==
        MPI_SUCCESS) {
        MPI_Comm_size(node, &local_ranks);
        MPI_Comm_rank(node, &local_rank);
        MPI_Comm_free(&node);
    }
    pick_gpu();
}

int cli_mpi_ranks(void) { return ranks; }
int cli_mpi_rank(void) { return rank; }

int cli_mpi_threads(int nthreads)
{
    if (nthreads > 0 || !ranks)
        return nthreads;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long t = cores / (local_ranks > 0 ? local_ranks : 1);
    return t > 0 ? (int)t : 1;
}

lmz_status cli_mpi_compress(const lmz_compress_opts *o, lmz_stats *st, lmz_err *err)
{
    return lmz_mpi_compress(MPI_COMM_WORLD, o, st, err);
}

lmz_status cli_mpi_decompress(const lmz_decompress_opts *o, lmz_stats *st, lmz_err *err)
{
    return lmz_mpi_decompress(MPI_COMM_WORLD, o, st, err);
}

lmz_status cli_mpi_extract(const lmz_extract_opts *o, lmz_stats *st, lmz_err *err)
{
    return lmz_mpi_extract(MPI_COMM_WORLD, o, st, err);
}

lmz_status cli_mpi_verify(const char *archive, const lmz_common_opts *c, int full, FILE *report,
                          lmz_stats *st, lmz_err *err)
{
    return lmz_mpi_verify(MPI_COMM_WORLD, archive, c, full, report, st, err);
}

#else

void cli_mpi_init(int *argc, char ***argv) { (void)argc; (void)argv; }
int cli_mpi_ranks(void) { return 0; }
int cli_mpi_rank(void) { return 0; }
int cli_mpi_threads(int nthreads) { return nthreads; }

static lmz_status no_mpi(lmz_err *err)
{
    return lmz_err_set(err, LMZ_ERR_USAGE, "this lmz was built without MPI (-DLMZ_MPI=ON)");
}

lmz_status cli_mpi_compress(const lmz_compress_opts *o, lmz_stats *st, lmz_err *err)
{
    (void)o; (void)st;
    return no_mpi(err);
}

lmz_status cli_mpi_decompress(const lmz_decompress_opts *o, lmz_stats *st, lmz_err *err)
{
    (void)o; (void)st;
    return no_mpi(err);
}

lmz_status cli_mpi_extract(const lmz_extract_opts *o, lmz_stats *st, lmz_err *err)
{
    (void)o; (void)st;
    return no_mpi(err);
}

lmz_status cli_mpi_verify(const char *archive, const lmz_common_opts *c, int full, FILE *report,
                          lmz_stats *st, lmz_err *err)
{
    (void)archive; (void)c; (void)full; (void)report; (void)st;
    return no_mpi(err);
}

#endif
