#!/usr/bin/env bash
# --batch on the reading commands: decompress, extract and verify --full
# decode a read-ahead window of N blocks per backend call. Whatever N, the
# output is the same bytes in the same order; a damaged block in the middle
# of a window is named alone and its neighbours in that window decode
# (salvage writes every other block); nonsense values are refused. Also
# train's --device (CUDA training is not built: a clear refusal).
LIB=$(readlink -f "$(dirname "$0")/lib")
source "$LIB/common.bash"
M="-m random-tiny -q"
# small: random-tiny decodes ~50 KB/s, and the sanitizer run is slower
if [[ -n ${LMZ_TEST_QUICK:-} ]]; then NA=13000 NB_=10000 NC=2000; else NA=22000 NB_=9000 NC=7000; fi
"$SAMPLE" random-tiny $NA 5 a.bin 3     # range-coded
head -c $NB_ /dev/urandom >b.bin        # stored
"$SAMPLE" random-tiny $NC 6 c.bin 3     # coded again, after stored blocks
cat a.bin b.bin c.bin >all.bin
ALL=$((NA + NB_ + NC))
BS=4096                                 # --block-chunks 2
expect_ok "compress" "$LMZ" compress $M --block-chunks 2 a.bin b.bin c.bin -o x.lmz
NB=$("$LMZ" list x.lmz | awk '/^chunks:/ {print $7}')
((NB >= 7)) && ok "$NB blocks" || fail "only $NB blocks"
expect_ok "compress --batch 7" "$LMZ" compress $M --batch 7 --block-chunks 2 a.bin b.bin c.bin -o x7.lmz
same "compress: --batch does not change the archive" x.lmz x7.lmz

for n in 1 2 7; do
  expect_ok "decompress --batch $n" "$LMZ" decompress $M --batch $n x.lmz -o d$n
  for f in a.bin b.bin c.bin; do same "decompress --batch $n: $f" $f d$n/$f; done
  "$LMZ" decompress $M --batch $n -c x.lmz >c$n.out 2>err.log || fail "decompress -c --batch $n: $(cat err.log)"
  same "decompress -c --batch $n" all.bin c$n.out
  expect_ok "verify --full --batch $n" "$LMZ" verify $M --full --batch $n x.lmz
  # a range across many blocks and all three members, cut inside blocks
  off=1000; len=$((NA + NB_ + NC / 2 - off))
  "$LMZ" extract $M --batch $n x.lmz --range $off:$len -c >r$n.out 2>err.log ||
    fail "extract --range --batch $n: $(cat err.log)"
  dd if=all.bin bs=1 skip=$off count=$len status=none >r.want
  same "extract --range $off:$len --batch $n" r.want r$n.out
  expect_ok "extract --member b.bin --batch $n" "$LMZ" extract $M --batch $n x.lmz --member b.bin -o mb$n.out
  same "extract --member b.bin --batch $n" b.bin mb$n.out
done
expect_ok "--batch larger than the archive" "$LMZ" decompress $M --batch 65536 -c x.lmz
same "--batch 65536" all.bin out.log

# Damage in the middle of a window of 7 (blocks 0..6): block 3's payload.
poff() { "$LMZ" list -v x.lmz | awk -v b="$1" '$1 == b {print $4}'; }
cp x.lmz bad.lmz
"$CORRUPT" bad.lmz payload $(( $(poff 3) + 30 )) || fail "corrupt tool"
for n in 1 7; do
  expect_fail "verify --full --batch $n: block 3 alone" "1 of $NB blocks damaged.*block 3" \
    "$LMZ" verify $M --full --batch $n bad.lmz
  [[ $(grep -c '^damaged:' out.log) -eq 1 ]] && grep -q "block 3: payload checksum" out.log &&
    ok "verify --batch $n reports block 3 only" || fail "verify --batch $n report: $(cat out.log)"
  expect_fail "decompress --salvage --batch $n" "1 of $NB blocks damaged \(first: block 3\)" \
    "$LMZ" decompress $M --salvage --batch $n bad.lmz -o s$n
  python3 - s$n.want <<'PY'
import sys
d = bytearray(open("all.bin", "rb").read()); d[3 * 4096:4 * 4096] = bytes(4096)
open(sys.argv[1], "wb").write(d)
PY
  cat s$n/a.bin s$n/b.bin s$n/c.bin >s$n.all
  same "salvage --batch $n: every other block written, block 3 zeros" s$n.want s$n.all
  [[ $(grep -c '^damaged:' out.log) -eq 1 ]] && grep -q '^damaged: block 3 ' out.log &&
    ok "salvage --batch $n names block 3 alone" || fail "salvage --batch $n report: $(cat out.log)"
  expect_fail "decompress --batch $n stops at block 3" "block 3" "$LMZ" decompress $M --batch $n bad.lmz -o p$n
  [[ -e p$n/a.bin ]] && fail "partial a.bin written"
  expect_fail "extract across block 3, --batch $n" "block 3" \
    "$LMZ" extract $M --batch $n bad.lmz --range 0:$((6 * BS)) -o e$n.out
  [[ -e e$n.out ]] && fail "extract left e$n.out"
  # its neighbours in the same window are intact
  expect_ok "extract blocks 4.. next to it, --batch $n" "$LMZ" extract $M --batch $n bad.lmz \
    --range $((4 * BS)):$((ALL - 4 * BS)) -o n$n.out
  tail -c +$((4 * BS + 1)) all.bin >n.want
  same "blocks 4.. of a damaged archive, --batch $n" n.want n$n.out
