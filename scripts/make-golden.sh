#!/usr/bin/env bash
# Make the golden vectors of one arithmetic/format version ONCE. They are
# committed and never regenerated: tests/test_golden.c decodes them forever.
# usage: scripts/make-golden.sh VERSION_DIR   (e.g. tests/golden/v2; must not exist)
set -euo pipefail
cd "$(dirname "$0")/.."
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
