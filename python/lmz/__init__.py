"""lmz: random access into lmz archives from Python (numpy, PyTorch).

A thin layer over liblmz's public C API (include/lmz.h) through the
extension ``lmz._lmz``; every decode runs in the C library with the GIL
released and uses its threads.

    import lmz
    with lmz.open("data.lmz") as a:
        a.members                   # [Member(name, offset, size, mode)]
        a.read(4096, 2048)          # bytes of the raw stream (members back to back)
        a.member("notes.txt")       # one member whole
        a.read_into(0, numpy_array) # fills a writable buffer in place

    lmz.compress(["notes.txt"], "notes.lmz", kind="text", threads=4)
    lmz.decompress("notes.lmz", "outdir")

    ds = lmz.ChunkDataset("patches.lmz", record_bytes=2048, shape=(32, 64))
    ds[17]                          # numpy uint8 array of shape (32, 64)

Errors are ``lmz.Error`` with ``.code``/``.name`` (the library's status) and
``.block`` (the damaged block for ``corrupt_block``, else None); str() is the
library's one-line message.
"""
import os
import threading
from collections import OrderedDict, namedtuple

from . import _lmz
from ._lmz import Error

__all__ = ["Error", "Archive", "Member", "Model", "open", "compress", "decompress",
           "ChunkDataset", "ManifestEntry", "read_manifest", "status_name", "__version__"]

__version__ = "0.1.0"
library_version = _lmz.library_version
status_name = _lmz.status_name

Member = namedtuple("Member", "name offset size mode")
Model = namedtuple("Model", "name hash embedded")
BlockInfo = namedtuple("BlockInfo", "raw_offset raw_len payload_offset payload_len mode")

#: decoded-chunk cache of an Archive by default (bytes)
DEFAULT_CACHE_BYTES = 64 << 20


def _params(**kw):
    return {k: (os.fspath(v) if isinstance(v, os.PathLike) else v)
            for k, v in kw.items() if v is not None}


def _raise(code, msg, block=-1):
    _lmz.raise_error(code, msg, block)


