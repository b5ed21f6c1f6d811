/* h5util.c: HDF5 helpers shared by the archive and the model files. */
#include "h5util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest fixed-length string attribute we agree to read. */
#define MAX_STR_ATTR 65536

static pthread_once_t h5_once = PTHREAD_ONCE_INIT;

static void h5_open_once(void)
{
    H5open();
}

void lmz_h5_init(void)
{
    pthread_once(&h5_once, h5_open_once);
    /* In a thread-safe HDF5 build the error settings belong to the calling
     * thread, and the thread that writes need not be the one that started:
     * so this is done on every entry, not once. It is cheap. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

struct minor_search {
    hid_t minor;
    int found;
};

static herr_t match_minor(unsigned n, const H5E_error2_t *e, void *data)
{
    struct minor_search *s = data;
    if (e->min_num == s->minor)
        s->found = 1;
    return 0;
}

int lmz_h5_error_has_minor(hid_t minor)
{
    struct minor_search s = {minor, 0};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, match_minor, &s);
    return s.found;
}

/* HDF5 gathers small metadata and small raw data in 2 KiB blocks by
 * default; the unused rest of each stays in the file as a hole. lmz files
 * are written once, front to back, so aggregation buys little and costs a
 * few KiB per file: it is turned off. */
static int set_no_aggregation(hid_t fapl)
{
    if (H5Pset_meta_block_size(fapl, 0) < 0 || H5Pset_small_data_block_size(fapl, 0) < 0)
        return -1;
    return 0;
}

/* STRONG: closing the file really closes it (a failed write is seen at
 * H5Fclose, not later). No file locks: lmz writes only its own temporary
 * files and reads read-only, and HDF5's locks fail outright on file systems
 * without lock support (some NFS and parallel file systems). */
static hid_t base_fapl(void)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return -1;
    int rc = H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0 ? -1 : 0;
#if H5_VERSION_GE(1, 10, 7)
    if (rc == 0 && H5Pset_file_locking(fapl, 0, 1) < 0)
        rc = -1;
#endif
    if (rc < 0) {
        H5Pclose(fapl);
        return -1;
    }
    return fapl;
}

hid_t lmz_h5_fapl(void)
{
    hid_t fapl = base_fapl();
    if (fapl < 0)
        return -1;
    /* v18 and later: object headers and other metadata carry checksums. */
    if (H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) < 0 ||
        set_no_aggregation(fapl) < 0) {
        H5Pclose(fapl);
        return -1;
    }
    return fapl;
}

int lmz_h5_superblock_version(const char *path)
{
    static const uint8_t signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    uint8_t head[9];
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n < sizeof signature || memcmp(head, signature, sizeof signature) != 0)
        return -1;
    return n == sizeof head ? head[8] : -2;
}

hid_t lmz_h5_open_read(const char *path)
{
    /* Only what lmz writes: a superblock at offset 0 (HDF5 would also look
     * after a user block) of version 2 or later (checksummed metadata). */
    int sb = lmz_h5_superblock_version(path);
    if (sb == -1 || sb == 0 || sb == 1) {
        H5Eclear2(H5E_DEFAULT);
        return -1;
    }
    hid_t fapl = base_fapl();
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl >= 0 ? fapl : H5P_DEFAULT);
    if (fapl >= 0) {
        /* Closing a property list must not clear the error stack that the
         * caller is about to read: save and restore it. */
        hid_t stack = H5Eget_current_stack();
        H5Pclose(fapl);
        if (stack >= 0)
            H5Eset_current_stack(stack);
    }
    return f;
}

/* No time stamps (so the same input gives the same bytes) and every
 * attribute in the object header (the root group has 18). */
static int set_object_props(hid_t ocpl)
{
    if (H5Pset_obj_track_times(ocpl, 0) < 0)
        return -1;
    if (H5Pset_attr_phase_change(ocpl, 64, 48) < 0)
        return -1;
    return 0;
}

static hid_t make_ocpl(hid_t cls)
{
    hid_t p = H5Pcreate(cls);
    if (p < 0)
        return -1;
    if (set_object_props(p) < 0) {
        H5Pclose(p);
        return -1;
    }
    return p;
}

hid_t lmz_h5_fcpl(void) { return make_ocpl(H5P_FILE_CREATE); }
hid_t lmz_h5_gcpl(void) { return make_ocpl(H5P_GROUP_CREATE); }
hid_t lmz_h5_dcpl(void) { return make_ocpl(H5P_DATASET_CREATE); }

hid_t lmz_h5_create_group(hid_t loc, const char *name)
{
    hid_t gcpl = lmz_h5_gcpl();
    if (gcpl < 0)
        return -1;
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    return g;
}

int lmz_h5_write_array(hid_t loc, const char *name, hid_t ftype, hid_t mtype,
                       int rank, const hsize_t *dims, const void *data)
{
    int rc = -1;
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = lmz_h5_dcpl();
    hid_t ds = -1;
    if (space >= 0 && dcpl >= 0)
        ds = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds >= 0 && H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0)
        rc = 0;
    if (ds >= 0 && H5Dclose(ds) < 0)
        rc = -1;
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    return rc;
}

static int attr_write(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v)
{
    int rc = -1;
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = -1;
    if (space >= 0)
        a = H5Acreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0 && H5Awrite(a, mtype, v) >= 0)
        rc = 0;
    if (a >= 0 && H5Aclose(a) < 0)
        rc = -1;
    if (space >= 0)
        H5Sclose(space);
    return rc;
}

int lmz_h5_attr_write_u32(hid_t loc, const char *name, uint32_t v)
{
    return attr_write(loc, name, H5T_STD_U32LE, H5T_NATIVE_UINT32, &v);
}

