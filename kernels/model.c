/* model.c: the model struct's life cycle: presets, allocation, validation,
 * canonical serialization and hash, and the seeded random model. */
#include "lmz_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack: no malloc */
#include <xxhash.h>

#include "lmz_ops.h"

/* ---- configuration ---- */

int lmz_config_preset(const char *name, lmz_config *cfg)
{
    static const struct {
        const char *name;
        lmz_config cfg; /* d_model, n_layers, n_heads, d_ff, ctx */
    } presets[] = {
        {"tiny", {16, 1, 2, 64, 2048}},
        {"200k", {64, 4, 4, 256, 2048}},
        {"800k", {128, 4, 4, 512, 2048}},
        {"3.2m", {256, 4, 8, 1024, 2048}},
    };
    if (!name || !cfg)
        return -1;
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        if (strcmp(name, presets[i].name) == 0) {
            *cfg = presets[i].cfg;
            return 0;
        }
    }
    return -1;
}

lmz_status lmz_config_validate(const lmz_config *c, lmz_err *err)
{
    const lmz_status bad = LMZ_ERR_MODEL_INVALID;
    if (!c)
        return lmz_err_set(err, bad, "model config: missing");
    if (c->d_model < 1 || c->d_model > LMZ_MAX_D_MODEL)
        return lmz_err_set(err, bad, "model config: d_model %d is outside [1, %d]",
                           (int)c->d_model, LMZ_MAX_D_MODEL);
    if (c->n_layers < 1 || c->n_layers > LMZ_MAX_LAYERS)
        return lmz_err_set(err, bad, "model config: n_layers %d is outside [1, %d]",
                           (int)c->n_layers, LMZ_MAX_LAYERS);
    if (c->n_heads < 1 || c->n_heads > LMZ_MAX_HEADS)
        return lmz_err_set(err, bad, "model config: n_heads %d is outside [1, %d]",
                           (int)c->n_heads, LMZ_MAX_HEADS);
    if (c->d_model % c->n_heads != 0)
        return lmz_err_set(err, bad, "model config: d_model %d is not a multiple of n_heads %d",
                           (int)c->d_model, (int)c->n_heads);
    if (c->d_model / c->n_heads > LMZ_MAX_HEAD_DIM)
        return lmz_err_set(err, bad, "model config: head dimension %d exceeds %d",
                           (int)(c->d_model / c->n_heads), LMZ_MAX_HEAD_DIM);
    if (c->d_ff < 1 || c->d_ff > LMZ_MAX_D_FF)
        return lmz_err_set(err, bad, "model config: d_ff %d is outside [1, %d]",
                           (int)c->d_ff, LMZ_MAX_D_FF);
    if (c->ctx < 1 || c->ctx > LMZ_MAX_CTX)
        return lmz_err_set(err, bad, "model config: ctx %d is outside [1, %d]",
                           (int)c->ctx, LMZ_MAX_CTX);
    return LMZ_OK;
}

static size_t linear_param_count(size_t out, size_t in)
{
    return out * in + out; /* weights and biases */
}

size_t lmz_config_param_count(const lmz_config *c)
{
    size_t d = (size_t)c->d_model, f = (size_t)c->d_ff;
    size_t layer = linear_param_count(3 * d, d) + linear_param_count(d, d) +
                   linear_param_count(f, d) + linear_param_count(d, f);
    return 256 * d + (size_t)c->n_layers * layer + linear_param_count(256, d);
}

/* ---- allocation ---- */

static int linear_alloc(lmz_linear *l, int32_t out, int32_t in)
{
    l->out = out;
    l->in = in;
    l->w = calloc((size_t)out * (size_t)in, sizeof *l->w);
    l->mult = calloc((size_t)out, sizeof *l->mult);
    l->shift = calloc((size_t)out, sizeof *l->shift);
    l->bias = calloc((size_t)out, sizeof *l->bias);
    return l->w && l->mult && l->shift && l->bias;
}

