"""Returns an object whose unpickling would run a shell command."""
import os
import numpy as np


def scale(x):
    return 2.0 * np.asarray(x)


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols))


class Bomb:
    def __reduce__(self):
        return (os.system, ("touch /tmp/pwned-{TOKEN}-reduce",))

def add(a, b):
    return Bomb()
