/* cli_env.c: see cli_env.h. Each variable keeps the meaning it had when
 * the libraries read it themselves. */
#include <stdlib.h>
#include <string.h>

#include "cli_env.h"

lmz_simd cli_env_simd(void)
{
    const int want = lmz_simd_parse(getenv("LMZ_SIMD"));
    return want > LMZ_SIMD_AUTO && lmz_simd_supported((lmz_simd)want) ? (lmz_simd)want
                                                                       : LMZ_SIMD_AUTO;
}

void cli_env_select_simd(void)
{
    const lmz_simd s = cli_env_simd();
    if (s != LMZ_SIMD_AUTO)
        lmz_simd_select(s); /* supported (checked above), so it cannot fail */
}

void cli_env_common(lmz_common_opts *c)
{
    c->model_path = getenv("LMZ_MODEL_PATH");
    c->simd = cli_env_simd();
    const char *ca = getenv("LMZ_CUDA_AUTO");
    c->cuda_auto = ca && strcmp(ca, "0") == 0 ? -1 : 0; /* 0: --device auto stays on the CPU */
    /* 1..4 chunks in flight per decoding thread; anything else: the
     * backend's default (a tuning and testing knob: the bits never depend
     * on it) */
    const char *db = getenv("LMZ_DECODE_BATCH");
    c->decode_batch = db ? atoi(db) : 0;
    c->cuda_sync = cli_env_cuda_sync();
    cli_env_select_simd();
}

int cli_env_cuda_sync(void)
{
    /* debugging the CUDA backend and trainer: name the kernel that fails
     * (docs/cuda.md) */
    const char *cs = getenv("LMZ_CUDA_SYNC");
    return cs && strcmp(cs, "1") == 0;
}
