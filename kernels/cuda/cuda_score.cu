// cuda_score.cu: lmz_cuda_score, the encoder's side. The chunks go to the
// device in sub-batches of as many rows (positions) as fit in memory; each
// sub-batch is one full pass (forward.c's order: all q/k/v rows of a layer,
// then attention and the rest of the layer), and only (cum, freq) per byte
// comes back.
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"
#include "lmz_cuda.h"

enum { W_X, W_ZQ, W_ZA, W_BIG, W_Q8, W_K8, W_V8, W_AQ, W_AK, W_AV, W_O, W_IN, W_META, W_CF,
       W_TAB };

#define MAX_ROWS (1 << 20) // also keeps the GEMM's grid.y (rows / 64) < 65536

static size_t row_bytes(const lmz_config *c, int with_tables)
{
    const size_t d = (size_t)c->d_model, f = (size_t)c->d_ff, H = (size_t)c->n_heads;
    size_t big = 3 * d > f ? 3 * d : f;
    if (big < 256)
        big = 256;
    return 4 * d + (d > f ? d : f) + 4 + 4 * big + 3 * d + 12 * H + 4 * d + 2 + 4 +
           (with_tables ? 512 : 0) + 16;
}

// One sub-batch: chunks [c0, c1) with n rows in all.
static lmz_status run_batch(lmz_cuda *g, int c0, int c1, int n, const uint8_t *const *data,
                            const uint32_t *len, uint16_t *cum, uint16_t *freq, uint16_t *tables,
                            lmz_err *err)
{
    const lmz_config *cfg = &g->cfg;
    const int d = cfg->d_model, H = cfg->n_heads, F = cfg->d_ff, L = cfg->n_layers;
    const size_t ctx = (size_t)cfg->ctx, nn = (size_t)n;
    const int nc = c1 - c0;
    size_t big = 3 * (size_t)d > (size_t)F ? 3 * (size_t)d : (size_t)F;
    if (big < 256)
        big = 256;

    // host side: inputs (0 then the chunk's bytes shifted by one), targets,
    // row offsets, lengths and attention tiles
    int ntiles = 0;
    for (int c = c0; c < c1; c++)
        ntiles += (int)((len[c] + LMZ_ATT_QT - 1) / LMZ_ATT_QT);
    const size_t meta_bytes = (size_t)nc * 8 + (size_t)ntiles * sizeof(int2);
    uint8_t *hin = (uint8_t *)malloc(2 * nn);
    uint8_t *hmeta = (uint8_t *)malloc(meta_bytes);
    uint16_t *hcf = (uint16_t *)malloc(4 * nn);
    uint16_t *htab = tables ? (uint16_t *)malloc(nn * 512) : NULL;
    lmz_status st = LMZ_OK;
    if (!hin || !hmeta || !hcf || (tables && !htab)) {
        st = lmz_err_set(err, LMZ_ERR_NOMEM, "cuda: out of host memory");
        goto done;
    }
    {
        int *hrow0 = (int *)hmeta, *hlen = hrow0 + nc;
        int2 *htiles = (int2 *)(hlen + nc);
        size_t r = 0;
        int k = 0;
        for (int c = c0; c < c1; c++) {
            const uint32_t n_c = len[c];
            hrow0[c - c0] = (int)r;
            hlen[c - c0] = (int)n_c;
            hin[r] = 0;
            memcpy(hin + r + 1, data[c], n_c - 1);
            memcpy(hin + nn + r, data[c], n_c);
            for (uint32_t q0 = 0; q0 < n_c; q0 += LMZ_ATT_QT)
                htiles[k++] = make_int2(c - c0, (int)q0);
            r += n_c;
        }

        void *p[W_TAB + 1] = {0};
        const size_t sz[W_TAB + 1] = {
            nn * d * 4, nn * (size_t)(d > F ? d : F), nn * 4, nn * big * 4, nn * d, nn * d, nn * d,
            nn * H * 4, nn * H * 4, nn * H * 4, nn * d * 4, 2 * nn, meta_bytes, 4 * nn,
            tables ? nn * 512 : 1};
        cudaError_t e = cudaSuccess;
        for (int w = 0; w <= W_TAB && e == cudaSuccess; w++)
            e = lmz_cuda_ws(g, w, sz[w], &p[w]);
        if (e != cudaSuccess) {
            st = lmz_cuda_fail(err, "workspace", e);
            goto done;
        }
        int32_t *x = (int32_t *)p[W_X], *za = (int32_t *)p[W_ZA], *bigp = (int32_t *)p[W_BIG];
        int32_t *o = (int32_t *)p[W_O];
        int8_t *zq = (int8_t *)p[W_ZQ];
        int8_t *q8 = (int8_t *)p[W_Q8], *k8 = (int8_t *)p[W_K8], *v8 = (int8_t *)p[W_V8];
        int32_t *aq = (int32_t *)p[W_AQ], *ak = (int32_t *)p[W_AK], *av = (int32_t *)p[W_AV];
        uint8_t *din = (uint8_t *)p[W_IN];
        int *drow0 = (int *)p[W_META], *dlen = drow0 + nc;
        const int2 *dtiles = (const int2 *)(dlen + nc);
        uint16_t *dcf = (uint16_t *)p[W_CF];
        uint16_t *dtab = tables ? (uint16_t *)p[W_TAB] : NULL;
        cudaStream_t s = g->stream;

        cudaMemcpyAsync(din, hin, 2 * nn, cudaMemcpyHostToDevice, s);
        cudaMemcpyAsync(drow0, hmeta, meta_bytes, cudaMemcpyHostToDevice, s);

        // every layer writes its q/k/v rows to the same place (rows of d,
        // scales rows of H) and attends over them tile by tile
        lmz_cuda_att att;
        memset(&att, 0, sizeof att);
        att.kind = LMZ_ATT_FULL;
        const int dh = d / H;
        int8_t *rows8[3] = {q8, k8, v8};
        int32_t *rowsa[3] = {aq, ak, av};
        for (int part = 0; part < 3; part++) {
            att.dst.p8[part] = rows8[part];
            att.dst.r8[part] = (size_t)d;
            att.dst.h8[part] = (size_t)dh;
            att.dst.pa[part] = rowsa[part];
            att.dst.ra[part] = (size_t)H;
            att.dst.ha[part] = 1;
        }
        att.in.q8 = q8;
        att.in.k8 = k8;
        att.in.v8 = v8;
        att.in.aq = aq;
        att.in.ak = ak;
        att.in.av = av;
        att.tiles.ntiles = ntiles;
        att.tiles.tiles = dtiles;
        att.tiles.row0 = drow0;
        att.tiles.len = dlen;
        const lmz_dacts acts = {n, x, zq, za, bigp, o};

        lmz_cuda_embed(g, n, din, x);
        for (int l = 0; l < L; l++)
            lmz_cuda_layer(g, l, &acts, &att);
        lmz_cuda_logits(g, &acts);
        lmz_cuda_table_score(g, n, bigp, din + nn, dcf, dcf + nn, dtab);

        cudaMemcpyAsync(hcf, dcf, 4 * nn, cudaMemcpyDeviceToHost, s);
        if (tables)
            cudaMemcpyAsync(htab, dtab, nn * 512, cudaMemcpyDeviceToHost, s);
        e = cudaGetLastError();
        if (e == cudaSuccess)
            e = cudaStreamSynchronize(s);
        st = lmz_cuda_finish(g, "score", e, err); // names the first failed launch
        if (st != LMZ_OK)
            goto done;
        for (int c = c0; c < c1; c++) {
            const size_t r0 = (size_t)hrow0[c - c0];
            memcpy(cum + (size_t)c * ctx, hcf + r0, len[c] * sizeof(uint16_t));
            memcpy(freq + (size_t)c * ctx, hcf + nn + r0, len[c] * sizeof(uint16_t));
            if (tables)
                memcpy(tables + (size_t)c * ctx * 256, htab + r0 * 256,
                       (size_t)len[c] * 256 * sizeof(uint16_t));
        }
    }
done:
    free(hin);
    free(hmeta);
    free(hcf);
    free(htab);
    return st;
}

