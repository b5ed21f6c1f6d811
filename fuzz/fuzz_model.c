/* fuzz_model: the model loader (host/format/modelfile.c) and, on every model it
 * accepts, the integer inference (kernels/).
 *
 * An input that starts with HDF5's signature is the model file as it is
 * (seeds: the golden tiny model and copies of it in other HDF5 layouts).
 * Any other input is a recipe for a forged model file (fuzz/forge.h):
 * configurations in and out of the limits, versions, tensors missing or of
 * the wrong type, shape, rank, sign, byte order or storage (chunked,
 * compressed, n-bit...), values in range, at the range's ends or anywhere,
 * and the hash right (so that the checks past it are reached) or wrong.
 *
 * lmz_model_load must refuse a bad file with a documented error and one
 * line, or return a model that passes lmz_model_validate and whose hash is
 * the file's. Such a model is then run: for a few positions the KV-cache
 * step and the full pass must give the same tables bit for bit, and every
 * table must be valid (all frequencies >= 1, total 2^16). The fuzz build
 * has UndefinedBehaviorSanitizer, so a signed overflow anywhere in the
 * arithmetic on adversarial (but in-range) weights is a finding. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forge.h"
#include "fuzz_util.h"
#include "lmz_coder.h"
#include "lmz_infer.h"
#include "lmz_model.h"
#include "lmz_modelfile.h"

/* Run models up to this size (the tiny preset has ~6k parameters). */
#define MAX_RUN_PARAMS 300000
#define MAX_FORGE_PARAMS 2000000

/* ---- values ---- */

typedef struct gen {
    fz_in *in;
    int mode;          /* 0 in range, 1 range ends, 2 anything */
    uint64_t s;        /* splitmix64 once the input is used up */
} gen;

