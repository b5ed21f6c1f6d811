/* cli_env.h: the environment variables lmz honours, read in one place.
 * The libraries never call getenv(): these fill their parameters. */
#ifndef LMZ_CLI_ENV_H
#define LMZ_CLI_ENV_H

#include "lmz_pipeline.h"

/* $LMZ_SIMD (scalar | avx2 | avx512 | auto) as a path: AUTO when unset,
 * unknown or not runnable here (then the best path runs, as always). */
lmz_simd cli_env_simd(void);

/* Select $LMZ_SIMD's path for the whole process: for the inference that
 * runs without a backend (training's evaluation, compress --fit). */
void cli_env_select_simd(void);

/* Fill the options that come from the environment: model_path
 * ($LMZ_MODEL_PATH), simd ($LMZ_SIMD), cuda_auto ($LMZ_CUDA_AUTO=0: --device auto stays on the CPU),
 * decode_batch ($LMZ_DECODE_BATCH) and cuda_sync ($LMZ_CUDA_SYNC=1), and
 * select the SIMD path. */
void cli_env_common(lmz_common_opts *c);

/* $LMZ_CUDA_SYNC=1: wait for and check every CUDA kernel (inference and
 * training), naming the first that fails; training also times them. */
int cli_env_cuda_sync(void);

#endif
