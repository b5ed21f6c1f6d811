/* modelfile.c: model files (docs/format.md, "Model files"): writing and
 * reading them, alone or inside an archive (the built-in models and the
 * search path are modelsearch.c).
 *
 * A model file is untrusted input: every dataset's type and shape is checked
 * against the configuration before it is read into the buffers that
 * lmz_model_alloc sized from that configuration, and the model's hash is
 * recomputed and compared with the one the file states. */
#include "lmz_modelfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h5util.h"

#define LMZ_MODEL_FORMAT_NAME "lmz-model"
#define LMZ_MODEL_FORMAT_VERSION 1

/* ---- writing ---- */

static int write_i8(hid_t loc, const char *name, int rank, const hsize_t *dims, const int8_t *v)
{
    return lmz_h5_write_array(loc, name, H5T_STD_I8LE, H5T_NATIVE_INT8, rank, dims, v);
}

static int write_i32(hid_t loc, const char *name, hsize_t n, const int32_t *v)
{
    hsize_t dims[1] = {n};
    return lmz_h5_write_array(loc, name, H5T_STD_I32LE, H5T_NATIVE_INT32, 1, dims, v);
}

/* Group name with datasets w [out][in], mult, shift, bias [out]. */
static int write_linear(hid_t loc, const char *name, const lmz_linear *l)
{
    hid_t g = lmz_h5_create_group(loc, name);
    if (g < 0)
        return -1;
    hsize_t dims[2] = {(hsize_t)l->out, (hsize_t)l->in};
    int rc = write_i8(g, "w", 2, dims, l->w) | write_i32(g, "mult", dims[0], l->mult) |
             write_i32(g, "shift", dims[0], l->shift) | write_i32(g, "bias", dims[0], l->bias);
    if (H5Gclose(g) < 0)
        rc = -1;
    return rc;
}

static int write_layers(hid_t loc, const lmz_model *m)
{
    hid_t layers = lmz_h5_create_group(loc, "layers");
    if (layers < 0)
        return -1;
    int rc = 0;
    for (int32_t i = 0; rc == 0 && i < m->cfg.n_layers; i++) {
        char name[16];
        snprintf(name, sizeof name, "%d", (int)i);
        hid_t g = lmz_h5_create_group(layers, name);
        if (g < 0) {
            rc = -1;
            break;
        }
        const lmz_layer *L = &m->layers[i];
        rc = write_linear(g, "qkv", &L->qkv) | write_linear(g, "proj", &L->proj) |
             write_linear(g, "ff1", &L->ff1) | write_linear(g, "ff2", &L->ff2);
        if (H5Gclose(g) < 0)
            rc = -1;
    }
    if (H5Gclose(layers) < 0)
        rc = -1;
    return rc;
}

static int write_model_attributes(hid_t loc, const lmz_model *m, const char *hash_hex)
{
    return lmz_h5_attr_write_str(loc, "format", LMZ_MODEL_FORMAT_NAME) |
           lmz_h5_attr_write_u32(loc, "format_version", LMZ_MODEL_FORMAT_VERSION) |
           lmz_h5_attr_write_u32(loc, "arith_version", (uint32_t)m->arith_version) |
           lmz_h5_attr_write_i32(loc, "d_model", m->cfg.d_model) |
           lmz_h5_attr_write_i32(loc, "n_layers", m->cfg.n_layers) |
           lmz_h5_attr_write_i32(loc, "n_heads", m->cfg.n_heads) |
           lmz_h5_attr_write_i32(loc, "d_ff", m->cfg.d_ff) |
           lmz_h5_attr_write_i32(loc, "ctx", m->cfg.ctx) |
           lmz_h5_attr_write_str(loc, "name", m->name) |
           lmz_h5_attr_write_str(loc, "hash", hash_hex);
}

/* The hash m would have now; a model whose stored hash is stale would be
 * written with a hash its own file contradicts. */
static int hash_is_current(const lmz_model *m)
{
    lmz_model copy = *m; /* shares the tensors; compute_hash writes only .hash */
    lmz_model_compute_hash(&copy);
    return memcmp(copy.hash, m->hash, sizeof m->hash) == 0;
}

