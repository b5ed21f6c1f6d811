#!/usr/bin/env bash
# Rebuild lmz's default models from the training splits of ../shared/data
# (the fixed splits of its README), with the seeds and budgets they were
# released with. Shipped models never change: a retrained model is a new
# file with a new name and hash, so this script writes into a directory you
# name, and the release step (copying into models/) is a deliberate act.
#
# usage: scripts/train-default-models.sh OUTDIR [text|image|audio ...]
# Each run checkpoints into OUTDIR and resumes from there when run again.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/train-default-models.sh OUTDIR [text|image|audio ...]}; shift
kinds=${*:-text}
data=${LMZ_DATA_DIR:-../shared/data}
lmz=build/lmz
[[ -x $lmz ]] || scripts/setup.sh >/dev/null
mkdir -p "$out"

train() { # train NAME DATA... -- extra options
  local name=$1; shift
  local ckpt=$out/$name.ckpt resume=()
  [[ -f $ckpt ]] && resume=(--resume "$ckpt")
  "$lmz" train "$@" "${resume[@]}" --checkpoint "$ckpt" --log "$out/$name.log.tsv" \
    --name "$name" -o "$out/$name.lmzm" -f 2>&1 | tee -a "$out/$name.out"
}

for kind in $kinds; do
  case $kind in
  text)
    # text-200k-1: 32 minutes of this 2-core machine (2026-11-29), shared
    # with other jobs; validation = enwiki-dev.xml from byte 4,610,922.
    head -c 4610922 "$data/text/enwiki-dev.xml" >"$out/enwiki-train.xml"
    tail -c +4610923 "$data/text/enwiki-dev.xml" >"$out/enwiki-val.xml"
    train text-200k-1 "$out/enwiki-train.xml" "$data/text/alice29.txt" "$data/text/asyoulik.txt" \
      --val "$out/enwiki-val.xml" --preset 200k --time 32m --lr 2e-2 \
      --ctx-schedule 256:0.6,1024:0.85,2048 --seed 1 --eval-every 200 -T 2
    ;;
  image|audio)
    echo "train-default-models: no $kind model has been released yet" >&2
    ;;
  *) echo "train-default-models: unknown kind $kind" >&2; exit 1 ;;
  esac
done