static void linear_free(lmz_linear *l)
{
    free(l->w);
    free(l->mult);
    free(l->shift);
    free(l->bias);
    l->w = NULL;
    l->mult = l->shift = l->bias = NULL;
}

lmz_model *lmz_model_alloc(const lmz_config *cfg)
{
    if (!cfg || lmz_config_validate(cfg, NULL) != LMZ_OK)
        return NULL;
    lmz_model *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cfg = *cfg;
    m->arith_version = LMZ_ARITH_VERSION;
    const int32_t d = cfg->d_model, f = cfg->d_ff;
    m->emb = calloc(256 * (size_t)d, 1);
    m->emb_mult = calloc(256, sizeof *m->emb_mult);
    m->emb_shift = calloc(256, sizeof *m->emb_shift);
    m->layers = calloc((size_t)cfg->n_layers, sizeof *m->layers);
    int ok = m->emb && m->emb_mult && m->emb_shift && m->layers;
    for (int32_t l = 0; ok && l < cfg->n_layers; l++) {
        lmz_layer *L = &m->layers[l];
        ok = linear_alloc(&L->qkv, 3 * d, d) && linear_alloc(&L->proj, d, d) &&
             linear_alloc(&L->ff1, f, d) && linear_alloc(&L->ff2, d, f);
    }
    ok = ok && linear_alloc(&m->head, 256, d);
    if (!ok) {
        lmz_model_free(m);
        return NULL;
    }
    return m;
}

/* Accepts NULL and any partially filled model: every pointer is either NULL
 * or its own allocation. */
void lmz_model_free(lmz_model *m)
{
    if (!m)
        return;
    free(m->emb);
    free(m->emb_mult);
    free(m->emb_shift);
    if (m->layers) {
        for (int32_t l = 0; l < m->cfg.n_layers; l++) {
            linear_free(&m->layers[l].qkv);
            linear_free(&m->layers[l].proj);
            linear_free(&m->layers[l].ff1);
            linear_free(&m->layers[l].ff2);
        }
        free(m->layers);
    }
    linear_free(&m->head);
    free(m);
}

/* ---- validation ---- */

#define MULT_MIN (1 << 14)
#define MULT_MAX ((1 << 15) - 1)
#define SHIFT_MIN 1
#define SHIFT_MAX 62
#define BIAS_MAX (1 << 24)

static lmz_status check_weights(const int8_t *w, size_t n, const char *what, lmz_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (w[i] == -128) /* the spec's int8 range is symmetric: [-127, 127] */
            return lmz_err_set(err, LMZ_ERR_MODEL_INVALID,
                               "model: %s weight %zu is -128 (allowed: -127..127)", what, i);
    return LMZ_OK;
}

static lmz_status check_scales(const int32_t *mult, const int32_t *shift, size_t n,
                               const char *what, lmz_err *err)
{
    for (size_t o = 0; o < n; o++) {
        if (mult[o] < MULT_MIN || mult[o] > MULT_MAX)
            return lmz_err_set(err, LMZ_ERR_MODEL_INVALID,
                               "model: %s multiplier %zu is %d (allowed: %d..%d)", what, o,
                               (int)mult[o], MULT_MIN, MULT_MAX);
        if (shift[o] < SHIFT_MIN || shift[o] > SHIFT_MAX)
            return lmz_err_set(err, LMZ_ERR_MODEL_INVALID,
                               "model: %s shift %zu is %d (allowed: %d..%d)", what, o,
                               (int)shift[o], SHIFT_MIN, SHIFT_MAX);
    }
    return LMZ_OK;
}

