/* ops_attn.c: causal attention with ALiBi, forward and backward, by hand.
 *
 * Per window and head the slices are gathered into contiguous, padded
 * arrays (Q, K, V row-major and K, V also transposed), then queries are
 * taken QB rows at a time against all earlier keys:
 *   scores   S = Q K^T    register tiles of QB rows x JW keys, loop over dh
 *   softmax  in place, row by row; the log-sum-exp is kept for backward
 *   output   O = P V      register tiles of QB rows x 16 columns, loop over keys
 * Backward rebuilds P from the stored log-sum-exp (nothing T x T is ever
 * stored, so memory stays linear in T) and forms dQ = G K, dK += G^T Q,
 * dV += P^T dO with G = P (dP - rowsum(P dP)) / sqrt(dh). The tiles are
 * written with a 16-float vector type so their accumulators stay in
 * registers; the row loops (softmax, gradient rows) run over contiguous
 * memory and the compiler vectorizes them. The softmax's normalization is
 * applied to the output row (dh values), not to the probabilities (i + 1). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tr_internal.h"
#include "tr_math.h"

#define QB 4  /* query rows per tile (the tiles below are written for 4) */
#define JW 16 /* keys per score tile, and the padding of every dimension */

struct tr_attn_ws {
    int capT, ld, dh, dhp; /* ld: padded capT; dhp: dh padded to 16 */
    float *Q, *K, *V, *dO, *dQ, *dK, *dV; /* ld x dhp */
    float *KT, *VT;                       /* dh x ld */
    float *S, *P, *dP;                    /* QB x ld */
    float *O;                             /* QB x dhp */
    float *mem;
};

static int round_up(int v, int m)
{
    return (v + m - 1) / m * m;
}

int tr_alibi_exp(int h, int H)
{
    return (8 * (h + 1) + H - 1) / H;
}

tr_attn_ws *tr_attn_ws_create(int T, int dh)
{
    tr_attn_ws *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->capT = T;
    w->ld = round_up(T, JW);
    w->dh = dh;
    w->dhp = round_up(dh, 16);
    const size_t rows = (size_t)w->ld * w->dhp, tr = (size_t)dh * w->ld;
    const size_t tile = (size_t)QB * w->ld;
    const size_t total = 7 * rows + 2 * tr + 3 * tile + (size_t)QB * w->dhp;
    w->mem = calloc(total, sizeof *w->mem);
    if (!w->mem) {
        free(w);
        return NULL;
    }
    float *p = w->mem;
    w->Q = p; p += rows;
    w->K = p; p += rows;
    w->V = p; p += rows;
    w->dO = p; p += rows;
    w->dQ = p; p += rows;
    w->dK = p; p += rows;
    w->dV = p; p += rows;
    w->KT = p; p += tr;
    w->VT = p; p += tr;
    w->S = p; p += tile;
    w->P = p; p += tile;
    w->dP = p; p += tile;
    w->O = p;
    return w;
}

void tr_attn_ws_free(tr_attn_ws *w)
{
    if (!w)
        return;
    free(w->mem);
    free(w);
}

/* 16 floats as one value: GCC maps it to one AVX-512 register, two AVX2
 * registers or four SSE ones, so the tiles below are written once and the
 * accumulators are guaranteed to live in registers (left to itself, the
 * vectorizer picks the wrong loop and shuffles). */
typedef float v16 __attribute__((vector_size(64)));

