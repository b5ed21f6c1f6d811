/* _lmz.c: the CPython extension under the `lmz` package, a thin layer over
 * liblmz's public API (include/lmz.h) and nothing else: no decoder here.
 *
 * Every call into liblmz that can take time (open, read, verify, compress,
 * decompress) runs with the GIL released. A Handle is one lmz_archive; the
 * library serializes calls on one handle with its own mutex, so Python
 * threads may share a Handle (safe, not parallel) or open one each.
 *
 * Errors: _lmz.Error (lmz.Error) with .code (the lmz_status number), .name
 * (lmz_status_name), .block (the damaged block's number for
 * LMZ_ERR_CORRUPT_BLOCK, else None) and the library's one-line message as
 * its text. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lmz.h>

static PyObject *LmzError;
static long live_handles; /* open lmz_archive handles of this process */
static long live_writers;

/* ---- errors ---- */

/* The block number a CORRUPT_BLOCK message names ("block N: ..."); -1 if
 * none. The library's messages for damage always name the block so. */
static long long damaged_block(const lmz_error *e)
{
    if (e->code != LMZ_ERR_CORRUPT_BLOCK)
        return -1;
    const char *s = e->msg;
    while ((s = strstr(s, "block ")) != NULL) {
        s += 6;
        if (*s >= '0' && *s <= '9')
            return strtoll(s, NULL, 10);
    }
    return -1;
}

static PyObject *raise_error(int code, const char *msg, long long block)
{
    PyObject *exc = PyObject_CallFunction(LmzError, "s", msg);
    if (!exc)
        return NULL;
    PyObject *c = PyLong_FromLong(code);
    PyObject *n = PyUnicode_FromString(lmz_status_name(code));
    PyObject *b = block >= 0 ? PyLong_FromLongLong(block) : Py_NewRef(Py_None);
    if (c && n && b) {
        PyObject_SetAttrString(exc, "code", c);
        PyObject_SetAttrString(exc, "name", n);
        PyObject_SetAttrString(exc, "block", b);
        PyErr_SetObject(LmzError, exc);
    }
    Py_XDECREF(c);
    Py_XDECREF(n);
    Py_XDECREF(b);
    Py_DECREF(exc);
    return NULL;
}

static PyObject *raise_lmz(const lmz_error *e, lmz_status rc)
{
    int code = e->code ? (int)e->code : (int)rc;
    const char *msg = e->msg[0] ? e->msg : lmz_status_name(code);
    return raise_error(code, msg, damaged_block(e));
}

/* An lmz_error with no error in it, for the library to fill. */
#define ERR_NONE {LMZ_OK, ""}

/* ---- parameters from a dict (None values are ignored) ---- */

static int get_int(PyObject *d, const char *key, long long *out)
{
    PyObject *v = PyDict_GetItemString(d, key); /* borrowed */
    if (!v || v == Py_None)
        return 0;
    long long x = PyLong_AsLongLong(v);
    if (x == -1 && PyErr_Occurred())
        return -1;
    *out = x;
    return 1;
}

static int get_str(PyObject *d, const char *key, const char **out)
{
    PyObject *v = PyDict_GetItemString(d, key);
    if (!v || v == Py_None)
        return 0;
    if (PyUnicode_Check(v)) {
        *out = PyUnicode_AsUTF8(v); /* lives as long as the dict holds v */
    } else if (PyBytes_Check(v)) {
        *out = PyBytes_AS_STRING(v);
    } else {
        PyErr_Format(PyExc_TypeError, "%s: expected str, got %s", key, Py_TYPE(v)->tp_name);
        return -1;
    }
    return *out ? 1 : -1;
}

