/* tr_ckpt.h: the training checkpoint file (checkpoint.c). Private to
 * kernels/train.
 *
 * The file holds a plain state record and three float arrays; it knows
 * nothing of the trainer. The trainer (trainer.c) fills the record to save
 * and builds itself from it to resume, so the dependency runs one way:
 * trainer.c -> checkpoint.c, never back. */
#ifndef TR_CKPT_H
#define TR_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "../lmz_train.h"

/* Everything of a run but its arrays. */
typedef struct tr_ckpt_state {
    lmz_train_opts o;  /* the run's options (the model's shape among them) */
    int64_t step;      /* optimizer steps done */
    int64_t tokens;    /* tokens trained on */
    double seconds;    /* the budget's clock */
    uint64_t rng;      /* state of the window sampler */
    int32_t folded;    /* the model is in its folded (QAT) form */
    uint64_t nparams;  /* length of each array */
} tr_ckpt_state;

/* Write s and the arrays params, m, v (s->nparams floats each) to path,
 * atomically (io/lmz_atomic.h: a temporary file beside it, renamed over
 * the previous checkpoint, so a crash leaves that one whole). */
lmz_status tr_ckpt_save(const char *path, const tr_ckpt_state *s, const float *params,
                        const float *m, const float *v, lmz_err *err);

/* A checkpoint read into memory and checked (magic, checksum, version,
 * header, size), its arrays not yet copied out. */
typedef struct tr_ckpt_file {
    tr_ckpt_state s;
    uint8_t *buf;          /* the whole file */
    const uint8_t *floats; /* params, then m, then v: s.nparams little-endian floats each */
} tr_ckpt_file;

lmz_status tr_ckpt_open(const char *path, tr_ckpt_file *f, lmz_err *err);
/* Copy the three arrays (f->s.nparams floats each) out of the file. */
void tr_ckpt_floats(const tr_ckpt_file *f, float *params, float *m, float *v);
/* Free what tr_ckpt_open read; safe on a zeroed or closed one. */
void tr_ckpt_close(tr_ckpt_file *f);

#endif
