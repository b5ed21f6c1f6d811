"""Fixtures of the lmz Python tests.

Environment: LMZ_BUILD_DIR (a cmake build of lmz: its lmz binary and the test
tools lmz_sample / lmz_corrupt; default ../../build), LMZ_DATA_DIR
(../shared/data; tests that need it skip without it)."""
import os
import random
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def build_dir():
    return os.environ.get("LMZ_BUILD_DIR") or os.path.join(ROOT, "build")


def tool(name):
    for p in (os.path.join(build_dir(), name), os.path.join(build_dir(), "tests", name)):
        if os.path.exists(p):
            return p
    return None


def data_dir():
    d = os.environ.get("LMZ_DATA_DIR") or os.path.join(ROOT, "..", "shared", "data")
    return d if os.path.isdir(d) else None


@pytest.fixture(scope="session")
def lmz_bin():
    p = tool("lmz")
    if not p:
        pytest.skip("no lmz binary in %s" % build_dir())
    return p


@pytest.fixture(scope="session")
def sampled(tmp_path_factory):
    """Bytes random-tiny compresses (sampled from the model itself), so
    blocks are model-coded; None without lmz_sample."""
    t = tool("lmz_sample")
    if not t:
        return None
    out = tmp_path_factory.mktemp("sample") / "s.bin"
    subprocess.run([t, "random-tiny", "24576", "7", str(out), "3"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out.read_bytes()


@pytest.fixture(scope="session")
def corpus(tmp_path_factory, sampled):
    """An archive of several members (model-coded, stored, text; one empty)
    over small blocks (2 chunks), and the members' original bytes."""
    rnd = random.Random(15)
    text = b"".join(b"line %d of the python test, %s\n" % (i, b"x" * (i % 37))
                    for i in range(700))
    members = [
        ("sampled.bin", sampled if sampled is not None else text[:20000]),
        ("random.bin", bytes(rnd.getrandbits(8) for _ in range(9001))),
        ("empty", b""),
        ("dir/text.txt", text),
        ("tail.bin", b"z" * 100),
    ]
    path = tmp_path_factory.mktemp("corpus") / "c.lmz"
    import lmz
    lmz.compress(members, path, model="random-tiny", codec="lm", chunks_per_block=2, threads=2)
    return str(path), members, b"".join(d for _, d in members)


@pytest.fixture
def copy_of(tmp_path):
    def _copy(src):
        dst = tmp_path / os.path.basename(src)
        shutil.copyfile(src, dst)
        return str(dst)
    return _copy
