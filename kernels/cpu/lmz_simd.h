/* lmz_simd.h: the table of hot kernels, one per SIMD path (private to
 * kernels/).
 *
 * Only the two operations that carry nearly all the multiply-adds go through
 * the table: the int8 dot products of the linear layers and one query row of
 * attention. Everything around them (rescale, rounding, clamps, LN, quant,
 * GELU, the frequency table) stays the shared scalar code, so a path can only
 * differ from the reference inside these two functions, and
 * tests/test_simd*.c compare exactly those, plus whole models, path against
 * path. */
#ifndef LMZ_SIMD_H
#define LMZ_SIMD_H

#include <stdint.h>

#include "../lmz_infer.h"

typedef struct lmz_cpu_kern {
    const char *name;
    lmz_simd id;
    /* acc[o] = sum_i w[o*in + i] * q[i] for o in [0, out), in int32:
     * w, q in [-127, 127], in <= 4096, so |acc| < 2^26 and any order of
     * summation gives the same value. */
    void (*dots)(const int8_t *w, int out, int in, const int8_t *q, int32_t *acc);
    /* lmz_attend_row's contract (lmz_cpu.h), bit for bit. */
    void (*attend_row)(const int8_t *q8, int32_t aq, const int8_t *k8, const int32_t *ak,
                       const int8_t *v8, const int32_t *av, int row_stride, int a_stride,
                       int i, int dh, int e_h, int32_t *sc, int64_t *acc, int32_t *out);
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

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LMZ_SIMD_X86 1
extern const lmz_cpu_kern lmz_kern_avx2;   /* simd_avx2.c */
extern const lmz_cpu_kern lmz_kern_avx512; /* simd_avx512.c */
#endif

#endif
