/* lmz_cpu.h: the CPU reference's building blocks (private to kernels/).
 *
 * Two levels, both straight from docs/inference.md:
 *   - vector ops (ops.c, attention.c): layer norm, row quantisation, linear
 *     layers, attention of one query row, the frequency table;
 *   - per-position steps of the network (block.c), which the full pass
 *     (forward.c) and the incremental step (kv.c) both call, so the two
 *     compute each position with literally the same code.
 * Layout of K/V rows everywhere: position-major, k8[pos*d + h*dh + c] (the
 * same for v8 and q8); the key and value scales head-major,
 * ak[h*a_stride + pos] (the same for av), so one head's scales are
 * contiguous for the vector kernels; the query's scales aq[h]. */
#ifndef LMZ_CPU_H
#define LMZ_CPU_H

#include <stdint.h>

#include "../lmz_infer.h"
#include "../lmz_model.h"

/* ---- vector ops (ops.c) ---- */

/* LN: x (d values, |x| <= RES) -> z (Q12, |z| <= sqrt(d) * 4096 <= ACT). */
void lmz_layer_norm(const int32_t *x, int d, int32_t *z);
/* quant: v (n values, |v| <= ACT) -> q (int8 in [-127, 127]); returns a.
 * lmz_quant_row runs the SIMD path's kernel, lmz_quant_row_ref is the
 * scalar reference. */
int32_t lmz_quant_row(const int32_t *v, int n, int8_t *q);
int32_t lmz_quant_row_ref(const int32_t *v, int n, int8_t *q);
/* The linear layers' rescale of n dot products acc (scalar reference):
 * v_t = rshift_round(acc_t * a * mult_t, shift_t) + bias_t, then
 * y_t = clamp(v_t, -lim, lim), or with residual y_t = clamp(y_t + v_t,
 * -RES, RES). */
void lmz_rescale_ref(const int32_t *acc, int n, int32_t a, const int32_t *mult,
                     const int32_t *shift, const int32_t *bias, int64_t lim, int residual,
                     int32_t *y);
/* y = clamp(linear(L, q, a), -lim, lim). */
void lmz_linear_clamp(const lmz_linear *L, const int8_t *q, int32_t a, int64_t lim, int32_t *y);
/* x = clamp(x + linear(L, q, a), -RES, RES), the sum formed in int64. */
void lmz_linear_residual(const lmz_linear *L, const int8_t *q, int32_t a, int32_t *x);
/* The same for nr <= LMZ_KV_MANY independent rows at once (row r: q +
 * r * q_stride with scale a[r] -> y + r * y_stride; residual: y += as
 * lmz_linear_residual, else y = as lmz_linear_clamp with lim): the weights
 * are read once for all rows, each row's result is its one-row result. */
void lmz_linear_many(const lmz_linear *L, int nr, const int8_t *q, size_t q_stride,
                     const int32_t *a, int64_t lim, int residual, int32_t *y, size_t y_stride);
/* The output table from clamped logits l[256]. */
void lmz_freq_table(const int32_t logits[256], uint16_t freq[256]);
/* The step both arithmetic versions' tables start from: e[s] = expq(max -
 * logits[s]) and their sum *z; returns the smallest s with the maximal logit
 * (its e is 65536, so 65536 <= *z <= 2^24). */
int lmz_freq_weights(const int32_t logits[256], uint32_t e[256], uint64_t *z);

/* ---- attention (attention.c) ---- */

/* ALiBi exponent e_h = ceil(8 (h + 1) / H): head h's slope is 2^-e_h. */
int lmz_alibi_exp(int h, int n_heads);

/* One head's keys and values: k8, v8 at position 0's head slice,
 * row_stride bytes between positions; ak, av at position 0's scale,
 * a_stride int32 between positions. */
typedef struct lmz_att_head {
    const int8_t *k8;
    const int32_t *ak;
    const int8_t *v8;
    const int32_t *av;
    int row_stride, a_stride;
    int dh;  /* head width */
    int e_h; /* ALiBi exponent (lmz_alibi_exp) */
} lmz_att_head;

/* Queries i0 .. i0 + nq - 1 of one head: query t's row is q8 + t * q_stride
 * with scale aq[t * aq_stride]; its dh outputs go to out + t * out_stride. */
typedef struct lmz_att_queries {
    const int8_t *q8;
    const int32_t *aq;
    int q_stride, aq_stride;
    int i0, nq;
    int32_t *out;
    int out_stride;
} lmz_att_queries;

/* Attention's scratch: sc, rows of sc_stride int32 (one row of i+1 for a
 * single query), and acc, dh int64. */
