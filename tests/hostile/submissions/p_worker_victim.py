"""Marks its process (comm "p-oom-victim") while `add` runs: the parent-side suite's stand-in
for the OOM killer SIGKILLs the grader's worker that grades it (tests/test_hostile_parent.py).
Graded in a batch without that killer, it is simply slow and right."""
import ctypes
import time

import numpy as np


def scale(x):
    return 2.0 * np.asarray(x)


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols))


def add(a, b):
    ctypes.CDLL(None).prctl(15, b"p-oom-victim", 0, 0, 0)  # PR_SET_NAME
    time.sleep(2.0)
    return np.asarray(a) + np.asarray(b)
