#!/usr/bin/env bash
# Compress and decompress speed per preset, next to xz -9 on the same file in
# the same run. The input for each preset is sampled from that preset's own
# (random, seeded) model, so every chunk is range-coded and decoding really
# runs the model: speed per byte does not depend on the weights' values.
#
# usage: bench/speed.sh [-T N] [--bytes N] [--presets "200k 800k 3.2m"]
# (run scripts/setup.sh first)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=$(nproc); bytes=131072; presets="200k 800k 3.2m"
while [[ $# -gt 0 ]]; do
  case $1 in
    -T) threads=$2; shift 2 ;;
    --bytes) bytes=$2; shift 2 ;;
    --presets) presets=$2; shift 2 ;;
    *) echo "usage: bench/speed.sh [-T N] [--bytes N] [--presets LIST]" >&2; exit 1 ;;
  esac
done
lmz=build/lmz; sample=build/tests/lmz_sample
[[ -x $lmz && -x $sample ]] || { echo "build first: scripts/setup.sh" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/lmz-speed-XXXXXX"); trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
kbs() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / s / 1000 }'; }

echo "# lmz speed, $(date -u +%Y-%m-%d), $(nproc) cores, -T $threads, $bytes bytes per preset"
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
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
done
echo "# rate: lmz payload / raw on model-sampled input; lmz/xz: lmz speed as a fraction of xz -9's"
