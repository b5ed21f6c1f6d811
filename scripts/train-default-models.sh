#!/usr/bin/env bash
# Rebuild lmz's default models from the training splits of ../shared/data
# (the fixed splits of its README), with the seeds and budgets they were
# released with. Shipped models never change: a retrained model is a new
# file with a new name and hash, so this script writes into a directory you
# name, and the release step (copying into models/) is a deliberate act.
#
# usage: scripts/train-default-models.sh OUTDIR [text|text-general|image|audio ...]
# Each run checkpoints into OUTDIR and resumes from there when run again.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/train-default-models.sh OUTDIR [text|text-general|image|audio ...]}; shift
kinds=${*:-text}
data=${LMZ_DATA_DIR:-../shared/data}
lmz=${LMZ:-build/lmz}
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
  text-general)
    # text-general-200k-1, --kind text's default: the general corpus of
    # scripts/text-corpus.sh (45 Debian packages + the enwiki training split
    # twice; validation = 4 other packages). 100 minutes on one thread of
    # this 2-core machine (2026-12-04), beside other work.
    scripts/text-corpus.sh "$out/corpus"
    train text-general-200k-1 "$out/corpus/train.txt" --val "$out/corpus/val.txt" \
      --preset 200k --time 100m --lr 2e-2 --ctx-schedule 256:0.6,1024:0.85,2048 --seed 1 \
      --eval-every 200 -T 1
    ;;
  image)
    # image-200k-1: grayscale 32x64 patches (lmz prepare image) of the first
    # 350 ImageNet files in name order; validation = the last 50. One thread,
    # run beside the audio model on this 2-core machine (2026-11-29).
    imgs=$(ls "$data/images/imagenet" | LC_ALL=C sort)
    mapfile -t train_imgs < <(head -350 <<<"$imgs" | sed "s|^|$data/images/imagenet/|")
    mapfile -t val_imgs < <(tail -50 <<<"$imgs" | sed "s|^|$data/images/imagenet/|")
    "$lmz" prepare image "${train_imgs[@]}" -o "$out/image-train.bin" -q --no-progress -f
    "$lmz" prepare image "${val_imgs[@]}" -o "$out/image-val.bin" -q --no-progress -f
    train image-200k-1 "$out/image-train.bin" --val "$out/image-val.bin" --preset 200k \
      --time 60m --lr 2e-2 --ctx-schedule 256:0.5,1024:0.8,2048 --seed 1 --eval-every 200 -T 1
    ;;
  audio)
    # audio-200k-1: 8-bit samples (lmz prepare audio) of every audio file but
    # the validation file librispeech-2412-153948-0000.flac. One thread
    # (2026-11-29). The training split is only 499,712 bytes, so the budget
    # is short: longer runs start to memorise it.
    mapfile -t train_audio < <(ls "$data"/audio/* | LC_ALL=C sort | grep -v 2412-153948-0000)
    "$lmz" prepare audio "${train_audio[@]}" -o "$out/audio-train.bin" -q --no-progress -f
    "$lmz" prepare audio "$data/audio/librispeech-2412-153948-0000.flac" -o "$out/audio-val.bin" -q --no-progress -f
    train audio-200k-1 "$out/audio-train.bin" --val "$out/audio-val.bin" --preset 200k \
      --time 25m --lr 2e-2 --ctx-schedule 256:0.5,1024:0.8,2048 --seed 1 --eval-every 100 -T 1
    ;;
  *) echo "train-default-models: unknown kind $kind" >&2; exit 1 ;;
  esac
done
