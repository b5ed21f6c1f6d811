"""Fixed-size records of an lmz archive as numpy arrays (a PyTorch
map-style dataset without importing torch), and the manifest that
``lmz prepare`` writes beside a prepared dataset (OUT.manifest.tsv)."""
import bisect
from collections import namedtuple

from . import _lmz

ManifestEntry = namedtuple(
    "ManifestEntry",
    "source format offset bytes first_chunk chunks width height channels sample_rate samples "
    "dropped_samples")
_INT_FIELDS = ManifestEntry._fields[2:]


def _unescape(s):
    out, i = [], 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s):
            out.append({"t": "\t", "n": "\n", "\\": "\\"}.get(s[i + 1], s[i + 1]))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def read_manifest(path):
    """The sources of a dataset made by ``lmz prepare`` (OUT.manifest.tsv),
    in output order: ManifestEntry(source, format, offset, bytes,
    first_chunk, chunks, width, height, channels, sample_rate, samples,
    dropped_samples); numbers are ints, fields a kind lacks are None."""
    entries = []
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#") or line.startswith("source\t"):
                continue
            parts = line.split("\t")
            parts += [""] * (len(ManifestEntry._fields) - len(parts))
            vals = [_unescape(parts[0]), parts[1]]
            for v in parts[2:len(ManifestEntry._fields)]:
                vals.append(int(v) if v != "" else None)
            entries.append(ManifestEntry(*vals))
    return entries


class ChunkDataset:
    """Fixed-size records of an archive (or of one member) by index.

    ``ChunkDataset(archive, record_bytes=2048, dtype=numpy.uint8, shape=None,
    member=None, manifest=None, **open_kw)``: record i is the bytes
    [i * record_bytes, (i + 1) * record_bytes) of the member (or of the raw
    stream), as a numpy array of ``dtype`` and ``shape`` (default: 1-D);
    a partial last record is dropped. ``archive`` is a path or an open
    lmz.Archive.

    The paper's representations: image patches ``shape=(32, 64)``, audio or
    text chunks ``record_bytes=2048``.

    It is a PyTorch map-style dataset (``__len__``, ``__getitem__``) without
    importing torch: ``torch.utils.data.DataLoader(ds, num_workers=4,
    shuffle=True)`` works, each worker opening its own handle after fork (or
    unpickling). ``manifest``: the OUT.manifest.tsv of the prepared file, so
    ``source(i)`` maps record i back to its source file.
    """

    def __init__(self, archive, record_bytes=2048, dtype=None, shape=None, member=None,
                 manifest=None, **open_kw):
        import numpy as np
        from . import Archive
        self._np = np
        if isinstance(archive, Archive):
            self.archive = archive
        else:
            self.archive = Archive(archive, **open_kw)
        self.dtype = np.dtype(np.uint8 if dtype is None else dtype)
        self.record_bytes = int(record_bytes)
        if self.record_bytes <= 0 or self.record_bytes % self.dtype.itemsize:
            raise ValueError("record_bytes must be a positive multiple of the dtype's size")
        count = self.record_bytes // self.dtype.itemsize
        self.shape = (count,) if shape is None else tuple(int(s) for s in shape)
        if int(np.prod(self.shape)) != count:
            raise ValueError("shape %r does not hold %d items of %s"
                             % (self.shape, count, self.dtype))
        if member is None:
            self.base, self.span = 0, self.archive.nbytes
        else:
            mb = self.archive.member_info(member) if isinstance(member, str) \
                else self.archive.members[member]
            self.base, self.span = mb.offset, mb.size
        self.manifest = read_manifest(manifest) if isinstance(manifest, (str, bytes)) or \
            hasattr(manifest, "__fspath__") else manifest
        self._starts = [e.offset for e in self.manifest] if self.manifest else None

    def __len__(self):
        return self.span // self.record_bytes

    def _index(self, i):
        n = len(self)
        i = int(i)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("record %d out of range (%d records)" % (i, n))
        return i

    def __getitem__(self, i):
        np = self._np
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step == 1:
                k = max(0, stop - start)
                out = np.empty((k,) + self.shape, dtype=self.dtype)
                if k:
                    self.archive.read_into(self.base + start * self.record_bytes, out)
                return out
            return self.batch(range(start, stop, step))
        i = self._index(i)
        out = np.empty(self.shape, dtype=self.dtype)
        self.archive.read_into(self.base + i * self.record_bytes, out)
        return out

    def batch(self, indices):
        """Records ``indices`` stacked: an array of shape (len(indices),) + shape."""
        np = self._np
        idx = [self._index(i) for i in indices]
        out = np.empty((len(idx),) + self.shape, dtype=self.dtype)
        for k, i in enumerate(idx):
            self.archive.read_into(self.base + i * self.record_bytes, out[k])
        return out


    def offset(self, i):
        """Byte offset of record i in the member (or raw stream)."""
        return self._index(i) * self.record_bytes

    def source(self, i):
        """(ManifestEntry, byte offset in that source's prepared bytes) of
        record i's first byte; needs ``manifest``."""
        if not self.manifest:
            raise ValueError("no manifest: pass manifest=OUT.manifest.tsv")
        off = self.offset(i)
        k = bisect.bisect_right(self._starts, off) - 1
        while k >= 0 and self.manifest[k].bytes == 0:
            k -= 1
        if k < 0 or off >= self.manifest[k].offset + self.manifest[k].bytes:
            _lmz.raise_error(_lmz.ERR_RANGE, "record %d is in no source of the manifest" % i)
        e = self.manifest[k]
        return e, off - e.offset

    def __getstate__(self):
        st = self.__dict__.copy()
        st["_np"] = None
        return st

    def __setstate__(self, st):
        import numpy as np
        self.__dict__.update(st)
        self._np = np

    def __repr__(self):
        return "<lmz.ChunkDataset %d records of %d bytes %s%r from %r>" % (
            len(self), self.record_bytes, self.dtype, self.shape, self.archive.path)
