// tr_cuda_attn.cu: causal multi-head attention with ALiBi on the device, the
// simplest correct way: q, k, v moved to a head layout [nb*H][T][dh], the
// scores of every (window, head) as one strided-batched GEMM into S
// ([nb*H][T][T]), a row kernel for scale + ALiBi + causal mask + softmax
// (keeping the log-sum-exp, as ops_attn.c does), then P.V. The masked half
// of S is computed and multiplied by zeros: simple, and GEMMs are cheap here.
//
// Backward rebuilds S = Q K^T and P from the log-sum-exp (nothing T x T is
// kept between forward and backward):
//   dP = dO V^T;  G = P (dP - rowsum(P dP)) scale  (S's buffer; dP's gets P)
//   dQ = G K;  dK = G^T Q;  dV = P^T dO.
//
// All products below are row-major (tr_cuda.h's TRC_GEMM), per head h of
// window b, with X_bh = X + (b*H + h) T dh (and T*T for S, dP):
//   S  [T][T]  = Q [T][dh] . K^T       ta = 0, tb = 1, K = dh
//   O  [T][dh] = P [T][T]  . V [T][dh] ta = 0, tb = 0, K = T
//   dP [T][T]  = dO        . V^T       ta = 0, tb = 1, K = dh
//   dQ [T][dh] = G [T][T]  . K         ta = 0, tb = 0, K = T
//   dK [T][dh] = G^T       . Q         ta = 1, tb = 0, K = T
//   dV [T][dh] = P^T       . dO        ta = 1, tb = 0, K = T
#include <math.h>

#include "tr_cuda.h"

static void scores(trc_ctx *g, float *S, const float *A, const float *B, int nbh, int T, int dh,
                   const char *name)
{
    // S = A . B^T per head: M = N = T, K = dh.
    TRC_GEMM(g, name, false, true, T, T, dh, 1.0f, A, dh, B, dh, 0.0f, S, T, nbh,
             (long long)T * dh, (long long)T * dh, (long long)T * T);
}

void trc_attn_fwd(trc_ctx *g, float *out, float *lse, float *qkv, int nb, int T, int d, int H,
                  const trc_attn_ws *w)
{
    const int dh = d / H, nbh = nb * H;
    const float scale = 1.0f / sqrtf((float)dh);
    trc_heads(g, qkv, w->h, 3, nb, T, d, H, 1);
    scores(g, w->S, w->h[0], w->h[1], nbh, T, dh, "gemm attn S=QK^T");
    trc_softmax_fwd(g, w->S, lse, nb, H, T, scale);
    TRC_GEMM(g, "gemm attn O=PV", false, false, T, dh, T, 1.0f, w->S, T, w->h[2], dh, 0.0f, w->o,
             dh, nbh, (long long)T * T, (long long)T * dh, (long long)T * dh);
    float *const o3[3] = {w->o, w->o, w->o};
    trc_heads(g, out, o3, 1, nb, T, d, H, 0);
}

void trc_attn_bwd(trc_ctx *g, float *dqkv, float *dout, const float *lse, float *qkv, int nb,
                  int T, int d, int H, const trc_attn_ws *w)
{
    const int dh = d / H, nbh = nb * H;
    const float scale = 1.0f / sqrtf((float)dh);
    const long long sT = (long long)T * T, sD = (long long)T * dh;
    trc_heads(g, qkv, w->h, 3, nb, T, d, H, 1);
    float *const o3[3] = {w->dO, w->dO, w->dO};
    trc_heads(g, dout, o3, 1, nb, T, d, H, 1);
    scores(g, w->S, w->h[0], w->h[1], nbh, T, dh, "gemm attn S=QK^T (bwd)");
    scores(g, w->dP, w->dO, w->h[2], nbh, T, dh, "gemm attn dP=dO V^T");
    trc_softmax_bwd(g, w->S, w->dP, lse, nb, H, T, scale);
    TRC_GEMM(g, "gemm attn dQ=GK", false, false, T, dh, T, 1.0f, w->S, T, w->h[1], dh, 0.0f,
             w->dh[0], dh, nbh, sT, sD, sD);
    TRC_GEMM(g, "gemm attn dK=G^T Q", true, false, T, dh, T, 1.0f, w->S, T, w->h[0], dh, 0.0f,
             w->dh[1], dh, nbh, sT, sD, sD);
    TRC_GEMM(g, "gemm attn dV=P^T dO", true, false, T, dh, T, 1.0f, w->dP, T, w->dO, dh, 0.0f,
             w->dh[2], dh, nbh, sT, sD, sD);
    trc_heads(g, dqkv, w->dh, 3, nb, T, d, H, 0);
}
