#!/usr/bin/env bash
# gpu-corpus.sh: the training text that scripts/gpu-check.sh's `train` mode
# carries to the GPU machine: .carry/corpus/train.txt.xz and val.txt.xz.
#
# usage: scripts/gpu-corpus.sh CORPUS_DIR
#   CORPUS_DIR: a corpus made by scripts/text-corpus.sh, as train.txt and
#   val.txt, or as its train/*.txt and val/*.txt (concatenated in name order).
# The training text is cut to its first LMZ_GPU_CORPUS_MB MB (default 60), and
# cut further (by a quarter at a time) until the compressed pair is under
# LMZ_GPU_CORPUS_MAX_MB MB (default 30): what a device call carries is
# limited. xz -6, on LMZ_GPU_CORPUS_JOBS threads (default 2), niced.
set -euo pipefail
src=${1:?usage: scripts/gpu-corpus.sh CORPUS_DIR}
cd "$(dirname "$0")/.."
out=.carry/corpus
mb=${LMZ_GPU_CORPUS_MB:-60}
max=${LMZ_GPU_CORPUS_MAX_MB:-30}
jobs=${LMZ_GPU_CORPUS_JOBS:-2}
mkdir -p "$out"

# cat_split NAME: the split as one stream
cat_split() {
    if [ -f "$src/$1.txt" ]; then
        cat "$src/$1.txt"
    elif compgen -G "$src/$1/*.txt" >/dev/null; then
        LC_ALL=C ls "$src/$1"/*.txt | while read -r f; do cat "$f"; done
    else
        echo "gpu-corpus: no $src/$1.txt nor $src/$1/*.txt" >&2
        return 1
    fi
}

cat_split val >"$out/val.txt.tmp"
nice -n 15 xz -6 -T"$jobs" -c "$out/val.txt.tmp" >"$out/val.txt.xz"
rm -f "$out/val.txt.tmp"
bytes=$((mb * 1000000))
while :; do
    # head closes the pipe early: cat_split's SIGPIPE is expected there
    { cat_split train || true; } | head -c "$bytes" | nice -n 15 xz -6 -T"$jobs" -c >"$out/train.txt.xz"
    total=$(($(stat -c %s "$out/train.txt.xz") + $(stat -c %s "$out/val.txt.xz")))
    if [ "$total" -le $((max * 1048576)) ]; then
        break
    fi
    [ "$bytes" -lt 1000000 ] && { echo "gpu-corpus: cannot get under $max MB" >&2; exit 1; }
    bytes=$((bytes * 3 / 4))
done
echo "gpu-corpus: $out/train.txt.xz ($bytes bytes of training text), $out/val.txt.xz:" \
    "$((total / 1048576)) MiB compressed in all"
