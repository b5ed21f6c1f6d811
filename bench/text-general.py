#!/usr/bin/env python3
"""Text beyond Wikipedia: lmz's text models against the classical codecs on
held-out samples of the text people archive (issue 12).

usage: bench/text-general.py [--build DIR] [--size BYTES] [--config NAME=OPTS ...]
                             [--samples a,b,...] [--roundtrip] [--out FILE.md]

Every sample comes from a source that scripts/text-corpus.sh never takes for
training, read from this machine (so the figures are reproducible on a Debian
12 machine with the same packages; each sample's SHA-256 is printed):

  c-headers  the C headers of /usr/include (installed by Debian's -dev packages)
  python     the Python standard library (/usr/lib/python3.*/*.py)
  json       the iso-codes package's JSON data (/usr/share/iso-codes/json)
  logs       system and package-manager logs (/var/log: dpkg, apt, alternatives)
  man1       section-1 manual pages (troff, /usr/share/man/man1)
  tsv        a package listing as a tab-separated table (dpkg-query -W)
  registry   the apt package index (apt-cache dumpavail)
  prose      an English book (../shared/data/text/alice29.txt)
  wikipedia  the enwiki validation split (../shared/data/text/enwiki-dev.xml
             from byte 4,610,922)

Each lmz configuration (NAME=OPTIONS passed to `lmz compress`) is measured as
payload bytes / raw bytes, beside gzip -9 on 2048-byte chunks (header counted
once, bench_baselines) and whole-file gzip -9, xz -9 and zstd -19, in one run.
"""
import argparse
import glob
import gzip
import hashlib
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.environ.get("LMZ_DATA_DIR", os.path.join(ROOT, "..", "shared", "data"))
LIST_PAYLOAD = re.compile(r"^payload:\s+(\d+) bytes", re.M)


def log(msg):
    print(f"text-general: {msg}", file=sys.stderr, flush=True)


def cat_files(paths, size, decompress=False):
    out = bytearray()
    for p in paths:
        if len(out) >= size:
            break
        try:
            with open(p, "rb") as f:
                b = f.read()
        except OSError:
            continue
        if decompress and p.endswith(".gz"):
            try:
                b = gzip.decompress(b)
            except OSError:
                continue
        out += b
    return bytes(out[:size])


def sample_bytes(name, size):
    if name == "c-headers":
        return cat_files(sorted(glob.glob("/usr/include/*.h")), size)
    if name == "python":
        libs = sorted(glob.glob("/usr/lib/python3.[0-9]*"))
        return cat_files(sorted(glob.glob(libs[-1] + "/*.py")), size) if libs else b""
    if name == "json":
        return cat_files(sorted(glob.glob("/usr/share/iso-codes/json/*.json")), size)
    if name == "logs":
        return cat_files(["/var/log/dpkg.log", "/var/log/apt/history.log",
                          "/var/log/apt/term.log", "/var/log/alternatives.log"], size)
    if name == "man1":
        return cat_files(sorted(glob.glob("/usr/share/man/man1/*.1.gz")), size, decompress=True)
    if name == "tsv":
        fmt = "${Package}\\t${Version}\\t${Architecture}\\t${Installed-Size}\\t${Maintainer}\\t${binary:Summary}\\n"
        r = subprocess.run(["dpkg-query", "-W", "-f", fmt], stdout=subprocess.PIPE, check=True)
        return r.stdout[:size]
    if name == "registry":
        r = subprocess.run(["apt-cache", "dumpavail"], stdout=subprocess.PIPE, check=True)
        return r.stdout[:size]
    if name == "prose":
        return cat_files([os.path.join(DATA, "text", "alice29.txt")], size)
    if name == "wikipedia":
        p = os.path.join(DATA, "text", "enwiki-dev.xml")
        if not os.path.exists(p):
            return b""
        with open(p, "rb") as f:
            f.seek(4610922)
            return f.read(size)
    raise SystemExit(f"text-general: unknown sample {name}")


def whole(cmd, data):
    return len(subprocess.run(cmd, input=data, stdout=subprocess.PIPE, check=True).stdout)