class Archive:
    """An open lmz archive. Use ``lmz.open``.

    Reads go through a size-bounded LRU cache of decoded chunks
    (``cache_bytes``; 0 disables it): a read decodes only the chunks it
    touches that are not cached, in one library call, so neighbouring reads
    are cheap. Reads larger than a quarter of the cache bypass it.

    One Archive may be used from several threads (the C handle has its own
    lock, so they take turns); for parallel reads open one per thread. After
    ``fork`` the child reopens the archive on first use (the inherited C
    handle is left alone), so a DataLoader worker gets its own handle.
    """

    def __init__(self, path, *, threads=0, model=None, model_dir=None, model_path=None,
                 device=None, cache_bytes=DEFAULT_CACHE_BYTES):
        self.path = os.fspath(path)
        self._params = _params(threads=threads, model=model, model_dir=model_dir,
                               model_path=model_path, device=device)
        self._cache_cap = int(cache_bytes)
        self._lock = threading.Lock()
        self._cache = OrderedDict()  # chunk index -> bytes
        self._cache_used = 0
        self.hits = self.misses = 0
        self._h = None
        self._pid = None
        self._closed = False
        self._open()
        m = self._h.meta()
        self.meta = m
        self.nbytes = m["raw_size"]
        self.nblocks = m["nblocks"]
        self.chunk_size = m["chunk_size"]
        self.chunks_per_block = m["chunks_per_block"]
        self.kind = m["kind"]
        self.model = Model(m["model_name"], m["model_hash"], m["model_embedded"])
        self.rate = m["payload_size"] / m["raw_size"] if m["raw_size"] else 0.0
        self.members = [Member(*t) for t in self._h.members()]
        self._by_name = {mb.name: mb for mb in self.members}

    # -- handle life --
    def _open(self):
        self._h = _lmz.Handle(self.path, self._params)
        self._pid = os.getpid()

    def _handle(self):
        if self._closed:
            _raise(_lmz.ERR_USAGE, "%s: the archive is closed" % self.path)
        if self._pid != os.getpid():
            # a forked child: its own handle; the inherited one is the parent's
            if self._h is not None:
                self._h.detach()
            self._lock = threading.Lock()
            self._open()
        return self._h

    def close(self):
        """Close the C handle (idempotent); the cache is dropped."""
        self._closed = True
        if self._h is not None:
            if self._pid == os.getpid():
                self._h.close()
            else:
                self._h.detach()
            self._h = None
        self.clear_cache()

    @property
    def closed(self):
        return self._closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __getstate__(self):
        # pickled (e.g. to a spawned DataLoader worker): reopened on first use
        st = self.__dict__.copy()
        st["_h"] = None
        st["_pid"] = None
        st["_lock"] = None
        st["_cache"] = OrderedDict()
        st["_cache_used"] = 0
        return st

    def __setstate__(self, st):
        self.__dict__.update(st)
        self._lock = threading.Lock()

    def __repr__(self):
        return "<lmz.Archive %r: %d bytes, %d members, %d blocks, model %s%s>" % (
            self.path, self.nbytes, len(self.members), self.nblocks, self.model.name,
            ", closed" if self._closed else "")

    # -- cache --
    def clear_cache(self):
        self._cache = OrderedDict()
        self._cache_used = 0

    def cache_info(self):
        return {"hits": self.hits, "misses": self.misses, "chunks": len(self._cache),
                "bytes": self._cache_used, "capacity": self._cache_cap}

    def _cache_put(self, k, data):
        old = self._cache.pop(k, None)
        if old is not None:
            self._cache_used -= len(old)
        self._cache[k] = data
        self._cache_used += len(data)
        while self._cache_used > self._cache_cap and self._cache:
            _, v = self._cache.popitem(last=False)
            self._cache_used -= len(v)

    # -- reading --
    def _check_range(self, offset, length):
        if offset < 0 or length < 0 or offset > self.nbytes or length > self.nbytes - offset:
            _raise(_lmz.ERR_RANGE, "range %d:%d is outside the archive's %d bytes"
                   % (offset, length, self.nbytes))

    def read_into(self, offset, buffer):
        """Fill the writable, contiguous ``buffer`` (numpy array, bytearray,
        memoryview) with ``len(buffer)`` bytes of the raw stream from
        ``offset``; returns the byte count. Without the cache the library
        decodes straight into the buffer."""
        mv = memoryview(buffer)
        if mv.readonly:
            raise TypeError("read_into needs a writable buffer")
        n = mv.nbytes
        offset = int(offset)
        self._check_range(offset, n)
        h = self._handle()
        if n == 0:
            return 0
        if self._cache_cap <= 0 or 4 * n > self._cache_cap:
            return h.read_into(offset, mv)
        if not mv.c_contiguous:
            raise ValueError("read_into needs a contiguous buffer")
        out = mv.cast("B") if (mv.format != "B" or mv.ndim != 1) else mv
        cs = self.chunk_size
        c0, c1 = offset // cs, (offset + n - 1) // cs
        with self._lock:
            got = {}
            missing = []
            for c in range(c0, c1 + 1):
                d = self._cache.get(c)
                if d is None:
                    missing.append(c)
                else:
                    self._cache.move_to_end(c)
                    got[c] = d
            self.hits += len(got)
            self.misses += len(missing)
        # decode the missing chunks, one library call per contiguous run
        i = 0
        while i < len(missing):
            j = i
            while j + 1 < len(missing) and missing[j + 1] == missing[j] + 1:
                j += 1
            lo = missing[i] * cs
            hi = min((missing[j] + 1) * cs, self.nbytes)
            data = h.read(lo, hi - lo)
            dv = memoryview(data)
            with self._lock:
                for c in range(missing[i], missing[j] + 1):
                    piece = bytes(dv[(c - missing[i]) * cs:(c - missing[i] + 1) * cs])
                    got[c] = piece
                    self._cache_put(c, piece)
            i = j + 1
        pos = 0
        for c in range(c0, c1 + 1):
            d = got[c]
            lo = offset + pos - c * cs
            take = min(len(d) - lo, n - pos)
            out[pos:pos + take] = memoryview(d)[lo:lo + take]
            pos += take
        return n

    def read(self, offset, length):
        """``length`` bytes of the raw stream (all members back to back) from
        ``offset``. Zero bytes are fine anywhere up to the end; past the end
        raises lmz.Error (range)."""
        offset, length = int(offset), int(length)
        self._check_range(offset, length)
        if self._cache_cap <= 0 or 4 * length > self._cache_cap:
            return self._handle().read(offset, length)
        buf = bytearray(length)
        self.read_into(offset, buf)
        return bytes(buf)

    def member_info(self, name):
        try:
            return self._by_name[name]
        except KeyError:
            _raise(_lmz.ERR_RANGE, "%s: no member named %s" % (self.path, name))

    def member(self, name):
        """Member ``name`` (or its index) whole, as bytes."""
        mb = self.members[name] if isinstance(name, int) else self.member_info(name)
        return self.read(mb.offset, mb.size)

    def block_info(self, i):
        return BlockInfo(*self._handle().block_info(i))

    def block(self, i):
        """Block ``i`` whole (its raw bytes), as bytes."""
        if not 0 <= i < self.nblocks:
            _raise(_lmz.ERR_RANGE, "block %d does not exist (the archive has %d)"
                   % (i, self.nblocks))
        bi = self.block_info(i)
        return self.read(bi.raw_offset, bi.raw_len)

    def verify(self, full=False):
        """Check every block (full: decode the model's blocks too). Returns
        the list of damaged blocks as (block, message); [] when all is well."""
        ok, damaged, _ = self._handle().verify(bool(full))
        return damaged


