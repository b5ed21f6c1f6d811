// cuda_linear.cu: linear layers as an int8 GEMM with int32 accumulation
// (__dp4a), then the requantising epilogue of ops.c's linear_row.
//
// acc_o = sum_i w[o][i] * q[i] is exact in int32 (|acc| < 2^26, docs/
// inference.md), so the tile order of the sum cannot change it; the epilogue
// is linear_row's int64 arithmetic, line for line.
//
// Y[M][N] = Q[M][K] . W[N][K]^T: both operands are K-contiguous, as dp4a
// wants. Tiles of 64 rows x 64 outputs x 32 bytes of K; 256 threads, each
// owning 4 x 4 outputs interleaved by 16 (conflict-free shared reads).
#include "cuda_internal.h"

#define BM 64
#define BN 64
#define BKW 8 // words (4 bytes) of K per tile
#define PAD 4

// Word w (bytes k .. k+3) of row `row` of an [rows][K] int8 matrix, zero
// outside it.
template <bool K4>
__device__ __forceinline__ int load_word(const int8_t *__restrict__ p, int rows, int K, int row,
                                         int k)
{
    if (row >= rows || k >= K)
        return 0;
    const int8_t *q = p + (size_t)row * K + k;
    if (K4)
        return __ldg((const int *)q); // K % 4 == 0: aligned and inside the row
    uint32_t w = 0;
    for (int b = 0; b < 4; b++)
        if (k + b < K)
            w |= (uint32_t)(uint8_t)q[b] << (8 * b);
    return (int)w;
}

template <bool K4>
__global__ void __launch_bounds__(256)
k_linear(int M, int N, int K, const int8_t *__restrict__ Q, const int32_t *__restrict__ amax,
         lmz_dlinear L, lmz_lin_mode mode, int64_t lim, int32_t *__restrict__ Y)
{
    __shared__ int As[BKW][BM + PAD];
    __shared__ int Bs[BKW][BN + PAD];
    const int t = threadIdx.x, tx = t & 15, ty = t >> 4;
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
    int acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
            acc[i][j] = 0;

    for (int k0 = 0; k0 < K; k0 += 4 * BKW) {
#pragma unroll
        for (int s = 0; s < 2; s++) {
            const int idx = t + 256 * s; // 512 words per operand tile
            const int w = idx & 7, r = idx >> 3;
            As[w][r] = load_word<K4>(Q, M, K, m0 + r, k0 + 4 * w);
            Bs[w][r] = load_word<K4>(L.w, N, K, n0 + r, k0 + 4 * w);
        }
        __syncthreads();
#pragma unroll
        for (int w = 0; w < BKW; w++) {
            int a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++)
                a[i] = As[w][ty + 16 * i];
#pragma unroll
            for (int j = 0; j < 4; j++)
                b[j] = Bs[w][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++)
                    acc[i][j] = __dp4a(a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }

    // The epilogue: ops.c's linear_row after the dot product, then the clamp
    // of lmz_linear_clamp (LMZ_LIN_CLAMP) or the residual of lmz_linear_residual.
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int row = m0 + ty + 16 * i;
        if (row >= M)
            continue;
        const int32_t a = amax[row];
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int o = n0 + tx + 16 * j;
            if (o >= N)
                continue;
            const int64_t p = (int64_t)acc[i][j] * a;
            const int64_t y = lmz_rshift_round(p * L.mult[o], L.shift[o]) + L.bias[o];
            int32_t *dst = Y + (size_t)row * N + o;
            if (mode == LMZ_LIN_CLAMP)
                *dst = (int32_t)lmz_clamp64(y, -lim, lim);
            else
                *dst = (int32_t)lmz_clamp64((int64_t)*dst + y, -LMZ_RES, LMZ_RES);
        }
    }
}

void lmz_cuda_linear(const lmz_cuda *g, const lmz_dlinear *L, int n, const int8_t *q,
                     const int32_t *a, lmz_lin_mode mode, int64_t lim, int32_t *y)
{
    if (n <= 0)
        return;
    const dim3 grid((unsigned)((L->out + BN - 1) / BN), (unsigned)((n + BM - 1) / BM));
    if (L->in % 4 == 0)
        LMZ_LAUNCH(g, k_linear<true>, grid, 256, 0, n, L->out, L->in, q, a, *L, mode, lim, y);
    else
        LMZ_LAUNCH(g, k_linear<false>, grid, 256, 0, n, L->out, L->in, q, a, *L, mode, lim, y);
}