static int fill_params(PyObject *d, lmz_params *p)
{
    lmz_params_init(p);
    if (!d || d == Py_None)
        return 0;
    if (!PyDict_Check(d)) {
        PyErr_SetString(PyExc_TypeError, "params must be a dict");
        return -1;
    }
    long long v;
    const char *s;
    int r;
    if ((r = get_int(d, "threads", &v)) < 0) return -1;
    if (r) p->threads = (int)v;
    if ((r = get_int(d, "chunks_per_block", &v)) < 0) return -1;
    if (r) p->chunks_per_block = (uint32_t)v;
    if ((r = get_int(d, "batch", &v)) < 0) return -1;
    if (r) p->batch = (uint32_t)v;
    if ((r = get_int(d, "decode_batch", &v)) < 0) return -1;
    if (r) p->decode_batch = (int)v;
    if ((r = get_int(d, "force", &v)) < 0) return -1;
    if (r) p->force = v != 0;
    if ((r = get_int(d, "recursive", &v)) < 0) return -1;
    if (r) p->recursive = v != 0;
    if ((r = get_str(d, "model", &p->model)) < 0) return -1;
    if ((r = get_str(d, "model_dir", &p->model_dir)) < 0) return -1;
    if ((r = get_str(d, "model_path", &p->model_path)) < 0) return -1;
    if ((r = get_str(d, "kind", &p->kind)) < 0) return -1;
    if ((r = get_str(d, "codec", &s)) < 0) return -1;
    if (r) {
        if (!strcmp(s, "auto")) p->codec = LMZ_CODEC_AUTO;
        else if (!strcmp(s, "lm")) p->codec = LMZ_CODEC_LM;
        else if (!strcmp(s, "lzma2") || !strcmp(s, "xz")) p->codec = LMZ_CODEC_LZMA2;
        else if (!strcmp(s, "zstd")) p->codec = LMZ_CODEC_ZSTD;
        else {
            raise_error(LMZ_ERR_USAGE, "codec must be one of auto, lm, lzma2, zstd", -1);
            return -1;
        }
    }
    if ((r = get_str(d, "device", &s)) < 0) return -1;
    if (r) {
        if (!strcmp(s, "auto")) p->device = LMZ_DEVICE_AUTO;
        else if (!strcmp(s, "cpu")) p->device = LMZ_DEVICE_CPU;
        else if (!strcmp(s, "cuda")) { p->device = LMZ_DEVICE_CUDA; }
        else {
            raise_error(LMZ_ERR_USAGE, "device must be one of auto, cpu, cuda", -1);
            return -1;
        }
    }
    return 0;
}

static PyObject *stats_dict(const lmz_stats *st)
{
    return Py_BuildValue("{s:K,s:K,s:K,s:K,s:K,s:(KKKK),s:d}", "raw_bytes",
                         (unsigned long long)st->raw_bytes, "payload_bytes",
                         (unsigned long long)st->payload_bytes, "archive_bytes",
                         (unsigned long long)st->archive_bytes, "blocks",
                         (unsigned long long)st->blocks, "blocks_damaged",
                         (unsigned long long)st->blocks_damaged, "mode_blocks",
                         (unsigned long long)st->mode_blocks[0],
                         (unsigned long long)st->mode_blocks[1],
                         (unsigned long long)st->mode_blocks[2],
                         (unsigned long long)st->mode_blocks[3], "seconds", st->seconds);
}

/* ---- opening and freeing Handles and Writers ---- */

/* Handle(path, params) and Writer(archive, params): parse the two arguments
 * and open with the GIL released. NULL with the exception set on failure,
 * or when already is set (the object was initialized before). */
typedef void *(*open_fn)(const char *path, const lmz_params *p, lmz_error *e);
static void *open_from_args(PyObject *args, PyObject *kw, char **names, int already,
                            const char *already_msg, open_fn open)
{
    PyObject *path = NULL, *params = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|O", names, PyUnicode_FSConverter, &path,
                                     &params))
        return NULL;
    void *obj = NULL;
    lmz_params p;
    if (already) {
        PyErr_SetString(PyExc_RuntimeError, already_msg);
    } else if (fill_params(params, &p) == 0) {
        lmz_error e = ERR_NONE;
        const char *cpath = PyBytes_AS_STRING(path);
        Py_BEGIN_ALLOW_THREADS
        obj = open(cpath, &p, &e);
        Py_END_ALLOW_THREADS
        if (!obj)
            raise_lmz(&e, e.code);
    }
    Py_DECREF(path);
    return obj;
}

static void *archive_open(const char *path, const lmz_params *p, lmz_error *e)
{
    return lmz_archive_open(path, p, e);
}

static void *writer_create(const char *path, const lmz_params *p, lmz_error *e)
{
    return lmz_writer_create(path, p, e);
}

