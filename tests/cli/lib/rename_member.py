"""Copy an lmz archive, renaming its first member to NAME and fixing the
members checksum, as a hostile archive would. Test tool only.

usage: rename_member.py IN OUT NAME"""
import shutil
import struct
import sys

import h5py
import numpy as np

P1, P2, P3, P4, P5 = (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                      0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5)
M64 = (1 << 64) - 1


def rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M64


def rnd(acc, lane):
    return (rotl((acc + lane * P2) & M64, 31) * P1) & M64


def merge(acc, v):
    return ((acc ^ rnd(0, v)) * P1 + P4) & M64


def xxh64(data, seed=0):
    """Plain-Python XXH64 (the archive's checksum), from the public spec."""
    n, i = len(data), 0
    if n >= 32:
        v = [(seed + P1 + P2) & M64, (seed + P2) & M64, seed, (seed - P1) & M64]
        while i + 32 <= n:
            for k in range(4):
                v[k] = rnd(v[k], struct.unpack_from("<Q", data, i + 8 * k)[0])
            i += 32
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & M64
        for k in range(4):
            h = merge(h, v[k])
    else:
        h = (seed + P5) & M64
    h = (h + n) & M64
    while i + 8 <= n:
        h = ((rotl(h ^ rnd(0, struct.unpack_from("<Q", data, i)[0]), 27) * P1) + P4) & M64
        i += 8
    if i + 4 <= n:
        h = ((rotl(h ^ (struct.unpack_from("<I", data, i)[0] * P1 & M64), 23) * P2) + P3) & M64
        i += 4
    while i < n:
        h = (rotl(h ^ (data[i] * P5 & M64), 11) * P1) & M64
        i += 1
    h ^= h >> 33
    h = (h * P2) & M64
    h ^= h >> 29
    h = (h * P3) & M64
    h ^= h >> 32
    return h


def main():
    src, dst, name = sys.argv[1:4]
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        rows = f["members"][()]
        blob = f["member_names"][()].tobytes()
        names = [blob[int(r["name_offset"]):int(r["name_offset"]) + int(r["name_len"])] for r in rows]
        names[0] = name.encode()
        new = rows.copy()
        pos = 0
        for k in range(len(new)):
            new[k]["name_offset"], new[k]["name_len"] = pos, len(names[k])
            pos += len(names[k])
        del f["members"]
        del f["member_names"]
        f.create_dataset("members", data=new)
        f.create_dataset("member_names", data=np.frombuffer(b"".join(names), dtype=np.uint8))
        digest = b"".join(struct.pack("<I", len(nb)) + nb +
                          struct.pack("<QQI", int(r["offset"]), int(r["size"]), int(r["mode"]))
                          for nb, r in zip(names, new))
        f.attrs.modify("members_xxh64", np.uint64(xxh64(digest)))


if __name__ == "__main__":
    main()
