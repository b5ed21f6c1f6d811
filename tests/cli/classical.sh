#!/usr/bin/env bash
# The classical fallback (docs/format.md, "Blocks", modes 2 and 3): with
# --codec auto (the default) each block keeps the smallest of the model's
# form, LZMA2 and zstd, stored as the last resort. On an input of
# model-predictable bytes, then repetitive JSON log lines, then random bytes,
# all three kinds occur; the archive round-trips, extracts across the edges
# between kinds, verifies, names a damaged classical block alone, and is
# byte-identical for any -T. --codec lm keeps format 1 and no classical
# block; --codec zstd|lzma2 code every block with that codec.
source "$(dirname "$0")/lib/common.bash"
M="-m random-tiny -q"
if [[ -n ${LMZ_TEST_QUICK:-} ]]; then NS=24000 NJ=40000; else NS=40000 NJ=90000; fi
"$SAMPLE" random-tiny $NS 21 s.bin 3          # the model codes these best
python3 - $NJ >j.json <<'PY'
import sys
n, out, k = int(sys.argv[1]), [], 0
while sum(map(len, out)) < n:
    out.append('{"ts": "2026-12-01T10:%02d:%02d", "level": "INFO", "svc": "api", "status": 200, "id": %d}\n'
               % (k // 60 % 60, k % 60, k % 17))
    k += 1
sys.stdout.write("".join(out)[:n])
PY
head -c 12000 /dev/urandom >r.bin             # nothing shrinks it
cat s.bin j.json r.bin >all.bin
BS=8192
expect_ok "compress --codec auto" "$LMZ" compress $M --block-chunks 4 s.bin j.json r.bin -o x.lmz
expect_ok "list -v" "$LMZ" list -v x.lmz
cp out.log list.txt
count() { awk -v m="$1" '$1 == m && $3 == "blocks" {print $2}' list.txt; }
NMODEL=$(count model) NLZ=$(count lzma2) NZS=$(count zstd) NST=$(count stored)
[[ ${NMODEL:-0} -ge 1 ]] && ok "model blocks: $NMODEL" || fail "no model block: $(cat list.txt)"
[[ $((${NLZ:-0} + ${NZS:-0})) -ge 1 ]] && ok "classical blocks: lzma2 $NLZ, zstd $NZS" ||
  fail "no classical block: $(cat list.txt)"
[[ ${NST:-0} -ge 1 ]] && ok "stored blocks: $NST" || fail "no stored block: $(cat list.txt)"
grep -q "^format: *lmz 2," list.txt && ok "a classical block makes format 2" ||
  fail "format line: $(grep format list.txt)"
mode_of() { awk -v b="$1" '$1 == b && NF == 7 {print $7}' list.txt; }
poff() { awk -v b="$1" '$1 == b && NF == 7 {print $4}' list.txt; }
NB=$(awk '/^chunks:/ {print $7}' list.txt)
# the first block of each kind after a block of another kind: its edges
CL=""; for ((b = 0; b < NB; b++)); do m=$(mode_of $b); [[ $m == lzma2 || $m == zstd ]] && { CL=$b; break; }; done
[[ -n $CL && $CL -ge 1 ]] && [[ $(mode_of $((CL - 1))) == model ]] && ok "block $CL is classical after a model block" ||
  fail "no classical block after a model block (CL=$CL)"

expect_ok "decompress" "$LMZ" decompress $M -c x.lmz
same "round trip" all.bin out.log
slice() { dd if=all.bin bs=1 skip=$1 count=$2 status=none; }
for blk in $((CL - 1)) $CL $((NB - 1)); do
  expect_ok "extract block $blk ($(mode_of $blk))" "$LMZ" extract $M x.lmz --block $blk -o b$blk.out
  len=$(( $(stat -c %s all.bin) - blk * BS )); ((len > BS)) && len=$BS
  slice $((blk * BS)) $len >b$blk.want
  same "block $blk" b$blk.want b$blk.out
done
E=$((CL * BS))   # the model -> classical edge, and ranges inside the classical block
for r in $((E - 3)):7 $((E - 5000)):9000 $((E + 100)):50 $((E + BS - 1)):2 $((E - 1)):$((2 * BS + 2)); do
  off=${r%%:*}; len=${r##*:}
  "$LMZ" extract $M x.lmz --range $r -c >r.out 2>err.log || fail "extract --range $r: $(cat err.log)"
  slice $off $len >r.want
  same "range $r across the edge" r.want r.out
done
expect_ok "verify" "$LMZ" verify x.lmz
grep -q "OK, $NB blocks checked" err.log && ok "verify checks every block" || fail "verify: $(cat err.log)"
expect_ok "verify --full" "$LMZ" verify $M --full x.lmz

# Determinism: the classical codecs too give the same bytes for any -T.
expect_ok "-T 1" "$LMZ" compress $M -T 1 --block-chunks 4 s.bin j.json r.bin -o t1.lmz
expect_ok "-T 2 --batch 1" "$LMZ" compress $M -T 2 --batch 1 --block-chunks 4 s.bin j.json r.bin -o t2.lmz
same "archive bytes -T 1 vs -T 2" t1.lmz t2.lmz
same "archive bytes -T 1 vs default" t1.lmz x.lmz

# Damage one classical block: it alone is named, its neighbours still decode.
cp x.lmz d.lmz
"$CORRUPT" d.lmz payload $(( $(poff $CL) + 5 )) || fail "corrupt tool"
expect_fail "verify a damaged classical block" "1 of $NB blocks damaged.*block $CL" "$LMZ" verify d.lmz
[[ $(grep -c '^damaged:' out.log) -eq 1 ]] && grep -q "block $CL:" out.log && ok "only block $CL reported" ||
  fail "verify report: $(cat out.log)"
expect_fail "extract the damaged block" "block $CL" "$LMZ" extract $M d.lmz --block $CL -o dcl.out
[[ -e dcl.out ]] && fail "partial output for a damaged classical block"
expect_ok "block before it" "$LMZ" extract $M d.lmz --block $((CL - 1)) -o dm.out
same "block $((CL - 1)) after damage" b$((CL - 1)).want dm.out
expect_ok "block after it" "$LMZ" extract $M d.lmz --block $((CL + 1)) -o dn.out
slice $(((CL + 1) * BS)) $BS >dn.want; same "block $((CL + 1)) after damage" dn.want dn.out
"$LMZ" decompress $M --salvage d.lmz -o salv >sv.log 2>err.log
[[ $? -eq 1 ]] && grep -q "damaged: block $CL " sv.log && ok "salvage names block $CL" ||
  fail "salvage: $(cat sv.log err.log)"

# --codec lm: the model only, format 1 (what the paper's protocol measures).
expect_ok "--codec lm" "$LMZ" compress $M --codec lm --block-chunks 4 s.bin j.json r.bin -o lm.lmz
"$LMZ" list -v lm.lmz >lm.txt
grep -q "^format: *lmz 1," lm.txt && ok "--codec lm writes format 1" || fail "lm format: $(grep format lm.txt)"
awk '($1 == "lzma2" || $1 == "zstd") && $3 == "blocks" && $2 != 0 {bad = 1} END {exit bad}' lm.txt &&
  ok "--codec lm has no classical block" || fail "classical block with --codec lm"
expect_ok "decompress --codec lm archive" "$LMZ" decompress $M -c lm.lmz
same "lm round trip" all.bin out.log
[[ $(stat -c %s x.lmz) -lt $(stat -c %s lm.lmz) ]] && ok "auto is smaller than lm" ||
  fail "auto $(stat -c %s x.lmz) not below lm $(stat -c %s lm.lmz)"

# --codec zstd / lzma2: that codec for every block it shrinks, stored else.
for c in zstd lzma2; do
  expect_ok "--codec $c" "$LMZ" compress $M --codec $c --block-chunks 4 s.bin j.json r.bin -o $c.lmz
  "$LMZ" list -v $c.lmz >$c.txt
  awk -v c=$c '$3 == "blocks" && $1 != c && $1 != "stored" && $2 != 0 {bad = 1} END {exit bad}' $c.txt &&
    awk -v c=$c '$1 == c && $3 == "blocks" && $2 > 0 {good = 1} END {exit !good}' $c.txt &&
    ok "--codec $c: only $c and stored blocks" || fail "--codec $c modes: $(tail -5 $c.txt)"
  expect_ok "decompress --codec $c archive" "$LMZ" decompress $M -c $c.lmz
  same "$c round trip" all.bin out.log
done
expect_fail "unknown codec" "unknown --codec 'brotli'" "$LMZ" compress $M --codec brotli s.bin -o no.lmz
expect_fail "--codec outside compress" "codec is an option of compress" "$LMZ" list --codec zstd x.lmz
[[ -e no.lmz ]] && fail "archive written for a bad --codec"

# A classical block in an archive that says format 1 is damaged (format 1
# has no such mode); h5py rewrites the attribute (not under the checksums).
if python3 -c 'import h5py' 2>/dev/null; then
  cp x.lmz f1.lmz
  python3 -c 'import sys, h5py, numpy as np; f = h5py.File(sys.argv[1], "r+"); f.attrs.modify("format_version", np.uint32(1))' f1.lmz
  expect_fail "classical block in a format 1 archive" "block $CL: .* block in a format 1 archive" \
    "$LMZ" extract $M f1.lmz --block $CL -o f1.out
  expect_ok "model block of that archive" "$LMZ" extract $M f1.lmz --block $((CL - 1)) -o f1m.out
else
  echo "skip: format 1 relabelling (no h5py)"
fi
no_tmp_left .
finish
