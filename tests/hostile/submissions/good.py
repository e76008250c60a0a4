"""A correct submission: graded the same alone and among the hostile ones."""
import numpy as np


def scale(x):
    return 2.0 * np.asarray(x)


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols))


def add(a, b):
    return np.asarray(a) + np.asarray(b)
