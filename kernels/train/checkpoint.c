/* checkpoint.c: a training run's state in one file, to stop and resume.
 *
 * Layout (all little-endian):
 *   "LMZTRAIN"  magic, 8 bytes
 *   u32 version (1), u32 header length H
 *   H bytes of header: the options field by field, then the run's state
 *     (step, tokens, seconds, RNG state, folded) and the parameter count
 *   f32 params[n], f32 adam_m[n], f32 adam_v[n]
 *   u64 XXH64 (seed 0) of every byte before it
 * Written through io/lmz_atomic.h (a temporary file beside the target,
 * fsynced and renamed into place), so a crash leaves the previous
 * checkpoint whole. This file serializes a tr_ckpt_state and never sees the
 * trainer (tr_ckpt.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "lmz_atomic.h"
#include "tr_ckpt.h"

#define CKPT_MAGIC "LMZTRAIN"
#define CKPT_VERSION 1u

/* ---- a little-endian byte buffer for the header ---- */

typedef struct hbuf {
    uint8_t b[1024];
    size_t n, pos;
    int bad;
} hbuf;

static void put_u64(hbuf *h, uint64_t v, int bytes)
{
    if (h->n + (size_t)bytes > sizeof h->b) {
        h->bad = 1;
        return;
    }
    for (int i = 0; i < bytes; i++)
        h->b[h->n++] = (uint8_t)(v >> (8 * i));
}
static void put_i32(hbuf *h, int32_t v) { put_u64(h, (uint32_t)v, 4); }
static void put_i64(hbuf *h, int64_t v) { put_u64(h, (uint64_t)v, 8); }
static void put_f32(hbuf *h, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    put_u64(h, u, 4);
}
static void put_f64(hbuf *h, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    put_u64(h, u, 8);
}

