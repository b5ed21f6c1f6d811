#!/usr/bin/env bash
# Download the paper's datasets for users with internet (never run by the
# tests): enwik8 and enwik9 from Matt Mahoney's site, and LibriSpeech
# train-clean-100 from OpenSLR. ImageNet cannot be downloaded here: its terms
# require each user to get it from image-net.org; point the bench at your own
# copy (any directory of JPEG/PNG files, walked in name order).
#
# usage: scripts/fetch-datasets.sh [DIR] [--only enwik8,enwik9,librispeech]
#   DIR defaults to ./datasets-download. Safe to run again: finished
#   downloads are kept, partial ones resumed.
#
# Sizes: enwik8 36 MB zipped (100 MB), enwik9 322 MB zipped (1 GB),
# LibriSpeech train-clean-100 6.3 GB (about 28,500 FLAC files).
set -euo pipefail

dir=datasets-download
only=enwik8,enwik9,librispeech
while [[ $# -gt 0 ]]; do
  case $1 in
    --only) only=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) echo "fetch-datasets: unknown option $1" >&2; exit 1 ;;
    *) dir=$1; shift ;;
  esac
done
mkdir -p "$dir"
cd "$dir"

fetch() { # URL FILE: download with resume
  if command -v curl >/dev/null; then
    curl -fL --retry 3 -C - -o "$2" "$1"
  elif command -v wget >/dev/null; then
    wget -c -O "$2" "$1"
  else
    echo "fetch-datasets: need curl or wget" >&2; exit 1
  fi
}

want() { [[ ",$only," == *",$1,"* ]]; }

if { want enwik8 || want enwik9; } && ! command -v unzip >/dev/null; then
  echo "fetch-datasets: need unzip (Debian: apt-get install unzip)" >&2; exit 1
fi

# enwik8/enwik9: exact sizes are known, so a bad download is caught.
for name in enwik8 enwik9; do
  want "$name" || continue
  size=100000000; [[ $name == enwik9 ]] && size=1000000000
  if [[ -f $name && $(stat -c %s "$name") == "$size" ]]; then
    echo "fetch-datasets: $name already here" >&2; continue
  fi
  echo "fetch-datasets: downloading $name" >&2
  fetch "https://mattmahoney.net/dc/$name.zip" "$name.zip"
  unzip -o -q "$name.zip" "$name"
  [[ $(stat -c %s "$name") == "$size" ]] || { echo "fetch-datasets: $name has the wrong size" >&2; exit 1; }
  rm -f "$name.zip"
done

if want librispeech; then
  if [[ -d LibriSpeech/train-clean-100 && -f LibriSpeech/.train-clean-100.done ]]; then
    echo "fetch-datasets: LibriSpeech train-clean-100 already here" >&2
  else
    echo "fetch-datasets: downloading LibriSpeech train-clean-100 (6.3 GB)" >&2
    fetch "https://www.openslr.org/resources/12/train-clean-100.tar.gz" train-clean-100.tar.gz
    tar -xzf train-clean-100.tar.gz   # fails on a damaged archive
    touch LibriSpeech/.train-clean-100.done
    rm -f train-clean-100.tar.gz
  fi
fi

here=$(pwd)
cat >&2 <<MSG
fetch-datasets: done. ImageNet: use your own copy (e.g. the validation set).
Table 1 on the real data, 1 GB per modality (from the repository root):
  bench/paper.py --enwik9 $here/enwik9 --librispeech $here/LibriSpeech/train-clean-100 \\
                 --imagenet /path/to/imagenet/val --limit 1G
MSG
