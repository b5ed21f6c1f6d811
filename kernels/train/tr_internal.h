/* tr_internal.h: the trainer's building blocks (private to kernels/train;
 * tests include it for the per-layer gradient checks).
 *
 * Layout conventions: activations are row-major, one row per token, rows of
 * a micro-batch of nb windows of T tokens back to back (N = nb*T rows).
 * Linear weights are [out][in] as in the integer model. */
#ifndef TR_INTERNAL_H
#define TR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "../lmz_model.h"
#include "../lmz_train.h"

#define TR_LN_EPS (128.0f / 16777216.0f) /* docs/inference.md: var + 128 in Q24 */

/* ---- views of a parameter-shaped array (params, gradients, Adam moments) ---- */

typedef struct tr_layer_p {
    float *ln1_g, *ln1_b, *qkv_w, *qkv_b, *proj_w, *proj_b;
    float *ln2_g, *ln2_b, *ff1_w, *ff1_b, *ff2_w, *ff2_b;
} tr_layer_p;

typedef struct tr_params {
    float *wte;
    tr_layer_p layer[LMZ_MAX_LAYERS];
    float *lnf_g, *lnf_b, *head_w, *head_b;
} tr_params;

/* Point p's tensors into base (lmz_fmodel_param_count(cfg) floats). */
void tr_params_view(const lmz_config *cfg, float *base, tr_params *p);

/* ---- per-layer operations (ops_*.c); each backward adds into its
 * parameter gradients and (where said) into the input gradient ---- */

/* out = LN(x) * g + b per row of d; mean, rstd per row. */
void tr_ln_fwd(float *out, float *mean, float *rstd, const float *x, const float *g,
               const float *b, int N, int d);
/* dx += dLN/dx . dout; dg += ..., db += ... */
void tr_ln_bwd(float *dx, float *dg, float *db, const float *dout, const float *x,
               const float *mean, const float *rstd, const float *g, int N, int d);

/* out[N][nout] = inp[N][nin] . W^T + b (sgemm). */
void tr_linear_fwd(float *out, const float *inp, const float *w, const float *b, int N, int nin,
                   int nout);
/* dinp = dout . W (overwritten; skipped when dinp is NULL), dW += dout^T inp,
 * db += column sums of dout. */
void tr_linear_bwd(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                   const float *w, int N, int nin, int nout);
/* Keep BLAS on the calling thread (called before any parallel work). */
void tr_blas_single_thread(void);

/* Causal multi-head attention with ALiBi over nb windows of T rows.
 * qkv: N x 3d (q | k | v, head h at h*dh in each); out: N x d; lse: nb x H x
 * T, the log-sum-exp of each query's scores (what backward needs to rebuild
 * the probabilities without storing them). */
typedef struct tr_attn_ws tr_attn_ws;
tr_attn_ws *tr_attn_ws_create(int T, int dh);
void tr_attn_ws_free(tr_attn_ws *ws);
void tr_attn_fwd(float *out, float *lse, const float *qkv, int nb, int T, int d, int H,
                 tr_attn_ws *ws);
/* dqkv (N x 3d) = the gradient of the attention given dout (overwritten). */
void tr_attn_bwd(float *dqkv, const float *dout, const float *lse, const float *qkv, int nb,
                 int T, int d, int H, tr_attn_ws *ws);
/* The ALiBi slope exponent of head h (slope 2^-e). */
int tr_alibi_exp(int h, int H);

void tr_gelu_fwd(float *out, const float *inp, size_t n);
/* dinp = dout * gelu'(inp) (overwritten; dinp may be dout). */
void tr_gelu_bwd(float *dinp, const float *dout, const float *inp, size_t n);

void tr_embed_fwd(float *out, const uint8_t *inp, const float *wte, int N, int d);
void tr_embed_bwd(float *dwte, const float *dout, const uint8_t *inp, int N, int d);

/* Softmax cross-entropy of logits (N x 256) against tgt: returns the sum of
 * -ln p over the rows (double); when dscale is not 0 the logits are replaced
 * by dscale * (softmax - onehot), their gradient. */
