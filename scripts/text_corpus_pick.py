#!/usr/bin/env python3
"""Pick the text of one corpus source from an extracted Debian package.

usage: text_corpus_pick.py ROOT REGEX CAP OUT

Walks ROOT (a package extracted with dpkg-deb -x, or an unpacked source
tree), keeps the regular files whose path relative to ROOT matches REGEX
(Python re.search), never a section-1 manual page or a C/C++ header (both are
held out for evaluation), decompresses .gz members, expands .zip archives
(their members filtered by the same REGEX), drops binary files (a NUL byte
or invalid UTF-8), and writes them to OUT up to CAP bytes.

The order is a deterministic shuffle (by the SHA-256 of each path), so a cap
takes an even sample of a large package rather than its alphabetically first
directory. Prints "FILES BYTES" on stdout.
"""
import gzip
import hashlib
import io
import os
import re
import sys
import zipfile

HELD_OUT = re.compile(r"(/man1/|\.1(\.gz)?$|\.1[a-z]+(\.gz)?$|\.(h|hh|hpp|hxx)$)")


def texts(root, pattern):
    """Yield (name, bytes) for every matching member under root."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for fn in sorted(filenames):
            full = os.path.join(dirpath, fn)
            rel = os.path.relpath(full, root)
            if os.path.islink(full) or not os.path.isfile(full):
                continue
            if rel.endswith(".zip"):
                if not pattern.search(rel):
                    continue
                with zipfile.ZipFile(full) as z:
                    for info in z.infolist():
                        name = rel + "!" + info.filename
                        if info.is_dir() or HELD_OUT.search(name):
                            continue
                        if not pattern.search(info.filename):
                            continue
                        yield name, z.read(info)
                continue
            if not pattern.search(rel) or HELD_OUT.search(rel):
                continue
            with open(full, "rb") as f:
                data = f.read()
            if rel.endswith(".gz"):
                try:
                    data = gzip.decompress(data)
                except OSError:
                    continue
            yield rel, data


def is_text(data):
    if not data or b"\0" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.strip().splitlines()[2])
    root, regex, cap, out = sys.argv[1], re.compile(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    items = [(hashlib.sha256(n.encode()).hexdigest(), n, d) for n, d in texts(root, regex) if is_text(d)]
    items.sort()
    nfiles = nbytes = 0
    with open(out + ".tmp", "wb") as f:
        for _, name, data in items:
            if nbytes >= cap:
                break
            data = data[: cap - nbytes]
            f.write(data)
            if not data.endswith(b"\n"):
                f.write(b"\n")
                nbytes += 1
            nbytes += len(data)
            nfiles += 1
    os.replace(out + ".tmp", out)
    print(nfiles, nbytes)


if __name__ == "__main__":
    main()
