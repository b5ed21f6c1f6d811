#!/usr/bin/env python3
"""bench/paper.py: the Table 1 reproduction of "Language Modeling Is
Compression" (Delétang et al., ICLR 2024) in one command.

It prepares text, image and audio in the paper's representation with
`lmz prepare`, measures the classical baselines on them (bench_baselines:
gzip -9, LZMA2, bzip2 -9, zstd -19, PNG, FLAC; chunked and whole), runs
`lmz compress --codec lm` (the model alone, the paper's protocol) with every model it is given, and writes under --out:

  table1.md    the tables (raw and adjusted rates, seconds per MB)
  table1.csv   every measurement, one row each
  table1.svg   rate against model size, one panel per modality
  command.txt  the command that made them, with the machine and commit

By default it runs on the validation splits of ../shared/data (see its
README): text = enwiki-dev.xml from byte 4,610,922 on; image = the last 50
ImageNet files in name order; audio = librispeech-2412-153948-0000.flac.
With --enwik9 FILE, --imagenet DIR, --librispeech DIR (and --limit BYTES,
1G for the paper's 1 GB per modality) it runs on the real datasets.

lmz is timed on the first --lmz-limit bytes of each dataset (default 65536:
the CPU engine codes a few KB/s per thread, and the whole bench should take
minutes); its raw rate is measured there, and its adjusted rate counts the
model once against the whole prepared dataset, as the paper does:
adjusted = raw rate + model bytes / dataset bytes. --lmz-limit 0 runs lmz on
everything. Python 3 standard library only.
"""

import argparse
import csv
import datetime
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svgplot  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHUNK = 2048
TEXT_VALID_OFFSET = 4_610_922
IMAGE_VALID_COUNT = 50
AUDIO_VALID = "librispeech-2412-153948-0000.flac"
MODALITIES = ("text", "image", "audio", "random")
LMZ_KIND = {"text": "text", "image": "image", "audio": "audio", "random": "bytes"}
# 'default' in this reproduction means each modality's model trained on that
# modality's training split; for text that is the Wikipedia-only model, which
# `--kind text` no longer picks (its default is the general text model).
PAPER_MODEL = {"text": "text-200k-1"}
BASELINE_TITLES = {"gzip": "gzip -9", "lzma2": "LZMA2 (xz -6)", "bzip2": "bzip2 -9",
                   "zstd": "zstd -19", "png": "PNG", "flac": "FLAC"}
# The paper's Table 1, raw rates at 2048-byte chunks on 1 GB per modality.
PAPER = [("gzip", 48.1, 68.6, 38.5), ("LZMA2", 50.0, 62.4, 38.2), ("PNG", 80.6, 61.7, 37.6),
         ("FLAC", 88.9, 60.9, 30.3), ("Transformer 200K (enwik8)", 30.9, 194.0, 147.0),
         ("Transformer 800K (enwik8)", 21.7, 185.0, 131.0),
         ("Transformer 3.2M (enwik8)", 17.0, 216.0, 228.0), ("Chinchilla 70B", 8.3, 48.0, 21.0)]


def log(msg):
    print(f"paper: {msg}", file=sys.stderr, flush=True)


def die(msg):
    print(f"paper: {msg}", file=sys.stderr)
    sys.exit(1)


def parse_bytes(s):
    m = re.fullmatch(r"(\d+)([kKMGT]?)", s)
    if not m:
        raise argparse.ArgumentTypeError(f"bad byte count '{s}' (e.g. 65536, 64k, 1G)")
    mul = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}[m.group(2)]
    return int(m.group(1)) * mul


def run(cmd, **kw):
    try:
        return subprocess.run(cmd, check=True, text=True, **kw)
    except subprocess.CalledProcessError as e:
        err = (e.stderr or "").strip()
        die(f"failed: {shlex.join(cmd)}" + (f"\n{err}" if err else ""))
    except FileNotFoundError:
        die(f"not found: {cmd[0]}")


