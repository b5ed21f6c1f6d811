/* window.c: a read-ahead window of blocks, all their coded chunks decoded in
 * one backend call (window.h). */
#include "window.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

lmz_status lmz_window_init(lmz_window *w, lmz_reader *r, uint32_t cap, lmz_err *err)
{
    memset(w, 0, sizeof *w);
    w->r = r;
    w->cap = cap ? cap : 1;
    w->pay_stride = lmz_reader_max_payload(r);
    w->raw_stride = lmz_reader_block_bytes(r);
    uint32_t cpb = r->info->chunks_per_block;
    size_t nch = (size_t)w->cap * cpb;
    w->payload = malloc(w->cap * w->pay_stride);
    w->raw = malloc(w->cap * w->raw_stride);
    w->slot = malloc(w->cap * sizeof *w->slot);
    w->chunks = malloc(cpb * sizeof *w->chunks);
    w->streams = malloc(nch * sizeof *w->streams);
    w->slen = malloc(nch * sizeof *w->slen);
    w->rlen = malloc(nch * sizeof *w->rlen);
    w->outs = malloc(nch * sizeof *w->outs);
    if (!w->payload || !w->raw || !w->slot || !w->chunks || !w->streams || !w->slen || !w->rlen ||
        !w->outs) {
        uint32_t asked = w->cap;
        lmz_window_free(w);
        return lmz_err_set(err, LMZ_ERR_NOMEM,
                           "out of memory for a read-ahead window of %u blocks (try a smaller --batch)",
                           asked);
    }
    return LMZ_OK;
}

void lmz_window_free(lmz_window *w)
{
    free(w->payload);
    free(w->raw);
    free(w->slot);
    free(w->chunks);
    free((void *)w->streams);
    free(w->slen);
    free(w->rlen);
    free(w->outs);
    memset(w, 0, sizeof *w);
}

void lmz_window_add(lmz_window *w, uint64_t b, uint32_t lo, uint32_t hi)
{
    lmz_window_slot *s = &w->slot[w->n++];
    s->block = b;
    s->lo = lo;
    s->hi = hi;
    s->rc = LMZ_OK;
    s->checked = 0;
    lmz_err_clear(&s->err);
}

lmz_status lmz_window_classical(const lmz_reader *r, uint64_t b, const uint8_t *payload,
                                uint8_t *raw, lmz_err *err)
{
    const lmz_index_entry *e = &r->index[b];
    lmz_err why;
    lmz_err_clear(&why);
    lmz_status rc = LMZ_OK;
    if (r->info->format_version < 2)
        rc = lmz_err_set(&why, LMZ_ERR_CORRUPT_BLOCK, "%s block in a format %u archive",
                         lmz_classical_name(payload[0]), r->info->format_version);
    if (!rc)
        rc = lmz_classical_decode(payload, e->payload_len, e->raw_len, raw, &why);
    if (!rc && XXH64(raw, e->raw_len, 0) != e->raw_xxh64)
        rc = lmz_err_set(&why, LMZ_ERR_CORRUPT_BLOCK,
                         "%s stream decodes to bytes that fail the raw checksum",
                         lmz_classical_name(payload[0]));
    if (rc == LMZ_ERR_CORRUPT_BLOCK)
        return lmz_err_set(err, rc, "block %llu: %s", (unsigned long long)b, why.msg);
    if (rc && err)
        *err = why;
    return rc;
}

/* Read, check and parse slot i's block; copy its stored bytes into place
 * and queue its coded chunks (the ones [lo, hi) touches) on the window's
 * call lists at *n. A damaged block only marks its slot. */
static lmz_status prepare_slot(lmz_window *w, uint32_t i, int *n, lmz_err *err)
{
    lmz_reader *r = w->r;
    lmz_window_slot *s = &w->slot[i];
    const lmz_index_entry *e = &r->index[s->block];
    uint32_t chunk = r->info->chunk_size;
    uint8_t *payload = w->payload + (size_t)i * w->pay_stride;
    uint8_t *raw = lmz_window_raw(w, i); /* chunk c decodes to raw + c * chunk */
    lmz_status rc = lmz_afile_read_block(r->a, s->block, payload, &s->err);
    if (rc == LMZ_ERR_CORRUPT_BLOCK) {
        s->rc = rc;
        return LMZ_OK;
    }
    if (rc) {
        if (err)
            *err = s->err;
        return rc;
    }
    uint32_t nchunks = 0;
    int mode = 0;
    rc = lmz_block_parse(payload, e->payload_len, e->raw_len, chunk, w->chunks, &nchunks, &mode,
                         &s->err);
    if (rc) {
        char why[sizeof s->err.msg];
        snprintf(why, sizeof why, "%s", s->err.msg[0] ? s->err.msg : "cannot be parsed");
        s->rc = lmz_err_set(&s->err, LMZ_ERR_CORRUPT_BLOCK, "block %llu: %s",
                            (unsigned long long)s->block, why);
        return LMZ_OK;
    }
    if (mode == LMZ_BLOCK_STORED) {
        memcpy(raw + s->lo, payload + 1 + s->lo, s->hi - s->lo);
        return LMZ_OK;
    }
    if (lmz_block_mode_classical(mode)) {
        /* cheap next to the model: decoded whole and checked end to end */
        rc = lmz_window_classical(r, s->block, payload, raw, &s->err);
        s->checked = 1;
        if (rc == LMZ_ERR_CORRUPT_BLOCK)
            s->rc = rc;
        else if (rc && err)
            *err = s->err;
        return rc == LMZ_ERR_CORRUPT_BLOCK ? LMZ_OK : rc;
    }
    uint32_t c0 = s->lo / chunk, c1 = (s->hi - 1) / chunk; /* chunks touched */
    for (uint32_t c = c0; c <= c1; c++) {
        uint8_t *dst = raw + (size_t)c * chunk;
        if (w->chunks[c].stored) {
            memcpy(dst, payload + w->chunks[c].offset, w->chunks[c].raw_len);
            continue;
        }
        w->streams[*n] = payload + w->chunks[c].offset;
        w->slen[*n] = w->chunks[c].len;
        w->rlen[*n] = w->chunks[c].raw_len;
        w->outs[*n] = dst;
        (*n)++;
    }
    return LMZ_OK;
}

lmz_status lmz_window_decode(lmz_window *w, int stop_at_damage, lmz_err *err)
{
    int n = 0;
    for (uint32_t i = 0; i < w->n; i++) {
        lmz_status rc = prepare_slot(w, i, &n, err);
        if (rc)
            return rc;
        if (stop_at_damage && w->slot[i].rc) {
            w->n = i + 1;
            break;
        }
    }
    if (n) {
        lmz_status rc = lmz_backend_decode(w->r->backend, n, w->streams, w->slen, w->rlen, w->outs, err);
        if (rc)
            return rc;
        w->calls++;
        w->chunks_decoded += (uint64_t)n;
    }
    /* Whole blocks: the end-to-end raw checksum, each block on its own. */
    for (uint32_t i = 0; i < w->n; i++) {
        lmz_window_slot *s = &w->slot[i];
        const lmz_index_entry *e = &w->r->index[s->block];
        if (s->rc || s->checked || s->lo != 0 || s->hi != e->raw_len)
            continue;
        if (XXH64(lmz_window_raw(w, i), e->raw_len, 0) != e->raw_xxh64)
            s->rc = lmz_err_set(&s->err, LMZ_ERR_CORRUPT_BLOCK,
                                "block %llu: decoded bytes fail the raw checksum (wrong model or "
                                "damaged block)",
                                (unsigned long long)s->block);
    }
    return LMZ_OK;
}
