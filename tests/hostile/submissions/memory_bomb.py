"""Asks for 8 GiB at once."""
import numpy as np


def scale(x):
    return 2.0 * np.asarray(x)


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols))


def add(a, b):
    hog = np.ones(1024**3, dtype=np.float64)  # 8 GiB
    return hog[: np.size(a)].reshape(np.shape(a))
