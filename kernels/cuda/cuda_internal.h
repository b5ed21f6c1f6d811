// cuda_internal.h: what the kernels/cuda/*.cu files share (C++ side only).
//
// Files, one job each:
//   cuda_model.cu     device copy of the model and the lookup tables; the
//                     lmz_cuda object, its stream and workspace
//   cuda_rows.cu      per-row kernels: embedding, LN + quant, row quant
//                     (with GELU), per-head q/k/v quant
//   cuda_linear.cu    the int8 GEMM (dp4a) with the requantising epilogues
//   cuda_attention.cu attention: the full causal pass and the one-query step
//   cuda_table.cu     the frequency table: score's (cum, freq) and the
//                     decoder step (table + range decoder on the device)
//   cuda_score.cu     lmz_cuda_score: one full pass per sub-batch
//   cuda_decode.cu    lmz_cuda_decode: incremental steps with a KV cache
//   cuda_probe.cu     lmz_cuda_device_count
#ifndef LMZ_CUDA_INTERNAL_H
#define LMZ_CUDA_INTERNAL_H

#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

extern "C" {
#include "lmz_coder.h"
#include "lmz_error.h"
#include "lmz_model.h"
}
#include "cuda_ops.cuh"

// One linear layer in device memory (the same fields as lmz_linear).
struct lmz_dlinear {
    int32_t out, in;
    const int8_t *w;      // out x in, row-major
    const int32_t *mult, *shift, *bias;
};

// A device buffer that grows on demand.
struct lmz_dbuf {
    void *p;
    size_t cap;
};

struct lmz_cuda {
    lmz_config cfg;
    int device;
    cudaStream_t stream;
    lmz_dtabs tabs;
    // model
    const int8_t *emb;
    const int32_t *emb_mult, *emb_shift;
    lmz_dlinear *lin; // host array: 4 per layer (qkv, proj, ff1, ff2), then head
    void **allocs;    // every cudaMalloc of the model, freed at the end
    int nallocs, allocs_cap;
    // workspace (cuda_score.cu and cuda_decode.cu)
    lmz_dbuf ws[16];
    int batch; // chunks per device batch, 0 = from free memory
};

// 4 linears per layer, then the head.
static inline const lmz_dlinear *lmz_cuda_lin(const lmz_cuda *g, int layer, int which)
{
    return &g->lin[layer * 4 + which];
}
static inline const lmz_dlinear *lmz_cuda_head(const lmz_cuda *g)
{
    return &g->lin[g->cfg.n_layers * 4];
}

// Make sure buffer ws[k] holds at least n bytes (contents not kept).
cudaError_t lmz_cuda_ws(lmz_cuda *g, int k, size_t n, void **out);
// A CUDA error as an lmz error.
lmz_status lmz_cuda_fail(lmz_err *err, const char *what, cudaError_t e);

// ---- cuda_rows.cu ----
// x[r][c] = embedding of in[r] (rows n, width d).
void lmz_cuda_embed(const lmz_cuda *g, int n, const uint8_t *in, int32_t *x);
// z = LN(x[r]), (zq[r], za[r]) = quant(z), for n rows of width d.
void lmz_cuda_ln_quant(const lmz_cuda *g, int n, const int32_t *x, int8_t *zq, int32_t *za);
// (q[r], a[r]) = quant(v[r]) (or quant(gelu(v[r])) when gelu), rows of
// width w with row stride w for both v and q.
void lmz_cuda_quant_rows(const lmz_cuda *g, int n, int w, int gelu, const int32_t *v,
                         int8_t *q, int32_t *a);
// Destination of one of q/k/v (part 0/1/2) of row r, head h:
//   int8 row  at p8[part] + r * r8[part] + h * h8[part] (dh bytes)
//   scale     at pa[part] + r * ra[part] + h * ha[part]
struct lmz_qkv_dst {
    int8_t *p8[3];
    int32_t *pa[3];
    size_t r8[3], h8[3], ra[3], ha[3];
};
// Per-head row quantisation of the qkv output (n rows of 3d int32).
void lmz_cuda_quant_heads(const lmz_cuda *g, int n, const int32_t *qkv, const lmz_qkv_dst *dst);

// ---- cuda_linear.cu ----
// mode 0: y[r][o] = clamp(linear(L, q[r], a[r])_o, -lim, lim)
// mode 1: y[r][o] = clamp(y[r][o] + linear(...)_o, -RES, RES) (int64 sum)
// q: n rows of L->in int8 (row stride L->in); y: n rows of L->out int32.
void lmz_cuda_linear(const lmz_cuda *g, const lmz_dlinear *L, int n, const int8_t *q,
                     const int32_t *a, int mode, int64_t lim, int32_t *y);

// ---- cuda_attention.cu ----
// Full pass. Rows of chunk c are row0[c] .. row0[c] + len[c] - 1. tiles: ntiles
// (chunk, first query) pairs, each LMZ_ATT_QT queries. q8/k8/v8: rows of d
// int8; aq/ak/av: rows of H int32. o: rows of d int32.
#define LMZ_ATT_QT 32
#define LMZ_ATT_KT 32
void lmz_cuda_attend_full(const lmz_cuda *g, int ntiles, const int2 *tiles, const int *row0,
                          const int *len, const int8_t *q8, const int32_t *aq,
                          const int8_t *k8, const int32_t *ak, const int8_t *v8,
                          const int32_t *av, int32_t *o);
// One step at position i for nb chunks: query rows q8/aq (row b), cache of this
// layer laid out [b][h][pos][dh] (k8, v8; chunk stride cs8 bytes) and
// [b][h][pos] (ak, av; chunk stride csa). o: nb rows of d int32.
void lmz_cuda_attend_step(const lmz_cuda *g, int nb, int i, const int8_t *q8, const int32_t *aq,
                          const int8_t *k8, const int32_t *ak, const int8_t *v8,
                          const int32_t *av, size_t cs8, size_t csa, int32_t *o);

// ---- cuda_table.cu ----
// Score: for row r, the table of logits[r] (256 int32), then cum[r] and
// freq[r] of byte target[r]; tables (if not NULL) gets the whole table.
void lmz_cuda_table_score(const lmz_cuda *g, int n, const int32_t *logits,
                          const uint8_t *target, uint16_t *cum, uint16_t *freq,
                          uint16_t *tables);
// Decode: chunk b's table from logits[b]; if i < raw_len[b], range-decode
// the symbol with dec[b], write it to out[b * ctx + i] and to tok[b].
void lmz_cuda_table_decode(const lmz_cuda *g, int nb, int i, const int32_t *logits,
                           const uint32_t *raw_len, lmz_rc_dec *dec, uint8_t *out,
                           uint8_t *tok);

#endif