double tr_xent(float *logits, const uint8_t *tgt, int N, float dscale);

/* out = a + b (n values). */
void tr_add(float *out, const float *a, const float *b, size_t n);

/* Fake quantization as the integer path rounds (fakequant.c): each of N rows
 * of n values (stride apart) to int8 with its own max-abs scale, in place. */
void tr_fq_rows(float *x, int N, int n, int stride);
/* Every matrix of src (the embedding's and the linears' rows) rounded to
 * int8 per row, into dst; biases and LN parameters copied. */
void tr_fq_params(const lmz_config *cfg, const float *src, float *dst);

/* ---- the network over one micro-batch (model_fb.c) ---- */

typedef struct tr_layer_a {
    float *ln1_mean, *ln1_rstd, *ln1_out, *qkv, *lse, *att, *res1;
    float *ln2_mean, *ln2_rstd, *ln2_out, *ff1, *ff1g, *res2;
} tr_layer_a;

/* Activations of up to cap_nb windows of up to cap_T tokens, and the
 * backward pass's temporaries: one per thread. */
typedef struct tr_acts {
    lmz_config cfg;
    int cap_nb, cap_T;
    int nb, T;                 /* the current micro-batch */
    uint8_t *inp, *tgt;        /* N each */
    float *x0;                 /* N x d: embedding output */
    tr_layer_a layer[LMZ_MAX_LAYERS];
    float *lnf_mean, *lnf_rstd, *lnf_out, *logits;
    float *dres, *dln, *dqkv, *datt, *dff; /* backward temporaries */
    tr_attn_ws *attn;
    float *mem;                /* one allocation behind every float buffer */
} tr_acts;

tr_acts *tr_acts_create(const lmz_config *cfg, int cap_nb, int cap_T);
void tr_acts_free(tr_acts *a);

/* Fill a->inp/tgt for nb windows of T bytes of data starting at starts[]:
 * inputs [0, x_s .. x_{s+T-2}], targets x_s .. x_{s+T-1}. */
void tr_acts_load(tr_acts *a, const uint8_t *data, const size_t *starts, int nb, int T);

/* Forward over the loaded micro-batch with parameters P; fake_quant rounds
 * activations as the integer path does (P should then be tr_fq_params's
 * copy). Returns the summed loss in nats. When dscale != 0 the head's output
 * becomes the loss gradient times dscale, ready for tr_backward. */
double tr_forward(const tr_params *P, tr_acts *a, int fake_quant, float dscale);
/* Backward after tr_forward(..., dscale != 0): adds into G. */
void tr_backward(const tr_params *P, tr_params *G, tr_acts *a);

/* Loss (nats, summed) and, if grad is not NULL, its gradient (overwritten)
 * over nb windows of T tokens starting at starts, on one thread: the
 * reference the gradient check differentiates. */
double tr_loss_grad(const lmz_fmodel *fm, const uint8_t *data, const size_t *starts, int nb,
                    int T, float *grad);

/* ---- small shared helpers ---- */

uint64_t tr_splitmix64(uint64_t *state);
/* A standard normal deviate (Box-Muller on two draws). */
double tr_normal(uint64_t *state);
int tr_threads(int requested);

/* One arithmetic's table scorer, for tr_eval_tables (v1: lmz_model_eval,
 * v2: lmz_model_v2_eval): per-thread scratch, and the frequency table of
 * each position of a chunk scored from an empty context. */
typedef struct tr_table_scorer {
    void *(*scratch_create)(const void *model);
    void (*scratch_free)(void *scratch);
    lmz_status (*forward)(const void *model, void *scratch, const uint8_t *x, int len,
                          uint16_t *freq);
    const void *model;
    int chunk;
} tr_table_scorer;

/* Bits per byte the range coder spends on data in chunks of sc->chunk. */
lmz_status tr_eval_tables(const tr_table_scorer *sc, const uint8_t *data, size_t n,
                          int nthreads, double *bpb, lmz_err *err);

#endif
