/* freq.c: helpers for the 256-entry integer frequency tables (total 2^16). */
#include "lmz_coder.h"
#include "lmz_rc_core.h"

#include <math.h> /* INFINITY only: lmz_coder needs no libm */

void lmz_freq_to_cum(const uint16_t freq[LMZ_VOCAB], uint32_t cum[LMZ_VOCAB + 1])
{
    cum[0] = 0;
    for (int s = 0; s < LMZ_VOCAB; s++)
        cum[s + 1] = cum[s] + freq[s];
}

int lmz_cum_find(const uint32_t cum[LMZ_VOCAB + 1], uint32_t target)
{
    return lmz_rc_core_cum_find(cum, target); /* lmz_rc_core.h */
}

int lmz_freq_valid(const uint16_t freq[LMZ_VOCAB])
{
    uint32_t sum = 0;
    for (int s = 0; s < LMZ_VOCAB; s++) {
        if (freq[s] == 0)
            return 0;
        sum += freq[s];
    }
    return sum == LMZ_PROB_TOTAL;
}

/* log2(x) for x >= 1 without libm: x = m * 2^e with m in [1, 2), and
 * ln(m) = 2 atanh(y), y = (m - 1) / (m + 1) <= 1/3, whose series
 * 2 (y + y^3/3 + y^5/5 + ...) reaches double precision in 20 terms. */
static double log2_ge1(double x)
{
    int e = 0;
    while (x >= 2.0) {
        x *= 0.5;
        e++;
    }
    double y = (x - 1.0) / (x + 1.0), y2 = y * y, term = y, sum = 0.0;
    for (int k = 1; k < 40; k += 2) {
        sum += term / k;
        term *= y2;
    }
    return e + 2.0 * sum / 0.69314718055994530942;
}

double lmz_freq_cost_bits(const uint16_t freq[LMZ_VOCAB], int sym)
{
    if (sym < 0 || sym >= LMZ_VOCAB || freq[sym] == 0)
        return INFINITY;
    return LMZ_PROB_BITS - log2_ge1((double)freq[sym]);
}
