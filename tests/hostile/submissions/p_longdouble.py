"""Right answers in odd NumPy types: np.longdouble arrays, np.float32 scalars inside."""
import numpy as np


def scale(x):
    return (np.longdouble(2.0) * np.asarray(x, dtype=np.longdouble))


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols)).astype(np.longdouble)


def add(a, b):  # nested lists of np.longdouble scalars
    total = np.asarray(a, dtype=np.longdouble) + np.asarray(b, dtype=np.longdouble)
    return [[np.longdouble(v) for v in row] for row in total]