def open(path, **kw):
    """Open an archive: ``lmz.open(path, threads=0, model=None, model_dir=None,
    model_path=None, cache_bytes=64 MiB)`` -> Archive (a context manager)."""
    return Archive(path, **kw)


def _is_pathlike(x):
    return isinstance(x, (str, os.PathLike))


def _is_bytes(x):
    return isinstance(x, (bytes, bytearray, memoryview)) or hasattr(x, "__array_interface__")


def compress(paths_or_bytes, archive, *, kind=None, model=None, threads=0, codec=None,
             chunks_per_block=None, model_dir=None, model_path=None, force=False,
             recursive=False, name="data", device=None):
    """Compress into ``archive``; returns the library's stats as a dict.

    ``paths_or_bytes``: a path or a list of paths (members named by the paths
    as given, like ``lmz compress``); bytes (one member called ``name``); a
    dict {name: bytes} or a list of (name, bytes) pairs (members in order).
    kind: "text", "image", "audio", "bytes"; codec: "auto", "lm", "lzma2",
    "zstd"; model: a file, built-in (e.g. "random-tiny") or shipped name."""
    p = _params(kind=kind, model=model, threads=threads, codec=codec,
                chunks_per_block=chunks_per_block, model_dir=model_dir, model_path=model_path,
                force=int(bool(force)), recursive=int(bool(recursive)), device=device)
    x = paths_or_bytes
    if _is_pathlike(x):
        return _lmz.compress_files([x], archive, p)
    if _is_bytes(x):
        items = [(name, x)]
    elif isinstance(x, dict):
        items = list(x.items())
    else:
        items = list(x)
        if all(_is_pathlike(i) for i in items):
            return _lmz.compress_files(items, archive, p)
    w = _lmz.Writer(archive, p)
    try:
        for nm, data in items:
            w.add(nm, data)
        return w.finish()
    finally:
        w.close()


def decompress(archive, outdir=".", *, force=False, threads=0, model=None, model_dir=None,
               model_path=None):
    """Write every member of ``archive`` under ``outdir`` (what
    ``lmz decompress ARCHIVE -o OUTDIR`` does); returns the stats."""
    p = _params(force=int(bool(force)), threads=threads, model=model, model_dir=model_dir,
                model_path=model_path)
    return _lmz.decompress(archive, outdir, p)


def live_handles():
    """(open archive handles, open writers) of this process (for leak tests)."""
    return _lmz.live_handles()


from .dataset import ChunkDataset, ManifestEntry, read_manifest  # noqa: E402