extern "C" lmz_status lmz_cuda_score(lmz_cuda *g, int nchunks, const uint8_t *const *data,
                                     const uint32_t *len, uint16_t *cum, uint16_t *freq,
                                     uint16_t *tables, lmz_err *err)
{
    if (nchunks <= 0)
        return LMZ_OK;
    cudaError_t e = cudaSetDevice(g->device);
    if (e != cudaSuccess)
        return lmz_cuda_fail(err, "set device", e);
    lmz_cuda_launch_reset(g);
    // rows per sub-batch: half the free memory, at most MAX_ROWS, at least
    // one full chunk
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess)
        free_b = (size_t)1 << 30;
    size_t cap = free_b / 2 / row_bytes(&g->cfg, tables != NULL);
    if (cap > MAX_ROWS)
        cap = MAX_ROWS;
    if (cap < (size_t)g->cfg.ctx)
        cap = (size_t)g->cfg.ctx;
    int c0 = 0;
    while (c0 < nchunks) {
        size_t rows = 0;
        int c1 = c0;
        while (c1 < nchunks && rows + len[c1] <= cap && (g->batch == 0 || c1 - c0 < g->batch))
            rows += len[c1++];
        lmz_status st = run_batch(g, c0, c1, (int)rows, data, len, cum, freq, tables, err);
        if (st != LMZ_OK)
            return st;
        c0 = c1;
    }
    return LMZ_OK;
}