done

# A block that decodes to wrong bytes (payload checksum forged) next to a
# block with a bad payload, both in one window: each named on its own.
if python3 -c 'import h5py' 2>/dev/null; then
  cp bad.lmz forged.lmz
  python3 "$LIB/forge_block.py" forged.lmz 5 $((1 + 2 * 2 + 12)) || fail "forging" # inside the first chunk's stream
  expect_fail "verify --full --batch 7: two damaged" "2 of $NB blocks damaged" \
    "$LMZ" verify $M --full --batch 7 forged.lmz
  grep -q "block 3: payload checksum" out.log && grep -q "block 5: decoded bytes fail the raw checksum" out.log &&
    [[ $(grep -c '^damaged:' out.log) -eq 2 ]] && ok "verify names blocks 3 and 5" || fail "verify: $(cat out.log)"
  "$LMZ" decompress $M --salvage --batch 7 -c forged.lmz >out.log 2>err.log
  rc=$?
  [[ $rc -eq 1 && $(grep -c '^damaged: block [35] ' err.log) -eq 2 ]] && grep -q "2 of $NB blocks damaged" err.log &&
    ok "salvage --batch 7 names blocks 3 and 5" || fail "salvage --batch 7 (exit $rc): $(cat err.log)"
  python3 - f.want <<'PY'
import sys
d = bytearray(open("all.bin", "rb").read())
for b in (3, 5): d[b * 4096:(b + 1) * 4096] = bytes(4096)
open(sys.argv[1], "wb").write(d)
PY
  same "salvage --batch 7: blocks 3 and 5 zeros, the rest intact" f.want out.log
  expect_ok "extract block 4 between them" "$LMZ" extract $M --batch 7 forged.lmz --range $((4 * BS)):$BS -o b4.out
  dd if=all.bin bs=1 skip=$((4 * BS)) count=$BS status=none >b4.want
  same "block 4 between two damaged blocks" b4.want b4.out
else
  echo "skip: h5py missing, the forged-checksum case is not run"
fi

# Nonsense --batch values: one clear line, exit 1, nothing written.
for v in 0 -1 abc 99999999999999999999 4294967297 65537 2x ""; do
  expect_fail "decompress --batch '$v'" "batch wants a number of blocks from 1 to 65536" \
    "$LMZ" decompress $M --batch "$v" x.lmz -o z
  [[ -e z ]] && fail "output written for --batch '$v'"
done
for v in 0 abc 70000; do
  expect_fail "extract --batch '$v'" "batch wants" "$LMZ" extract $M --batch "$v" x.lmz --block 0 -o z.out
  expect_fail "verify --batch '$v'" "batch wants" "$LMZ" verify $M --full --batch "$v" x.lmz
  expect_fail "compress --batch '$v'" "batch wants" "$LMZ" compress $M --batch "$v" a.bin -o z.lmz
done
[[ -e z.out || -e z.lmz ]] && fail "output written for a bad --batch"

# train --device cuda: without a device (or in a build without CUDA) it is
# refused in one line before anything is written; with one it trains.
if "$LMZ" train -q a.bin -o t.lmzm --steps 1 --batch 512 --ctx 64 --device cuda 2>cuda.err; then
  [[ -s t.lmzm ]] && ok "train --device cuda trained (a device is present)" \
    || fail "train --device cuda succeeded but wrote no model"
  rm -f t.lmzm
else
  if [[ $(wc -l <cuda.err) -eq 1 ]] &&
    grep -Eq "^lmz train: --device cuda: (no CUDA device to train on|this lmz was built without CUDA)" cuda.err; then
    ok "train --device cuda refused in one line: $(cat cuda.err)"
  else
    fail "train --device cuda: unexpected failure: $(cat cuda.err)"
  fi
  [[ -e t.lmzm ]] && fail "train --device cuda wrote a model"
fi
expect_fail "train --device bogus" "unknown --device 'gpu'" "$LMZ" train a.bin -o t.lmzm --steps 1 --device gpu
"$LMZ" train --help | grep -q -- "--device" && ok "train --help names --device" || fail "train --help lacks --device"
finish