static uint64_t get_u64(hbuf *h, int bytes)
{
    if (h->pos + (size_t)bytes > h->n) {
        h->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)h->b[h->pos++] << (8 * i);
    return v;
}
static int32_t get_i32(hbuf *h) { return (int32_t)(uint32_t)get_u64(h, 4); }
static int64_t get_i64(hbuf *h) { return (int64_t)get_u64(h, 8); }
static float get_f32(hbuf *h)
{
    uint32_t u = (uint32_t)get_u64(h, 4);
    float v;
    memcpy(&v, &u, 4);
    return v;
}
static double get_f64(hbuf *h)
{
    uint64_t u = get_u64(h, 8);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

/* The header's fields; header_get reads them back in the same order. */
static void header_put(hbuf *h, const tr_ckpt_state *s)
{
    const lmz_train_opts *o = &s->o;
    put_i32(h, o->cfg.d_model);
    put_i32(h, o->cfg.n_layers);
    put_i32(h, o->cfg.n_heads);
    put_i32(h, o->cfg.d_ff);
    put_i32(h, o->cfg.ctx);
    put_i32(h, o->n_stages);
    for (int k = 0; k < LMZ_TRAIN_MAX_STAGES; k++) {
        put_i32(h, o->stages[k].ctx);
        put_f32(h, o->stages[k].until);
    }
    put_i64(h, o->batch_tokens);
    put_i64(h, o->max_steps);
    put_f64(h, o->max_seconds);
    put_f32(h, o->lr);
    put_f32(h, o->lr_min);
    put_i32(h, o->warmup_steps);
    put_i32(h, o->decay);
    put_f32(h, o->weight_decay);
    put_f32(h, o->beta1);
    put_f32(h, o->beta2);
    put_f32(h, o->adam_eps);
    put_f32(h, o->grad_clip);
    put_f32(h, o->qat);
    put_u64(h, o->seed, 8);
    put_i32(h, o->nthreads);
    put_i64(h, o->eval_every);
    put_i64(h, o->eval_bytes);
    put_i64(h, s->step);
    put_i64(h, s->tokens);
    put_f64(h, s->seconds);
    put_u64(h, s->rng, 8);
    put_i32(h, s->folded);
    put_u64(h, s->nparams, 8);
}

static void header_get(hbuf *h, tr_ckpt_state *s)
{
    memset(s, 0, sizeof *s);
    lmz_train_opts *o = &s->o;
    o->cfg.d_model = get_i32(h);
    o->cfg.n_layers = get_i32(h);
    o->cfg.n_heads = get_i32(h);
    o->cfg.d_ff = get_i32(h);
    o->cfg.ctx = get_i32(h);
    o->n_stages = get_i32(h);
    for (int k = 0; k < LMZ_TRAIN_MAX_STAGES; k++) {
        o->stages[k].ctx = get_i32(h);
        o->stages[k].until = get_f32(h);
    }
    o->batch_tokens = get_i64(h);
    o->max_steps = get_i64(h);
    o->max_seconds = get_f64(h);
    o->lr = get_f32(h);
    o->lr_min = get_f32(h);
    o->warmup_steps = get_i32(h);
    o->decay = get_i32(h);
    o->weight_decay = get_f32(h);
    o->beta1 = get_f32(h);
    o->beta2 = get_f32(h);
    o->adam_eps = get_f32(h);
    o->grad_clip = get_f32(h);
    o->qat = get_f32(h);
    o->seed = get_u64(h, 8);
    o->nthreads = get_i32(h);
    o->eval_every = get_i64(h);
    o->eval_bytes = get_i64(h);
    s->step = get_i64(h);
    s->tokens = get_i64(h);
    s->seconds = get_f64(h);
    s->rng = get_u64(h, 8);
    s->folded = get_i32(h);
    s->nparams = get_u64(h, 8);
}

/* ---- writing ---- */

typedef struct wr {
    lmz_atomic *a;
    XXH64_state_t *xs;
    lmz_status st;
    lmz_err e; /* the first failure */
} wr;

static void wr_bytes(wr *w, const void *p, size_t n)
{
    if (w->st != LMZ_OK)
        return;
    w->st = lmz_atomic_write(w->a, p, n, &w->e);
    XXH64_update(w->xs, p, n);
}

/* floats as little-endian bytes, in blocks */
static void wr_floats(wr *w, const float *v, size_t n)
{
    uint8_t buf[16384];
    while (n) {
        const size_t k = n < sizeof buf / 4 ? n : sizeof buf / 4;
        for (size_t i = 0; i < k; i++) {
            uint32_t u;
            memcpy(&u, &v[i], 4);
            buf[4 * i] = (uint8_t)u;
            buf[4 * i + 1] = (uint8_t)(u >> 8);
            buf[4 * i + 2] = (uint8_t)(u >> 16);
            buf[4 * i + 3] = (uint8_t)(u >> 24);
        }
        wr_bytes(w, buf, 4 * k);
        v += k;
        n -= k;
    }
}

lmz_status tr_ckpt_save(const char *path, const tr_ckpt_state *s, const float *params,
                        const float *m, const float *v, lmz_err *err)
{
    hbuf h = {0};
    header_put(&h, s);
    if (h.bad)
        return lmz_err_set(err, LMZ_ERR_GENERIC, "checkpoint: header too large");
    XXH64_state_t *xs = XXH64_createState();
    if (!xs)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "checkpoint: out of memory");
    lmz_atomic a;
    wr w = {&a, xs, LMZ_OK, {0}};
    /* A checkpoint replaces the previous one: that is what it is for. */
    w.st = lmz_atomic_open(&a, path, LMZ_ATOMIC_FORCE, 0, &w.e);
    if (w.st != LMZ_OK) {
        XXH64_freeState(xs);
        return lmz_err_set(err, w.st, "checkpoint %s", w.e.msg);
    }
    XXH64_reset(xs, 0);
    uint8_t pre[16];
    memcpy(pre, CKPT_MAGIC, 8);
    const uint32_t ver = CKPT_VERSION, hl = (uint32_t)h.n;
    for (int i = 0; i < 4; i++) {
        pre[8 + i] = (uint8_t)(ver >> (8 * i));
        pre[12 + i] = (uint8_t)(hl >> (8 * i));
    }
    wr_bytes(&w, pre, sizeof pre);
    wr_bytes(&w, h.b, h.n);
    wr_floats(&w, params, s->nparams);
    wr_floats(&w, m, s->nparams);
    wr_floats(&w, v, s->nparams);
    const uint64_t sum = XXH64_digest(xs);
    XXH64_freeState(xs);
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(sum >> (8 * i));
    if (w.st == LMZ_OK)
        w.st = lmz_atomic_write(&a, le, 8, &w.e);
    if (w.st == LMZ_OK)
        w.st = lmz_atomic_commit(&a, &w.e); /* removes the temporary file if it fails */
    else
        lmz_atomic_abort(&a);
    if (w.st != LMZ_OK)
        return lmz_err_set(err, w.st, "checkpoint %s", w.e.msg);
    return LMZ_OK;
}

