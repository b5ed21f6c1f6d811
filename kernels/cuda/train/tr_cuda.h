// tr_cuda.h: what the CUDA gradient engine's files share (C++ side only).
//
// Files, one job each:
//   tr_cuda_engine.cu  the engine (tr_engine.h): device buffers, a step's
//                      uploads and downloads, the per-kernel time report
//   tr_cuda_launch.cu  launch checking and timing (TRC_LAUNCH, TRC_GEMM)
//   tr_cuda_rows.cu    per-row and elementwise kernels: embedding, LayerNorm,
//                      GELU, residual add, cross-entropy, fake quantization,
//                      bias sums, the head split/merge of attention
//   tr_cuda_attn.cu    causal attention with ALiBi, forward and backward
//   tr_cuda_model.cu   the network over one micro-batch (model_fb.c's order)
//
// Everything is float32 and mirrors kernels/train/ops_*.c formula for
// formula (same eps, scaling, mask and fake quantization); only the order
// of floating-point sums differs (cuBLAS, block reductions).
#ifndef TR_CUDA_H
#define TR_CUDA_H

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

extern "C" {
#include "lmz_error.h"
#include "lmz_model.h"
#include "train/tr_engine.h"
#include "train/tr_internal.h"
}

#define TRC_MAX_TIMERS 64

// Launch bookkeeping: the first failure of a step, and in sync_check mode
// the time per kernel name.
struct trc_ctx {
    cudaStream_t stream;
    cublasHandle_t blas;
    int sync_check;
    struct {
        int failed;         // 1 after the first failure of this step
        char what[200];     // its description: kernel, file:line, error
        long n;             // launches so far in this step
    } launch;
    struct {
        const char *name; // the kernel or GEMM as written at the call site
        double ms;
        long calls;
    } timer[TRC_MAX_TIMERS];
    int ntimers;
    cudaEvent_t ev0, ev1;
};

// Before a launch: 1 if it should run (no failure yet this step); in
// sync_check mode records the start event.
int trc_pre(trc_ctx *g);
// After a kernel launch: cudaGetLastError always (a bad configuration is
// named at once); in sync_check mode also waits for the kernel, checks its
// result and adds its time to name's total.
void trc_post_kernel(trc_ctx *g, const char *name, const char *file, int line);
// After a cuBLAS call: its status, then as trc_post_kernel.
void trc_post_blas(trc_ctx *g, cublasStatus_t s, const char *name, const char *file, int line);

