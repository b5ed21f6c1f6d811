/* checkpoint.c: a training run's state in one file, to stop and resume.
 *
 * Layout (all little-endian):
 *   "LMZTRAIN"  magic, 8 bytes
 *   u32 version (1), u32 header length H
 *   H bytes of header: the options field by field, then the run's state
 *     (step, tokens, seconds, RNG state, folded) and the parameter count
 *   f32 params[n], f32 adam_m[n], f32 adam_v[n]
 *   u64 XXH64 (seed 0) of every byte before it
 * Written to a temporary file beside the target and renamed into place, so a
 * crash leaves the previous checkpoint whole. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "tr_trainer.h"

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
static void header_put(hbuf *h, const lmz_trainer *t)
{
    const lmz_train_opts *o = &t->o;
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
    put_i64(h, t->prog.step);
    put_i64(h, t->prog.tokens);
    put_f64(h, t->prog.seconds);
    put_u64(h, t->rng, 8);
    put_i32(h, t->fm->folded);
    put_u64(h, t->fm->nparams, 8);
}

static void header_get(hbuf *h, lmz_train_opts *o, lmz_trainer *t, int *folded,
                       uint64_t *nparams)
{
    memset(o, 0, sizeof *o);
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
    t->prog.step = get_i64(h);
    t->prog.tokens = get_i64(h);
    t->prog.seconds = get_f64(h);
    t->rng = get_u64(h, 8);
    *folded = get_i32(h);
    *nparams = get_u64(h, 8);
}

/* ---- writing ---- */

typedef struct wr {
    FILE *f;
    XXH64_state_t *xs;
    int bad;
} wr;

static void wr_bytes(wr *w, const void *p, size_t n)
{
    if (w->bad)
        return;
    if (fwrite(p, 1, n, w->f) != n)
        w->bad = 1;
    XXH64_update(w->xs, p, n);
}

/* floats as little-endian bytes, in blocks */
static void wr_floats(wr *w, const float *v, size_t n)
{
    uint8_t buf[4096];
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

lmz_status lmz_trainer_save(const lmz_trainer *t, const char *path, lmz_err *err)
{
    hbuf h = {0};
    header_put(&h, t);
    if (h.bad)
        return lmz_err_set(err, LMZ_ERR_GENERIC, "checkpoint: header too large");
    const size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    if (!tmp)
        return lmz_err_set(err, LMZ_ERR_NOMEM, "checkpoint: out of memory");
    snprintf(tmp, plen + 32, "%s.lmz-tmp-XXXXXX", path);
    const int fd = mkstemp(tmp);
    if (fd >= 0)
        (void)fchmod(fd, 0644); /* mkstemp's 0600 is for the name race, not the result */
    if (fd < 0) {
        lmz_status st = lmz_err_set(err, LMZ_ERR_IO, "checkpoint %s: %s", path, strerror(errno));
        free(tmp);
        return st;
    }
    wr w = {fdopen(fd, "wb"), XXH64_createState(), 0};
    if (!w.f || !w.xs) {
        if (w.f)
            fclose(w.f);
        else
            close(fd);
        unlink(tmp);
        free(tmp);
        XXH64_freeState(w.xs);
        return lmz_err_set(err, LMZ_ERR_NOMEM, "checkpoint: out of memory");
    }
    XXH64_reset(w.xs, 0);
    uint8_t pre[16];
    memcpy(pre, CKPT_MAGIC, 8);
    const uint32_t ver = CKPT_VERSION, hl = (uint32_t)h.n;
    for (int i = 0; i < 4; i++) {
        pre[8 + i] = (uint8_t)(ver >> (8 * i));
        pre[12 + i] = (uint8_t)(hl >> (8 * i));
    }
    wr_bytes(&w, pre, sizeof pre);
    wr_bytes(&w, h.b, h.n);
    const size_t n = t->fm->nparams;
    wr_floats(&w, t->fm->params, n);
    wr_floats(&w, t->m, n);
    wr_floats(&w, t->v, n);
    const uint64_t sum = XXH64_digest(w.xs);
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(sum >> (8 * i));
    if (!w.bad && fwrite(le, 1, 8, w.f) != 8)
        w.bad = 1;
    XXH64_freeState(w.xs);
    if (fflush(w.f) != 0 || fsync(fileno(w.f)) != 0)
        w.bad = 1;
    const int saved_errno = errno;
    if (fclose(w.f) != 0)
        w.bad = 1;
    if (w.bad || rename(tmp, path) != 0) {
        lmz_status st = lmz_err_set(err, LMZ_ERR_IO, "checkpoint %s: %s", path,
                                    strerror(w.bad ? saved_errno : errno));
        unlink(tmp);
        free(tmp);
        return st;
    }
    free(tmp);
    return LMZ_OK;
}

/* ---- reading ---- */

static void floats_from_le(float *v, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
                           (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
        memcpy(&v[i], &u, 4);
    }
}

lmz_status lmz_trainer_resume(const char *path, lmz_trainer **out, lmz_err *err)
{
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
    if (XXH64(buf, len - 8, 0) != stored) {
        free(buf);
        return lmz_err_set(err, LMZ_ERR_CORRUPT_BLOCK, "checkpoint %s: checksum mismatch", path);
    }
    if (ver != CKPT_VERSION) {
        free(buf);
        return lmz_err_set(err, LMZ_ERR_VERSION, "checkpoint %s: version %u, this build reads %u",
                           path, ver, CKPT_VERSION);
    }
    hbuf h = {0};
    if (hl > sizeof h.b || 16 + (size_t)hl > len - 8) {
        free(buf);
        return lmz_err_set(err, LMZ_ERR_GENERIC, "checkpoint %s: bad header", path);
    }
    memcpy(h.b, buf + 16, hl);
    h.n = hl;
    lmz_train_opts o;
    lmz_trainer tmp;
    memset(&tmp, 0, sizeof tmp);
    int folded = 0;
    uint64_t np = 0;
    header_get(&h, &o, &tmp, &folded, &np);
    lmz_trainer *t = NULL;
    if (h.bad)
        st = lmz_err_set(err, LMZ_ERR_GENERIC, "checkpoint %s: short header", path);
    if (st == LMZ_OK)
        st = tr_trainer_alloc(&o, &t, err);
    if (st == LMZ_OK && (np != t->fm->nparams || 16 + (size_t)hl + 12 * np + 8 != len))
        st = lmz_err_set(err, LMZ_ERR_GENERIC, "checkpoint %s: size does not match its model",
                         path);
    if (st != LMZ_OK) {
        lmz_trainer_free(t);
        free(buf);
        return st;
    }
    const uint8_t *p = buf + 16 + hl;
    floats_from_le(t->fm->params, p, np);
    floats_from_le(t->m, p + 4 * np, np);
    floats_from_le(t->v, p + 8 * np, np);
    t->fm->folded = folded;
    t->prog = tmp.prog;
    t->prog.val_bpb = NAN;
    t->prog.train_bpb = NAN;
    t->rng = tmp.rng;
    free(buf);
    *out = t;
    return LMZ_OK;
}
