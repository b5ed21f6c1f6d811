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
//   cuda_layer.cu     one layer of the network and the head, in block.c's
//                     order: the single layer loop of score and decode
//   cuda_score.cu     lmz_cuda_score: one full pass per sub-batch
//   cuda_decode.cu    lmz_cuda_decode: incremental steps with a KV cache
//   cuda_backend.cu   the backend table (backend_impl.h) over the two
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

// Distinct kernel names the profiler keeps apart (more are summed as "other").
#define LMZ_CUDA_PROF_MAX 32

// The linear layers of one transformer layer, in the order of lmz_cuda.lin.
enum lmz_lin_which { LMZ_LIN_QKV = 0, LMZ_LIN_PROJ, LMZ_LIN_FF1, LMZ_LIN_FF2, LMZ_LIN_PER_LAYER };

// What a linear layer's epilogue does with its result (ops.c).
enum lmz_lin_mode {
    LMZ_LIN_CLAMP,   // y = clamp(linear, -lim, lim)          (lmz_linear_clamp)
    LMZ_LIN_RESIDUAL // y = clamp(y + linear, -RES, RES), int64 (lmz_linear_residual)
};

// What a row quantisation applies first.
enum lmz_quant_pre { LMZ_QUANT_PLAIN, LMZ_QUANT_GELU };

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
    lmz_dlinear *lin; // host array: LMZ_LIN_PER_LAYER per layer (lmz_lin_which), then head
    void **allocs;    // every cudaMalloc of the model, freed at the end
    int nallocs, allocs_cap;
    // workspace (cuda_score.cu and cuda_decode.cu)
    lmz_dbuf ws[16];
    int batch; // chunks per device batch, 0 = from free memory
    // debugging: 1 = wait for every kernel and check it (LMZ_LAUNCH)
    int sync_check;
    // profiling (lmz_cuda_set_profile): each launch is bracketed by two
    // events and waited for; the device time is summed per kernel name.
    // Serialises the stream, so totals are per-kernel costs, not overlap.
    int profile;
    cudaEvent_t prof_ev[2];
    mutable struct lmz_cuda_prof {
        const char *kernel; // the name as written at the launch site
        long calls;
        double ms;
    } prof[LMZ_CUDA_PROF_MAX];
    mutable int nprof;
    // The first failed launch of the current score/decode call (LMZ_LAUNCH).
    // The launchers take a const lmz_cuda (they only queue work), so the
    // record is mutable; one lmz_cuda is used by one thread at a time.
    mutable struct {
        cudaError_t e;      // cudaSuccess: none yet
        const char *kernel; // its name, as written at the launch site
        const char *file;
        int line;
        int synced;         // 1: found by sync_check, so this kernel failed;
                            // 0: found right after queuing it (a launch error,
                            // or an earlier kernel's error reported late)
        long n;             // launches so far in this call (the failed one's number)
    } launch;
};

