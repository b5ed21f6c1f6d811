"""A training-loop sketch that reads random 2048-byte records from an lmz
archive: numpy batches, or a torch DataLoader with worker processes when
torch is installed.

    # make a dataset the paper's way and compress it
    build/lmz prepare image ../shared/data/images/imagenet -o patches.bin
    build/lmz compress patches.bin -o patches.lmz --kind image
    build/venv/bin/python python/examples/train_loop.py patches.lmz --shape 32 64 \
        --manifest patches.bin.manifest.tsv
"""
import argparse
import time

import numpy as np

import lmz


def batches_numpy(ds, batch_size, steps, seed=0):
    """Random records, batch_size at a time, in this process."""
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        idx = rng.integers(0, len(ds), batch_size)
        yield idx, ds.batch(idx)


def batches_torch(ds, batch_size, steps, workers):
    """The same through torch.utils.data.DataLoader: each worker process
    opens its own handle of the archive on first use (after fork)."""
    import torch
    from torch.utils.data import DataLoader, RandomSampler
    sampler = RandomSampler(ds, replacement=True, num_samples=batch_size * steps)
    dl = DataLoader(ds, batch_size=batch_size, sampler=sampler, num_workers=workers,
                    persistent_workers=workers > 0)
    for b in dl:
        yield None, b.to(torch.float32) / 255.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("archive")
    ap.add_argument("--record-bytes", type=int, default=2048)
    ap.add_argument("--shape", type=int, nargs="*", help="e.g. 32 64 for image patches")
    ap.add_argument("--manifest", help="OUT.manifest.tsv of lmz prepare")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1,
                    help="decoding threads per handle (1 when workers do the parallel part)")
    args = ap.parse_args()

    ds = lmz.ChunkDataset(args.archive, record_bytes=args.record_bytes,
                          shape=args.shape or None, manifest=args.manifest,
                          threads=args.threads)
    print(ds)
    try:
        import torch  # noqa: F401
        it = batches_torch(ds, args.batch_size, args.steps, args.workers)
        print("torch DataLoader with %d workers" % args.workers)
    except ImportError:
        it = batches_numpy(ds, args.batch_size, args.steps)
        print("numpy batches (torch is not installed)")

    t0, n = time.perf_counter(), 0
    for step, (idx, x) in enumerate(it):
        # model.train_step(x) would go here; this sketch only looks at the data
        n += len(x)
        if step == 0 and idx is not None and ds.manifest:
            e, off = ds.source(int(idx[0]))
            print("record %d comes from %s at byte %d" % (idx[0], e.source, off))
        if step % 5 == 0:
            print("step %d: batch %s, mean %.3f" % (step, tuple(x.shape), float(x.mean())))
    dt = time.perf_counter() - t0
    print("%d records in %.2f s (%.0f records/s)" % (n, dt, n / dt))
    ds.archive.close()


if __name__ == "__main__":
    main()