static uint32_t gen_u32(gen *g)
{
    if (fz_left(g->in) >= 4)
        return fz_u32(g->in);
    uint64_t z = (g->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (uint32_t)(z ^ (z >> 31));
}

static int8_t gen_w(gen *g)
{
    uint32_t v = gen_u32(g);
    if (g->mode == 1)
        return v & 1 ? 127 : -127;
    if (g->mode == 2)
        return (int8_t)v;
    return (int8_t)((int)(v % 255) - 127);
}

static int32_t gen_mult(gen *g)
{
    uint32_t v = gen_u32(g);
    if (g->mode == 1)
        return v & 1 ? 32767 : 16384;
    if (g->mode == 2)
        return (int32_t)v;
    return 16384 + (int32_t)(v % 16384);
}

static int32_t gen_shift(gen *g)
{
    uint32_t v = gen_u32(g);
    if (g->mode == 1)
        return v & 1 ? 62 : 1;
    if (g->mode == 2)
        return (int32_t)v;
    return 1 + (int32_t)(v % 62);
}

static int32_t gen_bias(gen *g)
{
    uint32_t v = gen_u32(g);
    if (g->mode == 1)
        return v & 1 ? (1 << 24) : -(1 << 24);
    if (g->mode == 2)
        return (int32_t)v;
    return (int32_t)(v % ((1u << 25) + 1)) - (1 << 24);
}

static void fill_linear(gen *g, lmz_linear *l)
{
    for (size_t i = 0; i < (size_t)l->out * (size_t)l->in; i++)
        l->w[i] = gen_w(g);
    for (int32_t o = 0; o < l->out; o++) {
        l->mult[o] = gen_mult(g);
        l->shift[o] = gen_shift(g);
        l->bias[o] = gen_bias(g);
    }
}

/* ---- writing a forged model file ---- */

typedef struct writer {
    int next;          /* dataset counter */
    int target, kind;  /* dataset `target` is damaged the `kind` way */
    int layout;        /* storage layout of every dataset (forge.h) */
} writer;

/* One tensor: int8 (elem 1) or int32 (elem 4), rank 1 or 2. */
static void put_tensor(writer *w, hid_t loc, const char *name, int elem, int rank,
                       const hsize_t *dims, const void *data)
{
    int k = w->next++ == w->target ? w->kind % 10 : 0;
    hid_t ftype = elem == 1 ? H5T_STD_I8LE : H5T_STD_I32LE;
    hid_t mtype = elem == 1 ? H5T_NATIVE_INT8 : H5T_NATIVE_INT32;
    hsize_t d[2] = {dims[0], rank > 1 ? dims[1] : 1};
    size_t n = (size_t)d[0] * (size_t)d[1];
    void *buf = NULL;
    switch (k) {
    case 1: return; /* missing */
    case 2: ftype = elem == 1 ? H5T_STD_I16LE : H5T_STD_I64LE; break;
    case 3: /* one row more */
        buf = calloc(n + d[1], (size_t)elem);
        FZ_ASSERT(buf);
        memcpy(buf, data, n * (size_t)elem);
        data = buf;
        d[0]++;
        break;
    case 4: /* flattened or given an extra dimension */
        if (rank == 2) {
            d[0] = n;
            rank = 1;
        } else {
            d[1] = 1;
            rank = 2;
        }
        break;
    case 5: ftype = elem == 1 ? H5T_STD_U8LE : H5T_STD_U32LE; break;
    case 6: ftype = elem == 1 ? H5T_STD_I8BE : H5T_STD_I32BE; break; /* fine: HDF5 converts */
    case 7: ftype = H5T_IEEE_F32LE; break;
    case 8: { /* a group where a dataset should be */
        hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (g >= 0)
            H5Gclose(g);
        return;
    }
    case 9: /* one row fewer */
        if (d[0] > 0)
            d[0]--;
        break;
    }
    fg_dataset_nd(loc, name, ftype, mtype, rank, d, data, w->layout);
    free(buf);
}

static void put_linear(writer *w, hid_t loc, const char *name, const lmz_linear *l)
{
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return;
    hsize_t dims[2] = {(hsize_t)l->out, (hsize_t)l->in};
    put_tensor(w, g, "w", 1, 2, dims, l->w);
    put_tensor(w, g, "mult", 4, 1, dims, l->mult);
    put_tensor(w, g, "shift", 4, 1, dims, l->shift);
    put_tensor(w, g, "bias", 4, 1, dims, l->bias);
    H5Gclose(g);
}

static void forge(fz_in *in, const char *path)
{
    static const uint64_t dms[] = {16, 16, 8, 32, 4, 2, 1, 0, 1025, (uint64_t)-16};
    static const uint64_t nls[] = {1, 1, 2, 3, 0, 65};
    static const uint64_t nhs[] = {2, 2, 1, 4, 8, 0, 3, 17};
    static const uint64_t dffs[] = {64, 64, 16, 4, 1, 0, 4097};
    static const uint64_t ctxs[] = {2048, 2048, 16, 1, 64, 0, 8193};
    static const uint64_t versions[] = {1, 1, 1, 0, 2};
    uint32_t flags = fz_u32(in);
    lmz_config cfg = {(int32_t)fz_pick(in, dms, 10), (int32_t)fz_pick(in, nls, 6),
                      (int32_t)fz_pick(in, nhs, 8), (int32_t)fz_pick(in, dffs, 7),
                      (int32_t)fz_pick(in, ctxs, 7)};
    uint64_t arith = fz_pick(in, versions, 5), fver = fz_pick(in, versions, 5);
    char name[80];
    size_t got;
    const uint8_t *np = fz_bytes(in, fz_u8(in) % 72, &got);
    memcpy(name, np, got);
    name[got] = '\0';
    writer w = {0, flags & 32 ? fz_u16(in) % 64 : -1, fz_u8(in), flags & 64 ? fz_u8(in) : 0};
    uint8_t wrong_attr = flags & 128 ? fz_u8(in) : 0, wrong_type = fz_u8(in);

    /* HDF5's default format (superblock 0) is refused at once: rarely */
    hid_t f = fg_create(path, !((flags & 1) && (flags & 0x100000)));
    if (f < 0)
        return;
    lmz_model *m = NULL;
    char hex[33] = "not-a-hash";
    if (lmz_config_validate(&cfg, NULL) == LMZ_OK &&
        lmz_config_param_count(&cfg) <= MAX_FORGE_PARAMS && (m = lmz_model_alloc(&cfg))) {
        gen g = {in, flags & 4 ? 2 : flags & 8 ? 1 : 0, 0};
        m->arith_version = (int32_t)arith;
        g.s = fz_left(in);
        for (size_t i = 0; i < 256 * (size_t)cfg.d_model; i++)
            m->emb[i] = gen_w(&g);
        for (int s = 0; s < 256; s++) {
            m->emb_mult[s] = gen_mult(&g);
            m->emb_shift[s] = gen_shift(&g);
        }
        for (int32_t l = 0; l < cfg.n_layers; l++) {
            fill_linear(&g, &m->layers[l].qkv);
            fill_linear(&g, &m->layers[l].proj);
            fill_linear(&g, &m->layers[l].ff1);
            fill_linear(&g, &m->layers[l].ff2);
        }
        fill_linear(&g, &m->head);
        lmz_model_compute_hash(m);
        if (!(flags & 16))
            lmz_model_hash_hex(m, hex);
    }
    static const char *const attrs[] = {"format", "format_version", "arith_version", "d_model",
                                        "n_layers", "n_heads", "d_ff", "ctx", "name", "hash"};
    uint64_t vals[] = {0, fver, arith, (uint64_t)(int64_t)cfg.d_model, (uint64_t)(int64_t)cfg.n_layers,
                       (uint64_t)(int64_t)cfg.n_heads, (uint64_t)(int64_t)cfg.d_ff,
                       (uint64_t)(int64_t)cfg.ctx, 0, 0};
    for (int k = 0; k < 10; k++) {
        uint8_t wt = k == wrong_attr % 16 ? wrong_type : 0;
        if (k == 0)
            fg_attr_str(f, attrs[k], flags & 2 ? "lmz-modelX" : "lmz-model", wt);
        else if (k == 8)
            fg_attr_str(f, attrs[k], name, wt);
        else if (k == 9)
            fg_attr_str(f, attrs[k], hex, wt);
        else if (wt % 8 == 7)
            continue; /* missing */
        else if (k <= 2)
            fg_attr_uint(f, attrs[k], vals[k], 0, wt);
        else
            fg_attr_int(f, attrs[k], wt % 2 ? H5T_STD_I64BE : H5T_STD_I32LE, vals[k]);
    }
    if (m) {
        hsize_t emb_dims[2] = {256, (hsize_t)cfg.d_model}, sd[1] = {256};
        put_tensor(&w, f, "emb", 1, 2, emb_dims, m->emb);
        put_tensor(&w, f, "emb_mult", 4, 1, sd, m->emb_mult);
        put_tensor(&w, f, "emb_shift", 4, 1, sd, m->emb_shift);
        hid_t layers = H5Gcreate2(f, "layers", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        for (int32_t l = 0; layers >= 0 && l < cfg.n_layers; l++) {
            char ln[16];
            snprintf(ln, sizeof ln, "%d", (int)l);
            hid_t g = H5Gcreate2(layers, ln, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            if (g < 0)
                break;
            put_linear(&w, g, "qkv", &m->layers[l].qkv);
            put_linear(&w, g, "proj", &m->layers[l].proj);
            put_linear(&w, g, "ff1", &m->layers[l].ff1);
            put_linear(&w, g, "ff2", &m->layers[l].ff2);
            H5Gclose(g);
        }
        if (layers >= 0)
            H5Gclose(layers);
        put_linear(&w, f, "head", &m->head);
    }
    H5Fclose(f);
    lmz_model_free(m);
}

/* ---- running an accepted model ---- */

static void run(const lmz_model *m, fz_in *in)
{
    if (lmz_config_param_count(&m->cfg) > MAX_RUN_PARAMS)
        return;
    int n = 1 + fz_u8(in) % 12;
    if (n > m->cfg.ctx)
        n = m->cfg.ctx;
    uint8_t data[12];
    for (int i = 0; i < n; i++)
        data[i] = fz_u8(in);
    lmz_scratch *s = lmz_scratch_create(&m->cfg);
    lmz_kv *kv = lmz_kv_create(&m->cfg);
    uint16_t *full = malloc((size_t)n * 256 * sizeof *full);
    uint16_t cum[12], freq[12], step[256];
    FZ_ASSERT(s && kv && full);
    FZ_ASSERT(lmz_forward_chunk(m, s, data, n, cum, freq, full) == LMZ_OK);
    lmz_kv_reset(kv);
    for (int i = 0; i < n; i++) {
        FZ_ASSERT(lmz_kv_step(m, s, kv, i ? data[i - 1] : 0, step) == LMZ_OK);
        FZ_ASSERT(lmz_freq_valid(step));
        /* the determinism contract: both paths give the same table */
        FZ_ASSERT(memcmp(step, full + (size_t)i * 256, sizeof step) == 0);
        uint32_t c = 0;
        for (int t = 0; t < data[i]; t++)
            c += step[t];
        FZ_ASSERT(cum[i] == c && freq[i] == step[data[i]]);
    }
    free(full);
    lmz_kv_free(kv);
    lmz_scratch_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4096];
    fz_path("m.lmzm", path, sizeof path);
    fz_in in;
    fz_init(&in, data, size);
    if (fz_is_hdf5(data, size)) {
        fz_write_file(path, data, size);
        in.pos = size;
    } else {
        lmz_h5_init();
        forge(&in, path);
    }
    lmz_model *m = NULL;
    lmz_err e;
    lmz_err_clear(&e);
    lmz_status st = lmz_model_load(path, &m, &e);
    if (st != LMZ_OK) {
        FZ_ASSERT(m == NULL);
        FZ_ASSERT(st == LMZ_ERR_MODEL_INVALID || st == LMZ_ERR_VERSION ||
                  st == LMZ_ERR_TRUNCATED || st == LMZ_ERR_IO || st == LMZ_ERR_NOMEM ||
                  st == LMZ_ERR_MODEL_MISSING);
        FZ_ASSERT(e.msg[0] && !strchr(e.msg, '\n'));
    } else {
        FZ_ASSERT(lmz_model_validate(m, &e) == LMZ_OK);
        uint8_t stated[16];
        memcpy(stated, m->hash, 16);
        lmz_model_compute_hash(m);
        FZ_ASSERT(memcmp(stated, m->hash, 16) == 0);
        run(m, &in);
        lmz_model_free(m);
    }
    unlink(path);
    return 0;
}