static inline v16 ld16(const float *p)
{
    v16 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void st16(float *p, v16 v)
{
    memcpy(p, &v, sizeof v);
}

/* S[r][j] = sum_c Q[r][c] KT[c][j] for QB rows and j < jp (a multiple of
 * JW). Two key tiles at a time: eight independent accumulator chains hide
 * the FMA latency over the short dh loop. */
TR_HOT static void tile_scores(float *restrict S, int ld, const float *restrict Q, int dhp,
                               const float *restrict KT, int dh, int jp)
{
    const float *q0 = Q, *q1 = Q + dhp, *q2 = Q + 2 * dhp, *q3 = Q + 3 * dhp;
    float *s0 = S, *s1 = S + ld, *s2 = S + 2 * (size_t)ld, *s3 = S + 3 * (size_t)ld;
    int j = 0;
    for (; j + 2 * JW <= jp; j += 2 * JW) {
        v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};
        for (int c = 0; c < dh; c++) {
            const float *kr = KT + (size_t)c * ld + j;
            const v16 k = ld16(kr), l = ld16(kr + JW);
            a0 += q0[c] * k;
            a1 += q1[c] * k;
            a2 += q2[c] * k;
            a3 += q3[c] * k;
            b0 += q0[c] * l;
            b1 += q1[c] * l;
            b2 += q2[c] * l;
            b3 += q3[c] * l;
        }
        st16(s0 + j, a0);
        st16(s1 + j, a1);
        st16(s2 + j, a2);
        st16(s3 + j, a3);
        st16(s0 + j + JW, b0);
        st16(s1 + j + JW, b1);
        st16(s2 + j + JW, b2);
        st16(s3 + j + JW, b3);
    }
    for (; j < jp; j += JW) {
        v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        for (int c = 0; c < dh; c++) {
            const v16 k = ld16(KT + (size_t)c * ld + j);
            a0 += q0[c] * k;
            a1 += q1[c] * k;
            a2 += q2[c] * k;
            a3 += q3[c] * k;
        }
        st16(s0 + j, a0);
        st16(s1 + j, a1);
        st16(s2 + j, a2);
        st16(s3 + j, a3);
    }
}

/* Out[r][c] = sum_{j < jn} P[r][j] V[j][c], 16 columns at a time; two sets
 * of accumulators (even and odd keys) keep the FMA units busy. */
TR_HOT static void tile_pv(float *restrict Out, const float *restrict P, int ld,
                           const float *restrict V, int dhp, int jn)
{
    const float *p0 = P, *p1 = P + ld, *p2 = P + 2 * (size_t)ld, *p3 = P + 3 * (size_t)ld;
    for (int c0 = 0; c0 < dhp; c0 += 16) {
        v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};
        int j = 0;
        for (; j + 1 < jn; j += 2) {
            const v16 v = ld16(V + (size_t)j * dhp + c0), w = ld16(V + (size_t)(j + 1) * dhp + c0);
            a0 += p0[j] * v;
            a1 += p1[j] * v;
            a2 += p2[j] * v;
            a3 += p3[j] * v;
            b0 += p0[j + 1] * w;
            b1 += p1[j + 1] * w;
            b2 += p2[j + 1] * w;
            b3 += p3[j + 1] * w;
        }
        if (j < jn) {
            const v16 v = ld16(V + (size_t)j * dhp + c0);
            a0 += p0[j] * v;
            a1 += p1[j] * v;
            a2 += p2[j] * v;
            a3 += p3[j] * v;
        }
        st16(Out + c0, a0 + b0);
        st16(Out + dhp + c0, a1 + b1);
        st16(Out + 2 * dhp + c0, a2 + b2);
        st16(Out + 3 * dhp + c0, a3 + b3);
    }
}

/* D[j][c] += sum_r G[r][j] X[r][c] for j < jn: each row of D is read and
 * written once per tile. */
TR_HOT static void tile_outer(float *restrict D, const float *restrict G, int ld,
                              const float *restrict X, int dhp, int jn)
{
    const float *g0 = G, *g1 = G + ld, *g2 = G + 2 * (size_t)ld, *g3 = G + 3 * (size_t)ld;
    for (int c0 = 0; c0 < dhp; c0 += 16) {
        const v16 x0 = ld16(X + c0), x1 = ld16(X + dhp + c0), x2 = ld16(X + 2 * dhp + c0),
                  x3 = ld16(X + 3 * dhp + c0);
        for (int j = 0; j < jn; j++) {
            float *dr = D + (size_t)j * dhp + c0;
            st16(dr, ld16(dr) + g0[j] * x0 + g1[j] * x1 + g2[j] * x2 + g3[j] * x3);
        }
    }
}

