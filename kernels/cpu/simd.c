/* simd.c: choosing the SIMD path at run time.
 *
 * The library is built for plain x86-64 (or any other CPU); the AVX2 and
 * AVX-512 kernels are compiled with per-function target attributes and only
 * called after __builtin_cpu_supports says the CPU has them, so one binary
 * runs everywhere and uses what it finds. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "lmz_cpu.h"
#include "lmz_ops.h"
#include "lmz_simd.h"

static uint16_t exp16[65536 + 1];
static pthread_once_t exp16_once = PTHREAD_ONCE_INIT;

static void exp16_build(void)
{
    for (int64_t x = 0; x < 65536; x++) {
        const uint32_t e = lmz_expq(x);
        exp16[x] = (uint16_t)(e > 65535 ? 65535 : e);
    }
}

const uint16_t *lmz_exp16(void)
{
    pthread_once(&exp16_once, exp16_build);
    return exp16;
}

void lmz_dots_scalar(const int8_t *w, int out, int in, const int8_t *q, int32_t *acc)
{
    for (int o = 0; o < out; o++) {
        const int8_t *r = w + (size_t)o * (size_t)in;
        int32_t s = 0;
        for (int i = 0; i < in; i++)
            s += (int32_t)r[i] * (int32_t)q[i];
        acc[o] = s;
    }
}

void lmz_dots_many_scalar(const int8_t *w, int out, int in, const int8_t *q, size_t q_stride,
                          int nr, int32_t *acc, size_t acc_stride)
{
    for (int r = 0; r < nr; r++)
        lmz_dots_scalar(w, out, in, q + (size_t)r * q_stride, acc + (size_t)r * acc_stride);
}

static void expq_n_scalar(const int32_t *x, int n, uint32_t *e)
{
    for (int t = 0; t < n; t++)
        e[t] = lmz_expq(x[t]);
}

static const lmz_cpu_kern kern_scalar = {"scalar", LMZ_SIMD_SCALAR, lmz_dots_scalar,
                                         lmz_dots_many_scalar,
                                         lmz_attend_row, lmz_attend_rows, expq_n_scalar,
                                         lmz_quant_row_ref, lmz_rescale_ref};

int lmz_simd_parse(const char *s)
{
    if (!s)
        return -1;
    if (strcmp(s, "auto") == 0)
        return LMZ_SIMD_AUTO;
    if (strcmp(s, "scalar") == 0)
        return LMZ_SIMD_SCALAR;
    if (strcmp(s, "avx2") == 0)
        return LMZ_SIMD_AVX2;
    if (strcmp(s, "avx512") == 0)
        return LMZ_SIMD_AVX512;
    return -1;
}

int lmz_simd_supported(lmz_simd path)
{
    switch (path) {
    case LMZ_SIMD_AUTO:
    case LMZ_SIMD_SCALAR:
        return 1;
#ifdef LMZ_SIMD_X86
    case LMZ_SIMD_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2");
    case LMZ_SIMD_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512vnni");
#endif
    default:
        return 0;
    }
}

const lmz_cpu_kern *lmz_kern_of(lmz_simd path)
{
    if (!lmz_simd_supported(path))
        return NULL;
    switch (path) {
    case LMZ_SIMD_SCALAR:
        return &kern_scalar;
#ifdef LMZ_SIMD_X86
    case LMZ_SIMD_AVX2:
        return &lmz_kern_avx2;
    case LMZ_SIMD_AVX512:
        return &lmz_kern_avx512;
#endif
    case LMZ_SIMD_AUTO: {
        /* The best this CPU runs. A user's choice (the CLI reads LMZ_SIMD)
         * arrives through lmz_backend_params.simd or lmz_simd_select. */
        const lmz_simd best[] = {LMZ_SIMD_AVX512, LMZ_SIMD_AVX2};
        for (size_t k = 0; k < sizeof best / sizeof best[0]; k++)
            if (lmz_simd_supported(best[k]))
                return lmz_kern_of(best[k]);
        return &kern_scalar;
    }
    default:
        return NULL;
    }
}

/* Every table computes the same bits, so a benign race on the first use
 * (two threads both choosing) cannot change a result; the atomic pointer
 * just keeps it well-defined. */
static _Atomic(const lmz_cpu_kern *) current;

const lmz_cpu_kern *lmz_kern(void)
{
    const lmz_cpu_kern *k = atomic_load_explicit(&current, memory_order_acquire);
    if (!k) {
        k = lmz_kern_of(LMZ_SIMD_AUTO);
        atomic_store_explicit(&current, k, memory_order_release);
    }
    return k;
}

lmz_status lmz_simd_select(lmz_simd path)
{
    const lmz_cpu_kern *k = lmz_kern_of(path);
    if (!k)
        return LMZ_ERR_NO_DEVICE;
    atomic_store_explicit(&current, k, memory_order_release);
    return LMZ_OK;
}

const char *lmz_simd_name(void)
{
    return lmz_kern()->name;
}
