// cuda_decode.cu: lmz_cuda_decode, the decoder's side. A batch of chunks
// runs in lock step, one position per step, each chunk with its KV cache in
// device memory; the step's table is range-decoded on the device
// (cuda_table.cu), whose symbol is the next step's input. The host only
// queues kernels: nothing crosses back until the batch is finished.
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"
#include "lmz_cuda.h"
#include "lmz_rc_core.h"

// workspace slots 0..15 are shared with cuda_score.cu (never at once)
enum { D_X, D_ZQ, D_ZA, D_BIG, D_Q8, D_AQ, D_O, D_K, D_V, D_AK, D_AV, D_STREAM, D_META, D_DEC,
       D_OUT };

#define MAX_BATCH 8192

__global__ void k_dec_init(int nb, const uint8_t *base, const uint64_t *off,
                           const uint32_t *slen, lmz_rc_dec *dec, uint8_t *tok)
{
    const int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= nb)
        return;
    lmz_rc_core_dec_init(&dec[b], base + off[b], slen[b]);
    tok[b] = 0; // the model's input at position 0
}

static size_t chunk_bytes(const lmz_config *c)
{
    const size_t d = (size_t)c->d_model, f = (size_t)c->d_ff, H = (size_t)c->n_heads;
    const size_t L = (size_t)c->n_layers, ctx = (size_t)c->ctx;
    size_t big = 3 * d > f ? 3 * d : f;
    if (big < 256)
        big = 256;
    const size_t cache = L * ctx * (2 * d + 8 * H);
    const size_t rows = 4 * d + (d > f ? d : f) + 4 + 4 * big + d + 4 * H + 4 * d;
    return cache + rows + ctx /* out */ + ctx /* stream, typically smaller */ + 64;
}

