"""Prints 30 MB while loading, and more in a call."""
import sys
import numpy as np


def scale(x):
    return 2.0 * np.asarray(x)


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols))

for _ in range(3000):
    sys.stdout.write("x" * 10_000 + "\n")

def add(a, b):
    print("y" * 10_000_000)
    return np.asarray(a) + np.asarray(b)
