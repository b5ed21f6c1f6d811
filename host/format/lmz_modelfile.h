/* lmz_modelfile.h: model files (HDF5: modelfile.c) and finding a model by
 * hash or name (built-ins and the search path: modelsearch.c).
 *
 * A model file (*.lmzm) is an HDF5 file laid out as docs/format.md, "Model
 * files" says; the same layout is embedded in an archive under /model. A
 * model is named by its hash (XXH3-128 of its canonical serialization, 32
 * hex digits), like a zstd dictionary ID. */
#ifndef LMZ_MODELFILE_H
#define LMZ_MODELFILE_H

#include <stdint.h>

#include "lmz_error.h"
#include "lmz_model.h"

/* Write m to path through a temporary file beside it and a rename; fails with
 * LMZ_ERR_EXISTS if path exists and force is 0. m must pass
 * lmz_model_validate and its hash must be current (lmz_model_compute_hash
 * after the last change), else LMZ_ERR_MODEL_INVALID and nothing is
 * written. The same model gives the same file bytes. */
lmz_status lmz_model_save(const lmz_model *m, const char *path, int force, lmz_err *err);

/* Read and validate a model file: every dataset's type and shape is checked
 * against the configuration before it is read, then the values
 * (lmz_model_validate), then the stored hash against the recomputed one
 * ("PATH: model hash mismatch (file damaged)"). Errors: LMZ_ERR_MODEL_MISSING
 * (no such file), LMZ_ERR_MODEL_INVALID, LMZ_ERR_VERSION, LMZ_ERR_TRUNCATED,
 * LMZ_ERR_IO. */
lmz_status lmz_model_load(const char *path, lmz_model **out, lmz_err *err);

/* The same, inside an open HDF5 file or group (loc is an hid_t). Used to
 * embed a model in an archive. Messages do not name a file; callers prefix
 * one. */
lmz_status lmz_model_h5_write(int64_t loc, const lmz_model *m, lmz_err *err);
lmz_status lmz_model_h5_read(int64_t loc, lmz_model **out, lmz_err *err);

/* The hash (32 hex digits) a model file states, read without loading the
 * model; "" when path is not a readable model file. The search path reads
 * only this until a file matches. */
void lmz_model_file_hash(const char *path, char out[64]);

/* Bytes of a model's canonical serialization: the "model size" that the
 * adjusted rate counts and that embedding a model costs. */
uint64_t lmz_model_bytes(const lmz_model *m);

/* ---- finding a model (modelsearch.c) ---- */

/* Built-in models: seeded random models that need no file, named
 * "random-<preset>" (seed 1), e.g. "random-tiny", "random-200k". Returns
 * LMZ_ERR_MODEL_MISSING for an unknown name. */
lmz_status lmz_model_builtin(const char *name, lmz_model **out, lmz_err *err);

/* The search path for shipped models, in order: model_dir (from --model-dir,
 * may be NULL), each entry of model_path (colon-separated, empty entries
 * skipped, may be NULL; the CLI passes $LMZ_MODEL_PATH), the models/
 * directory lmz was built with, then <dir of the executable>/../models, then
 * <dir of liblmz.so or of the executable holding lmz>/../share/lmz/models
 * (an installed lmz's models). */

/* Find the model whose hash is hash_hex: the built-in models first, then
 * every *.lmzm file on the search path (directory by directory, files in
 * name order, reading only each file's hash attribute until one matches).
 * LMZ_ERR_MODEL_MISSING naming the hash and the directories searched when
 * there is none; a file that states the hash but fails to load gives its
 * load error if no other file matches. */
lmz_status lmz_model_find_by_hash(const char *hash_hex, const char *model_dir,
                                  const char *model_path, lmz_model **out, lmz_err *err);

/* Resolve what a user typed after -m, in this order: a built-in name; a
 * path to a model file (spec contains '/' or names an existing file); the
 * name of a model on the search path (<dir>/<spec>.lmzm, or <dir>/<spec>
 * when spec ends in .lmzm).
 * *shipped is set to 1 when the model is built in or found on the search path
 * (the archive then names it by hash), 0 for a user's own file (embedded). */
lmz_status lmz_model_resolve(const char *spec, const char *model_dir, const char *model_path,
                             lmz_model **out, int *shipped, lmz_err *err);

/* The default model for a --kind ("text", "image", "audio", "bytes"): the
 * name of a shipped model, or a built-in one while none is shipped. */
const char *lmz_default_model_for_kind(const char *kind);

#endif
