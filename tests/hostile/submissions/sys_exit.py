"""Calls sys.exit at import (after its definitions) and inside a call."""
import sys
import numpy as np


def scale(x):
    return 2.0 * np.asarray(x)


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols))


def add(a, b):
    sys.exit(1)

sys.exit(0)