int lmz_h5_attr_write_i32(hid_t loc, const char *name, int32_t v)
{
    return attr_write(loc, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &v);
}

int lmz_h5_attr_write_u64(hid_t loc, const char *name, uint64_t v)
{
    return attr_write(loc, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &v);
}

/* A fixed-length NUL-terminated string type of size len + 1. */
static hid_t fixed_str_type(size_t len)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0)
        return -1;
    if (H5Tset_size(t, len + 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ||
        H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

int lmz_h5_attr_write_str(hid_t loc, const char *name, const char *s)
{
    hid_t t = fixed_str_type(strlen(s));
    if (t < 0)
        return -1;
    int rc = attr_write(loc, name, t, t, s);
    H5Tclose(t);
    return rc;
}

/* Open attribute name of loc if it exists and holds exactly one element. */
static hid_t open_scalar_attr(hid_t loc, const char *name)
{
    if (H5Aexists(loc, name) <= 0)
        return -1;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    hid_t space = H5Aget_space(a);
    hssize_t npoints = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (space >= 0)
        H5Sclose(space);
    if (npoints != 1) {
        H5Aclose(a);
        return -1;
    }
    return a;
}

/* Read one integer attribute with memory type mtype into v, if the stored
 * type is an integer of at most 8 bytes. */
static int attr_read_integer(hid_t loc, const char *name, hid_t mtype, void *v)
{
    hid_t a = open_scalar_attr(loc, name);
    if (a < 0)
        return -1;
    int rc = -1;
    hid_t t = H5Aget_type(a);
    if (t >= 0 && H5Tget_class(t) == H5T_INTEGER && H5Tget_size(t) <= 8 &&
        H5Aread(a, mtype, v) >= 0)
        rc = 0;
    if (t >= 0)
        H5Tclose(t);
    H5Aclose(a);
    return rc;
}

int lmz_h5_attr_read_int(hid_t loc, const char *name, int64_t lo, int64_t hi, int64_t *out)
{
    int64_t v = 0;
    if (attr_read_integer(loc, name, H5T_NATIVE_INT64, &v) < 0 || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int lmz_h5_attr_read_u64(hid_t loc, const char *name, uint64_t *out)
{
    uint64_t v = 0;
    if (attr_read_integer(loc, name, H5T_NATIVE_UINT64, &v) < 0)
        return -1;
    *out = v;
    return 0;
}

static int read_fixed_str(hid_t a, hid_t ftype, char *buf, size_t cap)
{
    size_t size = H5Tget_size(ftype);
    if (size == 0 || size > MAX_STR_ATTR)
        return -1;
    char *tmp = calloc(1, size + 1);
    hid_t mt = fixed_str_type(size);
    int rc = -1;
    if (tmp && mt >= 0 && H5Tset_cset(mt, H5Tget_cset(ftype)) >= 0 &&
        H5Aread(a, mt, tmp) >= 0) {
        tmp[size] = '\0';
        if (strlen(tmp) < cap) {
            strcpy(buf, tmp);
            rc = 0;
        }
    }
    if (mt >= 0)
        H5Tclose(mt);
    free(tmp);
    return rc;
}

int lmz_h5_attr_read_str(hid_t loc, const char *name, char *buf, size_t cap)
{
    hid_t a = open_scalar_attr(loc, name);
    if (a < 0)
        return -1;
    int rc = -1;
    hid_t t = H5Aget_type(a);
    /* Fixed-length strings only. A variable-length string lives in HDF5's
     * global heap, which has no checksum, and HDF5 1.10 overflows a buffer
     * reading a damaged one (docs/hdf5-crashes.md): lmz never writes one,
     * and refuses to read one. */
    if (t >= 0 && H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) == 0)
        rc = read_fixed_str(a, t, buf, cap);
    if (t >= 0)
        H5Tclose(t);
    H5Aclose(a);
    return rc;
}

int lmz_h5_check_int_dataset(hid_t ds, size_t size, H5T_sign_t sign, int rank,
                             const hsize_t *dims)
{
    int ok = 0;
    hid_t t = H5Dget_type(ds);
    hid_t space = H5Dget_space(ds);
    if (t >= 0 && space >= 0 && H5Tget_class(t) == H5T_INTEGER && H5Tget_size(t) == size &&
        H5Tget_sign(t) == sign && H5Sget_simple_extent_type(space) == H5S_SIMPLE &&
        H5Sget_simple_extent_ndims(space) == rank) {
        hsize_t got[H5S_MAX_RANK];
        ok = H5Sget_simple_extent_dims(space, got, NULL) == rank;
        for (int i = 0; ok && i < rank; i++)
            ok = got[i] == dims[i];
    }
    if (t >= 0)
        H5Tclose(t);
    if (space >= 0)
        H5Sclose(space);
    return ok ? 0 : -1;
}

const char *lmz_h5_strerror(int saved_errno)
{
    return saved_errno ? strerror(saved_errno) : "HDF5 write error";
}

/* ---- temporary file and rename: io/lmz_atomic.h ---- */

lmz_status lmz_tmpfile_create(lmz_tmpfile *t, const char *target, int force, lmz_err *err)
{
    return lmz_atomic_open(t, target, force ? LMZ_ATOMIC_FORCE : 0, 0, err);
}

lmz_status lmz_tmpfile_commit(lmz_tmpfile *t, lmz_err *err)
{
    return lmz_atomic_commit(t, err);
}

void lmz_tmpfile_discard(lmz_tmpfile *t)
{
    lmz_atomic_abort(t);
}
