"""Reference of the hostile suite's assignment: add two arrays, double one, draw N(0, 1)."""

import numpy as np

from grader.api import Normal, Rng


def add(a, b):
    return np.asarray(a) + np.asarray(b)


def scale(x):
    return 2.0 * np.asarray(x)


def noise_distribution(rows, cols, rng=None):
    return Normal((rows, cols), 1.0)


def pair_cases(rng):
    return (rng.normal(size=(4, 3)), rng.normal(size=(4, 3)))


def vector_cases(rng):
    return (rng.normal(size=7),)


def shape_cases(rng):
    return (int(rng.integers(40, 60)), int(rng.integers(70, 90)), Rng(int(rng.integers(2**31))))