lmz_status lmz_model_h5_write(int64_t loc_id, const lmz_model *m, lmz_err *err)
{
    lmz_h5_init();
    hid_t loc = (hid_t)loc_id;
    lmz_status st = lmz_model_validate(m, err);
    if (st != LMZ_OK)
        return st;
    if (!hash_is_current(m))
        return lmz_err_set(err, LMZ_ERR_MODEL_INVALID,
                           "model: its hash is out of date (lmz_model_compute_hash not called)");
    if (memchr(m->name, '\0', sizeof m->name) == NULL)
        return lmz_err_set(err, LMZ_ERR_MODEL_INVALID, "model: name is not terminated");
    char hex[33];
    lmz_model_hash_hex(m, hex);
    hsize_t emb_dims[2] = {256, (hsize_t)m->cfg.d_model};
    errno = 0;
    int rc = write_model_attributes(loc, m, hex) | write_i8(loc, "emb", 2, emb_dims, m->emb) |
             write_i32(loc, "emb_mult", 256, m->emb_mult) |
             write_i32(loc, "emb_shift", 256, m->emb_shift) | write_layers(loc, m) |
             write_linear(loc, "head", &m->head);
    if (rc != 0)
        return lmz_err_set(err, LMZ_ERR_IO, "model: write failed: %s", lmz_h5_strerror(errno));
    return LMZ_OK;
}

lmz_status lmz_model_save(const lmz_model *m, const char *path, int force, lmz_err *err)
{
    lmz_h5_init();
    lmz_tmpfile tmp;
    lmz_status st = lmz_tmpfile_create(&tmp, path, force, err);
    if (st != LMZ_OK)
        return st;
    hid_t fcpl = lmz_h5_fcpl(), fapl = lmz_h5_fapl(), file = -1;
    errno = 0;
    if (fcpl >= 0 && fapl >= 0)
        file = H5Fcreate(tmp.tmp, H5F_ACC_TRUNC, fcpl, fapl);
    int e = errno;
    if (fcpl >= 0)
        H5Pclose(fcpl);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (file < 0) {
        lmz_tmpfile_discard(&tmp);
        return lmz_err_set(err, LMZ_ERR_IO, "%s: cannot create: %s", path, lmz_h5_strerror(e));
    }
    lmz_err we;
    st = lmz_model_h5_write(file, m, &we);
    errno = 0;
    herr_t closed = H5Fclose(file);
    if (st == LMZ_OK && closed < 0)
        st = lmz_err_set(&we, LMZ_ERR_IO, "write failed: %s", lmz_h5_strerror(errno));
    if (st != LMZ_OK) {
        lmz_tmpfile_discard(&tmp);
        return lmz_err_set(err, st, "%s: %s", path, we.msg);
    }
    st = lmz_tmpfile_commit(&tmp, err); /* its messages name the path */
    if (st != LMZ_OK)
        lmz_tmpfile_discard(&tmp);
    return st;
}

/* ---- reading ---- */

static lmz_status bad_dataset(const char *group, const char *name, lmz_err *err)
{
    return lmz_err_set(err, LMZ_ERR_MODEL_INVALID,
                       "model: dataset %s%s%s is missing or does not match the configuration",
                       group, group[0] ? "/" : "", name);
}

/* Read dataset name of loc after checking that it is a signed integer of
 * elem_size bytes with exactly the given dims; group names it in messages. */
static lmz_status read_tensor(hid_t loc, const char *group, const char *name, size_t elem_size,
                              int rank, const hsize_t *dims, void *buf, lmz_err *err)
{
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0)
        return bad_dataset(group, name, err);
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0)
        return bad_dataset(group, name, err);
    hid_t mtype = elem_size == 1 ? H5T_NATIVE_INT8 : H5T_NATIVE_INT32;
    int ok = lmz_h5_check_int_dataset(ds, elem_size, H5T_SGN_2, rank, dims) == 0 &&
             H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0;
    H5Dclose(ds);
    return ok ? LMZ_OK : bad_dataset(group, name, err);
}

