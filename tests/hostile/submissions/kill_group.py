"""Kills its own process group from inside a call."""
import os
import signal
import numpy as np


def scale(x):
    return 2.0 * np.asarray(x)


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols))


def add(a, b):
    os.killpg(0, signal.SIGKILL)
