/* lmz_simd.h: the table of hot kernels, one per SIMD path (private to
 * kernels/).
 *
 * The table holds the operations that carry nearly all the time: the int8
 * dot products of the linear layers and their int64 rescale, one or several
 * query rows of attention, and the row quantisation. Everything else (LN,
 * GELU, the frequency table) stays the shared scalar code, so a path can
 * only differ from the reference inside these functions, and
 * tests/test_simd.c compares exactly those, plus whole models, path against
 * path. */
#ifndef LMZ_SIMD_H
#define LMZ_SIMD_H

#include <stddef.h>
#include <stdint.h>

#include "../lmz_infer.h"
#include "lmz_cpu.h"

typedef struct lmz_cpu_kern {
    const char *name;
    lmz_simd id;
    /* acc[o] = sum_i w[o*in + i] * q[i] for o in [0, out), in int32:
     * w, q in [-127, 127], in <= 4096, so |acc| < 2^26 and any order of
     * summation gives the same value. */
    void (*dots)(const int8_t *w, int out, int in, const int8_t *q, int32_t *acc);
    /* dots for nr <= LMZ_KV_MANY activation rows at once (row r at
     * q + r * q_stride, its sums at acc + r * acc_stride): each weight load
     * serves every row, and each row's sums are dots' sums exactly. */
    void (*dots_many)(const int8_t *w, int out, int in, const int8_t *q, size_t q_stride,
                      int nr, int32_t *acc, size_t acc_stride);
    /* lmz_attend_row's contract (lmz_cpu.h), bit for bit. */
    void (*attend_row)(const lmz_att_head *kv, const int8_t *q8, int32_t aq, int i,
                       const lmz_att_scratch *w, int32_t *out);
    /* lmz_attend_rows's contract (lmz_cpu.h), bit for bit. */
    void (*attend_rows)(const lmz_att_head *kv, const lmz_att_queries *q,
                        const lmz_att_scratch *w);
    /* e[t] = lmz_expq(x[t]) for x[t] >= 0: the attention kernels' vector
     * exp, exposed so the tests can check it for every x. */
    void (*expq_n)(const int32_t *x, int n, uint32_t *e);
    /* lmz_quant_row_ref's and lmz_rescale_ref's contracts, bit for bit. */
    int32_t (*quant_row)(const int32_t *v, int n, int8_t *q);
    void (*rescale)(const int32_t *acc, int n, int32_t a, const int32_t *mult,
                    const int32_t *shift, const int32_t *bias, int64_t lim, int residual,
                    int32_t *y);
} lmz_cpu_kern;

/* The table in use (chosen once, see lmz_simd_select). */
const lmz_cpu_kern *lmz_kern(void);
/* The table of one path, or NULL if this build or CPU lacks it (tests). */
const lmz_cpu_kern *lmz_kern_of(lmz_simd path);

/* expq(x) for every x in [0, 65536), stored as min(expq(x), 65535) (only
 * x = 0 reaches 65536), plus one spare entry: the vector kernels' exp in
 * one gather. Built once from lmz_expq, so it is the reference by
 * construction. */
const uint16_t *lmz_exp16(void);

/* The portable reference of dots (the scalar path's entry). */
void lmz_dots_scalar(const int8_t *w, int out, int in, const int8_t *q, int32_t *acc);
void lmz_dots_many_scalar(const int8_t *w, int out, int in, const int8_t *q, size_t q_stride,
                          int nr, int32_t *acc, size_t acc_stride);

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LMZ_SIMD_X86 1
extern const lmz_cpu_kern lmz_kern_avx2;   /* simd_avx2.c */
extern const lmz_cpu_kern lmz_kern_avx512; /* simd_avx512.c */
#endif

#endif
