#!/usr/bin/env bash
# h5dump -H and h5py read the archive's structure as docs/format.md says.
source "$(dirname "$0")/lib/common.bash"
"$SAMPLE" random-tiny 50000 9 s.bin 3
echo "some text" >t.txt
expect_ok "compress" "$LMZ" compress -q -m random-tiny s.bin t.txt -o a.lmz
if ! command -v h5dump >/dev/null; then echo "h5dump missing"; exit 77; fi
h5dump -H a.lmz >h.txt 2>&1 || fail "h5dump -H failed: $(head -5 h.txt)"
for want in 'DATASET "payload"' 'DATASET "index"' 'DATASET "members"' 'DATASET "member_names"' \
            'ATTRIBUTE "format"' 'ATTRIBUTE "format_version"' 'ATTRIBUTE "arith_version"' \
            'ATTRIBUTE "chunk_size"' 'ATTRIBUTE "chunks_per_block"' 'ATTRIBUTE "kind"' \
            'ATTRIBUTE "raw_size"' 'ATTRIBUTE "model_hash"' 'ATTRIBUTE "tool_version"' \
            'ATTRIBUTE "checksum"' 'ATTRIBUTE "index_xxh64"' \
            '"raw_offset"' '"raw_len"' '"payload_offset"' '"payload_len"' '"payload_xxh64"' '"raw_xxh64"'; do
  grep -qF "$want" h.txt && ok "h5dump shows $want" || fail "h5dump -H lacks $want"
done
if python3 -c 'import h5py' 2>/dev/null; then
  python3 - a.lmz s.bin t.txt <<'PY' || fail "h5py check"
import sys, h5py, numpy as np
a, s, t = sys.argv[1:4]
raw = open(s, "rb").read() + open(t, "rb").read()
with h5py.File(a, "r") as f:
    at = f.attrs
    assert at["format"] in (b"lmz", "lmz"), at["format"]
    assert int(at["format_version"]) == 1
    assert int(at["chunk_size"]) == 2048
    assert int(at["raw_size"]) == len(raw)
    idx = f["index"][()]
    assert int(idx["raw_len"].sum()) == len(raw)
    assert int(idx["payload_len"].sum()) == f["payload"].shape[0] == int(at["payload_size"])
    assert (idx["raw_offset"][1:] == np.cumsum(idx["raw_len"])[:-1]).all()
    m = f["members"][()]
    blob = f["member_names"][()].tobytes()
    names = [blob[int(r["name_offset"]):int(r["name_offset"]) + int(r["name_len"])].decode() for r in m]
    assert names == ["s.bin", "t.txt"], names
    assert list(m["size"]) == [50000, 10]
    # a block stored raw (mode byte 1) holds the input bytes verbatim
    pay = f["payload"][()]
    for r in idx:
        blk = pay[r["payload_offset"]: r["payload_offset"] + r["payload_len"]]
        if blk[0] == 1:
            assert bytes(blk[1:]) == raw[r["raw_offset"]: r["raw_offset"] + r["raw_len"]]
print("h5py: structure as documented")
PY
else
  echo "skip: h5py not installed (the h5dump part ran)"
fi
finish
