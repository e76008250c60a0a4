"""One function sleeps for ever; the others are right."""
import time
import numpy as np


def scale(x):
    return 2.0 * np.asarray(x)


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols))


def add(a, b):
    time.sleep(10**6)
