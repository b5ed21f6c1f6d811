#!/usr/bin/env bash
# Compress and decompress speed per preset, next to xz -9 on the same file in
# the same run. The input for each preset is sampled from that preset's own
# (random, seeded) model, so every chunk is range-coded and decoding really
# runs the model: speed per byte does not depend on the weights' values.
# Then (--extract-bytes > 0) one 128 KB block is extracted from the middle of
# a larger 200k archive: only that block's chunks are decoded.
#
# usage: bench/speed.sh [-T N] [--bytes N] [--presets "200k 800k 3.2m"]
#                       [--build DIR] [--simd PATH] [--extract-bytes N]
# --simd sets LMZ_SIMD (scalar | avx2 | avx512 | auto) for lmz.
# (run scripts/setup.sh first)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=$(nproc); bytes=131072; presets="200k 800k 3.2m"; build=build; simd=auto
extract_bytes=0
while [[ $# -gt 0 ]]; do
  case $1 in
    -T) threads=$2; shift 2 ;;
    --bytes) bytes=$2; shift 2 ;;
    --presets) presets=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --simd) simd=$2; shift 2 ;;
    --extract-bytes) extract_bytes=$2; shift 2 ;;
    *) echo "usage: bench/speed.sh [-T N] [--bytes N] [--presets LIST] [--build DIR] [--simd PATH] [--extract-bytes N]" >&2; exit 1 ;;
  esac
done
export LMZ_SIMD=$simd
lmz=$build/lmz; sample=$build/tests/lmz_sample
[[ -x $lmz && -x $sample ]] || { echo "build first: scripts/setup.sh" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/lmz-speed-XXXXXX"); trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
kbs() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / s / 1000 }'; }

echo "# lmz speed, $(date -u +%Y-%m-%d), $(nproc) cores, -T $threads, $bytes bytes per preset, LMZ_SIMD=$simd"
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %8s %10s %10s %10s %10s %12s %12s\n' preset rate "lmz c KB/s" "lmz d KB/s" "xz c KB/s" "xz d KB/s" "lmz/xz c" "lmz/xz d"
for p in $presets; do
  in=$work/in-$p.bin
  "$sample" random-$p "$bytes" 1 "$in"
  t0=$(now); "$lmz" compress -q -f -T "$threads" -m random-$p "$in" -o "$work/a.lmz"; t1=$(now)
  "$lmz" decompress -q -f -T "$threads" -m random-$p "$work/a.lmz" -o "$work/out.bin"; t2=$(now)
  cmp -s "$in" "$work/out.bin" || { echo "round trip failed for $p" >&2; exit 1; }
  xz -9 -c "$in" >"$work/a.xz"; t3=$(now)
  xz -d -c "$work/a.xz" >/dev/null; t4=$(now)
  payload=$("$lmz" list "$work/a.lmz" | awk '/^payload:/ {print $2}')
  lc=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}'); ld=$(awk -v a="$t1" -v b="$t2" 'BEGIN{print b-a}')
  xc=$(awk -v a="$t2" -v b="$t3" 'BEGIN{print b-a}'); xd=$(awk -v a="$t3" -v b="$t4" 'BEGIN{print b-a}')
  printf '%-8s %7.1f%% %10s %10s %10s %10s %12.4f %12.4f\n' "$p" \
    "$(awk -v a="$payload" -v b="$bytes" 'BEGIN{print 100*a/b}')" \
    "$(kbs "$bytes" "$lc")" "$(kbs "$bytes" "$ld")" "$(kbs "$bytes" "$xc")" "$(kbs "$bytes" "$xd")" \
    "$(awk -v a="$xc" -v b="$lc" 'BEGIN{print a/b}')" "$(awk -v a="$xd" -v b="$ld" 'BEGIN{print a/b}')"
  rm -f "$in" "$work/out.bin" "$work/a.lmz" "$work/a.xz"
done
echo "# rate: lmz payload / raw on model-sampled input; lmz/xz: lmz speed as a fraction of xz -9's"

if [[ $extract_bytes -gt 0 ]]; then
  in=$work/big.bin
  "$sample" random-200k "$extract_bytes" 2 "$in"
  t0=$(now); "$lmz" compress -q -f -T "$threads" -m random-200k "$in" -o "$work/big.lmz"; t1=$(now)
  nblocks=$("$lmz" list "$work/big.lmz" | awk '/^chunks:/ {print $(NF-1)}')
  b=$(( ${nblocks:-1} / 2 ))
  t2=$(now); "$lmz" extract -q -f -T "$threads" -m random-200k "$work/big.lmz" --block "$b" -o "$work/blk.bin"; t3=$(now)
  off=$(( b * 131072 ))
  cmp -s <(tail -c +$(( off + 1 )) "$in" | head -c "$(stat -c %s "$work/blk.bin")") "$work/blk.bin" \
    || { echo "extracted block $b differs from the input" >&2; exit 1; }
  echo "# extract: block $b ($(stat -c %s "$work/blk.bin") bytes) of a $extract_bytes-byte 200k archive ($nblocks blocks, compressed in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s): $(awk -v a="$t2" -v b="$t3" 'BEGIN{printf "%.2f", b-a}') s"
fi
