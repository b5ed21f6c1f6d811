#!/usr/bin/env bash
# Version safety: an archive or a model with a newer format version or a
# newer arithmetic version is refused with one line naming both versions
# (the file's and this lmz's), before anything else in it is trusted; so is
# an unknown checksum algorithm. The version attributes are not under lmz's
# checksums (docs/format.md, "Versions"), so h5py can craft such files
# directly. Skipped (77) without h5py.
source "$(dirname "$0")/lib/common.bash"
if ! python3 -c 'import h5py' 2>/dev/null; then echo "skip: h5py missing"; exit 77; fi
M="-m random-tiny -q"
G=$LMZ_SOURCE_DIR/tests/golden/v1

# set_attr FILE [GROUP:]NAME VALUE [u32|str|vlen|del]: rewrite one attribute
set_attr() {
  python3 - "$@" <<'PY'
import sys, h5py, numpy as np
path, name, value = sys.argv[1:4]
kind = sys.argv[4] if len(sys.argv) > 4 else "u32"
group, _, name = name.rpartition(":")
with h5py.File(path, "r+") as f:
    a = (f[group] if group else f).attrs
    if kind == "u32":
        a.modify(name, np.uint32(int(value)))
    elif kind == "del":
        del a[name]
    else:
        if name in a:
            del a[name]
        # np.bytes_: a fixed-length string, as lmz writes; str: h5py's
        # variable-length string
        a[name] = np.bytes_(value.encode()) if kind == "str" else value
PY
}

"$SAMPLE" random-tiny 20000 4 in.bin 3
expect_ok "compress" "$LMZ" compress $M in.bin -o good.lmz
"$LMZ" version | grep -q "archive format 2, arithmetic version 1" && ok "lmz version names both versions" ||
  fail "lmz version: $("$LMZ" version)"
# Format 2 adds the classical block modes; an archive without them (this
# one: model-sampled bytes) still says format 1, as a format-1 reader needs.
"$LMZ" list good.lmz | grep -q "^format: *lmz 1," && ok "no classical block: format 1" ||
  fail "format of good.lmz: $("$LMZ" list good.lmz | grep format)"

# --- archives
cp good.lmz fmt3.lmz; set_attr fmt3.lmz format_version 3
for cmd in list verify decompress; do
  expect_fail "format_version 3: $cmd" "archive format version 3 is newer than this lmz supports \(2\)" \
    "$LMZ" $cmd $M fmt3.lmz
done
[[ -e in.bin.out ]] && fail "output written for a newer archive"
expect_fail "format_version 3: extract" "format version 3 is newer.*\(2\)" "$LMZ" extract $M fmt3.lmz --block 0 -o x.out
[[ -e x.out ]] && fail "extract wrote output for a newer archive"
# Format 2 readers read format 1 archives labelled 2 (the layout is the same).
cp good.lmz fmt2.lmz; set_attr fmt2.lmz format_version 2
expect_ok "format_version 2 without classical blocks" "$LMZ" decompress $M -c fmt2.lmz
same "format 2 label decodes" in.bin out.log

# A newer format may lay the rest out differently: the version is checked
# before anything else, so a missing attribute is not what is reported.
cp fmt3.lmz fmt3-other.lmz; set_attr fmt3-other.lmz nmembers 0 del; set_attr fmt3-other.lmz chunk_size 0 del
expect_fail "format_version 3, other layout" "format version 3 is newer" "$LMZ" list fmt3-other.lmz

cp good.lmz arith2.lmz; set_attr arith2.lmz arith_version 2
expect_fail "arith_version 2: decompress" "archive arithmetic version 2 is newer than this lmz supports \(1\)" \
  "$LMZ" decompress $M arith2.lmz -o a.out
expect_fail "arith_version 2: list" "arithmetic version 2 is newer.*\(1\)" "$LMZ" list arith2.lmz
[[ -e a.out ]] && fail "output written for a newer arithmetic version"

cp good.lmz arith9.lmz; set_attr arith9.lmz arith_version 4000000000
expect_fail "arith_version 4000000000" "arithmetic version 4000000000 is newer.*\(1\)" "$LMZ" list arith9.lmz

cp good.lmz sum.lmz; set_attr sum.lmz checksum XXH3 str
expect_fail "unknown checksum algorithm" "checksum algorithm 'XXH3' is not supported.*XXH64" "$LMZ" list sum.lmz

# Older versions are not in use yet: 0 is not a version.
cp good.lmz fmt0.lmz; set_attr fmt0.lmz format_version 0
expect_fail "format_version 0" "format_version" "$LMZ" list fmt0.lmz

# --- model files
cp "$G/tiny.lmzm" m-fmt2.lmzm; set_attr m-fmt2.lmzm format_version 2
expect_fail "model format_version 2: compress -m" "model file format version 2 is newer than this lmz supports \(1\)" \
  "$LMZ" compress -q -m m-fmt2.lmzm in.bin -o mf.lmz
[[ -e mf.lmz ]] && fail "archive written with a newer model"
cp "$G/tiny.lmzm" m-ar2.lmzm; set_attr m-ar2.lmzm arith_version 2
expect_fail "model arith_version 2: compress -m" "model arithmetic version 2 is newer than this lmz supports \(1\)" \
  "$LMZ" compress -q -m m-ar2.lmzm in.bin -o ma.lmz
expect_fail "model arith_version 2: decompress -m" "model arithmetic version 2 is newer.*\(1\)" \
  "$LMZ" decompress -q -m m-ar2.lmzm good.lmz -o ma.out
[[ -e ma.lmz || -e ma.out ]] && fail "output written with a newer model"

# A model embedded in an archive, and a shipped model found by its hash.
cp "$G/sampled-embedded.lmz" emb.lmz; set_attr emb.lmz model:arith_version 2
expect_fail "embedded model arith_version 2" "model arithmetic version 2 is newer.*\(1\)" \
  "$LMZ" decompress -q emb.lmz -o e.out
[[ -e e.out ]] && fail "output written with a newer embedded model"
mkdir models; cp "$G/tiny.lmzm" models/mine.lmzm
expect_ok "compress with a shipped model" "$LMZ" compress -q --model-dir models -m mine in.bin -o ship.lmz
set_attr models/mine.lmzm format_version 3
expect_fail "shipped model format_version 3" "model file format version 3 is newer.*\(1\)" \
  "$LMZ" decompress -q --model-dir models ship.lmz -o s.out
[[ -e s.out ]] && fail "output written with a newer shipped model"

# A string attribute rewritten by h5py's default (a variable-length string,
# in HDF5's unchecksummed global heap) is refused, never read
# (docs/hdf5-crashes.md); as a fixed-length string it is fine.
cp good.lmz vlen.lmz; set_attr vlen.lmz kind bytes vlen
expect_fail "variable-length string attribute" "kind" "$LMZ" list vlen.lmz
cp good.lmz fixed.lmz; set_attr fixed.lmz kind bytes str
expect_ok "fixed-length string attribute from h5py" "$LMZ" list fixed.lmz
grep -q "kind: *bytes" out.log && ok "kind read back" || fail "kind not read back: $(cat out.log)"
no_tmp_left .
finish