static lmz_status read_linear(hid_t loc, const char *group, lmz_linear *l, lmz_err *err)
{
    if (H5Lexists(loc, group, H5P_DEFAULT) <= 0)
        return lmz_err_set(err, LMZ_ERR_MODEL_INVALID, "model: group %s is missing", group);
    hid_t g = H5Gopen2(loc, group, H5P_DEFAULT);
    if (g < 0)
        return lmz_err_set(err, LMZ_ERR_MODEL_INVALID, "model: group %s is unreadable", group);
    hsize_t dims[2] = {(hsize_t)l->out, (hsize_t)l->in};
    lmz_status st = read_tensor(g, group, "w", 1, 2, dims, l->w, err);
    if (st == LMZ_OK)
        st = read_tensor(g, group, "mult", 4, 1, dims, l->mult, err);
    if (st == LMZ_OK)
        st = read_tensor(g, group, "shift", 4, 1, dims, l->shift, err);
    if (st == LMZ_OK)
        st = read_tensor(g, group, "bias", 4, 1, dims, l->bias, err);
    H5Gclose(g);
    return st;
}

static lmz_status read_tensors(hid_t loc, lmz_model *m, lmz_err *err)
{
    hsize_t emb_dims[2] = {256, (hsize_t)m->cfg.d_model}, scale_dims[1] = {256};
    lmz_status st = read_tensor(loc, "", "emb", 1, 2, emb_dims, m->emb, err);
    if (st == LMZ_OK)
        st = read_tensor(loc, "", "emb_mult", 4, 1, scale_dims, m->emb_mult, err);
    if (st == LMZ_OK)
        st = read_tensor(loc, "", "emb_shift", 4, 1, scale_dims, m->emb_shift, err);
    static const char *const parts[4] = {"qkv", "proj", "ff1", "ff2"};
    for (int32_t i = 0; st == LMZ_OK && i < m->cfg.n_layers; i++) {
        lmz_linear *lin[4] = {&m->layers[i].qkv, &m->layers[i].proj, &m->layers[i].ff1,
                              &m->layers[i].ff2};
        for (int p = 0; st == LMZ_OK && p < 4; p++) {
            char group[48];
            snprintf(group, sizeof group, "layers/%d/%s", (int)i, parts[p]);
            st = read_linear(loc, group, lin[p], err);
        }
    }
    if (st == LMZ_OK)
        st = read_linear(loc, "head", &m->head, err);
    return st;
}

static lmz_status bad_model_attribute(const char *name, lmz_err *err)
{
    return lmz_err_set(err, LMZ_ERR_MODEL_INVALID, "model: attribute '%s' is missing or invalid",
                       name);
}

static lmz_status read_i32_attr(hid_t loc, const char *name, int32_t *out, lmz_err *err)
{
    int64_t v;
    if (lmz_h5_attr_read_int(loc, name, INT32_MIN, INT32_MAX, &v) < 0)
        return bad_model_attribute(name, err);
    *out = (int32_t)v;
    return LMZ_OK;
}

/* format, versions and configuration: everything needed to size the model. */
static lmz_status read_model_header(hid_t loc, lmz_config *cfg, int32_t *arith, lmz_err *err)
{
    char format[16];
    if (lmz_h5_attr_read_str(loc, "format", format, sizeof format) < 0 ||
        strcmp(format, LMZ_MODEL_FORMAT_NAME) != 0)
        return lmz_err_set(err, LMZ_ERR_MODEL_INVALID, "not an lmz model");
    int32_t version = 0;
    lmz_status st = read_i32_attr(loc, "format_version", &version, err);
    if (st != LMZ_OK)
        return st;
    if (version > LMZ_MODEL_FORMAT_VERSION)
        return lmz_err_set(err, LMZ_ERR_VERSION,
                           "model file format version %d is newer than this lmz supports (%d)",
                           (int)version, LMZ_MODEL_FORMAT_VERSION);
    if (version < 1)
        return bad_model_attribute("format_version", err);
    if ((st = read_i32_attr(loc, "arith_version", arith, err)) != LMZ_OK)
        return st;
    if (*arith > LMZ_ARITH_VERSION)
        return lmz_err_set(err, LMZ_ERR_VERSION,
                           "model arithmetic version %d is newer than this lmz supports (%d)",
                           (int)*arith, LMZ_ARITH_VERSION);
    if ((st = read_i32_attr(loc, "d_model", &cfg->d_model, err)) == LMZ_OK &&
        (st = read_i32_attr(loc, "n_layers", &cfg->n_layers, err)) == LMZ_OK &&
        (st = read_i32_attr(loc, "n_heads", &cfg->n_heads, err)) == LMZ_OK &&
        (st = read_i32_attr(loc, "d_ff", &cfg->d_ff, err)) == LMZ_OK)
        st = read_i32_attr(loc, "ctx", &cfg->ctx, err);
    if (st != LMZ_OK)
        return st;
    return lmz_config_validate(cfg, err);
}