static lmz_status check_linear(const lmz_linear *l, int32_t out, int32_t in, const char *what,
                               lmz_err *err)
{
    if (l->out != out || l->in != in)
        return lmz_err_set(err, LMZ_ERR_MODEL_INVALID,
                           "model: %s is %dx%d, the config needs %dx%d", what, (int)l->out,
                           (int)l->in, (int)out, (int)in);
    if (!l->w || !l->mult || !l->shift || !l->bias)
        return lmz_err_set(err, LMZ_ERR_MODEL_INVALID, "model: %s is not allocated", what);
    lmz_status st = check_weights(l->w, (size_t)out * (size_t)in, what, err);
    if (st == LMZ_OK)
        st = check_scales(l->mult, l->shift, (size_t)out, what, err);
    for (int32_t o = 0; st == LMZ_OK && o < out; o++)
        if (l->bias[o] < -BIAS_MAX || l->bias[o] > BIAS_MAX)
            st = lmz_err_set(err, LMZ_ERR_MODEL_INVALID,
                             "model: %s bias %d is %d (allowed: |bias| <= %d)", what, (int)o,
                             (int)l->bias[o], BIAS_MAX);
    return st;
}

lmz_status lmz_model_validate(const lmz_model *m, lmz_err *err)
{
    if (!m)
        return lmz_err_set(err, LMZ_ERR_MODEL_INVALID, "model: missing");
    if (m->arith_version != LMZ_ARITH_VERSION)
        return lmz_err_set(err, LMZ_ERR_VERSION,
                           "model: made for arithmetic version %d, this build implements "
                           "version %d",
                           (int)m->arith_version, LMZ_ARITH_VERSION);
    lmz_status st = lmz_config_validate(&m->cfg, err);
    if (st != LMZ_OK)
        return st;
    const int32_t d = m->cfg.d_model, f = m->cfg.d_ff;
    if (!m->emb || !m->emb_mult || !m->emb_shift || !m->layers)
        return lmz_err_set(err, LMZ_ERR_MODEL_INVALID, "model: embedding is not allocated");
    st = check_weights(m->emb, 256 * (size_t)d, "embedding", err);
    if (st == LMZ_OK)
        st = check_scales(m->emb_mult, m->emb_shift, 256, "embedding", err);
    for (int32_t l = 0; st == LMZ_OK && l < m->cfg.n_layers; l++) {
        const lmz_layer *L = &m->layers[l];
        char what[48];
        snprintf(what, sizeof what, "layer %d qkv", (int)l);
        st = check_linear(&L->qkv, 3 * d, d, what, err);
        snprintf(what, sizeof what, "layer %d proj", (int)l);
        if (st == LMZ_OK)
            st = check_linear(&L->proj, d, d, what, err);
        snprintf(what, sizeof what, "layer %d ff1", (int)l);
        if (st == LMZ_OK)
            st = check_linear(&L->ff1, f, d, what, err);
        snprintf(what, sizeof what, "layer %d ff2", (int)l);
        if (st == LMZ_OK)
            st = check_linear(&L->ff2, d, f, what, err);
    }
    if (st == LMZ_OK)
        st = check_linear(&m->head, 256, d, "head", err);
    return st;
}

/* ---- canonical serialization ---- */

/* Bytes are gathered in a small buffer so the sink sees few large calls. */
typedef struct ser_buf {
    void (*sink)(void *ctx, const void *bytes, size_t n);
    void *ctx;
    size_t len;
    uint8_t b[4096];
} ser_buf;

static void ser_flush(ser_buf *s)
{
    if (s->len)
        s->sink(s->ctx, s->b, s->len);
    s->len = 0;
}

static void ser_bytes(ser_buf *s, const void *p, size_t n)
{
    const uint8_t *src = p;
    while (n) {
        if (s->len == sizeof s->b)
            ser_flush(s);
        size_t k = sizeof s->b - s->len;
        if (k > n)
            k = n;
        memcpy(s->b + s->len, src, k);
        s->len += k;
        src += k;
        n -= k;
    }
}