def args_parse():
    p = argparse.ArgumentParser(
        description="Reproduce Table 1 of 'Language Modeling Is Compression' with lmz.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Defaults: the validation splits of ../shared/data, each modality's default "
               "model (models/text-200k-1 (Wikipedia), image-200k-1, audio-200k-1), "
               "lmz on the first 65536 bytes per modality, output in bench/results.")
    p.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"),
                   help="the sample data directory (default ../shared/data)")
    p.add_argument("--enwik9", metavar="FILE", help="text from this file (enwik8/enwik9)")
    p.add_argument("--imagenet", metavar="DIR", help="images from this directory (walked, name order)")
    p.add_argument("--librispeech", metavar="DIR", help="audio from this directory (walked, name order)")
    p.add_argument("--limit", type=parse_bytes, default=0, metavar="BYTES",
                   help="prepare at most BYTES per modality (1G: the paper's size)")
    p.add_argument("--model", "-m", action="append", metavar="NAME_OR_PATH",
                   help="an lmz model (repeatable; 'default': each modality's own model, "
                        "text-200k-1 for text (trained on Wikipedia only), --kind's default otherwise; the default)")
    p.add_argument("--lmz-limit", type=parse_bytes, default=65536, metavar="BYTES",
                   help="run lmz on the first BYTES of each dataset (default 65536; 0: all)")
    p.add_argument("--threads", "-T", type=int, default=0, help="lmz threads (default: all cores)")
    p.add_argument("--modalities", default="text,image,audio",
                   help="comma-separated from text,image,audio,random (default text,image,audio)")
    p.add_argument("--random-size", type=parse_bytes, default=1 << 20, metavar="BYTES",
                   help="size of the random dataset when 'random' is a modality (default 1 MiB)")
    p.add_argument("--codecs", default="gzip,lzma2,bzip2,zstd,png,flac", help="baselines to run")
    p.add_argument("--build", default=os.path.join(ROOT, "build"), help="build directory (default build)")
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results"), help="output directory")
    p.add_argument("--roundtrip", action="store_true",
                   help="also decompress every lmz archive and compare (slow on a CPU)")
    a = p.parse_args()
    a.model = a.model or ["default"]
    a.modalities = [m for m in a.modalities.split(",") if m]
    for m in a.modalities:
        if m not in MODALITIES:
            p.error(f"unknown modality '{m}'")
    return a


# ---- datasets ----

def prepare(a, lmz, tmp, modality):
    """Prepare one modality into tmp; returns (path, description)."""
    out = os.path.join(tmp, f"{modality}.bin")
    cmd = [lmz, "prepare", modality, "-o", out, "-q", "--no-progress"]
    if a.limit and modality != "random":
        cmd += ["--limit", str(a.limit)]
    if modality == "text":
        if a.enwik9:
            cmd.append(a.enwik9)
            desc = f"{a.enwik9}"
        else:
            src = os.path.join(a.data, "text", "enwiki-dev.xml")
            if not os.path.exists(src):
                die(f"{src} is missing; give --data or --enwik9")
            part = os.path.join(tmp, "enwiki-dev-validation.xml")
            with open(src, "rb") as f, open(part, "wb") as g:
                f.seek(TEXT_VALID_OFFSET)
                g.write(f.read())
            cmd.append(part)
            desc = f"text/enwiki-dev.xml from byte {TEXT_VALID_OFFSET:,} (validation split)"
    elif modality == "image":
        if a.imagenet:
            cmd += ["-r", a.imagenet]
            desc = f"{a.imagenet} (every JPEG/PNG, name order)"
        else:
            d = os.path.join(a.data, "images", "imagenet")
            if not os.path.isdir(d):
                die(f"{d} is missing; give --data or --imagenet")
            names = sorted(n for n in os.listdir(d) if not n.startswith("."))
            files = names[-IMAGE_VALID_COUNT:]
            cmd += [os.path.join(d, n) for n in files]
            desc = (f"images/imagenet, the last {len(files)} files in name order "
                    f"({files[0]} to {files[-1]}; validation split)")
    elif modality == "audio":
        if a.librispeech:
            cmd += ["-r", a.librispeech]
            desc = f"{a.librispeech} (every WAV/FLAC, name order)"
        else:
            src = os.path.join(a.data, "audio", AUDIO_VALID)
            if not os.path.exists(src):
                die(f"{src} is missing; give --data or --librispeech")
            cmd.append(src)
            desc = f"audio/{AUDIO_VALID} (validation split)"
    else:
        cmd += ["--size", str(a.random_size), "--seed", "0"]
        desc = f"{a.random_size:,} seeded random bytes (seed 0)"
    log(f"preparing {modality}: {desc}")
    run(cmd, stderr=subprocess.PIPE)
    return out, desc