/* Free obj with the GIL released (closing waits on the file) and count it
 * gone from live. */
typedef void (*free_fn)(void *obj);
static void free_nogil(free_fn f, void *obj, long *live)
{
    Py_BEGIN_ALLOW_THREADS
    f(obj);
    Py_END_ALLOW_THREADS
    (*live)--;
}

static void archive_close(void *a)
{
    lmz_archive_close(a);
}

static void writer_free_raw(void *w)
{
    lmz_writer_free(w);
}

/* ---- Handle: one lmz_archive ---- */

typedef struct {
    PyObject_HEAD
    lmz_archive *a;
    int busy;    /* calls running without the GIL */
    int closing; /* close() asked while busy: the last call closes */
} Handle;

static void handle_really_close(Handle *h)
{
    if (h->a) {
        lmz_archive *a = h->a;
        h->a = NULL;
        free_nogil(archive_close, a, &live_handles);
    }
}

/* Called with the GIL; returns the archive or sets an error. */
static lmz_archive *handle_enter(Handle *h)
{
    if (!h->a || h->closing) {
        raise_error(LMZ_ERR_USAGE, "the archive is closed", -1);
        return NULL;
    }
    h->busy++;
    return h->a;
}

static void handle_leave(Handle *h)
{
    if (--h->busy == 0 && h->closing)
        handle_really_close(h);
}

static int Handle_init(Handle *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"path", "params", NULL};
    lmz_archive *a = open_from_args(args, kw, names, self->a != NULL, "Handle already open",
                                    archive_open);
    if (!a)
        return -1;
    self->a = a;
    live_handles++;
    return 0;
}

static void Handle_dealloc(Handle *self)
{
    handle_really_close(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Handle_close(Handle *self, PyObject *unused)
{
    if (self->busy)
        self->closing = 1;
    else
        handle_really_close(self);
    Py_RETURN_NONE;
}

/* After fork: forget the inherited handle without touching it (the parent
 * still owns the file; HDF5's state in the child is a copy). */
static PyObject *Handle_detach(Handle *self, PyObject *unused)
{
    if (self->a) {
        self->a = NULL;
        live_handles--;
    }
    self->busy = 0;
    self->closing = 0;
    Py_RETURN_NONE;
}

static PyObject *Handle_closed(Handle *self, void *unused)
{
    return PyBool_FromLong(self->a == NULL || self->closing);
}

static PyObject *Handle_meta(Handle *self, PyObject *unused)
{
    lmz_archive *a = handle_enter(self);
    if (!a)
        return NULL;
    lmz_archive_meta m;
    lmz_error e = ERR_NONE;
    lmz_status rc = lmz_archive_get_meta(a, &m, &e);
    handle_leave(self);
    if (rc)
        return raise_lmz(&e, rc);
    return Py_BuildValue(
        "{s:I,s:I,s:I,s:I,s:K,s:K,s:K,s:K,s:K,s:s,s:s,s:s,s:O,s:K,s:s}", "format_version",
        m.format_version, "arith_version", m.arith_version, "chunk_size", m.chunk_size,
        "chunks_per_block", m.chunks_per_block, "raw_size", (unsigned long long)m.raw_size,
        "payload_size", (unsigned long long)m.payload_size, "nblocks",
        (unsigned long long)m.nblocks, "nmembers", (unsigned long long)m.nmembers, "file_bytes",
        (unsigned long long)m.file_bytes, "kind", m.kind, "model_name", m.model_name,
        "model_hash", m.model_hash, "model_embedded", m.model_embedded ? Py_True : Py_False,
        "model_bytes", (unsigned long long)m.model_bytes, "tool_version", m.tool_version);
}

static PyObject *Handle_members(Handle *self, PyObject *unused)
{
    lmz_archive *a = handle_enter(self);
    if (!a)
        return NULL;
    uint64_t n = lmz_archive_nmembers(a);
    PyObject *list = PyList_New(0);
    for (uint64_t k = 0; list && k < n; k++) {
        lmz_member_info mi;
        lmz_error e = ERR_NONE;
        lmz_status rc = lmz_archive_member(a, k, &mi, &e);
        if (rc) {
            Py_CLEAR(list);
            raise_lmz(&e, rc);
            break;
        }
        PyObject *name = PyUnicode_DecodeFSDefault(mi.name);
        PyObject *t = name ? Py_BuildValue("(NKKI)", name, (unsigned long long)mi.offset,
                                           (unsigned long long)mi.size, (unsigned)mi.mode)
                           : NULL;
        if (!t || PyList_Append(list, t) < 0) {
            Py_XDECREF(t);
            Py_CLEAR(list);
            break;
        }
        Py_DECREF(t);
    }
    handle_leave(self);
    return list;
}

static PyObject *Handle_block_info(Handle *self, PyObject *arg)
{
    unsigned long long b = PyLong_AsUnsignedLongLong(arg);
    if (b == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    lmz_archive *a = handle_enter(self);
    if (!a)
        return NULL;
    lmz_block_info bi;
    lmz_error e = ERR_NONE;
    lmz_status rc = lmz_archive_block_info(a, b, &bi, &e);
    handle_leave(self);
    if (rc)
        return raise_lmz(&e, rc);
    return Py_BuildValue("(KIKIi)", (unsigned long long)bi.raw_offset, (unsigned)bi.raw_len,
                         (unsigned long long)bi.payload_offset, (unsigned)bi.payload_len, bi.mode);
}

/* read_into(offset, buffer): fill the whole writable, contiguous buffer
 * with the raw bytes from offset; returns the byte count. */
static PyObject *Handle_read_into(Handle *self, PyObject *args)
{
    unsigned long long offset;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "Kw*", &offset, &view))
        return NULL;
    if (!PyBuffer_IsContiguous(&view, 'A')) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "read_into needs a contiguous buffer");
        return NULL;
    }
    lmz_archive *a = handle_enter(self);
    if (!a) {
        PyBuffer_Release(&view);
        return NULL;
    }
    lmz_error e = ERR_NONE;
    lmz_status rc;
    Py_BEGIN_ALLOW_THREADS
    rc = lmz_archive_read(a, offset, (uint64_t)view.len, view.buf, &e);
    Py_END_ALLOW_THREADS
    handle_leave(self);
    Py_ssize_t n = view.len;
    PyBuffer_Release(&view);
    if (rc)
        return raise_lmz(&e, rc);
    return PyLong_FromSsize_t(n);
}

