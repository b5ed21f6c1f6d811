#!/usr/bin/env bash
# Peak memory (maximum RSS) of lmz's commands against the input's size: it
# must not grow with the input (it may with -T and --batch, fixed here).
#
#   bench/memory.sh [--model-sizes "A B"] [--stored-sizes "C D"] [--no-model] [BUILD]
#
# Two parts, each measured at two sizes, with a table of peak RSS and the
# ratio big/small (near 1 means memory does not grow with the input):
#
#  1. The model path, the real lmz binary with the built-in random-tiny
#     model, -T 1: compress, decompress and extract (the whole range) of
#     model-sampled bytes, which are range-coded (the slow path). random-tiny
#     codes ~50 KB/s on one core, so 20 MB takes ~7 minutes per command and
#     200 MB over an hour each: the default sizes are 2 MB and 20 MB
#     (--model-sizes "20000000 200000000" if you have the hours).
#  2. Large inputs without the model: an archive of stored blocks (what
#     compress writes for incompressible input) written through lmz's own
#     archive writer by build/lmz_memtool (bench/memtool.c), then the real
#     lmz decompress, extract and verify --full on it (stored blocks need no
#     decoding, so 200 MB takes seconds); and lmz prepare text and random.
#     Default 20 MB and 200 MB.
#
# What does grow, by design: the index in memory, 40 bytes per block (a
# block is 128 KiB by default: 320 KB per 1 GB of input), and the member
# list (~32 bytes plus the name per input file).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL_SIZES="2000000 20000000"
STORED_SIZES="20000000 200000000"
DO_MODEL=1
B=build
while (($#)); do
  case $1 in
    --model-sizes) MODEL_SIZES=$2; shift 2 ;;
    --stored-sizes) STORED_SIZES=$2; shift 2 ;;
    --no-model) DO_MODEL=0; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) B=$1; shift ;;
  esac