/* Row r of a score tile (query i, keys 0..i) to exp(s - max) in place;
 * keys i < j < jp get 0. Returns the log-sum-exp; the caller divides the
 * output row by the sum (once per row instead of once per key). */
TR_HOT static float softmax_row(float *restrict row, int i, int jp, float scale, float slope,
                                float *sum)
{
    float m = -INFINITY;
#pragma omp simd reduction(max : m)
    for (int j = 0; j <= i; j++) {
        const float s = row[j] * scale - slope * (float)(i - j);
        row[j] = s;
        m = s > m ? s : m;
    }
    float l = 0.0f;
#pragma omp simd reduction(+ : l)
    for (int j = 0; j <= i; j++) {
        const float p = tr_exp(row[j] - m);
        row[j] = p;
        l += p;
    }
    for (int j = i + 1; j < jp; j++)
        row[j] = 0.0f;
    *sum = l;
    return m + logf(l);
}

/* Backward of one row: P rebuilt from the scores and lse, then
 * G = P (dP - sum_j P dP) * scale written over the scores. */
TR_HOT static void grad_row(float *restrict srow, float *restrict prow, const float *restrict dprow,
                            int i, int jp, float scale, float slope, float lse)
{
    float D = 0.0f;
#pragma omp simd reduction(+ : D)
    for (int j = 0; j <= i; j++) {
        const float p = tr_exp(srow[j] * scale - slope * (float)(i - j) - lse);
        prow[j] = p;
        D += p * dprow[j];
    }
    for (int j = 0; j <= i; j++)
        srow[j] = prow[j] * (dprow[j] - D) * scale;
    for (int j = i + 1; j < jp; j++)
        srow[j] = prow[j] = 0.0f;
}

/* Copy window b's head h into the padded arrays; rows T..round_up(T, JW)
 * and their transposed columns are zeroed (a shorter T than the last call
 * leaves stale values there). */
static void gather(tr_attn_ws *w, const float *qkv, int T, int d, int h, int with_kt)
{
    const int dh = w->dh, dhp = w->dhp, ld = w->ld, Tp = round_up(T, JW);
    for (int i = 0; i < T; i++) {
        const float *q = qkv + (size_t)i * 3 * d + (size_t)h * dh, *k = q + d, *v = q + 2 * d;
        memcpy(w->Q + (size_t)i * dhp, q, (size_t)dh * sizeof(float));
        memcpy(w->K + (size_t)i * dhp, k, (size_t)dh * sizeof(float));
        memcpy(w->V + (size_t)i * dhp, v, (size_t)dh * sizeof(float));
        for (int c = 0; c < dh; c++) {
            w->KT[(size_t)c * ld + i] = k[c];
            if (with_kt)
                w->VT[(size_t)c * ld + i] = v[c];
        }
    }
    for (int i = T; i < Tp; i++) {
        memset(w->Q + (size_t)i * dhp, 0, (size_t)dh * sizeof(float));
        memset(w->K + (size_t)i * dhp, 0, (size_t)dh * sizeof(float));
        memset(w->V + (size_t)i * dhp, 0, (size_t)dh * sizeof(float));
        for (int c = 0; c < dh; c++)
            w->KT[(size_t)c * ld + i] = w->VT[(size_t)c * ld + i] = 0.0f;
    }
}

