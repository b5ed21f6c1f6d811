"""Damage block BLOCK of an lmz archive in place at byte AT of its payload
(XOR 0x41) and forge its payload checksum and the index checksum, so that
only the raw checksum can catch it, as a forger or a bug would. The block
must be coded (not stored). Test tool only.

usage: forge_block.py ARCHIVE BLOCK AT"""
import struct
import sys

import h5py
import numpy as np

from rename_member import xxh64


def main():
    path, b, at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with h5py.File(path, "r+") as f:
        idx = f["index"][()]
        r = idx[b]
        o, n = int(r["payload_offset"]), int(r["payload_len"])
        pay = f["payload"]
        blk = bytearray(pay[o:o + n].tobytes())
        assert blk[0] == 0, "block %d should be coded" % b
        blk[at] ^= 0x41
        pay[o:o + n] = np.frombuffer(bytes(blk), dtype=np.uint8)
        idx[b]["payload_xxh64"] = xxh64(bytes(blk))
        f["index"][b] = idx[b]
        rows = b"".join(struct.pack("<QIQIQQ", *(int(x[k]) for k in (
            "raw_offset", "raw_len", "payload_offset", "payload_len", "payload_xxh64",
            "raw_xxh64"))) for x in idx)
        f.attrs.modify("index_xxh64", np.uint64(xxh64(rows)))


if __name__ == "__main__":
    main()