done
B=$(readlink -f "$B")
LMZ=$B/lmz
for t in "$LMZ" "$B/lmz_memtool" "$B/tests/lmz_sample"; do
  [[ -x $t ]] || { echo "memory: $t missing (build first: scripts/setup.sh)" >&2; exit 1; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/lmz-mem-XXXXXX")
trap 'rm -rf "$W"' EXIT
export LMZ_MODEL_PATH=""

# peak_kb CMD...: run CMD, print its maximum RSS in KB (fails if CMD does).
if [[ -x /usr/bin/time ]]; then
  peak_kb() { /usr/bin/time -f "%M" -o "$W/time.out" "$@" >/dev/null 2>"$W/err.log" ||
                { cat "$W/err.log" >&2; return 1; }; tail -1 "$W/time.out"; }
else
  peak_kb() { python3 -c '
import resource, subprocess, sys
rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)' "$@"; }
fi

rows=()
# row NAME SMALL_BYTES BIG_BYTES KB_SMALL KB_BIG
row() {
  rows+=("$(awk -v n="$1" -v a="$2" -v b="$3" -v x="$4" -v y="$5" 'BEGIN {
    printf "| %-34s | %6.0f MB | %6.0f MB | %8.1f | %8.1f | %5.2f |", n, a / 1e6, b / 1e6, x / 1024, y / 1024, y / x }')")
}
# repeat SRC N OUT: the first N bytes of SRC repeated
repeat() { python3 - "$@" <<'PY'
import sys
src, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = open(src, "rb").read()
with open(out, "wb") as f:
    while n > 0:
        f.write(data[:n]); n -= len(data[:n])
PY
}
secs() { date +%s.%N; }

# ---- 1. the model path
if ((DO_MODEL)); then
  set -- $MODEL_SIZES; S1=$1; S2=$2
  echo "memory: sampling 1 MB from random-tiny..." >&2
  "$B/tests/lmz_sample" random-tiny 1000000 3 "$W/sample.bin" 3
  declare -A kb
  for n in $S1 $S2; do
    repeat "$W/sample.bin" "$n" "$W/in$n.bin"
    t0=$(secs)
    echo "memory: compress $n bytes..." >&2
    kb[c$n]=$(peak_kb "$LMZ" compress -q -T 1 -m random-tiny "$W/in$n.bin" -o "$W/a$n.lmz")
    echo "memory: decompress $n bytes..." >&2
    kb[d$n]=$(peak_kb "$LMZ" decompress -q -T 1 "$W/a$n.lmz" -o "$W/out$n.bin")
    cmp "$W/in$n.bin" "$W/out$n.bin" || { echo "memory: round trip differs" >&2; exit 1; }
    rm -f "$W/out$n.bin"
    echo "memory: extract $n bytes..." >&2
    kb[x$n]=$(peak_kb "$LMZ" extract -q -T 1 "$W/a$n.lmz" --range 0:$n -o "$W/x$n.bin")
    rm -f "$W/x$n.bin" "$W/in$n.bin"
    echo "memory: $n bytes took $(awk -v a="$t0" -v b="$(secs)" 'BEGIN {printf "%.0f", b - a}') s" >&2
  done
  row "compress (random-tiny, coded)" $S1 $S2 "${kb[c$S1]}" "${kb[c$S2]}"
  row "decompress (random-tiny, coded)" $S1 $S2 "${kb[d$S1]}" "${kb[d$S2]}"
  row "extract whole range (coded)" $S1 $S2 "${kb[x$S1]}" "${kb[x$S2]}"
fi

# ---- 2. large inputs, stored blocks
set -- $STORED_SIZES; L1=$1; L2=$2
declare -A kb2
for n in $L1 $L2; do
  echo "memory: stored archive of $n bytes..." >&2
  kb2[w$n]=$(peak_kb "$B/lmz_memtool" "$W/s$n.lmz" "$n" 7)
  kb2[d$n]=$(peak_kb "$LMZ" decompress -q -T 1 "$W/s$n.lmz" -o "$W/s$n.out")
  [[ $(stat -c %s "$W/s$n.out") -eq $n ]] || { echo "memory: decompress size differs" >&2; exit 1; }
  kb2[c$n]=$(peak_kb "$LMZ" decompress -q -T 1 -c "$W/s$n.lmz")
  kb2[x$n]=$(peak_kb "$LMZ" extract -q -T 1 "$W/s$n.lmz" --range 1:$((n - 2)) -o "$W/s$n.ext")
  kb2[v$n]=$(peak_kb "$LMZ" verify -q -T 1 --full "$W/s$n.lmz")
  rm -f "$W/s$n.ext" "$W/s$n.lmz"
  kb2[pt$n]=$(peak_kb "$LMZ" prepare text -q "$W/s$n.out" -o "$W/p$n.txt")
  rm -f "$W/p$n.txt"* "$W/s$n.out"
  kb2[pr$n]=$(peak_kb "$LMZ" prepare random -q --size "$n" -o "$W/r$n.bin")
  rm -f "$W/r$n.bin"*
done
row "archive writer (lmz_memtool)" $L1 $L2 "${kb2[w$L1]}" "${kb2[w$L2]}"
row "decompress (stored blocks)" $L1 $L2 "${kb2[d$L1]}" "${kb2[d$L2]}"
row "decompress -c (stored blocks)" $L1 $L2 "${kb2[c$L1]}" "${kb2[c$L2]}"
row "extract whole range (stored)" $L1 $L2 "${kb2[x$L1]}" "${kb2[x$L2]}"
row "verify --full (stored)" $L1 $L2 "${kb2[v$L1]}" "${kb2[v$L2]}"
row "prepare text" $L1 $L2 "${kb2[pt$L1]}" "${kb2[pt$L2]}"
row "prepare random" $L1 $L2 "${kb2[pr$L1]}" "${kb2[pr$L2]}"

echo
echo "Peak RSS (maximum resident set size) by input size, -T 1, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| command                            |      small |        big | small MB |   big MB | ratio |"
echo "| ---------------------------------- | ---------: | ---------: | -------: | -------: | ----: |"
printf '%s\n' "${rows[@]}"
