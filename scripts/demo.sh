#!/usr/bin/env bash
# The main job on sample input with the default model: set up, compress,
# print sizes next to gzip -9 and xz -9, decompress and compare.
# Usage: scripts/demo.sh [FILE]   (default: sample text from ../shared/data,
#                                  or this project's own docs if that is absent)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/setup.sh >/dev/null
lmz=$root/build/lmz
work=$(mktemp -d "${TMPDIR:-/tmp}/lmz-demo-XXXXXX")
trap 'rm -rf "$work"' EXIT

if [[ $# -ge 1 ]]; then
  input=$(readlink -f "$1")
elif [[ -r ../shared/data/text/enwiki-dev.xml ]]; then
  # 64 KB of the Wikipedia validation split (no shipped model trained on it)
  # keeps the demo to about a minute on 2 cores.
  input=$work/enwiki-64k.xml
  head -c $((4610922 + 65536)) ../shared/data/text/enwiki-dev.xml | tail -c 65536 >"$input"
else
  input=$work/docs.txt
  cat README.md docs/*.md >"$input"
fi
raw=$(stat -c %s "$input")
echo "input: $input ($raw bytes)"
"$lmz" compress "$input" -o "$work/demo.lmz" --kind text
gzip -9 -c "$input" >"$work/demo.gz"
xz -9 -c "$input" >"$work/demo.xz"
printf '\n%-28s %10s %8s\n' "compressor" "bytes" "rate"
row() { awk -v n="$1" -v b="$2" -v r="$raw" 'BEGIN { printf "%-28s %10d %7.2f%%\n", n, b, 100 * b / r }'; }
row "raw" "$raw"
row "gzip -9" "$(stat -c %s "$work/demo.gz")"
row "xz -9" "$(stat -c %s "$work/demo.xz")"
payload=$("$lmz" list "$work/demo.lmz" | awk '/^payload:/ {print $2}')
row "lmz payload" "$payload"
row "lmz archive file (HDF5)" "$(stat -c %s "$work/demo.lmz")"
echo
"$lmz" list "$work/demo.lmz" | sed -n '1,10p'
echo
"$lmz" decompress "$work/demo.lmz" -o "$work/demo.out"
if cmp -s "$input" "$work/demo.out"; then
  echo "round trip: identical ($raw bytes)"
else
  echo "round trip: MISMATCH" >&2
  exit 1
fi
