/* simd_avx2.c: the AVX2 path (any x86-64 with AVX2, chosen at run time). */
#include "lmz_simd.h"

#ifdef LMZ_SIMD_X86
#define LMZ_TGT __attribute__((target("avx2")))
#define LMZ_SFX(name) avx2_##name
#define LMZ_VNNI 0
#include "simd_x86.h"

const lmz_cpu_kern lmz_kern_avx2 = {"avx2", LMZ_SIMD_AVX2, avx2_dots, avx2_dots_many, avx2_attend_row,
                                    avx2_attend_rows, avx2_expq_n, avx2_quant_row,
                                    avx2_rescale};
#endif