// ---- every kernel launch goes through LMZ_LAUNCH ----
// LMZ_LAUNCH(g, kernel, grid, block, smem, args...) queues kernel on g's
// stream, then lmz_cuda_launched checks it: always cudaGetLastError (cheap:
// catches bad launch configurations, naming the kernel), and with
// g->sync_check also cudaDeviceSynchronize, so that a kernel that faults is
// named too (kernel errors otherwise surface at the next synchronisation,
// far from their cause). After the first error of a call every further
// launch is skipped: a sticky error would fail them all, and the first one
// is the one worth reporting. One macro for all launches, so none escapes.
#define LMZ_LAUNCH(g, kernel, grid, block, smem, ...)                                            \
    do {                                                                                         \
        if ((g)->launch.e == cudaSuccess) {                                                      \
            if ((g)->profile)                                                                    \
                cudaEventRecord((g)->prof_ev[0], (g)->stream);                                   \
            kernel<<<(grid), (block), (smem), (g)->stream>>>(__VA_ARGS__);                       \
            lmz_cuda_launched((g), #kernel, __FILE__, __LINE__);                                 \
        }                                                                                        \
    } while (0)
void lmz_cuda_launched(const lmz_cuda *g, const char *kernel, const char *file, int line);
// Start a score/decode call: forget the last call's launch error.
void lmz_cuda_launch_reset(lmz_cuda *g);
// End of a call's queue: e is the result of its final cudaGetLastError /
// cudaStreamSynchronize. Reports the first launch error if there was one
// (kernel, file:line, launch number), else e; LMZ_OK if both are clean.
lmz_status lmz_cuda_finish(const lmz_cuda *g, const char *what, cudaError_t e, lmz_err *err);

static inline const lmz_dlinear *lmz_cuda_lin(const lmz_cuda *g, int layer, lmz_lin_which which)
{
    return &g->lin[layer * LMZ_LIN_PER_LAYER + which];
}
static inline const lmz_dlinear *lmz_cuda_head(const lmz_cuda *g)
{
    return &g->lin[g->cfg.n_layers * LMZ_LIN_PER_LAYER];
}

// Make sure buffer ws[k] holds at least n bytes (contents not kept).
cudaError_t lmz_cuda_ws(lmz_cuda *g, int k, size_t n, void **out);
// A CUDA error as an lmz error.
lmz_status lmz_cuda_fail(lmz_err *err, const char *what, cudaError_t e);

// Dynamic shared memory: check that `kernel` (named `name`) can be launched
// with `need` bytes of it on this device, and opt in above the default
// 48 KB when it must. The limit is the device's opt-in maximum per block
// less the kernel's own static shared memory (cudaFuncGetAttributes).
// Called once per kernel at lmz_cuda_create with the model's largest need.
lmz_status lmz_cuda_smem(const lmz_cuda *g, const void *kernel, const char *name, size_t need,
                         lmz_err *err);
// Each launcher file's check of its kernels' launch configuration for g's
// model (shared memory), run by lmz_cuda_create.
lmz_status lmz_cuda_rows_init(const lmz_cuda *g, lmz_err *err);
lmz_status lmz_cuda_attend_init(const lmz_cuda *g, lmz_err *err);

// ---- cuda_rows.cu ----
// x[r][c] = embedding of in[r] (rows n, width d).
void lmz_cuda_embed(const lmz_cuda *g, int n, const uint8_t *in, int32_t *x);
// z = LN(x[r]), (zq[r], za[r]) = quant(z), for n rows of width d.
void lmz_cuda_ln_quant(const lmz_cuda *g, int n, const int32_t *x, int8_t *zq, int32_t *za);
// (q[r], a[r]) = quant(v[r]) (or quant(gelu(v[r])) with LMZ_QUANT_GELU),
// rows of width w with row stride w for both v and q.
void lmz_cuda_quant_rows(const lmz_cuda *g, int n, int w, lmz_quant_pre pre, const int32_t *v,
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
// LMZ_LIN_CLAMP:    y[r][o] = clamp(linear(L, q[r], a[r])_o, -lim, lim)
// LMZ_LIN_RESIDUAL: y[r][o] = clamp(y[r][o] + linear(...)_o, -RES, RES) (int64 sum; lim unused)
// q: n rows of L->in int8 (row stride L->in); y: n rows of L->out int32.
void lmz_cuda_linear(const lmz_cuda *g, const lmz_dlinear *L, int n, const int8_t *q,
                     const int32_t *a, lmz_lin_mode mode, int64_t lim, int32_t *y);

// ---- cuda_attention.cu ----
// The quantised operands of one layer's attention: query rows q8/aq and
// the keys and values k8/ak, v8/av they attend over (layouts: see the
// full pass and the step below).
struct lmz_dqkv {
    const int8_t *q8, *k8, *v8;
    const int32_t *aq, *ak, *av;
};
// Full pass. Rows of chunk c are row0[c] .. row0[c] + len[c] - 1. tiles: ntiles
// (chunk, first query) pairs, each LMZ_ATT_QT queries. q8/k8/v8: rows of d
// int8; aq/ak/av: rows of H int32. o: rows of d int32.
#define LMZ_ATT_QT 32
#define LMZ_ATT_KT 32
struct lmz_att_tiles {
    int ntiles;
    const int2 *tiles;
    const int *row0, *len;
};
void lmz_cuda_attend_full(const lmz_cuda *g, const lmz_att_tiles *t, const lmz_dqkv *in,
                          int32_t *o);
// One step at position i for nb chunks: query rows q8/aq (row b), cache of this
// layer laid out [b][h][pos][dh] (k8, v8; chunk stride cs8 bytes) and
// [b][h][pos] (ak, av; chunk stride csa). o: nb rows of d int32.
struct lmz_att_step {
    int i;
    size_t cs8, csa;
};
void lmz_cuda_attend_step(const lmz_cuda *g, int nb, const lmz_att_step *st, const lmz_dqkv *in,
                          int32_t *o);

// ---- cuda_layer.cu ----
// The activations of n rows (positions of the full pass, or chunks of a
// decoder step) in device memory.
struct lmz_dacts {
    int n;
    int32_t *x;   // n x d: residual streams
    int8_t *zq;   // n x max(d, F): quantised rows
    int32_t *za;  // n: their scales
    int32_t *big; // n x max(3d, F, 256): qkv, ff1 outputs, logits
    int32_t *o;   // n x d: attention outputs
};
// How a layer's rows attend: the full causal pass over packed chunks, or
// one decoder step over each chunk's KV cache.
enum lmz_att_kind { LMZ_ATT_FULL, LMZ_ATT_STEP };
struct lmz_cuda_att {
    lmz_att_kind kind;
    lmz_qkv_dst dst;     // where the rows' q, k, v go (lmz_cuda_quant_heads)
    lmz_dqkv in;         // what attention then reads
    lmz_att_tiles tiles; // LMZ_ATT_FULL
    lmz_att_step step;   // LMZ_ATT_STEP
};
// Layer l of the network over the rows of a, block.c's order: LN + quant,
// qkv, per-head quant, attention, proj + residual, LN + quant, ff1,
// GELU + quant, ff2 + residual. Updates a->x.
void lmz_cuda_layer(const lmz_cuda *g, int l, const lmz_dacts *a, const lmz_cuda_att *att);
// The final LN + quant and the head: logits (n x 256) into a->big.
void lmz_cuda_logits(const lmz_cuda *g, const lmz_dacts *a);

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
