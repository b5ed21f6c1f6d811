#!/usr/bin/env bash
# Remake the fuzzers' seed corpora in tests/fuzz-corpus/<target>/ (they are
# committed; this records how they were made). Needs a built build/ (or
# BUILD=dir), h5repack (hdf5-tools) and python3 with h5py and numpy.
#
#   fuzz/make-seeds.sh [BUILD]
#
# Seeds are small real inputs: archives and models as lmz writes them, the
# same rewritten by h5repack (chunked, gzip, n-bit: layouts a reader must
# accept and whose raw data HDF5 does not checksum) and by h5py with its
# default file format (superblock version 0: no metadata checksums at all,
# so that mutations reach HDF5's own parsers), a few recipes for the forge
# mode of the HDF5 targets, and model-sampled data for the round trip.
# Besides seed-* files it writes the HDF5 crash reproducers of
# docs/hdf5-crashes.md (crash-hdf5-*, timeout-hdf5-*); other inputs that
# once made a fuzzer report a finding (crash-*, regress-*...) are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
B=$(readlink -f "${1:-${BUILD:-build}}")
LMZ=$B/lmz
SAMPLE=$B/tests/lmz_sample
C=tests/fuzz-corpus
G=tests/golden/v1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p $C/{rangecoder,block,archive,model,names,roundtrip}

py() { python3 - "$@"; }
# forge_seeds DIR SEED ZEROS RANDOM: the forge targets' two seeds, ZEROS zero
# bytes and RANDOM bytes of random.Random(SEED).
forge_seeds() {
  py "$@" <<'EOF'
import os, random, sys
d, seed, zeros, rand = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
r = random.Random(seed)
open(os.path.join(d, "seed-forge-zeros"), "wb").write(bytes(zeros))
open(os.path.join(d, "seed-forge-random"), "wb").write(bytes(r.randrange(256) for _ in range(rand)))
EOF
}
# rewrite SRC DST LOW: copy an lmz file with h5py, whose string attributes
# become variable-length strings (HDF5's global heap); LOW "earliest" gives
# superblock version 0 (no metadata checksums), "v108" version 2.
rewrite() {
  python3 - "$@" <<'PY'
import sys, h5py
src, dst, low = sys.argv[1:4]
with h5py.File(src, "r") as f, h5py.File(dst, "w", libver=(low, "latest")) as g:
    for k in f:
        f.copy(k, g)
    for k, v in f.attrs.items():
        g.attrs[k] = v.decode() if isinstance(v, bytes) else v
PY
}
# heap_damage SRC DST SIZE TEXT: the object of SRC's global heap that holds
# TEXT (the "format" attribute's value) claims SIZE bytes. lmz 0.1.0 read
# variable-length strings: HDF5 then crashed with a huge SIZE and looped
# forever with one past the heap's end (docs/hdf5-crashes.md).
heap_damage() {
  python3 - "$@" <<'PY'
import struct, sys
src, dst, size, text = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].encode()
data = bytearray(open(src, "rb").read())
i = data.find(b"GCOL")
assert i >= 0, "no global heap"
p = i + 16
while True:  # objects: index u16, refcount u16, reserved u32, size u64, data padded to 8
    idx, = struct.unpack_from("<H", data, p)
    n, = struct.unpack_from("<Q", data, p + 8)
    assert idx != 0, "no heap object holds %r" % text
    if bytes(data[p + 16:p + 16 + n]) == text:
        break
    p += 16 + (n + 7) // 8 * 8
struct.pack_into("<Q", data, p + 8, size)
open(dst, "wb").write(data)
PY
}
# rnd N SEED: N deterministic pseudo-random bytes (so the seeds are the same every time)
rnd() { python3 -c 'import random, sys; r = random.Random(int(sys.argv[2])); sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(int(sys.argv[1]))))' "$1" "$2"; }

