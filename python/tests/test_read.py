"""Reads equal the same slice of the original: random ranges across block and
member edges, zero length, past the end; members, blocks, read_into."""
import os
import random
import threading

import numpy as np
import pytest

import lmz


def edges(a):
    pts = {0, a.nbytes}
    for i in range(a.nblocks):
        bi = a.block_info(i)
        pts.update((bi.raw_offset, bi.raw_offset + bi.raw_len))
    for m in a.members:
        pts.update((m.offset, m.offset + m.size))
    return sorted(pts)


@pytest.mark.parametrize("cache_bytes", [0, 1 << 20, 3 * 2048 * 4])
def test_random_ranges(corpus, cache_bytes):
    path, _, raw = corpus
    rnd = random.Random(cache_bytes)
    with lmz.open(path, cache_bytes=cache_bytes) as a:
        assert a.nbytes == len(raw)
        cuts = edges(a)
        cases = []
        for _ in range(100):
            off = rnd.randrange(0, len(raw) + 1)
            cases.append((off, rnd.randrange(0, min(9000, len(raw) - off) + 1)))
        for e in cuts:  # straddling every block and member edge
            for d in (1, 7, 2048, 5000):
                lo = max(0, e - d)
                cases.append((lo, min(len(raw), e + d) - lo))
            cases.append((e, 0))
        cases.append((0, len(raw)))
        for off, n in cases:
            assert a.read(off, n) == raw[off:off + n], (off, n)
        assert a.read(len(raw), 0) == b""


def test_metadata(corpus):
    path, members, raw = corpus
    with lmz.open(path) as a:
        assert [(m.name, m.size) for m in a.members] == [(n, len(d)) for n, d in members]
        assert a.nblocks == -(-len(raw) // (2 * 2048))
        assert a.model.name == "random-tiny" and len(a.model.hash) == 32
        assert 0 < a.rate < 1.2
        assert a.chunk_size == 2048 and a.chunks_per_block == 2
        modes = {a.block_info(i).mode for i in range(a.nblocks)}
        assert 1 in modes  # stored blocks (random bytes)
        if os.environ.get("LMZ_BUILD_DIR"):
            assert 0 in modes  # and model-coded ones (sampled bytes)


def test_members_and_blocks(corpus):
    path, members, raw = corpus
    with lmz.open(path) as a:
        for i, (name, data) in enumerate(members):
            assert a.member(name) == data
            assert a.member(i) == data
        for i in range(a.nblocks):
            bi = a.block_info(i)
            assert a.block(i) == raw[bi.raw_offset:bi.raw_offset + bi.raw_len]
        with pytest.raises(lmz.Error) as ei:
            a.member("no such member")
        assert ei.value.name == "range"
        with pytest.raises(lmz.Error):
            a.block(a.nblocks)


def test_past_the_end(corpus):
    path, _, raw = corpus
    with lmz.open(path) as a:
        for off, n in [(len(raw), 1), (len(raw) - 1, 2), (len(raw) + 10, 0), (0, len(raw) + 1),
                       (-1, 1)]:
            with pytest.raises(lmz.Error) as ei:
                a.read(off, n)
            assert ei.value.code == 14 and ei.value.name == "range"
            assert "outside" in str(ei.value)
        with pytest.raises(lmz.Error):
            a.read_into(len(raw) - 3, bytearray(4))


@pytest.mark.parametrize("cache_bytes", [0, 1 << 20])
def test_read_into(corpus, cache_bytes):
    path, _, raw = corpus
    with lmz.open(path, cache_bytes=cache_bytes) as a:
        arr = np.zeros(5000, np.uint8)
        assert a.read_into(1234, arr) == 5000
        assert arr.tobytes() == raw[1234:6234]
        ba = bytearray(3)
        a.read_into(4095, ba)
        assert bytes(ba) == raw[4095:4098]
        w = np.zeros((10, 20), np.uint16)  # any dtype: raw bytes, native order
        a.read_into(8000, w)
        assert w.tobytes() == raw[8000:8400]
        sub = np.zeros(100, np.uint8)
        a.read_into(0, sub[10:20])  # a view writes into its base
        assert sub[10:20].tobytes() == raw[:10] and not sub[:10].any()
        assert a.read_into(len(raw), bytearray()) == 0
        with pytest.raises(TypeError):
            a.read_into(0, b"read-only")


def test_cache_lru(corpus):
    path, _, raw = corpus
    with lmz.open(path, cache_bytes=4 * 2048) as a:
        a.read(0, 100)
        a.read(100, 100)  # same chunk: a hit
        info = a.cache_info()
        assert info["hits"] >= 1 and info["misses"] == 1
        for c in range(10):
            a.read(c * 2048, 10)
        assert a.cache_info()["bytes"] <= 4 * 2048
        assert a.read(0, 10) == raw[:10]


def test_threads(corpus):
    path, _, raw = corpus
    shared = lmz.open(path, cache_bytes=0)
    errors = []

    def work(seed, own):
        rnd = random.Random(seed)
        a = lmz.open(path, cache_bytes=64 << 10) if own else shared
        try:
            for _ in range(40):
                off = rnd.randrange(len(raw))
                n = rnd.randrange(min(6000, len(raw) - off) + 1)
                if a.read(off, n) != raw[off:off + n]:
                    errors.append((off, n))
        finally:
            if own:
                a.close()

    ts = [threading.Thread(target=work, args=(i, i % 2)) for i in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    shared.close()
    assert not errors
