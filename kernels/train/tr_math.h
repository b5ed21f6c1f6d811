/* tr_math.h: float helpers of the trainer that vectorize (private).
 *
 * The trainer's inner loops call exp and erf millions of times per step;
 * libm's versions are scalar calls that stop the compiler from vectorizing
 * a loop. These are branch-free polynomial versions that GCC turns into SIMD
 * code, accurate to a few float ulps, which is all training needs (the
 * integer inference never sees them). */
#ifndef TR_MATH_H
#define TR_MATH_H

#include <stdint.h>
#include <string.h>

/* Hot kernels are compiled for AVX-512, AVX2+FMA and plain x86-64, and the
 * loader picks one (GCC's target_clones): a binary built here still runs on
 * an older CPU, and training gets the wide units where they exist. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(LMZ_NO_CLONES)
#define TR_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TR_HOT
#endif

static inline float tr_bits_to_float(int32_t i)
{
    float f;
    memcpy(&f, &i, sizeof f);
    return f;
}

static inline int32_t tr_float_to_bits(float f)
{
    int32_t i;
    memcpy(&i, &f, sizeof i);
    return i;
}

/* exp(x), relative error < 2e-7 on [-87, 88]; inputs outside are clamped
 * (exp(-87) ~ 1.6e-38 stands for 0). Cody-Waite reduction x = n ln2 + r,
 * |r| <= ln2/2, a degree-6 Taylor polynomial for e^r, and 2^n built in the
 * exponent bits. n is rounded by the 1.5 * 2^23 trick (round to nearest in
 * the default rounding mode), which vectorizes where rintf may not. */
static inline float tr_exp(float x)
{
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    const float magic = 12582912.0f; /* 1.5 * 2^23 */
    const float t = x * 1.44269504088896341f + magic;
    const int32_t n = tr_float_to_bits(t) - tr_float_to_bits(magic);
    const float fn = t - magic;
    const float r = (x - fn * 0.693145751953125f) - fn * 1.428606765330187e-6f;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    return p * tr_bits_to_float((n + 127) << 23);
}

/* GELU with the exact erf form g(x) = x Phi(x) and its derivative
 * Phi(x) + x phi(x). Phi comes from Abramowitz-Stegun 7.1.26 for erf
 * (absolute error < 1.5e-7), whose factor exp(-x^2/2) is also what phi
 * needs, so one exp serves both. */
static inline float tr_phi_cdf(float x, float e /* exp(-x^2/2) */)
{
    const float ax = (x < 0 ? -x : x) * 0.70710678118654752f;
    const float t = 1.0f / (1.0f + 0.3275911f * ax);
    float p = 1.061405429f;
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    const float erf_ax = 1.0f - p * t * e;
    const float erf_x = x < 0 ? -erf_ax : erf_ax;
    return 0.5f * (1.0f + erf_x);
}

static inline float tr_gelu(float x)
{
    const float e = tr_exp(-0.5f * x * x);
    return x * tr_phi_cdf(x, e);
}

static inline float tr_gelu_grad(float x)
{
    const float e = tr_exp(-0.5f * x * x);
    return tr_phi_cdf(x, e) + x * e * 0.39894228040143268f;
}

#endif