static lmz_status run_batch(lmz_cuda *g, int c0, int c1, const uint8_t *const *streams,
                            const uint32_t *stream_len, const uint32_t *raw_len,
                            uint8_t *const *out, lmz_err *err)
{
    const lmz_config *cfg = &g->cfg;
    const int d = cfg->d_model, H = cfg->n_heads, F = cfg->d_ff, L = cfg->n_layers;
    const int dh = d / H;
    const size_t ctx = (size_t)cfg->ctx;
    const int nb = c1 - c0;
    const size_t nbb = (size_t)nb;
    size_t big = 3 * (size_t)d > (size_t)F ? 3 * (size_t)d : (size_t)F;
    if (big < 256)
        big = 256;
    uint32_t maxlen = 0;
    size_t sbytes = 0;
    for (int c = c0; c < c1; c++) {
        if (raw_len[c] > maxlen)
            maxlen = raw_len[c];
        sbytes += stream_len[c];
    }
    if (maxlen == 0)
        return LMZ_OK;

    // meta: offsets (uint64), stream lengths, raw lengths (uint32)
    const size_t meta_bytes = nbb * 16;
    uint8_t *hmeta = (uint8_t *)malloc(meta_bytes);
    uint8_t *hstream = (uint8_t *)malloc(sbytes ? sbytes : 1);
    uint8_t *hout = (uint8_t *)malloc(nbb * ctx);
    lmz_status st = LMZ_OK;
    if (!hmeta || !hstream || !hout) {
        st = lmz_err_set(err, LMZ_ERR_NOMEM, "cuda: out of host memory");
        goto done;
    }
    {
        uint64_t *hoff = (uint64_t *)hmeta;
        uint32_t *hslen = (uint32_t *)(hoff + nbb), *hraw = hslen + nbb;
        size_t pos = 0;
        for (int c = c0; c < c1; c++) {
            hoff[c - c0] = pos;
            hslen[c - c0] = stream_len[c];
            hraw[c - c0] = raw_len[c];
            if (stream_len[c])
                memcpy(hstream + pos, streams[c], stream_len[c]);
            pos += stream_len[c];
        }

        // cache per chunk: [layer][head][pos][dh] int8 (k, v) and
        // [layer][head][pos] int32 (ak, av)
        const size_t cs8 = (size_t)L * H * ctx * dh, csa = (size_t)L * H * ctx;
        void *p[D_OUT + 1] = {0};
        const size_t sz[D_OUT + 1] = {
            nbb * d * 4, nbb * (size_t)(d > F ? d : F), nbb * 4, nbb * big * 4, nbb * d, nbb * H * 4,
            nbb * d * 4, nbb * cs8, nbb * cs8, nbb * csa * 4, nbb * csa * 4, sbytes, meta_bytes + nbb,
            nbb * sizeof(lmz_rc_dec), nbb * ctx};
        cudaError_t e = cudaSuccess;
        for (int w = 0; w <= D_OUT && e == cudaSuccess; w++)
            e = lmz_cuda_ws(g, w, sz[w], &p[w]);
        if (e != cudaSuccess) {
            st = lmz_cuda_fail(err, "workspace", e);
            goto done;
        }
        int32_t *x = (int32_t *)p[D_X], *za = (int32_t *)p[D_ZA], *bigp = (int32_t *)p[D_BIG];
        int32_t *o = (int32_t *)p[D_O], *aq = (int32_t *)p[D_AQ];
        int8_t *zq = (int8_t *)p[D_ZQ], *q8 = (int8_t *)p[D_Q8];
        int8_t *kc = (int8_t *)p[D_K], *vc = (int8_t *)p[D_V];
        int32_t *akc = (int32_t *)p[D_AK], *avc = (int32_t *)p[D_AV];
        uint8_t *dstream = (uint8_t *)p[D_STREAM];
        uint64_t *doff = (uint64_t *)p[D_META];
        uint32_t *dslen = (uint32_t *)(doff + nbb), *draw = dslen + nbb;
        uint8_t *tok = (uint8_t *)(draw + nbb);
        lmz_rc_dec *dec = (lmz_rc_dec *)p[D_DEC];
        uint8_t *dout = (uint8_t *)p[D_OUT];
        cudaStream_t s = g->stream;

        if (sbytes)
            cudaMemcpyAsync(dstream, hstream, sbytes, cudaMemcpyHostToDevice, s);
        cudaMemcpyAsync(doff, hmeta, meta_bytes, cudaMemcpyHostToDevice, s);
        LMZ_LAUNCH(g, k_dec_init, (nb + 127) / 128, 128, 0, nb, dstream, doff, dslen, dec, tok);

        const lmz_dacts acts = {nb, x, zq, za, bigp, o};
        for (int i = 0; i < (int)maxlen; i++) {
            lmz_cuda_embed(g, nb, tok, x);
            for (int l = 0; l < L; l++) {
                // the query goes to rows q8/aq; k and v go to position i of
                // layer l's cache, which attention then reads from 0 to i
                int8_t *kl = kc + (size_t)l * H * ctx * dh, *vl = vc + (size_t)l * H * ctx * dh;
                int32_t *akl = akc + (size_t)l * H * ctx, *avl = avc + (size_t)l * H * ctx;
                lmz_cuda_att att;
                memset(&att, 0, sizeof att);
                att.kind = LMZ_ATT_STEP;
                att.dst.p8[0] = q8;
                att.dst.r8[0] = (size_t)d;
                att.dst.h8[0] = (size_t)dh;
                att.dst.pa[0] = aq;
                att.dst.ra[0] = (size_t)H;
                att.dst.ha[0] = 1;
                att.dst.p8[1] = kl + (size_t)i * dh;
                att.dst.p8[2] = vl + (size_t)i * dh;
                att.dst.pa[1] = akl + i;
                att.dst.pa[2] = avl + i;
                for (int part = 1; part < 3; part++) {
                    att.dst.r8[part] = cs8;
                    att.dst.h8[part] = ctx * dh;
                    att.dst.ra[part] = csa;
                    att.dst.ha[part] = ctx;
                }
                att.in.q8 = q8;
                att.in.aq = aq;
                att.in.k8 = kl;
                att.in.ak = akl;
                att.in.v8 = vl;
                att.in.av = avl;
                att.step.i = i;
                att.step.cs8 = cs8;
                att.step.csa = csa;
                lmz_cuda_layer(g, l, &acts, &att);
            }
            lmz_cuda_logits(g, &acts);
            lmz_cuda_table_decode(g, nb, i, bigp, draw, dec, dout, tok);
            if (g->launch.e != cudaSuccess)
                break; // LMZ_LAUNCH skips the rest anyway; stop queuing steps
        }
        cudaMemcpyAsync(hout, dout, nbb * ctx, cudaMemcpyDeviceToHost, s);
        e = cudaGetLastError();
        if (e == cudaSuccess)
            e = cudaStreamSynchronize(s);
        st = lmz_cuda_finish(g, "decode", e, err); // names the first failed launch
        if (st != LMZ_OK)
            goto done;
        for (int c = c0; c < c1; c++)
            if (raw_len[c])
                memcpy(out[c], hout + (size_t)(c - c0) * ctx, raw_len[c]);
    }
done:
    free(hmeta);
    free(hstream);
    free(hout);
    return st;
}

extern "C" lmz_status lmz_cuda_decode(lmz_cuda *g, int nchunks, const uint8_t *const *streams,
                                      const uint32_t *stream_len, const uint32_t *raw_len,
                                      uint8_t *const *out, lmz_err *err)
{
    if (nchunks <= 0)
        return LMZ_OK;
    cudaError_t e = cudaSetDevice(g->device);
    if (e != cudaSuccess)
        return lmz_cuda_fail(err, "set device", e);
    lmz_cuda_launch_reset(g);
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess)
        free_b = (size_t)1 << 30;
    size_t cap = free_b / 2 / chunk_bytes(&g->cfg);
    if (cap > MAX_BATCH)
        cap = MAX_BATCH;
    if (cap < 1)
        cap = 1;
    if (g->batch > 0 && (size_t)g->batch < cap)
        cap = (size_t)g->batch;
    for (int c0 = 0; c0 < nchunks;) {
        const int c1 = c0 + (int)cap < nchunks ? c0 + (int)cap : nchunks;
        lmz_status st = run_batch(g, c0, c1, streams, stream_len, raw_len, out, err);
        if (st != LMZ_OK)
            return st;
        c0 = c1;
    }
    return LMZ_OK;
}