typedef struct lmz_att_scratch {
    int32_t *sc;
    int sc_stride;
    int64_t *acc;
} lmz_att_scratch;

/* One query row of one head attending over key positions 0..i of kv:
 * q8/aq, the query's head slice and scale. Uses w->sc (i+1 int32) and
 * w->acc. Writes the head's dh outputs (Q12, clamped to ACT) to out. */
void lmz_attend_row(const lmz_att_head *kv, const int8_t *q8, int32_t aq, int i,
                    const lmz_att_scratch *w, int32_t *out);

/* The queries q of one head, each exactly lmz_attend_row of its own
 * position (so any kernel may share the sweeps over the keys between
 * them). w->sc: nq rows of sc_stride >= i0 + nq int32 (nq <= LMZ_ATT_ROWS). */
#define LMZ_ATT_ROWS 4
void lmz_attend_rows(const lmz_att_head *kv, const lmz_att_queries *q, const lmz_att_scratch *w);

/* ---- scratch ---- */

struct lmz_scratch {
    lmz_config cfg;
    size_t wide;     /* max(d, F) */
    /* per position (block.c); the "rows" buffers hold LMZ_KV_MANY rows, one
     * per position of a batch (the full pass's LMZ_ATT_ROWS consecutive
     * positions, or the decoder's chunks in flight) */
    int32_t *z;      /* wide: LN output, then GELU output (one row at a time) */
    int8_t *zq;      /* rows x wide: quantised rows */
    int32_t *qkv;    /* rows x 3d */
    int32_t *o;      /* LMZ_ATT_ROWS x d: attention outputs */
    int32_t *u;      /* rows x F: ff1 outputs */
    int32_t *logits; /* rows x 256 */
    int32_t *sc;     /* LMZ_ATT_ROWS x ctx: attention scores, one row per query */
    int64_t *acc;    /* dh: attention accumulators */
    int8_t *q8;      /* rows x d: the query rows of the incremental step */
    int32_t *aq;     /* rows x H */
    int32_t *bx;     /* rows x d: the incremental step's residual streams */
    /* whole chunk (forward.c), allocated on the first full pass */
    int32_t *x;      /* ctx x d residual stream */
    int8_t *fq8, *fk8, *fv8; /* ctx x d */
    int32_t *faq, *fak, *fav; /* ctx x H */
};

/* Free the whole-chunk buffers (forward.c allocates them on the first full
 * pass) and set them to NULL. */
void lmz_scratch_free_chunk(lmz_scratch *s);

/* ---- per-position steps (block.c) ----
 * The batched ("_many") steps take nr <= LMZ_KV_MANY independent positions
 * (rows d apart); each row's result is the one it gets alone, as the rows
 * only share the reading of the weights. */

/* x = embedding of byte t (d values). */
void lmz_embed(const lmz_model *m, int t, int32_t *x);
/* LN, quant and the qkv linear of rows x (nr x d) -> s->qkv (nr x 3d). */
void lmz_block_qkv_many(const lmz_layer *L, lmz_scratch *s, int nr, const int32_t *x);
/* One row of qkv output (3d): each head's q, k, v slices quantised into the
 * rows q8/k8/v8 (d int8 each) and scales aq[h], ak[h*a_stride],
 * av[h*a_stride]. */
void lmz_block_qkv_store(const lmz_model *m, const int32_t *qkv, int8_t *q8, int32_t *aq,
                         int8_t *k8, int32_t *ak, int8_t *v8, int32_t *av, int a_stride);
/* Attention of positions i0 .. i0 + nq - 1 (nq <= LMZ_ATT_ROWS; their q
 * rows q8 + t * d, scales aq + t * H) over rows 0..i of k8/ak/v8/av (the
 * layout above, ak/av at position 0 of head 0) for every head; writes
 * o + t * d. Each position's result is the one it gets alone. */
void lmz_block_attend(const lmz_model *m, lmz_scratch *s, int i0, int nq, const int8_t *q8,
                      const int32_t *aq, const int8_t *k8, const int32_t *ak, const int8_t *v8,
                      const int32_t *av, int a_stride, int32_t *o);
/* The rest of the layer after attention, for rows o (attention outputs)
 * and x (residual streams), nr x d each: proj + residual, LN, ff1, GELU,
 * ff2 + residual; updates x. */
void lmz_block_finish_many(const lmz_layer *L, lmz_scratch *s, int nr, const int32_t *o,
                           int32_t *x);
/* Final LN, head and the frequency table of each row of x (freq: nr x 256). */
void lmz_block_table_many(const lmz_model *m, lmz_scratch *s, int nr, const int32_t *x,
                          uint16_t *freq);

#endif
