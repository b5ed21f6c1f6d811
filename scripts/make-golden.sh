#!/usr/bin/env bash
# Make the golden vectors of one arithmetic/format version ONCE. They are
# committed and never regenerated: tests/test_golden.c decodes them forever.
# usage: scripts/make-golden.sh VERSION_DIR   (e.g. tests/golden/v2; must not exist)
#        scripts/make-golden.sh --format2 DIR  (tests/golden/format2: classical blocks)
set -euo pipefail
cd "$(dirname "$0")/.."
# --format2 DIR: the format-2 vectors (classical blocks), made with the
# committed v1 model: a mixed archive whose blocks are coded by the model,
# zstd or stored, and one each with --codec zstd and --codec lzma2.
if [[ ${1:-} == --format2 ]]; then
  out=${2:?usage: scripts/make-golden.sh --format2 tests/golden/format2}
  [[ -e $out ]] && { echo "$out exists: golden vectors are never regenerated" >&2; exit 1; }
  bd=${LMZ_BUILD:-build}; b=$bd/tests
  mkdir -p "$out"
  tiny=$(readlink -f tests/golden/v1/tiny.lmzm)
  $b/lmz_sample "$tiny" 6144 7 "$out/part-model.bin" 3
  python3 - "$out" <<'PY'
import random, sys
d = sys.argv[1]
r = random.Random(2026)
lines, k = [], 0
while sum(map(len, lines)) < 8192:
    lines.append('{"ts": "2026-12-01T10:%02d:%02d", "level": "INFO", "id": %d}\n' % (k // 60, k % 60, k % 7))
    k += 1
json_part = "".join(lines)[:8192].encode()
runs = b"".join(bytes([r.randrange(256)]) * r.randrange(200, 600) for _ in range(12))[:4096]
noise = bytes(r.randrange(256) for _ in range(2048))
model = open(d + "/part-model.bin", "rb").read()
open(d + "/mixed.bin", "wb").write(model + json_part + runs + noise)
PY
  rm "$out/part-model.bin"
  lmz=$(readlink -f "$bd/lmz")
  (cd "$out" && "$lmz" compress -q -T 1 --block-chunks 1 -m "$tiny" mixed.bin -o mixed.lmz &&
     "$lmz" compress -q -T 1 --block-chunks 2 --codec zstd -m random-tiny mixed.bin -o zstd.lmz &&
     "$lmz" compress -q -T 1 --block-chunks 2 --codec lzma2 -m random-tiny mixed.bin -o lzma2.lmz &&
     "$lmz" list -v mixed.lmz >mixed.list.txt)
  cat >"$out/README.md" <<TXT
Golden vectors of archive format 2 (classical blocks), made $(date -u +%Y-%m-%d) by
scripts/make-golden.sh --format2 with $($bd/lmz version). Never regenerate:
tests/test_golden.c decodes them forever (it does not re-encode them: LZMA2
and zstd output may change with the library version, decoding may not).

- mixed.bin: 6144 bytes sampled from the v1 golden model (../v1/tiny.lmzm), 8192 bytes of JSON lines, 4096 bytes
  of byte runs, 2048 random bytes
- mixed.lmz: mixed.bin, 2048-byte blocks (--block-chunks 1), --codec auto,
  model embedded: blocks coded by the model, by zstd (which beats LZMA2 on
  blocks this small) and stored (mixed.list.txt is its list -v)
- zstd.lmz, lzma2.lmz: mixed.bin with --codec zstd, --codec lzma2, 4096-byte
  blocks, naming the built-in random-tiny model (which they do not use)
TXT
  ls -l "$out"
  exit 0
fi
out=${1:?usage: scripts/make-golden.sh tests/golden/vN}
[[ -e $out ]] && { echo "$out exists: golden vectors are never regenerated" >&2; exit 1; }
bd=${LMZ_BUILD:-build}; b=$bd/tests
mkdir -p "$out"
$b/lmz_mkmodel tiny 42 golden-tiny "$out/tiny.lmzm" >"$out/tiny.hash"
$b/lmz_sample "$out/tiny.lmzm" 6000 1 "$out/sampled.bin" 3
lmz=$(readlink -f "$bd/lmz")
(cd "$out" && "$lmz" compress -q -T 1 -m ./tiny.lmzm sampled.bin -o sampled-embedded.lmz)
$b/lmz_sample random-tiny 5000 2 "$out/builtin.bin" 3
(cd "$out" && "$lmz" compress -q -T 1 -m random-tiny builtin.bin -o builtin.lmz)
$b/test_golden --write-tables "$out"
cat >"$out/README.md" <<TXT
Golden vectors, made $(date -u +%Y-%m-%d) by scripts/make-golden.sh with lmz
$($bd/lmz version). Never regenerate: tests/test_golden.c decodes them forever.

- tiny.lmzm: the tiny preset with seeded random weights (seed 42); tiny.hash its hash
- sampled.bin: 6000 bytes sampled from that model (so they are range-coded)
- sampled-embedded.lmz: sampled.bin compressed with -m tiny.lmzm (model embedded)
- builtin.bin, builtin.lmz: 5000 bytes sampled from the built-in random-tiny,
  compressed with it (the archive names the model by hash only)
- tables.txt: XXH64 of each chunk's 256-entry tables (u16 little-endian) of sampled.bin
TXT
ls -l "$out"