/* ---- reading ---- */

void tr_ckpt_floats(const tr_ckpt_file *f, float *params, float *m, float *v)
{
    float *dst[3] = {params, m, v};
    const size_t n = f->s.nparams;
    for (int a = 0; a < 3; a++) {
        const uint8_t *b = f->floats + (size_t)a * 4 * n;
        for (size_t i = 0; i < n; i++) {
            const uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
                               (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
            memcpy(&dst[a][i], &u, 4);
        }
    }
}

void tr_ckpt_close(tr_ckpt_file *f)
{
    free(f->buf);
    memset(f, 0, sizeof *f);
}

/* Read and check; on any failure nothing stays allocated. */
lmz_status tr_ckpt_open(const char *path, tr_ckpt_file *out, lmz_err *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return lmz_err_set(err, LMZ_ERR_IO, "checkpoint %s: %s", path, strerror(errno));
    uint8_t *buf = NULL;
    size_t len = 0;
    lmz_status st = LMZ_OK;
    if (fseek(f, 0, SEEK_END) == 0) {
        long l = ftell(f);
        if (l > 0 && fseek(f, 0, SEEK_SET) == 0) {
            len = (size_t)l;
            buf = malloc(len);
            if (!buf)
                st = lmz_err_set(err, LMZ_ERR_NOMEM, "checkpoint: out of memory");
            else if (fread(buf, 1, len, f) != len)
                st = lmz_err_set(err, LMZ_ERR_IO, "checkpoint %s: read failed", path);
        }
    }
    fclose(f);
    if (st == LMZ_OK && (len < 24 || memcmp(buf, CKPT_MAGIC, 8) != 0))
        st = lmz_err_set(err, LMZ_ERR_GENERIC, "%s is not an lmz training checkpoint", path);
    if (st != LMZ_OK) {
        free(buf);
        return st;
    }
    uint64_t stored = 0;
    for (int i = 0; i < 8; i++)
        stored |= (uint64_t)buf[len - 8 + i] << (8 * i);
    const uint32_t ver = (uint32_t)buf[8] | (uint32_t)buf[9] << 8 | (uint32_t)buf[10] << 16 |
                         (uint32_t)buf[11] << 24;
    const uint32_t hl = (uint32_t)buf[12] | (uint32_t)buf[13] << 8 | (uint32_t)buf[14] << 16 |
                        (uint32_t)buf[15] << 24;
    hbuf h = {0};
    if (XXH64(buf, len - 8, 0) != stored)
        st = lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK, "checkpoint %s: checksum mismatch", path);
    else if (ver != CKPT_VERSION)
        st = lmz_err_set(err, LMZ_ERR_VERSION, "checkpoint %s: version %u, this build reads %u",
                         path, ver, CKPT_VERSION);
    else if (hl > sizeof h.b || 16 + (size_t)hl > len - 8)
        st = lmz_err_set(err, LMZ_ERR_GENERIC, "checkpoint %s: bad header", path);
    if (st == LMZ_OK) {
        memcpy(h.b, buf + 16, hl);
        h.n = hl;
        header_get(&h, &out->s);
        if (h.bad)
            st = lmz_err_set(err, LMZ_ERR_GENERIC, "checkpoint %s: short header", path);
    }
    /* The three arrays fill the rest exactly (checked without overflow). */
    const uint64_t np = out->s.nparams, room = len - 24 - hl;
    if (st == LMZ_OK && (np > room / 12 || 12 * np != room))
        st = lmz_err_set(err, LMZ_ERR_GENERIC, "checkpoint %s: size does not match its model",
                         path);
    if (st != LMZ_OK) {
        free(buf);
        memset(out, 0, sizeof *out);
        return st;
    }
    out->buf = buf;
    out->floats = buf + 16 + hl;
    return LMZ_OK;
}
