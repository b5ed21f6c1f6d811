/* util.c: the trainer's random numbers and thread count. */
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "tr_internal.h"

uint64_t tr_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

double tr_normal(uint64_t *state)
{
    /* (0, 1]: the log never sees 0. */
    const double u1 = ((double)(tr_splitmix64(state) >> 11) + 1.0) * 0x1.0p-53;
    const double u2 = (double)(tr_splitmix64(state) >> 11) * 0x1.0p-53;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int tr_threads(int requested)
{
    if (requested > 0)
        return requested;
#ifdef _OPENMP
    return omp_get_num_procs();
#else
    return 1;
#endif
}