lmz_status lmz_model_h5_read(int64_t loc_id, lmz_model **out, lmz_err *err)
{
    lmz_h5_init();
    hid_t loc = (hid_t)loc_id;
    *out = NULL;
    lmz_config cfg;
    int32_t arith = 0;
    char name[64], stated_hash[64];
    lmz_status st = read_model_header(loc, &cfg, &arith, err);
    if (st != LMZ_OK)
        return st;
    if (lmz_h5_attr_read_str(loc, "name", name, sizeof name) < 0)
        return bad_model_attribute("name", err);
    if (lmz_h5_attr_read_str(loc, "hash", stated_hash, sizeof stated_hash) < 0)
        return bad_model_attribute("hash", err);
    lmz_model *m = lmz_model_alloc(&cfg);
    if (!m)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "out of memory for the model");
    m->arith_version = arith;
    memcpy(m->name, name, sizeof m->name);
    st = read_tensors(loc, m, err);
    if (st == LMZ_OK)
        st = lmz_model_validate(m, err);
    if (st == LMZ_OK) {
        char hex[33];
        lmz_model_compute_hash(m);
        lmz_model_hash_hex(m, hex);
        if (strcmp(hex, stated_hash) != 0)
            st = lmz_err_set(err, LMZ_ERR_MODEL_INVALID, "model hash mismatch (file damaged)");
    }
    if (st != LMZ_OK) {
        lmz_model_free(m);
        return st;
    }
    *out = m;
    return LMZ_OK;
}

/* Open a model file read-only; a message names path. */
static hid_t open_model_file(const char *path, lmz_err *err)
{
    struct stat sb;
    if (stat(path, &sb) < 0) {
        lmz_err_set(err, errno == ENOENT ? LMZ_ERR_MODEL_MISSING : LMZ_ERR_IO, "%s: %s", path,
                    strerror(errno));
        return -1;
    }
    hid_t f = S_ISREG(sb.st_mode) ? lmz_h5_open_read(path) : -1;
    int version = S_ISREG(sb.st_mode) ? lmz_h5_superblock_version(path) : -1;
    if (f < 0) {
        if (version == 0 || version == 1)
            lmz_err_set(err, LMZ_ERR_MODEL_INVALID,
                        "%s: not an lmz model (HDF5 superblock version %d has no metadata "
                        "checksums; lmz model files have version 2 or later)",
                        path, version);
        else if (lmz_h5_error_has_minor(H5E_TRUNCATED))
            lmz_err_set(err, LMZ_ERR_TRUNCATED, "%s: file is truncated", path);
        else
            lmz_err_set(err, LMZ_ERR_MODEL_INVALID, "%s: not an lmz model", path);
    }
    return f;
}

lmz_status lmz_model_load(const char *path, lmz_model **out, lmz_err *err)
{
    lmz_h5_init();
    *out = NULL;
    hid_t f = open_model_file(path, err);
    if (f < 0)
        return err ? err->code : LMZ_ERR_MODEL_INVALID;
    lmz_err e;
    lmz_status st = lmz_model_h5_read(f, out, &e);
    H5Fclose(f);
    if (st != LMZ_OK)
        return lmz_err_set(err, st, "%s: %s", path, e.msg);
    return LMZ_OK;
}

/* The hash a model file states, without loading the model; "" if it is not
 * a readable model file. */
void lmz_model_file_hash(const char *path, char out[64])
{
    out[0] = '\0';
    hid_t f = lmz_h5_open_read(path);
    if (f < 0)
        return;
    char format[16];
    if (lmz_h5_attr_read_str(f, "format", format, sizeof format) < 0 ||
        strcmp(format, LMZ_MODEL_FORMAT_NAME) != 0 ||
        lmz_h5_attr_read_str(f, "hash", out, 64) < 0)
        out[0] = '\0';
    H5Fclose(f);
}

static void count_sink(void *ctx, const void *bytes, size_t n)
{
    (void)bytes;
    *(uint64_t *)ctx += n;
}

uint64_t lmz_model_bytes(const lmz_model *m)
{
    uint64_t n = 0;
    lmz_model_serialize(m, count_sink, &n);
    return n;
}
