"""ChunkDataset records equal the prepared bytes; the manifest maps records
back to their sources; DataLoader-style reads from several processes."""
import glob
import multiprocessing as mp
import os
import subprocess

import numpy as np
import pytest

import lmz
from conftest import data_dir


def prepare(lmz_bin, kind, sources, out, *extra):
    subprocess.run([lmz_bin, "prepare", kind, *map(str, sources), "-o", str(out), "-q", *extra],
                   check=True)
    return out.read_bytes(), str(out) + ".manifest.tsv"


@pytest.fixture(scope="module")
def text_ds(tmp_path_factory, lmz_bin):
    d = tmp_path_factory.mktemp("text")
    srcs = []
    for i, n in enumerate([3000, 10, 9000, 4096]):
        p = d / ("src%d.txt" % i)
        p.write_bytes(bytes((i * 31 + k * 7) % 251 for k in range(n)))
        srcs.append(p)
    prepared, manifest = prepare(lmz_bin, "text", srcs, d / "prep.bin")
    arch = d / "prep.lmz"
    lmz.compress([str(d / "prep.bin")], arch, model="random-tiny", chunks_per_block=2)
    return str(arch), prepared, manifest, srcs


def test_records_equal_prepared(text_ds):
    arch, prepared, manifest, _ = text_ds
    ds = lmz.ChunkDataset(arch)
    assert len(ds) == len(prepared) // 2048
    for i in range(len(ds)):
        r = ds[i]
        assert r.dtype == np.uint8 and r.shape == (2048,)
        assert r.tobytes() == prepared[i * 2048:(i + 1) * 2048]
    assert ds[-1].tobytes() == prepared[(len(ds) - 1) * 2048:len(ds) * 2048]
    with pytest.raises(IndexError):
        ds[len(ds)]
    sl = ds[1:4]
    assert sl.shape == (3, 2048) and sl.tobytes() == prepared[2048:4 * 2048]
    assert ds.batch([3, 0]).tobytes() == prepared[3 * 2048:4 * 2048] + prepared[:2048]
    odd = lmz.ChunkDataset(arch, record_bytes=1000, dtype=np.uint16, shape=(20, 25))
    assert odd[7].shape == (20, 25)
    assert odd[7].tobytes() == prepared[7000:8000]
    with pytest.raises(ValueError):
        lmz.ChunkDataset(arch, record_bytes=2048, shape=(3, 3))


def test_manifest(text_ds):
    arch, prepared, manifest, srcs = text_ds
    entries = lmz.read_manifest(manifest)
    assert [e.source for e in entries] == [str(s) for s in srcs]
    assert [e.bytes for e in entries] == [3000, 10, 9000, 4096]
    assert entries[0].format == "text" and entries[0].width is None
    ds = lmz.ChunkDataset(arch, manifest=manifest)
    e, off = ds.source(0)
    assert e.source == str(srcs[0]) and off == 0
    e, off = ds.source(2)  # bytes 4096.. are in src2 (3000 + 10 + 9000)
    assert e.source == str(srcs[2]) and off == 4096 - 3010
    for i in range(len(ds)):
        e, off = ds.source(i)
        src = open(e.source, "rb").read()
        n = min(2048, len(src) - off)
        assert ds[i].tobytes()[:n] == src[off:off + n]


def test_member_records(tmp_path):
    a = bytes(range(256)) * 9  # 2304 bytes
    b = bytes((7 * k) % 256 for k in range(8192))
    lmz.compress([("a", a), ("b", b)], tmp_path / "m.lmz", model="random-tiny")
    ds = lmz.ChunkDataset(str(tmp_path / "m.lmz"), member="b", shape=(32, 64))
    assert len(ds) == 4
    assert ds[3].shape == (32, 64) and ds[3].tobytes() == b[3 * 2048:]


def test_image_patches(tmp_path, lmz_bin):
    d = data_dir()
    imgs = sorted(glob.glob(os.path.join(d, "images", "imagenet", "*.JPEG")))[:3] if d else []
    if not imgs:
        pytest.skip("no ../shared/data/images")
    prepared, manifest = prepare(lmz_bin, "image", imgs, tmp_path / "img.bin")
    lmz.compress([str(tmp_path / "img.bin")], tmp_path / "img.lmz", model="random-tiny",
                 codec="zstd")
    ds = lmz.ChunkDataset(str(tmp_path / "img.lmz"), shape=(32, 64), manifest=manifest)
    entries = lmz.read_manifest(manifest)
    assert len(ds) == sum(e.chunks for e in entries) == len(prepared) // 2048
    for i in range(0, len(ds), 7):
        assert ds[i].tobytes() == prepared[i * 2048:(i + 1) * 2048]
    e, off = ds.source(len(ds) - 1)
    assert e.source == imgs[-1] and e.width > 0 and off % 2048 == 0


# -- several processes (what DataLoader workers do) --

def _worker_read(args):
    ds, idx = args
    return [(i, ds[i].tobytes()) for i in idx]


def _reads(ctx, ds, n):
    rng = np.random.default_rng(1)
    idx = [list(map(int, rng.integers(0, n, 25))) for _ in range(4)]
    with ctx.Pool(2) as pool:
        return [r for part in pool.map(_worker_read, [(ds, i) for i in idx]) for r in part]


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_multiprocess(text_ds, method):
    arch, prepared, _, _ = text_ds
    ds = lmz.ChunkDataset(arch)
    ds[0]  # the parent has its handle (and has decoded) before the workers start
    live = lmz.live_handles()
    out = _reads(mp.get_context(method), ds, len(ds))
    assert len(out) == 100
    for i, r in out:
        assert r == prepared[i * 2048:(i + 1) * 2048]
    assert ds[1].tobytes() == prepared[2048:4096]  # the parent's handle still works
    assert lmz.live_handles() == live
    ds.archive.close()


def test_torch_dataloader(text_ds):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader
    arch, prepared, _, _ = text_ds
    ds = lmz.ChunkDataset(arch)
    dl = DataLoader(ds, batch_size=2, shuffle=True, num_workers=2,
                    generator=torch.Generator().manual_seed(0))
    seen = 0
    for batch in dl:
        assert batch.dtype == torch.uint8 and batch.shape[1:] == (2048,)
        for row in batch:
            seen += 1
            assert row.numpy().tobytes() in prepared
    assert seen == len(ds)


def test_fork_after_model_decode(corpus):
    """The parent decodes model-coded blocks with the library's threads
    (OpenMP), then forked workers do the same with their own handles."""
    path, members, raw = corpus
    n = len(members[0][1]) // 2048  # the sampled member: model-coded blocks
    a = lmz.open(path, threads=2, cache_bytes=0)
    assert a.block_info(0).mode == 0 or not os.environ.get("LMZ_BUILD_DIR")
    assert a.read(0, 4096) == raw[:4096]
    ds = lmz.ChunkDataset(a)
    out = _reads(mp.get_context("fork"), ds, n)
    for i, r in out:
        assert r == raw[i * 2048:(i + 1) * 2048]
    a.close()