# --- rangecoder: [mode][count u16][table seed][stream]
py "$C/rangecoder" <<'EOF'
import os, random, struct, sys
d = sys.argv[1]
r = random.Random(7)
for mode in range(5):
    body = bytes(r.randrange(256) for _ in range(300))
    open(os.path.join(d, f"seed-mode{mode}"), "wb").write(bytes([mode]) + struct.pack("<H", 700) + body)
open(os.path.join(d, "seed-empty-stream"), "wb").write(bytes([3]) + struct.pack("<H", 64))
open(os.path.join(d, "seed-ff"), "wb").write(bytes([1]) + struct.pack("<H", 4096) + b"\xff" * 600)
EOF

# --- block: [chunk size selector][mode][raw_len u16][block], real blocks
py "$C/block" "$G/builtin.lmz" "$T" <<'EOF'
import os, struct, sys, h5py
d, arch = sys.argv[1], sys.argv[2]
with h5py.File(arch, "r") as f:
    idx = f["index"][:]
    pay = f["payload"][:].tobytes()
for k, row in enumerate(idx[:2]):
    o, n = int(row["payload_offset"]), int(row["payload_len"])
    blk = pay[o:o + n]
    # selector 8 = chunk size 2048; mode 0 = parse
    open(os.path.join(d, f"seed-builtin-block{k}"), "wb").write(
        bytes([8, 0]) + struct.pack("<H", int(row["raw_len"])) + blk)
open(os.path.join(d, "seed-stored"), "wb").write(bytes([4, 0]) + struct.pack("<H", 40) + b"\x01" + bytes(range(40)))
open(os.path.join(d, "seed-coded"), "wb").write(bytes([4, 0]) + struct.pack("<H", 40) + b"\x00" + struct.pack("<HHH", 3, 0x8000, 2) + b"abc" + bytes(range(16)) + b"xy")
open(os.path.join(d, "seed-assemble"), "wb").write(bytes([5, 1]) + struct.pack("<H", 200) + bytes(range(200)) + struct.pack("<HHHH", 3, 0xffff, 70, 0))
EOF
# classical blocks (modes 2 and 3) as lmz writes them, and an assemble input
# with the classical bit (mode 3) on text
py "$T" <<'EOF'
import sys
words = [b"block ", b"model ", b"the ", b"chunk ", b"{\"id\": 42}\n"]
open(sys.argv[1] + "/words.txt", "wb").write(b"".join(words[(k * 7) % 5] for k in range(700)))
EOF
for codec in lzma2 zstd; do
  "$LMZ" compress -q -m random-tiny --codec $codec "$T/words.txt" -o "$T/$codec.lmz"
done
py "$C/block" "$T" <<'EOF'
import os, struct, sys, h5py
d, t = sys.argv[1], sys.argv[2]
for codec in ("lzma2", "zstd"):
    with h5py.File(f"{t}/{codec}.lmz", "r") as f:
        row = f["index"][0]
        blk = f["payload"][:].tobytes()[:int(row["payload_len"])]
    open(os.path.join(d, f"seed-{codec}"), "wb").write(
        bytes([8, 0]) + struct.pack("<H", int(row["raw_len"])) + blk)
text = open(f"{t}/words.txt", "rb").read()[:600]
open(os.path.join(d, "seed-assemble-classical"), "wb").write(
    bytes([6, 3]) + struct.pack("<H", 600) + text + struct.pack("<HHH", 30, 0xffff, 90) + bytes(4))
EOF

