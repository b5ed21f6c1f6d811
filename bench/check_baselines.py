#!/usr/bin/env python3
"""bench/check_baselines.py: our classical baselines against the table in
../shared/data/README.md, which was computed there by an independent
implementation. Prepares text/enwiki-dev.xml and audio/* (all five files, in
name order: 686,080 bytes at 8 bits) with `lmz prepare`, runs bench_baselines
on both, prints both tables side by side and exits 1 if any rate differs by
more than --tolerance points (default 1).

usage: bench/check_baselines.py [--build DIR] [--data DIR] [--tolerance 1.0] [--out FILE.md]
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CODECS = ["gzip", "lzma2", "bzip2", "zstd", "png", "flac"]
TITLES = ["gzip -9", "LZMA2 (xz -6)", "bzip2 -9", "zstd -19", "PNG", "FLAC"]
# ../shared/data/README.md, "Classical baselines": rate in % of raw size.
README = {
    ("text", "chunked"): [49.6, 51.5, 52.4, 50.1, 87.8, 88.0],
    ("text", "whole"): [34.5, 26.7, 27.8, 27.4, 77.3, 88.2],
    ("audio", "chunked"): [34.7, 34.9, 34.0, 34.7, 34.1, 27.0],
    ("audio", "whole"): [32.2, 27.4, 25.7, 29.0, 29.6, 28.0],
}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    p.add_argument("--tolerance", type=float, default=1.0)
    p.add_argument("--out", help="also write the comparison here (Markdown)")
    a = p.parse_args()
    lmz = os.path.join(a.build, "lmz")
    tool = os.path.join(a.build, "bench", "bench_baselines")
    text = os.path.join(a.data, "text", "enwiki-dev.xml")
    audio = os.path.join(a.data, "audio")
    if not (os.path.exists(text) and os.path.isdir(audio)):
        print(f"check_baselines: {a.data} lacks the sample data; nothing to check", file=sys.stderr)
        return 77
    rates = {}
    with tempfile.TemporaryDirectory(prefix="lmz-check-") as tmp:
        for kind, src in (("text", text), ("audio", audio)):
            out = os.path.join(tmp, kind + ".bin")
            subprocess.run([lmz, "prepare", kind, src, "-o", out, "-q", "--no-manifest"], check=True)
            r = subprocess.run([tool, "--csv", "--label", kind, out], check=True, text=True,
                               stdout=subprocess.PIPE)
            for row in csv.DictReader(r.stdout.splitlines()):
                rates[(kind, row["mode"], row["codec"])] = float(row["rate_pct"])
    lines = ["| data | mode | " + " | ".join(TITLES) + " |", "|---|---|" + "---|" * len(TITLES)]
    worst = 0.0
    for (kind, mode), ref in README.items():
        cells = []
        for c, r in zip(CODECS, ref):
            ours = rates[(kind, mode, c)]
            worst = max(worst, abs(ours - r))
            cells.append(f"{ours:.1f} ({r:.1f})")
        lines.append(f"| {kind} | {mode} | " + " | ".join(cells) + " |")
    report = ("Classical baselines: ours (../shared/data/README.md's) in % of raw size; "
              "text = enwiki-dev.xml (5,089,026 bytes), audio = audio/* in name order "
              "(686,080 bytes at 8 bits).\n\n" + "\n".join(lines) +
              f"\n\nLargest difference: {worst:.2f} points (tolerance {a.tolerance}).\n")
    print(report, end="")
    if a.out:
        with open(a.out, "w") as f:
            f.write("# Baselines against ../shared/data/README.md\n\n"
                    "Made by `bench/check_baselines.py" +
                    ("" if len(sys.argv) == 1 else " " + " ".join(sys.argv[1:])) + "`.\n\n" + report)
    return 0 if worst <= a.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
