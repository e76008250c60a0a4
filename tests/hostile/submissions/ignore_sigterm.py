"""Ignores SIGTERM and spins: only SIGKILL of the whole group stops it."""
import signal
signal.signal(signal.SIGTERM, signal.SIG_IGN)
import numpy as np


def scale(x):
    return 2.0 * np.asarray(x)


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols))


def add(a, b):
    while True:
        pass