void tr_attn_fwd(float *out, float *lse, const float *qkv, int nb, int T, int d, int H,
                 tr_attn_ws *w)
{
    const int dh = d / H, dhp = w->dhp, ld = w->ld;
    const float scale = 1.0f / sqrtf((float)dh);
    for (int b = 0; b < nb; b++) {
        const float *qb = qkv + (size_t)b * T * 3 * d;
        float *ob = out + (size_t)b * T * d;
        for (int h = 0; h < H; h++) {
            const float slope = ldexpf(1.0f, -tr_alibi_exp(h, H));
            float *lh = lse + ((size_t)b * H + h) * T;
            gather(w, qb, T, d, h, 0);
            for (int i0 = 0; i0 < T; i0 += QB) {
                const int nr = T - i0 < QB ? T - i0 : QB, jn = i0 + nr, jp = round_up(jn, JW);
                tile_scores(w->S, ld, w->Q + (size_t)i0 * dhp, dhp, w->KT, dh, jp);
                float sum[QB];
                for (int r = 0; r < QB; r++) {
                    float *row = w->S + (size_t)r * ld;
                    if (r < nr)
                        lh[i0 + r] = softmax_row(row, i0 + r, jp, scale, slope, &sum[r]);
                    else
                        memset(row, 0, (size_t)jp * sizeof *row);
                }
                tile_pv(w->O, w->S, ld, w->V, dhp, jn);
                for (int r = 0; r < nr; r++) {
                    float *o = ob + (size_t)(i0 + r) * d + (size_t)h * dh;
                    const float inv = 1.0f / sum[r];
                    for (int c = 0; c < dh; c++)
                        o[c] = w->O[r * dhp + c] * inv;
                }
            }
        }
    }
}

void tr_attn_bwd(float *dqkv, const float *dout, const float *lse, const float *qkv, int nb,
                 int T, int d, int H, tr_attn_ws *w)
{
    const int dh = d / H, dhp = w->dhp, ld = w->ld, Tp = round_up(T, JW);
    const float scale = 1.0f / sqrtf((float)dh);
    for (int b = 0; b < nb; b++) {
        const float *qb = qkv + (size_t)b * T * 3 * d, *gb = dout + (size_t)b * T * d;
        float *db = dqkv + (size_t)b * T * 3 * d;
        for (int h = 0; h < H; h++) {
            const float slope = ldexpf(1.0f, -tr_alibi_exp(h, H));
            const float *lh = lse + ((size_t)b * H + h) * T;
            gather(w, qb, T, d, h, 1);
            for (int i = 0; i < T; i++)
                memcpy(w->dO + (size_t)i * dhp, gb + (size_t)i * d + (size_t)h * dh,
                       (size_t)dh * sizeof(float));
            for (int i = T; i < Tp; i++)
                memset(w->dO + (size_t)i * dhp, 0, (size_t)dh * sizeof(float));
            memset(w->dK, 0, (size_t)Tp * dhp * sizeof(float));
            memset(w->dV, 0, (size_t)Tp * dhp * sizeof(float));
            for (int i0 = 0; i0 < T; i0 += QB) {
                const int nr = T - i0 < QB ? T - i0 : QB, jn = i0 + nr, jp = round_up(jn, JW);
                tile_scores(w->S, ld, w->Q + (size_t)i0 * dhp, dhp, w->KT, dh, jp);
                tile_scores(w->dP, ld, w->dO + (size_t)i0 * dhp, dhp, w->VT, dh, jp);
                for (int r = 0; r < QB; r++) {
                    float *srow = w->S + (size_t)r * ld, *prow = w->P + (size_t)r * ld;
                    if (r < nr) {
                        grad_row(srow, prow, w->dP + (size_t)r * ld, i0 + r, jp, scale, slope,
                                 lh[i0 + r]);
                    } else {
                        memset(srow, 0, (size_t)jp * sizeof *srow);
                        memset(prow, 0, (size_t)jp * sizeof *prow);
                    }
                }
                tile_pv(w->dQ + (size_t)i0 * dhp, w->S, ld, w->K, dhp, jn);
                tile_outer(w->dK, w->S, ld, w->Q + (size_t)i0 * dhp, dhp, jn);
                tile_outer(w->dV, w->P, ld, w->dO + (size_t)i0 * dhp, dhp, jn);
            }
            for (int i = 0; i < T; i++) {
                float *r = db + (size_t)i * 3 * d + (size_t)h * dh;
                memcpy(r, w->dQ + (size_t)i * dhp, (size_t)dh * sizeof(float));
                memcpy(r + d, w->dK + (size_t)i * dhp, (size_t)dh * sizeof(float));
                memcpy(r + 2 * d, w->dV + (size_t)i * dhp, (size_t)dh * sizeof(float));
            }
        }
    }
}
