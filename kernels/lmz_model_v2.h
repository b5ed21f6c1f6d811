/* lmz_model_v2.h: a model for arithmetic version 2 (docs/inference.md,
 * "Arithmetic version 2").
 *
 * A v2 model is a v1 model's tensors (same shapes, same value ranges, same
 * meaning for the embedding and every linear layer) with arith_version 2,
 * plus one static power-of-two scale per layer and head for the keys and
 * for the values: the attention's K and V rows are int8 with those fixed
 * scales, so Q.K^T and P.V are plain int8 matrix products. v1 models and
 * their loaders are untouched: lmz_model_validate still accepts only
 * version 1, and a v2 model is only ever handled through this header. */
#ifndef LMZ_MODEL_V2_H
#define LMZ_MODEL_V2_H

#include <stddef.h>
#include <stdint.h>

#include "lmz_error.h"
#include "lmz_model.h"

#define LMZ_ARITH_V2 2
/* k_shift and v_shift are in [0, LMZ_V2_MAX_KV_SHIFT]: 127 * 2^12 > ACT,
 * so a larger shift could only lose bits. */
#define LMZ_V2_MAX_KV_SHIFT 12

typedef struct lmz_model_v2 {
    lmz_model *m;      /* the tensors; m->arith_version == LMZ_ARITH_V2 */
    int32_t *k_shift;  /* n_layers x n_heads: K row = k (Q12) >> k_shift, clamped */
    int32_t *v_shift;  /* n_layers x n_heads: the same for V */
} lmz_model_v2;

/* Every tensor zeroed, shifts 0, arith_version 2. NULL on failure. */
lmz_model_v2 *lmz_model_v2_alloc(const lmz_config *cfg);
void lmz_model_v2_free(lmz_model_v2 *m);

/* Check every invariant of a v2 model: the v1 tensors' ranges, the version
 * and the shifts in [0, LMZ_V2_MAX_KV_SHIFT]. */
lmz_status lmz_model_v2_validate(const lmz_model_v2 *m, lmz_err *err);

/* Canonical serialization: v1's (docs/format.md, "Model hash") with
 * arith_version 2 in the header, then k_shift and v_shift (n_layers x
 * n_heads int32 LE each, layer-major). */
void lmz_model_v2_serialize(const lmz_model_v2 *m,
                            void (*sink)(void *ctx, const void *bytes, size_t n), void *ctx);
/* m->m->hash = XXH3-128 of lmz_model_v2_serialize (same form as v1's). */
void lmz_model_v2_compute_hash(lmz_model_v2 *m);

#endif