/* read(offset, length) -> bytes, decoded straight into the new object. */
static PyObject *Handle_read(Handle *self, PyObject *args)
{
    unsigned long long offset, length;
    if (!PyArg_ParseTuple(args, "KK", &offset, &length))
        return NULL;
    if (length > (unsigned long long)PY_SSIZE_T_MAX)
        return raise_error(LMZ_ERR_RANGE, "length too large", -1);
    lmz_archive *a = handle_enter(self);
    if (!a)
        return NULL;
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)length);
    if (!out) {
        handle_leave(self);
        return NULL;
    }
    char *buf = PyBytes_AS_STRING(out);
    lmz_error e = ERR_NONE;
    lmz_status rc;
    Py_BEGIN_ALLOW_THREADS
    rc = lmz_archive_read(a, offset, length, buf, &e);
    Py_END_ALLOW_THREADS
    handle_leave(self);
    if (rc) {
        Py_DECREF(out);
        return raise_lmz(&e, rc);
    }
    return out;
}

typedef struct damage_list {
    uint64_t *blocks;
    char (*msgs)[512];
    size_t n, cap;
    int oom;
} damage_list;

static void on_damage(void *ctx, uint64_t block, const lmz_error *why)
{
    damage_list *d = ctx;
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 16;
        uint64_t *b = realloc(d->blocks, cap * sizeof *b);
        if (b)
            d->blocks = b;
        char(*m)[512] = realloc(d->msgs, cap * sizeof *m);
        if (m)
            d->msgs = m;
        if (!b || !m) {
            d->oom = 1;
            return;
        }
        d->cap = cap;
    }
    d->blocks[d->n] = block;
    snprintf(d->msgs[d->n], 512, "%s", why ? why->msg : "");
    d->n++;
}

