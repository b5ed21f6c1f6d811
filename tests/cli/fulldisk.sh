#!/usr/bin/env bash
# A full disk: compress, decompress and extract onto a 64 KiB tmpfs fail with
# one clear line (exit 1) and leave no output and no temporary file there;
# an existing file is untouched. Needs to mount a tmpfs (root); skipped (77)
# where that is not permitted.
source "$(dirname "$0")/lib/common.bash"
M="-m random-tiny -q -T 1"
MNT=$WORK/full
mkdir "$MNT"
if ! mount -t tmpfs -o size=64k,mode=0777 tmpfs "$MNT" 2>/dev/null; then
  echo "skip: cannot mount a tmpfs here (not root?)"
  exit 77
fi
trap 'umount "$MNT" 2>/dev/null; rm -rf "$WORK"' EXIT

if [[ -n ${LMZ_TEST_QUICK:-} ]]; then N=70000; else N=200000; fi
head -c $N /dev/urandom >r.bin
expect_ok "compress (not on the full disk)" "$LMZ" compress $M r.bin -o r.lmz

expect_fail "compress onto a full disk" "full.*(No space left|write failed)" \
  "$LMZ" compress $M r.bin -o "$MNT/a.lmz"
[[ -e $MNT/a.lmz ]] && fail "partial archive left on the full disk"
no_tmp_left "$MNT"

expect_fail "decompress onto a full disk" "No space left" "$LMZ" decompress $M r.lmz -o "$MNT/out.bin"
[[ -e $MNT/out.bin ]] && fail "partial output left on the full disk"
no_tmp_left "$MNT"

expect_fail "decompress into a directory on a full disk" "No space left" \
  "$LMZ" decompress $M r.lmz -o "$MNT/dir/"
[[ -e $MNT/dir/r.bin ]] && fail "partial member left on the full disk"
no_tmp_left "$MNT/dir"

expect_fail "extract onto a full disk" "No space left" \
  "$LMZ" extract $M r.lmz --range 0:$((N - 1)) -o "$MNT/x.bin"
[[ -e $MNT/x.bin ]] && fail "partial extract left on the full disk"
no_tmp_left "$MNT"

# -f onto an existing file on the full disk: the old file stays as it was.
echo keep >"$MNT/keep.bin"
expect_fail "decompress -f onto a full disk" "No space left" "$LMZ" decompress $M -f r.lmz -o "$MNT/keep.bin"
grep -qx keep "$MNT/keep.bin" && ok "existing file untouched" || fail "existing file changed"
no_tmp_left "$MNT"

# Standard output to a full disk: the error is named (what the shell wrote
# there is the shell's file, not lmz's).
"$LMZ" decompress $M -c r.lmz >"$MNT/stdout.bin" 2>err.log
rc=$?
if [[ $rc -eq 1 ]] && grep -q "stdout: write failed: No space left" err.log; then ok "decompress -c to a full disk: $(cat err.log)"
else fail "decompress -c to a full disk: exit $rc, $(cat err.log)"; fi
finish
