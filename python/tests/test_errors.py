"""Bad archives and damaged blocks raise lmz.Error; handles do not leak."""
import gc
import os

import pytest

import lmz


def fds():
    return len(os.listdir("/proc/self/fd"))


def test_not_an_archive(tmp_path):
    p = tmp_path / "x.lmz"
    p.write_bytes(b"this is not an archive\n" * 100)
    with pytest.raises(lmz.Error) as ei:
        lmz.open(p)
    assert ei.value.name in ("not_archive", "io")
    assert str(ei.value)  # the library's message
    with pytest.raises(lmz.Error) as ei:
        lmz.open(tmp_path / "missing.lmz")
    assert ei.value.name == "io" and "missing.lmz" in str(ei.value)


def test_truncated(tmp_path, corpus):
    src = corpus[0]
    data = open(src, "rb").read()
    p = tmp_path / "t.lmz"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(lmz.Error):
        with lmz.open(p, cache_bytes=0) as a:
            a.read(0, a.nbytes)


def test_damaged_block(corpus, copy_of):
    h5py = pytest.importorskip("h5py")
    path, _, raw = corpus
    bad = copy_of(path)
    with lmz.open(bad) as a:
        victim = a.nblocks // 2
        bi = a.block_info(victim)
    with h5py.File(bad, "r+") as f:
        d = f["payload"]
        k = bi.payload_offset + bi.payload_len // 2
        d[k] = d[k] ^ 0x5A
    with lmz.open(bad, cache_bytes=0) as a:
        with pytest.raises(lmz.Error) as ei:
            a.block(victim)
        e = ei.value
        assert e.name == "corrupt_block" and e.code == 8
        assert e.block == victim and str(victim) in str(e)
        with pytest.raises(lmz.Error) as ei:  # a range across it names it too
            a.read(max(0, bi.raw_offset - 100), bi.raw_len + 200)
        assert ei.value.block == victim
        for i in range(a.nblocks):  # every other block stays readable
            if i != victim:
                o = a.block_info(i)
                assert a.block(i) == raw[o.raw_offset:o.raw_offset + o.raw_len]
        damaged = a.verify()
        assert [b for b, _ in damaged] == [victim]


def test_closed_and_leaks(corpus):
    path = corpus[0]
    gc.collect()
    base_fds, base_live = fds(), lmz.live_handles()
    for _ in range(30):
        with lmz.open(path) as a:
            a.read(0, 10)
    for _ in range(10):
        a2 = lmz.open(path)
        a2.read(5, 5)
        del a2  # dropped without close: closed by the collector
    gc.collect()
    assert lmz.live_handles() == base_live
    assert fds() == base_fds
    with pytest.raises(lmz.Error) as ei:
        a.read(0, 1)
    assert ei.value.name == "usage"
    a.close()  # idempotent


def test_compress_errors(tmp_path):
    with pytest.raises(lmz.Error) as ei:
        lmz.compress(b"abc", tmp_path / "a.lmz", codec="nonsense")
    assert ei.value.name == "usage"
    with pytest.raises(lmz.Error) as ei:
        lmz.compress([("a", b"1"), ("b", b"2"), ("a", b"3")], tmp_path / "d.lmz",
                     model="random-tiny")
    assert ei.value.name == "usage"
    assert not (tmp_path / "d.lmz").exists()
    lmz.compress(b"abc", tmp_path / "e.lmz", model="random-tiny")
    with pytest.raises(lmz.Error) as ei:
        lmz.compress(b"abc", tmp_path / "e.lmz", model="random-tiny")
    assert ei.value.name == "exists"
    with pytest.raises(lmz.Error) as ei:
        lmz.compress(b"abc", tmp_path / "f.lmz", model="no-such-model")
    assert ei.value.name.startswith("model")
    assert lmz.live_handles() == (0, 0) or lmz.live_handles()[1] == 0


def test_compress_decompress_files(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_bytes(b"hello " * 1000)
    (src / "b.bin").write_bytes(os.urandom(5000))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        st = lmz.compress(["in/a.txt", "in/b.bin"], "f.lmz", model="random-tiny", threads=1)
        assert st["raw_bytes"] == 11000
        with lmz.open("f.lmz") as a:
            assert [m.name for m in a.members] == ["in/a.txt", "in/b.bin"]
        lmz.decompress("f.lmz", "out")
        for n in ("a.txt", "b.bin"):
            assert (tmp_path / "out" / "in" / n).read_bytes() == (src / n).read_bytes()
        with pytest.raises(lmz.Error) as ei:
            lmz.decompress("f.lmz", "out")
        assert ei.value.name == "exists"
        lmz.decompress("f.lmz", "out", force=True)
    finally:
        os.chdir(cwd)