/* verify(full) -> (ok, [(block, message)...], stats) */
static PyObject *Handle_verify(Handle *self, PyObject *args)
{
    int full = 0;
    if (!PyArg_ParseTuple(args, "|p", &full))
        return NULL;
    lmz_archive *a = handle_enter(self);
    if (!a)
        return NULL;
    damage_list d = {0};
    lmz_stats st = {0};
    lmz_error e = ERR_NONE;
    lmz_status rc;
    Py_BEGIN_ALLOW_THREADS
    rc = lmz_archive_verify(a, full, on_damage, &d, &st, &e);
    Py_END_ALLOW_THREADS
    handle_leave(self);
    PyObject *res = NULL;
    if (rc && rc != LMZ_ERR_CORRUPT_BLOCK) {
        raise_lmz(&e, rc);
    } else if (d.oom) {
        PyErr_NoMemory();
    } else {
        PyObject *list = PyList_New((Py_ssize_t)d.n);
        for (size_t i = 0; list && i < d.n; i++) {
            PyObject *t = Py_BuildValue("(Ks)", (unsigned long long)d.blocks[i], d.msgs[i]);
            if (!t) {
                Py_CLEAR(list);
                break;
            }
            PyList_SET_ITEM(list, (Py_ssize_t)i, t);
        }
        if (list)
            res = Py_BuildValue("(ONN)", rc ? Py_False : Py_True, list, stats_dict(&st));
    }
    free(d.blocks);
    free(d.msgs);
    return res;
}

