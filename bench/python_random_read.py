"""Random 2048-byte record reads per second through the Python package
(python/, issue 15), with a cold and a warm decoded-chunk cache, next to
reading the same records from the uncompressed file.

usage: build/venv/bin/python bench/python_random_read.py [--build build]
           [--data ../shared/data] [--out bench/results/python-random-read.md]

The input is 16 MiB of the paper's image representation (lmz prepare image
of ../shared/data/images/imagenet, --limit 16 MiB; seeded random bytes
without the data). Archives: zstd and LZMA2 blocks of 64 chunks (the
default) and of 1 chunk, all 16 MiB; model-coded blocks (the shipped image
model, --codec lm) of the first 512 KiB only, as compressing 16 MiB with the
model takes a long time on the CPU and a cold read's cost does not depend on
the archive's size. Cold: cache_bytes=0, every read decodes the chunk(s) it
needs (a classical block is decoded whole). Warm: a cache holding every
record, read once before the timed pass over the same indices. Uncompressed:
os.preadv of the prepared file into the same numpy buffer (page cache warm).
"""
import argparse
import os
import platform
import subprocess
import tempfile
import time

import numpy as np

import lmz

MiB = 1 << 20
REC = 2048


def sh(*cmd):
    subprocess.run([str(c) for c in cmd], check=True, stdout=subprocess.DEVNULL)


def rate(fn, idx, budget_s):
    """records/s of fn(i) over idx, stopping after budget_s seconds."""
    t0 = time.perf_counter()
    n = 0
    for i in idx:
        fn(int(i))
        n += 1
        if (n & 15) == 0 and time.perf_counter() - t0 > budget_s:
            break
    return n / (time.perf_counter() - t0), n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--out", default="bench/results/python-random-read.md")
    ap.add_argument("--reads", type=int, default=4000)
    ap.add_argument("--budget", type=float, default=8.0, help="seconds per measurement at most")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    lmzbin = os.path.join(args.build, "lmz")
    tmp = tempfile.mkdtemp(prefix="lmz-pybench-")
    raw = os.path.join(tmp, "patches.bin")
    imgs = os.path.join(args.data, "images", "imagenet")
    if os.path.isdir(imgs):
        sh(lmzbin, "prepare", "image", imgs, "-o", raw, "--limit", str(16 * MiB), "-q")
        what = "16 MiB of ImageNet 32x64 grayscale patches (lmz prepare image)"
    else:
        sh(lmzbin, "prepare", "random", "--size", str(16 * MiB), "-o", raw, "-q")
        what = "16 MiB of seeded random bytes (lmz prepare random; no ../shared/data)"
    size = os.path.getsize(raw)
    small = os.path.join(tmp, "small.bin")
    with open(raw, "rb") as f, open(small, "wb") as g:
        g.write(f.read(512 * 1024))

    configs = [  # label, input, options
        ("zstd, 64 chunks/block", raw, dict(codec="zstd")),
        ("zstd, 1 chunk/block", raw, dict(codec="zstd", chunks_per_block=1)),
        ("LZMA2, 64 chunks/block", raw, dict(codec="lzma2")),
        ("LZMA2, 1 chunk/block", raw, dict(codec="lzma2", chunks_per_block=1)),
        ("model (image-200k-1, --codec lm), 512 KiB", small,
         dict(codec="lm", kind="image", threads=args.threads)),
    ]
    rng = np.random.default_rng(15)
    rows = []
    fd = os.open(raw, os.O_RDONLY)
    buf = np.empty(REC, np.uint8)
    idx_all = rng.integers(0, size // REC, args.reads)

    def pread(i):
        os.preadv(fd, [buf], i * REC)

    rate(pread, idx_all, args.budget)  # page cache warm
    r_raw, _ = rate(pread, idx_all, args.budget)
    for label, src, opt in configs:
        arch = os.path.join(tmp, "a%d.lmz" % len(rows))
        t0 = time.perf_counter()
        st = lmz.compress([src], arch, **opt)
        ct = time.perf_counter() - t0
        nrec = st["raw_bytes"] // REC
        idx = idx_all % nrec
        with lmz.open(arch, cache_bytes=0, threads=args.threads) as a:
            r_cold, n_cold = rate(lambda i: a.read_into(i * REC, buf), idx, args.budget)
        with lmz.open(arch, cache_bytes=2 * st["raw_bytes"] + MiB, threads=args.threads) as a:
            warm_idx = idx[:n_cold] if n_cold < len(idx) else idx
            rate(lambda i: a.read_into(i * REC, buf), warm_idx, 1e9)  # fill the cache
            r_warm, n_warm = rate(lambda i: a.read_into(i * REC, buf), warm_idx, args.budget)
        rows.append((label, st["raw_bytes"], st["archive_bytes"] / st["raw_bytes"], ct,
                     r_cold, n_cold, r_warm, n_warm))
        print("%-42s cold %9.0f rec/s  warm %9.0f rec/s" % (label, r_cold, r_warm), flush=True)
    os.close(fd)
    print("%-42s      %9.0f rec/s" % ("uncompressed file (os.preadv)", r_raw))

    load = os.getloadavg()
    lines = [
        "# Random 2048-byte record reads from Python (issue 15)",
        "",
        "`%s` (bench/python_random_read.py), %s, %d CPU cores, Python %s, load average "
        "%.2f %.2f %.2f at the end. Input: %s. Each row: %d random record indices "
        "(the same for every row, modulo the archive's records), one `Archive.read_into` "
        "of 2048 bytes into a numpy array each, timed for at most %.0f s. Cold: "
        "`cache_bytes=0` (every read decodes: a classical block whole, a model-coded "
        "block only the chunk asked for); warm: the same indices again with every "
        "record in the cache."
        % ("build/venv/bin/python bench/python_random_read.py", platform.machine(),
           os.cpu_count(), platform.python_version(), load[0], load[1], load[2], what,
           args.reads, args.budget),
        "",
        "| archive | raw bytes | file / raw | compress s | cold rec/s | warm rec/s | "
        "cold MB/s | warm MB/s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, rb, ratio, ct, rc, nc, rw, nw in rows:
        lines.append("| %s | %d | %.3f | %.1f | %.0f (%d reads) | %.0f (%d reads) | %.2f | %.1f |"
                     % (label, rb, ratio, ct, rc, nc, rw, nw, rc * REC / 1e6, rw * REC / 1e6))
    lines.append("| uncompressed file, os.preadv | %d | 1.000 | - | - | %.0f | - | %.1f |"
                 % (size, r_raw, r_raw * REC / 1e6))
    lines.append("")
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
