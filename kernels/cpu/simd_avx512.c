/* simd_avx512.c: the AVX-512 path: the AVX2 kernels with vpdpbusd (VNNI)
 * for the int8 dot products and the native 64-bit min/max of AVX-512VL,
 * chosen at run time when the CPU has AVX-512 BW, VL and VNNI. */
#include "lmz_simd.h"

#ifdef LMZ_SIMD_X86
#define LMZ_TGT __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni")))
#define LMZ_SFX(name) avx512_##name
#define LMZ_VNNI 1
#include "simd_x86.h"

const lmz_cpu_kern lmz_kern_avx512 = {"avx512", LMZ_SIMD_AVX512, avx512_dots, avx512_dots_many,
                                      avx512_attend_row, avx512_attend_rows, avx512_expq_n,
                                      avx512_quant_row, avx512_rescale};
#endif