# --- archive: real archives, rewritten ones, forge recipes
"$SAMPLE" random-tiny 3000 5 "$T/s.bin" 3 >/dev/null
rnd 700 1 >"$T/r.bin"; : >"$T/e.bin"
(cd "$T" && "$LMZ" compress -q -m random-tiny --block-chunks 1 s.bin r.bin e.bin -o multi.lmz)
(cd "$T" && "$LMZ" compress -q -m random-tiny r.bin -o stored.lmz)
cp "$G/builtin.lmz" $C/archive/seed-builtin.lmz
cp "$T/multi.lmz" $C/archive/seed-multi.lmz
cp "$T/stored.lmz" $C/archive/seed-stored.lmz
# other layouts a reader accepts (chunked, compressed payload), kept at
# superblock version 2 (--low=1: HDF5 1.8 and later)
h5repack --low=1 --high=2 -l payload:CHUNK=256 -f payload:GZIP=1 "$T/multi.lmz" $C/archive/seed-multi-gzip.lmz
# refused: superblock version 0; variable-length string attributes
rewrite "$T/multi.lmz" $C/archive/seed-multi-sb0.lmz earliest
rewrite "$T/multi.lmz" "$T/multi-v2.lmz" v108
cp "$T/multi-v2.lmz" $C/archive/seed-multi-vlen.lmz
heap_damage "$T/multi-v2.lmz" $C/archive/crash-hdf5-vlen-heap-size.lmz $((1 << 60)) lmz
heap_damage "$T/multi-v2.lmz" $C/archive/timeout-hdf5-vlen-heap-loop.lmz 4000 lmz
forge_seeds "$C/archive" 11 160 400

# --- model: the golden tiny model, rewritten ones, forge recipes
cp "$G/tiny.lmzm" $C/model/seed-tiny.lmzm
h5repack --low=1 --high=2 -f GZIP=1 "$G/tiny.lmzm" $C/model/seed-tiny-gzip.lmzm
h5repack --low=1 --high=2 -f NBIT "$G/tiny.lmzm" $C/model/seed-tiny-nbit.lmzm
rewrite "$G/tiny.lmzm" $C/model/seed-tiny-sb0.lmzm earliest
rewrite "$G/tiny.lmzm" "$T/tiny-v2.lmzm" v108
heap_damage $C/model/seed-tiny-sb0.lmzm $C/model/crash-hdf5-vlen-heap-size-sb0.lmzm $((1 << 60)) lmz-model
heap_damage $C/model/seed-tiny-sb0.lmzm $C/model/timeout-hdf5-vlen-heap-loop-sb0.lmzm 4000 lmz-model
heap_damage "$T/tiny-v2.lmzm" $C/model/crash-hdf5-vlen-heap-size.lmzm $((1 << 60)) lmz-model
heap_damage "$T/tiny-v2.lmzm" $C/model/timeout-hdf5-vlen-heap-loop.lmzm 4000 lmz-model
forge_seeds "$C/model" 13 64 300

# --- names: [flags][name] NUL [name] ...
py "$C/names" <<'EOF'
import os, sys
d = sys.argv[1]
seeds = {
    "seed-plain": b"\x15a.txt\x00dir/b.bin\x00dir/sub/c",
    "seed-escape": b"\x05ok\x00../evil\x00/abs",
    "seed-dots": b"\x01./a\x00a/./b\x00a/..\x00...\x00.hidden",
    "seed-ctrl": b"\x02a\\b\x00tab\there\x00\x7fdel",
    "seed-dup": b"\x3fsame\x00same\x00same/x",
    "seed-long": b"\x01" + b"x" * 300 + b"/" + b"y" * 10,
    "seed-one-dir": b"\x41only",
}
for k, v in seeds.items():
    open(os.path.join(d, k), "wb").write(v)
EOF

# --- roundtrip: [options][split u16][bytes]
"$SAMPLE" random-tiny 2600 9 "$T/s2.bin" 3 >/dev/null
{ printf '\x00\x00\x00'; head -c 2300 "$T/s2.bin"; } >$C/roundtrip/seed-sampled
{ printf '\x05\x10\x08'; head -c 2500 "$T/s2.bin"; } >$C/roundtrip/seed-sampled-two
{ printf '\x0b\x00\x00'; rnd 2049 2; } >$C/roundtrip/seed-random
printf '\x00\x00\x00' >$C/roundtrip/seed-empty
printf '\x04\x01\x00A' >$C/roundtrip/seed-one
echo "seeds written under $C" >&2
