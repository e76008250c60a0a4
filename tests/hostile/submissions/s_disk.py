"""Writes many files, each under the per-file cap (at most 120 x 4 MB): bounded in total?"""
import numpy as np


def scale(x):
    return 2.0 * np.asarray(x)


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols))


def add(a, b):
    written = 0
    try:
        for i in range(120):
            with open(f"part-{i}", "wb") as handle:
                for _ in range(4):
                    handle.write(b"0" * 1024**2)
                    written += 1
    except OSError as exc:
        print("DISK-FULL", type(exc).__name__)
    print("DISK-WROTE-MB", written)
    return np.asarray(a) + np.asarray(b)