/* int32 little-endian, whatever the host's byte order. */
static void ser_i32s(ser_buf *s, const int32_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)v[i];
        uint8_t le[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
        ser_bytes(s, le, 4);
    }
}

static void ser_linear(ser_buf *s, const lmz_linear *l)
{
    ser_bytes(s, l->w, (size_t)l->out * (size_t)l->in);
    ser_i32s(s, l->mult, (size_t)l->out);
    ser_i32s(s, l->shift, (size_t)l->out);
    ser_i32s(s, l->bias, (size_t)l->out);
}

/* "LMZM", int32 arith_version d_model n_layers n_heads d_ff ctx, then emb,
 * emb_mult, emb_shift, per layer qkv proj ff1 ff2 (each w mult shift bias),
 * head (w mult shift bias). int8 as bytes, int32 little-endian. The name is
 * not serialized: renaming a model does not change its identity. */
void lmz_model_serialize(const lmz_model *m,
                         void (*sink)(void *ctx, const void *bytes, size_t n), void *ctx)
{
    ser_buf s;
    s.sink = sink;
    s.ctx = ctx;
    s.len = 0;
    ser_bytes(&s, "LMZM", 4);
    const int32_t hdr[6] = {m->arith_version, m->cfg.d_model, m->cfg.n_layers,
                            m->cfg.n_heads,   m->cfg.d_ff,    m->cfg.ctx};
    ser_i32s(&s, hdr, 6);
    ser_bytes(&s, m->emb, 256 * (size_t)m->cfg.d_model);
    ser_i32s(&s, m->emb_mult, 256);
    ser_i32s(&s, m->emb_shift, 256);
    for (int32_t l = 0; l < m->cfg.n_layers; l++) {
        ser_linear(&s, &m->layers[l].qkv);
        ser_linear(&s, &m->layers[l].proj);
        ser_linear(&s, &m->layers[l].ff1);
        ser_linear(&s, &m->layers[l].ff2);
    }
    ser_linear(&s, &m->head);
    ser_flush(&s);
}

static void hash_sink(void *ctx, const void *bytes, size_t n)
{
    XXH3_128bits_update((XXH3_state_t *)ctx, bytes, n);
}

/* hash[0..8) = high64 big-endian, hash[8..16) = low64 big-endian, so the
 * hex string reads like XXH128's canonical form. */
void lmz_model_compute_hash(lmz_model *m)
{
    XXH3_state_t st;
    memset(&st, 0, sizeof st);
    XXH3_128bits_reset(&st);
    lmz_model_serialize(m, hash_sink, &st);
    XXH128_hash_t h = XXH3_128bits_digest(&st);
    for (int i = 0; i < 8; i++) {
        m->hash[i] = (uint8_t)(h.high64 >> (56 - 8 * i));
        m->hash[8 + i] = (uint8_t)(h.low64 >> (56 - 8 * i));
    }
}

void lmz_model_hash_hex(const lmz_model *m, char out[33])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[m->hash[i] >> 4];
        out[2 * i + 1] = hex[m->hash[i] & 15];
    }
    out[32] = '\0';
}