# ---- baselines ----

def baselines(a, tool, modality, path):
    log(f"baselines on {modality} ({os.path.getsize(path):,} bytes)")
    r = run([tool, "--csv", "--label", modality, "--codecs", a.codecs, path],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return list(csv.DictReader(r.stdout.splitlines()))


# ---- lmz ----

LIST_PAYLOAD = re.compile(r"^payload:\s+(\d+) bytes", re.M)
LIST_MODEL = re.compile(r"^model:\s+(\S+).*\((?:[^()]*,\s*)?(\d+) bytes\)\s*$", re.M)


def lmz_run(a, lmz, tmp, modality, path, model, idx):
    size = os.path.getsize(path)
    n = size if not a.lmz_limit else min(size, a.lmz_limit)
    if n > CHUNK:
        n -= n % CHUNK
    sample = os.path.join(tmp, f"{modality}-sample.bin")
    with open(path, "rb") as f, open(sample, "wb") as g:
        g.write(f.read(n))
    archive = os.path.join(tmp, f"{modality}-{idx}.lmz")
    # --codec lm: the model alone on every chunk (the paper's protocol); the
    # default, auto, would code some blocks with LZMA2 or zstd instead.
    cmd = [lmz, "compress", "-q", "-f", "--no-progress", "--codec", "lm",
           "--kind", LMZ_KIND[modality], sample, "-o", archive]
    if model != "default":
        cmd[-3:-3] = ["-m", model]
    elif modality in PAPER_MODEL:
        cmd[-3:-3] = ["-m", PAPER_MODEL[modality]]
    if a.threads:
        cmd[2:2] = ["-T", str(a.threads)]
    log(f"lmz -m {model} on {modality} ({n:,} of {size:,} bytes)")
    t0 = time.monotonic()
    run(cmd, stderr=subprocess.PIPE)
    seconds = time.monotonic() - t0
    listing = run([lmz, "list", archive], stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout
    pm, mm = LIST_PAYLOAD.search(listing), LIST_MODEL.search(listing)
    if not pm or not mm:
        die(f"cannot read payload and model size from 'lmz list {archive}':\n{listing}")
    payload, model_name, model_bytes = int(pm.group(1)), mm.group(1), int(mm.group(2))
    if a.roundtrip:
        back = os.path.join(tmp, f"{modality}-{idx}.out")
        log(f"lmz decompress ({modality}, {model})")
        run([lmz, "decompress", "-q", "-f", "--no-progress", archive, "-o", back],
            stderr=subprocess.PIPE)
        with open(sample, "rb") as f, open(back, "rb") as g:
            if f.read() != g.read():
                die(f"round trip failed: {modality}, model {model}")
    raw = 100.0 * payload / n
    return {"modality": modality, "compressor": "lmz", "model": model_name, "model_spec": model,
            "model_bytes": model_bytes, "mode": "chunked", "dataset_bytes": size,
            "measured_bytes": n, "compressed_bytes": payload, "raw_rate_pct": raw,
            "adjusted_rate_pct": raw + 100.0 * model_bytes / size, "seconds": seconds,
            "s_per_mb": seconds / (n / 1e6)}


# ---- reports ----

CSV_FIELDS = ["modality", "compressor", "model", "model_bytes", "mode", "dataset_bytes",
              "measured_bytes", "compressed_bytes", "raw_rate_pct", "adjusted_rate_pct",
              "seconds", "s_per_mb"]


def baseline_rows(modality, rows, size):
    out = []
    for r in rows:
        rate = float(r["rate_pct"])
        out.append({"modality": modality, "compressor": r["codec"], "model": "", "model_bytes": 0,
                    "mode": r["mode"], "dataset_bytes": size, "measured_bytes": int(r["raw_bytes"]),
                    "compressed_bytes": int(r["compressed_bytes"]), "raw_rate_pct": rate,
                    "adjusted_rate_pct": rate, "seconds": float(r["seconds"]),
                    "s_per_mb": float(r["s_per_mb"])})
    return out


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for r in rows:
            r = dict(r)
            for k in ("raw_rate_pct", "adjusted_rate_pct"):
                r[k] = f"{r[k]:.3f}"
            r["seconds"] = f"{r['seconds']:.3f}"
            r["s_per_mb"] = f"{r['s_per_mb']:.4f}"
            w.writerow(r)


def pct(v):
    return "—" if v is None else f"{v:.1f}"


def find(rows, modality, compressor, mode, model=None, key="raw_rate_pct"):
    """model: the model spec given to paper.py (-m), None for any."""
    for r in rows:
        if (r["modality"] == modality and r["compressor"] == compressor and r["mode"] == mode
                and (model is None or r.get("model_spec") == model)):
            return r[key]
    return None


def markdown(a, rows, mods, data_desc, sizes, command, machine, models):
    L = []
    L.append("# Table 1 reproduction: compression rates (% of raw size; lower is better)\n")
    L.append(f"Made by `{command}` on {machine}.\n")
    L.append("## Data (the paper's representation, made with `lmz prepare`)\n")
    for m in mods:
        L.append(f"- **{m}**: {data_desc[m]}: {sizes[m]:,} bytes ({sizes[m] // CHUNK:,} chunks of {CHUNK})")
    lmz_n = {m: find(rows, m, "lmz", "chunked", key="measured_bytes") for m in mods}
    L.append("")
    L.append("## Chunked: every 2048-byte chunk compressed alone (the paper's protocol)\n")
    L.append("Classical compressors count their header once (the size of compressing one byte "
             "is subtracted for every chunk but the first); they have no model, so raw = adjusted. "
             "lmz's adjusted rate counts its model once against the whole dataset, as the paper "
             "does: raw rate + model bytes / dataset bytes.\n")
    head = "| compressor | model (size) | " + " | ".join(f"{m} raw" for m in mods) + " | " + \
        " | ".join(f"{m} adjusted" for m in mods) + " |"
    L.append(head)
    L.append("|" + "---|" * (2 + 2 * len(mods)))
    codecs = [c for c in BASELINE_TITLES if any(r["compressor"] == c for r in rows)]
    for c in codecs:
        raw = [pct(find(rows, m, c, "chunked")) for m in mods]
        L.append(f"| {BASELINE_TITLES[c]} | — | " + " | ".join(raw) + " | " + " | ".join(raw) + " |")
    for spec, label in models:
        raw = [pct(find(rows, m, "lmz", "chunked", spec)) for m in mods]
        adj = [pct(find(rows, m, "lmz", "chunked", spec, "adjusted_rate_pct")) for m in mods]
        L.append(f"| **lmz** | {label} | " + " | ".join(raw) + " | " + " | ".join(adj) + " |")
    L.append("")
    L.append("lmz measured on the first " + ", ".join(
        f"{lmz_n[m]:,} bytes of {m}" for m in mods if lmz_n[m]) + " (`--lmz-limit`).")
    if any("random-" in label for _, label in models):
        L.append("Models named `random-*` are seeded random models: they predict nothing, so lmz "
                 "stores every chunk (about 100%) until trained models are given with `--model`.")
    L.append("")
    L.append("## Whole stream: the dataset compressed in one go (classical only)\n")
    L.append("| compressor | " + " | ".join(mods) + " |")
    L.append("|" + "---|" * (1 + len(mods)))
    for c in codecs:
        L.append(f"| {BASELINE_TITLES[c]} | " + " | ".join(pct(find(rows, m, c, "whole")) for m in mods) + " |")
    L.append("")
    L.append("## Seconds per MB of raw data (compression, this machine)\n")
    L.append("| compressor | " + " | ".join(f"{m} chunked | {m} whole" for m in mods) + " |")
    L.append("|" + "---|" * (1 + 2 * len(mods)))

    def spm(m, c, mode, model=None):
        v = find(rows, m, c, mode, model, "s_per_mb")
        return "—" if v is None else f"{v:.3f}"
    for c in codecs:
        L.append(f"| {BASELINE_TITLES[c]} | " + " | ".join(f"{spm(m, c, 'chunked')} | {spm(m, c, 'whole')}" for m in mods) + " |")
    for spec, label in models:
        L.append(f"| lmz {spec} | " + " | ".join(f"{spm(m, 'lmz', 'chunked', spec)} | —" for m in mods) + " |")
    L.append("")
    L.append("## For comparison: the paper's Table 1 (raw rates, 2048-byte chunks, 1 GB per modality)\n")
    L.append("| compressor | enwik9 | ImageNet | LibriSpeech |")
    L.append("|---|---|---|---|")
    for name, t, i, s in PAPER:
        L.append(f"| {name} | {t:.1f} | {i:.1f} | {s:.1f} |")
    L.append("")
    L.append("Files: `table1.csv` (every measurement), `table1.svg` (rate against model size), "
             "`command.txt` (how they were made).")
    return "\n".join(L) + "\n"


def machine_line():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {datetime.date.today().isoformat()}"


def git_rev():
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], text=True,
                             capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain"], text=True,
                               capture_output=True).stdout.strip()
        return rev + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    a = args_parse()
    lmz = os.path.join(a.build, "lmz")
    tool = os.path.join(a.build, "bench", "bench_baselines")
    for b in (lmz, tool):
        if not os.access(b, os.X_OK):
            die(f"{b} not found: build first (scripts/setup.sh, or --build DIR)")
    command = "bench/paper.py" + ("" if len(sys.argv) == 1 else " " + shlex.join(sys.argv[1:]))
    t_start = time.monotonic()
    rows, data_desc, sizes, specs = [], {}, {}, []
    with tempfile.TemporaryDirectory(prefix="lmz-paper-") as tmp:
        for m in a.modalities:
            path, data_desc[m] = prepare(a, lmz, tmp, m)
            sizes[m] = os.path.getsize(path)
            if not sizes[m]:
                die(f"the {m} dataset came out empty")
            rows += baseline_rows(m, baselines(a, tool, m, path), sizes[m])
            for i, spec in enumerate(a.model):
                r = lmz_run(a, lmz, tmp, m, path, spec, i)
                rows.append(r)
                if spec not in specs:
                    specs.append(spec)
    os.makedirs(a.out, exist_ok=True)
    machine = machine_line()
    models = []  # (spec, label): a spec may name a different model per modality
    for spec in specs:
        used = []
        for r in rows:
            if r.get("model_spec") == spec and (r["model"], r["model_bytes"]) not in used:
                used.append((r["model"], r["model_bytes"]))
        label = ", ".join(f"{n} ({b:,} bytes)" for n, b in used)
        models.append((spec, f"default per kind: {label}" if spec == "default" else label))
    md = markdown(a, rows, a.modalities, data_desc, sizes, command, machine, models)
    with open(os.path.join(a.out, "table1.md"), "w") as f:
        f.write(md)
    write_csv(os.path.join(a.out, "table1.csv"), rows)
    panels = []
    for m in a.modalities:
        pts = [(r["model_bytes"], r["raw_rate_pct"], r["adjusted_rate_pct"], r["model"])
               for r in rows if r["modality"] == m and r["compressor"] == "lmz"]
        base = [(BASELINE_TITLES[r["compressor"]], r["raw_rate_pct"]) for r in rows
                if r["modality"] == m and r["compressor"] != "lmz" and r["mode"] == "chunked"]
        panels.append((f"{m} ({sizes[m] / 1e6:.2f} MB)", pts, base))
    svgplot.write_svg(os.path.join(a.out, "table1.svg"), panels,
                      "Language Modeling Is Compression, Table 1 reproduction: "
                      + "; ".join(label for _, label in models) + f"; {machine}")
    with open(os.path.join(a.out, "command.txt"), "w") as f:
        f.write(f"{command}\n# run from the repository root; {machine}; commit {git_rev()}\n"
                f"# took {time.monotonic() - t_start:.0f} s\n")
    sys.stdout.write(md)
    log(f"wrote {a.out}/table1.md, table1.csv, table1.svg, command.txt "
        f"({time.monotonic() - t_start:.0f} s)")


if __name__ == "__main__":
    main()
