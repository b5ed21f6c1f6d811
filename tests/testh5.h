/* testh5.h: HDF5 helpers for the tests that tamper with archive and model
 * files (header-only: only the tests that include it need HDF5). */
#ifndef LMZ_TESTH5_H
#define LMZ_TESTH5_H

#include <hdf5.h>

/* Overwrite the existing attribute name of the file's root group with *v
 * (of the memory type type). */
static inline void tu_h5_set_attr(const char *path, const char *name, hid_t type, const void *v)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    H5Awrite(a, type, v);
    H5Aclose(a);
    H5Fclose(f);
}

#endif