static PyMethodDef Handle_methods[] = {
    {"close", (PyCFunction)Handle_close, METH_NOARGS, "Close the archive (idempotent)."},
    {"detach", (PyCFunction)Handle_detach, METH_NOARGS,
     "Forget an inherited handle after fork without closing it."},
    {"meta", (PyCFunction)Handle_meta, METH_NOARGS, "lmz_archive_get_meta as a dict."},
    {"members", (PyCFunction)Handle_members, METH_NOARGS,
     "[(name, offset, size, mode)] in archive order."},
    {"block_info", (PyCFunction)Handle_block_info, METH_O,
     "(raw_offset, raw_len, payload_offset, payload_len, mode) of block i."},
    {"read_into", (PyCFunction)Handle_read_into, METH_VARARGS,
     "read_into(offset, buffer): fill buffer from the raw stream at offset (GIL released)."},
    {"read", (PyCFunction)Handle_read, METH_VARARGS,
     "read(offset, length) -> bytes (GIL released)."},
    {"verify", (PyCFunction)Handle_verify, METH_VARARGS,
     "verify(full=False) -> (ok, [(block, message)], stats)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Handle_getset[] = {
    {"closed", (getter)Handle_closed, NULL, "True once closed.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject HandleType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lmz._lmz.Handle",
    .tp_basicsize = sizeof(Handle),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Handle(path, params=None): one open lmz_archive.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Handle_init,
    .tp_dealloc = (destructor)Handle_dealloc,
    .tp_methods = Handle_methods,
    .tp_getset = Handle_getset,
};

/* ---- Writer: lmz_writer ---- */

typedef struct {
    PyObject_HEAD
    lmz_writer *w;
    int busy;
} Writer;

static int Writer_init(Writer *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"archive", "params", NULL};
    lmz_writer *w = open_from_args(args, kw, names, self->w != NULL, "Writer already created",
                                   writer_create);
    if (!w)
        return -1;
    self->w = w;
    live_writers++;
    return 0;
}

static void writer_free(Writer *self)
{
    if (self->w) {
        lmz_writer *w = self->w;
        self->w = NULL;
        free_nogil(writer_free_raw, w, &live_writers);
    }
}

static void Writer_dealloc(Writer *self)
{
    writer_free(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static lmz_writer *writer_enter(Writer *self)
{
    if (!self->w) {
        raise_error(LMZ_ERR_USAGE, "the writer is finished or closed", -1);
        return NULL;
    }
    if (self->busy) {
        raise_error(LMZ_ERR_USAGE, "the writer is in use by another thread", -1);
        return NULL;
    }
    self->busy = 1;
    return self->w;
}

static PyObject *Writer_add(Writer *self, PyObject *args)
{
    PyObject *name = NULL;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "O&y*", PyUnicode_FSConverter, &name, &view))
        return NULL;
    lmz_writer *w = writer_enter(self);
    if (!w) {
        Py_DECREF(name);
        PyBuffer_Release(&view);
        return NULL;
    }
    lmz_error e = ERR_NONE;
    lmz_status rc;
    const char *cname = PyBytes_AS_STRING(name);
    Py_BEGIN_ALLOW_THREADS
    rc = lmz_writer_add(w, cname, view.buf, (size_t)view.len, &e);
    Py_END_ALLOW_THREADS
    self->busy = 0;
    Py_DECREF(name);
    PyBuffer_Release(&view);
    if (rc)
        return raise_lmz(&e, rc);
    Py_RETURN_NONE;
}

static PyObject *Writer_finish(Writer *self, PyObject *unused)
{
    lmz_writer *w = writer_enter(self);
    if (!w)
        return NULL;
    lmz_stats st = {0};
    lmz_error e = ERR_NONE;
    lmz_status rc;
    Py_BEGIN_ALLOW_THREADS
    rc = lmz_writer_finish(w, &st, &e);
    Py_END_ALLOW_THREADS
    self->busy = 0;
    writer_free(self);
    if (rc)
        return raise_lmz(&e, rc);
    return stats_dict(&st);
}

static PyObject *Writer_close(Writer *self, PyObject *unused)
{
    if (self->busy)
        return raise_error(LMZ_ERR_USAGE, "the writer is in use by another thread", -1);
    writer_free(self);
    Py_RETURN_NONE;
}

static PyMethodDef Writer_methods[] = {
    {"add", (PyCFunction)Writer_add, METH_VARARGS,
     "add(name, data): start member name, or append to it (GIL released)."},
    {"finish", (PyCFunction)Writer_finish, METH_NOARGS,
     "Write the index and move the archive into place; returns the stats."},
    {"close", (PyCFunction)Writer_close, METH_NOARGS,
     "Drop the writer; unfinished, no file is left."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject WriterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lmz._lmz.Writer",
    .tp_basicsize = sizeof(Writer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Writer(archive, params=None): lmz_writer.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Writer_init,
    .tp_dealloc = (destructor)Writer_dealloc,
    .tp_methods = Writer_methods,
};

/* ---- module functions ---- */

static PyObject *m_compress_files(PyObject *mod, PyObject *args)
{
    PyObject *seq, *archive = NULL, *params = Py_None;
    if (!PyArg_ParseTuple(args, "OO&|O", &seq, PyUnicode_FSConverter, &archive, &params))
        return NULL;
    PyObject *fast = PySequence_Fast(seq, "paths must be a sequence");
    if (!fast) {
        Py_DECREF(archive);
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    PyObject **conv = calloc((size_t)n + 1, sizeof *conv);
    const char **paths = calloc((size_t)n + 1, sizeof *paths);
    PyObject *res = NULL;
    lmz_params p;
    if (!conv || !paths) {
        PyErr_NoMemory();
        goto out;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!PyUnicode_FSConverter(PySequence_Fast_GET_ITEM(fast, i), &conv[i]))
            goto out;
        paths[i] = PyBytes_AS_STRING(conv[i]);
    }
    if (fill_params(params, &p) < 0)
        goto out;
    lmz_stats st = {0};
    lmz_error e = ERR_NONE;
    lmz_status rc;
    const char *cpath = PyBytes_AS_STRING(archive);
    Py_BEGIN_ALLOW_THREADS
    rc = lmz_compress_files(paths, (size_t)n, cpath, &p, &st, &e);
    Py_END_ALLOW_THREADS
    res = rc ? raise_lmz(&e, rc) : stats_dict(&st);
out:
    if (conv)
        for (Py_ssize_t i = 0; i < n; i++)
            Py_XDECREF(conv[i]);
    free(conv);
    free(paths);
    Py_DECREF(fast);
    Py_DECREF(archive);
    return res;
}

static PyObject *m_decompress(PyObject *mod, PyObject *args)
{
    PyObject *archive = NULL, *outdir = NULL, *params = Py_None;
    if (!PyArg_ParseTuple(args, "O&O&|O", PyUnicode_FSConverter, &archive, PyUnicode_FSConverter,
                          &outdir, &params))
        return NULL;
    PyObject *res = NULL;
    lmz_params p;
    if (fill_params(params, &p) == 0) {
        lmz_stats st = {0};
        lmz_error e = ERR_NONE;
        lmz_status rc;
        const char *ca = PyBytes_AS_STRING(archive), *co = PyBytes_AS_STRING(outdir);
        Py_BEGIN_ALLOW_THREADS
        rc = lmz_decompress_archive(ca, co, &p, &st, &e);
        Py_END_ALLOW_THREADS
        res = rc ? raise_lmz(&e, rc) : stats_dict(&st);
    }
    Py_DECREF(archive);
    Py_DECREF(outdir);
    return res;
}

static PyObject *m_make_error(PyObject *mod, PyObject *args)
{
    int code;
    const char *msg;
    long long block = -1;
    if (!PyArg_ParseTuple(args, "is|L", &code, &msg, &block))
        return NULL;
    return raise_error(code, msg, block);
}

static PyObject *m_status_name(PyObject *mod, PyObject *arg)
{
    long c = PyLong_AsLong(arg);
    if (c == -1 && PyErr_Occurred())
        return NULL;
    return PyUnicode_FromString(lmz_status_name((int)c));
}

static PyObject *m_live(PyObject *mod, PyObject *unused)
{
    return Py_BuildValue("(ll)", live_handles, live_writers);
}

static PyMethodDef module_methods[] = {
    {"compress_files", m_compress_files, METH_VARARGS,
     "compress_files(paths, archive, params=None) -> stats (lmz_compress_files)."},
    {"decompress", m_decompress, METH_VARARGS,
     "decompress(archive, outdir, params=None) -> stats (lmz_decompress_archive)."},
    {"raise_error", m_make_error, METH_VARARGS,
     "raise_error(code, message, block=-1): raise lmz.Error."},
    {"status_name", m_status_name, METH_O, "lmz_status_name(code)."},
    {"live_handles", m_live, METH_NOARGS, "(open archives, open writers) of this process."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "lmz._lmz",
    "The CPython layer over liblmz's public API (include/lmz.h).", -1, module_methods,
};

PyMODINIT_FUNC PyInit__lmz(void)
{
    if (PyType_Ready(&HandleType) < 0 || PyType_Ready(&WriterType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (!m)
        return NULL;
    LmzError = PyErr_NewExceptionWithDoc(
        "lmz.Error",
        "An error of liblmz: str() is the library's one-line message; .code the lmz_status "
        "number, .name its name, .block the damaged block (corrupt_block) or None.",
        NULL, NULL);
    if (!LmzError)
        goto fail;
    /* class-level defaults, so every instance has the attributes */
    PyObject *dc = PyLong_FromLong(LMZ_ERR_GENERIC), *dn = PyUnicode_FromString("generic");
    int bad = !dc || !dn || PyObject_SetAttrString(LmzError, "code", dc) < 0 ||
              PyObject_SetAttrString(LmzError, "name", dn) < 0 ||
              PyObject_SetAttrString(LmzError, "block", Py_None) < 0;
    Py_XDECREF(dc);
    Py_XDECREF(dn);
    if (bad)
        goto fail;
    Py_INCREF(LmzError);
    if (PyModule_AddObject(m, "Error", LmzError) < 0)
        goto fail;
    Py_INCREF(&HandleType);
    if (PyModule_AddObject(m, "Handle", (PyObject *)&HandleType) < 0)
        goto fail;
    Py_INCREF(&WriterType);
    if (PyModule_AddObject(m, "Writer", (PyObject *)&WriterType) < 0)
        goto fail;
    PyModule_AddStringConstant(m, "library_version", lmz_version());
    PyModule_AddIntConstant(m, "ERR_USAGE", LMZ_ERR_USAGE);
    PyModule_AddIntConstant(m, "ERR_RANGE", LMZ_ERR_RANGE);
    PyModule_AddIntConstant(m, "ERR_CORRUPT_BLOCK", LMZ_ERR_CORRUPT_BLOCK);
    PyModule_AddIntConstant(m, "ERR_IO", LMZ_ERR_IO);
    PyModule_AddIntConstant(m, "ERR_NOT_ARCHIVE", LMZ_ERR_NOT_ARCHIVE);
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