def gzip_chunked(build, path):
    r = subprocess.run([os.path.join(build, "bench", "bench_baselines"), "--csv", "--codecs", "gzip",
                        "--mode", "chunked", path], stdout=subprocess.PIPE, text=True, check=True)
    row = r.stdout.strip().splitlines()[-1].split(",")
    return int(row[4])


def lmz_payload(lmz, path, archive, opts, roundtrip):
    cmd = [lmz, "compress", "-q", "-f", "--no-progress", path, "-o", archive] + shlex.split(opts)
    t0 = time.monotonic()
    subprocess.run(cmd, check=True)
    sec = time.monotonic() - t0
    listing = subprocess.run([lmz, "list", archive], stdout=subprocess.PIPE, text=True, check=True).stdout
    m = LIST_PAYLOAD.search(listing)
    if not m:
        raise SystemExit(f"text-general: no payload line in 'lmz list {archive}'")
    if roundtrip:
        back = subprocess.run([lmz, "decompress", "-q", "-c", archive], stdout=subprocess.PIPE,
                              check=True).stdout
        with open(path, "rb") as f:
            if f.read() != back:
                raise SystemExit(f"text-general: round trip failed: {path} {opts}")
    return int(m.group(1)), sec


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--size", type=int, default=512 * 1024, help="bytes per sample (default 512 KiB)")
    ap.add_argument("--samples", default="c-headers,python,json,logs,man1,tsv,registry,prose,wikipedia")
    ap.add_argument("--config", action="append", default=[],
                    help="NAME=OPTIONS for lmz compress (repeatable); default: the --kind text default")
    ap.add_argument("--roundtrip", action="store_true", help="decompress each archive and compare")
    ap.add_argument("--out", help="also write the table (markdown) to this file")
    a = ap.parse_args()
    lmz = os.path.join(a.build, "lmz")
    configs = [c.split("=", 1) for c in (a.config or ["lmz=--kind text"])]
    rows = []
    with tempfile.TemporaryDirectory(prefix="lmz-textgen-") as tmp:
        for name in a.samples.split(","):
            data = sample_bytes(name, a.size)
            if not data:
                log(f"{name}: no source on this machine, skipped")
                continue
            path = os.path.join(tmp, name + ".txt")
            with open(path, "wb") as f:
                f.write(data)
            n = len(data)
            log(f"{name}: {n} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]}")
            row = {"sample": name, "bytes": n, "lmz": {}, "sec": {}}
            for cname, opts in configs:
                pay, sec = lmz_payload(lmz, path, os.path.join(tmp, f"{name}-{cname}.lmz"), opts, a.roundtrip)
                row["lmz"][cname], row["sec"][cname] = pay, sec
                log(f"  {cname}: {100.0 * pay / n:.1f}% ({sec:.0f} s)")
            row["gzip-chunked"] = gzip_chunked(a.build, path)
            row["gzip"] = whole(["gzip", "-9", "-c", "-n"], data)
            row["xz"] = whole(["xz", "-9", "-c"], data)
            row["zstd"] = whole(["zstd", "-19", "-c", "-q"], data)
            rows.append(row)
    head = ["sample", "bytes"] + [f"lmz {c}" for c, _ in configs] + \
           ["gzip -9, 2048-byte chunks", "gzip -9 whole", "xz -9 whole", "zstd -19 whole"] + \
           [f"{c} / zstd" for c, _ in configs] + [f"{c} / xz" for c, _ in configs]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    pct = lambda b, n: f"{100.0 * b / n:.1f}%"
    for r in rows:
        n = r["bytes"]
        cells = [r["sample"], f"{n:,}"] + [pct(r["lmz"][c], n) for c, _ in configs] + \
                [pct(r[k], n) for k in ("gzip-chunked", "gzip", "xz", "zstd")] + \
                [f"{r['lmz'][c] / r['zstd']:.2f}x" for c, _ in configs] + \
                [f"{r['lmz'][c] / r['xz']:.2f}x" for c, _ in configs]
        lines.append("| " + " | ".join(cells) + " |")
    cfg = "; ".join(f"`{c}` = `lmz compress {o}`" for c, o in configs)
    table = "\n".join(lines) + f"\n\nPayload bytes / raw bytes. Configurations: {cfg}.\n"
    print(table)
    if a.out:
        with open(a.out, "w") as f:
            f.write(table)


if __name__ == "__main__":
    main()