/* ---- the seeded random model ----
 *
 * FROZEN RECIPE: archives made with the built-in models ("random-tiny",
 * "random-200k", "random-800k", "random-3.2m") are decoded by regenerating
 * them from seed 1, so every detail below is part of the format, written out
 * in docs/format.md ("Built-in models"). Never change it; the golden hash in
 * tests/test_model.c and the hashes in docs/format.md (tests/test_spec.c)
 * guard it. Integer only, so it is the same everywhere.
 *
 * One splitmix64 stream starting at state = seed; every value takes exactly
 * one draw r (64 bits), in serialization order:
 *   uniform(n)  = ((r >> 32) * n) >> 32                      (in [0, n))
 *   weight      = uniform(255) - 127                          (in [-127, 127])
 *   mult        = 2^14 + (r >> 50)                            (in [2^14, 2^15))
 *   bias        = uniform(513) - 256                          (Q12, |b| <= 1/16)
 *   shift       not drawn, a per-tensor constant:
 *     linear rows: 28 + ceil_log2(isqrt(fan_in)), plus ceil_log2(isqrt(dh))
 *                  for the q rows of qkv (the folded 1/sqrt(dh));
 *     embedding:   9.
 * Order: emb weights (256 x d, row-major), emb_mult[256] (emb_shift: no
 * draw); per layer qkv, proj, ff1, ff2, then head, each as w (row-major),
 * mult[out], bias[out].
 *
 * Why these scales: the real weight is w * 127 * mult * 2^-shift. Uniform w
 * has RMS 127/sqrt(3) ~ 73.3 and mult averages 1.5 * 2^14, so the RMS real
 * weight is ~2.29e8 * 2^-shift = 2^(27.8 - shift) ~ 1/sqrt(fan_in) with the
 * shift above: inputs of RMS 1 (LayerNorm output) give outputs of RMS ~1.
 * Embedding values are emb * mult * 2^-9 in Q12, so |x| <= ~1..2 real. */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint32_t rand_uniform(uint64_t *st, uint32_t n)
{
    return (uint32_t)(((splitmix64(st) >> 32) * n) >> 32);
}

static int8_t rand_weight(uint64_t *st)
{
    return (int8_t)((int)rand_uniform(st, 255) - 127);
}

static int32_t rand_mult(uint64_t *st)
{
    return (int32_t)((1 << 14) + (splitmix64(st) >> 50));
}

static int32_t rand_bias(uint64_t *st)
{
    return (int32_t)rand_uniform(st, 513) - 256;
}

/* Smallest k with 2^k >= v (v >= 1). */
static int ceil_log2(uint64_t v)
{
    int k = 0;
    while ((UINT64_C(1) << k) < v)
        k++;
    return k;
}

static int random_shift(int32_t fan_in)
{
    return 28 + ceil_log2(lmz_isqrt64((uint64_t)fan_in));
}

/* q_rows: how many leading rows get the extra 1/sqrt(dh) (0 for most). */
static void random_linear(lmz_linear *l, uint64_t *st, int32_t q_rows, int32_t dh)
{
    const int base = random_shift(l->in);
    const int q_extra = ceil_log2(lmz_isqrt64((uint64_t)dh));
    const size_t n = (size_t)l->out * (size_t)l->in;
    for (size_t i = 0; i < n; i++)
        l->w[i] = rand_weight(st);
    for (int32_t o = 0; o < l->out; o++) {
        l->mult[o] = rand_mult(st);
        l->shift[o] = base + (o < q_rows ? q_extra : 0);
    }
    for (int32_t o = 0; o < l->out; o++)
        l->bias[o] = rand_bias(st);
}

void lmz_model_init_random(lmz_model *m, uint64_t seed)
{
    uint64_t st = seed;
    const int32_t d = m->cfg.d_model, dh = d / m->cfg.n_heads;
    m->arith_version = LMZ_ARITH_VERSION;
    for (size_t i = 0; i < 256 * (size_t)d; i++)
        m->emb[i] = rand_weight(&st);
    for (int t = 0; t < 256; t++) {
        m->emb_mult[t] = rand_mult(&st);
        m->emb_shift[t] = 9;
    }
    for (int32_t l = 0; l < m->cfg.n_layers; l++) {
        lmz_layer *L = &m->layers[l];
        random_linear(&L->qkv, &st, d, dh);
        random_linear(&L->proj, &st, 0, dh);
        random_linear(&L->ff1, &st, 0, dh);
        random_linear(&L->ff2, &st, 0, dh);
    }
    random_linear(&m->head, &st, 0, dh);
    snprintf(m->name, sizeof m->name, "random-%llu", (unsigned long long)seed);
    lmz_model_compute_hash(m);
}