// Every kernel launch goes through TRC_LAUNCH, so none escapes the checks.
#define TRC_LAUNCH(g, kernel, grid, block, smem, ...)                                  \
    do {                                                                               \
        if (trc_pre(g)) {                                                              \
            kernel<<<(grid), (block), (smem), (g)->stream>>>(__VA_ARGS__);             \
            trc_post_kernel((g), #kernel, __FILE__, __LINE__);                         \
        }                                                                              \
    } while (0)

// Row-major GEMM through cuBLAS (column-major):
//   C[M][N] = alpha op(A) op(B) + beta C, op(A) M x K, op(B) K x N,
// with lda/ldb/ldc the row-major row strides, batched over `batch` with
// element strides sA, sB, sC.
// The mapping: a row-major X[r][c] with row stride ld is the column-major
// matrix X^T (c x r, leading dimension ld). So C^T = op(B)^T op(A)^T is
// what cuBLAS computes: its first operand is B (same transpose flag as the
// row-major op on B: a row-major B read as-is is column-major B^T, which is
// op(B)^T when op is N), its second A, with m = N, n = M, k = K.
struct trc_gemm {
    bool ta, tb; // op(A) = A^T, op(B) = B^T
    int M, N, K;
    float alpha;
    const float *A;
    int lda;
    const float *B;
    int ldb;
    float beta;
    float *C;
    int ldc;
    int batch;
    long long sA, sB, sC;
};
void trc_gemm_run(trc_ctx *g, const trc_gemm &p, const char *name, const char *file, int line);
#define TRC_GEMM(g, name, ...)                                                         \
    do {                                                                               \
        if (trc_pre(g))                                                                \
            trc_gemm_run((g), trc_gemm{__VA_ARGS__}, name, __FILE__, __LINE__);        \
    } while (0)

// ---- tr_cuda_rows.cu (row counts N, widths as named) ----
void trc_embed_fwd(trc_ctx *g, float *out, const uint8_t *inp, const float *wte, int N, int d);
// dwte += per vocabulary row, the sum of dout over the rows with that input
// byte (deterministic: one block per vocabulary row, rows in order).
void trc_embed_bwd(trc_ctx *g, float *dwte, const float *dout, const uint8_t *inp, int N, int d);
void trc_ln_fwd(trc_ctx *g, float *out, float *mean, float *rstd, const float *x, const float *gm,
                const float *b, int N, int d);
// dx += ..., dg += ..., db += ... as tr_ln_bwd.
void trc_ln_bwd(trc_ctx *g, float *dx, float *dg, float *db, const float *dout, const float *x,
                const float *mean, const float *rstd, const float *gm, int N, int d);
void trc_gelu_fwd(trc_ctx *g, float *out, const float *inp, size_t n);
void trc_gelu_bwd(trc_ctx *g, float *dinp, const float *dout, const float *inp, size_t n);
void trc_zero(trc_ctx *g, float *x, size_t n);
void trc_add(trc_ctx *g, float *out, const float *a, const float *b, size_t n);
// rows[r] = b (N rows of n).
void trc_bias_rows(trc_ctx *g, float *out, const float *b, int N, int n);
// db[o] += sum over rows of dout[r][o] (N rows of n).
void trc_bias_grad(trc_ctx *g, float *db, const float *dout, int N, int n);
// tr_xent: per-row loss (double) into rowloss, logits replaced by the
// gradient when dscale != 0; then *loss += sum of rowloss (one block, in order).
void trc_xent(trc_ctx *g, float *logits, const uint8_t *tgt, int N, float dscale,
              double *rowloss, double *loss);
// tr_fq_rows: N rows of n values, stride apart.
void trc_fq_rows(trc_ctx *g, float *x, int N, int n, int stride);
// Attention's head layout: rows of N = nb*T tokens with `parts` slices of d
// (q | k | v, or one) <-> per part [nb*H][T][dh] (head h of window b at
// (b*H + h) * T * dh). to_heads: rows -> heads; else heads -> rows.
void trc_heads(trc_ctx *g, float *rows, float *const heads[3], int parts, int nb, int T, int d,
               int H, int to_heads);
// Forward row of S ([nb*H][T][T] scores): P = softmax(S scale - slope (i-j))
// over j <= i, 0 beyond; lse[(b*H+h)*T + i] kept.
void trc_softmax_fwd(trc_ctx *g, float *S, float *lse, int nb, int H, int T, float scale);
// Backward rows: from S (scores) and dP, P rebuilt with lse; S becomes
// G = P (dP - sum_j P dP) scale and dP becomes P.
void trc_softmax_bwd(trc_ctx *g, float *S, float *dP, const float *lse, int nb, int H, int T,
                     float scale);

// ---- tr_cuda_attn.cu ----
// Scratch of attention for micro-batches of nb windows of T tokens.
struct trc_attn_ws {
    float *h[3];   // q, k, v in head layout
    float *dh[3];  // their gradients
    float *o, *dO; // output and its gradient in head layout
    float *S, *dP; // nb*H x T x T
};
void trc_attn_fwd(trc_ctx *g, float *out, float *lse, float *qkv, int nb, int T, int d, int H,
                  const trc_attn_ws *w);
void trc_attn_bwd(trc_ctx *g, float *dqkv, float *dout, const float *lse, float *qkv, int nb,
                  int T, int d, int H, const trc_attn_ws *w);

// ---- tr_cuda_model.cu ----
// The device activations of one micro-batch: tr_acts's buffers (the
// host struct's pointers are device pointers here), attention scratch and
// the loss rows.
struct trc_acts {
    tr_acts a;        // cfg, nb, T, inp, tgt and every float buffer (device)
    trc_attn_ws attn;
    double *rowloss;  // N
};
// Forward (and the loss gradient when dscale != 0) over the loaded
// micro-batch; adds its summed loss to *loss (device).
void trc_forward(trc_ctx *g, const tr_params *P, trc_acts *A, int fake_quant, float dscale,
                 double *loss);
// Backward: adds into G (device views).
void trc_backward(trc_ctx *g, const tr_params *P, tr_params *G, trc_acts *A);

#endif
