#!/usr/bin/env bash
# Damage reports: verify reports every damaged block (not just the first);
# decompress --salvage writes every intact block, writes each damaged
# block's bytes as zeros (members keep their size, intact bytes their
# offsets), names each damaged block with the member bytes it held, and
# exits 1. Without --salvage a damaged block stops decompress with no
# partial file.
source "$(dirname "$0")/lib/common.bash"
M="-m random-tiny -q"
# LMZ_TEST_QUICK (the sanitizer run): smaller members
if [[ -n ${LMZ_TEST_QUICK:-} ]]; then NA=30000 NB_=20000; else NA=70000 NB_=40000; fi
"$SAMPLE" random-tiny $NA 8 a.bin 3        # range-coded
head -c $NB_ /dev/urandom >b.bin           # stored
cat a.bin b.bin >all.bin
expect_ok "compress" "$LMZ" compress $M --block-chunks 2 a.bin b.bin -o good.lmz   # 4 KiB blocks
# damaged: block 3 (coded, in a.bin) and block KB, 3 blocks into b.bin (stored)
KB=$((NA / 4096 + 3))
range() { echo "$(($1 * 4096))..$((($1 + 1) * 4096 - 1))"; }
NB=$("$LMZ" list good.lmz | awk '/^chunks:/ {print $7}')
poff() { "$LMZ" list -v good.lmz | awk -v b="$1" '$1 == b {print $4}'; }

cp good.lmz bad.lmz
"$CORRUPT" bad.lmz payload $(( $(poff 3) + 40 )) || fail "corrupt tool"
"$CORRUPT" bad.lmz payload $(( $(poff $KB) + 7 )) || fail "corrupt tool"

# verify: both blocks on stdout, one summary line on stderr.
expect_fail "verify a damaged archive" "2 of $NB blocks damaged" "$LMZ" verify bad.lmz
grep -q "block 3: payload checksum mismatch" out.log && grep -q "block $KB: payload checksum mismatch" out.log &&
  [[ $(grep -c '^damaged:' out.log) -eq 2 ]] && ok "verify reports both damaged blocks" ||
  fail "verify report: $(cat out.log)"

# Without --salvage: stops at the first damaged block, no partial file.
expect_fail "decompress a damaged archive" "block 3" "$LMZ" decompress $M bad.lmz -o plain
[[ -e plain/a.bin ]] && fail "partial a.bin written without --salvage"
no_tmp_left plain 2>/dev/null || true

# The expected salvage: the input with blocks 3 and KB zeroed.
zeroed() { # zeroed OUT BLOCK...: all.bin with those blocks' raw bytes zero
  python3 - "$@" <<'PY'
import sys
out, blocks = sys.argv[1], [int(b) for b in sys.argv[2:]]
data = bytearray(open("all.bin", "rb").read())
for b in blocks:
    data[b * 4096:(b + 1) * 4096] = bytes(len(data[b * 4096:(b + 1) * 4096]))
open(out, "wb").write(data)
PY
}
zeroed want.bin 3 $KB
head -c $NA want.bin >want-a.bin; tail -c $NB_ want.bin >want-b.bin

expect_fail "decompress --salvage" "2 of $NB blocks damaged.*zeros" "$LMZ" decompress $M --salvage bad.lmz -o sal
same "salvaged a.bin: intact bytes kept, block 3 zeros" want-a.bin sal/a.bin
same "salvaged b.bin: intact bytes kept, block $KB zeros" want-b.bin sal/b.bin
grep -q "^damaged: block 3 (raw bytes 12288..16383) written as zeros: a.bin bytes 12288..16383 (.*payload checksum mismatch)" out.log &&
  ok "block 3 named with its member range" || fail "salvage report for block 3: $(cat out.log)"
bo=$((KB * 4096 - NA))
grep -q "^damaged: block $KB (raw bytes $(range $KB)) written as zeros: b.bin bytes $bo..$((bo + 4095))" out.log &&
  ok "block $KB named with its member range" || fail "salvage report for block $KB: $(cat out.log)"
[[ $(grep -c '^damaged:' out.log) -eq 2 ]] && ok "two damaged blocks reported" || fail "report: $(cat out.log)"
no_tmp_left sal

# --salvage -c: the whole stream on stdout, the report on stderr.
"$LMZ" decompress $M --salvage -c bad.lmz >sal.cat 2>err.log
rc=$?
[[ $rc -eq 1 ]] && ok "--salvage -c exits 1" || fail "--salvage -c exit $rc"
same "--salvage -c stream" want.bin sal.cat
[[ $(grep -c '^damaged: block' err.log) -eq 2 ]] && grep -q "2 of $NB blocks damaged" err.log &&
  ok "--salvage -c reports on stderr" || fail "--salvage -c report: $(cat err.log)"

# A block damaged so that its payload checksum still holds (a forger, or a
# bug): it decodes to wrong bytes, which the raw checksum catches; salvage
# writes zeros, never the wrong bytes.
if python3 -c 'import h5py' 2>/dev/null; then
  cp good.lmz forged.lmz
  python3 "$LMZ_SOURCE_DIR/tests/cli/lib/forge_block.py" forged.lmz 5 20 || fail "forging" # inside the first chunk's stream
  expect_ok "verify: payload checksums hold" "$LMZ" verify forged.lmz
  expect_fail "verify --full: block 5's raw checksum" "block 5.*raw checksum" "$LMZ" verify $M --full forged.lmz
  grep -q "^damaged: .*block 5" out.log && ok "verify --full names block 5" || fail "verify --full: $(cat out.log)"
  zeroed want5.bin 5; head -c $NA want5.bin >want5-a.bin
  expect_fail "salvage a wrongly decoding block" "1 of $NB blocks damaged" "$LMZ" decompress $M --salvage forged.lmz -o sal5
  same "wrong bytes are never handed back" want5-a.bin sal5/a.bin
  same "the other member intact" b.bin sal5/b.bin
else
  echo "skip: h5py missing, the forged-checksum case is not run"
fi

# Nothing to salvage: same as a plain decompress, exit 0, no report.
expect_ok "--salvage on an intact archive" "$LMZ" decompress $M --salvage good.lmz -o ok
same "intact a.bin" a.bin ok/a.bin
same "intact b.bin" b.bin ok/b.bin
[[ -s out.log ]] && fail "report for an intact archive: $(cat out.log)"

# Index damage cannot be salvaged block by block: refused, nothing written.
cp good.lmz idx.lmz; "$CORRUPT" idx.lmz index 45
expect_fail "--salvage with a damaged index" "index" "$LMZ" decompress $M --salvage idx.lmz -o idx
[[ -e idx ]] && fail "output written for a damaged index"
expect_fail "--salvage is decompress's" "salvage" "$LMZ" extract $M --salvage good.lmz --block 0 -o z.out
finish
